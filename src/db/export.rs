//! Streaming audit export: any filtered range of the audit log, oldest first, as CSV or JSON
//! lines, in constant memory. Rows are read from one streamed query (the driver hands them over
//! as they arrive; nothing collects them) inside a read-only, repeatable-read transaction, so the
//! export is one consistent snapshot however long it runs.

use std::collections::VecDeque;
use std::io::Write;

use chrono::{DateTime, SecondsFormat, Utc};
use futures_util::TryStreamExt;
use serde_json::Value;
use sqlx::{PgPool, Postgres, QueryBuilder, Row};
use uuid::Uuid;

use nix::fcntl::{Flock, FlockArg};

use super::filter::push_filter;
use super::lists::{Filter, ListKind, resolve_actors};
use super::{DbError, labels};
use crate::escape;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Jsonl,
}

impl Format {
    /// From a file name: `.jsonl` / `.ndjson` / `.json` mean JSON lines, anything else CSV.
    pub fn for_path(path: &std::path::Path) -> Format {
        match path.extension().and_then(|e| e.to_str()) {
            Some("jsonl" | "ndjson" | "json") => Format::Jsonl,
            _ => Format::Csv,
        }
    }
}

/// The columns, in order.
pub const COLUMNS: [&str; 12] = [
    "created_at",
    "actor_email",
    "actor_id",
    "action",
    "resource_type",
    "resource_id",
    "old_values",
    "new_values",
    "ip_address",
    "user_agent",
    "id",
    // The entry as a sentence, its ids by name as they are when exported (the columns before
    // it are the stored row, unchanged).
    "change",
];

/// How many rows are read before their ids are named (one query per batch).
const LABEL_BATCH: usize = 1_000;
/// How many batches' names are looked up at once, each on a connection of its own (the pool
/// holds eight; the stream takes one, and a console's panes need some).
const NAMING_AHEAD: usize = 3;
/// How many names an export remembers between batches before it forgets them all.
const LABEL_CACHE: usize = 100_000;

/// How often a progress display needs to hear about rows written (the callback hears every row:
/// the count must be exact where an export stops).
pub const PROGRESS_EVERY: u64 = 10_000;

fn query(filter: &Filter) -> QueryBuilder<Postgres> {
    let mut qb: QueryBuilder<Postgres> = QueryBuilder::new(
        "SELECT a.created_at, u.email, a.user_id, a.action, a.resource_type, a.resource_id, \
                a.old_values, a.new_values, host(a.ip_address), a.user_agent, a.id \
         FROM audit_logs a LEFT JOIN users u ON u.id = a.user_id WHERE true",
    );
    push_filter(&mut qb, ListKind::AuditLog, filter);
    qb.push(" ORDER BY a.created_at, a.id");
    qb
}

/// The planner's estimate of the rows `filter` selects (for a progress bar), if it gives one.
pub async fn estimate_rows(pool: &PgPool, filter: &Filter) -> Option<u64> {
    let filter = &resolve_actors(pool, ListKind::AuditLog, filter)
        .await
        .ok()?;
    let mut explain: QueryBuilder<Postgres> =
        QueryBuilder::new("EXPLAIN (FORMAT JSON) SELECT a.id FROM audit_logs a WHERE true");
    push_filter(&mut explain, ListKind::AuditLog, filter);
    let mut conn = super::pinned(pool).await.ok()?;
    let plan: Value = explain
        .build_query_scalar()
        .persistent(!super::pooler::transaction_pooler())
        .fetch_one(&mut *conn)
        .await
        .ok()?;
    plan.get(0)?
        .get("Plan")?
        .get("Plan Rows")?
        .as_f64()
        .map(|n| n as u64)
}

