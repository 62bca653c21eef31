//! The action layer: every admin change, checked and applied in one transaction together with
//! exactly one audit_logs row. The console's forms and the command line both come here; the rules
//! the database cannot express (roles, the credit cap, the last super_admin) are enforced here,
//! inside the transaction, whatever the caller showed or hid.

pub mod auth;
pub mod targets;

use std::net::IpAddr;

use serde_json::{Value, json};
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

use crate::db::{DbError, SYSTEM_TENANT};

type Tx = Transaction<'static, Postgres>;

/// The largest single credit change anyone may make (the balance column is a 32-bit integer).
pub const MAX_CREDIT_CHANGE: i64 = 1_000_000_000;
/// What an admin (not a super_admin) may add or take in one change unless configured otherwise.
pub const DEFAULT_ADMIN_CREDIT_CAP: i64 = 10_000;
/// Plans a tenant may be given (the system tenant alone has `system`).
pub const PLANS: [&str; 4] = ["free", "starter", "pro", "enterprise"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    User,
    Admin,
    SuperAdmin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::User, Role::Admin, Role::SuperAdmin];

    pub fn parse(s: &str) -> Option<Role> {
        match s.trim() {
            "user" => Some(Role::User),
            "admin" => Some(Role::Admin),
            "super_admin" => Some(Role::SuperAdmin),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Admin => "admin",
            Role::SuperAdmin => "super_admin",
        }
    }

    pub fn is_admin(self) -> bool {
        self >= Role::Admin
    }

    fn require(self, needed: Role, what: &str) -> Result<(), ActionError> {
        if self >= needed {
            Ok(())
        } else {
            Err(ActionError::Forbidden(format!(
                "{what} needs {}; you are {}",
                needed.as_str(),
                self.as_str()
            )))
        }
    }
}

/// The signed-in admin the console acts as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub role: Role,
}

/// What every audit row says about where a change came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditContext {
    pub ip: Option<IpAddr>,
    pub user_agent: String,
}

impl AuditContext {
    /// The SSH client's address (`SSH_CONNECTION`, else `SSH_CLIENT`) and
    /// `switchboard/VERSION (os-user@host)`.
    pub fn from_env() -> AuditContext {
        let var = |k: &str| std::env::var(k).ok();
        let ip = client_ip(var("SSH_CONNECTION").as_deref())
            .or_else(|| client_ip(var("SSH_CLIENT").as_deref()));
        let user = var("USER")
            .or_else(|| var("LOGNAME"))
            .or_else(|| {
                nix::unistd::User::from_uid(nix::unistd::getuid())
                    .ok()
                    .flatten()
                    .map(|u| u.name)
            })
            .unwrap_or_else(|| "unknown".into());
        let host = nix::unistd::gethostname()
            .ok()
            .and_then(|h| h.into_string().ok())
            .unwrap_or_else(|| "unknown".into());
        AuditContext {
            ip,
            user_agent: user_agent(&user, &host),
        }
    }
}

pub fn user_agent(user: &str, host: &str) -> String {
    format!("switchboard/{} ({user}@{host})", env!("CARGO_PKG_VERSION"))
}

/// The client address of an `SSH_CONNECTION` / `SSH_CLIENT` value (its first word).
pub fn client_ip(value: Option<&str>) -> Option<IpAddr> {
    value?.split_whitespace().next()?.parse().ok()
}

/// Everything an action needs to know about who runs it and how.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub actor: Actor,
    pub ctx: AuditContext,
    pub read_only: bool,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum ActionError {
    #[error("read-only session: no changes can be made (started with --read-only)")]
    ReadOnly,
    #[error("{}", auth::SIGN_IN_REFUSED)]
    SignIn,
    #[error("refused: {0}")]
    Forbidden(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    NotFound(String),
    /// The row no longer holds what the admin saw: nothing was written.
    #[error("the {what} changed since you opened it (now {current}); nothing was written")]
    Conflict { what: String, current: Value },
    #[error("not enough credits: the balance is {balance}, the deduction {amount}")]
    Insufficient { balance: i64, amount: i64 },
    #[error("{0}")]
    Db(String),
}

impl From<DbError> for ActionError {
    fn from(e: DbError) -> ActionError {
        ActionError::Db(crate::worker::describe_error(&e))
    }
}

impl ActionError {
    /// Exit code for the command line: 3 refused or invalid, 4 conflict, 1 database trouble.
    pub fn exit_code(&self) -> u8 {
        match self {
            ActionError::Db(_) => 1,
            ActionError::Conflict { .. } => 4,
            _ => 3,
        }
    }
}

/// The kinds of change, before their values are known (what a key in the console starts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verb {
    TopUp,
    Deduct,
    SetUserActive,
    RevokeSessions,
    VerifyEmail,
    SetRole,
    MoveUser,
    CreateTenant,
    RenameTenant,
    SetPlan,
    SetTenantActive,
    RenameAgent,
    DescribeAgent,
    SetAgentActive,
    AddNumber,
    AssignNumber,
    UnassignNumber,
    SetNumberActive,
    SetCreditCap,
}

impl Verb {
    /// The least role that may use it (further rules apply to the target).
    pub fn min_role(self) -> Role {
        match self {
            Verb::TopUp
            | Verb::Deduct
            | Verb::SetUserActive
            | Verb::RevokeSessions
            | Verb::VerifyEmail
            | Verb::RenameAgent
            | Verb::DescribeAgent
            | Verb::SetAgentActive => Role::Admin,
            _ => Role::SuperAdmin,
        }
    }

