//! Every key the console handles, in one list that feeds the key handling, the footer and the
//! help overlay, so that neither can lie.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use strum::IntoEnumIterator;

use crate::actions::{Role, Verb};
use crate::db::lists::ListKind;

/// What a key press means in its context.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intent {
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
    /// Start an admin action on the selected row (or a new row).
    Act(Verb),
    /// Forms and sign-in: Enter.
    Submit,
    NextField,
    PrevField,
    /// Forms: empty the focused field (Ctrl-U).
    ClearField,
    /// Confirm dialog: `y`.
    Confirm,
    /// Audit log: export the filtered entries to a file.
    Export,
    /// The session's messages, whole.
    Messages,
    /// Dialogs: close without doing anything.
    Cancel,
}

/// Where the keyboard focus is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    List,
    Detail,
    /// Typing a filter: only these keys are bindings; the rest is text.
    Filter,
    Help,
    /// The sign-in screen: text goes to its fields.
    SignIn,
    /// An action's form: text goes to its fields.
    Form,
    /// The session's messages (`M`): they scroll.
    Messages,
    /// A confirm dialog: Cancel is the default.
    Confirm,
}

#[derive(Debug, Clone, Copy)]
pub struct Binding {
    /// As shown in the footer and the help (through [`Binding::keys`]).
    keys: &'static str,
    pub help: &'static str,
    /// The footer's word for it.
    pub short: &'static str,
    pub intent: Intent,
    pub contexts: &'static [Context],
    /// Shown in the footer (the help shows every binding).
    pub footer: bool,
    /// The one pane it belongs to, if it is not everywhere.
    pub only: Option<ListKind>,
    matches: fn(&KeyEvent) -> bool,
}

const NAV: &[Context] = &[Context::List, Context::Detail];
const LIST: &[Context] = &[Context::List];
const DETAIL: &[Context] = &[Context::Detail];
const ALL: &[Context] = &[Context::List, Context::Detail, Context::Help];

/// The pane a digit key jumps to: `1` the first of [`ListKind::ALL`], and so on.
fn tab_of_key(k: &KeyEvent) -> Option<usize> {
    if k.modifiers.contains(KeyModifiers::CONTROL) {
        return None;
    }
    let KeyCode::Char(c) = k.code else {
        return None;
    };
    let n = c.to_digit(10)? as usize;
    (1..=ListKind::ALL.len()).contains(&n).then(|| n - 1)
}

