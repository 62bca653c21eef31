//! What flows between the console's state and its worker: jobs out (reads, writes, a cancel),
//! messages in (keys, ticks, answers). Every answer carries its request id; the state drops
//! answers to requests it no longer waits for.

use std::path::PathBuf;
use std::time::Instant;

use chrono::{DateTime, Utc};
use ratatui::crossterm::event::KeyEvent;
use uuid::Uuid;

use crate::actions::export::ExportRequest;
use crate::actions::sign_in::{Credentials, SignInError};
use crate::actions::targets::Target;
use crate::actions::{ActionError, Actor, AuditContext, Outcome, Request, Session, Verb};
use crate::console::forms::Search;
use crate::db::details::Detail;
use crate::db::lists::{Filter, ListKind, ListRow, Page, RowCount, RowFigures};
use crate::db::lookup::FoundPage;

pub type ReqId = u64;

/// Work for the worker.
#[derive(Debug, Clone, PartialEq)]
pub enum Job {
    /// A pane's query: answered with rows, a count, a detail or late figures.
    Read(ReadJob),
    /// Sign-in, an action, an export: each writes an audit row.
    Write(WriteJob),
    /// Cancel `pane`'s running queries on the server (the other panes' go on).
    Cancel { pane: ListKind },
}

/// The queries of a pane.
#[derive(Debug, Clone, PartialEq)]
pub enum ReadJob {
    Page {
        req: ReqId,
        kind: ListKind,
        filter: Filter,
        page: Page,
        limit: i64,
    },
    Count {
        req: ReqId,
        kind: ListKind,
        filter: Filter,
    },
    Detail {
        req: ReqId,
        kind: ListKind,
        id: Uuid,
    },
    /// A form's picker searching for what its field may name.
    Lookup { req: ReqId, search: Search },
    /// The figures that come after the rows (see `lists::fetch_stats`).
    Stats {
        kind: ListKind,
        /// The pane's row generation: answers for rows since replaced are dropped.
        generation: ReqId,
        ids: Vec<Uuid>,
    },
}

impl ReadJob {
    /// The pane whose query this is.
    pub fn pane(&self) -> ListKind {
        match self {
            ReadJob::Page { kind, .. }
            | ReadJob::Count { kind, .. }
            | ReadJob::Detail { kind, .. }
            | ReadJob::Stats { kind, .. } => *kind,
            ReadJob::Lookup { search, .. } => search.lookup.pane(),
        }
    }
}

/// The jobs that go through the action layer.
#[derive(Debug, Clone, PartialEq)]
pub enum WriteJob {
    SignIn {
        req: ReqId,
        email: String,
        credentials: Credentials,
        ctx: AuditContext,
        read_only: bool,
    },
    /// Check the admin may use the verb and read what its target holds now.
    Prepare {
        prep: Preparing,
        session: Box<Session>,
    },
    /// Check a submitted change on the database without applying it (the confirm dialog waits).
    Check {
        req: ReqId,
        session: Box<Session>,
        request: Request,
    },
    /// Apply a confirmed change.
    Apply {
        req: ReqId,
        session: Box<Session>,
        request: Request,
    },
    /// Export the audit entries the request selects to `path` (and record that it was done).
    Export {
        req: ReqId,
        session: Box<Session>,
        request: ExportRequest,
        path: PathBuf,
    },
}

/// An action being prepared: its request, verb, and target row (none for a new row).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Preparing {
    pub req: ReqId,
    pub verb: Verb,
    pub kind: ListKind,
    pub id: Option<Uuid>,
}

/// How the console starts signing in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignInStart {
    /// The embedded default: try the demo password for this account, else ask.
    Demo(String),
    /// Ask for the password (and the email if none is given).
    Prompt(Option<String>),
}

#[derive(Debug, Clone)]
pub enum Msg {
    Key(KeyEvent),
    /// Text the terminal pasted (bracketed paste): typed into the field being edited, if one is.
    Paste(String),
    Resize(u16, u16),
    Tick {
        now: Instant,
        wall: DateTime<Utc>,
    },
    Page {
        req: ReqId,
        result: Result<Vec<ListRow>, String>,
    },
    Count {
        req: ReqId,
        result: Result<RowCount, String>,
    },
    Detail {
        req: ReqId,
        result: Result<Detail, String>,
    },
    Stats {
        kind: ListKind,
        generation: ReqId,
        result: Result<Vec<RowFigures>, String>,
    },
    Found {
        req: ReqId,
        result: Result<FoundPage, String>,
    },
    /// An audit entry was committed (heard on LISTEN, or seen by the poll behind a transaction
    /// pooler).
    AuditNew,
    /// The standby was measured, or a read went to the primary instead (`db::replica`).
    Standby(crate::db::replica::View),
    /// The values the connected database allows for the filter words with a fixed set.
    Known(crate::db::lists::KnownValues),
    SignedIn {
        req: ReqId,
        /// Whether the demo password signed in.
        demo: bool,
        result: Result<Actor, SignInError>,
    },
    Prepared {
        req: ReqId,
        result: Result<Option<Target>, String>,
    },
    Checked {
        req: ReqId,
        result: Result<(), ActionError>,
    },
    Applied {
        req: ReqId,
        result: Result<Outcome, ActionError>,
    },
    ExportProgress {
        req: ReqId,
        rows: u64,
    },
    Exported {
        req: ReqId,
        result: Result<u64, String>,
    },
}
