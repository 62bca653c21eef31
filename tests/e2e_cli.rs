//! The real binary, as a newcomer runs it: a fresh HOME, no DATABASE_URL, the private cluster.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::TestDb;
use switchboard::db::connect::{PoolSettings, open_pool, open_url};
use switchboard::db::pg::{Cluster, ClusterPaths, PgBinaries, RunAs, StartOptions};

/// A HOME of its own, removed afterwards with the cluster it holds (which may live outside it:
/// root's clusters go where the postgres user can reach them).
struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    fn new() -> Home {
        Home {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn data_dir(&self) -> PathBuf {
        self.path().join(".local/share/switchboard")
    }

    fn log_file(&self) -> PathBuf {
        self.path().join(".local/state/switchboard/switchboard.log")
    }

    fn cluster(&self) -> ClusterPaths {
        ClusterPaths::for_data_dir(&self.data_dir(), RunAs::detect().unwrap()).unwrap()
    }

    /// Runs `switchboard args…` as a person would: only HOME and PATH matter.
    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_switchboard"));
        cmd.args(args).env("HOME", self.path());
        for var in [
            "DATABASE_URL",
            "XDG_DATA_HOME",
            "XDG_STATE_HOME",
            "XDG_CONFIG_HOME",
            "PGHOST",
            "PGPORT",
            "PGUSER",
            "PGDATABASE",
            "PGPASSWORD",
            "SWITCHBOARD_ADMIN",
            "SWITCHBOARD_PG_BINDIR",
        ] {
            cmd.env_remove(var);
        }
        cmd
    }
}

