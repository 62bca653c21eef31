//! `migrate` on databases it did not make: the platform's own (its tables made by plain SQL, with
//! rows, no history) is adopted; one that differs is refused and left exactly as it was; the
//! earlier layout (history in `public._sqlx_migrations`) is carried over; an index left INVALID
//! is rebuilt. (Every other test runs on a database built by adoption: see `common`.)

mod common;

use common::TestDb;
use common::actions::{fixture, session};
use sqlx::PgPool;
use switchboard::actions::{Request, apply};
use switchboard::db::migrate::{self, Action, How, IndexEvent, Layout, MIGRATIONS};
use switchboard::db::{self, DbError, SYSTEM_TENANT};
use uuid::Uuid;

const CUSTOMER: &str = "6b0d8a4e-1c1f-4d5e-9a51-2f1c3a9d0c11";

/// A database the way the platform builds it: `sql` by plain SQL, and rows in its tables.
async fn platform_database(sql: &str) -> TestDb {
    let db = TestDb::empty().await;
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
        .execute(&db.pool)
        .await
        .unwrap();
    let rows = format!(
        "INSERT INTO users (id, email, name, credits, role) VALUES \
             ('{CUSTOMER}', 'cust@example.com', 'Customer One', 120, 'user'); \
         INSERT INTO users (email, name, role) \
             SELECT 'user' || i || '@example.com', 'User ' || i, 'user' FROM generate_series(1, 200) i; \
         INSERT INTO agents (user_id, bolna_agent_id, name, agent_type) \
             VALUES ('{CUSTOMER}', 'bolna-adopted-1', 'Front desk', 'call'); \
         INSERT INTO audit_logs (user_id, action, resource_type, resource_id, new_values) \
             VALUES ('{CUSTOMER}', 'user.created', 'user', '{CUSTOMER}', '{{\"credits\": 120}}');"
    );
    sqlx::raw_sql(sqlx::AssertSqlSafe(rows))
        .execute(&db.pool)
        .await
        .unwrap();
    db
}

fn admin_options(db: &TestDb) -> sqlx::postgres::PgConnectOptions {
    common::server().admin.clone().database(&db.name)
}

