//! `switchboard audit verify`: walks the audit chain in order, recomputes every link's hash from
//! the row as it is now, and names what does not hold: an edited row, a row whose time was
//! moved, a deleted row, missing or altered links, rows that claim to be the console's without a
//! link, and a tail cut off behind a checkpoint. Rows the console did not write (the platform's
//! own, the backstop triggers') are counted apart: they are not part of the chain.
//!
//! One streamed query over the links (joined to their rows) and one over the rows without a
//! link: memory stays bounded whatever the size (problems beyond [`LISTED`] are counted, not
//! kept).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use sqlx::{PgPool, Row};
use uuid::Uuid;

use super::DbError;
use super::chain::{AuditRow, ROW_COLUMNS, link_hash};

/// How many problems (and rows outside the chain) a report lists; the rest are counted.
pub const LISTED: usize = 200;

/// What went wrong with a link or a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// The row's values differ from what was chained.
    Edited,
    /// The row's time differs from the time chained (rows reordered by their times).
    Reordered,
    /// A link whose row is gone.
    Deleted,
    /// Links missing from the sequence (deleted links, and their rows with them).
    MissingLinks,
    /// A link whose previous hash is not the hash of the link before it (links removed, added or
    /// rewritten).
    BrokenLink,
    /// A row that says the console wrote it (its user agent) made since the chain began, with no
    /// link.
    Forged,
    /// The chain does not contain the head a checkpoint signed (cut off or rewritten).
    Checkpoint,
}

impl ProblemKind {
    pub fn word(self) -> &'static str {
        match self {
            ProblemKind::Edited => "edited",
            ProblemKind::Reordered => "reordered",
            ProblemKind::Deleted => "deleted",
            ProblemKind::MissingLinks => "missing links",
            ProblemKind::BrokenLink => "broken link",
            ProblemKind::Forged => "forged",
            ProblemKind::Checkpoint => "checkpoint",
        }
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Problem {
    pub kind: ProblemKind,
    pub seq: Option<i64>,
    pub audit_id: Option<Uuid>,
    pub detail: String,
}

/// A head a checkpoint signed, as `verify` is asked to prove it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointHead {
    pub seq: i64,
    pub hash: [u8; 32],
    pub at: DateTime<Utc>,
}

/// A row outside the chain, as listed.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Outside {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub action: String,
    pub user_agent: Option<String>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Report {
    /// Links walked.
    pub links: u64,
    /// Where the chain starts: after the last archive's cut, or at the beginning.
    pub start_seq: i64,
    pub start_hash: String,
    /// The last link.
    pub head_seq: i64,
    pub head_hash: String,
    pub head_time: Option<DateTime<Utc>>,
    /// Rows whose actor's account was deleted since (the platform's foreign key set `user_id`
    /// to NULL): the link keeps the actor and the row verifies with it. Not a problem.
    pub actor_deleted: u64,
    /// Problems by kind (all of them), and the first [`LISTED`] in chain order.
    pub counts: BTreeMap<ProblemKind, u64>,
    pub problems: Vec<Problem>,
    /// Rows the console did not write: counted by action, the first [`LISTED`] listed.
    pub outside: u64,
    pub outside_by_action: BTreeMap<String, u64>,
    pub outside_listed: Vec<Outside>,
    /// Whether a checkpoint was given and found in the chain.
    pub checkpoint: Option<String>,
}

impl Report {
    pub fn ok(&self) -> bool {
        self.counts.values().all(|n| *n == 0)
    }

    fn add(&mut self, p: Problem) {
        *self.counts.entry(p.kind).or_default() += 1;
        if self.problems.len() < LISTED {
            self.problems.push(p);
        }
    }
}

/// When the chain began: rows the console wrote before (with no link) are history, not forgery.
async fn chain_began(pool: &PgPool) -> Result<Option<DateTime<Utc>>, DbError> {
    Ok(
        crate::db::query_scalar("SELECT applied_at FROM switchboard.migrations WHERE version = 6")
            .fetch_optional(&mut *crate::db::pinned(pool).await?)
            .await?,
    )
}

/// Rows handed to the hashing thread at a time (a few batches in flight at most).
const BATCH: usize = 4096;

/// A row as the walk reads it, with its link if it has one: (seq, prev hash, hash, the time and
/// actor the link kept).
type LinkOf = (i64, Vec<u8>, Vec<u8>, DateTime<Utc>, Option<Uuid>);
type Linked = (AuditRow, Option<LinkOf>);

