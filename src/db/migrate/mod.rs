//! The schema migrations and the one runner that applies them.
//!
//! The migrations come in three parts, as the platform is built: the platform's tables as
//! `schema-analysis.md` has them (0001), tenancy (0002 and 0003, written for a live `users`
//! table), then the console's own objects in the `switchboard` schema (0004) and its indexes on
//! the platform's tables (0005, built concurrently). The history is `switchboard.migrations`.
//!
//! Before anything runs, [`plan`] looks at what the database already is:
//! - empty: every migration is applied;
//! - a Switchboard history: what it lacks is applied;
//! - the earlier layout (its history in `public._sqlx_migrations`, its tables in `public`): its
//!   tables move into the `switchboard` schema and its history is carried over;
//! - the platform's tables without a history: they are compared with what the migrations
//!   would build ([`adopt`]); if they match, the steps already there are recorded as present
//!   (not run) and the rest applied; if not, nothing at all is written and the report says why.

mod adopt;
pub mod indexes;
pub mod partition;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use sqlx::{Acquire, PgConnection, PgPool};

use super::DbError;
pub use adopt::Findings;
pub use indexes::IndexEvent;

/// How a migration runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The whole file in one transaction, with a lock timeout (retried when it expires).
    Transaction,
    /// Each `CREATE INDEX CONCURRENTLY` alone, outside any transaction ([`indexes`]).
    ConcurrentIndexes,
}

#[derive(Debug)]
pub struct Migration {
    pub version: i32,
    pub name: &'static str,
    pub sql: &'static str,
    pub kind: Kind,
    /// Checksums of earlier texts of this migration that did the same for a database that has
    /// it applied (a revision that a later migration completes): accepted in the history.
    pub earlier: &'static [&'static str],
}

/// Every migration, in order.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "platform schema",
        sql: include_str!("../../../migrations/0001_platform_schema.sql"),
        kind: Kind::Transaction,
        earlier: &[],
    },
    Migration {
        version: 2,
        name: "tenancy",
        sql: include_str!("../../../migrations/0002_tenancy.sql"),
        kind: Kind::Transaction,
        earlier: &[],
    },
    Migration {
        version: 3,
        name: "tenancy: validate users' tenants",
        sql: include_str!("../../../migrations/0003_tenancy_validate.sql"),
        kind: Kind::Transaction,
        earlier: &[],
    },
    Migration {
        version: 4,
        name: "console schema",
        sql: include_str!("../../../migrations/0004_console_schema.sql"),
        kind: Kind::Transaction,
        // With a foreign key from idempotency_keys.audit_log_id to audit_logs, which 0008 drops.
        earlier: &["1575e33ee93b3cbed8b886001a2ec7c028bb66868c1754d8dd93b1fdaf4363ca"],
    },
    Migration {
        version: 5,
        name: "console indexes",
        sql: include_str!("../../../migrations/0005_console_indexes.sql"),
        kind: Kind::ConcurrentIndexes,
        earlier: &[],
    },
    Migration {
        version: 6,
        name: "audit chain",
        sql: include_str!("../../../migrations/0006_audit_chain.sql"),
        kind: Kind::Transaction,
        earlier: &[],
    },
    Migration {
        version: 7,
        name: "legacy import id map",
        sql: include_str!("../../../migrations/0007_legacy_import.sql"),
        kind: Kind::Transaction,
        earlier: &[],
    },
    Migration {
        version: 8,
        name: "audit log may be partitioned",
        sql: include_str!("../../../migrations/0008_audit_partitionable.sql"),
        kind: Kind::Transaction,
        earlier: &[],
    },
    Migration {
        version: 9,
        name: "audit chain: links made at commit",
        sql: include_str!("../../../migrations/0009_audit_chain_append.sql"),
        kind: Kind::Transaction,
        earlier: &[],
    },
    Migration {
        version: 10,
        name: "user search keys",
        sql: include_str!("../../../migrations/0010_user_search_keys.sql"),
        kind: Kind::ConcurrentIndexes,
        earlier: &[],
    },
];

/// The optional backstop triggers (`migrate --backstop`): changes made outside the console to
/// the columns admins care about are written to the audit log. Safe to run again.
pub const BACKSTOP_SQL: &str = include_str!("../../../migrations/backstop.sql");

