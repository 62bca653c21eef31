//! The request catalogue: every kind of admin change (`Verb`), the change with its values
//! (`Request`), what the audit row will call it, and the checks that need no database.
//!
//! A new action starts here: a `Verb`, a `Request` variant, and the exhaustive matches below;
//! the compiler then lists every other place that must handle it.

use uuid::Uuid;

use super::{ActionError, Role};
use crate::escape::is_unsafe;

/// The largest single credit change anyone may make (the balance column is a 32-bit integer).
pub const MAX_CREDIT_CHANGE: i64 = 1_000_000_000;
/// What an admin (not a super_admin) may add or take in one change unless configured otherwise.
pub const DEFAULT_ADMIN_CREDIT_CAP: i64 = 10_000;
/// A new tenant's plan unless another is chosen (the column's default in the schema). The plans
/// a tenant may be given are the database's ([`crate::db::lists::KnownValues::plans`]).
pub const DEFAULT_PLAN: &str = "pro";

/// The kinds of change, before their values are known (what a key in the console starts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, strum::EnumIter)]
pub enum Verb {
    TopUp,
    Deduct,
    SetUserActive,
    RevokeSessions,
    VerifyEmail,
    SetRole,
    MoveUser,
    CreateTenant,
    RenameTenant,
    SetPlan,
    SetTenantActive,
    RenameAgent,
    DescribeAgent,
    SetAgentActive,
    AddNumber,
    AssignNumber,
    UnassignNumber,
    SetNumberActive,
    SetCreditCap,
}

impl Verb {
    /// The least role that may use it (further rules apply to the target).
    pub fn min_role(self) -> Role {
        match self {
            Verb::TopUp
            | Verb::Deduct
            | Verb::SetUserActive
            | Verb::RevokeSessions
            | Verb::VerifyEmail
            | Verb::RenameAgent
            | Verb::DescribeAgent
            | Verb::SetAgentActive => Role::Admin,
            Verb::SetRole
            | Verb::MoveUser
            | Verb::CreateTenant
            | Verb::RenameTenant
            | Verb::SetPlan
            | Verb::SetTenantActive
            | Verb::AddNumber
            | Verb::AssignNumber
            | Verb::UnassignNumber
            | Verb::SetNumberActive
            | Verb::SetCreditCap => Role::SuperAdmin,
        }
    }

    /// Whether it changes an existing row (else it creates one, or changes a setting).
    pub fn acts_on_a_row(self) -> bool {
        match self {
            Verb::CreateTenant | Verb::AddNumber | Verb::SetCreditCap => false,
            Verb::TopUp
            | Verb::Deduct
            | Verb::SetUserActive
            | Verb::RevokeSessions
            | Verb::VerifyEmail
            | Verb::SetRole
            | Verb::MoveUser
            | Verb::RenameTenant
            | Verb::SetPlan
            | Verb::SetTenantActive
            | Verb::RenameAgent
            | Verb::DescribeAgent
            | Verb::SetAgentActive
            | Verb::AssignNumber
            | Verb::UnassignNumber
            | Verb::SetNumberActive => true,
        }
    }

    /// A dotted name for messages (toggles name both directions).
    pub fn name(self) -> &'static str {
        match self {
            Verb::TopUp => "credits.top_up",
            Verb::Deduct => "credits.deduct",
            Verb::SetUserActive => "user.activate/deactivate",
            Verb::RevokeSessions => "user.revoke_sessions",
            Verb::VerifyEmail => "user.verify_email",
            Verb::SetRole => "user.role_change",
            Verb::MoveUser => "user.tenant_change",
            Verb::CreateTenant => "tenant.create",
            Verb::RenameTenant => "tenant.rename",
            Verb::SetPlan => "tenant.plan_change",
            Verb::SetTenantActive => "tenant.activate/deactivate",
            Verb::RenameAgent => "agent.rename",
            Verb::DescribeAgent => "agent.description_change",
            Verb::SetAgentActive => "agent.activate/deactivate",
            Verb::AddNumber => "phone_number.create",
            Verb::AssignNumber => "phone_number.assign",
            Verb::UnassignNumber => "phone_number.unassign",
            Verb::SetNumberActive => "phone_number.activate/deactivate",
            Verb::SetCreditCap => "settings.admin_credit_cap",
        }
    }
}

