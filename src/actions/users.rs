//! Users: activation, sessions, email verification, role and tenant.

use serde_json::json;
use uuid::Uuid;

use super::rules::{
    Change, Table, Val, lock_user, require_other_super_admin, require_rank_over, set_column,
};
use super::{ActionError, Role, Tx, targets};
use crate::db::DbError;

pub(super) async fn set_active(
    tx: &mut Tx,
    me: Uuid,
    role: Role,
    user: Uuid,
    active: bool,
) -> Result<Change, ActionError> {
    let target = lock_user(tx, user).await?;
    require_rank_over(role, target, "deactivating or activating")?;
    if !active {
        if user == me {
            return Err(ActionError::Forbidden(
                "you cannot deactivate your own account".into(),
            ));
        }
        if target == Role::SuperAdmin {
            require_other_super_admin(tx, user, "cannot deactivate").await?;
        }
    }
    set_column(
        tx,
        Table::Users,
        user,
        "is_active",
        Val::Bool(!active),
        Val::Bool(active),
    )
    .await
}

pub(super) async fn revoke_sessions(
    tx: &mut Tx,
    role: Role,
    user: Uuid,
) -> Result<Change, ActionError> {
    let target = lock_user(tx, user).await?;
    require_rank_over(role, target, "revoking the sessions")?;
    let mut revoked: Vec<Uuid> = crate::db::query_scalar(
        "DELETE FROM user_sessions WHERE user_id = $1 AND expires_at > now() RETURNING id",
    )
    .bind(user)
    .fetch_all(&mut **tx)
    .await
    .map_err(DbError::from)?;
    if revoked.is_empty() {
        return Ok(Change::unchanged());
    }
    revoked.sort();
    Ok(Change::done(
        json!({"active_sessions": revoked.len(), "session_ids": revoked}),
        json!({"active_sessions": 0}),
    ))
}

pub(super) async fn verify_email(
    tx: &mut Tx,
    role: Role,
    user: Uuid,
) -> Result<Change, ActionError> {
    let target = lock_user(tx, user).await?;
    require_rank_over(role, target, "verifying the email")?;
    set_column(
        tx,
        Table::Users,
        user,
        "email_verified",
        Val::Bool(false),
        Val::Bool(true),
    )
    .await
}

pub(super) async fn set_role(
    tx: &mut Tx,
    me: Uuid,
    user: Uuid,
    from: Role,
    to: Role,
) -> Result<Change, ActionError> {
    if user == me {
        return Err(super::rules::own_role());
    }
    lock_user(tx, user).await?;
    if from == Role::SuperAdmin && to != Role::SuperAdmin {
        require_other_super_admin(tx, user, "cannot demote").await?;
    }
    set_column(
        tx,
        Table::Users,
        user,
        "role",
        Val::Text(Some(from.as_str().into())),
        Val::Text(Some(to.as_str().into())),
    )
    .await
}

/// Moves `user` from tenant `from` to the tenant named (or identified) by `to`.
pub(super) async fn move_user(
    tx: &mut Tx,
    user: Uuid,
    from: Uuid,
    to: &str,
) -> Result<Change, ActionError> {
    lock_user(tx, user).await?;
    let tenant = targets::tenant_shared(tx, to).await?;
    if !tenant.is_active {
        return Err(ActionError::Invalid(
            "that tenant is inactive; reactivate it first".into(),
        ));
    }
    set_column(
        tx,
        Table::Users,
        user,
        "tenant_id",
        Val::Id(Some(from)),
        Val::Id(Some(tenant.id)),
    )
    .await
}
