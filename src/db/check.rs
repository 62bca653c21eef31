//! What the connected database holds against what the console needs (`switchboard check`): the
//! server, the tables, columns and types each pane and action relies on, the indexes that keep
//! the panes fast, the connecting role's privileges, and whether something sits between the
//! console and the server. Read-only: it changes nothing.

use chrono::Datelike;
use serde::Serialize;
use sqlx::PgPool;

use super::DbError;
use super::connect::quote_ident;
use super::lists::ListKind;

const UUID: &str = "uuid";
const TEXT: &str = "text";
const VARCHAR: &str = "character varying";
const BOOL: &str = "boolean";
const INT: &str = "integer";
const TIME: &str = "timestamp with time zone";
const JSON: &str = "jsonb";
const INET: &str = "inet";

/// A column the console relies on and the type it reads it as.
type Column = (&'static str, &'static str, &'static str);

const TENANT_COLUMNS: &[Column] = &[
    ("tenants", "id", UUID),
    ("tenants", "name", VARCHAR),
    ("tenants", "plan", VARCHAR),
    ("tenants", "is_active", BOOL),
    ("tenants", "metadata", JSON),
];
const USER_COLUMNS: &[Column] = &[
    ("users", "id", UUID),
    ("users", "email", VARCHAR),
    ("users", "name", VARCHAR),
    ("users", "company", VARCHAR),
    ("users", "phone", VARCHAR),
    ("users", "role", VARCHAR),
    ("users", "is_active", BOOL),
    ("users", "credits", INT),
    ("users", "email_verified", BOOL),
    ("users", "tenant_id", UUID),
];
const SESSION_COLUMNS: &[Column] = &[
    ("user_sessions", "user_id", UUID),
    ("user_sessions", "created_at", TIME),
    ("user_sessions", "expires_at", TIME),
];
const CALL_COLUMNS: &[Column] = &[
    ("calls", "user_id", UUID),
    ("calls", "agent_id", UUID),
    ("calls", "credits_used", INT),
    ("calls", "created_at", TIME),
];
const AGENT_COLUMNS: &[Column] = &[
    ("agents", "id", UUID),
    ("agents", "name", VARCHAR),
    ("agents", "description", TEXT),
    ("agents", "user_id", UUID),
    ("agents", "agent_type", VARCHAR),
    ("agents", "is_active", BOOL),
    ("agents", "bolna_agent_id", VARCHAR),
    // Each agent's calls and their success rate, active agents or not.
    ("calls", "agent_id", UUID),
    ("calls", "status", VARCHAR),
];
const NUMBER_COLUMNS: &[Column] = &[
    ("phone_numbers", "id", UUID),
    ("phone_numbers", "phone_number", VARCHAR),
    ("phone_numbers", "name", VARCHAR),
    ("phone_numbers", "bolna_phone_number_id", VARCHAR),
    ("phone_numbers", "assigned_to_user_id", UUID),
    ("phone_numbers", "created_by_admin_id", UUID),
    ("phone_numbers", "is_active", BOOL),
];
const AUDIT_COLUMNS: &[Column] = &[
    ("audit_logs", "id", UUID),
    ("audit_logs", "user_id", UUID),
    ("audit_logs", "action", VARCHAR),
    ("audit_logs", "resource_type", VARCHAR),
    ("audit_logs", "resource_id", UUID),
    ("audit_logs", "old_values", JSON),
    ("audit_logs", "new_values", JSON),
    ("audit_logs", "ip_address", INET),
    ("audit_logs", "user_agent", TEXT),
    ("audit_logs", "created_at", TIME),
];
const CONSOLE_COLUMNS: &[Column] = &[
    ("switchboard.idempotency_keys", "key", UUID),
    ("switchboard.idempotency_keys", "audit_log_id", UUID),
    ("switchboard.settings", "key", VARCHAR),
    ("switchboard.settings", "value", JSON),
];

/// The console's indexes (migrations 0005 and 0010) and the pane each one keeps fast; the
/// statement that builds one is the migration's own.
const INDEX_PANES: &[(&str, ListKind)] = &[
    ("idx_tenants_name_id", ListKind::Tenants),
    ("idx_users_email_id", ListKind::Users),
    ("idx_users_email_key_trgm", ListKind::Users),
    ("idx_users_name_key_trgm", ListKind::Users),
    ("idx_users_company_trgm", ListKind::Users),
    ("idx_users_phone_trgm", ListKind::Users),
    ("idx_users_credits_id", ListKind::Credits),
    ("idx_calls_user_created", ListKind::Credits),
    ("idx_agents_name_id", ListKind::Agents),
    ("idx_phone_numbers_number_id", ListKind::PhoneNumbers),
    ("idx_audit_logs_created_id", ListKind::AuditLog),
    ("idx_audit_logs_user_created", ListKind::AuditLog),
    ("idx_audit_logs_action_created", ListKind::AuditLog),
    ("idx_audit_logs_resource_created", ListKind::AuditLog),
    ("idx_audit_logs_resource_id", ListKind::AuditLog),
    ("idx_users_tenant_id", ListKind::Users),
    ("idx_contacts_user_created", ListKind::Users),
];

/// The pane an index of the console's serves (the ones only actions use serve none).
fn index_pane(name: &str) -> Option<ListKind> {
    INDEX_PANES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, k)| *k)
}

