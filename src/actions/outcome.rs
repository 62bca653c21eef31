//! What an applied request did, for the status line, the command line and `--json`.

use serde_json::{Value, json};
use uuid::Uuid;

use crate::db::labels::{self, Labels};

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
    /// What the ids of the change name, read in its transaction (the summary shows names).
    pub labels: Labels,
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
    /// One line for the status bar or the command line: the action, what it was done to, and
    /// each changed value old → new, ids by name.
    pub fn summary(&self) -> String {
        match self.status {
            Applied::Done => format!(
                "{} {}",
                self.action,
                labels::sentence(
                    self.resource_type,
                    self.resource_id,
                    self.old.as_ref(),
                    self.new.as_ref(),
                    &self.labels,
                )
            ),
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
