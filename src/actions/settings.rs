//! Settings only a super_admin changes, kept in the database so that no admin can raise them
//! from their own machine: the admins' credit cap.

use serde_json::json;

use super::rules::Change;
use super::{ActionError, DEFAULT_ADMIN_CREDIT_CAP, Tx};
use crate::db::DbError;

/// The most an admin may add or take in one credit change, as the database says now.
pub async fn credit_cap<'e, E>(executor: E) -> Result<i64, ActionError>
where
    E: sqlx::PgExecutor<'e>,
{
    let cap: Option<i64> = crate::db::query_scalar(
        "SELECT (value #>> '{}')::bigint FROM switchboard.settings WHERE key = 'admin_credit_cap'",
    )
    .fetch_optional(executor)
    .await
    .map_err(DbError::from)?;
    Ok(cap.unwrap_or(DEFAULT_ADMIN_CREDIT_CAP))
}

/// Sets the cap from `from` (what the admin saw) to `to`.
pub(super) async fn set_credit_cap(tx: &mut Tx, from: i64, to: i64) -> Result<Change, ActionError> {
    if from == to {
        return Ok(Change::unchanged());
    }
    let done = crate::db::query(
        "UPDATE switchboard.settings SET value = to_jsonb($2::bigint), updated_at = now() \
         WHERE key = 'admin_credit_cap' AND value = to_jsonb($1::bigint)",
    )
    .bind(from)
    .bind(to)
    .execute(&mut **tx)
    .await
    .map_err(DbError::from)?
    .rows_affected();
    if done == 0 {
        let now = credit_cap(&mut **tx).await?;
        if now == to {
            return Ok(Change::unchanged());
        }
        return Err(ActionError::Conflict {
            what: "credit cap".into(),
            current: json!({ "admin_credit_cap": now }),
        });
    }
    Ok(Change::done(
        json!({ "admin_credit_cap": from }),
        json!({ "admin_credit_cap": to }),
    ))
}
