//! Signing in: one flow for the console and the command line. The embedded default's demo
//! accounts sign in without a password while theirs is still the demo password; everyone else
//! gives one. Every sign-in and every failure is an audit row.

use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use super::audit::{self, AuditEntry};
use super::{ActionError, Actor, AuditContext, Role, validate_email};
use crate::db::DbError;
use crate::password::Secret;
use crate::seed::demo::{DEMO_PASSWORD, DEMO_SUPER_ADMIN, DEMO_SUPPORT_ADMIN};

/// The demo data's admins: on the embedded default they sign in without a prompt.
const DEMO_ACCOUNTS: [&str; 2] = [DEMO_SUPER_ADMIN, DEMO_SUPPORT_ADMIN];

/// How the admin proves who they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    /// The embedded default: the demo password, if the account still has it.
    Demo,
    Password(Secret),
}

/// Why a sign-in did not succeed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SignInError {
    /// The demo password does not work for this account (nothing was recorded): ask for one.
    #[error("this account does not take the demo password")]
    NeedPassword,
    /// Wrong email or password, or not an active admin: one message for all, recorded.
    #[error("{}", SIGN_IN_REFUSED)]
    Refused,
    /// The database could not be asked; not a refusal.
    #[error("{0}")]
    Failed(ActionError),
}

impl From<SignInError> for ActionError {
    fn from(e: SignInError) -> ActionError {
        match e {
            SignInError::NeedPassword | SignInError::Refused => ActionError::SignIn,
            SignInError::Failed(e) => e,
        }
    }
}

/// Signs in as the admin `email`: the one sign-in flow of the console and the command line.
pub async fn sign_in(
    pool: &PgPool,
    email: &str,
    credentials: &Credentials,
    ctx: &AuditContext,
    read_only: bool,
) -> Result<Actor, SignInError> {
    let (password, method) = match credentials {
        Credentials::Password(p) => (p.clone(), SignInMethod::Password),
        Credentials::Demo => {
            let usable = is_demo_account(pool, email)
                .await
                .map_err(|e| SignInError::Failed(e.into()))?;
            if !usable {
                return Err(SignInError::NeedPassword);
            }
            (Secret::new(DEMO_PASSWORD), SignInMethod::Demo)
        }
    };
    verify_and_record(pool, email, &password, method, ctx, read_only)
        .await
        .map_err(|e| match e {
            ActionError::SignIn => SignInError::Refused,
            other => SignInError::Failed(other),
        })
}

/// A hash nobody's password matches (argon2id with argon2's default cost, of 32 random bytes
/// thrown away), verified instead of an account's own hash whenever the account cannot sign in
/// anyway (unknown, not an admin, paused): every refusal then costs one default-cost
/// verification, like a wrong password of an admin, and takes as long. A constant, so that no
/// first attempt pays for making it.
const DECOY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$dqrx4Js6s1xHPgLBmcvZAQ$RksnSeBtLE3NIrWp/6MjId4/IcPZfsKpfFgJVKjM+p8";

/// The parameters of [`DECOY_HASH`] (argon2's defaults, which new passwords get).
const DECOY_COST_PREFIX: &str = "$argon2id$v=19$m=19456,t=2,p=1$";

/// Failed sign-ins of one email within [`PAUSE_WINDOW_MINUTES`] after which its sign-in is
/// paused.
pub const MAX_FAILURES: i64 = 5;
/// How far back failures count; a pause ends when the oldest of them is this old, at a
/// successful sign-in's record, or when a super_admin lifts it (`admin unlock`).
pub const PAUSE_WINDOW_MINUTES: i64 = 15;

/// Failed sign-ins in the window, counted from the audit log itself (the failures are recorded
/// there): of the account when it exists (by its id, whatever was typed), else of the email as
/// typed; since its last successful sign-in or unlock. Attempts refused because of a pause do
/// not count, so a pause ends when the window has passed over the failures that made it,
/// however often someone keeps trying meanwhile.
async fn recent_failures(
    pool: &PgPool,
    account: Option<Uuid>,
    email: &str,
) -> Result<i64, DbError> {
    Ok(crate::db::query_scalar(
        "SELECT count(*) FROM audit_logs f \
         WHERE f.action = 'admin.sign_in_failed' \
           AND f.new_values->>'reason' <> 'paused_after_failures' \
           AND (f.resource_id = $1 OR ($1 IS NULL AND f.new_values->>'email' = $2)) \
           AND f.created_at > now() - make_interval(mins => $3::int) \
           AND f.created_at > coalesce((SELECT max(o.created_at) FROM audit_logs o \
                 WHERE o.action IN ('admin.sign_in', 'admin.unlock') \
                   AND (o.resource_id = $1 OR o.new_values->>'email' = $2)), '-infinity')",
    )
    .bind(account)
    .bind(email)
    .bind(PAUSE_WINDOW_MINUTES as i32)
    .fetch_one(&mut *crate::db::pinned(pool).await?)
    .await?)
}

/// Whether `email`'s sign-in is paused now, and the account it names if there is one.
pub(super) async fn paused(pool: &PgPool, email: &str) -> Result<(bool, Option<Uuid>), DbError> {
    let account = find_account(pool, email.trim()).await?.map(|a| a.id);
    let failures = recent_failures(pool, account, email.trim()).await?;
    Ok((failures >= MAX_FAILURES, account))
}

/// How a sign-in was made, as its audit row records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SignInMethod {
    Password,
    /// The embedded demo database: the demo password is known, so no prompt.
    Demo,
}

