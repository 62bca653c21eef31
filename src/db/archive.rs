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
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sqlx::{PgPool, Row};
use uuid::Uuid;

use super::DbError;
use super::chain::{AuditRow, Head, ROW_COLUMNS, from_hex, hex, link_hash};

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

/// A row as the file holds it (every field the hash covers).
fn row_json(r: &AuditRow) -> Value {
    json!({
        "id": r.id,
        "created_at": time(r.created_at),
        "user_id": r.user_id,
        "action": r.action,
        "resource_type": r.resource_type,
        "resource_id": r.resource_id,
        "old_values": r.old_values,
        "new_values": r.new_values,
        "ip_address": r.ip_address,
        "user_agent": r.user_agent,
    })
}

fn row_from_json(v: &Value) -> Option<AuditRow> {
    let id = |k: &str| -> Option<Option<Uuid>> {
        match v.get(k)? {
            Value::Null => Some(None),
            Value::String(s) => Uuid::parse_str(s).ok().map(Some),
            _ => None,
        }
    };
    let text = |k: &str| -> Option<Option<String>> {
        match v.get(k)? {
            Value::Null => Some(None),
            Value::String(s) => Some(Some(s.clone())),
            _ => None,
        }
    };
    let json_value = |k: &str| -> Option<Value> {
        match v.get(k)? {
            Value::Null => None,
            other => Some(other.clone()),
        }
    };
    Some(AuditRow {
        id: id("id")??,
        created_at: DateTime::parse_from_rfc3339(v.get("created_at")?.as_str()?)
            .ok()?
            .with_timezone(&Utc),
        user_id: id("user_id")?,
        action: text("action")??,
        resource_type: text("resource_type")??,
        resource_id: id("resource_id")?,
        old_values: json_value("old_values"),
        new_values: json_value("new_values"),
        ip_address: text("ip_address")?,
        user_agent: text("user_agent")?,
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
        "start_hash": hex(&start.hash),
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
            if seq != head.seq + 1
                || prev.as_slice() != head.hash.as_slice()
                || link_hash(&prev, &row).as_slice() != hash.as_slice()
            {
                return Err(ArchiveError::Verify(format!(
                    "the audit log does not verify at link {seq} (run `switchboard audit \
                     verify`); nothing was archived"
                )));
            }
            let line = json!({
                "seq": seq,
                "prev_hash": hex(&prev),
                "hash": hex(&hash),
                "row": row_json(&row),
            });
            writeln!(out, "{line}").map_err(io)?;
            ids.push(row.id);
            head = Head {
                seq,
                hash: link_hash(&prev, &row),
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
            writeln!(out, "{}", json!({ "row": row_json(&row) })).map_err(io)?;
            ids.push(row.id);
            outside += 1;
        }
    }
    tx.rollback().await?;
    let trailer = json!({
        "through_seq": head.seq,
        "head_hash": hex(&head.hash),
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
            head_hash: hex(&head.hash),
            chained,
            outside,
            file_sha256: String::new(),
            path: partial.to_path_buf(),
        },
        ids,
    ))
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
    let mut deleted = 0u64;
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
    let mut lines: Vec<Value> = Vec::new();
    let mut reader = std::io::BufReader::new(file);
    let mut buf = String::new();
    let mut header: Option<Value> = None;
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
        let v: Value = serde_json::from_str(buf.trim_end())
            .map_err(|e| bad(format!("line {n} is not JSON ({e})")))?;
        if header.is_none() {
            if v.get("format").and_then(Value::as_str) != Some(FORMAT) {
                return Err(bad("not an audit archive of this format".into()));
            }
            head = Head {
                seq: v["start_seq"].as_i64().unwrap_or(-1),
                hash: v["start_hash"]
                    .as_str()
                    .and_then(from_hex)
                    .ok_or_else(|| bad("its header has no start hash".into()))?,
            };
            header = Some(v);
            continue;
        }
        if let Some(row) = v.get("row") {
            let row =
                row_from_json(row).ok_or_else(|| bad(format!("line {n}: a malformed row")))?;
            if let Some(seq) = v.get("seq").and_then(Value::as_i64) {
                let prev = v["prev_hash"].as_str().and_then(from_hex);
                let hash = v["hash"].as_str().and_then(from_hex);
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
            } else {
                outside += 1;
            }
            continue;
        }
        lines.push(v);
    }
    let header = header.ok_or_else(|| bad("the file is empty".into()))?;
    let trailer = lines
        .pop()
        .ok_or_else(|| bad("it has no trailer: it was cut short".into()))?;
    if trailer["through_seq"].as_i64() != Some(head.seq)
        || trailer["head_hash"].as_str() != Some(hex(&head.hash).as_str())
        || trailer["chained"].as_u64() != Some(chained)
        || trailer["outside"].as_u64() != Some(outside)
    {
        return Err(bad(
            "its trailer does not match its rows: the file was changed or cut".into(),
        ));
    }
    Ok(FileCheck {
        database: header["database"].as_str().unwrap_or_default().to_string(),
        before: header["before"].as_str().unwrap_or_default().to_string(),
        start_seq: header["start_seq"].as_i64().unwrap_or_default(),
        through_seq: head.seq,
        head_hash: hex(&head.hash),
        chained,
        outside,
        file_sha256: hex(&digest.finalize()),
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
