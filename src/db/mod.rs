//! Everything that talks to PostgreSQL. Nothing here knows about the terminal.

pub mod archive;
pub mod bounded;
pub mod chain;
pub mod check;
pub mod connect;
pub mod details;
pub mod export;
pub mod filter;
pub mod grants;
pub mod labels;
pub mod legacy;
pub mod lists;
pub mod lookup;
pub mod migrate;
pub mod pg;
pub mod pgpass;
pub mod pooler;
pub mod replica;
pub mod verify;

pub use migrate::{MigrationInfo, migrate, pending_migrations};
pub use pooler::{begin, long_snapshot, pinned, query, query_as, query_scalar, try_in_savepoint};

/// The system tenant of schema-mapping-guide.md: shared resources and platform staff.
pub const SYSTEM_TENANT: uuid::Uuid = uuid::Uuid::nil();

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The URL did not parse; the text is already redacted.
    #[error("invalid database URL {0}: {1}")]
    BadUrl(String, String),
    #[error("{}", sqlx_text(.0))]
    Sqlx(#[from] sqlx::Error),
    /// The operation is refused; the text says why and what to do instead.
    #[error("{0}")]
    Refused(String),
    /// `migrate` found the database's tables incompatible and wrote nothing (the plan's report
    /// lists every difference).
    #[error("{0}")]
    Incompatible(String),
    #[error(transparent)]
    Pg(#[from] pg::PgError),
}

impl DbError {
    /// The error in one line for a person: no SQL, no password, no advice (each front end adds
    /// its own: the console retries, the command line exits).
    pub fn brief(&self) -> String {
        let text = match self {
            DbError::Sqlx(sqlx::Error::Database(d)) if d.code().as_deref() == Some("57014") => {
                "query cancelled".to_string()
            }
            DbError::Sqlx(sqlx::Error::Database(d)) if d.code().as_deref() == Some("42501") => {
                format!(
                    "the database role Switchboard connects as lacks a privilege for this ({})",
                    d.message()
                )
            }
            DbError::Sqlx(sqlx::Error::PoolTimedOut) => {
                "database unreachable (timed out waiting for a connection)".to_string()
            }
            DbError::Sqlx(sqlx::Error::Io(io)) => format!("database connection lost: {io}"),
            other => other.to_string(),
        };
        text.lines().next().unwrap_or_default().to_string()
    }
}

/// A driver error in words: the server's own message, without the driver's "error returned
/// from database:" prefix or its "at line N" suffix (a line of the server's C source, which
/// only misleads a reader looking for it in their SQL).
pub(crate) fn sqlx_text(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(d) => match d.code().as_deref() {
            // invalid_password
            Some("28P01") => format!(
                "{}: check the password in the URL, PGPASSWORD or ~/.pgpass (PGPASSFILE)",
                d.message()
            ),
            // duplicate_prepared_statement, invalid_sql_statement_name: prepared statements
            // lost or shared between clients, as behind a transaction pooler.
            Some("42P05" | "26000") => format!(
                "{}: a pooler in transaction mode between Switchboard and the server? Then use \
                 --pooler transaction (or pooler = \"transaction\" in the config file)",
                d.message()
            ),
            _ => d.message().to_string(),
        },
        other => other.to_string(),
    }
}
