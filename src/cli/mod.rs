//! The command line: the flags every command shares, the subcommands, and one connection helper
//! that opens the database, checks its migrations, runs the command and closes it again. Each
//! group of subcommands has its own file; `terminal` runs the console on the terminal.

mod actions;
mod admin;
mod audit;
mod bench;
mod check;
mod error;
mod grants;
mod import;
pub mod measure;
pub mod output;
mod proof;
mod setup;
mod sign_in;
pub mod terminal;

use std::path::PathBuf;
use std::time::Instant;

use clap::{Args, Parser, Subcommand};

pub use error::CliError;

use crate::actions::ActionError;
use crate::config::Config;
use crate::console::messages::SignInStart;
use crate::db::connect::{self, Connection, DbTarget, PoolSettings};
use crate::db::pg::{self, ClusterPaths, StartOptions};
use crate::paths::AppPaths;
use terminal::Exit;

/// Switchboard: the terminal admin console for the voice-agent platform's PostgreSQL database.
///
/// With no --database-url and no DATABASE_URL, Switchboard runs a private PostgreSQL cluster of
/// its own under your data directory (created, migrated and filled with demo data on first use).
#[derive(Debug, Parser)]
#[command(name = "switchboard", version, about, long_about)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The flags every command takes.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// PostgreSQL URL, e.g. postgres://user@host:5432/db. Parts it leaves out come from the PG*
    /// variables and ~/.pgpass, as with psql. Without it: DATABASE_URL, else the private cluster.
    #[arg(
        long,
        global = true,
        env = "DATABASE_URL",
        hide_env_values = true,
        value_name = "URL"
    )]
    pub database_url: Option<String>,

    /// The admin account to act as (else `admin` in the config file). On the embedded default
    /// the demo accounts need no password; without --admin it signs in as the demo super_admin.
    #[arg(
        long,
        global = true,
        env = "SWITCHBOARD_ADMIN",
        hide_env_values = true,
        value_name = "EMAIL"
    )]
    pub admin: Option<String>,

    /// Open every database session read-only (enforced by PostgreSQL itself); every action is
    /// refused.
    #[arg(long, global = true)]
    pub read_only: bool,

    /// What sits between Switchboard and the server: `session` (directly, or a pooler in session
    /// mode) or `transaction` (PgBouncer's pool_mode = transaction, Supabase's pooler on port
    /// 6543): then each use of a connection is one transaction and no prepared statement outlives
    /// it. Else `pooler` in the config file, else session.
    #[arg(
        long,
        global = true,
        env = "SWITCHBOARD_POOLER",
        hide_env_values = true,
        value_name = "MODE"
    )]
    pub pooler: Option<connect::Pooling>,

    /// A hot standby of the database (a streaming replica, same URL forms): pane pages,
    /// details, searches, exports and `audit verify` read there; sign-in, actions, the audit
    /// chain and settings go to the primary. Reads go to the primary while the standby is
    /// unreachable or more than 30 s behind. Else `replica_url` in the config file.
    #[arg(
        long,
        global = true,
        env = "SWITCHBOARD_REPLICA_URL",
        hide_env_values = true,
        value_name = "URL"
    )]
    pub replica_url: Option<String>,

    /// Read the admin's password from the first line of FILE instead of asking on the terminal.
    #[arg(long, global = true, value_name = "FILE")]
    pub password_file: Option<PathBuf>,

    /// `admin create` / `set-password` signed in as a super_admin: read that admin's password
    /// from FILE (--password-file is the new password there).
    #[arg(long, global = true, value_name = "FILE")]
    pub admin_password_file: Option<PathBuf>,

    /// Print the result (or the refusal) as one JSON object on stdout.
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Bring the database's schema up to date and list what was done. On a database the
    /// platform built (its tables, no Switchboard history), the tables are checked first: if they
    /// match, what is there is recorded and the rest applied; if not, nothing is written.
    Migrate {
        /// Print the plan and the exact SQL, and write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Also install the backstop: triggers that write an audit row for every change made
        /// outside the console (psql, the platform's code) to users' role, tenant, active,
        /// email verified and credits, numbers' assignment and active, tenants, and agents'
        /// active and name (roles in the setting backstop_ignore_roles are left out).
        #[arg(long)]
        backstop: bool,
        /// Make audit_logs a table partitioned by range on created_at, one partition a month
        /// (and a default one), copying its rows in one transaction; on one already partitioned
        /// that way, add the next months' partitions (run it monthly, e.g. from cron).
        #[arg(long, value_name = "SCHEME")]
        partition_audit: Option<PartitionScheme>,
    },
    /// Fill an empty database with the demo data set (refused if it has users).
    SeedDemo,
    /// Create a legacy voice_agent schema (schema-mapping-guide.md) and fill it with generated
    /// data, dirt included, to try `import legacy` on.
    SeedLegacy(import::SeedLegacyArgs),
    /// Import data from elsewhere into the platform's tables (an audited action).
    #[command(subcommand)]
    Import(import::ImportCmd),
    /// Fill an empty database with a large data set for benchmarks (refused if it has users).
    /// Scale 1: 10,000 tenants, 1,000,000 users, 5,000,000 calls, 10,000,000 audit entries.
    SeedBench {
        /// 1 is the full size; 0.01 takes seconds.
        #[arg(long, default_value_t = 1.0)]
        scale: f64,
        /// The audit log at this many entries instead (the rest stays at the scale), or `max`:
        /// the most that fit. Checked against the free disk of the server's data directory
        /// first, refused with the most that fits when it will not.
        #[arg(long, value_name = "N|max", value_parser = setup::audit_rows_arg)]
        audit_rows: Option<setup::AuditRows>,
        /// The users at this many instead (the rest stays at the scale).
        #[arg(long, value_name = "N")]
        users: Option<i64>,
    },
    /// Print where Switchboard keeps its private cluster, its config file and its log.
    Paths,
    /// Check the database against what the console needs: the tables, columns and types each
    /// pane and action relies on, its indexes, the role's privileges, a pooler in between. Ends
    /// with one line per pane and per action: ready, degraded (why) or unavailable (why). Exit 0
    /// all ready, 5 something degraded, 6 something unavailable. Changes nothing.
    Check,
    /// Print the SQL that gives a database role exactly what the console needs: SELECT where it
    /// reads, INSERT and UPDATE on exactly the columns its actions write, INSERT only on the
    /// audit log. Runs nothing: a DBA reads it and runs it.
    Grants {
        /// The role the console connects as.
        #[arg(long)]
        role: String,
        /// For a role that only reads (it still writes the audit rows of its sign-ins,
        /// refusals and exports).
        #[arg(long = "read-only-role")]
        read_only_role: bool,
        /// Also what `import legacy` needs: SELECT, INSERT and UPDATE on the platform tables it
        /// writes and on its id map (for the role that runs the import, once).
        #[arg(long)]
        import: bool,
    },
    /// Export the audit log (streamed, any filter).
    #[command(subcommand)]
    Audit(audit::AuditCmd),
    /// Admin accounts: bootstrap the first super_admin, set passwords.
    #[command(subcommand)]
    Admin(admin::AdminCmd),
    #[command(flatten)]
    Action(actions::ActionCommand),
    /// Measure the console against a database (best one filled by seed-bench) and print one
    /// table: pages, searches, start-up, rendering, memory, terminal bytes, credit changes.
    /// It writes top-ups (and their audit rows) to measure them.
    Bench {
        /// A few runs of each, to check the benchmark works (not for timing).
        #[arg(long)]
        quick: bool,
        /// Skip the slow baselines (OFFSET pages, unindexed searches): at a hundred million
        /// rows one OFFSET page takes minutes.
        #[arg(long)]
        no_baselines: bool,
        /// Only these sections (1-10, comma-separated).
        #[arg(long, value_delimiter = ',', value_parser = clap::value_parser!(u8).range(1..=10))]
        only: Vec<u8>,
    },
    /// Bench helper: start, connect, draw the first frame with rows, print the times.
    #[command(name = "__first-frame", hide = true)]
    FirstFrame,
    /// Bench helper: page through ROWS audit rows and print the peak RSS.
    #[command(name = "__page-memory", hide = true)]
    PageMemory {
        #[arg(long)]
        rows: u64,
    },
    /// Stop the private cluster at DIR once no process uses it (used by the test harness).
    #[command(name = "__reap-cluster", hide = true)]
    ReapCluster { dir: PathBuf },
}

