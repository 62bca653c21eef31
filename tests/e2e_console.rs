//! The real binary in a pseudo-terminal at 80×24, driven by keystrokes, read back through a
//! terminal emulator, as a person on an SSH link would use it.

mod common;

use std::time::{Duration, Instant};

use chrono::Utc;
use common::TestDb;
use switchboard::seed::demo;

use common::pty::Console;

#[tokio::test]
async fn browse_all_panes_filter_open_page_to_the_end_and_quit() {
    let db = TestDb::migrated().await;
    demo::seed_demo(&db.pool, Utc::now()).await.unwrap();
    let mut c = Console::signed_in(&db, demo::DEMO_SUPER_ADMIN);
    let screen = c.wait_for("Acme Realty Group");
    assert!(screen.contains("[1 Tenants]"), "{screen}");
    // The count comes after the rows (a CI run caught the screen in between).
    let screen = c.wait_for("1 of 7");
    assert!(screen.contains("1 of 7"), "{screen}");

    // Every pane, by number and by Tab.
    c.keys(b"2");
    c.wait_for("1 of 39");
    c.keys(b"3");
    c.wait_for("Balance");
    c.keys(b"\t");
    c.wait_for("Success");
    c.keys(b"\t");
    c.wait_for("+14155550100");
    c.keys(b"6");
    c.wait_for("user.sign_in");

    // Filter users: type, Enter keeps it.
    c.keys(b"2");
    c.keys(b"/");
    c.keys(b"support@");
    c.keys(b"\r");
    let screen = c.wait_for("1 of 1");
    assert!(screen.contains("support@demo.test"), "{screen}");
    assert!(
        !screen
            .lines()
            .take(22)
            .any(|l| l.starts_with("super@demo.test")),
        "{screen}"
    );

    // Open the detail: no password hash, ever.
    c.keys(b"\r");
    let screen = c.wait_for("User support@demo.test");
    assert!(screen.contains("password set:"), "{screen}");
    assert!(!screen.contains("$argon2"), "{screen}");
    c.keys(b"\x1b");
    c.wait_for("Email");

    // The audit log: to the last entry and back to the first.
    c.keys(b"6");
    c.wait_for("Time (UTC)");
    c.keys(b"G");
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_logs")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    c.wait_for(&format!("{total} of {total}"));
    c.keys(b"g");
    c.wait_for(&format!("1 of {total}"));

    c.keys(b"q");
    let status = c.wait_exit();
    assert!(status.success(), "{status:?}");
    // The terminal is back on the main screen.
    assert!(!c.screen.lock().unwrap().screen().alternate_screen());
}

/// The private cluster of a console started on the embedded default.
fn private_cluster(c: &Console) -> switchboard::db::pg::ClusterPaths {
    switchboard::db::pg::ClusterPaths::for_data_dir(
        &c._home.path().join(".local/share/switchboard"),
        switchboard::db::pg::RunAs::detect().unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn sigterm_restores_the_terminal_and_stops_the_private_server() {
    let mut c = Console::start(&[]);
    c.wait_for("Acme Realty Group");
    let pid = c.child.process_id().unwrap() as i32;
    let data = c._home.path().join(".local/share/switchboard/pg");
    let paths = private_cluster(&c);
    assert!(paths.data.join("postmaster.pid").exists());
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let status = c.wait_exit();
    assert!(!status.success());
    assert!(
        !c.screen.lock().unwrap().screen().alternate_screen(),
        "terminal left in the alternate screen"
    );
    assert!(
        !paths.data.join("postmaster.pid").exists(),
        "server left running"
    );
    if let Ok(target) = std::fs::read_link(&data) {
        std::fs::remove_dir_all(target).ok();
    }
}

/// A dropped SSH link: the terminal hangs up (SIGHUP, and nothing can be written to it). The
/// console still ends cleanly and stops its private server (it once panicked printing to the
/// closed terminal and left the server running).
#[tokio::test]
async fn a_hung_up_terminal_ends_the_console_and_stops_the_private_server() {
    let c = Console::start(&[]);
    c.wait_for("Acme Realty Group");
    let paths = private_cluster(&c);
    assert!(paths.data.join("postmaster.pid").exists());
    let log = c
        ._home
        .path()
        .join(".local/state/switchboard/switchboard.log");
    let (mut child, _home) = c.hang_up();
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "the console did not end");
        std::thread::sleep(Duration::from_millis(50));
    }
    let log = std::fs::read_to_string(log).unwrap();
    assert!(
        !paths.data.join("postmaster.pid").exists(),
        "server left running; the log:\n{log}"
    );
    assert!(!log.contains("panic"), "{log}");
    assert!(log.contains("SIGHUP"), "{log}");
}