/// Installs (or reinstalls) the backstop triggers, in one transaction.
pub async fn install_backstop(pool: &PgPool) -> Result<(), DbError> {
    let mut tx = crate::db::begin(pool).await?;
    sqlx::raw_sql(BACKSTOP_SQL).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
}

impl Migration {
    /// SHA-256 of the SQL as shipped, recorded in the history.
    pub fn checksum(&self) -> String {
        format!("{:x}", Sha256::digest(self.sql.as_bytes()))
    }

    pub fn info(&'static self, how: How) -> MigrationInfo {
        MigrationInfo {
            version: i64::from(self.version),
            description: self.name.to_string(),
            how,
        }
    }
}

/// The history table, made before the first migration is recorded.
pub const HISTORY_SQL: &str = "CREATE SCHEMA IF NOT EXISTS switchboard;
CREATE TABLE IF NOT EXISTS switchboard.migrations (
    version      INTEGER     NOT NULL PRIMARY KEY,
    name         TEXT        NOT NULL,
    checksum     TEXT        NOT NULL,
    how          TEXT        NOT NULL CHECK (how IN ('applied', 'adopted', 'carried over')),
    applied_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    duration_ms  BIGINT      NOT NULL DEFAULT 0
);";

/// Moves the earlier layout's own tables (in `public`, history in `public._sqlx_migrations`)
/// into the `switchboard` schema under the names a new installation gives them. That layout's
/// three migrations held what 0001 to 0004 hold now (its indexes are 0005's, by name).
pub const CARRY_OVER_SQL: &str = "ALTER TABLE public.admin_idempotency_keys SET SCHEMA switchboard;
ALTER TABLE switchboard.admin_idempotency_keys RENAME TO idempotency_keys;
ALTER INDEX switchboard.admin_idempotency_keys_pkey RENAME TO idempotency_keys_pkey;
ALTER TABLE switchboard.idempotency_keys
    RENAME CONSTRAINT admin_idempotency_keys_audit_log_id_fkey TO idempotency_keys_audit_log_id_fkey;
ALTER TABLE public.console_settings SET SCHEMA switchboard;
ALTER TABLE switchboard.console_settings RENAME TO settings;
ALTER INDEX switchboard.console_settings_pkey RENAME TO settings_pkey;
DROP TRIGGER update_console_settings_updated_at ON switchboard.settings;
DROP TABLE public._sqlx_migrations;";

/// The migrations the earlier layout's history stands for.
const CARRIED_OVER: std::ops::RangeInclusive<i32> = 1..=4;

/// How long a migration's transaction waits for a lock before it gives up and tries again (a
/// long wait would queue every query of the live table behind it).
pub const LOCK_TIMEOUT: &str = "5s";
/// How often a step that could not get its locks is tried.
pub const ATTEMPTS: u32 = 5;

/// How a migration came to be in the history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum How {
    Applied,
    /// Found present (the platform built it) and recorded without running.
    Adopted,
    /// Recorded from the earlier layout's history.
    CarriedOver,
}

impl How {
    pub fn as_str(self) -> &'static str {
        match self {
            How::Applied => "applied",
            How::Adopted => "adopted",
            How::CarriedOver => "carried over",
        }
    }
}

/// A migration as the `migrate` command reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationInfo {
    pub version: i64,
    pub description: String,
    pub how: How,
}

/// What the database is, as far as the migrations go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Layout {
    /// No platform tables, no history.
    Empty,
    /// `switchboard.migrations` exists.
    Current,
    /// The earlier layout: history in `public._sqlx_migrations`.
    Earlier,
    /// The platform's tables without a Switchboard history.
    Platform,
}

/// What a step of the plan does with its migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Apply,
    Record(How),
}

#[derive(Debug)]
pub struct Step {
    pub migration: &'static Migration,
    pub action: Action,
}

/// What `migrate` will do to the database, worked out without writing anything.
#[derive(Debug)]
pub struct Plan {
    pub layout: Layout,
    /// The history table must be made first.
    pub make_history: bool,
    pub steps: Vec<Step>,
    /// The comparison with the platform's tables, when they were found without a history.
    pub findings: Option<Findings>,
    /// Why the database cannot be migrated (nothing will be written).
    pub refusal: Vec<String>,
}

