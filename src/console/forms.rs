//! The console's dialogs: sign-in, the form of an action, and its confirm dialog. Pure state and
//! logic; the app routes keys here and the UI draws them.

use tui_input::Input;
use uuid::Uuid;

use crate::actions::targets::{AgentState, NumberState, Target, TenantState, UserState};
use crate::actions::{MAX_CREDIT_CHANGE, PLANS, Request, Role, Verb};
use crate::db::lists::KeyValue;
use crate::db::lookup::{Found, FoundPage, Lookup};

/// The sign-in screen.
#[derive(Clone, Default)]
pub struct SignIn {
    pub email: Input,
    pub password: Input,
    /// Whether the password field has the focus (else the email field).
    pub on_password: bool,
    pub failures: u8,
    pub message: Option<String>,
    /// The sign-in request in flight.
    pub pending: Option<u64>,
}

impl std::fmt::Debug for SignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the password, not even its length.
        f.debug_struct("SignIn")
            .field("email", &self.email.value())
            .field("on_password", &self.on_password)
            .field("failures", &self.failures)
            .field("message", &self.message)
            .field("pending", &self.pending)
            .finish_non_exhaustive()
    }
}

/// Tries before the console gives up.
pub const SIGN_IN_TRIES: u8 = 3;

impl SignIn {
    pub fn new(email: Option<&str>) -> SignIn {
        let email = email.unwrap_or_default();
        SignIn {
            email: Input::new(email.to_string()),
            on_password: !email.is_empty(),
            ..SignIn::default()
        }
    }

    pub fn tries_left(&self) -> u8 {
        SIGN_IN_TRIES.saturating_sub(self.failures)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    Text,
    /// Text that may be left empty (it then clears the column).
    OptionalText,
    /// A positive whole number of credits.
    Amount,
    /// One of a fixed list (typed, or chosen from the list under the field).
    Choice(&'static [&'static str]),
    /// A row found in the database (typed, or chosen from the search under the field).
    Lookup(Lookup),
}

/// How many choices a picker shows at once (and fetches per page).
pub const PICKER_ROWS: usize = 5;

/// The list under a field that names something: what the typed text matches, one of them
/// selected. A fixed list narrows as the admin types; a lookup asks the database, a page at a
/// time.
#[derive(Debug, Clone, Default)]
pub struct Picker {
    pub items: Vec<Found>,
    pub selected: usize,
    /// Whether the admin moved the selection (a field still holding the value it opened with
    /// keeps that value on Enter unless a choice was moved to).
    pub moved: bool,
    /// The search text `items` answer (a lookup; none before the first answer).
    pub answered: Option<String>,
    /// The search in flight: its request and text.
    pub asked: Option<(u64, Search)>,
    /// Where the next page starts, when there may be one.
    pub next: Option<Vec<KeyValue>>,
    /// Why the last search failed.
    pub error: Option<String>,
}

/// What ↓ or ↑ did in a picker.
#[derive(Debug, Clone, PartialEq)]
pub enum Moved {
    /// The selection moved (or stayed at an end).
    Within,
    /// ↓ passed the last loaded choice: the next page is wanted.
    Wants(Search),
    /// The field has no choices to move through (the arrow moves between fields instead).
    NoChoices,
}

/// A search a picker wants the worker to run.
#[derive(Debug, Clone, PartialEq)]
pub struct Search {
    pub lookup: Lookup,
    pub text: String,
    pub after: Option<Vec<KeyValue>>,
}

#[derive(Debug, Clone)]
pub struct Field {
    pub label: &'static str,
    pub input: Input,
    pub kind: FieldKind,
    pub hint: &'static str,
    /// Holds the value it was opened with, untouched: the first character typed replaces it
    /// (any other key first, an arrow or Backspace, edits it instead).
    pub prefilled: bool,
    /// Its choices (a `Choice` or `Lookup` field).
    pub picker: Picker,
    /// The row chosen from a lookup, while the field still holds its value.
    pub picked: Option<Found>,
}

impl Field {
    fn new(label: &'static str, value: &str, kind: FieldKind, hint: &'static str) -> Field {
        Field {
            label,
            input: Input::new(value.to_string()),
            kind,
            hint,
            prefilled: !value.is_empty(),
            picker: Picker::default(),
            picked: None,
        }
        .with_choices()
    }

    /// A fixed list's choices, narrowed to what is typed (all of them while the field holds
    /// the value it opened with), the one the field holds selected.
    fn with_choices(mut self) -> Field {
        self.refresh_choices();
        self
    }

    fn refresh_choices(&mut self) {
        let FieldKind::Choice(options) = self.kind else {
            return;
        };
        let typed = self.search_text().to_lowercase();
        self.picker.items = options
            .iter()
            .filter(|o| o.contains(typed.as_str()))
            .map(|o| Found {
                id: Uuid::nil(),
                value: o.to_string(),
                detail: String::new(),
            })
            .collect();
        let held = self.value().to_lowercase();
        self.picker.selected = self
            .picker
            .items
            .iter()
            .position(|f| f.value == held)
            .unwrap_or(0);
        self.picker.moved = false;
    }