/// A cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, or a tab or carriage return
/// first) gets a leading `'`, so it is shown as text.
pub fn defuse(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Streams the rows `filter` selects to `out`, calling `progress` with the rows written so far
/// after every row. Returns how many rows were written.
pub async fn export_audit(
    pool: &PgPool,
    filter: &Filter,
    format: Format,
    out: &mut (dyn Write + Send),
    progress: &mut (dyn FnMut(u64) + Send),
) -> Result<u64, ExportError> {
    let filter = &resolve_actors(pool, ListKind::AuditLog, filter).await?;
    let mut tx = crate::db::long_snapshot(pool).await?;
    let mut sink = match format {
        Format::Csv => {
            let mut w = csv::WriterBuilder::new()
                .buffer_capacity(64 * 1024)
                .from_writer(out);
            w.write_record(COLUMNS).map_err(csv_error)?;
            Sink::Csv(Box::new(w))
        }
        Format::Jsonl => Sink::Json(std::io::BufWriter::with_capacity(64 * 1024, out)),
    };
    let mut line = Vec::with_capacity(4096);
    let mut rows = 0u64;
    {
        let mut qb = query(filter);
        let mut stream = qb
            .build()
            .persistent(super::pooler::prepared())
            .fetch(&mut *tx);
        // While batches' names are looked up (on other connections, a few at once), the stream
        // reads on; batches are written in order, each once its names are in.
        let mut batch: Vec<JsonLine> = Vec::with_capacity(LABEL_BATCH);
        let mut names = labels::Labels::new();
        let mut naming: VecDeque<(Vec<JsonLine>, Option<Naming>)> = VecDeque::new();
        while let Some(r) = stream.try_next().await? {
            if STOP.load(std::sync::atomic::Ordering::Relaxed) {
                return Err(ExportError::Interrupted);
            }
            batch.push(JsonLine {
                created_at: time(r.try_get(0)?),
                actor_email: r.try_get(1)?,
                actor_id: r.try_get(2)?,
                action: r.try_get(3)?,
                resource_type: r.try_get(4)?,
                resource_id: r.try_get(5)?,
                old_values: r.try_get(6)?,
                new_values: r.try_get(7)?,
                ip_address: r.try_get(8)?,
                user_agent: r.try_get(9)?,
                id: r.try_get(10)?,
                change: String::new(),
            });
            if batch.len() == LABEL_BATCH {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(LABEL_BATCH));
                let lookup = start_naming(pool, &full, &names);
                naming.push_back((full, lookup));
                while naming.len() > NAMING_AHEAD {
                    let oldest = naming.pop_front().expect("a batch is waiting");
                    write_named(
                        oldest, &mut names, &mut sink, &mut line, &mut rows, progress,
                    )
                    .await?;
                }
            }
        }
        let lookup = start_naming(pool, &batch, &names);
        naming.push_back((batch, lookup));
        while let Some(oldest) = naming.pop_front() {
            write_named(
                oldest, &mut names, &mut sink, &mut line, &mut rows, progress,
            )
            .await?;
        }
    }
    match &mut sink {
        Sink::Csv(w) => w.flush().map_err(io_error)?,
        Sink::Json(w) => w.flush().map_err(io_error)?,
    }
    tx.rollback().await?;
    progress(rows);
    Ok(rows)
}

/// The lookup of a batch's names, running on a connection of its own (the export's holds the
/// stream) while the stream reads on.
type Naming = tokio::task::JoinHandle<Result<labels::Labels, DbError>>;

/// Starts looking up the names of the ids `batch` holds that `names` does not know yet (none
/// when it knows them all). Names are read as they are now.
fn start_naming(pool: &PgPool, batch: &[JsonLine], names: &labels::Labels) -> Option<Naming> {
    let mut wanted: Vec<Uuid> = batch
        .iter()
        .flat_map(|e| labels::ids_in(e.resource_id, e.old_values.as_ref(), e.new_values.as_ref()))
        .filter(|id| !names.contains_key(id))
        .collect();
    wanted.sort_unstable();
    wanted.dedup();
    if wanted.is_empty() {
        return None;
    }
    let pool = pool.clone();
    Some(tokio::spawn(async move {
        let mut conn = super::pinned(&pool).await?;
        labels::labels(&mut *conn, &wanted).await
    }))
}

