//! What an action's target holds now: read when a form opens or a command starts, so that the
//! request carries what the admin saw (and the change applies only if the row still holds it).

use sqlx::PgPool;
use uuid::Uuid;

use super::{ActionError, Role};
use crate::db::DbError;
use crate::db::lists::ListKind;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserState {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub is_active: bool,
    pub email_verified: bool,
    pub credits: i64,
    pub tenant_id: Uuid,
    pub tenant_name: String,
    pub active_sessions: i64,
    /// The most an admin (not a super_admin) may add or deduct in one change, read with the
    /// target when such an admin opens a top-up or deduction; None otherwise.
    pub credit_cap: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TenantState {
    pub id: Uuid,
    pub name: String,
    pub plan: String,
    pub is_active: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AgentState {
    pub id: Uuid,
    pub name: String,
    pub description: Option<String>,
    pub is_active: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct NumberState {
    pub id: Uuid,
    pub phone_number: String,
    pub name: String,
    pub assigned_to: Option<Uuid>,
    pub assigned_email: Option<String>,
    pub is_active: bool,
}

/// The state of any target, as the console's forms need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    User(UserState),
    Tenant(TenantState),
    Agent(AgentState),
    Number(NumberState),
}

/// A user as the query returns it (the role still text).
#[derive(sqlx::FromRow)]
struct UserRow {
    id: Uuid,
    email: String,
    name: String,
    role: String,
    is_active: bool,
    email_verified: bool,
    credits: i64,
    tenant_id: Uuid,
    tenant_name: String,
    active_sessions: i64,
}

const USER_SQL: &str = "SELECT u.id, u.email, u.name, u.role, u.is_active, u.email_verified, \
            u.credits::bigint AS credits, u.tenant_id, t.name AS tenant_name, \
            (SELECT count(*) FROM user_sessions s WHERE s.user_id = u.id AND s.expires_at > now()) \
              AS active_sessions \
     FROM users u JOIN tenants t ON t.id = u.tenant_id";

fn user_state(r: UserRow) -> UserState {
    UserState {
        id: r.id,
        email: r.email,
        name: r.name,
        role: Role::parse(&r.role).unwrap_or(Role::User),
        is_active: r.is_active,
        email_verified: r.email_verified,
        credits: r.credits,
        tenant_id: r.tenant_id,
        tenant_name: r.tenant_name,
        active_sessions: r.active_sessions,
        credit_cap: None,
    }
}

/// A user by email or id.
pub async fn user(pool: &PgPool, which: &str) -> Result<UserState, ActionError> {
    user_with(&mut *crate::db::pinned(pool).await?, which, "").await
}

/// A user by email or id, its row locked `FOR SHARE` for the rest of the transaction.
pub(crate) async fn user_shared(
    tx: &mut sqlx::Transaction<'static, sqlx::Postgres>,
    which: &str,
) -> Result<UserState, ActionError> {
    user_with(&mut **tx, which, " FOR SHARE OF u").await
}

async fn user_with<'e, E: sqlx::PgExecutor<'e>>(
    executor: E,
    which: &str,
    lock: &'static str,
) -> Result<UserState, ActionError> {
    let which = which.trim();
    let row: Option<UserRow> = match Uuid::parse_str(which) {
        Ok(id) => {
            crate::db::query_as(sqlx::AssertSqlSafe(format!(
                "{USER_SQL} WHERE u.id = $1{lock}"
            )))
            .bind(id)
            .fetch_optional(executor)
            .await
        }
        Err(_) => {
            crate::db::query_as(sqlx::AssertSqlSafe(format!(
                "{USER_SQL} WHERE u.email = $1{lock}"
            )))
            .bind(which)
            .fetch_optional(executor)
            .await
        }
    }
    .map_err(DbError::from)?;
    row.map(user_state)
        .ok_or_else(|| ActionError::NotFound(format!("no user has the email or id {which}")))
}

/// A tenant by id or exact name.
pub async fn tenant(pool: &PgPool, which: &str) -> Result<TenantState, ActionError> {
    tenant_with(&mut *crate::db::pinned(pool).await?, which, "").await
}

/// A tenant by id or exact name, its row locked `FOR SHARE` for the rest of the transaction.
pub(crate) async fn tenant_shared(
    tx: &mut sqlx::Transaction<'static, sqlx::Postgres>,
    which: &str,
) -> Result<TenantState, ActionError> {
    tenant_with(&mut **tx, which, " FOR SHARE").await
}

async fn tenant_with<'e, E: sqlx::PgExecutor<'e>>(
    executor: E,
    which: &str,
    lock: &'static str,
) -> Result<TenantState, ActionError> {
    const SQL: &str = "SELECT id, name, plan, is_active FROM tenants";
    let which = which.trim();
    let rows: Vec<TenantState> = match Uuid::parse_str(which) {
        Ok(id) => {
            crate::db::query_as(sqlx::AssertSqlSafe(format!("{SQL} WHERE id = $1{lock}")))
                .bind(id)
                .fetch_all(executor)
                .await
        }
        Err(_) => {
            crate::db::query_as(sqlx::AssertSqlSafe(format!(
                "{SQL} WHERE name = $1 LIMIT 2{lock}"
            )))
            .bind(which)
            .fetch_all(executor)
            .await
        }
    }
    .map_err(DbError::from)?;
    let mut rows = rows;
    match rows.len() {
        1 => Ok(rows.remove(0)),
        0 => Err(ActionError::NotFound(format!(
            "no tenant has the name or id {which}"
        ))),
        _ => Err(ActionError::Invalid(format!(
            "several tenants are named {which}; give its id"
        ))),
    }
}

/// An agent by id or Bolna agent id.
pub async fn agent(pool: &PgPool, which: &str) -> Result<AgentState, ActionError> {
    let which = which.trim();
    // Bolna's agent ids are often UUIDs too: match either column.
    let row: Option<AgentState> = crate::db::query_as(
        "SELECT id, name, description, is_active FROM agents \
         WHERE bolna_agent_id = $1 OR id = $2 ORDER BY (id = $2) DESC NULLS LAST LIMIT 1",
    )
    .bind(which)
    .bind(Uuid::parse_str(which).ok())
    .fetch_optional(&mut *crate::db::pinned(pool).await?)
    .await
    .map_err(DbError::from)?;
    row.ok_or_else(|| ActionError::NotFound(format!("no agent has the id or Bolna id {which}")))
}

/// A phone number row by id, or by number: its active row, else its only row.
pub async fn number(pool: &PgPool, which: &str) -> Result<NumberState, ActionError> {
    let which = which.trim();
    const SQL: &str = "SELECT p.id, p.phone_number, p.name, p.assigned_to_user_id AS assigned_to, \
                u.email AS assigned_email, p.is_active \
         FROM phone_numbers p LEFT JOIN users u ON u.id = p.assigned_to_user_id";
    let rows: Vec<NumberState> = match Uuid::parse_str(which) {
        Ok(id) => {
            crate::db::query_as(sqlx::AssertSqlSafe(format!("{SQL} WHERE p.id = $1")))
                .bind(id)
                .fetch_all(&mut *crate::db::pinned(pool).await?)
                .await
        }
        Err(_) => {
            let number = super::validate_e164(which)?;
            crate::db::query_as(sqlx::AssertSqlSafe(format!(
                "{SQL} WHERE p.phone_number = $1 ORDER BY p.is_active DESC, p.created_at DESC LIMIT 2"
            )))
            .bind(number)
            .fetch_all(&mut *crate::db::pinned(pool).await?)
            .await
        }
    }
    .map_err(DbError::from)?;
    let mut rows = rows.into_iter();
    match (rows.next(), rows.next()) {
        (None, _) => Err(ActionError::NotFound(format!(
            "no phone number row has the number or id {which}"
        ))),
        (Some(only), None) => Ok(only),
        // The active row first: a number is active in one row at most.
        (Some(first), Some(_)) if first.is_active => Ok(first),
        (Some(_), Some(_)) => Err(ActionError::Invalid(format!(
            "{which} has several inactive rows; give the row's id"
        ))),
    }
}

/// The target of an action on a row of `kind` (the Credits pane's rows are users).
pub async fn load(pool: &PgPool, kind: ListKind, id: Uuid) -> Result<Target, ActionError> {
    let id = id.to_string();
    match kind {
        ListKind::Users | ListKind::Credits => user(pool, &id).await.map(Target::User),
        ListKind::Tenants => tenant(pool, &id).await.map(Target::Tenant),
        ListKind::Agents => agent(pool, &id).await.map(Target::Agent),
        ListKind::PhoneNumbers => number(pool, &id).await.map(Target::Number),
        ListKind::AuditLog => Err(ActionError::Invalid(
            "audit entries cannot be changed".into(),
        )),
    }
}
