//! The event loop: terminal events, worker answers and a clock tick on one channel; the loop
//! never awaits the database, and draws only when something changed.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use ratatui::crossterm::event::{self, Event};
use tokio::sync::mpsc;

use crate::actions::AuditContext;
use crate::console::app::{App, Status};
use crate::console::messages::{Msg, SignInStart};
use crate::console::worker::Worker;
use crate::db::connect::{Connection, application_name};
use crate::ui;

static TERMINAL_ACTIVE: AtomicBool = AtomicBool::new(false);

/// Gives the terminal back (cursor, raw mode, alternate screen) if the console took it. Safe to
/// call from any exit path, any number of times.
pub fn restore_terminal() {
    if !TERMINAL_ACTIVE.swap(false, Ordering::SeqCst) {
        return;
    }
    // A control sequence of our own, no database text: nothing to escape.
    #[allow(clippy::disallowed_methods)]
    let shown = ratatui::crossterm::execute!(
        std::io::stdout(),
        ratatui::crossterm::event::DisableBracketedPaste,
        ratatui::crossterm::cursor::Show
    );
    if let Err(e) = ratatui::try_restore().and(shown) {
        // A terminal that hung up (a dropped SSH link) cannot be written to: nothing to give
        // back, and nowhere to say so (`ratatui::restore` would print it, and printing to a
        // closed terminal panics, which left the private server running).
        tracing::info!("terminal not restored: {e}");
    }
}

/// How the console was started.
#[derive(Debug, Clone)]
pub struct Options {
    /// How it signs in: the embedded default's demo account without a prompt, else asked.
    pub sign_in: SignInStart,
    pub read_only: bool,
}

/// How the console ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Quit,
    /// Sign-in was refused three times.
    SignInFailed,
}

/// Runs the console until the user quits.
pub async fn run(conn: &Connection, options: Options) -> std::io::Result<Exit> {
    let report = std::panic::take_hook();
    // Never dropped: ratatui's `Terminal` prints to standard error when it cannot show the
    // cursor as it drops, which panics on a terminal that hung up. `restore_terminal` shows the
    // cursor instead, on every way out (a signal drops this future mid-loop).
    let mut terminal = std::mem::ManuallyDrop::new(ratatui::try_init()?);
    // A paste arrives as one event: typed into the field being edited, never taken as keys by
    // a list (and read whole: crossterm's key reading can stall on a burst of more than 1 KiB
    // until the next key).
    // A control sequence of our own, no database text: nothing to escape.
    #[allow(clippy::disallowed_methods)]
    if let Err(e) = ratatui::crossterm::execute!(
        std::io::stdout(),
        ratatui::crossterm::event::EnableBracketedPaste
    ) {
        // Pastes then come as keys, as before: not a reason to leave the terminal half set up.
        tracing::info!("bracketed paste not enabled: {e}");
    }
    // ratatui's panic hook restores the terminal with a print that itself panics on a terminal
    // that hung up; this one restores it through `restore_terminal`, and only for a panic of the
    // console itself (the event loop, on the main thread). A panic in a worker task is answered
    // with an error message (`worker::guarded`) while the console goes on: it must not restore
    // the terminal under it or print over the panes, so it only goes to the log.
    let _ratatui_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        tracing::error!(
            "panic: {info}\n{}",
            std::backtrace::Backtrace::force_capture()
        );
        if std::thread::current().name() == Some("main") {
            restore_terminal();
            report(info);
        }
    }));
    TERMINAL_ACTIVE.store(true, Ordering::SeqCst);
    let (tx, rx) = mpsc::unbounded_channel::<Msg>();
    let worker = Worker::new(
        conn.reads.clone(),
        application_name().to_string(),
        tx.clone(),
    );
    let result = event_loop(&mut terminal, conn, options, &worker, (tx, rx)).await;
    restore_terminal();
    // The terminal is back at once; what the panes were still reading is stopped so that the
    // connections close now, not when a page waiting on a lock gives up.
    worker.stop_reads().await;
    result
}

