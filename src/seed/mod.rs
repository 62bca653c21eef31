//! Data for a database that has none: the deterministic demo data set, and the large data set the
//! benchmark runs on. Both go only into an empty database.

pub mod bench;
pub mod demo;
pub mod legacy;

use crate::db::{DbError, SYSTEM_TENANT};

/// Locks `users` and `tenants` against other writers for the rest of `tx` and refuses unless the
/// database has neither users nor tenants (besides the system tenant): the demo and bench data
/// only go into an empty database. Two seeders at once: the second waits here, then refuses.
pub(crate) async fn require_empty(
    tx: &mut sqlx::Transaction<'static, sqlx::Postgres>,
    what: &str,
) -> Result<(), DbError> {
    crate::db::query("LOCK TABLE users, tenants IN SHARE ROW EXCLUSIVE MODE")
        .execute(&mut **tx)
        .await?;
    let (users, tenants): (i64, i64) = crate::db::query_as(
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