    /// A dotted name for messages (toggles name both directions).
    pub fn name(self) -> &'static str {
        match self {
            Verb::TopUp => "credits.top_up",
            Verb::Deduct => "credits.deduct",
            Verb::SetUserActive => "user.activate/deactivate",
            Verb::RevokeSessions => "user.revoke_sessions",
            Verb::VerifyEmail => "user.verify_email",
            Verb::SetRole => "user.role_change",
            Verb::MoveUser => "user.tenant_change",
            Verb::CreateTenant => "tenant.create",
            Verb::RenameTenant => "tenant.rename",
            Verb::SetPlan => "tenant.plan_change",
            Verb::SetTenantActive => "tenant.activate/deactivate",
            Verb::RenameAgent => "agent.rename",
            Verb::DescribeAgent => "agent.description_change",
            Verb::SetAgentActive => "agent.activate/deactivate",
            Verb::AddNumber => "phone_number.create",
            Verb::AssignNumber => "phone_number.assign",
            Verb::UnassignNumber => "phone_number.unassign",
            Verb::SetNumberActive => "phone_number.activate/deactivate",
            Verb::SetCreditCap => "settings.admin_credit_cap",
        }
    }
}

/// One admin change, as the forms and the command line describe it. Fields named `from` hold
/// what the admin saw: the change applies only if the row still holds it.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    AdjustCredits {
        user: Uuid,
        /// Positive to top up, negative to deduct.
        delta: i64,
        reason: String,
        /// Made when the confirm dialog opens; the change applies once per key.
        key: Uuid,
    },
    SetUserActive {
        user: Uuid,
        active: bool,
    },
    RevokeSessions {
        user: Uuid,
    },
    MarkEmailVerified {
        user: Uuid,
    },
    SetRole {
        user: Uuid,
        from: Role,
        to: Role,
    },
    MoveUser {
        user: Uuid,
        from: Uuid,
        /// The tenant's id or exact name.
        to: String,
    },
    CreateTenant {
        name: String,
        plan: String,
    },
    RenameTenant {
        tenant: Uuid,
        from: String,
        to: String,
    },
    SetPlan {
        tenant: Uuid,
        from: String,
        to: String,
    },
    SetTenantActive {
        tenant: Uuid,
        active: bool,
    },
    RenameAgent {
        agent: Uuid,
        from: String,
        to: String,
    },
    SetAgentDescription {
        agent: Uuid,
        from: Option<String>,
        to: Option<String>,
    },
    SetAgentActive {
        agent: Uuid,
        active: bool,
    },
    AddNumber {
        number: String,
        name: String,
        bolna_id: String,
    },
    /// Assign, or reassign when `from` is a user.
    AssignNumber {
        number: Uuid,
        from: Option<Uuid>,
        /// The user's email or id.
        to: String,
    },
    UnassignNumber {
        number: Uuid,
        from: Uuid,
    },
    SetNumberActive {
        number: Uuid,
        active: bool,
    },
    /// The most an admin may add or take in one credit change.
    SetCreditCap {
        from: i64,
        to: i64,
    },
}