/// The columns a pane reads. Exhaustive: a new pane says what it needs.
fn pane_columns(kind: ListKind) -> Vec<&'static [Column]> {
    match kind {
        ListKind::Tenants => vec![
            TENANT_COLUMNS,
            USER_COLUMNS,
            AGENT_COLUMNS,
            NUMBER_COLUMNS,
            CALL_COLUMNS,
        ],
        ListKind::Users => vec![USER_COLUMNS, TENANT_COLUMNS, SESSION_COLUMNS],
        ListKind::Credits => vec![USER_COLUMNS, TENANT_COLUMNS, CALL_COLUMNS],
        ListKind::Agents => vec![AGENT_COLUMNS, USER_COLUMNS, TENANT_COLUMNS],
        ListKind::PhoneNumbers => vec![NUMBER_COLUMNS, USER_COLUMNS, TENANT_COLUMNS],
        ListKind::AuditLog => vec![AUDIT_COLUMNS, USER_COLUMNS],
    }
}

/// A privilege a kind of action needs: on a table (`None`) or one column. `LOCK` is UPDATE on
/// some column of the table (what FOR SHARE and FOR UPDATE take), granted with the columns.
pub(crate) type Privilege = (&'static str, Option<&'static str>, &'static str);

/// The audit row every action, sign-in, refusal and export writes.
pub(crate) const AUDIT_INSERT: &[Privilege] = &[
    ("audit_logs", Some("user_id"), "INSERT"),
    ("audit_logs", Some("action"), "INSERT"),
    ("audit_logs", Some("resource_type"), "INSERT"),
    ("audit_logs", Some("resource_id"), "INSERT"),
    ("audit_logs", Some("old_values"), "INSERT"),
    ("audit_logs", Some("new_values"), "INSERT"),
    ("audit_logs", Some("ip_address"), "INSERT"),
    ("audit_logs", Some("user_agent"), "INSERT"),
    // Its link in the chain: the row's encoding left pending, and the link the commit makes
    // of it (the head read under the chain's advisory lock, the pending row removed).
    ("switchboard.audit_chain_pending", None, "INSERT"),
    ("switchboard.audit_chain_pending", None, "DELETE"),
    ("switchboard.audit_chain", None, "INSERT"),
];

/// The tables the console reads (its panes, details, lookups and its own bookkeeping).
pub(crate) const READS: &[&str] = &[
    "tenants",
    "users",
    "user_sessions",
    "calls",
    "contacts",
    "agents",
    "phone_numbers",
    "audit_logs",
    "switchboard.idempotency_keys",
    "switchboard.settings",
    "switchboard.migrations",
    "switchboard.audit_chain",
    "switchboard.audit_chain_pending",
    "switchboard.audit_archives",
];

/// The kinds of action `check` reports, and exactly the columns each writes (besides its audit
/// row, [`AUDIT_INSERT`]). `switchboard grants` grants exactly these.
pub(crate) const ACTIONS: &[(&str, &[Privilege])] = &[
    ("sign-in", &[("users", Some("password_hash"), "SELECT")]),
    (
        "credits",
        &[
            ("users", Some("credits"), "UPDATE"),
            ("switchboard.idempotency_keys", Some("key"), "INSERT"),
            ("switchboard.idempotency_keys", Some("action"), "INSERT"),
            (
                "switchboard.idempotency_keys",
                Some("resource_id"),
                "INSERT",
            ),
            (
                "switchboard.idempotency_keys",
                Some("audit_log_id"),
                "UPDATE",
            ),
            ("switchboard.settings", None, "SELECT"),
        ],
    ),
    (
        "users",
        &[
            ("users", Some("is_active"), "UPDATE"),
            ("users", Some("email_verified"), "UPDATE"),
            ("users", Some("role"), "UPDATE"),
            ("users", Some("tenant_id"), "UPDATE"),
            ("user_sessions", None, "DELETE"),
            // Moving a user locks the tenant it goes to (FOR SHARE).
            ("tenants", None, "LOCK"),
        ],
    ),
    (
        "tenants",
        &[
            ("tenants", Some("name"), "INSERT"),
            ("tenants", Some("plan"), "INSERT"),
            ("tenants", Some("name"), "UPDATE"),
            ("tenants", Some("plan"), "UPDATE"),
            ("tenants", Some("is_active"), "UPDATE"),
        ],
    ),
    (
        "agents",
        &[
            ("agents", Some("name"), "UPDATE"),
            ("agents", Some("description"), "UPDATE"),
            ("agents", Some("is_active"), "UPDATE"),
        ],
    ),
    (
        "phone numbers",
        &[
            ("phone_numbers", Some("phone_number"), "INSERT"),
            ("phone_numbers", Some("name"), "INSERT"),
            ("phone_numbers", Some("bolna_phone_number_id"), "INSERT"),
            ("phone_numbers", Some("created_by_admin_id"), "INSERT"),
            ("phone_numbers", Some("assigned_to_user_id"), "UPDATE"),
            ("phone_numbers", Some("is_active"), "UPDATE"),
            // Assigning locks the number (FOR UPDATE).
            ("phone_numbers", None, "LOCK"),
        ],
    ),
    (
        "settings",
        &[
            ("switchboard.settings", Some("value"), "UPDATE"),
            ("switchboard.settings", Some("updated_at"), "UPDATE"),
        ],
    ),
    (
        "admin accounts",
        &[
            ("users", Some("email"), "INSERT"),
            ("users", Some("name"), "INSERT"),
            ("users", Some("role"), "INSERT"),
            ("users", Some("password_hash"), "INSERT"),
            ("users", Some("email_verified"), "INSERT"),
            ("users", Some("tenant_id"), "INSERT"),
            ("users", Some("password_hash"), "UPDATE"),
        ],
    ),
    ("audit export", &[("audit_logs", None, "SELECT")]),
];

/// Whether a pane or an action can be used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", content = "why", rename_all = "lowercase")]
pub enum Readiness {
    Ready,
    /// Works, slower or with less: why.
    Degraded(Vec<String>),
    /// Cannot work: why.
    Unavailable(Vec<String>),
    /// Not offered in this session (a change, when the session is read-only): why. Counts as
    /// neither degraded nor unavailable.
    #[serde(rename = "not_used")]
    NotUsed(Vec<String>),
}

/// The actions that only read (and record that they did): those a read-only session keeps.
pub const READING_ACTIONS: [&str; 2] = ["sign-in", "audit export"];

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Line {
    pub name: String,
    pub readiness: Readiness,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IndexFinding {
    pub name: String,
    pub pane: String,
    /// Missing, or left INVALID by a failed concurrent build.
    pub present: bool,
    pub valid: bool,
    pub create: String,
}

/// What protects the audit log in this database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditTrail {
    /// UPDATE, DELETE and TRUNCATE of `audit_logs` are refused (migration 0006's triggers).
    pub append_only: bool,
    /// Links in the hash chain.
    pub links: i64,
    /// The tables whose changes outside the console the backstop records.
    pub backstop: Vec<String>,
    /// How `audit_logs` is partitioned, when it is.
    pub partitioning: Option<Partitioning>,
}

/// A partitioned `audit_logs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Partitioning {
    /// `RANGE (created_at)`, or however it is partitioned.
    pub key: String,
    pub partitions: i64,
    /// The newest monthly partition (`audit_logs_pYYYY_MM`), if it has any of that name.
    pub newest_month: Option<String>,
    /// The default partition's rows (counted up to 100,001), if it has one this role may read
    /// (a grant on the parent does not reach a partition read by name).
    pub default_rows: Option<i64>,
    /// Next month has a partition (or the scheme is not this console's monthly one).
    pub next_month_ready: bool,
}

