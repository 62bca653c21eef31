//! Every key the console handles, in one list that feeds the key handling, the footer and the
//! help overlay, so that neither can lie.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Quit,
    NextTab,
    PrevTab,
    GoTab(usize),
    Down,
    Up,
    PageDown,
    PageUp,
    First,
    Last,
    Filter,
    Open,
    Back,
    Reload,
    Help,
    History,
    /// Filter input: keep the filter.
    Apply,
}

/// Where the keyboard focus is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    List,
    Detail,
    /// Typing a filter: only these keys are bindings; the rest is text.
    Filter,
    Help,
}

#[derive(Debug, Clone, Copy)]
pub struct Binding {
    /// As shown in the footer and the help.
    pub keys: &'static str,
    pub help: &'static str,
    /// The footer's word for it.
    pub short: &'static str,
    pub action: Action,
    pub contexts: &'static [Context],
    /// Shown in the footer (the help shows every binding).
    pub footer: bool,
    matches: fn(&KeyEvent) -> bool,
}

const NAV: &[Context] = &[Context::List, Context::Detail];
const LIST: &[Context] = &[Context::List];
const DETAIL: &[Context] = &[Context::Detail];
const ALL: &[Context] = &[Context::List, Context::Detail, Context::Help];

fn ctrl(k: &KeyEvent, c: char) -> bool {
    k.modifiers.contains(KeyModifiers::CONTROL) && k.code == KeyCode::Char(c)
}
fn plain(k: &KeyEvent, c: char) -> bool {
    !k.modifiers
        .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
        && k.code == KeyCode::Char(c)
}

pub static BINDINGS: &[Binding] = &[
    Binding {
        keys: "1-6",
        help: "jump to a pane",
        short: "panes",
        action: Action::GoTab(0),
        contexts: NAV,
        footer: false,
        matches: |k| {
            matches!(k.code, KeyCode::Char('1'..='6'))
                && !k.modifiers.contains(KeyModifiers::CONTROL)
        },
    },
    Binding {
        keys: "Tab",
        help: "next pane",
        short: "next",
        action: Action::NextTab,
        contexts: NAV,
        footer: false,
        matches: |k| k.code == KeyCode::Tab,
    },
    Binding {
        keys: "S-Tab",
        help: "previous pane",
        short: "prev",
        action: Action::PrevTab,
        contexts: NAV,
        footer: false,
        matches: |k| k.code == KeyCode::BackTab,
    },
    Binding {
        keys: "j/k",
        help: "move down / up",
        short: "move",
        action: Action::Down,
        contexts: NAV,
        footer: true,
        matches: |k| plain(k, 'j') || k.code == KeyCode::Down,
    },
    Binding {
        keys: "k",
        help: "move up",
        short: "up",
        action: Action::Up,
        contexts: NAV,
        footer: false,
        matches: |k| plain(k, 'k') || k.code == KeyCode::Up,
    },
    Binding {
        keys: "PgDn/^d",
        help: "page down",
        short: "page",
        action: Action::PageDown,
        contexts: NAV,
        footer: false,
        matches: |k| k.code == KeyCode::PageDown || ctrl(k, 'd'),
    },
    Binding {
        keys: "PgUp/^u",
        help: "page up",
        short: "page",
        action: Action::PageUp,
        contexts: NAV,
        footer: false,
        matches: |k| k.code == KeyCode::PageUp || ctrl(k, 'u'),
    },
    Binding {
        keys: "g/G",
        help: "first / last row",
        short: "top/end",
        action: Action::First,
        contexts: NAV,
        footer: false,
        matches: |k| plain(k, 'g') || k.code == KeyCode::Home,
    },
    Binding {
        keys: "G",
        help: "last row",
        short: "end",
        action: Action::Last,
        contexts: NAV,
        footer: false,
        matches: |k| (k.code == KeyCode::Char('G')) || k.code == KeyCode::End,
    },
    Binding {
        keys: "/",
        help: "filter (Enter keeps it, Esc clears)",
        short: "filter",
        action: Action::Filter,
        contexts: LIST,
        footer: true,
        matches: |k| plain(k, '/'),
    },
    Binding {
        keys: "Enter",
        help: "open the detail view",
        short: "open",
        action: Action::Open,
        contexts: LIST,
        footer: true,
        matches: |k| k.code == KeyCode::Enter,
    },
    Binding {
        keys: "Enter",
        help: "go to the audited record",
        short: "go to",
        action: Action::Open,
        contexts: DETAIL,
        footer: false,
        matches: |k| k.code == KeyCode::Enter,
    },
    Binding {
        keys: "h",
        help: "audit history of this record",
        short: "history",
        action: Action::History,
        contexts: NAV,
        footer: true,
        matches: |k| plain(k, 'h'),
    },
    Binding {
        keys: "Esc",
        help: "back / cancel a slow query / clear the filter",
        short: "back",
        action: Action::Back,
        contexts: NAV,
        footer: true,
        matches: |k| k.code == KeyCode::Esc,
    },
    Binding {
        keys: "r",
        help: "reload",
        short: "reload",
        action: Action::Reload,
        contexts: NAV,
        footer: false,
        matches: |k| plain(k, 'r'),
    },
    Binding {
        keys: "?",
        help: "help",
        short: "help",
        action: Action::Help,
        contexts: ALL,
        footer: true,
        matches: |k| plain(k, '?'),
    },
    Binding {
        keys: "q",
        help: "quit",
        short: "quit",
        action: Action::Quit,
        contexts: NAV,
        footer: true,
        matches: |k| plain(k, 'q'),
    },
    Binding {
        keys: "^c",
        help: "quit",
        short: "quit",
        action: Action::Quit,
        contexts: &[
            Context::List,
            Context::Detail,
            Context::Filter,
            Context::Help,
        ],
        footer: false,
        matches: |k| ctrl(k, 'c'),
    },
    Binding {
        keys: "Enter",
        help: "keep the filter",
        short: "keep",
        action: Action::Apply,
        contexts: &[Context::Filter],
        footer: true,
        matches: |k| k.code == KeyCode::Enter,
    },
    Binding {
        keys: "Esc",
        help: "clear the filter",
        short: "clear",
        action: Action::Back,
        contexts: &[Context::Filter],
        footer: true,
        matches: |k| k.code == KeyCode::Esc,
    },
    Binding {
        keys: "Esc/?/q",
        help: "close the help",
        short: "close",
        action: Action::Back,
        contexts: &[Context::Help],
        footer: true,
        matches: |k| k.code == KeyCode::Esc || plain(k, 'q'),
    },
];

