//! `switchboard seed-legacy` and `switchboard import legacy` as an operator runs them: the real
//! binary, a super_admin signing in with a password file, the legacy schema in another
//! database; the printed report, the report file, `--json`, a dry run, a second run, and a
//! legacy schema missing a column.

#[macro_use]
mod common;

use common::TestDb;
use common::cli::{Cli, json, stderr, stdout};

/// The console's database (demo data, so that a super_admin exists) and a legacy database
/// filled by `seed-legacy`.
async fn setup() -> (TestDb, TestDb, Cli) {
    let target = TestDb::migrated().await;
    let cli = Cli::seeded(&target).await;
    let legacy = TestDb::empty().await;
    let out = Cli::on(&legacy).run(&["seed-legacy"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("742 call_logs_voiceagent"), "{text}");
    assert!(text.contains("39 users_voiceagent"), "{text}");
    (target, legacy, cli)
}

/// The figures of a legacy table's line in the printed report.
fn row(text: &str, table: &str) -> Vec<String> {
    let line = text
        .lines()
        .find(|l| l.starts_with(&format!("{table} ")))
        .unwrap_or_else(|| panic!("no line for {table} in:\n{text}"));
    line.split_whitespace()
        .skip(1)
        .map(str::to_string)
        .collect()
}

async fn count(db: &TestDb, sql: &'static str) -> i64 {
    sql!(&db.pool, switchboard::db::query_scalar(sql), fetch_one).unwrap()
}

#[tokio::test]
async fn an_operator_imports_a_legacy_database_with_a_report() {
    let (target, legacy, cli) = setup().await;
    let from = legacy.url();
    let admin = switchboard::seed::demo::DEMO_SUPER_ADMIN;

    // A dry run prints the report and writes nothing.
    let out = cli.as_admin(admin, &["import", "legacy", "--from", &from, "--dry-run"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("dry run, rolled back: nothing was written"),
        "{text}"
    );
    assert!(text.contains("call_logs_voiceagent"), "{text}");
    assert_eq!(
        count(
            &target,
            "SELECT count(*) FROM users WHERE email LIKE '%@legacy.example'"
        )
        .await,
        0
    );

    // The import, with the report file.
    let file = cli.home.path().join("import-report.json");
    let out = cli.as_admin(
        admin,
        &[
            "import",
            "legacy",
            "--from",
            &from,
            "--report",
            file.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("(committed)"), "{text}");
    // rows, imported, new, updated, merged, skipped
    assert_eq!(
        row(&text, "users_voiceagent"),
        ["39", "37", "37", "0", "1", "1"],
        "{text}"
    );
    assert_eq!(
        row(&text, "call_logs_voiceagent"),
        ["742", "739", "739", "0", "0", "3"]
    );
    assert_eq!(
        row(&text, "leads_voiceagent"),
        ["63", "59", "59", "0", "1", "3"]
    );
    for line in [
        "ok     no orphaned call",
        "skipped 1: no email (the platform's users need one)",
        "merged 1: same number as legacy lead N of the same user: merged into it",
    ] {
        assert!(text.contains(line), "no line '{line}' in:\n{text}");
    }
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let rows = report["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 63);
    assert!(
        rows.iter()
            .any(|r| r["legacy_table"] == "numbers_voiceagent"
                && r["legacy_id"] == "4"
                && r["outcome"] == "skipped")
    );
    assert!(text.contains(report["sha256"].as_str().unwrap()), "{text}");
    assert_eq!(
        count(
            &target,
            "SELECT count(*) FROM users WHERE email LIKE '%@legacy.example'"
        )
        .await,
        37
    );

    // Again, as JSON: nothing new.
    let out = cli.as_admin(admin, &["--json", "import", "legacy", "--from", &from]);
    assert!(out.status.success(), "{}", stderr(&out));
    let again = json(&out);
    let users = again["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["legacy_table"] == "users_voiceagent")
        .unwrap();
    assert_eq!(users["outcomes"]["same"], 37);
    assert!(users["outcomes"].get("new").is_none(), "{users}");
    assert_eq!(
        count(
            &target,
            "SELECT count(*) FROM audit_logs WHERE action = 'import.legacy'"
        )
        .await,
        3
    );
}

#[tokio::test]
async fn a_legacy_schema_missing_a_column_is_refused_before_anything_is_written() {
    let (target, legacy, cli) = setup().await;
    sql!(
        &legacy.pool,
        switchboard::db::query(
            "ALTER TABLE voice_agent.users_voiceagent DROP COLUMN organization_id"
        ),
        execute
    )
    .unwrap();
    let out = cli.as_admin(
        switchboard::seed::demo::DEMO_SUPER_ADMIN,
        &["import", "legacy", "--from", &legacy.url()],
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("the legacy schema lacks column voice_agent.users_voiceagent.organization_id"),
        "{err}"
    );
    assert_eq!(
        count(
            &target,
            "SELECT count(*) FROM audit_logs WHERE action = 'import.legacy'"
        )
        .await,
        0
    );
    // A report that cannot be written is said before anything is imported; so is a source
    // that cannot be reached, named as the source.
    let out = cli.as_admin(
        switchboard::seed::demo::DEMO_SUPER_ADMIN,
        &[
            "import",
            "legacy",
            "--from",
            &legacy.url(),
            "--report",
            "/nonexistent-dir/report.json",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("cannot write there")
            && stderr(&out).contains("nothing was imported"),
        "{}",
        stderr(&out)
    );
    let out = cli.as_admin(
        switchboard::seed::demo::DEMO_SUPER_ADMIN,
        &[
            "import",
            "legacy",
            "--from",
            "postgres://nobody@127.0.0.1:1/legacy",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("the legacy source (--from): cannot connect to 127.0.0.1:1"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        count(
            &target,
            "SELECT count(*) FROM audit_logs WHERE action = 'import.legacy'"
        )
        .await,
        0
    );
    // A second seed-legacy into the same schema is refused, naming it.
    let out = Cli::on(&legacy).run(&["seed-legacy"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("already has a schema voice_agent"),
        "{}",
        stderr(&out)
    );
}
