//! The audit log's hash chain: each row the console writes gets a link in
//! `switchboard.audit_chain`, made in the row's own transaction as it commits, one at a time (a
//! transaction-level advisory lock held from reading the head to the end of the commit), so
//! concurrent writers never fork it.
//!
//! A link's hash is SHA-256 over the previous link's hash (32 bytes; 32 zero bytes before the
//! first link, or the last archived link's hash after an archive) followed by the row's
//! canonical encoding ([`canonical`]). `verify` (see `db::verify`) walks the links in order and
//! recomputes every hash from the rows as they are now.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, Row};
use uuid::Uuid;

use super::DbError;

/// The advisory lock that serialises appends (a transaction-level lock: released at commit or
/// rollback). The number spells "sb-chain".
pub const CHAIN_LOCK: i64 = 0x7362_2d63_6861_696e;

/// The hash before the first link.
pub const GENESIS: [u8; 32] = [0; 32];

/// An audit row as the chain reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRow {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub user_id: Option<Uuid>,
    pub action: String,
    pub resource_type: String,
    pub resource_id: Option<Uuid>,
    /// The JSON values exactly as PostgreSQL prints `jsonb` (`old_values::text`).
    pub old_values: Option<String>,
    pub new_values: Option<String>,
    /// `ip_address::text`.
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
}

/// The columns of [`AuditRow`], in order, as a select list over `audit_logs a`.
pub const ROW_COLUMNS: &str = "a.id, a.created_at, a.user_id, a.action, a.resource_type, \
     a.resource_id, a.old_values::text, a.new_values::text, a.ip_address::text, a.user_agent";

impl AuditRow {
    /// Reads the row from columns `first..first + 10` of `r` (laid out as [`ROW_COLUMNS`]).
    pub fn from_row(r: &sqlx::postgres::PgRow, first: usize) -> Result<AuditRow, sqlx::Error> {
        Ok(AuditRow {
            id: r.try_get(first)?,
            created_at: r.try_get(first + 1)?,
            user_id: r.try_get(first + 2)?,
            action: r.try_get(first + 3)?,
            resource_type: r.try_get(first + 4)?,
            resource_id: r.try_get(first + 5)?,
            old_values: r.try_get(first + 6)?,
            new_values: r.try_get(first + 7)?,
            ip_address: r.try_get(first + 8)?,
            user_agent: r.try_get(first + 9)?,
        })
    }
}

/// The row's canonical encoding, into `buf`: a JSON array, in this order,
/// `[id, created_at, user_id, action, resource_type, resource_id, old_values, new_values,
/// ip_address, user_agent]`, with no whitespace between its elements: ids as lower-case
/// hyphenated strings, `created_at` as whole microseconds since 1970-01-01 UTC (the time as
/// stored), `ip_address` as PostgreSQL's `inet` text, absent values as `null`, text as JSON
/// strings (serde_json's escaping), and the two JSON values exactly as PostgreSQL prints
/// `jsonb` (`::text`: object keys ordered by length, then bytes; `", "` and `": "` between
/// items). Only PostgreSQL 15 was tried; a version that printed `jsonb` differently would make
/// every link fail to verify.
pub fn canonical_into(row: &AuditRow, buf: &mut Vec<u8>) {
    fn id(buf: &mut Vec<u8>, u: Option<Uuid>) {
        match u {
            Some(u) => {
                buf.push(b'"');
                buf.extend_from_slice(
                    u.hyphenated()
                        .encode_lower(&mut Uuid::encode_buffer())
                        .as_bytes(),
                );
                buf.push(b'"');
            }
            None => buf.extend_from_slice(b"null"),
        }
    }
    fn text(buf: &mut Vec<u8>, s: Option<&str>) {
        match s {
            // Writing to a Vec cannot fail.
            Some(s) => serde_json::to_writer(&mut *buf, s).unwrap_or_default(),
            None => buf.extend_from_slice(b"null"),
        }
    }
    fn raw(buf: &mut Vec<u8>, s: Option<&str>) {
        buf.extend_from_slice(s.unwrap_or("null").as_bytes());
    }
    buf.clear();
    buf.push(b'[');
    id(buf, Some(row.id));
    buf.push(b',');
    buf.extend_from_slice(row.created_at.timestamp_micros().to_string().as_bytes());
    buf.push(b',');
    id(buf, row.user_id);
    buf.push(b',');
    text(buf, Some(&row.action));
    buf.push(b',');
    text(buf, Some(&row.resource_type));
    buf.push(b',');
    id(buf, row.resource_id);
    buf.push(b',');
    raw(buf, row.old_values.as_deref());
    buf.push(b',');
    raw(buf, row.new_values.as_deref());
    buf.push(b',');
    text(buf, row.ip_address.as_deref());
    buf.push(b',');
    text(buf, row.user_agent.as_deref());
    buf.push(b']');
}

