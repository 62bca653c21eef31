//! The event loop: terminal events, worker answers and a clock tick on one channel; the loop
//! never awaits the database, and draws only when something changed.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use ratatui::crossterm::event::{self, Event};
use tokio::sync::mpsc;

use crate::app::{App, Msg, Status};
use crate::db::connect::{Connection, application_name};
use crate::ui::{self, Theme};
use crate::worker::Worker;

static TERMINAL_ACTIVE: AtomicBool = AtomicBool::new(false);

/// Gives the terminal back (cursor, raw mode, alternate screen) if the console took it. Safe to
/// call from any exit path, any number of times.
pub fn restore_terminal() {
    if TERMINAL_ACTIVE.swap(false, Ordering::SeqCst) {
        ratatui::restore();
    }
}

/// Runs the console until the user quits.
pub async fn run(conn: &Connection, admin: Option<String>, read_only: bool) -> std::io::Result<()> {
    // ratatui::init installs a panic hook that restores the terminal before the panic message.
    let mut terminal = ratatui::try_init()?;
    TERMINAL_ACTIVE.store(true, Ordering::SeqCst);
    let result = event_loop(&mut terminal, conn, admin, read_only).await;
    restore_terminal();
    result
}

async fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    conn: &Connection,
    admin: Option<String>,
    read_only: bool,
) -> std::io::Result<()> {
    let (tx, mut rx) = mpsc::unbounded_channel::<Msg>();
    // Terminal input arrives on a thread of its own: crossterm's read blocks.
    let input = tx.clone();
    std::thread::spawn(move || {
        loop {
            let msg = match event::read() {
                Ok(Event::Key(k)) => Msg::Key(k),
                Ok(Event::Resize(w, h)) => Msg::Resize(w, h),
                Ok(_) => continue,
                Err(_) => break,
            };
            if input.send(msg).is_err() {
                break;
            }
        }
    });
    let worker = Worker::new(conn.pool.clone(), application_name().to_string(), tx);
    let size = terminal.size()?;
    let status = Status {
        database: conn.description.clone(),
        admin: admin.map(|a| format!("admin {a}")),
        read_only,
        error: None,
        info: None,
    };
    let mut app = App::new(status, size.width, size.height, chrono::Utc::now());
    app.theme = Theme::from_env();
    for cmd in app.start() {
        worker.run(cmd);
    }
    let mut ticker = tokio::time::interval(Duration::from_millis(100));
    let mut dirty = true;
    loop {
        if dirty {
            terminal.draw(|f| ui::render(&app, f))?;
        }
        let msg = tokio::select! {
            Some(msg) = rx.recv() => msg,
            _ = ticker.tick() => Msg::Tick { now: Instant::now(), wall: chrono::Utc::now() },
        };
        // A tick only redraws when something moves (the spinner) or a debounced filter fires.
        let was_loading = app.is_loading();
        let is_tick = matches!(msg, Msg::Tick { .. });
        let before_minute = app.now.format("%H:%M").to_string();
        let cmds = app.update(msg);
        dirty = !is_tick
            || was_loading
            || app.is_loading()
            || !cmds.is_empty()
            || app.now.format("%H:%M").to_string() != before_minute;
        for cmd in cmds {
            worker.run(cmd);
        }
        if app.quit {
            return Ok(());
        }
    }
}