impl Drop for Home {
    fn drop(&mut self) {
        if let Ok(target) = std::fs::read_link(self.data_dir().join("pg")) {
            std::fs::remove_dir_all(target).ok();
        }
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn server_running(paths: &ClusterPaths) -> bool {
    paths.data.join("postmaster.pid").exists()
}

/// Opens the cluster of `home` with the library and returns (users, migrations applied).
async fn inspect(home: &Home) -> (i64, i64) {
    let paths = home.cluster();
    let bins = PgBinaries::locate(paths.cluster_major().as_deref()).unwrap();
    let mut cluster = tokio::task::spawn_blocking(move || {
        Cluster::start(
            paths,
            bins,
            RunAs::detect().unwrap(),
            StartOptions::default(),
        )
    })
    .await
    .unwrap()
    .unwrap();
    let pool = open_pool(
        cluster.connect_options("switchboard"),
        PoolSettings::default(),
    )
    .await
    .unwrap();
    let counts: (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM switchboard.migrations)",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    pool.close().await;
    tokio::task::spawn_blocking(move || cluster.stop())
        .await
        .unwrap()
        .unwrap();
    counts
}

#[tokio::test]
async fn first_start_creates_migrates_seeds_and_stops_the_private_cluster() {
    let home = Home::new();
    let out = home.run(&[]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    assert!(stdout.contains("private cluster"), "{stdout}");
    assert!(
        stdout.contains("created and filled with the demo data"),
        "{stdout}"
    );
    assert!(
        stdout.contains("7 tenants, 39 users, 23 agents, 5 phone numbers, 742 calls"),
        "{stdout}"
    );
    // Nothing went to the terminal but the report; the log is in the state directory.
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
    assert!(home.log_file().is_file());

    let paths = home.cluster();
    assert!(
        paths.data.join("PG_VERSION").is_file(),
        "no cluster at {paths:?}"
    );
    assert!(!server_running(&paths), "the server was left running");
    // Unix socket only: no TCP listener configured.
    let conf = std::fs::read_to_string(paths.data.join("postgresql.conf")).unwrap();
    assert!(conf.contains("listen_addresses = ''"));

    let (users, migrations) = inspect(&home).await;
    assert_eq!(users, 39);
    assert_eq!(
        migrations,
        switchboard::db::migrate::MIGRATIONS.len() as i64
    );

    // A warm start reuses the cluster and does not seed again.
    let out = home.run(&[]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!stdout.contains("created"), "{stdout}");
    assert!(stdout.contains("39 users"), "{stdout}");
    assert!(!server_running(&paths));

    // seed-demo on it is refused: the database has users.
    let out = home.run(&["seed-demo"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("already has 39 users"),
        "{}",
        text(&out.stderr)
    );
    // migrate on it has nothing to do.
    let out = home.run(&["migrate"]);
    assert!(out.status.success());
    assert!(
        text(&out.stdout).contains("No pending migrations"),
        "{}",
        text(&out.stdout)
    );
}

#[tokio::test]
async fn the_last_process_out_stops_the_shared_server() {
    let home = Home::new();
    assert!(home.run(&[]).status.success());
    let paths = home.cluster();
    let bins = PgBinaries::locate(paths.cluster_major().as_deref()).unwrap();
    let run_as = RunAs::detect().unwrap();

    // Two users of the cluster in this process (flock treats each open file as its own holder).
    let (p1, b1) = (paths.clone(), bins.clone());
    let mut first = tokio::task::spawn_blocking(move || {
        Cluster::start(p1, b1, run_as, StartOptions::default())
    })
    .await
    .unwrap()
    .unwrap();
    // The binary joins the running server and leaves it running for us.
    let out = home.run(&[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        server_running(&paths),
        "another process stopped a server still in use"
    );

    let (p2, b2) = (paths.clone(), bins.clone());
    let mut second = tokio::task::spawn_blocking(move || {
        Cluster::start(p2, b2, run_as, StartOptions::default())
    })
    .await
    .unwrap()
    .unwrap();
    tokio::task::spawn_blocking(move || first.stop())
        .await
        .unwrap()
        .unwrap();
    assert!(
        server_running(&paths),
        "stopped while the second user still needs it"
    );
    // It still serves.
    let pool = open_pool(
        second.connect_options("switchboard"),
        PoolSettings::default(),
    )
    .await
    .unwrap();
    let one: i32 = sqlx::query_scalar("SELECT 1")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(one, 1);
    pool.close().await;
    tokio::task::spawn_blocking(move || second.stop())
        .await
        .unwrap()
        .unwrap();
    assert!(!server_running(&paths), "the last one out did not stop it");
}

#[tokio::test]
async fn a_stale_postmaster_pid_from_a_crash_is_recovered_from() {
    let home = Home::new();
    assert!(home.run(&[]).status.success());
    let paths = home.cluster();
    let pid_file = paths.data.join("postmaster.pid");
    // A crashed server's file, naming (a) a process that has exited and (b) a live process
    // that is not PostgreSQL (PID reuse after a reboot).
    let mut gone = Command::new("true").spawn().unwrap();
    let gone_pid = gone.id();
    gone.wait().unwrap();
    for pid in [gone_pid, std::process::id()] {
        let stale = format!(
            "{pid}\n{}\n1700000000\n5432\n{}\n\n  5432001  0\nready   \n",
            paths.data.display(),
            paths.socket_dir.display()
        );
        std::fs::write(&pid_file, stale).unwrap();
        let out = home.run(&[]);
        assert!(out.status.success(), "pid {pid}: {}", text(&out.stderr));
        assert!(text(&out.stdout).contains("39 users"));
        assert!(!pid_file.exists());
    }
}

#[test]
fn without_postgresql_binaries_it_says_both_ways_out_and_creates_nothing() {
    let home = Home::new();
    let empty = tempfile::tempdir().unwrap();
    let out = home
        .command(&[])
        .env("SWITCHBOARD_PG_BINDIR", empty.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("install PostgreSQL"), "{stderr}");
    assert!(stderr.contains("--database-url"), "{stderr}");
    assert_eq!(stderr.matches("error:").count(), 1, "{stderr}");
    assert!(
        !home.data_dir().exists(),
        "something was created in the data dir"
    );
}

#[test]
fn passwords_in_urls_are_never_printed_or_logged() {
    let home = Home::new();
    for (url, code) in [
        // Nothing listens on port 1: a connection error that must not echo the URL's password.
        ("postgres://bob:s3cretpw@127.0.0.1:1/nodb", 1),
        // A parameter the driver does not know: its warning would quote the value.
        ("postgres://bob@127.0.0.1:1/nodb?sslpassword=s3cretpw", 1),
        // Unparseable: refused as a usage error, still without the password.
        ("postgres://bob:s3cretpw@127.0.0.1:notaport/nodb", 2),
    ] {
        let started = std::time::Instant::now();
        let out = home.run(&["--database-url", url]);
        // A refused connection is said at once, with its cause (not after a pool timeout).
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        if code == 1 {
            assert!(
                text(&out.stderr).contains("refused"),
                "{}",
                text(&out.stderr)
            );
        }
        assert_eq!(
            out.status.code(),
            Some(code),
            "{url}: {}",
            text(&out.stderr)
        );
        let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
        assert!(!all.contains("s3cretpw"), "{all}");
        assert!(!all.is_empty());
        // With --json the failure is one JSON object on stdout, whatever the command.
        let out = home.run(&["--json", "--database-url", url, "audit", "export"]);
        let answer: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", text(&out.stdout)));
        assert!(
            matches!(answer["status"].as_str(), Some("error" | "invalid")),
            "{answer}"
        );
        assert!(!answer.to_string().contains("s3cretpw"), "{answer}");
    }
    let log = std::fs::read_to_string(home.log_file()).unwrap();
    assert!(!log.contains("s3cretpw"), "{log}");
    assert!(log.contains("***") || log.contains("hidden"), "{log}");
}

#[test]
fn a_url_with_an_empty_host_reaches_a_socket_directory_and_a_missing_socket_is_named() {
    let home = Home::new();
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "postgres://bob:s3cretpw@:5433/nodb?host={}",
        dir.path().display()
    );
    let out = home.run(&["--json", "--database-url", &url, "check"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", text(&out.stdout)));
    let error = answer["error"].as_str().unwrap_or_default();
    let socket = format!("{}/.s.PGSQL.5433", dir.path().display());
    assert!(
        error.contains(&format!("cannot connect to the socket {socket}")),
        "{answer}"
    );
    assert!(!answer.to_string().contains("s3cretpw"), "{answer}");
}

/// On a database the platform built: `--dry-run` prints the plan and the SQL and writes nothing;
/// a database that differs is refused (exit 3) with every difference listed; a compatible one
/// is adopted.
#[tokio::test]
async fn migrate_dry_run_prints_the_plan_and_a_differing_database_is_refused() {
    let home = Home::new();
    let db = TestDb::empty().await;
    let platform = switchboard::db::migrate::MIGRATIONS[0].sql;
    let broken = platform.replace("    company                     VARCHAR(255),\n", "");
    sqlx::raw_sql(sqlx::AssertSqlSafe(broken))
        .execute(&db.pool)
        .await
        .unwrap();
    let dump = || common::dump(&common::server().admin.clone().database(&db.name));
    let before = dump();
    let url = db.url();
    let out = home.run(&["migrate", "--database-url", &url]);
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    assert!(
        stdout.contains("✗ column users.company (character varying(255)) is missing"),
        "{stdout}"
    );
    assert!(
        text(&out.stderr).contains("nothing was changed"),
        "{}",
        text(&out.stderr)
    );
    assert!(dump() == before, "a refused migrate changed the database");
    // The same as one JSON object.
    let out = home.run(&["migrate", "--json", "--database-url", &url]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer["status"], "refused", "{answer}");
    assert_eq!(answer["layout"], "platform", "{answer}");
    assert_eq!(
        answer["differences"][0], "column users.company (character varying(255)) is missing",
        "{answer}"
    );
    sqlx::raw_sql("ALTER TABLE users ADD COLUMN company VARCHAR(255), ADD COLUMN nickname TEXT")
        .execute(&db.pool)
        .await
        .unwrap();

    let before = dump();
    let out = home.run(&["migrate", "--dry-run", "--database-url", &url]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    for expected in [
        "the platform's tables without a Switchboard history",
        "· extra column users.nickname (kept as it is)",
        "0001 platform schema: adopt: already there; recorded, not run",
        "0002 tenancy: apply",
        "ADD COLUMN tenant_id UUID NOT NULL DEFAULT '00000000-0000-0000-0000-000000000000'",
        "REFERENCES tenants (id) ON DELETE RESTRICT NOT VALID;",
        "CREATE INDEX CONCURRENTLY idx_users_email_id ON users (email, id);",
        "CREATE TABLE switchboard.settings (",
        "\n\n-- 0002 tenancy (one transaction, SET LOCAL lock_timeout = '5s', up to 5 tries)\n",
    ] {
        assert!(stdout.contains(expected), "{expected} not in:\n{stdout}");
    }
    assert!(dump() == before, "--dry-run changed the database");
    let out = home.run(&["migrate", "--dry-run", "--json", "--database-url", &url]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer["status"], "ok", "{answer}");
    assert_eq!(answer["steps"][0]["action"], "adopt", "{answer}");
    assert_eq!(answer["steps"][1]["action"], "apply", "{answer}");
    assert!(answer["sql"].to_string().contains("NOT VALID"), "{answer}");
    assert!(dump() == before, "--dry-run --json changed the database");

    let out = home.run(&["migrate", "--database-url", &url]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    assert!(
        stdout.contains("Adopted 1 migration to") && stdout.contains("Applied 9 migrations to"),
        "{stdout}"
    );
    assert!(
        text(&out.stderr).contains("idx_users_email_id: building on users"),
        "{}",
        text(&out.stderr)
    );
}

#[tokio::test]
async fn migrate_and_seed_demo_against_a_database_url() {
    let home = Home::new();
    let db = TestDb::empty().await;
    let url = db.url();
    let out = home.run(&["migrate", "--database-url", &url]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let all = switchboard::db::migrate::MIGRATIONS.len();
    assert!(
        stdout.contains(&format!("Applied {all} migrations")),
        "{stdout}"
    );
    assert!(stdout.contains("0001 platform schema"), "{stdout}");
    let out = home.run(&["migrate", "--database-url", &url]);
    assert!(text(&out.stdout).contains("No pending migrations"));

    let out = home
        .command(&["seed-demo"])
        .env("DATABASE_URL", &url)
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        stdout.contains("39 users") && stdout.contains("super@demo.test"),
        "{stdout}"
    );

    let out = home.run(&["seed-demo", "--database-url", &url]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("nothing was written"));
}

#[tokio::test]
async fn the_console_refuses_a_database_that_lacks_migrations() {
    let home = Home::new();
    let db = TestDb::empty().await;
    let out = home.run(&["--database-url", &db.url()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("switchboard migrate"),
        "{}",
        text(&out.stderr)
    );
    // An action with --json answers in JSON even when it cannot start.
    let out = home.run(&[
        "--database-url",
        &db.url(),
        "--json",
        "--admin",
        "a@b.test",
        "users",
        "activate",
        "--user",
        "x@y.test",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer["status"], "invalid");
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .contains("switchboard migrate"),
        "{answer}"
    );
}

#[tokio::test]
async fn read_only_sessions_are_enforced_by_postgresql() {
    let db = TestDb::migrated().await;
    let conn = open_url(
        &db.url(),
        PoolSettings {
            read_only: true,
            ..PoolSettings::default()
        },
    )
    .await
    .unwrap();
    let err = sqlx::query("INSERT INTO tenants (name) VALUES ('Sneaky')")
        .execute(&conn.pool)
        .await
        .unwrap_err();
    let code = err.as_database_error().and_then(|e| e.code()).unwrap();
    assert_eq!(code, "25006"); // read_only_sql_transaction
    conn.close().await.unwrap();

    let home = Home::new();
    let out = home.run(&["--read-only", "--database-url", &db.url()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("READ-ONLY"));
}

#[test]
fn help_and_version() {
    let home = Home::new();
    let out = home.run(&["--help"]);
    let help = text(&out.stdout);
    assert!(out.status.success());
    for word in [
        "--database-url",
        "--admin",
        "--read-only",
        "migrate",
        "seed-demo",
    ] {
        assert!(help.contains(word), "{word} missing from --help:\n{help}");
    }
    assert!(!help.contains("__reap-cluster"));
    let out = home.run(&["--version"]);
    assert_eq!(
        text(&out.stdout).trim(),
        format!("switchboard {}", env!("CARGO_PKG_VERSION"))
    );
}

#[tokio::test]
async fn pg_variables_fill_in_what_the_url_leaves_out() {
    let db = TestDb::migrated().await;
    let o = &db.options;
    let host = o
        .get_socket()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| o.get_host().to_string());
    let home = Home::new();
    // Only the database name in the URL; host, port and user from the environment, as psql does.
    let out = home
        .command(&["--database-url", &format!("postgres:///{}", db.name)])
        .env("PGHOST", &host)
        .env("PGPORT", o.get_port().to_string())
        .env("PGUSER", o.get_username())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(&db.name) && stdout.contains(&host),
        "{stdout}"
    );
}

/// The README's exit codes: 2 only when the command cannot start as given, 1 when reading or
/// writing fails while it runs, 3 when refused, 0 when the reader of the output goes away.
#[test]
fn exit_codes_are_the_readmes() {
    let home = Home::new();
    let top_up = [
        "credits",
        "top-up",
        "--user",
        "diego.brennan@brightline.example",
        "--amount",
        "5",
        "--reason",
        "exit codes",
    ];
    let with = |extra: &[&str], args: &[&str]| -> Vec<String> {
        extra.iter().chain(args).map(|s| s.to_string()).collect()
    };
    let existing = home.path().join("already-there.csv");
    std::fs::write(&existing, "keep me\n").unwrap();
    let existing = existing.to_str().unwrap().to_string();
    let read_only_export = home.path().join("read-only.csv");
    let read_only_export = read_only_export.to_str().unwrap().to_string();
    let cases: Vec<(Vec<String>, i32, &str)> = vec![
        (with(&["--no-such-flag"], &[]), 2, "unexpected argument"),
        (
            with(&["audit", "export", "--since", "yesterday"], &[]),
            2,
            "not a date",
        ),
        (
            with(&["audit", "export", "--output", &existing], &[]),
            2,
            "pass --force",
        ),
        (
            with(&["--password-file", "/nonexistent/pw"], &top_up),
            1,
            "cannot read /nonexistent/pw",
        ),
        (
            with(
                &["audit", "export", "--output", "/nonexistent/dir/out.csv"],
                &[],
            ),
            2,
            "/nonexistent/dir is not a directory that exists",
        ),
        (with(&["--read-only"], &top_up), 3, "read-only"),
        (
            with(
                &["--read-only", "admin", "set-password", "super@demo.test"],
                &[],
            ),
            3,
            "read-only",
        ),
        // Reading is what a read-only session is for: the export runs (it cannot be recorded).
        (
            with(
                &[
                    "--read-only",
                    "audit",
                    "export",
                    "--output",
                    &read_only_export,
                ],
                &[],
            ),
            0,
            "Exported",
        ),
        (with(&[], &top_up), 0, "credits.top_up"),
    ];
    for (args, code, says) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = home.run(&args);
        let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
        assert_eq!(out.status.code(), Some(code), "{args:?}: {all}");
        assert!(all.contains(says), "{args:?}: {all}");
    }
    assert_eq!(std::fs::read_to_string(&existing).unwrap(), "keep me\n");

    // A config file with an unknown key: the command cannot start (2), and the message names
    // the file and the key.
    let config = home.path().join(".config/switchboard/config.toml");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(&config, "admn = \"a@b.test\"\n").unwrap();
    let out = home.run(&top_up);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("admn"), "{}", text(&out.stderr));
}

/// PG* variables that would name a server are said to be unused while the private cluster is.
#[test]
fn pg_variables_are_said_to_be_unused_on_the_private_cluster() {
    let home = Home::new();
    let run = |args: &[&str]| {
        home.command(args)
            .env("PGHOST", "db.example")
            .env("PGUSER", "ops")
            .output()
            .unwrap()
    };
    let out = run(&["check"]);
    let err = text(&out.stderr);
    assert!(err.contains("PGHOST, PGUSER set, but not used"), "{err}");
    // A command that opens no database says nothing of it.
    let out = run(&["paths"]);
    assert!(out.status.success());
    assert!(
        !text(&out.stderr).contains("PGHOST"),
        "{}",
        text(&out.stderr)
    );
}

/// `check` on a database as the migrations make it: every pane and action ready (exit 0); a
/// missing index degrades its pane and names the statement that builds it (exit 5); a missing
/// column, or a role that may only read, makes what needs it unavailable, saying why (exit 6).
/// It changes nothing.
#[tokio::test]
async fn check_reports_each_pane_and_action_ready_degraded_or_unavailable() {
    let home = Home::new();
    let db = TestDb::migrated().await;
    let url = db.url();
    let out = home.run(&["--database-url", &url, "check"]);
    let report = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{report}{}", text(&out.stderr));
    assert!(report.contains("  Audit log      ready"), "{report}");
    assert!(report.contains("  credits        ready"), "{report}");

    sqlx::query("DROP INDEX idx_agents_name_id")
        .execute(&db.pool)
        .await
        .unwrap();
    let out = home.run(&["--database-url", &url, "check"]);
    let report = text(&out.stdout);
    assert_eq!(out.status.code(), Some(5), "{report}");
    assert!(
        report.contains("Agents         degraded: slow without idx_agents_name_id (missing): CREATE INDEX CONCURRENTLY idx_agents_name_id ON agents (name, id)"),
        "{report}"
    );

    // A role that may only read: the panes work, the actions do not, and each says why.
    let role = format!("sbt_reader_{}", uuid::Uuid::new_v4().simple());
    for sql in [
        format!("CREATE ROLE {role} LOGIN"),
        format!("GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}"),
    ] {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&db.pool)
            .await
            .unwrap();
    }
    let admin = db.options.get_username().to_string();
    let as_reader = if url.contains("user=") {
        url.replace(&format!("user={admin}"), &format!("user={role}"))
    } else {
        url.replacen(&format!("://{admin}@"), &format!("://{role}@"), 1)
    };
    let out = home.run(&["--database-url", &as_reader, "--json", "check"]);
    assert_eq!(out.status.code(), Some(6), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let state = |list: &str, name: &str| readiness(&json, list, name);
    assert_eq!(state("panes", "Users")["state"], "ready");
    let credits = state("actions", "credits");
    assert_eq!(credits["state"], "unavailable");
    assert!(
        credits["why"]
            .to_string()
            .contains("no UPDATE on users.credits"),
        "{credits}"
    );
    let out = home.run(&["--database-url", &as_reader, "check"]);
    assert!(
        text(&out.stdout).contains("`switchboard --read-only check`"),
        "{}",
        text(&out.stdout)
    );
    // As a read-only session, the changes are not used; the export still needs to record
    // itself, which SELECT alone does not allow.
    let out = home.run(&[
        "--database-url",
        &as_reader,
        "--read-only",
        "--json",
        "check",
    ]);
    assert_eq!(out.status.code(), Some(6), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let state = |list: &str, name: &str| readiness(&json, list, name);
    assert_eq!(state("actions", "credits")["state"], "not_used");
    let export = state("actions", "audit export");
    assert_eq!(export["state"], "unavailable", "{export}");
    assert!(
        export["why"]
            .to_string()
            .contains("no INSERT on audit_logs"),
        "{export}"
    );

    // A column the console relies on, gone: its panes are unavailable, named.
    sqlx::query("ALTER TABLE users DROP COLUMN company")
        .execute(&db.pool)
        .await
        .unwrap();
    let out = home.run(&["--database-url", &url, "check"]);
    let report = text(&out.stdout);
    assert_eq!(out.status.code(), Some(6), "{report}");
    assert!(
        report.contains("column users.company is missing"),
        "{report}"
    );
    assert!(report.contains("Users          unavailable"), "{report}");
    // Even a column the audit row needs: a report, not a crash.
    sqlx::query("ALTER TABLE audit_logs DROP COLUMN user_agent")
        .execute(&db.pool)
        .await
        .unwrap();
    let out = home.run(&["--database-url", &url, "check"]);
    let report = text(&out.stdout);
    assert_eq!(out.status.code(), Some(6), "{report}{}", text(&out.stderr));
    assert!(
        report.contains("column audit_logs.user_agent is missing"),
        "{report}"
    );
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP OWNED BY {role}; DROP ROLE {role}"
    )))
    .execute(&db.pool)
    .await
    .ok();
}

/// A server that takes the connection and never answers is given up after `connect_timeout`
/// (keyword connection strings work as with psql), and said so.
#[test]
fn a_silent_server_is_given_up_after_connect_timeout() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let held = std::thread::spawn(move || {
        let (socket, _) = listener.accept().unwrap();
        std::thread::sleep(std::time::Duration::from_secs(6));
        drop(socket);
    });
    let home = Home::new();
    let url =
        format!("host=127.0.0.1 port={port} connect_timeout=2 dbname=x user=y sslmode=disable");
    let started = std::time::Instant::now();
    let out = home.run(&["--database-url", &url, "check"]);
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("no answer from the server within 2 s"),
        "{}",
        text(&out.stderr)
    );
    assert!(took < std::time::Duration::from_secs(5), "{took:?}");
    held.join().unwrap();
}

/// The `readiness` of pane or action `name` in `check --json`'s `list` (`panes`, `actions`).
fn readiness(report: &serde_json::Value, list: &str, name: &str) -> serde_json::Value {
    report[list]
        .as_array()
        .unwrap_or_else(|| panic!("no {list} in {report}"))
        .iter()
        .find(|l| l["name"] == name)
        .map(|l| l["readiness"].clone())
        .unwrap_or_else(|| panic!("no {name} in {list}: {report}"))
}