/// One admin change, as the forms and the command line describe it. Fields named `from` hold
/// what the admin saw: the change applies only if the row still holds it.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    AdjustCredits {
        user: Uuid,
        /// Positive to top up, negative to deduct.
        delta: i64,
        reason: String,
        /// Made when the confirm dialog opens; the change applies once per key.
        key: Uuid,
    },
    SetUserActive {
        user: Uuid,
        active: bool,
    },
    RevokeSessions {
        user: Uuid,
    },
    MarkEmailVerified {
        user: Uuid,
    },
    SetRole {
        user: Uuid,
        from: Role,
        to: Role,
    },
    MoveUser {
        user: Uuid,
        from: Uuid,
        /// The tenant's id or exact name.
        to: String,
    },
    CreateTenant {
        name: String,
        plan: String,
    },
    RenameTenant {
        tenant: Uuid,
        from: String,
        to: String,
    },
    SetPlan {
        tenant: Uuid,
        from: String,
        to: String,
    },
    SetTenantActive {
        tenant: Uuid,
        active: bool,
    },
    RenameAgent {
        agent: Uuid,
        from: String,
        to: String,
    },
    SetAgentDescription {
        agent: Uuid,
        from: Option<String>,
        to: Option<String>,
    },
    SetAgentActive {
        agent: Uuid,
        active: bool,
    },
    AddNumber {
        number: String,
        name: String,
        bolna_id: String,
    },
    /// Assign, or reassign when `from` is a user.
    AssignNumber {
        number: Uuid,
        from: Option<Uuid>,
        /// The user's email or id.
        to: String,
    },
    UnassignNumber {
        number: Uuid,
        from: Uuid,
    },
    SetNumberActive {
        number: Uuid,
        active: bool,
    },
    /// The most an admin may add or take in one credit change.
    SetCreditCap {
        from: i64,
        to: i64,
    },
}

