//! Signing a command in: the action layer's one sign-in flow, with the password from a file or
//! the terminal (never echoed); on the embedded default a demo account needs none.

use std::path::Path;

use super::{CliError, RunContext};
use crate::actions::sign_in::{self, Credentials, SignInError};
use crate::actions::{ActionError, Actor, AuditContext, Session};
use crate::db::connect::{Connection, DbTarget};
use crate::password::Secret;

/// Reads a password from the first line of `file`, or asks on the terminal (twice for a new
/// password).
pub(super) fn password_for(
    email: &str,
    file: Option<&Path>,
    prompt_twice: bool,
) -> Result<Secret, CliError> {
    if let Some(file) = file {
        let text = std::fs::read_to_string(file)
            .map_err(|e| CliError::Io(format!("cannot read {}: {e}", file.display())))?;
        let line = text.lines().next().unwrap_or_default();
        return Ok(Secret::new(line));
    }
    let ask = |prompt: &str| {
        rpassword::prompt_password(prompt).map_err(|e| {
            CliError::Usage(format!(
                "cannot ask for the password ({e}); use --password-file FILE"
            ))
        })
    };
    let first = ask(&format!("Password for {email}: "))?;
    if prompt_twice && ask("Repeat the password: ")? != first {
        return Err(CliError::Usage(
            "the two passwords differ; nothing was changed".into(),
        ));
    }
    Ok(Secret::new(first))
}

/// Signs the command in as `admin` (see `RunContext::admin_or_demo`), with the password from
/// `password_file` or the terminal (on the embedded default a demo account needs none).
pub(super) async fn sign_in(
    conn: &Connection,
    run: &RunContext,
    admin: Option<String>,
    password_file: Option<&Path>,
) -> Result<Actor, CliError> {
    let embedded = matches!(run.target, DbTarget::Embedded);
    let Some(email) = admin else {
        return Err(CliError::Usage(
            "name the admin to act as with --admin EMAIL (or SWITCHBOARD_ADMIN, or admin = \
             in the config file)"
                .into(),
        ));
    };
    let audit_ctx = AuditContext::from_env();
    let attempt = async |credentials: Credentials| {
        sign_in::sign_in(&conn.pool, &email, &credentials, &audit_ctx, conn.read_only).await
    };
    if embedded && password_file.is_none() {
        match attempt(Credentials::Demo).await {
            Ok(actor) => return Ok(actor),
            Err(SignInError::NeedPassword) => {}
            Err(e) => return Err(ActionError::from(e).into()),
        }
    }
    let password = password_for(&email, password_file, false)?;
    attempt(Credentials::Password(password))
        .await
        .map_err(|e| ActionError::from(e).into())
}

/// Signs in as the command's admin (`--admin`, `--password-file`) and returns the session its
/// actions and exports run as.
pub(super) async fn session(conn: &Connection, run: &RunContext) -> Result<Session, CliError> {
    let actor = sign_in(conn, run, run.admin_or_demo(), run.password_file.as_deref()).await?;
    Ok(Session {
        actor,
        ctx: AuditContext::from_env(),
        read_only: conn.read_only,
    })
}
