//! The legacy `voice_agent` import (README "Importing the legacy voice_agent data"): `inspect`
//! checks the legacy schema and counts its rows; `import` copies the legacy tables into
//! temporary tables of the target's transaction (COPY, streamed, one snapshot of the source),
//! maps them with set-based SQL (`import.sql`), and returns the validation report. The caller
//! owns the transaction: it commits, or rolls back for a dry run or a failed check.

pub mod keys;
mod report;

use std::collections::BTreeMap;

use futures_util::StreamExt;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::DbError;
pub use report::{Check, Reason, Report, RowNote, TableReport, TenantRows};

/// A legacy table the import reads: its name, the temporary table it is copied into, and the
/// columns read (name, type).
pub struct LegacyTable {
    pub name: &'static str,
    temp: &'static str,
    /// The platform table its rows become ("" when none: folded or only reported).
    pub target: &'static str,
    /// The staging table the import SQL makes of it.
    staged: &'static str,
    columns: &'static [(&'static str, &'static str)],
}

/// The legacy tables, in the order they are copied.
pub const TABLES: &[LegacyTable] = &[
    LegacyTable {
        name: "users_voiceagent",
        temp: "lg_users",
        target: "users",
        staged: "st_users",
        columns: &[
            ("id", "integer"),
            ("user_id", "text"),
            ("email", "text"),
            ("name", "text"),
            ("organization_id", "uuid"),
            ("phone", "text"),
            ("created_at", "timestamptz"),
        ],
    },
    LegacyTable {
        name: "voices_voiceagent",
        temp: "lg_voices",
        target: "agents (voice config)",
        staged: "st_voices",
        columns: &[
            ("id", "uuid"),
            ("description", "text"),
            ("gender", "text"),
            ("accent", "text"),
            ("provider", "text"),
            ("voice_sample_url", "text"),
            ("provider_voice_id", "text"),
            ("provider_config", "jsonb"),
        ],
    },
    LegacyTable {
        name: "numbers_voiceagent",
        temp: "lg_numbers",
        target: "phone_numbers",
        staged: "st_numbers",
        columns: &[
            ("id", "bigint"),
            ("phone_number", "text"),
            ("provider", "text"),
            ("type", "text"),
            ("created_at", "timestamptz"),
            ("status", "text"),
            ("default_agent", "bigint"),
        ],
    },
    LegacyTable {
        name: "agents_voiceagent",
        temp: "lg_agents",
        target: "agents",
        staged: "st_agents",
        columns: &[
            ("id", "bigint"),
            ("name", "text"),
            ("gender", "text"),
            ("agent_instructions", "text"),
            ("created_by", "integer"),
            ("created_at", "timestamptz"),
            ("default_number", "bigint"),
            ("language", "text"),
            ("voice_id", "uuid"),
            ("system_instructions", "text"),
            ("outbound_starter_prompt", "text"),
            ("inbound_starter_prompt", "text"),
        ],
    },
    LegacyTable {
        name: "leads_voiceagent",
        temp: "lg_leads",
        target: "contacts",
        staged: "st_contacts",
        columns: &[
            ("id", "bigint"),
            ("name", "text"),
            ("lead_number", "text"),
            ("added_by", "integer"),
            ("notes", "text"),
        ],
    },
    LegacyTable {
        name: "batch_logs_voiceagent",
        temp: "lg_batches",
        target: "calls (metadata)",
        staged: "st_batches",
        columns: &[
            ("id", "uuid"),
            ("name", "text"),
            ("created_by", "integer"),
            ("agent", "bigint"),
            ("status", "text"),
            ("created_at", "timestamptz"),
        ],
    },
    LegacyTable {
        name: "call_logs_voiceagent",
        temp: "lg_calls",
        target: "calls",
        staged: "st_calls",
        columns: &[
            ("id", "uuid"),
            ("initiated_by", "integer"),
            ("target", "bigint"),
            ("agent", "bigint"),
            ("status", "text"),
            ("call_recording_url", "text"),
            ("transcriptions", "jsonb"),
            ("started_at", "timestamptz"),
            ("ended_at", "timestamptz"),
            ("call_type", "text"),
            ("cost", "numeric"),
            ("voice", "uuid"),
            ("job_id", "text"),
            ("room_name", "text"),
            ("from_number_id", "bigint"),
            ("added_context", "text"),
            ("vapi_call_id", "text"),
            ("vapi_data", "jsonb"),
            ("call_duration", "numeric"),
            ("batch_id", "uuid"),
            ("cost_breakdown", "jsonb"),
        ],
    },
    LegacyTable {
        name: "org_permissions_voiceagent",
        temp: "lg_permissions",
        target: "(ownership)",
        staged: "st_permissions",
        columns: &[
            ("id", "bigint"),
            ("organization_id", "uuid"),
            ("resource_type", "text"),
            ("resource_id", "text"),
            ("access_level", "text"),
            ("granted_at", "timestamptz"),
            ("granted_by", "text"),
            ("expires_at", "timestamptz"),
            ("is_active", "boolean"),
        ],
    },
];

