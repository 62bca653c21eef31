//! The console's list queries: one per pane, each paged by keyset on a unique, indexed ordering
//! (never OFFSET), with a filter language shared by all panes and a bounded row count.
//!
//! Rows come back as typed [`Cell`]s; formatting them for the screen is the UI's job.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Postgres, QueryBuilder, Row};
use uuid::Uuid;

use super::filter::push_filter;
pub use super::filter::{Filter, KnownValues, MAX_FILTER_WORDS, like_pattern};
use super::{DbError, labels};

/// The panes' lists, in tab order. A new pane starts here; the compiler then lists every
/// exhaustive match (queries, filters, columns, titles, query tags) that must handle it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, strum::EnumCount)]
pub enum ListKind {
    Tenants,
    Users,
    Credits,
    Agents,
    PhoneNumbers,
    AuditLog,
}

// Every kind is in `ALL`, at its own index.
const _: () = {
    assert!(ListKind::ALL.len() == <ListKind as strum::EnumCount>::COUNT);
    let mut i = 0;
    while i < ListKind::ALL.len() {
        assert!(ListKind::ALL[i].index() == i);
        i += 1;
    }
};

impl ListKind {
    pub const ALL: [ListKind; 6] = [
        ListKind::Tenants,
        ListKind::Users,
        ListKind::Credits,
        ListKind::Agents,
        ListKind::PhoneNumbers,
        ListKind::AuditLog,
    ];

    /// The pane's name: its tab, its title, and its line in `check`.
    pub const fn title(self) -> &'static str {
        match self {
            ListKind::Tenants => "Tenants",
            ListKind::Users => "Users",
            ListKind::Credits => "Credits",
            ListKind::Agents => "Agents",
            ListKind::PhoneNumbers => "Phone numbers",
            ListKind::AuditLog => "Audit log",
        }
    }

    /// The pane's place in [`ListKind::ALL`] (its tab; key `1` is the first).
    pub const fn index(self) -> usize {
        match self {
            ListKind::Tenants => 0,
            ListKind::Users => 1,
            ListKind::Credits => 2,
            ListKind::Agents => 3,
            ListKind::PhoneNumbers => 4,
            ListKind::AuditLog => 5,
        }
    }

    /// The audit log's `resource_type` for this list's rows.
    pub fn resource_type(self) -> &'static str {
        match self {
            ListKind::Tenants => "tenant",
            ListKind::Users | ListKind::Credits => "user",
            ListKind::Agents => "agent",
            ListKind::PhoneNumbers => "phone_number",
            ListKind::AuditLog => "audit_log",
        }
    }

    /// The `key:` words the pane's filter understands (besides free text).
    pub fn filter_keys(self) -> &'static [&'static str] {
        match self {
            ListKind::Tenants => &["plan", "is"],
            ListKind::Users | ListKind::Credits => &["role", "tenant", "is"],
            ListKind::Agents => &["type", "is"],
            ListKind::PhoneNumbers => &["is"],
            ListKind::AuditLog => &["actor", "action", "type", "id", "since", "until"],
        }
    }

    /// The `is:` values the pane understands.
    pub fn is_values(self) -> &'static [&'static str] {
        match self {
            ListKind::PhoneNumbers => &["unassigned", "assigned", "inactive", "active"],
            ListKind::AuditLog => &[],
            ListKind::Users | ListKind::Credits => &["inactive", "active", "unverified", "admin"],
            ListKind::Tenants | ListKind::Agents => &["inactive", "active"],
        }
    }

    /// The platform's column a filter word of this pane names where its values are a fixed
    /// set (a CHECK constraint of the platform's: a user's role, a tenant's plan, an agent's
    /// type): the values are the constraint's (see [`super::filter::KnownValues`]).
    pub fn filter_column(self, key: &str) -> Option<(&'static str, &'static str)> {
        match (self, key) {
            (ListKind::Users | ListKind::Credits, "role") => Some(("users", "role")),
            (ListKind::Tenants, "plan") => Some(("tenants", "plan")),
            (ListKind::Agents, "type") => Some(("agents", "agent_type")),
            _ => None,
        }
    }
}

