//! Every key the console handles, in one list that feeds the key handling, the footer and the
//! help overlay, so that neither can lie.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::actions::{Role, Verb};
use crate::db::lists::ListKind;

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
    /// Start an admin action on the selected row (or a new row).
    Act(Verb),
    /// Forms and sign-in: Enter.
    Submit,
    NextField,
    PrevField,
    /// Confirm dialog: `y`.
    Confirm,
    /// Audit log: export the filtered entries to a file.
    Export,
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
    /// A confirm dialog: Cancel is the default.
    Confirm,
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
    /// The one pane it belongs to, if it is not everywhere.
    pub only: Option<ListKind>,
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
        only: None,
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
        only: None,
        matches: |k| k.code == KeyCode::Tab,
    },
    Binding {
        keys: "S-Tab",
        help: "previous pane",
        short: "prev",
        action: Action::PrevTab,
        contexts: NAV,
        footer: false,
        only: None,
        matches: |k| k.code == KeyCode::BackTab,
    },
    Binding {
        keys: "j/k",
        help: "move down / up",
        short: "move",
        action: Action::Down,
        contexts: NAV,
        footer: true,
        only: None,
        matches: |k| plain(k, 'j') || k.code == KeyCode::Down,
    },
    Binding {
        keys: "k",
        help: "move up",
        short: "up",
        action: Action::Up,
        contexts: NAV,
        footer: false,
        only: None,
        matches: |k| plain(k, 'k') || k.code == KeyCode::Up,
    },
    Binding {
        keys: "PgDn/^d",
        help: "page down",
        short: "page",
        action: Action::PageDown,
        contexts: NAV,
        footer: false,
        only: None,
        matches: |k| k.code == KeyCode::PageDown || ctrl(k, 'd'),
    },
    Binding {
        keys: "PgUp/^u",
        help: "page up",
        short: "page",
        action: Action::PageUp,
        contexts: NAV,
        footer: false,
        only: None,
        matches: |k| k.code == KeyCode::PageUp || ctrl(k, 'u'),
    },
    Binding {
        keys: "g/G",
        help: "first / last row",
        short: "top/end",
        action: Action::First,
        contexts: NAV,
        footer: false,
        only: None,
        matches: |k| plain(k, 'g') || k.code == KeyCode::Home,
    },
    Binding {
        keys: "G",
        help: "last row",
        short: "end",
        action: Action::Last,
        contexts: NAV,
        footer: false,
        only: None,
        matches: |k| (k.code == KeyCode::Char('G')) || k.code == KeyCode::End,
    },
    Binding {
        keys: "/",
        help: "filter (Enter keeps it, Esc clears)",
        short: "filter",
        action: Action::Filter,
        contexts: LIST,
        footer: true,
        only: None,
        matches: |k| plain(k, '/'),
    },
    Binding {
        keys: "Enter",
        help: "open the detail view",
        short: "open",
        action: Action::Open,
        contexts: LIST,
        footer: true,
        only: None,
        matches: |k| k.code == KeyCode::Enter,
    },
    Binding {
        keys: "Enter",
        help: "go to the audited record",
        short: "go to",
        action: Action::Open,
        contexts: DETAIL,
        footer: false,
        only: None,
        matches: |k| k.code == KeyCode::Enter,
    },
    Binding {
        keys: "h",
        help: "audit history of this record",
        short: "history",
        action: Action::History,
        contexts: NAV,
        footer: true,
        only: None,
        matches: |k| plain(k, 'h'),
    },
    Binding {
        keys: "Esc",
        help: "back / cancel a slow query / clear the filter",
        short: "back",
        action: Action::Back,
        contexts: NAV,
        footer: true,
        only: None,
        matches: |k| k.code == KeyCode::Esc,
    },
    Binding {
        keys: "x",
        help: "export the filtered entries to a file",
        short: "export",
        action: Action::Export,
        contexts: LIST,
        footer: true,
        only: Some(ListKind::AuditLog),
        matches: |k| plain(k, 'x'),
    },
    Binding {
        keys: "r",
        help: "reload",
        short: "reload",
        action: Action::Reload,
        contexts: NAV,
        footer: false,
        only: None,
        matches: |k| plain(k, 'r'),
    },
    Binding {
        keys: "?",
        help: "help",
        short: "help",
        action: Action::Help,
        contexts: ALL,
        footer: true,
        only: None,
        matches: |k| plain(k, '?'),
    },
    Binding {
        keys: "q",
        help: "quit",
        short: "quit",
        action: Action::Quit,
        contexts: NAV,
        footer: true,
        only: None,
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
        only: None,
        matches: |k| ctrl(k, 'c'),
    },
    Binding {
        keys: "Enter",
        help: "keep the filter",
        short: "keep",
        action: Action::Apply,
        contexts: &[Context::Filter],
        footer: true,
        only: None,
        matches: |k| k.code == KeyCode::Enter,
    },
    Binding {
        keys: "Esc",
        help: "clear the filter",
        short: "clear",
        action: Action::Back,
        contexts: &[Context::Filter],
        footer: true,
        only: None,
        matches: |k| k.code == KeyCode::Esc,
    },
    Binding {
        keys: "Esc/?/q",
        help: "close the help",
        short: "close",
        action: Action::Back,
        contexts: &[Context::Help],
        footer: true,
        only: None,
        matches: |k| k.code == KeyCode::Esc || plain(k, 'q'),
    },
    Binding {
        keys: "Enter",
        help: "next field / sign in",
        short: "sign in",
        action: Action::Submit,
        contexts: &[Context::SignIn],
        footer: true,
        only: None,
        matches: |k| k.code == KeyCode::Enter,
    },
    Binding {
        keys: "Enter",
        help: "next field / on to confirm",
        short: "next",
        action: Action::Submit,
        contexts: &[Context::Form],
        footer: true,
        only: None,
        matches: |k| k.code == KeyCode::Enter,
    },
    Binding {
        keys: "Tab",
        help: "next field",
        short: "field",
        action: Action::NextField,
        contexts: &[Context::SignIn, Context::Form],
        footer: true,
        only: None,
        matches: |k| matches!(k.code, KeyCode::Tab | KeyCode::Down),
    },
    Binding {
        keys: "S-Tab",
        help: "previous field",
        short: "back",
        action: Action::PrevField,
        contexts: &[Context::SignIn, Context::Form],
        footer: false,
        only: None,
        matches: |k| matches!(k.code, KeyCode::BackTab | KeyCode::Up),
    },
    Binding {
        keys: "Esc",
        help: "cancel, nothing is written",
        short: "cancel",
        action: Action::Cancel,
        contexts: &[Context::Form],
        footer: true,
        only: None,
        matches: |k| k.code == KeyCode::Esc,
    },
    Binding {
        keys: "Esc",
        help: "quit without signing in",
        short: "quit",
        action: Action::Quit,
        contexts: &[Context::SignIn],
        footer: true,
        only: None,
        matches: |k| k.code == KeyCode::Esc,
    },
    Binding {
        keys: "y",
        help: "apply the change",
        short: "apply",
        action: Action::Confirm,
        contexts: &[Context::Confirm],
        footer: true,
        only: None,
        matches: |k| plain(k, 'y') || plain(k, 'Y'),
    },
    Binding {
        keys: "n/Esc/Enter",
        help: "cancel (the default), nothing is written",
        short: "cancel",
        action: Action::Cancel,
        contexts: &[Context::Confirm],
        footer: true,
        only: None,
        matches: |k| {
            plain(k, 'n') || plain(k, 'N') || matches!(k.code, KeyCode::Esc | KeyCode::Enter)
        },
    },
    Binding {
        keys: "^c",
        help: "quit",
        short: "quit",
        action: Action::Quit,
        contexts: &[Context::SignIn, Context::Form, Context::Confirm],
        footer: false,
        only: None,
        matches: |k| ctrl(k, 'c'),
    },
];

