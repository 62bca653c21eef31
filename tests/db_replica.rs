//! Reads from a hot standby, writes to the primary: a primary and a standby started here
//! (`common::replica`), the console's read path seen on the standby, its own writes read back at
//! once (from the standby when it has replayed them, else from the primary, said so), the standby
//! stopped and started under a running reader, `check`, the commands and the console itself.

#[macro_use]
mod common;

use std::time::{Duration, Instant};

use common::cli::{Cli, json, stderr, stdout};
use common::pty::Console;
use common::replica::{Pair, settings};
use sqlx::PgPool;
use switchboard::console::messages::{Msg, ReadJob};
use switchboard::console::worker;
use switchboard::db::connect::{self, Connection, application_name};
use switchboard::db::lists::{Filter, ListKind, Page, query_tag};
use switchboard::db::replica::{CATCH_UP_WAIT, Health, MAX_LAG, PROBE_EVERY, Reads};
use switchboard::seed::demo;

async fn open(pair: &Pair) -> (Connection, Reads) {
    let conn = connect::open_url(&pair.primary_url(), settings())
        .await
        .unwrap();
    let reads = Reads::with_standby(conn.pool.clone(), &pair.standby_url(), settings())
        .await
        .unwrap();
    (conn, reads)
}

/// A pool of the test's own on the standby, to look at it.
async fn standby_pool(pair: &Pair) -> PgPool {
    connect::open_url(&pair.standby_url(), settings())
        .await
        .unwrap()
        .pool
}

/// How many of this process's sessions on `pool`'s server last ran a query of pane `kind`.
async fn pane_queries_seen(on: &PgPool, kind: ListKind) -> i64 {
    sql!(
        on,
        switchboard::db::query_scalar(
            "SELECT count(*) FROM pg_stat_activity \
             WHERE application_name = $1 AND starts_with(query, $2)"
        )
        .bind(application_name())
        .bind(query_tag(kind)),
        fetch_one
    )
    .unwrap()
}

/// The Tenants pane's first page, as the console reads it, as text.
async fn tenants_page(reads: &Reads) -> String {
    let job = ReadJob::Page {
        req: 1,
        kind: ListKind::Tenants,
        filter: Filter::default(),
        page: Page::First,
        limit: 50,
    };
    match worker::read(reads, job).await {
        Msg::Page {
            result: Ok(rows), ..
        } => format!("{rows:?}"),
        other => panic!("{other:?}"),
    }
}

async fn rename_tenant(primary: &PgPool, from: &str, to: &str) {
    sql!(
        primary,
        switchboard::db::query("UPDATE tenants SET name = $2 WHERE name = $1")
            .bind(from)
            .bind(to),
        execute
    )
    .unwrap();
}

