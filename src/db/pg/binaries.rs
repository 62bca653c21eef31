//! Finding PostgreSQL's server binaries: `SWITCHBOARD_PG_BINDIR`, `PATH`, `pg_config`, the
//! Debian, RHEL, Homebrew and Postgres.app layouts, newest first; and their major version.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::{BINDIR_ENV, PgError};

/// A directory holding `initdb`, `pg_ctl` and `postgres`, with the server's major version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgBinaries {
    pub bindir: PathBuf,
    /// Major version as `postgres --version` reports it, e.g. `15` or `9.6`.
    pub major: String,
}

const SERVER_PROGRAMS: [&str; 3] = ["initdb", "pg_ctl", "postgres"];

impl PgBinaries {
    /// Finds server binaries: `$SWITCHBOARD_PG_BINDIR` alone when set; otherwise `PATH`,
    /// `pg_config --bindir`, `/usr/lib/postgresql/*/bin` (newest first), the RHEL and Homebrew
    /// locations and Postgres.app. `want_major` (the version of an existing cluster) is preferred.
    pub fn locate(want_major: Option<&str>) -> Result<Self, PgError> {
        let candidates = candidate_bindirs();
        let found: Vec<PgBinaries> = candidates
            .iter()
            .filter(|dir| SERVER_PROGRAMS.iter().all(|p| is_executable(&dir.join(p))))
            .filter_map(|dir| {
                let major = server_major_version(dir)?;
                Some(PgBinaries {
                    bindir: dir.clone(),
                    major,
                })
            })
            .collect();
        let pick = match want_major {
            Some(want) => found.iter().find(|b| b.major == want).or(found.first()),
            None => found.first(),
        };
        pick.cloned().ok_or_else(|| PgError::BinariesNotFound {
            searched: describe_search(&candidates),
        })
    }

    pub(super) fn program(&self, name: &str) -> PathBuf {
        self.bindir.join(name)
    }
}

fn describe_search(candidates: &[PathBuf]) -> String {
    if let Some(dir) = std::env::var_os(BINDIR_ENV) {
        return format!("{} (from {BINDIR_ENV})", Path::new(&dir).display());
    }
    let mut list: Vec<String> = candidates.iter().map(|p| p.display().to_string()).collect();
    list.dedup();
    if list.len() > 8 {
        let more = list.len() - 8;
        list.truncate(8);
        list.push(format!("and {more} more"));
    }
    format!(
        "PATH, pg_config, /usr/lib/postgresql/*/bin, Homebrew ({})",
        list.join(", ")
    )
}

fn candidate_bindirs() -> Vec<PathBuf> {
    if let Some(dir) = std::env::var_os(BINDIR_ENV) {
        return vec![PathBuf::from(dir)];
    }
    let mut dirs: Vec<PathBuf> = Vec::new();
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    // pg_config may be on PATH (libpq-dev) while the server binaries are not.
    let pg_configs = std::env::var_os("PATH")
        .map(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join("pg_config"))
                .filter(|p| is_executable(p))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    for pg_config in pg_configs {
        if let Ok(out) = Command::new(pg_config).arg("--bindir").output()
            && out.status.success()
        {
            let dir = String::from_utf8_lossy(&out.stdout).trim().to_string();
            if !dir.is_empty() {
                dirs.push(PathBuf::from(dir));
            }
        }
    }
    dirs.extend(versioned_dirs("/usr/lib/postgresql", "", "bin"));
    dirs.extend(versioned_dirs("/usr", "pgsql-", "bin"));
    for brew in ["/opt/homebrew/opt", "/usr/local/opt"] {
        dirs.extend(versioned_dirs(brew, "postgresql@", "bin"));
        dirs.push(Path::new(brew).join("postgresql/bin"));
    }
    dirs.push(PathBuf::from("/opt/homebrew/bin"));
    dirs.push(PathBuf::from(
        "/Applications/Postgres.app/Contents/Versions/latest/bin",
    ));
    let mut seen = std::collections::HashSet::new();
    dirs.retain(|d| seen.insert(d.clone()));
    dirs
}

/// `<parent>/<prefix><version>/<sub>` for every version present, newest first.
pub(super) fn versioned_dirs(parent: &str, prefix: &str, sub: &str) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(parent) else {
        return Vec::new();
    };
    let mut found: Vec<(Vec<u32>, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let version = name.strip_prefix(prefix)?;
            let key: Vec<u32> = version
                .split('.')
                .map(|part| part.parse().ok())
                .collect::<Option<_>>()?;
            Some((key, e.path().join(sub)))
        })
        .collect();
    found.sort_by(|a, b| b.0.cmp(&a.0));
    found.into_iter().map(|(_, p)| p).collect()
}

fn is_executable(path: &Path) -> bool {
    fs::metadata(path)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// `postgres (PostgreSQL) 15.19 (Debian ...)` → `15`; `9.6.24` → `9.6`.
fn server_major_version(bindir: &Path) -> Option<String> {
    let out = Command::new(bindir.join("postgres"))
        .arg("--version")
        .output()
        .ok()?;
    parse_major_version(&String::from_utf8_lossy(&out.stdout))
}

pub fn parse_major_version(version_output: &str) -> Option<String> {
    let version = version_output
        .split_whitespace()
        .find(|w| w.chars().next().is_some_and(|c| c.is_ascii_digit()))?;
    let mut parts = version.split(|c: char| !c.is_ascii_digit());
    let first: u32 = parts.next()?.parse().ok()?;
    if first >= 10 {
        Some(first.to_string())
    } else {
        Some(format!("{first}.{}", parts.next()?))
    }
}