/// What every pane's tag starts with: a quitting console cancels its reads by it.
pub const PANE_TAG: &str = "/* switchboard:";

/// The comment every query of a pane starts with, so that the pane's own queries can be told
/// apart in `pg_stat_activity` (and cancelled there) from the other panes'.
pub fn query_tag(kind: ListKind) -> &'static str {
    match kind {
        ListKind::Tenants => "/* switchboard:tenants */ ",
        ListKind::Users => "/* switchboard:users */ ",
        ListKind::Credits => "/* switchboard:credits */ ",
        ListKind::Agents => "/* switchboard:agents */ ",
        ListKind::PhoneNumbers => "/* switchboard:phone_numbers */ ",
        ListKind::AuditLog => "/* switchboard:audit_log */ ",
    }
}

/// A query of pane `kind`, tagged (see [`query_tag`]). `sql` is a constant of this crate.
pub(crate) fn tagged_query(
    kind: ListKind,
    sql: &'static str,
) -> sqlx::query::Query<'static, Postgres, sqlx::postgres::PgArguments> {
    crate::db::query(sqlx::AssertSqlSafe(format!("{}{sql}", query_tag(kind))))
}

/// A typed value of a list cell or a detail field.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    /// Not loaded yet (figures that come after the row, see [`fetch_stats`]).
    Pending,
    Text(String),
    Int(i64),
    Bool(bool),
    Time(DateTime<Utc>),
    Id(Uuid),
    Float(f64),
    Json(Value),
}

/// One position in a keyset ordering.
#[derive(Debug, Clone, PartialEq)]
pub enum KeyValue {
    Text(String),
    Int(i64),
    Time(DateTime<Utc>),
    Id(Uuid),
}

#[derive(Debug, Clone, PartialEq)]
pub struct ListRow {
    pub id: Uuid,
    /// The row's position in its list's ordering (ends with the id).
    pub key: Vec<KeyValue>,
    pub cells: Vec<Cell>,
}

/// Which page to fetch. Pages always come back in display order.
#[derive(Debug, Clone, PartialEq)]
pub enum Page {
    First,
    Last,
    After(Vec<KeyValue>),
    Before(Vec<KeyValue>),
    /// From this row on, at its key as it is now (after a change moved it in the order): the
    /// row first, or the next one when the filter no longer holds it.
    At(Uuid),
}

/// How one list is queried.
struct Spec {
    /// `SELECT … FROM …` without WHERE; the first selected column is the row id.
    select: &'static str,
    /// The ordering columns, most significant first, ending with a unique one.
    order: &'static [&'static str],
    /// The table the ordering columns are of, under the same alias (a row's key is read there).
    table: &'static str,
    descending: bool,
    /// How many cells follow the id (and the key columns, selected as `k0`, `k1`, …).
    cells: usize,
    /// Where a page's rows are found by `select` first and their other columns read for those
    /// rows alone: the outer query, `(%)` standing for the page (aliased as `select`'s table).
    outer: Option<&'static str>,
}

