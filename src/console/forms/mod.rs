//! The console's dialogs: sign-in, the form of an action, and its confirm dialog. Pure state and
//! logic; the app routes keys here and the UI draws them.

mod field;
mod sign_in;

pub use field::{Check, Field, FieldKind, Moved, PICKER_ROWS, Picker, Search};
pub use sign_in::{SIGN_IN_TRIES, SignIn};

use std::borrow::Cow;

use uuid::Uuid;

use crate::actions::targets::{AgentState, NumberState, Target, TenantState, UserState};
use crate::actions::{DEFAULT_PLAN, MAX_CREDIT_CHANGE, Request, Role, Verb};
use crate::db::lookup::{Found, FoundPage};
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
    /// `y` came while the check was out: the change applies when the check lets it.
    pub confirmed: bool,
    /// The first row shown, when the rows are more than the screen holds (j/k scroll).
    pub scroll: usize,
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
    /// The file, prefilled with a name of the moment: the first character typed replaces it.
    pub path: Field,
    /// The directory a relative file name is in (the console's working directory).
    pub dir: std::path::PathBuf,
    /// The pane's filter, as typed.
    pub filter_text: String,
    pub error: Option<String>,
}

impl ExportForm {
    pub fn new(name: &str, dir: std::path::PathBuf, filter_text: String) -> ExportForm {
        ExportForm {
            path: Field::new("File", name, FieldKind::Text, ""),
            dir,
            filter_text,
            error: None,
        }
    }