/// An admin action's key in the panes it applies to.
#[derive(Debug, Clone, Copy)]
pub struct PaneAction {
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

const fn act(
    key: char,
    panes: &'static [ListKind],
    verb: Verb,
    short: &'static str,
    help: &'static str,
) -> PaneAction {
    PaneAction {
        key,
        panes,
        verb,
        short,
        help,
    }
}

/// Every admin action's key, pane by pane (in lists and detail views alike).
pub static PANE_ACTIONS: &[PaneAction] = &[
    act('+', USERS, Verb::TopUp, "top up", "top up credits"),
    act('-', USERS, Verb::Deduct, "deduct", "deduct credits"),
    act(
        'a',
        USERS_ONLY,
        Verb::SetUserActive,
        "on/off",
        "activate / deactivate",
    ),
    act(
        'X',
        USERS_ONLY,
        Verb::RevokeSessions,
        "revoke",
        "revoke all sessions",
    ),
    act(
        'v',
        USERS_ONLY,
        Verb::VerifyEmail,
        "verify",
        "mark the email verified",
    ),
    act('R', USERS_ONLY, Verb::SetRole, "role", "change the role"),
    act(
        'm',
        USERS_ONLY,
        Verb::MoveUser,
        "move",
        "move to another tenant",
    ),
    act('n', TENANTS, Verb::CreateTenant, "new", "create a tenant"),
    act('e', TENANTS, Verb::RenameTenant, "rename", "rename"),
    act('p', TENANTS, Verb::SetPlan, "plan", "change the plan"),
    act(
        'a',
        TENANTS,
        Verb::SetTenantActive,
        "on/off",
        "deactivate / reactivate",
    ),
    act('e', AGENTS, Verb::RenameAgent, "rename", "rename"),
    act(
        'D',
        AGENTS,
        Verb::DescribeAgent,
        "describe",
        "edit the description",
    ),
    act(
        'a',
        AGENTS,
        Verb::SetAgentActive,
        "on/off",
        "activate / deactivate",
    ),
    act('n', NUMBERS, Verb::AddNumber, "add", "add a number"),
    act(
        's',
        NUMBERS,
        Verb::AssignNumber,
        "assign",
        "assign / reassign to a user",
    ),
    act('u', NUMBERS, Verb::UnassignNumber, "unassign", "unassign"),
    act(
        'a',
        NUMBERS,
        Verb::SetNumberActive,
        "on/off",
        "deactivate / reactivate",
    ),
];

/// The admin actions of `pane`.
pub fn pane_actions(pane: ListKind) -> impl Iterator<Item = &'static PaneAction> {
    PANE_ACTIONS.iter().filter(move |a| a.panes.contains(&pane))
}