impl Request {
    /// The audit row's `action`.
    pub fn action(&self) -> &'static str {
        let toggle =
            |active: bool, on: &'static str, off: &'static str| if active { on } else { off };
        match self {
            Request::AdjustCredits { delta, .. } if *delta >= 0 => "credits.top_up",
            Request::AdjustCredits { .. } => "credits.deduct",
            Request::SetUserActive { active, .. } => {
                toggle(*active, "user.activate", "user.deactivate")
            }
            Request::RevokeSessions { .. } => "user.revoke_sessions",
            Request::MarkEmailVerified { .. } => "user.verify_email",
            Request::SetRole { .. } => "user.role_change",
            Request::MoveUser { .. } => "user.tenant_change",
            Request::CreateTenant { .. } => "tenant.create",
            Request::RenameTenant { .. } => "tenant.rename",
            Request::SetPlan { .. } => "tenant.plan_change",
            Request::SetTenantActive { active, .. } => {
                toggle(*active, "tenant.activate", "tenant.deactivate")
            }
            Request::RenameAgent { .. } => "agent.rename",
            Request::SetAgentDescription { .. } => "agent.description_change",
            Request::SetAgentActive { active, .. } => {
                toggle(*active, "agent.activate", "agent.deactivate")
            }
            Request::AddNumber { .. } => "phone_number.create",
            Request::AssignNumber { from: Some(_), .. } => "phone_number.reassign",
            Request::AssignNumber { .. } => "phone_number.assign",
            Request::UnassignNumber { .. } => "phone_number.unassign",
            Request::SetNumberActive { active, .. } => {
                toggle(*active, "phone_number.activate", "phone_number.deactivate")
            }
            Request::SetCreditCap { .. } => "settings.admin_credit_cap",
        }
    }

    /// What kind of change it is.
    pub fn verb(&self) -> Verb {
        match self {
            Request::AdjustCredits { delta, .. } if *delta >= 0 => Verb::TopUp,
            Request::AdjustCredits { .. } => Verb::Deduct,
            Request::SetUserActive { .. } => Verb::SetUserActive,
            Request::RevokeSessions { .. } => Verb::RevokeSessions,
            Request::MarkEmailVerified { .. } => Verb::VerifyEmail,
            Request::SetRole { .. } => Verb::SetRole,
            Request::MoveUser { .. } => Verb::MoveUser,
            Request::CreateTenant { .. } => Verb::CreateTenant,
            Request::RenameTenant { .. } => Verb::RenameTenant,
            Request::SetPlan { .. } => Verb::SetPlan,
            Request::SetTenantActive { .. } => Verb::SetTenantActive,
            Request::RenameAgent { .. } => Verb::RenameAgent,
            Request::SetAgentDescription { .. } => Verb::DescribeAgent,
            Request::SetAgentActive { .. } => Verb::SetAgentActive,
            Request::AddNumber { .. } => Verb::AddNumber,
            Request::AssignNumber { .. } => Verb::AssignNumber,
            Request::UnassignNumber { .. } => Verb::UnassignNumber,
            Request::SetNumberActive { .. } => Verb::SetNumberActive,
            Request::SetCreditCap { .. } => Verb::SetCreditCap,
        }
    }

    /// The least role that may ask for it (further rules apply to the target).
    pub fn min_role(&self) -> Role {
        self.verb().min_role()
    }

    /// The audit row's resource type and id (none yet for a row being created).
    pub fn resource(&self) -> (&'static str, Option<Uuid>) {
        match self {
            Request::AdjustCredits { user, .. }
            | Request::SetUserActive { user, .. }
            | Request::RevokeSessions { user }
            | Request::MarkEmailVerified { user }
            | Request::SetRole { user, .. }
            | Request::MoveUser { user, .. } => ("user", Some(*user)),
            Request::CreateTenant { .. } => ("tenant", None),
            Request::RenameTenant { tenant, .. }
            | Request::SetPlan { tenant, .. }
            | Request::SetTenantActive { tenant, .. } => ("tenant", Some(*tenant)),
            Request::RenameAgent { agent, .. }
            | Request::SetAgentDescription { agent, .. }
            | Request::SetAgentActive { agent, .. } => ("agent", Some(*agent)),
            Request::AddNumber { .. } => ("phone_number", None),
            Request::AssignNumber { number, .. }
            | Request::UnassignNumber { number, .. }
            | Request::SetNumberActive { number, .. } => ("phone_number", Some(*number)),
            Request::SetCreditCap { .. } => ("console_setting", None),
        }
    }

    /// Checks what can be checked without the database, returning the request with its text
    /// trimmed.
    pub fn validated(&self) -> Result<Request, ActionError> {
        let mut r = self.clone();
        match &mut r {
            Request::AdjustCredits { delta, reason, .. } => {
                if *delta == 0 || delta.unsigned_abs() > MAX_CREDIT_CHANGE as u64 {
                    return Err(ActionError::Invalid(format!(
                        "the amount must be a whole number from 1 to {MAX_CREDIT_CHANGE}"
                    )));
                }
                *reason = validate_text("reason", reason, 500)?;
            }
            Request::CreateTenant { name, plan } => {
                *name = validate_text("tenant name", name, 255)?;
                *plan = validate_plan(plan)?;
            }
            Request::RenameTenant { to, .. } => *to = validate_text("tenant name", to, 255)?,
            Request::SetPlan { to, .. } => *to = validate_plan(to)?,
            Request::RenameAgent { to, .. } => *to = validate_text("agent name", to, 255)?,
            Request::SetAgentDescription { to, .. } => {
                *to = match to.as_deref().map(str::trim) {
                    None | Some("") => None,
                    Some(t) if t.chars().count() > 10_000 => {
                        return Err(ActionError::Invalid(
                            "the description is longer than 10,000 characters".into(),
                        ));
                    }
                    Some(t) => Some(t.to_string()),
                };
            }
            Request::AddNumber {
                number,
                name,
                bolna_id,
            } => {
                *number = validate_e164(number)?;
                *name = validate_text("name", name, 255)?;
                *bolna_id = validate_text("Bolna phone number id", bolna_id, 255)?;
            }
            Request::SetCreditCap { to, .. } if !(1..=MAX_CREDIT_CHANGE).contains(to) => {
                return Err(ActionError::Invalid(format!(
                    "the cap must be a whole number from 1 to {MAX_CREDIT_CHANGE}"
                )));
            }
            Request::AssignNumber { to, .. } | Request::MoveUser { to, .. } => {
                *to = to.trim().to_string();
                if to.is_empty() {
                    return Err(ActionError::Invalid("say who or where to".into()));
                }
            }
            _ => {}
        }
        Ok(r)
    }
}

/// A single-line text: trimmed, not blank, no control characters, at most `max` characters.
pub fn validate_text(what: &str, value: &str, max: usize) -> Result<String, ActionError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(ActionError::Invalid(format!("the {what} is empty")));
    }
    if v.chars().any(char::is_control) {
        return Err(ActionError::Invalid(format!(
            "the {what} contains control characters"
        )));
    }
    if v.chars().count() > max {
        return Err(ActionError::Invalid(format!(
            "the {what} is longer than {max} characters"
        )));
    }
    Ok(v.to_string())
}

pub fn validate_email(value: &str) -> Result<String, ActionError> {
    let v = validate_text("email", value, 255)?;
    match v.split_once('@') {
        Some((local, domain)) if !local.is_empty() && domain.contains('.') && !v.contains(' ') => {
            Ok(v)
        }
        _ => Err(ActionError::Invalid(format!("{v} is not an email address"))),
    }
}

fn validate_plan(plan: &str) -> Result<String, ActionError> {
    let p = plan.trim();
    if PLANS.contains(&p) {
        Ok(p.to_string())
    } else {
        Err(ActionError::Invalid(format!(
            "unknown plan {p:?}; one of {}",
            PLANS.join(", ")
        )))
    }
}

/// An E.164 number: `+`, a country code not starting with 0, at most 15 digits in all.
/// Spaces, dashes, dots and brackets are dropped first.
pub fn validate_e164(value: &str) -> Result<String, ActionError> {
    let compact: String = value
        .trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
        .collect();
    let digits = compact.strip_prefix('+').unwrap_or("");
    let ok = !digits.is_empty()
        && digits.len() <= 15
        && digits.len() >= 8
        && digits.chars().all(|c| c.is_ascii_digit())
        && !digits.starts_with('0');
    if ok {
        Ok(compact)
    } else {
        Err(ActionError::Invalid(format!(
            "{:?} is not an E.164 number (e.g. +14155550100)",
            value.trim()
        )))
    }
}

