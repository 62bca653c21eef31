//! Who the console acts as: password hashes, sign-in, and bootstrapping the first super_admin.

use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use super::{ActionError, Actor, AuditContext, Role, audit, validate_email, validate_text};
use crate::db::DbError;

/// A password or other secret: never shown by `Debug`, so it cannot reach a log by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// The shortest password `admin create` and `admin set-password` accept.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// Checks a password against a stored hash: argon2 PHC strings and bcrypt `$2a$`/`$2b$`/`$2y$`.
/// Anything else (no hash, an unknown scheme) never matches. CPU-heavy: call off the UI loop.
pub fn verify_password(password: &str, hash: &str) -> bool {
    if hash.starts_with("$argon2") {
        Argon2::default()
            .verify_password(password.as_bytes(), hash)
            .is_ok()
    } else if ["$2a$", "$2b$", "$2y$"].iter().any(|p| hash.starts_with(p)) {
        bcrypt::verify(password, hash).unwrap_or(false)
    } else {
        false
    }
}

/// An argon2id PHC string of `password` with a random salt and argon2's default (OWASP) cost.
pub fn hash_password(password: &str) -> Result<String, ActionError> {
    use rand::Rng;
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    Argon2::default()
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ActionError::Invalid(format!("cannot hash the password: {e}")))
}

/// A hash nobody's password matches, verified for unknown accounts so that a refusal takes as
/// long whether or not the email exists.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| {
        let mut bytes = [0u8; 24];
        {
            use rand::Rng;
            rand::rng().fill_bytes(&mut bytes);
        }
        let random: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        hash_password(&random).unwrap_or_default()
    })
}

/// How a sign-in was made, as its audit row records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInMethod {
    Password,
    /// The embedded demo database: the demo password is known, so no prompt.
    Demo,
}

/// The one message every refused sign-in gets, whatever the reason: it tells an attacker nothing.
pub const SIGN_IN_REFUSED: &str =
    "sign-in refused: wrong email or password, or the account may not use the console";

struct Account {
    id: Uuid,
    email: String,
    name: String,
    role: String,
    is_active: bool,
    password_hash: Option<String>,
}

async fn find_account(pool: &PgPool, email: &str) -> Result<Option<Account>, DbError> {
    let row: Option<(Uuid, String, String, String, bool, Option<String>)> = sqlx::query_as(
        "SELECT id, email, name, role, is_active, password_hash FROM users WHERE email = $1",
    )
    .bind(email)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(
        |(id, email, name, role, is_active, password_hash)| Account {
            id,
            email,
            name,
            role,
            is_active,
            password_hash,
        },
    ))
}

/// Verifies `password` in a blocking task (argon2 takes tens of milliseconds by design).
async fn verify_off_thread(password: &Secret, hash: Option<String>) -> bool {
    let password = password.clone();
    tokio::task::spawn_blocking(move || {
        let hash = hash.as_deref().unwrap_or_else(|| decoy_hash());
        verify_password(password.expose(), hash)
    })
    .await
    .unwrap_or(false)
}

/// Signs in as the admin `email`. Success and every failure are written to audit_logs
/// (`admin.sign_in`, `admin.sign_in_failed`) unless the session is read-only; an unknown,
/// inactive or non-admin account gets the same refusal as a wrong password.
pub async fn sign_in(
    pool: &PgPool,
    email: &str,
    password: &Secret,
    method: SignInMethod,
    ctx: &AuditContext,
    read_only: bool,
) -> Result<Actor, ActionError> {
    let email = email.trim();
    let account = find_account(pool, email).await?;
    let hash = account.as_ref().and_then(|a| a.password_hash.clone());
    let password_ok = verify_off_thread(password, hash).await;
    let role = account.as_ref().and_then(|a| Role::parse(&a.role));
    let refusal = match &account {
        None => Some("unknown_account"),
        Some(_) if !password_ok => Some("wrong_password"),
        Some(a) if !a.is_active => Some("inactive"),
        Some(_) if !role.is_some_and(Role::is_admin) => Some("not_admin"),
        Some(_) => None,
    };
    let method_name = match method {
        SignInMethod::Password => "password",
        SignInMethod::Demo => "demo",
    };
    match (refusal, account) {
        (None, Some(a)) => {
            let actor = Actor {
                id: a.id,
                email: a.email,
                name: a.name,
                role: role.unwrap_or(Role::User),
            };
            if read_only {
                tracing::info!(admin = %actor.email, "signed in (read-only: not recorded)");
            } else {
                let mut tx = pool.begin().await.map_err(DbError::from)?;
                audit(
                    &mut tx,
                    Some(actor.id),
                    ctx,
                    "admin.sign_in",
                    "user",
                    Some(actor.id),
                    None,
                    Some(json!({"email": actor.email, "method": method_name})),
                )
                .await?;
                tx.commit().await.map_err(DbError::from)?;
            }
            Ok(actor)
        }
        (reason, account) => {
            let reason = reason.unwrap_or("refused");
            tracing::warn!(reason, "sign-in refused");
            if !read_only {
                // Only what looks like an email is kept: a password typed into the email field
                // must not end up in the audit log.
                let attempted = match validate_email(email) {
                    Ok(e) => e,
                    Err(_) => "(not an email address)".to_string(),
                };
                let mut tx = pool.begin().await.map_err(DbError::from)?;
                audit(
                    &mut tx,
                    None,
                    ctx,
                    "admin.sign_in_failed",
                    "user",
                    account.map(|a| a.id),
                    None,
                    Some(json!({"email": attempted, "method": method_name, "reason": reason})),
                )
                .await?;
                tx.commit().await.map_err(DbError::from)?;
            }
            Err(ActionError::SignIn)
        }
    }
}

