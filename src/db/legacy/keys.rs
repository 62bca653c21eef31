//! The foreign keys of the big inserts (calls, transcripts) checked once over the new rows
//! instead of row by row.
//!
//! A key's check is a trigger that runs one lookup per inserted row; for a million calls and the
//! platform's keys that is most of the insert's time. A role allowed to set
//! `session_replication_role` (a superuser, or one granted it) may turn those triggers off for
//! one statement, as `pg_restore --disable-triggers` does, provided the keys are then checked
//! another way: here, one statement per key over the rows just written, which also takes the
//! lock on the referenced rows that the trigger would have taken (`FOR KEY SHARE`), so that no
//! other transaction can delete them before the import commits (rows the import itself wrote
//! need none: no other transaction sees them). Any row without its referenced
//! row fails the import (nothing is written). Where the role may not, or the table has a trigger
//! of its own that replica mode would skip too, the triggers check row by row as before.

use sqlx::PgConnection;

use super::ImportError;
use crate::db::connect::quote_ident;

/// A foreign key of the table: its name, the referenced table (as `regclass` prints it, quoted
/// where it must be), and the column pairs.
struct Key {
    name: String,
    referenced: String,
    /// The referenced table is partitioned (its partitions are looked in; else ONLY it).
    partitioned: bool,
    columns: Vec<String>,
    referenced_columns: Vec<String>,
}

/// Turns the key triggers off for the rest of the transaction (until [`check_and_restore`]) if
/// this role may and `table` has nothing else that replica mode would skip; returns the setting
/// to restore, or `None` where the keys stay checked row by row.
pub async fn set_aside(tx: &mut PgConnection, table: &str) -> Result<Option<String>, ImportError> {
    // What replica mode would skip besides the keys' checks keeps them all row by row: any
    // other trigger that fires on INSERT (the table's own, and the internal rechecks of a
    // deferrable unique key), an INSERT rule, a key with MATCH FULL (whose check below would
    // differ), a partitioned table (its partitions may have triggers and keys of their own).
    let blockers: i64 = crate::db::query_scalar(
        "SELECT (SELECT count(*) FROM pg_trigger \
                 WHERE tgrelid = $1::regclass AND tgenabled <> 'D' AND (tgtype & 4) <> 0 \
                   AND tgfoid <> 'pg_catalog.\"RI_FKey_check_ins\"'::regproc) \
              + (SELECT count(*) FROM pg_rewrite \
                 WHERE ev_class = $1::regclass AND ev_type = '3' AND ev_enabled <> 'D') \
              + (SELECT count(*) FROM pg_constraint \
                 WHERE conrelid = $1::regclass AND contype = 'f' AND confmatchtype = 'f') \
              + (SELECT count(*) FROM pg_class WHERE oid = $1::regclass AND relkind = 'p')",
    )
    .bind(table)
    .fetch_one(&mut *tx)
    .await?;
    if blockers > 0 {
        return Ok(None);
    }
    let before = replication_role(tx).await?;
    if before != "origin" {
        // Triggers are already off in this session (a role's default?): checking only these
        // keys would not make up for it. `require_origin` refuses such a session first.
        return Ok(None);
    }
    let allowed =
        crate::db::try_in_savepoint(tx, "SET LOCAL session_replication_role = replica").await?;
    Ok(allowed.then_some(before))
}

