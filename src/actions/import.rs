//! `import.legacy`: the legacy voice_agent import (`db::legacy`) as one audited action. A
//! super_admin only. Everything is written in one transaction with the action's audit row
//! (the counts and the report's SHA-256); a dry run, a failed check or an error rolls it all
//! back, and the attempt is recorded on its own.

use serde_json::{Value, json};

use super::audit::{self, AuditEntry};
use super::{ActionError, Role, Session};
use crate::db::DbError;
use crate::db::legacy::{self, ImportError, Progress, Report, Source};

const ACTION: &str = "import.legacy";

/// What the import did.
#[derive(Debug, Clone)]
pub struct Imported {
    pub report: Report,
    /// The report as written to `--report` and printed by `--json` (with its `sha256`).
    pub json: Value,
    pub sha256: String,
    /// Whether the import was committed (no dry run, every check passed).
    pub committed: bool,
}

fn action_error(e: ImportError) -> ActionError {
    match e {
        ImportError::Db(e) => ActionError::Db(e.brief()),
        e @ (ImportError::Schema(_) | ImportError::Copy { .. } | ImportError::Integrity(_)) => {
            ActionError::Invalid(e.to_string())
        }
    }
}

/// Imports `source` (read through `source_pool`) into the console's database as the session's
/// super_admin. `dry_run` rolls everything back and reports the same.
pub async fn import_legacy(
    pool: &sqlx::PgPool,
    session: &Session,
    source_pool: &sqlx::PgPool,
    source: &Source,
    dry_run: bool,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<Imported, ActionError> {
    super::rules::require_super_admin(pool, session, ACTION, ("import", None)).await?;
    let mut tx = crate::db::begin(pool).await?;
    super::rules::current_role(&mut tx, &session.actor)
        .await?
        .require(Role::SuperAdmin, ACTION)?;
    // The console's own change: the backstop triggers leave it to this action's audit row.
    crate::db::query("SELECT set_config('switchboard.console', 'on', true)")
        .execute(&mut *tx)
        .await
        .map_err(DbError::from)?;
    let run = legacy::import(&mut tx, source_pool, source, session.actor.id, progress).await;
    let mut report = match run {
        Ok(r) => r,
        Err(e) => {
            // Nothing of it stays; the attempt is on record.
            drop(tx);
            let e = action_error(e);
            record_attempt(
                pool,
                session,
                source,
                dry_run,
                json!({"error": e.to_string()}),
            )
            .await;
            return Err(e);
        }
    };
    report.dry_run = dry_run;
    let (value, sha256) = report.to_json();
    let summary = json!({
        "source": source.key,
        "dry_run": dry_run,
        "checks_passed": report.passed(),
        "counts": report.counts(),
        "report_sha256": sha256,
    });
    let committed = !dry_run && report.passed();
    if committed {
        audit::record(&mut tx, &session.ctx, entry(session, summary)).await?;
        tx.commit().await.map_err(DbError::from)?;
    } else {
        tx.rollback().await.map_err(DbError::from)?;
        record_attempt(pool, session, source, dry_run, summary).await;
    }
    Ok(Imported {
        report,
        json: value,
        sha256,
        committed,
    })
}

/// Records an import that wrote nothing (a dry run, a failed check, an error), in a
/// transaction of its own. A failure to record is logged: the import's own answer comes first.
async fn record_attempt(
    pool: &sqlx::PgPool,
    session: &Session,
    source: &Source,
    dry_run: bool,
    detail: Value,
) {
    let mut new = json!({"source": source.key, "dry_run": dry_run, "written": false});
    if let (Some(o), Value::Object(d)) = (new.as_object_mut(), detail) {
        o.extend(d);
    }
    if let Err(e) = audit::record_alone(pool, &session.ctx, entry(session, new)).await {
        tracing::warn!("recording an import that wrote nothing: {e}");
    }
}

/// The import's audit row: what was imported from where, and how it went.
fn entry(session: &Session, new: Value) -> AuditEntry<'static> {
    AuditEntry {
        actor: Some(session.actor.id),
        action: ACTION,
        resource_type: "import",
        resource_id: None,
        old: None,
        new: Some(new),
    }
}
