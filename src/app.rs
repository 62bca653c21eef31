//! The console's state and its one update function: `update(msg) -> Vec<Command>`. It never
//! touches the database or the terminal; the worker runs the commands and the UI draws the state.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use ratatui::crossterm::event::{KeyEvent, KeyEventKind};
use tui_input::Input;
use tui_input::backend::crossterm::EventHandler;
use uuid::Uuid;

use crate::actions::auth::Secret;
use crate::actions::targets::Target;
use crate::actions::{ActionError, Actor, AuditContext, Outcome, Request, Session, Verb};
use crate::db::details::Detail;
use crate::db::lists::{self, Cell, Filter, ListKind, ListRow, Page, RowCount};
use crate::forms::{self, Dialog, SignIn};
use crate::keymap::{self, Action, Context};

/// Rows whose figures one stats query fetches (the first ones show first).
pub const STATS_CHUNK: usize = 20;
/// Rows fetched per page.
pub const PAGE_ROWS: i64 = 100;
/// Rows held per pane at most: paging drops rows far from the screen.
pub const WINDOW_ROWS: usize = 300;
/// Filtering waits for a pause in typing.
pub const FILTER_DEBOUNCE: Duration = Duration::from_millis(250);
/// After a failed fetch, the pane tries again this often (the pool reconnects as needed).
pub const RETRY_AFTER: Duration = Duration::from_secs(3);
/// Fetch the next page when the selection is this close to the end of the window.
const PREFETCH_MARGIN: usize = 20;

pub type ReqId = u64;

/// Work for the worker. Every answer carries its request id; stale answers are dropped.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    FetchPage {
        req: ReqId,
        kind: ListKind,
        filter: Filter,
        page: Page,
        limit: i64,
    },
    Count {
        req: ReqId,
        kind: ListKind,
        filter: Filter,
    },
    LoadDetail {
        req: ReqId,
        kind: ListKind,
        id: Uuid,
    },
    /// The figures that come after the rows (see `lists::fetch_stats`).
    FetchStats {
        kind: ListKind,
        /// The pane's row generation: answers for rows since replaced are dropped.
        generation: ReqId,
        ids: Vec<Uuid>,
    },
    /// Cancel this console's running queries on the server.
    CancelQueries,
    /// Sign in (with the demo password when `demo`, if it still works).
    SignIn {
        req: ReqId,
        email: String,
        password: Secret,
        demo: bool,
        ctx: AuditContext,
        read_only: bool,
    },
    /// Check the admin may use `verb` and read what its target holds now.
    Prepare {
        req: ReqId,
        session: Box<Session>,
        verb: Verb,
        kind: ListKind,
        id: Option<Uuid>,
    },
    /// Apply a confirmed change.
    Apply {
        req: ReqId,
        session: Box<Session>,
        request: Request,
    },
    /// Export the audit entries `filter` selects to `path` (and record that it was done).
    Export {
        req: ReqId,
        session: Box<Session>,
        filter: Filter,
        filter_text: String,
        path: std::path::PathBuf,
    },
}

/// Why a sign-in did not succeed.
#[derive(Debug, Clone, PartialEq)]
pub enum SignInFail {
    /// The demo password does not work for this account: ask for the password.
    NeedPassword,
    /// Wrong email or password, or not an active admin (one message for all).
    Refused,
    /// The database could not be asked; not counted as a try.
    Error(String),
}

/// How the console starts signing in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignInStart {
    /// The embedded default: try the demo password for this account, else ask.
    Demo(String),
    /// Ask for the password (and the email if none is given).
    Prompt(Option<String>),
}

#[derive(Debug, Clone)]
pub enum Msg {
    Key(KeyEvent),
    Resize(u16, u16),
    Tick {
        now: Instant,
        wall: DateTime<Utc>,
    },
    Page {
        req: ReqId,
        result: Result<Vec<ListRow>, String>,
    },
    Count {
        req: ReqId,
        result: Result<RowCount, String>,
    },
    Detail {
        req: ReqId,
        result: Result<Detail, String>,
    },
    Stats {
        kind: ListKind,
        generation: ReqId,
        result: Result<Vec<(Uuid, Vec<Cell>)>, String>,
    },
    SignedIn {
        req: ReqId,
        /// Whether the demo password signed in.
        demo: bool,
        result: Result<Actor, SignInFail>,
    },
    Prepared {
        req: ReqId,
        result: Result<Option<Target>, String>,
    },
    Applied {
        req: ReqId,
        result: Result<Outcome, ActionError>,
    },
    ExportProgress {
        req: ReqId,
        rows: u64,
    },
    Exported {
        req: ReqId,
        result: Result<u64, String>,
    },
}

/// Which page request is outstanding, so that its rows land in the right place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fetch {
    Replace,
    Append,
    Prepend,
    /// Replace, then select the last row.
    Last,
}

#[derive(Debug, Clone)]
pub struct DetailView {
    pub kind: ListKind,
    pub id: Uuid,
    pub detail: Option<Detail>,
    pub loading: Option<ReqId>,
    pub error: Option<String>,
    pub scroll: u16,
}

