//! The action layer: every admin change, checked and applied in one transaction together with
//! exactly one audit_logs row. The console's forms and the command line both come here; the rules
//! the database cannot express (roles, the credit cap, the last super_admin) are enforced here,
//! inside the transaction, whatever the caller showed or hid.
//!
//! - `catalogue`: the kinds of change (`Verb`), the change with its values (`Request`), and the
//!   checks that need no database;
//! - `change`: `apply` and `prepare`; `rules`: what every change shares (the role read afresh,
//!   the rules about admins, the one-column edit with optimistic concurrency); one file per resource (`credits`, `users`, `tenants`, `agents`, `numbers`,
//!   `settings`) holds the changes themselves;
//! - `audit`: the one audit writer;
//! - `sign_in`, `admins`, `export`: the sign-in flow, admin bootstrap and the export flow, shared
//!   by the console and the command line;
//! - `targets`: what a target row holds now.
//!
//! Nothing here knows about the terminal: errors are sentences, advice is the front end's.

pub mod admins;
mod agents;
pub mod archive;
pub mod audit;
pub mod catalogue;
mod change;
mod credits;
mod error;
pub mod export;
pub mod import;
mod numbers;
mod outcome;
mod rules;
mod session;
mod settings;
pub mod sign_in;
pub mod targets;
mod tenants;
mod users;

pub use catalogue::{
    DEFAULT_ADMIN_CREDIT_CAP, DEFAULT_PLAN, MAX_CREDIT_CHANGE, Request, Verb, validate_e164,
    validate_email, validate_text,
};
pub use change::{apply, check, ensure_admin, prepare};
pub use error::ActionError;
pub use outcome::{Applied, Outcome};
pub use session::{Actor, AuditContext, Role, Session, client_ip, user_agent};
pub use settings::credit_cap;

type Tx = sqlx::Transaction<'static, sqlx::Postgres>;
