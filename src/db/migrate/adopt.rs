//! Adoption: is a database the platform built compatible with the migrations?
//!
//! The expected tables are not a second, hand-kept list: the platform and tenancy migrations
//! are run into a scratch schema inside a transaction that is rolled back, and the catalog of
//! that schema is compared with `public`. Nothing of it remains (a schema dump taken before and
//! after is the same).

use std::collections::{BTreeMap, BTreeSet};

use sqlx::{Acquire, PgConnection};

use super::super::DbError;
use super::MIGRATIONS;

/// The comparison's outcome.
#[derive(Debug, Clone, Default)]
pub struct Findings {
    /// Tenancy (`tenants`, `users.tenant_id`) is there already.
    pub tenancy_present: bool,
    /// What makes the database incompatible: missing tables or columns, changed types, NULLs
    /// where the console expects none, missing keys or extensions.
    pub differences: Vec<String>,
    /// Differences that do no harm: extra tables and columns, other lengths of the same type.
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Column {
    name: String,
    /// The type without its modifier (`character varying`).
    base: String,
    /// The type as declared (`character varying(255)`).
    full: String,
    not_null: bool,
}

#[derive(Debug, Clone, Default)]
struct Relation {
    /// `r` table, `p` partitioned table, `v` view, `m` materialized view.
    kind: String,
    columns: Vec<Column>,
}

/// A key: (table, columns sorted, referenced table for a foreign key).
type Key = (String, Vec<String>, Option<String>);

#[derive(Debug, Default)]
struct Catalog {
    relations: BTreeMap<String, Relation>,
    /// Unique indexes without a predicate (primary keys and unique constraints among them).
    unique: BTreeSet<Key>,
    /// Foreign keys, and whether each is validated.
    foreign: BTreeMap<Key, bool>,
}

async fn catalog(conn: &mut PgConnection, schema: &str) -> Result<Catalog, DbError> {
    let columns: Vec<(String, String, String, String, String, bool)> = crate::db::query_as(
        "SELECT c.relname::text, c.relkind::text, a.attname::text, \
                format_type(a.atttypid, NULL), format_type(a.atttypid, a.atttypmod), a.attnotnull \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped \
         WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm') AND NOT c.relispartition \
         ORDER BY c.relname, a.attnum",
    )
    .bind(schema)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Catalog::default();
    for (table, kind, name, base, full, not_null) in columns {
        let rel = out.relations.entry(table).or_default();
        rel.kind = kind;
        rel.columns.push(Column {
            name,
            base,
            full,
            not_null,
        });
    }
    let unique: Vec<(String, Vec<String>)> = crate::db::query_as(
        "SELECT c.relname::text, \
                array(SELECT a.attname::text FROM unnest(i.indkey) k \
                      JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k ORDER BY 1) \
         FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = $1 AND i.indisunique AND i.indpred IS NULL AND NOT c.relispartition",
    )
    .bind(schema)
    .fetch_all(&mut *conn)
    .await?;
    out.unique = unique.into_iter().map(|(t, c)| (t, c, None)).collect();
    let foreign: Vec<(String, Vec<String>, String, bool)> = crate::db::query_as(
        "SELECT c.relname::text, \
                array(SELECT a.attname::text FROM unnest(con.conkey) k \
                      JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k ORDER BY 1), \
                r.relname::text, con.convalidated \
         FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_class r ON r.oid = con.confrelid \
         WHERE n.nspname = $1 AND con.contype = 'f' AND NOT c.relispartition",
    )
    .bind(schema)
    .fetch_all(conn)
    .await?;
    out.foreign = foreign
        .into_iter()
        .map(|(t, c, r, valid)| ((t, c, Some(r)), valid))
        .collect();
    Ok(out)
}

/// What the platform step and the tenancy step build, from a scratch schema rolled back after.
struct Expected {
    platform: Catalog,
    /// Relations and columns tenancy adds (table → the columns it adds or creates).
    tenancy: Catalog,
    /// Extensions the platform step needed and the database lacks.
    missing_extensions: Vec<String>,
}

async fn expected(conn: &mut PgConnection) -> Result<Expected, DbError> {
    let scratch = format!("switchboard_probe_{}", uuid::Uuid::new_v4().simple());
    let mut tx = conn.begin().await?;
    // Names are resolved in the scratch schema first, then where the database keeps its
    // functions and extensions.
    crate::db::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {scratch}")))
        .execute(&mut *tx)
        .await?;
    crate::db::query(sqlx::AssertSqlSafe(format!(
        "SET LOCAL search_path = {scratch}, public"
    )))
    .execute(&mut *tx)
    .await?;
    sqlx::raw_sql(MIGRATIONS[0].sql).execute(&mut *tx).await?;
    let platform = catalog(&mut tx, &scratch).await?;
    let missing_extensions: Vec<String> = crate::db::query_scalar(
        "SELECT e.extname::text FROM pg_extension e \
         JOIN pg_namespace n ON n.oid = e.extnamespace WHERE n.nspname = $1 ORDER BY 1",
    )
    .bind(&scratch)
    .fetch_all(&mut *tx)
    .await?;
    sqlx::raw_sql(MIGRATIONS[1].sql).execute(&mut *tx).await?;
    let after = catalog(&mut tx, &scratch).await?;
    tx.rollback().await?;

    let mut tenancy = Catalog::default();
    for (name, rel) in &after.relations {
        let added: Vec<Column> = match platform.relations.get(name) {
            None => rel.columns.clone(),
            Some(before) => rel
                .columns
                .iter()
                .filter(|c| !before.columns.iter().any(|b| b.name == c.name))
                .cloned()
                .collect(),
        };
        if !added.is_empty() {
            tenancy.relations.insert(
                name.clone(),
                Relation {
                    kind: rel.kind.clone(),
                    columns: added,
                },
            );
        }
    }
    tenancy.unique = after.unique.difference(&platform.unique).cloned().collect();
    tenancy.foreign = after
        .foreign
        .iter()
        .filter(|(k, _)| !platform.foreign.contains_key(*k))
        .map(|(k, v)| (k.clone(), *v))
        .collect();
    Ok(Expected {
        platform,
        tenancy,
        missing_extensions,
    })
}

fn kind_name(kind: &str) -> &'static str {
    match kind {
        "v" => "view",
        "m" => "materialized view",
        _ => "table",
    }
}

