//! Retention: `switchboard audit archive --before DAY --output FILE` takes the audit log's old
//! entries out, provably. It writes them to a file (JSON lines: a header, each chained row with
//! its link, each row outside the chain, a trailer with the last link's hash), reads the file back
//! and verifies it (every hash recomputed, every count), and only then deletes those rows and
//! their links in one transaction that sets `switchboard.archiving` (which the append-only
//! triggers accept) and records the cut in `switchboard.audit_archives`: `verify` goes on from
//! the cut's hash, and the file can be verified on its own against that record.
//!
//! The chained rows archived are a prefix of the chain: from where it starts up to the last link
//! before the first whose row is on or after DAY (or is missing: a chain that does not verify is
//! not archived past its fault).

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, SecondsFormat, Utc};
use futures_util::TryStreamExt;
use serde_json::json;
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};
use sqlx::{PgPool, Row};
use uuid::Uuid;

use super::DbError;
use super::chain::{AuditRow, Head, ROW_COLUMNS, from_hex, link_hash};

/// What an archive file says it is.
pub const FORMAT: &str = "switchboard-audit-archive/1";

/// Ids deleted per statement.
const DELETE_BATCH: usize = 10_000;

/// What an archive took out, or would.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Archived {
    pub before: DateTime<Utc>,
    /// The links archived: after `start_seq` through `through_seq` (equal when none).
    pub start_seq: i64,
    pub through_seq: i64,
    /// The last archived link's hash: the chain goes on from it.
    pub head_hash: String,
    pub chained: u64,
    pub outside: u64,
    pub file_sha256: String,
    pub path: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("{0}")]
    File(String),
    /// The log (or the file) does not verify: nothing was deleted.
    #[error("{0}")]
    Verify(String),
}

impl From<sqlx::Error> for ArchiveError {
    fn from(e: sqlx::Error) -> ArchiveError {
        ArchiveError::Db(e.into())
    }
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// A row as the file holds it: every field the hash covers, the JSON values embedded exactly as
/// PostgreSQL printed them (so the hash can be recomputed from the file alone).
#[derive(serde::Serialize, serde::Deserialize)]
struct FileRow {
    id: Uuid,
    created_at: String,
    user_id: Option<Uuid>,
    action: String,
    resource_type: String,
    resource_id: Option<Uuid>,
    old_values: Option<Box<RawValue>>,
    new_values: Option<Box<RawValue>>,
    ip_address: Option<String>,
    user_agent: Option<String>,
}

/// A row's line as written (its link's fields only when chained). Written with serde directly:
/// going through `serde_json::Value` would reformat the embedded JSON values.
#[derive(serde::Serialize)]
struct RowLine {
    #[serde(skip_serializing_if = "Option::is_none")]
    seq: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    prev_hash: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hash: Option<String>,
    row: FileRow,
}

fn write_line(out: &mut impl Write, line: &RowLine) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, line)?;
    out.write_all(b"\n")
}

/// One line of an archive file: a header, a row (with its link when chained) or the trailer.
#[derive(serde::Deserialize)]
struct FileLine {
    format: Option<String>,
    database: Option<String>,
    before: Option<String>,
    start_seq: Option<i64>,
    start_hash: Option<String>,
    seq: Option<i64>,
    prev_hash: Option<String>,
    hash: Option<String>,
    row: Option<FileRow>,
    through_seq: Option<i64>,
    head_hash: Option<String>,
    chained: Option<u64>,
    outside: Option<u64>,
}

fn raw(text: &Option<String>) -> Option<Box<RawValue>> {
    text.as_ref()
        .and_then(|t| RawValue::from_string(t.clone()).ok())
}

fn file_row(r: &AuditRow) -> FileRow {
    FileRow {
        id: r.id,
        created_at: time(r.created_at),
        user_id: r.user_id,
        action: r.action.clone(),
        resource_type: r.resource_type.clone(),
        resource_id: r.resource_id,
        old_values: raw(&r.old_values),
        new_values: raw(&r.new_values),
        ip_address: r.ip_address.clone(),
        user_agent: r.user_agent.clone(),
    }
}