impl Partitioning {
    /// In a sentence for `check`.
    pub fn describe(&self) -> String {
        let mut text = format!(
            "partitioned by {} into {} partitions",
            self.key, self.partitions
        );
        if let Some(m) = &self.newest_month {
            text.push_str(&format!(", monthly through {m}"));
        }
        if let Some(n) = self.default_rows {
            text.push_str(&format!(
                "; the default partition holds {}{} rows",
                crate::numbers::thousands(n.min(100_000)),
                if n > 100_000 { "+" } else { "" }
            ));
        }
        if !self.next_month_ready {
            text.push_str(
                "; NEXT MONTH HAS NO PARTITION (its rows would go to the default): run \
                 `switchboard migrate --partition-audit monthly`",
            );
        }
        text
    }
}

/// How `audit_logs` is partitioned; None when it is a plain table.
pub async fn partitioning(conn: &mut sqlx::PgConnection) -> Result<Option<Partitioning>, DbError> {
    let row: Option<(String, i64, Option<String>, Option<String>)> = crate::db::query_as(
        "SELECT pg_get_partkeydef(c.oid), \
                (SELECT count(*) FROM pg_inherits WHERE inhparent = c.oid), \
                (SELECT max(p.relname::text) FROM pg_inherits i \
                   JOIN pg_class p ON p.oid = i.inhrelid \
                  WHERE i.inhparent = c.oid AND p.relname ~ '^audit_logs_p[0-9]{4}_[0-9]{2}$'), \
                (SELECT quote_ident(p.relname) FROM pg_inherits i \
                   JOIN pg_class p ON p.oid = i.inhrelid \
                  WHERE i.inhparent = c.oid AND pg_get_expr(p.relpartbound, p.oid) = 'DEFAULT' \
                    AND has_table_privilege(p.oid, 'SELECT')) \
         FROM pg_class c WHERE c.oid = 'public.audit_logs'::regclass AND c.relkind = 'p'",
    )
    .fetch_optional(&mut *conn)
    .await?;
    let Some((key, partitions, newest_month, default)) = row else {
        return Ok(None);
    };
    let default_rows = match default {
        // The name comes quoted from the catalog.
        Some(d) => Some(
            crate::db::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT count(*) FROM (SELECT 1 FROM public.{d} LIMIT 100001) s"
            )))
            .fetch_one(&mut *conn)
            .await?,
        ),
        None => None,
    };
    let next = chrono::Utc::now()
        .date_naive()
        .with_day(1)
        .and_then(|d| d.checked_add_months(chrono::Months::new(1)))
        .map(crate::db::migrate::partition::partition_name);
    let next_month_ready = match (&newest_month, next) {
        (Some(newest), Some(next)) => *newest >= next,
        _ => true,
    };
    Ok(Some(Partitioning {
        key,
        partitions,
        newest_month,
        default_rows,
        next_month_ready,
    }))
}

