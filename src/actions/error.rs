//! Why an action did not happen, in words an admin can act on.

use serde_json::Value;

use crate::db::DbError;

#[derive(Debug, Clone, thiserror::Error)]
pub enum ActionError {
    #[error(
        "read-only session: no changes can be made (started with --read-only, or the database \
         allows this session no writes)"
    )]
    ReadOnly,
    #[error("{}", super::sign_in::SIGN_IN_REFUSED)]
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
    #[error(
        "not enough credits: the balance is {}, the deduction {}",
        crate::numbers::thousands(*.balance),
        crate::numbers::thousands(*.amount)
    )]
    Insufficient { balance: i64, amount: i64 },
    #[error("{0}")]
    Db(String),
}

impl From<DbError> for ActionError {
    fn from(e: DbError) -> ActionError {
        ActionError::Db(e.brief())
    }
}