/// Runs pg_ctl on the console's private cluster as the user that owns it.
fn pg_ctl(paths: &switchboard::db::pg::ClusterPaths, args: &[&str]) {
    let bins = switchboard::db::pg::PgBinaries::locate(paths.cluster_major().as_deref()).unwrap();
    let pg_ctl = bins.bindir.join("pg_ctl");
    let mut cmd = if nix::unistd::geteuid().is_root() {
        let mut c = std::process::Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(pg_ctl);
        c
    } else {
        std::process::Command::new(pg_ctl)
    };
    let status = cmd
        .arg("-D")
        .arg(&paths.data)
        .args(args)
        .current_dir("/")
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "pg_ctl {args:?}");
}

#[tokio::test]
async fn a_lost_connection_shows_an_error_and_the_console_recovers_by_itself() {
    let mut c = Console::start(&[]);
    c.wait_for("Acme Realty Group");
    let paths = switchboard::db::pg::ClusterPaths::for_data_dir(
        &c._home.path().join(".local/share/switchboard"),
        switchboard::db::pg::RunAs::detect().unwrap(),
    )
    .unwrap();
    pg_ctl(&paths, &["-m", "fast", "-w", "stop"]);
    c.keys(b"r");
    let screen = c.wait_for("error:");
    assert!(
        screen.contains("Tenants"),
        "the console still runs:\n{screen}"
    );
    let log = paths.base.join("server.log");
    pg_ctl(&paths, &["-l", log.to_str().unwrap(), "-w", "start"]);
    // No key pressed: the pane retries by itself.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let text = c.text();
        if text.contains("1 of 7") && !text.contains("error:") {
            break;
        }
        assert!(Instant::now() < deadline, "never recovered:\n{text}");
        std::thread::sleep(Duration::from_millis(100));
    }
    c.keys(b"q");
    assert!(c.wait_exit().success());
    assert!(
        !paths.data.join("postmaster.pid").exists(),
        "server left running"
    );
    if let Ok(target) = std::fs::read_link(c._home.path().join(".local/share/switchboard/pg")) {
        std::fs::remove_dir_all(target).ok();
    }
}

/// How many of this test's console sessions wait on a lock.
const WAITING_ON_LOCK: &str = "SELECT count(*) FROM pg_stat_activity \
     WHERE datname = current_database() AND application_name LIKE 'switchboard%' \
       AND wait_event_type = 'Lock'";

