//! The admin actions from the command line: the real binary against a seeded database, signed in
//! with a password file, as a support macro or a script would run it.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use chrono::Utc;
use common::TestDb;
use serde_json::Value;
use switchboard::seed::demo;

struct Cli {
    home: tempfile::TempDir,
    url: String,
}

impl Cli {
    async fn seeded(db: &TestDb) -> Cli {
        demo::seed_demo(&db.pool, Utc::now()).await.unwrap();
        Cli::on(db)
    }

    fn on(db: &TestDb) -> Cli {
        let home = tempfile::tempdir().unwrap();
        Cli {
            home,
            url: db.url(),
        }
    }

    /// A file holding `password`, as `--password-file` reads it.
    fn password_file(&self, name: &str, password: &str) -> PathBuf {
        let path = self.home.path().join(name);
        std::fs::write(&path, format!("{password}\n")).unwrap();
        path
    }

    fn demo_password(&self) -> PathBuf {
        self.password_file("demo-password", demo::DEMO_PASSWORD)
    }

    fn run(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_switchboard"));
        cmd.arg("--database-url").arg(&self.url).args(args);
        cmd.env("HOME", self.home.path()).env("USER", "ops");
        cmd.env("SSH_CONNECTION", "203.0.113.50 40022 10.0.0.2 22");
        for var in [
            "DATABASE_URL",
            "XDG_CONFIG_HOME",
            "XDG_STATE_HOME",
            "SWITCHBOARD_ADMIN",
            "SWITCHBOARD_ADMIN_CREDIT_CAP",
            "SSH_CLIENT",
        ] {
            cmd.env_remove(var);
        }
        cmd.output().unwrap()
    }