/// What the hashing thread found.
#[derive(Default)]
struct Found {
    problems: Vec<Problem>,
    counts: BTreeMap<ProblemKind, u64>,
    actor_deleted: u64,
    linked_rows: u64,
    outside: u64,
    outside_by_action: BTreeMap<String, u64>,
    outside_listed: Vec<Outside>,
}

/// Walks the chain and the rows outside it, in three passes over one snapshot: the links in
/// order (their sequence, their continuity, the checkpoint's link); every row with its link,
/// in whatever order the server reads them (each link's hash recomputed from its row on a
/// thread of its own while the next rows arrive); and, only when some link found no row, the
/// links whose rows are gone. `progress` hears the rows checked so far, every 1,000,000.
pub async fn verify(
    pool: &PgPool,
    checkpoint: Option<&CheckpointHead>,
    progress: &mut (dyn FnMut(u64) + Send),
) -> Result<Report, DbError> {
    let start = super::chain::start(&mut *crate::db::pinned(pool).await?).await?;
    let began = chain_began(pool).await?;
    let mut report = Report {
        links: 0,
        start_seq: start.seq,
        start_hash: hex::encode(start.hash),
        head_seq: start.seq,
        head_hash: hex::encode(start.hash),
        head_time: None,
        actor_deleted: 0,
        counts: BTreeMap::new(),
        problems: Vec::new(),
        outside: 0,
        outside_by_action: BTreeMap::new(),
        outside_listed: Vec::new(),
        checkpoint: None,
    };
    // One snapshot for every pass, with no time limit.
    let mut tx = crate::db::long_snapshot(pool).await?;

    // 1. The links in order: sequence and continuity.
    let mut expected_seq = start.seq + 1;
    let mut expected_prev = start.hash;
    let mut checkpoint_seen = false;
    {
        let mut stream = crate::db::query(
            "SELECT seq, audit_id, row_time, prev_hash, hash FROM switchboard.audit_chain \
             WHERE seq > $1 ORDER BY seq",
        )
        .bind(start.seq)
        .fetch(&mut *tx);
        while let Some(r) = stream.try_next().await? {
            let seq: i64 = r.try_get(0)?;
            let audit_id: Uuid = r.try_get(1)?;
            let row_time: DateTime<Utc> = r.try_get(2)?;
            let prev: Vec<u8> = r.try_get(3)?;
            let hash: Vec<u8> = r.try_get(4)?;
            let problem = |kind, detail: String| Problem {
                kind,
                seq: Some(seq),
                audit_id: Some(audit_id),
                detail,
            };
            let gap = seq != expected_seq;
            if gap {
                report.add(problem(
                    ProblemKind::MissingLinks,
                    if seq > expected_seq {
                        format!(
                            "links {expected_seq} to {} are missing (deleted, with their rows)",
                            seq - 1
                        )
                    } else {
                        format!("link {seq} is out of sequence (after {})", expected_seq - 1)
                    },
                ));
            }
            if prev.as_slice() != expected_prev.as_slice() && !gap {
                report.add(problem(
                    ProblemKind::BrokenLink,
                    format!(
                        "link {seq} does not continue link {}: links were removed, added or \
                         rewritten",
                        seq - 1
                    ),
                ));
            }
            if let Some(cp) = checkpoint
                && cp.seq == seq
            {
                checkpoint_seen = true;
                if hash.as_slice() != cp.hash.as_slice() {
                    report.add(problem(
                        ProblemKind::Checkpoint,
                        format!(
                            "link {seq} is not the one the checkpoint of {} signed: the chain \
                             was rewritten from there",
                            cp.at
                        ),
                    ));
                } else {
                    report.checkpoint = Some(format!(
                        "the chain holds the head signed at {} (link {seq})",
                        cp.at
                    ));
                }
            }
            expected_seq = seq + 1;
            expected_prev = super::chain::hash32(&hash);
            report.links += 1;
            report.head_seq = seq;
            report.head_hash = hex::encode(&hash);
            report.head_time = Some(row_time);
        }
    }
    if let Some(cp) = checkpoint
        && !checkpoint_seen
    {
        if cp.seq <= start.seq {
            report.checkpoint = Some(format!(
                "the checkpoint's link {} was archived; verify the archive file that holds it",
                cp.seq
            ));
        } else {
            report.add(Problem {
                kind: ProblemKind::Checkpoint,
                seq: Some(cp.seq),
                audit_id: None,
                detail: format!(
                    "the chain ends at link {}, before link {} that the checkpoint of {} \
                     signed: its newest entries were cut off",
                    report.head_seq, cp.seq, cp.at
                ),
            });
        }
    }

    // 2. Every row with its link, in two halves read at once on two connections sharing this
    // snapshot (the server formats rows on two cores); each half's hashes recomputed on a
    // thread of its own.
    let seen = std::sync::atomic::AtomicU64::new(0);
    let snapshot: String = crate::db::query_scalar("SELECT pg_export_snapshot()")
        .fetch_one(&mut *tx)
        .await?;
    let second = match second_reader(pool, &snapshot).await {
        Ok(tx2) => Some(tx2),
        // Wherever the server will not share the snapshot: one reader.
        Err(e) => {
            tracing::info!("verify reads with one connection: {e}");
            None
        }
    };
    let found = match second {
        Some(mut tx2) => {
            let mut quiet = |_| {};
            let (a, b) = tokio::join!(
                row_pass(&mut tx, Half::Low, start.seq, began, &seen, progress),
                row_pass(&mut tx2, Half::High, start.seq, began, &seen, &mut quiet),
            );
            tx2.rollback().await?;
            let mut found = a?;
            found.merge(b?);
            found
        }
        None => row_pass(&mut tx, Half::All, start.seq, began, &seen, progress).await?,
    };
    for (kind, n) in found.counts {
        *report.counts.entry(kind).or_default() += n;
    }
    for p in found.problems {
        if report.problems.len() < LISTED {
            report.problems.push(p);
        }
    }
    report.actor_deleted = found.actor_deleted;
    report.outside = found.outside;
    report.outside_by_action = found.outside_by_action;
    report.outside_listed = found.outside_listed;
    report.outside_listed.sort_by_key(|o| (o.created_at, o.id));

    // 3. Links whose rows are gone (only looked for when some link found no row).
    if found.linked_rows < report.links {
        let mut stream = crate::db::query(
            "SELECT c.seq, c.audit_id, c.row_time FROM switchboard.audit_chain c \
             WHERE c.seq > $1 AND NOT EXISTS (SELECT 1 FROM audit_logs a WHERE a.id = c.audit_id) \
             ORDER BY c.seq",
        )
        .bind(start.seq)
        .fetch(&mut *tx);
        while let Some(r) = stream.try_next().await? {
            let (seq, audit_id, row_time): (i64, Uuid, DateTime<Utc>) =
                (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?);
            report.add(Problem {
                kind: ProblemKind::Deleted,
                seq: Some(seq),
                audit_id: Some(audit_id),
                detail: format!("row {audit_id}, chained at {row_time}, is gone"),
            });
        }
    }
    tx.rollback().await?;
    // Listed in chain order (rows without a link last).
    report
        .problems
        .sort_by_key(|p| (p.seq.unwrap_or(i64::MAX), p.kind, p.audit_id));
    Ok(report)
}

