//! The console's dialogs: sign-in, the form of an action, and its confirm dialog. Pure state and
//! logic; the app routes keys here and the UI draws them.

use tui_input::Input;
use uuid::Uuid;

use crate::actions::targets::{AgentState, NumberState, Target, TenantState, UserState};
use crate::actions::{MAX_CREDIT_CHANGE, PLANS, Request, Role, Verb};

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
    /// One of a fixed list (typed; the hint lists them).
    Choice(&'static [&'static str]),
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
}

impl Field {
    fn new(label: &'static str, value: &str, kind: FieldKind, hint: &'static str) -> Field {
        Field {
            label,
            input: Input::new(value.to_string()),
            kind,
            hint,
            prefilled: !value.is_empty(),
        }
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

const PLAN_HINT: &str = "free, starter, pro or enterprise";

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
                    "user, admin or super_admin",
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
                    Text,
                    "the tenant's exact name or id",
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
                    Text,
                    "an active user's email",
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
    /// The request the form describes, or why it cannot be sent yet (and which field is at
    /// fault, when one is).
    /// Every field's error, in field order.
    pub fn field_errors(&self) -> Vec<(usize, String)> {
        let mut errors = Vec::new();
        for (i, f) in self.fields.iter().enumerate() {
            let bad = match f.kind {
                FieldKind::Choice(options) if !options.contains(&f.value()) => {
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
                FieldKind::Text if f.value().is_empty() => {
                    format!("{} is empty", f.label.to_lowercase())
                }
                FieldKind::Text
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
                    to: Role::parse(v(0)).unwrap_or(u.role),
                }
            }
            Verb::MoveUser => {
                let u = user_of(verb, t).map_err(no_field)?;
                Request::MoveUser {
                    user: u.id,
                    from: u.tenant_id,
                    to: v(0).to_string(),
                }
            }
            Verb::CreateTenant => Request::CreateTenant {
                name: v(0).to_string(),
                plan: v(1).to_string(),
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
                    to: v(0).to_string(),
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
            vec![line("tenant", u.tenant_name.clone(), to.clone())]
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
}