fn spec(kind: ListKind) -> Spec {
    match kind {
        // The per-tenant figures cost as much as the tenant is large (a second for the largest
        // at scale 1), so the page carries placeholders and `fetch_stats` fills them in.
        ListKind::Tenants => Spec {
            select: "SELECT t.id, t.name AS k0, t.id AS k1, \
                     t.name AS name, t.plan AS plan, t.is_active AS is_active, \
                     NULL::int8 AS users, NULL::int8 AS agents, NULL::int8 AS numbers, \
                     NULL::int8 AS credits, NULL::int8 AS calls_30d \
                     FROM tenants t",
            order: &["t.name", "t.id"],
            table: "tenants t",
            descending: false,
            cells: 8,
            outer: None,
        },
        // A search may match ten thousand users: their tenants and last sessions are read for
        // the page's rows only.
        ListKind::Users => Spec {
            select: "SELECT u.id, u.email, u.name, u.tenant_id, u.role, u.is_active, u.credits, \
                     u.email_verified FROM users u",
            order: &["u.email", "u.id"],
            table: "users u",
            descending: false,
            cells: 8,
            outer: Some(
                "SELECT u.id, u.email AS k0, u.id AS k1, \
                 u.email AS email, u.name AS name, t.name AS tenant, u.role AS role, \
                 u.is_active AS is_active, u.credits::int8 AS credits, u.email_verified AS verified, \
                 (SELECT max(s.created_at) FROM user_sessions s WHERE s.user_id = u.id) AS last_session \
                 FROM (%) u JOIN tenants t ON t.id = u.tenant_id",
            ),
        },
        ListKind::Credits => Spec {
            select: "SELECT u.id, u.credits::int8 AS k0, u.id AS k1, \
                     u.email AS email, t.name AS tenant, u.credits::int8 AS balance, usage.used::int8 AS used_30d, \
                     CASE WHEN usage.used > 0 THEN u.credits / (usage.used / 30.0) END::float8 AS days_left \
                     FROM users u JOIN tenants t ON t.id = u.tenant_id \
                     CROSS JOIN LATERAL (SELECT coalesce(sum(c.credits_used), 0) AS used FROM calls c \
                        WHERE c.user_id = u.id AND c.created_at > now() - interval '30 days') usage",
            order: &["u.credits", "u.id"],
            table: "users u",
            descending: false,
            cells: 5,
            outer: None,
        },
        ListKind::Agents => Spec {
            select: "SELECT a.id, a.name AS k0, a.id AS k1, \
                     a.name AS name, u.email AS owner, t.name AS tenant, a.agent_type AS agent_type, \
                     a.is_active AS is_active, s.calls::int8 AS calls, \
                     s.success_rate::float8 AS success_rate \
                     FROM agents a JOIN users u ON u.id = a.user_id JOIN tenants t ON t.id = u.tenant_id \
                     CROSS JOIN LATERAL (SELECT count(*) AS calls, CASE WHEN count(*) = 0 THEN 0 \
                        ELSE round(100.0 * count(*) FILTER (WHERE c.status = 'completed') / count(*), 2) \
                        END AS success_rate FROM calls c WHERE c.agent_id = a.id) s",
            order: &["a.name", "a.id"],
            table: "agents a",
            descending: false,
            cells: 7,
            outer: None,
        },
        ListKind::PhoneNumbers => Spec {
            select: "SELECT p.id, p.phone_number AS k0, p.id AS k1, \
                     p.phone_number AS number, p.name AS name, u.email AS assigned_to, t.name AS tenant, \
                     p.is_active AS is_active, cu.email AS created_by \
                     FROM phone_numbers p \
                     LEFT JOIN users u ON u.id = p.assigned_to_user_id \
                     LEFT JOIN tenants t ON t.id = u.tenant_id \
                     LEFT JOIN users cu ON cu.id = p.created_by_admin_id",
            order: &["p.phone_number", "p.id"],
            table: "phone_numbers p",
            descending: false,
            cells: 6,
            outer: None,
        },
        ListKind::AuditLog => Spec {
            select: "SELECT a.id, a.created_at AS k0, a.id AS k1, \
                     a.created_at AS created_at, coalesce(u.email, '(system)') AS actor, a.action AS action, \
                     a.resource_type AS resource_type, a.resource_id AS resource_id, \
                     NULL::text AS change \
                     FROM audit_logs a LEFT JOIN users u ON u.id = a.user_id",
            order: &["a.created_at", "a.id"],
            table: "audit_logs a",
            descending: true,
            cells: 6,
            outer: None,
        },
    }
}

/// Appends ` AND …` conditions for the filter (the query already has a `WHERE true`).
fn push_key(qb: &mut QueryBuilder<Postgres>, key: &[KeyValue]) {
    qb.push("(");
    for (i, k) in key.iter().enumerate() {
        if i > 0 {
            qb.push(", ");
        }
        match k {
            KeyValue::Text(s) => qb.push_bind(s.clone()),
            KeyValue::Int(n) => qb.push_bind(*n),
            KeyValue::Time(t) => qb.push_bind(*t),
            KeyValue::Id(id) => qb.push_bind(*id),
        };
    }
    qb.push(")");
}

