//! A primary and a hot standby of it, started by the test from the same server binaries the
//! private cluster uses: `initdb` and a primary on a loopback port, `pg_basebackup -R` into the
//! standby's directory, the standby on another port. The primary holds a database `app` with
//! Switchboard's migrations and the demo data. The standby logs every statement with the
//! client's `application_name`, so a test can see what reached it. Both stop when the value drops.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use chrono::Utc;
use switchboard::db::connect::{self, PoolSettings};
use switchboard::db::pg::PgBinaries;

pub struct Pair {
    dir: tempfile::TempDir,
    bindir: PathBuf,
    pub primary_port: u16,
    pub standby_port: u16,
}

const DATABASE: &str = "app";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("finding a free loopback port")
        .port()
}

impl Pair {
    pub async fn start() -> Pair {
        let bins = PgBinaries::locate(None).expect("PostgreSQL server binaries are needed");
        let dir = tempfile::Builder::new()
            .prefix("sb-replica-")
            .tempdir_in("/tmp")
            .expect("making the servers' directory");
        if nix::unistd::geteuid().is_root() {
            let user = nix::unistd::User::from_name("postgres")
                .unwrap()
                .expect("a postgres system user to run the servers as");
            nix::unistd::chown(dir.path(), Some(user.uid), Some(user.gid)).unwrap();
        }
        // Where the binaries really are (initdb may be a link in /usr/local/bin, without
        // pg_basebackup beside it).
        let bindir = std::fs::canonicalize(bins.bindir.join("initdb"))
            .ok()
            .and_then(|p| p.parent().map(Path::to_path_buf))
            .unwrap_or(bins.bindir);
        let pair = Pair {
            dir,
            bindir,
            primary_port: free_port(),
            standby_port: free_port(),
        };
        let primary = pair.path("primary");
        pair.run(
            "initdb",
            &[
                "-D",
                primary.to_str().unwrap(),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
        );
        pair.start_server("primary", pair.primary_port, "");
        let admin = connect::open_url(&pair.url(pair.primary_port, "postgres"), settings())
            .await
            .expect("connecting to the primary");
        connect::ensure_database(&admin.pool, DATABASE)
            .await
            .unwrap();
        admin.close().await.unwrap();
        let conn = connect::open_url(&pair.primary_url(), settings())
            .await
            .unwrap();
        switchboard::db::migrate(&conn.pool).await.unwrap();
        switchboard::seed::demo::seed_demo(&conn.pool, Utc::now())
            .await
            .unwrap();
        conn.close().await.unwrap();
        let port = pair.primary_port.to_string();
        pair.run(
            "pg_basebackup",
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &port,
                "-U",
                "postgres",
                "-D",
                pair.path("standby").to_str().unwrap(),
                "-R",
                "-X",
                "stream",
                "--no-sync",
                // A spread checkpoint would take minutes.
                "--checkpoint=fast",
            ],
        );
        pair.start_standby();
        pair
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn url(&self, port: u16, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{port}/{database}")
    }

    pub fn primary_url(&self) -> String {
        self.url(self.primary_port, DATABASE)
    }

    pub fn standby_url(&self) -> String {
        self.url(self.standby_port, DATABASE)
    }

    /// What the standby logged: every statement, each line led by the client's
    /// application_name.
    pub fn standby_log(&self) -> String {
        std::fs::read_to_string(self.path("standby.log")).unwrap_or_default()
    }

    /// Runs a server binary as the user that owns the data (postgres, when the tests run as
    /// root: initdb and the server refuse root).
    fn run(&self, program: &str, args: &[&str]) {
        let out = self.command(program, args);
        assert!(
            out.status.success(),
            "{program} {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn command(&self, program: &str, args: &[&str]) -> std::process::Output {
        let bin = self.bindir.join(program);
        let mut cmd = if nix::unistd::geteuid().is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(bin);
            c
        } else {
            Command::new(bin)
        };
        cmd.args(args)
            .current_dir("/")
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("running {program}: {e}"))
    }

    fn start_server(&self, name: &str, port: u16, extra: &str) {
        let data = self.path(name);
        let log = self.path(&format!("{name}.log"));
        let options = format!(
            "-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={} \
             -c fsync=off {extra}",
            self.dir.path().display()
        );
        self.run(
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap(),
                "-l",
                log.to_str().unwrap(),
                "-o",
                &options,
                "-w",
                "start",
            ],
        );
    }

    pub fn start_standby(&self) {
        self.start_server(
            "standby",
            self.standby_port,
            "-c log_statement=all -c log_line_prefix='%a: '",
        );
    }

    pub fn stop_standby(&self) {
        let data = self.path("standby");
        self.run(
            "pg_ctl",
            &["-D", data.to_str().unwrap(), "-m", "fast", "-w", "stop"],
        );
    }

    /// Stops a server if it runs, in Drop, where a panic would abort: a failure is left be (the
    /// directory goes with the value).
    fn stop(&self, name: &str, mode: &str) {
        let data = self.path(name);
        if !Path::new(&data).join("postmaster.pid").exists() {
            return;
        }
        let out = self.command(
            "pg_ctl",
            &["-D", data.to_str().unwrap(), "-m", mode, "-w", "stop"],
        );
        let _ = out;
    }

    /// Sets a standby parameter (ALTER SYSTEM, which a standby takes) and reloads it.
    pub async fn set_on_standby(&self, setting: &str) {
        let conn = connect::open_url(&self.standby_url(), settings())
            .await
            .unwrap();
        let mut c = conn.pool.acquire().await.unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("ALTER SYSTEM {setting}")))
            .execute(&mut *c)
            .await
            .unwrap();
        sqlx::raw_sql("SELECT pg_reload_conf()")
            .execute(&mut *c)
            .await
            .unwrap();
        drop(c);
        conn.close().await.unwrap();
    }
}

impl Drop for Pair {
    fn drop(&mut self) {
        self.stop("standby", "immediate");
        self.stop("primary", "immediate");
    }
}

/// The settings the console's own pools use.
pub fn settings() -> PoolSettings {
    PoolSettings {
        statement_timeout: Some(connect::INTERACTIVE_STATEMENT_TIMEOUT),
        ..PoolSettings::default()
    }
}