    /// What the picker searches for: nothing while the field holds the value it opened with
    /// (every choice is offered), else what is typed.
    pub fn search_text(&self) -> String {
        if self.prefilled {
            String::new()
        } else {
            self.value().to_string()
        }
    }

    /// Whether the field has a picker.
    pub fn has_picker(&self) -> bool {
        matches!(self.kind, FieldKind::Choice(_) | FieldKind::Lookup(_))
    }

    /// Whether the picker's choices answer what the field holds now.
    pub fn choices_current(&self) -> bool {
        match self.kind {
            FieldKind::Choice(_) => true,
            FieldKind::Lookup(_) => {
                self.picker.answered.as_deref() == Some(self.search_text().as_str())
            }
            _ => false,
        }
    }

    /// The choice Enter takes, if any: the selected one of current choices, once the admin
    /// has typed or moved the selection.
    fn choice_to_take(&self) -> Option<&Found> {
        if !self.has_picker() || !self.choices_current() {
            return None;
        }
        if self.prefilled && !self.picker.moved {
            return None;
        }
        self.picker.items.get(self.picker.selected)
    }

    /// Puts the chosen row into the field.
    fn take(&mut self, choice: Found) {
        self.input = Input::new(choice.value.clone());
        self.prefilled = false;
        if matches!(self.kind, FieldKind::Lookup(_)) {
            self.picker.answered = None;
            self.picked = Some(choice);
        }
        self.refresh_choices();
    }

    /// The lookup's row chosen for the text the field holds now, if one was.
    fn picked_now(&self) -> Option<&Found> {
        self.picked.as_ref().filter(|f| f.value == self.value())
    }

    /// A key typed into the field.
    pub fn key(&mut self, event: &ratatui::crossterm::event::Event) {
        use ratatui::crossterm::event::{Event, KeyCode, KeyModifiers};
        use tui_input::backend::crossterm::EventHandler;
        if self.prefilled
            && let Event::Key(k) = event
            && let KeyCode::Char(_) = k.code
            && !k
                .modifiers
                .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
        {
            self.input = Input::default();
        }
        self.prefilled = false;
        self.input.handle_event(event);
        self.refresh_choices();
    }

    /// Puts back what the admin typed before (edited, not replaced, by the next key).
    pub fn set_typed(&mut self, value: String) {
        self.input = Input::new(value);
        self.prefilled = false;
        self.refresh_choices();
    }

    /// Empties the field (Ctrl-U).
    pub fn clear(&mut self) {
        self.input = Input::default();
        self.prefilled = false;
        self.refresh_choices();
    }

    fn value(&self) -> &str {
        self.input.value().trim()
    }
}

const ROLES: &[&str] = &["user", "admin", "super_admin"];

/// An action's form: what the admin types before the confirm dialog.
#[derive(Debug, Clone)]
pub struct Form {
    pub verb: Verb,
    pub title: String,
    /// What the target held when the form opened (none for a new row).
    pub target: Option<Target>,
    pub fields: Vec<Field>,
    pub focus: usize,
    /// Why the last Enter did not go on (a refusal from the database, or what no one field
    /// holds).
    pub error: Option<String>,
    /// What is wrong with each field, in field order, shown beside it (every one at once).
    pub field_errors: Vec<(usize, String)>,
}

/// A confirm dialog: each field old → new, Cancel the default.
#[derive(Debug, Clone)]
pub struct Confirm {
    pub request: Request,
    pub title: String,
    pub lines: Vec<ChangeLine>,
    /// The form it came from, to go back to with an error.
    pub form: Option<Form>,
    /// The apply request in flight.
    pub pending: Option<u64>,
    /// The check in flight: the database is asked whether the change would be refused before
    /// `y` may apply it.
    pub checking: Option<u64>,
}

/// One line of a confirm dialog: a field, what it holds, what it will hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeLine {
    pub field: String,
    pub old: String,
    pub new: String,
}

impl ChangeLine {
    pub fn new(field: &str, old: String, new: String) -> ChangeLine {
        ChangeLine {
            field: field.to_string(),
            old,
            new,
        }
    }
}

/// Where to export the filtered audit log.
#[derive(Debug, Clone)]
pub struct ExportForm {
    pub path: Input,
    /// The pane's filter, as typed.
    pub filter_text: String,
    pub error: Option<String>,
}

/// The dialog on top of the panes.
#[derive(Debug, Clone)]
pub enum Dialog {
    Form(Form),
    Confirm(Confirm),
    Export(ExportForm),
}

fn yes_no(b: bool) -> String {
    if b { "yes".into() } else { "no".into() }
}