/// Reads what protects the audit log.
pub async fn audit_trail(pool: &PgPool) -> Result<AuditTrail, DbError> {
    let mut conn = crate::db::pinned(pool).await?;
    let triggers: Vec<(String, String)> = crate::db::query_as(
        "SELECT c.relname::text, t.tgname::text FROM pg_trigger t \
         JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = 'public' AND t.tgname IN ('switchboard_append_only', \
               'switchboard_no_truncate', 'switchboard_backstop') AND t.tgenabled <> 'D' \
         ORDER BY 1, 2",
    )
    .fetch_all(&mut *conn)
    .await?;
    let has = |table: &str, name: &str| triggers.iter().any(|(t, n)| t == table && n == name);
    let links: Option<i64> = crate::db::query_scalar(
        "SELECT CASE WHEN to_regclass('switchboard.audit_chain') IS NULL THEN NULL \
                ELSE (SELECT count(*) FROM switchboard.audit_chain) END",
    )
    .fetch_one(&mut *conn)
    .await
    .unwrap_or(None);
    let partitioning = partitioning(&mut conn).await?;
    Ok(AuditTrail {
        partitioning,
        append_only: has("audit_logs", "switchboard_append_only")
            && has("audit_logs", "switchboard_no_truncate"),
        links: links.unwrap_or(0),
        backstop: triggers
            .iter()
            .filter(|(_, n)| n == "switchboard_backstop")
            .map(|(t, _)| t.clone())
            .collect(),
    })
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub server_version: String,
    pub role: String,
    /// Something between the console and the server (a pooler or proxy), if it shows.
    pub in_between: Option<String>,
    /// Columns the console relies on that are missing or of another type.
    pub schema_problems: Vec<String>,
    /// Tables of the platform the console does not use (fine; reported as such).
    pub other_tables: Vec<String>,
    pub extensions: Vec<String>,
    /// The audit log's protections: append-only triggers, the chain's links, the backstop.
    pub audit_trail: AuditTrail,
    pub indexes: Vec<IndexFinding>,
    pub panes: Vec<Line>,
    pub actions: Vec<Line>,
}