/// How `migrate --partition-audit` partitions the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PartitionScheme {
    /// One partition per calendar month (UTC), on created_at.
    Monthly,
}

/// What a command does with `--replica-url`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StandbyUse {
    /// Nothing: it reads nothing a standby could serve, or writes.
    None,
    /// Its reads go there.
    Reads,
    /// `check`: whatever the server is, it is reported, not refused.
    Report,
}

impl StandbyUse {
    fn of(command: &Option<Command>) -> StandbyUse {
        match command {
            None
            | Some(Command::Audit(audit::AuditCmd::Export(_) | audit::AuditCmd::Verify(_))) => {
                StandbyUse::Reads
            }
            Some(Command::Check) => StandbyUse::Report,
            _ => StandbyUse::None,
        }
    }
}

/// What every command needs from the command line and the config file, resolved once.
pub struct RunContext {
    pub target: DbTarget,
    pub read_only: bool,
    /// `--pooler` (or `SWITCHBOARD_POOLER`), else the config file's `pooler`.
    pub pooling: connect::Pooling,
    /// `--replica-url` (or `SWITCHBOARD_REPLICA_URL`), else the config file's `replica_url`.
    pub replica: Option<String>,
    /// What the command does with the standby: reads there (the console, `audit export`,
    /// `audit verify`), reports on it (`check`), or nothing (every other command, which
    /// then never connects to it).
    pub standby_use: StandbyUse,
    /// The admin to act as: `--admin` (or `SWITCHBOARD_ADMIN`), else the config file's `admin`.
    pub admin: Option<String>,
    pub password_file: Option<PathBuf>,
    pub admin_password_file: Option<PathBuf>,
    pub json: bool,
    /// When `main` began (the bench's start-up figure counts from here).
    pub started: Instant,
}