#[derive(Debug, Clone)]
pub struct Pane {
    pub kind: ListKind,
    /// The rows held: a window of the list around the screen.
    pub rows: Vec<ListRow>,
    pub selected: usize,
    /// The first row shown (the UI keeps the selection visible).
    pub offset: usize,
    /// Whether the window starts at the list's first row / ends at its last.
    pub at_start: bool,
    pub at_end: bool,
    /// How many rows precede the window (known exactly only from the top).
    pub skipped: Option<usize>,
    pub count: Option<RowCount>,
    pub filter_input: Input,
    pub editing_filter: bool,
    /// The filter the rows were fetched with.
    pub filter: Filter,
    pub filter_error: Option<String>,
    filter_typed_at: Option<Instant>,
    loading: Option<(ReqId, Fetch)>,
    count_req: Option<ReqId>,
    /// Rows still to move once the next page is in.
    pending_move: isize,
    pub loaded: bool,
    pub error: Option<String>,
    /// When to fetch again after an error (a lost connection comes back by itself).
    retry_at: Option<Instant>,
    /// Which load the rows' late figures belong to (see `Command::FetchStats`).
    stats_gen: ReqId,
    pub detail: Option<DetailView>,
}

impl Pane {
    pub fn new(kind: ListKind) -> Pane {
        Pane {
            kind,
            rows: Vec::new(),
            selected: 0,
            offset: 0,
            at_start: true,
            at_end: false,
            skipped: Some(0),
            count: None,
            filter_input: Input::default(),
            editing_filter: false,
            filter: Filter::default(),
            filter_error: None,
            filter_typed_at: None,
            loading: None,
            count_req: None,
            pending_move: 0,
            loaded: false,
            error: None,
            retry_at: None,
            stats_gen: 0,
            detail: None,
        }
    }

    pub fn is_loading(&self) -> bool {
        self.loading.is_some()
            || self.count_req.is_some()
            || self.detail.as_ref().is_some_and(|d| d.loading.is_some())
    }

    pub fn selected_row(&self) -> Option<&ListRow> {
        self.rows.get(self.selected)
    }

    /// 1-based position of the selection in the whole list, when known.
    pub fn position(&self) -> Option<usize> {
        if self.rows.is_empty() {
            return None;
        }
        self.skipped.map(|s| s + self.selected + 1)
    }
}

#[derive(Debug, Clone, Default)]
pub struct Status {
    /// Where the console is connected (never a password).
    pub database: String,
    pub admin: Option<String>,
    pub read_only: bool,
    pub error: Option<String>,
    pub info: Option<String>,
}

#[derive(Debug, Clone)]
pub struct App {
    pub tab: usize,
    pub panes: Vec<Pane>,
    pub help: bool,
    pub status: Status,
    /// The wall clock as of the last tick (rendering shows times relative to it).
    pub now: DateTime<Utc>,
    pub width: u16,
    pub height: u16,
    pub spinner: usize,
    pub quit: bool,
    /// The console quit because sign-in failed too often.
    pub sign_in_failed: bool,
    pub theme: crate::ui::Theme,
    /// Who the console acts as, once signed in.
    pub session: Option<Session>,
    /// The sign-in screen, while it is up.
    pub sign_in: Option<SignIn>,
    /// A form or confirm dialog over the panes.
    pub dialog: Option<Dialog>,
    pub audit_ctx: AuditContext,
    /// The action being prepared: its request, verb, and target row.
    preparing: Option<(ReqId, Verb, ListKind, Option<Uuid>)>,
    /// Field values to put back into a form reopened after a conflict.
    retry_values: Option<Vec<String>>,
    /// The export in progress: its request, rows written so far, and file.
    pub exporting: Option<(ReqId, u64, std::path::PathBuf)>,
    next_req: ReqId,
}

impl App {
    pub fn new(status: Status, width: u16, height: u16, now: DateTime<Utc>) -> App {
        App {
            tab: 0,
            panes: ListKind::ALL.iter().map(|k| Pane::new(*k)).collect(),
            help: false,
            status,
            now,
            width,
            height,
            spinner: 0,
            quit: false,
            sign_in_failed: false,
            theme: crate::ui::Theme { color: true },
            session: None,
            sign_in: None,
            dialog: None,
            audit_ctx: AuditContext {
                ip: None,
                user_agent: crate::actions::user_agent("console", "local"),
            },
            preparing: None,
            retry_values: None,
            exporting: None,
            next_req: 1,
        }
    }

    /// Shows the sign-in screen; on the embedded default, tries the demo password first.
    pub fn begin_sign_in(&mut self, start: SignInStart) -> Vec<Command> {
        match start {
            SignInStart::Prompt(email) => {
                self.sign_in = Some(SignIn::new(email.as_deref()));
                Vec::new()
            }
            SignInStart::Demo(email) => {
                let req = self.req();
                let mut form = SignIn::new(Some(&email));
                form.pending = Some(req);
                form.message = Some(format!("signing in as {email} (demo data)…"));
                self.sign_in = Some(form);
                vec![Command::SignIn {
                    req,
                    email,
                    password: Secret::new(crate::db::demo::DEMO_PASSWORD),
                    demo: true,
                    ctx: self.audit_ctx.clone(),
                    read_only: self.status.read_only,
                }]
            }
        }
    }

