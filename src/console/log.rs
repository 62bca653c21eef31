//! The two overlays that scroll: the help, and the session's outcomes and refusals, kept whole. The status line shows the latest as far as
//! it fits; `M` opens them all, wrapped, newest first, so that a long one is never lost to the
//! width of the screen.

use chrono::{DateTime, Utc};

use super::app::App;
use super::keymap::Intent;
use super::messages::Job;

/// How far the help and the messages scroll (their last line at the bottom), as the front end
/// last drew them: it sets these after each drawing, the state stops scrolling there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScrollLimits {
    pub help: usize,
    pub messages: usize,
    /// The open confirm dialog's rows beyond what it shows (0: it shows them all).
    pub confirm: usize,
    /// How many rows the open confirm dialog shows at once (a page of its scrolling).
    pub confirm_page: usize,
}

impl Default for ScrollLimits {
    /// Not drawn yet: no limit.
    fn default() -> ScrollLimits {
        ScrollLimits {
            help: usize::MAX,
            messages: usize::MAX,
            confirm: usize::MAX,
            confirm_page: 1,
        }
    }
}

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
        // The newest message replaces an older one of the other kind: an outcome after a
        // refusal is not shown beside that stale refusal (both stay in `M`).
        let new_info = now_info.is_some() && now_info != info;
        let new_error = now_error.is_some() && now_error != error;
        if new_info && !new_error {
            self.status.error = None;
        } else if new_error && !new_info {
            self.status.info = None;
        }
        let excess = self.log.len().saturating_sub(KEPT);
        self.log.drain(..excess);
    }

    /// Keeps a message the status line does not show (a refusal shown in a form).
    pub(super) fn note(&mut self, text: String, error: bool) {
        self.log.push(Note {
            at: self.now,
            text,
            error,
        });
        let excess = self.log.len().saturating_sub(KEPT);
        self.log.drain(..excess);
    }

    /// Keys while the help is open: scroll, close, quit.
    pub(super) fn on_help_intent(&mut self, intent: Intent) -> Vec<Job> {
        match intent {
            Intent::Back | Intent::Help => {
                self.help = false;
                self.help_scroll = 0;
            }
            Intent::Quit => self.quit = true,
            other => {
                let at = scrolled(self.help_scroll, other, self.list_rows());
                self.help_scroll = at.min(self.scroll_limits.help);
            }
        }
        Vec::new()
    }

    /// Keys while the messages are open: scroll, close, quit.
    pub(super) fn on_log_intent(&mut self, intent: Intent) -> Vec<Job> {
        match intent {
            Intent::Back | Intent::Messages => {
                self.log_open = false;
                self.log_scroll = 0;
            }
            Intent::Quit => self.quit = true,
            other => {
                let at = scrolled(self.log_scroll, other, self.list_rows());
                self.log_scroll = at.min(self.scroll_limits.messages);
            }
        }
        Vec::new()
    }
}

/// Where an overlay scrolled to `at` goes on `intent` (a line or a `page` of lines); the caller
/// stops it at the end (where the overlay's last line is at the bottom).
pub(super) fn scrolled(at: usize, intent: Intent, page: usize) -> usize {
    match intent {
        Intent::Down => at.saturating_add(1),
        Intent::Up => at.saturating_sub(1),
        Intent::PageDown => at.saturating_add(page),
        Intent::PageUp => at.saturating_sub(page),
        _ => at,
    }
}
