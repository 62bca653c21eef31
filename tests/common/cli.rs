//! The real binary against a seeded database, signed in with a password file, as a support
//! macro or a script would run it: what the command-line test files share.

use std::path::PathBuf;
use std::process::{Command, Output};

use chrono::Utc;
use serde_json::Value;
use switchboard::seed::demo;

use super::TestDb;

pub struct Cli {
    pub home: tempfile::TempDir,
    pub url: String,
}

impl Cli {
    pub async fn seeded(db: &TestDb) -> Cli {
        demo::seed_demo(&db.pool, Utc::now()).await.unwrap();
        Cli::on(db)
    }

    pub fn on(db: &TestDb) -> Cli {
        let home = tempfile::tempdir().unwrap();
        Cli {
            home,
            url: db.url(),
        }
    }

    /// A file holding `password`, as `--password-file` reads it.
    pub fn password_file(&self, name: &str, password: &str) -> PathBuf {
        let path = self.home.path().join(name);
        std::fs::write(&path, format!("{password}\n")).unwrap();
        path
    }

    pub fn demo_password(&self) -> PathBuf {
        self.password_file("demo-password", demo::DEMO_PASSWORD)
    }

    pub fn run(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_switchboard"));
        cmd.arg("--database-url").arg(&self.url).args(args);
        cmd.env("HOME", self.home.path()).env("USER", "ops");
        cmd.env("SSH_CONNECTION", "203.0.113.50 40022 10.0.0.2 22");
        for var in [
            "DATABASE_URL",
            "XDG_CONFIG_HOME",
            "XDG_STATE_HOME",
            "SWITCHBOARD_ADMIN",
            "SWITCHBOARD_ADMIN_CREDIT_CAP",
            "SSH_CLIENT",
        ] {
            cmd.env_remove(var);
        }
        cmd.output().unwrap()
    }

    /// Runs as `admin` with the demo password from a file.
    pub fn as_admin(&self, admin: &str, args: &[&str]) -> Output {
        let pw = self.demo_password();
        let mut all = vec!["--admin", admin, "--password-file", pw.to_str().unwrap()];
        all.extend_from_slice(args);
        self.run(&all)
    }
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn json(o: &Output) -> Value {
    serde_json::from_str(stdout(o).trim()).unwrap_or_else(|e| panic!("{e}: {}", stdout(o)))
}

pub async fn credits(db: &TestDb, email: &str) -> i32 {
    sql!(
        &db.pool,
        switchboard::db::query_scalar("SELECT credits FROM users WHERE email = $1").bind(email),
        fetch_one
    )
    .unwrap()
}

pub const CUSTOMER: &str = "kenji.fernandes@acmerealty.example";
