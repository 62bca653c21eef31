//! The filter language all panes share: free text plus `key:value` words the pane knows,
//! parsed into typed words (values always bound), and turned into conditions of a pane's query.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use sqlx::{Postgres, QueryBuilder};
use uuid::Uuid;

use super::DbError;
use super::lists::ListKind;

/// The values the platform's CHECK constraints allow for the columns filter words name
/// ([`ListKind::filter_column`]): those of the database the console is connected to, read at
/// sign-in ([`KnownValues::load`]), so that a platform that widened a set (a new plan) can
/// filter by its new values, and a column whose constraints list no values (none, or
/// another kind: `plan <> 'x'`) takes any value. Until then, and
/// where the catalog cannot be read, the sets of the platform's schema as documented.
#[derive(Debug, Clone, PartialEq)]
pub struct KnownValues {
    /// (table, column) → its values; a column missing here takes any value.
    sets: Vec<((&'static str, &'static str), Vec<String>)>,
}

/// The columns whose CHECK lists are read ((table, column), the names
/// [`ListKind::filter_column`] gives), with their values in the platform's schema as documented.
const CHECKED_COLUMNS: [((&str, &str), &[&str]); 3] = [
    (("users", "role"), &["user", "admin", "super_admin"]),
    (
        ("tenants", "plan"),
        &["system", "free", "starter", "pro", "enterprise"],
    ),
    (("agents", "agent_type"), &["call", "chat"]),
];

impl Default for KnownValues {
    fn default() -> Self {
        KnownValues {
            sets: CHECKED_COLUMNS
                .iter()
                .map(|(column, values)| (*column, values.iter().map(|v| v.to_string()).collect()))
                .collect(),
        }
    }
}

impl KnownValues {
    /// The values filter word `key` of pane `kind` may take, where they are a fixed set:
    /// `is:` words, and the columns of [`ListKind::filter_column`] with a CHECK constraint.
    pub fn values(&self, kind: ListKind, key: &str) -> Option<Vec<&str>> {
        if key == "is" {
            return Some(kind.is_values().to_vec());
        }
        let column = kind.filter_column(key)?;
        self.sets
            .iter()
            .find(|(c, _)| *c == column)
            .map(|(_, values)| values.iter().map(String::as_str).collect())
    }

    /// The plans a tenant may be given here (not the system tenant's own): the database's list
    /// when its CHECK constraint has one, else the documented plans.
    pub fn plans(&self) -> Vec<String> {
        self.plan_set()
            .or_else(|| KnownValues::default().plan_set())
            .unwrap_or_default()
    }

    /// The plans the database's CHECK constraint lists (not `system`), if it lists them.
    pub fn plan_set(&self) -> Option<Vec<String>> {
        let values = self.values(ListKind::Tenants, "plan")?;
        Some(
            values
                .into_iter()
                .filter(|p| *p != "system")
                .map(str::to_string)
                .collect(),
        )
    }

    /// The sets of the connected database: for each column of [`ListKind::filter_column`],
    /// the values of a one-column CHECK constraint that lists them (`role IN ('user', …)`), or
    /// no set where the table has no such constraint.
    pub async fn load<'e, E>(executor: E) -> Result<KnownValues, DbError>
    where
        E: sqlx::PgExecutor<'e>,
    {
        let tables: Vec<&str> = CHECKED_COLUMNS.iter().map(|((t, _), _)| *t).collect();
        let rows: Vec<(String, String, String)> = crate::db::query_as(
            "SELECT r.relname::text, a.attname::text, pg_get_constraintdef(c.oid) \
             FROM pg_constraint c \
             JOIN pg_class r ON r.oid = c.conrelid \
             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] \
             WHERE c.contype = 'c' AND cardinality(c.conkey) = 1 \
               AND c.conrelid IN (SELECT to_regclass(t) FROM unnest($1::text[]) t) \
             ORDER BY c.conname",
        )
        .bind(tables)
        .fetch_all(executor)
        .await?;
        let sets = CHECKED_COLUMNS
            .into_iter()
            .filter_map(|(column, _)| {
                rows.iter()
                    .filter(|(t, c, _)| (t.as_str(), c.as_str()) == column)
                    .find_map(|(_, _, definition)| allowed_values(definition, column.1))
                    .map(|values| (column, values))
            })
            .collect();
        Ok(KnownValues { sets })
    }
}

