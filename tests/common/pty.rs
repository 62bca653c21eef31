//! The real binary in a pseudo-terminal at 80×24, driven by keystrokes and read back through a
//! terminal emulator, as a person on an SSH link would use it.

use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{CommandBuilder, PtySize, native_pty_system};
use switchboard::seed::demo;

use super::TestDb;

pub struct Console {
    pub screen: Arc<Mutex<vt100::Parser>>,
    pub master: Box<dyn portable_pty::MasterPty + Send>,
    pub writer: Box<dyn Write + Send>,
    pub child: Box<dyn portable_pty::Child + Send + Sync>,
    pub _home: tempfile::TempDir,
    /// Asks the reading thread to let go of the terminal after its next read (see `hang_up`).
    letting_go: Arc<AtomicBool>,
    /// Whether the reading thread has ended (and closed its end of the terminal).
    reader_gone: Arc<AtomicBool>,
}

impl Console {
    pub fn start(args: &[&str]) -> Console {
        let home = tempfile::tempdir().unwrap();
        let pair = native_pty_system()
            .openpty(PtySize {
                rows: 24,
                cols: 80,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_switchboard"));
        cmd.args(args);
        cmd.env("HOME", home.path());
        cmd.env("TERM", "xterm-256color");
        for var in [
            "DATABASE_URL",
            "XDG_DATA_HOME",
            "XDG_STATE_HOME",
            "NO_COLOR",
        ] {
            cmd.env_remove(var);
        }
        let child = pair.slave.spawn_command(cmd).unwrap();
        drop(pair.slave);
        let mut reader = pair.master.try_clone_reader().unwrap();
        let writer = pair.master.take_writer().unwrap();
        let screen = Arc::new(Mutex::new(vt100::Parser::new(
            std::num::NonZero::new(24).unwrap(),
            std::num::NonZero::new(80).unwrap(),
            0,
        )));
        let sink = screen.clone();
        let letting_go = Arc::new(AtomicBool::new(false));
        let reader_gone = Arc::new(AtomicBool::new(false));
        let (go, gone) = (letting_go.clone(), reader_gone.clone());
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 || go.load(Ordering::SeqCst) {
                    break;
                }
                sink.lock().unwrap().process(&buf[..n]);
            }
            drop(reader);
            gone.store(true, Ordering::SeqCst);
        });
        Console {
            screen,
            master: pair.master,
            writer,
            child,
            _home: home,
            letting_go,
            reader_gone,
        }
    }

    /// Starts against `db` and signs in as `email` at the sign-in screen, as a person would.
    pub fn signed_in(db: &TestDb, email: &str) -> Console {
        let mut c = Console::start(&["--database-url", &db.url(), "--admin", email]);
        c.wait_for("Password:");
        c.keys(demo::DEMO_PASSWORD.as_bytes());
        c.keys(b"\r");
        c.wait_for(&format!("{email} ("));
        c
    }

    /// The Credits pane, filtered to `email`'s row.
    pub fn credits_of(&mut self, email: &str) {
        self.keys(b"3");
        self.wait_for("Balance");
        self.keys(b"/");
        self.keys(email.as_bytes());
        self.keys(b"\r");
        self.wait_for("1 of 1");
    }

    pub fn text(&self) -> String {
        self.screen.lock().unwrap().screen().contents()
    }

    pub fn wait_for(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let text = self.text();
            if text.contains(needle) {
                return text;
            }
            assert!(
                Instant::now() < deadline,
                "`{needle}` never appeared; the screen:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Resizes the terminal, as a person dragging the window corner would.
    pub fn resize(&mut self, rows: u16, cols: u16) {
        self.screen.lock().unwrap().screen_mut().set_size(
            std::num::NonZero::new(rows).unwrap(),
            std::num::NonZero::new(cols).unwrap(),
        );
        self.master
            .resize(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
    }

    pub fn keys(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).unwrap();
        self.writer.flush().unwrap();
        // Let the console draw before the next key, as a person would.
        std::thread::sleep(Duration::from_millis(150));
    }

    /// Hangs up the terminal, as a dropped SSH link does: every end this side holds is closed,
    /// so the console gets SIGHUP and can no longer write to it. Returns the console's process
    /// and its home (kept until the caller is done looking).
    pub fn hang_up(
        mut self,
    ) -> (
        Box<dyn portable_pty::Child + Send + Sync>,
        tempfile::TempDir,
    ) {
        self.letting_go.store(true, Ordering::SeqCst);
        // A key makes the console draw, which wakes the reading thread to let go.
        self.writer.write_all(b"j").unwrap();
        self.writer.flush().unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.reader_gone.load(Ordering::SeqCst) {
            assert!(Instant::now() < deadline, "the reading thread held on");
            std::thread::sleep(Duration::from_millis(20));
        }
        drop(self.writer);
        drop(self.master);
        (self.child, self._home)
    }

    pub fn wait_exit(&mut self) -> portable_pty::ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the console did not exit:\n{}",
                self.text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}