/// The one message every refused sign-in gets, whatever the reason: it tells an attacker nothing.
pub const SIGN_IN_REFUSED: &str =
    "sign-in refused: wrong email or password, or the account may not use the console";

#[derive(sqlx::FromRow)]
struct Account {
    id: Uuid,
    email: String,
    name: String,
    role: String,
    is_active: bool,
    password_hash: Option<String>,
}

async fn find_account(pool: &PgPool, email: &str) -> Result<Option<Account>, DbError> {
    Ok(crate::db::query_as(
        "SELECT id, email, name, role, is_active, password_hash FROM users WHERE email = $1",
    )
    .bind(email)
    .fetch_optional(&mut *crate::db::pinned(pool).await?)
    .await?)
}

/// Verifies `password` in a blocking task (argon2 takes tens of milliseconds by design); with
/// no hash, against the decoy.
async fn verify_off_thread(password: &Secret, hash: Option<String>) -> bool {
    let password = password.clone();
    tokio::task::spawn_blocking(move || {
        let hash = hash.as_deref().unwrap_or(DECOY_HASH);
        crate::password::verify_password(password.expose(), hash)
    })
    .await
    .unwrap_or(false)
}

/// Signs in as the admin `email`. Success and every failure are written to audit_logs
/// (`admin.sign_in`, `admin.sign_in_failed`), from read-only sessions too (a transaction of its
/// own that asks for READ WRITE); an unknown, inactive or non-admin account gets the same
/// refusal as a wrong password, after the same work.
async fn verify_and_record(
    pool: &PgPool,
    email: &str,
    password: &Secret,
    method: SignInMethod,
    ctx: &AuditContext,
    read_only: bool,
) -> Result<Actor, ActionError> {
    let email = email.trim();
    let account = find_account(pool, email).await?;
    let role = account.as_ref().and_then(|a| Role::parse(&a.role));
    let may_sign_in = account
        .as_ref()
        .is_some_and(|a| a.is_active && role.is_some_and(Role::is_admin));
    let paused =
        recent_failures(pool, account.as_ref().map(|a| a.id), email).await? >= MAX_FAILURES;
    // Only an active admin's own hash is verified, and not while paused; everyone else's
    // attempt verifies the decoy. A hash of another cost than the decoy's (bcrypt, other argon2
    // parameters, none) is verified and the decoy too, so that no refusal is cheaper than a
    // wrong password of an admin at the default cost.
    let own = match &account {
        Some(a) if may_sign_in && !paused => a.password_hash.clone(),
        _ => None,
    };
    let at_decoy_cost = own
        .as_deref()
        .is_some_and(|h| h.starts_with(DECOY_COST_PREFIX));
    let password_ok = match own {
        Some(hash) if at_decoy_cost => verify_off_thread(password, Some(hash)).await,
        Some(hash) => {
            let ok = verify_off_thread(password, Some(hash)).await;
            verify_off_thread(password, None).await;
            ok
        }
        None => {
            verify_off_thread(password, None).await;
            false
        }
    };
    let refusal = match &account {
        _ if paused => Some("paused_after_failures"),
        None => Some("unknown_account"),
        Some(a) if !a.is_active => Some("inactive"),
        Some(_) if !role.is_some_and(Role::is_admin) => Some("not_admin"),
        Some(_) if !password_ok => Some("wrong_password"),
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
            let entry = AuditEntry {
                actor: Some(actor.id),
                action: "admin.sign_in",
                resource_type: "user",
                resource_id: Some(actor.id),
                old: None,
                new: Some(json!({"email": actor.email, "method": method_name})),
            };
            match audit::record_always(pool, ctx, entry).await {
                Ok(_) => {}
                // A database that allows no writes at all (a standby): reading is all this
                // session can do, so its sign-in stands, in the log only.
                Err(e) if read_only => {
                    tracing::warn!(admin = %actor.email, "sign-in not recorded: {e}");
                }
                Err(e) => return Err(e.into()),
            }
            Ok(actor)
        }
        (reason, account) => {
            let reason = reason.unwrap_or("refused");
            tracing::warn!(reason, "sign-in refused");
            // Only what looks like an email is kept: a password typed into the email field
            // must not end up in the audit log.
            let attempted = match validate_email(email) {
                Ok(e) => e,
                Err(_) => "(not an email address)".to_string(),
            };
            let entry = AuditEntry {
                actor: None,
                action: "admin.sign_in_failed",
                resource_type: "user",
                resource_id: account.map(|a| a.id),
                old: None,
                new: Some(json!({"email": attempted, "method": method_name, "reason": reason})),
            };
            if let Err(e) = audit::record_always(pool, ctx, entry).await {
                // The refusal stands either way.
                tracing::warn!(reason, "a failed sign-in could not be recorded: {e}");
            }
            Err(ActionError::SignIn)
        }
    }
}

/// Whether `email` is a demo account whose password is still the demo password (checked without
/// writing anything): the embedded default then signs in without a prompt.
async fn is_demo_account(pool: &PgPool, email: &str) -> Result<bool, DbError> {
    if !DEMO_ACCOUNTS.contains(&email.trim()) {
        return Ok(false);
    }
    let Some(account) = find_account(pool, email.trim()).await? else {
        return Ok(false);
    };
    Ok(verify_off_thread(&Secret::new(DEMO_PASSWORD), account.password_hash).await)
}
