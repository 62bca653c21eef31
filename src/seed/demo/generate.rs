//! The generator: every table's rows from one seeded RNG and the anchor time, so the same
//! anchor always gives the same data.

use argon2::password_hash::PasswordHasher;
use argon2::{Argon2, Params};
use chrono::{DateTime, Duration, Timelike, Utc};
use rand::{Rng, RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::db::SYSTEM_TENANT;

use super::names::*;
use super::rows::*;
use super::{DEMO_PASSWORD, DEMO_SEED, DEMO_SUPER_ADMIN, DEMO_SUPPORT_ADMIN};

pub(super) struct Gen {
    pub(super) rng: ChaCha8Rng,
    pub(super) now: DateTime<Utc>,
}

impl Gen {
    pub(super) fn uuid(&mut self) -> Uuid {
        let mut bytes = [0u8; 16];
        self.rng.fill_bytes(&mut bytes);
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    }

    pub(super) fn hex(&mut self, len: usize) -> String {
        (0..len)
            .map(|_| char::from_digit(self.rng.random_range(0..16), 16).unwrap_or('0'))
            .collect()
    }

    pub(super) fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.rng.random_range(0..items.len())]
    }

    pub(super) fn chance(&mut self, p: f64) -> bool {
        self.rng.random_bool(p)
    }

    /// A moment `days_ago_min..days_ago_max` days back, in office hours (UTC 13:00–23:00, i.e.
    /// US business hours), to the second.
    pub(super) fn past(&mut self, days_ago_min: i64, days_ago_max: i64) -> DateTime<Utc> {
        let day = self.rng.random_range(days_ago_min..=days_ago_max);
        let secs = self.rng.random_range(13 * 3600..23 * 3600);
        let midnight = self
            .now
            .with_hour(0)
            .and_then(|t| t.with_minute(0))
            .and_then(|t| t.with_second(0))
            .and_then(|t| t.with_nanosecond(0))
            .unwrap_or(self.now);
        let t = midnight - Duration::days(day) + Duration::seconds(secs);
        if t > self.now {
            self.now - Duration::seconds(self.rng.random_range(60..3600))
        } else {
            t
        }
    }

    pub(super) fn phone(&mut self) -> String {
        let area = self.pick(&[415, 212, 512, 303, 206, 312, 305, 617, 503, 404]);
        format!("+1{area}555{:04}", self.rng.random_range(0..10_000))
    }

    pub(super) fn ip(&mut self) -> String {
        let net = self.pick(&["203.0.113", "198.51.100", "192.0.2"]);
        format!("{net}.{}", self.rng.random_range(1..255))
    }

    pub(super) fn password_hash(&mut self, password: &str, strong: bool) -> String {
        let mut salt = [0u8; 16];
        self.rng.fill_bytes(&mut salt);
        // The demo admins get argon2's default (OWASP) cost; other users' hashes are of random
        // passwords nobody knows, so a cheap cost keeps seeding fast.
        let hasher = if strong {
            Argon2::default()
        } else {
            Argon2::from(Params::new(1024, 1, 1, None).unwrap_or_default())
        };
        hasher
            .hash_password_with_salt(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .unwrap_or_default()
    }
}

impl Gen {
    /// A generator for the anchor time `now`, always from the same seed.
    pub(super) fn new(now: DateTime<Utc>) -> Gen {
        Gen {
            rng: ChaCha8Rng::seed_from_u64(DEMO_SEED),
            now,
        }
    }
}

pub(super) fn tenants(g: &mut Gen) -> Vec<Tenant> {
    TENANTS
        .iter()
        .map(|t| Tenant {
            id: Uuid::parse_str(t.id).unwrap_or_default(),
            name: t.name.to_string(),
            plan: t.plan.to_string(),
            metadata: json!({
                "source": "voice_agent_migration",
                "user_count": t.users,
                "domain": t.domain,
            }),
            created_at: g.past(150, 200),
        })
        .collect()
}