/// Waits for a batch's names, then writes the batch.
async fn write_named(
    (mut batch, naming): (Vec<JsonLine>, Option<Naming>),
    names: &mut labels::Labels,
    sink: &mut Sink<'_>,
    line: &mut Vec<u8>,
    rows: &mut u64,
    progress: &mut (dyn FnMut(u64) + Send),
) -> Result<(), ExportError> {
    if let Some(naming) = naming {
        let found = naming
            .await
            .map_err(|e| DbError::Refused(format!("looking up the names of a batch: {e}")))??;
        if names.len() > LABEL_CACHE {
            names.clear();
        }
        names.extend(found);
    }
    write_rows(&mut batch, names, sink, line, rows, progress)
}

/// Writes the rows of `batch` (emptying it), each with its sentence, counting them in `rows`.
fn write_rows(
    batch: &mut Vec<JsonLine>,
    names: &labels::Labels,
    sink: &mut Sink<'_>,
    line: &mut Vec<u8>,
    rows: &mut u64,
    progress: &mut (dyn FnMut(u64) + Send),
) -> Result<(), ExportError> {
    for mut entry in batch.drain(..) {
        entry.change = labels::sentence(
            &entry.resource_type,
            entry.resource_id,
            entry.old_values.as_ref(),
            entry.new_values.as_ref(),
            names,
        );
        match sink {
            Sink::Csv(w) => {
                // Every text from the database escaped (a file is printed too, by `cat`).
                let text = |v: &Option<String>| v.as_deref().map(escape::clean);
                let json_text = |v: &Option<Value>| v.as_ref().map(escape::json);
                let cells = [
                    Some(entry.created_at.clone()),
                    text(&entry.actor_email),
                    entry.actor_id.map(|u| u.to_string()),
                    Some(escape::clean(&entry.action)),
                    Some(escape::clean(&entry.resource_type)),
                    entry.resource_id.map(|u| u.to_string()),
                    json_text(&entry.old_values),
                    json_text(&entry.new_values),
                    text(&entry.ip_address),
                    text(&entry.user_agent),
                    Some(entry.id.to_string()),
                    Some(escape::clean(&entry.change)),
                ];
                let record: Vec<std::borrow::Cow<'_, str>> = cells
                    .iter()
                    .map(|c| defuse(c.as_deref().unwrap_or_default()))
                    .collect();
                w.write_record(record.iter().map(|c| c.as_bytes()))
                    .map_err(csv_error)?;
            }
            Sink::Json(out) => {
                line.clear();
                serde_json::to_writer(&mut *line, &entry)
                    .map_err(|e| ExportError::Write(e.into()))?;
                // serde_json writes UTF-8; what it leaves unescaped that a terminal would act
                // on is escaped here.
                let text = String::from_utf8_lossy(line);
                out.write_all(escape::json_text(&text).as_bytes())
                    .and_then(|()| out.write_all(b"\n"))
                    .map_err(ExportError::Write)?;
            }
        }
        *rows += 1;
        progress(*rows);
    }
    Ok(())
}

/// One JSON line, its keys in the CSV's column order.
#[derive(serde::Serialize)]
struct JsonLine {
    created_at: String,
    actor_email: Option<String>,
    actor_id: Option<Uuid>,
    action: String,
    resource_type: String,
    resource_id: Option<Uuid>,
    old_values: Option<Value>,
    new_values: Option<Value>,
    ip_address: Option<String>,
    user_agent: Option<String>,
    id: Uuid,
    change: String,
}

/// Why an export stopped.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("writing the export: {0}")]
    Write(std::io::Error),
    /// The process is ending (a signal, the console quitting): stopped between two rows.
    #[error("interrupted: the export was stopped")]
    Interrupted,
}