    /// Signs in as `actor` directly (tests and callers that signed in already).
    pub fn signed_in(&mut self, actor: Actor, demo: bool) {
        self.status.admin = Some(format!(
            "{} ({}{})",
            actor.email,
            actor.role.as_str(),
            if demo { ", demo sign-in" } else { "" }
        ));
        self.status.error = None;
        self.session = Some(Session {
            actor,
            ctx: self.audit_ctx.clone(),
            read_only: self.status.read_only,
        });
        self.sign_in = None;
    }

    /// The commands that load the current pane.
    pub fn start(&mut self) -> Vec<Command> {
        self.load(self.tab, Fetch::Replace)
    }

    pub fn pane(&self) -> &Pane {
        &self.panes[self.tab]
    }

    fn pane_mut(&mut self) -> &mut Pane {
        &mut self.panes[self.tab]
    }

    pub fn context(&self) -> Context {
        let pane = self.pane();
        if self.sign_in.is_some() {
            Context::SignIn
        } else if let Some(d) = &self.dialog {
            match d {
                Dialog::Form(_) | Dialog::Export(_) => Context::Form,
                Dialog::Confirm(_) => Context::Confirm,
            }
        } else if self.help {
            Context::Help
        } else if pane.editing_filter {
            Context::Filter
        } else if pane.detail.is_some() {
            Context::Detail
        } else {
            Context::List
        }
    }

    /// Whether anything is under way (the spinner turns).
    pub fn is_loading(&self) -> bool {
        self.is_querying() || self.exporting.is_some()
    }

    /// Whether a query that `Esc` cancels, or a sign-in or change, is under way.
    pub fn is_querying(&self) -> bool {
        self.panes.iter().any(Pane::is_loading)
            || self.preparing.is_some()
            || self.sign_in.as_ref().is_some_and(|s| s.pending.is_some())
            || matches!(&self.dialog, Some(Dialog::Confirm(c)) if c.pending.is_some())
    }

    /// Rows of the list visible at the current size: the screen less the tab bar, the status
    /// line, the footer, the table header and the filter line.
    pub fn list_rows(&self) -> usize {
        usize::from(self.height.saturating_sub(5)).max(1)
    }

    fn req(&mut self) -> ReqId {
        let r = self.next_req;
        self.next_req += 1;
        r
    }

    fn load(&mut self, tab: usize, how: Fetch) -> Vec<Command> {
        let req = self.req();
        let pane = &mut self.panes[tab];
        let page = match how {
            Fetch::Replace => Page::First,
            Fetch::Last => Page::Last,
            Fetch::Append => match pane.rows.last() {
                Some(r) => Page::After(r.key.clone()),
                None => Page::First,
            },
            Fetch::Prepend => match pane.rows.first() {
                Some(r) => Page::Before(r.key.clone()),
                None => Page::First,
            },
        };
        pane.loading = Some((req, how));
        let mut cmds = vec![Command::FetchPage {
            req,
            kind: pane.kind,
            filter: pane.filter.clone(),
            page,
            limit: PAGE_ROWS,
        }];
        if how == Fetch::Replace && pane.count.is_none() {
            let req = self.req();
            let pane = &mut self.panes[tab];
            pane.count_req = Some(req);
            cmds.push(Command::Count {
                req,
                kind: pane.kind,
                filter: pane.filter.clone(),
            });
        }
        cmds
    }

    pub fn update(&mut self, msg: Msg) -> Vec<Command> {
        match msg {
            Msg::Key(key) if key.kind != KeyEventKind::Release => self.on_key(key),
            Msg::Key(_) => Vec::new(),
            Msg::Resize(w, h) => {
                self.width = w;
                self.height = h;
                self.keep_visible();
                Vec::new()
            }
            Msg::Tick { now, wall } => {
                self.now = wall;
                if self.is_loading() {
                    self.spinner = self.spinner.wrapping_add(1);
                }
                let mut cmds = self.apply_typed_filter(now);
                let tab = self.tab;
                let pane = &mut self.panes[tab];
                if cmds.is_empty()
                    && pane.loading.is_none()
                    && pane.retry_at.is_some_and(|t| now >= t)
                {
                    pane.retry_at = None;
                    cmds = self.load(tab, Fetch::Replace);
                }
                cmds
            }
            Msg::Page { req, result } => self.on_page(req, result),
            Msg::Count { req, result } => {
                for pane in &mut self.panes {
                    if pane.count_req == Some(req) {
                        pane.count_req = None;
                        match result {
                            Ok(c) => pane.count = Some(c),
                            Err(e) => self.status.error = Some(e),
                        }
                        break;
                    }
                }
                Vec::new()
            }
            Msg::Stats {
                kind,
                generation,
                result,
            } => {
                match result {
                    Ok(stats) => {
                        let Some(range) = lists::stats_cells(kind) else {
                            return Vec::new();
                        };
                        for pane in self
                            .panes
                            .iter_mut()
                            .filter(|p| p.kind == kind && p.stats_gen == generation)
                        {
                            for (id, cells) in &stats {
                                if let Some(row) = pane.rows.iter_mut().find(|r| r.id == *id)
                                    && let Some(slot) = row.cells.get_mut(range.clone())
                                {
                                    for (dst, src) in slot.iter_mut().zip(cells) {
                                        *dst = src.clone();
                                    }
                                }
                            }
                        }
                    }
                    Err(e) => self.status.error = Some(e),
                }
                Vec::new()
            }
            Msg::SignedIn { req, demo, result } => self.on_signed_in(req, demo, result),
            Msg::Prepared { req, result } => self.on_prepared(req, result),
            Msg::Applied { req, result } => self.on_applied(req, result),
            Msg::ExportProgress { req, rows } => {
                if let Some((r, n, _)) = &mut self.exporting
                    && *r == req
                {
                    *n = rows;
                }
                Vec::new()
            }
            Msg::Exported { req, result } => {
                if let Some((r, _, path)) = self.exporting.take() {
                    if r != req {
                        self.exporting = Some((r, 0, path));
                        return Vec::new();
                    }
                    match result {
                        Ok(rows) => {
                            self.status.error = None;
                            self.status.info =
                                Some(format!("exported {rows} entries to {}", path.display()));
                        }
                        Err(e) => self.status.error = Some(format!("export failed: {e}")),
                    }
                }
                Vec::new()
            }
            Msg::Detail { req, result } => {
                for pane in &mut self.panes {
                    if let Some(view) = &mut pane.detail
                        && view.loading == Some(req)
                    {
                        view.loading = None;
                        match result {
                            Ok(d) => {
                                view.detail = Some(d);
                                view.error = None;
                            }
                            Err(e) => {
                                view.error = Some(e.clone());
                                self.status.error = Some(e);
                            }
                        }
                        break;
                    }
                }
                Vec::new()
            }
        }
    }

