//! The import's validation report: per legacy table what became of its rows (and why, for
//! every row not imported as it was), the rows per tenant, and the checks of
//! schema-mapping-guide.md adapted to the platform's tables. Read from the import's staging
//! tables and the target, inside the import's transaction.

use std::collections::BTreeMap;

use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::PgConnection;

use super::{ImportError, Source, TABLES};
use crate::db::{query, query_as, query_scalar};

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// `database@schema` of the legacy data (the id map's source).
    pub source: String,
    pub schema: String,
    /// Set by the caller: the transaction was rolled back on purpose.
    pub dry_run: bool,
    pub seconds: f64,
    /// Seconds per part: the copy, each step of the mapping, the report and its checks.
    pub timings: Vec<(String, f64)>,
    pub tables: Vec<TableReport>,
    /// Every row skipped, merged, adopted, changed or flagged, and every permission, with why.
    pub rows: Vec<RowNote>,
    pub tenants: Vec<TenantRows>,
    pub checks: Vec<Check>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TableReport {
    pub legacy_table: &'static str,
    pub target: &'static str,
    /// Rows in the legacy table (as copied, in one snapshot).
    pub legacy: i64,
    /// How many rows had each outcome: new, updated, same, adopted, merged, folded, skipped,
    /// implied, not represented.
    pub outcomes: BTreeMap<String, i64>,
    /// The rows not imported as they were, by outcome and reason (ids and quoted values
    /// written as N and '…'), most first.
    pub reasons: Vec<Reason>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Reason {
    pub outcome: String,
    pub reason: String,
    pub rows: i64,
}

impl TableReport {
    pub fn count(&self, outcome: &str) -> i64 {
        self.outcomes.get(outcome).copied().unwrap_or(0)
    }

    /// Rows now in the platform as this legacy table's: inserted, updated, unchanged or linked.
    pub fn imported(&self) -> i64 {
        ["new", "updated", "same", "adopted", "folded", "implied"]
            .iter()
            .map(|o| self.count(o))
            .sum()
    }
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct RowNote {
    pub legacy_table: String,
    pub legacy_id: String,
    pub outcome: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct TenantRows {
    pub tenant_id: uuid::Uuid,
    pub name: String,
    pub users: i64,
    pub agents: i64,
    pub contacts: i64,
    pub calls: i64,
    pub numbers: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: String,
    pub passed: bool,
    pub detail: String,
}

impl Report {
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.passed)
    }

    /// The report as JSON with its SHA-256 (over the JSON without it): the file `--report`
    /// writes and `--json` prints, and the checksum the audit row keeps.
    pub fn to_json(&self) -> (serde_json::Value, String) {
        let mut value = serde_json::to_value(self).unwrap_or_default();
        let sha = hex::encode(Sha256::digest(value.to_string().as_bytes()));
        if let Some(o) = value.as_object_mut() {
            o.insert("sha256".into(), sha.clone().into());
        }
        (value, sha)
    }

    /// The counts the audit row keeps: per legacy table, each outcome.
    pub fn counts(&self) -> serde_json::Value {
        self.tables
            .iter()
            .map(|t| {
                let mut o = serde_json::Map::new();
                o.insert("legacy".into(), t.legacy.into());
                for (k, v) in &t.outcomes {
                    o.insert(k.clone(), (*v).into());
                }
                (t.legacy_table.to_string(), serde_json::Value::Object(o))
            })
            .collect::<serde_json::Map<_, _>>()
            .into()
    }
}

/// Legacy rows from which the checks are planned as the bulk joins they are (no nested loops).
const LARGE_IMPORT: i64 = 100_000;

/// The checks: each query counts the rows that break it (0 passes).
const CHECKS: &[(&str, &str)] = &[
    (
        "every imported row is in its platform table (old vs new counts)",
        "SELECT (SELECT count(*) FROM st_org s WHERE NOT EXISTS (SELECT 1 FROM tenants t WHERE t.id = s.new_id))
              + (SELECT count(*) FROM st_users s WHERE s.action <> 'skipped'
                   AND NOT EXISTS (SELECT 1 FROM users t WHERE t.id = s.new_id))
              + (SELECT count(*) FROM st_numbers s WHERE s.action <> 'skipped'
                   AND NOT EXISTS (SELECT 1 FROM phone_numbers t WHERE t.id = s.new_id))
              + (SELECT count(*) FROM st_agents s WHERE s.action <> 'skipped'
                   AND NOT EXISTS (SELECT 1 FROM agents t WHERE t.id = s.new_id))
              + (SELECT count(*) FROM st_contacts s WHERE s.action <> 'skipped'
                   AND NOT EXISTS (SELECT 1 FROM contacts t WHERE t.id = s.new_id))
              + (SELECT count(*) FROM lg_call_checks WHERE NOT present)
              + (SELECT count(*) FROM st_transcripts s
                   WHERE NOT EXISTS (SELECT 1 FROM transcripts t WHERE t.id = s.new_id))",
    ),
    (
        "every imported row is in the id map",
        "SELECT count(*) FROM (
             SELECT 'user' AS kind, legacy_id FROM st_users WHERE action <> 'skipped'
             UNION ALL SELECT 'agent', legacy_id FROM st_agents WHERE action <> 'skipped'
             UNION ALL SELECT 'number', legacy_id FROM st_numbers WHERE action <> 'skipped'
             UNION ALL SELECT 'lead', legacy_id FROM st_contacts WHERE action <> 'skipped'
             UNION ALL SELECT 'call', legacy_id FROM st_calls WHERE action <> 'skipped'
         ) s
         WHERE NOT EXISTS (SELECT 1 FROM switchboard.legacy_ids m
                           WHERE m.source = (SELECT source FROM lg_params) AND m.kind = s.kind
                             AND m.legacy_id = s.legacy_id)",
    ),
    (
        "no user without a tenant",
        "SELECT count(*) FROM st_users s JOIN users u ON u.id = s.new_id
         WHERE s.action <> 'skipped' AND NOT EXISTS (SELECT 1 FROM tenants t WHERE t.id = u.tenant_id)",
    ),
    (
        "each organization's users are in its tenant (tenant isolation)",
        "SELECT count(*) FROM st_users s
         JOIN lg_users lu ON lu.id::text = s.legacy_id
         JOIN users u ON u.id = s.new_id
         LEFT JOIN st_org o ON o.legacy_id = lu.organization_id::text
         WHERE s.action IN ('new', 'updated', 'same')
           AND u.tenant_id IS DISTINCT FROM
               coalesce(o.new_id, '00000000-0000-0000-0000-000000000000'::uuid)",
    ),
    (
        "no orphaned agent",
        "SELECT count(*) FROM st_agents s JOIN agents a ON a.id = s.new_id
         WHERE s.action <> 'skipped' AND NOT EXISTS (SELECT 1 FROM users u WHERE u.id = a.user_id)",
    ),
    (
        "no orphaned contact",
        "SELECT count(*) FROM st_contacts s JOIN contacts c ON c.id = s.new_id
         WHERE s.action <> 'skipped' AND NOT EXISTS (SELECT 1 FROM users u WHERE u.id = c.user_id)",
    ),
    (
        "no orphaned call (agent, user and contact exist)",
        "SELECT count(*) FROM lg_call_checks WHERE orphaned",
    ),
    (
        "a call's agent and contact are in the call's tenant (tenant isolation)",
        "SELECT count(*) FROM lg_call_checks WHERE cross_tenant",
    ),
];