fn audit_row(f: FileRow) -> Option<AuditRow> {
    Some(AuditRow {
        id: f.id,
        created_at: DateTime::parse_from_rfc3339(&f.created_at)
            .ok()?
            .with_timezone(&Utc),
        user_id: f.user_id,
        action: f.action,
        resource_type: f.resource_type,
        resource_id: f.resource_id,
        old_values: f.old_values.map(|v| v.get().to_string()),
        new_values: f.new_values.map(|v| v.get().to_string()),
        ip_address: f.ip_address,
        user_agent: f.user_agent,
    })
}

/// An archive written and verified, not yet applied: its file is `FILE.partial` until
/// [`finish`] renames it (dropped unfinished, the partial file is removed).
#[derive(Debug)]
pub struct Prepared {
    pub archived: Archived,
    ids: Vec<Uuid>,
    partial: Option<PathBuf>,
}

impl Drop for Prepared {
    fn drop(&mut self) {
        if let Some(p) = self.partial.take() {
            std::fs::remove_file(p).ok();
        }
    }
}

/// Writes the archive of entries before `before` to `path.partial` and verifies it by reading
/// it back. Refuses a `path` that exists. Nothing is deleted yet.
pub async fn prepare(
    pool: &PgPool,
    before: DateTime<Utc>,
    path: &Path,
) -> Result<Prepared, ArchiveError> {
    if path.exists() {
        return Err(ArchiveError::File(format!(
            "{} exists: an archive never replaces a file",
            path.display()
        )));
    }
    let partial = PathBuf::from(format!("{}.partial", path.display()));
    if partial.exists() {
        return Err(ArchiveError::File(format!(
            "{} exists (another archive running, or one that died): remove it first",
            partial.display()
        )));
    }
    let written = write_file(pool, before, &partial).await;
    let (mut archived, ids) = match written {
        Ok(w) => w,
        Err(e) => {
            std::fs::remove_file(&partial).ok();
            return Err(e);
        }
    };
    let prepared_path = partial.clone();
    archived.path = path.to_path_buf();
    let mut prepared = Prepared {
        archived,
        ids,
        partial: Some(prepared_path),
    };
    // Read back and verified before anything is deleted.
    let checked = verify_file(&partial)?;
    let a = &prepared.archived;
    if checked.through_seq != a.through_seq
        || checked.head_hash != a.head_hash
        || checked.chained + checked.outside != prepared.ids.len() as u64
    {
        return Err(ArchiveError::Verify(
            "the archive file read back differs from what was written; nothing was deleted".into(),
        ));
    }
    prepared.archived.file_sha256 = checked.file_sha256;
    Ok(prepared)
}

/// Renames the archive file into place, once its rows are deleted and committed.
pub fn finish(mut prepared: Prepared) -> Result<Archived, ArchiveError> {
    let Some(partial) = prepared.partial.take() else {
        return Ok(prepared.archived.clone());
    };
    let path = prepared.archived.path.clone();
    std::fs::rename(&partial, &path).map_err(|e| {
        ArchiveError::File(format!(
            "the entries were archived, but renaming {} to {} failed: {e}",
            partial.display(),
            path.display()
        ))
    })?;
    Ok(prepared.archived.clone())
}