pub(super) fn users(g: &mut Gen, tenants: &[Tenant]) -> Vec<User> {
    let mut users = Vec::new();
    let mut name_index = 0usize;
    let mut next_name = |g: &mut Gen| {
        // Walk the name lists with a stride so that names do not repeat within 40 users.
        let first = FIRST_NAMES[name_index % FIRST_NAMES.len()];
        let last = LAST_NAMES[(name_index * 7 + g.rng.random_range(0..3)) % LAST_NAMES.len()];
        name_index += 1;
        (first, last)
    };
    let email_local = |first: &str, last: &str| {
        let clean = |s: &str| {
            s.to_lowercase()
                .replace('\'', "")
                .replace('í', "i")
                .replace('á', "a")
        };
        format!("{}.{}", clean(first), clean(last))
    };

    // The system tenant: the two demo admins, then individual sign-ups.
    for (email, name, role) in [
        (DEMO_SUPER_ADMIN, "Dana Whitfield", "super_admin"),
        (DEMO_SUPPORT_ADMIN, "Sam Ortega", "admin"),
    ] {
        let created_at = g.past(170, 180);
        users.push(User {
            id: g.uuid(),
            tenant_id: SYSTEM_TENANT,
            email: email.to_string(),
            name: name.to_string(),
            credits: 0,
            is_active: true,
            auth_provider: "email",
            stack_auth_user_id: None,
            email_verified: true,
            email_verification_sent_at: Some(created_at),
            role,
            password_hash: Some(g.password_hash(DEMO_PASSWORD, true)),
            company: Some("Switchboard Platform".into()),
            website: None,
            location: Some("Remote".into()),
            bio: Some(format!("Platform {role} (demo account).")),
            phone: None,
            created_at,
            updated_at: created_at,
        });
    }
    let specs = TENANTS
        .iter()
        .zip(tenants)
        .map(|(s, t)| (Some((s, t)), s.users))
        .chain(std::iter::once((None, SYSTEM_USERS - 2)));
    for (tenant, count) in specs {
        for i in 0..count {
            let (first, last) = next_name(g);
            let provider = g.pick(&[
                "email", "email", "email", "google", "google", "linkedin", "github",
            ]);
            let (tenant_id, email, company, website) = match tenant {
                Some((spec, t)) => (
                    t.id,
                    format!("{}@{}", email_local(first, last), spec.domain),
                    Some(spec.name.to_string()),
                    Some(format!("https://www.{}", spec.domain)),
                ),
                None => (
                    SYSTEM_TENANT,
                    format!(
                        "{}{}@{}",
                        email_local(first, last),
                        g.rng.random_range(1..99),
                        g.pick(&["example.com", "example.net", "example.org"])
                    ),
                    None,
                    None,
                ),
            };
            let created_at = g.past(20, 170);
            let verified = g.chance(0.85);
            let credits = match g.rng.random_range(0..10) {
                0 => g.rng.random_range(0..10), // about to run dry
                1..=3 => g.rng.random_range(10..200),
                _ => g.rng.random_range(200..5000),
            };
            let password_hash = if provider == "email" {
                let secret = g.hex(24);
                Some(g.password_hash(&secret, false))
            } else {
                None
            };
            users.push(User {
                id: g.uuid(),
                tenant_id,
                email,
                name: format!("{first} {last}"),
                credits,
                // A couple of accounts were closed.
                is_active: !(tenant.is_none() && i % 6 == 5),
                auth_provider: provider,
                stack_auth_user_id: (provider != "email").then(|| format!("sa_{}", g.hex(20))),
                email_verified: verified,
                email_verification_sent_at: Some(created_at + Duration::seconds(2)),
                role: "user",
                password_hash,
                company,
                website,
                location: Some(g.pick(&CITIES).to_string()),
                bio: (i == 0 && tenant.is_some()).then(|| "Account owner.".to_string()),
                phone: g.chance(0.6).then(|| g.phone()),
                created_at,
                updated_at: created_at,
            });
        }
    }
    users
}

