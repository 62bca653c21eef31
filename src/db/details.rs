//! Detail views: one record with everything the console shows about it. Never a password hash
//! (it is not selected) nor a session token (only a masked tail leaves the database).

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Row};
use uuid::Uuid;

use super::lists::{Cell, ListKind, cell, query_tag, tagged_query};
use super::{DbError, labels};

#[derive(Debug, Clone, PartialEq)]
pub enum Section {
    Table {
        title: String,
        header: Vec<&'static str>,
        rows: Vec<Vec<Cell>>,
    },
    Json {
        title: String,
        value: Value,
    },
    /// One value per day, oldest first.
    Series {
        title: String,
        first_day: NaiveDate,
        values: Vec<u64>,
    },
    /// An audit entry's old and new values.
    Diff {
        old: Option<Value>,
        new: Option<Value>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Detail {
    pub kind: ListKind,
    pub id: Uuid,
    pub title: String,
    pub fields: Vec<(&'static str, Cell)>,
    pub sections: Vec<Section>,
    /// Where `Enter` leads: an audit entry's resource.
    pub jump: Option<(ListKind, Uuid)>,
}

/// The pane that shows records of an audit `resource_type`.
pub fn pane_of_resource(resource_type: &str) -> Option<ListKind> {
    // Named, not searched for in the tab order: a user's record is in Users, not Credits, and
    // entries about the audit log itself (exports) lead nowhere.
    match resource_type {
        "tenant" => Some(ListKind::Tenants),
        "user" => Some(ListKind::Users),
        "agent" => Some(ListKind::Agents),
        "phone_number" => Some(ListKind::PhoneNumbers),
        _ => None,
    }
}

fn fields(row: &PgRow, names: &[&'static str]) -> Vec<(&'static str, Cell)> {
    names
        .iter()
        .enumerate()
        .map(|(i, n)| (*n, cell(row, i)))
        .collect()
}

async fn table(
    pool: &PgPool,
    kind: ListKind,
    title: &str,
    header: Vec<&'static str>,
    sql: &'static str,
    id: Uuid,
) -> Result<Section, DbError> {
    let rows = tagged_query(kind, sql)
        .bind(id)
        .fetch_all(&mut *crate::db::pinned(pool).await?)
        .await?;
    Ok(Section::Table {
        title: title.to_string(),
        rows: rows
            .iter()
            .map(|r| (0..header.len()).map(|i| cell(r, i)).collect())
            .collect(),
        header,
    })
}

/// Daily values for the last 30 days from a query returning (day, value) rows.
async fn series(
    pool: &PgPool,
    kind: ListKind,
    title: &str,
    sql: &'static str,
    id: Uuid,
) -> Result<Section, DbError> {
    let today = Utc::now().date_naive();
    let first_day = today - chrono::Duration::days(29);
    let rows: Vec<(NaiveDate, i64)> =
        crate::db::query_as(sqlx::AssertSqlSafe(format!("{}{sql}", query_tag(kind))))
            .bind(id)
            .fetch_all(&mut *crate::db::pinned(pool).await?)
            .await?;
    let mut values = vec![0u64; 30];
    for (day, v) in rows {
        if let Ok(i) = usize::try_from((day - first_day).num_days())
            && i < values.len()
        {
            values[i] = v.max(0) as u64;
        }
    }
    Ok(Section::Series {
        title: title.to_string(),
        first_day,
        values,
    })
}

const HISTORY_SQL: &str = "SELECT a.created_at, coalesce(u.email, '(system)'), a.action \
     FROM audit_logs a LEFT JOIN users u ON u.id = a.user_id \
     WHERE a.resource_id = $1 ORDER BY a.created_at DESC, a.id DESC LIMIT 20";

async fn history(pool: &PgPool, kind: ListKind, id: Uuid) -> Result<Section, DbError> {
    table(
        pool,
        kind,
        "Audit history (newest 20; h for all)",
        vec!["time", "actor", "action"],
        HISTORY_SQL,
        id,
    )
    .await
}

pub async fn load_detail(pool: &PgPool, kind: ListKind, id: Uuid) -> Result<Detail, DbError> {
    let not_found = || DbError::Refused(format!("that record no longer exists ({id})"));
    let mut detail = Detail {
        kind,
        id,
        title: String::new(),
        fields: Vec::new(),
        sections: Vec::new(),
        jump: None,
    };
    match kind {
        ListKind::Tenants => {
            let row = tagged_query(kind,
                "SELECT id, name, plan, is_active, created_at, updated_at, metadata FROM tenants WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(&mut *crate::db::pinned(pool).await?)
            .await?
            .ok_or_else(not_found)?;
            detail.title = format!("Tenant {}", row.try_get::<String, _>(1).unwrap_or_default());
            detail.fields = fields(
                &row,
                &["id", "name", "plan", "active", "created", "updated"],
            );
            detail.sections.push(Section::Json {
                title: "Metadata".into(),
                value: row.try_get(6).unwrap_or(Value::Null),
            });
            detail.sections.push(
                series(pool, kind, "Calls per day, last 30 days",
                    "SELECT c.created_at::date, count(*) FROM calls c JOIN users u ON u.id = c.user_id \
                     WHERE u.tenant_id = $1 AND c.created_at > now() - interval '30 days' GROUP BY 1",
                    id).await?,
            );
            detail.sections.push(
                table(
                    pool,
                    kind,
                    "Users (first 100 by email)",
                    vec!["email", "name", "role", "active", "credits"],
                    "SELECT email, name, role, is_active, credits FROM users WHERE tenant_id = $1 \
                     ORDER BY email LIMIT 100",
                    id,
                )
                .await?,
            );
            detail.sections.push(history(pool, kind, id).await?);
        }
        ListKind::Users | ListKind::Credits => {
            let row = tagged_query(kind,
                "SELECT u.id, u.email, u.name, t.name, u.tenant_id, u.role, u.is_active, u.credits, \
                        u.auth_provider, u.stack_auth_user_id, u.email_verified, \
                        u.email_verification_sent_at, u.password_hash IS NOT NULL, u.company, u.website, \
                        u.location, u.bio, u.phone, u.created_at, u.updated_at, \
                        (SELECT count(*) FROM contacts c WHERE c.user_id = u.id), \
                        (SELECT coalesce(sum(c.credits_used), 0)::int8 FROM calls c \
                         WHERE c.user_id = u.id AND c.created_at > now() - interval '30 days') \
                 FROM users u JOIN tenants t ON t.id = u.tenant_id WHERE u.id = $1",
            )
            .bind(id)
            .fetch_optional(&mut *crate::db::pinned(pool).await?)
            .await?
            .ok_or_else(not_found)?;
            detail.title = format!("User {}", row.try_get::<String, _>(1).unwrap_or_default());
            detail.fields = fields(
                &row,
                &[
                    "id",
                    "email",
                    "name",
                    "tenant",
                    "tenant id",
                    "role",
                    "active",
                    "credits",
                    "auth provider",
                    "stack auth id",
                    "email verified",
                    "verification sent",
                    "password set",
                    "company",
                    "website",
                    "location",
                    "bio",
                    "phone",
                    "created",
                    "updated",
                    "contacts",
                    "credits used (30 d)",
                ],
            );
            if kind == ListKind::Credits {
                detail.title = format!(
                    "Credits of {}",
                    row.try_get::<String, _>(1).unwrap_or_default()
                );
                detail.sections.push(
                    series(
                        pool,
                        kind,
                        "Credits used per day, last 30 days",
                        "SELECT created_at::date, sum(credits_used)::int8 FROM calls \
                         WHERE user_id = $1 AND created_at > now() - interval '30 days' GROUP BY 1",
                        id,
                    )
                    .await?,
                );
                detail.sections.push(
                    table(pool, kind, "Credit adjustments (newest 50)",
                        vec!["time", "by", "action", "old", "new", "reason"],
                        "SELECT a.created_at, coalesce(u.email, '(system)'), a.action, \
                                a.old_values->>'credits', a.new_values->>'credits', a.new_values->>'reason' \
                         FROM audit_logs a LEFT JOIN users u ON u.id = a.user_id \
                         WHERE a.resource_id = $1 AND a.action LIKE 'credits.%' \
                         ORDER BY a.created_at DESC, a.id DESC LIMIT 50", id).await?,
                );
            } else {
                detail.sections.push(
                    table(
                        pool,
                        kind,
                        "Agents",
                        vec!["name", "type", "active", "bolna id"],
                        "SELECT name, agent_type, is_active, bolna_agent_id FROM agents \
                         WHERE user_id = $1 ORDER BY name, id",
                        id,
                    )
                    .await?,
                );
                detail.sections.push(
                    table(
                        pool,
                        kind,
                        "Phone numbers",
                        vec!["number", "name", "active"],
                        "SELECT phone_number, name, is_active FROM phone_numbers \
                         WHERE assigned_to_user_id = $1 ORDER BY phone_number",
                        id,
                    )
                    .await?,
                );
                detail.sections.push(
                    table(pool, kind, "Recent calls (newest 10)",
                        vec!["time", "agent", "status", "seconds", "credits", "number"],
                        "SELECT c.created_at, a.name, c.status, c.duration_seconds, c.credits_used, c.phone_number \
                         FROM calls c JOIN agents a ON a.id = c.agent_id WHERE c.user_id = $1 \
                         ORDER BY c.created_at DESC LIMIT 10", id).await?,
                );
                detail.sections.push(
                    // Never a session token, nor a part of one.
                    table(
                        pool,
                        kind,
                        "Active sessions",
                        vec!["created", "expires", "ip", "user agent"],
                        "SELECT created_at, expires_at, host(ip_address), user_agent \
                         FROM user_sessions WHERE user_id = $1 AND expires_at > now() \
                         ORDER BY created_at DESC",
                        id,
                    )
                    .await?,
                );
                detail.sections.push(history(pool, kind, id).await?);
            }
        }
        ListKind::Agents => {
            let row = tagged_query(kind,
                "SELECT a.id, a.name, u.email, t.name, a.bolna_agent_id, a.agent_type, a.is_active, \
                        a.bolna_webhook_url, a.description, a.created_at, a.updated_at, \
                        s.calls, s.success_rate, \
                        a.bolna_voice_config, a.bolna_llm_config, a.bolna_task_config \
                 FROM agents a JOIN users u ON u.id = a.user_id JOIN tenants t ON t.id = u.tenant_id \
                 CROSS JOIN LATERAL (SELECT count(*) AS calls, CASE WHEN count(*) > 0 \
                    THEN to_char(100.0 * count(*) FILTER (WHERE c.status = 'completed') / count(*), \
                                 'FM990.0') || '%' \
                    END AS success_rate FROM calls c WHERE c.agent_id = a.id) s \
                 WHERE a.id = $1",
            )
            .bind(id)
            .fetch_optional(&mut *crate::db::pinned(pool).await?)
            .await?
            .ok_or_else(not_found)?;
            detail.title = format!("Agent {}", row.try_get::<String, _>(1).unwrap_or_default());
            detail.fields = fields(
                &row,
                &[
                    "id",
                    "name",
                    "owner",
                    "tenant",
                    "bolna agent id",
                    "type",
                    "active",
                    "webhook",
                    "description",
                    "created",
                    "updated",
                    "calls",
                    "success rate",
                ],
            );
            for (i, title) in [
                (13, "Voice config"),
                (14, "LLM config"),
                (15, "Task config"),
            ] {
                detail.sections.push(Section::Json {
                    title: title.into(),
                    value: row
                        .try_get::<Option<Value>, _>(i)
                        .ok()
                        .flatten()
                        .unwrap_or(Value::Null),
                });
            }
            detail.sections.push(history(pool, kind, id).await?);
        }
        ListKind::PhoneNumbers => {
            let row = tagged_query(
                kind,
                "SELECT p.id, p.phone_number, p.name, p.bolna_phone_number_id, u.email, t.name, \
                        p.is_active, cu.email, p.created_at, p.updated_at \
                 FROM phone_numbers p LEFT JOIN users u ON u.id = p.assigned_to_user_id \
                 LEFT JOIN tenants t ON t.id = u.tenant_id \
                 LEFT JOIN users cu ON cu.id = p.created_by_admin_id WHERE p.id = $1",
            )
            .bind(id)
            .fetch_optional(&mut *crate::db::pinned(pool).await?)
            .await?
            .ok_or_else(not_found)?;
            detail.title = format!("Number {}", row.try_get::<String, _>(1).unwrap_or_default());
            detail.fields = fields(
                &row,
                &[
                    "id",
                    "number",
                    "name",
                    "bolna number id",
                    "assigned to",
                    "tenant",
                    "active",
                    "created by",
                    "created",
                    "updated",
                ],
            );
            detail.sections.push(history(pool, kind, id).await?);
        }
        ListKind::AuditLog => {
            let row = tagged_query(kind,
                "SELECT a.id, a.created_at, coalesce(u.email, '(system)'), a.action, a.resource_type, \
                        a.resource_id, host(a.ip_address), a.user_agent, a.old_values, a.new_values \
                 FROM audit_logs a LEFT JOIN users u ON u.id = a.user_id WHERE a.id = $1",
            )
            .bind(id)
            .fetch_optional(&mut *crate::db::pinned(pool).await?)
            .await?
            .ok_or_else(not_found)?;
            let action: String = row.try_get(3).unwrap_or_default();
            let at: DateTime<Utc> = row.try_get(1).unwrap_or_default();
            detail.title = format!("Audit {action} at {}", at.format("%Y-%m-%d %H:%M:%S UTC"));
            detail.fields = fields(
                &row,
                &[
                    "id",
                    "time",
                    "actor",
                    "action",
                    "resource type",
                    "resource id",
                    "ip",
                    "user agent",
                ],
            );
            let old: Option<Value> = row.try_get(8).unwrap_or(None);
            let new: Option<Value> = row.try_get(9).unwrap_or(None);
            let value_ids: Vec<Uuid> = [&old, &new]
                .into_iter()
                .flatten()
                .filter_map(Value::as_object)
                .flat_map(|o| o.values())
                .filter_map(Value::as_str)
                .filter_map(|s| Uuid::parse_str(s).ok())
                .collect();
            let resource_type: String = row.try_get(4).unwrap_or_default();
            let resource_id: Option<Uuid> = row.try_get(5).unwrap_or(None);
            // One query names the resource and every id in the values (the stored row is
            // unchanged): the resource field, the sentence and the table below read it.
            let mut wanted = value_ids.clone();
            wanted.extend(resource_id.filter(|r| !value_ids.contains(r)));
            let named = labels::name_ids(&mut *crate::db::pinned(pool).await?, &wanted).await?;
            let names: labels::Labels = named
                .iter()
                .map(|(id, _, label)| (*id, label.clone()))
                .collect();
            let resource = resource_id
                .and_then(|r| names.get(&r))
                .map_or(Cell::Null, |l| Cell::Text(l.clone()));
            detail.fields.push(("resource", resource));
            detail.fields.push((
                "change",
                Cell::Text(labels::sentence(
                    &resource_type,
                    resource_id,
                    old.as_ref(),
                    new.as_ref(),
                    &names,
                )),
            ));
            detail.sections.push(Section::Diff { old, new });
            if !value_ids.is_empty() {
                detail.sections.push(Section::Table {
                    title: "The ids above, by name".to_string(),
                    header: vec!["id", "is", "name"],
                    rows: named
                        .into_iter()
                        .filter(|(id, _, _)| value_ids.contains(id))
                        .map(|(id, what, label)| {
                            vec![Cell::Id(id), Cell::Text(what), Cell::Text(label)]
                        })
                        .collect(),
                });
            }
            detail.jump = pane_of_resource(&resource_type).zip(resource_id);
        }
    }
    Ok(detail)
}
