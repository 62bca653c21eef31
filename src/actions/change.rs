//! Applying a request: the admin's rights checked before and inside the transaction, refusals
//! recorded, the change (by resource) and its one audit row in one transaction.

use sqlx::PgPool;
use uuid::Uuid;

use super::audit::{self, AuditEntry};
use super::rules::{Change, current_role, current_role_now};
use super::targets::{self, Target};
use super::{
    ActionError, Applied, Outcome, Request, Role, Session, Tx, Verb, agents, credits, numbers,
    settings, tenants, users,
};
use crate::db::DbError;
use crate::db::lists::ListKind;

/// Applies `req` as `session`'s admin: the change and its one audit row in one transaction, or
/// nothing at all. A permission refusal is itself recorded (`admin.refused`) in a transaction of
/// its own, and so is a change asked of a read-only session (the one write such a session
/// makes, as its sign-in is; a database that allows no writes at all keeps no record of it).
pub async fn apply(
    pool: &PgPool,
    session: &Session,
    req: &Request,
) -> Result<Outcome, ActionError> {
    if session.read_only {
        let why = ActionError::ReadOnly.to_string();
        audit::record_refusal(pool, session, req.audit_action(), req.resource(), &why).await;
        return Err(ActionError::ReadOnly);
    }
    let req = req.validated()?;
    let result = apply_checked(pool, session, &req).await;
    record_if_refused(pool, session, &req, result).await
}

/// A refusal of the change as the database finds things (a permission, the cap, a deduction
/// over the balance, a user or tenant that is not there, a number or id already used, a row
/// changed since the form opened) is itself recorded (`admin.refused`), in a transaction of its
/// own. What the request's own check refuses before any SQL (an empty name, a malformed
/// number) is the form's to say, not the audit log's.
async fn record_if_refused<T>(
    pool: &PgPool,
    session: &Session,
    req: &Request,
    result: Result<T, ActionError>,
) -> Result<T, ActionError> {
    let why = match &result {
        Err(ActionError::Forbidden(why)) => Some(why.clone()),
        Err(
            e @ (ActionError::Insufficient { .. }
            | ActionError::Invalid(_)
            | ActionError::NotFound(_)
            | ActionError::Conflict { .. }),
        ) => Some(e.to_string()),
        _ => None,
    };
    if let Some(why) = why {
        audit::record_refusal(pool, session, req.audit_action(), req.resource(), &why).await;
    }
    result
}

/// Everything [`apply`] checks, run on the database and rolled back: the admin's role, the
/// target as it is now (there, active, its role, the admin's own account), the balance and the
/// cap. Used when a form is submitted, so that what would be refused is said before the confirm
/// dialog asks. Nothing is written but a refusal, recorded as `apply` records it.
pub async fn check(pool: &PgPool, session: &Session, req: &Request) -> Result<(), ActionError> {
    if session.read_only {
        return Err(ActionError::ReadOnly);
    }
    let req = req.validated()?;
    let result = async {
        let (tx, _) = checked_change(pool, session, &req).await?;
        tx.rollback().await.map_err(DbError::from)?;
        Ok::<(), ActionError>(())
    }
    .await;
    record_if_refused(pool, session, &req, result).await
}

/// The admin's rights, as the session knows them and then as the database says now, and the
/// change itself, in a transaction left open for the caller to commit or roll back.
async fn checked_change(
    pool: &PgPool,
    session: &Session,
    req: &Request,
) -> Result<(Tx, Change), ActionError> {
    // Refuse early on what the session knows; the transaction checks again on fresh data.
    session
        .actor
        .role
        .require(req.min_role(), req.audit_action())?;
    let mut tx = crate::db::begin(pool).await?;
    // The backstop triggers leave this transaction's changes alone: its own audit row says them.
    crate::db::query("SELECT set_config('switchboard.console', 'on', true)")
        .execute(&mut *tx)
        .await
        .map_err(DbError::from)?;
    let role = current_role(&mut tx, &session.actor).await?;
    role.require(req.min_role(), req.audit_action())?;
    let change = perform(&mut tx, session, role, req).await?;
    Ok((tx, change))
}

