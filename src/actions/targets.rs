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
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantState {
    pub id: Uuid,
    pub name: String,
    pub plan: String,
    pub is_active: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentState {
    pub id: Uuid,
    pub name: String,
    pub description: Option<String>,
    pub is_active: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
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

type UserRow = (
    Uuid,
    String,
    String,
    String,
    bool,
    bool,
    i64,
    Uuid,
    String,
    i64,
);

const USER_SQL: &str = "SELECT u.id, u.email, u.name, u.role, u.is_active, u.email_verified, \
            u.credits::bigint, u.tenant_id, t.name, \
            (SELECT count(*) FROM user_sessions s WHERE s.user_id = u.id AND s.expires_at > now()) \
     FROM users u JOIN tenants t ON t.id = u.tenant_id";

fn user_state(r: UserRow) -> UserState {
    UserState {
        id: r.0,
        email: r.1,
        name: r.2,
        role: Role::parse(&r.3).unwrap_or(Role::User),
        is_active: r.4,
        email_verified: r.5,
        credits: r.6,
        tenant_id: r.7,
        tenant_name: r.8,
        active_sessions: r.9,
    }
}

/// A user by email or id.
pub async fn user(pool: &PgPool, which: &str) -> Result<UserState, ActionError> {
    user_with(pool, which, "").await
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
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "{USER_SQL} WHERE u.id = $1{lock}"
            )))
            .bind(id)
            .fetch_optional(executor)
            .await
        }
        Err(_) => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
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
    tenant_with(pool, which, "").await
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
    let rows: Vec<(Uuid, String, String, bool)> = match Uuid::parse_str(which) {
        Ok(id) => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!("{SQL} WHERE id = $1{lock}")))
                .bind(id)
                .fetch_all(executor)
                .await
        }
        Err(_) => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "{SQL} WHERE name = $1 LIMIT 2{lock}"
            )))
            .bind(which)
            .fetch_all(executor)
            .await
        }
    }
    .map_err(DbError::from)?;
    match rows.as_slice() {
        [(id, name, plan, is_active)] => Ok(TenantState {
            id: *id,
            name: name.clone(),
            plan: plan.clone(),
            is_active: *is_active,
        }),
        [] => Err(ActionError::NotFound(format!(
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
    let row: Option<(Uuid, String, Option<String>, bool)> = sqlx::query_as(
        "SELECT id, name, description, is_active FROM agents \
         WHERE bolna_agent_id = $1 OR id = $2 ORDER BY (id = $2) DESC NULLS LAST LIMIT 1",
    )
    .bind(which)
    .bind(Uuid::parse_str(which).ok())
    .fetch_optional(pool)
    .await
    .map_err(DbError::from)?;
    row.map(|(id, name, description, is_active)| AgentState {
        id,
        name,
        description,
        is_active,
    })
    .ok_or_else(|| ActionError::NotFound(format!("no agent has the id or Bolna id {which}")))
}

/// A phone number row by id, or by number: its active row, else its only row.
pub async fn number(pool: &PgPool, which: &str) -> Result<NumberState, ActionError> {
    let which = which.trim();
    const SQL: &str = "SELECT p.id, p.phone_number, p.name, p.assigned_to_user_id, u.email, p.is_active \
         FROM phone_numbers p LEFT JOIN users u ON u.id = p.assigned_to_user_id";
    type Row = (Uuid, String, String, Option<Uuid>, Option<String>, bool);
    let rows: Vec<Row> = match Uuid::parse_str(which) {
        Ok(id) => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!("{SQL} WHERE p.id = $1")))
                .bind(id)
                .fetch_all(pool)
                .await
        }
        Err(_) => {
            let number = super::validate_e164(which)?;
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "{SQL} WHERE p.phone_number = $1 ORDER BY p.is_active DESC, p.created_at DESC LIMIT 2"
            )))
            .bind(number)
            .fetch_all(pool)
            .await
        }
    }
    .map_err(DbError::from)?;
    let pick = match rows.as_slice() {
        [] => {
            return Err(ActionError::NotFound(format!(
                "no phone number row has the number or id {which}"
            )));
        }
        [one] => one,
        [first, _] if first.5 => first,
        _ => {
            return Err(ActionError::Invalid(format!(
                "{which} has several inactive rows; give the row's id"
            )));
        }
    };
    Ok(NumberState {
        id: pick.0,
        phone_number: pick.1.clone(),
        name: pick.2.clone(),
        assigned_to: pick.3,
        assigned_email: pick.4.clone(),
        is_active: pick.5,
    })
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