/// What the console says about the target in a dialog's title.
pub fn target_label(target: &Option<Target>) -> String {
    match target {
        Some(Target::User(u)) => u.email.clone(),
        Some(Target::Tenant(t)) => t.name.clone(),
        Some(Target::Agent(a)) => a.name.clone(),
        Some(Target::Number(n)) => format!("{} ({})", n.phone_number, n.name),
        None => String::new(),
    }
}

/// What a verb needs from its target, and the error when the target is something else.
fn wrong_target(verb: Verb) -> String {
    format!("{} does not apply to this row", verb.name())
}

fn user_of(verb: Verb, target: Option<&Target>) -> Result<&UserState, String> {
    match target {
        Some(Target::User(u)) => Ok(u),
        _ => Err(wrong_target(verb)),
    }
}

fn tenant_of(verb: Verb, target: Option<&Target>) -> Result<&TenantState, String> {
    match target {
        Some(Target::Tenant(t)) => Ok(t),
        _ => Err(wrong_target(verb)),
    }
}

fn agent_of(verb: Verb, target: Option<&Target>) -> Result<&AgentState, String> {
    match target {
        Some(Target::Agent(a)) => Ok(a),
        _ => Err(wrong_target(verb)),
    }
}

fn number_of(verb: Verb, target: Option<&Target>) -> Result<&NumberState, String> {
    match target {
        Some(Target::Number(n)) => Ok(n),
        _ => Err(wrong_target(verb)),
    }
}

const PLAN_HINT: &str = CHOOSE_HINT;
/// The hint of a field with a fixed list of choices.
const CHOOSE_HINT: &str = "type to narrow, ↓↑ to choose";
/// The hints of fields that search the database.
const USER_HINT: &str = "type to search email or name, ↓↑ to choose";
const TENANT_HINT: &str = "type to search the names, ↓↑ to choose";

/// The dialog a verb opens on `target`: a form when there is something to type, else straight
/// to the confirm dialog. `Err` says why the verb cannot start (e.g. nothing to unassign).
pub fn dialog_for(verb: Verb, target: Option<Target>) -> Result<Dialog, String> {
    use FieldKind::*;
    let t = target.as_ref();
    let form = |title: String, fields: Vec<Field>| {
        Ok(Dialog::Form(Form {
            verb,
            title,
            target: target.clone(),
            fields,
            focus: 0,
            error: None,
            field_errors: Vec::new(),
        }))
    };
    // Verbs with nothing to type go straight to the confirm dialog.
    let straight = |request: Request| confirm(request, t, None);
    match verb {
        Verb::TopUp | Verb::Deduct => {
            let u = user_of(verb, t)?;
            let what = if verb == Verb::TopUp {
                "Top up"
            } else {
                "Deduct from"
            };
            form(
                format!(
                    "{what} {} (balance {})",
                    u.email,
                    crate::numbers::thousands(u.credits)
                ),
                vec![
                    Field::new("Amount", "", Amount, "a whole number of credits"),
                    Field::new("Reason", "", Text, "kept in the audit log"),
                ],
            )
        }
        Verb::SetUserActive => {
            let u = user_of(verb, t)?;
            straight(Request::SetUserActive {
                user: u.id,
                active: !u.is_active,
            })
        }
        Verb::RevokeSessions => straight(Request::RevokeSessions {
            user: user_of(verb, t)?.id,
        }),
        Verb::VerifyEmail => straight(Request::MarkEmailVerified {
            user: user_of(verb, t)?.id,
        }),
        Verb::SetRole => {
            let u = user_of(verb, t)?;
            form(
                format!("Change the role of {}", u.email),
                vec![Field::new(
                    "Role",
                    u.role.as_str(),
                    Choice(ROLES),
                    CHOOSE_HINT,
                )],
            )
        }
        Verb::MoveUser => {
            let u = user_of(verb, t)?;
            form(
                format!("Move {} to another tenant", u.email),
                vec![Field::new(
                    "Tenant",
                    &u.tenant_name,
                    Lookup(crate::db::lookup::Lookup::ActiveTenants),
                    TENANT_HINT,
                )],
            )
        }
        Verb::CreateTenant => form(
            "New tenant".into(),
            vec![
                Field::new("Name", "", Text, ""),
                Field::new("Plan", "pro", Choice(&PLANS), PLAN_HINT),
            ],
        ),
        Verb::RenameTenant => {
            let tenant = tenant_of(verb, t)?;
            form(
                format!("Rename {}", tenant.name),
                vec![Field::new("Name", &tenant.name, Text, "")],
            )
        }
        Verb::SetPlan => {
            let tenant = tenant_of(verb, t)?;
            form(
                format!("Change the plan of {}", tenant.name),
                vec![Field::new("Plan", &tenant.plan, Choice(&PLANS), PLAN_HINT)],
            )
        }
        Verb::SetTenantActive => {
            let tenant = tenant_of(verb, t)?;
            straight(Request::SetTenantActive {
                tenant: tenant.id,
                active: !tenant.is_active,
            })
        }
        Verb::RenameAgent => {
            let a = agent_of(verb, t)?;
            form(
                format!("Rename {}", a.name),
                vec![Field::new("Name", &a.name, Text, "")],
            )
        }
        Verb::DescribeAgent => {
            let a = agent_of(verb, t)?;
            form(
                format!("Describe {}", a.name),
                vec![Field::new(
                    "Description",
                    a.description.as_deref().unwrap_or_default(),
                    OptionalText,
                    "empty clears it",
                )],
            )
        }
        Verb::SetAgentActive => {
            let a = agent_of(verb, t)?;
            straight(Request::SetAgentActive {
                agent: a.id,
                active: !a.is_active,
            })
        }
        Verb::AddNumber => form(
            "New phone number".into(),
            vec![
                Field::new("Number", "", Text, "E.164, e.g. +14155550100"),
                Field::new("Name", "", Text, ""),
                Field::new("Bolna id", "", Text, "the Bolna phone number id"),
            ],
        ),
        Verb::AssignNumber => {
            let n = number_of(verb, t)?;
            form(
                format!("Assign {}", target_label(&target)),
                vec![Field::new(
                    "User",
                    n.assigned_email.as_deref().unwrap_or_default(),
                    Lookup(crate::db::lookup::Lookup::ActiveUsers),
                    USER_HINT,
                )],
            )
        }
        Verb::UnassignNumber => {
            let n = number_of(verb, t)?;
            match n.assigned_to {
                None => Err(format!("{} is not assigned to anyone", n.phone_number)),
                Some(from) => straight(Request::UnassignNumber { number: n.id, from }),
            }
        }
        Verb::SetNumberActive => {
            let n = number_of(verb, t)?;
            straight(Request::SetNumberActive {
                number: n.id,
                active: !n.is_active,
            })
        }
        Verb::SetCreditCap => Err(
            "the credit cap is set from the command line: switchboard settings set-credit-cap N"
                .into(),
        ),
    }
}