/// The import's SQL, one step per legacy table (see the file's head).
const IMPORT_SQL: &str = include_str!("import.sql");

/// The steps of `import.sql`: (name, SQL).
fn steps() -> Vec<(&'static str, &'static str)> {
    IMPORT_SQL
        .split("-- step: ")
        .skip(1)
        .map(|s| {
            let (name, sql) = s.split_once('\n').unwrap_or((s, ""));
            (name.trim(), sql)
        })
        .collect()
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Db(#[from] DbError),
    /// The legacy schema is not what the import reads (nothing was written).
    #[error("{0}")]
    Schema(String),
    /// Copying a legacy table failed: its values do not fit the documented types, or the
    /// source went away.
    #[error("copying {table}: {message}")]
    Copy {
        table: &'static str,
        message: String,
    },
    /// A row written without its key's trigger refers to a row that is not there (the import
    /// is rolled back).
    #[error("{0}")]
    Integrity(String),
}

impl From<sqlx::Error> for ImportError {
    fn from(e: sqlx::Error) -> ImportError {
        ImportError::Db(e.into())
    }
}

/// The legacy source as found: its name in the id map and its tables' row counts.
#[derive(Debug, Clone)]
pub struct Source {
    /// `database@schema` of the legacy data: the id map's `source`.
    pub key: String,
    pub schema: String,
    pub counts: Vec<(&'static str, i64)>,
}

/// Checks that `schema` on `source` holds every table and column the import reads, and counts
/// the rows. Refuses (naming every missing table and column) before anything is written.
pub async fn inspect(source: &PgPool, schema: &str) -> Result<Source, ImportError> {
    check_schema_name(schema).map_err(ImportError::Schema)?;
    let mut conn = super::pinned(source).await?;
    let (database, exists): (String, bool) = super::query_as(
        "SELECT current_database()::text, EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)",
    )
    .bind(schema)
    .fetch_one(&mut *conn)
    .await?;
    if !exists {
        return Err(ImportError::Schema(format!(
            "database {database} has no schema {schema} (name the legacy schema with --schema)"
        )));
    }
    let present: Vec<(String, String)> = super::query_as(
        "SELECT table_name::text, column_name::text FROM information_schema.columns \
         WHERE table_schema = $1",
    )
    .bind(schema)
    .fetch_all(&mut *conn)
    .await?;
    let mut missing = Vec::new();
    for t in TABLES {
        if !present.iter().any(|(table, _)| table == t.name) {
            missing.push(format!("table {schema}.{}", t.name));
            continue;
        }
        for (column, _) in t.columns {
            if !present
                .iter()
                .any(|(table, c)| table == t.name && c == column)
            {
                missing.push(format!("column {schema}.{}.{column}", t.name));
            }
        }
    }
    if !missing.is_empty() {
        return Err(ImportError::Schema(format!(
            "the legacy schema lacks {}; nothing was imported",
            missing.join(", ")
        )));
    }
    let mut counts = Vec::new();
    for t in TABLES {
        // The names are this file's constants and the checked schema: nothing to bind.
        let n: i64 = super::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT count(*) FROM \"{schema}\".\"{}\"",
            t.name
        )))
        .fetch_one(&mut *conn)
        .await?;
        counts.push((t.name, n));
    }
    Ok(Source {
        key: format!("{database}@{schema}"),
        schema: schema.to_string(),
        counts,
    })
}

/// A legacy schema's name as the import and `seed-legacy` take it: lower-case letters, digits
/// and _, not starting with a digit (so it goes into SQL quoted, never bound).
pub fn check_schema_name(schema: &str) -> Result<(), String> {
    let fine = !schema.is_empty()
        && !schema.starts_with(|c: char| c.is_ascii_digit())
        && schema
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if fine {
        Ok(())
    } else {
        Err(format!(
            "--schema {schema:?}: a legacy schema name is lower-case letters, digits and _"
        ))
    }
}

