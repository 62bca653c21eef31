//! Agents: name, description, activation.

use uuid::Uuid;

use super::rules::{Change, Table, Val, set_column};
use super::{ActionError, Tx};

pub(super) async fn rename(
    tx: &mut Tx,
    agent: Uuid,
    from: &str,
    to: &str,
) -> Result<Change, ActionError> {
    set_column(
        tx,
        Table::Agents,
        agent,
        "name",
        Val::Text(Some(from.to_string())),
        Val::Text(Some(to.to_string())),
    )
    .await
}

/// Sets the description; `None` clears it.
pub(super) async fn describe(
    tx: &mut Tx,
    agent: Uuid,
    from: Option<String>,
    to: Option<String>,
) -> Result<Change, ActionError> {
    set_column(
        tx,
        Table::Agents,
        agent,
        "description",
        Val::Text(from),
        Val::Text(to),
    )
    .await
}

pub(super) async fn set_active(
    tx: &mut Tx,
    agent: Uuid,
    active: bool,
) -> Result<Change, ActionError> {
    set_column(
        tx,
        Table::Agents,
        agent,
        "is_active",
        Val::Bool(!active),
        Val::Bool(active),
    )
    .await
}
