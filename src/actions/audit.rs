//! The one audit writer: every change, refusal, sign-in and export becomes exactly one
//! `audit_logs` row through `record`, inside the caller's transaction, with its link in the
//! audit chain (`db::chain`).

use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

use super::{AuditContext, Session, Tx};
use crate::db::DbError;

/// One audit row, before the context (address, user agent) is added.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry<'a> {
    /// The signed-in admin; none for bootstrap and failed sign-ins.
    pub actor: Option<Uuid>,
    pub action: &'a str,
    pub resource_type: &'a str,
    pub resource_id: Option<Uuid>,
    pub old: Option<Value>,
    pub new: Option<Value>,
}

/// Inserts `entry` in `tx`; `ip_address` and `user_agent` come from `ctx`.
pub async fn record(
    tx: &mut Tx,
    ctx: &AuditContext,
    entry: AuditEntry<'_>,
) -> Result<Uuid, DbError> {
    // Returned as stored (the chain hashes what verify will read back).
    let r = crate::db::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO audit_logs AS a \
           (user_id, action, resource_type, resource_id, old_values, new_values, ip_address, user_agent) \
         VALUES ($1, $2, $3, $4, $5, $6, $7::inet, $8) RETURNING {}",
        crate::db::chain::ROW_COLUMNS
    )))
    .bind(entry.actor)
    .bind(entry.action)
    .bind(entry.resource_type)
    .bind(entry.resource_id)
    .bind(entry.old)
    .bind(entry.new)
    .bind(ctx.ip.map(|ip| ip.to_string()))
    .bind(&ctx.user_agent)
    .fetch_one(&mut **tx)
    .await?;
    let row = crate::db::chain::AuditRow::from_row(&r, 0)?;
    // Its link in the chain, made by this transaction's COMMIT (which takes the chain's lock).
    crate::db::chain::append(tx, &row).await?;
    Ok(row.id)
}

/// Records `entry` in a transaction of its own.
pub async fn record_alone(
    pool: &PgPool,
    ctx: &AuditContext,
    entry: AuditEntry<'_>,
) -> Result<Uuid, DbError> {
    let mut tx = crate::db::begin(pool).await?;
    let id = record(&mut tx, ctx, entry).await?;
    tx.commit().await?;
    Ok(id)
}

/// Records `entry` in a transaction of its own that asks for READ WRITE: also from a read-only
/// session (`--read-only`, a role whose default is read-only), whose one kind of write this is.
/// A database that allows no writes at all (a hot standby) refuses it.
pub async fn record_always(
    pool: &PgPool,
    ctx: &AuditContext,
    entry: AuditEntry<'_>,
) -> Result<Uuid, DbError> {
    let mut tx = crate::db::begin(pool).await?;
    crate::db::query("SET TRANSACTION READ WRITE")
        .execute(&mut *tx)
        .await?;
    let id = record(&mut tx, ctx, entry).await?;
    tx.commit().await?;
    Ok(id)
}

/// Records a refusal (`admin.refused`): what was asked, on what, and why not. A failure to
/// record is logged, never shown instead of the refusal itself.
pub async fn record_refusal(
    pool: &PgPool,
    session: &Session,
    action: &str,
    (resource_type, resource_id): (&str, Option<Uuid>),
    why: &str,
) {
    let entry = AuditEntry {
        actor: Some(session.actor.id),
        action: "admin.refused",
        resource_type,
        resource_id,
        old: None,
        new: Some(json!({"action": action, "reason": why})),
    };
    // Also from a read-only session: a refusal is on record wherever it happens.
    if let Err(e) = record_always(pool, &session.ctx, entry).await {
        tracing::warn!("recording a refusal: {e}");
    }
}
