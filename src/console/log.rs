//! The session's outcomes and refusals, kept whole. The status line shows the latest as far as
//! it fits; `M` opens them all, wrapped, newest first, so that a long one is never lost to the
//! width of the screen.

use chrono::{DateTime, Utc};

use super::app::App;
use super::keymap::Intent;
use super::messages::Job;

/// How many messages a session keeps.
pub const KEPT: usize = 200;

/// One outcome, refusal or error, as the status line said it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub at: DateTime<Utc>,
    pub text: String,
    pub error: bool,
}

impl App {
    /// Keeps what the status line says now, if it changed since `before` (info, error).
    pub(super) fn keep_status(&mut self, before: (Option<String>, Option<String>)) {
        let (info, error) = before;
        let mut keep = |text: &Option<String>, was: &Option<String>, is_error: bool| {
            if let Some(text) = text
                && Some(text) != was.as_ref()
            {
                self.log.push(Note {
                    at: self.now,
                    text: text.clone(),
                    error: is_error,
                });
            }
        };
        let (now_info, now_error) = (self.status.info.clone(), self.status.error.clone());
        keep(&now_error, &error, true);
        keep(&now_info, &info, false);
        let excess = self.log.len().saturating_sub(KEPT);
        self.log.drain(..excess);
    }

    /// Keys while the messages are open: scroll, close, quit.
    pub(super) fn on_log_intent(&mut self, intent: Intent) -> Vec<Job> {
        match intent {
            Intent::Back | Intent::Messages => {
                self.log_open = false;
                self.log_scroll = 0;
            }
            Intent::Down => self.log_scroll = self.log_scroll.saturating_add(1),
            Intent::Up => self.log_scroll = self.log_scroll.saturating_sub(1),
            Intent::PageDown => self.log_scroll = self.log_scroll.saturating_add(self.list_rows()),
            Intent::PageUp => self.log_scroll = self.log_scroll.saturating_sub(self.list_rows()),
            Intent::Quit => self.quit = true,
            _ => {}
        }
        Vec::new()
    }
}
