//! Every pane's query against real PostgreSQL: ordering, keyset continuity across page
//! boundaries (ties included), filters, metacharacters, counts and detail views.

mod common;

use chrono::Utc;
use common::TestDb;
use switchboard::console::worker::cancel_pane_queries;
use switchboard::db::details::{Section, load_detail};
use switchboard::db::lists::{
    Cell, Filter, ListKind, Page, RowCount, RowFigures, build_page_query, count_rows, fetch_page,
    fetch_stats, late_figures, query_tag,
};
use switchboard::seed::demo;
use switchboard::ui::{self, Fmt};
use uuid::Uuid;

async fn seeded() -> TestDb {
    let db = TestDb::migrated().await;
    demo::seed_demo(&db.pool, Utc::now()).await.unwrap();
    db
}

fn filter(kind: ListKind, text: &str) -> Filter {
    Filter::parse(kind, text).unwrap()
}

/// Every row of the list, walking forward `limit` rows at a time.
async fn walk_forward(db: &TestDb, kind: ListKind, f: &Filter, limit: i64) -> Vec<Uuid> {
    let mut ids = Vec::new();
    let mut page = Page::First;
    loop {
        let rows = fetch_page(&db.pool, kind, f, &page, limit).await.unwrap();
        ids.extend(rows.iter().map(|r| r.id));
        match rows.last() {
            Some(last) if rows.len() as i64 == limit => page = Page::After(last.key.clone()),
            _ => return ids,
        }
    }
}

async fn walk_backward(db: &TestDb, kind: ListKind, f: &Filter, limit: i64) -> Vec<Uuid> {
    let mut ids = Vec::new();
    let mut page = Page::Last;
    loop {
        let rows = fetch_page(&db.pool, kind, f, &page, limit).await.unwrap();
        let mut chunk: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
        chunk.append(&mut ids);
        ids = chunk;
        match rows.first() {
            Some(first) if rows.len() as i64 == limit => page = Page::Before(first.key.clone()),
            _ => return ids,
        }
    }
}

#[tokio::test]
async fn every_pane_pages_through_everything_once_in_both_directions() {
    let db = seeded().await;
    for kind in ListKind::ALL {
        let all = fetch_page(&db.pool, kind, &Filter::default(), &Page::First, 10_000)
            .await
            .unwrap();
        assert!(!all.is_empty(), "{kind:?}");
        let ids: Vec<Uuid> = all.iter().map(|r| r.id).collect();
        assert_eq!(
            walk_forward(&db, kind, &Filter::default(), 7).await,
            ids,
            "{kind:?} forward"
        );
        assert_eq!(
            walk_backward(&db, kind, &Filter::default(), 7).await,
            ids,
            "{kind:?} backward"
        );
        // The last page is the end of the list.
        let last = fetch_page(&db.pool, kind, &Filter::default(), &Page::Last, 5)
            .await
            .unwrap();
        assert_eq!(
            last.iter().map(|r| r.id).collect::<Vec<_>>(),
            ids[ids.len().saturating_sub(5)..]
        );
    }
}

#[tokio::test]
async fn orderings_are_as_the_panes_promise() {
    let db = seeded().await;
    let credits = fetch_page(
        &db.pool,
        ListKind::Credits,
        &Filter::default(),
        &Page::First,
        100,
    )
    .await
    .unwrap();
    let balances: Vec<i64> = credits
        .iter()
        .map(|r| match r.cells[2] {
            Cell::Int(n) => n,
            _ => panic!("balance is not a number"),
        })
        .collect();
    assert!(
        balances.windows(2).all(|w| w[0] <= w[1]),
        "lowest balance first: {balances:?}"
    );
    let audit = fetch_page(
        &db.pool,
        ListKind::AuditLog,
        &Filter::default(),
        &Page::First,
        400,
    )
    .await
    .unwrap();
    let times: Vec<_> = audit
        .iter()
        .map(|r| match &r.cells[0] {
            Cell::Time(t) => *t,
            _ => panic!("time is not a time"),
        })
        .collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first");
}