impl Request {
    /// The audit row's `action`.
    pub fn audit_action(&self) -> &'static str {
        let toggle =
            |active: bool, on: &'static str, off: &'static str| if active { on } else { off };
        match self {
            Request::AdjustCredits { delta, .. } if *delta >= 0 => "credits.top_up",
            Request::AdjustCredits { .. } => "credits.deduct",
            Request::SetUserActive { active, .. } => {
                toggle(*active, "user.activate", "user.deactivate")
            }
            Request::RevokeSessions { .. } => "user.revoke_sessions",
            Request::MarkEmailVerified { .. } => "user.verify_email",
            Request::SetRole { .. } => "user.role_change",
            Request::MoveUser { .. } => "user.tenant_change",
            Request::CreateTenant { .. } => "tenant.create",
            Request::RenameTenant { .. } => "tenant.rename",
            Request::SetPlan { .. } => "tenant.plan_change",
            Request::SetTenantActive { active, .. } => {
                toggle(*active, "tenant.activate", "tenant.deactivate")
            }
            Request::RenameAgent { .. } => "agent.rename",
            Request::SetAgentDescription { .. } => "agent.description_change",
            Request::SetAgentActive { active, .. } => {
                toggle(*active, "agent.activate", "agent.deactivate")
            }
            Request::AddNumber { .. } => "phone_number.create",
            Request::AssignNumber { from: Some(_), .. } => "phone_number.reassign",
            Request::AssignNumber { .. } => "phone_number.assign",
            Request::UnassignNumber { .. } => "phone_number.unassign",
            Request::SetNumberActive { active, .. } => {
                toggle(*active, "phone_number.activate", "phone_number.deactivate")
            }
            Request::SetCreditCap { .. } => "settings.admin_credit_cap",
        }
    }

    /// What kind of change it is.
    pub fn verb(&self) -> Verb {
        match self {
            Request::AdjustCredits { delta, .. } if *delta >= 0 => Verb::TopUp,
            Request::AdjustCredits { .. } => Verb::Deduct,
            Request::SetUserActive { .. } => Verb::SetUserActive,
            Request::RevokeSessions { .. } => Verb::RevokeSessions,
            Request::MarkEmailVerified { .. } => Verb::VerifyEmail,
            Request::SetRole { .. } => Verb::SetRole,
            Request::MoveUser { .. } => Verb::MoveUser,
            Request::CreateTenant { .. } => Verb::CreateTenant,
            Request::RenameTenant { .. } => Verb::RenameTenant,
            Request::SetPlan { .. } => Verb::SetPlan,
            Request::SetTenantActive { .. } => Verb::SetTenantActive,
            Request::RenameAgent { .. } => Verb::RenameAgent,
            Request::SetAgentDescription { .. } => Verb::DescribeAgent,
            Request::SetAgentActive { .. } => Verb::SetAgentActive,
            Request::AddNumber { .. } => Verb::AddNumber,
            Request::AssignNumber { .. } => Verb::AssignNumber,
            Request::UnassignNumber { .. } => Verb::UnassignNumber,
            Request::SetNumberActive { .. } => Verb::SetNumberActive,
            Request::SetCreditCap { .. } => Verb::SetCreditCap,
        }
    }

    /// The least role that may ask for it (further rules apply to the target).
    pub fn min_role(&self) -> Role {
        self.verb().min_role()
    }

    /// The audit row's resource type and id (none yet for a row being created).
    pub fn resource(&self) -> (&'static str, Option<Uuid>) {
        match self {
            Request::AdjustCredits { user, .. }
            | Request::SetUserActive { user, .. }
            | Request::RevokeSessions { user }
            | Request::MarkEmailVerified { user }
            | Request::SetRole { user, .. }
            | Request::MoveUser { user, .. } => ("user", Some(*user)),
            Request::CreateTenant { .. } => ("tenant", None),
            Request::RenameTenant { tenant, .. }
            | Request::SetPlan { tenant, .. }
            | Request::SetTenantActive { tenant, .. } => ("tenant", Some(*tenant)),
            Request::RenameAgent { agent, .. }
            | Request::SetAgentDescription { agent, .. }
            | Request::SetAgentActive { agent, .. } => ("agent", Some(*agent)),
            Request::AddNumber { .. } => ("phone_number", None),
            Request::AssignNumber { number, .. }
            | Request::UnassignNumber { number, .. }
            | Request::SetNumberActive { number, .. } => ("phone_number", Some(*number)),
            Request::SetCreditCap { .. } => ("console_setting", None),
        }
    }

    /// Checks what can be checked without the database, returning the request with its text
    /// trimmed.
    pub fn validated(&self) -> Result<Request, ActionError> {
        let mut r = self.clone();
        match &mut r {
            Request::AdjustCredits { delta, reason, .. } => {
                if *delta == 0 || delta.unsigned_abs() > MAX_CREDIT_CHANGE as u64 {
                    return Err(ActionError::Invalid(format!(
                        "the amount must be a whole number from 1 to {MAX_CREDIT_CHANGE}"
                    )));
                }
                *reason = validate_text("reason", reason, 500)?;
            }
            Request::CreateTenant { name, plan } => {
                *name = validate_text("tenant name", name, 255)?;
                *plan = validate_plan(plan)?;
            }
            Request::RenameTenant { to, .. } => *to = validate_text("tenant name", to, 255)?,
            Request::SetPlan { to, .. } => *to = validate_plan(to)?,
            Request::RenameAgent { to, .. } => *to = validate_text("agent name", to, 255)?,
            Request::SetAgentDescription { to, .. } => {
                *to = match to.as_deref().map(str::trim) {
                    None | Some("") => None,
                    Some(t) if t.chars().count() > 10_000 => {
                        return Err(ActionError::Invalid(
                            "the description is longer than 10,000 characters".into(),
                        ));
                    }
                    // Lines and tabs are text here (shown escaped); nothing else a terminal
                    // acts on, reorders by, or hides.
                    Some(t) if t.chars().any(|c| !matches!(c, '\n' | '\t') && is_unsafe(c)) => {
                        return Err(ActionError::Invalid(
                            "the description contains control, bidirectional or invisible \
                             characters"
                                .into(),
                        ));
                    }
                    Some(t) => Some(t.to_string()),
                };
            }
            Request::AddNumber {
                number,
                name,
                bolna_id,
            } => {
                *number = validate_e164(number)?;
                *name = validate_text("name", name, 255)?;
                *bolna_id = validate_text("Bolna phone number id", bolna_id, 255)?;
            }
            Request::SetCreditCap { to, .. } if !(1..=MAX_CREDIT_CHANGE).contains(to) => {
                return Err(ActionError::Invalid(format!(
                    "the cap must be a whole number from 1 to {MAX_CREDIT_CHANGE}"
                )));
            }
            Request::SetCreditCap { .. } => {}
            Request::AssignNumber { to, .. } | Request::MoveUser { to, .. } => {
                *to = to.trim().to_string();
                if to.is_empty() {
                    return Err(ActionError::Invalid("say who or where to".into()));
                }
            }
            // Nothing typed to check: a role comes parsed, the rest are toggles and ids.
            Request::SetUserActive { .. }
            | Request::RevokeSessions { .. }
            | Request::MarkEmailVerified { .. }
            | Request::SetRole { .. }
            | Request::SetTenantActive { .. }
            | Request::SetAgentActive { .. }
            | Request::UnassignNumber { .. }
            | Request::SetNumberActive { .. } => {}
        }
        Ok(r)
    }
}