impl Report {
    /// The worst state of any pane or action.
    pub fn worst(&self) -> &'static str {
        let all = self.panes.iter().chain(&self.actions);
        if all
            .clone()
            .any(|l| matches!(l.readiness, Readiness::Unavailable(_)))
        {
            "unavailable"
        } else if all
            .clone()
            .any(|l| matches!(l.readiness, Readiness::Degraded(_)))
        {
            "degraded"
        } else {
            "ready"
        }
    }
}

/// Checks the database `pool` is connected to. `port` is the one the connection was made to,
/// to tell a pooler or proxy in between. A `read_only` session is held to what it can do: its
/// panes, sign-in and exports, and the audit rows they write; the changes are not used.
pub async fn check(pool: &PgPool, port: Option<u16>, read_only: bool) -> Result<Report, DbError> {
    let (server_version, role, server_port): (String, String, Option<i32>) = crate::db::query_as(
        "SELECT current_setting('server_version'), current_user::text, inet_server_port()",
    )
    .fetch_one(&mut *crate::db::pinned(pool).await?)
    .await?;
    let in_between = match (port, server_port) {
        (Some(p), Some(s)) if i32::from(p) != s => Some(format!(
            "connected on port {p}, the server listens on {s}: a pooler, a proxy or a forwarded \
             port sits in between (a pooler in transaction mode needs --pooler transaction)"
        )),
        _ => None,
    };
    // Every column of the platform's tables and views (`public`) and of the console's own
    // (`switchboard`, named with their schema), with its type: from the catalog, which shows
    // them whatever the role may do with them (information_schema hides columns the role holds
    // no privilege on).
    let columns: Vec<(String, String, String)> = crate::db::query_as(
        "SELECT CASE n.nspname WHEN 'public' THEN c.relname::text \
                    ELSE n.nspname || '.' || c.relname END, \
                a.attname::text, a.atttypid::regtype::text \
         FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname IN ('public', 'switchboard') AND c.relkind IN ('r', 'p', 'v', 'm') \
           AND NOT c.relispartition AND a.attnum > 0 AND NOT a.attisdropped",
    )
    .fetch_all(&mut *crate::db::pinned(pool).await?)
    .await?;
    let type_of = |table: &str, column: &str| {
        columns
            .iter()
            .find(|(t, c, _)| t == table && c == column)
            .map(|(_, _, ty)| ty.as_str())
    };
    let problem = |&(table, column, ty): &Column| match type_of(table, column) {
        None if !columns.iter().any(|(t, _, _)| t == table) => {
            Some(format!("table {table} is missing"))
        }
        None => Some(format!("column {table}.{column} is missing")),
        Some(found) if found != ty => Some(format!("{table}.{column} is {found}, not {ty}")),
        Some(_) => None,
    };
    let mut schema_problems: Vec<String> = [
        TENANT_COLUMNS,
        USER_COLUMNS,
        SESSION_COLUMNS,
        CALL_COLUMNS,
        AGENT_COLUMNS,
        NUMBER_COLUMNS,
        AUDIT_COLUMNS,
        CONSOLE_COLUMNS,
    ]
    .iter()
    .flat_map(|cols| cols.iter().filter_map(problem))
    .collect();
    schema_problems.sort();
    schema_problems.dedup();
    let used = |t: &str| {
        [
            TENANT_COLUMNS,
            USER_COLUMNS,
            SESSION_COLUMNS,
            CALL_COLUMNS,
            AGENT_COLUMNS,
            NUMBER_COLUMNS,
            AUDIT_COLUMNS,
            CONSOLE_COLUMNS,
        ]
        .iter()
        .any(|cols| cols.iter().any(|(table, _, _)| *table == t))
    };
    let mut other_tables: Vec<String> = columns
        .iter()
        .map(|(t, _, _)| t.clone())
        .filter(|t| !used(t) && !READS.contains(&t.as_str()))
        .collect();
    other_tables.sort();
    other_tables.dedup();
    let extensions: Vec<String> =
        crate::db::query_scalar("SELECT extname::text FROM pg_extension ORDER BY 1")
            .fetch_all(&mut *crate::db::pinned(pool).await?)
            .await?;
    let present: Vec<(String, bool)> = crate::db::query_as(
        "SELECT c.relname::text, i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'",
    )
    .fetch_all(&mut *crate::db::pinned(pool).await?)
    .await?;
    // The indexes the console's index migrations leave (0005's, less what 0010 replaced, and
    // 0010's own).
    let wanted: Vec<super::migrate::indexes::IndexStatement> = super::migrate::MIGRATIONS
        .iter()
        .filter(|m| m.kind == super::migrate::Kind::ConcurrentIndexes)
        .flat_map(super::migrate::indexes::to_run)
        .filter(|s| !s.drop)
        .collect();
    let indexes: Vec<IndexFinding> = wanted
        .iter()
        .map(|w| {
            let found = present.iter().find(|(n, _)| *n == w.name);
            IndexFinding {
                name: w.name.clone(),
                pane: index_pane(&w.name)
                    .map_or("actions", |k| k.title())
                    .to_string(),
                present: found.is_some(),
                valid: found.is_some_and(|(_, v)| *v),
                create: w.sql.clone(),
            }
        })
        .collect();

    let mut panes = Vec::new();
    for kind in ListKind::ALL {
        let mut missing: Vec<String> = pane_columns(kind)
            .into_iter()
            .flat_map(|cols| cols.iter().filter_map(problem))
            .collect();
        missing.sort();
        missing.dedup();
        // SELECT on each column it reads (granted on the table or on the column), and on the
        // tables its detail view reads besides.
        for (t, c, _) in pane_columns(kind).into_iter().flatten() {
            if type_of(t, c).is_some() && !column_privilege(pool, t, c, "SELECT").await? {
                missing.push(format!("no SELECT on {t}.{c}"));
            }
        }
        for t in detail_tables(kind) {
            if columns.iter().any(|(table, _, _)| table == t)
                && !any_column_privilege(pool, t, "SELECT").await?
            {
                missing.push(format!("no SELECT on {t}"));
            }
        }
        missing.dedup();
        let slow: Vec<String> = indexes
            .iter()
            .filter(|f| index_pane(&f.name) == Some(kind) && !(f.present && f.valid))
            .map(|f| {
                let state = if f.present { "INVALID" } else { "missing" };
                format!("slow without {} ({state}): {}", f.name, f.create)
            })
            .collect();
        let readiness = if !missing.is_empty() {
            Readiness::Unavailable(missing)
        } else if !slow.is_empty() {
            Readiness::Degraded(slow)
        } else {
            Readiness::Ready
        };
        panes.push(Line {
            name: kind.title().to_string(),
            readiness,
        });
    }

    // Every action writes its audit row (INSERT … RETURNING id) and the migration history is
    // read before anything runs; a change also checks the admin's role with the row locked
    // (FOR SHARE: UPDATE on some column of users).
    let mut always = Vec::new();
    for (table, column, privilege) in AUDIT_INSERT.iter().chain(&[
        ("audit_logs", Some("id"), "SELECT"),
        ("switchboard.migrations", None, "SELECT"),
    ]) {
        if let Some(problem) = privilege_problem(pool, &columns, table, *column, privilege).await? {
            always.push(problem);
        }
    }
    let lock = privilege_problem(pool, &columns, "users", None, "LOCK").await?;
    let mut actions = Vec::new();
    for (name, needs) in ACTIONS {
        let changes = !READING_ACTIONS.contains(name);
        if changes && read_only {
            actions.push(Line {
                name: name.to_string(),
                readiness: Readiness::NotUsed(vec!["the session is read-only".into()]),
            });
            continue;
        }
        let mut why = always.clone();
        why.extend(lock.clone().filter(|_| changes));
        // Its writes, and reading what it changes (an UPDATE's WHERE, a RETURNING).
        let mut tables: Vec<&str> = needs.iter().map(|(t, _, _)| *t).collect();
        tables.sort();
        tables.dedup();
        let reads = tables.iter().map(|t| (*t, None, "SELECT-ANY"));
        for (table, column, privilege) in needs.iter().copied().chain(reads) {
            if let Some(problem) =
                privilege_problem(pool, &columns, table, column, privilege).await?
            {
                why.push(problem);
            }
        }
        why.dedup();
        let readiness = if why.is_empty() {
            Readiness::Ready
        } else {
            Readiness::Unavailable(why)
        };
        actions.push(Line {
            name: name.to_string(),
            readiness,
        });
    }

    let audit_trail = audit_trail(pool).await?;
    Ok(Report {
        server_version,
        role,
        in_between,
        schema_problems,
        other_tables,
        extensions,
        audit_trail,
        indexes,
        panes,
        actions,
    })
}