    fn on_page(&mut self, req: ReqId, result: Result<Vec<ListRow>, String>) -> Vec<Command> {
        let Some(tab) = self
            .panes
            .iter()
            .position(|p| p.loading.is_some_and(|(r, _)| r == req))
        else {
            return Vec::new(); // stale: a newer request replaced it
        };
        let pane = &mut self.panes[tab];
        let how = pane
            .loading
            .take()
            .map(|(_, how)| how)
            .unwrap_or(Fetch::Replace);
        let rows = match result {
            Ok(rows) => rows,
            Err(e) => {
                pane.error = Some(e.clone());
                pane.pending_move = 0;
                pane.retry_at = Some(Instant::now() + RETRY_AFTER);
                self.status.error = Some(format!("{e} (retrying)"));
                return Vec::new();
            }
        };
        pane.error = None;
        pane.retry_at = None;
        self.status.error = None;
        pane.loaded = true;
        let full = rows.len() as i64 == PAGE_ROWS;
        // Rows whose figures come after them: ask, a few rows a query, the first rows first.
        let kind = pane.kind;
        if matches!(how, Fetch::Replace | Fetch::Last) {
            // New rows altogether: figures asked for the old ones no longer apply.
            pane.stats_gen = req;
        }
        let generation = pane.stats_gen;
        let mut stats: Vec<Command> = Vec::new();
        if lists::stats_cells(kind).is_some() {
            let mut ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
            if matches!(how, Fetch::Last | Fetch::Prepend) {
                ids.reverse(); // the rows nearest the screen are at the end
            }
            for chunk in ids.chunks(STATS_CHUNK) {
                stats.push(Command::FetchStats {
                    kind,
                    generation,
                    ids: chunk.to_vec(),
                });
            }
        }
        match how {
            Fetch::Replace => {
                pane.rows = rows;
                pane.at_start = true;
                pane.at_end = !full;
                pane.skipped = Some(0);
                pane.selected = pane.selected.min(pane.rows.len().saturating_sub(1));
                pane.offset = pane.offset.min(pane.selected);
            }
            Fetch::Last => {
                pane.rows = rows;
                pane.at_end = true;
                pane.at_start = !full;
                pane.skipped = if pane.at_start {
                    Some(0)
                } else {
                    match pane.count {
                        Some(RowCount::Exact(n)) => {
                            Some((n as usize).saturating_sub(pane.rows.len()))
                        }
                        _ => None,
                    }
                };
                pane.selected = pane.rows.len().saturating_sub(1);
                pane.offset = pane.selected;
            }
            Fetch::Append => {
                pane.at_end = !full;
                pane.rows.extend(rows);
                let excess = pane.rows.len().saturating_sub(WINDOW_ROWS);
                if excess > 0 {
                    pane.rows.drain(..excess);
                    pane.selected = pane.selected.saturating_sub(excess);
                    pane.offset = pane.offset.saturating_sub(excess);
                    pane.at_start = false;
                    pane.skipped = pane.skipped.map(|s| s + excess);
                }
            }
            Fetch::Prepend => {
                let added = rows.len();
                pane.at_start = !full;
                let mut rows = rows;
                rows.append(&mut pane.rows);
                pane.rows = rows;
                pane.selected += added;
                pane.offset += added;
                pane.skipped = if pane.at_start {
                    Some(0)
                } else {
                    pane.skipped.and_then(|s| s.checked_sub(added))
                };
                if pane.rows.len() > WINDOW_ROWS {
                    pane.rows.truncate(WINDOW_ROWS);
                    pane.at_end = false;
                }
            }
        }
        let pending = std::mem::take(&mut self.panes[tab].pending_move);
        let mut cmds = stats;
        if pending != 0 && tab == self.tab {
            cmds.extend(self.move_by(pending));
        }
        self.keep_visible();
        cmds
    }