impl RunContext {
    /// The admin to sign in as: the one named, else on the embedded default its demo
    /// super_admin; `None` when a real database was given and no admin named.
    pub fn admin_or_demo(&self) -> Option<String> {
        match (&self.admin, &self.target) {
            (Some(a), _) => Some(a.trim().to_string()),
            (None, DbTarget::Embedded) => Some(crate::seed::demo::DEMO_SUPER_ADMIN.to_string()),
            (None, DbTarget::Url(_)) => None,
        }
    }
}

/// How a command uses its database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    /// Writable, whatever `--read-only` says (migrate, seeding, the benchmark).
    Writable,
    /// As `--read-only` says.
    AsFlagged,
    /// Read-only, whatever the flag says (the bench helpers).
    ReadOnly,
}

/// Whether the command needs the migrations applied first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Schema {
    MustBeCurrent,
    AsItIs,
}

async fn connect(
    run: &RunContext,
    paths: &AppPaths,
    read_only: bool,
    interactive: bool,
) -> Result<Connection, CliError> {
    let settings = PoolSettings {
        read_only,
        statement_timeout: interactive.then_some(connect::INTERACTIVE_STATEMENT_TIMEOUT),
        connect_timeout: None,
        // The private cluster is reached directly, whatever is said about poolers.
        pooling: match run.target {
            DbTarget::Url(_) => run.pooling,
            DbTarget::Embedded => connect::Pooling::Session,
        },
    };
    let mut conn = match &run.target {
        DbTarget::Url(url) => connect::open_url(url, settings).await?,
        DbTarget::Embedded => {
            warn_ignored_pg_variables();
            connect::open_embedded(
                &paths.data_dir,
                settings,
                StartOptions::default(),
                crate::seed::demo::seed_first_start,
            )
            .await?
        }
    };
    // Only the console and the reading commands read from a standby (and `check` reports it);
    // the others never connect to it.
    if let (Some(url), true) = (&run.replica, run.standby_use != StandbyUse::None) {
        if run.target == DbTarget::Embedded {
            conn.close().await?;
            return Err(CliError::Usage(
                "--replica-url names a standby of the database given by --database-url (or \
                 DATABASE_URL); the private cluster has none"
                    .into(),
            ));
        }
        let reads = match run.standby_use {
            StandbyUse::Report => {
                crate::db::replica::Reads::with_standby_unchecked(conn.pool.clone(), url, settings)
                    .await
            }
            _ => crate::db::replica::Reads::with_standby(conn.pool.clone(), url, settings).await,
        };
        match reads {
            Ok(reads) => conn.reads = reads,
            Err(e) => {
                conn.close().await?;
                // Not a standby of this primary: the command line is wrong (exit 2).
                return Err(match e {
                    crate::db::DbError::Refused(why) => CliError::Usage(why),
                    other => other.into(),
                });
            }
        }
    }
    Ok(conn)
}