/// The figures of a pane's rows that come after the rows: which cells they fill and the query
/// that reads them (`$1` the row ids; the row id first, then one column per cell, named as the
/// pane's columns are).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LateFigures {
    pub cells: std::ops::Range<usize>,
    /// None where the cells are made here from what a query reads (the audit log's sentences).
    pub sql: Option<&'static str>,
}

/// The late figures of `kind`'s rows, if it has any.
pub fn late_figures(kind: ListKind) -> Option<LateFigures> {
    match kind {
        ListKind::Tenants => Some(LateFigures {
            cells: 3..8,
            sql: Some(TENANT_STATS_SQL),
        }),
        // Each entry as a sentence, its ids by name (see `labels`).
        ListKind::AuditLog => Some(LateFigures {
            cells: 5..6,
            sql: None,
        }),
        ListKind::Users | ListKind::Credits | ListKind::Agents | ListKind::PhoneNumbers => None,
    }
}

/// What the audit log's sentences are made of (the `change` cell is made from these rows and
/// the labels of the ids they hold, see [`labels::sentence`]).
const AUDIT_VALUES_SQL: &str = "SELECT a.id, a.resource_type, a.resource_id, a.old_values, \
     a.new_values, a.user_id FROM audit_logs a WHERE a.id = ANY($1)";

/// The audit entries `ids` as sentences (an entry about its own actor, a sign-in, says only
/// what changed: the Actor column names the account).
async fn audit_changes(pool: &PgPool, ids: &[Uuid]) -> Result<Vec<RowFigures>, DbError> {
    type Entry = (
        Uuid,
        String,
        Option<Uuid>,
        Option<Value>,
        Option<Value>,
        Option<Uuid>,
    );
    let mut conn = crate::db::pinned(pool).await?;
    let rows = tagged_query(ListKind::AuditLog, AUDIT_VALUES_SQL)
        .bind(ids)
        .fetch_all(&mut *conn)
        .await?;
    let entries: Vec<Entry> = rows
        .iter()
        .map(|r| {
            (
                r.try_get(0).unwrap_or_default(),
                r.try_get(1).unwrap_or_default(),
                r.try_get(2).unwrap_or_default(),
                r.try_get(3).unwrap_or_default(),
                r.try_get(4).unwrap_or_default(),
                r.try_get(5).unwrap_or_default(),
            )
        })
        .collect();
    let mut wanted: Vec<Uuid> = entries
        .iter()
        .flat_map(|(_, _, id, old, new, _)| labels::ids_in(*id, old.as_ref(), new.as_ref()))
        .collect();
    wanted.sort_unstable();
    wanted.dedup();
    let names = labels::labels(&mut *conn, &wanted).await?;
    Ok(entries
        .iter()
        .map(|(id, kind, resource, old, new, actor)| {
            let own = resource.is_some() && resource == actor;
            let text = match own {
                true => labels::changes(old.as_ref(), new.as_ref(), &names),
                false => String::new(),
            };
            let text = match text.is_empty() {
                true => labels::sentence(kind, *resource, old.as_ref(), new.as_ref(), &names),
                false => text,
            };
            RowFigures {
                id: *id,
                cells: vec![Cell::Text(text)],
            }
        })
        .collect())
}

/// Which cells of a pane's rows come from [`fetch_stats`], if any.
pub fn stats_cells(kind: ListKind) -> Option<std::ops::Range<usize>> {
    late_figures(kind).map(|l| l.cells)
}

/// The Tenants pane's late figures, named as its columns are (see [`stats_cells`]).
const TENANT_STATS_SQL: &str = "SELECT t.id, \
        (SELECT count(*) FROM users u WHERE u.tenant_id = t.id) AS users, \
        (SELECT count(*) FROM agents a JOIN users u ON u.id = a.user_id WHERE u.tenant_id = t.id) AS agents, \
        (SELECT count(*) FROM phone_numbers p JOIN users u ON u.id = p.assigned_to_user_id \
         WHERE u.tenant_id = t.id) AS numbers, \
        (SELECT coalesce(sum(u.credits), 0)::int8 FROM users u WHERE u.tenant_id = t.id) AS credits, \
        (SELECT count(*) FROM calls c JOIN users u ON u.id = c.user_id \
         WHERE u.tenant_id = t.id AND c.created_at > now() - interval '30 days') AS calls_30d \
     FROM tenants t WHERE t.id = ANY($1)";

