//! The way back: a jump (`h` to a record's audit history, Enter from an audit entry to the record
//! it is about) remembers where it left from, and Esc in the pane it reached goes back there,
//! with the selection, the detail and the filter as they were. Switching panes by hand forgets
//! the way back (Esc then does what it does in any pane).

use tui_input::Input;
use uuid::Uuid;

use super::app::App;
use super::messages::Job;
use crate::db::lists::ListKind;

/// What Esc does in a list or a detail, in the order it is tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Esc {
    /// The filter being typed is dropped.
    DropTyped,
    /// Back along the last jump.
    Back,
    /// The detail still loading is let go (its query cancelled).
    CancelDetail,
    /// The open detail closes.
    Close,
    /// The page query under way is cancelled.
    CancelPage,
    /// The kept filter is cleared.
    ClearFilter,
}

impl Esc {
    /// The footer's word for it.
    pub fn word(self) -> &'static str {
        match self {
            Esc::DropTyped => "clear",
            Esc::Back => "back",
            Esc::CancelDetail | Esc::CancelPage => "cancel",
            Esc::Close => "close",
            Esc::ClearFilter => "clear filter",
        }
    }
}

/// Where a jump left from, and what it changed in the pane it went to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Return {
    pub from_tab: usize,
    pub selected: usize,
    pub offset: usize,
    /// The record open in the detail view, if one was.
    pub detail: Option<(ListKind, Uuid)>,
    /// The pane the jump went to, and the filter it held before.
    pub to_tab: usize,
    pub to_filter: String,
    /// The record the jump opened there (Enter from an audit entry); a detail opened after the
    /// jump is closed by Esc first, as anywhere.
    pub opened: Option<(ListKind, Uuid)>,
}

impl App {
    /// Remembers the current place before a jump to pane `to`, which opens record `opened`
    /// there, if any.
    pub(super) fn remember_return(&mut self, to: usize, opened: Option<(ListKind, Uuid)>) {
        let pane = self.pane();
        let ret = Return {
            from_tab: self.tab,
            selected: pane.selected,
            offset: pane.offset,
            detail: pane.detail.as_ref().map(|d| (d.kind, d.id)),
            to_tab: to,
            to_filter: self.panes[to].filter_input.value().to_string(),
            opened,
        };
        self.returns.push(ret);
    }

    /// Whether Esc here goes back along a jump: in the pane it reached, with no other record
    /// open there than the one it opened.
    pub fn can_return(&self) -> bool {
        let open = self.pane().detail.as_ref().map(|d| (d.kind, d.id));
        self.returns
            .last()
            .is_some_and(|r| r.to_tab == self.tab && (open.is_none() || open == r.opened))
    }

    /// Goes back along the last jump: the pane it reached gets its filter back, and the place
    /// it left from is shown as it was.
    pub(super) fn go_back(&mut self) -> Vec<Job> {
        let Some(ret) = self.returns.pop() else {
            return Vec::new();
        };
        let mut jobs = Vec::new();
        let to = &mut self.panes[ret.to_tab];
        to.detail = None;
        to.editing_filter = false;
        to.filter_input = Input::new(ret.to_filter);
        jobs.extend(self.apply_filter());
        self.tab = ret.from_tab;
        let from = &mut self.panes[ret.from_tab];
        from.selected = ret.selected.min(from.rows.len().saturating_sub(1));
        from.offset = ret.offset.min(from.selected);
        if let Some((kind, id)) = ret.detail {
            jobs.extend(self.open_detail(ret.from_tab, kind, id));
        }
        jobs
    }

    /// Switching panes by hand: the way back no longer leads anywhere.
    pub(super) fn forget_returns(&mut self) {
        self.returns.clear();
    }

    /// What Esc does here (none: nothing, and the footer does not offer it). [`App::back`]
    /// does what this says.
    pub fn esc_does(&self) -> Option<Esc> {
        let pane = self.pane();
        let detail_loading = pane.detail.as_ref().map(|d| d.loading.is_some());
        if pane.editing_filter {
            Some(Esc::DropTyped)
        } else if self.can_return() && detail_loading != Some(true) {
            Some(Esc::Back)
        } else if detail_loading == Some(true) {
            Some(Esc::CancelDetail)
        } else if pane.detail.is_some() {
            Some(Esc::Close)
        } else if pane.loading.is_some() {
            Some(Esc::CancelPage)
        } else if !pane.filter_input.value().is_empty() {
            Some(Esc::ClearFilter)
        } else {
            None
        }
    }
}
