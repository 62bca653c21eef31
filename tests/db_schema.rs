//! The migrations against the seed: every table, column, key, index and constraint of
//! shared/seeds/schema-analysis.md, checked in the catalog of a freshly migrated database and
//! probed with inserts that must fail.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::TestDb;
use common::seed::*;
use sqlx::{PgPool, Row};

struct DbColumn {
    ty: String,
    nullable: bool,
    default: Option<String>,
}

async fn db_columns(pool: &PgPool, table: &str) -> BTreeMap<String, DbColumn> {
    let rows = sqlx::query(
        "SELECT column_name::text, data_type::text, character_maximum_length, numeric_precision, \
                numeric_scale, is_nullable::text, column_default::text \
         FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1",
    )
    .bind(table)
    .fetch_all(pool)
    .await
    .unwrap();
    rows.into_iter()
        .map(|r| {
            let data_type: String = r.get(1);
            let len: Option<i32> = r.get(2);
            let precision: Option<i32> = r.get(3);
            let scale: Option<i32> = r.get(4);
            let ty = match (data_type.as_str(), len) {
                ("character varying", Some(n)) => format!("character varying({n})"),
                ("numeric", _) => format!(
                    "numeric({},{})",
                    precision.unwrap_or_default(),
                    scale.unwrap_or_default()
                ),
                _ => data_type,
            };
            (
                r.get::<String, _>(0),
                DbColumn {
                    ty,
                    nullable: r.get::<String, _>(5) == "YES",
                    default: r.get(6),
                },
            )
        })
        .collect()
}

#[derive(Debug)]
struct DbIndex {
    name: String,
    unique: bool,
    columns: Vec<String>,
    predicate: Option<String>,
}

async fn db_indexes(pool: &PgPool, table: &str) -> Vec<DbIndex> {
    sqlx::query(
        "SELECT i.relname::text, ix.indisunique, \
                array(SELECT a.attname::text FROM unnest(ix.indkey) WITH ORDINALITY k(attnum, ord) \
                      JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.attnum \
                      ORDER BY k.ord), \
                pg_get_expr(ix.indpred, ix.indrelid) \
         FROM pg_index ix \
         JOIN pg_class i ON i.oid = ix.indexrelid \
         JOIN pg_class t ON t.oid = ix.indrelid \
         WHERE t.relname = $1",
    )
    .bind(table)
    .fetch_all(pool)
    .await
    .unwrap()
    .into_iter()
    .map(|r| DbIndex {
        name: r.get(0),
        unique: r.get(1),
        columns: r.get(2),
        predicate: r.get(3),
    })
    .collect()
}

#[derive(Debug)]
struct DbForeignKey {
    columns: Vec<String>,
    ref_table: String,
    ref_columns: Vec<String>,
    on_delete: String,
}

async fn db_foreign_keys(pool: &PgPool, table: &str) -> Vec<DbForeignKey> {
    sqlx::query(
        "SELECT array(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(n, ord) \
                      JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.ord), \
                r.relname::text, \
                array(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY k(n, ord) \
                      JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.ord), \
                CASE c.confdeltype WHEN 'a' THEN 'NO ACTION' WHEN 'r' THEN 'RESTRICT' \
                     WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' ELSE 'SET DEFAULT' END \
         FROM pg_constraint c \
         JOIN pg_class t ON t.oid = c.conrelid \
         JOIN pg_class r ON r.oid = c.confrelid \
         WHERE c.contype = 'f' AND t.relname = $1",
    )
    .bind(table)
    .fetch_all(pool)
    .await
    .unwrap()
    .into_iter()
    .map(|r| DbForeignKey {
        columns: r.get(0),
        ref_table: r.get(1),
        ref_columns: r.get(2),
        on_delete: r.get(3),
    })
    .collect()
}

async fn db_checks(pool: &PgPool, table: &str) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT pg_get_constraintdef(c.oid) FROM pg_constraint c \
         JOIN pg_class t ON t.oid = c.conrelid WHERE c.contype = 'c' AND t.relname = $1",
    )
    .bind(table)
    .fetch_all(pool)
    .await
    .unwrap()
}