impl Binding {
    /// The keys as the footer and the help show them.
    pub fn keys(&self) -> std::borrow::Cow<'static, str> {
        match self.intent {
            Intent::GoTab(_) => format!("1-{}", ListKind::ALL.len()).into(),
            _ => self.keys.into(),
        }
    }
}

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
        // Shown as "1-N" for the N panes (see `Binding::keys`).
        keys: "",
        help: "jump to a pane",
        short: "panes",
        intent: Intent::GoTab(0),
        contexts: NAV,
        footer: false,
        only: None,
        matches: |k| tab_of_key(k).is_some(),
    },
    Binding {
        keys: "Tab",
        help: "next pane",
        short: "next",
        intent: Intent::NextTab,
        contexts: NAV,
        footer: false,
        only: None,
        matches: |k| k.code == KeyCode::Tab,
    },
    Binding {
        keys: "S-Tab",
        help: "previous pane",
        short: "prev",
        intent: Intent::PrevTab,
        contexts: NAV,
        footer: false,
        only: None,
        matches: |k| k.code == KeyCode::BackTab,
    },
    Binding {
        keys: "j/k",
        help: "move down / up",
        short: "move",
        intent: Intent::Down,
        contexts: NAV,
        footer: true,
        only: None,
        matches: |k| plain(k, 'j') || k.code == KeyCode::Down,
    },
    Binding {
        keys: "k",
        help: "move up",
        short: "up",
        intent: Intent::Up,
        contexts: NAV,
        footer: false,
        only: None,
        matches: |k| plain(k, 'k') || k.code == KeyCode::Up,
    },
    Binding {
        keys: "PgDn/Ctrl-D",
        help: "page down",
        short: "page",
        intent: Intent::PageDown,
        contexts: NAV,
        footer: false,
        only: None,
        matches: |k| k.code == KeyCode::PageDown || ctrl(k, 'd'),
    },
    Binding {
        keys: "PgUp/Ctrl-U",
        help: "page up",
        short: "page",
        intent: Intent::PageUp,
        contexts: NAV,
        footer: false,
        only: None,
        matches: |k| k.code == KeyCode::PageUp || ctrl(k, 'u'),
    },
    Binding {
        keys: "g/G",
        help: "first / last row",
        short: "top/end",
        intent: Intent::First,
        contexts: NAV,
        footer: false,
        only: None,
        matches: |k| plain(k, 'g') || k.code == KeyCode::Home,
    },
    Binding {
        keys: "G",
        help: "last row",
        short: "end",
        intent: Intent::Last,
        contexts: NAV,
        footer: false,
        only: None,
        matches: |k| (k.code == KeyCode::Char('G')) || k.code == KeyCode::End,
    },
    Binding {
        keys: "/",
        help: "filter (Enter keeps it, Esc clears)",
        short: "filter",
        intent: Intent::Filter,
        contexts: LIST,
        footer: true,
        only: None,
        matches: |k| plain(k, '/'),
    },
    Binding {
        keys: "Enter",
        help: "open the detail view",
        short: "open",
        intent: Intent::Open,
        contexts: LIST,
        footer: true,
        only: None,
        matches: |k| k.code == KeyCode::Enter,
    },
    Binding {
        keys: "Enter",
        help: "in an audit entry: go to the record it is about",
        short: "go to",
        intent: Intent::Open,
        contexts: DETAIL,
        footer: false,
        only: Some(ListKind::AuditLog),
        matches: |k| k.code == KeyCode::Enter,
    },
    Binding {
        keys: "h",
        help: "audit history of this record",
        short: "history",
        intent: Intent::History,
        contexts: NAV,
        footer: true,
        only: None,
        matches: |k| plain(k, 'h'),
    },
    Binding {
        keys: "Esc",
        help: "back to where h or Enter jumped from / close / cancel a slow query / clear the filter",
        short: "back",
        intent: Intent::Back,
        contexts: NAV,
        footer: true,
        only: None,
        matches: |k| k.code == KeyCode::Esc,
    },
    Binding {
        keys: "x",
        help: "export the filtered entries to a file",
        short: "export",
        intent: Intent::Export,
        contexts: LIST,
        footer: true,
        only: Some(ListKind::AuditLog),
        matches: |k| plain(k, 'x'),
    },
    Binding {
        keys: "r",
        help: "reload",
        short: "reload",
        intent: Intent::Reload,
        contexts: NAV,
        footer: false,
        only: None,
        matches: |k| plain(k, 'r'),
    },
    Binding {
        keys: "?",
        help: "help",
        short: "help",
        intent: Intent::Help,
        contexts: ALL,
        footer: true,
        only: None,
        matches: |k| plain(k, '?'),
    },
    Binding {
        keys: "q",
        help: "quit",
        short: "quit",
        intent: Intent::Quit,
        contexts: NAV,
        footer: true,
        only: None,
        matches: |k| plain(k, 'q'),
    },
    Binding {
        keys: "Ctrl-C",
        help: "quit",
        short: "quit",
        intent: Intent::Quit,
        contexts: &[
            Context::List,
            Context::Detail,
            Context::Filter,
            Context::Help,
            Context::Messages,
        ],
        footer: false,
        only: None,
        matches: |k| ctrl(k, 'c'),
    },
    Binding {
        keys: "Enter",
        help: "keep the filter",
        short: "keep",
        intent: Intent::Apply,
        contexts: &[Context::Filter],
        footer: true,
        only: None,
        matches: |k| k.code == KeyCode::Enter,
    },
    Binding {
        keys: "Esc",
        help: "clear the filter",
        short: "clear",
        intent: Intent::Back,
        contexts: &[Context::Filter],
        footer: true,
        only: None,
        matches: |k| k.code == KeyCode::Esc,
    },
    Binding {
        keys: "M",
        help: "the session's outcomes and refusals in full, newest first",
        short: "messages",
        intent: Intent::Messages,
        contexts: NAV,
        footer: false,
        only: None,
        matches: |k| plain(k, 'M'),
    },
    Binding {
        keys: "j/k",
        help: "scroll",
        short: "scroll",
        intent: Intent::Down,
        contexts: &[Context::Messages, Context::Help, Context::Confirm],
        footer: true,
        only: None,
        matches: |k| plain(k, 'j') || k.code == KeyCode::Down,
    },
    Binding {
        keys: "k",
        help: "scroll up",
        short: "up",
        intent: Intent::Up,
        contexts: &[Context::Messages, Context::Help, Context::Confirm],
        footer: false,
        only: None,
        matches: |k| plain(k, 'k') || k.code == KeyCode::Up,
    },
    Binding {
        keys: "PgDn/PgUp",
        help: "scroll a page",
        short: "page",
        intent: Intent::PageDown,
        contexts: &[Context::Messages, Context::Help, Context::Confirm],
        footer: false,
        only: None,
        matches: |k| k.code == KeyCode::PageDown,
    },
    Binding {
        keys: "PgUp",
        help: "scroll a page up",
        short: "page up",
        intent: Intent::PageUp,
        contexts: &[Context::Messages, Context::Help, Context::Confirm],
        footer: false,
        only: None,
        matches: |k| k.code == KeyCode::PageUp,
    },
    Binding {
        keys: "Esc/M/q",
        help: "close the messages",
        short: "close",
        intent: Intent::Back,
        contexts: &[Context::Messages],
        footer: true,
        only: None,
        matches: |k| k.code == KeyCode::Esc || plain(k, 'q') || plain(k, 'M'),
    },
    Binding {
        keys: "Esc/?/q",
        help: "close the help",
        short: "close",
        intent: Intent::Back,
        contexts: &[Context::Help],
        footer: true,
        only: None,
        matches: |k| k.code == KeyCode::Esc || plain(k, 'q'),
    },
    Binding {
        keys: "Enter",
        help: "next field / sign in",
        short: "sign in",
        intent: Intent::Submit,
        contexts: &[Context::SignIn],
        footer: true,
        only: None,
        matches: |k| k.code == KeyCode::Enter,
    },
    Binding {
        keys: "Enter",
        help: "take the selected choice, then next field / on to confirm",
        short: "next",
        intent: Intent::Submit,
        contexts: &[Context::Form],
        footer: true,
        only: None,
        matches: |k| k.code == KeyCode::Enter,
    },
    Binding {
        keys: "Tab",
        help: "next field",
        short: "field",
        intent: Intent::NextField,
        contexts: &[Context::SignIn, Context::Form],
        footer: true,
        only: None,
        matches: |k| k.code == KeyCode::Tab,
    },
    Binding {
        keys: "↓",
        help: "next field",
        short: "field",
        intent: Intent::NextField,
        contexts: &[Context::SignIn],
        footer: false,
        only: None,
        matches: |k| k.code == KeyCode::Down,
    },
    Binding {
        keys: "↑",
        help: "previous field",
        short: "field",
        intent: Intent::PrevField,
        contexts: &[Context::SignIn],
        footer: false,
        only: None,
        matches: |k| k.code == KeyCode::Up,
    },
    Binding {
        keys: "↓/↑",
        help: "next / previous choice in the list under the field (Enter takes it); in a field \
               without one, next / previous field",
        short: "choose",
        intent: Intent::Down,
        contexts: &[Context::Form],
        footer: true,
        only: None,
        matches: |k| k.code == KeyCode::Down,
    },
    Binding {
        keys: "↑",
        help: "previous choice",
        short: "choose",
        intent: Intent::Up,
        contexts: &[Context::Form],
        footer: false,
        only: None,
        matches: |k| k.code == KeyCode::Up,
    },
    Binding {
        keys: "Ctrl-U",
        help: "empty the field (the first character typed replaces a value the form opened with)",
        short: "clear",
        intent: Intent::ClearField,
        contexts: &[Context::Form],
        footer: true,
        only: None,
        matches: |k| k.code == KeyCode::Char('u') && k.modifiers.contains(KeyModifiers::CONTROL),
    },
    Binding {
        keys: "S-Tab",
        help: "previous field",
        short: "back",
        intent: Intent::PrevField,
        contexts: &[Context::SignIn, Context::Form],
        footer: false,
        only: None,
        matches: |k| k.code == KeyCode::BackTab,
    },
    Binding {
        keys: "Esc",
        help: "cancel, nothing is written",
        short: "cancel",
        intent: Intent::Cancel,
        contexts: &[Context::Form],
        footer: true,
        only: None,
        matches: |k| k.code == KeyCode::Esc,
    },
    Binding {
        keys: "Esc",
        help: "quit without signing in",
        short: "quit",
        intent: Intent::Quit,
        contexts: &[Context::SignIn],
        footer: true,
        only: None,
        matches: |k| k.code == KeyCode::Esc,
    },
    Binding {
        keys: "y",
        help: "apply the change",
        short: "apply",
        intent: Intent::Confirm,
        contexts: &[Context::Confirm],
        footer: true,
        only: None,
        matches: |k| plain(k, 'y') || plain(k, 'Y'),
    },
    Binding {
        keys: "n/Esc/Enter",
        help: "cancel (the default), nothing is written",
        short: "cancel",
        intent: Intent::Cancel,
        contexts: &[Context::Confirm],
        footer: true,
        only: None,
        matches: |k| {
            plain(k, 'n') || plain(k, 'N') || matches!(k.code, KeyCode::Esc | KeyCode::Enter)
        },
    },
    Binding {
        keys: "Ctrl-C",
        help: "quit",
        short: "quit",
        intent: Intent::Quit,
        contexts: &[Context::SignIn, Context::Form, Context::Confirm],
        footer: false,
        only: None,
        matches: |k| ctrl(k, 'c'),
    },
];