impl Form {
    /// The focused field.
    pub fn focused(&self) -> Option<&Field> {
        self.fields.get(self.focus)
    }

    /// The search the focused field's picker needs and has not asked for yet.
    pub fn wanted_search(&self) -> Option<Search> {
        let field = self.focused()?;
        let FieldKind::Lookup(lookup) = field.kind else {
            return None;
        };
        let text = field.search_text();
        let asked = field.picker.asked.as_ref().map(|(_, s)| s);
        if field.picker.answered.as_deref() == Some(text.as_str())
            || asked.is_some_and(|s| s.text == text && s.after.is_none())
        {
            return None;
        }
        Some(Search {
            lookup,
            text,
            after: None,
        })
    }

    /// Records that request `req` runs `search` for the focused field.
    pub fn asked(&mut self, req: u64, search: Search) {
        let focus = self.focus;
        if let Some(field) = self.fields.get_mut(focus) {
            field.picker.asked = Some((req, search));
        }
    }

    /// The answer to a picker's search: its choices (a further page is added to them). An
    /// answer to a search since replaced is dropped. Returns whether it was this form's.
    pub fn found(&mut self, req: u64, result: Result<FoundPage, String>) -> bool {
        let Some(field) = self
            .fields
            .iter_mut()
            .find(|f| f.picker.asked.as_ref().is_some_and(|(r, _)| *r == req))
        else {
            return false;
        };
        let Some((_, search)) = field.picker.asked.take() else {
            return false;
        };
        let picker = &mut field.picker;
        match result {
            Err(e) => picker.error = Some(e),
            Ok(page) => {
                picker.error = None;
                if search.after.is_some() {
                    picker.items.extend(page.rows);
                } else {
                    let held = field.input.value().trim().to_string();
                    picker.selected = page.rows.iter().position(|f| f.value == held).unwrap_or(0);
                    picker.moved = false;
                    picker.items = page.rows;
                }
                picker.next = page.next;
                picker.answered = Some(search.text);
            }
        }
        true
    }

    /// ↓ or ↑ in the focused field's picker.
    pub fn move_choice(&mut self, down: bool) -> Moved {
        let Some(field) = self.fields.get_mut(self.focus) else {
            return Moved::NoChoices;
        };
        if !field.has_picker() || field.picker.items.is_empty() || !field.choices_current() {
            return Moved::NoChoices;
        }
        let picker = &mut field.picker;
        picker.moved = true;
        let last = picker.items.len() - 1;
        if !down {
            picker.selected = picker.selected.saturating_sub(1);
            return Moved::Within;
        }
        if picker.selected < last {
            picker.selected += 1;
            return Moved::Within;
        }
        let (FieldKind::Lookup(lookup), Some(next), None) =
            (field.kind, picker.next.clone(), &picker.asked)
        else {
            return Moved::Within;
        };
        Moved::Wants(Search {
            lookup,
            text: field.search_text(),
            after: Some(next),
        })
    }

