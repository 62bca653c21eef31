use std::fs::{self, OpenOptions};
use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Mutex;

use clap::{Args, Parser, Subcommand};

mod commands;

use commands::{ActionCmd, ActionOptions, AdminCmd, CmdError};
use switchboard::actions::ActionError;
use switchboard::config::Config;
use switchboard::db::connect::{self, Connection, PoolSettings, Target};
use switchboard::db::pg::{self, ClusterPaths, PgError, StartOptions};
use switchboard::db::{self, DbError, demo};
use switchboard::paths::AppPaths;

/// Switchboard: the terminal admin console for the voice-agent platform's PostgreSQL database.
///
/// With no --database-url and no DATABASE_URL, Switchboard runs a private PostgreSQL cluster of
/// its own under your data directory (created, migrated and filled with demo data on first use).
#[derive(Debug, Parser)]
#[command(name = "switchboard", version, about, long_about)]
struct Cli {
    #[command(flatten)]
    db: DbArgs,

    /// The admin account to act as (else `admin` in the config file). On the embedded default
    /// the demo accounts need no password; without --admin it signs in as the demo super_admin.
    #[arg(long, global = true, env = "SWITCHBOARD_ADMIN", value_name = "EMAIL")]
    admin: Option<String>,

    /// Open every database session read-only (enforced by PostgreSQL itself); every action is
    /// refused.
    #[arg(long, global = true)]
    read_only: bool,

    #[command(flatten)]
    action: ActionOptions,

    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Args)]
struct DbArgs {
    /// PostgreSQL URL, e.g. postgres://user@host:5432/db. Parts it leaves out come from the PG*
    /// variables and ~/.pgpass, as with psql. Without it: DATABASE_URL, else the private cluster.
    #[arg(
        long,
        global = true,
        env = "DATABASE_URL",
        hide_env_values = true,
        value_name = "URL"
    )]
    database_url: Option<String>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Apply pending schema migrations and list what was applied.
    Migrate,
    /// Fill an empty database with the demo data set (refused if it has users).
    SeedDemo,
    /// Fill an empty database with a large data set for benchmarks (refused if it has users).
    /// Scale 1: 10,000 tenants, 1,000,000 users, 5,000,000 calls, 10,000,000 audit entries.
    SeedBench {
        /// 1 is the full size; 0.01 takes seconds.
        #[arg(long, default_value_t = 1.0)]
        scale: f64,
    },
    /// Print where Switchboard keeps its private cluster, its config file and its log.
    Paths,
    /// Export the audit log (streamed, any filter).
    #[command(subcommand)]
    Audit(commands::AuditCmd),
    /// Admin accounts: bootstrap the first super_admin, set passwords.
    #[command(subcommand)]
    Admin(AdminCmd),
    /// Settings only a super_admin changes (the admins' credit cap).
    #[command(subcommand)]
    Settings(commands::SettingsCmd),
    /// Top up or deduct a user's credits.
    #[command(subcommand)]
    Credits(commands::CreditsCmd),
    /// Activate, deactivate, revoke sessions, verify email, change role or tenant.
    #[command(subcommand)]
    Users(commands::UsersCmd),
    /// Create, rename, change plan, activate or deactivate tenants.
    #[command(subcommand)]
    Tenants(commands::TenantsCmd),
    /// Rename, describe, activate or deactivate agents.
    #[command(subcommand)]
    Agents(commands::AgentsCmd),
    /// Add, assign, unassign, activate or deactivate phone numbers.
    #[command(subcommand)]
    Numbers(commands::NumbersCmd),
    /// Measure the console against a database (best one filled by seed-bench) and print one
    /// table: pages, searches, start-up, rendering, memory, terminal bytes, credit changes.
    /// It writes top-ups (and their audit rows) to measure them.
    Bench {
        /// A few runs of each, to check the benchmark works (not for timing).
        #[arg(long)]
        quick: bool,
        /// Only these sections (1-8, comma-separated).
        #[arg(long, value_delimiter = ',', value_parser = clap::value_parser!(u8).range(1..=8))]
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
    ReapCluster { dir: std::path::PathBuf },
}