/// What an applied (or skipped) request did.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub action: &'static str,
    pub resource_type: &'static str,
    pub resource_id: Option<Uuid>,
    pub old: Option<Value>,
    pub new: Option<Value>,
    /// The audit row written; none when nothing changed.
    pub audit_id: Option<Uuid>,
    pub status: Applied,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    Done,
    /// The row already held the new values: nothing was written.
    Unchanged,
    /// The idempotency key was used before: the change was applied then, not again.
    AlreadyApplied,
}

impl Outcome {
    /// One line for the status bar or the command line: each changed column old → new.
    pub fn summary(&self) -> String {
        let empty = serde_json::Map::new();
        let old = self
            .old
            .as_ref()
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let new = self
            .new
            .as_ref()
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let changes: Vec<String> = new
            .iter()
            .filter(|(k, _)| k.as_str() != "session_ids")
            .map(|(k, v)| match old.get(k) {
                Some(was) => format!("{k} {} → {}", show(was), show(v)),
                None => format!("{k} {}", show(v)),
            })
            .collect();
        match self.status {
            Applied::Done => format!("{}: {}", self.action, changes.join(", ")),
            Applied::Unchanged => format!("{}: nothing to change", self.action),
            Applied::AlreadyApplied => format!("{}: already applied, not repeated", self.action),
        }
    }

    /// The outcome for `--json`.
    pub fn to_json(&self) -> Value {
        json!({
            "status": match self.status {
                Applied::Done => "done",
                Applied::Unchanged => "unchanged",
                Applied::AlreadyApplied => "already_applied",
            },
            "action": self.action,
            "resource_type": self.resource_type,
            "resource_id": self.resource_id,
            "old": self.old,
            "new": self.new,
            "audit_id": self.audit_id,
        })
    }
}

/// A JSON value for a person: strings without quotes unless empty, null as "none".
fn show(v: &Value) -> String {
    match v {
        Value::Null => "none".into(),
        Value::String(s) if !s.is_empty() => s.clone(),
        other => other.to_string(),
    }
}

/// Inserts the audit row of a change. `ip_address` and `user_agent` come from the context.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn audit(
    tx: &mut Tx,
    actor: Option<Uuid>,
    ctx: &AuditContext,
    action: &str,
    resource_type: &str,
    resource_id: Option<Uuid>,
    old: Option<Value>,
    new: Option<Value>,
) -> Result<Uuid, DbError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO audit_logs \
           (user_id, action, resource_type, resource_id, old_values, new_values, ip_address, user_agent) \
         VALUES ($1, $2, $3, $4, $5, $6, $7::inet, $8) RETURNING id",
    )
    .bind(actor)
    .bind(action)
    .bind(resource_type)
    .bind(resource_id)
    .bind(old)
    .bind(new)
    .bind(ctx.ip.map(|ip| ip.to_string()))
    .bind(&ctx.user_agent)
    .fetch_one(&mut **tx)
    .await?)
}

/// The actor's role as the database has it now: a demoted or deactivated admin loses their
/// rights at once, whatever the console was started with.
async fn current_role(tx: &mut Tx, actor: &Actor) -> Result<Role, ActionError> {
    let row: Option<(String, bool)> =
        // FOR SHARE: a concurrent demotion waits for this change (or this change sees it).
        sqlx::query_as("SELECT role, is_active FROM users WHERE id = $1 FOR SHARE")
            .bind(actor.id)
            .fetch_optional(&mut **tx)
            .await
            .map_err(DbError::from)?;
    match row {
        Some((role, true)) => match Role::parse(&role) {
            Some(r) if r.is_admin() => Ok(r),
            _ => Err(ActionError::Forbidden(format!(
                "{} is no longer an admin",
                actor.email
            ))),
        },
        _ => Err(ActionError::Forbidden(format!(
            "{} is no longer an active account",
            actor.email
        ))),
    }
}

/// The most an admin may add or take in one credit change, as the database says now.
pub async fn credit_cap<'e, E>(executor: E) -> Result<i64, ActionError>
where
    E: sqlx::PgExecutor<'e>,
{
    let cap: Option<i64> = sqlx::query_scalar(
        "SELECT (value #>> '{}')::bigint FROM console_settings WHERE key = 'admin_credit_cap'",
    )
    .fetch_optional(executor)
    .await
    .map_err(DbError::from)?;
    Ok(cap.unwrap_or(DEFAULT_ADMIN_CREDIT_CAP))
}

/// Turns a constraint violation into words; anything else stays a database error.
fn explain_db_error(e: sqlx::Error, subject: &str) -> ActionError {
    if let sqlx::Error::Database(d) = &e {
        let constraint = d.constraint().unwrap_or_default();
        let text = match constraint {
            "idx_phone_numbers_unique_active" => Some(format!(
                "{subject} is already active in another phone number row"
            )),
            "phone_numbers_bolna_phone_number_id_key" => Some(format!(
                "the Bolna phone number id {subject} is already used"
            )),
            "users_email_key" => Some(format!("a user with the email {subject} already exists")),
            _ if d.code().as_deref() == Some("22003") => {
                Some("the balance would exceed the largest value the database holds".to_string())
            }
            _ if d.code().as_deref() == Some("25006") => {
                return ActionError::ReadOnly;
            }
            _ => None,
        };
        if let Some(text) = text {
            return ActionError::Invalid(text);
        }
    }
    ActionError::from(DbError::from(e))
}

