//! Phone numbers: add, assign to an active user, unassign, activation (one active row per
//! number, said in words rather than as a constraint error).

use serde_json::json;
use uuid::Uuid;

use super::rules::{Change, Table, Val, explain_db_error, set_column};
use super::{ActionError, Applied, Tx, targets};
use crate::db::DbError;

pub(super) async fn add(
    tx: &mut Tx,
    me: Uuid,
    number: &str,
    name: &str,
    bolna_id: &str,
) -> Result<Change, ActionError> {
    // Check the two unique keys first so that the message names the clash; the constraints
    // still decide under a race.
    let active_clash: bool = crate::db::query_scalar(
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
    let id: Uuid = crate::db::query_scalar(
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

/// Assigns `number` to the user `to` (email or id), or reassigns it from `from`.
pub(super) async fn assign(
    tx: &mut Tx,
    number: Uuid,
    from: Option<Uuid>,
    to: &str,
) -> Result<Change, ActionError> {
    let user = targets::user_shared(tx, to).await?;
    if !user.is_active {
        return Err(ActionError::Invalid(format!(
            "{} is inactive: numbers are assigned only to active users",
            user.email
        )));
    }
    let active: Option<bool> =
        crate::db::query_scalar("SELECT is_active FROM phone_numbers WHERE id = $1 FOR UPDATE")
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
        Some(false) => return Err(super::rules::inactive_number()),
        Some(true) => {}
    }
    set_column(
        tx,
        Table::PhoneNumbers,
        number,
        "assigned_to_user_id",
        Val::Id(from),
        Val::Id(Some(user.id)),
    )
    .await
}

pub(super) async fn unassign(tx: &mut Tx, number: Uuid, from: Uuid) -> Result<Change, ActionError> {
    set_column(
        tx,
        Table::PhoneNumbers,
        number,
        "assigned_to_user_id",
        Val::Id(Some(from)),
        Val::Id(None),
    )
    .await
}

pub(super) async fn set_active(
    tx: &mut Tx,
    number: Uuid,
    active: bool,
) -> Result<Change, ActionError> {
    if active {
        let clash: Option<String> = crate::db::query_scalar(
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
        number,
        "is_active",
        Val::Bool(!active),
        Val::Bool(active),
    )
    .await
}