/// Which rows a row pass reads.
#[derive(Clone, Copy)]
enum Half {
    All,
    Low,
    High,
}

/// A second read-only transaction on the snapshot `snapshot` (exported by the first).
async fn second_reader(
    pool: &PgPool,
    snapshot: &str,
) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, DbError> {
    // A server-made identifier (hex digits and dashes); checked before it goes into the SQL,
    // which takes no parameter here.
    if snapshot.is_empty() || !snapshot.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
        return Err(DbError::Refused(format!(
            "unexpected snapshot id {snapshot}"
        )));
    }
    let mut tx = pool.begin().await?;
    crate::db::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *tx)
        .await?;
    crate::db::query(sqlx::AssertSqlSafe(format!(
        "SET TRANSACTION SNAPSHOT '{snapshot}'"
    )))
    .execute(&mut *tx)
    .await?;
    crate::db::query("SET LOCAL statement_timeout = 0")
        .execute(&mut *tx)
        .await?;
    Ok(tx)
}

/// Reads the rows of `half` with their links and checks them on a thread of its own.
async fn row_pass(
    tx: &mut sqlx::Transaction<'static, sqlx::Postgres>,
    half: Half,
    start_seq: i64,
    began: Option<DateTime<Utc>>,
    seen: &std::sync::atomic::AtomicU64,
    progress: &mut (dyn FnMut(u64) + Send),
) -> Result<Found, DbError> {
    use std::sync::atomic::Ordering;
    let (batches, mut inbox) = tokio::sync::mpsc::channel::<Vec<Linked>>(4);
    let checker = tokio::task::spawn_blocking(move || {
        let mut found = Found::default();
        while let Some(batch) = inbox.blocking_recv() {
            for (row, link) in batch {
                check(&mut found, row, link, began);
            }
        }
        found
    });
    let which = match half {
        Half::All => "",
        Half::Low => " WHERE a.id < '80000000-0000-0000-0000-000000000000'",
        Half::High => " WHERE a.id >= '80000000-0000-0000-0000-000000000000'",
    };
    let sql = format!(
        "SELECT {ROW_COLUMNS}, c.seq, c.prev_hash, c.hash, c.row_time, c.actor \
         FROM audit_logs a LEFT JOIN switchboard.audit_chain c \
           ON c.audit_id = a.id AND c.seq > $1{which}"
    );
    {
        let mut stream = crate::db::query(sqlx::AssertSqlSafe(sql))
            .bind(start_seq)
            .fetch(&mut **tx);
        let mut batch = Vec::with_capacity(BATCH);
        while let Some(r) = stream.try_next().await? {
            let row = AuditRow::from_row(&r, 0)?;
            let seq: Option<i64> = r.try_get(10)?;
            let link = match seq {
                Some(seq) => Some((
                    seq,
                    r.try_get(11)?,
                    r.try_get(12)?,
                    r.try_get(13)?,
                    r.try_get(14)?,
                )),
                None => None,
            };
            batch.push((row, link));
            if batch.len() == BATCH {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                // The checker ends only when this side drops the sender.
                let _ = batches.send(full).await;
            }
            let n = seen.fetch_add(1, Ordering::Relaxed) + 1;
            if n.is_multiple_of(1_000_000) {
                progress(n);
            }
        }
        let _ = batches.send(batch).await;
    }
    drop(batches);
    checker
        .await
        .map_err(|e| DbError::Refused(format!("the hashing thread failed: {e}")))
}