/// Errors that end the process, with the exit code each one means.
#[derive(Debug, thiserror::Error)]
enum AppError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("{0}")]
    Usage(String),
    #[error("interrupted by {0}")]
    Interrupted(&'static str),
    #[error(transparent)]
    Action(#[from] ActionError),
    /// The reader of standard output went away (`| head`): end quietly.
    #[error("output closed")]
    Stopped,
}

impl From<CmdError> for AppError {
    fn from(e: CmdError) -> AppError {
        match e {
            CmdError::Action(a) => AppError::Action(a),
            CmdError::Usage(u) => AppError::Usage(u),
            CmdError::Stopped => AppError::Stopped,
        }
    }
}

impl AppError {
    fn exit_code(&self) -> u8 {
        match self {
            // The environment or the command line is wrong: nothing was attempted.
            AppError::Usage(_)
            | AppError::Db(DbError::BadUrl(..))
            | AppError::Db(DbError::Pg(PgError::BinariesNotFound { .. })) => 2,
            AppError::Interrupted(_) => 130,
            AppError::Db(_) => 1,
            AppError::Action(a) => a.exit_code(),
            AppError::Stopped => 0,
        }
    }
}

/// When main() began (the bench's start-up figure counts from here).
static STARTED: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

fn main() -> ExitCode {
    STARTED.get_or_init(std::time::Instant::now);
    let cli = Cli::parse();
    let Some(paths) = AppPaths::detect() else {
        eprintln!("switchboard: error: cannot find your home directory (is HOME set?)");
        return ExitCode::from(2);
    };
    if let Err(e) = init_logging(&paths) {
        eprintln!(
            "switchboard: warning: cannot write the log at {}: {e}",
            paths.log_file().display()
        );
    }
    tracing::info!(version = env!("CARGO_PKG_VERSION"), command = ?cli.command, "start");
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("switchboard: error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        tokio::select! {
            r = run(cli, &paths) => r,
            signal = shutdown_signal() => Err(AppError::Interrupted(signal)),
        }
    });
    // Whatever ended the run, the terminal is given back before anything is printed.
    switchboard::tui::restore_terminal();
    // Dropping the runtime waits for blocking work such as stopping the private server.
    drop(runtime);
    match result {
        Ok(()) | Err(AppError::Stopped) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("switchboard: error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

/// Logs go to a file, never to the terminal the console draws on.
fn init_logging(paths: &AppPaths) -> std::io::Result<()> {
    fs::create_dir_all(&paths.state_dir)?;
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(paths.log_file())?;
    let filter = tracing_subscriber::EnvFilter::try_from_env("SWITCHBOARD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(Mutex::new(file))
        .init();
    Ok(())
}

/// Resolves on Ctrl-C, SIGTERM or SIGHUP (a dropped SSH link), naming the signal.
async fn shutdown_signal() -> &'static str {
    use tokio::signal::unix::{SignalKind, signal};
    async fn next(kind: SignalKind) {
        match signal(kind) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    }
    tokio::select! {
        _ = tokio::signal::ctrl_c() => "Ctrl-C",
        _ = next(SignalKind::terminate()) => "SIGTERM",
        _ = next(SignalKind::hangup()) => "SIGHUP",
    }
}

async fn open(target: &Target, paths: &AppPaths, read_only: bool) -> Result<Connection, DbError> {
    let settings = PoolSettings { read_only };
    match target {
        Target::Url(url) => connect::open_url(url, settings).await,
        Target::Embedded => {
            connect::open_embedded(&paths.data_dir, settings, StartOptions::default()).await
        }
    }
}

async fn run(cli: Cli, paths: &AppPaths) -> Result<(), AppError> {
    let target = Target::choose(cli.db.database_url, None);
    tracing::info!(?target, "database");
    let config = Config::load(&paths.config_file()).map_err(AppError::Usage)?;
    let admin = cli.admin.clone().or(config.admin);
    let ctx = RunContext {
        target,
        read_only: cli.read_only,
        admin,
        options: cli.action,
    };
    dispatch(cli.command, &ctx, paths).await
}

/// What every command needs from the command line and the config file.
struct RunContext {
    target: Target,
    read_only: bool,
    admin: Option<String>,
    options: ActionOptions,
}

/// An action subcommand: sign in, apply, report.
async fn action_command(
    action: ActionCmd,
    ctx: &RunContext,
    paths: &AppPaths,
) -> Result<(), AppError> {
    let conn = open(&ctx.target, paths, ctx.read_only).await?;
    let result = match require_migrated(&conn).await {
        Err(e) => Err(e),
        Ok(()) => commands::run_action(
            &conn,
            &ctx.target,
            ctx.admin.as_deref(),
            &ctx.options,
            ctx.read_only,
            action,
        )
        .await
        .map_err(AppError::from),
    };
    conn.close().await?;
    report(result, ctx.options.json)
}

/// Prints an action's outcome (or, with --json, its refusal too) and passes the error on.
fn report(
    result: Result<switchboard::actions::Outcome, AppError>,
    json: bool,
) -> Result<(), AppError> {
    match result {
        Ok(out) if json => {
            println!("{}", out.to_json());
            Ok(())
        }
        Ok(out) => {
            match out.audit_id {
                Some(id) => println!("{} (audit entry {id})", out.summary()),
                None => println!("{}", out.summary()),
            }
            Ok(())
        }
        Err(e) => {
            if json {
                let status = match &e {
                    AppError::Action(ActionError::Forbidden(_) | ActionError::ReadOnly) => {
                        "refused"
                    }
                    AppError::Action(ActionError::Conflict { .. }) => "conflict",
                    AppError::Action(ActionError::Db(_)) | AppError::Db(_) => "error",
                    _ => "invalid",
                };
                println!(
                    "{}",
                    serde_json::json!({"status": status, "error": e.to_string()})
                );
            }
            Err(e)
        }
    }
}

async fn dispatch(
    command: Option<Command>,
    ctx: &RunContext,
    paths: &AppPaths,
) -> Result<(), AppError> {
    let target = &ctx.target;
    match command {
        Some(Command::Settings(c)) => action_command(ActionCmd::Settings(c), ctx, paths).await,
        Some(Command::Credits(c)) => action_command(ActionCmd::Credits(c), ctx, paths).await,
        Some(Command::Users(c)) => action_command(ActionCmd::Users(c), ctx, paths).await,
        Some(Command::Tenants(c)) => action_command(ActionCmd::Tenants(c), ctx, paths).await,
        Some(Command::Agents(c)) => action_command(ActionCmd::Agents(c), ctx, paths).await,
        Some(Command::Numbers(c)) => action_command(ActionCmd::Numbers(c), ctx, paths).await,
        Some(Command::Audit(commands::AuditCmd::Export(args))) => {
            let conn = open(target, paths, ctx.read_only).await?;
            let result = match require_migrated(&conn).await {
                Err(e) => Err(e),
                Ok(()) => commands::run_export(
                    &conn,
                    target,
                    ctx.admin.as_deref(),
                    &ctx.options,
                    ctx.read_only,
                    args,
                )
                .await
                .map_err(AppError::from),
            };
            conn.close().await?;
            let done = result?;
            // On standard error, so that standard output holds only the export.
            eprintln!(
                "Exported {} rows to {} in {:.1} s ({:.0} rows/s).",
                done.rows,
                done.output,
                done.seconds,
                done.rows as f64 / done.seconds.max(1e-9)
            );
            Ok(())
        }
        Some(Command::Bench { quick, only }) => {
            let conn = open(target, paths, false).await?;
            let result = match require_migrated(&conn).await {
                Err(e) => Err(e),
                Ok(()) => commands::run_bench(&conn, target, quick, &only)
                    .await
                    .map_err(AppError::from),
            };
            conn.close().await?;
            result
        }
        Some(Command::FirstFrame) => {
            let started = *STARTED.get_or_init(std::time::Instant::now);
            let conn = open(target, paths, true).await?;
            let connected = started.elapsed();
            let frame = switchboard::benchmark::first_frame(&conn.pool)
                .await
                .map_err(AppError::Db)?;
            let drawn = started.elapsed();
            conn.close().await?;
            println!(
                "connected_ms={:.3} frame_ms={:.3} rows={frame}",
                connected.as_secs_f64() * 1000.0,
                drawn.as_secs_f64() * 1000.0
            );
            Ok(())
        }
        Some(Command::PageMemory { rows }) => {
            let conn = open(target, paths, true).await?;
            let (before, after, paged) = switchboard::benchmark::page_through(&conn.pool, rows)
                .await
                .map_err(AppError::Db)?;
            conn.close().await?;
            println!("before_kib={before} after_kib={after} paged={paged}");
            Ok(())
        }
        Some(Command::Admin(cmd)) => {
            let conn = open(target, paths, ctx.read_only).await?;
            let result = match require_migrated(&conn).await {
                Err(e) => Err(e),
                Ok(()) => {
                    commands::run_admin(&conn, target, ctx.admin.as_deref(), &ctx.options, cmd)
                        .await
                        .map_err(AppError::from)
                }
            };
            conn.close().await?;
            println!("{}", result?);
            Ok(())
        }
        Some(Command::Paths) => {
            println!("data:    {}", paths.data_dir.display());
            println!("cluster: {}", paths.cluster_dir().display());
            println!("config:  {}", paths.config_file().display());
            println!("log:     {}", paths.log_file().display());
            Ok(())
        }
        Some(Command::ReapCluster { dir }) => {
            let paths = ClusterPaths::new(dir);
            tokio::task::spawn_blocking(move || {
                pg::reap_when_unused(&paths, std::time::Duration::from_millis(250))
            })
            .await
            .map_err(|e| AppError::Usage(format!("reaper failed: {e}")))?
            .map_err(|e| AppError::Db(e.into()))
        }
        Some(Command::Migrate) => {
            let mut conn = open(target, paths, false).await?;
            if matches!(target, Target::Url(_)) {
                conn.applied = db::migrate(&conn.pool).await?;
            }
            let applied = std::mem::take(&mut conn.applied);
            if applied.is_empty() {
                println!("No pending migrations in {}.", conn.description);
            } else {
                println!(
                    "Applied {} migration{} to {}:",
                    applied.len(),
                    if applied.len() == 1 { "" } else { "s" },
                    conn.description
                );
                for m in &applied {
                    println!("  {:04} {}", m.version, m.description);
                }
            }
            conn.close().await?;
            Ok(())
        }
        Some(Command::SeedBench { scale }) => {
            let conn = open(target, paths, false).await?;
            let result = seed_bench(&conn, scale).await;
            conn.close().await?;
            result
        }
        Some(Command::SeedDemo) => {
            let conn = open(target, paths, false).await?;
            let result = seed_demo(&conn).await;
            conn.close().await?;
            result
        }
        None => {
            let conn = open(target, paths, ctx.read_only).await?;
            let result = match require_migrated(&conn).await {
                Err(e) => Err(e),
                // Not on a terminal (a pipe, a script): report instead of drawing.
                Ok(()) if !std::io::stdout().is_terminal() => {
                    overview(&conn, ctx.admin.as_deref(), ctx.read_only).await
                }
                Ok(()) => {
                    let options = switchboard::tui::Options {
                        admin: ctx.admin.clone(),
                        read_only: ctx.read_only,
                        embedded: matches!(target, Target::Embedded),
                    };
                    match switchboard::tui::run(&conn, options).await {
                        Ok(switchboard::tui::Exit::Quit) => Ok(()),
                        Ok(switchboard::tui::Exit::SignInFailed) => {
                            Err(AppError::Action(ActionError::SignIn))
                        }
                        Err(e) => Err(AppError::Usage(format!("terminal error: {e}"))),
                    }
                }
            };
            conn.close().await?;
            result
        }
    }
}

async fn seed_demo(conn: &Connection) -> Result<(), AppError> {
    require_migrated(conn).await?;
    if conn.seeded_demo {
        println!(
            "The private cluster was new: the demo data is already in {}.",
            conn.description
        );
        return Ok(());
    }
    let s = demo::seed_demo(&conn.pool, chrono::Utc::now()).await?;
    println!(
        "Loaded the demo data into {}: {} tenants, {} users, {} agents, {} phone numbers, {} calls, \
         {} contacts, {} audit log entries.",
        conn.description,
        s.tenants,
        s.users,
        s.agents,
        s.phone_numbers,
        s.calls,
        s.contacts,
        s.audit_logs
    );
    println!(
        "Demo admins: {} (super_admin) and {} (admin), password '{}'.",
        demo::DEMO_SUPER_ADMIN,
        demo::DEMO_SUPPORT_ADMIN,
        demo::DEMO_PASSWORD
    );
    Ok(())
}

async fn seed_bench(conn: &Connection, scale: f64) -> Result<(), AppError> {
    require_migrated(conn).await?;
    if conn.seeded_demo {
        return Err(AppError::Usage(
            "the private cluster was just filled with the demo data; give seed-bench an empty \
             database with --database-url"
                .into(),
        ));
    }
    let bar = indicatif::ProgressBar::new(1);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} rows  {msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    let mut progress = |what: &str, done: i64, total: i64| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
        bar.set_message(what.to_string());
    };
    let result = db::bench::seed_bench(&conn.pool, scale, &mut progress).await;
    bar.finish_and_clear();
    let s = result?;
    println!(
        "Loaded the bench data (scale {scale}) into {} in {:.1} s: {} tenants, {} users, {} agents, \
         {} phone numbers, {} calls, {} audit log entries; the database is now {:.1} MiB.",
        conn.description,
        s.elapsed.as_secs_f64(),
        s.size.tenants,
        s.size.users,
        s.size.agents,
        s.size.phone_numbers,
        s.size.calls,
        s.size.audit_logs,
        s.database_bytes as f64 / (1024.0 * 1024.0)
    );
    println!(
        "Bench admins: {} (super_admin) and bench-admin-1..{}@bench.test (admin), password '{}'.",
        db::bench::BENCH_SUPER_ADMIN,
        db::bench::BENCH_ADMINS,
        db::bench::BENCH_PASSWORD
    );
    Ok(())
}

async fn require_migrated(conn: &Connection) -> Result<(), AppError> {
    let pending = db::pending_migrations(&conn.pool)
        .await
        .map_err(AppError::Db)?;
    if pending.is_empty() {
        Ok(())
    } else {
        Err(AppError::Usage(format!(
            "{} lacks {} Switchboard migration(s) (first: {:04} {}); run `switchboard migrate` first",
            conn.description,
            pending.len(),
            pending[0].version,
            pending[0].description
        )))
    }
}

/// What the console shows until its panes exist: where it is connected and what is there.
async fn overview(conn: &Connection, admin: Option<&str>, read_only: bool) -> Result<(), AppError> {
    let version: String = sqlx::query_scalar("SHOW server_version")
        .fetch_one(&conn.pool)
        .await
        .map_err(DbError::from)?;
    // Exact counts for small tables; the planner's estimate for large ones (a count(*) of ten
    // million audit rows takes seconds).
    let mut parts = Vec::new();
    for (table, noun) in [
        ("tenants", "tenants"),
        ("users", "users"),
        ("agents", "agents"),
        ("phone_numbers", "phone numbers"),
        ("calls", "calls"),
        ("audit_logs", "audit log entries"),
    ] {
        let estimate: f32 =
            sqlx::query_scalar("SELECT reltuples FROM pg_class WHERE oid = $1::regclass")
                .bind(table)
                .fetch_one(&conn.pool)
                .await
                .map_err(DbError::from)?;
        if estimate > 100_000.0 {
            parts.push(format!("about {} {noun}", estimate as i64));
        } else {
            let n: i64 =
                sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
                    .fetch_one(&conn.pool)
                    .await
                    .map_err(DbError::from)?;
            parts.push(format!("{n} {noun}"));
        }
    }
    println!("Connected to {} (PostgreSQL {version}).", conn.description);
    if conn.seeded_demo {
        println!("The private cluster was created and filled with the demo data.");
    }
    println!("{}.", parts.join(", "));
    if read_only {
        println!("Session is READ-ONLY.");
    }
    if let Some(admin) = admin {
        println!("Admin: {admin}");
    }
    Ok(())
}