pub(super) fn agents(g: &mut Gen, users: &[User]) -> Vec<Agent> {
    let mut agents = Vec::new();
    let mut owners_by_tenant: Vec<(Vec<&User>, usize)> = TENANTS
        .iter()
        .map(|spec| {
            let id = Uuid::parse_str(spec.id).unwrap_or_default();
            let owners: Vec<&User> = users.iter().filter(|u| u.tenant_id == id).collect();
            (owners, spec.agents)
        })
        .collect();
    let individuals: Vec<&User> = users
        .iter()
        .filter(|u| u.tenant_id == SYSTEM_TENANT && u.role == "user" && u.is_active)
        .take(SYSTEM_AGENTS)
        .collect();
    owners_by_tenant.push((individuals, SYSTEM_AGENTS));
    for (owners, count) in owners_by_tenant {
        // Most agents belong to the first few users of a tenant (its operators).
        let operators = owners.len().clamp(1, 5);
        for i in 0..count {
            let owner = owners[i % operators];
            let (name, description) = g.pick(&AGENT_ROLES);
            let (voice_provider, voice) = g.pick(&VOICES);
            let (llm_provider, model) = g.pick(&LLMS);
            let bolna_agent_id = g.uuid().to_string();
            let agent_type = if g.chance(0.1) { "chat" } else { "call" };
            let created_at = owner.created_at + Duration::days(g.rng.random_range(1..15));
            let is_active = agents.len() % 11 != 10;
            // Deactivated a week to three weeks ago (after its first day), without a draw of
            // the generator: the rest of the data stays as it was.
            let deactivated_at = (!is_active).then(|| {
                (g.now - Duration::days(6 + (agents.len() % 17) as i64))
                    .max(created_at + Duration::days(1))
            });
            agents.push(Agent {
                id: g.uuid(),
                user_id: owner.id,
                webhook_url: format!("https://hooks.switchboard.example/bolna/{bolna_agent_id}"),
                bolna_agent_id,
                name: name.to_string(),
                description: description.to_string(),
                agent_type,
                is_active,
                voice_config: json!({
                    "provider": voice_provider,
                    "voice": voice,
                    "language": "en-US",
                    "speed": g.pick(&[0.9, 1.0, 1.0, 1.1]),
                    "buffer_size": 250,
                }),
                llm_config: json!({
                    "provider": llm_provider,
                    "model": model,
                    "temperature": g.pick(&[0.2, 0.3, 0.5, 0.7]),
                    "max_tokens": g.pick(&[120, 150, 200]),
                    "system_prompt": format!("You are the {name} for {}. {description} Be brief, warm and accurate.",
                        owner.company.as_deref().unwrap_or("a small business")),
                }),
                task_config: json!({
                    "hangup_after_silence": g.pick(&[8, 10, 15]),
                    "call_terminate": g.pick(&[240, 300, 600]),
                    "backchanneling": g.chance(0.5),
                    "ambient_noise": false,
                    "voicemail_detection": agent_type == "call",
                    "optimize_latency": true,
                }),
                created_at,
                updated_at: created_at,
                deactivated_at,
            });
        }
    }
    agents
}

pub(super) fn contacts(g: &mut Gen, agents: &[Agent]) -> Vec<Contact> {
    let mut owners: Vec<Uuid> = agents.iter().map(|a| a.user_id).collect();
    owners.dedup();
    let mut contacts: Vec<Contact> = Vec::new();
    while contacts.len() < CONTACTS {
        let user_id = owners[contacts.len() % owners.len()];
        let phone = g.phone();
        if contacts
            .iter()
            .any(|c| c.user_id == user_id && c.phone_number == phone)
        {
            continue;
        }
        let first = g.pick(&FIRST_NAMES);
        let last = g.pick(&LAST_NAMES);
        let auto = g.chance(0.25);
        contacts.push(Contact {
            id: g.uuid(),
            user_id,
            name: format!("{first} {last}"),
            phone_number: phone,
            email: g
                .chance(0.6)
                .then(|| format!("{}.{}@example.com", first.to_lowercase(), contacts.len())),
            company: g.chance(0.4).then(|| {
                g.pick(&["Pine & Co", "Riverside Homes", "Blue Fin Ltd", "Orbit Labs"])
                    .to_string()
            }),
            notes: g.chance(0.3).then(|| {
                g.pick(&[
                    "Prefers calls after 5pm.",
                    "Asked for a written quote.",
                    "Existing customer since 2023.",
                    "Do not call on weekends.",
                ])
                .to_string()
            }),
            is_customer: g.chance(0.3),
            auto_created_from_call_id: None,
            is_auto_created: auto,
            auto_creation_source: auto
                .then_some("webhook")
                .or(g.chance(0.5).then_some("manual")),
            not_connected: if g.chance(0.2) {
                g.rng.random_range(1..4)
            } else {
                0
            },
            created_at: g.past(60, 120),
        });
    }
    contacts
}