    fn on_key(&mut self, key: KeyEvent) -> Vec<Command> {
        let context = self.context();
        let action = keymap::action_for(context, self.pane().kind, &key);
        let event = ratatui::crossterm::event::Event::Key(key);
        match (context, action) {
            (Context::Filter, None) => {
                let pane = self.pane_mut();
                pane.filter_input.handle_event(&event);
                pane.filter_typed_at = Some(Instant::now());
                return Vec::new();
            }
            (Context::SignIn, None) => {
                if let Some(s) = &mut self.sign_in
                    && s.pending.is_none()
                {
                    let field = if s.on_password {
                        &mut s.password
                    } else {
                        &mut s.email
                    };
                    field.handle_event(&event);
                }
                return Vec::new();
            }
            (Context::Form, None) => {
                match &mut self.dialog {
                    Some(Dialog::Form(f)) => {
                        if let Some(field) = f.fields.get_mut(f.focus) {
                            field.input.handle_event(&event);
                            f.error = None;
                        }
                    }
                    Some(Dialog::Export(e)) => {
                        e.path.handle_event(&event);
                        e.error = None;
                    }
                    _ => {}
                }
                return Vec::new();
            }
            _ => {}
        }
        let Some(action) = action else {
            return Vec::new();
        };
        match context {
            Context::SignIn => return self.on_sign_in_action(action),
            Context::Form | Context::Confirm => return self.on_dialog_action(action),
            _ => {}
        }
        self.status.info = None;
        match action {
            Action::Quit => {
                self.quit = true;
                Vec::new()
            }
            Action::Help => {
                self.help = !self.help;
                Vec::new()
            }
            Action::Back if self.help => {
                self.help = false;
                Vec::new()
            }
            Action::GoTab(i) if i < self.panes.len() => self.go_tab(i),
            Action::GoTab(_) => Vec::new(),
            Action::NextTab => self.go_tab((self.tab + 1) % self.panes.len()),
            Action::PrevTab => self.go_tab((self.tab + self.panes.len() - 1) % self.panes.len()),
            Action::Down => self.step(1),
            Action::Up => self.step(-1),
            Action::PageDown => self.step(self.list_rows() as isize),
            Action::PageUp => self.step(-(self.list_rows() as isize)),
            Action::First => {
                if let Some(view) = &mut self.pane_mut().detail {
                    view.scroll = 0;
                    return Vec::new();
                }
                let pane = self.pane_mut();
                pane.selected = 0;
                pane.offset = 0;
                if pane.at_start {
                    Vec::new()
                } else {
                    self.load(self.tab, Fetch::Replace)
                }
            }
            Action::Last => {
                if let Some(view) = &mut self.pane_mut().detail {
                    view.scroll = u16::MAX; // the UI clamps to the end
                    return Vec::new();
                }
                let pane = self.pane_mut();
                if pane.at_end {
                    pane.selected = pane.rows.len().saturating_sub(1);
                    self.keep_visible();
                    Vec::new()
                } else {
                    self.load(self.tab, Fetch::Last)
                }
            }
            Action::Filter => {
                let pane = self.pane_mut();
                pane.editing_filter = true;
                Vec::new()
            }
            Action::Apply => {
                let pane = self.pane_mut();
                pane.editing_filter = false;
                pane.filter_typed_at = None;
                self.apply_filter()
            }
            Action::Back => self.back(),
            Action::Open => self.open(),
            Action::Reload => {
                let tab = self.tab;
                let pane = self.pane_mut();
                pane.count = None;
                if let Some(view) = &pane.detail {
                    let (kind, id) = (view.kind, view.id);
                    return self.open_detail(tab, kind, id);
                }
                self.load(tab, Fetch::Replace)
            }
            Action::History => self.history(),
            Action::Act(verb) => self.act(verb),
            Action::Export => self.open_export(),
            Action::Submit
            | Action::NextField
            | Action::PrevField
            | Action::Confirm
            | Action::Cancel => Vec::new(),
        }
    }

    /// `x` in the audit log: ask where to export the entries the filter selects.
    fn open_export(&mut self) -> Vec<Command> {
        if self.session.is_none() {
            self.status.error = Some("not signed in: nothing can be exported".into());
            return Vec::new();
        }
        if self.exporting.is_some() {
            self.status.info = Some("an export is running already".into());
            return Vec::new();
        }
        let pane = self.pane();
        if pane.filter_error.is_some() || pane.filter_typed_at.is_some() {
            self.status.error =
                Some("the filter is not applied yet: fix it or wait, then export".into());
            return Vec::new();
        }
        let name = format!("switchboard-audit-{}.csv", self.now.format("%Y%m%d-%H%M%S"));
        self.dialog = Some(Dialog::Export(forms::ExportForm {
            path: Input::new(name),
            filter_text: self.pane().filter.to_text(),
            error: None,
        }));
        Vec::new()
    }

    fn start_export(&mut self, form: forms::ExportForm) -> Vec<Command> {
        let path = std::path::PathBuf::from(form.path.value().trim());
        let problem = if form.path.value().trim().is_empty() {
            Some("name the file".to_string())
        } else if path.exists() {
            Some(format!("{} exists; choose another name", path.display()))
        } else {
            None
        };
        let (Some(session), None) = (&self.session, problem.clone()) else {
            let mut form = form;
            form.error = problem;
            self.dialog = Some(Dialog::Export(form));
            return Vec::new();
        };
        let filter = self.pane().filter.clone();
        let session = Box::new(session.clone());
        let req = self.req();
        self.exporting = Some((req, 0, path.clone()));
        vec![Command::Export {
            req,
            session,
            filter,
            filter_text: form.filter_text,
            path,
        }]
    }