#[tokio::test]
async fn the_panes_read_the_standby_and_see_this_consoles_writes_at_once() {
    let pair = Pair::start().await;
    let (conn, reads) = open(&pair).await;
    let standby = standby_pool(&pair).await;

    let page = tenants_page(&reads).await;
    assert!(page.contains("Acme Realty Group"), "{page}");
    assert!(
        pane_queries_seen(&standby, ListKind::Tenants).await >= 1,
        "the page was not read on the standby"
    );
    assert_eq!(pane_queries_seen(&conn.pool, ListKind::Tenants).await, 0);

    // A write on the primary, then the read: it waits for the standby to replay it.
    rename_tenant(&conn.pool, "Acme Realty Group", "Acme Realty Holdings").await;
    reads.caught_up_to_primary().await;
    let page = tenants_page(&reads).await;
    assert!(page.contains("Acme Realty Holdings"), "{page}");
    let view = reads.view().unwrap();
    assert!(!view.fell_back, "{view:?}");

    // A standby that applies commits an hour late: the read goes to the primary, and says so.
    // (The standby takes the setting when its startup process next looks, a moment after the
    // reload: until then a change may still be replayed at once, so changes are made until one
    // is not.)
    pair.set_on_standby("SET recovery_min_apply_delay = '1h'")
        .await;
    let mut name = "Acme Realty Holdings".to_string();
    let mut fell_back = None;
    for attempt in 0..20 {
        let next = format!("Acme Realty Partners {attempt}");
        rename_tenant(&conn.pool, &name, &next).await;
        name = next;
        // (Probed once a second in the console: the lag is the age of the oldest position
        // probed on the primary that the standby has not replayed.)
        reads.probe().await.unwrap();
        reads.caught_up_to_primary().await;
        let started = Instant::now();
        let page = tenants_page(&reads).await;
        assert!(page.contains(&name), "{page}");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "waited {:?}",
            started.elapsed()
        );
        let view = reads.view().unwrap();
        if view.fell_back {
            fell_back = Some(view);
            break;
        }
    }
    let view = fell_back.expect("the standby never held a change back");
    assert!(view.is_warning(), "{view:?}");
    assert!(view.describe().contains("read on primary"), "{view:?}");
    let on_standby: String = sql!(
        &standby,
        switchboard::db::query_scalar("SELECT name FROM tenants WHERE name LIKE 'Acme Realty%'"),
        fetch_one
    )
    .unwrap();
    assert_ne!(on_standby, name, "the standby had not replayed it");
    // The probe measures the lag as it grows.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let view = reads.probe().await.unwrap();
    assert!(
        matches!(view.health, Health::Following { lag_s } if lag_s >= 1),
        "{view:?}"
    );
    // Past MAX_LAG (probed once a second, as the console does) it is reported behind, and
    // every read goes to the primary, not only the one waiting for this console's change.
    let started = Instant::now();
    let behind = loop {
        tokio::time::sleep(PROBE_EVERY).await;
        let view = reads.probe().await.unwrap();
        if matches!(view.health, Health::Behind { .. }) {
            break view;
        }
        assert!(
            started.elapsed() < MAX_LAG + Duration::from_secs(15),
            "never reported behind: {view:?}"
        );
    };
    let Health::Behind { lag_s } = behind.health else {
        unreachable!()
    };
    assert!(lag_s > MAX_LAG.as_secs(), "{behind:?}");
    assert!(behind.is_warning(), "{behind:?}");
    assert!(
        behind.describe().contains("behind: reads on primary"),
        "{behind:?}"
    );
    // (The standby has not replayed the last rename: a page that shows it came from the
    // primary, and without the wait for this console's change.)
    let started = Instant::now();
    let page = tenants_page(&reads).await;
    assert!(page.contains(&name), "{page}");
    assert!(started.elapsed() < CATCH_UP_WAIT, "{:?}", started.elapsed());
    // Caught up again, the standby serves reads again.
    pair.set_on_standby("RESET recovery_min_apply_delay").await;
    let started = Instant::now();
    loop {
        tokio::time::sleep(PROBE_EVERY).await;
        let view = reads.probe().await.unwrap();
        if view.health == (Health::Following { lag_s: 0 }) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "never back: {view:?}"
        );
    }
    let before = pane_queries_seen(&standby, ListKind::Tenants).await;
    let page = tenants_page(&reads).await;
    assert!(page.contains(&name), "{page}");
    let view = reads.view().unwrap();
    assert!(!view.is_warning(), "{view:?}");
    assert!(
        pane_queries_seen(&standby, ListKind::Tenants).await >= before.max(1),
        "the page was not read on the standby"
    );
    conn.close().await.unwrap();
}

