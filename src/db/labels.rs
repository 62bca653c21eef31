//! Audit entries as people read them: the ids an entry holds resolved, when it is shown, to
//! what they name now (a user's email, a tenant's name, a number, an agent's name), and the
//! entry put as one sentence. The stored rows keep their ids; the console's list, its detail
//! view, the export's `change` column and the outcome of an action all read through here.

use std::collections::HashMap;

use serde_json::Value;
use uuid::Uuid;

use super::DbError;

/// What each id names now.
pub type Labels = HashMap<Uuid, String>;

/// The ids an entry refers to: its resource and every id among its values (one level deep).
pub fn ids_in(resource_id: Option<Uuid>, old: Option<&Value>, new: Option<&Value>) -> Vec<Uuid> {
    let mut ids: Vec<Uuid> = resource_id.into_iter().collect();
    for values in [old, new].into_iter().flatten() {
        if let Some(o) = values.as_object() {
            ids.extend(
                o.values()
                    .filter_map(Value::as_str)
                    .filter_map(|s| Uuid::parse_str(s).ok()),
            );
        }
    }
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// The SQL that names ids: users by email, tenants by name, numbers by number, agents by name.
const NAMED_SQL: &str = "SELECT id, 'user' AS what, email::text AS label FROM users WHERE id = ANY($1) \
     UNION ALL SELECT id, 'tenant', name::text FROM tenants WHERE id = ANY($1) \
     UNION ALL SELECT id, 'phone number', phone_number::text FROM phone_numbers WHERE id = ANY($1) \
     UNION ALL SELECT id, 'agent', name::text FROM agents WHERE id = ANY($1)";

async fn lookup<'e, E: sqlx::PgExecutor<'e>>(
    executor: E,
    ids: &[Uuid],
) -> Result<Vec<(Uuid, String, String)>, DbError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<(Uuid, String, Option<String>)> = crate::db::query_as(NAMED_SQL)
        .bind(ids)
        .fetch_all(executor)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, what, label)| label.map(|l| (id, what, l)))
        .collect())
}

/// What `ids` name now, in their order: (id, what it is, its name). Ids that name nothing are
/// left out.
pub async fn name_ids<'e, E: sqlx::PgExecutor<'e>>(
    executor: E,
    ids: &[Uuid],
) -> Result<Vec<(Uuid, String, String)>, DbError> {
    let mut found = lookup(executor, ids).await?;
    // Sorted here: `array_position` in SQL is a walk of the array for every row found.
    let mut position: HashMap<Uuid, usize> = HashMap::with_capacity(ids.len());
    for (i, id) in ids.iter().enumerate() {
        position.entry(*id).or_insert(i);
    }
    found.sort_by_key(|(id, _, _)| position.get(id).copied().unwrap_or(usize::MAX));
    Ok(found)
}

/// What `ids` name now (ids that name nothing are left out).
pub async fn labels<'e, E: sqlx::PgExecutor<'e>>(
    executor: E,
    ids: &[Uuid],
) -> Result<Labels, DbError> {
    Ok(lookup(executor, ids)
        .await?
        .into_iter()
        .map(|(id, _, label)| (id, label))
        .collect())
}

/// The first eight digits of an id that names nothing the console can find.
fn short(id: Uuid) -> String {
    let s = id.to_string();
    format!("{}…", &s[..8])
}

/// An id as a person reads it.
fn named(id: Uuid, labels: &Labels) -> String {
    labels.get(&id).cloned().unwrap_or_else(|| short(id))
}

/// A value as a person reads it: ids by name, numbers with thousands, yes/no, none.
fn show(v: &Value, labels: &Labels) -> String {
    match v {
        Value::Null => "none".into(),
        Value::Bool(b) => if *b { "yes" } else { "no" }.into(),
        Value::Number(n) => match n.as_i64() {
            Some(i) => crate::numbers::thousands(i),
            None => n.to_string(),
        },
        Value::String(s) if s.is_empty() => "\"\"".into(),
        Value::String(s) => match Uuid::parse_str(s) {
            Ok(id) => named(id, labels),
            Err(_) => s.clone(),
        },
        // An object (an import's counts per table) as words: `legacy 31,004, new 28,308`.
        Value::Object(m) if !m.is_empty() => {
            let entries: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{k} {}", show(v, labels)))
                .collect();
            format!("({})", entries.join(", "))
        }
        other => other.to_string(),
    }
}

fn is_id(v: Option<&Value>) -> bool {
    v.and_then(Value::as_str)
        .is_some_and(|s| Uuid::parse_str(s).is_ok())
}

