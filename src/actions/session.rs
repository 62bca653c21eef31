//! Who acts, and from where: the admin's role, the signed-in admin, and what every audit row says
//! about the machine a change came from.

use std::net::IpAddr;

use uuid::Uuid;

use super::ActionError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    User,
    Admin,
    SuperAdmin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::User, Role::Admin, Role::SuperAdmin];

    pub fn parse(s: &str) -> Option<Role> {
        match s.trim() {
            "user" => Some(Role::User),
            "admin" => Some(Role::Admin),
            "super_admin" => Some(Role::SuperAdmin),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Admin => "admin",
            Role::SuperAdmin => "super_admin",
        }
    }

    pub fn is_admin(self) -> bool {
        self >= Role::Admin
    }

    pub(crate) fn require(self, needed: Role, what: &str) -> Result<(), ActionError> {
        if self >= needed {
            Ok(())
        } else {
            Err(ActionError::Forbidden(format!(
                "{what} needs {}; you are {}",
                needed.as_str(),
                self.as_str()
            )))
        }
    }
}

/// The signed-in admin the console acts as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub role: Role,
}

/// What every audit row says about where a change came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditContext {
    pub ip: Option<IpAddr>,
    pub user_agent: String,
}

impl AuditContext {
    /// The SSH client's address (`SSH_CONNECTION`, else `SSH_CLIENT`) and
    /// `switchboard/VERSION (os-user@host)`.
    pub fn from_env() -> AuditContext {
        let var = |k: &str| std::env::var(k).ok();
        let ip = client_ip(var("SSH_CONNECTION").as_deref())
            .or_else(|| client_ip(var("SSH_CLIENT").as_deref()));
        let user = var("USER")
            .or_else(|| var("LOGNAME"))
            .or_else(|| {
                nix::unistd::User::from_uid(nix::unistd::getuid())
                    .ok()
                    .flatten()
                    .map(|u| u.name)
            })
            .unwrap_or_else(|| "unknown".into());
        let host = nix::unistd::gethostname()
            .ok()
            .and_then(|h| h.into_string().ok())
            .unwrap_or_else(|| "unknown".into());
        AuditContext {
            ip,
            user_agent: user_agent(&user, &host),
        }
    }
}

pub fn user_agent(user: &str, host: &str) -> String {
    format!("switchboard/{} ({user}@{host})", env!("CARGO_PKG_VERSION"))
}

/// The client address of an `SSH_CONNECTION` / `SSH_CLIENT` value (its first word).
pub fn client_ip(value: Option<&str>) -> Option<IpAddr> {
    value?.split_whitespace().next()?.parse().ok()
}

/// Everything an action needs to know about who runs it and how.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub actor: Actor,
    pub ctx: AuditContext,
    pub read_only: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssh_client_address_is_the_first_word() {
        assert_eq!(
            client_ip(Some("203.0.113.9 52144 10.0.0.5 22")),
            Some("203.0.113.9".parse().unwrap())
        );
        assert_eq!(
            client_ip(Some("2001:db8::1 52144 2001:db8::2 22")),
            Some("2001:db8::1".parse().unwrap())
        );
        assert_eq!(client_ip(Some("garbage")), None);
        assert_eq!(client_ip(None), None);
    }
}