#[tokio::test]
async fn a_standby_that_stops_sends_reads_to_the_primary_until_it_is_back() {
    let pair = Pair::start().await;
    let (conn, reads) = open(&pair).await;
    assert!(matches!(
        reads.probe().await.unwrap().health,
        Health::Following { .. }
    ));

    pair.stop_standby();
    // The first read finds it gone and is answered by the primary.
    let page = tenants_page(&reads).await;
    assert!(page.contains("Acme Realty Group"), "{page}");
    let view = reads.probe().await.unwrap();
    assert!(matches!(view.health, Health::Unreachable(_)), "{view:?}");
    assert_eq!(view.describe(), "standby down: reads on primary");
    // While it is down, reads do not wait for it.
    let started = Instant::now();
    tenants_page(&reads).await;
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert!(pane_queries_seen(&conn.pool, ListKind::Tenants).await >= 1);

    pair.start_standby();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let view = reads.probe().await.unwrap();
        if matches!(view.health, Health::Following { .. }) {
            break;
        }
        assert!(Instant::now() < deadline, "never back: {view:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tenants_page(&reads).await;
    let standby = standby_pool(&pair).await;
    assert!(
        pane_queries_seen(&standby, ListKind::Tenants).await >= 1,
        "reads did not return to the standby"
    );
    conn.close().await.unwrap();
}

/// The command line on the primary, reading from `replica`.
fn cli(pair: &Pair, replica: &str) -> (Cli, String) {
    let home = tempfile::tempdir().unwrap();
    let c = Cli {
        home,
        url: pair.primary_url(),
    };
    (c, replica.to_string())
}

fn with_replica<'a>(replica: &'a str, args: &[&'a str]) -> Vec<&'a str> {
    let mut all = vec!["--replica-url", replica];
    all.extend_from_slice(args);
    all
}

#[tokio::test]
async fn check_reports_both_servers_and_the_reading_commands_use_the_standby() {
    let pair = Pair::start().await;
    let (c, r) = cli(&pair, &pair.standby_url());

    let out = c.run(&with_replica(&r, &["check"]));
    let text = stdout(&out);
    assert!(
        text.contains(&format!(
            "Standby: app on 127.0.0.1:{} as postgres: a hot standby of this primary",
            pair.standby_port
        )),
        "{text}"
    );
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    let out = c.run(&with_replica(&r, &["check", "--json"]));
    let report = json(&out);
    assert_eq!(report["standby"]["in_recovery"], true, "{report}");
    assert_eq!(report["standby"]["same_system"], true, "{report}");

    // The export and the verify read on the standby (its log names each statement's client).
    let before = pair.standby_log().len();
    let out = c.as_admin(
        demo::DEMO_SUPER_ADMIN,
        &with_replica(&r, &["audit", "export", "--format", "jsonl"]),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).lines().count() > 300);
    let out = c.run(&with_replica(&r, &["audit", "verify"]));
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let log = pair.standby_log()[before..].to_string();
    assert!(
        log.contains("SELECT a.created_at, u.email"),
        "export not on the standby:\n{log}"
    );
    assert!(
        log.contains("FROM switchboard.audit_chain"),
        "verify not on the standby"
    );

    // Stopped: check says so (degraded, exit 5); the export still works, from the primary.
    pair.stop_standby();
    let out = c.run(&with_replica(&r, &["check"]));
    assert!(stdout(&out).contains("unreachable"), "{}", stdout(&out));
    assert_eq!(out.status.code(), Some(5));
    let out = c.as_admin(
        demo::DEMO_SUPER_ADMIN,
        &with_replica(&r, &["audit", "export"]),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("standby down: reads on primary"),
        "{}",
        stderr(&out)
    );
    pair.start_standby();

    // A replica that is the primary itself: `check` reports it (degraded, exit 5); a command
    // that would read there refuses to start, naming it.
    let (c, r) = cli(&pair, &pair.primary_url());
    let out = c.run(&with_replica(&r, &["check"]));
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("NOT a hot standby"),
        "{}",
        stdout(&out)
    );
    let out = c.run(&with_replica(&r, &["audit", "verify"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("is not a hot standby"),
        "{}",
        stderr(&out)
    );
    // A command that reads nothing there never connects to it: a replica URL nothing answers
    // costs it nothing.
    let (c, r) = cli(
        &pair,
        "postgres://postgres@127.0.0.1:9/app?connect_timeout=30",
    );
    let started = Instant::now();
    let out = c.as_admin(
        demo::DEMO_SUPER_ADMIN,
        &with_replica(
            &r,
            &[
                "credits",
                "top-up",
                "--user",
                "hugo.ivanova28@example.org",
                "--amount",
                "1",
                "--reason",
                "no standby needed",
            ],
        ),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn the_console_shows_the_standbys_lag_its_own_top_up_at_once_and_survives_it_stopping() {
    let pair = Pair::start().await;
    let email = "hugo.ivanova28@example.org";
    let mut c = Console::start(&[
        "--database-url",
        &pair.primary_url(),
        "--replica-url",
        &pair.standby_url(),
        "--admin",
        demo::DEMO_SUPER_ADMIN,
    ]);
    c.wait_for("Password:");
    c.keys(demo::DEMO_PASSWORD.as_bytes());
    c.keys(b"\r");
    // Signed in (the standby's line shows on the sign-in screen already).
    c.wait_for(&format!("{} (", demo::DEMO_SUPER_ADMIN));
    c.wait_for("standby under 1 s behind");

    // A top-up, then its row: the new balance, with no key pressed.
    c.credits_of(email);
    let before = c.text();
    let balance: i64 = before
        .lines()
        .find(|l| l.starts_with(email))
        .and_then(|l| l.split_whitespace().nth(4))
        .map(|b| b.replace(',', "").parse().unwrap())
        .unwrap_or_else(|| panic!("{before}"));
    c.keys(b"+");
    c.wait_for("Amount:");
    c.keys(b"25\treplica test\r");
    c.wait_for("Confirm");
    c.keys(b"y");
    c.wait_for(&format!("credits {balance} → {}", balance + 25));

    pair.stop_standby();
    c.wait_for("standby down: reads on primary");
    c.keys(b"2");
    c.wait_for("aisha.keller@brightline.example");
    pair.start_standby();
    c.wait_for("standby under 1 s behind");
    c.keys(b"q");
    c.wait_exit();
}