#[tokio::test]
async fn keyset_continuity_with_equal_timestamps() {
    let db = TestDb::migrated().await;
    // 23 audit rows in the same microsecond, around 3 others: ties are broken by id.
    sqlx::query(
        "INSERT INTO audit_logs (action, resource_type, created_at) \
         SELECT 'tie.' || g, 'user', '2026-01-01 12:00:00+00'::timestamptz FROM generate_series(1, 23) g \
         UNION ALL SELECT 'before', 'user', '2026-01-01 11:00:00+00' \
         UNION ALL SELECT 'after', 'user', '2026-01-01 13:00:00+00' \
         UNION ALL SELECT 'after2', 'user', '2026-01-01 13:00:01+00'",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    let f = Filter::default();
    let all = walk_forward(&db, ListKind::AuditLog, &f, 1000).await;
    assert_eq!(all.len(), 26);
    for limit in [1, 2, 4, 5, 22] {
        assert_eq!(
            walk_forward(&db, ListKind::AuditLog, &f, limit).await,
            all,
            "limit {limit}"
        );
        assert_eq!(
            walk_backward(&db, ListKind::AuditLog, &f, limit).await,
            all,
            "limit {limit}"
        );
    }
}

/// Email and name are searched by their keys, without the punctuation between words (space . @
/// - + _ '), when the term has some: "dana.whit" finds Dana Whit…, "support demo" finds
/// support@demo.test. A term without any finds what the columns hold as written, no more.
#[tokio::test]
async fn user_search_ignores_punctuation_between_words_and_only_that() {
    let db = seeded().await;
    let ids = |text: &'static str| {
        let pool = db.pool.clone();
        async move {
            let mut ids: Vec<Uuid> = fetch_page(
                &pool,
                ListKind::Users,
                &filter(ListKind::Users, text),
                &Page::First,
                1000,
            )
            .await
            .unwrap()
            .iter()
            .map(|r| r.id)
            .collect();
            ids.sort();
            ids
        }
    };
    let dana = ids("Dana Whit").await;
    assert_eq!(dana.len(), 1);
    assert_eq!(ids("dana.whit").await, dana);
    assert_eq!(ids("DANA_WHIT").await, dana);
    let support: Uuid =
        sqlx::query_scalar("SELECT id FROM users WHERE email = 'support@demo.test'")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(ids("support demo").await, [support]);
    assert_eq!(ids("support-demo").await, [support]);
    assert!(
        ids("supportdemo").await.is_empty(),
        "no punctuation: as written"
    );
    // Punctuation alone: searched as written (every address has an @).
    let all: i64 = sqlx::query_scalar("SELECT count(*) FROM users WHERE email LIKE '%@%'")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(ids("@").await.len() as i64, all.min(1000));
    // No punctuation in the term: exactly the rows whose columns hold it.
    for term in ["ana", "demo", "Realty", "42"] {
        let pattern = format!("%{term}%");
        let mut expected: Vec<Uuid> = sqlx::query_scalar(
            "SELECT id FROM users WHERE email ILIKE $1 OR name ILIKE $1 OR company ILIKE $1 \
             OR phone ILIKE $1",
        )
        .bind(&pattern)
        .fetch_all(&db.pool)
        .await
        .unwrap();
        expected.sort();
        assert!(
            !expected.is_empty() || term == "42",
            "{term}: no rows to compare"
        );
        assert_eq!(ids(term).await, expected, "{term}");
    }
}

#[tokio::test]
async fn user_search_matches_email_name_company_phone_and_exact_id() {
    let db = seeded().await;
    let count = |text: &'static str| {
        let pool = db.pool.clone();
        async move {
            fetch_page(
                &pool,
                ListKind::Users,
                &filter(ListKind::Users, text),
                &Page::First,
                100,
            )
            .await
            .unwrap()
        }
    };
    assert_eq!(count("acmerealty").await.len(), 14);
    assert_eq!(
        count("ACME REALTY").await.len(),
        14,
        "company, case-insensitive"
    );
    assert_eq!(count("support@demo").await.len(), 1);
    assert_eq!(count("Dana Whit").await.len(), 1, "name");
    let id: Uuid = sqlx::query_scalar("SELECT id FROM users WHERE email = 'super@demo.test'")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    let by_id = fetch_page(
        &db.pool,
        ListKind::Users,
        &filter(ListKind::Users, &id.to_string()),
        &Page::First,
        100,
    )
    .await
    .unwrap();
    assert_eq!(by_id.iter().map(|r| r.id).collect::<Vec<_>>(), [id]);
    let phone: String =
        sqlx::query_scalar("SELECT phone FROM users WHERE phone IS NOT NULL LIMIT 1")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    let by_phone = fetch_page(
        &db.pool,
        ListKind::Users,
        &filter(ListKind::Users, &phone[2..]),
        &Page::First,
        100,
    )
    .await
    .unwrap();
    assert!(!by_phone.is_empty());
    assert_eq!(count("role:super_admin").await.len(), 1);
    assert_eq!(count("is:admin").await.len(), 2);
}