/// Applies `req` as `session`'s admin: the change and its one audit row in one transaction, or
/// nothing at all. A permission refusal is itself recorded (`admin.refused`) in a transaction of
/// its own.
pub async fn apply(
    pool: &PgPool,
    session: &Session,
    req: &Request,
) -> Result<Outcome, ActionError> {
    if session.read_only {
        return Err(ActionError::ReadOnly);
    }
    let req = req.validated()?;
    let result = apply_checked(pool, session, &req).await;
    if let Err(ActionError::Forbidden(why)) = &result {
        record_refusal(pool, session, req.action(), req.resource(), why).await;
    }
    result
}

/// Before a form opens: refuses what the admin may not do (recorded like any refusal, before the
/// admin types anything) and reads what the target holds now, which the form starts from.
pub async fn prepare(
    pool: &PgPool,
    session: &Session,
    verb: Verb,
    kind: crate::db::lists::ListKind,
    id: Option<Uuid>,
) -> Result<Option<targets::Target>, ActionError> {
    if session.read_only {
        return Err(ActionError::ReadOnly);
    }
    let check = async {
        session.actor.role.require(verb.min_role(), verb.name())?;
        let mut tx = pool.begin().await.map_err(DbError::from)?;
        let role = current_role(&mut tx, &session.actor).await?;
        tx.rollback().await.map_err(DbError::from)?;
        role.require(verb.min_role(), verb.name())
    };
    if let Err(e) = check.await {
        if let ActionError::Forbidden(why) = &e {
            let resource_type = match kind {
                crate::db::lists::ListKind::Tenants => "tenant",
                crate::db::lists::ListKind::Agents => "agent",
                crate::db::lists::ListKind::PhoneNumbers => "phone_number",
                _ => "user",
            };
            record_refusal(pool, session, verb.name(), (resource_type, id), why).await;
        }
        return Err(e);
    }
    match id {
        Some(id) => targets::load(pool, kind, id).await.map(Some),
        None => Ok(None),
    }
}

/// Refuses unless the session's admin is still an active admin (read now, from the database).
pub async fn ensure_admin(pool: &PgPool, session: &Session) -> Result<(), ActionError> {
    let mut tx = pool.begin().await.map_err(DbError::from)?;
    current_role(&mut tx, &session.actor).await?;
    tx.rollback().await.map_err(DbError::from)?;
    Ok(())
}

/// Records an audit export (`audit.export`): who took which rows out, and where to.
pub async fn record_export(
    pool: &PgPool,
    session: &Session,
    filter: &str,
    format: crate::db::export::Format,
    rows: u64,
    output: &str,
) -> Result<(), ActionError> {
    let format = match format {
        crate::db::export::Format::Csv => "csv",
        crate::db::export::Format::Jsonl => "jsonl",
    };
    let mut tx = pool.begin().await.map_err(DbError::from)?;
    audit(
        &mut tx,
        Some(session.actor.id),
        &session.ctx,
        "audit.export",
        "audit_log",
        None,
        None,
        Some(json!({"filter": filter, "format": format, "rows": rows, "output": output})),
    )
    .await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok(())
}

async fn record_refusal(
    pool: &PgPool,
    session: &Session,
    action: &str,
    (resource_type, resource_id): (&str, Option<Uuid>),
    why: &str,
) {
    let write = async {
        let mut tx = pool.begin().await?;
        audit(
            &mut tx,
            Some(session.actor.id),
            &session.ctx,
            "admin.refused",
            resource_type,
            resource_id,
            None,
            Some(json!({"action": action, "reason": why})),
        )
        .await?;
        tx.commit().await?;
        Ok::<_, DbError>(())
    };
    if let Err(e) = write.await {
        tracing::warn!("recording a refusal: {e}");
    }
}

async fn apply_checked(
    pool: &PgPool,
    session: &Session,
    req: &Request,
) -> Result<Outcome, ActionError> {
    // Refuse early on what the session knows; the transaction checks again on fresh data.
    session.actor.role.require(req.min_role(), req.action())?;
    let mut tx = pool.begin().await.map_err(DbError::from)?;
    let role = current_role(&mut tx, &session.actor).await?;
    role.require(req.min_role(), req.action())?;
    let change = perform(&mut tx, session, role, req).await?;
    let (resource_type, resource_id) = req.resource();
    let Change {
        old,
        new,
        resource_id: created,
        status,
    } = change;
    let resource_id = resource_id.or(created);
    let audit_id = match status {
        Applied::Done => {
            let id = audit(
                &mut tx,
                Some(session.actor.id),
                &session.ctx,
                req.action(),
                resource_type,
                resource_id,
                old.clone(),
                new.clone(),
            )
            .await?;
            if let Request::AdjustCredits { key, .. } = req {
                sqlx::query("UPDATE admin_idempotency_keys SET audit_log_id = $2 WHERE key = $1")
                    .bind(key)
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .map_err(DbError::from)?;
            }
            tx.commit().await.map_err(DbError::from)?;
            Some(id)
        }
        Applied::Unchanged | Applied::AlreadyApplied => {
            tx.rollback().await.map_err(DbError::from)?;
            None
        }
    };
    Ok(Outcome {
        action: req.action(),
        resource_type,
        resource_id,
        old,
        new,
        audit_id,
        status,
    })
}

/// What `perform` did, before the audit row.
struct Change {
    old: Option<Value>,
    new: Option<Value>,
    /// The id of a row `perform` created.
    resource_id: Option<Uuid>,
    status: Applied,
}

impl Change {
    fn done(old: Value, new: Value) -> Change {
        Change {
            old: Some(old),
            new: Some(new),
            resource_id: None,
            status: Applied::Done,
        }
    }

    fn unchanged() -> Change {
        Change {
            old: None,
            new: None,
            resource_id: None,
            status: Applied::Unchanged,
        }
    }
}

/// A table the simple one-column edits touch.
#[derive(Debug, Clone, Copy)]
enum Table {
    Users,
    Tenants,
    Agents,
    PhoneNumbers,
}