/// Before a form opens: refuses what the admin may not do (recorded like any refusal, before the
/// admin types anything) and reads what the target holds now, which the form starts from.
pub async fn prepare(
    pool: &PgPool,
    session: &Session,
    verb: Verb,
    kind: ListKind,
    id: Option<Uuid>,
) -> Result<Option<Target>, ActionError> {
    if session.read_only {
        return Err(ActionError::ReadOnly);
    }
    let check = async {
        session.actor.role.require(verb.min_role(), verb.name())?;
        let mut tx = crate::db::begin(pool).await?;
        let role = current_role(&mut tx, &session.actor).await?;
        // An admin's top-up or deduction is capped: the form says by how much.
        let cap = if matches!(verb, Verb::TopUp | Verb::Deduct) && role < Role::SuperAdmin {
            Some(settings::credit_cap(&mut *tx).await?)
        } else {
            None
        };
        tx.rollback().await.map_err(DbError::from)?;
        role.require(verb.min_role(), verb.name())?;
        let mut target = match id {
            Some(id) => Some(targets::load(pool, kind, id).await?),
            None => None,
        };
        if let Some(Target::User(u)) = &mut target {
            u.credit_cap = cap;
        }
        // What the target as read now already refuses: said before the form, not after it.
        if let Some(t) = &target {
            super::rules::refused_on_open(verb, &session.actor, role, t)?;
        }
        Ok(target)
    };
    let result = check.await;
    if let Err(ActionError::Forbidden(why)) = &result {
        audit::record_refusal(pool, session, verb.name(), (kind.resource_type(), id), why).await;
    }
    result
}

/// Refuses unless the session's admin is still an active admin (read now, from the database).
pub async fn ensure_admin(pool: &PgPool, session: &Session) -> Result<(), ActionError> {
    current_role_now(pool, &session.actor).await.map(|_| ())
}

async fn apply_checked(
    pool: &PgPool,
    session: &Session,
    req: &Request,
) -> Result<Outcome, ActionError> {
    let (mut tx, change) = checked_change(pool, session, req).await?;
    let (resource_type, resource_id) = req.resource();
    let Change {
        old,
        new,
        resource_id: created,
        status,
    } = change;
    let resource_id = resource_id.or(created);
    // Names for the ids of the change, as its transaction sees them.
    let wanted = crate::db::labels::ids_in(resource_id, old.as_ref(), new.as_ref());
    let labels = crate::db::labels::labels(&mut *tx, &wanted).await?;
    let audit_id = match status {
        Applied::Done => {
            let entry = AuditEntry {
                actor: Some(session.actor.id),
                action: req.audit_action(),
                resource_type,
                resource_id,
                old: old.clone(),
                new: new.clone(),
            };
            let id = audit::record(&mut tx, &session.ctx, entry).await?;
            if let Request::AdjustCredits { key, .. } = req {
                credits::link_key(&mut tx, *key, id).await?;
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
        action: req.audit_action(),
        resource_type,
        resource_id,
        old,
        new,
        audit_id,
        status,
        labels,
    })
}

/// The change itself, by resource: each arm is one function of that resource's file.
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
            credits::adjust(
                tx,
                me,
                role,
                req.audit_action(),
                *user,
                *delta,
                reason,
                *key,
            )
            .await
        }
        Request::SetUserActive { user, active } => {
            users::set_active(tx, me, role, *user, *active).await
        }
        Request::RevokeSessions { user } => users::revoke_sessions(tx, role, *user).await,
        Request::MarkEmailVerified { user } => users::verify_email(tx, role, *user).await,
        Request::SetRole { user, from, to } => users::set_role(tx, me, *user, *from, *to).await,
        Request::MoveUser { user, from, to } => users::move_user(tx, *user, *from, to).await,
        Request::CreateTenant { name, plan } => tenants::create(tx, name, plan).await,
        Request::RenameTenant { tenant, from, to } => tenants::rename(tx, *tenant, from, to).await,
        Request::SetPlan { tenant, from, to } => tenants::set_plan(tx, *tenant, from, to).await,
        Request::SetTenantActive { tenant, active } => {
            tenants::set_active(tx, *tenant, *active).await
        }
        Request::RenameAgent { agent, from, to } => agents::rename(tx, *agent, from, to).await,
        Request::SetAgentDescription { agent, from, to } => {
            agents::describe(tx, *agent, from.clone(), to.clone()).await
        }
        Request::SetAgentActive { agent, active } => agents::set_active(tx, *agent, *active).await,
        Request::AddNumber {
            number,
            name,
            bolna_id,
        } => numbers::add(tx, me, number, name, bolna_id).await,
        Request::AssignNumber { number, from, to } => numbers::assign(tx, *number, *from, to).await,
        Request::UnassignNumber { number, from } => numbers::unassign(tx, *number, *from).await,
        Request::SetNumberActive { number, active } => {
            numbers::set_active(tx, *number, *active).await
        }
        Request::SetCreditCap { from, to } => settings::set_credit_cap(tx, *from, *to).await,
    }
}