/// Turns the triggers back on (`before`: what [`set_aside`] returned) and checks every foreign
/// key of `table` over the rows whose `id` is in `new_ids` (a query), locking the referenced rows
/// as the triggers would have. A row without its referenced row is an error.
pub async fn check_and_restore(
    tx: &mut PgConnection,
    table: &str,
    new_ids: &str,
    before: &str,
) -> Result<(), ImportError> {
    crate::db::query("SELECT set_config('session_replication_role', $1, true)")
        .bind(before)
        .execute(&mut *tx)
        .await?;
    let keys = keys(tx, table).await?;
    if keys.is_empty() {
        return Ok(());
    }
    // The key columns of the new rows, once (one pass over them, not one per key), as the
    // distinct combinations: a few thousand agents and contacts for a million calls.
    let columns = |prefix: &str, names: &[String]| {
        names
            .iter()
            .map(|c| format!("{prefix}.{}", quote_ident(c)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    // The rows of the new ones whose `names` are all set.
    let all_set = |names: &[String]| {
        names
            .iter()
            .map(|c| format!("t.{} IS NOT NULL", quote_ident(c)))
            .collect::<Vec<_>>()
            .join(" AND ")
    };
    let mut all: Vec<String> = keys.iter().flat_map(|k| k.columns.clone()).collect();
    all.sort();
    all.dedup();
    crate::db::query(sqlx::AssertSqlSafe(format!(
        "CREATE TEMP TABLE lg_new_keys ON COMMIT DROP AS \
         SELECT DISTINCT {} FROM {table} t WHERE t.id IN ({new_ids})",
        columns("t", &all)
    )))
    .execute(&mut *tx)
    .await?;
    for key in &keys {
        // A row another key of the same referenced table covers (its columns, and more, all
        // set: transcripts' call_id within (call_id, user_id)) is checked, and its referenced
        // row locked, by that key: the same row is found or not.
        let not_null = keys
            .iter()
            .filter(|other| covers(other, key))
            .fold(all_set(&key.columns), |wanted, other| {
                format!("{wanted} AND NOT ({})", all_set(&other.columns))
            });
        // MATCH SIMPLE: a row with a NULL in the key refers to nothing. As the key's trigger,
        // the referenced table alone (ONLY), not tables inheriting from it, unless it is
        // partitioned. Referenced rows this transaction wrote are not locked (no other
        // transaction sees them, so none can delete them); the others are, and one deleted
        // meanwhile is not found by the lock. A wanted key with neither is missing.
        let only = if key.partitioned { "" } else { "ONLY " };
        let matches = |other: &str| {
            key.columns
                .iter()
                .zip(&key.referenced_columns)
                .map(|(c, r)| format!("{other}.{} = w.{}", quote_ident(r), quote_ident(c)))
                .collect::<Vec<_>>()
                .join(" AND ")
        };
        let sql = format!(
            "WITH wanted AS MATERIALIZED ( \
                 SELECT DISTINCT {wanted} FROM lg_new_keys t WHERE {not_null}), \
             found AS MATERIALIZED ( \
                 SELECT r.xmin = pg_current_xact_id()::xid AS sb_ours, {referenced_columns} \
                 FROM {only}{referenced} r WHERE ({referenced_columns}) IN (SELECT * FROM wanted)), \
             locked AS MATERIALIZED ( \
                 SELECT {referenced_columns} FROM {only}{referenced} r \
                 WHERE ({referenced_columns}) IN (SELECT {found_columns} FROM found WHERE NOT sb_ours) \
                 FOR KEY SHARE OF r) \
             SELECT count(*) FROM wanted w \
             WHERE NOT EXISTS (SELECT 1 FROM found f WHERE f.sb_ours AND {in_found}) \
               AND NOT EXISTS (SELECT 1 FROM locked l WHERE {in_locked})",
            wanted = columns("t", &key.columns),
            referenced = key.referenced,
            referenced_columns = columns("r", &key.referenced_columns),
            found_columns = columns("found", &key.referenced_columns),
            in_found = matches("f"),
            in_locked = matches("l"),
        );
        let missing: i64 = crate::db::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_one(&mut *tx)
            .await?;
        if missing > 0 {
            let name = table.rsplit('.').next().unwrap_or(table);
            return Err(ImportError::Integrity(format!(
                "{missing} {} value(s) of the new {name} have no row in {} (key {}): nothing \
                 was imported",
                key.columns.join(", "),
                key.referenced,
                key.name,
            )));
        }
    }
    crate::db::query("DROP TABLE lg_new_keys")
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// Whether `wider` checks what `key` checks wherever `wider`'s columns are all set: the same
/// referenced table (read the same way, ONLY or not), and each of `key`'s columns paired with
/// the same referenced column, with more columns besides (a row found by `wider` is a row `key`
/// would find).
fn covers(wider: &Key, key: &Key) -> bool {
    wider.referenced == key.referenced
        && wider.columns.len() > key.columns.len()
        && key.columns.iter().zip(&key.referenced_columns).all(|pair| {
            wider
                .columns
                .iter()
                .zip(&wider.referenced_columns)
                .any(|other| other == pair)
        })
}

/// The foreign keys of `table`, from the catalog.
async fn keys(tx: &mut PgConnection, table: &str) -> Result<Vec<Key>, ImportError> {
    type Row = (String, String, bool, Vec<String>, Vec<String>);
    let rows: Vec<Row> = crate::db::query_as(
        "SELECT c.conname::text, c.confrelid::regclass::text, \
                (SELECT relkind = 'p' FROM pg_class WHERE oid = c.confrelid), \
                array(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(n, i) \
                      JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n \
                      ORDER BY k.i), \
                array(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY k(n, i) \
                      JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n \
                      ORDER BY k.i) \
         FROM pg_constraint c WHERE c.conrelid = $1::regclass AND c.contype = 'f' \
         ORDER BY c.conname",
    )
    .bind(table)
    .fetch_all(&mut *tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(name, referenced, partitioned, columns, referenced_columns)| Key {
                name,
                referenced,
                partitioned,
                columns,
                referenced_columns,
            },
        )
        .collect())
}

/// Refuses a session whose triggers are already off (`session_replication_role` other than
/// `origin`, e.g. a role's default): the import's keys, and the platform's triggers, would not
/// run. A role that may set it back does so for the import's transaction.
pub async fn require_origin(tx: &mut PgConnection) -> Result<(), ImportError> {
    let now = replication_role(tx).await?;
    if now == "origin" {
        return Ok(());
    }
    if crate::db::try_in_savepoint(tx, "SET LOCAL session_replication_role = origin").await? {
        return Ok(());
    }
    Err(ImportError::Integrity(format!(
        "this session's session_replication_role is {now}: triggers and foreign keys would not \
         run, so nothing was imported; connect as a role without that setting"
    )))
}

/// The session's `session_replication_role`: `origin` where triggers run.
pub async fn replication_role(tx: &mut PgConnection) -> Result<String, ImportError> {
    Ok(
        crate::db::query_scalar("SELECT current_setting('session_replication_role')")
            .fetch_one(&mut *tx)
            .await?,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(referenced: &str, pairs: &[(&str, &str)]) -> Key {
        Key {
            name: String::new(),
            referenced: referenced.into(),
            partitioned: false,
            columns: pairs.iter().map(|(c, _)| c.to_string()).collect(),
            referenced_columns: pairs.iter().map(|(_, r)| r.to_string()).collect(),
        }
    }

    #[test]
    fn a_wider_key_of_the_same_table_and_pairs_covers_a_narrower_one() {
        let single = key("calls", &[("call_id", "id")]);
        let composite = key("calls", &[("call_id", "id"), ("user_id", "user_id")]);
        assert!(covers(&composite, &single));
        assert!(!covers(&single, &composite));
        assert!(!covers(&composite, &composite));
        // Another table, or the same column paired with another referenced column, is not the
        // same row.
        let elsewhere = key("agents", &[("call_id", "id"), ("user_id", "user_id")]);
        assert!(!covers(&elsewhere, &single));
        let crossed = key("calls", &[("call_id", "user_id"), ("user_id", "id")]);
        assert!(!covers(&crossed, &single));
    }
}
