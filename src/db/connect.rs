//! Which database to open, how to describe it without leaking its password, and the pool.

use std::fmt;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgSslMode};
use sqlx::{Connection as _, PgConnection, PgPool};

use super::DbError;
use super::pg::{Cluster, ClusterPaths, PgBinaries, RunAs, StartOptions};

/// The database of the embedded private cluster.
pub const EMBEDDED_DATABASE: &str = "switchboard";

/// Where Switchboard's data lives: a server the user names, or the private cluster.
#[derive(Clone, PartialEq, Eq)]
pub enum DbTarget {
    /// A `postgres://` URL. Parts it leaves out come from the `PG*` variables and `~/.pgpass`,
    /// as with psql.
    Url(String),
    /// The private cluster under the user's data directory.
    Embedded,
}

impl DbTarget {
    /// `--database-url` wins, then `DATABASE_URL`, then the embedded default.
    pub fn choose(flag: Option<String>, env: Option<String>) -> DbTarget {
        flag.or(env)
            .filter(|s| !s.trim().is_empty())
            .map(DbTarget::Url)
            .unwrap_or(DbTarget::Embedded)
    }
}

/// Never shows a password, even in `{:?}`.
impl fmt::Debug for DbTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DbTarget::Url(url) => f.debug_tuple("Url").field(&redact_url(url)).finish(),
            DbTarget::Embedded => f.write_str("Embedded"),
        }
    }
}

/// Whether a URL parameter carries a secret: `password`, `sslpassword` (the client key's
/// passphrase) and anything else whose name says password, secret, token or key material.
fn is_secret_param(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    ["password", "secret", "token"]
        .iter()
        .any(|w| k.contains(w))
        || k == "sslkey_data"
}

/// The URL with every secret replaced by `***`: the password in the authority and every
/// secret-bearing parameter (`password=`, `sslpassword=`, …); a keyword/value string likewise.
pub fn redact_url(url: &str) -> String {
    if let Some(as_url) = keywords_to_url(url) {
        let redacted = redact_url(&as_url);
        return match url::Url::parse(&redacted) {
            Ok(u) => u
                .query_pairs()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(" "),
            Err(_) => "(unparseable connection string, hidden)".to_string(),
        };
    }
    if let Some(as_url) = empty_host_url(url) {
        return redact_url(&as_url);
    }
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                let _ = parsed.set_password(Some("***"));
            }
            if parsed.query_pairs().any(|(k, _)| is_secret_param(&k)) {
                let pairs: Vec<(String, String)> = parsed
                    .query_pairs()
                    .map(|(k, v)| {
                        let v = if is_secret_param(&k) {
                            "***".to_string()
                        } else {
                            v.into_owned()
                        };
                        (k.into_owned(), v)
                    })
                    .collect();
                parsed.query_pairs_mut().clear().extend_pairs(pairs);
            }
            parsed.to_string()
        }
        // Unparseable: keep only what cannot be a secret.
        Err(_) => match url.split_once("://") {
            Some((scheme, _)) => format!("{scheme}://(unparseable, hidden)"),
            None => "(unparseable URL, hidden)".to_string(),
        },
    }
}

/// A libpq keyword/value connection string (`host=db port=5432 dbname='my db' user=ops`) as
/// the equivalent URL; `None` when `s` is not one (a URL, or nothing like either).
fn keywords_to_url(s: &str) -> Option<String> {
    let s = s.trim();
    if s.contains("://") || !s.contains('=') {
        return None;
    }
    let mut pairs: Vec<(String, String)> = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.peek().is_none() {
            break;
        }
        let key: String =
            std::iter::from_fn(|| chars.next_if(|c| *c != '=' && !c.is_whitespace())).collect();
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        chars.next_if_eq(&'=')?;
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let mut value = String::new();
        if chars.next_if_eq(&'\'').is_some() {
            loop {
                match chars.next()? {
                    '\\' => value.push(chars.next()?),
                    '\'' => break,
                    c => value.push(c),
                }
            }
        } else {
            while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                if c == '\\' {
                    value.push(chars.next()?);
                } else {
                    value.push(c);
                }
            }
        }
        if key.is_empty() {
            return None;
        }
        pairs.push((key, value));
    }
    let mut url = url::Url::parse("postgres:///").ok()?;
    url.query_pairs_mut().extend_pairs(pairs);
    Some(url.to_string())
}