impl Found {
    /// Adds what another pass found.
    fn merge(&mut self, other: Found) {
        for (kind, n) in other.counts {
            *self.counts.entry(kind).or_default() += n;
        }
        for p in other.problems {
            if self.problems.len() < LISTED {
                self.problems.push(p);
            }
        }
        self.actor_deleted += other.actor_deleted;
        self.linked_rows += other.linked_rows;
        self.outside += other.outside;
        for (action, n) in other.outside_by_action {
            *self.outside_by_action.entry(action).or_default() += n;
        }
        for o in other.outside_listed {
            if self.outside_listed.len() < LISTED {
                self.outside_listed.push(o);
            }
        }
    }

    fn add(&mut self, p: Problem) {
        *self.counts.entry(p.kind).or_default() += 1;
        if self.problems.len() < LISTED {
            self.problems.push(p);
        }
    }
}

/// One row and its link, checked (on the hashing thread): a linked row's hash recomputed; a row
/// without a link counted apart, or named forged when it says the console wrote it since the
/// chain began.
fn check(found: &mut Found, row: AuditRow, link: Option<LinkOf>, began: Option<DateTime<Utc>>) {
    let Some((seq, prev, hash, row_time, actor)) = link else {
        let claims_console = row
            .user_agent
            .as_deref()
            .is_some_and(|ua| ua.starts_with("switchboard/"));
        if claims_console && began.is_some_and(|b| row.created_at >= b) {
            found.add(Problem {
                kind: ProblemKind::Forged,
                seq: None,
                audit_id: Some(row.id),
                detail: format!(
                    "row {} ({} at {}) says the console wrote it but has no link",
                    row.id, row.action, row.created_at
                ),
            });
            return;
        }
        found.outside += 1;
        *found
            .outside_by_action
            .entry(row.action.clone())
            .or_default() += 1;
        if found.outside_listed.len() < LISTED {
            found.outside_listed.push(Outside {
                id: row.id,
                created_at: row.created_at,
                action: row.action,
                user_agent: row.user_agent,
            });
        }
        return;
    };
    found.linked_rows += 1;
    if link_hash(&prev, &row).as_slice() == hash.as_slice() {
        return;
    }
    // The actor's account deleted since: the platform's key set user_id to NULL.
    if row.user_id.is_none() && actor.is_some() {
        let mut was = row.clone();
        was.user_id = actor;
        if link_hash(&prev, &was).as_slice() == hash.as_slice() {
            found.actor_deleted += 1;
            return;
        }
    }
    let problem = |kind, detail: String| Problem {
        kind,
        seq: Some(seq),
        audit_id: Some(row.id),
        detail,
    };
    if row.created_at != row_time {
        let mut was = row.clone();
        was.created_at = row_time;
        if link_hash(&prev, &was).as_slice() == hash.as_slice() {
            found.add(problem(
                ProblemKind::Reordered,
                format!(
                    "row {} ({}) was moved in time: chained at {row_time}, now {}",
                    row.id, row.action, row.created_at
                ),
            ));
            return;
        }
    }
    found.add(problem(
        ProblemKind::Edited,
        format!(
            "row {} ({} at {}) differs from what was chained",
            row.id, row.action, row.created_at
        ),
    ));
}
