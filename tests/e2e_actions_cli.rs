//! The admin actions from the command line: the real binary against a seeded database, signed in
//! with a password file, as a support macro or a script would run it.

#[macro_use]
mod common;

use std::path::Path;

use common::TestDb;
use common::cli::*;
use serde_json::Value;
use switchboard::seed::demo;

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
        // As the console's forms read it: with or without separators.
        "1,500",
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
        serde_json::json!({"credits": before + 1500, "reason": "refund #123"})
    );
    // The same key again (a retried script): applied once.
    let again = cli.as_admin(demo::DEMO_SUPPORT_ADMIN, &args);
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(json(&again)["status"], "already_applied");
    assert_eq!(credits(&db, CUSTOMER).await, before + 1500);

    let (actor, ip, agent): (String, String, String) = sql!(
        &db.pool,
        switchboard::db::query_as(
            "SELECT u.email, host(a.ip_address), a.user_agent FROM audit_logs a \
         JOIN users u ON u.id = a.user_id WHERE a.id = $1::uuid",
        )
        .bind(out["audit_id"].as_str().unwrap()),
        fetch_one
    )
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
            "credits.deduct {CUSTOMER}: credits {} → {}, reason fix (audit entry ",
            switchboard::numbers::thousands(before + 1500),
            switchboard::numbers::thousands(before + 1480)
        )),
        "{}",
        stdout(&o)
    );
}

#[tokio::test]
async fn refusals_exit_non_zero_with_a_clear_message() {
    let db = TestDb::migrated().await;
    let cli = Cli::seeded(&db).await;
    let number: String = sql!(
        &db.pool,
        switchboard::db::query_scalar(
            "SELECT phone_number FROM phone_numbers WHERE is_active ORDER BY phone_number LIMIT 1",
        ),
        fetch_one
    )
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
    // Said with the number and the email, not their ids.
    assert!(
        stdout(&o).contains(&format!("{number}: assigned to "))
            && stdout(&o).contains(&format!("→ {CUSTOMER}"))
            && !stdout(&o).contains("assigned_to_user_id"),
        "{}",
        stdout(&o)
    );

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
    let user_active: bool = sql!(
        &db.pool,
        switchboard::db::query_scalar("SELECT is_active FROM users WHERE email = $1")
            .bind(CUSTOMER),
        fetch_one
    )
    .unwrap();
    assert!(user_active);
}

#[tokio::test]
async fn every_subcommand_reaches_the_action_layer() {
    let db = TestDb::migrated().await;
    let cli = Cli::seeded(&db).await;
    let agent: String = sql!(
        &db.pool,
        switchboard::db::query_scalar("SELECT bolna_agent_id FROM agents ORDER BY name LIMIT 1"),
        fetch_one
    )
    .unwrap();
    sql!(
        &db.pool,
        switchboard::db::query("UPDATE users SET email_verified = false WHERE email = $1")
            .bind(CUSTOMER),
        execute
    )
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
    let actions: Vec<String> = sql!(
        &db.pool,
        switchboard::db::query_scalar(
            "SELECT action FROM audit_logs WHERE user_agent LIKE 'switchboard/%' \
         AND action NOT LIKE 'admin.%' ORDER BY created_at",
        ),
        fetch_all
    )
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
        stdout(&o).contains("admin credit cap 10,000 → 100"),
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
    let rows: Vec<(Option<uuid::Uuid>, String)> = sql!(
        &db.pool,
        switchboard::db::query_as(
            "SELECT user_id, new_values->>'email' FROM audit_logs WHERE action = 'admin.create' \
         ORDER BY created_at",
        ),
        fetch_all
    )
    .unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].0, None, "the bootstrap has no actor");
    assert!(rows[1].0.is_some(), "the second was made by root");
    // Nothing in the audit log or the output is a hash.
    let all: String = sql!(
        &db.pool,
        switchboard::db::query_scalar(
            "SELECT string_agg(coalesce(new_values::text, ''), ' ') FROM audit_logs",
        ),
        fetch_one
    )
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
    let want: i64 = sql!(
        &db.pool,
        switchboard::db::query_scalar(
            "SELECT count(*) FROM audit_logs WHERE action LIKE 'credits.%'"
        ),
        fetch_one
    )
    .unwrap();
    assert_eq!(lines.len() as i64, want);
    assert!(stderr(&o).starts_with(&format!(
        "Exported {} rows to standard output",
        switchboard::numbers::thousands(want)
    )));

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
    // A directory that is not there is said in a sentence before anything starts (no OS error
    // after the export was recorded).
    let missing = cli.home.path().join("no-such-dir");
    let file = missing.join("audit.csv");
    let o = cli.as_admin(
        demo::DEMO_SUPPORT_ADMIN,
        &["audit", "export", "--output", file.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!(
            "{} is not a directory that exists",
            missing.display()
        )),
        "{}",
        stderr(&o)
    );
    assert!(!stderr(&o).contains("os error"), "{}", stderr(&o));

    // Each export is two entries: its start (the filter, before the first row) and its end (the
    // rows, completed), which points at the start.
    let exports: Vec<(String, i64, bool)> = sql!(&db.pool, switchboard::db::query_as(
        "SELECT s.new_values->>'filter', (e.new_values->>'rows')::bigint, \
                (e.new_values->>'completed')::bool \
         FROM audit_logs s JOIN audit_logs e \
           ON e.action = 'audit.export_end' AND e.resource_id = s.id AND e.created_at >= s.created_at \
         WHERE s.action = 'audit.export' ORDER BY s.created_at",
    )
    , fetch_all)
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
