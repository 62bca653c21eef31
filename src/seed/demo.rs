//! Deterministic, realistic demo data with the proportions of schema-mapping-guide.md: 6 tenants
//! plus the system tenant, 39 users, 23 agents, 5 phone numbers, 742 calls over the last 90 days
//! with transcripts and lead analytics, 63 contacts, sessions and a few hundred audit entries.
//!
//! [`DemoData::generate`] is a pure function of a fixed RNG seed and the anchor time `now`;
//! [`seed_demo`] writes it in one transaction and refuses a database that already has users.

use argon2::password_hash::PasswordHasher;
use argon2::{Argon2, Params};
use chrono::{DateTime, Duration, Timelike, Utc};
use rand::{Rng, RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};
use sqlx::{PgPool, Postgres, QueryBuilder, Transaction};
use uuid::Uuid;

use crate::db::{DbError, SYSTEM_TENANT};

/// The fixed seed: the same `now` always gives the same data.
pub const DEMO_SEED: u64 = 0x5717_c4b0_a2d0_0001;
/// The demo admins' password. Demo only: documented in the README.
pub const DEMO_PASSWORD: &str = "demo-password";
pub const DEMO_SUPER_ADMIN: &str = "super@demo.test";
pub const DEMO_SUPPORT_ADMIN: &str = "support@demo.test";

struct TenantSpec {
    id: &'static str,
    name: &'static str,
    plan: &'static str,
    domain: &'static str,
    users: usize,
    agents: usize,
}

/// The organisations of the mapping guide (ids as listed there; the guide's "plus 1 more" gets an
/// id of its own), with 14, 6, 1, 1, 1 and 2 users; the system tenant holds the other 14.
const TENANTS: [TenantSpec; 6] = [
    TenantSpec {
        id: "5abb0a93-f59f-48fc-9c5a-2b549b4f8367",
        name: "Acme Realty Group",
        plan: "enterprise",
        domain: "acmerealty.example",
        users: 14,
        agents: 8,
    },
    TenantSpec {
        id: "a60fac7a-eb17-4964-b4a2-2311db582fc4",
        name: "Brightline Insurance",
        plan: "pro",
        domain: "brightline.example",
        users: 6,
        agents: 5,
    },
    TenantSpec {
        id: "cd49e5a8-401d-46dc-b216-dd0f2bd8e363",
        name: "Cedar Dental Studio",
        plan: "starter",
        domain: "cedardental.example",
        users: 1,
        agents: 2,
    },
    TenantSpec {
        id: "98e7ff43-33f9-4802-9d40-b9642e38acce",
        name: "Northwind Solar",
        plan: "pro",
        domain: "northwindsolar.example",
        users: 1,
        agents: 3,
    },
    TenantSpec {
        id: "f6de7991-df4f-43de-9f40-298fcda5f723",
        name: "Lumen Legal LLP",
        plan: "starter",
        domain: "lumenlegal.example",
        users: 1,
        agents: 1,
    },
    TenantSpec {
        id: "3c9d7e21-6b84-4f0a-9e25-d81a4c6f0b73",
        name: "Harbor Auto Finance",
        plan: "free",
        domain: "harborauto.example",
        users: 2,
        agents: 1,
    },
];
const SYSTEM_USERS: usize = 14;
/// Agents owned by individual sign-ups in the system tenant.
const SYSTEM_AGENTS: usize = 3;
const CALLS: usize = 742;
const CONTACTS: usize = 63;