/// Whether `email` is a demo account whose password is still the demo password (checked without
/// writing anything): the embedded default then signs in without a prompt.
pub async fn is_demo_account(pool: &PgPool, email: &str) -> Result<bool, DbError> {
    use crate::db::demo::{DEMO_PASSWORD, DEMO_SUPER_ADMIN, DEMO_SUPPORT_ADMIN};
    if ![DEMO_SUPER_ADMIN, DEMO_SUPPORT_ADMIN].contains(&email.trim()) {
        return Ok(false);
    }
    let Some(account) = find_account(pool, email.trim()).await? else {
        return Ok(false);
    };
    Ok(verify_off_thread(&Secret::new(DEMO_PASSWORD), account.password_hash).await)
}

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
    tokio::task::spawn_blocking(move || hash_password(password.expose()))
        .await
        .map_err(|e| ActionError::Invalid(format!("cannot hash the password: {e}")))?
}

/// Takes the lock that serialises changes to who is a super_admin, so two of them racing cannot
/// both pass a check such as "another super_admin remains".
pub(super) async fn lock_super_admins(
    tx: &mut sqlx::Transaction<'static, sqlx::Postgres>,
) -> Result<(), DbError> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('switchboard.super_admins'))")
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Bootstrap rule: with no active super_admin anyone may run it (the audit row has no actor);
/// otherwise only a signed-in super_admin.
async fn bootstrap_actor(
    tx: &mut sqlx::Transaction<'static, sqlx::Postgres>,
    by: Option<&Actor>,
    what: &str,
) -> Result<Option<Uuid>, ActionError> {
    lock_super_admins(tx).await?;
    let exists: bool = sqlx::query_scalar(
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
    super::current_role(tx, actor)
        .await?
        .require(Role::SuperAdmin, what)?;
    Ok(Some(actor.id))
}

/// `admin create`: a new admin account in the system tenant, audited as `admin.create`.
pub async fn create_admin(
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
    let mut tx = pool.begin().await.map_err(DbError::from)?;
    let actor = bootstrap_actor(&mut tx, by, "creating an admin").await?;
    let id: Uuid = sqlx::query_scalar(
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
    .map_err(|e| super::explain_db_error(e, &email))?;
    audit(
        &mut tx,
        actor,
        ctx,
        "admin.create",
        "user",
        Some(id),
        None,
        Some(json!({"email": email, "name": name, "role": role.as_str(), "password_set": true})),
    )
    .await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok(id)
}

/// `admin set-password`: a new password for an admin account, audited as `admin.set_password`
/// (the audit row says a password was set, never what it is or its hash).
pub async fn set_password(
    pool: &PgPool,
    by: Option<&Actor>,
    ctx: &AuditContext,
    email: &str,
    password: &Secret,
) -> Result<Uuid, ActionError> {
    let hash = hash_new_password(password).await?;
    let mut tx = pool.begin().await.map_err(DbError::from)?;
    let actor = bootstrap_actor(&mut tx, by, "setting a password").await?;
    let row: Option<(Uuid, String, bool)> = sqlx::query_as(
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
    sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1")
        .bind(id)
        .bind(&hash)
        .execute(&mut *tx)
        .await
        .map_err(DbError::from)?;
    audit(
        &mut tx,
        actor,
        ctx,
        "admin.set_password",
        "user",
        Some(id),
        Some(json!({"password_set": had_password})),
        Some(json!({"password_set": true})),
    )
    .await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argon2_and_all_bcrypt_prefixes_verify() {
        let argon = hash_password("correct horse").unwrap();
        assert!(argon.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &argon));
        assert!(!verify_password("wrong horse", &argon));
        let b = bcrypt::hash("correct horse", 4).unwrap();
        for prefix in ["$2a$", "$2b$", "$2y$"] {
            let h = format!("{prefix}{}", &b[4..]);
            assert!(verify_password("correct horse", &h), "{prefix}");
            assert!(!verify_password("wrong horse", &h), "{prefix}");
        }
        assert!(!verify_password("x", "plaintext"));
        assert!(!verify_password("", ""));
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        let s = Secret::new("hunter2hunter2");
        assert!(!format!("{s:?}").contains("hunter2"));
    }
}