/// Where a reading command reads: the standby, once it has replayed what the primary had
/// committed when the command began; else the primary, which standard error then names.
async fn read_source(conn: &Connection) -> sqlx::PgPool {
    conn.reads.caught_up_to_primary().await;
    let pool = conn.reads.pool().await;
    if let Some(view) = conn.reads.view().filter(|v| v.is_warning()) {
        output::note(format!("Note: {}.", view.describe()));
    }
    pool
}

/// Opens the database, checks its migrations if asked, runs `f`, and closes it again (leaving
/// the private cluster, which stops when no process uses it).
async fn with_connection<T>(
    run: &RunContext,
    paths: &AppPaths,
    access: Access,
    schema: Schema,
    f: impl AsyncFnOnce(&Connection) -> Result<T, CliError>,
) -> Result<T, CliError> {
    let read_only = match access {
        Access::Writable => false,
        Access::AsFlagged => run.read_only,
        Access::ReadOnly => true,
    };
    // The console and the admin commands get a statement timeout; maintenance does not.
    let interactive = access == Access::AsFlagged;
    let conn = connect(run, paths, read_only, interactive).await?;
    let result = match schema {
        Schema::MustBeCurrent => match require_migrated(&conn).await {
            Ok(()) => f(&conn).await,
            Err(e) => Err(e),
        },
        Schema::AsItIs => f(&conn).await,
    };
    conn.close().await?;
    result
}

async fn require_migrated(conn: &Connection) -> Result<(), CliError> {
    use crate::db::migrate::{Kind, Migration};
    let pending = crate::db::pending_migrations(&conn.pool).await?;
    // The console works without its indexes, only slower (`check` names the panes).
    let (indexes, needed): (Vec<&&Migration>, Vec<&&Migration>) = pending
        .iter()
        .partition(|m| m.kind == Kind::ConcurrentIndexes);
    match needed.first() {
        None => {
            if !indexes.is_empty() {
                tracing::warn!("the console's indexes are not built yet; some panes are slow");
                output::warning(
                    "the console's indexes are not built yet, so some panes are slow \
                     (`switchboard check` names them; `switchboard migrate` builds them)",
                );
            }
            Ok(())
        }
        Some(first) => Err(CliError::Usage(format!(
            "{} lacks {} Switchboard migration(s) (first: {:04} {}); run `switchboard migrate` \
             first (`switchboard migrate --dry-run` shows what it would do)",
            conn.description,
            pending.len(),
            first.version,
            first.name
        ))),
    }
}

/// `PG*` variables name a server, but without `--database-url` or `DATABASE_URL` the private
/// cluster is used: one line says so, so that nobody believes they are on another server.
fn warn_ignored_pg_variables() {
    let set: Vec<&str> = [
        "PGHOST",
        "PGHOSTADDR",
        "PGPORT",
        "PGDATABASE",
        "PGUSER",
        "PGSERVICE",
    ]
    .into_iter()
    .filter(|v| std::env::var_os(v).is_some_and(|x| !x.is_empty()))
    .collect();
    if !set.is_empty() {
        output::warning(format!(
            "{} set, but not used: without --database-url or DATABASE_URL Switchboard works on \
             its private cluster",
            set.join(", ")
        ));
    }
}

/// Runs the command line's command.
pub async fn run(cli: Cli, paths: &AppPaths, started: Instant) -> Result<(), CliError> {
    let json = cli.global.json;
    let result = run_command(cli, paths, started).await;
    // With --json, every failure is an answer too, of every command: a refusal, a conflict, an
    // unreachable database, missing migrations, a bad config file. (`check` answers with its
    // report; a closed output takes nothing.)
    if let (Err(e), true) = (&result, json)
        && !matches!(
            e,
            CliError::Stopped
                | CliError::Check(_)
                | CliError::Incompatible(_)
                | CliError::Import(_)
        )
    {
        let answer = serde_json::json!({"status": e.json_status(), "error": e.to_string()});
        let _ = output::json(&answer);
    }
    result
}