/// The tables a pane's detail view reads besides its list's.
fn detail_tables(kind: ListKind) -> &'static [&'static str] {
    match kind {
        ListKind::Users | ListKind::Credits => {
            &["contacts", "calls", "user_sessions", "audit_logs"]
        }
        ListKind::Tenants | ListKind::Agents | ListKind::PhoneNumbers => &["calls", "audit_logs"],
        ListKind::AuditLog => &[],
    }
}

/// Why `privilege` on `table` (or one column) is not there, if it is not: the table or column
/// missing, or the role lacking it. `LOCK` is UPDATE on some column (what FOR SHARE and FOR
/// UPDATE need); `SELECT-ANY` is SELECT on some column.
async fn privilege_problem(
    pool: &PgPool,
    columns: &[(String, String, String)],
    table: &str,
    column: Option<&str>,
    privilege: &str,
) -> Result<Option<String>, DbError> {
    if !columns.iter().any(|(t, _, _)| t == table) {
        return Ok(Some(format!("table {table} is missing")));
    }
    let held = match (column, privilege) {
        (Some(c), _) if !columns.iter().any(|(t, col, _)| t == table && col == c) => {
            return Ok(Some(format!("column {table}.{c} is missing")));
        }
        (Some(c), p) => column_privilege(pool, table, c, p).await?,
        (None, "LOCK") => any_column_privilege(pool, table, "UPDATE").await?,
        (None, "SELECT-ANY") => any_column_privilege(pool, table, "SELECT").await?,
        (None, p) => table_privilege(pool, table, p).await?,
    };
    Ok((!held).then(|| match (column, privilege) {
        (Some(c), p) => format!("no {p} on {table}.{c}"),
        (None, "LOCK") => format!("no UPDATE on any column of {table} (to lock its rows)"),
        (None, "SELECT-ANY") => format!("no SELECT on {table}"),
        (None, p) => format!("no {p} on {table}"),
    }))
}