fn key_text((table, columns, references): &Key) -> String {
    match references {
        Some(r) => format!("foreign key {table} ({}) → {r}", columns.join(", ")),
        None => format!("unique key on {table} ({})", columns.join(", ")),
    }
}

/// Holds `actual` to `wanted`, adding to `f`.
/// `others` holds what another step adds to the same tables (not extra).
fn hold(
    wanted: &Catalog,
    others: &Catalog,
    actual: &Catalog,
    whole_tables: bool,
    f: &mut Findings,
) {
    for (name, want) in &wanted.relations {
        let Some(have) = actual.relations.get(name) else {
            f.differences
                .push(format!("{} {name} is missing", kind_name(&want.kind)));
            continue;
        };
        let want_view = matches!(want.kind.as_str(), "v" | "m");
        let have_view = matches!(have.kind.as_str(), "v" | "m");
        if want_view != have_view {
            f.differences.push(format!(
                "{name} is a {}; the platform schema has a {}",
                kind_name(&have.kind),
                kind_name(&want.kind)
            ));
            continue;
        }
        for col in &want.columns {
            match have.columns.iter().find(|c| c.name == col.name) {
                None => f.differences.push(format!(
                    "column {name}.{} ({}) is missing",
                    col.name, col.full
                )),
                Some(c) if c.base != col.base => f.differences.push(format!(
                    "column {name}.{} is {}; the platform schema has {}",
                    col.name, c.full, col.full
                )),
                Some(c) if col.not_null && !c.not_null && !want_view => {
                    f.differences.push(format!(
                        "column {name}.{} allows NULL; the platform schema has NOT NULL",
                        col.name
                    ))
                }
                Some(c) if c.full != col.full => f.notes.push(format!(
                    "column {name}.{} is {}; the platform schema has {} (compatible)",
                    col.name, c.full, col.full
                )),
                Some(_) => {}
            }
        }
        if whole_tables {
            for c in &have.columns {
                let theirs = others
                    .relations
                    .get(name)
                    .is_some_and(|o| o.columns.iter().any(|w| w.name == c.name));
                if !theirs && !want.columns.iter().any(|w| w.name == c.name) {
                    f.notes
                        .push(format!("extra column {name}.{} (kept as it is)", c.name));
                }
            }
        }
    }
    for key in &wanted.unique {
        if !actual.relations.contains_key(&key.0) || actual.unique.contains(key) {
            continue;
        }
        // A partitioned table's keys hold its partition key: (id, created_at) for (id).
        let partitioned = actual.relations.get(&key.0).is_some_and(|r| r.kind == "p");
        let wider = actual
            .unique
            .iter()
            .find(|(t, cols, _)| *t == key.0 && key.1.iter().all(|c| cols.contains(c)));
        match (partitioned, wider) {
            (true, Some((_, cols, _))) => f.notes.push(format!(
                "{} is partitioned: its key ({}) holds {} within it (fine)",
                key.0,
                cols.join(", "),
                key_text(key)
            )),
            _ => f.differences.push(format!("{} is missing", key_text(key))),
        }
    }
    for key in wanted.foreign.keys() {
        match actual.foreign.get(key) {
            _ if !actual.relations.contains_key(&key.0) => {}
            None => f.differences.push(format!("{} is missing", key_text(key))),
            Some(false) => f.differences.push(format!(
                "{} is NOT VALID: validate it (ALTER TABLE {} VALIDATE CONSTRAINT …) and run \
                 migrate again",
                key_text(key),
                key.0
            )),
            Some(true) => {}
        }
    }
}

