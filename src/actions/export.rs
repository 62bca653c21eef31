//! The export flow, one for the console and the command line: the admin is checked afresh, the
//! rows the filter selects are streamed out, and the export is recorded (`audit.export`, with the
//! filter, the format, the row count and where the rows went).

use std::path::Path;

use serde_json::json;
use sqlx::PgPool;

use super::audit::{self, AuditEntry};
use super::{ActionError, Session, ensure_admin};
use crate::db::export::{self, ExportError, Format};
use crate::db::lists::Filter;

/// Where the rows go.
pub enum Destination<'a> {
    /// A stream the caller owns (standard output).
    Stream(&'a mut (dyn std::io::Write + Send)),
    /// A file, written through `FILE.partial` and renamed at the end.
    File { path: &'a Path, replace: bool },
}

impl Destination<'_> {
    /// What the audit row says the output was.
    fn describe(&self) -> String {
        match self {
            Destination::Stream(_) => "standard output".to_string(),
            Destination::File { path, .. } => path.display().to_string(),
        }
    }
}

/// What is exported, as the audit row records it.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportRequest {
    pub filter: Filter,
    /// The filter as the admin typed it (or the command line made it).
    pub filter_text: String,
    pub format: Format,
}

/// Why an export did not complete (or was not recorded).
#[derive(Debug, thiserror::Error)]
pub enum ExportFailure {
    #[error(transparent)]
    Refused(#[from] ActionError),
    #[error(transparent)]
    Export(#[from] ExportError),
    /// The rows went out, but the audit row could not be written.
    #[error("{rows} rows were exported, but recording the export in the audit log failed: {error}")]
    Unrecorded { rows: u64, error: ActionError },
}

/// Exports what `request` selects to `destination` as `session`'s admin and records it; returns
/// the rows written. `progress` hears the running row count.
pub async fn export(
    pool: &PgPool,
    session: &Session,
    request: &ExportRequest,
    destination: Destination<'_>,
    progress: &mut (dyn FnMut(u64) + Send),
) -> Result<u64, ExportFailure> {
    // Still an active admin? (The console may have been open for hours.)
    ensure_admin(pool, session).await?;
    let output = destination.describe();
    let rows = match destination {
        Destination::Stream(out) => {
            export::export_audit(pool, &request.filter, request.format, out, progress).await?
        }
        Destination::File { path, replace } => {
            export::export_to_file(
                pool,
                &request.filter,
                request.format,
                path,
                replace,
                progress,
            )
            .await?
        }
    };
    // A read-only session cannot write the audit row (PostgreSQL refuses); it is logged.
    if session.read_only {
        tracing::info!(rows, output, "export in a read-only session: not recorded");
        return Ok(rows);
    }
    let format = match request.format {
        Format::Csv => "csv",
        Format::Jsonl => "jsonl",
    };
    let entry = AuditEntry {
        actor: Some(session.actor.id),
        action: "audit.export",
        resource_type: "audit_log",
        resource_id: None,
        old: None,
        new: Some(json!({
            "filter": request.filter_text,
            "format": format,
            "rows": rows,
            "output": output,
        })),
    };
    if let Err(e) = audit::record_alone(pool, &session.ctx, entry).await {
        tracing::warn!(rows, output, "recording the export: {e}");
        return Err(ExportFailure::Unrecorded {
            rows,
            error: e.into(),
        });
    }
    Ok(rows)
}