/// One row's late figures: the cells [`late_figures`] names, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct RowFigures {
    pub id: Uuid,
    pub cells: Vec<Cell>,
}

/// The figures of rows `ids` of `kind` that come after the rows: for tenants, users, agents,
/// numbers, credits and calls in the last 30 days. In no particular order.
pub async fn fetch_stats(
    pool: &PgPool,
    kind: ListKind,
    ids: &[Uuid],
) -> Result<Vec<RowFigures>, DbError> {
    let Some(late) = late_figures(kind) else {
        return Ok(Vec::new());
    };
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let Some(sql) = late.sql else {
        return audit_changes(pool, ids).await;
    };
    let rows = tagged_query(kind, sql)
        .bind(ids)
        .fetch_all(&mut *crate::db::pinned(pool).await?)
        .await?;
    Ok(rows
        .iter()
        .map(|r| {
            let id: Uuid = r.try_get(0).unwrap_or_default();
            RowFigures {
                id,
                cells: (1..=late.cells.len()).map(|i| cell(r, i)).collect(),
            }
        })
        .collect())
}

/// Turns each audit `actor:` word that names exactly one user (an exact email, or a part of only
/// one email) into that user's id: the page is then read straight from the (user, time) index
/// instead of filtering the whole log through a list of users.
pub async fn resolve_actors(
    pool: &PgPool,
    kind: ListKind,
    filter: &Filter,
) -> Result<Filter, DbError> {
    let mut out = filter.clone();
    if kind != ListKind::AuditLog {
        return Ok(out);
    }
    for (k, v) in &mut out.words {
        if k != "actor" || Uuid::parse_str(v).is_ok() || matches!(v.as_str(), "system" | "(system)")
        {
            continue;
        }
        let exact: Option<Uuid> = crate::db::query_scalar(sqlx::AssertSqlSafe(format!(
            "{}SELECT id FROM users WHERE email = $1",
            query_tag(kind)
        )))
        .bind(v.as_str())
        .fetch_optional(&mut *crate::db::pinned(pool).await?)
        .await?;
        let id = match exact {
            Some(id) => Some(id),
            None => {
                let mut qb: QueryBuilder<Postgres> = QueryBuilder::new(query_tag(kind));
                qb.push("SELECT u.id FROM users u WHERE ");
                super::filter::push_contains(&mut qb, "u.email", v, true);
                qb.push(" LIMIT 2");
                let ids: Vec<Uuid> = qb
                    .build_query_scalar()
                    .persistent(false)
                    .fetch_all(&mut *crate::db::pinned(pool).await?)
                    .await?;
                (ids.len() == 1).then(|| ids[0])
            }
        };
        if let Some(id) = id {
            *v = id.to_string();
        }
    }
    Ok(out)
}

/// Fetches up to `limit` rows of `page`, in display order.
pub async fn fetch_page(
    pool: &PgPool,
    kind: ListKind,
    filter: &Filter,
    page: &Page,
    limit: i64,
) -> Result<Vec<ListRow>, DbError> {
    let filter = &resolve_actors(pool, kind, filter).await?;
    let rows = if bounded(kind, filter) {
        super::bounded::search_rows(pool, |tag| page_query(kind, tag, filter, page, limit)).await?
    } else {
        build_page_query(kind, filter, page, limit)
            .build()
            .persistent(kept_prepared(filter))
            .fetch_all(&mut *crate::db::pinned(pool).await?)
            .await?
    };
    let mut out: Vec<ListRow> = rows.iter().map(|r| decode_row(kind, r)).collect();
    if let Some(range) = stats_cells(kind) {
        for row in &mut out {
            for cell in &mut row.cells[range.clone()] {
                *cell = Cell::Pending;
            }
        }
    }
    if matches!(page, Page::Last | Page::Before(_)) {
        out.reverse();
    }
    Ok(out)
}