#[tokio::test]
async fn sql_metacharacters_in_filters_are_plain_text() {
    let db = seeded().await;
    sqlx::query(
        "INSERT INTO users (email, name) VALUES ('odd%_\\''@example.com', 'Per%cent O''Brien_')",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    for (text, expected) in [
        ("%", 1), // not "everything"
        ("_", 1), // not "any one character"
        ("\\", 1),
        ("'", 0), // checked separately below: every match must contain a quote
        ("'; DROP TABLE users; --", 0),
        ("%cent", 1),
    ] {
        let rows = fetch_page(
            &db.pool,
            ListKind::Users,
            &filter(ListKind::Users, text),
            &Page::First,
            100,
        )
        .await
        .unwrap();
        let names: Vec<String> = rows
            .iter()
            .map(|r| match &r.cells[0] {
                Cell::Text(s) => s.clone(),
                _ => String::new(),
            })
            .collect();
        if text == "'" {
            // Every match really contains a quote.
            assert!(!names.is_empty());
            let all_quoted: bool = sqlx::query_scalar(
                "SELECT bool_and(email LIKE '%''%' OR name LIKE '%''%' OR coalesce(company, '') LIKE '%''%') \
                 FROM users WHERE email = ANY($1)",
            )
            .bind(&names)
            .fetch_one(&db.pool)
            .await
            .unwrap();
            assert!(all_quoted, "{names:?}");
        } else {
            assert_eq!(rows.len(), expected, "{text}: {names:?}");
        }
    }
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(users, 40);
}

#[tokio::test]
async fn audit_filters_by_actor_action_type_resource_and_time() {
    let db = seeded().await;
    let rows = |text: String| {
        let pool = db.pool.clone();
        async move {
            fetch_page(
                &pool,
                ListKind::AuditLog,
                &filter(ListKind::AuditLog, &text),
                &Page::First,
                1000,
            )
            .await
            .unwrap()
        }
    };
    let expect = |sql: &'static str| {
        let pool = db.pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(&pool)
                .await
                .unwrap() as usize
        }
    };
    assert_eq!(
        rows("actor:support@demo".into()).await.len(),
        expect("SELECT count(*) FROM audit_logs a JOIN users u ON u.id = a.user_id WHERE u.email = 'support@demo.test'").await
    );
    let credits = expect("SELECT count(*) FROM audit_logs WHERE action LIKE 'credits.%'").await;
    assert!(credits > 0);
    // With or without the dot (or a star), a word without a dot is the prefix.
    for word in ["action:credits.", "action:credits", "action:credits*"] {
        assert_eq!(rows(word.into()).await.len(), credits, "{word}");
    }
    assert_eq!(
        rows("action:user.sign_in".into()).await.len(),
        expect("SELECT count(*) FROM audit_logs WHERE action = 'user.sign_in'").await
    );
    assert_eq!(
        rows("type:phone_number".into()).await.len(),
        expect("SELECT count(*) FROM audit_logs WHERE resource_type = 'phone_number'").await
    );
    let agent: Uuid = sqlx::query_scalar(
        "SELECT resource_id FROM audit_logs WHERE resource_type = 'agent' LIMIT 1",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    let for_agent = rows(format!("id:{agent}")).await;
    assert!(!for_agent.is_empty());
    assert!(for_agent.iter().all(|r| r.cells[4] == Cell::Id(agent)));
    let today = Utc::now().date_naive();
    let week_ago = today - chrono::Duration::days(7);
    let recent = rows(format!(
        "action:credits.top_up since:{week_ago} until:{today}"
    ))
    .await;
    let expected: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_logs WHERE action = 'credits.top_up' \
         AND created_at >= $1::date AND created_at < $2::date + 1",
    )
    .bind(week_ago)
    .bind(today)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(recent.len() as i64, expected);
}

#[tokio::test]
async fn phone_number_filters_for_unassigned_and_inactive() {
    let db = seeded().await;
    for (text, n) in [
        ("is:unassigned", 2),
        ("is:inactive", 1),
        ("is:assigned", 3),
        ("+1415", 1),
        ("", 5),
    ] {
        let rows = fetch_page(
            &db.pool,
            ListKind::PhoneNumbers,
            &filter(ListKind::PhoneNumbers, text),
            &Page::First,
            100,
        )
        .await
        .unwrap();
        assert_eq!(rows.len(), n, "{text}");
    }
}

#[tokio::test]
async fn counts_are_exact_when_small_and_bounded_when_large() {
    let db = seeded().await;
    assert_eq!(
        count_rows(&db.pool, ListKind::Users, &Filter::default())
            .await
            .unwrap(),
        RowCount::Exact(39)
    );
    sqlx::query("INSERT INTO audit_logs (action, resource_type) SELECT 'bulk', 'user' FROM generate_series(1, 10500)")
        .execute(&db.pool)
        .await
        .unwrap();
    assert_eq!(
        count_rows(&db.pool, ListKind::AuditLog, &Filter::default())
            .await
            .unwrap(),
        RowCount::AtLeast(10_000)
    );
}