/// The admin actions of `pane` that `role` may use (the footer shows only these).
pub fn allowed_actions(pane: ListKind, role: Role) -> impl Iterator<Item = &'static PaneAction> {
    pane_actions(pane).filter(move |a| a.verb.min_role() <= role)
}

/// The action `key` means in `context` on `pane`, if any.
pub fn action_for(context: Context, pane: ListKind, key: &KeyEvent) -> Option<Action> {
    if matches!(context, Context::List | Context::Detail)
        && !key
            .modifiers
            .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
        && let KeyCode::Char(c) = key.code
        && let Some(a) = pane_actions(pane).find(|a| a.key == c)
    {
        return Some(Action::Act(a.verb));
    }
    BINDINGS
        .iter()
        .filter(|b| b.contexts.contains(&context) && b.only.is_none_or(|p| p == pane))
        .find(|b| (b.matches)(key))
        .map(|b| match b.action {
            Action::GoTab(_) => match key.code {
                KeyCode::Char(c) => Action::GoTab(c as usize - '1' as usize),
                _ => Action::GoTab(0),
            },
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

    fn action_for_users(context: Context, key: &KeyEvent) -> Option<Action> {
        action_for(context, ListKind::Users, key)
    }

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn keys_mean_what_the_help_says() {
        assert_eq!(
            action_for_users(Context::List, &key(KeyCode::Char('j'))),
            Some(Action::Down)
        );
        assert_eq!(
            action_for_users(Context::List, &key(KeyCode::Up)),
            Some(Action::Up)
        );
        assert_eq!(
            action_for_users(Context::List, &key(KeyCode::Char('4'))),
            Some(Action::GoTab(3))
        );
        assert_eq!(
            action_for_users(Context::List, &key(KeyCode::Char('G'))),
            Some(Action::Last)
        );
        assert_eq!(
            action_for_users(
                Context::List,
                &KeyEvent::new(KeyCode::Char('d'), KeyModifiers::CONTROL)
            ),
            Some(Action::PageDown)
        );
        // While typing a filter, letters are text.
        assert_eq!(
            action_for_users(Context::Filter, &key(KeyCode::Char('q'))),
            None
        );
        assert_eq!(
            action_for_users(
                Context::Filter,
                &KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)
            ),
            Some(Action::Quit)
        );
    }

    #[test]
    fn action_keys_are_unique_per_pane_and_clash_with_no_navigation_key() {
        for pane in ListKind::ALL {
            let keys: Vec<char> = pane_actions(pane).map(|a| a.key).collect();
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
            action_for(
                Context::List,
                ListKind::PhoneNumbers,
                &key(KeyCode::Char('s'))
            ),
            Some(Action::Act(Verb::AssignNumber))
        );
        assert_eq!(
            action_for(
                Context::Filter,
                ListKind::PhoneNumbers,
                &key(KeyCode::Char('s'))
            ),
            None
        );
        assert_eq!(
            allowed_actions(ListKind::PhoneNumbers, Role::Admin).count(),
            0
        );
        assert_eq!(allowed_actions(ListKind::Credits, Role::Admin).count(), 2);
    }

    #[test]
    fn every_context_has_a_footer() {
        for c in [
            Context::List,
            Context::Detail,
            Context::Filter,
            Context::Help,
            Context::SignIn,
            Context::Form,
            Context::Confirm,
        ] {
            assert!(footer(c, ListKind::Users).count() > 0, "{c:?}");
        }
    }
}