/// `has_*_privilege` for `table`, false where the role may not even use the table's schema
/// (the functions raise an error there).
async fn privilege(
    pool: &PgPool,
    function: &str,
    table: &str,
    column: Option<&str>,
    privilege: &str,
) -> Result<bool, DbError> {
    let schema = table.split_once('.').map_or("public", |(s, _)| s);
    let call = match column {
        Some(_) => format!("{function}($2::text, $3, $4)"),
        None => format!("{function}($2::text, $4)"),
    };
    Ok(crate::db::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT CASE WHEN has_schema_privilege($1, 'USAGE') THEN {call} ELSE false END"
    )))
    .bind(schema)
    .bind(qualified(table))
    .bind(column.unwrap_or_default())
    .bind(privilege)
    .fetch_one(&mut *crate::db::pinned(pool).await?)
    .await?)
}

async fn any_column_privilege(pool: &PgPool, table: &str, p: &str) -> Result<bool, DbError> {
    privilege(pool, "has_any_column_privilege", table, None, p).await
}

async fn table_privilege(pool: &PgPool, table: &str, p: &str) -> Result<bool, DbError> {
    privilege(pool, "has_table_privilege", table, None, p).await
}

async fn column_privilege(
    pool: &PgPool,
    table: &str,
    column: &str,
    p: &str,
) -> Result<bool, DbError> {
    privilege(pool, "has_column_privilege", table, Some(column), p).await
}

/// A table of the lists above as SQL: the platform's in `public`, the console's with their
/// schema (`switchboard.settings`).
pub(crate) fn qualified(table: &str) -> String {
    match table.split_once('.') {
        Some((schema, name)) => format!("{}.{}", quote_ident(schema), quote_ident(name)),
        None => format!("public.{}", quote_ident(table)),
    }
}
