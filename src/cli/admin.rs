//! `admin create` and `admin set-password`: bootstrapping admin accounts on a real database.

use clap::Subcommand;

use super::{CliError, RunContext, sign_in};
use crate::actions::{ActionError, AuditContext, Role, admins};
use crate::db::connect::Connection;

#[derive(Debug, Subcommand)]
pub enum AdminCmd {
    /// Create an admin account (the first super_admin needs no sign-in; after that, a super_admin).
    Create {
        /// The account's email (it signs in with it).
        #[arg(long)]
        email: String,
        /// The account's name.
        #[arg(long)]
        name: String,
        /// Its role.
        #[arg(long, value_parser = ["admin", "super_admin"])]
        role: String,
    },
    /// Set an admin account's password (same rule as create).
    SetPassword {
        /// The admin account's email.
        email: String,
    },
    /// Lift the pause of an email's sign-in after repeated failed attempts (a super_admin,
    /// signed in with --admin).
    Unlock {
        /// The email whose sign-in is paused.
        email: String,
    },
}

/// `admin create`, `admin set-password` and `admin unlock`.
pub(super) async fn execute(
    conn: &Connection,
    run: &RunContext,
    cmd: AdminCmd,
) -> Result<String, CliError> {
    if conn.read_only {
        return Err(ActionError::ReadOnly.into());
    }
    // Sign in only when an admin is named: the very first super_admin has nobody to sign in as.
    let by = match &run.admin {
        Some(a) => Some(
            sign_in::sign_in(
                conn,
                run,
                Some(a.trim().to_string()),
                run.admin_password_file.as_deref(),
            )
            .await?,
        ),
        None => None,
    };
    let audit_ctx = AuditContext::from_env();
    match cmd {
        AdminCmd::Create { email, name, role } => {
            let role = Role::parse(&role).unwrap_or(Role::Admin);
            // The new account's password: the file, or asked twice.
            let password = sign_in::password_for(&email, run.password_file.as_deref(), true)?;
            let id = admins::create_admin(
                &conn.pool,
                by.as_ref(),
                &audit_ctx,
                &email,
                &name,
                role,
                &password,
            )
            .await?;
            Ok(format!("Created {} {email} ({id}).", role.as_str()))
        }
        AdminCmd::SetPassword { email } => {
            let password = sign_in::password_for(&email, run.password_file.as_deref(), true)?;
            admins::set_password(&conn.pool, by.as_ref(), &audit_ctx, &email, &password).await?;
            Ok(format!("Set the password of {email}."))
        }
        AdminCmd::Unlock { email } => {
            let Some(by) = &by else {
                return Err(CliError::Usage(
                    "admin unlock needs a signed-in super_admin: name one with --admin EMAIL"
                        .into(),
                ));
            };
            Ok(
                match admins::unlock(&conn.pool, by, &audit_ctx, &email).await? {
                    true => format!("The sign-in of {email} is no longer paused."),
                    false => format!(
                        "The sign-in of {email} was not paused; its failures so far no longer count."
                    ),
                },
            )
        }
    }
}
