//! `audit_logs` partitioned by month on created_at: made by `migrate --partition-audit monthly`
//! (rows, keys, indexes, triggers and grants kept), or built so by the platform and adopted (the
//! console's indexes built per partition and attached). The console's pages, filters, export,
//! verify, archive (whole partitions dropped) and chain work on it unchanged.

#[macro_use]
mod common;

use chrono::{Datelike, Utc};
use common::TestDb;
use common::actions::{concurrent_top_ups, fixture, session};
use common::cli::{Cli, stdout};
use sqlx::PgPool;
use switchboard::db::check::partitioning;
use switchboard::db::export::{Format, export_audit};
use switchboard::db::lists::{Filter, ListKind, Page, fetch_page};
use switchboard::db::migrate::partition::{partition_audit_monthly, partition_name};
use switchboard::seed::demo;
use uuid::Uuid;

async fn ids_in_order(pool: &PgPool, condition: &'static str) -> Vec<Uuid> {
    let sql =
        format!("SELECT id FROM audit_logs WHERE {condition} ORDER BY created_at DESC, id DESC");
    sql!(
        pool,
        switchboard::db::query_scalar(sqlx::AssertSqlSafe(sql)),
        fetch_all
    )
    .unwrap()
}

/// Every row of the Audit log pane under `filter`, walking forward then backward.
async fn walk_both_ways(pool: &PgPool, filter: &str) -> (Vec<Uuid>, Vec<Uuid>) {
    let f = Filter::parse(ListKind::AuditLog, filter).unwrap();
    let mut forward = Vec::new();
    let mut page = Page::First;
    loop {
        let rows = fetch_page(pool, ListKind::AuditLog, &f, &page, 7)
            .await
            .unwrap();
        forward.extend(rows.iter().map(|r| r.id));
        match rows.last() {
            Some(last) if rows.len() == 7 => page = Page::After(last.key.clone()),
            _ => break,
        }
    }
    let mut backward = Vec::new();
    let mut page = Page::Last;
    loop {
        let rows = fetch_page(pool, ListKind::AuditLog, &f, &page, 7)
            .await
            .unwrap();
        let mut chunk: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
        chunk.append(&mut backward);
        backward = chunk;
        match rows.first() {
            Some(first) if rows.len() == 7 => page = Page::Before(first.key.clone()),
            _ => break,
        }
    }
    (forward, backward)
}

async fn sqlstate(pool: &PgPool, sql: &'static str) -> Option<String> {
    match sql!(pool, switchboard::db::query(sql), execute) {
        Ok(_) => None,
        Err(sqlx::Error::Database(d)) => d.code().map(|c| c.to_string()),
        Err(e) => panic!("{e}"),
    }
}

fn this_month() -> String {
    partition_name(Utc::now().date_naive().with_day(1).unwrap())
}