/// The connection string as a URL that sqlx parses, when it is not one already: a keyword/value
/// string, or a URL with a user and an empty host (`postgres://ops@/app?host=/dir`, which libpq
/// accepts).
fn standard_url(s: &str) -> Option<String> {
    keywords_to_url(s).or_else(|| empty_host_url(s))
}

/// `postgres://user:pw@:port/db?…` (empty host, user and port optional) as
/// `postgres:///db?user=…&password=…&port=…&…`: the query's own parameters come last and so
/// win, as in libpq.
fn empty_host_url(s: &str) -> Option<String> {
    let (scheme, rest) = s.trim().split_once("://")?;
    if !matches!(scheme, "postgres" | "postgresql") {
        return None;
    }
    let (authority, tail) = rest.split_at(rest.find(['/', '?']).unwrap_or(rest.len()));
    let (userinfo, host_port) = match authority.rsplit_once('@') {
        Some((userinfo, host_port)) => (userinfo, host_port),
        None => ("", authority),
    };
    let port = match host_port.strip_prefix(':') {
        Some(port) => port,
        None if host_port.is_empty() && !userinfo.is_empty() => "",
        // A host, or nothing at all: the URL parser's business.
        None => return None,
    };
    let (user, password) = match userinfo.split_once(':') {
        Some((user, password)) => (user, Some(password)),
        None => (userinfo, None),
    };
    let decode = |part: &str| {
        percent_encoding::percent_decode_str(part)
            .decode_utf8()
            .map(|text| text.into_owned())
            .ok()
    };
    let tail = if tail.starts_with('/') {
        tail.to_string()
    } else {
        format!("/{tail}")
    };
    let mut url = url::Url::parse(&format!("postgres://{tail}")).ok()?;
    let own: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    {
        let mut pairs = url.query_pairs_mut();
        pairs.clear();
        if !user.is_empty() {
            pairs.append_pair("user", &decode(user)?);
        }
        if let Some(password) = password {
            pairs.append_pair("password", &decode(password)?);
        }
        if !port.is_empty() {
            pairs.append_pair("port", port);
        }
        pairs.extend_pairs(own);
    }
    Some(url.to_string())
}