/// Compares the database's `public` schema with what the platform and tenancy migrations
/// build. None when `public` holds none of the platform's tables (an empty database).
pub(super) async fn compare(conn: &mut PgConnection) -> Result<Option<Findings>, DbError> {
    let actual = catalog(&mut *conn, "public").await?;
    if actual.relations.is_empty() {
        return Ok(None);
    }
    let expected = expected(&mut *conn).await?;
    if !expected
        .platform
        .relations
        .keys()
        .any(|t| actual.relations.contains_key(t))
    {
        return Ok(None);
    }
    let mut f = Findings::default();
    hold(&expected.platform, &expected.tenancy, &actual, true, &mut f);
    for ext in &expected.missing_extensions {
        f.differences.push(format!(
            "extension {ext} is missing (the platform's defaults call it): CREATE EXTENSION \"{ext}\""
        ));
    }
    // Tenancy: all there, none there, or half there.
    let parts: Vec<(String, bool)> = expected
        .tenancy
        .relations
        .iter()
        .flat_map(|(table, rel)| {
            let whole = !expected.platform.relations.contains_key(table);
            let have = actual.relations.get(table);
            if whole {
                vec![(format!("table {table}"), have.is_some())]
            } else {
                rel.columns
                    .iter()
                    .map(|c| {
                        (
                            format!("column {table}.{}", c.name),
                            have.is_some_and(|h| h.columns.iter().any(|x| x.name == c.name)),
                        )
                    })
                    .collect()
            }
        })
        .collect();
    let present = parts.iter().filter(|(_, p)| *p).count();
    if present == parts.len() {
        f.tenancy_present = true;
        hold(
            &expected.tenancy,
            &expected.platform,
            &actual,
            false,
            &mut f,
        );
    } else if present > 0 {
        let (there, missing): (Vec<_>, Vec<_>) = parts.iter().partition(|(_, p)| *p);
        f.differences.push(format!(
            "tenancy is half there: {} present, {} missing",
            there
                .iter()
                .map(|(n, _)| n.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            missing
                .iter()
                .map(|(n, _)| n.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    for (name, rel) in &actual.relations {
        if !expected.platform.relations.contains_key(name)
            && !expected.tenancy.relations.contains_key(name)
        {
            f.notes.push(format!(
                "extra {} {name} (kept as it is)",
                kind_name(&rel.kind)
            ));
        }
    }
    let ours: i64 = crate::db::query_scalar(
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = 'switchboard'",
    )
    .fetch_one(conn)
    .await?;
    if ours > 0 {
        f.differences.push(
            "schema switchboard holds objects but no migration history: it was not made by \
             `switchboard migrate`"
                .to_string(),
        );
    }
    Ok(Some(f))
}
