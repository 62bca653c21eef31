//! The benchmark at a small scale, to keep it working (the figures mean nothing here).

#[macro_use]
mod common;

use common::TestDb;
use switchboard::seed::bench::seed_bench;

/// The real binary against `db`, in a fresh HOME, with no DATABASE_URL of the test's own.
fn switchboard(db: &TestDb, args: &[&str]) -> std::process::Output {
    let home = tempfile::tempdir().unwrap();
    std::process::Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(["--database-url", &db.url()])
        .args(args)
        .env("HOME", home.path())
        .env_remove("DATABASE_URL")
        .output()
        .unwrap()
}

#[tokio::test]
async fn the_benchmark_runs_end_to_end_and_prints_every_section() {
    let db = TestDb::migrated().await;
    seed_bench(&db.pool, 0.01, &mut |_, _, _| {}).await.unwrap();
    let out = switchboard(&db, &["bench", "--quick"]);
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

/// `seed-bench --audit-rows N --users N`: the audit log and the users at those counts, the rest
/// at the scale; a size the server's disk cannot hold is refused first, with the most that fits,
/// and nothing is written.
#[tokio::test]
async fn seed_bench_grows_the_audit_log_and_users_alone_and_refuses_what_the_disk_cannot_hold() {
    let db = TestDb::migrated().await;
    let run = |args: &[&str]| {
        let mut all = vec!["seed-bench"];
        all.extend_from_slice(args);
        switchboard(&db, &all)
    };
    let out = run(&["--audit-rows", "lots"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("nor max"), "{err}");
    let out = run(&["--audit-rows", "1000000000000"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("at most") && err.contains("nothing was written"),
        "{err}"
    );
    let users: i64 = sql!(
        &db.pool,
        switchboard::db::query_scalar("SELECT count(*) FROM users"),
        fetch_one
    )
    .unwrap();
    assert_eq!(users, 0);

    let out = run(&[
        "--scale",
        "0.01",
        "--audit-rows",
        "30000",
        "--users",
        "3000",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let counts: (i64, i64, i64) = sql!(
        &db.pool,
        switchboard::db::query_as(
            "SELECT (SELECT count(*) FROM audit_logs), (SELECT count(*) FROM users), \
                    (SELECT count(*) FROM calls)"
        ),
        fetch_one
    )
    .unwrap();
    assert_eq!(counts, (30_000, 3_000, 50_000));
}

/// `bench --no-baselines`: the console's figures without the slow OFFSET pages and scans.
#[tokio::test]
async fn no_baselines_leaves_out_the_slow_offset_pages_and_scans() {
    let db = TestDb::migrated().await;
    seed_bench(&db.pool, 0.01, &mut |_, _, _| {}).await.unwrap();
    let out = switchboard(
        &db,
        &["bench", "--quick", "--no-baselines", "--only", "1,3"],
    );
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        table.contains("middle page, keyset") && table.contains("console (trigram)"),
        "{table}"
    );
    assert!(
        !table.contains("middle page, OFFSET") && !table.contains("plain ILIKE scan"),
        "{table}"
    );
}