/// The most messages taken between two drawings (a long paste is drawn as it goes).
const MAX_BATCH: usize = 512;

async fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    conn: &Connection,
    options: Options,
    worker: &Worker,
    (tx, mut rx): (mpsc::UnboundedSender<Msg>, mpsc::UnboundedReceiver<Msg>),
) -> std::io::Result<Exit> {
    // Terminal input arrives on a thread of its own: crossterm's read blocks.
    let input = tx.clone();
    std::thread::spawn(move || {
        loop {
            let msg = match event::read() {
                Ok(Event::Key(k)) => Msg::Key(k),
                Ok(Event::Paste(text)) => Msg::Paste(text),
                Ok(Event::Resize(w, h)) => Msg::Resize(w, h),
                Ok(_) => continue,
                Err(_) => break,
            };
            if input.send(msg).is_err() {
                break;
            }
        }
    });
    let follower = tx;
    let size = terminal.size()?;
    let status = Status {
        database: conn.description.clone(),
        signed_in_as: None,
        read_only: options.read_only,
        error: None,
        info: None,
    };
    let mut app = App::new(status, size.width, size.height, chrono::Utc::now());
    app.color = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    app.audit_ctx = AuditContext::from_env();
    // The Audit log pane follows new entries from here on.
    // Stopped when the loop returns, whichever way.
    let mut background = crate::console::live::Background::default();
    app.live = crate::console::live::follow(conn.reads.clone(), follower.clone(), &mut background);
    app.standby = conn.reads.view();
    crate::console::live::watch_standby(conn.reads.clone(), follower, &mut background);
    for job in app.begin_sign_in(options.sign_in) {
        worker.run(job);
    }
    let mut ticker = tokio::time::interval(Duration::from_millis(100));
    let mut stopping_export: Option<Instant> = None;
    let mut dirty = true;
    loop {
        if dirty {
            terminal.draw(|f| ui::render(&app, f))?;
            // The overlays' ends at this size: the state stops scrolling there.
            app.scroll_limits = ui::scroll_limits(&app);
        }
        let first = tokio::select! {
            Some(msg) = rx.recv() => msg,
            _ = ticker.tick() => Msg::Tick { now: Instant::now(), wall: chrono::Utc::now() },
        };
        // Whatever else has arrived is taken before the next drawing: a paste, or keys typed
        // ahead over a slow link, is drawn once, not once a key.
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH
            && let Ok(msg) = rx.try_recv()
        {
            batch.push(msg);
        }
        dirty = false;
        for msg in batch {
            // Keys after the one that quit are not acted on (answers still are: an export
            // stopping says where).
            if app.quit && matches!(msg, Msg::Key(_) | Msg::Paste(_)) {
                continue;
            }
            // A tick only redraws when something moves (the spinner) or a debounced filter
            // fires (an invalid one changes the screen without a query: the list empties, the
            // error shows).
            let was_loading = app.is_loading();
            let was_typing = app.filter_pending();
            let is_tick = matches!(msg, Msg::Tick { .. });
            let before_minute = app.now.format("%H:%M").to_string();
            let jobs = app.update(msg);
            dirty |= !is_tick
                || was_loading
                || was_typing != app.filter_pending()
                || app.is_loading()
                || !jobs.is_empty()
                || app.now.format("%H:%M").to_string() != before_minute;
            for job in jobs {
                worker.run(job);
            }
        }
        if app.quit && app.exporting.is_some() {
            // An export is running: it stops at its next row and records where, then answers
            // (a few seconds at most) before the console goes.
            let deadline = *stopping_export.get_or_insert_with(|| {
                crate::db::export::stop_exports();
                app.status.info =
                    Some("stopping the export and recording where it stopped…".into());
                dirty = true;
                Instant::now() + Duration::from_secs(5)
            });
            if Instant::now() < deadline {
                continue;
            }
        }
        if app.quit {
            return Ok(if app.sign_in_failed {
                Exit::SignInFailed
            } else {
                Exit::Quit
            });
        }
    }
}
