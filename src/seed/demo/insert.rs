//! Writing the demo data: chunked multi-row INSERTs in the caller's transaction, then the
//! analytics tables computed from the calls.

use sqlx::{Postgres, QueryBuilder, Transaction};
use uuid::Uuid;

use crate::db::DbError;

use super::rows::*;

/// Rows per INSERT statement, well under PostgreSQL's 65,535 bind parameters.
pub(super) const CHUNK: usize = 200;

pub(super) async fn insert_rows<T>(
    tx: &mut Transaction<'_, Postgres>,
    head: &str,
    rows: &[T],
    mut bind: impl FnMut(sqlx::query_builder::Separated<'_, Postgres, &'static str>, &T),
) -> Result<(), DbError> {
    for chunk in rows.chunks(CHUNK) {
        let mut qb: QueryBuilder<Postgres> = QueryBuilder::new(head);
        qb.push_values(chunk, &mut bind);
        qb.build()
            .persistent(crate::db::pooler::prepared())
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

pub(super) async fn insert(
    tx: &mut Transaction<'_, Postgres>,
    d: &DemoData,
) -> Result<(), DbError> {
    insert_rows(
        tx,
        "INSERT INTO tenants (id, name, plan, metadata, created_at, updated_at) ",
        &d.tenants,
        |mut b, t| {
            b.push_bind(t.id)
                .push_bind(t.name.clone())
                .push_bind(t.plan.clone())
                .push_bind(t.metadata.clone())
                .push_bind(t.created_at)
                .push_bind(t.created_at);
        },
    )
    .await?;
    insert_rows(tx, "INSERT INTO users (id, tenant_id, email, name, credits, is_active, auth_provider, \
        stack_auth_user_id, email_verified, email_verification_sent_at, role, password_hash, company, \
        website, location, bio, phone, created_at, updated_at) ", &d.users, |mut b, u| {
        b.push_bind(u.id).push_bind(u.tenant_id).push_bind(u.email.clone()).push_bind(u.name.clone())
            .push_bind(u.credits).push_bind(u.is_active).push_bind(u.auth_provider)
            .push_bind(u.stack_auth_user_id.clone()).push_bind(u.email_verified)
            .push_bind(u.email_verification_sent_at).push_bind(u.role).push_bind(u.password_hash.clone())
            .push_bind(u.company.clone()).push_bind(u.website.clone()).push_bind(u.location.clone())
            .push_bind(u.bio.clone()).push_bind(u.phone.clone()).push_bind(u.created_at).push_bind(u.updated_at);
    }).await?;
    insert_rows(
        tx,
        "INSERT INTO agents (id, user_id, bolna_agent_id, name, description, agent_type, \
        is_active, bolna_webhook_url, bolna_voice_config, bolna_llm_config, bolna_task_config, \
        created_at, updated_at) ",
        &d.agents,
        |mut b, a| {
            b.push_bind(a.id)
                .push_bind(a.user_id)
                .push_bind(a.bolna_agent_id.clone())
                .push_bind(a.name.clone())
                .push_bind(a.description.clone())
                .push_bind(a.agent_type)
                .push_bind(a.is_active)
                .push_bind(a.webhook_url.clone())
                .push_bind(a.voice_config.clone())
                .push_bind(a.llm_config.clone())
                .push_bind(a.task_config.clone())
                .push_bind(a.created_at)
                .push_bind(a.updated_at);
        },
    )
    .await?;
    // Contacts first without the call that created them: calls reference contacts and back.
    insert_rows(tx, "INSERT INTO contacts (id, user_id, name, phone_number, email, company, notes, \
        is_customer, is_auto_created, auto_creation_source, not_connected, created_at, updated_at) ",
        &d.contacts, |mut b, c| {
        b.push_bind(c.id).push_bind(c.user_id).push_bind(c.name.clone()).push_bind(c.phone_number.clone())
            .push_bind(c.email.clone()).push_bind(c.company.clone()).push_bind(c.notes.clone())
            .push_bind(c.is_customer).push_bind(c.is_auto_created).push_bind(c.auto_creation_source)
            .push_bind(c.not_connected).push_bind(c.created_at).push_bind(c.created_at);
    }).await?;
    insert_rows(
        tx,
        "INSERT INTO calls (id, agent_id, user_id, contact_id, bolna_conversation_id, \
        bolna_execution_id, phone_number, call_source, caller_name, caller_email, lead_type, \
        duration_minutes, duration_seconds, credits_used, status, recording_url, metadata, \
        created_at, updated_at, completed_at) ",
        &d.calls,
        |mut b, c| {
            b.push_bind(c.id)
                .push_bind(c.agent_id)
                .push_bind(c.user_id)
                .push_bind(c.contact_id)
                .push_bind(c.conversation_id.clone())
                .push_bind(c.execution_id.clone())
                .push_bind(c.phone_number.clone())
                .push_bind(c.call_source)
                .push_bind(c.caller_name.clone())
                .push_bind(c.caller_email.clone())
                .push_bind(c.lead_type)
                .push_bind(c.duration_minutes())
                .push_bind(c.duration_seconds)
                .push_bind(c.credits_used)
                .push_bind(c.status)
                .push_bind(c.recording_url.clone())
                .push_bind(c.metadata.clone())
                .push_bind(c.created_at)
                .push_bind(c.completed_at.unwrap_or(c.created_at))
                .push_bind(c.completed_at);
        },
    )
    .await?;
    let auto: Vec<(Uuid, Uuid)> = d
        .contacts
        .iter()
        .filter_map(|c| Some((c.id, c.auto_created_from_call_id?)))
        .collect();
    let (contact_ids, call_ids): (Vec<Uuid>, Vec<Uuid>) = auto.into_iter().unzip();
    crate::db::query(
        "UPDATE contacts c SET auto_created_from_call_id = v.call_id \
         FROM unnest($1::uuid[], $2::uuid[]) AS v(contact_id, call_id) WHERE c.id = v.contact_id",
    )
    .bind(&contact_ids)
    .bind(&call_ids)
    .execute(&mut **tx)
    .await?;
    insert_rows(
        tx,
        "INSERT INTO transcripts (id, call_id, user_id, content, speaker_segments, \
        analysis_status, created_at, updated_at) ",
        &d.transcripts,
        |mut b, t| {
            b.push_bind(t.id)
                .push_bind(t.call_id)
                .push_bind(t.user_id)
                .push_bind(t.content.clone())
                .push_bind(t.speaker_segments.clone())
                .push_bind(t.analysis_status)
                .push_bind(t.created_at)
                .push_bind(t.created_at);
        },
    )
    .await?;
    insert_rows(
        tx,
        "INSERT INTO lead_analytics (id, call_id, user_id, intent_score, sentiment_score, \
        lead_qualification, key_topics, next_steps, summary, total_score, is_read, created_at, \
        updated_at) ",
        &d.lead_analytics,
        |mut b, l| {
            b.push_bind(l.id)
                .push_bind(l.call_id)
                .push_bind(l.user_id)
                .push_bind(l.intent_centi)
                .push_unseparated(" / 100.0")
                .push_bind(l.sentiment_centi)
                .push_unseparated(" / 100.0")
                .push_bind(l.qualification)
                .push_bind(l.key_topics.clone())
                .push_bind(l.next_steps.clone())
                .push_bind(l.summary.clone())
                .push_bind(l.total_score_centi)
                .push_unseparated(" / 100.0")
                .push_bind(l.is_read)
                .push_bind(l.created_at)
                .push_bind(l.created_at);
        },
    )
    .await?;
    insert_rows(
        tx,
        "INSERT INTO phone_numbers (id, name, phone_number, bolna_phone_number_id, \
        assigned_to_user_id, created_by_admin_id, is_active, created_at, updated_at) ",
        &d.phone_numbers,
        |mut b, n| {
            b.push_bind(n.id)
                .push_bind(n.name.clone())
                .push_bind(n.phone_number.clone())
                .push_bind(n.bolna_phone_number_id.clone())
                .push_bind(n.assigned_to_user_id)
                .push_bind(n.created_by_admin_id)
                .push_bind(n.is_active)
                .push_bind(n.created_at)
                .push_bind(n.created_at);
        },
    )
    .await?;
    insert_rows(
        tx,
        "INSERT INTO user_sessions (id, user_id, session_token, refresh_token, expires_at, \
        refresh_expires_at, user_agent, ip_address, created_at, updated_at) ",
        &d.sessions,
        |mut b, s| {
            b.push_bind(s.id)
                .push_bind(s.user_id)
                .push_bind(s.session_token.clone())
                .push_bind(s.refresh_token.clone())
                .push_bind(s.expires_at)
                .push_bind(s.refresh_expires_at)
                .push_bind(s.user_agent.clone())
                .push_bind(s.ip_address.clone())
                .push_unseparated("::inet")
                .push_bind(s.created_at)
                .push_bind(s.created_at);
        },
    )
    .await?;
    insert_rows(
        tx,
        "INSERT INTO audit_logs (id, user_id, action, resource_type, resource_id, \
        old_values, new_values, ip_address, user_agent, created_at) ",
        &d.audit_logs,
        |mut b, e| {
            b.push_bind(e.id)
                .push_bind(e.user_id)
                .push_bind(e.action)
                .push_bind(e.resource_type)
                .push_bind(e.resource_id)
                .push_bind(e.old_values.clone())
                .push_bind(e.new_values.clone())
                .push_bind(e.ip_address.clone())
                .push_unseparated("::inet")
                .push_bind(e.user_agent.clone())
                .push_bind(e.created_at);
        },
    )
    .await?;
    insert_rows(
        tx,
        "INSERT INTO twilio_processed_calls (id, twilio_call_sid, phone_number, \
        call_status, processed_at, user_id, contact_id) ",
        &d.twilio_calls,
        |mut b, t| {
            b.push_bind(t.id)
                .push_bind(t.sid.clone())
                .push_bind(t.phone_number.clone())
                .push_bind(t.call_status)
                .push_bind(t.processed_at)
                .push_bind(t.user_id)
                .push_bind(t.contact_id);
        },
    )
    .await?;
    // The analytics tables are pre-aggregated from the calls, the way the platform's jobs do it.
    crate::db::query(AGENT_ANALYTICS_SQL)
        .execute(&mut **tx)
        .await?;
    crate::db::query(USER_ANALYTICS_SQL)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub(super) const AGENT_ANALYTICS_SQL: &str = "
INSERT INTO agent_analytics (agent_id, user_id, date, total_calls, completed_calls, failed_calls,
    total_duration_minutes, total_credits_used, success_rate, avg_call_duration, hot_leads,
    warm_leads, cold_leads, avg_total_score)
SELECT c.agent_id, c.user_id, c.created_at::date,
       count(*), count(*) FILTER (WHERE c.status = 'completed'),
       count(*) FILTER (WHERE c.status = 'failed'),
       sum(c.duration_minutes), sum(c.credits_used),
       round(100.0 * count(*) FILTER (WHERE c.status = 'completed') / count(*), 2),
       round(avg(c.duration_seconds) / 60.0, 2),
       count(*) FILTER (WHERE la.lead_qualification = 'hot'),
       count(*) FILTER (WHERE la.lead_qualification = 'warm'),
       count(*) FILTER (WHERE la.lead_qualification = 'cold'),
       round(avg(la.total_score), 2)
FROM calls c
LEFT JOIN lead_analytics la ON la.call_id = c.id
GROUP BY c.agent_id, c.user_id, c.created_at::date";

pub(super) const USER_ANALYTICS_SQL: &str = "
INSERT INTO user_analytics (user_id, date, total_calls, completed_calls, failed_calls, total_agents,
    active_agents, total_contacts, total_credits_used, success_rate, avg_call_duration)
SELECT c.user_id, c.created_at::date,
       count(*), count(*) FILTER (WHERE c.status = 'completed'),
       count(*) FILTER (WHERE c.status = 'failed'),
       (SELECT count(*) FROM agents a WHERE a.user_id = c.user_id),
       (SELECT count(*) FROM agents a WHERE a.user_id = c.user_id AND a.is_active),
       (SELECT count(*) FROM contacts ct WHERE ct.user_id = c.user_id),
       sum(c.credits_used),
       round(100.0 * count(*) FILTER (WHERE c.status = 'completed') / count(*), 2),
       round(avg(c.duration_seconds) / 60.0, 2)
FROM calls c
GROUP BY c.user_id, c.created_at::date";
