//! Admin accounts from the command line: bootstrapping the first super_admin and setting
//! passwords. With no active super_admin anyone may (the audit row has no actor); after that
//! only a signed-in super_admin.

use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use super::audit::{self, AuditEntry};
use super::rules::lock_super_admins;
use super::{ActionError, Actor, AuditContext, Role, Tx, validate_email, validate_text};
use crate::db::DbError;
use crate::password::Secret;

/// The shortest password `admin create` and `admin set-password` accept.
pub const MIN_PASSWORD_CHARS: usize = 12;

fn check_new_password(password: &Secret) -> Result<(), ActionError> {
    let n = password.expose().chars().count();
    if n < MIN_PASSWORD_CHARS {
        return Err(ActionError::Invalid(format!(
            "the password has {n} characters; use at least {MIN_PASSWORD_CHARS}"
        )));
    }
    if password.expose().chars().any(char::is_control) {
        return Err(ActionError::Invalid(
            "the password contains control characters".into(),
        ));
    }
    Ok(())
}

/// Checks a new password and hashes it off the async threads.
async fn hash_new_password(password: &Secret) -> Result<String, ActionError> {
    check_new_password(password)?;
    let password = password.clone();
    tokio::task::spawn_blocking(move || crate::password::hash_password(password.expose()))
        .await
        .map_err(|e| ActionError::Invalid(format!("cannot hash the password: {e}")))?
        .map_err(|e| ActionError::Invalid(e.to_string()))
}

/// Bootstrap rule: with no active super_admin anyone may run it (the audit row has no actor);
/// otherwise only a signed-in super_admin.
async fn bootstrap_actor(
    tx: &mut Tx,
    by: Option<&Actor>,
    what: &str,
) -> Result<Option<Uuid>, ActionError> {
    lock_super_admins(tx).await?;
    let exists: bool = crate::db::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM users WHERE role = 'super_admin' AND is_active)",
    )
    .fetch_one(&mut **tx)
    .await
    .map_err(DbError::from)?;
    if !exists {
        return Ok(None);
    }
    let Some(actor) = by else {
        return Err(ActionError::Forbidden(format!(
            "{what} needs a super_admin once one exists: sign in with --admin EMAIL"
        )));
    };
    super::rules::current_role(tx, actor)
        .await?
        .require(Role::SuperAdmin, what)?;
    Ok(Some(actor.id))
}

/// A refusal of an admin command is on record too (`admin.refused`), with whoever asked (none
/// when nobody signed in) and the account it was about, if what was typed looks like an email.
async fn recorded<T>(
    pool: &PgPool,
    by: Option<&Actor>,
    ctx: &AuditContext,
    action: &str,
    email: &str,
    result: Result<T, ActionError>,
) -> Result<T, ActionError> {
    if let Err(ActionError::Forbidden(why)) = &result {
        let about = validate_email(email).unwrap_or_else(|_| "(not an email address)".into());
        let entry = AuditEntry {
            actor: by.map(|a| a.id),
            action: "admin.refused",
            resource_type: "user",
            resource_id: None,
            old: None,
            new: Some(json!({"action": action, "reason": why, "email": about})),
        };
        if let Err(e) = audit::record_always(pool, ctx, entry).await {
            tracing::warn!("recording a refusal: {e}");
        }
    }
    result
}

/// `admin create`: a new admin account in the system tenant, audited as `admin.create`; a
/// refusal as `admin.refused`.
pub async fn create_admin(
    pool: &PgPool,
    by: Option<&Actor>,
    ctx: &AuditContext,
    email: &str,
    name: &str,
    role: Role,
    password: &Secret,
) -> Result<Uuid, ActionError> {
    let result = create_admin_checked(pool, by, ctx, email, name, role, password).await;
    recorded(pool, by, ctx, "admin.create", email, result).await
}

