//! The console's admin flows: signing in, an action from its key to the confirm dialog and
//! the applied change, and the audit export. State changes only; the worker does the work.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::app::{App, Exporting};
use super::forms::{self, Dialog, SignIn};
use super::keymap::Intent;
use super::messages::{Job, Msg, Preparing, ReadJob, ReqId, SignInStart, WriteJob};
use super::pane::Fetch;
use crate::actions::export::ExportRequest;
use crate::actions::sign_in::{Credentials, SignInError};
use crate::actions::targets::Target;
use crate::actions::{ActionError, Actor, Outcome, Request, Session, Verb};
use crate::db::export::Format;
use crate::db::lists::ListKind;
use crate::password::Secret;
use uuid::Uuid;

impl App {
    /// Shows the sign-in screen; on the embedded default, tries the demo password first.
    pub fn begin_sign_in(&mut self, start: SignInStart) -> Vec<Job> {
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
                vec![Job::Write(WriteJob::SignIn {
                    req,
                    email,
                    credentials: Credentials::Demo,
                    ctx: self.audit_ctx.clone(),
                    read_only: self.status.read_only,
                })]
            }
        }
    }

    /// Signs in as `actor` directly (tests and callers that signed in already).
    pub fn signed_in(&mut self, actor: Actor, demo: bool) {
        self.status.signed_in_as = Some(format!(
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

    pub(super) fn on_sign_in_intent(&mut self, intent: Intent) -> Vec<Job> {
        let Some(s) = &mut self.sign_in else {
            return Vec::new();
        };
        match intent {
            Intent::Quit => {
                self.quit = true;
                Vec::new()
            }
            Intent::NextField | Intent::PrevField => {
                s.on_password = !s.on_password;
                Vec::new()
            }
            Intent::Submit if s.pending.is_some() => Vec::new(),
            Intent::Submit => {
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
                let req = self.req();
                if let Some(s) = self.sign_in.as_mut() {
                    s.pending = Some(req);
                    s.message = Some(format!("signing in as {email}…"));
                }
                vec![Job::Write(WriteJob::SignIn {
                    req,
                    email,
                    credentials: Credentials::Password(password),
                    ctx: self.audit_ctx.clone(),
                    read_only: self.status.read_only,
                })]
            }
            _ => Vec::new(),
        }
    }

    pub(super) fn on_signed_in(
        &mut self,
        req: ReqId,
        demo: bool,
        result: Result<Actor, SignInError>,
    ) -> Vec<Job> {
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
            Err(SignInError::NeedPassword) => {
                s.message = Some(format!(
                    "{} does not take the demo password: type its password",
                    s.email.value()
                ));
                s.on_password = true;
                Vec::new()
            }
            Err(SignInError::Refused) => {
                s.failures += 1;
                s.password.reset();
                if s.tries_left() == 0 {
                    self.quit = true;
                    self.sign_in_failed = true;
                } else {
                    s.message = Some(format!(
                        "{} ({} {} left)",
                        crate::actions::sign_in::SIGN_IN_REFUSED,
                        s.tries_left(),
                        if s.tries_left() == 1 { "try" } else { "tries" }
                    ));
                }
                Vec::new()
            }
            Err(SignInError::Failed(e)) => {
                s.message = Some(format!("cannot sign in: {e}"));
                Vec::new()
            }
        }
    }

    /// An action key: check the admin may, read the target, then open its form.
    pub(super) fn act(&mut self, verb: Verb) -> Vec<Job> {
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
        let id = if !verb.acts_on_a_row() {
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
        vec![self.prepare(session, verb, kind, id)]
    }

    /// The job that checks the admin may use `verb` and reads its target; its answer opens the
    /// form.
    fn prepare(
        &mut self,
        session: Box<Session>,
        verb: Verb,
        kind: ListKind,
        id: Option<Uuid>,
    ) -> Job {
        let prep = Preparing {
            req: self.req(),
            verb,
            kind,
            id,
        };
        self.preparing = Some(prep);
        Job::Write(WriteJob::Prepare { prep, session })
    }

    /// A key while an action's form is being prepared: Esc gives the action up, Ctrl-C quits,
    /// anything else waits for the form (typed ahead into its field, not acted on by the list).
    pub(super) fn type_ahead(&mut self, key: KeyEvent) -> Vec<Job> {
        const MOST: usize = 10_000;
        if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL) {
            self.quit = true;
        } else if key.code == KeyCode::Esc {
            self.preparing = None;
            self.typed_ahead.clear();
            self.retry_values = None;
            self.status.info = Some("cancelled: the form was still opening".into());
        } else if self.typed_ahead.len() < MOST {
            self.typed_ahead.push(key);
        }
        Vec::new()
    }

    /// A paste: typed into the field being edited, character by character as if typed (line
    /// breaks and tabs as spaces: Enter would submit); where nothing is being typed it is
    /// dropped, and said so, never taken as keys.
    pub(super) fn paste(&mut self, text: &str) -> Vec<Job> {
        use super::keymap::Context;
        let typing = self.preparing.is_some() && self.dialog.is_none()
            || matches!(
                self.context(),
                Context::SignIn | Context::Form | Context::Filter
            );
        if !typing {
            self.status.info =
                Some("a paste goes into a field being typed; nothing took it".into());
            return Vec::new();
        }
        let mut jobs = Vec::new();
        for c in text.chars() {
            let c = if matches!(c, '\n' | '\r' | '\t') {
                ' '
            } else {
                c
            };
            if c.is_control() {
                continue;
            }
            jobs.extend(self.update(Msg::Key(KeyEvent::new(
                KeyCode::Char(c),
                KeyModifiers::NONE,
            ))));
        }
        jobs
    }

    pub(super) fn on_prepared(
        &mut self,
        req: ReqId,
        result: Result<Option<Target>, String>,
    ) -> Vec<Job> {
        let Some(Preparing { verb, .. }) = self.preparing.filter(|p| p.req == req) else {
            return Vec::new();
        };
        self.preparing = None;
        let ahead = std::mem::take(&mut self.typed_ahead);
        let retry = self.retry_values.take();
        let target = match result {
            Ok(target) => target,
            Err(e) => {
                self.status.error = Some(e);
                return Vec::new();
            }
        };
        match forms::dialog_for(verb, target, &self.known.plans()) {
            Ok(mut dialog) => {
                if let (Dialog::Form(f), Some(values)) = (&mut dialog, retry) {
                    for (field, v) in f.fields.iter_mut().zip(values) {
                        field.set_typed(v);
                    }
                    f.error = self.status.error.clone();
                }
                // Keys typed ahead go into a form; a confirm dialog never takes them (a `y`
                // typed before it was seen must not apply anything).
                let into_form = matches!(dialog, Dialog::Form(_));
                let mut jobs = self.show(dialog);
                if into_form {
                    for key in ahead {
                        if !matches!(self.dialog, Some(Dialog::Form(_))) {
                            break;
                        }
                        jobs.extend(self.on_key(key));
                    }
                }
                return jobs;
            }
            // Nothing to do on this row (a number with no one to unassign): an answer, not an
            // error of the console or the database.
            Err(e) => {
                self.status.error = None;
                self.status.info = Some(format!("✗ {e}"));
            }
        }
        Vec::new()
    }

    /// Shows `dialog`; a confirm dialog first asks the database whether the change would be
    /// refused (`y` waits for the answer).
    fn show(&mut self, dialog: Dialog) -> Vec<Job> {
        let Dialog::Confirm(c) = dialog else {
            self.dialog = Some(dialog);
            return self.picker_jobs();
        };
        self.send(
            c,
            |c| &mut c.checking,
            |req, session, request| WriteJob::Check {
                req,
                session,
                request,
            },
        )
    }

    /// Sends the confirm dialog's request as `job` (its check, or the change itself), the
    /// request's id kept in the dialog's `slot`; without a session the dialog stays as it is.
    fn send(
        &mut self,
        mut c: forms::Confirm,
        slot: fn(&mut forms::Confirm) -> &mut Option<ReqId>,
        job: fn(ReqId, Box<Session>, Request) -> WriteJob,
    ) -> Vec<Job> {
        let Some(session) = &self.session else {
            self.dialog = Some(Dialog::Confirm(c));
            return Vec::new();
        };
        let session = Box::new(session.clone());
        let req = self.req();
        *slot(&mut c) = Some(req);
        let request = c.request.clone();
        self.dialog = Some(Dialog::Confirm(c));
        vec![Job::Write(job(req, session, request))]
    }

    /// The row changed since the form opened: read it again and reopen the form with what was
    /// typed (a form still holding the old values would conflict at every submit).
    fn reopen_after_conflict(&mut self, c: forms::Confirm, e: ActionError) -> Vec<Job> {
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
        let mut jobs = self.refresh();
        jobs.push(self.prepare(session, verb, kind, id));
        jobs
    }

    /// The form again, with why the database refused what it asked beside the field it is
    /// about, the cursor there.
    fn back_to_form(&mut self, mut form: forms::Form, why: ActionError) {
        // Kept with the session's messages too (`M`), as the status line's are.
        let target = forms::target_label(&form.target);
        let on = if target.is_empty() {
            String::new()
        } else {
            format!(" {target}")
        };
        self.note(format!("{}{on}: {why}", form.verb.name()), true);
        form.refused(why.to_string());
        self.dialog = Some(Dialog::Form(form));
    }

    /// `y` on a confirm dialog whose check is in: the change is sent (once).
    fn apply_confirmed(&mut self, c: forms::Confirm) -> Vec<Job> {
        if c.pending.is_some() {
            self.dialog = Some(Dialog::Confirm(c));
            return Vec::new();
        }
        self.send(
            c,
            |c| &mut c.pending,
            |req, session, request| WriteJob::Apply {
                req,
                session,
                request,
            },
        )
    }

    /// The database's answer to a submitted change: the confirm dialog may apply it now, or the
    /// form comes back with the reason (what `y` would have run into).
    pub(super) fn on_checked(&mut self, req: ReqId, result: Result<(), ActionError>) -> Vec<Job> {
        let Some(Dialog::Confirm(c)) = &mut self.dialog else {
            return Vec::new();
        };
        if c.checking != Some(req) {
            return Vec::new();
        }
        c.checking = None;
        match result {
            // `y` came while it was checked: it applies now.
            Ok(()) if c.confirmed => {
                let Some(Dialog::Confirm(c)) = self.dialog.take() else {
                    return Vec::new();
                };
                self.apply_confirmed(c)
            }
            Ok(()) => Vec::new(),
            // Not known beforehand (the database did not answer): `y` applies, which checks again.
            Err(e @ ActionError::Db(_)) => {
                self.status.error =
                    Some(format!("could not check beforehand ({e}); y still checks"));
                Vec::new()
            }
            Err(e) => {
                let Some(Dialog::Confirm(c)) = self.dialog.take() else {
                    return Vec::new();
                };
                if matches!(e, ActionError::Conflict { .. }) && c.form.is_some() {
                    return self.reopen_after_conflict(c, e);
                }
                match c.form {
                    Some(f) => self.back_to_form(f, e),
                    None => self.status.error = Some(e.to_string()),
                }
                self.picker_jobs()
            }
        }
    }

    /// A key in a dialog, then the search its form's picker needs (if the key changed what it
    /// searches for).
    pub(super) fn on_dialog_intent(&mut self, intent: Intent) -> Vec<Job> {
        let mut jobs = self.dialog_intent(intent);
        jobs.extend(self.picker_jobs());
        jobs
    }

    /// The search the open form's picker needs and has not asked for, as a job.
    pub(super) fn picker_jobs(&mut self) -> Vec<Job> {
        let Some(Dialog::Form(f)) = &self.dialog else {
            return Vec::new();
        };
        match f.wanted_search() {
            Some(search) => self.search_job(search),
            None => Vec::new(),
        }
    }

    fn search_job(&mut self, search: forms::Search) -> Vec<Job> {
        let req = self.req();
        if let Some(Dialog::Form(f)) = &mut self.dialog {
            f.asked(req, search.clone());
        }
        vec![Job::Read(ReadJob::Lookup { req, search })]
    }

    /// A picker's search answered (dropped if its form is gone or searches for something else).
    pub(super) fn on_found(
        &mut self,
        req: ReqId,
        result: Result<crate::db::lookup::FoundPage, String>,
    ) -> Vec<Job> {
        if let Some(Dialog::Form(f)) = &mut self.dialog {
            f.found(req, result);
        }
        self.picker_jobs()
    }

    fn dialog_intent(&mut self, intent: Intent) -> Vec<Job> {
        let Some(dialog) = self.dialog.take() else {
            return Vec::new();
        };
        match (intent, dialog) {
            (Intent::Quit, _) => {
                self.quit = true;
                Vec::new()
            }
            (Intent::Cancel, Dialog::Confirm(c)) if c.pending.is_some() => {
                // Sent already: the answer decides.
                self.dialog = Some(Dialog::Confirm(c));
                Vec::new()
            }
            (Intent::Cancel, dialog) => {
                // Which change was let go, in the words its dialog had.
                let what = match &dialog {
                    Dialog::Form(f) => f.title.clone(),
                    Dialog::Confirm(c) => c.title.clone(),
                    Dialog::Export(_) => "the export".to_string(),
                };
                self.status.info = Some(format!("cancelled {what}: nothing was written"));
                Vec::new()
            }
            (Intent::NextField | Intent::PrevField, Dialog::Form(mut f)) => {
                let n = f.fields.len().max(1);
                f.focus = if intent == Intent::NextField {
                    (f.focus + 1) % n
                } else {
                    (f.focus + n - 1) % n
                };
                self.dialog = Some(Dialog::Form(f));
                Vec::new()
            }
            (Intent::Down | Intent::Up, Dialog::Form(mut f)) => {
                let down = intent == Intent::Down;
                match f.move_choice(down) {
                    forms::Moved::Within => self.dialog = Some(Dialog::Form(f)),
                    forms::Moved::Wants(search) => {
                        self.dialog = Some(Dialog::Form(f));
                        return self.search_job(search);
                    }
                    // No choices here: the arrow moves between fields.
                    forms::Moved::NoChoices => {
                        let next = if down {
                            Intent::NextField
                        } else {
                            Intent::PrevField
                        };
                        self.dialog = Some(Dialog::Form(f));
                        return self.dialog_intent(next);
                    }
                }
                Vec::new()
            }
            (Intent::ClearField, Dialog::Form(mut f)) => {
                if let Some(field) = f.fields.get_mut(f.focus) {
                    field.clear();
                }
                f.error = None;
                self.dialog = Some(Dialog::Form(f));
                Vec::new()
            }
            (Intent::ClearField, Dialog::Export(mut e)) => {
                e.path.clear();
                e.error = None;
                self.dialog = Some(Dialog::Export(e));
                Vec::new()
            }
            (Intent::Submit, Dialog::Form(f)) => self.show(f.submit()),
            (Intent::Submit, Dialog::Export(e)) => self.start_export(e),
            (Intent::Confirm, Dialog::Confirm(mut c)) if c.checking.is_some() => {
                // The check is still out: `y` is kept, and applies once the check lets it.
                c.confirmed = true;
                self.dialog = Some(Dialog::Confirm(c));
                Vec::new()
            }
            (Intent::Confirm, Dialog::Confirm(c)) => self.apply_confirmed(c),
            (
                Intent::Down | Intent::Up | Intent::PageDown | Intent::PageUp,
                Dialog::Confirm(mut c),
            ) => {
                let page = self.scroll_limits.confirm_page.max(1);
                let at = super::log::scrolled(c.scroll, intent, page);
                c.scroll = at.min(self.scroll_limits.confirm);
                self.dialog = Some(Dialog::Confirm(c));
                Vec::new()
            }
            (_, d) => {
                self.dialog = Some(d);
                Vec::new()
            }
        }
    }

    pub(super) fn on_applied(
        &mut self,
        req: ReqId,
        result: Result<Outcome, ActionError>,
    ) -> Vec<Job> {
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
            Err(e @ ActionError::Conflict { .. }) => self.reopen_after_conflict(c, e),
            Err(
                e @ (ActionError::Invalid(_)
                | ActionError::NotFound(_)
                | ActionError::Insufficient { .. }),
            ) if c.form.is_some() => {
                self.back_to_form(c.form.expect("checked"), e);
                self.picker_jobs()
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
    fn refresh(&mut self) -> Vec<Job> {
        let tab = self.tab;
        for (i, pane) in self.panes.iter_mut().enumerate() {
            pane.count = None;
            if i != tab {
                pane.loaded = false;
                pane.detail = None;
            }
        }
        // The selection stays on its row, on the same screen line, wherever the change moved
        // it in the order (a top-up re-sorts the Credits pane).
        let pane = &mut self.panes[tab];
        let how = match pane.selected_row().map(|row| row.id) {
            Some(id) => {
                pane.follow_line = Some(pane.selected.saturating_sub(pane.offset));
                Fetch::At(id)
            }
            None => Fetch::Replace,
        };
        let mut jobs = self.load(tab, how);
        if let Some(view) = &self.panes[tab].detail {
            let (kind, id) = (view.kind, view.id);
            jobs.extend(self.open_detail(tab, kind, id));
        }
        jobs
    }

    /// `x` in the audit log: ask where to export the entries the filter selects.
    pub(super) fn open_export(&mut self) -> Vec<Job> {
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
        // Where a relative name goes, said in the dialog (not a surprise in whatever directory
        // the console was started from).
        let dir = std::env::current_dir().unwrap_or_default();
        self.dialog = Some(Dialog::Export(forms::ExportForm::new(
            &name,
            dir,
            self.pane().filter.to_text(),
        )));
        Vec::new()
    }

    fn start_export(&mut self, form: forms::ExportForm) -> Vec<Job> {
        let path = form.file().unwrap_or_default();
        let problem = if form.file().is_none() {
            Some("name the file".to_string())
        } else if path.exists() {
            Some(format!("{} exists; choose another name", path.display()))
        } else {
            crate::db::export::directory_problem(&path)
        };
        let (Some(session), None) = (&self.session, problem.clone()) else {
            let mut form = form;
            form.error = problem;
            self.dialog = Some(Dialog::Export(form));
            return Vec::new();
        };
        let request = ExportRequest {
            filter: self.pane().filter.clone(),
            filter_text: form.filter_text,
            format: Format::for_path(&path),
        };
        let session = Box::new(session.clone());
        let req = self.req();
        self.exporting = Some(Exporting {
            req,
            rows: 0,
            path: path.clone(),
        });
        vec![Job::Write(WriteJob::Export {
            req,
            session,
            request,
            path,
        })]
    }
}
