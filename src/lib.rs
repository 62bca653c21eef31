//! Switchboard: the terminal admin console for a voice-AI-agent platform's PostgreSQL database.
//!
//! Layers, each importing only those below it: `cli` (the command line and the terminal's event
//! loop) → `ui` (drawing, reading the console's state) → `console` (state, keys, worker) →
//! `actions` (audited admin changes) → `seed` (demo and bench data) → `db` (PostgreSQL), with
//! the leaves `escape`, `numbers`, `password`, `paths` and `config` below all.

pub mod actions;
pub mod checkpoint;
pub mod cli;
pub mod config;
pub mod console;
pub mod db;
pub mod escape;
pub mod numbers;
pub mod password;
pub mod paths;
pub mod seed;
pub mod ui;