    /// The request the form describes, or why it cannot be sent yet (and which field is at
    /// fault, when one is).
    /// Every field's error, in field order.
    pub fn field_errors(&self) -> Vec<(usize, String)> {
        let mut errors = Vec::new();
        for (i, f) in self.fields.iter().enumerate() {
            let bad = match f.kind {
                FieldKind::Choice(options)
                    if !options.contains(&f.value().to_lowercase().as_str()) =>
                {
                    format!(
                        "{} must be one of {}",
                        f.label.to_lowercase(),
                        options.join(", ")
                    )
                }
                FieldKind::Amount
                    if !f
                        .value()
                        .replace([',', '_'], "")
                        .parse::<i64>()
                        .is_ok_and(|n| (1..=MAX_CREDIT_CHANGE).contains(&n)) =>
                {
                    format!(
                        "the amount must be a whole number from 1 to {}",
                        crate::numbers::thousands(MAX_CREDIT_CHANGE)
                    )
                }
                FieldKind::Text | FieldKind::Lookup(_) if f.value().is_empty() => {
                    format!("{} is empty", f.label.to_lowercase())
                }
                FieldKind::Text
                | FieldKind::Lookup(_)
                | FieldKind::OptionalText
                | FieldKind::Amount
                | FieldKind::Choice(_) => continue,
            };
            errors.push((i, bad));
        }
        errors
    }

    pub fn request(&self) -> Result<Request, (Option<usize>, String)> {
        let v = |i: usize| self.fields.get(i).map(Field::value).unwrap_or_default();
        if let Some((i, bad)) = self.field_errors().into_iter().next() {
            return Err((Some(i), bad));
        }
        let verb = self.verb;
        let t = self.target.as_ref();
        let no_field = |e: String| (None, e);
        let request = match verb {
            Verb::TopUp | Verb::Deduct => {
                let u = user_of(verb, t).map_err(no_field)?;
                let amount: i64 = v(0).replace([',', '_'], "").parse().unwrap_or_default();
                Request::AdjustCredits {
                    user: u.id,
                    delta: if verb == Verb::TopUp { amount } else { -amount },
                    reason: v(1).to_string(),
                    // The confirm dialog makes the key.
                    key: Uuid::nil(),
                }
            }
            Verb::SetRole => {
                let u = user_of(verb, t).map_err(no_field)?;
                Request::SetRole {
                    user: u.id,
                    from: u.role,
                    to: Role::parse(&v(0).to_lowercase()).unwrap_or(u.role),
                }
            }
            Verb::MoveUser => {
                let u = user_of(verb, t).map_err(no_field)?;
                // A tenant chosen from the picker goes by id (names need not be unique).
                let to = match self.fields[0].picked_now() {
                    Some(found) => found.id.to_string(),
                    None => v(0).to_string(),
                };
                Request::MoveUser {
                    user: u.id,
                    from: u.tenant_id,
                    to,
                }
            }
            Verb::CreateTenant => Request::CreateTenant {
                name: v(0).to_string(),
                plan: v(1).to_lowercase(),
            },
            Verb::RenameTenant => {
                let tenant = tenant_of(verb, t).map_err(no_field)?;
                Request::RenameTenant {
                    tenant: tenant.id,
                    from: tenant.name.clone(),
                    to: v(0).to_string(),
                }
            }
            Verb::SetPlan => {
                let tenant = tenant_of(verb, t).map_err(no_field)?;
                Request::SetPlan {
                    tenant: tenant.id,
                    from: tenant.plan.clone(),
                    to: v(0).to_lowercase(),
                }
            }
            Verb::RenameAgent => {
                let a = agent_of(verb, t).map_err(no_field)?;
                Request::RenameAgent {
                    agent: a.id,
                    from: a.name.clone(),
                    to: v(0).to_string(),
                }
            }
            Verb::DescribeAgent => {
                let a = agent_of(verb, t).map_err(no_field)?;
                Request::SetAgentDescription {
                    agent: a.id,
                    from: a.description.clone(),
                    to: Some(v(0).to_string()),
                }
            }
            Verb::AddNumber => Request::AddNumber {
                number: v(0).to_string(),
                name: v(1).to_string(),
                bolna_id: v(2).to_string(),
            },
            Verb::AssignNumber => {
                let n = number_of(verb, t).map_err(no_field)?;
                Request::AssignNumber {
                    number: n.id,
                    from: n.assigned_to,
                    to: v(0).to_string(),
                }
            }
            // These open no form (see `dialog_for`).
            Verb::SetUserActive
            | Verb::RevokeSessions
            | Verb::VerifyEmail
            | Verb::SetTenantActive
            | Verb::SetAgentActive
            | Verb::UnassignNumber
            | Verb::SetNumberActive
            | Verb::SetCreditCap => return Err((None, wrong_target(verb))),
        };
        request.validated().map_err(|e| (None, e.to_string()))
    }

