//! The admin actions as subcommands, for support macros and scripts: the same action layer as
//! the console's forms, signed in the same way. Each noun is a subcommand group; the groups are
//! flattened into the top-level command line.

use clap::{Args, Subcommand};
use uuid::Uuid;

use super::{CliError, RunContext, output, sign_in};
use crate::actions::{self, ActionError, MAX_CREDIT_CHANGE, Outcome, Request, Role, targets};
use crate::db::connect::Connection;

/// The action nouns, flattened into the top-level subcommands.
#[derive(Debug, Subcommand)]
pub enum ActionCommand {
    /// Settings only a super_admin changes (the admins' credit cap).
    #[command(subcommand)]
    Settings(SettingsCmd),
    /// Top up or deduct a user's credits.
    #[command(subcommand)]
    Credits(CreditsCmd),
    /// Activate, deactivate, revoke sessions, verify email, change role or tenant.
    #[command(subcommand)]
    Users(UsersCmd),
    /// Create, rename, change plan, activate or deactivate tenants.
    #[command(subcommand)]
    Tenants(TenantsCmd),
    /// Rename, describe, activate or deactivate agents.
    #[command(subcommand)]
    Agents(AgentsCmd),
    /// Add, assign, unassign, activate or deactivate phone numbers.
    #[command(subcommand)]
    Numbers(NumbersCmd),
}

#[derive(Debug, Args)]
pub struct CreditArgs {
    /// The user's email or id.
    #[arg(long)]
    pub user: String,
    /// A positive whole number of credits (`1000` or `1,000`).
    #[arg(long, value_parser = credits)]
    amount: i64,
    /// Why (kept in the audit log).
    #[arg(long)]
    reason: String,
    /// Applies the change once however often the command is run with the same key (a new key
    /// by default).
    #[arg(long, value_name = "UUID")]
    idempotency_key: Option<Uuid>,
}

#[derive(Debug, Subcommand)]
pub enum CreditsCmd {
    /// Add credits to a user's balance.
    TopUp(CreditArgs),
    /// Take credits from a user's balance (never below zero).
    Deduct(CreditArgs),
}

#[derive(Debug, Args)]
pub struct UserArg {
    /// The user's email or id.
    #[arg(long)]
    pub user: String,
}

#[derive(Debug, Subcommand)]
pub enum UsersCmd {
    /// Let a deactivated user sign in and use the platform again.
    Activate(UserArg),
    /// Stop a user from signing in (their data stays).
    Deactivate(UserArg),
    /// End every unexpired session of the user.
    RevokeSessions(UserArg),
    /// Mark the user's email address verified.
    VerifyEmail(UserArg),
    /// Change a user's role (super_admin).
    SetRole {
        #[command(flatten)]
        user: UserArg,
        /// The new role.
        #[arg(long, value_parser = ["user", "admin", "super_admin"])]
        role: String,
    },
    /// Move a user to another tenant (super_admin).
    Move {
        #[command(flatten)]
        user: UserArg,
        /// The tenant's exact name or id.
        #[arg(long)]
        tenant: String,
    },
}

#[derive(Debug, Args)]
pub struct TenantArg {
    /// The tenant's exact name or id.
    #[arg(long)]
    pub tenant: String,
}

#[derive(Debug, Subcommand)]
pub enum TenantsCmd {
    /// Create a tenant (super_admin).
    Create {
        /// Its name (not blank).
        #[arg(long)]
        name: String,
        /// Its plan: one the database's CHECK constraint lists (as documented: free, starter,
        /// pro, enterprise).
        #[arg(long, default_value = actions::DEFAULT_PLAN)]
        plan: String,
    },
    /// Rename a tenant (super_admin; not the system tenant).
    Rename {
        #[command(flatten)]
        tenant: TenantArg,
        /// The new name (not blank).
        #[arg(long)]
        name: String,
    },
    /// Change a tenant's plan (super_admin; not the system tenant).
    SetPlan {
        #[command(flatten)]
        tenant: TenantArg,
        /// The new plan: one the database's CHECK constraint lists (as documented: free,
        /// starter, pro, enterprise).
        #[arg(long)]
        plan: String,
    },
    /// Reactivate a tenant (super_admin).
    Activate(TenantArg),
    /// Deactivate a tenant (super_admin; not the system tenant).
    Deactivate(TenantArg),
}