    fn on_sign_in_action(&mut self, action: Action) -> Vec<Command> {
        let Some(s) = &mut self.sign_in else {
            return Vec::new();
        };
        match action {
            Action::Quit => {
                self.quit = true;
                Vec::new()
            }
            Action::NextField | Action::PrevField => {
                s.on_password = !s.on_password;
                Vec::new()
            }
            Action::Submit if s.pending.is_some() => Vec::new(),
            Action::Submit => {
                let email = s.email.value().trim().to_string();
                if email.is_empty() {
                    s.on_password = false;
                    s.message = Some("type the admin's email".into());
                    return Vec::new();
                }
                if !s.on_password {
                    s.on_password = true;
                    return Vec::new();
                }
                let password = Secret::new(s.password.value());
                let req = self.next_req;
                self.next_req += 1;
                let s = self.sign_in.as_mut().expect("sign-in screen is up");
                s.pending = Some(req);
                s.message = Some(format!("signing in as {email}…"));
                vec![Command::SignIn {
                    req,
                    email,
                    password,
                    demo: false,
                    ctx: self.audit_ctx.clone(),
                    read_only: self.status.read_only,
                }]
            }
            _ => Vec::new(),
        }
    }

    fn on_signed_in(
        &mut self,
        req: ReqId,
        demo: bool,
        result: Result<Actor, SignInFail>,
    ) -> Vec<Command> {
        let Some(s) = &mut self.sign_in else {
            return Vec::new();
        };
        if s.pending != Some(req) {
            return Vec::new();
        }
        s.pending = None;
        match result {
            Ok(actor) => {
                self.signed_in(actor, demo);
                self.start()
            }
            Err(SignInFail::NeedPassword) => {
                s.message = Some(format!(
                    "{} does not take the demo password: type its password",
                    s.email.value()
                ));
                s.on_password = true;
                Vec::new()
            }
            Err(SignInFail::Refused) => {
                s.failures += 1;
                s.password.reset();
                if s.tries_left() == 0 {
                    self.quit = true;
                    self.sign_in_failed = true;
                } else {
                    s.message = Some(format!(
                        "{} ({} {} left)",
                        crate::actions::auth::SIGN_IN_REFUSED,
                        s.tries_left(),
                        if s.tries_left() == 1 { "try" } else { "tries" }
                    ));
                }
                Vec::new()
            }
            Err(SignInFail::Error(e)) => {
                s.message = Some(format!("cannot sign in: {e}"));
                Vec::new()
            }
        }
    }

    /// An action key: check the admin may, read the target, then open its form.
    fn act(&mut self, verb: Verb) -> Vec<Command> {
        let Some(session) = &self.session else {
            self.status.error = Some("not signed in: no changes can be made".into());
            return Vec::new();
        };
        if self.status.read_only {
            // Refused before any SQL.
            self.status.error = Some(ActionError::ReadOnly.to_string());
            return Vec::new();
        }
        let session = Box::new(session.clone());
        let pane = self.pane();
        let kind = pane.kind;
        let id = if matches!(verb, Verb::CreateTenant | Verb::AddNumber) {
            None
        } else {
            match &pane.detail {
                Some(view) => Some(view.id),
                None => match pane.selected_row() {
                    Some(row) => Some(row.id),
                    None => {
                        self.status.info = Some("no row selected".into());
                        return Vec::new();
                    }
                },
            }
        };
        let req = self.req();
        self.preparing = Some((req, verb, kind, id));
        vec![Command::Prepare {
            req,
            session,
            verb,
            kind,
            id,
        }]
    }

    fn on_prepared(&mut self, req: ReqId, result: Result<Option<Target>, String>) -> Vec<Command> {
        let Some((r, verb, _, _)) = self.preparing else {
            return Vec::new();
        };
        if r != req {
            return Vec::new();
        }
        self.preparing = None;
        let retry = self.retry_values.take();
        match result.and_then(|target| forms::open(verb, target)) {
            Ok(mut dialog) => {
                if let (Dialog::Form(f), Some(values)) = (&mut dialog, retry) {
                    for (field, v) in f.fields.iter_mut().zip(values) {
                        field.input = Input::new(v);
                    }
                    f.error = self.status.error.clone();
                }
                self.dialog = Some(dialog);
            }
            Err(e) => self.status.error = Some(e),
        }
        Vec::new()
    }

