//! A pane and its paging window: the rows held around the screen (at most [`WINDOW_ROWS`]),
//! where the selection is, which page is being fetched, and the open detail view. Pure state;
//! `App` asks for pages, the pane says where they go.

use std::time::{Duration, Instant};

use tui_input::Input;
use uuid::Uuid;

use super::messages::ReqId;
use crate::db::details::Detail;
use crate::db::lists::{Filter, ListKind, ListRow, Page, RowCount};

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

/// Where an outstanding page's rows go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fetch {
    Replace,
    Append,
    Prepend,
    /// Replace, then select the last row.
    Last,
    /// Replace with the rows from this one on (it moved in the order, or the page is not the
    /// first), select it, and read the rows before it next (see [`Pane::follow_line`]).
    At(Uuid),
}

/// The page request a pane waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageLoad {
    pub req: ReqId,
    pub how: Fetch,
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
    pub(super) filter_typed_at: Option<Instant>,
    pub(super) loading: Option<PageLoad>,
    pub(super) count_req: Option<ReqId>,
    /// Rows still to move once the next page is in.
    pub(super) pending_move: isize,
    pub loaded: bool,
    pub error: Option<String>,
    /// When to fetch again after an error (a lost connection comes back by itself).
    pub(super) retry_at: Option<Instant>,
    /// Which load the rows' late figures belong to (see `ReadJob::Stats`).
    pub(super) stats_gen: ReqId,
    pub detail: Option<DetailView>,
    /// Audit entries committed since the rows were read, while the selection was away from the
    /// top (the status line says how many; `g` or `r` shows them).
    pub fresh: usize,
    /// An entry came while a page was loading: read the top again when it is in.
    pub(super) follow_again: bool,
    /// The screen line the selected row is put back on once the rows before it are in (after a
    /// change, the changed row stays where the admin saw it).
    pub(super) follow_line: Option<usize>,
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
            fresh: 0,
            follow_again: false,
            follow_line: None,
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

    /// The page to ask for so that its rows can go where `how` says.
    pub(super) fn page_for(&self, how: Fetch) -> Page {
        match how {
            Fetch::Replace => Page::First,
            Fetch::Last => Page::Last,
            Fetch::At(id) => Page::At(id),
            Fetch::Append => match self.rows.last() {
                Some(r) => Page::After(r.key.clone()),
                None => Page::First,
            },
            Fetch::Prepend => match self.rows.first() {
                Some(r) => Page::Before(r.key.clone()),
                None => Page::First,
            },
        }
    }

    /// Puts a fetched page into the window where `how` says, dropping rows far from the screen.
    pub(super) fn receive(&mut self, how: Fetch, rows: Vec<ListRow>) {
        let full = rows.len() as i64 == PAGE_ROWS;
        match how {
            Fetch::Replace => {
                self.follow_line = None;
                self.rows = rows;
                self.at_start = true;
                self.at_end = !full;
                self.skipped = Some(0);
                self.selected = self.selected.min(self.rows.len().saturating_sub(1));
                self.offset = self.offset.min(self.selected);
            }
            Fetch::At(id) => {
                self.rows = rows;
                self.at_start = false;
                self.at_end = !full;
                self.skipped = None;
                self.selected = self.rows.iter().position(|r| r.id == id).unwrap_or(0);
                self.offset = self.selected;
            }
            Fetch::Last => {
                self.follow_line = None;
                self.rows = rows;
                self.at_end = true;
                self.at_start = !full;
                self.skipped = if self.at_start {
                    Some(0)
                } else {
                    match self.count {
                        Some(RowCount::Exact(n)) => {
                            Some((n as usize).saturating_sub(self.rows.len()))
                        }
                        _ => None,
                    }
                };
                self.selected = self.rows.len().saturating_sub(1);
                self.offset = self.selected;
            }
            Fetch::Append => {
                self.at_end = !full;
                self.rows.extend(rows);
                let excess = self.rows.len().saturating_sub(WINDOW_ROWS);
                if excess > 0 {
                    self.rows.drain(..excess);
                    self.selected = self.selected.saturating_sub(excess);
                    self.offset = self.offset.saturating_sub(excess);
                    self.at_start = false;
                    self.skipped = self.skipped.map(|s| s + excess);
                }
            }
            Fetch::Prepend => {
                let added = rows.len();
                self.at_start = !full;
                let mut rows = rows;
                rows.append(&mut self.rows);
                self.rows = rows;
                self.selected += added;
                self.offset = match self.follow_line.take() {
                    Some(line) => self.selected.saturating_sub(line),
                    None => self.offset + added,
                };
                self.skipped = if self.at_start {
                    Some(0)
                } else {
                    self.skipped.and_then(|s| s.checked_sub(added))
                };
                if self.rows.len() > WINDOW_ROWS {
                    self.rows.truncate(WINDOW_ROWS);
                    self.at_end = false;
                }
            }
        }
    }

    /// Moves the selection by `delta` within the window; says which page to fetch when the
    /// window runs out (the rest of the move waits for it).
    pub(super) fn move_selection(&mut self, delta: isize) -> Option<Fetch> {
        if self.rows.is_empty() {
            return None;
        }
        let last = self.rows.len() - 1;
        let target = self.selected as isize + delta;
        if target > last as isize {
            self.selected = last;
            if !self.at_end {
                self.pending_move = target - last as isize;
            }
        } else if target < 0 {
            self.selected = 0;
            if !self.at_start {
                self.pending_move = target;
            }
        } else {
            self.selected = target as usize;
        }
        let near_end = self.selected + PREFETCH_MARGIN >= last;
        let near_start = self.selected < PREFETCH_MARGIN;
        if self.loading.is_some() {
            None
        } else if near_end && !self.at_end && (delta > 0 || self.pending_move > 0) {
            Some(Fetch::Append)
        } else if near_start && !self.at_start && (delta < 0 || self.pending_move < 0) {
            Some(Fetch::Prepend)
        } else {
            None
        }
    }

    /// Keeps the selected row among the `visible` rows on screen, and the screen full: no blank
    /// lines below the last row while rows above could fill them (after `G`, a reload, a resize
    /// or a result that shrank).
    pub(super) fn keep_visible(&mut self, visible: usize) {
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + visible {
            self.offset = self.selected + 1 - visible;
        }
        self.offset = self.offset.min(self.rows.len().saturating_sub(visible));
    }
}