/// The row's canonical encoding (see [`canonical_into`]).
pub fn canonical(row: &AuditRow) -> Vec<u8> {
    let mut buf = Vec::with_capacity(512);
    canonical_into(row, &mut buf);
    buf
}

/// The hash of a link: SHA-256(prev || canonical(row)).
pub fn link_hash(prev: &[u8], row: &AuditRow) -> [u8; 32] {
    thread_local! {
        static BUF: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(Vec::with_capacity(1024));
    }
    BUF.with_borrow_mut(|buf| {
        canonical_into(row, buf);
        let mut h = Sha256::new();
        h.update(prev);
        h.update(&buf[..]);
        h.finalize().into()
    })
}

/// The chain's head: the last link, or where an archive left it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// 0 before the first link.
    pub seq: i64,
    pub hash: [u8; 32],
}

/// A stored hash as its 32 bytes (zeros if the column holds anything else, which then fails
/// every comparison).
pub fn hash32(v: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    if v.len() == 32 {
        out.copy_from_slice(v);
    }
    out
}

/// The head as `conn` sees it: the last link, else where the chain starts
/// (`switchboard.audit_chain_head`, migration 0009, which the commit trigger reads too).
pub async fn head(conn: &mut PgConnection) -> Result<Head, DbError> {
    read_head(conn, "SELECT seq, hash FROM switchboard.audit_chain_head()").await
}

/// Where the chain starts: after the newest archive's cut (its last link and hash), else at the
/// beginning (link 0, 32 zero bytes) (`switchboard.audit_chain_start`, migration 0009).
pub async fn start(conn: &mut PgConnection) -> Result<Head, DbError> {
    read_head(
        conn,
        "SELECT seq, hash FROM switchboard.audit_chain_start()",
    )
    .await
}

async fn read_head(conn: &mut PgConnection, sql: &'static str) -> Result<Head, DbError> {
    let (seq, hash): (i64, Vec<u8>) = crate::db::query_as(sql).fetch_one(&mut *conn).await?;
    Ok(Head {
        seq,
        hash: hash32(&hash),
    })
}

/// Links audit row `row` (written in this transaction, as stored) to the chain when the
/// transaction commits, and tells listeners of the audit log that it exists. The row's encoding
/// is made here and left in `switchboard.audit_chain_pending`; a deferred trigger (migration
/// 0009) makes the link as part of COMMIT: it takes the chain's lock, reads the head, writes
/// `SHA-256(head || encoding)` as [`link_hash`] does, and the commit releases the lock. Links
/// are so made one at a time, in the order their transactions commit, and the lock is never
/// held while the writer's client is between round trips.
pub async fn append(conn: &mut PgConnection, row: &AuditRow) -> Result<(), DbError> {
    crate::db::query(
        "INSERT INTO switchboard.audit_chain_pending (audit_id, row_time, actor, canonical) \
         VALUES ($1, $2, $3, $4)",
    )
    .bind(row.id)
    .bind(row.created_at)
    .bind(row.user_id)
    .bind(canonical(row))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The channel the audit log's listeners hear new entries on (the payload: the entry's id);
/// the chain's commit trigger (migration 0009) and the backstop triggers notify on it.
pub const CHANNEL: &str = "switchboard_audit";

/// Which existing rows [`link_existing`] links.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// Rows whose user agent says the console wrote them (the demo data).
    ConsoleRows,
    /// Every row (the benchmark's data set, a log written by the console alone).
    AllRows,
}

/// Rows linked per statement by [`link_existing`].
const LINK_BATCH: i64 = 10_000;