/// The calls' checks in one pass over the calls (a million rows read once, not once per
/// check): the staged calls that break one, and which. Made before [`CHECKS`], which count it.
const CALL_CHECKS: &str = "
CREATE TEMP TABLE lg_call_checks ON COMMIT DROP AS
SELECT * FROM (
    SELECT c.id IS NOT NULL AS present,
           c.id IS NOT NULL
               AND (a.id IS NULL OR cu.id IS NULL
                    OR (c.contact_id IS NOT NULL AND t.id IS NULL)) AS orphaned,
           coalesce(cu.id IS NOT NULL AND a.id IS NOT NULL AND au.id IS NOT NULL
                    AND (au.tenant_id <> cu.tenant_id
                         OR (t.id IS NOT NULL AND tu.tenant_id <> cu.tenant_id)), false)
               AS cross_tenant
    FROM st_calls s
    LEFT JOIN calls c ON c.id = s.new_id
    LEFT JOIN users cu ON cu.id = c.user_id
    LEFT JOIN agents a ON a.id = c.agent_id
    LEFT JOIN users au ON au.id = a.user_id
    LEFT JOIN contacts t ON t.id = c.contact_id
    LEFT JOIN users tu ON tu.id = t.user_id
    WHERE s.action <> 'skipped'
) x
WHERE NOT present OR orphaned OR cross_tenant";

