//! Switchboard: the terminal admin console for a voice-AI-agent platform's PostgreSQL database.
//!
//! Layers, each importing only those below it: `db` (PostgreSQL) ← `seed` (demo and bench data)
//! and `actions` (audited admin changes) ← `console` (state, keys, worker) → `ui` (drawing), with
//! `cli` (the command line) on top. `password`, `paths` and `config` are leaves.

pub mod actions;
pub mod cli;
pub mod config;
pub mod console;
pub mod db;
pub mod password;
pub mod paths;
pub mod seed;
pub mod ui;

/// The platform schema, embedded in the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");