    /// The file as typed, relative names in [`ExportForm::dir`]; none while nothing is typed.
    pub fn file(&self) -> Option<std::path::PathBuf> {
        let typed = self.path.value();
        (!typed.is_empty()).then(|| self.dir.join(typed))
    }
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
/// What a new tenant's plan starts as: the platform's default where it is offered.
fn default_plan(plans: &[String]) -> &str {
    match plans.iter().find(|p| *p == DEFAULT_PLAN) {
        Some(p) => p,
        None => plans.first().map_or("", String::as_str),
    }
}

/// The hints of fields that search the database.
const USER_HINT: &str = "type to search email or name, ↓↑ to choose";
const TENANT_HINT: &str = "type to search the names, ↓↑ to choose";

/// The dialog a verb opens on `target`: a form when there is something to type, else straight
/// to the confirm dialog. `Err` says why the verb cannot start (e.g. nothing to unassign).
/// `plans` are those a tenant may be given on the connected database
/// ([`crate::db::lists::KnownValues::plans`]).
pub fn dialog_for(verb: Verb, target: Option<Target>, plans: &[String]) -> Result<Dialog, String> {
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
                    Field::new(
                        "Amount",
                        "",
                        Amount,
                        match u.credit_cap {
                            Some(cap) => format!(
                                "a whole number of credits, at most {} (admins' cap)",
                                crate::numbers::thousands(cap)
                            )
                            .into(),
                            None => Cow::from("a whole number of credits"),
                        },
                    ),
                    Field::new("Reason", "", Text, "kept in the audit log")
                        .checked(Check::Text(500)),
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
                    Choice(ROLES.iter().map(|r| r.to_string()).collect()),
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
                Field::new("Name", "", Text, "").checked(Check::Text(255)),
                Field::new("Plan", default_plan(plans), Choice(plans.into()), PLAN_HINT),
            ],
        ),
        Verb::RenameTenant => {
            let tenant = tenant_of(verb, t)?;
            form(
                format!("Rename {}", tenant.name),
                vec![Field::new("Name", &tenant.name, Text, "").checked(Check::Text(255))],
            )
        }
        Verb::SetPlan => {
            let tenant = tenant_of(verb, t)?;
            form(
                format!("Change the plan of {}", tenant.name),
                vec![Field::new(
                    "Plan",
                    &tenant.plan,
                    Choice(plans.into()),
                    PLAN_HINT,
                )],
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
                vec![Field::new("Name", &a.name, Text, "").checked(Check::Text(255))],
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
                Field::new("Number", "", Text, "E.164, e.g. +14155550100").checked(Check::E164),
                Field::new("Name", "", Text, "").checked(Check::Text(255)),
                Field::new("Bolna id", "", Text, "the Bolna phone number id")
                    .checked(Check::Text(255)),
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
        let FieldKind::Lookup(lookup) = field.kind.clone() else {
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

    /// Back from the database with why it refused what the form asked: said beside the field
    /// whose value it names (a Bolna id already used), else beside the first (the value the
    /// change turns on), the cursor there.
    pub fn refused(&mut self, why: String) {
        // A value like an id (a number, an email, a key: digits or `@ _ +` in it) and long
        // enough not to match by chance; words a reason might share with the message do not.
        let names = |f: &Field| {
            let v = f.value().trim();
            v.chars().count() >= 6
                && v.chars()
                    .any(|c| c.is_ascii_digit() || matches!(c, '@' | '_' | '+'))
                && why.contains(v)
        };
        let at = self.fields.iter().position(names).unwrap_or(0);
        self.error = None;
        self.field_errors = vec![(at, why)];
        self.focus = at;
        // A search asked while the form was away was answered to nobody: ask again.
        for field in &mut self.fields {
            field.picker.asked = None;
        }
    }

    /// ↓ or ↑ in the focused field's picker.
    pub fn move_choice(&mut self, down: bool) -> Moved {
        let Some(field) = self.fields.get_mut(self.focus) else {
            return Moved::NoChoices;
        };
        if !field.has_picker() || field.picker.items.is_empty() || !field.choices_current() {
            return Moved::NoChoices;
        }
        // Nothing marked yet (the value the field opened with is not among the choices): the
        // first arrow marks the first choice.
        let unmarked = field.marked().is_none();
        let picker = &mut field.picker;
        picker.moved = true;
        if unmarked {
            picker.selected = 0;
            return Moved::Within;
        }
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
            (field.kind.clone(), picker.next.clone(), &picker.asked)
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
            let bad = match &f.kind {
                FieldKind::Choice(options) if f.choice().is_none() => {
                    format!(
                        "{} must be one of {}",
                        f.label.to_lowercase(),
                        options.join(", ")
                    )
                }
                FieldKind::Amount
                    if !crate::numbers::parse_whole(f.value())
                        .is_some_and(|n| (1..=MAX_CREDIT_CHANGE).contains(&n)) =>
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
                | FieldKind::Choice(_) => match f.check.and_then(|c| c.fault(f.value())) {
                    Some(fault) if !f.value().is_empty() => fault,
                    _ => continue,
                },
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
                let amount = crate::numbers::parse_whole(v(0)).unwrap_or_default();
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
                    to: self.fields[0]
                        .choice()
                        .and_then(Role::parse)
                        .unwrap_or(u.role),
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
                plan: self.fields[1].choice().unwrap_or(v(1)).to_string(),
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
                    to: self.fields[0].choice().unwrap_or(v(0)).to_string(),
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

/// The row chosen from the picker of the form's field, if the request's value came from it.
fn picked(form: &Option<Form>, is_it: impl Fn(&Found) -> bool) -> Option<&Found> {
    form.as_ref()
        .and_then(|f| f.fields.first())
        .and_then(Field::picked_now)
        .filter(|f| is_it(f))
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
            let chosen = picked(&form, |f| f.id.to_string() == *to);
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
            // A user chosen from the picker reads with who they are and their tenant, so that
            // a number going to another tenant's user shows before `y`.
            let chosen = picked(&form, |f| f.value == *to && !f.detail.is_empty());
            let new = match chosen {
                Some(f) => format!("{to} ({})", f.detail),
                None => to.clone(),
            };
            vec![line(
                "assigned to",
                n.assigned_email.clone().unwrap_or_else(none),
                new,
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
        confirmed: false,
        scroll: 0,
    }))
}

#[cfg(test)]
mod tests;
