//! Test harness: real PostgreSQL, a fresh database per test.
//!
//! With `DATABASE_URL` set, tests use that server (it must allow CREATE DATABASE). Without it,
//! the first test of a run starts a private cluster with Switchboard's own embedded-cluster code
//! (under the system temp dir, shared by every test binary of the run through the same
//! registration locks the console uses) and leaves a reaper that stops it once the run is over.
//!
//! Each test gets its own database, cloned from a migrated template, dropped when the test ends.
#![allow(dead_code)] // each test binary uses a different part of the harness

/// Runs one statement of a test's own, `sql!(pool, query, fetch_one)`, and commits it. Behind a
/// transaction pooler (`SWITCHBOARD_POOLER=transaction`) statements go as the console sends
/// them: unnamed, inside a transaction of their own (`switchboard::db::pooler`).
#[allow(unused_macros)]
macro_rules! sql {
    ($pool:expr, $query:expr, $method:ident) => {{
        let mut tx = switchboard::db::begin($pool)
            .await
            .expect("beginning a test's transaction");
        let out = $query.$method(&mut *tx).await;
        if out.is_ok() {
            tx.commit().await.expect("committing a test's transaction");
        }
        out
    }};
}

pub mod actions;
pub mod cli;
pub mod pty;
pub mod replica;
pub mod seed;

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::Stdio;
use std::str::FromStr;
use std::sync::OnceLock;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, Executor, PgConnection, PgPool};

use switchboard::db::connect::quote_ident;
use switchboard::db::pg::{Cluster, ClusterPaths, PgBinaries, RunAs, StartOptions, fnv1a};

pub struct Server {
    /// Options for the server's `postgres` database (any database name can be swapped in).
    pub admin: PgConnectOptions,
    /// How the tests themselves connect: the server, or a pooler in front of it
    /// (`SWITCHBOARD_TEST_POOLER_URL`, e.g. a PgBouncer; databases are made directly).
    pub client: PgConnectOptions,
    /// Keeps this process registered with the private cluster.
    _cluster: Option<Cluster>,
    /// Outlives this process on purpose: it stops the cluster once the whole run is over.
    _reaper: Option<std::process::Child>,
}

/// Where the private test cluster of this checkout lives: short (for the socket path) and
/// reachable by the postgres system user when tests run as root.
pub fn test_cluster_dir() -> PathBuf {
    let checkout = env!("CARGO_MANIFEST_DIR");
    let hash = fnv1a(checkout.as_bytes());
    std::env::temp_dir().join(format!("switchboard-test-{hash:012x}"))
}

pub fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        if let Ok(url) = std::env::var("DATABASE_URL") {
            let admin = PgConnectOptions::from_str(&url).expect("DATABASE_URL does not parse");
            let client = match std::env::var("SWITCHBOARD_TEST_POOLER_URL") {
                // No startup parameter a pooler refuses, as the console's own pools.
                Ok(pooler) => PgConnectOptions::from_str(&pooler)
                    .expect("SWITCHBOARD_TEST_POOLER_URL does not parse")
                    .extra_float_digits(None),
                Err(_) => admin.clone(),
            };
            return Server {
                admin,
                client,
                _cluster: None,
                _reaper: None,
            };
        }
        let paths = ClusterPaths::new(test_cluster_dir());
        let run_as = RunAs::detect().expect("cannot run the private test cluster");
        let bins = PgBinaries::locate(paths.cluster_major().as_deref())
            .expect("PostgreSQL server binaries are needed to run the tests");
        let cluster = Cluster::start(paths.clone(), bins, run_as, StartOptions { no_sync: true })
            .expect("starting the private test cluster");
        // The demo marker concerns the console's own cluster only.
        cluster.clear_demo_data_pending().ok();
        // Statics are never dropped in a test binary, so the cluster cannot stop itself: a
        // detached reaper stops it once every test binary of the run has gone.
        let reaper = std::process::Command::new(env!("CARGO_BIN_EXE_switchboard"))
            .arg("__reap-cluster")
            .arg(&paths.base)
            .env("HOME", &paths.base)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own process group: a Ctrl-C that ends the tests must not end the reaper.
            .process_group(0)
            .spawn()
            .expect("starting the cluster reaper");
        Server {
            admin: cluster.connect_options("postgres"),
            client: cluster.connect_options("postgres"),
            _cluster: Some(cluster),
            _reaper: Some(reaper),
        }
    })
}

/// A database of its own for one test, dropped (with its connections) when the value drops.
pub struct TestDb {
    pub pool: PgPool,
    pub name: String,
    pub options: PgConnectOptions,
}

impl TestDb {
    /// A database with every migration applied.
    pub async fn migrated() -> TestDb {
        let template = migrated_template().await;
        Self::create(&template).await
    }

    /// An empty database (from `template0`): nothing of Switchboard's in it.
    pub async fn empty() -> TestDb {
        Self::create("template0").await
    }

