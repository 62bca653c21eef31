//! The Audit log pane follows new entries: the audit writer and the backstop triggers
//! `NOTIFY switchboard_audit` with the entry's id (delivered at commit); the console listens on a
//! connection of its own, or, behind a transaction pooler where LISTEN is not kept, polls every
//! 2 s. At the top of the list a new entry appears at once; scrolled down, the selection stays and
//! the status line counts what came.

use std::time::Duration;

use sqlx::PgPool;
use tokio::sync::mpsc::UnboundedSender;

use super::app::App;
use super::messages::{Job, Msg};
use super::pane::Fetch;
use crate::db::lists::ListKind;
use crate::db::replica::{PROBE_EVERY, Reads};

/// How the console hears of new audit entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Live {
    /// Not following (before the front end starts it; in tests).
    Off,
    /// LISTEN on a connection of its own: new entries show within a moment of their commit.
    Listening,
    /// Behind a transaction pooler (no LISTEN): the newest entry is read every [`POLL_EVERY`].
    Polling,
}

/// How often the console looks for new entries where it cannot listen.
pub const POLL_EVERY: Duration = Duration::from_secs(2);

/// Starts following the audit log for the console: a task that sends `Msg::AuditNew` for each
/// entry committed (heard from the primary: a standby takes no LISTEN, and the reads that follow
/// wait until it has replayed the entry). Returns how.
pub fn follow(reads: Reads, tx: UnboundedSender<Msg>, tasks: &mut Background) -> Live {
    let (heard_tx, mut heard_rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    let pool = reads.primary().clone();
    let live = if crate::db::pooler::transaction_pooler() {
        tasks.spawn(async move {
            let _ = poll(&pool, &mut |()| heard_tx.send(()).is_ok()).await;
        });
        Live::Polling
    } else {
        tasks.spawn(async move {
            listen(&pool, &mut |()| heard_tx.send(()).is_ok()).await;
        });
        Live::Listening
    };
    tasks.spawn(async move {
        while heard_rx.recv().await.is_some() {
            reads.caught_up_to_primary().await;
            if tx.send(Msg::AuditNew).is_err() {
                return;
            }
        }
    });
    live
}

/// The console's tasks in the background (following the audit log, watching the standby),
/// stopped when this is dropped: a console that quits leaves none of them holding a connection,
/// which closing the pool would wait for. (A listener waiting in `recv` can miss the pool's
/// close when it falls in the same instant as a notification: a console refused at its third
/// sign-in, whose refusal is itself an audit entry, once stayed after the terminal was given
/// back.)
#[derive(Default)]
pub struct Background(Vec<tokio::task::AbortHandle>);

impl Background {
    pub fn spawn(&mut self, task: impl Future<Output = ()> + Send + 'static) {
        self.0.push(tokio::spawn(task).abort_handle());
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}

/// With a standby, measures it every [`PROBE_EVERY`] and tells the console when what it shows
/// changes (the lag in whole seconds, unreachable, back, a read sent to the primary).
pub fn watch_standby(reads: Reads, tx: UnboundedSender<Msg>, tasks: &mut Background) {
    if reads.standby_description().is_none() {
        return;
    }
    tasks.spawn(async move {
        let mut shown = reads.view();
        loop {
            tokio::time::sleep(PROBE_EVERY).await;
            let view = reads.probe().await;
            if view != shown {
                if let Some(v) = &view
                    && tx.send(Msg::Standby(v.clone())).is_err()
                {
                    return;
                }
                shown = view;
            }
        }
    });
}

/// Calls `heard` for every notification on the audit channel, reconnecting after a lost
/// connection, until `heard` returns false.
pub async fn listen(pool: &PgPool, heard: &mut (dyn FnMut(()) -> bool + Send)) {
    loop {
        if let Ok(mut listener) = sqlx::postgres::PgListener::connect_with(pool).await
            && listener.listen(crate::db::chain::CHANNEL).await.is_ok()
        {
            // A reconnect may have missed entries: say something came.
            if !heard(()) {
                return;
            }
            while let Ok(_notification) = listener.recv().await {
                if !heard(()) {
                    return;
                }
            }
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Calls `seen` whenever the newest audit entry changes, looking every [`POLL_EVERY`], until
/// `seen` returns false.
pub async fn poll(pool: &PgPool, seen: &mut (dyn FnMut(()) -> bool + Send)) -> Option<()> {
    let mut newest: Option<uuid::Uuid> = None;
    loop {
        let now: Option<uuid::Uuid> = async {
            crate::db::query_scalar(
                "SELECT id FROM audit_logs ORDER BY created_at DESC, id DESC LIMIT 1",
            )
            .fetch_optional(&mut *crate::db::pinned(pool).await.ok()?)
            .await
            .ok()
            .flatten()
        }
        .await;
        if now.is_some() && newest.is_some() && now != newest && !seen(()) {
            return None;
        }
        if now.is_some() {
            newest = now;
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
}

impl App {
    /// An audit entry was committed. At the top of the Audit log pane (the selection on the
    /// first row, no detail open), the first page is read again at once; anywhere else the
    /// selection stays and the entry is counted (`g` or `r` shows them). A pane not yet loaded
    /// reads the newest when it is opened anyway.
    pub(super) fn on_audit_new(&mut self) -> Vec<Job> {
        let tab = ListKind::AuditLog.index();
        let visible = self.tab == tab;
        let pane = &mut self.panes[tab];
        if !pane.loaded {
            return Vec::new();
        }
        if pane.loading.is_some() {
            pane.follow_again = true;
            return Vec::new();
        }
        let at_top = pane.at_start && pane.selected == 0 && pane.detail.is_none();
        if !at_top {
            pane.fresh += 1;
            return Vec::new();
        }
        pane.count = None;
        if !visible {
            // Read again when next shown.
            pane.loaded = false;
            return Vec::new();
        }
        self.load(tab, Fetch::Replace)
    }
}