/// The values a constraint allows its column, where it is a list of them and nothing else
/// (`role IN ('user', …)`, which `pg_get_constraintdef` prints as `((role)::text = ANY
/// ((ARRAY['user'::character varying, …])::text[]))`); `'it''s'` is `it's`. Any other
/// constraint (`plan <> 'legacy'`, a pattern, `NOT (plan IN …)`, `lower(plan) IN …`, a list
/// joined to another condition) is no set: None.
fn allowed_values(definition: &str, column: &str) -> Option<Vec<String>> {
    // The definition's shape: each literal one mark, casts, brackets and spaces left out.
    const LITERAL: char = '\u{1}';
    let mut shape = String::new();
    let mut values: Vec<String> = Vec::new();
    let mut chars = definition.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                let mut value = String::new();
                while let Some(c) = chars.next() {
                    match c {
                        '\'' if chars.peek() == Some(&'\'') => {
                            chars.next();
                            value.push('\'');
                        }
                        '\'' => break,
                        c => value.push(c),
                    }
                }
                shape.push(LITERAL);
                if !values.contains(&value) {
                    values.push(value);
                }
            }
            // A cast: `::text`, `::character varying`, `::text[]`.
            ':' if chars.peek() == Some(&':') => {
                chars.next();
                while let Some(&c) = chars.peek() {
                    if c.is_alphanumeric() || c == '_' || c == ' ' {
                        chars.next();
                    } else if c == '[' {
                        chars.next();
                        if chars.peek() == Some(&']') {
                            chars.next();
                        } else {
                            shape.push('[');
                            break;
                        }
                    } else {
                        break;
                    }
                }
            }
            '(' | ')' => {}
            c if c.is_whitespace() => {}
            c => shape.extend(c.to_lowercase()),
        }
    }
    let list = shape.strip_prefix("check")?;
    let (named, list) = list.split_once("=anyarray[")?;
    let list = list.strip_suffix(']')?;
    let column = column.to_lowercase();
    let the_column = named == column || named == format!("\"{column}\"");
    let only_literals = list.split(',').all(|l| l == LITERAL.to_string());
    (the_column && only_literals && !values.is_empty()).then_some(values)
}

/// The most words a filter takes: each `key:value` word is a condition of the query (an
/// `actor:` word a lookup of its own), so their number bounds the query's cost.
pub const MAX_FILTER_WORDS: usize = 12;

/// A parsed filter: free text plus `key:value` words.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    pub text: String,
    pub words: Vec<(String, String)>,
}

impl Filter {
    /// Splits `input` into `key:value` words the pane knows and free text, with the values of
    /// the platform's schema as documented (see [`Filter::parse_known`]).
    pub fn parse(kind: ListKind, input: &str) -> Result<Filter, String> {
        Filter::parse_known(kind, input, &KnownValues::default())
    }