/// The value of connection parameter `key` in a URL's query, if there.
fn url_param(url: &str, key: &str) -> Option<String> {
    url::Url::parse(url)
        .ok()?
        .query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

/// How long connecting may take: `connect_timeout` (seconds) in the URL or keyword string, else
/// `PGCONNECT_TIMEOUT`, as with psql; none given, [`CONNECT_TIMEOUT`].
pub fn connect_timeout_of(url: &str) -> Duration {
    let url = standard_url(url).unwrap_or_else(|| url.to_string());
    url_param(&url, "connect_timeout")
        .or_else(|| std::env::var("PGCONNECT_TIMEOUT").ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|s| *s > 0)
        .map(|s| Duration::from_secs(s.max(2)))
        .unwrap_or(CONNECT_TIMEOUT)
}

/// Parses a URL (or a libpq keyword/value string), filling what it leaves out from `PG*`
/// variables and `~/.pgpass`, as psql does: a `sslrootcert` that does not exist is named; with
/// `sslmode=verify-ca` or `verify-full` and no `sslrootcert`, `~/.postgresql/root.crt` is the CA.
pub fn options_from_url(url: &str) -> Result<PgConnectOptions, DbError> {
    let pgpass = match std::env::var_os("PGPASSWORD") {
        Some(_) => None,
        None => super::pgpass::password_file(),
    };
    options_with_pgpass(url, pgpass.as_deref())
}

/// [`options_from_url`] with the password file named (none: read none beyond what sqlx reads).
/// A Unix-socket connection given no password takes the first `.pgpass` line keyed by its
/// socket directory, as psql does.
fn options_with_pgpass(url: &str, pgpass: Option<&Path>) -> Result<PgConnectOptions, DbError> {
    let standard = standard_url(url);
    let url_text = standard.as_deref().unwrap_or(url);
    let options = parse_url(url_text).map_err(|e| match e {
        DbError::BadUrl(_, why) => DbError::BadUrl(redact_url(url), why),
        other => other,
    })?;
    let options = with_socket_password(options, url_text, pgpass);
    let root_cert = url_param(url_text, "sslrootcert")
        .or_else(|| url_param(url_text, "ssl-root-cert"))
        .or_else(|| std::env::var("PGSSLROOTCERT").ok());
    match root_cert {
        Some(path) if !Path::new(&path).exists() => Err(DbError::BadUrl(
            redact_url(url),
            format!("the sslrootcert file {path} does not exist"),
        )),
        Some(_) => Ok(options),
        None => Ok(with_default_root_cert(
            options,
            std::env::var_os("HOME")
                .map(std::path::PathBuf::from)
                .as_deref(),
        )),
    }
}

fn with_socket_password(
    options: PgConnectOptions,
    url: &str,
    pgpass: Option<&Path>,
) -> PgConnectOptions {
    let given = url::Url::parse(url).is_ok_and(|u| u.password().is_some())
        || url_param(url, "password").is_some();
    let dir = match options.get_socket() {
        Some(dir) => dir.display().to_string(),
        None if options.get_host().starts_with('/') => options.get_host().to_string(),
        None => return options,
    };
    let Some(file) = pgpass.filter(|_| !given) else {
        return options;
    };
    let login = super::pgpass::SocketLogin {
        socket_dir: &dir,
        port: options.get_port(),
        database: options.get_database().unwrap_or(options.get_username()),
        user: options.get_username(),
    };
    // None found: an empty one, so that what sqlx looked up under another host name (PGHOST,
    // `localhost`) is never sent to this socket.
    let password = super::pgpass::socket_password(file, login).unwrap_or_default();
    options.password(&password)
}

/// libpq's default CA: `~/.postgresql/root.crt`, when the mode verifies the server and no CA
/// was named.
fn with_default_root_cert(options: PgConnectOptions, home: Option<&Path>) -> PgConnectOptions {
    let verifies = matches!(
        options.get_ssl_mode(),
        PgSslMode::VerifyCa | PgSslMode::VerifyFull
    );
    match home.map(|h| h.join(".postgresql/root.crt")) {
        Some(cert) if verifies && cert.is_file() => options.ssl_root_cert(cert),
        _ => options,
    }
}

fn parse_url(url: &str) -> Result<PgConnectOptions, DbError> {
    PgConnectOptions::from_str(url).map_err(|e| {
        // sqlx's message may quote the URL; say what is wrong in our own words.
        let why = match e {
            sqlx::Error::Configuration(inner) => {
                let text = inner.to_string();
                if text.contains(url) {
                    "it is not a valid postgres:// URL".to_string()
                } else {
                    text
                }
            }
            _ => "it is not a valid postgres:// URL".to_string(),
        };
        DbError::BadUrl(redact_url(url), why)
    })
}

/// What the status line and messages say about a connection: where, which database, which
/// role. Never the password.
pub fn describe(options: &PgConnectOptions) -> String {
    let db = options.get_database().unwrap_or(options.get_username());
    let user = options.get_username();
    match options.get_socket() {
        Some(dir) => format!("{db} on socket {} as {user}", dir.display()),
        None => {
            let host = options.get_host();
            if host.starts_with('/') {
                format!("{db} on socket {host} as {user}")
            } else {
                format!("{db} on {host}:{} as {user}", options.get_port())
            }
        }
    }
}

/// A connection that could not be made, said with where it went: for a socket, the socket
/// file, since "No such file or directory" alone does not say which.
fn connect_failure(options: &PgConnectOptions, error: sqlx::Error) -> DbError {
    let sqlx::Error::Io(io) = &error else {
        return DbError::Sqlx(error);
    };
    let socket_dir = match options.get_socket() {
        Some(dir) => Some(dir.display().to_string()),
        None => Some(options.get_host().to_string()).filter(|h| h.starts_with('/')),
    };
    let place = match socket_dir {
        Some(dir) => format!(
            "the socket {}/.s.PGSQL.{}",
            dir.trim_end_matches('/'),
            options.get_port()
        ),
        None => format!("{}:{}", options.get_host(), options.get_port()),
    };
    let hint = match io.kind() {
        std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused => {
            " (is the server running and listening there?)"
        }
        _ => "",
    };
    DbError::Refused(format!("cannot connect to {place}: {io}{hint}"))
}

/// How to open a pool.
#[derive(Debug, Clone, Copy, Default)]
pub struct PoolSettings {
    /// Every session is read-only in PostgreSQL itself (`default_transaction_read_only`).
    pub read_only: bool,
    /// The longest a statement may run (`statement_timeout`) before the server ends it: an
    /// interactive session's queries take milliseconds, and one left by a client that died
    /// must not run on for minutes. None for maintenance (migrations, seeding, the benchmark).
    pub statement_timeout: Option<Duration>,
    /// How long connecting may take; none: [`CONNECT_TIMEOUT`].
    pub connect_timeout: Option<Duration>,
    /// What sits between the console and the server.
    pub pooling: Pooling,
}

pub use crate::config::Pooling;

/// The statement timeout of the console's and the admin commands' sessions.
pub const INTERACTIVE_STATEMENT_TIMEOUT: Duration = Duration::from_secs(60);

/// This process's `application_name`: unique, so that cancelling our own slow queries never
/// touches another console's.
pub fn application_name() -> &'static str {
    static NAME: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    NAME.get_or_init(|| {
        format!(
            "switchboard-{}-{}",
            std::process::id(),
            &uuid::Uuid::new_v4().simple().to_string()[..6]
        )
    })
}

