//! Everything that talks to PostgreSQL. Nothing here knows about the terminal.

pub mod bench;
pub mod connect;
pub mod demo;
pub mod details;
pub mod export;
pub mod lists;
pub mod pg;

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
    #[error(transparent)]
    Sqlx(#[from] sqlx::Error),
    #[error("applying migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The operation is refused; the text says why and what to do instead.
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Pg(#[from] pg::PgError),
}

/// Locks `users` and `tenants` against other writers for the rest of `tx` and refuses unless the
/// database has neither users nor tenants (besides the system tenant): the demo and bench data
/// only go into an empty database. Two seeders at once: the second waits here, then refuses.
pub(crate) async fn require_empty(
    tx: &mut sqlx::Transaction<'static, sqlx::Postgres>,
    what: &str,
) -> Result<(), DbError> {
    sqlx::query("LOCK TABLE users, tenants IN SHARE ROW EXCLUSIVE MODE")
        .execute(&mut **tx)
        .await?;
    let (users, tenants): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM tenants WHERE id <> $1)",
    )
    .bind(SYSTEM_TENANT)
    .fetch_one(&mut **tx)
    .await?;
    if users > 0 || tenants > 0 {
        return Err(DbError::Refused(format!(
            "this database already has {users} users and {tenants} tenants; {what} only goes \
             into an empty database, so nothing was written"
        )));
    }
    Ok(())
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

/// Applies pending migrations (sqlx serialises concurrent runs with an advisory lock) and returns
/// the ones this call applied.
pub async fn migrate(pool: &PgPool) -> Result<Vec<MigrationInfo>, DbError> {
    let pending = pending_migrations(pool).await?;
    MIGRATOR.run(pool).await?;
    let applied = applied_versions(pool).await?;
    Ok(pending
        .into_iter()
        .filter(|m| applied.contains(&m.version))
        .collect())
}