    fn on_dialog_action(&mut self, action: Action) -> Vec<Command> {
        let Some(dialog) = self.dialog.take() else {
            return Vec::new();
        };
        match (action, dialog) {
            (Action::Quit, _) => {
                self.quit = true;
                Vec::new()
            }
            (Action::Cancel, Dialog::Confirm(c)) if c.pending.is_some() => {
                // Sent already: the answer decides.
                self.dialog = Some(Dialog::Confirm(c));
                Vec::new()
            }
            (Action::Cancel, _) => {
                self.status.info = Some("cancelled: nothing was written".into());
                Vec::new()
            }
            (Action::NextField | Action::PrevField, Dialog::Form(mut f)) => {
                let n = f.fields.len().max(1);
                f.focus = if action == Action::NextField {
                    (f.focus + 1) % n
                } else {
                    (f.focus + n - 1) % n
                };
                self.dialog = Some(Dialog::Form(f));
                Vec::new()
            }
            (Action::Submit, Dialog::Form(f)) => {
                self.dialog = Some(f.submit());
                Vec::new()
            }
            (Action::Submit, Dialog::Export(e)) => self.start_export(e),
            (Action::Confirm, Dialog::Confirm(mut c)) => {
                let (Some(session), None) = (&self.session, c.pending) else {
                    self.dialog = Some(Dialog::Confirm(c));
                    return Vec::new();
                };
                let session = Box::new(session.clone());
                let req = self.req();
                c.pending = Some(req);
                let request = c.request.clone();
                self.dialog = Some(Dialog::Confirm(c));
                vec![Command::Apply {
                    req,
                    session,
                    request,
                }]
            }
            (_, d) => {
                self.dialog = Some(d);
                Vec::new()
            }
        }
    }

    fn on_applied(&mut self, req: ReqId, result: Result<Outcome, ActionError>) -> Vec<Command> {
        let Some(Dialog::Confirm(c)) = &self.dialog else {
            return Vec::new();
        };
        if c.pending != Some(req) {
            return Vec::new();
        }
        let Some(Dialog::Confirm(c)) = self.dialog.take() else {
            return Vec::new();
        };
        match result {
            Ok(outcome) => {
                self.status.error = None;
                self.status.info = Some(outcome.summary());
                self.refresh()
            }
            Err(e @ ActionError::Conflict { .. }) => {
                // Read the row again and reopen the form with what was typed.
                self.status.error = Some(e.to_string());
                self.retry_values = c.form.as_ref().map(|f| {
                    f.fields
                        .iter()
                        .map(|field| field.input.value().to_string())
                        .collect()
                });
                let Some(session) = &self.session else {
                    return Vec::new();
                };
                let session = Box::new(session.clone());
                let verb = c.request.verb();
                let kind = self.pane().kind;
                let (_, id) = c.request.resource();
                let req = self.req();
                self.preparing = Some((req, verb, kind, id));
                let mut cmds = self.refresh();
                cmds.push(Command::Prepare {
                    req,
                    session,
                    verb,
                    kind,
                    id,
                });
                cmds
            }
            Err(
                e @ (ActionError::Invalid(_)
                | ActionError::NotFound(_)
                | ActionError::Insufficient { .. }),
            ) if c.form.is_some() => {
                let mut f = c.form.expect("checked");
                f.error = Some(e.to_string());
                self.dialog = Some(Dialog::Form(f));
                Vec::new()
            }
            Err(e @ ActionError::Db(_)) => {
                // The change may or may not have been committed (a connection lost at COMMIT):
                // the dialog stays with the same request, so `y` retries it; a credit change's
                // idempotency key makes it apply at most once, an edit's old values make a
                // second apply find nothing to change.
                self.status.error = Some(format!("{e}; y retries, Esc gives up"));
                let mut c = c;
                c.pending = None;
                self.dialog = Some(Dialog::Confirm(c));
                Vec::new()
            }
            Err(e) => {
                self.status.error = Some(e.to_string());
                Vec::new()
            }
        }
    }

    /// After a change: reload what shows it (this pane and its detail now, the others when
    /// next visited).
    fn refresh(&mut self) -> Vec<Command> {
        let tab = self.tab;
        for (i, pane) in self.panes.iter_mut().enumerate() {
            pane.count = None;
            if i != tab {
                pane.loaded = false;
                pane.detail = None;
            }
        }
        let mut cmds = self.load(tab, Fetch::Replace);
        if let Some(view) = &self.panes[tab].detail {
            let (kind, id) = (view.kind, view.id);
            cmds.extend(self.open_detail(tab, kind, id));
        }
        cmds
    }

    fn go_tab(&mut self, tab: usize) -> Vec<Command> {
        self.tab = tab;
        let pane = &self.panes[tab];
        if !pane.loaded && pane.loading.is_none() {
            self.load(tab, Fetch::Replace)
        } else {
            Vec::new()
        }
    }

    /// Esc: close the filter or the detail; cancel what is loading; clear a kept filter.
    fn back(&mut self) -> Vec<Command> {
        let pane = self.pane_mut();
        if pane.editing_filter {
            pane.editing_filter = false;
            pane.filter_input.reset();
            pane.filter_typed_at = None;
            return self.apply_filter();
        }
        if let Some(view) = &pane.detail {
            if view.loading.is_some() {
                pane.detail = None;
                self.status.info = Some("cancelled".into());
                return vec![Command::CancelQueries];
            }
            pane.detail = None;
            return Vec::new();
        }
        if pane.loading.is_some() {
            pane.loading = None;
            pane.count_req = None;
            pane.pending_move = 0;
            self.status.info = Some("cancelled".into());
            return vec![Command::CancelQueries];
        }
        if !pane.filter_input.value().is_empty() {
            pane.filter_input.reset();
            return self.apply_filter();
        }
        Vec::new()
    }