pub(super) fn calls(g: &mut Gen, agents: &[Agent], contacts: &mut [Contact]) -> Vec<Call> {
    // Busy agents take most calls: weight by position.
    let weights: Vec<usize> = (0..agents.len()).map(|i| 1 + (i * 7) % 5).collect();
    let total: usize = weights.iter().sum();
    let mut calls: Vec<Call> = (0..CALLS)
        .map(|_| {
            let mut ticket = g.rng.random_range(0..total);
            let agent = agents
                .iter()
                .zip(&weights)
                .find(|(_, w)| {
                    if ticket < **w {
                        true
                    } else {
                        ticket -= **w;
                        false
                    }
                })
                .map(|(a, _)| a)
                .unwrap_or(&agents[0]);
            let own: Vec<usize> = (0..contacts.len())
                .filter(|i| contacts[*i].user_id == agent.user_id)
                .collect();
            let contact = (!own.is_empty() && g.chance(0.6)).then(|| own[g.rng.random_range(0..own.len())]);
            let created_at = g.past(0, 89);
            let status = match g.rng.random_range(0..100) {
                0..=71 => "completed",
                72..=86 => "failed",
                _ => "cancelled",
            };
            let duration_seconds = match status {
                "completed" => g.rng.random_range(25..720),
                "cancelled" => g.rng.random_range(0..20),
                _ => 0,
            };
            let minutes = (duration_seconds + 59) / 60;
            let id = g.uuid();
            Call {
                id,
                agent_id: agent.id,
                user_id: agent.user_id,
                contact_id: contact.map(|i| contacts[i].id),
                conversation_id: format!("conv_{}", g.hex(24)),
                execution_id: g.uuid().to_string(),
                phone_number: contact
                    .map(|i| contacts[i].phone_number.clone())
                    .unwrap_or_else(|| g.phone()),
                call_source: g.pick(&["phone", "phone", "phone", "internet", "unknown"]),
                caller_name: contact.map(|i| contacts[i].name.clone()),
                caller_email: contact.and_then(|i| contacts[i].email.clone()),
                lead_type: g.pick(&["inbound", "outbound", "outbound"]),
                duration_seconds,
                credits_used: minutes,
                status,
                recording_url: (status == "completed")
                    .then(|| format!("https://recordings.switchboard.example/{id}.mp3")),
                metadata: json!({"campaign": g.pick(&["spring-promo", "renewals", "web-leads", "inbound"])}),
                completed_at: (status != "in_progress")
                    .then(|| created_at + Duration::seconds(i64::from(duration_seconds))),
                created_at,
            }
        })
        .collect();
    // No calls for an agent after its deactivation: such a call took place in the two weeks
    // before it instead (as long as the agent existed).
    for call in &mut calls {
        let Some(agent) = agents.iter().find(|a| a.id == call.agent_id) else {
            continue;
        };
        if let Some(end) = agent.deactivated_at
            && call.created_at >= end
        {
            let back =
                Duration::minutes(1 + (call.created_at - end).num_minutes() % (14 * 24 * 60));
            let moved = (end - back).max(agent.created_at + Duration::minutes(1));
            let shift = call.created_at - moved;
            call.created_at = moved;
            call.completed_at = call.completed_at.map(|t| t - shift);
        }
    }
    // A call still in progress right now, as on any live platform (an active agent's).
    let active = |c: &Call| agents.iter().any(|a| a.id == c.agent_id && a.is_active);
    if let Some(last) = calls.iter_mut().rev().find(|c| active(c)) {
        last.status = "in_progress";
        last.created_at = g.now - Duration::seconds(95);
        last.completed_at = None;
        last.duration_seconds = 0;
        last.credits_used = 0;
        last.recording_url = None;
    }
    calls.sort_by_key(|c| c.created_at);
    // Auto-created contacts were created by the first call that reached them.
    for contact in contacts.iter_mut().filter(|c| c.is_auto_created) {
        if let Some(first) = calls.iter().find(|c| c.contact_id == Some(contact.id)) {
            contact.auto_created_from_call_id = Some(first.id);
            contact.created_at = first.created_at;
        }
    }
    calls
}