/// A single-line text: trimmed, not blank, no control characters, at most `max` characters.
pub fn validate_text(what: &str, value: &str, max: usize) -> Result<String, ActionError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(ActionError::Invalid(format!("the {what} is empty")));
    }
    if v.chars().any(is_unsafe) {
        return Err(ActionError::Invalid(format!(
            "the {what} contains control, bidirectional or invisible characters"
        )));
    }
    if v.chars().count() > max {
        return Err(ActionError::Invalid(format!(
            "the {what} is longer than {max} characters"
        )));
    }
    Ok(v.to_string())
}

pub fn validate_email(value: &str) -> Result<String, ActionError> {
    let v = validate_text("email", value, 255)?;
    match v.split_once('@') {
        Some((local, domain)) if !local.is_empty() && domain.contains('.') && !v.contains(' ') => {
            Ok(v)
        }
        _ => Err(ActionError::Invalid(format!("{v} is not an email address"))),
    }
}

/// A plan's text (whether this database has that plan is checked when the change is made).
fn validate_plan(plan: &str) -> Result<String, ActionError> {
    let p = validate_text("plan", plan, 50)?;
    if p == "system" {
        return Err(ActionError::Invalid(
            "the plan \"system\" is the system tenant's alone".into(),
        ));
    }
    Ok(p)
}

/// An E.164 number: `+`, a country code not starting with 0, at most 15 digits in all.
/// Spaces, dashes, dots and brackets are dropped first.
pub fn validate_e164(value: &str) -> Result<String, ActionError> {
    let compact: String = value
        .trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
        .collect();
    let digits = compact.strip_prefix('+').unwrap_or("");
    let ok = !digits.is_empty()
        && digits.len() <= 15
        && digits.len() >= 8
        && digits.chars().all(|c| c.is_ascii_digit())
        && !digits.starts_with('0');
    if ok {
        Ok(compact)
    } else {
        Err(ActionError::Invalid(format!(
            "{:?} is not an E.164 number (e.g. +14155550100)",
            value.trim()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e164_numbers_are_normalised_and_checked() {
        assert_eq!(
            validate_e164(" +1 (415) 555-0100 ").unwrap(),
            "+14155550100"
        );
        for bad in [
            "14155550100",
            "+0123456789",
            "+1415555010012345",
            "+1415abc0100",
            "+",
            "",
        ] {
            assert!(validate_e164(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn text_fields_refuse_blank_control_characters_and_overlong_values() {
        assert_eq!(validate_text("name", "  Acme  ", 10).unwrap(), "Acme");
        assert!(validate_text("name", "   ", 10).is_err());
        assert!(validate_text("name", "a\x1bb", 10).is_err());
        assert!(validate_text("name", "a\u{202e}b", 10).is_err());
        assert!(validate_text("name", "a\u{200b}b", 10).is_err());
        assert!(validate_text("name", "abcdefghijk", 10).is_err());
    }

    #[test]
    fn credit_amounts_must_be_whole_positive_and_bounded() {
        let r = |delta| Request::AdjustCredits {
            user: Uuid::nil(),
            delta,
            reason: "x".into(),
            key: Uuid::nil(),
        };
        assert!(r(0).validated().is_err());
        assert!(r(MAX_CREDIT_CHANGE + 1).validated().is_err());
        assert!(r(-MAX_CREDIT_CHANGE - 1).validated().is_err());
        assert!(r(MAX_CREDIT_CHANGE).validated().is_ok());
        assert_eq!(r(5).audit_action(), "credits.top_up");
        assert_eq!(r(-5).audit_action(), "credits.deduct");
    }
}