    /// Splits `input` into `key:value` words the pane knows and free text; a word whose values
    /// are a fixed set (`known`) must be one of them. Unknown keys stay in the free text, so
    /// `a:b` can still be searched for.
    pub fn parse_known(kind: ListKind, input: &str, known: &KnownValues) -> Result<Filter, String> {
        let mut text = Vec::new();
        let mut words = Vec::new();
        let tokens = input.split_whitespace().count();
        if tokens > MAX_FILTER_WORDS {
            return Err(format!(
                "{tokens} words is too many for a filter; at most {MAX_FILTER_WORDS}"
            ));
        }
        for token in input.split_whitespace() {
            match token.split_once(':') {
                Some((k, v)) if kind.filter_keys().contains(&k.to_lowercase().as_str()) => {
                    let k = k.to_lowercase();
                    if v.is_empty() {
                        return Err(format!("`{k}:` needs a value"));
                    }
                    // A value of a fixed set, in any case, is the set's own (as the rows hold it).
                    let mut value = v.to_string();
                    if let Some(values) = known.values(kind, &k) {
                        match values.iter().find(|s| s.to_lowercase() == v.to_lowercase()) {
                            Some(own) => value = own.to_string(),
                            None => {
                                return Err(format!(
                                    "`{k}:{v}` is not known here; try {}",
                                    values
                                        .iter()
                                        .map(|s| format!("{k}:{s}"))
                                        .collect::<Vec<_>>()
                                        .join(", ")
                                ));
                            }
                        }
                    }
                    match k.as_str() {
                        "id" if Uuid::parse_str(v).is_err() => {
                            return Err(format!("`id:{v}` is not a UUID"));
                        }
                        "since" | "until" if parse_day(v).is_none() => {
                            return Err(format!(
                                "`{k}:{v}` is not a date (YYYY-MM-DD, years 1 to 9999)"
                            ));
                        }
                        _ => {}
                    }
                    words.push((k, value));
                }
                // A word of letters then `:` is meant as a key: one this pane does not know is
                // said, not searched for as text (which would find nothing, silently).
                Some((k, _)) if !k.is_empty() && k.chars().all(|c| c.is_ascii_alphabetic()) => {
                    return Err(format!(
                        "`{k}:` is not a filter word here; try {}",
                        kind.filter_keys()
                            .iter()
                            .map(|k| format!("{k}:"))
                            .collect::<Vec<_>>()
                            .join(" ")
                    ));
                }
                _ => text.push(token),
            }
        }
        let filter = Filter {
            text: text.join(" "),
            words,
        };
        // Every `since:` and `until:` holds: the latest since, the earliest until.
        let since = filter.get("since").filter_map(parse_day).max();
        let until = filter.get("until").filter_map(parse_day).min();
        if let (Some(since), Some(until)) = (since, until)
            && until < since
        {
            return Err(format!(
                "until:{} is before since:{}: no entry can match",
                until.format("%Y-%m-%d"),
                since.format("%Y-%m-%d")
            ));
        }
        Ok(filter)
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty() && self.words.is_empty()
    }

    /// The filter as the pane's filter line would say it (for records of what was used).
    pub fn to_text(&self) -> String {
        let mut parts: Vec<String> = self.words.iter().map(|(k, v)| format!("{k}:{v}")).collect();
        if !self.text.is_empty() {
            parts.push(self.text.clone());
        }
        parts.join(" ")
    }