/// The action `key` means in `context`, if any.
pub fn action_for(context: Context, key: &KeyEvent) -> Option<Action> {
    BINDINGS
        .iter()
        .filter(|b| b.contexts.contains(&context))
        .find(|b| (b.matches)(key))
        .map(|b| match b.action {
            Action::GoTab(_) => match key.code {
                KeyCode::Char(c) => Action::GoTab(c as usize - '1' as usize),
                _ => Action::GoTab(0),
            },
            other => other,
        })
}

/// The footer's bindings for `context`.
pub fn footer(context: Context) -> impl Iterator<Item = &'static Binding> {
    BINDINGS
        .iter()
        .filter(move |b| b.footer && b.contexts.contains(&context))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn keys_mean_what_the_help_says() {
        assert_eq!(
            action_for(Context::List, &key(KeyCode::Char('j'))),
            Some(Action::Down)
        );
        assert_eq!(
            action_for(Context::List, &key(KeyCode::Up)),
            Some(Action::Up)
        );
        assert_eq!(
            action_for(Context::List, &key(KeyCode::Char('4'))),
            Some(Action::GoTab(3))
        );
        assert_eq!(
            action_for(Context::List, &key(KeyCode::Char('G'))),
            Some(Action::Last)
        );
        assert_eq!(
            action_for(
                Context::List,
                &KeyEvent::new(KeyCode::Char('d'), KeyModifiers::CONTROL)
            ),
            Some(Action::PageDown)
        );
        // While typing a filter, letters are text.
        assert_eq!(action_for(Context::Filter, &key(KeyCode::Char('q'))), None);
        assert_eq!(
            action_for(
                Context::Filter,
                &KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)
            ),
            Some(Action::Quit)
        );
    }

    #[test]
    fn every_context_has_a_footer() {
        for c in [
            Context::List,
            Context::Detail,
            Context::Filter,
            Context::Help,
        ] {
            assert!(footer(c).count() > 0, "{c:?}");
        }
    }
}