#[derive(Debug, Args)]
pub struct AgentArg {
    /// The agent's id or Bolna agent id.
    #[arg(long)]
    pub agent: String,
}

#[derive(Debug, Subcommand)]
pub enum AgentsCmd {
    /// Rename an agent.
    Rename {
        #[command(flatten)]
        agent: AgentArg,
        /// The new name (not blank).
        #[arg(long)]
        name: String,
    },
    /// Set the description ("" clears it).
    Describe {
        #[command(flatten)]
        agent: AgentArg,
        /// The new description.
        #[arg(long)]
        description: String,
    },
    /// Activate an agent (it takes calls again).
    Activate(AgentArg),
    /// Deactivate an agent (it takes no calls; its history stays).
    Deactivate(AgentArg),
}

#[derive(Debug, Args)]
pub struct NumberArg {
    /// The number in E.164 (its active row, else its only row) or the row's id.
    #[arg(long)]
    pub number: String,
}

#[derive(Debug, Subcommand)]
pub enum NumbersCmd {
    /// Add a phone number (super_admin).
    Add {
        /// The number in E.164, e.g. +14155550100.
        #[arg(long)]
        number: String,
        /// A name for it (shown in lists).
        #[arg(long)]
        name: String,
        /// Bolna's id for the number.
        #[arg(long)]
        bolna_id: String,
    },
    /// Assign a number to an active user, or reassign it.
    Assign {
        #[command(flatten)]
        number: NumberArg,
        /// The user's email or id.
        #[arg(long)]
        user: String,
    },
    /// Take a number from the user it is assigned to (super_admin).
    Unassign(NumberArg),
    /// Reactivate a number (super_admin; one active row per number).
    Activate(NumberArg),
    /// Deactivate a number (super_admin).
    Deactivate(NumberArg),
}

#[derive(Debug, Subcommand)]
pub enum SettingsCmd {
    /// Set the most an admin (not a super_admin) may add or take in one credit change
    /// (super_admin; audited as settings.admin_credit_cap).
    SetCreditCap {
        /// The new cap, in credits (`10000` or `10,000`).
        #[arg(value_parser = credits)]
        cap: i64,
    },
}

/// A count of credits on the command line, as the console's forms read it.
fn credits(text: &str) -> Result<i64, String> {
    crate::numbers::credits_arg(text, MAX_CREDIT_CHANGE)
}

