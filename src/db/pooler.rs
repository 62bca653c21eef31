//! How every statement reaches the server, so that it works through a transaction pooler too
//! (PgBouncer's `pool_mode = transaction`, before 1.21 without prepared statements; Supabase's
//! pooler on port 6543). Such a pooler lends a client a server for one transaction at a time, and
//! another client may get that server next. With `--pooler transaction`:
//!
//! - statements are sent unnamed ([`query`], [`query_as`], [`query_scalar`]), never kept
//!   prepared: a named one would be left on a server another client gets (`prepared statement
//!   "sqlx_s_1" already exists`) and be missing on the next server this client gets;
//! - no statement is sent outside a transaction: the driver sends an unnamed statement's Parse
//!   and its Bind in two round trips, and between them the pooler may hand the server to someone
//!   else. [`pinned`] gives a connection inside a transaction, [`begin`] a transaction;
//! - the session's settings (`jit`, `statement_timeout`, read-only) are `SET LOCAL` at the start
//!   of each transaction, since a `SET` would stay on a server other clients use next.
//!
//! Without a transaction pooler statements are prepared and kept as usual, [`pinned`] is a
//! plain connection, and the settings are SET once per connection.

use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};

use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::query::{Query, QueryAs, QueryScalar};
use sqlx::{FromRow, PgConnection, PgPool, Postgres, SqlSafeStr, Transaction};

use super::DbError;

static TRANSACTION_POOLER: AtomicBool = AtomicBool::new(false);

/// The session settings of each pool opened for a transaction pooler, by pool: its connect
/// options, which a pool keeps for its life. Held weakly: a dropped pool's entry is dead, and
/// its address cannot be taken by a new pool while the entry holds the allocation.
type Options = sqlx::postgres::PgConnectOptions;
static LOCAL_SETTINGS: Mutex<Vec<(Weak<Options>, Vec<String>)>> = Mutex::new(Vec::new());

/// Whether this process talks to its database through a transaction pooler.
pub fn transaction_pooler() -> bool {
    TRANSACTION_POOLER.load(Ordering::Relaxed)
}

/// Says that this process talks to its database through a transaction pooler (a process
/// talks to one database).
pub fn use_transaction_pooler() {
    TRANSACTION_POOLER.store(true, Ordering::Relaxed);
}

fn same_pool(entry: &Weak<Options>, options: &Arc<Options>) -> bool {
    entry.strong_count() > 0 && std::ptr::eq(entry.as_ptr(), Arc::as_ptr(options))
}

/// Records the settings (`name = value`) each transaction of `pool` starts with.
pub(crate) fn set_local_settings(pool: &PgPool, settings: Vec<String>) {
    let options = pool.connect_options();
    let mut all = LOCAL_SETTINGS.lock().unwrap_or_else(|e| e.into_inner());
    all.retain(|(p, _)| p.strong_count() > 0 && !same_pool(p, &options));
    all.push((Arc::downgrade(&options), settings));
}

fn local_settings(pool: &PgPool) -> Vec<String> {
    let options = pool.connect_options();
    let all = LOCAL_SETTINGS.lock().unwrap_or_else(|e| e.into_inner());
    all.iter()
        .find(|(p, _)| same_pool(p, &options))
        .map(|(_, s)| s.clone())
        .unwrap_or_default()
}

/// Whether statements are kept prepared (not behind a transaction pooler): for statements
/// built otherwise than by the functions below (`QueryBuilder`).
pub fn prepared() -> bool {
    !transaction_pooler()
}

/// `sqlx::query`, unnamed behind a transaction pooler.
pub fn query<'q>(sql: impl SqlSafeStr) -> Query<'q, Postgres, PgArguments> {
    sqlx::query(sql).persistent(!transaction_pooler())
}

/// `sqlx::query_as`, unnamed behind a transaction pooler.
pub fn query_as<'q, O>(sql: impl SqlSafeStr) -> QueryAs<'q, Postgres, O, PgArguments>
where
    O: for<'r> FromRow<'r, PgRow>,
{
    sqlx::query_as(sql).persistent(!transaction_pooler())
}

/// `sqlx::query_scalar`, unnamed behind a transaction pooler.
pub fn query_scalar<'q, O>(sql: impl SqlSafeStr) -> QueryScalar<'q, Postgres, O, PgArguments>
where
    (O,): for<'r> FromRow<'r, PgRow>,
{
    sqlx::query_scalar(sql).persistent(!transaction_pooler())
}

/// A connection for a statement or a few: behind a transaction pooler, inside a transaction
/// (rolled back when dropped: use [`begin`] for changes).
pub enum Pinned {
    Plain(PoolConnection<Postgres>),
    InTransaction(Transaction<'static, Postgres>),
}

impl Deref for Pinned {
    type Target = PgConnection;
    fn deref(&self) -> &PgConnection {
        match self {
            Pinned::Plain(c) => c,
            Pinned::InTransaction(t) => t,
        }
    }
}

impl DerefMut for Pinned {
    fn deref_mut(&mut self) -> &mut PgConnection {
        match self {
            Pinned::Plain(c) => c,
            Pinned::InTransaction(t) => t,
        }
    }
}

/// A connection of `pool` to read with (see [`Pinned`]).
pub async fn pinned(pool: &PgPool) -> Result<Pinned, DbError> {
    if transaction_pooler() {
        Ok(Pinned::InTransaction(begin(pool).await?))
    } else {
        Ok(Pinned::Plain(pool.acquire().await?))
    }
}

/// Runs `statement` (a `SET LOCAL` the role may not be allowed, say) in a savepoint of the
/// transaction on `conn`: `true` if it took effect, `false` if it was refused, the transaction
/// then as it was.
pub async fn try_in_savepoint(
    conn: &mut PgConnection,
    statement: &'static str,
) -> Result<bool, DbError> {
    query("SAVEPOINT sb_try").execute(&mut *conn).await?;
    let took = query(statement).execute(&mut *conn).await.is_ok();
    let end = if took {
        "RELEASE SAVEPOINT sb_try"
    } else {
        "ROLLBACK TO SAVEPOINT sb_try"
    };
    query(end).execute(&mut *conn).await?;
    Ok(took)
}

/// `pool.begin()`, with the session's settings `SET LOCAL` first behind a transaction pooler.
pub async fn begin(pool: &PgPool) -> Result<Transaction<'static, Postgres>, DbError> {
    let mut tx = pool.begin().await?;
    if transaction_pooler() {
        let settings = local_settings(pool);
        if !settings.is_empty() {
            // Constants of `connect`, no input: nothing to bind. One round trip.
            let sql = settings
                .iter()
                .map(|s| format!("SET LOCAL {s}"))
                .collect::<Vec<_>>()
                .join("; ");
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                .execute(&mut *tx)
                .await?;
        }
    }
    Ok(tx)
}

/// A read-only, repeatable-read transaction with no statement time limit: one consistent
/// snapshot for a walk over the whole audit log (an export, `verify`), however long it runs.
pub async fn long_snapshot(pool: &PgPool) -> Result<Transaction<'static, Postgres>, DbError> {
    let mut tx = begin(pool).await?;
    query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *tx)
        .await?;
    // The session's statement timeout is for the console's short queries, not for these.
    query("SET LOCAL statement_timeout = 0")
        .execute(&mut *tx)
        .await?;
    Ok(tx)
}
