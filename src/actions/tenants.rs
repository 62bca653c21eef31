//! Tenants: create, rename, plan, activation; never the system tenant.

use serde_json::json;
use uuid::Uuid;

use super::rules::{Change, Table, Val, explain_db_error, not_system_tenant, set_column};
use super::{ActionError, Applied, Tx};
use crate::db::lists::KnownValues;

pub(super) async fn create(tx: &mut Tx, name: &str, plan: &str) -> Result<Change, ActionError> {
    plan_offered(tx, plan).await?;
    name_free(tx, name, None).await?;
    let id: Uuid =
        crate::db::query_scalar("INSERT INTO tenants (name, plan) VALUES ($1, $2) RETURNING id")
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

pub(super) async fn rename(
    tx: &mut Tx,
    tenant: Uuid,
    from: &str,
    to: &str,
) -> Result<Change, ActionError> {
    name_free(tx, to, Some(tenant)).await?;
    set_text(tx, tenant, "name", from, to).await
}

/// Refuses a name another tenant has (in any case, spaces at the ends aside): tenants are shown
/// by name everywhere (the Users pane, the pickers, a `tenant:` filter), and two of one name
/// cannot be told apart there. The platform's schema allows it, so the console checks, under a
/// lock on the name for the rest of the transaction, so that two consoles creating it at once
/// do not both pass. Tenants named alike before (or elsewhere) keep their names.
async fn name_free(tx: &mut Tx, name: &str, except: Option<Uuid>) -> Result<(), ActionError> {
    // The lock first, in a statement of its own: the lookup's snapshot is then taken after it,
    // and sees a tenant that a transaction holding it committed. Keyed by the name as the lookup
    // compares it (PostgreSQL's `lower(btrim())`, not Rust's case folding).
    crate::db::query(
        "SELECT pg_advisory_xact_lock(hashtextextended( \
             'switchboard.tenant_name:' || lower(btrim($1)), 0))",
    )
    .bind(name)
    .execute(&mut **tx)
    .await
    .map_err(crate::db::DbError::from)?;
    let taken: Option<Uuid> = crate::db::query_scalar(
        "SELECT id FROM tenants WHERE lower(btrim(name)) = lower(btrim($1)) \
           AND id IS DISTINCT FROM $2 LIMIT 1",
    )
    .bind(name)
    .bind(except)
    .fetch_optional(&mut **tx)
    .await
    .map_err(crate::db::DbError::from)?;
    match taken {
        Some(id) => Err(ActionError::Invalid(format!(
            "a tenant named {:?} exists already ({id}); choose another name",
            name.trim()
        ))),
        None => Ok(()),
    }
}

pub(super) async fn set_plan(
    tx: &mut Tx,
    tenant: Uuid,
    from: &str,
    to: &str,
) -> Result<Change, ActionError> {
    plan_offered(tx, to).await?;
    set_text(tx, tenant, "plan", from, to).await
}

/// Refuses a plan the database's CHECK constraint does not list, naming those it does (where
/// it has no such list, any plan goes).
async fn plan_offered(tx: &mut Tx, plan: &str) -> Result<(), ActionError> {
    let known = KnownValues::load(&mut **tx).await?;
    match known.plan_set() {
        Some(plans) if !plans.iter().any(|p| p == plan) => Err(ActionError::Invalid(format!(
            "unknown plan {plan:?}; this database's plans are {}",
            plans.join(", ")
        ))),
        _ => Ok(()),
    }
}

/// A text column of a tenant other than the system tenant, from what the form showed.
async fn set_text(
    tx: &mut Tx,
    tenant: Uuid,
    column: &'static str,
    from: &str,
    to: &str,
) -> Result<Change, ActionError> {
    not_system_tenant(tenant)?;
    set_column(
        tx,
        Table::Tenants,
        tenant,
        column,
        Val::Text(Some(from.to_string())),
        Val::Text(Some(to.to_string())),
    )
    .await
}

pub(super) async fn set_active(
    tx: &mut Tx,
    tenant: Uuid,
    active: bool,
) -> Result<Change, ActionError> {
    not_system_tenant(tenant)?;
    set_column(
        tx,
        Table::Tenants,
        tenant,
        "is_active",
        Val::Bool(!active),
        Val::Bool(active),
    )
    .await
}