/// Turns an action subcommand into a request, reading what its target holds now.
async fn request(conn: &Connection, cmd: ActionCommand) -> Result<Request, ActionError> {
    let pool = &conn.pool;
    Ok(match cmd {
        ActionCommand::Settings(SettingsCmd::SetCreditCap { cap }) => Request::SetCreditCap {
            from: actions::credit_cap(&mut *crate::db::pinned(pool).await?).await?,
            to: cap,
        },
        ActionCommand::Credits(c) => {
            let (args, sign) = match c {
                CreditsCmd::TopUp(a) => (a, 1),
                CreditsCmd::Deduct(a) => (a, -1),
            };
            let user = targets::user(pool, &args.user).await?;
            Request::AdjustCredits {
                user: user.id,
                delta: sign * args.amount,
                reason: args.reason,
                key: args.idempotency_key.unwrap_or_else(Uuid::new_v4),
            }
        }
        ActionCommand::Users(c) => match c {
            UsersCmd::Activate(u) => Request::SetUserActive {
                user: targets::user(pool, &u.user).await?.id,
                active: true,
            },
            UsersCmd::Deactivate(u) => Request::SetUserActive {
                user: targets::user(pool, &u.user).await?.id,
                active: false,
            },
            UsersCmd::RevokeSessions(u) => Request::RevokeSessions {
                user: targets::user(pool, &u.user).await?.id,
            },
            UsersCmd::VerifyEmail(u) => Request::MarkEmailVerified {
                user: targets::user(pool, &u.user).await?.id,
            },
            UsersCmd::SetRole { user, role } => {
                let u = targets::user(pool, &user.user).await?;
                Request::SetRole {
                    user: u.id,
                    from: u.role,
                    to: Role::parse(&role).unwrap_or(Role::User),
                }
            }
            UsersCmd::Move { user, tenant } => {
                let u = targets::user(pool, &user.user).await?;
                Request::MoveUser {
                    user: u.id,
                    from: u.tenant_id,
                    to: tenant,
                }
            }
        },
        ActionCommand::Tenants(c) => match c {
            TenantsCmd::Create { name, plan } => Request::CreateTenant { name, plan },
            TenantsCmd::Rename { tenant, name } => {
                let t = targets::tenant(pool, &tenant.tenant).await?;
                Request::RenameTenant {
                    tenant: t.id,
                    from: t.name,
                    to: name,
                }
            }
            TenantsCmd::SetPlan { tenant, plan } => {
                let t = targets::tenant(pool, &tenant.tenant).await?;
                Request::SetPlan {
                    tenant: t.id,
                    from: t.plan,
                    to: plan,
                }
            }
            TenantsCmd::Activate(t) => Request::SetTenantActive {
                tenant: targets::tenant(pool, &t.tenant).await?.id,
                active: true,
            },
            TenantsCmd::Deactivate(t) => Request::SetTenantActive {
                tenant: targets::tenant(pool, &t.tenant).await?.id,
                active: false,
            },
        },
        ActionCommand::Agents(c) => match c {
            AgentsCmd::Rename { agent, name } => {
                let a = targets::agent(pool, &agent.agent).await?;
                Request::RenameAgent {
                    agent: a.id,
                    from: a.name,
                    to: name,
                }
            }
            AgentsCmd::Describe { agent, description } => {
                let a = targets::agent(pool, &agent.agent).await?;
                Request::SetAgentDescription {
                    agent: a.id,
                    from: a.description,
                    to: Some(description),
                }
            }
            AgentsCmd::Activate(a) => Request::SetAgentActive {
                agent: targets::agent(pool, &a.agent).await?.id,
                active: true,
            },
            AgentsCmd::Deactivate(a) => Request::SetAgentActive {
                agent: targets::agent(pool, &a.agent).await?.id,
                active: false,
            },
        },
        ActionCommand::Numbers(c) => match c {
            NumbersCmd::Add {
                number,
                name,
                bolna_id,
            } => Request::AddNumber {
                number,
                name,
                bolna_id,
            },
            NumbersCmd::Assign { number, user } => {
                let n = targets::number(pool, &number.number).await?;
                Request::AssignNumber {
                    number: n.id,
                    from: n.assigned_to,
                    to: user,
                }
            }
            NumbersCmd::Unassign(number) => {
                let n = targets::number(pool, &number.number).await?;
                match n.assigned_to {
                    Some(from) => Request::UnassignNumber { number: n.id, from },
                    None => {
                        return Err(ActionError::Invalid(format!(
                            "{} is not assigned to anyone",
                            n.phone_number
                        )));
                    }
                }
            }
            NumbersCmd::Activate(number) => Request::SetNumberActive {
                number: targets::number(pool, &number.number).await?.id,
                active: true,
            },
            NumbersCmd::Deactivate(number) => Request::SetNumberActive {
                number: targets::number(pool, &number.number).await?.id,
                active: false,
            },
        },
    })
}

/// Signs in, applies the action, and prints its outcome (a failure is reported by the caller,
/// as JSON with --json).
pub(super) async fn execute(
    conn: &Connection,
    run: &RunContext,
    cmd: ActionCommand,
) -> Result<(), CliError> {
    let out = apply(conn, run, cmd).await?;
    match out.audit_id {
        _ if run.json => output::json(&out.to_json())?,
        Some(id) => output::line(format!("{} (audit entry {id})", out.summary()))?,
        None => output::line(out.summary())?,
    }
    Ok(())
}

async fn apply(
    conn: &Connection,
    run: &RunContext,
    cmd: ActionCommand,
) -> Result<Outcome, CliError> {
    if conn.read_only {
        return Err(ActionError::ReadOnly.into());
    }
    let session = sign_in::session(conn, run).await?;
    let req = request(conn, cmd).await?;
    Ok(actions::apply(&conn.pool, &session, &req).await?)
}
