//! Deterministic, realistic demo data with the proportions of schema-mapping-guide.md: 6 tenants
//! plus the system tenant, 39 users, 23 agents, 5 phone numbers, 742 calls over the last 90 days
//! with transcripts and lead analytics, 63 contacts, sessions and a few hundred audit entries.
//!
//! [`DemoData::generate`] is a pure function of a fixed RNG seed and the anchor time `now`;
//! [`seed_demo`] writes it in one transaction and refuses a database that already has users.

mod audit;
mod generate;
mod insert;
mod names;
mod rows;

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

pub use rows::*;

use audit::audit_logs;
use generate::*;

use crate::db::DbError;

/// The fixed seed: the same `now` always gives the same data.
pub const DEMO_SEED: u64 = 0x5717_c4b0_a2d0_0001;
/// The demo admins' password. Demo only: documented in the README.
pub const DEMO_PASSWORD: &str = "demo-password";
pub const DEMO_SUPER_ADMIN: &str = "super@demo.test";
pub const DEMO_SUPPORT_ADMIN: &str = "support@demo.test";

impl DemoData {
    /// The demo data for the anchor time `now`.
    pub fn generate(now: DateTime<Utc>) -> DemoData {
        let mut g = Gen::new(now);
        let tenants = tenants(&mut g);
        let users = users(&mut g, &tenants);
        let agents = agents(&mut g, &users);
        let mut contacts = contacts(&mut g, &agents);
        let calls = calls(&mut g, &agents, &mut contacts);
        let (transcripts, lead_analytics) = call_analysis(&mut g, &calls);
        let phone_numbers = phone_numbers(&mut g, &users);
        let mut sessions = sessions(&mut g, &users);
        let twilio_calls = twilio_calls(&mut g, &calls);
        let audit_logs = audit_logs(&mut g, &users, &agents, &phone_numbers, &mut sessions);
        // A row's last change is the last one on record; an agent's temperature is the one its
        // last update set.
        let last_change = |kind: &str, id: Uuid, since: DateTime<Utc>| {
            audit_logs
                .iter()
                .filter(|e| e.resource_type == kind && e.resource_id == Some(id))
                .filter(|e| e.action != "user.sign_in")
                .map(|e| e.created_at)
                .fold(since, DateTime::max)
        };
        let mut agents = agents;
        for a in &mut agents {
            a.updated_at = last_change("agent", a.id, a.created_at);
            if let Some(last) = audit_logs
                .iter()
                .rfind(|e| e.action == "agent.update" && e.resource_id == Some(a.id))
                .and_then(|e| e.new_values.as_ref())
            {
                a.llm_config["temperature"] = last["bolna_llm_config"]["temperature"].clone();
            }
        }
        let mut users = users;
        for u in &mut users {
            u.updated_at = last_change("user", u.id, u.created_at);
        }
        DemoData {
            tenants,
            users,
            agents,
            contacts,
            calls,
            transcripts,
            lead_analytics,
            phone_numbers,
            sessions,
            audit_logs,
            twilio_calls,
        }
    }

    pub fn summary(&self) -> DemoSummary {
        DemoSummary {
            tenants: self.tenants.len() + 1, // and the system tenant the migrations create
            users: self.users.len(),
            agents: self.agents.len(),
            phone_numbers: self.phone_numbers.len(),
            calls: self.calls.len(),
            contacts: self.contacts.len(),
            audit_logs: self.audit_logs.len(),
        }
    }
}

/// The private cluster's first-start seed: the demo data, unless the database was filled first.
pub fn seed_first_start(
    pool: &PgPool,
) -> futures_util::future::BoxFuture<'_, Result<bool, DbError>> {
    Box::pin(async move {
        match seed_demo(pool, chrono::Utc::now()).await {
            Ok(_) => Ok(true),
            // Another process loaded it first, or someone filled the database by hand.
            Err(DbError::Refused(why)) => {
                tracing::info!("demo data not loaded: {why}");
                Ok(false)
            }
            Err(e) => Err(e),
        }
    })
}

/// Loads the demo data in one transaction. Refuses a database that already has users or
/// tenants of its own, so it can never mix demo rows into real data.
pub async fn seed_demo(pool: &PgPool, now: DateTime<Utc>) -> Result<DemoSummary, DbError> {
    let mut tx = crate::db::begin(pool).await?;
    crate::seed::require_empty(&mut tx, "the demo data").await?;
    let data = tokio::task::spawn_blocking(move || DemoData::generate(now))
        .await
        .map_err(|e| DbError::Refused(format!("generating the demo data failed: {e}")))?;
    insert::insert(&mut tx, &data).await?;
    // The rows the console wrote in the story get their links, oldest first (the others are the
    // platform's own: outside the chain).
    crate::db::chain::link_existing(
        &mut tx,
        crate::db::chain::Existing::ConsoleRows,
        &mut |_| {},
    )
    .await?;
    tx.commit().await?;
    Ok(data.summary())
}
#[cfg(test)]
mod tests {
    use super::names::*;
    use super::*;
    use chrono::Duration;
    use uuid::Uuid;

    fn anchor() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-22T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn same_anchor_same_data() {
        assert_eq!(DemoData::generate(anchor()), DemoData::generate(anchor()));
    }

    #[test]
    fn proportions_of_the_mapping_guide() {
        let d = DemoData::generate(anchor());
        let s = d.summary();
        assert_eq!(
            (
                s.tenants,
                s.users,
                s.agents,
                s.phone_numbers,
                s.calls,
                s.contacts
            ),
            (7, 39, 23, 5, 742, 63)
        );
        assert!((200..=600).contains(&s.audit_logs), "{}", s.audit_logs);
        let per_tenant: Vec<usize> = TENANTS
            .iter()
            .map(|t| {
                let id = Uuid::parse_str(t.id).unwrap();
                d.users.iter().filter(|u| u.tenant_id == id).count()
            })
            .collect();
        assert_eq!(per_tenant, [14, 6, 1, 1, 1, 2]);
    }

    #[test]
    fn calls_are_within_the_last_90_days_and_belong_to_their_agents_owner() {
        let d = DemoData::generate(anchor());
        for c in &d.calls {
            assert!(c.created_at <= anchor() && c.created_at > anchor() - Duration::days(90));
            let agent = d.agents.iter().find(|a| a.id == c.agent_id).unwrap();
            assert_eq!(agent.user_id, c.user_id);
        }
    }

    #[test]
    fn demo_admins_have_argon2id_hashes_of_the_demo_password() {
        let d = DemoData::generate(anchor());
        for email in [DEMO_SUPER_ADMIN, DEMO_SUPPORT_ADMIN] {
            let u = d.users.iter().find(|u| u.email == email).unwrap();
            let hash = u.password_hash.as_deref().unwrap();
            assert!(hash.starts_with("$argon2id$"), "{hash}");
            assert!(crate::password::verify_password(DEMO_PASSWORD, hash));
        }
        let roles: Vec<&str> = d.users.iter().map(|u| u.role).collect();
        assert_eq!(roles.iter().filter(|r| **r == "super_admin").count(), 1);
        assert_eq!(roles.iter().filter(|r| **r == "admin").count(), 1);
    }

    #[test]
    fn emails_are_unique() {
        let d = DemoData::generate(anchor());
        let mut emails: Vec<&str> = d.users.iter().map(|u| u.email.as_str()).collect();
        emails.sort();
        emails.dedup();
        assert_eq!(emails.len(), d.users.len());
    }
}