/// What the import is doing, for a progress bar per table.
#[derive(Debug, Clone, Copy)]
pub enum Progress {
    /// `rows` of `table` copied so far.
    Copied { table: &'static str, rows: u64 },
    /// A step for `table` has started (mapping, writing).
    Mapping {
        table: &'static str,
        step: &'static str,
    },
    /// The step for `table` is done.
    Written { table: &'static str },
}

/// Imports `source` into the target through `tx` (the caller's transaction: nothing is
/// committed here) as `admin`, and returns the validation report.
pub async fn import(
    tx: &mut PgConnection,
    source_pool: &PgPool,
    source: &Source,
    admin: Uuid,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<Report, ImportError> {
    let started = std::time::Instant::now();
    // A large import runs for a while; the console's statement timeout is for browsing.
    // Sorts and hashes of a million rows fit in memory.
    sqlx::raw_sql("SET LOCAL statement_timeout = 0; SET LOCAL work_mem = '64MB';")
        .execute(&mut *tx)
        .await?;
    keys::require_origin(tx).await?;
    // New ids: a UUIDv7 prefix of this import (the time in ms, then random bits) and the
    // sequence lg_ids, so that the ids the import writes ascend.
    super::query(
        "CREATE TEMP TABLE lg_params ON COMMIT DROP AS \
         SELECT $1::text AS source, $2::uuid AS admin, $3::text AS schema, \
                substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-7' || substr(r, 1, 3) || '-' \
                    || substr(r, 17, 4) || '-' AS id_prefix \
         FROM (SELECT lpad(to_hex((extract(epoch FROM clock_timestamp()) * 1000)::bigint), 12, '0') AS h, \
                      replace(gen_random_uuid()::text, '-', '') AS r) x",
    )
    .bind(&source.key)
    .bind(admin)
    .bind(&source.schema)
    .execute(&mut *tx)
    .await?;
    super::query(
        "CREATE TEMP TABLE lg_map ON COMMIT DROP AS \
         SELECT kind, legacy_id, new_id, adopted, source_hash FROM switchboard.legacy_ids \
         WHERE source = $1",
    )
    .bind(&source.key)
    .execute(&mut *tx)
    .await?;
    // The sequence is dropped before the transaction ends (a temporary sequence would outlive
    // it, on a connection a pool hands to someone else next).
    sqlx::raw_sql(
        "CREATE TEMP SEQUENCE lg_ids; \
         CREATE INDEX ON lg_map (kind, legacy_id); ANALYZE lg_map; \
         CREATE TEMP TABLE lg_notes (legacy_table text NOT NULL, legacy_id text NOT NULL, \
             outcome text NOT NULL, reason text NOT NULL) ON COMMIT DROP;",
    )
    .execute(&mut *tx)
    .await?;
    let mut timings = Vec::new();
    let copy_started = std::time::Instant::now();
    let copied = copy_tables(tx, source_pool, source, progress).await?;
    timings.push(("copy".to_string(), copy_started.elapsed().as_secs_f64()));
    for (name, sql) in steps() {
        if let Some(t) = step_table(name) {
            progress(Progress::Mapping {
                table: t,
                step: name,
            });
        }
        let step_started = std::time::Instant::now();
        // The keys of the big inserts checked once over the new rows, where the role may (see
        // keys.rs).
        let bulk = BULK_INSERTS.iter().find(|(step, ..)| *step == name);
        let aside = match bulk {
            Some((_, table, _)) => keys::set_aside(tx, table).await?,
            None => None,
        };
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&mut *tx)
            .await?;
        if let (Some((_, table, new_ids)), Some(before)) = (bulk, aside) {
            keys::check_and_restore(tx, table, new_ids, &before).await?;
        }
        timings.push((name.to_string(), step_started.elapsed().as_secs_f64()));
        tracing::info!(
            step = name,
            seconds = step_started.elapsed().as_secs_f64(),
            "import step"
        );
        if let Some(t) = step_table(name) {
            progress(Progress::Written { table: t });
        }
    }
    let checks_started = std::time::Instant::now();
    let mut report = report::build(tx, source, &copied, started).await?;
    timings.push(("report".to_string(), checks_started.elapsed().as_secs_f64()));
    report.timings = timings;
    super::query("DROP SEQUENCE lg_ids")
        .execute(&mut *tx)
        .await?;
    Ok(report)
}

/// The steps that insert many rows (and nothing else): the table and the ids they insert.
const BULK_INSERTS: &[(&str, &str, &str)] = &[
    (
        "calls written",
        "public.calls",
        "SELECT new_id FROM st_calls WHERE action = 'new'",
    ),
    (
        "transcripts written",
        "public.transcripts",
        "SELECT new_id FROM st_transcripts WHERE action = 'new'",
    ),
];

/// The legacy table a step of `import.sql` maps.
fn step_table(step: &str) -> Option<&'static str> {
    let table = match step {
        "organizations" | "users" => "users_voiceagent",
        "numbers" => "numbers_voiceagent",
        "agents" => "agents_voiceagent",
        "voices" => "voices_voiceagent",
        "leads" => "leads_voiceagent",
        "calls"
        | "calls written"
        | "calls updated"
        | "transcripts"
        | "transcripts written"
        | "transcripts updated" => "call_logs_voiceagent",
        "batches" => "batch_logs_voiceagent",
        "permissions" => "org_permissions_voiceagent",
        _ => return None,
    };
    Some(table)
}

/// Copies every legacy table into its temporary table, in one snapshot of the source (a
/// read-only REPEATABLE READ transaction there), and returns the rows copied per table.
async fn copy_tables(
    tx: &mut PgConnection,
    source_pool: &PgPool,
    source: &Source,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<BTreeMap<&'static str, u64>, ImportError> {
    let mut snapshot = source_pool.begin().await?;
    super::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *snapshot)
        .await?;
    let mut copied = BTreeMap::new();
    for t in TABLES {
        let columns: Vec<&str> = t.columns.iter().map(|(c, _)| *c).collect();
        let definition: Vec<String> = t
            .columns
            .iter()
            .map(|(c, ty)| format!("{c} {ty}"))
            .collect();
        // Constants of this file and the schema `inspect` checked: nothing to bind. The key is
        // made once the rows are in (one sorted build instead of a million random inserts).
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "CREATE TEMP TABLE {} ({}) ON COMMIT DROP",
            t.temp,
            definition.join(", ")
        )))
        .execute(&mut *tx)
        .await?;
        let select = format!(
            "COPY (SELECT {} FROM \"{}\".\"{}\") TO STDOUT",
            columns
                .iter()
                .map(|c| format!("\"{c}\""))
                .collect::<Vec<_>>()
                .join(", "),
            source.schema,
            t.name
        );
        let copy_error = |e: sqlx::Error| ImportError::Copy {
            table: t.name,
            message: DbError::from(e).brief(),
        };
        let mut rows = 0u64;
        {
            let mut out = snapshot.copy_out_raw(&select).await.map_err(copy_error)?;
            let mut into = tx
                .copy_in_raw(&format!(
                    "COPY {} ({}) FROM STDIN",
                    t.temp,
                    columns.join(", ")
                ))
                .await
                .map_err(copy_error)?;
            while let Some(chunk) = out.next().await {
                let chunk = match chunk {
                    Ok(c) => c,
                    Err(e) => {
                        let _ = into.abort("the source failed").await;
                        return Err(copy_error(e));
                    }
                };
                // Text format: one line per row (line breaks inside values are escaped).
                rows += chunk.iter().filter(|b| **b == b'\n').count() as u64;
                if let Err(e) = into.send(chunk).await {
                    let _ = into.abort("the target failed").await;
                    return Err(copy_error(e));
                }
                progress(Progress::Copied {
                    table: t.name,
                    rows,
                });
            }
            into.finish().await.map_err(copy_error)?;
        }
        // A legacy id twice (a source table without its key) is refused here, naming it.
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "ALTER TABLE {} ADD PRIMARY KEY (id)",
            t.temp
        )))
        .execute(&mut *tx)
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(d) if d.code().as_deref() == Some("23505") => {
                let detail = d
                    .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
                    .and_then(|p| p.detail())
                    .unwrap_or("an id appears twice")
                    .to_string();
                ImportError::Copy {
                    table: t.name,
                    message: format!("its ids are not unique ({detail}); nothing was imported"),
                }
            }
            _ => copy_error(e),
        })?;
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("ANALYZE {}", t.temp)))
            .execute(&mut *tx)
            .await?;
        progress(Progress::Copied {
            table: t.name,
            rows,
        });
        copied.insert(t.name, rows);
    }
    snapshot.rollback().await?;
    Ok(copied)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_step_maps_a_table_but_the_id_map() {
        let names: Vec<&str> = steps().iter().map(|(n, _)| *n).collect();
        assert_eq!(
            names,
            [
                "organizations",
                "users",
                "numbers",
                "agents",
                "voices",
                "leads",
                "calls",
                "calls written",
                "calls updated",
                "transcripts",
                "transcripts written",
                "transcripts updated",
                "batches",
                "permissions",
                "id map"
            ]
        );
        for n in &names[..names.len() - 1] {
            assert!(step_table(n).is_some(), "{n}");
        }
    }
}