/// Rows per tenant the import touched (users, agents, contacts, calls of this source; numbers
/// assigned to its users).
const TENANT_ROWS: &str = "
WITH u AS (SELECT s.new_id AS user_id FROM st_users s WHERE s.action <> 'skipped'),
tu AS (SELECT x.tenant_id, count(DISTINCT x.id) AS n FROM u JOIN users x ON x.id = u.user_id GROUP BY 1),
ta AS (SELECT x.tenant_id, count(*) AS n FROM st_agents s JOIN users x ON x.id = s.user_id
       WHERE s.action <> 'skipped' GROUP BY 1),
tc AS (SELECT x.tenant_id, count(DISTINCT s.new_id) AS n FROM st_contacts s JOIN users x ON x.id = s.user_id
       WHERE s.action <> 'skipped' GROUP BY 1),
tl AS (SELECT x.tenant_id, count(*) AS n FROM st_calls s JOIN users x ON x.id = s.user_id
       WHERE s.action <> 'skipped' GROUP BY 1),
tn AS (SELECT x.tenant_id, count(*) AS n FROM st_numbers s JOIN users x ON x.id = s.assigned_to_user_id
       WHERE s.action <> 'skipped' GROUP BY 1)
SELECT t.id AS tenant_id, t.name::text AS name, coalesce(tu.n, 0) AS users, coalesce(ta.n, 0) AS agents,
       coalesce(tc.n, 0) AS contacts, coalesce(tl.n, 0) AS calls, coalesce(tn.n, 0) AS numbers
FROM tenants t
LEFT JOIN tu ON tu.tenant_id = t.id LEFT JOIN ta ON ta.tenant_id = t.id
LEFT JOIN tc ON tc.tenant_id = t.id LEFT JOIN tl ON tl.tenant_id = t.id
LEFT JOIN tn ON tn.tenant_id = t.id
WHERE t.id IN (SELECT new_id FROM st_org) OR tu.n IS NOT NULL
ORDER BY coalesce(tl.n, 0) DESC, t.name, t.id";