const FIRST_NAMES: [&str; 40] = [
    "Olivia", "Liam", "Amara", "Noah", "Priya", "Mateo", "Sofia", "Kenji", "Chloe", "Ethan",
    "Zara", "Lucas", "Maya", "Omar", "Hannah", "Diego", "Aisha", "Felix", "Nora", "Ravi", "Elena",
    "Jonas", "Leila", "Marcus", "Ingrid", "Tomás", "Yuki", "Samuel", "Freya", "Arjun", "Camille",
    "Hugo", "Imani", "Viktor", "Grace", "Pablo", "Mei", "Isaac", "Anika", "Theo",
];
const LAST_NAMES: [&str; 40] = [
    "Okafor",
    "Lindqvist",
    "Patel",
    "García",
    "Nakamura",
    "Schmidt",
    "O'Brien",
    "Haddad",
    "Kowalski",
    "Moreau",
    "Fernandes",
    "Chen",
    "Adeyemi",
    "Rossi",
    "Novak",
    "Mensah",
    "Larsen",
    "Dubois",
    "Ivanova",
    "Reyes",
    "Kaur",
    "Walsh",
    "Yilmaz",
    "Bianchi",
    "Sato",
    "Nguyen",
    "Brennan",
    "Alvarez",
    "Petrov",
    "Hughes",
    "Tanaka",
    "Silva",
    "Johansson",
    "Abara",
    "Keller",
    "Murphy",
    "Costa",
    "Fischer",
    "Rahman",
    "Quinn",
];
const CITIES: [&str; 10] = [
    "San Francisco, CA",
    "Austin, TX",
    "New York, NY",
    "Denver, CO",
    "Seattle, WA",
    "Chicago, IL",
    "Miami, FL",
    "Boston, MA",
    "Portland, OR",
    "Atlanta, GA",
];
const AGENT_ROLES: [(&str, &str); 12] = [
    (
        "Inbound Receptionist",
        "Answers inbound calls, qualifies the caller and books a callback.",
    ),
    (
        "Lead Qualifier",
        "Calls new web leads within five minutes and scores their intent.",
    ),
    (
        "Appointment Setter",
        "Books viewings and consultations into the shared calendar.",
    ),
    (
        "Renewal Reminder",
        "Reminds customers of renewals due in the next 30 days.",
    ),
    (
        "Claims Intake",
        "Collects first notice of loss details and opens a claim.",
    ),
    (
        "After-hours Line",
        "Takes messages outside office hours and flags urgent ones.",
    ),
    (
        "Follow-up Caller",
        "Follows up on quotes sent in the last week.",
    ),
    (
        "Survey Bot",
        "Runs a three-question satisfaction survey after service.",
    ),
    (
        "Recall Scheduler",
        "Schedules six-month check-ups for patients who are due.",
    ),
    (
        "Site Visit Booker",
        "Books roof surveys for solar installation quotes.",
    ),
    (
        "Intake Assistant",
        "Screens new enquiries and collects matter details.",
    ),
    (
        "Payment Reminder",
        "Reminds borrowers of upcoming instalments, politely.",
    ),
];
const VOICES: [(&str, &str); 5] = [
    ("azuretts", "en-US-JennyNeural"),
    ("azuretts", "en-US-GuyNeural"),
    ("polly", "Joanna"),
    ("deepgram", "aura-asteria-en"),
    ("cartesia", "sonic-english-warm"),
];
const LLMS: [(&str, &str); 4] = [
    ("openai", "gpt-4o-mini"),
    ("openai", "gpt-4.1-mini"),
    ("anthropic", "claude-3-5-haiku"),
    ("groq", "llama-3.1-70b-versatile"),
];
const TOPICS: [&str; 10] = [
    "pricing",
    "scheduling",
    "availability",
    "financing",
    "coverage",
    "competitor",
    "timeline",
    "callback",
    "documents",
    "location",
];
const BROWSERS: [&str; 4] = [
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
];