#[tokio::test]
async fn a_monthly_partitioned_audit_log_pages_filters_exports_and_verifies_as_before() {
    let db = TestDb::migrated().await;
    demo::seed_demo(&db.pool, Utc::now()).await.unwrap();
    let total_before: i64 = sql!(
        &db.pool,
        switchboard::db::query_scalar("SELECT count(*) FROM audit_logs"),
        fetch_one
    )
    .unwrap();

    // A view on it refuses the conversion before anything is copied, naming it.
    let setup = |sql: &'static str| {
        let pool = db.pool.clone();
        async move { sql!(&pool, switchboard::db::query(sql), execute).unwrap() }
    };
    setup("CREATE VIEW recent_audit AS SELECT id FROM audit_logs").await;
    let refused = partition_audit_monthly(&db.pool)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        refused.contains("a view that reads it (recent_audit)") && refused.contains("nothing"),
        "{refused}"
    );
    setup("DROP VIEW recent_audit").await;
    // Grants to a role whose name needs quoting, a column grant and a grant option come along.
    setup("DO $$ BEGIN CREATE ROLE \"Audit-Reader\"; EXCEPTION WHEN duplicate_object THEN NULL; END $$").await;
    setup("GRANT SELECT ON audit_logs TO \"Audit-Reader\" WITH GRANT OPTION").await;
    setup("GRANT UPDATE (user_agent) ON audit_logs TO \"Audit-Reader\"").await;

    let done = partition_audit_monthly(&db.pool).await.unwrap();
    assert!(done.converted);
    assert_eq!(done.rows_moved, total_before);
    let grants: (bool, bool, bool) = sql!(
        &db.pool,
        switchboard::db::query_as(
            "SELECT has_table_privilege('Audit-Reader', 'audit_logs', 'SELECT WITH GRANT OPTION'), \
                    has_column_privilege('Audit-Reader', 'audit_logs', 'user_agent', 'UPDATE'), \
                    has_column_privilege('Audit-Reader', 'audit_logs', 'action', 'UPDATE')"
        ),
        fetch_one
    )
    .unwrap();
    assert_eq!(grants, (true, true, false));
    assert!(done.added.contains(&this_month()), "{done:?}");
    assert!(done.added.contains(&"audit_logs_default".to_string()));
    let mut conn = db.pool.acquire().await.unwrap();
    let p = partitioning(&mut conn).await.unwrap().expect("partitioned");
    drop(conn);
    assert_eq!(p.key, "RANGE (created_at)");
    assert_eq!(p.partitions, done.partitions);
    assert!(p.next_month_ready && p.default_rows == Some(0), "{p:?}");
    // A second run adds nothing.
    let again = partition_audit_monthly(&db.pool).await.unwrap();
    assert!(!again.converted && again.added.is_empty(), "{again:?}");

    // Pages walk the whole log in order, either way, filtered or not.
    for (filter, condition) in [
        ("", "true"),
        ("action:credits.", "action LIKE 'credits.%'"),
        ("type:user", "resource_type = 'user'"),
    ] {
        let want = ids_in_order(&db.pool, condition).await;
        assert!(!want.is_empty(), "{filter}");
        let (forward, backward) = walk_both_ways(&db.pool, filter).await;
        assert_eq!(forward, want, "forward, {filter:?}");
        assert_eq!(backward, want, "backward, {filter:?}");
    }
    let mut out = Vec::new();
    let rows = export_audit(
        &db.pool,
        &Filter::default(),
        Format::Jsonl,
        &mut out,
        &mut |_| {},
    )
    .await
    .unwrap();
    assert_eq!(rows as i64, total_before);

    // Append-only on the parent and on each partition, TRUNCATE included.
    for sql in [
        "UPDATE audit_logs SET action = 'x'",
        "DELETE FROM audit_logs",
        "TRUNCATE audit_logs",
        "TRUNCATE audit_logs_default",
    ] {
        assert_eq!(
            sqlstate(&db.pool, sql).await.as_deref(),
            Some("42501"),
            "{sql}"
        );
    }
    let partition = this_month();
    let truncate = format!("TRUNCATE {partition}");
    let refused = sql!(
        &db.pool,
        switchboard::db::query(sqlx::AssertSqlSafe(truncate)),
        execute
    );
    assert!(refused.is_err(), "TRUNCATE of a partition went through");
}

#[tokio::test]
async fn an_archive_drops_the_partitions_its_range_covers_and_the_chain_goes_on() {
    let db = TestDb::migrated().await;
    let f = fixture(&db.pool).await;
    // Old entries, written outside the console, 200 and 100 days ago: their months get
    // partitions when the table is converted.
    sql!(
        &db.pool,
        switchboard::db::query(
            "INSERT INTO audit_logs (action, resource_type, created_at) \
             SELECT 'platform.old', 'user', now() - make_interval(days => d) \
             FROM unnest(ARRAY[200, 200, 199, 100, 101]) d"
        ),
        execute
    )
    .unwrap();
    partition_audit_monthly(&db.pool).await.unwrap();
    // Concurrent writers chain onto the partitioned table without a fork.
    concurrent_top_ups(&db.pool, &f.super_admin, f.customer, 4, 25, 1).await;
    let report = switchboard::db::verify::verify(&db.pool, None, &mut |_| {})
        .await
        .unwrap();
    assert!(report.ok() && report.links >= 100, "{report:#?}");
    let partitions = |pool: PgPool| async move {
        sql!(
            &pool,
            switchboard::db::query_scalar::<String>(
                "SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid \
                 WHERE i.inhparent = 'audit_logs'::regclass ORDER BY 1"
            ),
            fetch_all
        )
        .unwrap()
    };
    let before_archive = partitions(db.pool.clone()).await;
    let oldest = partition_name(
        (Utc::now() - chrono::Duration::days(200))
            .date_naive()
            .with_day(1)
            .unwrap(),
    );
    assert!(before_archive.contains(&oldest), "{before_archive:?}");

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("old.jsonl");
    let cut = Utc::now() - chrono::Duration::days(50);
    let done =
        switchboard::actions::archive::archive(&db.pool, &session(&f.super_admin), cut, &file)
            .await
            .unwrap();
    assert_eq!(done.outside, 5);
    let after = partitions(db.pool.clone()).await;
    assert!(!after.contains(&oldest), "{after:?}");
    assert!(after.contains(&this_month()) && after.len() < before_archive.len());
    let left: i64 = sql!(
        &db.pool,
        switchboard::db::query_scalar(
            "SELECT count(*) FROM audit_logs WHERE action = 'platform.old'"
        ),
        fetch_one
    )
    .unwrap();
    assert_eq!(left, 0);
    let report = switchboard::db::verify::verify(&db.pool, None, &mut |_| {})
        .await
        .unwrap();
    assert!(report.ok(), "{report:#?}");
}