async fn run_command(cli: Cli, paths: &AppPaths, started: Instant) -> Result<(), CliError> {
    let target = DbTarget::choose(cli.global.database_url.clone(), None);
    tracing::info!(?target, "database");
    let config = Config::load(&paths.config_file()).map_err(CliError::Usage)?;
    let run = RunContext {
        target,
        read_only: cli.global.read_only,
        pooling: cli.global.pooler.or(config.pooler).unwrap_or_default(),
        replica: cli
            .global
            .replica_url
            .or(config.replica_url)
            .filter(|u| !u.trim().is_empty()),
        standby_use: StandbyUse::of(&cli.command),
        admin: cli.global.admin.or(config.admin),
        password_file: cli.global.password_file,
        admin_password_file: cli.global.admin_password_file,
        json: cli.global.json,
        started,
    };
    dispatch(cli.command, &run, paths).await
}

async fn dispatch(
    command: Option<Command>,
    run: &RunContext,
    paths: &AppPaths,
) -> Result<(), CliError> {
    use Access::*;
    use Schema::*;
    let url = matches!(run.target, DbTarget::Url(_));
    match command {
        None => {
            with_connection(run, paths, AsFlagged, MustBeCurrent, async |conn| {
                if output::stdout_is_terminal() {
                    console(conn, run).await
                } else {
                    // Not on a terminal (a pipe, a script): report instead of drawing.
                    setup::overview(conn, run.admin.as_deref(), conn.read_only).await
                }
            })
            .await
        }
        Some(Command::Action(cmd)) => {
            with_connection(run, paths, AsFlagged, MustBeCurrent, async |conn| {
                actions::execute(conn, run, cmd).await
            })
            .await
        }
        Some(Command::Audit(audit::AuditCmd::Export(args))) => {
            with_connection(run, paths, AsFlagged, MustBeCurrent, async |conn| {
                audit::execute(conn, run, args).await
            })
            .await
        }
        Some(Command::Audit(audit::AuditCmd::Verify(args))) => {
            with_connection(run, paths, ReadOnly, MustBeCurrent, async |conn| {
                proof::verify(conn, &paths.config_dir, args).await
            })
            .await
        }
        Some(Command::Audit(audit::AuditCmd::Archive(args))) => {
            with_connection(run, paths, AsFlagged, MustBeCurrent, async |conn| {
                audit::archive(conn, run, args).await
            })
            .await
        }
        Some(Command::Audit(audit::AuditCmd::Tail(args))) => {
            with_connection(run, paths, ReadOnly, MustBeCurrent, async |conn| {
                audit::tail(conn, args).await
            })
            .await
        }
        Some(Command::Audit(audit::AuditCmd::Checkpoint(args))) => {
            with_connection(run, paths, ReadOnly, MustBeCurrent, async |conn| {
                proof::checkpoint(conn, &paths.config_dir, args).await
            })
            .await
        }
        Some(Command::Admin(cmd)) => {
            let done = with_connection(run, paths, AsFlagged, MustBeCurrent, async |conn| {
                admin::execute(conn, run, cmd).await
            })
            .await?;
            output::line(done)?;
            Ok(())
        }
        Some(Command::Bench {
            quick,
            no_baselines,
            only,
        }) => {
            with_connection(run, paths, Writable, MustBeCurrent, async |conn| {
                bench::execute(conn, &run.target, quick, no_baselines, &only).await
            })
            .await
        }
        Some(Command::FirstFrame) => {
            with_connection(run, paths, ReadOnly, AsItIs, async |conn| {
                bench::first_frame(conn, run.started).await
            })
            .await
        }
        Some(Command::PageMemory { rows }) => {
            with_connection(run, paths, ReadOnly, AsItIs, async |conn| {
                bench::page_memory(conn, rows).await
            })
            .await
        }
        Some(Command::Migrate {
            dry_run,
            backstop,
            partition_audit,
        }) => {
            if run.pooling == connect::Pooling::Transaction {
                return Err(CliError::Usage(
                    "migrate needs a session of its own (a lock held across transactions, \
                     CREATE INDEX CONCURRENTLY outside any transaction), which a transaction \
                     pooler does not give: run it with a URL straight to the server (or to a \
                     pooler in session mode), without --pooler transaction"
                        .into(),
                ));
            }
            with_connection(run, paths, Writable, AsItIs, async |conn| {
                setup::migrate(conn, url, dry_run, run.json).await?;
                if backstop && dry_run {
                    output::note(
                        "With --backstop, it would also (re)install the backstop triggers on users, \
                         phone_numbers, tenants and agents; nothing was written.",
                    );
                }
                if backstop && !dry_run {
                    crate::db::migrate::install_backstop(&conn.pool).await?;
                    output::note(
                        "Backstop installed: changes made outside the console to users, \
                         phone_numbers, tenants and agents are recorded in the audit log.",
                    );
                }
                if let Some(PartitionScheme::Monthly) = partition_audit {
                    setup::partition_audit(conn, dry_run, run.json).await?;
                }
                Ok(())
            })
            .await
        }
        Some(Command::SeedBench {
            scale,
            audit_rows,
            users,
        }) => {
            with_connection(run, paths, Writable, MustBeCurrent, async |conn| {
                setup::seed_bench(conn, scale, audit_rows, users).await
            })
            .await
        }
        Some(Command::SeedDemo) => {
            with_connection(run, paths, Writable, MustBeCurrent, async |conn| {
                setup::seed_demo(conn).await
            })
            .await
        }
        Some(Command::SeedLegacy(args)) => {
            with_connection(run, paths, Writable, AsItIs, async |conn| {
                import::seed_legacy(conn, args).await
            })
            .await
        }
        Some(Command::Import(import::ImportCmd::Legacy(args))) => {
            with_connection(run, paths, AsFlagged, MustBeCurrent, async |conn| {
                import::legacy(conn, run, args).await
            })
            .await
        }
        Some(Command::Paths) => setup::paths(paths),
        Some(Command::Grants {
            role,
            read_only_role,
            import,
        }) => grants::execute(&role, read_only_role, import),
        Some(Command::Check) => {
            with_connection(run, paths, ReadOnly, AsItIs, async |conn| {
                check::execute(conn, run).await
            })
            .await
        }
        Some(Command::ReapCluster { dir }) => {
            let paths = ClusterPaths::new(dir);
            tokio::task::spawn_blocking(move || {
                pg::reap_when_unused(&paths, std::time::Duration::from_millis(250))
            })
            .await
            .map_err(|e| CliError::Io(format!("reaper failed: {e}")))?
            .map_err(|e| CliError::Db(e.into()))
        }
    }
}

