//! `audit.archive`: retention as one audited action (see `db::archive`). A super_admin only;
//! the archive's own audit row is written in the transaction that deletes what it archived.

use std::path::Path;

use chrono::{DateTime, Utc};
use serde_json::json;

use super::audit::{self, AuditEntry};
use super::{ActionError, Role, Session};
use crate::db::DbError;
use crate::db::archive::{self, ArchiveError, Archived};

fn action_error(e: ArchiveError) -> ActionError {
    match e {
        ArchiveError::Db(e) => ActionError::Db(e.brief()),
        ArchiveError::File(m) | ArchiveError::Verify(m) => ActionError::Invalid(m),
    }
}

/// Archives the entries made before `before` to `path` and deletes them from the log.
pub async fn archive(
    pool: &sqlx::PgPool,
    session: &Session,
    before: DateTime<Utc>,
    path: &Path,
) -> Result<Archived, ActionError> {
    const ACTION: &str = "audit.archive";
    super::rules::require_super_admin(pool, session, ACTION, ("audit_log", None)).await?;
    let prepared = archive::prepare(pool, before, path)
        .await
        .map_err(action_error)?;
    let mut tx = crate::db::begin(pool).await?;
    // The role again, now, in the transaction that deletes.
    super::rules::current_role(&mut tx, &session.actor)
        .await?
        .require(Role::SuperAdmin, ACTION)?;
    archive::delete_in(&mut tx, &prepared)
        .await
        .map_err(action_error)?;
    let a = &prepared.archived;
    let entry = AuditEntry {
        actor: Some(session.actor.id),
        action: ACTION,
        resource_type: "audit_log",
        resource_id: None,
        old: None,
        new: Some(json!({
            "before": a.before,
            "file": a.path.display().to_string(),
            "file_sha256": a.file_sha256,
            "rows": a.chained + a.outside,
            "chained": a.chained,
            "outside": a.outside,
            "links": [a.start_seq + 1, a.through_seq],
            "head_hash": a.head_hash,
        })),
    };
    audit::record(&mut tx, &session.ctx, entry).await?;
    tx.commit().await.map_err(DbError::from)?;
    archive::finish(prepared).map_err(action_error)
}
