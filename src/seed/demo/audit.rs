//! The demo audit log: a few weeks of sign-ins, credit changes, assignments and the other admin
//! actions, as the console would have written them.

use chrono::{DateTime, Duration, Utc};
use rand::RngExt;
use serde_json::{Value, json};
use uuid::Uuid;

use super::generate::*;
use super::names::*;
use super::rows::*;

/// The audit log of the story. The platform's sessions are signed into on record: each
/// session's sign-in is an entry, and a session of a user deactivated since is moved to before
/// that (as its entry is).
pub(super) fn audit_logs(
    g: &mut Gen,
    users: &[User],
    agents: &[Agent],
    numbers: &[PhoneNumber],
    sessions: &mut [SessionRow],
) -> Vec<AuditEntry> {
    let super_admin = &users[0];
    let support = &users[1];
    let console_agent = format!("switchboard/{} (dana@bastion-1)", env!("CARGO_PKG_VERSION"));
    let support_agent = format!("switchboard/{} (sam@bastion-1)", env!("CARGO_PKG_VERSION"));
    let mut log = Vec::new();
    let mut push = |g: &mut Gen,
                    actor: Option<&User>,
                    action: &'static str,
                    resource_type: &'static str,
                    resource_id: Option<Uuid>,
                    old_values: Option<Value>,
                    new_values: Option<Value>,
                    user_agent: Option<String>,
                    created_at: DateTime<Utc>| {
        let ip = g.ip();
        log.push(AuditEntry {
            id: g.uuid(),
            user_id: actor.map(|u| u.id),
            action,
            resource_type,
            resource_id,
            old_values,
            new_values,
            ip_address: Some(ip),
            user_agent,
            created_at,
        });
    };

    for u in users {
        let browser = g.pick(&BROWSERS).to_string();
        push(
            g,
            Some(u),
            "user.sign_up",
            "user",
            Some(u.id),
            None,
            Some(json!({"email": u.email, "name": u.name, "auth_provider": u.auth_provider})),
            Some(browser),
            u.created_at,
        );
    }
    for u in users.iter().filter(|u| u.role == "admin") {
        push(
            g,
            Some(super_admin),
            "user.role_change",
            "user",
            Some(u.id),
            Some(json!({"role": "user"})),
            Some(json!({"role": u.role})),
            Some(console_agent.clone()),
            u.created_at + Duration::hours(2),
        );
    }
    for u in users.iter().filter(|u| !u.is_active) {
        let at = g.past(5, 15);
        push(
            g,
            Some(support),
            "user.deactivate",
            "user",
            Some(u.id),
            Some(json!({"is_active": true})),
            Some(json!({"is_active": false, "reason": "account closed at the customer's request"})),
            Some(support_agent.clone()),
            at,
        );
    }
    for a in agents {
        let owner = users.iter().find(|u| u.id == a.user_id);
        let browser = g.pick(&BROWSERS).to_string();
        push(
            g,
            owner,
            "agent.create",
            "agent",
            Some(a.id),
            None,
            Some(
                json!({"name": a.name, "agent_type": a.agent_type, "bolna_agent_id": a.bolna_agent_id}),
            ),
            Some(browser),
            a.created_at,
        );
    }
    // Configuration edits come in bursts, as teams tune prompts before a campaign.
    for burst in 0..6 {
        let day = 8 + burst * 9;
        for _ in 0..7 {
            let a = &agents[g.rng.random_range(0..agents.len())];
            let owner = users.iter().find(|u| u.id == a.user_id);
            let old_t = g.pick(&[0.2, 0.3, 0.5]);
            let new_t = g.pick(&[0.4, 0.6, 0.7]);
            let at = g.past(day, day);
            let browser = g.pick(&BROWSERS).to_string();
            push(
                g,
                owner,
                "agent.update",
                "agent",
                Some(a.id),
                Some(json!({"bolna_llm_config": {"temperature": old_t}})),
                Some(json!({"bolna_llm_config": {"temperature": new_t}})),
                Some(browser),
                at,
            );
        }
    }
    for n in numbers {
        push(
            g,
            Some(super_admin),
            "phone_number.create",
            "phone_number",
            Some(n.id),
            None,
            Some(
                json!({"phone_number": n.phone_number, "name": n.name, "bolna_phone_number_id": n.bolna_phone_number_id}),
            ),
            Some(console_agent.clone()),
            n.created_at,
        );
        if let Some(user) = n.assigned_to_user_id {
            push(
                g,
                Some(super_admin),
                "phone_number.assign",
                "phone_number",
                Some(n.id),
                Some(json!({"assigned_to_user_id": null})),
                Some(json!({"assigned_to_user_id": user})),
                Some(console_agent.clone()),
                n.created_at + Duration::minutes(10),
            );
        }
        if !n.is_active {
            push(
                g,
                Some(super_admin),
                "phone_number.deactivate",
                "phone_number",
                Some(n.id),
                Some(json!({"is_active": true})),
                Some(json!({"is_active": false})),
                Some(console_agent.clone()),
                n.created_at + Duration::days(30),
            );
        }
    }
    // Top-ups of active customers. Each customer's chain adds up: every top-up starts from the
    // balance the one before left, and the last leaves the balance the customer has now
    // (worked backwards from it; a customer with nothing left gets no more top-ups).
    let customers: Vec<&User> = users
        .iter()
        .filter(|u| u.role == "user" && u.is_active)
        .collect();
    let mut top_ups: Vec<(&User, DateTime<Utc>, i64, &'static str, bool)> = Vec::new();
    for i in 0..60 {
        let u = customers[g.rng.random_range(0..customers.len())];
        let amount: i64 = g.pick(&[100, 250, 500, 1000, 2500]);
        let reason = g.pick(&[
            "monthly plan renewal",
            "refund for dropped calls",
            "goodwill credit",
            "invoice paid by bank transfer",
            "trial extension",
        ]);
        let by_super = i % 4 == 0;
        let actor = if by_super { super_admin } else { support };
        // After both have signed up; a minute apart, so that each chain has one order.
        let at = g
            .past(1, 75)
            .max(u.created_at + Duration::hours(1))
            .max(actor.created_at + Duration::hours(1))
            + Duration::minutes(i64::from(i));
        top_ups.push((u, at, amount, reason, by_super));
    }
    top_ups.sort_by_key(|(u, at, ..)| (u.id, std::cmp::Reverse(*at)));
    let mut balance: Option<(Uuid, i64)> = None;
    let mut chained = Vec::new();
    for (u, at, amount, reason, by_super) in top_ups {
        let left = match balance {
            Some((id, b)) if id == u.id => b,
            _ => i64::from(u.credits),
        };
        let amount = amount.min(left);
        if amount == 0 {
            continue;
        }
        balance = Some((u.id, left - amount));
        chained.push((u, at, left - amount, left, reason, by_super));
    }
    chained.sort_by_key(|(_, at, ..)| *at);
    for (u, at, old, new, reason, by_super) in chained {
        let (actor, agent) = if by_super {
            (super_admin, console_agent.clone())
        } else {
            (support, support_agent.clone())
        };
        push(
            g,
            Some(actor),
            "credits.top_up",
            "user",
            Some(u.id),
            Some(json!({"credits": old})),
            Some(json!({"credits": new, "reason": reason})),
            Some(agent),
            at,
        );
    }
    for _ in 0..150 {
        let u = users[g.rng.random_range(0..users.len())].clone();
        let at = g.past(0, 45);
        let browser = g.pick(&BROWSERS).to_string();
        push(
            g,
            Some(&u),
            "user.sign_in",
            "user",
            Some(u.id),
            None,
            Some(json!({"auth_provider": u.auth_provider})),
            Some(browser),
            at,
        );
    }
    for _ in 0..20 {
        let a = &agents[g.rng.random_range(0..agents.len())];
        let owner = users.iter().find(|u| u.id == a.user_id);
        let count = g.rng.random_range(5..400);
        let at = g.past(2, 80);
        let browser = g.pick(&BROWSERS).to_string();
        push(
            g,
            owner,
            "contact.import",
            "contact",
            None,
            None,
            Some(json!({"count": count, "source": "csv"})),
            Some(browser),
            at,
        );
    }
    // Inactive agents were deactivated by support, on record; nothing changes them afterwards.
    for a in agents {
        if let Some(at) = a.deactivated_at {
            push(
                g,
                Some(support),
                "agent.deactivate",
                "agent",
                Some(a.id),
                Some(json!({"is_active": true})),
                Some(json!({"is_active": false})),
                Some(support_agent.clone()),
                at,
            );
        }
    }
    let lifetimes = Lifetimes::of(&log, users);
    for s in sessions.iter_mut() {
        let Some(u) = users.iter().find(|u| u.id == s.user_id) else {
            continue;
        };
        let at = lifetimes.within(u, s.created_at);
        if at != s.created_at {
            s.created_at = at;
            s.expires_at = at + Duration::days(7);
            s.refresh_expires_at = s.refresh_expires_at.map(|_| at + Duration::days(30));
        }
        log.push(AuditEntry {
            id: g.uuid(),
            user_id: Some(u.id),
            action: "user.sign_in",
            resource_type: "user",
            resource_id: Some(u.id),
            old_values: None,
            new_values: Some(json!({"auth_provider": u.auth_provider})),
            ip_address: Some(s.ip_address.clone()),
            user_agent: Some(s.user_agent.clone()),
            created_at: at,
        });
    }
    for e in &mut log {
        if let Some(u) = e.user_id.and_then(|id| users.iter().find(|u| u.id == id))
            && e.action != "user.sign_up"
        {
            e.created_at = lifetimes.within(u, e.created_at);
        }
        // An agent is changed between its creation and its deactivation.
        if e.action == "agent.update"
            && let Some(a) = agents.iter().find(|a| Some(a.id) == e.resource_id)
        {
            if let Some(end) = a.deactivated_at
                && e.created_at >= end
            {
                e.created_at = end - Duration::hours(1);
            }
            e.created_at = e.created_at.max(a.created_at + Duration::hours(1));
        }
    }
    log.sort_by_key(|e| e.created_at);
    chain_agent_updates(&mut log, agents);
    log.sort_by_key(|e| e.created_at);
    log
}

/// Each agent's temperature changes chain: an update starts from the value the one before left
/// (the first from the agent's as created), and never sets the value it already has.
fn chain_agent_updates(log: &mut [AuditEntry], agents: &[Agent]) {
    for a in agents {
        let mut held = a.llm_config["temperature"].clone();
        let mut last: Option<DateTime<Utc>> = None;
        for e in log
            .iter_mut()
            .filter(|e| e.action == "agent.update" && e.resource_id == Some(a.id))
        {
            // One after the other, never at the same second (the order must read one way).
            if let Some(t) = last
                && e.created_at <= t
            {
                e.created_at = t + Duration::seconds(1);
            }
            last = Some(e.created_at);
            let mut new = e.new_values.as_ref().map_or(Value::Null, |v| {
                v["bolna_llm_config"]["temperature"].clone()
            });
            if new == held {
                new = json!(if held == json!(0.7) { 0.4 } else { 0.7 });
            }
            e.old_values = Some(json!({"bolna_llm_config": {"temperature": held}}));
            e.new_values = Some(json!({"bolna_llm_config": {"temperature": new}}));
            held = new;
        }
    }
}

/// Nobody acts before signing up or after being deactivated: what a user did outside that span
/// is moved into it (an hour after the sign-up, or an hour before the deactivation).
struct Lifetimes {
    deactivated: Vec<(Uuid, DateTime<Utc>)>,
}

impl Lifetimes {
    fn of(log: &[AuditEntry], users: &[User]) -> Lifetimes {
        let deactivated = log
            .iter()
            .filter(|e| e.action == "user.deactivate")
            .filter_map(|e| e.resource_id.map(|id| (id, e.created_at)))
            .filter(|(id, _)| users.iter().any(|u| u.id == *id))
            .collect();
        Lifetimes { deactivated }
    }

    /// `at`, or the nearest time within `u`'s lifetime.
    fn within(&self, u: &User, at: DateTime<Utc>) -> DateTime<Utc> {
        let mut at = at;
        if at <= u.created_at {
            at = u.created_at + Duration::hours(1);
        }
        if let Some((_, end)) = self.deactivated.iter().find(|(id, _)| *id == u.id)
            && at >= *end
        {
            at = (*end - Duration::hours(1)).max(u.created_at + Duration::minutes(1));
        }
        at
    }
}