/// Links rows that were loaded without the writer (the demo and benchmark data sets, which
/// insert in bulk), oldest first, under the chain's lock, in the caller's transaction. Never
/// for a real log: a chain that takes in rows after the fact proves nothing about them.
pub async fn link_existing(
    conn: &mut PgConnection,
    which: Existing,
    progress: &mut (dyn FnMut(i64) + Send),
) -> Result<i64, DbError> {
    crate::db::query("SELECT pg_advisory_xact_lock($1)")
        .bind(CHAIN_LOCK)
        .execute(&mut *conn)
        .await?;
    let mut head = head(conn).await?;
    let only_console = which == Existing::ConsoleRows;
    // An empty chain has no row linked yet: nothing to leave out, and no index of the chain
    // needed to do it (the benchmark's load builds them after).
    let empty: bool =
        crate::db::query_scalar("SELECT NOT EXISTS (SELECT 1 FROM switchboard.audit_chain)")
            .fetch_one(&mut *conn)
            .await?;
    // One ordered scan through a cursor of this transaction, fetched a batch at a time (a query
    // per batch would read the index from the start each time).
    crate::db::query(sqlx::AssertSqlSafe(format!(
        "DECLARE switchboard_link NO SCROLL CURSOR FOR \
         SELECT {ROW_COLUMNS} FROM audit_logs a \
         WHERE ({} OR NOT EXISTS (SELECT 1 FROM switchboard.audit_chain c \
                                  WHERE c.audit_id = a.id)) \
           AND ({} OR a.user_agent LIKE 'switchboard/%') \
         ORDER BY a.created_at, a.id",
        if empty { "true" } else { "false" },
        if only_console { "false" } else { "true" }
    )))
    .execute(&mut *conn)
    .await?;
    let mut linked = 0i64;
    loop {
        let rows = crate::db::query(sqlx::AssertSqlSafe(format!(
            "FETCH {LINK_BATCH} FROM switchboard_link"
        )))
        .fetch_all(&mut *conn)
        .await?;
        if rows.is_empty() {
            break;
        }
        let mut seqs = Vec::with_capacity(rows.len());
        let mut ids = Vec::with_capacity(rows.len());
        let mut times = Vec::with_capacity(rows.len());
        let mut actors: Vec<Option<Uuid>> = Vec::with_capacity(rows.len());
        let mut prevs: Vec<Vec<u8>> = Vec::with_capacity(rows.len());
        let mut hashes: Vec<Vec<u8>> = Vec::with_capacity(rows.len());
        for r in &rows {
            let row = AuditRow::from_row(r, 0)?;
            let hash = link_hash(&head.hash, &row);
            seqs.push(head.seq + 1);
            ids.push(row.id);
            times.push(row.created_at);
            actors.push(row.user_id);
            prevs.push(head.hash.to_vec());
            hashes.push(hash.to_vec());
            head = Head {
                seq: head.seq + 1,
                hash,
            };
        }
        crate::db::query(
            "INSERT INTO switchboard.audit_chain (seq, audit_id, row_time, actor, prev_hash, hash) \
             SELECT * FROM unnest($1::int8[], $2::uuid[], $3::timestamptz[], $4::uuid[], \
                                  $5::bytea[], $6::bytea[])",
        )
        .bind(&seqs)
        .bind(&ids)
        .bind(&times)
        .bind(&actors)
        .bind(&prevs)
        .bind(&hashes)
        .execute(&mut *conn)
        .await?;
        linked += rows.len() as i64;
        progress(linked);
    }
    crate::db::query("CLOSE switchboard_link")
        .execute(&mut *conn)
        .await?;
    Ok(linked)
}

/// A hash from its hex, if it is 64 hex digits.
pub fn from_hex(s: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(s.trim(), &mut out).ok()?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn row() -> AuditRow {
        AuditRow {
            id: Uuid::from_u128(1),
            created_at: DateTime::from_timestamp_micros(1_764_000_000_123_456).unwrap(),
            user_id: Some(Uuid::from_u128(2)),
            action: "credits.top_up".into(),
            resource_type: "user".into(),
            resource_id: Some(Uuid::from_u128(3)),
            old_values: Some(r#"{"credits": 5}"#.into()),
            new_values: Some(
                r#"{"a": {"b": [1.5, null], "z": 1}, "reason": "r\"", "credits": 10}"#.into(),
            ),
            ip_address: Some("10.0.0.1".into()),
            user_agent: Some("switchboard/1 (\u{1b}x)".into()),
        }
    }

    #[test]
    fn the_canonical_encoding_is_as_documented() {
        let text = String::from_utf8(canonical(&row())).unwrap();
        assert_eq!(
            text,
            "[\"00000000-0000-0000-0000-000000000001\",1764000000123456,\
             \"00000000-0000-0000-0000-000000000002\",\"credits.top_up\",\"user\",\
             \"00000000-0000-0000-0000-000000000003\",{\"credits\": 5},\
             {\"a\": {\"b\": [1.5, null], \"z\": 1}, \"reason\": \"r\\\"\", \"credits\": 10},\
             \"10.0.0.1\",\"switchboard/1 (\\u001bx)\"]"
        );
        // It is JSON.
        assert!(serde_json::from_str::<Value>(&text).is_ok());
    }

    #[test]
    fn every_field_and_the_previous_hash_change_the_hash() {
        let base = link_hash(&GENESIS, &row());
        assert_ne!(link_hash(&[1; 32], &row()), base);
        let mut r = row();
        r.created_at += chrono::Duration::microseconds(1);
        assert_ne!(link_hash(&GENESIS, &r), base);
        let mut r = row();
        r.user_id = None;
        assert_ne!(link_hash(&GENESIS, &r), base);
        let mut r = row();
        r.new_values = Some(r#"{"credits": 11}"#.into());
        assert_ne!(link_hash(&GENESIS, &r), base);
        assert_eq!(from_hex(&hex::encode(base)), Some(base));
        assert_eq!(from_hex("zz"), None);
    }
}