pub(super) fn call_analysis(g: &mut Gen, calls: &[Call]) -> (Vec<Transcript>, Vec<LeadAnalytics>) {
    let mut transcripts = Vec::new();
    let mut analytics = Vec::new();
    for call in calls.iter().filter(|c| c.status == "completed") {
        let caller = call.caller_name.clone().unwrap_or_else(|| "Caller".into());
        let topic_a = g.pick(&TOPICS);
        let topic_b = g.pick(&TOPICS);
        let lines = [
            (
                "agent",
                "Hi, thanks for taking my call. Is now a good time?".to_string(),
            ),
            ("user", format!("Sure. I had a question about {topic_a}.")),
            (
                "agent",
                format!(
                    "Of course. Could you tell me a little more about what you need around {topic_a}?"
                ),
            ),
            (
                "user",
                format!("Mostly {topic_b}, and whether you can do it this month."),
            ),
            (
                "agent",
                "I can book a follow-up with a specialist. Does Thursday suit you?".to_string(),
            ),
            (
                "user",
                g.pick(&[
                    "Thursday works.",
                    "Can we do next week instead?",
                    "Let me think about it.",
                ])
                .to_string(),
            ),
        ];
        let mut offset = 0.0f64;
        let segments: Vec<Value> = lines
            .iter()
            .map(|(speaker, text)| {
                let start = offset;
                offset += 2.0 + text.len() as f64 / 15.0;
                json!({"speaker": speaker, "text": text, "start": start, "end": offset})
            })
            .collect();
        let content = lines
            .iter()
            .map(|(s, t)| {
                format!(
                    "{}: {t}",
                    if *s == "agent" {
                        "Agent"
                    } else {
                        caller.as_str()
                    }
                )
            })
            .collect::<Vec<_>>()
            .join("\n");
        let done = call.completed_at.unwrap_or(call.created_at);
        transcripts.push(Transcript {
            id: g.uuid(),
            call_id: call.id,
            user_id: call.user_id,
            content,
            speaker_segments: Value::Array(segments),
            analysis_status: if g.chance(0.95) {
                "completed"
            } else {
                "failed"
            },
            created_at: done + Duration::seconds(5),
        });
        let intent: i32 = g.rng.random_range(0..=100);
        let qualification = match intent {
            80..=100 => "hot",
            55..=79 => "warm",
            25..=54 => "cold",
            _ => "not_qualified",
        };
        analytics.push(LeadAnalytics {
            id: g.uuid(),
            call_id: call.id,
            user_id: call.user_id,
            intent_centi: intent,
            sentiment_centi: g.rng.random_range(-60..=100),
            qualification,
            key_topics: json!([topic_a, topic_b]),
            next_steps: match qualification {
                "hot" => "Book a meeting this week.",
                "warm" => "Send details and call back in three days.",
                "cold" => "Add to the monthly newsletter.",
                _ => "No follow-up.",
            }
            .to_string(),
            summary: format!("{caller} asked about {topic_a} and {topic_b}."),
            total_score_centi: intent * 85 + g.rng.random_range(0..1500),
            is_read: g.chance(0.6),
            created_at: done + Duration::seconds(30),
        });
    }
    (transcripts, analytics)
}

pub(super) fn phone_numbers(g: &mut Gen, users: &[User]) -> Vec<PhoneNumber> {
    let super_admin = users[0].id;
    let owner_of = |tenant: &str| {
        let id = Uuid::parse_str(tenant).unwrap_or_default();
        users.iter().find(|u| u.tenant_id == id).map(|u| u.id)
    };
    let specs = [
        (
            "Acme Main Line",
            "+14155550100",
            owner_of(TENANTS[0].id),
            true,
        ),
        (
            "Brightline Claims",
            "+12125550142",
            owner_of(TENANTS[1].id),
            true,
        ),
        (
            "Northwind Outbound",
            "+15125550187",
            owner_of(TENANTS[3].id),
            true,
        ),
        ("Spare West Coast", "+13035550119", None, true),
        ("Retired NYC Line", "+16465550123", None, false),
    ];
    specs
        .into_iter()
        .map(|(name, number, assigned, active)| PhoneNumber {
            id: g.uuid(),
            name: name.to_string(),
            phone_number: number.to_string(),
            bolna_phone_number_id: format!("bpn_{}", g.hex(16)),
            assigned_to_user_id: assigned,
            created_by_admin_id: super_admin,
            is_active: active,
            created_at: g.past(100, 160),
        })
        .collect()
}

pub(super) fn sessions(g: &mut Gen, users: &[User]) -> Vec<SessionRow> {
    (0..30)
        .map(|i| {
            let user = &users[(i * 5 + 1) % users.len()];
            let created_at = g.past(0, 20);
            SessionRow {
                id: g.uuid(),
                user_id: user.id,
                session_token: format!("sess_{}", g.hex(48)),
                refresh_token: g.chance(0.8).then(|| format!("ref_{}", g.hex(48))),
                expires_at: created_at + Duration::days(7),
                refresh_expires_at: Some(created_at + Duration::days(30)),
                user_agent: g.pick(&BROWSERS).to_string(),
                ip_address: g.ip(),
                created_at,
            }
        })
        .collect()
}

pub(super) fn twilio_calls(g: &mut Gen, calls: &[Call]) -> Vec<TwilioCall> {
    calls
        .iter()
        .filter(|c| c.call_source == "phone" && c.lead_type == "inbound")
        .take(40)
        .map(|c| TwilioCall {
            id: g.uuid(),
            sid: format!("CA{}", g.hex(32)),
            phone_number: c.phone_number.clone(),
            call_status: if c.status == "completed" {
                "completed"
            } else {
                "no-answer"
            },
            processed_at: c.created_at + Duration::seconds(3),
            user_id: Some(c.user_id),
            contact_id: c.contact_id,
        })
        .collect()
}
