//! Switchboard: the terminal admin console for a voice-AI-agent platform's PostgreSQL database.

pub mod db;
pub mod paths;

/// The platform schema, embedded in the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");
