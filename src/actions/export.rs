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
    /// The rows went out, but the entry that records their end could not be written (the one
    /// recording the start was).
    #[error(
        "{rows} rows were exported, but recording the export's end in the audit log failed: {error}"
    )]
    Unrecorded { rows: u64, error: ActionError },
}

/// Counts the lines that reach the writer below: the rows that left, when an export stops.
struct Counting<'a> {
    inner: &'a mut (dyn std::io::Write + Send),
    lines: u64,
}

impl std::io::Write for Counting<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.lines += buf[..n].iter().filter(|b| **b == b'\n').count() as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Exports what `request` selects to `destination` as `session`'s admin; returns the rows
/// written. `progress` hears the running row count.
///
/// Recorded twice, and never updated: `audit.export` (who, the filter, the format, where to)
/// before the first row leaves, and `audit.export_end` (the rows, whether it completed, why it
/// stopped) after the last, pointing at the first. In a read-only session these two rows are
/// written in a transaction of their own that asks for READ WRITE (the only writes such a
/// session makes); where the database allows none (a standby), the export is refused, since
/// nothing leaves unrecorded.
pub async fn export(
    pool: &PgPool,
    source: &PgPool,
    session: &Session,
    request: &ExportRequest,
    destination: Destination<'_>,
    progress: &mut (dyn FnMut(u64) + Send),
) -> Result<u64, ExportFailure> {
    // Counted as running until its end is on record: a process that is ending waits for it.
    let _running = export::ExportRunning::begin();
    // Still an active admin? (The console may have been open for hours.) A refusal is on
    // record like any other.
    if let Err(e) = ensure_admin(pool, session).await {
        if let ActionError::Forbidden(why) = &e {
            audit::record_refusal(pool, session, "audit.export", ("audit_log", None), why).await;
        }
        return Err(e.into());
    }
    let output = destination.describe();
    let format = match request.format {
        Format::Csv => "csv",
        Format::Jsonl => "jsonl",
    };
    let start = AuditEntry {
        actor: Some(session.actor.id),
        action: "audit.export",
        resource_type: "audit_log",
        resource_id: None,
        old: None,
        new: Some(json!({
            "filter": request.filter_text,
            "format": format,
            "output": output,
        })),
    };
    let started = audit::record_always(pool, &session.ctx, start)
        .await
        .map_err(|e| {
            ActionError::Invalid(format!(
                "an export must be recorded before its first row leaves, and recording it \
                 failed ({}); nothing was exported",
                e.brief()
            ))
        })?;
    let mut seen = 0u64;
    let mut counted = |rows: u64| {
        seen = rows;
        progress(rows);
    };
    let (result, delivered) = match destination {
        Destination::Stream(out) => {
            let mut counting = Counting {
                inner: out,
                lines: 0,
            };
            let result = export::export_audit(
                source,
                &request.filter,
                request.format,
                &mut counting,
                &mut counted,
            )
            .await;
            // CSV's first line is its header.
            let header = u64::from(request.format == Format::Csv);
            let delivered = counting.lines.saturating_sub(header);
            (result, delivered)
        }
        Destination::File { path, replace } => {
            let result = export::export_to_file(
                source,
                &request.filter,
                request.format,
                path,
                replace,
                &mut counted,
            )
            .await;
            // A file that failed is removed: nothing was delivered.
            (result, 0)
        }
    };
    let end = match &result {
        Ok(rows) => json!({"rows": rows, "completed": true}),
        Err(e) => json!({
            "rows": delivered,
            "rows_read": seen,
            "completed": false,
            "stopped_by": e.to_string(),
        }),
    };
    let entry = AuditEntry {
        actor: Some(session.actor.id),
        action: "audit.export_end",
        resource_type: "audit_log",
        resource_id: Some(started),
        old: None,
        new: Some(end),
    };
    let recorded = audit::record_always(pool, &session.ctx, entry).await;
    if let (Err(e), Err(_)) = (&recorded, &result) {
        tracing::warn!(output, "recording the end of a failed export: {e}");
    }
    let rows = result?;
    if let Err(e) = recorded {
        tracing::warn!(rows, output, "recording the end of the export: {e}");
        return Err(ExportFailure::Unrecorded {
            rows,
            error: e.into(),
        });
    }
    Ok(rows)
}
