//! The rules and edits every change shares: the admin's role read afresh, the rules about
//! admins and the last super_admin, constraint violations in words, and the one-column edit with
//! optimistic concurrency (`set_column`). The resource files build their changes from these.

use serde_json::{Value, json};
use sqlx::{PgPool, Postgres};
use uuid::Uuid;

use super::{ActionError, Actor, Applied, Role, Tx};
use crate::db::DbError;

/// The actor's role as the database has it now: a demoted or deactivated admin loses their
/// rights at once, whatever the console was started with.
pub(super) async fn current_role(tx: &mut Tx, actor: &Actor) -> Result<Role, ActionError> {
    // FOR SHARE: a concurrent demotion waits for this change (or this change sees it).
    let row: Option<(String, bool)> =
        crate::db::query_as("SELECT role, is_active FROM users WHERE id = $1 FOR SHARE")
            .bind(actor.id)
            .fetch_optional(&mut **tx)
            .await
            .map_err(DbError::from)?;
    admin_role(actor, row)
}

/// The actor's role as the database has it now, read without a lock: for checks outside a
/// change (an export), which work in read-only sessions too.
pub(super) async fn current_role_now(pool: &PgPool, actor: &Actor) -> Result<Role, ActionError> {
    let row: Option<(String, bool)> =
        crate::db::query_as("SELECT role, is_active FROM users WHERE id = $1")
            .bind(actor.id)
            .fetch_optional(&mut *crate::db::pinned(pool).await?)
            .await
            .map_err(DbError::from)?;
    admin_role(actor, row)
}

/// For the super_admin-only operations outside the action catalogue (the archive, the legacy
/// import): a writable session and a super_admin as the session says and as the database says
/// now; a refusal is recorded on `resource`.
pub(super) async fn require_super_admin(
    pool: &PgPool,
    session: &super::Session,
    action: &str,
    resource: (&str, Option<Uuid>),
) -> Result<(), ActionError> {
    if session.read_only {
        let why = ActionError::ReadOnly.to_string();
        super::audit::record_refusal(pool, session, action, resource, &why).await;
        return Err(ActionError::ReadOnly);
    }
    let allowed = async {
        session.actor.role.require(Role::SuperAdmin, action)?;
        current_role_now(pool, &session.actor)
            .await?
            .require(Role::SuperAdmin, action)
    };
    let result = allowed.await;
    if let Err(ActionError::Forbidden(why)) = &result {
        super::audit::record_refusal(pool, session, action, resource, why).await;
    }
    result
}

/// The role of an active admin account, else why it is no longer one.
fn admin_role(actor: &Actor, row: Option<(String, bool)>) -> Result<Role, ActionError> {
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

/// Turns a constraint violation into words; anything else stays a database error.
pub(super) fn explain_db_error(e: sqlx::Error, subject: &str) -> ActionError {
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

/// Takes the lock that serialises changes to who is a super_admin, so two of them racing cannot
/// both pass a check such as "another super_admin remains".
pub(super) async fn lock_super_admins(tx: &mut Tx) -> Result<(), DbError> {
    crate::db::query("SELECT pg_advisory_xact_lock(hashtext('switchboard.super_admins'))")
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// What `perform` did, before the audit row.
pub(super) struct Change {
    pub old: Option<Value>,
    pub new: Option<Value>,
    /// The id of a row `perform` created.
    pub resource_id: Option<Uuid>,
    pub status: Applied,
}

impl Change {
    pub fn done(old: Value, new: Value) -> Change {
        Change {
            old: Some(old),
            new: Some(new),
            resource_id: None,
            status: Applied::Done,
        }
    }

    pub fn unchanged() -> Change {
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
pub(super) enum Table {
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
pub(super) enum Val {
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
pub(super) async fn set_column(
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
    let q = crate::db::query(sqlx::AssertSqlSafe(sql)).bind(id);
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
    let current: Option<Value> = crate::db::query_scalar(sqlx::AssertSqlSafe(sql))
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

/// A user's role, locked for the rest of the transaction.
pub(super) async fn lock_user(tx: &mut Tx, user: Uuid) -> Result<Role, ActionError> {
    let role: Option<String> =
        crate::db::query_scalar("SELECT role FROM users WHERE id = $1 FOR UPDATE")
            .bind(user)
            .fetch_optional(&mut **tx)
            .await
            .map_err(DbError::from)?;
    let role =
        role.ok_or_else(|| ActionError::NotFound(format!("the user {user} no longer exists")))?;
    Ok(Role::parse(&role).unwrap_or(Role::User))
}

/// What is refused on the target as it was read when the form opens, before anything is
/// typed: one's own credits or role, another admin's credits without super_admin, an inactive
/// number to assign. The same rules run again in the change's transaction, on the row as it is
/// then; these only spare the admin a form that cannot succeed.
pub(super) fn refused_on_open(
    verb: super::Verb,
    actor: &Actor,
    role: Role,
    target: &super::targets::Target,
) -> Result<(), ActionError> {
    use super::Verb;
    use super::targets::Target;
    match (verb, target) {
        (Verb::TopUp | Verb::Deduct, Target::User(u)) => {
            if u.id == actor.id {
                return Err(own_credits());
            }
            require_rank_over(role, u.role, CHANGING_CREDITS)
        }
        (Verb::SetRole, Target::User(u)) if u.id == actor.id => Err(own_role()),
        (Verb::AssignNumber, Target::Number(n)) if !n.is_active => Err(inactive_number()),
        (Verb::RenameTenant | Verb::SetPlan | Verb::SetTenantActive, Target::Tenant(t)) => {
            not_system_tenant(t.id)
        }
        _ => Ok(()),
    }
}

/// What a credit change is called in a refusal about rank.
pub(super) const CHANGING_CREDITS: &str = "changing the credits";

pub(super) fn own_credits() -> ActionError {
    ActionError::Forbidden("you cannot change your own credits".into())
}

pub(super) fn own_role() -> ActionError {
    ActionError::Forbidden("you cannot change your own role".into())
}

pub(super) fn inactive_number() -> ActionError {
    ActionError::Invalid("the number is inactive; reactivate it before assigning it".into())
}

/// Admins manage customers; changing another admin's account takes a super_admin.
pub(super) fn require_rank_over(
    actor_role: Role,
    target_role: Role,
    what: &str,
) -> Result<(), ActionError> {
    if target_role.is_admin() && actor_role < Role::SuperAdmin {
        let account = match target_role {
            Role::Admin => "an admin",
            _ => "a super_admin",
        };
        return Err(ActionError::Forbidden(format!(
            "{what} of {account} account needs super_admin"
        )));
    }
    Ok(())
}

/// Refuses to leave the platform without an active super_admin.
pub(super) async fn require_other_super_admin(
    tx: &mut Tx,
    user: Uuid,
    what: &str,
) -> Result<(), ActionError> {
    lock_super_admins(tx).await?;
    let others: i64 = crate::db::query_scalar(
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

pub(super) fn not_system_tenant(tenant: Uuid) -> Result<(), ActionError> {
    if tenant == crate::db::SYSTEM_TENANT {
        Err(ActionError::Forbidden(
            "the system tenant cannot be changed".into(),
        ))
    } else {
        Ok(())
    }
}