impl Table {
    fn name(self) -> &'static str {
        match self {
            Table::Users => "users",
            Table::Tenants => "tenants",
            Table::Agents => "agents",
            Table::PhoneNumbers => "phone_numbers",
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Table::Users => "user",
            Table::Tenants => "tenant",
            Table::Agents => "agent",
            Table::PhoneNumbers => "phone number",
        }
    }
}

/// A value of one of the columns the edits touch.
#[derive(Debug, Clone, PartialEq)]
enum Val {
    Text(Option<String>),
    Bool(bool),
    Id(Option<Uuid>),
}

impl Val {
    fn json(&self) -> Value {
        match self {
            Val::Text(t) => json!(t),
            Val::Bool(b) => json!(b),
            Val::Id(u) => json!(u),
        }
    }

    fn bind<'q>(
        &self,
        q: sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments>,
    ) -> sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments> {
        match self {
            Val::Text(t) => q.bind(t.clone()),
            Val::Bool(b) => q.bind(*b),
            Val::Id(u) => q.bind(*u),
        }
    }
}

/// Sets `column` of row `id` from `from` to `to`, only if it still holds `from` (what the admin
/// saw). The old and new values name exactly that column, plus `extra` in the new ones.
async fn set_column(
    tx: &mut Tx,
    table: Table,
    id: Uuid,
    column: &'static str,
    from: Val,
    to: Val,
) -> Result<Change, ActionError> {
    if from == to {
        return Ok(Change::unchanged());
    }
    let sql = format!(
        "UPDATE {t} SET {column} = $2 WHERE id = $1 AND {column} IS NOT DISTINCT FROM $3 RETURNING id",
        t = table.name()
    );
    let q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id);
    let q = from.bind(to.bind(q));
    let done = q
        .fetch_optional(&mut **tx)
        .await
        .map_err(|e| explain_db_error(e, table.noun()))?;
    if done.is_some() {
        return Ok(Change::done(
            json!({ column: from.json() }),
            json!({ column: to.json() }),
        ));
    }
    let sql = format!(
        "SELECT coalesce(to_jsonb({column}), 'null'::jsonb) FROM {t} WHERE id = $1",
        t = table.name()
    );
    let current: Option<Value> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await
        .map_err(DbError::from)?;
    match current {
        None => Err(ActionError::NotFound(format!(
            "the {} {id} no longer exists",
            table.noun()
        ))),
        Some(now) if now == to.json() => Ok(Change::unchanged()),
        Some(now) => Err(ActionError::Conflict {
            what: table.noun().to_string(),
            current: json!({ column: now }),
        }),
    }
}

/// A user's role and whether it is active, locked for the rest of the transaction.
async fn lock_user(tx: &mut Tx, user: Uuid) -> Result<(Role, bool, String), ActionError> {
    let row: Option<(String, bool, String)> =
        sqlx::query_as("SELECT role, is_active, email FROM users WHERE id = $1 FOR UPDATE")
            .bind(user)
            .fetch_optional(&mut **tx)
            .await
            .map_err(DbError::from)?;
    let (role, active, email) =
        row.ok_or_else(|| ActionError::NotFound(format!("the user {user} no longer exists")))?;
    Ok((Role::parse(&role).unwrap_or(Role::User), active, email))
}

/// Admins manage customers; changing another admin's account takes a super_admin.
fn require_rank_over(actor_role: Role, target_role: Role, what: &str) -> Result<(), ActionError> {
    if target_role.is_admin() && actor_role < Role::SuperAdmin {
        return Err(ActionError::Forbidden(format!(
            "{what} of an {} account needs super_admin",
            target_role.as_str()
        )));
    }
    Ok(())
}

/// Refuses to leave the platform without an active super_admin.
async fn require_other_super_admin(tx: &mut Tx, user: Uuid, what: &str) -> Result<(), ActionError> {
    auth::lock_super_admins(tx).await?;
    let others: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM users WHERE role = 'super_admin' AND is_active AND id <> $1",
    )
    .bind(user)
    .fetch_one(&mut **tx)
    .await
    .map_err(DbError::from)?;
    if others == 0 {
        return Err(ActionError::Forbidden(format!(
            "{what}: this is the last active super_admin"
        )));
    }
    Ok(())
}

fn not_system_tenant(tenant: Uuid) -> Result<(), ActionError> {
    if tenant == SYSTEM_TENANT {
        Err(ActionError::Forbidden(
            "the system tenant cannot be changed".into(),
        ))
    } else {
        Ok(())
    }
}