#[test]
fn the_seed_parses_into_all_twelve_tables() {
    let tables = parse_seed(&seed_text());
    let names: BTreeSet<&str> = tables.keys().map(String::as_str).collect();
    let expected: BTreeSet<&str> = [
        "users",
        "agents",
        "calls",
        "contacts",
        "phone_numbers",
        "transcripts",
        "lead_analytics",
        "agent_analytics",
        "user_analytics",
        "user_sessions",
        "audit_logs",
        "twilio_processed_calls",
    ]
    .into();
    assert_eq!(names, expected);
    let columns: usize = tables.values().map(|t| t.columns.len()).sum();
    assert!(columns > 150, "only {columns} columns parsed");
    assert_eq!(tables["phone_numbers"].indexes.len(), 4);
    assert_eq!(tables["calls"].fk_sets, [vec!["agent_id", "user_id"]]);
    assert_eq!(tables["transcripts"].fk_sets, [vec!["call_id", "user_id"]]);
}

#[tokio::test]
async fn every_seed_column_is_in_the_database_as_specified() {
    let db = TestDb::migrated().await;
    let mut problems = Vec::new();
    for (table, spec) in parse_seed(&seed_text()) {
        let actual = db_columns(&db.pool, &table).await;
        assert!(!actual.is_empty(), "table {table} is missing");
        let seed_names: BTreeSet<&str> = spec.columns.iter().map(|c| c.name.as_str()).collect();
        let extra: Vec<&String> = actual
            .keys()
            .filter(|c| !seed_names.contains(c.as_str()))
            .collect();
        // The tenant model adds users.tenant_id and nothing else.
        let allowed_extra: Vec<&str> = if table == "users" {
            vec!["tenant_id"]
        } else {
            vec![]
        };
        if extra.iter().map(|s| s.as_str()).collect::<Vec<_>>() != allowed_extra {
            problems.push(format!("{table}: columns not in the seed: {extra:?}"));
        }
        for col in &spec.columns {
            let Some(db_col) = actual.get(&col.name) else {
                problems.push(format!("{table}.{} is missing", col.name));
                continue;
            };
            let want = expected_type(&col.ty);
            if db_col.ty != want {
                problems.push(format!(
                    "{table}.{}: type {} (seed: {want})",
                    col.name, db_col.ty
                ));
            }
            if db_col.nullable != col.nullable {
                problems.push(format!(
                    "{table}.{}: nullable {} (seed: {})",
                    col.name, db_col.nullable, col.nullable
                ));
            }
            let got_default = db_col.default.as_deref().map(normalise_default);
            if got_default != col.default {
                problems.push(format!(
                    "{table}.{}: default {got_default:?} (seed: {:?})",
                    col.name, col.default
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[tokio::test]
async fn every_seed_key_index_and_constraint_exists() {
    let db = TestDb::migrated().await;
    let mut problems = Vec::new();
    for (table, spec) in parse_seed(&seed_text()) {
        let indexes = db_indexes(&db.pool, &table).await;
        let fks = db_foreign_keys(&db.pool, &table).await;
        let checks = db_checks(&db.pool, &table).await;
        let unique_on = |cols: &[String], predicate: &Option<String>| {
            indexes.iter().any(|i| {
                i.unique && i.columns == cols && i.predicate.is_some() == predicate.is_some()
            })
        };
        for col in &spec.columns {
            let c = &col.constraints;
            let single = vec![col.name.clone()];
            if c.contains("PRIMARY KEY")
                && !indexes
                    .iter()
                    .any(|i| i.name == format!("{table}_pkey") && i.columns == single)
            {
                problems.push(format!("{table}.{}: no primary key", col.name));
            }
            if c.contains("UNIQUE") && !unique_on(&single, &None) {
                problems.push(format!("{table}.{}: not unique", col.name));
            }
            if let Some(fk) = c.strip_prefix("FK → ") {
                // "users(id) ON DELETE CASCADE"
                let (target, rule) = match fk.split_once(" ON DELETE ") {
                    Some((t, r)) => (t, r.trim()),
                    None => (fk, "NO ACTION"),
                };
                let (ref_table, ref_col) = target.trim_end_matches(')').split_once('(').unwrap();
                let found = fks.iter().any(|k| {
                    k.columns == single
                        && k.ref_table == ref_table
                        && k.ref_columns == [ref_col.to_string()]
                        && k.on_delete == rule
                });
                if !found {
                    problems.push(format!(
                        "{table}.{}: no FK → {target} ON DELETE {rule}",
                        col.name
                    ));
                }
            }
            if c.starts_with("CHECK") && !checks.iter().any(|def| def.contains(&col.name)) {
                problems.push(format!("{table}.{}: no CHECK constraint", col.name));
            }
        }
        for (name, cols, predicate) in &spec.indexes {
            match indexes.iter().find(|i| &i.name == name) {
                None => problems.push(format!("{table}: index {name} is missing")),
                Some(i) => {
                    if &i.columns != cols {
                        problems.push(format!(
                            "{table}: index {name} is on {:?}, seed: {cols:?}",
                            i.columns
                        ));
                    }
                    if i.predicate.is_some() != predicate.is_some() {
                        problems.push(format!(
                            "{table}: index {name} partial: {:?}, seed: {predicate:?}",
                            i.predicate
                        ));
                    }
                }
            }
        }
        for (name, cols, predicate) in &spec.unique_sets {
            let named_ok = match name {
                // A bare column name stands for that column's unique constraint.
                Some(n) if cols.len() == 1 && &cols[0] == n => true,
                Some(n) => indexes.iter().any(|i| &i.name == n && i.unique),
                None => true,
            };
            if !named_ok || !unique_on(cols, predicate) {
                problems.push(format!("{table}: unique {name:?} on {cols:?} is missing"));
            }
        }
        for cols in &spec.fk_sets {
            if !fks.iter().any(|k| &k.columns == cols) {
                problems.push(format!("{table}: composite FK on {cols:?} is missing"));
            }
        }
    }
    // The composite keys the issue names beyond the seed's own lists.
    let la = db_foreign_keys(&db.pool, "lead_analytics").await;
    if !la.iter().any(|k| {
        k.columns == ["call_id", "user_id"] && k.ref_table == "calls" && k.on_delete == "CASCADE"
    }) {
        problems.push("lead_analytics: no FK (call_id, user_id) → calls".into());
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[tokio::test]
async fn tenant_model_system_tenant_and_default() {
    let db = TestDb::migrated().await;
    let (name, plan): (String, String) = sqlx::query_as(
        "SELECT name, plan FROM tenants WHERE id = '00000000-0000-0000-0000-000000000000'",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(
        (name.as_str(), plan.as_str()),
        ("System (Shared Resources)", "system")
    );
    // The platform's existing inserts name no tenant and land in the system tenant.
    let tenant: uuid::Uuid = sqlx::query_scalar(
        "INSERT INTO users (email, name) VALUES ('legacy@example.com', 'Legacy') RETURNING tenant_id",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert!(tenant.is_nil());
    let cols = db_columns(&db.pool, "tenants").await;
    let mut names: Vec<&String> = cols.keys().collect();
    names.sort();
    assert_eq!(
        names,
        [
            "created_at",
            "id",
            "is_active",
            "metadata",
            "name",
            "plan",
            "updated_at"
        ]
    );
    assert_eq!(cols["created_at"].ty, "timestamp with time zone");
    assert!(!cols["id"].nullable && !cols["plan"].nullable && !cols["metadata"].nullable);
    let users = db_columns(&db.pool, "users").await;
    assert!(!users["tenant_id"].nullable);
    let fks = db_foreign_keys(&db.pool, "users").await;
    assert!(
        fks.iter()
            .any(|k| k.columns == ["tenant_id"] && k.ref_table == "tenants")
    );
}

#[tokio::test]
async fn uuid_ossp_is_created_by_the_migrations() {
    let db = TestDb::empty().await;
    switchboard::db::migrate(&db.pool).await.unwrap();
    let ext: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'uuid-ossp')",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert!(ext);
}

#[tokio::test]
async fn updated_at_is_kept_current_on_every_table_that_has_it() {
    let db = TestDb::migrated().await;
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.columns \
         WHERE table_schema = 'public' AND column_name = 'updated_at' \
           AND table_name IN (SELECT table_name FROM information_schema.tables \
                              WHERE table_schema = 'public' AND table_type = 'BASE TABLE') \
         ORDER BY 1",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    // The platform's 10 and tenancy's tenants (the console's own settings table is in the
    // switchboard schema, and its writes set updated_at themselves).
    assert_eq!(tables.len(), 11, "{tables:?}");
    let triggers: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT event_object_table::text FROM information_schema.triggers \
         WHERE action_statement LIKE '%update_updated_at_column%' ORDER BY 1",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert_eq!(triggers, tables);
    // And it really fires.
    sqlx::query(
        "INSERT INTO users (email, name, updated_at) VALUES ('t@example.com', 'T', '2001-01-01')",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    let fresh: bool = sqlx::query_scalar(
        "UPDATE users SET name = 'T2' WHERE email = 't@example.com' \
         RETURNING updated_at > now() - interval '1 minute'",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert!(fresh);
}

/// Rows the probes build on: two users in one tenant, an agent and a call of each.
struct Fixture {
    alice: uuid::Uuid,
    bob: uuid::Uuid,
    alice_agent: uuid::Uuid,
    bob_agent: uuid::Uuid,
    alice_call: uuid::Uuid,
}

async fn fixture(pool: &PgPool) -> Fixture {
    let alice: uuid::Uuid = sqlx::query_scalar(
        "INSERT INTO users (email, name, stack_auth_user_id) VALUES ('alice@example.com', 'Alice', 'sa_1') RETURNING id",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    let bob: uuid::Uuid = sqlx::query_scalar(
        "INSERT INTO users (email, name, role) VALUES ('bob@example.com', 'Bob', 'admin') RETURNING id",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    let agent = |user: uuid::Uuid, bolna: &'static str| {
        sqlx::query_scalar::<_, uuid::Uuid>(
            "INSERT INTO agents (user_id, bolna_agent_id, name) VALUES ($1, $2, 'A') RETURNING id",
        )
        .bind(user)
        .bind(bolna)
    };
    let alice_agent = agent(alice, "bolna-a").fetch_one(pool).await.unwrap();
    let bob_agent = agent(bob, "bolna-b").fetch_one(pool).await.unwrap();
    let alice_call: uuid::Uuid = sqlx::query_scalar(
        "INSERT INTO calls (agent_id, user_id, bolna_conversation_id, bolna_execution_id, phone_number) \
         VALUES ($1, $2, 'conv', 'exec-1', '+14155550100') RETURNING id",
    )
    .bind(alice_agent)
    .bind(alice)
    .fetch_one(pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO phone_numbers (name, phone_number, bolna_phone_number_id, created_by_admin_id) \
         VALUES ('Main', '+14155550100', 'bpn-1', $1)",
    )
    .bind(bob)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query("INSERT INTO contacts (user_id, name, phone_number) VALUES ($1, 'C', '+1555')")
        .bind(alice)
        .execute(pool)
        .await
        .unwrap();
    Fixture {
        alice,
        bob,
        alice_agent,
        bob_agent,
        alice_call,
    }
}

/// Runs `sql` (with the fixture's ids as $1..$5) in a transaction that is rolled back, and
/// returns the SQLSTATE it failed with.
async fn probe(pool: &PgPool, f: &Fixture, sql: &'static str) -> Option<String> {
    let mut tx = pool.begin().await.unwrap();
    let mut q = sqlx::query(sql);
    let n = (1..=5).filter(|i| sql.contains(&format!("${i}"))).count();
    let ids = [f.alice, f.bob, f.alice_agent, f.bob_agent, f.alice_call];
    for id in &ids[..n] {
        q = q.bind(*id);
    }
    let result = q.execute(&mut *tx).await;
    tx.rollback().await.ok();
    match result {
        Ok(_) => None,
        Err(sqlx::Error::Database(e)) => e.code().map(|c| c.into_owned()),
        Err(e) => panic!("{sql}: {e}"),
    }
}

const CHECK: &str = "23514";
const UNIQUE: &str = "23505";
const FOREIGN_KEY: &str = "23503";
const NOT_NULL: &str = "23502";

#[tokio::test]
async fn every_constraint_rejects_what_it_forbids() {
    let db = TestDb::migrated().await;
    let f = fixture(&db.pool).await;
    let probes: &[(&str, &str)] = &[
        // users
        ("UPDATE users SET credits = -1 WHERE id = $1", CHECK),
        ("UPDATE users SET role = 'root' WHERE id = $1", CHECK),
        (
            "UPDATE users SET auth_provider = 'facebook' WHERE id = $1",
            CHECK,
        ),
        (
            "INSERT INTO users (email, name) VALUES ('alice@example.com', 'Dup')",
            UNIQUE,
        ),
        (
            "INSERT INTO users (email, name, stack_auth_user_id) VALUES ('x@example.com', 'X', 'sa_1')",
            UNIQUE,
        ),
        (
            "INSERT INTO users (email, name) VALUES ('n@example.com', NULL)",
            NOT_NULL,
        ),
        (
            "INSERT INTO users (email, name, tenant_id) VALUES ('t@example.com', 'T', uuid_generate_v4())",
            FOREIGN_KEY,
        ),
        // tenants
        (
            "INSERT INTO tenants (name, plan) VALUES ('Gold Co', 'gold')",
            CHECK,
        ),
        (
            "INSERT INTO tenants (name, plan) VALUES ('Fake System', 'system')",
            CHECK,
        ),
        (
            "UPDATE tenants SET plan = 'pro' WHERE id = '00000000-0000-0000-0000-000000000000'",
            CHECK,
        ),
        ("INSERT INTO tenants (name) VALUES ('   ')", CHECK),
        (
            "DELETE FROM tenants WHERE id = '00000000-0000-0000-0000-000000000000'",
            FOREIGN_KEY,
        ),
        // agents
        (
            "INSERT INTO agents (user_id, bolna_agent_id, name, agent_type) VALUES ($1, 'x', 'A', 'sms')",
            CHECK,
        ),
        (
            "INSERT INTO agents (user_id, bolna_agent_id, name) VALUES ($1, 'bolna-b', 'A')",
            UNIQUE,
        ),
        (
            "INSERT INTO agents (user_id, bolna_agent_id, name) VALUES (uuid_generate_v4(), 'z', 'A')",
            FOREIGN_KEY,
        ),
        // calls: an agent of another user is refused by the composite key
        (
            "INSERT INTO calls (agent_id, user_id, bolna_conversation_id, bolna_execution_id, phone_number) \
          SELECT $4, $1, 'c', 'exec-x', '+1' WHERE $2 IS NOT NULL AND $3 IS NOT NULL",
            FOREIGN_KEY,
        ),
        (
            "INSERT INTO calls (agent_id, user_id, bolna_conversation_id, bolna_execution_id, phone_number) \
          SELECT $3, $1, 'c', 'exec-1', '+1' WHERE $2 IS NOT NULL",
            UNIQUE,
        ),
        (
            "UPDATE calls SET status = 'ringing' WHERE id = $5 AND $1 <> $2 AND $3 <> $4",
            CHECK,
        ),
        (
            "UPDATE calls SET duration_seconds = -1 WHERE id = $5 AND $1 <> $2 AND $3 <> $4",
            CHECK,
        ),
        (
            "UPDATE calls SET duration_minutes = -1 WHERE id = $5 AND $1 <> $2 AND $3 <> $4",
            CHECK,
        ),
        (
            "UPDATE calls SET credits_used = -1 WHERE id = $5 AND $1 <> $2 AND $3 <> $4",
            CHECK,
        ),
        (
            "UPDATE calls SET call_source = 'fax' WHERE id = $5 AND $1 <> $2 AND $3 <> $4",
            CHECK,
        ),
        (
            "UPDATE calls SET lead_type = 'sideways' WHERE id = $5 AND $1 <> $2 AND $3 <> $4",
            CHECK,
        ),
        (
            "UPDATE calls SET user_id = $2 WHERE id = $5 AND $1 IS NOT NULL AND $3 <> $4",
            FOREIGN_KEY,
        ),
        // transcripts and lead analytics belong to the call's user
        (
            "INSERT INTO transcripts (call_id, user_id) SELECT $5, $2 WHERE $1 <> $3 AND $4 IS NOT NULL",
            FOREIGN_KEY,
        ),
        (
            "INSERT INTO transcripts (call_id, user_id, analysis_status) SELECT $5, $1, 'done' WHERE $2 <> $3 AND $4 IS NOT NULL",
            CHECK,
        ),
        (
            "INSERT INTO lead_analytics (call_id, user_id) SELECT $5, $2 WHERE $1 <> $3 AND $4 IS NOT NULL",
            FOREIGN_KEY,
        ),
        (
            "INSERT INTO lead_analytics (call_id, user_id, intent_score) SELECT $5, $1, 1.5 WHERE $2 <> $3 AND $4 IS NOT NULL",
            CHECK,
        ),
        (
            "INSERT INTO lead_analytics (call_id, user_id, intent_score) SELECT $5, $1, -0.1 WHERE $2 <> $3 AND $4 IS NOT NULL",
            CHECK,
        ),
        (
            "INSERT INTO lead_analytics (call_id, user_id, sentiment_score) SELECT $5, $1, -2 WHERE $2 <> $3 AND $4 IS NOT NULL",
            CHECK,
        ),
        (
            "INSERT INTO lead_analytics (call_id, user_id, lead_qualification) SELECT $5, $1, 'lukewarm' WHERE $2 <> $3 AND $4 IS NOT NULL",
            CHECK,
        ),
        // contacts
        (
            "INSERT INTO contacts (user_id, name, phone_number) VALUES ($1, 'Dup', '+1555')",
            UNIQUE,
        ),
        (
            "INSERT INTO contacts (user_id, name, phone_number, auto_creation_source) VALUES ($1, 'C', '+2', 'import')",
            CHECK,
        ),
        (
            "INSERT INTO contacts (user_id, name, phone_number, auto_created_from_call_id) VALUES ($1, 'C', '+3', uuid_generate_v4())",
            FOREIGN_KEY,
        ),
        // phone numbers: one active row per number
        (
            "INSERT INTO phone_numbers (name, phone_number, bolna_phone_number_id, created_by_admin_id) \
          SELECT 'Dup', '+14155550100', 'bpn-2', $2 WHERE $1 IS NOT NULL",
            UNIQUE,
        ),
        (
            "INSERT INTO phone_numbers (name, phone_number, bolna_phone_number_id, created_by_admin_id) \
          SELECT 'Other', '+14155550199', 'bpn-1', $2 WHERE $1 IS NOT NULL",
            UNIQUE,
        ),
        (
            "INSERT INTO phone_numbers (name, phone_number, bolna_phone_number_id, created_by_admin_id) \
          VALUES ('Ghost', '+14155550198', 'bpn-3', uuid_generate_v4())",
            FOREIGN_KEY,
        ),
        // the admin who created a number cannot be deleted (ON DELETE RESTRICT)
        (
            "DELETE FROM users WHERE id = $2 AND $1 IS NOT NULL",
            FOREIGN_KEY,
        ),
        // sessions, analytics, twilio
        (
            "INSERT INTO user_sessions (user_id, session_token, expires_at) VALUES ($1, 's1', now()), ($1, 's1', now())",
            UNIQUE,
        ),
        (
            "INSERT INTO user_sessions (user_id, session_token, refresh_token, expires_at) VALUES ($1, 's1', 'r', now()), ($1, 's2', 'r', now())",
            UNIQUE,
        ),
        (
            "INSERT INTO user_sessions (user_id, session_token) VALUES ($1, 's1')",
            NOT_NULL,
        ),
        (
            "INSERT INTO agent_analytics (agent_id, user_id, date) SELECT $3, $1, current_date FROM generate_series(1, 2) WHERE $2 <> $4",
            UNIQUE,
        ),
        (
            "INSERT INTO user_analytics (user_id, date) VALUES ($1, current_date), ($1, current_date)",
            UNIQUE,
        ),
        (
            "INSERT INTO twilio_processed_calls (twilio_call_sid, phone_number, call_status) VALUES ('CA1', '+1', 'x'), ('CA1', '+1', 'x')",
            UNIQUE,
        ),
        (
            "INSERT INTO audit_logs (user_id, action, resource_type) VALUES ($1, NULL, 'user')",
            NOT_NULL,
        ),
    ];
    let mut problems = Vec::new();
    for (sql, expected) in probes {
        let got = probe(&db.pool, &f, sql).await;
        if got.as_deref() != Some(*expected) {
            problems.push(format!(
                "{sql}\n  expected SQLSTATE {expected}, got {got:?}"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[tokio::test]
async fn inactive_duplicates_of_a_number_are_allowed() {
    let db = TestDb::migrated().await;
    let f = fixture(&db.pool).await;
    let got = probe(
        &db.pool,
        &f,
        "INSERT INTO phone_numbers (name, phone_number, bolna_phone_number_id, created_by_admin_id, is_active) \
         SELECT 'Old', '+14155550100', 'bpn-9', $2, false WHERE $1 IS NOT NULL",
    )
    .await;
    assert_eq!(got, None);
}

#[tokio::test]
async fn delete_rules_cascade_or_detach_as_specified() {
    let db = TestDb::migrated().await;
    let f = fixture(&db.pool).await;
    sqlx::query("INSERT INTO transcripts (call_id, user_id) VALUES ($1, $2)")
        .bind(f.alice_call)
        .bind(f.alice)
        .execute(&db.pool)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO audit_logs (user_id, action, resource_type) VALUES ($1, 'x.y', 'user')",
    )
    .bind(f.alice)
    .execute(&db.pool)
    .await
    .unwrap();
    sqlx::query("UPDATE phone_numbers SET assigned_to_user_id = $1")
        .bind(f.alice)
        .execute(&db.pool)
        .await
        .unwrap();
    sqlx::query("DELETE FROM users WHERE id = $1")
        .bind(f.alice)
        .execute(&db.pool)
        .await
        .unwrap();
    let row: (i64, i64, i64, i64, Option<uuid::Uuid>, Option<uuid::Uuid>) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM agents WHERE user_id = $1), \
                (SELECT count(*) FROM calls WHERE user_id = $1), \
                (SELECT count(*) FROM transcripts), \
                (SELECT count(*) FROM contacts WHERE user_id = $1), \
                (SELECT user_id FROM audit_logs LIMIT 1), \
                (SELECT assigned_to_user_id FROM phone_numbers LIMIT 1)",
    )
    .bind(f.alice)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(row, (0, 0, 0, 0, None, None));
}

#[tokio::test]
async fn views_report_agent_and_user_figures() {
    let db = TestDb::migrated().await;
    let f = fixture(&db.pool).await;
    sqlx::query(
        "INSERT INTO calls (agent_id, user_id, bolna_conversation_id, bolna_execution_id, phone_number, status, credits_used) \
         VALUES ($1, $2, 'c', 'exec-2', '+1', 'completed', 4), ($1, $2, 'c', 'exec-3', '+1', 'failed', 0)",
    )
    .bind(f.alice_agent)
    .bind(f.alice)
    .execute(&db.pool)
    .await
    .unwrap();
    sqlx::query("UPDATE agents SET is_active = false WHERE id = $1")
        .bind(f.bob_agent)
        .execute(&db.pool)
        .await
        .unwrap();
    let agents: Vec<(uuid::Uuid, i64, i64, String)> = sqlx::query_as(
        "SELECT id, total_calls, completed_calls, success_rate::text FROM bolna_agents",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    // Only the active agent, with its three calls (one from the fixture, in progress).
    assert_eq!(agents, [(f.alice_agent, 3, 1, "33.33".to_string())]);
    let stats: (i64, i64, i64, i64) = sqlx::query_as(
        "SELECT total_agents, total_calls, total_contacts, total_credits_used FROM user_stats WHERE user_id = $1",
    )
    .bind(f.alice)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(stats, (1, 3, 1, 4));
}

/// `check` on a database the console migrated finds every index of the console's there and
/// valid: the search keys' (0010) among them, not the plain ones they replaced (which it once
/// reported missing on every such database).
#[tokio::test]
async fn check_finds_every_index_the_migrations_leave() {
    let db = TestDb::migrated().await;
    let report = switchboard::db::check::check(&db.pool, None, false)
        .await
        .unwrap();
    let names: Vec<&str> = report.indexes.iter().map(|i| i.name.as_str()).collect();
    for built in ["idx_users_email_key_trgm", "idx_users_name_key_trgm"] {
        assert!(names.contains(&built), "{built} in {names:?}");
    }
    for replaced in ["idx_users_email_trgm", "idx_users_name_trgm"] {
        assert!(!names.contains(&replaced), "{replaced} in {names:?}");
    }
    for index in &report.indexes {
        assert!(index.present && index.valid, "{index:?}");
    }
}
