//! Credits: top-ups and deductions in one statement, applied once per idempotency key.

use serde_json::{Value, json};
use uuid::Uuid;

use super::rules::{
    CHANGING_CREDITS, Change, explain_db_error, lock_user, own_credits, require_rank_over,
};
use super::settings::credit_cap;
use super::{ActionError, Applied, Role, Tx};
use crate::db::DbError;

/// Adds `delta` (negative to deduct) to `user`'s balance, never below zero, once per `key`.
#[allow(clippy::too_many_arguments)]
pub(super) async fn adjust(
    tx: &mut Tx,
    me: Uuid,
    role: Role,
    action: &str,
    user: Uuid,
    delta: i64,
    reason: &str,
    key: Uuid,
) -> Result<Change, ActionError> {
    if user == me {
        return Err(own_credits());
    }
    let target = lock_user(tx, user).await?;
    require_rank_over(role, target, CHANGING_CREDITS)?;
    let cap = credit_cap(&mut **tx).await?;
    if role < Role::SuperAdmin && delta.abs() > cap {
        return Err(ActionError::Forbidden(format!(
            "admins may change credits by at most {} at a time; {} needs a super_admin",
            crate::numbers::thousands(cap),
            crate::numbers::thousands(delta.abs())
        )));
    }
    let fresh: Option<Uuid> = crate::db::query_scalar(
        "INSERT INTO switchboard.idempotency_keys (key, action, resource_id) VALUES ($1, $2, $3) \
         ON CONFLICT (key) DO NOTHING RETURNING key",
    )
    .bind(key)
    .bind(action)
    .bind(user)
    .fetch_optional(&mut **tx)
    .await
    .map_err(DbError::from)?;
    if fresh.is_none() {
        // The key was used: for this very change (a retry) or, wrongly, for another. The whole
        // change is compared (action, user, amount, reason), through the audit row the key
        // points at.
        let (used_for, resource, old, new): (String, Uuid, Option<Value>, Option<Value>) =
            crate::db::query_as(
                "SELECT k.action, k.resource_id, a.old_values, a.new_values \
                 FROM switchboard.idempotency_keys k LEFT JOIN audit_logs a ON a.id = k.audit_log_id \
                 WHERE k.key = $1",
            )
            .bind(key)
            .fetch_one(&mut **tx)
            .await
            .map_err(DbError::from)?;
        let credits = |v: &Option<Value>| v.as_ref().and_then(|v| v["credits"].as_i64());
        let applied_delta = credits(&new).zip(credits(&old)).map(|(n, o)| n - o);
        let applied_reason = new.as_ref().and_then(|v| v["reason"].as_str());
        let same = used_for == action
            && resource == user
            && applied_delta == Some(delta)
            && applied_reason == Some(reason);
        if !same {
            return Err(ActionError::Invalid(format!(
                "the idempotency key {key} was used for another change ({used_for}{}); \
                 nothing was written",
                match applied_delta {
                    Some(d) => format!(" of {d}"),
                    None => String::new(),
                }
            )));
        }
        return Ok(Change {
            old: None,
            new: None,
            resource_id: None,
            status: Applied::AlreadyApplied,
        });
    }
    // One statement: concurrent changes queue on the row, none is lost, and a deduction
    // re-checks the balance it finds after waiting.
    let balance: Option<i64> = crate::db::query_scalar(
        "UPDATE users SET credits = credits + $2 WHERE id = $1 AND credits + $2 >= 0 \
         RETURNING credits::bigint",
    )
    .bind(user)
    .bind(delta as i32)
    .fetch_optional(&mut **tx)
    .await
    .map_err(|e| explain_db_error(e, "credits"))?;
    match balance {
        Some(new) => Ok(Change::done(
            json!({"credits": new - delta}),
            json!({"credits": new, "reason": reason}),
        )),
        None => {
            let balance: Option<i64> =
                crate::db::query_scalar("SELECT credits::bigint FROM users WHERE id = $1")
                    .bind(user)
                    .fetch_optional(&mut **tx)
                    .await
                    .map_err(DbError::from)?;
            match balance {
                None => Err(ActionError::NotFound(format!(
                    "the user {user} no longer exists"
                ))),
                Some(balance) => Err(ActionError::Insufficient {
                    balance,
                    amount: -delta,
                }),
            }
        }
    }
}

/// After the audit row: the key points at it, so a retry can say which entry applied it.
pub(super) async fn link_key(tx: &mut Tx, key: Uuid, audit_id: Uuid) -> Result<(), ActionError> {
    crate::db::query("UPDATE switchboard.idempotency_keys SET audit_log_id = $2 WHERE key = $1")
        .bind(key)
        .bind(audit_id)
        .execute(&mut **tx)
        .await
        .map_err(DbError::from)?;
    Ok(())
}
