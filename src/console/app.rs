//! The console's state and its one update function: `update(msg) -> Vec<Job>`. It never
//! touches the database or the terminal; the worker runs the jobs and the UI draws the state.
//! Navigation and the panes are here; sign-in, admin actions and exports are in `flows.rs`.

use std::time::Instant;

use chrono::{DateTime, Utc};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use tui_input::Input;
use tui_input::backend::crossterm::EventHandler;
use uuid::Uuid;

use super::forms::Dialog;
use super::forms::SignIn;
use super::keymap::{self, Context, Intent};
use super::live::Live;
use super::messages::{Job, Msg, Preparing, ReadJob, ReqId};
use super::pane::{
    DetailView, FILTER_DEBOUNCE, Fetch, PAGE_ROWS, PageLoad, Pane, RETRY_AFTER, STATS_CHUNK,
};
use crate::actions::{AuditContext, Session};
use crate::db::lists::{self, Filter, KnownValues, ListKind, ListRow, RowCount};

#[derive(Debug, Clone, Default)]
pub struct Status {
    /// Where the console is connected (never a password).
    pub database: String,
    /// Who is signed in, as the status line says it (email, role, how).
    pub signed_in_as: Option<String>,
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
    /// Whether colour may be used (`NO_COLOR` unset); the UI decides what to do with it.
    pub color: bool,
    /// Who the console acts as, once signed in.
    pub session: Option<Session>,
    /// The sign-in screen, while it is up.
    pub sign_in: Option<SignIn>,
    /// A form or confirm dialog over the panes.
    pub dialog: Option<Dialog>,
    pub audit_ctx: AuditContext,
    /// The action being prepared (its target read, its rights checked).
    pub(super) preparing: Option<Preparing>,
    /// Keys typed while the action's form was being prepared: they go into the form when it
    /// opens, never to the list under it.
    pub(super) typed_ahead: Vec<KeyEvent>,
    /// Field values to put back into a form reopened after a conflict.
    pub(super) retry_values: Option<Vec<String>>,
    /// The export in progress.
    pub exporting: Option<Exporting>,
    /// Where each jump left from, the latest last (`nav`).
    pub returns: Vec<super::nav::Return>,
    /// The session's outcomes and refusals, whole (`log`), and whether they are open (`M`).
    pub log: Vec<super::log::Note>,
    pub log_open: bool,
    pub log_scroll: usize,
    /// How far the help is scrolled.
    pub help_scroll: usize,
    /// How the Audit log pane hears of new entries (set by the front end once it follows them).
    pub live: Live,
    /// The standby reads go to, as last measured (`--replica-url`); None without one.
    pub standby: Option<crate::db::replica::View>,
    /// Where the overlays' scrolling stops (set by the front end after drawing).
    pub scroll_limits: super::log::ScrollLimits,
    /// The values filter words with a fixed set may take (the connected database's, once read).
    pub known: KnownValues,
    next_req: ReqId,
}