async fn count(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_one(pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_platform_database_with_rows_is_adopted_and_actions_work_on_it() {
    let db = platform_database(MIGRATIONS[0].sql).await;
    let p = &db.pool;
    let public_before = count(
        p,
        "SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'v')",
    )
    .await;

    let plan = migrate::plan(p).await.unwrap();
    assert_eq!(plan.layout, Layout::Platform);
    assert!(plan.refusal.is_empty(), "{:?}", plan.refusal);
    let actions: Vec<(i32, Action)> = plan
        .steps
        .iter()
        .map(|s| (s.migration.version, s.action))
        .collect();
    assert_eq!(
        actions,
        [
            (1, Action::Record(How::Adopted)),
            (2, Action::Apply),
            (3, Action::Apply),
            (4, Action::Apply),
            (5, Action::Apply),
            (6, Action::Apply),
            (7, Action::Apply),
            (8, Action::Apply),
            (9, Action::Apply),
            (10, Action::Apply)
        ]
    );

    let mut events = Vec::new();
    let done = migrate::run(p, &mut |e| events.push(e)).await.unwrap();
    let how: Vec<(i64, How)> = done.iter().map(|m| (m.version, m.how)).collect();
    assert_eq!(
        how,
        [
            (1, How::Adopted),
            (2, How::Applied),
            (3, How::Applied),
            (4, How::Applied),
            (5, How::Applied),
            (6, How::Applied),
            (7, How::Applied),
            (8, How::Applied),
            (9, How::Applied),
            (10, How::Applied)
        ]
    );
    let built = events
        .iter()
        .filter(|e| matches!(e, IndexEvent::Built { .. }))
        .count();
    assert_eq!(built, migrate::indexes::statements(MIGRATIONS[4].sql).len());

    // The rows are all there, every user in the system tenant, the key validated.
    assert_eq!(count(p, "SELECT count(*) FROM users").await, 201);
    assert_eq!(
        count(
            p,
            &format!("SELECT count(*) FROM users WHERE tenant_id = '{SYSTEM_TENANT}'")
        )
        .await,
        201
    );
    assert_eq!(
        count(
            p,
            "SELECT count(*) FROM pg_constraint WHERE conname = 'users_tenant_id_fkey' AND convalidated"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            p,
            "SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
             WHERE c.relname LIKE 'idx_%' AND NOT i.indisvalid"
        )
        .await,
        0
    );
    // Of ours in public only tenancy's table (besides indexes on the platform's tables); the
    // console's own objects are in the switchboard schema.
    let public_after = count(
        p,
        "SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'v')",
    )
    .await;
    assert_eq!(public_after, public_before + 1);
    let ours: Vec<String> = sqlx::query_scalar(
        "SELECT relname::text FROM pg_class WHERE relnamespace = 'switchboard'::regnamespace \
         AND relkind = 'r' ORDER BY 1",
    )
    .fetch_all(p)
    .await
    .unwrap();
    assert_eq!(
        ours,
        [
            "audit_archives",
            "audit_chain",
            "audit_chain_pending",
            "idempotency_keys",
            "legacy_ids",
            "migrations",
            "settings"
        ]
    );

    // A second run has nothing to do; actions work on the adopted rows.
    assert!(db::migrate(p).await.unwrap().is_empty());
    let f = fixture(p).await;
    let customer = Uuid::parse_str(CUSTOMER).unwrap();
    apply(
        p,
        &session(&f.super_admin),
        &Request::AdjustCredits {
            user: customer,
            delta: 30,
            reason: "adopted".into(),
            key: Uuid::new_v4(),
        },
    )
    .await
    .unwrap();
    assert_eq!(
        count(
            p,
            &format!("SELECT credits::bigint FROM users WHERE id = '{CUSTOMER}'")
        )
        .await,
        150
    );
}

/// Each difference is refused with a report naming it, and the database is left byte for byte
/// as it was (a pg_dump of schema and data before and after).
#[tokio::test]
async fn a_database_that_differs_is_refused_and_left_as_it_was() {
    let platform = MIGRATIONS[0].sql;
    let cases: [(&str, String, &str); 4] = [
        (
            "a missing column",
            platform.replace("    company                     VARCHAR(255),\n", ""),
            "column users.company (character varying(255)) is missing",
        ),
        (
            "a changed type",
            platform.replace(
                "credits                     INTEGER      NOT NULL DEFAULT 15",
                "credits                     BIGINT       NOT NULL DEFAULT 15",
            ),
            "column users.credits is bigint; the platform schema has integer",
        ),
        (
            "a missing table",
            format!("{platform}\nDROP TABLE twilio_processed_calls;"),
            "table twilio_processed_calls is missing",
        ),
        (
            "half of tenancy",
            format!("{platform}\nCREATE TABLE tenants (id UUID PRIMARY KEY, name TEXT);"),
            "tenancy is half there",
        ),
    ];
    for (what, sql, expected) in cases {
        assert_ne!(sql, platform, "{what}: the case did not change the schema");
        let db = platform_database(&sql).await;
        let before = common::dump(&admin_options(&db));
        let plan = migrate::plan(&db.pool).await.unwrap();
        assert!(
            plan.refusal.iter().any(|r| r.contains(expected)),
            "{what}: {:?}",
            plan.refusal
        );
        let err = db::migrate(&db.pool).await.unwrap_err();
        assert!(
            matches!(&err, DbError::Incompatible(text) if text.contains("nothing was changed")),
            "{what}: {err}"
        );
        let after = common::dump(&admin_options(&db));
        assert!(before == after, "{what}: the database changed");
    }
}

/// Extra tables and columns and a wider type are the platform's business: adopted, noted.
#[tokio::test]
async fn extra_tables_columns_and_wider_types_are_adopted_with_notes() {
    let sql = format!(
        "{}\nALTER TABLE users ADD COLUMN nickname TEXT;\nCREATE TABLE invoices (id INT);\n",
        MIGRATIONS[0].sql.replace(
            "    email                       VARCHAR(255) NOT NULL UNIQUE,",
            "    email                       VARCHAR(320) NOT NULL UNIQUE,",
        )
    );
    let db = platform_database(&sql).await;
    let plan = migrate::plan(&db.pool).await.unwrap();
    assert!(plan.refusal.is_empty(), "{:?}", plan.refusal);
    let notes = plan.findings.unwrap().notes.join("\n");
    for n in [
        "extra column users.nickname",
        "extra table invoices",
        "column users.email is character varying(320); the platform schema has character varying(255) (compatible)",
    ] {
        assert!(notes.contains(n), "{n} not in {notes}");
    }
    db::migrate(&db.pool).await.unwrap();
}

/// A database made by the earlier layout (history in `public._sqlx_migrations`, the console's
/// tables in `public`) carries on: its tables move into the switchboard schema, keeping their
/// rows, and end up as a new installation's.
#[tokio::test]
async fn the_earlier_layout_is_carried_over_with_its_rows() {
    let db = TestDb::empty().await;
    let p = &db.pool;
    for sql in [
        include_str!("fixtures/layout_2026_11/0001_platform_schema.sql"),
        include_str!("fixtures/layout_2026_11/0002_console_indexes.sql"),
        include_str!("fixtures/layout_2026_11/0003_admin_actions.sql"),
    ] {
        sqlx::raw_sql(sql).execute(p).await.unwrap();
    }
    // The history table as sqlx 0.9 made it.
    sqlx::raw_sql(
        "CREATE TABLE _sqlx_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL, \
         installed_on TIMESTAMPTZ NOT NULL DEFAULT now(), success BOOLEAN NOT NULL, \
         checksum BYTEA NOT NULL, execution_time BIGINT NOT NULL); \
         INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (1, 'platform schema', true, '\\x00', 1), (2, 'console indexes', true, '\\x00', 1), \
                (3, 'admin actions', true, '\\x00', 1); \
         UPDATE console_settings SET value = '777' WHERE key = 'admin_credit_cap';",
    )
    .execute(p)
    .await
    .unwrap();
    let key = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO admin_idempotency_keys (key, action, resource_id) VALUES ($1, 'credits.top_up', $1)",
    )
    .bind(key)
    .execute(p)
    .await
    .unwrap();
    // Commands refuse it until it is migrated.
    assert_eq!(
        db::pending_migrations(p).await.unwrap().len(),
        MIGRATIONS.len()
    );

    let done = db::migrate(p).await.unwrap();
    let how: Vec<(i64, How)> = done.iter().map(|m| (m.version, m.how)).collect();
    assert_eq!(
        how,
        [
            (1, How::CarriedOver),
            (2, How::CarriedOver),
            (3, How::CarriedOver),
            (4, How::CarriedOver),
            (5, How::Applied),
            (6, How::Applied),
            (7, How::Applied),
            (8, How::Applied),
            (9, How::Applied),
            (10, How::Applied)
        ]
    );
    assert_eq!(
        count(
            p,
            "SELECT (value #>> '{}')::bigint FROM switchboard.settings WHERE key = 'admin_credit_cap'"
        )
        .await,
        777
    );
    assert_eq!(
        count(
            p,
            &format!("SELECT count(*) FROM switchboard.idempotency_keys WHERE key = '{key}'")
        )
        .await,
        1
    );
    for gone in [
        "public._sqlx_migrations",
        "public.admin_idempotency_keys",
        "public.console_settings",
    ] {
        assert_eq!(
            count(
                p,
                &format!(
                    "SELECT count(*) FROM (SELECT to_regclass('{gone}') r) x WHERE r IS NOT NULL"
                )
            )
            .await,
            0,
            "{gone}"
        );
    }
    // The console's schema is a new installation's: same tables, columns, keys and names.
    let fresh = TestDb::migrated().await;
    let shape = "SELECT string_agg(x, E'\\n' ORDER BY x) FROM ( \
         SELECT c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod) \
                || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END AS x \
         FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped \
         WHERE c.relnamespace = 'switchboard'::regnamespace AND c.relkind = 'r' \
         UNION ALL SELECT conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid) \
         FROM pg_constraint WHERE connamespace = 'switchboard'::regnamespace \
         UNION ALL SELECT 'trigger ' || tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid \
         WHERE c.relnamespace = 'switchboard'::regnamespace AND NOT t.tgisinternal) s";
    let carried: String = sqlx::query_scalar(shape).fetch_one(p).await.unwrap();
    let new: String = sqlx::query_scalar(shape)
        .fetch_one(&fresh.pool)
        .await
        .unwrap();
    assert_eq!(carried, new);

    // And the console's actions work on it.
    let f = fixture(p).await;
    apply(
        p,
        &session(&f.super_admin),
        &Request::AdjustCredits {
            user: f.customer,
            delta: 5,
            reason: "carried over".into(),
            key: Uuid::new_v4(),
        },
    )
    .await
    .unwrap();
}

/// An index left INVALID (an interrupted concurrent build) is dropped and built again; valid
/// ones are kept.
#[tokio::test]
async fn an_invalid_index_is_rebuilt_and_valid_ones_kept() {
    let db = TestDb::migrated().await;
    let p = &db.pool;
    sqlx::raw_sql(
        "UPDATE pg_index SET indisvalid = false \
             WHERE indexrelid = 'public.idx_users_email_id'::regclass; \
         DROP INDEX idx_agents_name_id; \
         DELETE FROM switchboard.migrations WHERE version = 5;",
    )
    .execute(p)
    .await
    .unwrap();
    let pending = db::pending_migrations(p).await.unwrap();
    assert_eq!(pending.len(), 1);
    let mut events = Vec::new();
    migrate::run(p, &mut |e| events.push(e)).await.unwrap();
    assert!(events.contains(&IndexEvent::DroppedInvalid {
        index: "idx_users_email_id".into()
    }));
    let built: Vec<String> = events
        .iter()
        .filter_map(|e| match e {
            IndexEvent::Built { index, .. } => Some(index.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(built, ["idx_users_email_id", "idx_agents_name_id"]);
    let kept = events
        .iter()
        .filter(|e| matches!(e, IndexEvent::Kept { .. }))
        .count();
    assert_eq!(kept, migrate::indexes::to_run(&MIGRATIONS[4]).len() - 2);
    assert_eq!(
        count(
            p,
            "SELECT count(*) FROM pg_index WHERE indexrelid = 'public.idx_users_email_id'::regclass AND indisvalid"
        )
        .await,
        1
    );
}