async fn create_admin_checked(
    pool: &PgPool,
    by: Option<&Actor>,
    ctx: &AuditContext,
    email: &str,
    name: &str,
    role: Role,
    password: &Secret,
) -> Result<Uuid, ActionError> {
    let email = validate_email(email)?;
    let name = validate_text("name", name, 255)?;
    if !role.is_admin() {
        return Err(ActionError::Invalid(
            "the role must be admin or super_admin".into(),
        ));
    }
    let hash = hash_new_password(password).await?;
    let mut tx = crate::db::begin(pool).await?;
    let actor = bootstrap_actor(&mut tx, by, "creating an admin").await?;
    let id: Uuid = crate::db::query_scalar(
        "INSERT INTO users (email, name, role, password_hash, email_verified, tenant_id) \
         VALUES ($1, $2, $3, $4, true, $5) RETURNING id",
    )
    .bind(&email)
    .bind(&name)
    .bind(role.as_str())
    .bind(&hash)
    .bind(crate::db::SYSTEM_TENANT)
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| super::rules::explain_db_error(e, &email))?;
    let entry = AuditEntry {
        actor,
        action: "admin.create",
        resource_type: "user",
        resource_id: Some(id),
        old: None,
        new: Some(
            json!({"email": email, "name": name, "role": role.as_str(), "password_set": true}),
        ),
    };
    audit::record(&mut tx, ctx, entry).await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok(id)
}

/// `admin set-password`: a new password for an admin account, audited as `admin.set_password`
/// (the audit row says a password was set, never what it is or its hash); a refusal as
/// `admin.refused`.
pub async fn set_password(
    pool: &PgPool,
    by: Option<&Actor>,
    ctx: &AuditContext,
    email: &str,
    password: &Secret,
) -> Result<Uuid, ActionError> {
    let result = set_password_checked(pool, by, ctx, email, password).await;
    recorded(pool, by, ctx, "admin.set_password", email, result).await
}

async fn set_password_checked(
    pool: &PgPool,
    by: Option<&Actor>,
    ctx: &AuditContext,
    email: &str,
    password: &Secret,
) -> Result<Uuid, ActionError> {
    let hash = hash_new_password(password).await?;
    let mut tx = crate::db::begin(pool).await?;
    let actor = bootstrap_actor(&mut tx, by, "setting a password").await?;
    let row: Option<(Uuid, String, bool)> = crate::db::query_as(
        "SELECT id, role, password_hash IS NOT NULL FROM users WHERE email = $1 FOR UPDATE",
    )
    .bind(email.trim())
    .fetch_optional(&mut *tx)
    .await
    .map_err(DbError::from)?;
    let Some((id, role, had_password)) = row else {
        return Err(ActionError::NotFound(format!(
            "no user has the email {email}"
        )));
    };
    if !Role::parse(&role).is_some_and(Role::is_admin) {
        return Err(ActionError::Invalid(format!(
            "{email} is not an admin; set-password is for admin accounts"
        )));
    }
    crate::db::query("UPDATE users SET password_hash = $2 WHERE id = $1")
        .bind(id)
        .bind(&hash)
        .execute(&mut *tx)
        .await
        .map_err(DbError::from)?;
    let entry = AuditEntry {
        actor,
        action: "admin.set_password",
        resource_type: "user",
        resource_id: Some(id),
        old: Some(json!({"password_set": had_password})),
        new: Some(json!({"password_set": true})),
    };
    audit::record(&mut tx, ctx, entry).await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok(id)
}

/// `admin unlock`: lifts the pause of `email`'s sign-in after repeated failures (a super_admin
/// only), recorded as `admin.unlock`; the failures before it no longer count. Says whether it
/// was paused.
pub async fn unlock(
    pool: &PgPool,
    by: &Actor,
    ctx: &AuditContext,
    email: &str,
) -> Result<bool, ActionError> {
    let result = unlock_checked(pool, by, ctx, email).await;
    recorded(pool, Some(by), ctx, "admin.unlock", email, result).await
}

async fn unlock_checked(
    pool: &PgPool,
    by: &Actor,
    ctx: &AuditContext,
    email: &str,
) -> Result<bool, ActionError> {
    let email = validate_email(email)?;
    let (was_paused, account) = super::sign_in::paused(pool, &email).await?;
    let mut tx = crate::db::begin(pool).await?;
    super::rules::current_role(&mut tx, by)
        .await?
        .require(Role::SuperAdmin, "lifting a sign-in pause")?;
    let entry = AuditEntry {
        actor: Some(by.id),
        action: "admin.unlock",
        resource_type: "user",
        resource_id: account,
        old: Some(json!({ "paused": was_paused })),
        new: Some(json!({ "email": email, "paused": false })),
    };
    audit::record(&mut tx, ctx, entry).await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok(was_paused)
}