async fn perform(
    tx: &mut Tx,
    session: &Session,
    role: Role,
    req: &Request,
) -> Result<Change, ActionError> {
    let me = session.actor.id;
    match req {
        Request::AdjustCredits {
            user,
            delta,
            reason,
            key,
        } => {
            if *user == me {
                return Err(ActionError::Forbidden(
                    "you cannot change your own credits".into(),
                ));
            }
            let (target, _, _) = lock_user(tx, *user).await?;
            require_rank_over(role, target, "changing the credits")?;
            let cap = credit_cap(&mut **tx).await?;
            if role < Role::SuperAdmin && delta.abs() > cap {
                return Err(ActionError::Forbidden(format!(
                    "admins may change credits by at most {cap} at a time; {} needs a super_admin",
                    delta.abs()
                )));
            }
            let fresh: Option<Uuid> = sqlx::query_scalar(
                "INSERT INTO admin_idempotency_keys (key, action, resource_id) VALUES ($1, $2, $3) \
                 ON CONFLICT (key) DO NOTHING RETURNING key",
            )
            .bind(key)
            .bind(req.action())
            .bind(user)
            .fetch_optional(&mut **tx)
            .await
            .map_err(DbError::from)?;
            if fresh.is_none() {
                // The key was used: for this very change (a retry) or, wrongly, for another.
                let (action, resource): (String, Uuid) = sqlx::query_as(
                    "SELECT action, resource_id FROM admin_idempotency_keys WHERE key = $1",
                )
                .bind(key)
                .fetch_one(&mut **tx)
                .await
                .map_err(DbError::from)?;
                if action != req.action() || resource != *user {
                    return Err(ActionError::Invalid(format!(
                        "the idempotency key {key} was used for another change ({action}); \
                         nothing was written"
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
            let balance: Option<i64> = sqlx::query_scalar(
                "UPDATE users SET credits = credits + $2 WHERE id = $1 AND credits + $2 >= 0 \
                 RETURNING credits::bigint",
            )
            .bind(user)
            .bind(*delta as i32)
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
                        sqlx::query_scalar("SELECT credits::bigint FROM users WHERE id = $1")
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
        Request::SetUserActive { user, active } => {
            let (target, _, _) = lock_user(tx, *user).await?;
            require_rank_over(role, target, "deactivating or activating")?;
            if !active {
                if *user == me {
                    return Err(ActionError::Forbidden(
                        "you cannot deactivate your own account".into(),
                    ));
                }
                if target == Role::SuperAdmin {
                    require_other_super_admin(tx, *user, "cannot deactivate").await?;
                }
            }
            set_column(
                tx,
                Table::Users,
                *user,
                "is_active",
                Val::Bool(!active),
                Val::Bool(*active),
            )
            .await
        }
        Request::RevokeSessions { user } => {
            let (target, _, _) = lock_user(tx, *user).await?;
            require_rank_over(role, target, "revoking the sessions")?;
            let revoked: Vec<Uuid> = sqlx::query_scalar(
                "DELETE FROM user_sessions WHERE user_id = $1 AND expires_at > now() RETURNING id",
            )
            .bind(user)
            .fetch_all(&mut **tx)
            .await
            .map_err(DbError::from)?;
            if revoked.is_empty() {
                return Ok(Change::unchanged());
            }
            let mut ids = revoked;
            ids.sort();
            Ok(Change::done(
                json!({"active_sessions": ids.len(), "session_ids": ids}),
                json!({"active_sessions": 0}),
            ))
        }
        Request::MarkEmailVerified { user } => {
            let (target, _, _) = lock_user(tx, *user).await?;
            require_rank_over(role, target, "verifying the email")?;
            set_column(
                tx,
                Table::Users,
                *user,
                "email_verified",
                Val::Bool(false),
                Val::Bool(true),
            )
            .await
        }
        Request::SetRole { user, from, to } => {
            if *user == me {
                return Err(ActionError::Forbidden(
                    "you cannot change your own role".into(),
                ));
            }
            lock_user(tx, *user).await?;
            if *from == Role::SuperAdmin && *to != Role::SuperAdmin {
                require_other_super_admin(tx, *user, "cannot demote").await?;
            }
            set_column(
                tx,
                Table::Users,
                *user,
                "role",
                Val::Text(Some(from.as_str().into())),
                Val::Text(Some(to.as_str().into())),
            )
            .await
        }
        Request::MoveUser { user, from, to } => {
            lock_user(tx, *user).await?;
            let t = targets::tenant_shared(tx, to).await?;
            let (tenant, active) = (t.id, t.is_active);
            if !active {
                return Err(ActionError::Invalid(
                    "that tenant is inactive; reactivate it first".into(),
                ));
            }
            set_column(
                tx,
                Table::Users,
                *user,
                "tenant_id",
                Val::Id(Some(*from)),
                Val::Id(Some(tenant)),
            )
            .await
        }
        Request::CreateTenant { name, plan } => {
            let id: Uuid =
                sqlx::query_scalar("INSERT INTO tenants (name, plan) VALUES ($1, $2) RETURNING id")
                    .bind(name)
                    .bind(plan)
                    .fetch_one(&mut **tx)
                    .await
                    .map_err(|e| explain_db_error(e, name))?;
            Ok(Change {
                old: None,
                new: Some(json!({"name": name, "plan": plan, "is_active": true})),
                resource_id: Some(id),
                status: Applied::Done,
            })
        }
        Request::RenameTenant { tenant, from, to } => {
            not_system_tenant(*tenant)?;
            set_column(
                tx,
                Table::Tenants,
                *tenant,
                "name",
                Val::Text(Some(from.clone())),
                Val::Text(Some(to.clone())),
            )
            .await
        }
        Request::SetPlan { tenant, from, to } => {
            not_system_tenant(*tenant)?;
            set_column(
                tx,
                Table::Tenants,
                *tenant,
                "plan",
                Val::Text(Some(from.clone())),
                Val::Text(Some(to.clone())),
            )
            .await
        }
        Request::SetTenantActive { tenant, active } => {
            not_system_tenant(*tenant)?;
            set_column(
                tx,
                Table::Tenants,
                *tenant,
                "is_active",
                Val::Bool(!active),
                Val::Bool(*active),
            )
            .await
        }
        Request::RenameAgent { agent, from, to } => {
            set_column(
                tx,
                Table::Agents,
                *agent,
                "name",
                Val::Text(Some(from.clone())),
                Val::Text(Some(to.clone())),
            )
            .await
        }
        Request::SetAgentDescription { agent, from, to } => {
            set_column(
                tx,
                Table::Agents,
                *agent,
                "description",
                Val::Text(from.clone()),
                Val::Text(to.clone()),
            )
            .await
        }
        Request::SetAgentActive { agent, active } => {
            set_column(
                tx,
                Table::Agents,
                *agent,
                "is_active",
                Val::Bool(!active),
                Val::Bool(*active),
            )
            .await
        }
        Request::AddNumber {
            number,
            name,
            bolna_id,
        } => {
            // Check the two unique keys first so that the message names the clash; the
            // constraints still decide under a race.
            let active_clash: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM phone_numbers WHERE phone_number = $1 AND is_active)",
            )
            .bind(number)
            .fetch_one(&mut **tx)
            .await
            .map_err(DbError::from)?;
            if active_clash {
                return Err(ActionError::Invalid(format!(
                    "{number} is already active in another phone number row"
                )));
            }
            let id: Uuid = sqlx::query_scalar(
                "INSERT INTO phone_numbers (phone_number, name, bolna_phone_number_id, created_by_admin_id) \
                 VALUES ($1, $2, $3, $4) RETURNING id",
            )
            .bind(number)
            .bind(name)
            .bind(bolna_id)
            .bind(me)
            .fetch_one(&mut **tx)
            .await
            .map_err(|e| match &e {
                sqlx::Error::Database(d)
                    if d.constraint() == Some("phone_numbers_bolna_phone_number_id_key") =>
                {
                    explain_db_error(e, bolna_id)
                }
                _ => explain_db_error(e, number),
            })?;
            Ok(Change {
                old: None,
                new: Some(json!({
                    "phone_number": number,
                    "name": name,
                    "bolna_phone_number_id": bolna_id,
                    "is_active": true,
                })),
                resource_id: Some(id),
                status: Applied::Done,
            })
        }
        Request::AssignNumber { number, from, to } => {
            let u = targets::user_shared(tx, to).await?;
            let (user, user_active, email) = (u.id, u.is_active, u.email);
            if !user_active {
                return Err(ActionError::Invalid(format!(
                    "{email} is inactive: numbers are assigned only to active users"
                )));
            }
            let active: Option<bool> =
                sqlx::query_scalar("SELECT is_active FROM phone_numbers WHERE id = $1 FOR UPDATE")
                    .bind(number)
                    .fetch_optional(&mut **tx)
                    .await
                    .map_err(DbError::from)?;
            match active {
                None => {
                    return Err(ActionError::NotFound(format!(
                        "the phone number {number} no longer exists"
                    )));
                }
                Some(false) => {
                    return Err(ActionError::Invalid(
                        "the number is inactive; reactivate it before assigning it".into(),
                    ));
                }
                Some(true) => {}
            }
            set_column(
                tx,
                Table::PhoneNumbers,
                *number,
                "assigned_to_user_id",
                Val::Id(*from),
                Val::Id(Some(user)),
            )
            .await
        }
        Request::UnassignNumber { number, from } => {
            set_column(
                tx,
                Table::PhoneNumbers,
                *number,
                "assigned_to_user_id",
                Val::Id(Some(*from)),
                Val::Id(None),
            )
            .await
        }
        Request::SetCreditCap { from, to } => {
            if from == to {
                return Ok(Change::unchanged());
            }
            let done = sqlx::query(
                "UPDATE console_settings SET value = to_jsonb($2::bigint), updated_at = now() \
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
                if now == *to {
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
        Request::SetNumberActive { number, active } => {
            if *active {
                let clash: Option<String> = sqlx::query_scalar(
                    "SELECT p.phone_number FROM phone_numbers p \
                     WHERE p.id = $1 AND EXISTS (SELECT 1 FROM phone_numbers o \
                       WHERE o.phone_number = p.phone_number AND o.is_active AND o.id <> p.id)",
                )
                .bind(number)
                .fetch_optional(&mut **tx)
                .await
                .map_err(DbError::from)?;
                if let Some(n) = clash {
                    return Err(ActionError::Invalid(format!(
                        "{n} is already active in another phone number row; deactivate that one first"
                    )));
                }
            }
            set_column(
                tx,
                Table::PhoneNumbers,
                *number,
                "is_active",
                Val::Bool(!active),
                Val::Bool(*active),
            )
            .await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e164_numbers_are_normalised_and_checked() {
        assert_eq!(
            validate_e164(" +1 (415) 555-0100 ").unwrap(),
            "+14155550100"
        );
        for bad in [
            "14155550100",
            "+0123456789",
            "+1415555010012345",
            "+1415abc0100",
            "+",
            "",
        ] {
            assert!(validate_e164(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ssh_client_address_is_the_first_word() {
        assert_eq!(
            client_ip(Some("203.0.113.9 52144 10.0.0.5 22")),
            Some("203.0.113.9".parse().unwrap())
        );
        assert_eq!(
            client_ip(Some("2001:db8::1 52144 2001:db8::2 22")),
            Some("2001:db8::1".parse().unwrap())
        );
        assert_eq!(client_ip(Some("garbage")), None);
        assert_eq!(client_ip(None), None);
    }

    #[test]
    fn text_fields_refuse_blank_control_characters_and_overlong_values() {
        assert_eq!(validate_text("name", "  Acme  ", 10).unwrap(), "Acme");
        assert!(validate_text("name", "   ", 10).is_err());
        assert!(validate_text("name", "a\x1bb", 10).is_err());
        assert!(validate_text("name", "abcdefghijk", 10).is_err());
    }

    #[test]
    fn credit_amounts_must_be_whole_positive_and_bounded() {
        let r = |delta| Request::AdjustCredits {
            user: Uuid::nil(),
            delta,
            reason: "x".into(),
            key: Uuid::nil(),
        };
        assert!(r(0).validated().is_err());
        assert!(r(MAX_CREDIT_CHANGE + 1).validated().is_err());
        assert!(r(-MAX_CREDIT_CHANGE - 1).validated().is_err());
        assert!(r(MAX_CREDIT_CHANGE).validated().is_ok());
        assert_eq!(r(5).action(), "credits.top_up");
        assert_eq!(r(-5).action(), "credits.deduct");
    }
}
