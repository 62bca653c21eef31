//! The way back: a jump (`h` to a record's audit history, Enter from an audit entry to the record
//! it is about) remembers where it left from, and Esc in the pane it reached goes back there,
//! with the selection, the detail and the filter as they were. Switching panes by hand forgets
//! the way back (Esc then does what it does in any pane).

use tui_input::Input;
use uuid::Uuid;

use super::app::App;
use super::messages::Job;
use crate::db::lists::ListKind;

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
}

impl App {
    /// Remembers the current place before a jump to pane `to`.
    pub(super) fn remember_return(&mut self, to: usize) {
        let pane = self.pane();
        let ret = Return {
            from_tab: self.tab,
            selected: pane.selected,
            offset: pane.offset,
            detail: pane.detail.as_ref().map(|d| (d.kind, d.id)),
            to_tab: to,
            to_filter: self.panes[to].filter_input.value().to_string(),
        };
        self.returns.push(ret);
    }

    /// Whether Esc here goes back along a jump.
    pub fn can_return(&self) -> bool {
        self.returns.last().is_some_and(|r| r.to_tab == self.tab)
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

    /// Whether Esc does anything here (the footer offers it only then).
    pub fn esc_does_something(&self) -> bool {
        let pane = self.pane();
        self.can_return()
            || pane.detail.is_some()
            || pane.loading.is_some()
            || pane.editing_filter
            || !pane.filter_input.value().is_empty()
    }
}