#[tokio::test]
async fn details_load_for_every_pane_without_secrets() {
    let db = seeded().await;
    for kind in ListKind::ALL {
        let first = fetch_page(&db.pool, kind, &Filter::default(), &Page::First, 1)
            .await
            .unwrap();
        let detail = load_detail(&db.pool, kind, first[0].id).await.unwrap();
        assert_eq!(detail.id, first[0].id);
        assert!(!detail.fields.is_empty(), "{kind:?}");
        let text = format!("{detail:?}");
        assert!(!text.contains("$argon2"), "{kind:?} shows a password hash");
        assert!(!text.contains("sess_"), "{kind:?} shows a session token");
    }
    // A user with sessions: no token, nor any part of one.
    let (user, token): (Uuid, String) = sqlx::query_as(
        "SELECT user_id, session_token FROM user_sessions WHERE expires_at > now() LIMIT 1",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    let detail = load_detail(&db.pool, ListKind::Users, user).await.unwrap();
    let sessions = detail
        .sections
        .iter()
        .find_map(|s| match s {
            Section::Table { title, rows, .. } if title == "Active sessions" => Some(rows.clone()),
            _ => None,
        })
        .unwrap();
    assert!(!sessions.is_empty());
    let tail = &token[token.len() - 4..];
    for row in sessions {
        assert_eq!(row.len(), 4, "created, expires, ip, user agent: {row:?}");
        assert!(
            !format!("{row:?}").contains(tail),
            "{row:?} holds a part of {tail}"
        );
    }
    // An audit entry leads to its record.
    let entry: Uuid =
        sqlx::query_scalar("SELECT id FROM audit_logs WHERE resource_type = 'agent' LIMIT 1")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    let detail = load_detail(&db.pool, ListKind::AuditLog, entry)
        .await
        .unwrap();
    assert!(matches!(detail.jump, Some((ListKind::Agents, _))));
    assert!(
        detail
            .sections
            .iter()
            .any(|s| matches!(s, Section::Diff { .. }))
    );
}

#[tokio::test]
async fn a_missing_record_is_a_clear_error() {
    let db = seeded().await;
    let err = load_detail(&db.pool, ListKind::Users, Uuid::new_v4())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no longer exists"), "{err}");
}

#[tokio::test]
async fn tenant_figures_come_after_the_rows_and_match_the_tables() {
    let db = seeded().await;
    let rows = fetch_page(
        &db.pool,
        ListKind::Tenants,
        &Filter::default(),
        &Page::First,
        100,
    )
    .await
    .unwrap();
    assert!(
        rows.iter()
            .all(|r| r.cells[3..8].iter().all(|c| *c == Cell::Pending))
    );
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let stats = switchboard::db::lists::fetch_stats(&db.pool, ListKind::Tenants, &ids)
        .await
        .unwrap();
    assert_eq!(stats.len(), ids.len());
    for RowFigures { id, cells } in stats {
        let want: (i64, i64, i64, i64, i64) = sqlx::query_as(
            "SELECT (SELECT count(*) FROM users WHERE tenant_id = $1), \
                    (SELECT count(*) FROM agents a JOIN users u ON u.id = a.user_id WHERE u.tenant_id = $1), \
                    (SELECT count(*) FROM phone_numbers p JOIN users u ON u.id = p.assigned_to_user_id WHERE u.tenant_id = $1), \
                    (SELECT coalesce(sum(credits), 0)::int8 FROM users WHERE tenant_id = $1), \
                    (SELECT count(*) FROM calls c JOIN users u ON u.id = c.user_id \
                     WHERE u.tenant_id = $1 AND c.created_at > now() - interval '30 days')",
        )
        .bind(id)
        .fetch_one(&db.pool)
        .await
        .unwrap();
        assert_eq!(
            cells,
            vec![
                Cell::Int(want.0),
                Cell::Int(want.1),
                Cell::Int(want.2),
                Cell::Int(want.3),
                Cell::Int(want.4)
            ]
        );
    }
    // Other panes have none.
    assert!(
        switchboard::db::lists::fetch_stats(&db.pool, ListKind::Users, &ids)
            .await
            .unwrap()
            .is_empty()
    );
}

/// What a column's format can show, by the PostgreSQL type the query gives it.
fn type_fits(fmt: Fmt, pg_type: &str) -> bool {
    match fmt {
        Fmt::Text => matches!(pg_type, "TEXT" | "VARCHAR"),
        Fmt::Number => pg_type == "INT8",
        Fmt::YesNo => pg_type == "BOOL",
        Fmt::Minute | Fmt::Second => pg_type == "TIMESTAMPTZ",
        Fmt::Percent | Fmt::Days => pg_type == "FLOAT8",
        Fmt::ShortId => pg_type == "UUID",
    }
}

/// A pane's query and its column table agree: the page query selects the row id, the keyset
/// columns, then one column per column of the table, under the table's names, in its order, of
/// types its formats can show; decoded rows have one cell per column; the late figures of the
/// Tenants pane come under the names of the columns they fill.
#[tokio::test]
async fn every_pane_query_and_its_column_table_agree_in_count_names_order_and_types() {
    use sqlx::{Column, Row, TypeInfo};
    let db = seeded().await;
    for kind in ListKind::ALL {
        let table = ui::columns(kind);
        let rows = build_page_query(kind, &Filter::default(), &Page::First, 5)
            .build()
            .fetch_all(&db.pool)
            .await
            .unwrap();
        let first = rows
            .first()
            .unwrap_or_else(|| panic!("{kind:?}: no demo rows"));
        let names: Vec<&str> = first.columns().iter().map(|c| c.name()).collect();
        let expected: Vec<&str> = ["id", "k0", "k1"]
            .into_iter()
            .chain(table.iter().map(|c| c.field))
            .collect();
        assert_eq!(
            names, expected,
            "{kind:?}: query columns vs the column table"
        );
        for (col, column) in table.iter().zip(&first.columns()[3..]) {
            let pg_type = column.type_info().name();
            assert!(
                type_fits(col.fmt, pg_type),
                "{kind:?}: column {} is {pg_type}, shown as {:?}",
                col.field,
                col.fmt
            );
        }
        for row in fetch_page(&db.pool, kind, &Filter::default(), &Page::First, 5)
            .await
            .unwrap()
        {
            assert_eq!(row.cells.len(), table.len(), "{kind:?}: cells per row");
        }
        if let Some(late) = late_figures(kind) {
            let range = late.cells;
            assert!(range.end <= table.len(), "{kind:?}: {range:?}");
            let ids: Vec<Uuid> = rows.iter().map(|r| r.get::<Uuid, _>(0)).collect();
            let Some(sql) = late.sql else {
                // Made from what a query reads: one text cell per row (the audit's sentences).
                let made = fetch_stats(&db.pool, kind, &ids).await.unwrap();
                assert_eq!(made.len(), ids.len(), "{kind:?}");
                assert!(
                    made.iter().all(
                        |r| r.cells.len() == range.len() && matches!(r.cells[0], Cell::Text(_))
                    ),
                    "{kind:?}: {made:?}"
                );
                continue;
            };
            let stats = sqlx::query(sql)
                .bind(&ids)
                .fetch_all(&db.pool)
                .await
                .unwrap();
            let names: Vec<&str> = stats[0].columns()[1..].iter().map(|c| c.name()).collect();
            let expected: Vec<&str> = table[range].iter().map(|c| c.field).collect();
            assert_eq!(names, expected, "{kind:?}: late figures vs their columns");
        }
    }
}

/// Esc cancels the pane's own queries only: with the tenants and the audit log both locked, the
/// audit pane's query is cancelled and the tenants pane's keeps waiting, then completes.
#[tokio::test]
async fn cancelling_a_pane_cancels_its_queries_and_no_other_panes() {
    let db = seeded().await;
    let app_name = app_name(&db).await;
    let locker = locked(&db, "tenants, audit_logs").await;
    let page = |kind: ListKind| {
        let pool = db.pool.clone();
        tokio::spawn(
            async move { fetch_page(&pool, kind, &Filter::default(), &Page::First, 10).await },
        )
    };
    let tenants = page(ListKind::Tenants);
    let audit = page(ListKind::AuditLog);
    let waiting = async |tag: &str| waiting_on_lock(&db, tag).await;
    for _ in 0..200 {
        if waiting(query_tag(ListKind::Tenants)).await == 1
            && waiting(query_tag(ListKind::AuditLog)).await == 1
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert_eq!(waiting(query_tag(ListKind::AuditLog)).await, 1);
    cancel_pane_queries(&db.pool, &app_name, ListKind::AuditLog).await;
    let cancelled = tokio::time::timeout(std::time::Duration::from_secs(10), audit)
        .await
        .expect("the audit query ends once cancelled")
        .unwrap();
    let e = cancelled.expect_err("cancelled");
    assert_eq!(e.brief(), "query cancelled");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(
        !tenants.is_finished(),
        "the tenants query was not cancelled"
    );
    assert_eq!(waiting(query_tag(ListKind::Tenants)).await, 1);
    locker.rollback().await.unwrap();
    let rows = tokio::time::timeout(std::time::Duration::from_secs(10), tenants)
        .await
        .expect("the tenants query completes once the lock is gone")
        .unwrap()
        .unwrap();
    assert!(!rows.is_empty());
}

/// The console's sessions have a statement timeout: a query left running (by a client that died,
/// or 3,000 `actor:` words) is ended by the server. An export's transaction lifts it.
#[tokio::test]
async fn interactive_sessions_end_a_runaway_statement() {
    use switchboard::db::connect::{PoolSettings, open_pool};
    let db = TestDb::migrated().await;
    let settings = PoolSettings {
        read_only: false,
        statement_timeout: Some(std::time::Duration::from_millis(300)),
        ..PoolSettings::default()
    };
    let pool = open_pool(db.options.clone(), settings).await.unwrap();
    let started = std::time::Instant::now();
    let e = sqlx::query("SELECT pg_sleep(5)")
        .execute(&pool)
        .await
        .unwrap_err();
    assert!(started.elapsed() < std::time::Duration::from_secs(4));
    let code = e.as_database_error().and_then(|d| d.code()).unwrap();
    assert_eq!(code, "57014", "{e}");
    // The export's own transaction runs without it.
    let filter = Filter::default();
    let mut out = Vec::new();
    switchboard::db::export::export_audit(
        &pool,
        &filter,
        switchboard::db::export::Format::Csv,
        &mut out,
        &mut |_| {},
    )
    .await
    .unwrap();
    pool.close().await;
}

/// An inactive agent's calls count in the list as in its detail (the list once read the
/// platform's `bolna_agents` view, which holds active agents only, and showed 0).
#[tokio::test]
async fn inactive_agents_count_their_calls_in_the_list_as_in_the_detail() {
    let db = seeded().await;
    let (id, calls): (uuid::Uuid, i64) = sqlx::query_as(
        "UPDATE agents SET is_active = false WHERE id = \
             (SELECT agent_id FROM calls GROUP BY agent_id ORDER BY count(*) DESC LIMIT 1) \
         RETURNING id, (SELECT count(*) FROM calls WHERE agent_id = agents.id)",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert!(calls > 0);
    let rows = fetch_page(
        &db.pool,
        ListKind::Agents,
        &filter(ListKind::Agents, &id.to_string()),
        &Page::First,
        10,
    )
    .await
    .unwrap();
    assert_eq!(rows.len(), 1);
    let listed = rows[0]
        .cells
        .iter()
        .find_map(|c| match c {
            switchboard::db::lists::Cell::Int(n) => Some(*n),
            _ => None,
        })
        .expect("a calls cell");
    assert_eq!(listed, calls);
}

/// An audit entry reads with names: its resource by name, and each id in its values with what it
/// names now (a number assignment names the number and the user's email).
#[tokio::test]
async fn an_audit_entry_names_its_resource_and_the_ids_in_its_values() {
    let db = seeded().await;
    let (entry, number, email): (uuid::Uuid, String, String) = sqlx::query_as(
        "SELECT a.id, p.phone_number, u.email FROM audit_logs a \
         JOIN phone_numbers p ON p.id = a.resource_id \
         JOIN users u ON u.id = (a.new_values->>'assigned_to_user_id')::uuid \
         WHERE a.action = 'phone_number.assign' LIMIT 1",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    let detail = load_detail(&db.pool, ListKind::AuditLog, entry)
        .await
        .unwrap();
    let resource = detail
        .fields
        .iter()
        .find(|(name, _)| *name == "resource")
        .map(|(_, c)| c.clone());
    assert_eq!(
        resource,
        Some(switchboard::db::lists::Cell::Text(number.clone()))
    );
    let names = detail
        .sections
        .iter()
        .find_map(|s| match s {
            Section::Table { title, rows, .. } if title.contains("by name") => Some(rows),
            _ => None,
        })
        .expect("no names section");
    assert!(
        names
            .iter()
            .any(|r| r.contains(&switchboard::db::lists::Cell::Text(email.clone()))),
        "{names:?}"
    );
    // The same entry as a sentence, in its detail and in the list (the stored row keeps ids).
    let sentence = format!("{number}: assigned to none → {email}");
    let change = detail
        .fields
        .iter()
        .find(|(name, _)| *name == "change")
        .map(|(_, c)| c.clone());
    assert_eq!(change, Some(Cell::Text(sentence.clone())));
    let listed = fetch_stats(&db.pool, ListKind::AuditLog, &[entry])
        .await
        .unwrap();
    assert_eq!(listed[0].cells, vec![Cell::Text(sentence)]);
    let stored: String = sqlx::query_scalar(
        "SELECT new_values->>'assigned_to_user_id' FROM audit_logs WHERE id = $1",
    )
    .bind(entry)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert!(Uuid::parse_str(&stored).is_ok(), "{stored}");
}

/// A form's picker searches as the pane does, active rows only, a page at a time by keyset.
#[tokio::test]
async fn a_picker_finds_active_users_and_tenants_a_page_at_a_time() {
    use switchboard::db::lookup::{Lookup, search};
    let db = seeded().await;
    let inactive: String =
        sqlx::query_scalar("SELECT email FROM users WHERE NOT is_active ORDER BY email LIMIT 1")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    // The whole list, three at a time: every active user once, in email order, no inactive.
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = search(&db.pool, Lookup::ActiveUsers, "", after, 3)
            .await
            .unwrap();
        seen.extend(page.rows.iter().map(|f| f.value.clone()));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    let active: Vec<String> =
        sqlx::query_scalar("SELECT email FROM users WHERE is_active ORDER BY email")
            .fetch_all(&db.pool)
            .await
            .unwrap();
    assert_eq!(seen, active);
    assert!(!seen.contains(&inactive));
    // Narrowed by what is typed: the pane's search (email, name, company, phone).
    let page = search(&db.pool, Lookup::ActiveUsers, "ACMEREALTY", None, 50)
        .await
        .unwrap();
    assert!(!page.rows.is_empty());
    assert!(
        page.rows.iter().all(|f| f.value.contains("acmerealty")),
        "{page:?}"
    );
    assert!(
        page.rows[0].detail.contains("Acme Realty Group"),
        "{page:?}"
    );
    // A typed filter word is text, not a filter: nothing matches it.
    let page = search(&db.pool, Lookup::ActiveUsers, "role:admin", None, 5)
        .await
        .unwrap();
    assert!(page.rows.is_empty(), "{page:?}");
    let page = search(&db.pool, Lookup::ActiveTenants, "harbor", None, 5)
        .await
        .unwrap();
    assert_eq!(
        page.rows
            .iter()
            .map(|f| f.value.as_str())
            .collect::<Vec<_>>(),
        ["Harbor Auto Finance"]
    );
    assert_eq!(page.rows[0].detail, "free");
}

/// The `application_name` of the test's pool (the console's cancels are limited to it).
async fn app_name(db: &TestDb) -> String {
    sqlx::query_scalar("SELECT current_setting('application_name')")
        .fetch_one(&db.pool)
        .await
        .unwrap()
}

/// A transaction holding `tables` locked against every reader until it ends.
async fn locked(db: &TestDb, tables: &str) -> sqlx::Transaction<'static, sqlx::Postgres> {
    let mut locker = db.pool.begin().await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "LOCK TABLE {tables} IN ACCESS EXCLUSIVE MODE"
    )))
    .execute(&mut *locker)
    .await
    .unwrap();
    locker
}