/// How long connecting may take before it is given up.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The oldest server Switchboard works with (`server_version_num`): PostgreSQL 13.
pub const MIN_SERVER_VERSION: u32 = 130000;

pub async fn open_pool(
    options: PgConnectOptions,
    settings: PoolSettings,
) -> Result<PgPool, DbError> {
    // No startup parameters beyond what every server and pooler takes (PgBouncer refuses
    // `extra_float_digits` and `options`, and poolers that accept them may drop them): the
    // session's settings are SET after connecting, on every new connection.
    let options = options
        .application_name(application_name())
        .extra_float_digits(None);
    let session = session_settings(&settings);
    // One connection first, outside the pool: a refused or failing connection is reported at
    // once with its cause (the pool retries a refused one until its timeout, then says only that
    // it timed out), the server's version is checked, and the session settings are tried.
    // Bounded: a server that takes the connection and never answers is said so.
    let limit = settings.connect_timeout.unwrap_or(CONNECT_TIMEOUT);
    let mut probe = tokio::time::timeout(limit, PgConnection::connect_with(&options))
        .await
        .map_err(|_| {
            DbError::Refused(format!(
                "no answer from the server within {} s",
                limit.as_secs()
            ))
        })?
        .map_err(|e| connect_failure(&options, e))?;
    let version = match probe.server_version_num() {
        Some(v) => v,
        // Not reported at start-up (some poolers): asked.
        None => sqlx::raw_sql("SELECT current_setting('server_version_num')")
            .fetch_one(&mut probe)
            .await
            .map(|row| {
                use sqlx::Row;
                row.try_get::<String, _>(0)
                    .ok()
                    .and_then(|v| v.parse::<u32>().ok())
                    .unwrap_or(0)
            })?,
    };
    if version < MIN_SERVER_VERSION {
        let _ = probe.close().await;
        return Err(DbError::Refused(format!(
            "the server runs PostgreSQL {}.{}; Switchboard needs PostgreSQL 13 or later \
             (gen_random_uuid), so nothing was done",
            version / 10000,
            version % 10000 / 100
        )));
    }
    match settings.pooling {
        Pooling::Session => {
            for statement in &session {
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!("SET {statement}")))
                    .execute(&mut probe)
                    .await?;
            }
        }
        // Tried inside a transaction that is rolled back, in one message: nothing stays on
        // the server.
        Pooling::Transaction => {
            let sql = std::iter::once("BEGIN".to_string())
                .chain(session.iter().map(|s| format!("SET LOCAL {s}")))
                .chain(std::iter::once("ROLLBACK".to_string()))
                .collect::<Vec<_>>()
                .join("; ");
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                .execute(&mut probe)
                .await?;
        }
    }
    let _ = probe.close().await;
    let pool = pool_options(&settings, session.clone(), Duration::from_secs(10))
        .connect_with(options)
        .await?;
    Ok(behind_pooler(pool, &settings, session))
}

