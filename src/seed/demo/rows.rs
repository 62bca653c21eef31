//! The demo data's rows, one struct per table, as the generator makes them and the inserts
//! write them.

use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

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
    /// Its last change on record (set once the audit log is made).
    pub updated_at: DateTime<Utc>,
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
    /// Its last change on record (creation, an update, its deactivation).
    pub updated_at: DateTime<Utc>,
    /// When an inactive agent was deactivated: nothing happens to it afterwards.
    pub deactivated_at: Option<DateTime<Utc>>,
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
pub struct SessionRow {
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
    pub sessions: Vec<SessionRow>,
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