/// An admin action's key in the panes it applies to.
#[derive(Debug, Clone, Copy)]
pub struct VerbKey {
    pub key: char,
    pub panes: &'static [ListKind],
    pub verb: Verb,
    /// The footer's word for it.
    pub short: &'static str,
    pub help: &'static str,
}

const USERS: &[ListKind] = &[ListKind::Users, ListKind::Credits];
const USERS_ONLY: &[ListKind] = &[ListKind::Users];
const TENANTS: &[ListKind] = &[ListKind::Tenants];
const AGENTS: &[ListKind] = &[ListKind::Agents];
const NUMBERS: &[ListKind] = &[ListKind::PhoneNumbers];
/// A verb only the command line offers.
const NO_PANE: &[ListKind] = &[];

/// Every verb's key, pane by pane (in lists and detail views alike). A new verb does not
/// compile until it has a line here.
pub fn verb_key(verb: Verb) -> VerbKey {
    let (key, panes, short, help) = match verb {
        Verb::TopUp => ('+', USERS, "top up", "top up credits"),
        Verb::Deduct => ('-', USERS, "deduct", "deduct credits"),
        Verb::SetUserActive => ('a', USERS_ONLY, "on/off", "activate / deactivate"),
        Verb::RevokeSessions => ('X', USERS_ONLY, "revoke", "revoke all sessions"),
        Verb::VerifyEmail => ('v', USERS_ONLY, "verify", "mark the email verified"),
        Verb::SetRole => ('R', USERS_ONLY, "role", "change the role"),
        Verb::MoveUser => ('m', USERS_ONLY, "move", "move to another tenant"),
        Verb::CreateTenant => ('n', TENANTS, "new", "create a tenant"),
        Verb::RenameTenant => ('e', TENANTS, "rename", "rename"),
        Verb::SetPlan => ('p', TENANTS, "plan", "change the plan"),
        Verb::SetTenantActive => ('a', TENANTS, "on/off", "deactivate / reactivate"),
        Verb::RenameAgent => ('e', AGENTS, "rename", "rename"),
        Verb::DescribeAgent => ('D', AGENTS, "describe", "edit the description"),
        Verb::SetAgentActive => ('a', AGENTS, "on/off", "activate / deactivate"),
        Verb::AddNumber => ('n', NUMBERS, "add", "add a number"),
        Verb::AssignNumber => ('s', NUMBERS, "assign", "assign / reassign to a user"),
        Verb::UnassignNumber => ('u', NUMBERS, "unassign", "unassign"),
        Verb::SetNumberActive => ('a', NUMBERS, "on/off", "deactivate / reactivate"),
        // `switchboard settings set-credit-cap`: no pane shows the settings.
        Verb::SetCreditCap => (' ', NO_PANE, "cap", "set the admins' credit cap"),
    };
    VerbKey {
        key,
        panes,
        verb,
        short,
        help,
    }
}

