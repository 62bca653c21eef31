//! Working as behind a transaction pooler (`--pooler transaction`): the session's settings hold
//! inside every transaction and nothing of them, nor a prepared statement, stays on the server
//! connection; read-only is enforced; `migrate` refuses. (Its own binary: the mode is
//! process-wide. CI also runs the action tests through a PgBouncer in transaction mode.)

#[macro_use]
mod common;

use std::time::Duration;

use common::TestDb;
use common::cli::{Cli, stderr};
use sqlx::Row;
use switchboard::db;
use switchboard::db::connect::{PoolSettings, Pooling, open_url};

#[tokio::test]
async fn settings_are_local_to_each_transaction_and_read_only_holds() {
    let db = TestDb::migrated().await;
    let conn = open_url(
        &db.url(),
        PoolSettings {
            read_only: true,
            statement_timeout: Some(Duration::from_millis(300)),
            pooling: Pooling::Transaction,
            ..PoolSettings::default()
        },
    )
    .await
    .unwrap();
    assert!(db::pooler::transaction_pooler());
    assert!(conn.read_only, "read-only was not verified");
    let p = &conn.pool;

    let (jit, read_only): (String, String) =
        db::query_as("SELECT current_setting('jit'), current_setting('transaction_read_only')")
            .fetch_one(&mut *db::pinned(p).await.unwrap())
            .await
            .unwrap();
    assert_eq!((jit.as_str(), read_only.as_str()), ("off", "on"));

    let e = db::query("SELECT pg_sleep(3)")
        .execute(&mut *db::pinned(p).await.unwrap())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("statement timeout"), "{e}");

    let mut tx = db::begin(p).await.unwrap();
    let e = db::query("INSERT INTO tenants (name) VALUES ('Sneaky')")
        .execute(&mut *tx)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, sqlx::Error::Database(d) if d.code().as_deref() == Some("25006")),
        "{e}"
    );
    drop(tx);

    // Outside a transaction the connection holds none of it, and no prepared statement. Asked
    // in the simple protocol: one round trip, so a pooler cannot hand the server to another
    // client between a Parse and its Bind (an unnamed statement outside a transaction could be
    // lost that way, which is why the console never sends one).
    let mut raw = p.acquire().await.unwrap();
    let row = sqlx::raw_sql(
        "SELECT current_setting('jit'), current_setting('default_transaction_read_only'), \
                (SELECT count(*) FROM pg_prepared_statements)",
    )
    .fetch_one(&mut *raw)
    .await
    .unwrap();
    let left: (String, String, i64) = (row.get(0), row.get(1), row.get(2));
    assert_eq!(left, ("on".to_string(), "off".to_string(), 0));
    raw.close().await.unwrap();
}

#[tokio::test]
async fn migrate_refuses_a_transaction_pooler() {
    let db = TestDb::empty().await;
    let cli = Cli::on(&db);
    let out = cli.run(&["--pooler", "transaction", "migrate"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("migrate needs a session of its own"),
        "{}",
        stderr(&out)
    );
    let tables: i64 = sql!(
        &db.pool,
        db::query_scalar("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"),
        fetch_one
    )
    .unwrap();
    assert_eq!(tables, 0);
}