#[derive(Debug, Clone, PartialEq)]
pub struct Tenant {
    pub id: Uuid,
    pub name: String,
    pub plan: String,
    pub metadata: Value,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub email: String,
    pub name: String,
    pub credits: i32,
    pub is_active: bool,
    pub auth_provider: &'static str,
    pub stack_auth_user_id: Option<String>,
    pub email_verified: bool,
    pub email_verification_sent_at: Option<DateTime<Utc>>,
    pub role: &'static str,
    pub password_hash: Option<String>,
    pub company: Option<String>,
    pub website: Option<String>,
    pub location: Option<String>,
    pub bio: Option<String>,
    pub phone: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Agent {
    pub id: Uuid,
    pub user_id: Uuid,
    pub bolna_agent_id: String,
    pub name: String,
    pub description: String,
    pub agent_type: &'static str,
    pub is_active: bool,
    pub webhook_url: String,
    pub voice_config: Value,
    pub llm_config: Value,
    pub task_config: Value,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Contact {
    pub id: Uuid,
    pub user_id: Uuid,
    pub name: String,
    pub phone_number: String,
    pub email: Option<String>,
    pub company: Option<String>,
    pub notes: Option<String>,
    pub is_customer: bool,
    pub auto_created_from_call_id: Option<Uuid>,
    pub is_auto_created: bool,
    pub auto_creation_source: Option<&'static str>,
    pub not_connected: i32,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub id: Uuid,
    pub agent_id: Uuid,
    pub user_id: Uuid,
    pub contact_id: Option<Uuid>,
    pub conversation_id: String,
    pub execution_id: String,
    pub phone_number: String,
    pub call_source: &'static str,
    pub caller_name: Option<String>,
    pub caller_email: Option<String>,
    pub lead_type: &'static str,
    pub duration_seconds: i32,
    pub credits_used: i32,
    pub status: &'static str,
    pub recording_url: Option<String>,
    pub metadata: Value,
    pub created_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
}

impl Call {
    /// Billed minutes: every started minute counts.
    pub fn duration_minutes(&self) -> i32 {
        (self.duration_seconds + 59) / 60
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Transcript {
    pub id: Uuid,
    pub call_id: Uuid,
    pub user_id: Uuid,
    pub content: String,
    pub speaker_segments: Value,
    pub analysis_status: &'static str,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LeadAnalytics {
    pub id: Uuid,
    pub call_id: Uuid,
    pub user_id: Uuid,
    /// Hundredths: 0..=100 (the column is DECIMAL(3,2) in 0..1).
    pub intent_centi: i32,
    /// Hundredths: -100..=100.
    pub sentiment_centi: i32,
    pub qualification: &'static str,
    pub key_topics: Value,
    pub next_steps: String,
    pub summary: String,
    /// Hundredths of the 0..100 score.
    pub total_score_centi: i32,
    pub is_read: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PhoneNumber {
    pub id: Uuid,
    pub name: String,
    pub phone_number: String,
    pub bolna_phone_number_id: String,
    pub assigned_to_user_id: Option<Uuid>,
    pub created_by_admin_id: Uuid,
    pub is_active: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub id: Uuid,
    pub user_id: Uuid,
    pub session_token: String,
    pub refresh_token: Option<String>,
    pub expires_at: DateTime<Utc>,
    pub refresh_expires_at: Option<DateTime<Utc>>,
    pub user_agent: String,
    pub ip_address: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub id: Uuid,
    pub user_id: Option<Uuid>,
    pub action: &'static str,
    pub resource_type: &'static str,
    pub resource_id: Option<Uuid>,
    pub old_values: Option<Value>,
    pub new_values: Option<Value>,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TwilioCall {
    pub id: Uuid,
    pub sid: String,
    pub phone_number: String,
    pub call_status: &'static str,
    pub processed_at: DateTime<Utc>,
    pub user_id: Option<Uuid>,
    pub contact_id: Option<Uuid>,
}

/// Everything `seed_demo` writes.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoData {
    pub tenants: Vec<Tenant>,
    pub users: Vec<User>,
    pub agents: Vec<Agent>,
    pub contacts: Vec<Contact>,
    pub calls: Vec<Call>,
    pub transcripts: Vec<Transcript>,
    pub lead_analytics: Vec<LeadAnalytics>,
    pub phone_numbers: Vec<PhoneNumber>,
    pub sessions: Vec<Session>,
    pub audit_logs: Vec<AuditEntry>,
    pub twilio_calls: Vec<TwilioCall>,
}

/// Row counts, as `seed-demo` reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoSummary {
    pub tenants: usize,
    pub users: usize,
    pub agents: usize,
    pub phone_numbers: usize,
    pub calls: usize,
    pub contacts: usize,
    pub audit_logs: usize,
}

struct Gen {
    rng: ChaCha8Rng,
    now: DateTime<Utc>,
}

impl Gen {
    fn uuid(&mut self) -> Uuid {
        let mut bytes = [0u8; 16];
        self.rng.fill_bytes(&mut bytes);
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    }

    fn hex(&mut self, len: usize) -> String {
        (0..len)
            .map(|_| char::from_digit(self.rng.random_range(0..16), 16).unwrap_or('0'))
            .collect()
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.rng.random_range(0..items.len())]
    }

    fn chance(&mut self, p: f64) -> bool {
        self.rng.random_bool(p)
    }

    /// A moment `days_ago_min..days_ago_max` days back, in office hours (UTC 13:00–23:00, i.e.
    /// US business hours), to the second.
    fn past(&mut self, days_ago_min: i64, days_ago_max: i64) -> DateTime<Utc> {
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

    fn phone(&mut self) -> String {
        let area = self.pick(&[415, 212, 512, 303, 206, 312, 305, 617, 503, 404]);
        format!("+1{area}555{:04}", self.rng.random_range(0..10_000))
    }

    fn ip(&mut self) -> String {
        let net = self.pick(&["203.0.113", "198.51.100", "192.0.2"]);
        format!("{net}.{}", self.rng.random_range(1..255))
    }

    fn password_hash(&mut self, password: &str, strong: bool) -> String {
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

impl DemoData {
    /// The demo data for the anchor time `now`.
    pub fn generate(now: DateTime<Utc>) -> DemoData {
        let mut g = Gen {
            rng: ChaCha8Rng::seed_from_u64(DEMO_SEED),
            now,
        };
        let tenants = tenants(&mut g);
        let users = users(&mut g, &tenants);
        let agents = agents(&mut g, &users);
        let mut contacts = contacts(&mut g, &agents);
        let calls = calls(&mut g, &agents, &mut contacts);
        let (transcripts, lead_analytics) = call_analysis(&mut g, &calls);
        let phone_numbers = phone_numbers(&mut g, &users);
        let sessions = sessions(&mut g, &users);
        let twilio_calls = twilio_calls(&mut g, &calls);
        let audit_logs = audit_logs(&mut g, &users, &agents, &phone_numbers);
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

fn tenants(g: &mut Gen) -> Vec<Tenant> {
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

fn users(g: &mut Gen, tenants: &[Tenant]) -> Vec<User> {
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
            });
        }
    }
    users
}

fn agents(g: &mut Gen, users: &[User]) -> Vec<Agent> {
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
            agents.push(Agent {
                id: g.uuid(),
                user_id: owner.id,
                webhook_url: format!("https://hooks.switchboard.example/bolna/{bolna_agent_id}"),
                bolna_agent_id,
                name: name.to_string(),
                description: description.to_string(),
                agent_type,
                is_active: agents.len() % 11 != 10,
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
                created_at: owner.created_at + Duration::days(g.rng.random_range(1..15)),
            });
        }
    }
    agents
}

fn contacts(g: &mut Gen, agents: &[Agent]) -> Vec<Contact> {
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

fn calls(g: &mut Gen, agents: &[Agent], contacts: &mut [Contact]) -> Vec<Call> {
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
    // A call still in progress right now, as on any live platform.
    if let Some(last) = calls.last_mut() {
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

fn call_analysis(g: &mut Gen, calls: &[Call]) -> (Vec<Transcript>, Vec<LeadAnalytics>) {
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

fn phone_numbers(g: &mut Gen, users: &[User]) -> Vec<PhoneNumber> {
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

fn sessions(g: &mut Gen, users: &[User]) -> Vec<Session> {
    (0..30)
        .map(|i| {
            let user = &users[(i * 5 + 1) % users.len()];
            let created_at = g.past(0, 20);
            Session {
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

fn twilio_calls(g: &mut Gen, calls: &[Call]) -> Vec<TwilioCall> {
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

fn audit_logs(
    g: &mut Gen,
    users: &[User],
    agents: &[Agent],
    numbers: &[PhoneNumber],
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
    let customers: Vec<&User> = users.iter().filter(|u| u.role == "user").collect();
    for i in 0..60 {
        let u = customers[g.rng.random_range(0..customers.len())];
        let old: i64 = g.rng.random_range(0..400);
        let amount: i64 = g.pick(&[100, 250, 500, 1000, 2500]);
        let reason = g.pick(&[
            "monthly plan renewal",
            "refund for dropped calls",
            "goodwill credit",
            "invoice paid by bank transfer",
            "trial extension",
        ]);
        let (actor, agent) = if i % 4 == 0 {
            (super_admin, console_agent.clone())
        } else {
            (support, support_agent.clone())
        };
        let at = g.past(1, 75);
        push(
            g,
            Some(actor),
            "credits.top_up",
            "user",
            Some(u.id),
            Some(json!({"credits": old})),
            Some(json!({"credits": old + amount, "reason": reason})),
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
    log.sort_by_key(|e| e.created_at);
    log
}

/// Loads the demo data in one transaction. Refuses a database that already has users or
/// tenants of its own, so it can never mix demo rows into real data.
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

pub async fn seed_demo(pool: &PgPool, now: DateTime<Utc>) -> Result<DemoSummary, DbError> {
    let mut tx = pool.begin().await?;
    super::require_empty(&mut tx, "the demo data").await?;
    let data = tokio::task::spawn_blocking(move || DemoData::generate(now))
        .await
        .map_err(|e| DbError::Refused(format!("generating the demo data failed: {e}")))?;
    insert(&mut tx, &data).await?;
    tx.commit().await?;
    Ok(data.summary())
}

/// Rows per INSERT statement, well under PostgreSQL's 65,535 bind parameters.
const CHUNK: usize = 200;

async fn insert_rows<T>(
    tx: &mut Transaction<'_, Postgres>,
    head: &str,
    rows: &[T],
    mut bind: impl FnMut(sqlx::query_builder::Separated<'_, Postgres, &'static str>, &T),
) -> Result<(), DbError> {
    for chunk in rows.chunks(CHUNK) {
        let mut qb: QueryBuilder<Postgres> = QueryBuilder::new(head);
        qb.push_values(chunk, &mut bind);
        qb.build().execute(&mut **tx).await?;
    }
    Ok(())
}

async fn insert(tx: &mut Transaction<'_, Postgres>, d: &DemoData) -> Result<(), DbError> {
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
            .push_bind(u.bio.clone()).push_bind(u.phone.clone()).push_bind(u.created_at).push_bind(u.created_at);
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
                .push_bind(a.created_at);
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
    sqlx::query(
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
    sqlx::query(AGENT_ANALYTICS_SQL).execute(&mut **tx).await?;
    sqlx::query(USER_ANALYTICS_SQL).execute(&mut **tx).await?;
    Ok(())
}

const AGENT_ANALYTICS_SQL: &str = "
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

const USER_ANALYTICS_SQL: &str = "
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

#[cfg(test)]
mod tests {
    use super::*;

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
        use argon2::password_hash::PasswordVerifier;
        let d = DemoData::generate(anchor());
        for email in [DEMO_SUPER_ADMIN, DEMO_SUPPORT_ADMIN] {
            let u = d.users.iter().find(|u| u.email == email).unwrap();
            let hash = u.password_hash.as_deref().unwrap();
            assert!(hash.starts_with("$argon2id$"), "{hash}");
            Argon2::default()
                .verify_password(DEMO_PASSWORD.as_bytes(), hash)
                .unwrap();
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