/// A column name as a person reads it: `assigned_to_user_id` holding an id is "assigned to",
/// `tenant_id` "tenant", `is_active` "active".
fn field_name(key: &str, holds_id: bool) -> String {
    let mut k = key;
    if holds_id {
        k = k
            .strip_suffix("_user_id")
            .or_else(|| k.strip_suffix("_id"))
            .unwrap_or(k);
    }
    k = k.strip_prefix("is_").unwrap_or(k);
    k.replace('_', " ")
}

/// An entry as one sentence: what it is about, then each value old → new (or the value alone
/// where the entry has no old one), ids by name.
pub fn sentence(
    resource_type: &str,
    resource_id: Option<Uuid>,
    old: Option<&Value>,
    new: Option<&Value>,
    labels: &Labels,
) -> String {
    let changes = changes(old, new, labels);
    let about = about(resource_type, resource_id, labels);
    if changes.is_empty() {
        about
    } else {
        format!("{about}: {changes}")
    }
}

/// What an entry is about: its resource by name.
fn about(resource_type: &str, resource_id: Option<Uuid>, labels: &Labels) -> String {
    match resource_id {
        Some(id) => match labels.get(&id) {
            Some(label) => label.clone(),
            None => format!("{} {}", resource_type.replace('_', " "), short(id)),
        },
        None => resource_type.replace('_', " "),
    }
}

/// An entry's values as a list of changes, ids by name (empty when it holds none).
pub fn changes(old: Option<&Value>, new: Option<&Value>, labels: &Labels) -> String {
    let empty = serde_json::Map::new();
    let old = old.and_then(Value::as_object).unwrap_or(&empty);
    let new = new.and_then(Value::as_object).unwrap_or(&empty);
    let mut parts = Vec::new();
    for (k, v) in new {
        // Sessions are listed by the revoke's entry; their ids say nothing to a reader.
        if k == "session_ids" {
            continue;
        }
        let name = field_name(k, is_id(Some(v)) || is_id(old.get(k)));
        parts.push(match old.get(k) {
            Some(was) => format!("{name} {} → {}", show(was, labels), show(v, labels)),
            None => format!("{name} {}", show(v, labels)),
        });
    }
    for (k, was) in old
        .iter()
        .filter(|(k, _)| !new.contains_key(*k) && k.as_str() != "session_ids")
    {
        let name = field_name(k, is_id(Some(was)));
        parts.push(format!("{name} was {}", show(was, labels)));
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// An object among the values (an import's counts per table) reads as words in the
    /// sentence, nested in brackets, numbers as the console writes them.
    #[test]
    fn an_object_in_the_values_reads_as_words() {
        let new = json!({"counts": {"calls": {"legacy": 1000216, "new": 996172}, "none": {}},
                         "dry_run": false});
        assert_eq!(
            changes(None, Some(&new), &Labels::new()),
            "counts (calls (legacy 1,000,216, new 996,172), none {}), dry run no"
        );
    }

    #[test]
    fn an_assignment_reads_with_the_number_and_the_email() {
        let number = Uuid::from_u128(1);
        let user = Uuid::from_u128(2);
        let labels: Labels = [
            (number, "+12125550142".to_string()),
            (user, "leila@lumen.example".to_string()),
        ]
        .into();
        let old = json!({"assigned_to_user_id": null});
        let new = json!({"assigned_to_user_id": user});
        assert_eq!(
            ids_in(Some(number), Some(&old), Some(&new)),
            vec![number, user]
        );
        assert_eq!(
            sentence(
                "phone_number",
                Some(number),
                Some(&old),
                Some(&new),
                &labels
            ),
            "+12125550142: assigned to none → leila@lumen.example"
        );
    }

    #[test]
    fn credits_reasons_flags_and_unknown_ids() {
        let user = Uuid::from_u128(3);
        let gone = Uuid::from_u128(4);
        let labels: Labels = [(user, "a@b.test".to_string())].into();
        let s = sentence(
            "user",
            Some(user),
            Some(&json!({"credits": 1500})),
            Some(&json!({"credits": 11500, "reason": "refund"})),
            &labels,
        );
        assert_eq!(s, "a@b.test: credits 1,500 → 11,500, reason refund");
        let s = sentence(
            "user",
            Some(gone),
            Some(&json!({"is_active": true, "tenant_id": gone})),
            Some(&json!({"is_active": false})),
            &labels,
        );
        assert_eq!(s, "user 00000000…: active yes → no, tenant was 00000000…");
        assert_eq!(sentence("settings", None, None, None, &labels), "settings");
    }
}