/// The file, from one snapshot: header, chained rows with their links (each hash recomputed),
/// rows outside the chain, trailer. Returns what it holds and every row id in it.
async fn write_file(
    pool: &PgPool,
    before: DateTime<Utc>,
    partial: &Path,
) -> Result<(Archived, Vec<Uuid>), ArchiveError> {
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(partial)
        .map_err(|e| ArchiveError::File(format!("writing {}: {e}", partial.display())))?;
    let mut out = std::io::BufWriter::new(file);
    let io = |e: std::io::Error| ArchiveError::File(format!("writing {}: {e}", partial.display()));
    let mut tx = crate::db::long_snapshot(pool).await?;
    let start = super::chain::start(&mut tx).await?;
    let database: String = crate::db::query_scalar("SELECT current_database()::text")
        .fetch_one(&mut *tx)
        .await?;
    let header = json!({
        "format": FORMAT,
        "database": database,
        "before": time(before),
        "start_seq": start.seq,
        "start_hash": hex::encode(start.hash),
    });
    writeln!(out, "{header}").map_err(io)?;
    let mut ids = Vec::new();
    let mut head = start.clone();
    let mut chained = 0u64;
    {
        let sql = format!(
            "SELECT c.seq, c.prev_hash, c.hash, c.row_time, c.actor, {ROW_COLUMNS} \
             FROM switchboard.audit_chain c LEFT JOIN audit_logs a ON a.id = c.audit_id \
             WHERE c.seq > $1 ORDER BY c.seq"
        );
        let mut stream = crate::db::query(sqlx::AssertSqlSafe(sql))
            .bind(start.seq)
            .fetch(&mut *tx);
        while let Some(r) = stream.try_next().await? {
            let seq: i64 = r.try_get(0)?;
            let prev: Vec<u8> = r.try_get(1)?;
            let hash: Vec<u8> = r.try_get(2)?;
            let row_id: Option<Uuid> = r.try_get(5)?;
            let Some(_) = row_id else { break };
            let row = AuditRow::from_row(&r, 5)?;
            if row.created_at >= before {
                break;
            }
            let recomputed = link_hash(&prev, &row);
            if seq != head.seq + 1
                || prev.as_slice() != head.hash.as_slice()
                || recomputed.as_slice() != hash.as_slice()
            {
                return Err(ArchiveError::Verify(format!(
                    "the audit log does not verify at link {seq} (run `switchboard audit \
                     verify`); nothing was archived"
                )));
            }
            let line = RowLine {
                seq: Some(seq),
                prev_hash: Some(hex::encode(&prev)),
                hash: Some(hex::encode(&hash)),
                row: file_row(&row),
            };
            write_line(&mut out, &line).map_err(io)?;
            ids.push(row.id);
            head = Head {
                seq,
                hash: recomputed,
            };
            chained += 1;
        }
    }
    let mut outside = 0u64;
    {
        let sql = format!(
            "SELECT {ROW_COLUMNS} FROM audit_logs a WHERE a.created_at < $1 \
             AND NOT EXISTS (SELECT 1 FROM switchboard.audit_chain c WHERE c.audit_id = a.id) \
             ORDER BY a.created_at, a.id"
        );
        let mut stream = crate::db::query(sqlx::AssertSqlSafe(sql))
            .bind(before)
            .fetch(&mut *tx);
        while let Some(r) = stream.try_next().await? {
            let row = AuditRow::from_row(&r, 0)?;
            let line = RowLine {
                seq: None,
                prev_hash: None,
                hash: None,
                row: file_row(&row),
            };
            write_line(&mut out, &line).map_err(io)?;
            ids.push(row.id);
            outside += 1;
        }
    }
    tx.rollback().await?;
    let trailer = json!({
        "through_seq": head.seq,
        "head_hash": hex::encode(head.hash),
        "chained": chained,
        "outside": outside,
    });
    writeln!(out, "{trailer}").map_err(io)?;
    let file = out.into_inner().map_err(|e| io(e.into_error()))?;
    file.sync_all().map_err(io)?;
    Ok((
        Archived {
            before,
            start_seq: start.seq,
            through_seq: head.seq,
            head_hash: hex::encode(head.hash),
            chained,
            outside,
            file_sha256: String::new(),
            path: partial.to_path_buf(),
        },
        ids,
    ))
}