/// A pool that connects when first used (a standby that is down now may be back later), with
/// the session settings of [`open_pool`]'s; a connection is waited for at most `acquire`.
pub fn lazy_pool(options: PgConnectOptions, settings: PoolSettings, acquire: Duration) -> PgPool {
    let options = options
        .application_name(application_name())
        .extra_float_digits(None);
    let session = session_settings(&settings);
    let pool = pool_options(&settings, session.clone(), acquire).connect_lazy_with(options);
    behind_pooler(pool, &settings, session)
}

/// The pool's options: its size, and each new session's settings SET (directly, or through a
/// pooler in session mode).
fn pool_options(settings: &PoolSettings, session: Vec<String>, acquire: Duration) -> PgPoolOptions {
    let builder = PgPoolOptions::new()
        .max_connections(8)
        .acquire_timeout(acquire);
    match settings.pooling {
        Pooling::Session => builder.after_connect(move |conn, _meta| {
            let session = session.clone();
            Box::pin(async move {
                for statement in session {
                    // Constants of this module, no input: nothing to bind.
                    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("SET {statement}")))
                        .execute(&mut *conn)
                        .await?;
                }
                Ok(())
            })
        }),
        Pooling::Transaction => builder,
    }
}

/// Behind a transaction pooler, the session settings are SET LOCAL in each transaction instead.
fn behind_pooler(pool: PgPool, settings: &PoolSettings, session: Vec<String>) -> PgPool {
    if settings.pooling == Pooling::Transaction {
        super::pooler::use_transaction_pooler();
        super::pooler::set_local_settings(&pool, session);
    }
    pool
}

/// The session's settings, as `name = value`: SET on every new connection, or SET LOCAL in each
/// transaction behind a transaction pooler.
fn session_settings(settings: &PoolSettings) -> Vec<String> {
    let mut session = Vec::new();
    if settings.read_only {
        session.push(match settings.pooling {
            Pooling::Session => "default_transaction_read_only = on".to_string(),
            // First: it must come before any query of the transaction.
            Pooling::Transaction => "transaction_read_only = on".to_string(),
        });
    }
    // The console's queries are short and index-driven; JIT compiling them (PostgreSQL turns it
    // on above a cost estimate, e.g. for a page with per-row subqueries) costs more than it saves.
    session.push("jit = off".to_string());
    if let Some(limit) = settings.statement_timeout {
        session.push(format!("statement_timeout = {}", limit.as_millis().max(1)));
    }
    session
}

