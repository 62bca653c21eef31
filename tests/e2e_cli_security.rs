//! The command line under attack: database text that would drive the terminal, outputs that
//! close early, databases that allow no writes, exports and refusals that must be on record.

mod common;

use std::process::Command;

use common::TestDb;
use common::cli::*;
use serde_json::Value;

/// Whether `text` carries anything a terminal would act on (line ends aside).
fn carries_controls(text: &str) -> bool {
    text.chars()
        .filter(|c| *c != '\n')
        .any(switchboard::escape::is_unsafe)
}

/// Database text reaches the terminal escaped on every path the command line prints: plain
/// lines, `--json`, error messages and an export to standard output (CSV and JSON lines). A
/// description can no longer store a control sequence.
#[tokio::test]
async fn database_text_reaches_the_terminal_escaped_on_every_path() {
    let db = TestDb::migrated().await;
    let cli = Cli::seeded(&db).await;
    // Stored behind the console's back, as the platform's own code or psql could.
    let hostile = "Evil\x1b]52;c;aGk=\x07\x1b[2J\r\u{9b}31m\u{202e}\u{200b}\u{ad}Co";
    let tenant: uuid::Uuid = sqlx::query_scalar(
        "UPDATE tenants SET name = $1 WHERE name = 'Lumen Legal LLP' RETURNING id",
    )
    .bind(hostile)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    let agent: uuid::Uuid =
        sqlx::query_scalar("UPDATE agents SET description = $1 WHERE id = (SELECT min(id::text)::uuid FROM agents) RETURNING id")
            .bind(hostile)
            .fetch_one(&db.pool)
            .await
            .unwrap();
    let victim = format!("{CUSTOMER}\x1b[8m\u{200b}");
    sqlx::query("UPDATE users SET email = $1, is_active = false WHERE email = $2")
        .bind(&victim)
        .bind(CUSTOMER)
        .execute(&db.pool)
        .await
        .unwrap();
    let number: String = sqlx::query_scalar(
        "SELECT phone_number FROM phone_numbers WHERE is_active ORDER BY phone_number LIMIT 1",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();

    let tenant = tenant.to_string();
    let agent = agent.to_string();
    let outputs = [
        // The old name in the outcome line.
        cli.as_admin(
            "super@demo.test",
            &[
                "tenants",
                "rename",
                "--tenant",
                &tenant,
                "--name",
                "Lumen Legal",
            ],
        ),
        // The old description in --json.
        cli.as_admin(
            "support@demo.test",
            &[
                "--json",
                "agents",
                "describe",
                "--agent",
                &agent,
                "--description",
                "plain",
            ],
        ),
        // The email in an error message ("… is inactive").
        cli.as_admin(
            "super@demo.test",
            &["numbers", "assign", "--number", &number, "--user", &victim],
        ),
        // The audit rows that now hold the hostile values, exported to standard output.
        cli.as_admin("support@demo.test", &["audit", "export"]),
        cli.as_admin(
            "support@demo.test",
            &["audit", "export", "--format", "jsonl"],
        ),
    ];
    for out in &outputs {
        assert!(!carries_controls(&stdout(out)), "stdout: {}", stdout(out));
        assert!(!carries_controls(&stderr(out)), "stderr: {}", stderr(out));
    }
    assert!(outputs[0].status.success(), "{}", stderr(&outputs[0]));
    assert!(
        stdout(&outputs[0]).contains("Evil\\x1b]52"),
        "{}",
        stdout(&outputs[0])
    );
    // --json keeps the value: a JSON reader gets the description back exactly.
    assert_eq!(json(&outputs[1])["old"]["description"], hostile);
    assert_eq!(outputs[2].status.code(), Some(3));
    assert!(
        stderr(&outputs[2]).contains("is inactive"),
        "{}",
        stderr(&outputs[2])
    );
    assert!(
        stdout(&outputs[3]).contains("Evil\\u001b]52"),
        "the export holds the old name: {}",
        stdout(&outputs[3])
    );
    let lines: Vec<Value> = stdout(&outputs[4])
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        lines.iter().any(|l| l["old_values"]["name"] == hostile),
        "JSON lines keep the value"
    );

    // At input, a description refuses what a terminal would act on (lines and tabs are text).
    let out = cli.as_admin(
        "support@demo.test",
        &[
            "agents",
            "describe",
            "--agent",
            &agent,
            "--description",
            "a\x1b[31mb",
        ],
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("control"), "{}", stderr(&out));
    let out = cli.as_admin(
        "support@demo.test",
        &[
            "agents",
            "describe",
            "--agent",
            &agent,
            "--description",
            "two\nlines\tok",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!carries_controls(&stdout(&out)), "{}", stdout(&out));
}

/// A reader that went away after the change was committed (`… | true`) is no failure of the
/// change: exit 0, no panic, applied once.
#[tokio::test]
async fn a_closed_output_after_a_committed_change_exits_zero_without_a_panic() {
    let db = TestDb::migrated().await;
    let cli = Cli::seeded(&db).await;
    let before = credits(&db, CUSTOMER).await;
    let pw = cli.demo_password();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_switchboard"));
    cmd.args(["--database-url", &cli.url, "--admin", "support@demo.test"])
        .arg("--password-file")
        .arg(&pw)
        .args(["credits", "top-up", "--user", CUSTOMER, "--amount", "5"])
        .args(["--reason", "closed pipe"])
        .env("HOME", cli.home.path())
        .env_remove("DATABASE_URL")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    drop(child.stdout.take()); // the reader goes away before anything is written
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
    assert_eq!(credits(&db, CUSTOMER).await, before + 5);
}

/// A database that allows the session no writes (a read-only role or database, a standby) gets
/// the documented read-only refusal (exit 3), never a raw database error; reading still works.
#[tokio::test]
async fn a_database_that_allows_no_writes_gets_the_read_only_refusal() {
    let db = TestDb::migrated().await;
    let cli = Cli::seeded(&db).await;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "ALTER DATABASE \"{}\" SET default_transaction_read_only = on",
        db.name
    )))
    .execute(&db.pool)
    .await
    .unwrap();
    let top_up = [
        "credits", "top-up", "--user", CUSTOMER, "--amount", "5", "--reason", "ro",
    ];
    for args in [
        &top_up[..],
        &["admin", "set-password", "super@demo.test"][..],
    ] {
        let out = cli.as_admin("super@demo.test", args);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("read-only session"),
            "{}",
            stderr(&out)
        );
        assert!(!stderr(&out).contains("cannot execute"), "{}", stderr(&out));
    }
    let out = cli.as_admin("support@demo.test", &["audit", "export"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

/// The export's two entries (start, end) as `(start id, start's filter, end's rows, completed,
/// stopped_by)`, oldest first.
async fn export_entries(db: &TestDb) -> Vec<(uuid::Uuid, String, i64, bool, Option<String>)> {
    sqlx::query_as(
        "SELECT s.id, s.new_values->>'filter', (e.new_values->>'rows')::bigint, \
                (e.new_values->>'completed')::bool, e.new_values->>'stopped_by' \
         FROM audit_logs s JOIN audit_logs e \
           ON e.action = 'audit.export_end' AND e.resource_id = s.id \
         WHERE s.action = 'audit.export' ORDER BY s.created_at",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap()
}

/// An export is on record before its first row leaves, and its end says how many rows left: a
/// reader that stops early (`| head`) leaves a start and an end that says it stopped; a
/// `--read-only` export is recorded too.
#[tokio::test]
async fn every_export_is_recorded_before_its_first_row_and_when_it_stops() {
    use std::io::{BufRead, BufReader};
    let db = TestDb::migrated().await;
    let cli = Cli::seeded(&db).await;
    // Enough rows that the output cannot fit in the pipe before the reader stops.
    sqlx::query(
        "INSERT INTO audit_logs (action, resource_type, new_values) \
         SELECT 'bulk.row', 'test', jsonb_build_object('n', n, 'pad', repeat('x', 200)) \
         FROM generate_series(1, 20000) n",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    let pw = cli.demo_password();
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(["--database-url", &cli.url, "--admin", "support@demo.test"])
        .arg("--password-file")
        .arg(&pw)
        .args(["audit", "export"])
        .env("HOME", cli.home.path())
        .env_remove("DATABASE_URL")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    for _ in 0..5 {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
    }
    drop(reader); // `| head -n 5`
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let entries = export_entries(&db).await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    let (start, filter, rows, completed, stopped_by) = &entries[0];
    assert_eq!(filter, "");
    assert!(!completed, "{entries:?}");
    // What reached the pipe before the reader went (its buffer holds some 64 KiB, about 200 of
    // these rows), not what was read or buffered inside the process.
    assert!(*rows < 500, "{entries:?}");
    let read: i64 = sqlx::query_scalar(
        "SELECT (new_values->>'rows_read')::bigint FROM audit_logs \
         WHERE action = 'audit.export_end' AND resource_id = $1",
    )
    .bind(start)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert!(read >= *rows && read > 0, "read {read}, delivered {rows}");
    assert!(
        stopped_by
            .as_deref()
            .unwrap_or_default()
            .contains("Broken pipe"),
        "{entries:?}"
    );

    let o = cli.as_admin(
        "support@demo.test",
        &["--read-only", "audit", "export", "--action", "credits."],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let entries = export_entries(&db).await;
    assert_eq!(entries.len(), 2, "{entries:?}");
    assert_eq!(entries[1].1, "action:credits.");
    assert!(entries[1].3, "{entries:?}");
    let lines = stdout(&o).lines().count() as i64;
    assert_eq!(entries[1].2, lines - 1, "the header is no row");
    // The start entry is written before the first row: its time precedes the end's.
    let ordered: bool = sqlx::query_scalar(
        "SELECT s.created_at <= e.created_at FROM audit_logs s JOIN audit_logs e \
         ON e.resource_id = s.id WHERE s.id = $1",
    )
    .bind(entries[1].0)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert!(ordered);
}

/// A refused admin command is on record (`admin.refused`), with who asked and what about.
#[tokio::test]
async fn refused_admin_commands_are_recorded() {
    let db = TestDb::migrated().await;
    let cli = Cli::seeded(&db).await;
    let new_pw = cli.password_file("new", "a brand new password");
    let demo_pw = cli.demo_password();
    let support = [
        "--admin",
        "support@demo.test",
        "--admin-password-file",
        demo_pw.to_str().unwrap(),
        "--password-file",
        new_pw.to_str().unwrap(),
    ];
    let runs: [&[&str]; 2] = [
        &["admin", "set-password", "super@demo.test"],
        &[
            "admin",
            "create",
            "--email",
            "mallory@x.test",
            "--name",
            "M",
            "--role",
            "super_admin",
        ],
    ];
    for args in runs {
        let all: Vec<&str> = support.iter().chain(args).copied().collect();
        let out = cli.run(&all);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {}", stderr(&out));
    }
    let refusals: Vec<(Option<String>, String, String)> = sqlx::query_as(
        "SELECT u.email, a.new_values->>'action', a.new_values->>'email' FROM audit_logs a \
         LEFT JOIN users u ON u.id = a.user_id \
         WHERE a.action = 'admin.refused' ORDER BY a.created_at",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    let support = Some("support@demo.test".to_string());
    assert_eq!(
        refusals,
        vec![
            (
                support.clone(),
                "admin.set_password".to_string(),
                "super@demo.test".to_string()
            ),
            (
                support,
                "admin.create".to_string(),
                "mallory@x.test".to_string()
            ),
        ]
    );
}