/// Whether a pane's statement is kept prepared: not a search, which is planned for its own words
/// (an unnamed statement), since a generic plan cannot tell a word that matches ten users from
/// one that matches a million.
fn kept_prepared(filter: &Filter) -> bool {
    crate::db::pooler::prepared() && filter.text.trim().is_empty()
}

/// Whether a query of `kind` under `filter` is a user search, run within a time budget before a
/// second plan is tried (see [`super::bounded`]).
fn bounded(kind: ListKind, filter: &Filter) -> bool {
    matches!(kind, ListKind::Users | ListKind::Credits) && !filter.text.trim().is_empty()
}

/// The SQL of a page query (public for tests and EXPLAIN).
pub fn build_page_query(
    kind: ListKind,
    filter: &Filter,
    page: &Page,
    limit: i64,
) -> QueryBuilder<Postgres> {
    page_query(kind, "", filter, page, limit)
}

/// [`build_page_query`] with `tag` after the pane's own: the second try of a search marks
/// itself so (see [`super::bounded`]), and `"EXPLAIN "` shows the plan.
pub fn page_query(
    kind: ListKind,
    tag: &str,
    filter: &Filter,
    page: &Page,
    limit: i64,
) -> QueryBuilder<Postgres> {
    let s = spec(kind);
    let mut qb: QueryBuilder<Postgres> = QueryBuilder::new(format!("{}{tag}", query_tag(kind)));
    let outer = s.outer.and_then(|o| o.split_once("(%)"));
    if let Some((head, _)) = outer {
        qb.push(head).push("(");
    }
    qb.push(s.select);
    qb.push(" WHERE true");
    push_filter(&mut qb, kind, filter);
    // Walking backwards flips the ordering; the caller reverses the rows again.
    let backwards = matches!(page, Page::Last | Page::Before(_));
    let forward_op = if s.descending { "<" } else { ">" };
    let backward_op = if s.descending { ">" } else { "<" };
    let cols = format!("({})", s.order.join(", "));
    match page {
        Page::After(key) => {
            qb.push(format!(" AND {cols} {forward_op} "));
            push_key(&mut qb, key);
        }
        Page::Before(key) => {
            qb.push(format!(" AND {cols} {backward_op} "));
            push_key(&mut qb, key);
        }
        Page::At(id) => {
            let id_column = s.order.last().expect("an ordering ends with the id");
            qb.push(format!(
                " AND {cols} {forward_op}= (SELECT {} FROM {} WHERE {id_column} = ",
                s.order.join(", "),
                s.table
            ));
            qb.push_bind(*id).push(")");
        }
        Page::First | Page::Last => {}
    }
    let dir = if s.descending != backwards {
        " DESC"
    } else {
        " ASC"
    };
    let order: Vec<String> = s.order.iter().map(|c| format!("{c}{dir}")).collect();
    qb.push(format!(" ORDER BY {} LIMIT ", order.join(", ")));
    qb.push_bind(limit);
    if let Some((_, tail)) = outer {
        qb.push(")")
            .push(tail)
            .push(format!(" ORDER BY {}", order.join(", ")));
    }
    qb
}

fn decode_row(kind: ListKind, r: &PgRow) -> ListRow {
    let s = spec(kind);
    let id: Uuid = r.try_get(0).unwrap_or_default();
    let key = (1..=s.order.len()).map(|i| key_value(r, i)).collect();
    let first = 1 + s.order.len();
    let cells = (first..first + s.cells).map(|i| cell(r, i)).collect();
    ListRow { id, key, cells }
}

fn key_value(r: &PgRow, i: usize) -> KeyValue {
    if let Ok(v) = r.try_get::<Uuid, _>(i) {
        KeyValue::Id(v)
    } else if let Ok(v) = r.try_get::<DateTime<Utc>, _>(i) {
        KeyValue::Time(v)
    } else if let Ok(v) = r.try_get::<i64, _>(i) {
        KeyValue::Int(v)
    } else {
        KeyValue::Text(r.try_get::<String, _>(i).unwrap_or_default())
    }
}