    /// Runs as `admin` with the demo password from a file.
    fn as_admin(&self, admin: &str, args: &[&str]) -> Output {
        let pw = self.demo_password();
        let mut all = vec!["--admin", admin, "--password-file", pw.to_str().unwrap()];
        all.extend_from_slice(args);
        self.run(&all)
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json(o: &Output) -> Value {
    serde_json::from_str(stdout(o).trim()).unwrap_or_else(|e| panic!("{e}: {}", stdout(o)))
}

async fn credits(db: &TestDb, email: &str) -> i32 {
    sqlx::query_scalar("SELECT credits FROM users WHERE email = $1")
        .bind(email)
        .fetch_one(&db.pool)
        .await
        .unwrap()
}

const CUSTOMER: &str = "kenji.fernandes@acmerealty.example";

#[tokio::test]
async fn support_tops_up_once_per_idempotency_key_and_the_audit_row_says_who_and_where() {
    let db = TestDb::migrated().await;
    let cli = Cli::seeded(&db).await;
    let before = credits(&db, CUSTOMER).await;
    let key = uuid::Uuid::new_v4().to_string();
    let args = [
        "--json",
        "credits",
        "top-up",
        "--user",
        CUSTOMER,
        "--amount",
        "500",
        "--reason",
        "refund #123",
        "--idempotency-key",
        &key,
    ];
    let first = cli.as_admin(demo::DEMO_SUPPORT_ADMIN, &args);
    assert!(first.status.success(), "{}", stderr(&first));
    let out = json(&first);
    assert_eq!(out["status"], "done");
    assert_eq!(out["action"], "credits.top_up");
    assert_eq!(out["old"], serde_json::json!({"credits": before}));
    assert_eq!(
        out["new"],
        serde_json::json!({"credits": before + 500, "reason": "refund #123"})
    );
    // The same key again (a retried script): applied once.
    let again = cli.as_admin(demo::DEMO_SUPPORT_ADMIN, &args);
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(json(&again)["status"], "already_applied");
    assert_eq!(credits(&db, CUSTOMER).await, before + 500);

    let (actor, ip, agent): (String, String, String) = sqlx::query_as(
        "SELECT u.email, host(a.ip_address), a.user_agent FROM audit_logs a \
         JOIN users u ON u.id = a.user_id WHERE a.id = $1::uuid",
    )
    .bind(out["audit_id"].as_str().unwrap())
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(actor, demo::DEMO_SUPPORT_ADMIN);
    assert_eq!(ip, "203.0.113.50");
    assert!(
        agent.starts_with(&format!("switchboard/{} (ops@", env!("CARGO_PKG_VERSION"))),
        "{agent}"
    );

    // Plain output for people.
    let o = cli.as_admin(
        demo::DEMO_SUPPORT_ADMIN,
        &[
            "credits", "deduct", "--user", CUSTOMER, "--amount", "20", "--reason", "fix",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).starts_with(&format!(
            "credits.deduct: credits {} → {}, reason fix (audit entry ",
            before + 500,
            before + 480
        )),
        "{}",
        stdout(&o)
    );
}

#[tokio::test]
async fn refusals_exit_non_zero_with_a_clear_message() {
    let db = TestDb::migrated().await;
    let cli = Cli::seeded(&db).await;
    let number: String = sqlx::query_scalar(
        "SELECT phone_number FROM phone_numbers WHERE is_active ORDER BY phone_number LIMIT 1",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    let assign = ["numbers", "assign", "--number", &number, "--user", CUSTOMER];
    let o = cli.as_admin(demo::DEMO_SUPPORT_ADMIN, &assign);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("refused: "), "{}", stderr(&o));
    assert!(stderr(&o).contains("needs super_admin"), "{}", stderr(&o));
    let mut with_json = vec!["--json"];
    with_json.extend_from_slice(&assign);
    let o = cli.as_admin(demo::DEMO_SUPPORT_ADMIN, &with_json);
    assert_eq!(json(&o)["status"], "refused");

    // The super_admin may.
    let o = cli.as_admin(demo::DEMO_SUPER_ADMIN, &assign);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("assigned_to_user_id"), "{}", stdout(&o));

    // A deduction below zero says the balance.
    let balance = credits(&db, CUSTOMER).await;
    let o = cli.as_admin(
        demo::DEMO_SUPPORT_ADMIN,
        &[
            "credits",
            "deduct",
            "--user",
            CUSTOMER,
            "--amount",
            &(balance + 1).to_string(),
            "--reason",
            "x",
        ],
    );
    assert_eq!(o.status.code(), Some(3));
    assert!(
        stderr(&o).contains(&format!("the balance is {balance}")),
        "{}",
        stderr(&o)
    );

    // Wrong password: the one sign-in message, and no change.
    let wrong = cli.password_file("wrong", "not the password");
    let o = cli.run(&[
        "--admin",
        demo::DEMO_SUPER_ADMIN,
        "--password-file",
        wrong.to_str().unwrap(),
        "users",
        "deactivate",
        "--user",
        CUSTOMER,
    ]);
    assert_eq!(o.status.code(), Some(3));
    assert!(stderr(&o).contains("sign-in refused"), "{}", stderr(&o));
    assert!(!stderr(&o).contains("not the password"));

    // No admin named against a URL: say how.
    let o = cli.run(&["users", "deactivate", "--user", CUSTOMER]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--admin EMAIL"), "{}", stderr(&o));

    // Bad amounts never reach the database.
    for amount in ["-5", "1.5", "0", "ten"] {
        let o = cli.as_admin(
            demo::DEMO_SUPPORT_ADMIN,
            &[
                "credits", "top-up", "--user", CUSTOMER, "--amount", amount, "--reason", "x",
            ],
        );
        assert_eq!(o.status.code(), Some(2), "{amount}: {}", stderr(&o));
    }

    // --read-only refuses every action.
    let o = cli.as_admin(
        demo::DEMO_SUPER_ADMIN,
        &["--read-only", "tenants", "create", "--name", "Nope"],
    );
    assert_eq!(o.status.code(), Some(3));
    assert!(stderr(&o).contains("read-only"), "{}", stderr(&o));
    let user_active: bool = sqlx::query_scalar("SELECT is_active FROM users WHERE email = $1")
        .bind(CUSTOMER)
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert!(user_active);
}

#[tokio::test]
async fn every_subcommand_reaches_the_action_layer() {
    let db = TestDb::migrated().await;
    let cli = Cli::seeded(&db).await;
    let agent: String =
        sqlx::query_scalar("SELECT bolna_agent_id FROM agents ORDER BY name LIMIT 1")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    sqlx::query("UPDATE users SET email_verified = false WHERE email = $1")
        .bind(CUSTOMER)
        .execute(&db.pool)
        .await
        .unwrap();
    let steps: &[&[&str]] = &[
        &[
            "tenants", "create", "--name", "Initech", "--plan", "starter",
        ],
        &[
            "tenants",
            "rename",
            "--tenant",
            "Initech",
            "--name",
            "Initech Ltd",
        ],
        &[
            "tenants",
            "set-plan",
            "--tenant",
            "Initech Ltd",
            "--plan",
            "pro",
        ],
        &["tenants", "deactivate", "--tenant", "Initech Ltd"],
        &["tenants", "activate", "--tenant", "Initech Ltd"],
        &[
            "users",
            "move",
            "--user",
            CUSTOMER,
            "--tenant",
            "Initech Ltd",
        ],
        &["users", "set-role", "--user", CUSTOMER, "--role", "admin"],
        &["users", "verify-email", "--user", CUSTOMER],
        &["users", "revoke-sessions", "--user", "super@demo.test"],
        &["users", "deactivate", "--user", CUSTOMER],
        &["users", "activate", "--user", CUSTOMER],
        &[
            "agents",
            "rename",
            "--agent",
            &agent,
            "--name",
            "Night desk",
        ],
        &[
            "agents",
            "describe",
            "--agent",
            &agent,
            "--description",
            "Takes calls after 6pm",
        ],
        &["agents", "deactivate", "--agent", &agent],
        &["agents", "activate", "--agent", &agent],
        &[
            "numbers",
            "add",
            "--number",
            "+442071838750",
            "--name",
            "London",
            "--bolna-id",
            "pn-london",
        ],
        &[
            "numbers",
            "assign",
            "--number",
            "+442071838750",
            "--user",
            CUSTOMER,
        ],
        &["numbers", "unassign", "--number", "+442071838750"],
        &["numbers", "deactivate", "--number", "+442071838750"],
        &["numbers", "activate", "--number", "+442071838750"],
    ];
    for step in steps {
        let mut args = vec!["--json"];
        args.extend_from_slice(step);
        let o = cli.as_admin(demo::DEMO_SUPER_ADMIN, &args);
        assert!(o.status.success(), "{step:?}: {}", stderr(&o));
        let status = json(&o)["status"].clone();
        // Revoking may find no live session of the super_admin's own: nothing to change.
        assert!(
            status == "done" || status == "unchanged",
            "{step:?}: {status}"
        );
    }
    let actions: Vec<String> = sqlx::query_scalar(
        "SELECT action FROM audit_logs WHERE user_agent LIKE 'switchboard/%' \
         AND action NOT LIKE 'admin.%' ORDER BY created_at",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    for want in [
        "tenant.create",
        "tenant.rename",
        "tenant.plan_change",
        "tenant.deactivate",
        "tenant.activate",
        "user.tenant_change",
        "user.role_change",
        "user.verify_email",
        "user.deactivate",
        "user.activate",
        "agent.rename",
        "agent.description_change",
        "agent.deactivate",
        "agent.activate",
        "phone_number.create",
        "phone_number.assign",
        "phone_number.unassign",
        "phone_number.deactivate",
        "phone_number.activate",
    ] {
        assert!(
            actions.iter().any(|a| a == want),
            "{want} missing from {actions:?}"
        );
    }
}

#[tokio::test]
async fn the_config_file_names_the_admin_and_only_a_super_admin_sets_the_credit_cap() {
    let db = TestDb::migrated().await;
    let cli = Cli::seeded(&db).await;
    let dir = cli.home.path().join(".config/switchboard");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("config.toml"), "admin = \"support@demo.test\"\n").unwrap();
    let pw = cli.demo_password();
    // Support may not raise (or set) the cap; the super_admin may.
    let o = cli.as_admin(
        demo::DEMO_SUPPORT_ADMIN,
        &["settings", "set-credit-cap", "1000000"],
    );
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let o = cli.as_admin(
        demo::DEMO_SUPER_ADMIN,
        &["settings", "set-credit-cap", "100"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("admin_credit_cap 10000 → 100"),
        "{}",
        stdout(&o)
    );
    let top_up = |amount: &str| {
        cli.run(&[
            "--password-file",
            pw.to_str().unwrap(),
            "credits",
            "top-up",
            "--user",
            CUSTOMER,
            "--amount",
            amount,
            "--reason",
            "cap",
        ])
    };
    let o = top_up("150");
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("at most 100"), "{}", stderr(&o));
    let o = top_up("100");
    assert!(o.status.success(), "{}", stderr(&o));
    std::fs::write(dir.join("config.toml"), "admin_cap = 1\n").unwrap();
    let o = top_up("100");
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("config.toml"), "{}", stderr(&o));
}

#[tokio::test]
async fn the_first_super_admin_is_bootstrapped_then_only_a_super_admin_adds_admins() {
    let db = TestDb::migrated().await;
    let cli = Cli::on(&db);
    let root_pw = cli.password_file("root", "root password 1234");
    let create = |extra: &[&str], email: &str, pw: &Path| {
        let mut args: Vec<&str> = extra.to_vec();
        args.extend_from_slice(&[
            "admin",
            "create",
            "--email",
            email,
            "--name",
            "Person",
            "--role",
            "super_admin",
            "--password-file",
            pw.to_str().unwrap(),
        ]);
        cli.run(&args)
    };
    let o = create(&[], "root@example.com", &root_pw);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).starts_with("Created super_admin root@example.com"));
    let o = create(&[], "second@example.com", &root_pw);
    assert_eq!(o.status.code(), Some(3));
    assert!(stderr(&o).contains("needs a super_admin"), "{}", stderr(&o));
    let o = create(
        &[
            "--admin",
            "root@example.com",
            "--admin-password-file",
            root_pw.to_str().unwrap(),
        ],
        "second@example.com",
        &root_pw,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let rows: Vec<(Option<uuid::Uuid>, String)> = sqlx::query_as(
        "SELECT user_id, new_values->>'email' FROM audit_logs WHERE action = 'admin.create' \
         ORDER BY created_at",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].0, None, "the bootstrap has no actor");
    assert!(rows[1].0.is_some(), "the second was made by root");
    // Nothing in the audit log or the output is a hash.
    let all: String = sqlx::query_scalar(
        "SELECT string_agg(coalesce(new_values::text, ''), ' ') FROM audit_logs",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert!(!all.contains("$argon2"), "{all}");
    let short = cli.password_file("short", "short");
    let o = create(&[], "third@example.com", &short);
    assert_eq!(o.status.code(), Some(3));
}