/// Waits until `sql` (one bigint) gives a count that `want` accepts.
async fn wait_until(db: &TestDb, sql: &'static str, want: impl Fn(i64) -> bool, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let n: i64 = sqlx::query_scalar(sql).fetch_one(&db.pool).await.unwrap();
        if want(n) {
            return;
        }
        assert!(Instant::now() < deadline, "{what}: {sql} gives {n}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Another session holds the audit log locked, and the console opens its pane: the pane's
/// queries hang on the server until the lock (returned) is let go.
async fn hang_the_audit_log_pane(
    db: &TestDb,
    c: &mut Console,
) -> sqlx::Transaction<'static, sqlx::Postgres> {
    let mut locker = db.pool.begin().await.unwrap();
    sqlx::query("LOCK TABLE audit_logs IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *locker)
        .await
        .unwrap();
    c.keys(b"6");
    c.wait_for("loading (Esc cancels)");
    wait_until(
        db,
        WAITING_ON_LOCK,
        |n| n > 0,
        "the query never reached the server",
    )
    .await;
    locker
}

#[tokio::test]
async fn esc_cancels_a_query_that_hangs_on_the_server() {
    let db = TestDb::migrated().await;
    demo::seed_demo(&db.pool, Utc::now()).await.unwrap();
    let mut c = Console::signed_in(&db, demo::DEMO_SUPER_ADMIN);
    c.wait_for("Acme Realty Group");

    let locker = hang_the_audit_log_pane(&db, &mut c).await;

    // Keys still work while it hangs.
    c.keys(b"1");
    c.wait_for("Acme Realty Group");
    c.keys(b"6");
    c.keys(b"\x1b");
    let screen = c.wait_for("cancelled");
    assert!(!screen.contains("loading (Esc cancels)"), "{screen}");
    // The server stopped running them: pg_cancel_backend reached this console's sessions.
    wait_until(
        &db,
        WAITING_ON_LOCK,
        |n| n == 0,
        "the queries were not cancelled",
    )
    .await;

    locker.rollback().await.unwrap();
    c.keys(b"r");
    c.wait_for("user.sign_in");
    c.keys(b"q");
    assert!(c.wait_exit().success());
}

/// `q` while a pane's query waits on a lock: the console ends at once, and its query is stopped
/// on the server, not left waiting until the statement timeout (60 s) while the process that
/// gave the terminal back waits for its connection.
#[tokio::test]
async fn quitting_while_a_query_hangs_on_the_server_ends_the_console_at_once() {
    let db = TestDb::migrated().await;
    demo::seed_demo(&db.pool, Utc::now()).await.unwrap();
    let mut c = Console::signed_in(&db, demo::DEMO_SUPER_ADMIN);
    c.wait_for("Acme Realty Group");
    let locker = hang_the_audit_log_pane(&db, &mut c).await;

    let asked = Instant::now();
    c.keys(b"q");
    assert!(c.wait_exit().success());
    assert!(
        asked.elapsed() < Duration::from_secs(10),
        "the console took {:?} to end",
        asked.elapsed()
    );
    assert!(!c.screen.lock().unwrap().screen().alternate_screen());
    // Nothing of the console is left waiting behind the lock.
    wait_until(
        &db,
        WAITING_ON_LOCK,
        |n| n == 0,
        "the console's query still waits",
    )
    .await;
    locker.rollback().await.unwrap();
}

#[tokio::test]
async fn a_resized_terminal_is_redrawn_at_once_to_the_new_size() {
    let db = TestDb::migrated().await;
    demo::seed_demo(&db.pool, Utc::now()).await.unwrap();
    let mut c = Console::signed_in(&db, demo::DEMO_SUPER_ADMIN);
    c.wait_for("Acme Realty Group");
    c.keys(b"2");
    let narrow = c.wait_for("1 of 39");
    assert!(
        !narrow.contains("Verified"),
        "80 columns leave out Verified:\n{narrow}"
    );

    c.resize(40, 160);
    let wide = c.wait_for("Verified");
    let rows = wide.lines().filter(|l| l.contains("@")).count();
    assert!(
        rows > 19,
        "the taller screen shows more rows ({rows}):\n{wide}"
    );

    c.resize(24, 80);
    // The 80-column layout: the header ends with Credits at the right edge.
    let narrow_header = |t: &str| {
        t.lines()
            .any(|l| l.starts_with("Email") && l.trim_end().ends_with("Active Credits"))
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while !narrow_header(&c.text()) {
        assert!(
            Instant::now() < deadline,
            "never redrawn narrow:\n{}",
            c.text()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let text = c.text();
    assert!(text.contains("1 of 39"), "{text}");
    c.keys(b"q");
    assert!(c.wait_exit().success());
}

#[tokio::test]
async fn support_signs_in_tops_up_credits_and_sees_the_balance_and_the_audit_entry() {
    let db = TestDb::migrated().await;
    demo::seed_demo(&db.pool, Utc::now()).await.unwrap();
    let customer = "kenji.fernandes@acmerealty.example";
    let before: i32 = sqlx::query_scalar("SELECT credits FROM users WHERE email = $1")
        .bind(customer)
        .fetch_one(&db.pool)
        .await
        .unwrap();
    let mut c = Console::signed_in(&db, demo::DEMO_SUPPORT_ADMIN);
    c.wait_for("support@demo.test (admin)");
    c.credits_of(customer);
    c.keys(b"+");
    c.wait_for("Amount:");
    // A bad amount is refused in the form, with words.
    c.keys(b"ten\r");
    c.keys(b"\r");
    c.wait_for("the amount must be a whole number");
    // The focus is back on the amount; Ctrl-U clears it.
    c.keys(b"\x15250");
    c.keys(b"\t");
    c.keys(b"refund for dropped calls\r");
    let screen = c.wait_for("Confirm credits.top_up");
    assert!(
        screen.contains(&format!("credits  {before} → {}", before + 250)),
        "{screen}"
    );
    // Once the database's check is in ("checking with the database…" until then).
    c.wait_for("[ Cancel ]");
    c.keys(b"y");
    c.wait_for(&format!(
        "credits.top_up {customer}: credits {before} → {}",
        before + 250
    ));
    c.wait_for(&format!("{}", before + 250));
    let after: i32 = sqlx::query_scalar("SELECT credits FROM users WHERE email = $1")
        .bind(customer)
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(after, before + 250);

    // The audit log shows who did it.
    c.keys(b"6");
    c.keys(b"/");
    c.keys(b"action:credits.top_up actor:support@demo.test");
    c.keys(b"\r");
    c.wait_for("1 of ");
    c.keys(b"\r");
    let screen = c.wait_for("refund for dropped calls");
    assert!(screen.contains("support@demo.test"), "{screen}");
    c.keys(b"q");
    assert!(c.wait_exit().success());

    let (reason, actor): (String, String) = sqlx::query_as(
        "SELECT a.new_values->>'reason', u.email FROM audit_logs a JOIN users u ON u.id = a.user_id \
         WHERE a.action = 'credits.top_up' AND a.resource_id = (SELECT id FROM users WHERE email = $1) \
         ORDER BY a.created_at DESC LIMIT 1",
    )
    .bind(customer)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(
        (reason.as_str(), actor.as_str()),
        ("refund for dropped calls", "support@demo.test")
    );
}

/// A top-up moves the customer down the Credits pane (ordered by balance): the selection goes
/// with the customer, so the next key acts on the same person, not on whoever took the place.
#[tokio::test]
async fn a_top_up_keeps_the_selection_on_the_customer_it_moved() {
    use switchboard::db::lists::{Filter, ListKind, Page, fetch_page};
    let db = TestDb::migrated().await;
    demo::seed_demo(&db.pool, Utc::now()).await.unwrap();
    let rows = fetch_page(
        &db.pool,
        ListKind::Credits,
        &Filter::default(),
        &Page::First,
        100,
    )
    .await
    .unwrap();
    // The lowest balance of a customer support may top up (an active user).
    let mut at = None;
    for (i, row) in rows.iter().enumerate().skip(1) {
        let (role, active): (String, bool) =
            sqlx::query_as("SELECT role, is_active FROM users WHERE id = $1")
                .bind(row.id)
                .fetch_one(&db.pool)
                .await
                .unwrap();
        if role == "user" && active {
            at = Some((i, row.id));
            break;
        }
    }
    let (index, customer) = at.expect("the demo data has customers");
    let mut c = Console::signed_in(&db, demo::DEMO_SUPPORT_ADMIN);
    c.keys(b"3");
    c.wait_for(&format!("1 of {}", rows.len()));
    c.keys("j".repeat(index).as_bytes());
    c.wait_for(&format!("{} of {}", index + 1, rows.len()));
    c.keys(b"+");
    c.wait_for("Amount:");
    c.keys(b"9000\t");
    c.keys(b"moves to the end of the list\r");
    c.wait_for("Confirm credits.top_up");
    c.keys(b"y");
    c.wait_for("credits.top_up");
    // Further down now, and still selected (the status line counts its new place): Enter opens
    // that customer's record.
    let (n, was) = (rows.len(), format!(" {} of {}", index + 1, rows.len()));
    let deadline = Instant::now() + Duration::from_secs(20);
    while c.text().contains(&was) || !c.text().contains(&format!(" of {n}")) {
        assert!(
            Instant::now() < deadline,
            "the selection stayed in place:\n{}",
            c.text()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    c.keys(b"\r");
    let screen = c.wait_for("Credits of");
    assert!(screen.contains(&customer.to_string()), "{screen}");
    c.keys(b"q");
    assert!(c.wait_exit().success());
}

#[tokio::test]
async fn support_cannot_assign_a_number_and_the_refusal_is_on_record() {
    let db = TestDb::migrated().await;
    demo::seed_demo(&db.pool, Utc::now()).await.unwrap();
    let mut c = Console::signed_in(&db, demo::DEMO_SUPPORT_ADMIN);
    c.keys(b"5");
    let screen = c.wait_for("+14155550100");
    assert!(
        !screen.contains(" assign "),
        "support's footer offers no assign:\n{screen}"
    );
    c.keys(b"s");
    let screen = c.wait_for("refused:");
    assert!(screen.contains("needs super_admin"), "{screen}");
    assert!(!screen.contains("Confirm"), "{screen}");
    let refusals = "SELECT count(*) FROM audit_logs WHERE action = 'admin.refused' \
         AND new_values->>'action' = 'phone_number.assign'";
    wait_until(&db, refusals, |n| n == 1, "the refusal is on record").await;
    c.keys(b"q");
    assert!(c.wait_exit().success());
}

#[tokio::test]
async fn three_wrong_passwords_end_the_console_with_the_terminal_restored() {
    let db = TestDb::migrated().await;
    demo::seed_demo(&db.pool, Utc::now()).await.unwrap();
    let mut c = Console::start(&["--database-url", &db.url()]);
    c.wait_for("Email:");
    c.keys(b"support@demo.test\r");
    for left in ["2 tries left", "1 try left"] {
        c.keys(b"wrong password\r");
        let screen = c.wait_for(left);
        assert!(screen.contains("sign-in refused"), "{screen}");
        assert!(
            !screen.contains("wrong password"),
            "the password is never shown:\n{screen}"
        );
    }
    c.keys(b"still wrong\r");
    let status = c.wait_exit();
    assert!(!status.success());
    assert!(!c.screen.lock().unwrap().screen().alternate_screen());
    let failed = "SELECT count(*) FROM audit_logs WHERE action = 'admin.sign_in_failed'";
    wait_until(&db, failed, |n| n == 3, "every failed sign-in is on record").await;
}

/// A date filter past what dates can hold is refused in words on the filter line: no panic, no
/// backtrace over the panes, no stale rows, and the console goes on.
#[tokio::test]
async fn an_out_of_range_date_filter_is_refused_in_words_and_the_console_goes_on() {
    let db = TestDb::migrated().await;
    demo::seed_demo(&db.pool, Utc::now()).await.unwrap();
    let mut c = Console::signed_in(&db, demo::DEMO_SUPER_ADMIN);
    c.wait_for("Acme Realty Group");
    c.keys(b"6");
    c.wait_for("Time (UTC)");
    c.keys(b"/");
    c.keys(b"until:+262142-12-31");
    c.keys(b"\r");
    let screen = c.wait_for("is not a date");
    assert!(!screen.contains("panicked"), "{screen}");
    assert!(c.screen.lock().unwrap().screen().alternate_screen());
    // No row of the unfiltered list stays on screen as if it answered the invalid filter.
    let screen = c.wait_for("No rows while the filter is not valid");
    assert!(!screen.contains("user.sign_in"), "{screen}");
    assert!(!screen.contains(" of "), "{screen}");
    c.keys(b"2");
    c.wait_for("1 of 39");
    // Typed, not kept with Enter: once typing pauses, the same (the screen once kept the
    // previous rows and count until a key came).
    c.keys(b"6");
    c.wait_for("Time (UTC)");
    c.keys(b"/");
    c.keys(b"\x15since:2026-13-01");
    let screen = c.wait_for("No rows while the filter is not valid");
    assert!(screen.contains("is not a date"), "{screen}");
    assert!(!screen.contains(" of "), "{screen}");
    c.keys(b"\x1b");
    c.keys(b"q");
    assert!(c.wait_exit().success());
}

/// The filter values with a fixed set are the connected platform's: a plan its CHECK
/// constraint was widened with is a filter like the others, a plan it does not allow is
/// refused with the platform's own list, and without the agents' type constraint any type is a
/// question (that finds nothing) rather than a refusal.
#[tokio::test]
async fn filter_values_follow_the_platforms_check_constraints() {
    let db = TestDb::migrated().await;
    demo::seed_demo(&db.pool, Utc::now()).await.unwrap();
    sqlx::raw_sql(
        "ALTER TABLE tenants DROP CONSTRAINT tenants_plan_check, \
             ADD CONSTRAINT tenants_plan_check \
             CHECK (plan IN ('system', 'free', 'starter', 'pro', 'enterprise', 'business')); \
         UPDATE tenants SET plan = 'business' WHERE name = 'Acme Realty Group'; \
         ALTER TABLE agents DROP CONSTRAINT agents_agent_type_check;",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    let mut c = Console::signed_in(&db, demo::DEMO_SUPER_ADMIN);
    c.wait_for("Acme Realty Group");
    c.keys(b"/plan:business\r");
    let screen = c.wait_for("1 of 1");
    assert!(screen.contains("Acme Realty Group"), "{screen}");
    assert!(!screen.contains("not known here"), "{screen}");
    c.keys(b"/\x15plan:gold\r");
    let screen = c.wait_for("not known here");
    assert!(screen.contains("plan:business"), "{screen}");
    c.keys(b"\x1b");
    c.keys(b"4");
    c.wait_for("Agents");
    c.keys(b"/type:voice\r");
    let screen = c.wait_for("Nothing matches the filter");
    assert!(!screen.contains("not known here"), "{screen}");
    c.keys(b"\x1b");
    c.keys(b"q");
    assert!(c.wait_exit().success());
}

/// A super_admin renames a tenant to a long name: the first key replaces the name the form
/// opened with (nothing is appended), the confirm dialog shows the whole new name, wrapped, and
/// `y` writes exactly it.
#[tokio::test]
async fn a_long_rename_is_shown_whole_before_it_is_applied() {
    const NEW: &str = "Acme Realty Group of Northern California, Oregon, Washington & Nevada (Commercial Division)";
    let db = TestDb::migrated().await;
    let mut c = renaming_the_first_tenant(&db, NEW).await;
    let screen = c.wait_for("Confirm tenant.rename");
    for word in NEW.split(' ') {
        assert!(
            screen.contains(word),
            "`{word}` is not on screen:\n{screen}"
        );
    }
    c.keys(b"y");
    c.wait_for("tenant.rename Acme Realty Group");
    let name: String =
        sqlx::query_scalar("SELECT name FROM tenants WHERE name LIKE 'Acme Realty Group of %'")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(name, NEW);
    c.keys(b"q");
    assert!(c.wait_exit().success());
}

/// Deducting more than the balance is refused when the form is submitted, with the balance, and
/// the form stays with what was typed: no confirm dialog for a change that cannot apply.
#[tokio::test]
async fn a_deduction_over_the_balance_is_refused_at_submit() {
    let db = TestDb::migrated().await;
    demo::seed_demo(&db.pool, Utc::now()).await.unwrap();
    let customer = "kenji.fernandes@acmerealty.example";
    let mut c = Console::signed_in(&db, demo::DEMO_SUPER_ADMIN);
    c.credits_of(customer);
    c.keys(b"-");
    c.wait_for("Amount:");
    c.keys(b"9999999\t");
    c.keys(b"chargeback\r");
    let screen = c.wait_for("not enough credits");
    assert!(!screen.contains("Confirm credits"), "{screen}");
    assert!(screen.contains("9999999"), "{screen}");
    c.keys(b"\x1b");
    c.keys(b"q");
    assert!(c.wait_exit().success());
    let deductions: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_logs WHERE action = 'credits.deduct' AND created_at > now() - interval '1 minute'",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(deductions, 0);
}

/// `h` on a user shows their audit history; Esc comes back to the user, not to the whole audit
/// log.
#[tokio::test]
async fn esc_after_h_returns_to_the_user() {
    let db = TestDb::migrated().await;
    demo::seed_demo(&db.pool, Utc::now()).await.unwrap();
    let customer = "kenji.fernandes@acmerealty.example";
    let mut c = Console::signed_in(&db, demo::DEMO_SUPER_ADMIN);
    c.credits_of(customer);
    c.keys(b"h");
    c.wait_for("[6 Audit log]");
    c.wait_for("id:");
    c.keys(b"\x1b");
    let screen = c.wait_for("[3 Credits]");
    assert!(screen.contains(customer), "{screen}");
    assert!(screen.contains("1 of 1"), "{screen}");
    c.keys(b"q");
    assert!(c.wait_exit().success());
}

/// An outcome longer than the screen is wide (a rename to a 240-character name, about 300
/// characters said): the status line shows what fits, `M` shows it whole.
#[tokio::test]
async fn a_long_outcome_can_be_read_in_full() {
    let new: String = (1..=40)
        .map(|i| format!("Part{i:02}"))
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(240)
        .collect();
    let db = TestDb::migrated().await;
    let mut c = renaming_the_first_tenant(&db, &new).await;
    c.wait_for("[ Cancel ]");
    c.keys(b"y");
    c.wait_for("tenant.rename Part01");
    c.keys(b"M");
    let screen = c.wait_for("Messages of this session");
    let last = new.split(' ').next_back().unwrap();
    assert!(screen.contains("Acme Realty Group"), "{screen}");
    for word in new.split(' ') {
        assert!(
            screen.contains(word),
            "`{word}` (of `{last}`…) not shown:\n{screen}"
        );
    }
    c.keys(b"\x1b");
    c.keys(b"q");
    assert!(c.wait_exit().success());
}

/// The demo data, a super_admin signed in, `e` on the first tenant (Acme Realty Group), `name`
/// typed and Enter: the confirm dialog opens next.
async fn renaming_the_first_tenant(db: &TestDb, name: &str) -> Console {
    demo::seed_demo(&db.pool, Utc::now()).await.unwrap();
    let mut c = Console::signed_in(db, demo::DEMO_SUPER_ADMIN);
    c.wait_for("Acme Realty Group");
    c.keys(b"e");
    c.wait_for("Rename");
    c.keys(name.as_bytes());
    c.keys(b"\r");
    c
}

/// `G` on the audit log (more rows than a page) and then `r`: the screen is full of rows from the
/// end both times, never one row at the top of a screen of blanks.
#[tokio::test]
async fn g_then_r_on_the_audit_log_keeps_the_screen_full() {
    let db = TestDb::migrated().await;
    demo::seed_demo(&db.pool, Utc::now()).await.unwrap();
    let mut c = Console::signed_in(&db, demo::DEMO_SUPER_ADMIN);
    // Counted after the sign-in, which is on record too.
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_logs")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert!(total > 100, "{total}");
    c.keys(b"6");
    c.wait_for("Time (UTC)");
    let full = |screen: &str| {
        // Tabs, filter line, header; then the rows down to the status line.
        let rows: Vec<&str> = screen.lines().skip(3).take(19).collect();
        assert_eq!(rows.len(), 19, "{screen}");
        assert!(
            rows.iter().all(|r| r.trim_start().starts_with("20")),
            "blank lines under the rows:\n{screen}"
        );
    };
    c.keys(b"G");
    full(&c.wait_for(&format!("{total} of {total}")));
    c.keys(b"r");
    std::thread::sleep(std::time::Duration::from_millis(500));
    full(&c.wait_for(&format!("{total} of {total}")));
    c.keys(b"q");
    assert!(c.wait_exit().success());
}

/// Reassigning a number: the field opens with the current user's email, typing replaces it and
/// searches, Enter takes the match, and the confirm dialog shows the new email whole.
#[tokio::test]
async fn a_number_is_reassigned_by_picking_the_user_and_the_confirm_shows_the_whole_email() {
    let db = TestDb::migrated().await;
    demo::seed_demo(&db.pool, Utc::now()).await.unwrap();
    let (number, was, to): (String, String, String) = sqlx::query_as(
        "SELECT p.phone_number, u.email, \
                (SELECT email FROM users WHERE is_active AND role = 'user' AND id <> u.id \
                 ORDER BY length(email) DESC, email LIMIT 1) \
         FROM phone_numbers p JOIN users u ON u.id = p.assigned_to_user_id \
         ORDER BY p.phone_number LIMIT 1",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    let mut c = assigning(&db, &number);
    c.wait_for(&format!("User: {was}"));
    // The local part narrows the search to the one user; the first key replaces the old email.
    let part = to.split('@').next().unwrap();
    c.keys(part.as_bytes());
    c.wait_for("1 found");
    c.keys(b"\r");
    let screen = c.wait_for("Confirm phone_number.reassign");
    assert!(screen.contains(&format!("→ {to}")), "{screen}");
    assert!(screen.contains(&was), "{screen}");
    // Who the new user is and their tenant, before `y` (a number moving to another tenant shows).
    let tenant: String = sqlx::query_scalar(
        "SELECT t.name FROM users u JOIN tenants t ON t.id = u.tenant_id WHERE u.email = $1",
    )
    .bind(&to)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    let flat = screen.split_whitespace().collect::<Vec<_>>().join(" ");
    let flat = flat.replace("│ ", "").replace(" │", "");
    assert!(flat.contains(&tenant), "{tenant} in {screen}");
    c.wait_for("[ Cancel ]");
    c.keys(b"y");
    c.wait_for(&format!("phone_number.reassign {number}"));
    let now: String = sqlx::query_scalar(
        "SELECT u.email FROM phone_numbers p JOIN users u ON u.id = p.assigned_to_user_id \
         WHERE p.phone_number = $1",
    )
    .bind(&number)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(now, to);
    c.keys(b"q");
    assert!(c.wait_exit().success());
}

/// A refusal of about 300 characters at submit (a number assigned to an inactive user whose
/// email is 244 characters long): the form shows the reason whole, wrapped, and so does `M`.
#[tokio::test]
async fn a_long_refusal_at_submit_is_read_in_full_in_the_form_and_in_the_messages() {
    let db = TestDb::migrated().await;
    demo::seed_demo(&db.pool, Utc::now()).await.unwrap();
    let email = format!(
        "retired.reception@{}example.com",
        "north-west-regional-office-".repeat(8)
    );
    let (number,): (String,) = sqlx::query_as(
        "WITH u AS (INSERT INTO users (email, name, role, is_active, tenant_id, credits) \
                    SELECT $1, 'Retired reception', 'user', false, tenant_id, 0 \
                    FROM users WHERE email = $2 RETURNING id) \
         SELECT phone_number FROM phone_numbers WHERE assigned_to_user_id IS NOT NULL \
         ORDER BY phone_number LIMIT 1",
    )
    .bind(&email)
    .bind("kenji.fernandes@acmerealty.example")
    .fetch_one(&db.pool)
    .await
    .unwrap();
    let refusal = format!("{email} is inactive: numbers are assigned only to active users");
    assert!(refusal.chars().count() >= 290, "{}", refusal.len());
    let mut c = assigning(&db, &number);
    c.wait_for("User: ");
    c.keys(email.as_bytes());
    c.wait_for("no active match; Enter sends the text as typed");
    c.keys(b"\r");
    // Each screen without its borders and spaces: the wrapped reason reads as one string.
    let flat = |screen: &str| -> String {
        screen
            .chars()
            .filter(|ch| !ch.is_whitespace() && !matches!(ch, '│' | '┌' | '┐' | '└' | '┘' | '─'))
            .collect()
    };
    let whole: String = flat(&refusal);
    let screen = c.wait_for("numbers are assigned only");
    assert!(flat(&screen).contains(&whole), "{screen}");
    assert!(!screen.contains("Confirm phone_number"), "{screen}");
    c.keys(b"\x1b");
    c.keys(b"M");
    let screen = c.wait_for("Messages of this session");
    assert!(flat(&screen).contains(&whole), "{screen}");
    c.keys(b"\x1b");
    c.keys(b"q");
    assert!(c.wait_exit().success());
    let assigned: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM phone_numbers p JOIN users u ON u.id = p.assigned_to_user_id \
         WHERE u.email = $1",
    )
    .bind(&email)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(assigned, 0);
}

/// A paste (bracketed, as terminals send it) of 1,600 characters goes into the field whole and
/// at once, with no key after it (typed keys past 1 KiB at once stalled until the next key);
/// a paste over a list is not taken as keys.
#[tokio::test]
async fn a_long_paste_goes_into_the_field_whole_and_a_list_takes_none_of_it() {
    let db = TestDb::migrated().await;
    demo::seed_demo(&db.pool, Utc::now()).await.unwrap();
    let mut c = Console::signed_in(&db, demo::DEMO_SUPER_ADMIN);
    c.keys(b"4");
    c.wait_for("1 of 23");
    // Over the list: `j`s and a `q` in a paste move nothing and quit nothing.
    c.keys(b"\x1b[200~jjjjq\x1b[201~");
    c.wait_for("a paste goes into a field being typed");
    c.wait_for("1 of 23");
    c.keys(b"D");
    c.wait_for("Description:");
    c.keys(b"\x15");
    let text: String = (0..320).map(|i| format!("w{i:03} ")).collect::<String>() + "THE-END";
    assert!(text.len() > 1_500);
    let mut paste = b"\x1b[200~".to_vec();
    paste.extend_from_slice(text.as_bytes());
    paste.extend_from_slice(b"\x1b[201~");
    c.keys(&paste);
    c.wait_for("THE-END");
    c.keys(b"\r");
    let screen = c.wait_for("Confirm agent.description_change");
    assert!(screen.contains("w000"), "{screen}");
    c.keys(b"\x1b");
    c.keys(b"q");
    assert!(c.wait_exit().success());
}

/// A super_admin signed in, the Phone numbers pane filtered to `number`, `s` pressed: the
/// assign form opens next.
fn assigning(db: &TestDb, number: &str) -> Console {
    let mut c = Console::signed_in(db, demo::DEMO_SUPER_ADMIN);
    c.keys(b"5");
    c.wait_for(number);
    c.keys(b"/");
    c.keys(number.as_bytes());
    c.keys(b"\r");
    c.wait_for("1 of 1");
    c.keys(b"s");
    c
}

/// A change committed by another process shows in an open Audit log pane without a key.
#[tokio::test]
async fn a_change_committed_elsewhere_appears_in_the_open_audit_log() {
    let db = TestDb::migrated().await;
    demo::seed_demo(&db.pool, Utc::now()).await.unwrap();
    let mut c = Console::signed_in(&db, demo::DEMO_SUPER_ADMIN);
    c.keys(b"6");
    c.wait_for("[6 Audit log]");
    c.wait_for("Change");
    // Another process (here, the test's own connection) renames a tenant through the action
    // layer: its audit row notifies at commit.
    let (tenant, name): (uuid::Uuid, String) =
        sqlx::query_as("SELECT id, name FROM tenants WHERE name = 'Lumen Legal LLP'")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    let admin: (uuid::Uuid, String, String) =
        sqlx::query_as("SELECT id, email, name FROM users WHERE email = $1")
            .bind(demo::DEMO_SUPER_ADMIN)
            .fetch_one(&db.pool)
            .await
            .unwrap();
    let actor = switchboard::actions::Actor {
        id: admin.0,
        email: admin.1,
        name: admin.2,
        role: switchboard::actions::Role::SuperAdmin,
    };
    let session = switchboard::actions::Session {
        actor,
        ctx: switchboard::actions::AuditContext {
            ip: None,
            user_agent: switchboard::actions::user_agent("elsewhere", "test"),
        },
        read_only: false,
    };
    switchboard::actions::apply(
        &db.pool,
        &session,
        &switchboard::actions::Request::RenameTenant {
            tenant,
            from: name,
            to: "Zz Live Rename".into(),
        },
    )
    .await
    .unwrap();
    let screen = c.wait_for("Zz Live Rename");
    assert!(screen.contains("tenant.rename"), "{screen}");
    c.keys(b"q");
    assert!(c.wait_exit().success());
}
