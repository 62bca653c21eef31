//! The demo data's fixed tables: the mapping guide's organisations, the counts, and the names,
//! cities, agent roles, voices and topics the generator draws from. Data only.

pub(super) struct TenantSpec {
    pub id: &'static str,
    pub name: &'static str,
    pub plan: &'static str,
    pub domain: &'static str,
    pub users: usize,
    pub agents: usize,
}

/// The organisations of the mapping guide (ids as listed there; the guide's "plus 1 more" gets an
/// id of its own), with 14, 6, 1, 1, 1 and 2 users; the system tenant holds the other 14.
pub(super) const TENANTS: [TenantSpec; 6] = [
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
pub(super) const SYSTEM_USERS: usize = 14;
/// Agents owned by individual sign-ups in the system tenant.
pub(super) const SYSTEM_AGENTS: usize = 3;
pub(super) const CALLS: usize = 742;
pub(super) const CONTACTS: usize = 63;

pub(super) const FIRST_NAMES: [&str; 40] = [
    "Olivia", "Liam", "Amara", "Noah", "Priya", "Mateo", "Sofia", "Kenji", "Chloe", "Ethan",
    "Zara", "Lucas", "Maya", "Omar", "Hannah", "Diego", "Aisha", "Felix", "Nora", "Ravi", "Elena",
    "Jonas", "Leila", "Marcus", "Ingrid", "Tomás", "Yuki", "Samuel", "Freya", "Arjun", "Camille",
    "Hugo", "Imani", "Viktor", "Grace", "Pablo", "Mei", "Isaac", "Anika", "Theo",
];
pub(super) const LAST_NAMES: [&str; 40] = [
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
pub(super) const CITIES: [&str; 10] = [
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
pub(super) const AGENT_ROLES: [(&str, &str); 12] = [
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
        "Books site visits and inspections, and confirms them the day before.",
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
pub(super) const VOICES: [(&str, &str); 5] = [
    ("azuretts", "en-US-JennyNeural"),
    ("azuretts", "en-US-GuyNeural"),
    ("polly", "Joanna"),
    ("deepgram", "aura-asteria-en"),
    ("cartesia", "sonic-english-warm"),
];
pub(super) const LLMS: [(&str, &str); 4] = [
    ("openai", "gpt-4o-mini"),
    ("openai", "gpt-4.1-mini"),
    ("anthropic", "claude-3-5-haiku"),
    ("groq", "llama-3.1-70b-versatile"),
];
pub(super) const TOPICS: [&str; 10] = [
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
pub(super) const BROWSERS: [&str; 4] = [
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
];
