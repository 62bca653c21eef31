//! What an applied request did, for the status line, the command line and `--json`.

use serde_json::{Value, json};
use uuid::Uuid;

/// What an applied (or skipped) request did.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub action: &'static str,
    pub resource_type: &'static str,
    pub resource_id: Option<Uuid>,
    pub old: Option<Value>,
    pub new: Option<Value>,
    /// The audit row written; none when nothing changed.
    pub audit_id: Option<Uuid>,
    pub status: Applied,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    Done,
    /// The row already held the new values: nothing was written.
    Unchanged,
    /// The idempotency key was used before: the change was applied then, not again.
    AlreadyApplied,
}

impl Outcome {
    /// One line for the status bar or the command line: each changed column old → new.
    pub fn summary(&self) -> String {
        let empty = serde_json::Map::new();
        let old = self
            .old
            .as_ref()
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let new = self
            .new
            .as_ref()
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let changes: Vec<String> = new
            .iter()
            .filter(|(k, _)| k.as_str() != "session_ids")
            .map(|(k, v)| match old.get(k) {
                Some(was) => format!("{k} {} → {}", show(was), show(v)),
                None => format!("{k} {}", show(v)),
            })
            .collect();
        match self.status {
            Applied::Done => format!("{}: {}", self.action, changes.join(", ")),
            Applied::Unchanged => format!("{}: nothing to change", self.action),
            Applied::AlreadyApplied => format!("{}: already applied, not repeated", self.action),
        }
    }

    /// The outcome for `--json`.
    pub fn to_json(&self) -> Value {
        json!({
            "status": match self.status {
                Applied::Done => "done",
                Applied::Unchanged => "unchanged",
                Applied::AlreadyApplied => "already_applied",
            },
            "action": self.action,
            "resource_type": self.resource_type,
            "resource_id": self.resource_id,
            "old": self.old,
            "new": self.new,
            "audit_id": self.audit_id,
        })
    }
}

/// A JSON value for a person: strings without quotes unless empty, null as "none".
fn show(v: &Value) -> String {
    match v {
        Value::Null => "none".into(),
        Value::String(s) if !s.is_empty() => s.clone(),
        Value::Number(n) if n.is_i64() => crate::numbers::thousands(n.as_i64().unwrap_or_default()),
        other => other.to_string(),
    }
}
