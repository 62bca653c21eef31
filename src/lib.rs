//! Switchboard: the terminal admin console for a voice-AI-agent platform's PostgreSQL database.

pub mod actions;
pub mod app;
pub mod benchmark;
pub mod config;
pub mod db;
pub mod forms;
pub mod keymap;
pub mod paths;
pub mod tui;
pub mod ui;
pub mod worker;

/// The platform schema, embedded in the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");
