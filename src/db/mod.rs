//! Everything that talks to PostgreSQL. Nothing here knows about the terminal.

pub mod check;
pub mod connect;
pub mod details;
pub mod export;
pub mod filter;
pub mod grants;
pub mod lists;
pub mod pg;
pub mod pgpass;

use std::collections::HashSet;

use sqlx::PgPool;

use crate::MIGRATOR;

/// The system tenant of schema-mapping-guide.md: shared resources and platform staff.
pub const SYSTEM_TENANT: uuid::Uuid = uuid::Uuid::nil();

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The URL did not parse; the text is already redacted.
    #[error("invalid database URL {0}: {1}")]
    BadUrl(String, String),
    #[error("{}", sqlx_text(.0))]
    Sqlx(#[from] sqlx::Error),
    #[error("applying migrations: {}", migrate_text(.0))]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The operation is refused; the text says why and what to do instead.
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Pg(#[from] pg::PgError),
}

impl DbError {
    /// The error in one line for a person: no SQL, no password, no advice (each front end adds
    /// its own: the console retries, the command line exits).
    pub fn brief(&self) -> String {
        let text = match self {
            DbError::Sqlx(sqlx::Error::Database(d)) if d.code().as_deref() == Some("57014") => {
                "query cancelled".to_string()
            }
            DbError::Sqlx(sqlx::Error::Database(d)) if d.code().as_deref() == Some("42501") => {
                format!(
                    "the database role Switchboard connects as lacks a privilege for this ({})",
                    d.message()
                )
            }
            DbError::Sqlx(sqlx::Error::PoolTimedOut) => {
                "database unreachable (timed out waiting for a connection)".to_string()
            }
            DbError::Sqlx(sqlx::Error::Io(io)) => format!("database connection lost: {io}"),
            other => other.to_string(),
        };
        text.lines().next().unwrap_or_default().to_string()
    }
}

/// A driver error in words: the server's own message, without the driver's "error returned
/// from database:" prefix or its "at line N" suffix (a line of the server's C source, which
/// only misleads a reader looking for it in their SQL).
fn sqlx_text(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(d) => match d.code().as_deref() {
            // invalid_password
            Some("28P01") => format!(
                "{}: check the password in the URL, PGPASSWORD or ~/.pgpass (PGPASSFILE)",
                d.message()
            ),
            _ => d.message().to_string(),
        },
        other => other.to_string(),
    }
}

fn migrate_text(e: &sqlx::migrate::MigrateError) -> String {
    use sqlx::migrate::MigrateError;
    match e {
        MigrateError::Execute(inner) => sqlx_text(inner),
        MigrateError::ExecuteMigration(inner, version) => {
            format!("migration {version}: {}", sqlx_text(inner))
        }
        other => other.to_string(),
    }
}

/// A migration as the `migrate` command reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationInfo {
    pub version: i64,
    pub description: String,
}

/// Versions recorded as applied in `_sqlx_migrations` (none on an empty database).
async fn applied_versions(pool: &PgPool) -> Result<HashSet<i64>, DbError> {
    let table_exists: bool =
        sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
            .fetch_one(pool)
            .await?;
    if !table_exists {
        return Ok(HashSet::new());
    }
    let versions: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
            .fetch_all(pool)
            .await?;
    Ok(versions.into_iter().collect())
}

/// The embedded migrations not yet applied to the database.
pub async fn pending_migrations(pool: &PgPool) -> Result<Vec<MigrationInfo>, DbError> {
    let applied = applied_versions(pool).await?;
    Ok(MIGRATOR
        .iter()
        .filter(|m| m.migration_type.is_up_migration() && !applied.contains(&m.version))
        .map(|m| MigrationInfo {
            version: m.version,
            description: m.description.to_string(),
        })
        .collect())
}

/// Applies pending migrations and returns the ones this call applied. Concurrent runs take
/// turns from "what is pending" to "what was applied" (a lock of this database held on a
/// connection of its own), so a second run finds nothing left and says so.
pub async fn migrate(pool: &PgPool) -> Result<Vec<MigrationInfo>, DbError> {
    const LOCK: &str = "hashtext('switchboard.migrate')";
    let mut turn = pool.acquire().await?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT pg_advisory_lock({LOCK})"
    )))
    .execute(&mut *turn)
    .await?;
    let result: Result<Vec<MigrationInfo>, DbError> = async {
        let pending = pending_migrations(pool).await?;
        MIGRATOR.run(pool).await?;
        let applied = applied_versions(pool).await?;
        Ok(pending
            .into_iter()
            .filter(|m| applied.contains(&m.version))
            .collect())
    }
    .await;
    let unlocked = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT pg_advisory_unlock({LOCK})"
    )))
    .execute(&mut *turn)
    .await;
    // A failed migration's own error comes first.
    let applied = result?;
    unlocked?;
    Ok(applied)
}