/// The admin actions of `pane`.
pub fn pane_verbs(pane: ListKind) -> impl Iterator<Item = VerbKey> {
    Verb::iter()
        .map(verb_key)
        .filter(move |a| a.panes.contains(&pane))
}

/// The admin actions of `pane` that `role` may use (the footer shows only these).
pub fn allowed_verbs(pane: ListKind, role: Role) -> impl Iterator<Item = VerbKey> {
    pane_verbs(pane).filter(move |a| a.verb.min_role() <= role)
}

/// The action `key` means in `context` on `pane`, if any.
pub fn intent_for(context: Context, pane: ListKind, key: &KeyEvent) -> Option<Intent> {
    if matches!(context, Context::List | Context::Detail)
        && !key
            .modifiers
            .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
        && let KeyCode::Char(c) = key.code
        && let Some(a) = pane_verbs(pane).find(|a| a.key == c)
    {
        return Some(Intent::Act(a.verb));
    }
    BINDINGS
        .iter()
        .filter(|b| b.contexts.contains(&context) && b.only.is_none_or(|p| p == pane))
        .find(|b| (b.matches)(key))
        .map(|b| match b.intent {
            Intent::GoTab(_) => Intent::GoTab(tab_of_key(key).unwrap_or(0)),
            other => other,
        })
}