#[tokio::test]
async fn a_platform_built_partitioned_audit_log_is_adopted_and_indexed_per_partition() {
    let db = TestDb::empty().await;
    let mut conn = db.pool.acquire().await.unwrap();
    sqlx::raw_sql(switchboard::db::migrate::MIGRATIONS[0].sql)
        .execute(&mut *conn)
        .await
        .unwrap();
    // As the platform partitions it: its own names (pg_partman's style), its own key.
    sqlx::raw_sql(
        "ALTER TABLE audit_logs RENAME TO audit_logs_old; \
         CREATE TABLE audit_logs (LIKE audit_logs_old INCLUDING DEFAULTS INCLUDING CONSTRAINTS) \
             PARTITION BY RANGE (created_at); \
         ALTER TABLE audit_logs ADD PRIMARY KEY (id, created_at); \
         ALTER TABLE audit_logs ADD FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE SET NULL; \
         DROP TABLE audit_logs_old; \
         CREATE TABLE audit_logs_p20200101 PARTITION OF audit_logs \
             FOR VALUES FROM ('2020-01-01') TO ('2100-01-01'); \
         CREATE TABLE audit_logs_default PARTITION OF audit_logs DEFAULT; \
         INSERT INTO audit_logs (action, resource_type) VALUES ('platform.test', 'user')",
    )
    .execute(&mut *conn)
    .await
    .unwrap();
    drop(conn);
    let plan = switchboard::db::migrate::plan(&db.pool).await.unwrap();
    assert!(plan.refusal.is_empty(), "{:?}", plan.refusal);
    switchboard::db::migrate(&db.pool).await.unwrap();
    // Every console index on the parent is valid, with one attached per partition.
    let indexes: Vec<(String, bool, i64)> = sql!(
        &db.pool,
        switchboard::db::query_as(
            "SELECT c.relname::text, i.indisvalid, \
                    (SELECT count(*) FROM pg_inherits h WHERE h.inhparent = c.oid) \
             FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
             WHERE i.indrelid = 'audit_logs'::regclass AND c.relname LIKE 'idx_%' ORDER BY 1"
        ),
        fetch_all
    )
    .unwrap();
    assert_eq!(indexes.len(), 5, "{indexes:?}");
    assert!(
        indexes
            .iter()
            .all(|(_, valid, parts)| *valid && *parts == 2),
        "{indexes:?}"
    );
    // Its own scheme is left alone: no month is added where its partition covers it.
    let done = partition_audit_monthly(&db.pool).await.unwrap();
    assert!(!done.converted && done.added.is_empty(), "{done:?}");
    let (forward, _) = walk_both_ways(&db.pool, "").await;
    assert_eq!(forward.len(), 1);
}

#[tokio::test]
async fn migrate_offers_it_and_check_recognises_it() {
    let db = TestDb::migrated().await;
    let c = Cli::seeded(&db).await;
    let out = c.run(&["migrate", "--partition-audit", "monthly"]);
    assert!(out.status.success(), "{}", common::cli::stderr(&out));
    let text = common::cli::stderr(&out) + &stdout(&out);
    assert!(
        text.contains("audit_logs is now partitioned by month on created_at"),
        "{text}"
    );
    let out = c.run(&["check"]);
    let text = stdout(&out);
    assert!(
        text.contains("Audit log partitioned by RANGE (created_at) into")
            && text.contains("monthly through "),
        "{text}"
    );
    let others = text
        .lines()
        .find(|l| l.starts_with("Other tables"))
        .unwrap_or_default();
    assert!(
        !others.contains("audit_logs_"),
        "partitions listed as tables:\n{text}"
    );
    assert_eq!(out.status.code(), Some(0), "{text}");
    let out = c.run(&["check", "--json"]);
    let report = common::cli::json(&out);
    assert_eq!(
        report["audit_trail"]["partitioning"]["key"],
        "RANGE (created_at)"
    );
}