static STOP: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
static RUNNING: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Asks every running export of this process to stop at its next row (its caller then records
/// where it stopped). For a process that is ending.
pub fn stop_exports() {
    STOP.store(true, std::sync::atomic::Ordering::SeqCst);
}

/// How many exports this process is running.
pub fn running_exports() -> usize {
    RUNNING.load(std::sync::atomic::Ordering::SeqCst)
}

/// Counts a running export (its rows and its records) for as long as it lives.
pub struct ExportRunning(());

impl ExportRunning {
    pub fn begin() -> ExportRunning {
        RUNNING.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        ExportRunning(())
    }
}

impl Drop for ExportRunning {
    fn drop(&mut self) {
        RUNNING.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

impl From<sqlx::Error> for ExportError {
    fn from(e: sqlx::Error) -> ExportError {
        ExportError::Db(e.into())
    }
}

/// Removes a file when dropped, unless it is gone already.
struct RemoveOnDrop(Option<std::path::PathBuf>);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            std::fs::remove_file(p).ok();
        }
    }
}

/// Where rows go: the CSV writer and the JSON lines buffer both own the one output.
enum Sink<'a> {
    Csv(Box<csv::Writer<&'a mut (dyn Write + Send)>>),
    Json(std::io::BufWriter<&'a mut (dyn Write + Send)>),
}

fn io_error(e: impl Into<std::io::Error>) -> ExportError {
    ExportError::Write(e.into())
}

/// A CSV writer's error as the I/O error beneath it, so that its kind (a closed pipe) survives.
fn csv_error(e: csv::Error) -> ExportError {
    let text = e.to_string();
    match e.into_kind() {
        csv::ErrorKind::Io(io) => ExportError::Write(io),
        _ => ExportError::Write(std::io::Error::other(text)),
    }
}

/// Exports to `path` through `path.partial`, renamed at the end: a failed export leaves no half
/// file. Refuses to replace an existing file unless `replace`, and never replaces anything that
/// is not a regular file (a device such as /dev/null, a FIFO, a directory, a symbolic link). A
/// `.partial` left by an export that died (kill -9, a full disk) is taken over when it is ours
/// and nobody writes it; otherwise the message names it.
pub async fn export_to_file(
    pool: &PgPool,
    filter: &Filter,
    format: Format,
    path: &std::path::Path,
    replace: bool,
    progress: &mut (dyn FnMut(u64) + Send),
) -> Result<u64, ExportError> {
    let refuse = |what: String| {
        ExportError::Write(std::io::Error::new(std::io::ErrorKind::AlreadyExists, what))
    };
    match std::fs::symlink_metadata(path) {
        Ok(m) if !m.file_type().is_file() => {
            return Err(refuse(format!(
                "{} is not a regular file (a device, a FIFO, a directory or a link): an export \
                 never replaces it",
                path.display()
            )));
        }
        Ok(_) if !replace => return Err(refuse(format!("{} exists", path.display()))),
        Ok(_) | Err(_) => {}
    }
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    let partial = path.with_file_name(name);
    let file = open_partial(&partial)?;
    // Removed unless renamed: an error, a cancelled task or a signal leaves no partial file.
    let guard = RemoveOnDrop(Some(partial.clone()));
    let mut out = std::io::BufWriter::with_capacity(256 * 1024, &*file);
    let rows = export_audit(pool, filter, format, &mut out, progress).await?;
    out.flush().map_err(ExportError::Write)?;
    drop(out);
    if replace {
        std::fs::rename(&partial, path).map_err(ExportError::Write)?;
    } else {
        // A link fails if the name was taken meanwhile: never replace what appeared.
        std::fs::hard_link(&partial, path).map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => refuse(format!("{} exists", path.display())),
            _ => ExportError::Write(e),
        })?;
        // Still ours (we hold its lock): the second name goes.
        std::fs::remove_file(&partial).map_err(ExportError::Write)?;
    }
    // Done: nothing left to remove (a new partial of another export may have that name now).
    let mut guard = guard;
    guard.0 = None;
    drop(file);
    Ok(rows)
}