/// A connected database, with the private cluster that serves it when it is the embedded one.
pub struct Connection {
    pub pool: PgPool,
    pub description: String,
    /// Held for as long as the pool is in use; stopping it unregisters this process.
    pub cluster: Option<Cluster>,
    /// Whether the demo data was loaded into a cluster created by this start.
    pub seeded_demo: bool,
    /// Migrations applied while opening (the private cluster is migrated as it opens).
    pub applied: Vec<super::MigrationInfo>,
    /// Whether its sessions are read-only: asked for (`--read-only`), or imposed by the
    /// database (a role or database with `default_transaction_read_only`, a hot standby).
    pub read_only: bool,
    /// Where reads go: the primary, or a standby given by `--replica-url`.
    pub reads: super::replica::Reads,
}

/// Whether a new session of `pool` is read-only, whatever the reason.
pub async fn session_is_read_only(pool: &PgPool) -> Result<bool, DbError> {
    Ok(
        crate::db::query_scalar("SELECT current_setting('transaction_read_only') = 'on'")
            .fetch_one(&mut *crate::db::pinned(pool).await?)
            .await?,
    )
}

impl Connection {
    /// Closes the pool, then leaves the private cluster (stopping it if no one else uses it).
    pub async fn close(mut self) -> Result<(), DbError> {
        self.pool.close().await;
        if let Some(mut cluster) = self.cluster.take() {
            tokio::task::spawn_blocking(move || cluster.stop())
                .await
                .map_err(|e| DbError::Refused(format!("stopping the private server: {e}")))??;
        }
        Ok(())
    }
}

/// What a private cluster is filled with on its first start (the demo data): `Ok(false)` when
/// the seeder declined (another process, or someone by hand, filled the database first).
pub type FirstStartSeed =
    for<'a> fn(&'a PgPool) -> futures_util::future::BoxFuture<'a, Result<bool, DbError>>;

/// Starts (or joins) the private cluster under `data_dir`, creates its database, applies the
/// migrations and, on the cluster's first start, runs `seed`.
pub async fn open_embedded(
    data_dir: &Path,
    settings: PoolSettings,
    start: StartOptions,
    seed: FirstStartSeed,
) -> Result<Connection, DbError> {
    let data_dir = data_dir.to_path_buf();
    let cluster = tokio::task::spawn_blocking(move || -> Result<Cluster, DbError> {
        let run_as = RunAs::detect()?;
        // Find the binaries before creating anything, so that a machine without PostgreSQL is
        // left exactly as it was.
        let existing = ClusterPaths::new(data_dir.join("pg"));
        let bins = PgBinaries::locate(existing.cluster_major().as_deref())?;
        let paths = ClusterPaths::for_data_dir(&data_dir, run_as)?;
        Ok(Cluster::start(paths, bins, run_as, start)?)
    })
    .await
    .map_err(|e| DbError::Refused(format!("starting the private server: {e}")))??;

    let admin = open_pool(cluster.connect_options("postgres"), PoolSettings::default()).await?;
    ensure_database(&admin, EMBEDDED_DATABASE).await?;
    admin.close().await;

    let options = cluster.connect_options(EMBEDDED_DATABASE);
    let description = format!("private cluster: {}", describe(&options));
    // Migrate and seed over a writable pool; the console's pool honours --read-only.
    let writer = open_pool(options.clone(), PoolSettings::default()).await?;
    let applied = super::migrate(&writer).await?;
    let mut seeded_demo = false;
    if cluster.demo_data_pending() {
        seeded_demo = seed(&writer).await?;
        cluster.clear_demo_data_pending()?;
    }
    let pool = if settings.read_only {
        writer.close().await;
        open_pool(options, settings).await?
    } else {
        writer
    };
    let read_only = session_is_read_only(&pool).await?;
    Ok(Connection {
        description,
        cluster: Some(cluster),
        seeded_demo,
        applied,
        read_only,
        reads: super::replica::Reads::primary_only(pool.clone()),
        pool,
    })
}

