//! `.pgpass` for Unix-socket connections, read as libpq reads it.
//!
//! sqlx looks a socket connection up under the host name it would have used for TCP, so a
//! line keyed by the socket directory (`/var/run/postgresql:5432:app:ops:…`), which psql
//! finds, was never found. libpq matches the host field of a socket connection against the
//! directory itself, and against `localhost` as well when the directory is the default one.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

/// libpq's built-in socket directory, as Debian builds it (the platform Switchboard is run on):
/// a connection there is looked up as `localhost`, as psql does. Elsewhere the directory is
/// the host name.
const DEFAULT_SOCKET_DIR: &str = "/var/run/postgresql";

/// Which password file libpq would read: `PGPASSFILE`, else `~/.pgpass`.
pub fn password_file() -> Option<PathBuf> {
    std::env::var_os("PGPASSFILE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".pgpass")))
}

/// Where a connection goes, as the password file's first four fields see it.
#[derive(Debug, Clone, Copy)]
pub struct SocketLogin<'a> {
    pub socket_dir: &'a str,
    pub port: u16,
    pub database: &'a str,
    pub user: &'a str,
}

/// The password of the first line of `file` that matches `login`, or none. Like libpq, a file
/// that its group or others may read is ignored, and so is a line without five fields.
pub fn socket_password(file: &Path, login: SocketLogin<'_>) -> Option<String> {
    let handle = File::open(file).ok()?;
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = handle.metadata().ok()?;
        if !meta.is_file() || meta.permissions().mode() & 0o077 != 0 {
            return None;
        }
    }
    let dir = login.socket_dir.trim_end_matches('/');
    let host = match dir {
        "" => "/",
        DEFAULT_SOCKET_DIR => "localhost",
        dir => dir,
    };
    let port = login.port.to_string();
    BufReader::new(handle)
        .lines()
        .map_while(Result::ok)
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| fields(&line))
        .find(|f| {
            f[0].matches(host)
                && f[1].matches(&port)
                && f[2].matches(login.database)
                && f[3].matches(login.user)
        })
        .map(|f| f[4].text.clone())
}

/// One field of a line: its text with `\:` and `\\` unescaped, and whether it was a bare `*`
/// (an escaped `\*` is a literal star, as in libpq).
#[derive(Default)]
struct Field {
    text: String,
    any: bool,
}

impl Field {
    fn matches(&self, value: &str) -> bool {
        self.any || self.text == value
    }
}

/// The five fields of a line; none when there are fewer.
fn fields(line: &str) -> Option<[Field; 5]> {
    let mut out: Vec<Field> = vec![Field::default()];
    let mut raw = String::new();
    let mut chars = line.trim_end_matches(['\r', '\n']).chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(next) = chars.next() {
                    raw.push('\\');
                    out.last_mut()?.text.push(next);
                }
            }
            ':' if out.len() < 5 => {
                out.last_mut()?.any = raw == "*";
                raw.clear();
                out.push(Field::default());
            }
            // As in libpq, the password ends at an unescaped colon.
            ':' => break,
            c => {
                raw.push(c);
                out.last_mut()?.text.push(c);
            }
        }
    }
    // The password field is never a wildcard.
    out.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn file_with(lines: &str, mode: u32) -> tempfile::NamedTempFile {
        let f = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(f.path(), lines).unwrap();
        std::fs::set_permissions(f.path(), std::fs::Permissions::from_mode(mode)).unwrap();
        f
    }

    fn login<'a>(dir: &'a str, database: &'a str) -> SocketLogin<'a> {
        SocketLogin {
            socket_dir: dir,
            port: 5432,
            database,
            user: "ops",
        }
    }

    #[test]
    fn a_line_keyed_by_the_socket_directory_is_found() {
        let f = file_with(
            "# comment\n\
             db.example:5432:app:ops:tcp-secret\n\
             /run/custom:5432:app:ops:socket-secret\n",
            0o600,
        );
        assert_eq!(
            socket_password(f.path(), login("/run/custom", "app")).as_deref(),
            Some("socket-secret")
        );
        assert_eq!(
            socket_password(f.path(), login("/run/custom/", "app")).as_deref(),
            Some("socket-secret"),
            "a trailing slash names the same directory"
        );
        assert_eq!(socket_password(f.path(), login("/run/other", "app")), None);
        assert_eq!(socket_password(f.path(), login("/run/custom", "crm")), None);
    }

    #[test]
    fn the_default_socket_directory_is_looked_up_as_localhost_only() {
        let f = file_with(
            "/var/run/postgresql:*:*:ops:by-directory\n\
             localhost:*:*:ops:local-secret\n",
            0o600,
        );
        assert_eq!(
            socket_password(f.path(), login("/var/run/postgresql", "app")).as_deref(),
            Some("local-secret")
        );
        assert_eq!(socket_password(f.path(), login("/run/custom", "app")), None);
    }

    #[test]
    fn an_escaped_star_is_a_star_not_a_wildcard() {
        let f = file_with("/run/custom:*:\\*:ops:starred\n", 0o600);
        assert_eq!(socket_password(f.path(), login("/run/custom", "app")), None);
        assert_eq!(
            socket_password(f.path(), login("/run/custom", "*")).as_deref(),
            Some("starred")
        );
    }

    #[test]
    fn escapes_wildcards_and_order_follow_libpq() {
        let f = file_with(
            "short:line\n\
             /run/a\\:b:*:*:ops:first\\:pw:ignored\n\
             /run/a\\:b:*:*:ops:second\n",
            0o600,
        );
        assert_eq!(
            socket_password(f.path(), login("/run/a:b", "any")).as_deref(),
            Some("first:pw"),
            "the first matching line wins; its password ends at an unescaped colon"
        );
    }

    #[test]
    fn a_file_others_may_read_is_ignored() {
        let f = file_with("*:*:*:*:secret\n", 0o644);
        assert_eq!(socket_password(f.path(), login("/run/custom", "app")), None);
        let missing = Path::new("/nonexistent/.pgpass");
        assert_eq!(socket_password(missing, login("/run/custom", "app")), None);
    }
}
