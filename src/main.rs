//! `switchboard`: parse the command line, start logging and the runtime, run the command.
//! Everything else is in the library: `cli::run` is where a command starts.

use std::fs::{self, OpenOptions};
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::Instant;

use clap::Parser;

use switchboard::cli::{self, Cli, CliError, output};
use switchboard::escape;
use switchboard::paths::AppPaths;

fn main() -> ExitCode {
    let started = Instant::now();
    let cli = Cli::parse();
    let Some(paths) = AppPaths::detect() else {
        output::error("cannot find your home directory (is HOME set?)");
        return ExitCode::from(2);
    };
    if let Err(e) = init_logging(&paths) {
        output::warning(format!(
            "cannot write the log at {}: {e}",
            paths.log_file().display()
        ));
    }
    tracing::info!(version = env!("CARGO_PKG_VERSION"), command = ?cli.command, "start");
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            output::error(format!("cannot start the async runtime: {e}"));
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        // The signal is watched on a task of its own: a run that keeps its thread busy (an
        // export the server keeps ahead of) still hears it. An export stops at its next row and
        // records where; the run then ends with the interruption.
        let (heard, signalled) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            let signal = shutdown_signal().await;
            switchboard::db::export::stop_exports();
            let _ = heard.send(signal);
        });
        let run = cli::run(cli, &paths, started);
        tokio::pin!(run);
        tokio::select! {
            r = &mut run => r,
            Ok(signal) = signalled => {
                // Wait (a few seconds at most) for a running export to record where it stopped.
                let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
                while switchboard::db::export::running_exports() > 0
                    && std::time::Instant::now() < deadline
                {
                    tokio::select! {
                        _ = &mut run => break,
                        _ = tokio::time::sleep(std::time::Duration::from_millis(20)) => {}
                    }
                }
                Err(CliError::Interrupted(signal))
            }
        }
    });
    // Whatever ended the run, the terminal is given back before anything is printed.
    cli::terminal::restore_terminal();
    // Dropping the runtime waits for blocking work such as stopping the private server.
    drop(runtime);
    match result {
        Ok(()) | Err(CliError::Stopped) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            output::error(e.to_string());
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
    let filter =
        tracing_subscriber::EnvFilter::try_from_env("SWITCHBOARD_LOG").unwrap_or_else(|_| {
            tracing_subscriber::EnvFilter::new("info,sqlx=warn,sqlx_postgres::options=error")
        });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        // The log quotes database text and errors: escaped like every other output.
        .with_writer(Mutex::new(escape::EscapingWriter { inner: file }))
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
