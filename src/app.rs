//! The console's state and its one update function: `update(msg) -> Vec<Command>`. It never
//! touches the database or the terminal; the worker runs the commands and the UI draws the state.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use ratatui::crossterm::event::{KeyEvent, KeyEventKind};
use tui_input::Input;
use tui_input::backend::crossterm::EventHandler;
use uuid::Uuid;

use crate::db::details::Detail;
use crate::db::lists::{Filter, ListKind, ListRow, Page, RowCount};
use crate::keymap::{self, Action, Context};

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
    /// Cancel this console's running queries on the server.
    CancelQueries,
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
    pub theme: crate::ui::Theme,
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
            theme: crate::ui::Theme { color: true },
            next_req: 1,
        }
    }

    /// The commands that load the first pane.
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
        if self.help {
            Context::Help
        } else if pane.editing_filter {
            Context::Filter
        } else if pane.detail.is_some() {
            Context::Detail
        } else {
            Context::List
        }
    }

    pub fn is_loading(&self) -> bool {
        self.panes.iter().any(Pane::is_loading)
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
        let mut cmds = Vec::new();
        if pending != 0 && tab == self.tab {
            cmds = self.move_by(pending);
        }
        self.keep_visible();
        cmds
    }

    fn on_key(&mut self, key: KeyEvent) -> Vec<Command> {
        let context = self.context();
        let action = keymap::action_for(context, &key);
        if context == Context::Filter && action.is_none() {
            let pane = self.pane_mut();
            pane.filter_input
                .handle_event(&ratatui::crossterm::event::Event::Key(key));
            pane.filter_typed_at = Some(Instant::now());
            return Vec::new();
        }
        let Some(action) = action else {
            return Vec::new();
        };
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
        }
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