/// Opens a server the user named.
pub async fn open_url(url: &str, settings: PoolSettings) -> Result<Connection, DbError> {
    let options = options_from_url(url)?;
    let description = describe(&options);
    let settings = PoolSettings {
        connect_timeout: settings
            .connect_timeout
            .or_else(|| Some(connect_timeout_of(url))),
        ..settings
    };
    let pool = open_pool(options, settings).await?;
    let read_only = session_is_read_only(&pool).await?;
    Ok(Connection {
        reads: super::replica::Reads::primary_only(pool.clone()),
        pool,
        description,
        cluster: None,
        seeded_demo: false,
        applied: Vec::new(),
        read_only,
    })
}

/// `CREATE DATABASE name` unless it exists (two processes may race here: both are fine).
pub async fn ensure_database(admin: &PgPool, name: &str) -> Result<(), DbError> {
    let exists: bool =
        crate::db::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(name)
            .fetch_one(admin)
            .await?;
    if exists {
        return Ok(());
    }
    // CREATE DATABASE takes no parameters; quote the identifier.
    let sql = format!("CREATE DATABASE {}", quote_ident(name));
    match crate::db::query(sqlx::AssertSqlSafe(sql))
        .execute(admin)
        .await
    {
        Ok(_) => Ok(()),
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P04") => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Quotes an SQL identifier (for the few statements that take no bind parameters).
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyword_connection_strings_work_as_with_psql() {
        // A backslash escapes a quote inside a quoted value, as in libpq.
        let o = options_from_url("host=db.example user='o\\'neil' sslmode=disable").unwrap();
        assert_eq!(o.get_username(), "o'neil");
        let o =
            options_from_url("host=db.example port=6432 dbname='my db' user=ops sslmode=disable")
                .unwrap();
        assert_eq!(o.get_host(), "db.example");
        assert_eq!(o.get_port(), 6432);
        assert_eq!(o.get_database(), Some("my db"));
        assert_eq!(o.get_username(), "ops");
        let shown = redact_url("host=db.example password='s3 cret' user=ops");
        assert!(!shown.contains("s3"), "{shown}");
        assert!(shown.contains("user=ops"), "{shown}");
        assert_eq!(
            connect_timeout_of("host=db.example connect_timeout=3"),
            Duration::from_secs(3)
        );
        assert_eq!(
            connect_timeout_of("postgres://db.example/app?connect_timeout=7"),
            Duration::from_secs(7)
        );
    }

    #[test]
    fn a_socket_connection_takes_its_password_from_a_pgpass_line_keyed_by_its_directory() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pgpass");
        std::fs::write(&file, "/run/custom:5433:app:ops:from-pgpass\n").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        let has = |url: &str, needle: &str| {
            let o = options_with_pgpass(url, Some(&file)).unwrap();
            format!("{o:?}").contains(needle)
        };
        for url in [
            "postgres://ops@/app?host=/run/custom&port=5433",
            "postgres:///app?host=/run/custom&port=5433&user=ops",
            "host=/run/custom port=5433 dbname=app user=ops",
        ] {
            assert!(has(url, "from-pgpass"), "{url}");
        }
        assert!(
            has(
                "postgres://ops:typed@/app?host=/run/custom&port=5433",
                "typed"
            ) && !has(
                "postgres://ops:typed@/app?host=/run/custom&port=5433",
                "from-pgpass"
            ),
            "a password in the URL wins"
        );
        assert!(has(
            "postgres://ops:pass%2Bword@:5433/app?host=/run/custom",
            "pass+word"
        ));
        assert_eq!(
            redact_url("postgres://ops:pass%2Bword@:5433/app?host=/run/custom"),
            "postgres:///app?user=ops&password=***&port=5433&host=%2Frun%2Fcustom"
        );
        // No port or user in the authority; the query's user wins over the authority's.
        assert!(has(
            "postgres://:5433/app?host=/run/custom&user=ops",
            "from-pgpass"
        ));
        assert!(has(
            "postgres://bob@:5433/app?host=/run/custom&user=ops",
            "from-pgpass"
        ));
        // No line for this socket: no password at all, never one sqlx found for another host.
        let other =
            options_with_pgpass("postgres://ops@/app?host=/run/other&port=5433", Some(&file));
        assert!(
            format!("{:?}", other.unwrap()).contains("password: Some(\"\")"),
            "a password was kept"
        );
    }

    #[test]
    fn a_missing_sslrootcert_is_named_and_root_crt_is_the_default_ca() {
        let e = options_from_url(
            "postgres://db.example/app?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem",
        )
        .unwrap_err();
        assert!(e.to_string().contains("/nonexistent/ca.pem"), "{e}");
        let home = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(home.path().join(".postgresql")).unwrap();
        std::fs::write(home.path().join(".postgresql/root.crt"), "not read here").unwrap();
        let verify = parse_url("postgres://db.example/app?sslmode=verify-full").unwrap();
        let with = with_default_root_cert(verify.clone(), Some(home.path()));
        assert_ne!(
            format!("{with:?}"),
            format!("{verify:?}"),
            "root.crt became the CA"
        );
        let prefer = parse_url("postgres://db.example/app?sslmode=prefer").unwrap();
        let same = with_default_root_cert(prefer.clone(), Some(home.path()));
        assert_eq!(format!("{same:?}"), format!("{prefer:?}"));
    }

    #[test]
    fn passwords_never_survive_redaction() {
        let r = redact_url("postgres://alice:s3cret@db.example:5433/app?sslmode=require");
        assert!(!r.contains("s3cret"), "{r}");
        assert!(
            r.contains("alice") && r.contains("db.example:5433/app"),
            "{r}"
        );

        let r = redact_url(
            "postgres://db.example/app?sslpassword=keypass1&sslmode=verify-full&SSLPassword=keypass2",
        );
        assert!(!r.contains("keypass"), "{r}");
        assert!(r.contains("sslmode=verify-full"), "{r}");
        let r = redact_url("postgres://db.example/app?user=bob&password=hunter2");
        assert!(!r.contains("hunter2"), "{r}");
        assert!(r.contains("user=bob"), "{r}");

        let r = redact_url("postgres://al:ice:pw@@weird");
        assert!(!r.contains("ice:pw"), "{r}");
        assert_eq!(
            redact_url("not a url with secret"),
            "(unparseable URL, hidden)"
        );
    }

    #[test]
    fn debug_of_a_target_hides_the_password() {
        let t = DbTarget::Url("postgres://u:topsecret@h/db".into());
        assert!(!format!("{t:?}").contains("topsecret"));
    }

    #[test]
    fn flag_wins_over_env_and_empty_env_means_embedded() {
        assert_eq!(
            DbTarget::choose(Some("postgres://a".into()), Some("postgres://b".into())),
            DbTarget::Url("postgres://a".into())
        );
        assert_eq!(
            DbTarget::choose(None, Some("  ".into())),
            DbTarget::Embedded
        );
        assert_eq!(DbTarget::choose(None, None), DbTarget::Embedded);
    }

    #[test]
    fn bad_urls_are_reported_without_their_password() {
        let err = options_from_url("postgres://u:pw123@host:notaport/db").unwrap_err();
        let text = err.to_string();
        assert!(!text.contains("pw123"), "{text}");
    }

    #[test]
    fn describe_says_where_but_not_the_password() {
        let o = PgConnectOptions::from_str("postgres://u:pw@db.example:6000/app").unwrap();
        assert_eq!(describe(&o), "app on db.example:6000 as u");
        let o = PgConnectOptions::from_str("postgres:///app?host=/run/pg&user=u").unwrap();
        assert_eq!(describe(&o), "app on socket /run/pg as u");
    }
}
