//! The optional config file, `config.toml` in the user's config directory
//! (`~/.config/switchboard/` on Linux). Flags and environment variables win over it.
//!
//! ```toml
//! admin = "support@example.com"   # the admin account to act as
//! pooler = "transaction"             # what sits in between (session, transaction)
//! replica_url = "postgres://ops@standby.internal/app"   # a hot standby to read from
//! ```
//!
//! Limits that protect the platform (the admins' credit cap) are not here but in the database,
//! where only a super_admin changes them (`switchboard settings`).

use std::path::Path;

use serde::Deserialize;

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub admin: Option<String>,
    /// `session` or `transaction`: what sits between Switchboard and the server.
    pub pooler: Option<Pooling>,
    /// A hot standby to read from (`--replica-url`).
    pub replica_url: Option<String>,
}

/// How the server is reached: a session of its own (directly, or through a pooler in session
/// mode), or through a pooler that hands out a server per transaction (PgBouncer's
/// `pool_mode = transaction`, Supabase's pooler on port 6543).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Pooling {
    /// A session of its own: directly, or a pooler in session mode (the default).
    #[default]
    Session,
    /// A pooler that lends a server per transaction: every statement is sent unnamed and inside
    /// a transaction, with the session's settings SET LOCAL in each (`db::pooler`).
    Transaction,
}

impl Config {
    /// Reads the file; a missing file is an empty config, a malformed one an error that names it.
    pub fn load(path: &Path) -> Result<Config, String> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Config::default()),
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        };
        let config: Config =
            toml::from_str(&text).map_err(|e| format!("{}: {}", path.display(), e.message()))?;
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_file_is_empty_and_bad_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        assert_eq!(Config::load(&path).unwrap(), Config::default());
        std::fs::write(&path, "admin = \"a@b.test\"\n").unwrap();
        assert_eq!(
            Config::load(&path).unwrap(),
            Config {
                admin: Some("a@b.test".into()),
                pooler: None,
                replica_url: None,
            }
        );
        std::fs::write(&path, "admn = 1\n").unwrap();
        let e = Config::load(&path).unwrap_err();
        assert!(e.contains("config.toml") && e.contains("admn"), "{e}");
        // The cap lives in the database, where an admin cannot raise it.
        std::fs::write(&path, "admin_credit_cap = 1000000\n").unwrap();
        assert!(
            Config::load(&path)
                .unwrap_err()
                .contains("admin_credit_cap")
        );
    }
}