impl Plan {
    /// The exact SQL the plan runs, in order, for `--dry-run`.
    pub fn sql(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if self.make_history {
            out.push((
                "the migration history (one transaction)".to_string(),
                HISTORY_SQL.to_string(),
            ));
        }
        if self.layout == Layout::Earlier {
            out.push((
                "carry over the earlier layout (same transaction)".to_string(),
                CARRY_OVER_SQL.to_string(),
            ));
        }
        let recorded: Vec<String> = self
            .steps
            .iter()
            .filter_map(|s| match s.action {
                Action::Record(how) => Some(format!(
                    "({}, '{}', '{}', '{}')",
                    s.migration.version,
                    s.migration.name,
                    s.migration.checksum(),
                    how.as_str()
                )),
                Action::Apply => None,
            })
            .collect();
        if !recorded.is_empty() {
            out.push((
                "record what is already there (same transaction)".to_string(),
                format!(
                    "INSERT INTO switchboard.migrations (version, name, checksum, how) VALUES\n    {};",
                    recorded.join(",\n    ")
                ),
            ));
        }
        for s in self.steps.iter().filter(|s| s.action == Action::Apply) {
            let how = match s.migration.kind {
                Kind::Transaction => format!(
                    "one transaction, SET LOCAL lock_timeout = '{LOCK_TIMEOUT}', up to {ATTEMPTS} tries"
                ),
                Kind::ConcurrentIndexes => format!(
                    "each statement alone, outside a transaction, lock_timeout '{}', up to {ATTEMPTS} \
                     tries; an index already there and valid is kept, an INVALID one dropped \
                     (DROP INDEX CONCURRENTLY) and built again",
                    indexes::LOCK_TIMEOUT
                ),
            };
            let sql = match s.migration.kind {
                Kind::Transaction => s.migration.sql.trim_end().to_string(),
                Kind::ConcurrentIndexes => indexes::to_run(s.migration)
                    .iter()
                    .map(|i| format!("{};", i.sql))
                    .collect::<Vec<_>>()
                    .join("\n"),
            };
            out.push((
                format!("{:04} {} ({how})", s.migration.version, s.migration.name),
                sql,
            ));
        }
        out
    }

    pub fn pending(&self) -> bool {
        !self.steps.is_empty() || self.make_history
    }
}

/// Whether `schema.relation` exists, from the catalog (which any role may read, whatever it may
/// do with the schema).
async fn exists(conn: &mut PgConnection, schema: &str, relation: &str) -> Result<bool, DbError> {
    Ok(crate::db::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = $1 AND c.relname = $2)",
    )
    .bind(schema)
    .bind(relation)
    .fetch_one(conn)
    .await?)
}

/// The history: version → (checksum, how), or None where there is no history table.
async fn history(conn: &mut PgConnection) -> Result<Option<HashMap<i32, String>>, DbError> {
    if !exists(&mut *conn, "switchboard", "migrations").await? {
        return Ok(None);
    }
    let rows: Vec<(i32, String)> =
        crate::db::query_as("SELECT version, checksum FROM switchboard.migrations")
            .fetch_all(conn)
            .await?;
    Ok(Some(rows.into_iter().collect()))
}

/// The migrations the database's history lacks, in order (all of them where there is no
/// history, the earlier layout included: `migrate` carries it over).
pub async fn pending_migrations(pool: &PgPool) -> Result<Vec<&'static Migration>, DbError> {
    let mut conn = super::pinned(pool).await?;
    let done = history(&mut conn).await?.unwrap_or_default();
    Ok(MIGRATIONS
        .iter()
        .filter(|m| !done.contains_key(&m.version))
        .collect())
}

/// Works out what `migrate` would do, writing nothing.
pub async fn plan(pool: &PgPool) -> Result<Plan, DbError> {
    let mut conn = pool.acquire().await?;
    plan_on(&mut conn).await
}