/// A table's notes by outcome and reason, values written as N (ids, uuids, counts; not the 164
/// of E.164 nor an "as 0") and quoted text and days as '…'.
const REASONS: &str = "
SELECT outcome,
       regexp_replace(
           regexp_replace(
               regexp_replace(reason, '''[^'']*''|[0-9]{4}-[0-9]{2}-[0-9]{2}', '''…''', 'g'),
               '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}', 'N', 'g'),
           '(?<!E\\.)(?<!as )(?<![0-9])[0-9]+', 'N', 'g') AS reason,
       count(*) AS rows
FROM lg_notes WHERE legacy_table = $1
GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2";

pub(super) async fn build(
    tx: &mut PgConnection,
    source: &Source,
    copied: &BTreeMap<&'static str, u64>,
    started: std::time::Instant,
) -> Result<Report, ImportError> {
    let mut tables = Vec::new();
    let mut checks = Vec::new();
    let mut unaccounted = Vec::new();
    // Organizations and transcriptions are no tables of their own in the legacy schema: the
    // users' organization ids, the call logs' transcriptions.
    let mut all: Vec<(&'static str, &'static str, &'static str, Option<u64>)> =
        vec![("organizations", "tenants", "st_org", None)];
    all.extend(TABLES.iter().map(|t| {
        let rows = copied.get(t.name).copied().unwrap_or(0);
        (t.name, t.target, t.staged, Some(rows))
    }));
    all.push(("transcriptions", "transcripts", "st_transcripts", None));
    for (name, target, staged, copied) in all {
        // The staging table's name is a constant of this module.
        let outcomes: Vec<(String, i64)> = query_as(sqlx::AssertSqlSafe(format!(
            "SELECT action, count(*) FROM {staged} GROUP BY 1"
        )))
        .fetch_all(&mut *tx)
        .await?;
        let outcomes: BTreeMap<String, i64> = outcomes.into_iter().collect();
        let reasons: Vec<Reason> = query_as(REASONS).bind(name).fetch_all(&mut *tx).await?;
        let staged: i64 = outcomes.values().sum();
        let legacy = copied.map_or(staged, |c| c as i64);
        if staged != legacy {
            unaccounted.push(format!("{name}: {legacy} copied, {staged} accounted for"));
        }
        tables.push(TableReport {
            legacy_table: name,
            target,
            legacy,
            outcomes,
            reasons,
        });
    }
    checks.push(Check {
        name: "every legacy row is accounted for".into(),
        passed: unaccounted.is_empty(),
        detail: if unaccounted.is_empty() {
            "each row imported, updated, unchanged, adopted, merged, folded or skipped".into()
        } else {
            unaccounted.join("; ")
        },
    });
    // Each check joins the staged tables to the platform's. For a large import (a million
    // calls), hash joins: a nested loop there is the one way such a check takes minutes
    // instead of a second, and one dry run in eight here did (a check still running after
    // nine minutes); the staged tables' sampled statistics are all the planner has for rows
    // written a moment ago. Nor merge joins: the id map's rows written a moment ago have no
    // statistics either, and the planner, taking them for a few thousand, sorted both sides of
    // the id map's check on disk (2.8 s, against 0.6 s for the hash join; BENCHMARKS.md). A
    // small import against a large platform keeps its nested loops (hashing a whole platform
    // table for a few thousand staged rows costs more).
    let staged: i64 = tables.iter().map(|t| t.legacy).sum();
    let joins: Option<(String, String)> = if staged >= LARGE_IMPORT {
        let was = query_as(
            "SELECT current_setting('enable_nestloop'), current_setting('enable_mergejoin')",
        )
        .fetch_one(&mut *tx)
        .await?;
        sqlx::raw_sql("SET LOCAL enable_nestloop = off; SET LOCAL enable_mergejoin = off")
            .execute(&mut *tx)
            .await?;
        Some(was)
    } else {
        None
    };
    query(CALL_CHECKS).execute(&mut *tx).await?;
    for (name, sql) in CHECKS {
        let bad: i64 = query_scalar(*sql).fetch_one(&mut *tx).await?;
        checks.push(Check {
            name: (*name).into(),
            passed: bad == 0,
            detail: if bad == 0 {
                "0 rows".into()
            } else {
                format!("{bad} rows")
            },
        });
    }
    if let Some((nestloop, mergejoin)) = joins {
        query(
            "SELECT set_config('enable_nestloop', $1, true), \
                    set_config('enable_mergejoin', $2, true)",
        )
        .bind(nestloop)
        .bind(mergejoin)
        .execute(&mut *tx)
        .await?;
    }
    let rows: Vec<RowNote> = query_as(
        "SELECT legacy_table, legacy_id, outcome, reason FROM lg_notes \
         ORDER BY legacy_table, length(legacy_id), legacy_id, outcome",
    )
    .fetch_all(&mut *tx)
    .await?;
    let tenants: Vec<TenantRows> = query_as(TENANT_ROWS).fetch_all(&mut *tx).await?;
    Ok(Report {
        source: source.key.clone(),
        schema: source.schema.clone(),
        dry_run: false,
        seconds: started.elapsed().as_secs_f64(),
        timings: Vec::new(),
        tables,
        rows,
        tenants,
        checks,
    })
}