    async fn create(template: &str) -> TestDb {
        let server = server();
        let name = format!("sbt_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::connect_with(&server.admin)
            .await
            .expect("connecting to the test server");
        admin
            .execute(sqlx::AssertSqlSafe(format!(
                "CREATE DATABASE {} TEMPLATE {}",
                quote_ident(&name),
                quote_ident(template)
            )))
            .await
            .expect("creating a test database");
        admin.close().await.ok();
        // Named after the database, as each console process names its sessions: a test that
        // cancels "this console's" queries by application_name touches no other test's.
        let options = server
            .client
            .clone()
            .database(&name)
            .application_name(&name);
        let pool = pool_options()
            .max_connections(12)
            .connect_with(options.clone())
            .await
            .expect("connecting to the test database");
        TestDb {
            pool,
            name,
            options,
        }
    }

    /// A `postgres://` URL for this database, for running the real binary against it.
    pub fn url(&self) -> String {
        url_of(&self.options, &self.name)
    }

    /// The URL straight to the server, past a pooler the tests may go through (for what a
    /// transaction pooler cannot carry: `migrate`).
    pub fn direct_url(&self) -> String {
        url_of(&server().admin.clone().database(&self.name), &self.name)
    }
}

/// A `postgres://` URL for database `name` with the host, port and user of `o`.
fn url_of(o: &PgConnectOptions, name: &str) -> String {
    {
        match o.get_socket() {
            Some(dir) => format!(
                "postgres:///{}?host={}&port={}&user={}",
                name,
                dir.display(),
                o.get_port(),
                o.get_username()
            ),
            None => {
                let host = o.get_host();
                if host.starts_with('/') {
                    format!(
                        "postgres:///{}?host={host}&port={}&user={}",
                        name,
                        o.get_port(),
                        o.get_username()
                    )
                } else {
                    // The password, if any, comes from the environment (PGPASSWORD/.pgpass).
                    format!(
                        "postgres://{}@{host}:{}/{}",
                        o.get_username(),
                        o.get_port(),
                        name
                    )
                }
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        let admin = server().admin.clone();
        // Drop runs inside the test's runtime, which is blocked while we wait: the pool's
        // connections cannot be closed politely from here, so FORCE terminates them.
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                if let Ok(mut c) = PgConnection::connect_with(&admin).await {
                    let sql = format!(
                        "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                        quote_ident(&name)
                    );
                    c.execute(sqlx::AssertSqlSafe(sql)).await.ok();
                    c.close().await.ok();
                }
            });
        })
        .join()
        .ok();
    }
}

/// The name of a database holding the current migrations, created once per server and schema.
async fn migrated_template() -> String {
    let bytes: Vec<u8> = switchboard::db::migrate::MIGRATIONS
        .iter()
        .flat_map(|m| m.sql.bytes())
        .collect();
    let checksum = fnv1a(&bytes);
    let name = format!("sb_adopted_{checksum:016x}");
    let server = server();
    let mut admin = PgConnection::connect_with(&server.admin)
        .await
        .expect("connecting to the test server");
    // Serialise template creation between test binaries and threads.
    sqlx::query("SELECT pg_advisory_lock(7270700)")
        .execute(&mut admin)
        .await
        .expect("advisory lock");
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(&name)
            .fetch_one(&mut admin)
            .await
            .expect("looking up the template");
    if !exists {
        // Build under a scratch name and rename, so a crash never leaves a half-built template.
        let building = format!("{name}_building");
        for sql in [
            format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                quote_ident(&building)
            ),
            format!(
                "CREATE DATABASE {} TEMPLATE template0",
                quote_ident(&building)
            ),
        ] {
            admin
                .execute(sqlx::AssertSqlSafe(sql))
                .await
                .expect("creating the template");
        }
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .connect_with(server.admin.clone().database(&building))
            .await
            .expect("connecting to the template");
        // Built the way a real installation is: the platform's tables first, by plain SQL as
        // the platform makes them, then `migrate` adopts them and adds the rest. Every test on
        // a migrated database so runs on an adopted one.
        sqlx::raw_sql(switchboard::db::migrate::MIGRATIONS[0].sql)
            .execute(&pool)
            .await
            .expect("the platform's schema");
        let done = switchboard::db::migrate(&pool)
            .await
            .expect("migrating the template");
        assert_eq!(done[0].how, switchboard::db::migrate::How::Adopted);
        pool.close().await;
        admin
            .execute(sqlx::AssertSqlSafe(format!(
                "ALTER DATABASE {} RENAME TO {}",
                quote_ident(&building),
                quote_ident(&name)
            )))
            .await
            .expect("renaming the template");
    }
    sqlx::query("SELECT pg_advisory_unlock(7270700)")
        .execute(&mut admin)
        .await
        .ok();
    admin.close().await.ok();
    name
}

/// `pg_dump` of the database `options` names (schema and data, plain text): two dumps are the
/// same when nothing in the database changed.
pub fn dump(options: &PgConnectOptions) -> String {
    let beside = PgBinaries::locate(None)
        .map(|b| b.bindir.join("pg_dump"))
        .ok()
        .filter(|p| p.is_file());
    let program = beside.unwrap_or_else(|| PathBuf::from("pg_dump"));
    let out = std::process::Command::new(&program)
        .args(["--no-owner", "--no-privileges"])
        .env(
            "PGHOST",
            match options.get_socket() {
                Some(dir) => dir.display().to_string(),
                None => options.get_host().to_string(),
            },
        )
        .env("PGPORT", options.get_port().to_string())
        .env("PGUSER", options.get_username())
        .env("PGDATABASE", options.get_database().unwrap_or("postgres"))
        .env_remove("PGPASSWORD")
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", program.display()));
    assert!(
        out.status.success(),
        "pg_dump: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Newer pg_dumps frame the script with a random `\restrict` key, different every run.
    String::from_utf8(out.stdout)
        .expect("pg_dump's output is UTF-8")
        .lines()
        .filter(|l| !l.starts_with("\\restrict ") && !l.starts_with("\\unrestrict "))
        .collect::<Vec<_>>()
        .join("\n")
}

/// How the tests' pools are made. With `SWITCHBOARD_POOLER=transaction` (CI runs the action
/// tests so, through a PgBouncer in transaction mode) this process sends its statements as the
/// console does behind a transaction pooler: unnamed, inside transactions.
pub fn pool_options() -> PgPoolOptions {
    if std::env::var("SWITCHBOARD_POOLER").as_deref() == Ok("transaction") {
        switchboard::db::pooler::use_transaction_pooler();
    }
    PgPoolOptions::new()
}