/// The footer's bindings for `context` on `pane`.
pub fn footer(context: Context, pane: ListKind) -> impl Iterator<Item = &'static Binding> {
    BINDINGS.iter().filter(move |b| {
        b.footer && b.contexts.contains(&context) && b.only.is_none_or(|p| p == pane)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn intent_for_users(context: Context, key: &KeyEvent) -> Option<Intent> {
        intent_for(context, ListKind::Users, key)
    }

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn keys_mean_what_the_help_says() {
        assert_eq!(
            intent_for_users(Context::List, &key(KeyCode::Char('j'))),
            Some(Intent::Down)
        );
        assert_eq!(
            intent_for_users(Context::List, &key(KeyCode::Up)),
            Some(Intent::Up)
        );
        assert_eq!(
            intent_for_users(Context::List, &key(KeyCode::Char('4'))),
            Some(Intent::GoTab(3))
        );
        assert_eq!(
            intent_for_users(Context::List, &key(KeyCode::Char('G'))),
            Some(Intent::Last)
        );
        assert_eq!(
            intent_for_users(
                Context::List,
                &KeyEvent::new(KeyCode::Char('d'), KeyModifiers::CONTROL)
            ),
            Some(Intent::PageDown)
        );
        // While typing a filter, letters are text.
        assert_eq!(
            intent_for_users(Context::Filter, &key(KeyCode::Char('q'))),
            None
        );
        assert_eq!(
            intent_for_users(
                Context::Filter,
                &KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)
            ),
            Some(Intent::Quit)
        );
    }

    #[test]
    fn action_keys_are_unique_per_pane_and_clash_with_no_navigation_key() {
        for pane in ListKind::ALL {
            let keys: Vec<char> = pane_verbs(pane).map(|a| a.key).collect();
            let mut unique = keys.clone();
            unique.sort();
            unique.dedup();
            assert_eq!(keys.len(), unique.len(), "{pane:?}");
            for c in keys {
                let k = key(KeyCode::Char(c));
                let nav = BINDINGS
                    .iter()
                    .filter(|b| b.contexts.contains(&Context::List))
                    .any(|b| (b.matches)(&k));
                assert!(!nav, "{c} in {pane:?}");
            }
        }
        assert_eq!(
            intent_for(
                Context::List,
                ListKind::PhoneNumbers,
                &key(KeyCode::Char('s'))
            ),
            Some(Intent::Act(Verb::AssignNumber))
        );
        assert_eq!(
            intent_for(
                Context::Filter,
                ListKind::PhoneNumbers,
                &key(KeyCode::Char('s'))
            ),
            None
        );
        assert_eq!(
            allowed_verbs(ListKind::PhoneNumbers, Role::Admin).count(),
            0
        );
        assert_eq!(allowed_verbs(ListKind::Credits, Role::Admin).count(), 2);
    }

    #[test]
    fn tab_keys_and_their_help_follow_the_list_of_panes() {
        let n = ListKind::ALL.len();
        for (i, kind) in ListKind::ALL.iter().enumerate() {
            let digit = char::from_digit(i as u32 + 1, 10).unwrap();
            assert_eq!(
                intent_for(Context::List, *kind, &key(KeyCode::Char(digit))),
                Some(Intent::GoTab(i))
            );
        }
        let past = char::from_digit(n as u32 + 1, 10).unwrap();
        assert_eq!(
            intent_for(Context::List, ListKind::Users, &key(KeyCode::Char(past))),
            None
        );
        assert_eq!(
            intent_for(Context::List, ListKind::Users, &key(KeyCode::Char('0'))),
            None
        );
        let go = BINDINGS
            .iter()
            .find(|b| matches!(b.intent, Intent::GoTab(_)))
            .unwrap();
        assert_eq!(go.keys(), format!("1-{n}"));
    }

    #[test]
    fn every_verb_with_a_pane_has_a_key_and_the_pane_can_use_it() {
        for verb in Verb::iter() {
            let k = verb_key(verb);
            for pane in k.panes {
                assert!(pane_verbs(*pane).any(|v| v.verb == verb), "{verb:?}");
                assert_eq!(
                    intent_for(Context::List, *pane, &key(KeyCode::Char(k.key))),
                    Some(Intent::Act(verb)),
                    "{verb:?} in {pane:?}"
                );
            }
        }
    }

    #[test]
    fn every_context_has_a_footer() {
        for c in [
            Context::List,
            Context::Detail,
            Context::Filter,
            Context::Help,
            Context::Messages,
            Context::SignIn,
            Context::Form,
            Context::Confirm,
        ] {
            assert!(footer(c, ListKind::Users).count() > 0, "{c:?}");
        }
    }
}