async fn plan_on(conn: &mut PgConnection) -> Result<Plan, DbError> {
    let apply_all = |from: i32| -> Vec<Step> {
        MIGRATIONS
            .iter()
            .filter(|m| m.version >= from)
            .map(|migration| Step {
                migration,
                action: Action::Apply,
            })
            .collect()
    };
    if let Some(done) = history(&mut *conn).await? {
        let mut refusal = Vec::new();
        for m in MIGRATIONS {
            if done
                .get(&m.version)
                .is_some_and(|sum| *sum != m.checksum() && !m.earlier.contains(&sum.as_str()))
            {
                refusal.push(format!(
                    "migration {:04} ({}) in the history differs from this Switchboard's: the \
                     database was migrated by another version",
                    m.version, m.name
                ));
            }
        }
        let newest = MIGRATIONS.last().map_or(0, |m| m.version);
        if let Some(v) = done.keys().copied().filter(|v| *v > newest).max() {
            refusal.push(format!(
                "the history holds migration {v:04}, newer than this Switchboard knows ({newest:04}): \
                 use the newer Switchboard"
            ));
        }
        let steps = MIGRATIONS
            .iter()
            .filter(|m| !done.contains_key(&m.version))
            .map(|migration| Step {
                migration,
                action: Action::Apply,
            })
            .collect();
        return Ok(Plan {
            layout: Layout::Current,
            make_history: false,
            steps,
            findings: None,
            refusal,
        });
    }
    if exists(&mut *conn, "public", "_sqlx_migrations").await? {
        let versions: Vec<i64> =
            crate::db::query_scalar("SELECT version FROM public._sqlx_migrations WHERE success")
                .fetch_all(&mut *conn)
                .await?;
        let mut refusal = Vec::new();
        if !(1..=3).all(|v| versions.contains(&v)) {
            refusal.push(format!(
                "the earlier Switchboard history (public._sqlx_migrations) holds migrations {versions:?}, \
                 not all of 1, 2 and 3: finish them with the Switchboard that started them"
            ));
        }
        let mut steps: Vec<Step> = MIGRATIONS
            .iter()
            .filter(|m| CARRIED_OVER.contains(&m.version))
            .map(|migration| Step {
                migration,
                action: Action::Record(How::CarriedOver),
            })
            .collect();
        steps.extend(apply_all(CARRIED_OVER.end() + 1));
        return Ok(Plan {
            layout: Layout::Earlier,
            make_history: true,
            steps,
            findings: None,
            refusal,
        });
    }
    let findings = adopt::compare(&mut *conn).await?;
    let Some(findings) = findings else {
        return Ok(Plan {
            layout: Layout::Empty,
            make_history: true,
            steps: apply_all(1),
            findings: None,
            refusal: Vec::new(),
        });
    };
    let mut steps = Vec::new();
    for migration in MIGRATIONS {
        let action = match migration.version {
            1 => Action::Record(How::Adopted),
            2 | 3 if findings.tenancy_present => Action::Record(How::Adopted),
            _ => Action::Apply,
        };
        steps.push(Step { migration, action });
    }
    Ok(Plan {
        layout: Layout::Platform,
        make_history: true,
        steps,
        refusal: findings.differences.clone(),
        findings: Some(findings),
    })
}

/// Why `migrate` would not run, in one line (the plan lists every finding).
fn refused(plan: &Plan) -> DbError {
    let what = match plan.layout {
        Layout::Platform => "the platform's tables differ from what Switchboard expects",
        _ => "the database cannot be migrated",
    };
    let first = plan.refusal.first().map(String::as_str).unwrap_or_default();
    let more = match plan.refusal.len() {
        0 | 1 => String::new(),
        n => format!(" (and {} more)", n - 1),
    };
    DbError::Incompatible(format!("{what}: {first}{more}; nothing was changed"))
}

/// Applies what the database lacks and returns what this call did. Concurrent runs take turns
/// (a lock of this database held on a connection of its own), so a second run finds nothing
/// left and says so.
pub async fn migrate(pool: &PgPool) -> Result<Vec<MigrationInfo>, DbError> {
    run(pool, &mut |_| {}).await
}