    /// Enter: on to the next field, or from the last one to the confirm dialog (or back to
    /// this form, with the reason it cannot go on).
    pub fn submit(mut self) -> Dialog {
        // Enter on a picker takes its selected choice first.
        if let Some(field) = self.fields.get_mut(self.focus)
            && let Some(choice) = field.choice_to_take().cloned()
        {
            field.take(choice);
            self.field_errors.retain(|(i, _)| *i != self.focus);
        }
        if self.focus + 1 < self.fields.len() {
            self.focus += 1;
            return Dialog::Form(self);
        }
        // Every field's error at once, the cursor on the first.
        self.field_errors = self.field_errors();
        if let Some((first, _)) = self.field_errors.first() {
            self.focus = *first;
            self.error = None;
            return Dialog::Form(self);
        }
        let error = match self.request() {
            Err((field, e)) => {
                self.focus = field.unwrap_or(self.focus);
                e
            }
            Ok(request) => {
                let target = self.target.clone();
                match confirm(request, target.as_ref(), Some(self.clone())) {
                    Ok(d) => return d,
                    Err(e) => e,
                }
            }
        };
        self.error = Some(error);
        Dialog::Form(self)
    }
}

/// The confirm dialog of `request`: each field old → new. A request that changes nothing gets
/// no dialog. A credit change gets its idempotency key here, once.
pub fn confirm(
    request: Request,
    target: Option<&Target>,
    form: Option<Form>,
) -> Result<Dialog, String> {
    let mut request = request;
    let verb = request.verb();
    let line = ChangeLine::new;
    let none = || "none".to_string();
    let lines = match &mut request {
        Request::AdjustCredits {
            delta, reason, key, ..
        } => {
            let u = user_of(verb, target)?;
            *key = Uuid::new_v4();
            vec![
                line(
                    "credits",
                    crate::numbers::thousands(u.credits),
                    crate::numbers::thousands(u.credits + *delta),
                ),
                line("reason", String::new(), reason.clone()),
            ]
        }
        Request::SetUserActive { active, .. }
        | Request::SetTenantActive { active, .. }
        | Request::SetAgentActive { active, .. }
        | Request::SetNumberActive { active, .. } => {
            vec![line("active", yes_no(!*active), yes_no(*active))]
        }
        Request::RevokeSessions { .. } => {
            let u = user_of(verb, target)?;
            if u.active_sessions == 0 {
                return Err(format!("{} has no active sessions", u.email));
            }
            vec![line(
                "active sessions",
                u.active_sessions.to_string(),
                "0".into(),
            )]
        }
        Request::MarkEmailVerified { .. } => {
            let u = user_of(verb, target)?;
            if u.email_verified {
                return Err(format!("{} is verified already", u.email));
            }
            vec![line("email verified", "no".into(), "yes".into())]
        }
        Request::SetRole { from, to, .. } => {
            vec![line("role", from.as_str().into(), to.as_str().into())]
        }
        Request::MoveUser { to, .. } => {
            let u = user_of(verb, target)?;
            if *to == u.tenant_name || *to == u.tenant_id.to_string() {
                return Err("nothing to change".into());
            }
            // A tenant chosen by id reads as its name, the id beside it.
            let chosen = form
                .as_ref()
                .and_then(|f| f.fields.first())
                .and_then(Field::picked_now)
                .filter(|f| f.id.to_string() == *to);
            let new = match chosen {
                Some(f) => format!("{} ({})", f.value, f.id),
                None => to.clone(),
            };
            vec![line("tenant", u.tenant_name.clone(), new)]
        }
        Request::CreateTenant { name, plan } => vec![
            line("name", String::new(), name.clone()),
            line("plan", String::new(), plan.clone()),
        ],
        Request::RenameTenant { from, to, .. } | Request::RenameAgent { from, to, .. } => {
            vec![line("name", from.clone(), to.clone())]
        }
        Request::SetPlan { from, to, .. } => vec![line("plan", from.clone(), to.clone())],
        Request::SetAgentDescription { from, to, .. } => vec![line(
            "description",
            from.clone().unwrap_or_else(none),
            to.clone().unwrap_or_else(none),
        )],
        Request::AddNumber {
            number,
            name,
            bolna_id,
        } => vec![
            line("number", String::new(), number.clone()),
            line("name", String::new(), name.clone()),
            line("Bolna id", String::new(), bolna_id.clone()),
        ],
        Request::AssignNumber { to, .. } => {
            let n = number_of(verb, target)?;
            if n.assigned_email.as_deref() == Some(to.as_str()) {
                return Err("nothing to change".into());
            }
            vec![line(
                "assigned to",
                n.assigned_email.clone().unwrap_or_else(none),
                to.clone(),
            )]
        }
        Request::UnassignNumber { .. } => {
            let n = number_of(verb, target)?;
            vec![line(
                "assigned to",
                n.assigned_email.clone().unwrap_or_else(none),
                none(),
            )]
        }
        Request::SetCreditCap { from, to } => {
            vec![line(
                "admins' credit cap",
                crate::numbers::thousands(*from),
                crate::numbers::thousands(*to),
            )]
        }
    };
    if lines.iter().all(|l| l.old == l.new) {
        return Err("nothing to change".into());
    }
    let label = target_label(&target.cloned());
    let title = if label.is_empty() {
        request.audit_action().to_string()
    } else {
        format!("{} {label}", request.audit_action())
    };
    Ok(Dialog::Confirm(Confirm {
        request,
        title,
        lines,
        form,
        pending: None,
        checking: None,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> Target {
        Target::User(UserState {
            id: Uuid::from_u128(1),
            email: "a@b.test".into(),
            name: "A".into(),
            role: Role::User,
            is_active: true,
            email_verified: false,
            credits: 100,
            tenant_id: Uuid::from_u128(2),
            tenant_name: "Acme".into(),
            active_sessions: 2,
        })
    }

    fn form(d: Dialog) -> Form {
        match d {
            Dialog::Form(f) => f,
            other => panic!("{other:?}"),
        }
    }

    fn type_into(form: &mut Form, i: usize, text: &str) {
        form.fields[i].input = Input::new(text.into());
    }

    #[test]
    fn a_top_up_form_validates_then_confirms_with_old_and_new_and_a_fresh_key() {
        let Ok(Dialog::Form(mut f)) = dialog_for(Verb::TopUp, Some(user())) else {
            panic!()
        };
        type_into(&mut f, 0, "abc");
        let mut f = form(f.submit()); // Enter on the first field moves on
        assert_eq!(f.focus, 1);
        f = form(f.submit());
        // Both faults at once, in field order, the focus on the first.
        let errors: Vec<&str> = f.field_errors.iter().map(|(_, e)| e.as_str()).collect();
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(
            errors[0].contains("whole number from 1 to 1,000,000"),
            "{errors:?}"
        );
        assert_eq!(errors[1], "reason is empty");
        assert_eq!(f.focus, 0, "the focus goes back to the amount");
        type_into(&mut f, 0, "1,500");
        f = form(form(f.submit()).submit());
        assert_eq!(f.field_errors, [(1, "reason is empty".to_string())]);
        assert_eq!(f.focus, 1);
        type_into(&mut f, 1, "refund #123");
        let Dialog::Confirm(c) = f.submit() else {
            panic!()
        };
        assert_eq!(
            c.lines,
            vec![
                ChangeLine::new("credits", "100".into(), "1,600".into()),
                ChangeLine::new("reason", "".into(), "refund #123".into())
            ]
        );
        let Request::AdjustCredits { key, delta, .. } = c.request else {
            panic!()
        };
        assert_ne!(key, Uuid::nil());
        assert_eq!(delta, 1500);
    }

    #[test]
    fn an_agent_description_may_be_cleared_but_a_name_may_not() {
        let agent = Target::Agent(AgentState {
            id: Uuid::from_u128(4),
            name: "Front desk".into(),
            description: Some("Answers calls".into()),
            is_active: true,
        });
        let Ok(Dialog::Form(mut f)) = dialog_for(Verb::DescribeAgent, Some(agent.clone())) else {
            panic!()
        };
        type_into(&mut f, 0, "  ");
        let Dialog::Confirm(c) = f.submit() else {
            panic!()
        };
        assert_eq!(
            c.lines,
            vec![ChangeLine::new(
                "description",
                "Answers calls".into(),
                "none".into()
            )]
        );
        let Ok(Dialog::Form(mut f)) = dialog_for(Verb::RenameAgent, Some(agent)) else {
            panic!()
        };
        type_into(&mut f, 0, "");
        assert_eq!(
            form(f.submit()).field_errors,
            [(0, "name is empty".to_string())]
        );
    }

    #[test]
    fn toggles_go_straight_to_confirm_and_empty_changes_get_no_dialog() {
        let Ok(Dialog::Confirm(c)) = dialog_for(Verb::SetUserActive, Some(user())) else {
            panic!()
        };
        assert_eq!(
            c.lines,
            vec![ChangeLine::new("active", "yes".into(), "no".into())]
        );
        assert_eq!(c.request.audit_action(), "user.deactivate");
        let number = Target::Number(NumberState {
            id: Uuid::from_u128(3),
            phone_number: "+14155550100".into(),
            name: "Main".into(),
            assigned_to: None,
            assigned_email: None,
            is_active: true,
        });
        assert!(dialog_for(Verb::UnassignNumber, Some(number)).is_err());
        let Ok(Dialog::Form(f)) = dialog_for(Verb::SetRole, Some(user())) else {
            panic!()
        };
        assert_eq!(form(f.submit()).error.as_deref(), Some("nothing to change"));
        assert!(dialog_for(Verb::RenameAgent, Some(user())).is_err());
    }

    fn key(f: &mut Form, code: ratatui::crossterm::event::KeyCode) {
        use ratatui::crossterm::event::{Event, KeyEvent, KeyModifiers};
        let focus = f.focus;
        f.fields[focus].key(&Event::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    }

    #[test]
    fn a_role_is_chosen_from_a_list_that_narrows_as_the_admin_types() {
        use ratatui::crossterm::event::KeyCode::Char;
        let Ok(Dialog::Form(mut f)) = dialog_for(Verb::SetRole, Some(user())) else {
            panic!()
        };
        // Prefilled: every role offered, the one held selected; Enter keeps it.
        let values = |f: &Form| -> Vec<String> {
            f.fields[0]
                .picker
                .items
                .iter()
                .map(|i| i.value.clone())
                .collect()
        };
        assert_eq!(values(&f), ["user", "admin", "super_admin"]);
        assert_eq!(f.fields[0].picker.selected, 0);
        // `A` replaces the value and narrows to the roles holding an a.
        key(&mut f, Char('A'));
        assert_eq!(f.fields[0].input.value(), "A");
        assert_eq!(values(&f), ["admin", "super_admin"]);
        assert_eq!(f.move_choice(true), Moved::Within);
        assert_eq!(f.fields[0].picker.selected, 1);
        assert_eq!(f.move_choice(true), Moved::Within, "stays on the last");
        assert_eq!(f.move_choice(false), Moved::Within);
        // Enter takes `admin` (typed `A`: no case error) and goes on to confirm.
        let Dialog::Confirm(c) = f.submit() else {
            panic!()
        };
        assert_eq!(
            c.lines,
            vec![ChangeLine::new("role", "user".into(), "admin".into())]
        );
    }

    #[test]
    fn a_tenant_is_looked_up_a_page_at_a_time_and_goes_by_id() {
        use ratatui::crossterm::event::KeyCode::{Backspace, Char};
        let Ok(Dialog::Form(mut f)) = dialog_for(Verb::MoveUser, Some(user())) else {
            panic!()
        };
        // Prefilled with the user's tenant: the picker asks for the first page of all.
        let search = f.wanted_search().expect("a search");
        assert_eq!(search.text, "");
        f.asked(7, search.clone());
        assert_eq!(f.wanted_search(), None, "asked once");
        key(&mut f, Char('g'));
        let search = f.wanted_search().expect("the typed text is searched");
        assert_eq!(search.text, "g");
        f.asked(8, search);
        // The answer to the replaced search is dropped; the current one fills the list.
        let page = |names: &[(&str, u128)], more: bool| FoundPage {
            rows: names
                .iter()
                .map(|(n, id)| Found {
                    id: Uuid::from_u128(*id),
                    value: n.to_string(),
                    detail: "pro".into(),
                })
                .collect(),
            next: more.then(|| vec![KeyValue::Text("x".into())]),
        };
        assert!(!f.found(7, Ok(page(&[("Acme", 2)], false))));
        assert!(f.found(8, Ok(page(&[("Globex", 10), ("Gamma", 11)], true))));
        assert!(f.fields[0].choices_current());
        assert_eq!(f.move_choice(true), Moved::Within);
        // Past the last loaded choice: the next page is wanted, from where this one ended.
        let Moved::Wants(more) = f.move_choice(true) else {
            panic!("the next page is wanted")
        };
        assert_eq!(more.after, Some(vec![KeyValue::Text("x".into())]));
        f.asked(9, more);
        assert!(f.found(9, Ok(page(&[("Globex East", 12)], false))));
        assert_eq!(f.fields[0].picker.items.len(), 3, "the page is added");
        assert_eq!(f.move_choice(true), Moved::Within);
        let Dialog::Confirm(c) = f.submit() else {
            panic!()
        };
        // Chosen by id (names need not be unique), shown by name with the id beside it.
        let Request::MoveUser { to, .. } = &c.request else {
            panic!()
        };
        assert_eq!(*to, Uuid::from_u128(12).to_string());
        assert_eq!(
            c.lines[0].new,
            format!("Globex East ({})", Uuid::from_u128(12))
        );
        // Typed text that was never chosen goes as typed.
        let Ok(Dialog::Form(mut f)) = dialog_for(Verb::MoveUser, Some(user())) else {
            panic!()
        };
        key(&mut f, Char('Z'));
        key(&mut f, Backspace);
        key(&mut f, Char('Q'));
        assert_eq!(f.fields[0].input.value(), "Q");
        let Dialog::Confirm(c) = f.submit() else {
            panic!()
        };
        assert_eq!(c.lines[0].new, "Q");
    }
}
