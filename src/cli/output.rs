//! Everything the command line prints goes through here, and everything printed is escaped with
//! the one escaping function (`escape::clean`, `escape::json`): database text (names, emails,
//! descriptions, error messages that quote them) can never drive the terminal. `println!` and
//! `eprintln!` are refused everywhere else by clippy (`clippy.toml`), so a new print cannot
//! bypass it. (Exports stream their rows through `db::export`, which escapes each cell.)
#![allow(clippy::disallowed_macros, clippy::disallowed_methods)]

use std::io::Write;

use serde_json::Value;

use super::CliError;
use crate::escape;

/// Writes one line to standard output, escaped. A reader that went away (`| head`, `| true`)
/// is no failure of what was done: `CliError::Stopped`, exit 0.
pub fn line(text: impl AsRef<str>) -> Result<(), CliError> {
    write_out(&escape::clean(text.as_ref()))
}

/// Writes `value` as one line of JSON to standard output, escaped (the value is unchanged).
pub fn json(value: &Value) -> Result<(), CliError> {
    write_out(&escape::json(value))
}

fn write_out(text: &str) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}")
        .and_then(|()| out.flush())
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::BrokenPipe => CliError::Stopped,
            _ => CliError::Io(format!("writing to standard output: {e}")),
        })
}

/// Whether standard output is a terminal (the console draws there; otherwise a summary).
pub fn stdout_is_terminal() -> bool {
    use std::io::IsTerminal;
    std::io::stdout().is_terminal()
}

/// A line on standard error (progress, summaries of an export), escaped. Standard error that
/// cannot be written is ignored: there is nowhere left to say so.
pub fn note(text: impl AsRef<str>) {
    let _ = writeln!(std::io::stderr(), "{}", escape::clean(text.as_ref()));
}

/// `switchboard: error: …` on standard error, escaped.
pub fn error(text: impl AsRef<str>) {
    note(format!("switchboard: error: {}", text.as_ref()));
}

/// `switchboard: warning: …` on standard error, escaped.
pub fn warning(text: impl AsRef<str>) {
    note(format!("switchboard: warning: {}", text.as_ref()));
}
