//! The benchmark at a small scale, to keep it working (the figures mean nothing here).

mod common;

use common::TestDb;
use switchboard::seed::bench::seed_bench;

#[tokio::test]
async fn the_benchmark_runs_end_to_end_and_prints_every_section() {
    let db = TestDb::migrated().await;
    seed_bench(&db.pool, 0.01, &mut |_, _, _| {}).await.unwrap();
    let home = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(["--database-url", &db.url(), "bench", "--quick"])
        .env("HOME", home.path())
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{table}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for section in [
        "1. audit page",
        "2. filtered audit",
        "3. user search",
        "4. start-up",
        "5. render",
        "6. memory",
        "7. bytes to the terminal",
        "8. credits top-ups",
        "9. live audit log",
        "10. audit verify",
    ] {
        assert!(table.contains(section), "{section} missing:\n{table}");
    }
    // One header, one rule, then rows with six cells each.
    for line in table.lines().skip(2) {
        assert_eq!(line.matches(" | ").count(), 5, "{line}");
    }
    assert!(table.contains("OFFSET/keyset = "), "{table}");
    assert!(table.contains("top-ups/s"), "{table}");
    // The data set's log is chained whole, and verifies.
    assert!(table.contains("links/s; verified"), "{table}");
}