/// An export under way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exporting {
    pub req: ReqId,
    /// Rows written so far.
    pub rows: u64,
    pub path: std::path::PathBuf,
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
            color: true,
            session: None,
            sign_in: None,
            dialog: None,
            audit_ctx: AuditContext {
                ip: None,
                user_agent: crate::actions::user_agent("console", "local"),
            },
            preparing: None,
            typed_ahead: Vec::new(),
            retry_values: None,
            returns: Vec::new(),
            log: Vec::new(),
            log_open: false,
            log_scroll: 0,
            help_scroll: 0,
            scroll_limits: Default::default(),
            live: Live::Off,
            standby: None,
            exporting: None,
            known: KnownValues::default(),
            next_req: 1,
        }
    }

    /// The jobs that load the current pane.
    pub fn start(&mut self) -> Vec<Job> {
        self.load(self.tab, Fetch::Replace)
    }

    pub fn pane(&self) -> &Pane {
        &self.panes[self.tab]
    }

    pub(super) fn pane_mut(&mut self) -> &mut Pane {
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
        } else if self.log_open {
            Context::Messages
        } else if pane.editing_filter {
            Context::Filter
        } else if pane.detail.is_some() {
            Context::Detail
        } else {
            Context::List
        }
    }

    /// Whether the form's focused field has choices to move through (a picker).
    pub fn focused_field_has_picker(&self) -> bool {
        matches!(&self.dialog, Some(Dialog::Form(f)) if f.focused().is_some_and(|x| x.has_picker()))
    }

    /// Whether typed filter text waits for a pause before it applies (a tick may apply it).
    pub fn filter_pending(&self) -> bool {
        self.panes.iter().any(|p| p.filter_typed_at.is_some())
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
            || matches!(&self.dialog, Some(Dialog::Confirm(c)) if c.pending.is_some() || c.checking.is_some())
    }

    /// Rows of the list visible at the current size: the screen less the tab bar, the status
    /// line, the footer, the table header and the filter line.
    pub fn list_rows(&self) -> usize {
        usize::from(self.height.saturating_sub(5)).max(1)
    }

    pub(super) fn req(&mut self) -> ReqId {
        let r = self.next_req;
        self.next_req += 1;
        r
    }

    pub(super) fn load(&mut self, tab: usize, how: Fetch) -> Vec<Job> {
        let req = self.req();
        let pane = &mut self.panes[tab];
        let page = pane.page_for(how);
        pane.loading = Some(PageLoad { req, how });
        if how == Fetch::Replace {
            pane.fresh = 0;
        }
        let mut jobs = vec![Job::Read(ReadJob::Page {
            req,
            kind: pane.kind,
            filter: pane.filter.clone(),
            page,
            limit: PAGE_ROWS,
        })];
        // A new list, from the top or (a reload at the end) from the end: count it again.
        if matches!(how, Fetch::Replace | Fetch::Last | Fetch::At(_)) && pane.count.is_none() {
            let req = self.req();
            let pane = &mut self.panes[tab];
            pane.count_req = Some(req);
            jobs.push(Job::Read(ReadJob::Count {
                req,
                kind: pane.kind,
                filter: pane.filter.clone(),
            }));
        }
        jobs
    }

    pub fn update(&mut self, msg: Msg) -> Vec<Job> {
        let before = (self.status.info.clone(), self.status.error.clone());
        let jobs = self.dispatch(msg);
        self.keep_status(before);
        jobs
    }

    fn dispatch(&mut self, msg: Msg) -> Vec<Job> {
        match msg {
            Msg::Key(key) if key.kind != KeyEventKind::Release => {
                if self.preparing.is_some() && self.dialog.is_none() && self.sign_in.is_none() {
                    return self.type_ahead(key);
                }
                self.on_key(key)
            }
            Msg::Key(_) => Vec::new(),
            Msg::Paste(text) => self.paste(&text),
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
                let mut jobs = self.apply_typed_filter(now);
                let tab = self.tab;
                let pane = &mut self.panes[tab];
                if jobs.is_empty()
                    && pane.loading.is_none()
                    && pane.retry_at.is_some_and(|t| now >= t)
                {
                    pane.retry_at = None;
                    jobs = self.load(tab, Fetch::Replace);
                }
                jobs
            }
            Msg::Page { req, result } => self.on_page(req, result),
            Msg::Count { req, result } => {
                for pane in &mut self.panes {
                    if pane.count_req == Some(req) {
                        pane.count_req = None;
                        match result {
                            Ok(c) => {
                                pane.count = Some(c);
                                // The last page came before its count: now the position of
                                // its rows is known.
                                if let (RowCount::Exact(n), None, true) =
                                    (c, pane.skipped, pane.at_end)
                                {
                                    pane.skipped =
                                        Some((n as usize).saturating_sub(pane.rows.len()));
                                }
                            }
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
                            for figures in &stats {
                                if let Some(row) = pane.rows.iter_mut().find(|r| r.id == figures.id)
                                    && let Some(slot) = row.cells.get_mut(range.clone())
                                {
                                    for (dst, src) in slot.iter_mut().zip(&figures.cells) {
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
            Msg::Checked { req, result } => self.on_checked(req, result),
            Msg::Found { req, result } => self.on_found(req, result),
            Msg::AuditNew => self.on_audit_new(),
            Msg::Standby(view) => {
                self.standby = Some(view);
                Vec::new()
            }
            Msg::Known(known) => {
                self.known = known;
                Vec::new()
            }
            Msg::Applied { req, result } => self.on_applied(req, result),
            Msg::ExportProgress { req, rows } => {
                if let Some(e) = &mut self.exporting
                    && e.req == req
                {
                    e.rows = rows;
                }
                Vec::new()
            }
            Msg::Exported { req, result } => {
                if self.exporting.as_ref().is_some_and(|e| e.req == req)
                    && let Some(done) = self.exporting.take()
                {
                    match result {
                        Ok(rows) => {
                            self.status.error = None;
                            self.status.info = Some(format!(
                                "exported {} entries to {}",
                                crate::numbers::thousands(rows),
                                done.path.display()
                            ));
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

    fn on_page(&mut self, req: ReqId, result: Result<Vec<ListRow>, String>) -> Vec<Job> {
        let Some(tab) = self
            .panes
            .iter()
            .position(|p| p.loading.is_some_and(|l| l.req == req))
        else {
            return Vec::new(); // stale: a newer request replaced it
        };
        let pane = &mut self.panes[tab];
        let how = pane.loading.take().map_or(Fetch::Replace, |l| l.how);
        let rows = match result {
            Ok(rows) => rows,
            Err(e) => {
                pane.error = Some(e.clone());
                pane.pending_move = 0;
                pane.retry_at = Some(Instant::now() + RETRY_AFTER);
                // The console's own advice; the database's words stay as they are.
                self.status.error = Some(format!(
                    "{e} (retrying every {} s; r now)",
                    RETRY_AFTER.as_secs()
                ));
                return Vec::new();
            }
        };
        pane.error = None;
        pane.retry_at = None;
        self.status.error = None;
        pane.loaded = true;
        // Rows whose figures come after them: ask, a few rows a query, the first rows first.
        let kind = pane.kind;
        if matches!(how, Fetch::Replace | Fetch::Last | Fetch::At(_)) {
            // New rows altogether: figures asked for the old ones no longer apply.
            pane.stats_gen = req;
        }
        let generation = pane.stats_gen;
        let mut jobs: Vec<Job> = Vec::new();
        if lists::stats_cells(kind).is_some() {
            let mut ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
            if matches!(how, Fetch::Last | Fetch::Prepend) {
                ids.reverse(); // the rows nearest the screen are at the end
            }
            for chunk in ids.chunks(STATS_CHUNK) {
                jobs.push(Job::Read(ReadJob::Stats {
                    kind,
                    generation,
                    ids: chunk.to_vec(),
                }));
            }
        }
        if let Fetch::At(_) = how {
            // The rows before the followed one come next (from the top when it is gone).
            let empty = rows.is_empty();
            pane.receive(how, rows);
            let then = if empty {
                Fetch::Replace
            } else {
                Fetch::Prepend
            };
            jobs.extend(self.load(tab, then));
            self.keep_visible();
            return jobs;
        }
        pane.receive(how, rows);
        let pending = std::mem::take(&mut self.panes[tab].pending_move);
        if pending != 0 && tab == self.tab {
            jobs.extend(self.move_by(pending));
        }
        if std::mem::take(&mut self.panes[tab].follow_again) {
            jobs.extend(self.on_audit_new());
        }
        self.keep_visible();
        jobs
    }

    pub(super) fn on_key(&mut self, key: KeyEvent) -> Vec<Job> {
        let context = self.context();
        let intent = keymap::intent_for(context, self.pane().kind, &key);
        let event = ratatui::crossterm::event::Event::Key(key);
        match (context, intent) {
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
                            field.key(&event);
                            f.error = None;
                            // This field's error goes as it is edited; the others' stay.
                            let focus = f.focus;
                            f.field_errors.retain(|(i, _)| *i != focus);
                        }
                        return self.picker_jobs();
                    }
                    Some(Dialog::Export(e)) => {
                        e.path.key(&event);
                        e.error = None;
                    }
                    _ => {}
                }
                return Vec::new();
            }
            _ => {}
        }
        let Some(intent) = intent else {
            // A letter that means nothing here is said, not silently dropped.
            if matches!(context, Context::List | Context::Detail)
                && let KeyCode::Char(c) = key.code
                && !key
                    .modifiers
                    .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
            {
                self.status.info = Some(format!("`{c}` does nothing here; ? lists the keys"));
            }
            return Vec::new();
        };
        match context {
            Context::SignIn => return self.on_sign_in_intent(intent),
            Context::Form | Context::Confirm => return self.on_dialog_intent(intent),
            Context::Messages => return self.on_log_intent(intent),
            Context::Help => return self.on_help_intent(intent),
            _ => {}
        }
        self.status.info = None;
        match intent {
            Intent::Quit => {
                self.quit = true;
                Vec::new()
            }
            Intent::Help => {
                self.help = !self.help;
                Vec::new()
            }
            Intent::Back if self.help => {
                self.help = false;
                Vec::new()
            }
            Intent::GoTab(i) if i < self.panes.len() => {
                self.forget_returns();
                self.go_tab(i)
            }
            Intent::GoTab(_) => Vec::new(),
            Intent::NextTab => {
                self.forget_returns();
                self.go_tab((self.tab + 1) % self.panes.len())
            }
            Intent::PrevTab => {
                self.forget_returns();
                self.go_tab((self.tab + self.panes.len() - 1) % self.panes.len())
            }
            Intent::Down => self.step(1),
            Intent::Up => self.step(-1),
            Intent::PageDown => self.step(self.list_rows() as isize),
            Intent::PageUp => self.step(-(self.list_rows() as isize)),
            Intent::First => {
                if let Some(view) = &mut self.pane_mut().detail {
                    view.scroll = 0;
                    return Vec::new();
                }
                let pane = self.pane_mut();
                pane.selected = 0;
                pane.offset = 0;
                // New audit entries came while away from the top: read the top again.
                if pane.at_start && pane.fresh == 0 {
                    Vec::new()
                } else {
                    pane.count = None;
                    self.load(self.tab, Fetch::Replace)
                }
            }
            Intent::Last => {
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
            Intent::Filter => {
                let pane = self.pane_mut();
                pane.editing_filter = true;
                Vec::new()
            }
            Intent::Apply => {
                let pane = self.pane_mut();
                pane.editing_filter = false;
                pane.filter_typed_at = None;
                self.apply_filter()
            }
            Intent::Back => self.back(),
            Intent::Open => self.enter(),
            Intent::Reload => {
                let tab = self.tab;
                let pane = self.pane_mut();
                pane.count = None;
                if let Some(view) = &pane.detail {
                    let (kind, id) = (view.kind, view.id);
                    return self.open_detail(tab, kind, id);
                }
                // At the end of a long list (after `G`), the reload stays at the end.
                let how = if pane.at_end && !pane.at_start {
                    Fetch::Last
                } else {
                    Fetch::Replace
                };
                self.load(tab, how)
            }
            Intent::History => self.history(),
            Intent::Messages => {
                self.log_open = true;
                self.log_scroll = 0;
                Vec::new()
            }
            Intent::Act(verb) => self.act(verb),
            Intent::Export => self.open_export(),
            Intent::Submit
            | Intent::NextField
            | Intent::PrevField
            | Intent::ClearField
            | Intent::Confirm
            | Intent::Cancel => Vec::new(),
        }
    }

    fn go_tab(&mut self, tab: usize) -> Vec<Job> {
        self.tab = tab;
        let pane = &self.panes[tab];
        if !pane.loaded && pane.loading.is_none() {
            self.load(tab, Fetch::Replace)
        } else {
            Vec::new()
        }
    }

    /// Esc: close the filter or the detail; cancel what is loading; clear a kept filter.
    fn back(&mut self) -> Vec<Job> {
        use super::nav::Esc;
        let Some(esc) = self.esc_does() else {
            return Vec::new();
        };
        let pane = self.pane_mut();
        let kind = pane.kind;
        match esc {
            Esc::DropTyped => {
                pane.editing_filter = false;
                pane.filter_input.reset();
                pane.filter_typed_at = None;
                self.apply_filter()
            }
            Esc::Back => self.go_back(),
            Esc::CancelDetail => {
                pane.detail = None;
                self.status.info = Some("cancelled".into());
                vec![Job::Cancel { pane: kind }]
            }
            Esc::Close => {
                pane.detail = None;
                Vec::new()
            }
            Esc::CancelPage => {
                pane.loading = None;
                pane.count_req = None;
                pane.pending_move = 0;
                self.status.info = Some("cancelled".into());
                vec![Job::Cancel { pane: kind }]
            }
            Esc::ClearFilter => {
                pane.filter_input.reset();
                self.apply_filter()
            }
        }
    }

    fn apply_typed_filter(&mut self, now: Instant) -> Vec<Job> {
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
    pub(super) fn apply_filter(&mut self) -> Vec<Job> {
        let tab = self.tab;
        let stale = self.req();
        let pane = &self.panes[tab];
        let parsed = Filter::parse_known(pane.kind, pane.filter_input.value(), &self.known);
        let pane = self.pane_mut();
        match parsed {
            Err(e) => {
                // No row, count or figure of the previous filter may pass for an answer to this
                // one: the list empties (answers still on their way are dropped), and fixing the
                // filter loads it again.
                pane.filter_error = Some(e);
                pane.rows.clear();
                pane.count = None;
                pane.loading = None;
                pane.count_req = None;
                pane.stats_gen = stale;
                pane.pending_move = 0;
                pane.selected = 0;
                pane.offset = 0;
                pane.loaded = false;
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
    fn set_filter(&mut self, tab: usize, text: &str) -> Vec<Job> {
        let pane = &mut self.panes[tab];
        pane.filter_input = Input::new(text.to_string());
        pane.editing_filter = false;
        pane.detail = None;
        let previous = self.tab;
        self.tab = tab;
        let jobs = self.apply_filter();
        if jobs.is_empty() && previous != tab && !self.panes[tab].loaded {
            return self.load(tab, Fetch::Replace);
        }
        jobs
    }

    /// Enter: open the selected row, or from an audit entry go to the record it is about.
    fn enter(&mut self) -> Vec<Job> {
        let tab = self.tab;
        let pane = self.pane();
        if let Some(view) = &pane.detail {
            // In an audit entry: go to the record it is about.
            if let Some((kind, id)) = view.detail.as_ref().and_then(|d| d.jump) {
                let target = kind.index();
                self.remember_return(target, Some((kind, id)));
                let mut jobs = self.set_filter(target, &id.to_string());
                jobs.extend(self.open_detail(target, kind, id));
                return jobs;
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

    pub(super) fn open_detail(&mut self, tab: usize, kind: ListKind, id: Uuid) -> Vec<Job> {
        let req = self.req();
        self.panes[tab].detail = Some(DetailView {
            kind,
            id,
            detail: None,
            loading: Some(req),
            error: None,
            scroll: 0,
        });
        vec![Job::Read(ReadJob::Detail { req, kind, id })]
    }

    /// `h`: the audit log filtered to the selected or open record.
    fn history(&mut self) -> Vec<Job> {
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
        let audit = ListKind::AuditLog.index();
        self.remember_return(audit, None);
        self.set_filter(audit, &format!("id:{id}"))
    }

    fn step(&mut self, delta: isize) -> Vec<Job> {
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
    fn move_by(&mut self, delta: isize) -> Vec<Job> {
        let tab = self.tab;
        let jobs = match self.pane_mut().move_selection(delta) {
            Some(how) => self.load(tab, how),
            None => Vec::new(),
        };
        self.keep_visible();
        jobs
    }

    /// Keeps the selected row on screen.
    fn keep_visible(&mut self) {
        let visible = self.list_rows();
        for pane in &mut self.panes {
            pane.keep_visible(visible);
        }
    }
}