/// The partitions of a partitioned `audit_logs` (range on created_at) that end at or before
/// `before` and that this role may detach and drop (it owns the table and the partition).
async fn covered_partitions(
    tx: &mut sqlx::Transaction<'static, sqlx::Postgres>,
    before: DateTime<Utc>,
) -> Result<Vec<String>, ArchiveError> {
    Ok(crate::db::query_scalar(
        "SELECT c.relname::text \
         FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid \
         JOIN pg_class par ON par.oid = i.inhparent \
         WHERE par.oid = 'public.audit_logs'::regclass AND par.relkind = 'p' \
           AND pg_get_partkeydef(par.oid) = 'RANGE (created_at)' \
           AND pg_has_role(current_user, par.relowner, 'USAGE') \
           AND pg_has_role(current_user, c.relowner, 'USAGE') \
           AND (regexp_match(pg_get_expr(c.relpartbound, c.oid), \
                             'TO \\(''([^'']+)''\\)'))[1]::timestamptz <= $1",
    )
    .bind(before)
    .fetch_all(&mut **tx)
    .await?)
}

/// How long the archive waits for the whole audit log's lock before it deletes row by row
/// instead: while it waits, every other reader and writer of the log waits behind it.
const DETACH_LOCK_TIMEOUT: &str = "3s";

/// When some partitions could be dropped: takes `audit_logs` whole (ACCESS EXCLUSIVE, which
/// DETACH needs anyway), waiting at most [`DETACH_LOCK_TIMEOUT`], so that no row can reach them
/// between counting and dropping. False (and nothing held) when there is nothing to drop or the
/// lock was not to be had: then the rows are deleted one by one.
async fn lock_for_partition_drops(
    tx: &mut sqlx::Transaction<'static, sqlx::Postgres>,
    before: DateTime<Utc>,
) -> Result<bool, ArchiveError> {
    if covered_partitions(tx, before).await?.is_empty() {
        return Ok(false);
    }
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "SAVEPOINT switchboard_detach; SET LOCAL lock_timeout = '{DETACH_LOCK_TIMEOUT}'"
    )))
    .execute(&mut **tx)
    .await?;
    let locked = crate::db::query("LOCK TABLE public.audit_logs IN ACCESS EXCLUSIVE MODE")
        .execute(&mut **tx)
        .await;
    match locked {
        Ok(_) => {
            sqlx::raw_sql("RELEASE SAVEPOINT switchboard_detach; SET LOCAL lock_timeout = DEFAULT")
                .execute(&mut **tx)
                .await?;
            Ok(true)
        }
        Err(sqlx::Error::Database(d)) if d.code().as_deref() == Some("55P03") => {
            tracing::info!("archive: the audit log was busy; deleting row by row");
            sqlx::raw_sql(
                "ROLLBACK TO SAVEPOINT switchboard_detach; SET LOCAL lock_timeout = DEFAULT",
            )
            .execute(&mut **tx)
            .await?;
            Ok(false)
        }
        Err(e) => Err(e.into()),
    }
}

/// On a partitioned `audit_logs` (range on created_at): each partition whose range ends at or
/// before `before` and whose rows are exactly archived ones is detached and dropped, which frees
/// its space at once and writes no row deletions. Only where this role owns the table and the
/// partition (DETACH and DROP are the owner's); elsewhere, and for partitions the range covers
/// only in part, the rows are deleted one by one. Runs with `audit_logs` locked whole
/// ([`lock_for_partition_drops`]). Returns the rows the dropped partitions held.
async fn drop_covered_partitions(
    tx: &mut sqlx::Transaction<'static, sqlx::Postgres>,
    before: DateTime<Utc>,
    ids: &[Uuid],
) -> Result<u64, ArchiveError> {
    let covered = covered_partitions(tx, before).await?;
    if covered.is_empty() {
        return Ok(0);
    }
    // How many archived rows each partition holds.
    let mut archived: std::collections::HashMap<String, i64> = Default::default();
    for batch in ids.chunks(DELETE_BATCH) {
        let counts: Vec<(String, i64)> = crate::db::query_as(
            "SELECT tableoid::regclass::text, count(*) FROM audit_logs WHERE id = ANY($1) \
             GROUP BY 1",
        )
        .bind(batch)
        .fetch_all(&mut **tx)
        .await?;
        for (table, n) in counts {
            *archived.entry(table).or_default() += n;
        }
    }
    let mut dropped = 0u64;
    for partition in covered {
        let q = super::connect::quote_ident(&partition);
        let rows: i64 = crate::db::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT count(*) FROM public.{q}"
        )))
        .fetch_one(&mut **tx)
        .await?;
        // tableoid::regclass prints the name as search_path shows it.
        let mine = archived
            .get(&partition)
            .or_else(|| archived.get(&q))
            .or_else(|| archived.get(&format!("public.{q}")))
            .copied()
            .unwrap_or(0);
        if rows != mine {
            // Rows the archive did not take (written since, back-dated): deleted by id instead.
            continue;
        }
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "ALTER TABLE public.audit_logs DETACH PARTITION public.{q}; DROP TABLE public.{q}"
        )))
        .execute(&mut **tx)
        .await?;
        dropped += rows as u64;
    }
    Ok(dropped)
}