/// The console on the terminal, until the admin quits.
async fn console(conn: &Connection, run: &RunContext) -> Result<(), CliError> {
    let sign_in = match (&run.target, run.admin_or_demo()) {
        (DbTarget::Embedded, Some(email)) => SignInStart::Demo(email),
        (_, admin) => SignInStart::Prompt(admin),
    };
    let options = terminal::Options {
        sign_in,
        read_only: conn.read_only,
    };
    match terminal::run(conn, options).await {
        Ok(Exit::Quit) => Ok(()),
        Ok(Exit::SignInFailed) => Err(CliError::Action(ActionError::SignIn)),
        Err(e) => Err(CliError::Io(format!("terminal error: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    /// Every subcommand and every option says what it is for in `--help`, and no option shows
    /// an environment variable's value (set or not).
    #[test]
    fn every_command_and_option_has_help_text() {
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for arg in cmd.get_arguments() {
                let id = arg.get_id().as_str();
                if arg.is_hide_set() || matches!(id, "help" | "version") {
                    continue;
                }
                if arg.get_help().is_none() && arg.get_long_help().is_none() {
                    missing.push(format!("{path} --{id}"));
                }
                if arg.get_env().is_some() && !arg.is_hide_env_values_set() {
                    missing.push(format!("{path} --{id}: shows its variable's value"));
                }
            }
            for sub in cmd.get_subcommands() {
                if sub.is_hide_set() || sub.get_name() == "help" {
                    continue;
                }
                let sub_path = format!("{path} {}", sub.get_name());
                if sub.get_about().is_none() && sub.get_long_about().is_none() {
                    missing.push(sub_path.clone());
                }
                walk(sub, &sub_path, missing);
            }
        }
        let mut missing = Vec::new();
        walk(&Cli::command(), "switchboard", &mut missing);
        assert!(missing.is_empty(), "no help text:\n{}", missing.join("\n"));
    }
}