/// How many of the pool's server sessions wait on a lock running a statement that starts with
/// `prefix`.
async fn waiting_on_lock(db: &TestDb, prefix: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM pg_stat_activity \
         WHERE wait_event_type = 'Lock' AND starts_with(query, $1)",
    )
    .bind(prefix)
    .fetch_one(&db.pool)
    .await
    .unwrap()
}

/// Waits (up to 10 s) until a statement starting with `prefix` waits on a lock.
async fn until_waiting(db: &TestDb, prefix: &str) {
    for _ in 0..400 {
        if waiting_on_lock(db, prefix).await > 0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("no statement starting with {prefix:?} waited on the lock");
}

/// A search that runs out of its time as planned (here: held up by a lock, as a walk of the
/// email index over ten million users would be by its work) is run again, once, with bitmap
/// scans only, and gives the same rows and count as without the lock.
#[tokio::test]
async fn a_search_that_runs_out_of_time_runs_again_with_bitmap_scans_only() {
    use switchboard::db::bounded::{BITMAP_TAG, SEARCH_BUDGET};
    let db = seeded().await;
    let f = filter(ListKind::Users, "demo");
    let want: Vec<Uuid> = fetch_page(&db.pool, ListKind::Users, &f, &Page::First, 50)
        .await
        .unwrap()
        .iter()
        .map(|r| r.id)
        .collect();
    assert!(want.len() > 1, "the demo data has users to find");
    let want_count = count_rows(&db.pool, ListKind::Users, &f).await.unwrap();

    let locker = locked(&db, "users").await;
    let started = std::time::Instant::now();
    let (pool, f2) = (db.pool.clone(), f.clone());
    let page =
        tokio::spawn(
            async move { fetch_page(&pool, ListKind::Users, &f2, &Page::First, 50).await },
        );
    let (pool, f2) = (db.pool.clone(), f.clone());
    let count = tokio::spawn(async move { count_rows(&pool, ListKind::Users, &f2).await });
    let second_try = format!("{}{BITMAP_TAG}", query_tag(ListKind::Users));
    // Both first tries wait, run out, and come back as second tries.
    for _ in 0..400 {
        if waiting_on_lock(&db, &second_try).await == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert_eq!(waiting_on_lock(&db, &second_try).await, 2);
    assert!(started.elapsed() >= SEARCH_BUDGET);
    assert_eq!(
        waiting_on_lock(&db, query_tag(ListKind::Users)).await,
        2,
        "no first try is left waiting"
    );
    locker.rollback().await.unwrap();
    let ten = std::time::Duration::from_secs(10);
    let rows = tokio::time::timeout(ten, page)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    assert_eq!(ids, want);
    let n = tokio::time::timeout(ten, count)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(n, want_count);
}

/// A search cancelled by the console (Esc) before its time is up ends there: no second try.
#[tokio::test]
async fn a_cancelled_search_is_not_tried_again() {
    use switchboard::db::bounded::BITMAP_TAG;
    let db = seeded().await;
    let app_name = app_name(&db).await;
    let locker = locked(&db, "users").await;
    let pool = db.pool.clone();
    let page = tokio::spawn(async move {
        let f = filter(ListKind::Users, "demo");
        fetch_page(&pool, ListKind::Users, &f, &Page::First, 50).await
    });
    until_waiting(&db, query_tag(ListKind::Users)).await;
    cancel_pane_queries(&db.pool, &app_name, ListKind::Users).await;
    let e = tokio::time::timeout(std::time::Duration::from_secs(10), page)
        .await
        .unwrap()
        .unwrap()
        .expect_err("cancelled");
    assert_eq!(e.brief(), "query cancelled");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let second_try = format!("{}{BITMAP_TAG}", query_tag(ListKind::Users));
    assert_eq!(waiting_on_lock(&db, &second_try).await, 0);
    locker.rollback().await.unwrap();
}

/// The second try's plan finds a search's users through the trigram indexes of the search keys
/// (bitmap scans) and never walks an index in order or reads the whole table: what it costs
/// grows with the matches, not with the users.
#[tokio::test]
async fn the_second_try_of_a_search_reads_the_trigram_indexes_only() {
    use switchboard::db::lists::page_query;
    let db = seeded().await;
    for text in ["tariq.sato", "demo", "Juan Antonio"] {
        let f = filter(ListKind::Users, text);
        let mut tx = db.pool.begin().await.unwrap();
        sqlx::raw_sql("SET LOCAL enable_indexscan = off; SET LOCAL enable_seqscan = off")
            .execute(&mut *tx)
            .await
            .unwrap();
        let plan: Vec<String> = page_query(ListKind::Users, "EXPLAIN ", &f, &Page::First, 51)
            .build_query_scalar()
            .fetch_all(&mut *tx)
            .await
            .unwrap();
        let plan = plan.join("\n");
        assert!(
            plan.contains("Bitmap Index Scan on idx_users_email_key_trgm")
                && plan.contains("Bitmap Index Scan on idx_users_name_key_trgm"),
            "{text}: {plan}"
        );
        assert!(
            !plan.contains("Index Scan using idx_users_email_id")
                && !plan.contains("Seq Scan on users"),
            "{text}: {plan}"
        );
    }
}

/// A page at a row starts with that row, in every pane, and goes on as the list does; a row the
/// filter no longer holds starts the page at the next row that it does.
#[tokio::test]
async fn a_page_at_a_row_starts_with_it_in_every_pane() {
    let db = seeded().await;
    for kind in ListKind::ALL {
        let all = fetch_page(&db.pool, kind, &Filter::default(), &Page::First, 10_000)
            .await
            .unwrap();
        let ids: Vec<Uuid> = all.iter().map(|r| r.id).collect();
        for i in [0, ids.len() / 2, ids.len() - 1] {
            let page = fetch_page(&db.pool, kind, &Filter::default(), &Page::At(ids[i]), 5)
                .await
                .unwrap();
            let got: Vec<Uuid> = page.iter().map(|r| r.id).collect();
            let want = &ids[i..(i + 5).min(ids.len())];
            assert_eq!(got, want, "{kind:?} at row {i}");
        }
    }
    // An inactive user under is:active: the page starts at the next active user.
    let active = filter(ListKind::Users, "is:active");
    let all = fetch_page(
        &db.pool,
        ListKind::Users,
        &Filter::default(),
        &Page::First,
        10_000,
    )
    .await
    .unwrap();
    let inactive = all
        .iter()
        .position(|r| r.cells[4] == Cell::Bool(false))
        .expect("the demo data has an inactive user");
    let next_active = all[inactive..]
        .iter()
        .find(|r| r.cells[4] == Cell::Bool(true))
        .map(|r| r.id);
    let page = fetch_page(
        &db.pool,
        ListKind::Users,
        &active,
        &Page::At(all[inactive].id),
        1,
    )
    .await
    .unwrap();
    assert_eq!(page.first().map(|r| r.id), next_active);
}

/// The filter values with a fixed set are read from the connected platform's CHECK
/// constraints: as documented on a migrated database, widened where the platform widened one,
/// any value where it has none.
#[tokio::test]
async fn filter_values_are_read_from_the_platforms_check_constraints() {
    use switchboard::db::lists::KnownValues;
    let db = TestDb::migrated().await;
    let known = KnownValues::load(&db.pool).await.unwrap();
    assert_eq!(known, KnownValues::default());
    sqlx::raw_sql(
        "ALTER TABLE tenants DROP CONSTRAINT tenants_plan_check, \
             ADD CONSTRAINT tenants_plan_check \
             CHECK (plan IN ('system', 'free', 'starter', 'pro', 'enterprise', 'Business')), \
             ADD CONSTRAINT a_plan_not_legacy CHECK (plan <> 'legacy'); \
         ALTER TABLE agents DROP CONSTRAINT agents_agent_type_check;",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    sqlx::raw_sql(
        "INSERT INTO tenants (name, plan) VALUES ('Mixed Case Co', 'Business'), \
             ('Lower Case Co', 'free')",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    let known = KnownValues::load(&db.pool).await.unwrap();
    // The list, not the other constraint on the column (read first, by name); a value typed in
    // any case finds the rows that hold it as the list spells it.
    let business = Filter::parse_known(ListKind::Tenants, "plan:business", &known).unwrap();
    let rows = fetch_page(&db.pool, ListKind::Tenants, &business, &Page::First, 50)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert!(Filter::parse_known(ListKind::Tenants, "plan:free", &known).is_ok());
    let refused = Filter::parse_known(ListKind::Tenants, "plan:gold", &known).unwrap_err();
    assert!(refused.contains("plan:Business"), "{refused}");
    assert!(Filter::parse_known(ListKind::Agents, "type:voice", &known).is_ok());
    assert!(Filter::parse_known(ListKind::Agents, "is:purple", &known).is_err());
    assert!(Filter::parse_known(ListKind::Users, "role:admn", &known).is_err());
}