/// Decodes column `i` by trying the types the list queries select.
pub(crate) fn cell(r: &PgRow, i: usize) -> Cell {
    use sqlx::{TypeInfo, ValueRef};
    let Ok(raw) = r.try_get_raw(i) else {
        return Cell::Null;
    };
    if raw.is_null() {
        return Cell::Null;
    }
    let type_name = raw.type_info().name().to_string();
    match type_name.as_str() {
        "BOOL" => r.try_get(i).map(Cell::Bool),
        "INT8" => r.try_get(i).map(Cell::Int),
        "INT4" => r.try_get::<i32, _>(i).map(|v| Cell::Int(v.into())),
        "INT2" => r.try_get::<i16, _>(i).map(|v| Cell::Int(v.into())),
        "FLOAT8" => r.try_get(i).map(Cell::Float),
        "FLOAT4" => r.try_get::<f32, _>(i).map(|v| Cell::Float(v.into())),
        "UUID" => r.try_get(i).map(Cell::Id),
        "TIMESTAMPTZ" => r.try_get(i).map(Cell::Time),
        "JSONB" | "JSON" => r.try_get(i).map(Cell::Json),
        _ => r.try_get::<String, _>(i).map(Cell::Text),
    }
    .unwrap_or_else(|_| Cell::Text(format!("({type_name})")))
}

/// A row count: exact up to the bound, "more than" beyond it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowCount {
    Exact(i64),
    AtLeast(i64),
}

/// Rows counted before the count gives up: counting a 10-million-row table is not worth it.
pub const COUNT_BOUND: i64 = 10_000;