    fn apply_typed_filter(&mut self, now: Instant) -> Vec<Command> {
        let pane = self.pane();
        match pane.filter_typed_at {
            Some(t) if now.duration_since(t) >= FILTER_DEBOUNCE => {
                self.pane_mut().filter_typed_at = None;
                self.apply_filter()
            }
            _ => Vec::new(),
        }
    }

    /// Parses the filter input and reloads the list if the filter changed.
    fn apply_filter(&mut self) -> Vec<Command> {
        let tab = self.tab;
        let pane = self.pane_mut();
        match Filter::parse(pane.kind, pane.filter_input.value()) {
            Err(e) => {
                pane.filter_error = Some(e);
                Vec::new()
            }
            Ok(filter) => {
                pane.filter_error = None;
                if filter == pane.filter && pane.loaded {
                    return Vec::new();
                }
                pane.filter = filter;
                pane.count = None;
                pane.selected = 0;
                pane.offset = 0;
                self.load(tab, Fetch::Replace)
            }
        }
    }

    /// Sets the filter text of pane `tab` and loads it (used by jumps between panes).
    fn set_filter(&mut self, tab: usize, text: &str) -> Vec<Command> {
        let pane = &mut self.panes[tab];
        pane.filter_input = Input::new(text.to_string());
        pane.editing_filter = false;
        pane.detail = None;
        let previous = self.tab;
        self.tab = tab;
        let cmds = self.apply_filter();
        if cmds.is_empty() && previous != tab && !self.panes[tab].loaded {
            return self.load(tab, Fetch::Replace);
        }
        cmds
    }

    fn open(&mut self) -> Vec<Command> {
        let tab = self.tab;
        let pane = self.pane();
        if let Some(view) = &pane.detail {
            // In an audit entry: go to the record it is about.
            if let Some((kind, id)) = view.detail.as_ref().and_then(|d| d.jump) {
                let target = ListKind::ALL.iter().position(|k| *k == kind).unwrap_or(0);
                let mut cmds = self.set_filter(target, &id.to_string());
                cmds.extend(self.open_detail(target, kind, id));
                return cmds;
            }
            return Vec::new();
        }
        match pane.selected_row() {
            Some(row) => {
                let (kind, id) = (pane.kind, row.id);
                self.open_detail(tab, kind, id)
            }
            None => Vec::new(),
        }
    }

    fn open_detail(&mut self, tab: usize, kind: ListKind, id: Uuid) -> Vec<Command> {
        let req = self.req();
        self.panes[tab].detail = Some(DetailView {
            kind,
            id,
            detail: None,
            loading: Some(req),
            error: None,
            scroll: 0,
        });
        vec![Command::LoadDetail { req, kind, id }]
    }

    /// `h`: the audit log filtered to the selected or open record.
    fn history(&mut self) -> Vec<Command> {
        let pane = self.pane();
        if pane.kind == ListKind::AuditLog && pane.detail.is_none() {
            return Vec::new();
        }
        let id = match &pane.detail {
            Some(view) if pane.kind == ListKind::AuditLog => {
                view.detail.as_ref().and_then(|d| d.jump).map(|(_, id)| id)
            }
            Some(view) => Some(view.id),
            None => pane.selected_row().map(|r| r.id),
        };
        let Some(id) = id else {
            return Vec::new();
        };
        let audit = ListKind::ALL
            .iter()
            .position(|k| *k == ListKind::AuditLog)
            .unwrap_or(5);
        self.set_filter(audit, &format!("id:{id}"))
    }

    fn step(&mut self, delta: isize) -> Vec<Command> {
        if let Some(view) = &mut self.pane_mut().detail {
            view.scroll = if delta < 0 {
                view.scroll.saturating_sub(delta.unsigned_abs() as u16)
            } else {
                view.scroll.saturating_add(delta as u16)
            };
            return Vec::new();
        }
        self.move_by(delta)
    }

    /// Moves the selection, fetching the neighbouring page when the window runs out.
    fn move_by(&mut self, delta: isize) -> Vec<Command> {
        let tab = self.tab;
        let pane = self.pane_mut();
        if pane.rows.is_empty() {
            return Vec::new();
        }
        let last = pane.rows.len() - 1;
        let target = pane.selected as isize + delta;
        let mut cmds = Vec::new();
        if target > last as isize {
            pane.selected = last;
            if !pane.at_end {
                pane.pending_move = target - last as isize;
            }
        } else if target < 0 {
            pane.selected = 0;
            if !pane.at_start {
                pane.pending_move = target;
            }
        } else {
            pane.selected = target as usize;
        }
        let near_end = pane.selected + PREFETCH_MARGIN >= last;
        let near_start = pane.selected < PREFETCH_MARGIN;
        if pane.loading.is_none() {
            if near_end && !pane.at_end && (delta > 0 || pane.pending_move > 0) {
                cmds = self.load(tab, Fetch::Append);
            } else if near_start && !pane.at_start && (delta < 0 || pane.pending_move < 0) {
                cmds = self.load(tab, Fetch::Prepend);
            }
        }
        self.keep_visible();
        cmds
    }

    /// Keeps the selected row on screen.
    fn keep_visible(&mut self) {
        let visible = self.list_rows();
        for pane in &mut self.panes {
            if pane.selected < pane.offset {
                pane.offset = pane.selected;
            } else if pane.selected >= pane.offset + visible {
                pane.offset = pane.selected + 1 - visible;
            }
        }
    }
}