#[tokio::test]
async fn audit_export_streams_to_stdout_or_a_file_and_is_itself_audited() {
    let db = TestDb::migrated().await;
    let cli = Cli::seeded(&db).await;
    let o = cli.as_admin(
        demo::DEMO_SUPPORT_ADMIN,
        &[
            "audit", "export", "--action", "credits.", "--format", "jsonl",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let lines: Vec<Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let want: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_logs WHERE action LIKE 'credits.%'")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(lines.len() as i64, want);
    assert!(stderr(&o).starts_with(&format!("Exported {want} rows to standard output")));

    let file = cli.home.path().join("audit.csv");
    let args = ["audit", "export", "--output", file.to_str().unwrap()];
    let o = cli.as_admin(demo::DEMO_SUPPORT_ADMIN, &args);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        std::fs::read_to_string(&file)
            .unwrap()
            .starts_with("created_at,actor_email")
    );
    // Not replaced without --force.
    let o = cli.as_admin(demo::DEMO_SUPPORT_ADMIN, &args);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--force"), "{}", stderr(&o));

    // Each export is two entries: its start (the filter, before the first row) and its end (the
    // rows, completed), which points at the start.
    let exports: Vec<(String, i64, bool)> = sqlx::query_as(
        "SELECT s.new_values->>'filter', (e.new_values->>'rows')::bigint, \
                (e.new_values->>'completed')::bool \
         FROM audit_logs s JOIN audit_logs e \
           ON e.action = 'audit.export_end' AND e.resource_id = s.id AND e.created_at >= s.created_at \
         WHERE s.action = 'audit.export' ORDER BY s.created_at",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert_eq!(exports.len(), 2, "{exports:?}");
    assert_eq!(exports[0], ("action:credits.".to_string(), want, true));
    assert_eq!(exports[1].0, "");
    assert!(exports[1].2);

    // A bad filter is a usage error.
    let o = cli.as_admin(
        demo::DEMO_SUPPORT_ADMIN,
        &["audit", "export", "--since", "yesterday"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

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
