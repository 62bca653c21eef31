//! `switchboard audit verify` and `audit checkpoint` as an auditor runs them: the demo data
//! verifies, a checkpoint proves its head, a cut tail and a tampered checkpoint file exit 7 with
//! the reason, and the key is made with mode 0600.

#[macro_use]
mod common;

use common::TestDb;
use common::cli::*;
use serde_json::Value;
use switchboard::seed::demo;

/// A support admin tops up the demo customer from the command line (one sign-in, one top-up).
fn top_up(cli: &Cli, amount: &str, reason: &str) {
    let o = cli.as_admin(
        demo::DEMO_SUPPORT_ADMIN,
        &[
            "credits",
            "top-up",
            "--user",
            "kenji.fernandes@acmerealty.example",
            "--amount",
            amount,
            "--reason",
            reason,
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
}

#[tokio::test]
async fn verify_checkpoint_and_what_they_catch() {
    let db = TestDb::migrated().await;
    let cli = Cli::seeded(&db).await;
    // The demo's console rows are chained; the platform's own are outside the chain.
    let o = cli.run(&["audit", "verify"]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("No problem found."), "{text}");
    assert!(text.contains("Outside the chain"), "{text}");
    let o = cli.run(&["audit", "verify", "--json"]);
    let report = json(&o);
    assert_eq!(report["ok"], true);
    let links = report["links"].as_u64().unwrap();
    assert!(links > 0, "{report}");

    // A checkpoint: the key is made (0600) beside its public half.
    let key = cli.home.path().join("keys").join("cp.key");
    let cp = cli.home.path().join("cp-1.json");
    let o = cli.run(&[
        "audit",
        "checkpoint",
        "--key",
        key.to_str().unwrap(),
        "--output",
        cp.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("0600"), "{}", stderr(&o));
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let public = cli.home.path().join("keys").join("cp.key.pub");
    assert!(public.exists());
    let checkpoint: Value = serde_json::from_str(&std::fs::read_to_string(&cp).unwrap()).unwrap();
    assert_eq!(checkpoint["seq"].as_u64(), Some(links));

    // More activity, then verify against the checkpoint with the public key only.
    top_up(&cli, "5", "after the checkpoint");
    let verify_cp = |file: &std::path::Path, key: &std::path::Path| {
        cli.run(&[
            "audit",
            "verify",
            "--checkpoint",
            file.to_str().unwrap(),
            "--key",
            key.to_str().unwrap(),
        ])
    };
    let o = verify_cp(&cp, &public);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("holds the head"), "{}", stdout(&o));

    // A checkpoint file changed by hand (its link moved back) is refused: exit 7.
    let mut changed = checkpoint.clone();
    changed["seq"] = Value::from(links - 1);
    let forged = cli.home.path().join("cp-forged.json");
    std::fs::write(&forged, changed.to_string()).unwrap();
    let o = verify_cp(&forged, &public);
    assert_eq!(o.status.code(), Some(7), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stderr(&o).contains("the file was changed"),
        "{}",
        stderr(&o)
    );

    // The tail cut off (as a superuser with triggers off would): caught by the checkpoint only.
    let mut tx = db.pool.begin().await.unwrap();
    for sql in [
        "SET LOCAL session_replication_role = replica",
        "DELETE FROM audit_logs WHERE id IN (SELECT audit_id FROM switchboard.audit_chain \
         WHERE seq >= (SELECT max(seq) - 3 FROM switchboard.audit_chain))",
        "DELETE FROM switchboard.audit_chain \
         WHERE seq >= (SELECT max(seq) - 3 FROM switchboard.audit_chain)",
    ] {
        switchboard::db::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    let o = cli.run(&["audit", "verify"]);
    assert!(
        o.status.success(),
        "without a checkpoint the cut does not show"
    );
    let o = verify_cp(&cp, &public);
    assert_eq!(o.status.code(), Some(7), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("cut off"), "{}", stdout(&o));
    assert!(stderr(&o).contains("does not verify"), "{}", stderr(&o));
}

/// `audit tail --json`: the newest entry first, then one committed elsewhere, as it commits.
#[tokio::test]
async fn audit_tail_prints_new_entries_as_they_commit() {
    use std::io::BufRead;
    let db = TestDb::migrated().await;
    let cli = Cli::seeded(&db).await;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args([
            "--database-url",
            &cli.url,
            "audit",
            "tail",
            "-n",
            "1",
            "--json",
        ])
        .env("HOME", cli.home.path())
        .env_remove("DATABASE_URL")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let first: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert!(first["action"].is_string(), "{first}");
    // It follows once it says so on standard error; a top-up from another process then shows.
    let mut errors = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let said = errors.next().unwrap().unwrap();
    assert!(said.contains("Following"), "{said}");
    top_up(&cli, "3", "tailed");
    // The sign-in, then the top-up with its sentence.
    let mut seen = Vec::new();
    while seen.len() < 2 {
        let line: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
        seen.push(line);
    }
    child.kill().ok();
    child.wait().ok();
    assert_eq!(seen[0]["action"], "admin.sign_in", "{seen:?}");
    assert_eq!(seen[1]["action"], "credits.top_up", "{seen:?}");
    let change = seen[1]["change"].as_str().unwrap();
    assert!(
        change.starts_with("kenji.fernandes@acmerealty.example: credits ")
            && change.ends_with("reason tailed"),
        "{change}"
    );
}

/// `migrate --backstop` installs the triggers (a dry run says it would and writes nothing), and
/// `check` says so.
#[tokio::test]
async fn migrate_backstop_installs_and_check_reports_it() {
    let db = TestDb::migrated().await;
    let cli = Cli::on(&db);
    // migrate goes straight to the server, in a session (a transaction pooler cannot carry it).
    let direct = Cli {
        home: tempfile::tempdir().unwrap(),
        url: db.direct_url(),
    };
    let backstop = |db: &TestDb| {
        let pool = db.pool.clone();
        async move {
            sql!(
                &pool,
                switchboard::db::query_scalar::<i64>(
                    "SELECT count(*) FROM pg_trigger WHERE tgname = 'switchboard_backstop'",
                ),
                fetch_one
            )
            .unwrap()
        }
    };
    let o = direct.run(&["--pooler", "session", "migrate", "--backstop", "--dry-run"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("nothing was written"), "{}", stderr(&o));
    assert_eq!(backstop(&db).await, 0);
    let o = cli.run(&["check"]);
    assert!(stdout(&o).contains("no backstop"), "{}", stdout(&o));
    let o = direct.run(&["--pooler", "session", "migrate", "--backstop"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(backstop(&db).await, 4);
    let o = cli.run(&["check"]);
    assert!(
        stdout(&o).contains("the backstop records changes made outside the console to agents, phone_numbers, tenants, users"),
        "{}",
        stdout(&o)
    );
    assert!(stdout(&o).contains("append-only"), "{}", stdout(&o));
}