pub async fn count_rows(
    pool: &PgPool,
    kind: ListKind,
    filter: &Filter,
) -> Result<RowCount, DbError> {
    let filter = &resolve_actors(pool, kind, filter).await?;
    let count_query = |tag: &str| {
        let mut qb: QueryBuilder<Postgres> = QueryBuilder::new(format!("{}{tag}", query_tag(kind)));
        qb.push("SELECT count(*) FROM (");
        qb.push(spec(kind).select);
        qb.push(" WHERE true");
        push_filter(&mut qb, kind, filter);
        qb.push(" LIMIT ")
            .push_bind(COUNT_BOUND + 1)
            .push(") bounded");
        qb
    };
    let n: i64 = if bounded(kind, filter) {
        let rows = super::bounded::search_rows(pool, count_query).await?;
        rows.first().map(|r| r.try_get(0)).transpose()?.unwrap_or(0)
    } else {
        count_query("")
            .build_query_scalar()
            .persistent(kept_prepared(filter))
            .fetch_one(&mut *crate::db::pinned(pool).await?)
            .await?
    };
    Ok(if n > COUNT_BOUND {
        RowCount::AtLeast(COUNT_BOUND)
    } else {
        RowCount::Exact(n)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_panes_tag_starts_with_the_tag_a_quitting_console_cancels() {
        for kind in ListKind::ALL {
            assert!(query_tag(kind).starts_with(PANE_TAG), "{kind:?}");
        }
    }

    #[test]
    fn the_search_keys_are_what_migration_0010_indexes() {
        let sql = crate::db::migrate::MIGRATIONS[9].sql;
        for column in ["email", "name"] {
            let key = super::super::filter::search_key_sql(column);
            assert_eq!(key, format!("translate({column}, ' .@-+_''', '')"));
            assert!(sql.contains(&format!("(({key}) gin_trgm_ops)")), "{column}");
        }
        assert_eq!(
            super::super::filter::search_key("Tariq.Sato's x@y"),
            "TariqSatosxy"
        );
    }

    #[test]
    fn like_metacharacters_are_literal() {
        assert_eq!(like_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
    }

    #[test]
    fn filter_words_and_free_text() {
        let f = Filter::parse(
            ListKind::AuditLog,
            "actor:sam credits since:2026-11-01 12:30",
        )
        .unwrap();
        assert_eq!(f.text, "credits 12:30");
        assert_eq!(
            f.words,
            [
                ("actor".to_string(), "sam".to_string()),
                ("since".to_string(), "2026-11-01".to_string())
            ]
        );
        assert!(Filter::parse(ListKind::AuditLog, "since:yesterday").is_err());
        let many = (0..=MAX_FILTER_WORDS)
            .map(|i| format!("actor:user{i}"))
            .collect::<Vec<_>>()
            .join(" ");
        assert!(
            Filter::parse(ListKind::AuditLog, &many)
                .unwrap_err()
                .contains("too many")
        );
        // Out of range: refused in words, never an overflow.
        assert!(Filter::parse(ListKind::AuditLog, "until:+262142-12-31").is_err());
        assert!(Filter::parse(ListKind::AuditLog, "since:0000-01-01").is_err());
        let last = Filter::parse(ListKind::AuditLog, "until:9999-12-31").unwrap();
        let _ = build_page_query(ListKind::AuditLog, &last, &Page::First, 10);
        assert!(Filter::parse(ListKind::AuditLog, "id:nope").is_err());
        assert!(Filter::parse(ListKind::PhoneNumbers, "is:purple").is_err());
        assert!(Filter::parse(ListKind::PhoneNumbers, "is:unassigned").is_ok());
        assert!(Filter::parse(ListKind::Users, "role:").is_err());
        // A value outside the pane's fixed set is said, with the set; any case is the value.
        assert_eq!(
            Filter::parse(ListKind::Users, "role:admn").unwrap_err(),
            "`role:admn` is not known here; try role:user, role:admin, role:super_admin"
        );
        assert!(Filter::parse(ListKind::Credits, "role:Admin").is_ok());
        assert!(Filter::parse(ListKind::Tenants, "plan:gold").is_err());
        assert!(Filter::parse(ListKind::Tenants, "plan:PRO").is_ok());
        assert!(Filter::parse(ListKind::Agents, "type:voice").is_err());
        // The audit log's `type:` is a resource type: any value is a question.
        assert!(Filter::parse(ListKind::AuditLog, "type:voice").is_ok());
        // A word of letters then `:` that the pane does not know is said, not searched for.
        assert_eq!(
            Filter::parse(ListKind::Tenants, "foo:bar").unwrap_err(),
            "`foo:` is not a filter word here; try plan: is:"
        );
        assert!(Filter::parse(ListKind::Users, "action:credits").is_err());
        // An empty range of days is said too; the same day both ways is that day.
        assert_eq!(
            Filter::parse(ListKind::AuditLog, "since:2026-11-01 until:2026-10-01").unwrap_err(),
            "until:2026-10-01 is before since:2026-11-01: no entry can match"
        );
        assert!(Filter::parse(ListKind::AuditLog, "since:2026-11-01 until:2026-11-01").is_ok());
    }

    #[test]
    fn pages_use_keyset_conditions_never_offset() {
        let key = vec![KeyValue::Text("m".into()), KeyValue::Id(Uuid::nil())];
        for page in [
            Page::First,
            Page::Last,
            Page::After(key.clone()),
            Page::Before(key),
        ] {
            for kind in ListKind::ALL {
                let sql = build_page_query(kind, &Filter::default(), &page, 50)
                    .into_sql()
                    .as_str()
                    .to_string();
                assert!(!sql.to_uppercase().contains("OFFSET"), "{sql}");
                assert!(sql.contains("ORDER BY"), "{sql}");
            }
        }
        let sql = build_page_query(
            ListKind::AuditLog,
            &Filter::default(),
            &Page::After(vec![KeyValue::Time(Utc::now()), KeyValue::Id(Uuid::nil())]),
            50,
        )
        .into_sql()
        .as_str()
        .to_string();
        assert!(sql.contains("(a.created_at, a.id) < ($1, $2)"), "{sql}");
        assert!(
            sql.contains("ORDER BY a.created_at DESC, a.id DESC"),
            "{sql}"
        );
    }
}