/// [`migrate`], reporting the index builds to `progress`.
pub async fn run(
    pool: &PgPool,
    progress: &mut (dyn FnMut(IndexEvent) + Send),
) -> Result<Vec<MigrationInfo>, DbError> {
    const LOCK: &str = "SELECT pg_try_advisory_lock(hashtext('switchboard.migrate'))";
    const UNLOCK: &str = "SELECT pg_advisory_unlock(hashtext('switchboard.migrate'))";
    let mut turn = pool.acquire().await?;
    // Tried again and again rather than waited for in one statement: a statement waiting holds
    // a snapshot, and a concurrent index build of the run holding the lock would wait for that
    // snapshot to end (a deadlock no lock manager sees).
    while !crate::db::query_scalar::<bool>(LOCK)
        .fetch_one(&mut *turn)
        .await?
    {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let result = run_locked(pool, &mut turn, progress).await;
    let unlocked = crate::db::query(UNLOCK).execute(&mut *turn).await;
    // A failed migration's own error comes first.
    let done = result?;
    unlocked?;
    Ok(done)
}

async fn run_locked(
    pool: &PgPool,
    conn: &mut PgConnection,
    progress: &mut (dyn FnMut(IndexEvent) + Send),
) -> Result<Vec<MigrationInfo>, DbError> {
    let plan = plan_on(&mut *conn).await?;
    if !plan.refusal.is_empty() {
        return Err(refused(&plan));
    }
    let mut done = Vec::new();
    // The history, the earlier layout's move and what is already there: one transaction.
    let recorded: Vec<&Step> = plan
        .steps
        .iter()
        .filter(|s| matches!(s.action, Action::Record(_)))
        .collect();
    if plan.make_history || !recorded.is_empty() {
        let mut tx = conn.begin().await?;
        if plan.make_history {
            sqlx::raw_sql(HISTORY_SQL).execute(&mut *tx).await?;
        }
        if plan.layout == Layout::Earlier {
            sqlx::raw_sql(CARRY_OVER_SQL).execute(&mut *tx).await?;
        }
        for s in &recorded {
            let Action::Record(how) = s.action else {
                continue;
            };
            record(&mut tx, s.migration, how, Duration::ZERO).await?;
            done.push(s.migration.info(how));
        }
        tx.commit().await?;
    }
    for s in plan.steps.iter().filter(|s| s.action == Action::Apply) {
        let started = Instant::now();
        match s.migration.kind {
            Kind::Transaction => apply_in_transaction(conn, s.migration).await?,
            Kind::ConcurrentIndexes => {
                indexes::build(pool, s.migration, progress).await?;
                record(&mut *conn, s.migration, How::Applied, started.elapsed()).await?;
            }
        }
        done.push(s.migration.info(How::Applied));
    }
    Ok(done)
}

async fn record(
    conn: &mut PgConnection,
    m: &Migration,
    how: How,
    took: Duration,
) -> Result<(), sqlx::Error> {
    crate::db::query(
        "INSERT INTO switchboard.migrations (version, name, checksum, how, duration_ms) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(m.version)
    .bind(m.name)
    .bind(m.checksum())
    .bind(how.as_str())
    .bind(i64::try_from(took.as_millis()).unwrap_or(i64::MAX))
    .execute(conn)
    .await?;
    Ok(())
}

/// Whether `e` is a lock timeout (`lock_not_available`): worth another try.
pub(crate) fn lock_timed_out(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.code().as_deref() == Some("55P03"))
}

/// Runs one migration and records it, in one transaction, trying again when its locks were
/// not to be had within [`LOCK_TIMEOUT`].
async fn apply_in_transaction(conn: &mut PgConnection, m: &Migration) -> Result<(), DbError> {
    let mut attempt = 1;
    loop {
        let started = Instant::now();
        let result: Result<(), sqlx::Error> = async {
            let mut tx = conn.begin().await?;
            crate::db::query(sqlx::AssertSqlSafe(format!(
                "SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"
            )))
            .execute(&mut *tx)
            .await?;
            sqlx::raw_sql(m.sql).execute(&mut *tx).await?;
            record(&mut tx, m, How::Applied, started.elapsed()).await?;
            tx.commit().await
        }
        .await;
        match result {
            Ok(()) => return Ok(()),
            Err(e) if lock_timed_out(&e) && attempt < ATTEMPTS => {
                tracing::warn!(
                    "migration {:04}: no lock within {LOCK_TIMEOUT} (try {attempt} of {ATTEMPTS})",
                    m.version
                );
                tokio::time::sleep(Duration::from_secs(1 << attempt)).await;
                attempt += 1;
            }
            Err(e) => {
                return Err(DbError::Refused(format!(
                    "migration {:04} ({}): {}",
                    m.version,
                    m.name,
                    super::sqlx_text(&e)
                )));
            }
        }
    }
}