/// Deletes the archived rows and links and records the cut, in `tx` (the caller's, which also
/// writes the archive's own audit row and commits), under the chain's lock; refuses if the
/// chain's start moved meanwhile (another archive) or a row is gone.
pub async fn delete_in(
    tx: &mut sqlx::Transaction<'static, sqlx::Postgres>,
    prepared: &Prepared,
) -> Result<(), ArchiveError> {
    let archived = &prepared.archived;
    let ids = &prepared.ids;
    crate::db::query("SELECT set_config('switchboard.archiving', 'on', true)")
        .execute(&mut **tx)
        .await?;
    // Before the chain's lock, as every writer takes its locks: the table, then the chain.
    let may_drop = lock_for_partition_drops(tx, archived.before).await?;
    crate::db::query("SELECT pg_advisory_xact_lock($1)")
        .bind(super::chain::CHAIN_LOCK)
        .execute(&mut **tx)
        .await?;
    let start = super::chain::start(tx).await?;
    if start.seq != archived.start_seq {
        return Err(ArchiveError::Verify(
            "another archive ran meanwhile; nothing was deleted, run it again".into(),
        ));
    }
    let mut deleted = if may_drop {
        drop_covered_partitions(tx, archived.before, ids).await?
    } else {
        0
    };
    for batch in ids.chunks(DELETE_BATCH) {
        deleted += crate::db::query("DELETE FROM audit_logs WHERE id = ANY($1)")
            .bind(batch)
            .execute(&mut **tx)
            .await?
            .rows_affected();
    }
    if deleted != ids.len() as u64 {
        return Err(ArchiveError::Verify(format!(
            "{} of the {} rows archived were no longer there; nothing was deleted",
            ids.len() as u64 - deleted,
            ids.len()
        )));
    }
    crate::db::query("DELETE FROM switchboard.audit_chain WHERE seq > $1 AND seq <= $2")
        .bind(archived.start_seq)
        .bind(archived.through_seq)
        .execute(&mut **tx)
        .await?;
    let head = from_hex(&archived.head_hash).unwrap_or_default();
    let digest = from_hex(&archived.file_sha256).unwrap_or_default();
    crate::db::query(
        "INSERT INTO switchboard.audit_archives \
           (id, before, first_seq, through_seq, head_hash, rows, file_sha256) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(Uuid::new_v4())
    .bind(archived.before)
    .bind((archived.through_seq > archived.start_seq).then_some(archived.start_seq + 1))
    .bind(archived.through_seq)
    .bind(head.as_slice())
    .bind((archived.chained + archived.outside) as i64)
    .bind(digest.as_slice())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// What an archive file holds, once every hash in it has been recomputed.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FileCheck {
    pub database: String,
    pub before: String,
    pub start_seq: i64,
    pub through_seq: i64,
    pub head_hash: String,
    pub chained: u64,
    pub outside: u64,
    pub file_sha256: String,
}

/// Verifies an archive file on its own: its links continue one another from the header's start,
/// every hash matches its row, and the trailer's counts and last hash are the file's.
pub fn verify_file(path: &Path) -> Result<FileCheck, ArchiveError> {
    let bad = |what: String| ArchiveError::Verify(format!("{}: {what}", path.display()));
    let file = std::fs::File::open(path)
        .map_err(|e| ArchiveError::File(format!("reading {}: {e}", path.display())))?;
    let mut digest = Sha256::new();
    let mut reader = std::io::BufReader::new(file);
    let mut buf = String::new();
    let mut header: Option<FileLine> = None;
    let mut trailer: Option<FileLine> = None;
    let mut head = Head {
        seq: 0,
        hash: [0; 32],
    };
    let (mut chained, mut outside) = (0u64, 0u64);
    let mut n = 0usize;
    loop {
        buf.clear();
        let read = reader
            .read_line(&mut buf)
            .map_err(|e| ArchiveError::File(format!("reading {}: {e}", path.display())))?;
        if read == 0 {
            break;
        }
        digest.update(buf.as_bytes());
        n += 1;
        if trailer.is_some() {
            return Err(bad(format!(
                "line {n} follows the trailer: the file was changed"
            )));
        }
        let line: FileLine = serde_json::from_str(buf.trim_end())
            .map_err(|e| bad(format!("line {n} is not a line of an archive ({e})")))?;
        if header.is_none() {
            if line.format.as_deref() != Some(FORMAT) {
                return Err(bad("not an audit archive of this format".into()));
            }
            head = Head {
                seq: line.start_seq.unwrap_or(-1),
                hash: line
                    .start_hash
                    .as_deref()
                    .and_then(from_hex)
                    .ok_or_else(|| bad("its header has no start hash".into()))?,
            };
            header = Some(line);
            continue;
        }
        match line.row {
            Some(row) => {
                let row =
                    audit_row(row).ok_or_else(|| bad(format!("line {n}: a malformed row")))?;
                let Some(seq) = line.seq else {
                    outside += 1;
                    continue;
                };
                let prev = line.prev_hash.as_deref().and_then(from_hex);
                let hash = line.hash.as_deref().and_then(from_hex);
                let recomputed = link_hash(&head.hash, &row);
                if seq != head.seq + 1 || prev != Some(head.hash) || hash != Some(recomputed) {
                    return Err(bad(format!(
                        "link {seq} (line {n}) does not verify: the file was changed"
                    )));
                }
                head = Head {
                    seq,
                    hash: recomputed,
                };
                chained += 1;
            }
            None => trailer = Some(line),
        }
    }
    let header = header.ok_or_else(|| bad("the file is empty".into()))?;
    let trailer = trailer.ok_or_else(|| bad("it has no trailer: it was cut short".into()))?;
    if trailer.through_seq != Some(head.seq)
        || trailer.head_hash.as_deref() != Some(hex::encode(head.hash).as_str())
        || trailer.chained != Some(chained)
        || trailer.outside != Some(outside)
    {
        return Err(bad(
            "its trailer does not match its rows: the file was changed or cut".into(),
        ));
    }
    Ok(FileCheck {
        database: header.database.unwrap_or_default(),
        before: header.before.unwrap_or_default(),
        start_seq: header.start_seq.unwrap_or_default(),
        through_seq: head.seq,
        head_hash: hex::encode(head.hash),
        chained,
        outside,
        file_sha256: hex::encode(digest.finalize()),
    })
}

/// Whether the database recorded an archive with this file's digest, cut and hash.
pub async fn recorded(pool: &PgPool, check: &FileCheck) -> Result<Option<DateTime<Utc>>, DbError> {
    let digest = from_hex(&check.file_sha256).unwrap_or_default();
    let head = from_hex(&check.head_hash).unwrap_or_default();
    Ok(crate::db::query_scalar(
        "SELECT archived_at FROM switchboard.audit_archives \
         WHERE file_sha256 = $1 AND head_hash = $2 AND through_seq = $3",
    )
    .bind(digest.as_slice())
    .bind(head.as_slice())
    .bind(check.through_seq)
    .fetch_optional(&mut *crate::db::pinned(pool).await?)
    .await?)
}