    fn get(&self, key: &str) -> impl Iterator<Item = &str> {
        self.words
            .iter()
            .filter(move |(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// A day of the years 1 to 9999 (what PostgreSQL's and chrono's arithmetic handle without
/// overflow), as midnight UTC.
fn parse_day(s: &str) -> Option<DateTime<Utc>> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .filter(|d| (1..=9999).contains(&d.year()))
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

/// `%`, `_` and `\` in user input are literal characters, not LIKE wildcards.
pub fn like_pattern(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// What user search treats as punctuation between words: an email's or a name's search key is
/// the text without them (migration 0010 indexes `translate(column, ' .@-+_''', '')`), so that
/// "tariq.sato" and "tariq sato" find the same users, and the trigrams across a join ("iqs",
/// "qsa") narrow a search of two common words to the users that have both. A term without
/// punctuation is also checked as written (the key of "Juan Antonio" holds "ana").
pub const SEARCH_SEPARATORS: &str = " .@-+_'";

/// `text` as the search keys hold it: without [`SEARCH_SEPARATORS`].
pub fn search_key(text: &str) -> String {
    text.chars()
        .filter(|c| !SEARCH_SEPARATORS.contains(*c))
        .collect()
}

/// The search key of `column` (`u.email` or `u.name`), as the indexes of migration 0010 have it
/// (the SQL must be theirs, character for character, for the planner to use them).
pub(crate) fn search_key_sql(column: &str) -> String {
    let separators = SEARCH_SEPARATORS.replace('\'', "''");
    format!("translate({column}, '{separators}', '')")
}

/// `(…)` that `column` (`u.email` or `u.name`) contains `text`, any case, through its search
/// key's index (when `text` has more than punctuation). Checked as written too when `exact`, or
/// when `text` has no punctuation (the key of "Juan Antonio" holds "ana"); otherwise a term with
/// punctuation between its words matches whatever punctuation, or none, the value has there.
pub(crate) fn push_contains(
    qb: &mut QueryBuilder<Postgres>,
    column: &str,
    text: &str,
    exact: bool,
) {
    let key = search_key(text);
    qb.push("(");
    // The check as written first: a row it fails costs no translate().
    if exact || key.is_empty() || key == text {
        qb.push(column)
            .push(" ILIKE ")
            .push_bind(like_pattern(text));
        if !key.is_empty() {
            qb.push(" AND ");
        }
    }
    if !key.is_empty() {
        qb.push(search_key_sql(column))
            .push(" ILIKE ")
            .push_bind(like_pattern(&key));
    }
    qb.push(")");
}

pub(crate) fn push_filter(qb: &mut QueryBuilder<Postgres>, kind: ListKind, f: &Filter) {
    let text = f.text.trim();
    let exact_id = Uuid::parse_str(text).ok();
    let pattern = like_pattern(text);
    match kind {
        ListKind::Tenants => {
            if !text.is_empty() {
                qb.push(" AND (t.name ILIKE ")
                    .push_bind(pattern)
                    .push(" OR t.id = ");
                qb.push_bind(exact_id).push(")");
            }
            for plan in f.get("plan") {
                qb.push(" AND t.plan = ").push_bind(plan.to_string());
            }
            push_is(qb, f, "t.is_active");
        }
        ListKind::Users | ListKind::Credits => {
            if !text.is_empty() {
                // Email and name through their search keys; company and phone as written.
                qb.push(" AND (");
                push_contains(qb, "u.email", text, false);
                qb.push(" OR ");
                push_contains(qb, "u.name", text, false);
                qb.push(" OR u.company ILIKE ").push_bind(pattern.clone());
                qb.push(" OR u.phone ILIKE ").push_bind(pattern);
                qb.push(" OR u.id = ").push_bind(exact_id).push(")");
            }
            for role in f.get("role") {
                qb.push(" AND u.role = ").push_bind(role.to_string());
            }
            for tenant in f.get("tenant") {
                // The Users pane joins its tenants after the page is found: by id here.
                qb.push(" AND u.tenant_id IN (SELECT t.id FROM tenants t WHERE t.name ILIKE ")
                    .push_bind(like_pattern(tenant));
                qb.push(" OR t.id::text = ")
                    .push_bind(tenant.to_lowercase())
                    .push(")");
            }
            for v in f.get("is") {
                match v.to_lowercase().as_str() {
                    "unverified" => {
                        qb.push(" AND NOT u.email_verified");
                    }
                    "admin" => {
                        qb.push(" AND u.role IN ('admin', 'super_admin')");
                    }
                    _ => {}
                }
            }
            push_is(qb, f, "u.is_active");
        }
        ListKind::Agents => {
            if !text.is_empty() {
                qb.push(" AND (a.name ILIKE ").push_bind(pattern.clone());
                qb.push(" OR u.email ILIKE ").push_bind(pattern.clone());
                qb.push(" OR a.bolna_agent_id ILIKE ").push_bind(pattern);
                qb.push(" OR a.id = ").push_bind(exact_id).push(")");
            }
            for t in f.get("type") {
                qb.push(" AND a.agent_type = ").push_bind(t.to_string());
            }
            push_is(qb, f, "a.is_active");
        }
        ListKind::PhoneNumbers => {
            if !text.is_empty() {
                qb.push(" AND (p.phone_number ILIKE ")
                    .push_bind(pattern.clone());
                qb.push(" OR p.name ILIKE ").push_bind(pattern.clone());
                qb.push(" OR u.email ILIKE ").push_bind(pattern);
                qb.push(" OR p.id = ").push_bind(exact_id).push(")");
            }
            for v in f.get("is") {
                match v.to_lowercase().as_str() {
                    "unassigned" => {
                        qb.push(" AND p.assigned_to_user_id IS NULL");
                    }
                    "assigned" => {
                        qb.push(" AND p.assigned_to_user_id IS NOT NULL");
                    }
                    _ => {}
                }
            }
            push_is(qb, f, "p.is_active");
        }
        ListKind::AuditLog => {
            if !text.is_empty() {
                qb.push(" AND (a.action ILIKE ").push_bind(pattern.clone());
                qb.push(" OR a.resource_type ILIKE ").push_bind(pattern);
                qb.push(" OR a.resource_id = ")
                    .push_bind(exact_id)
                    .push(")");
            }
            for actor in f.get("actor") {
                match actor {
                    "system" | "(system)" => {
                        qb.push(" AND a.user_id IS NULL");
                    }
                    _ => match Uuid::parse_str(actor) {
                        Ok(id) => {
                            qb.push(" AND a.user_id = ").push_bind(id);
                        }
                        Err(_) => {
                            qb.push(" AND a.user_id IN (SELECT u.id FROM users u WHERE ");
                            push_contains(qb, "u.email", actor, true);
                            qb.push(")");
                        }
                    },
                }
            }
            for action in f.get("action") {
                // `credits`, `credits.` or `credits.*` match every credits action; otherwise
                // exact (`credits.top_up`).
                let dotted;
                let prefix = match action.trim_end_matches('*') {
                    p if !p.contains('.') && !p.is_empty() => {
                        dotted = format!("{p}.");
                        dotted.as_str()
                    }
                    p => p,
                };
                if prefix.ends_with('.') || action.ends_with('*') {
                    qb.push(" AND a.action LIKE ")
                        .push_bind(format!("{}%", like_pattern(prefix).trim_matches('%')));
                } else {
                    qb.push(" AND a.action = ").push_bind(action.to_string());
                }
            }
            for t in f.get("type") {
                qb.push(" AND a.resource_type = ").push_bind(t.to_string());
            }
            for id in f.get("id").filter_map(|v| Uuid::parse_str(v).ok()) {
                qb.push(" AND a.resource_id = ").push_bind(id);
            }
            for since in f.get("since").filter_map(parse_day) {
                qb.push(" AND a.created_at >= ").push_bind(since);
            }
            for until in f.get("until").filter_map(parse_day) {
                // Inclusive of the whole day (checked: the last day has no next one).
                match until.checked_add_signed(chrono::Duration::days(1)) {
                    Some(next) => qb.push(" AND a.created_at < ").push_bind(next),
                    None => qb.push(" AND a.created_at <= ").push_bind(until),
                };
            }
        }
    }
}

fn push_is(qb: &mut QueryBuilder<Postgres>, f: &Filter, column: &'static str) {
    for v in f.get("is") {
        match v.to_lowercase().as_str() {
            "inactive" => {
                qb.push(" AND NOT ").push(column);
            }
            "active" => {
                qb.push(" AND ").push(column);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_constraint_is_a_set_only_when_it_lists_the_values_and_nothing_else() {
        assert_eq!(
            allowed_values(
                "CHECK (((plan)::text = ANY ((ARRAY['system'::character varying, \
                 'Pro'::character varying, 'it''s'::character varying])::text[])))",
                "plan"
            )
            .unwrap(),
            ["system", "Pro", "it's"]
        );
        assert_eq!(
            allowed_values(
                "CHECK ((role = ANY (ARRAY['user'::text, 'admin'::text, 'user'::text])))",
                "role"
            )
            .unwrap(),
            ["user", "admin"]
        );
        for other in [
            "CHECK ((credits >= 0))",
            "CHECK (((plan)::text <> 'legacy'::text))",
            "CHECK (((plan)::text ~ '^[a-z_]+$'::text))",
            "CHECK ((((plan)::text = ANY ((ARRAY['free'::character varying])::text[])) \
             OR ((plan)::text = 'x'::text)))",
            "CHECK (((plan)::text = ANY ((ARRAY['free'::character varying, \
             (upper('x'::text))::character varying])::text[])))",
            "CHECK ((NOT ((plan)::text = ANY ((ARRAY['legacy'::character varying])::text[]))))",
            "CHECK ((lower((plan)::text) = ANY (ARRAY['free'::text, 'pro'::text])))",
            "CHECK (((name)::text = ANY ((ARRAY['free'::character varying])::text[])))",
        ] {
            assert_eq!(allowed_values(other, "plan"), None, "{other}");
        }
    }
}