/// Why the directory a file `path` would be written in cannot take it, if it cannot: said before
/// an export or an archive starts (in the console's dialog, the name kept; before the CLI signs
/// in), rather than as an OS error once it has started and been recorded.
pub fn directory_problem(path: &std::path::Path) -> Option<String> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => std::path::Path::new("."),
    };
    if !dir.is_dir() {
        return Some(format!(
            "{} is not a directory that exists; choose another place",
            dir.display()
        ));
    }
    match nix::unistd::access(dir, nix::unistd::AccessFlags::W_OK) {
        Ok(()) => None,
        Err(e) => Some(format!(
            "cannot write in {}: {}; choose another place",
            dir.display(),
            e.desc().to_lowercase()
        )),
    }
}

/// The partial file, created exclusively and locked (`flock`) for as long as the export writes
/// it, so that a leftover can be told from one being written.
fn open_partial(partial: &std::path::Path) -> Result<Flock<std::fs::File>, ExportError> {
    use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
    let lock = |file: std::fs::File| {
        Flock::lock(file, FlockArg::LockExclusiveNonblock).map_err(|(_, errno)| errno)
    };
    let busy = || {
        ExportError::Write(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            format!("another export is writing {}", partial.display()),
        ))
    };
    // Private: the audit log is not everyone's to read.
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(partial)
    {
        Ok(file) => lock(file).map_err(|_| busy()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            // A leftover: ours to take over only if it is a regular file of ours that nobody
            // holds locked (a live export holds its lock until it renames the file).
            let not_ours = |why: &str| {
                ExportError::Write(std::io::Error::new(
                    std::io::ErrorKind::AlreadyExists,
                    format!(
                        "{} is left from an earlier export and {why}: remove it by hand, then \
                         export again",
                        partial.display()
                    ),
                ))
            };
            let meta = std::fs::symlink_metadata(partial).map_err(ExportError::Write)?;
            if !meta.file_type().is_file() {
                return Err(not_ours("is not a regular file"));
            }
            if meta.uid() != nix::unistd::geteuid().as_raw() {
                return Err(not_ours("belongs to another user"));
            }
            // Never a link, never blocking on a FIFO swapped in meanwhile; and the file opened
            // must be the one just checked.
            let file = std::fs::OpenOptions::new()
                .write(true)
                .custom_flags(
                    (nix::fcntl::OFlag::O_NOFOLLOW | nix::fcntl::OFlag::O_NONBLOCK).bits(),
                )
                .open(partial)
                .map_err(ExportError::Write)?;
            let opened = file.metadata().map_err(ExportError::Write)?;
            if !opened.file_type().is_file()
                || (opened.dev(), opened.ino()) != (meta.dev(), meta.ino())
            {
                return Err(not_ours("changed while it was checked"));
            }
            let file = lock(file).map_err(|_| busy())?;
            file.set_len(0).map_err(ExportError::Write)?;
            tracing::info!(partial = %partial.display(), "took over a stale partial export");
            Ok(file)
        }
        Err(e) => Err(ExportError::Write(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_defused_and_the_rest_left_alone() {
        for (cell, want) in [
            ("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"),
            ("+1 415", "'+1 415"),
            ("-2", "'-2"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("alice@example.com", "alice@example.com"),
            ("{\"credits\": 5}", "{\"credits\": 5}"),
            ("", ""),
        ] {
            assert_eq!(defuse(cell), want);
        }
    }

    #[test]
    fn the_format_follows_the_file_name() {
        assert_eq!(Format::for_path("a.jsonl".as_ref()), Format::Jsonl);
        assert_eq!(Format::for_path("a.csv".as_ref()), Format::Csv);
        assert_eq!(Format::for_path("a".as_ref()), Format::Csv);
    }
}
