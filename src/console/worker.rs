//! Runs the console's jobs off the UI loop: each in a task of its own, its answer sent back as a
//! message tagged with the request id. Reads and writes are separate job types; a cancel stops
//! one pane's queries on the server.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use sqlx::{ConnectOptions, Connection, PgPool};
use tokio::sync::mpsc::UnboundedSender;

use super::forms::PICKER_ROWS;
use super::messages::{Job, Msg, ReadJob, WriteJob};
use crate::actions::export::{self, Destination};
use crate::actions::sign_in::{self, Credentials, SignInError};
use crate::actions::{self, ActionError};
use crate::db::export::PROGRESS_EVERY;
use crate::db::lists::{ListKind, PANE_TAG, query_tag};
use crate::db::replica::Reads;
use crate::db::{DbError, details, lists, lookup};

#[derive(Clone)]
pub struct Worker {
    /// Reads go to the standby where there is one; writes to its primary.
    reads: Reads,
    /// This console's `application_name`, which tells its sessions apart from other consoles'.
    app_name: String,
    tx: UnboundedSender<Msg>,
    /// How many reads are running: a console that quits with none has none to stop.
    reading: Arc<AtomicUsize>,
}

/// Counts one running read for as long as it lives.
struct Reading(Arc<AtomicUsize>);

impl Reading {
    fn start(count: &Arc<AtomicUsize>) -> Reading {
        count.fetch_add(1, Ordering::SeqCst);
        Reading(count.clone())
    }
}

impl Drop for Reading {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Answers a pane's query, on the standby where there is one. The console's worker and the
/// benchmark both read through here.
pub async fn read(reads: &Reads, job: ReadJob) -> Msg {
    let text = |e: DbError| e.brief();
    match job {
        ReadJob::Page {
            req,
            kind,
            filter,
            page,
            limit,
        } => Msg::Page {
            req,
            result: reads
                .read(|pool| {
                    let (filter, page) = (&filter, &page);
                    async move { lists::fetch_page(&pool, kind, filter, page, limit).await }
                })
                .await
                .map_err(text),
        },
        ReadJob::Count { req, kind, filter } => Msg::Count {
            req,
            result: reads
                .read(|pool| {
                    let filter = &filter;
                    async move { lists::count_rows(&pool, kind, filter).await }
                })
                .await
                .map_err(text),
        },
        ReadJob::Detail { req, kind, id } => Msg::Detail {
            req,
            result: reads
                .read(|pool| async move { details::load_detail(&pool, kind, id).await })
                .await
                .map_err(text),
        },
        ReadJob::Stats {
            kind,
            generation,
            ids,
        } => Msg::Stats {
            kind,
            generation,
            result: reads
                .read(|pool| {
                    let ids = &ids;
                    async move { lists::fetch_stats(&pool, kind, ids).await }
                })
                .await
                .map_err(text),
        },
        ReadJob::Lookup { req, search } => Msg::Found {
            req,
            result: reads
                .read(|pool| {
                    let search = &search;
                    async move {
                        lookup::search(
                            &pool,
                            search.lookup,
                            &search.text,
                            search.after.clone(),
                            PICKER_ROWS as i64,
                        )
                        .await
                    }
                })
                .await
                .map_err(text),
        },
    }
}

/// Runs a job that goes through the action layer, on the primary (an export reads its rows
/// from the standby where there is one); `progress` carries an export's messages. Afterwards the
/// reads that follow wait for the standby to have replayed what it wrote.
async fn write(reads: &Reads, job: WriteJob, progress: &UnboundedSender<Msg>) -> Msg {
    let msg = write_on_primary(reads, job, progress).await;
    reads.caught_up_to_primary().await;
    msg
}

async fn write_on_primary(reads: &Reads, job: WriteJob, progress: &UnboundedSender<Msg>) -> Msg {
    let pool = reads.primary();
    match job {
        WriteJob::SignIn {
            req,
            email,
            credentials,
            ctx,
            read_only,
        } => {
            let demo = credentials == Credentials::Demo;
            let result = sign_in::sign_in(pool, &email, &credentials, &ctx, read_only).await;
            if result.is_ok() {
                // The filter values this database's constraints allow; where they cannot be
                // read, the documented ones stay.
                let known = match crate::db::pinned(pool).await {
                    Ok(mut conn) => crate::db::lists::KnownValues::load(&mut *conn).await,
                    Err(e) => Err(e),
                };
                match known {
                    Ok(known) => {
                        let _ = progress.send(Msg::Known(known));
                    }
                    Err(e) => tracing::warn!(error = %e, "filter values not read"),
                }
            }
            Msg::SignedIn { req, demo, result }
        }
        WriteJob::Prepare { prep, session } => Msg::Prepared {
            req: prep.req,
            result: actions::prepare(pool, &session, prep.verb, prep.kind, prep.id)
                .await
                .map_err(|e| e.to_string()),
        },
        WriteJob::Check {
            req,
            session,
            request,
        } => Msg::Checked {
            req,
            result: actions::check(pool, &session, &request).await,
        },
        WriteJob::Apply {
            req,
            session,
            request,
        } => Msg::Applied {
            req,
            result: actions::apply(pool, &session, &request).await,
        },
        WriteJob::Export {
            req,
            session,
            request,
            path,
        } => {
            let progress = progress.clone();
            let mut progress = move |rows: u64| {
                if rows.is_multiple_of(PROGRESS_EVERY) {
                    let _ = progress.send(Msg::ExportProgress { req, rows });
                }
            };
            let destination = Destination::File {
                path: &path,
                replace: false,
            };
            reads.caught_up_to_primary().await;
            let source = reads.pool().await;
            let result = export::export(
                pool,
                &source,
                &session,
                &request,
                destination,
                &mut progress,
            )
            .await
            .map_err(|e| e.to_string());
            Msg::Exported { req, result }
        }
    }
}

/// Cancels the running queries of `pane` in the sessions named `app_name` (this console's; no
/// other console's, and none of this console's other panes').
pub async fn cancel_pane_queries(pool: &PgPool, app_name: &str, pane: ListKind) {
    let result = async {
        let mut conn = crate::db::pinned(pool).await?;
        cancel_tagged(&mut conn, app_name, query_tag(pane)).await
    }
    .await;
    if let Err(e) = result {
        tracing::warn!("cancelling queries: {e}");
    }
}

/// Cancels the running statements that start with `tag` in the sessions named `app_name`.
async fn cancel_tagged(
    conn: &mut sqlx::PgConnection,
    app_name: &str,
    tag: &str,
) -> Result<(), crate::db::DbError> {
    crate::db::query(
        "SELECT pg_cancel_backend(pid) FROM pg_stat_activity \
         WHERE application_name = $1 AND state = 'active' AND pid <> pg_backend_pid() \
           AND starts_with(query, $2)",
    )
    .bind(app_name)
    .bind(tag)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// How long a quitting console spends stopping its reads.
pub const STOP_READS_WITHIN: Duration = Duration::from_secs(3);

impl Worker {
    pub fn new(reads: Reads, app_name: String, tx: UnboundedSender<Msg>) -> Worker {
        Worker {
            reads,
            app_name,
            tx,
            reading: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Cancels this console's pane reads still running, on every server: the console is
    /// quitting, nobody waits for their answers, and closing the pool would wait for them (a page
    /// waiting on a lock, up to the statement timeout). On a connection of its own, since the
    /// pool's may all be held by the reads it stops; at most [`STOP_READS_WITHIN`]. Changes are
    /// not cancelled: they finish and are recorded. With no read running, nothing to do (no
    /// connection is made: the server may be the reason the admin quits).
    pub async fn stop_reads(&self) {
        if self.reading.load(Ordering::SeqCst) == 0 {
            return;
        }
        let stop = async {
            for pool in self.reads.pools() {
                let result = async {
                    let mut conn = pool.connect_options().connect().await?;
                    let mut tx = conn.begin().await?;
                    cancel_tagged(&mut tx, &self.app_name, PANE_TAG).await?;
                    tx.commit().await?;
                    conn.close().await?;
                    Ok::<(), crate::db::DbError>(())
                }
                .await;
                if let Err(e) = result {
                    tracing::warn!("stopping the console's reads: {e}");
                }
            }
        };
        if tokio::time::timeout(STOP_READS_WITHIN, stop).await.is_err() {
            tracing::warn!("stopping the console's reads took too long; quitting anyway");
        }
    }

    pub fn run(&self, job: Job) {
        let reads = self.reads.clone();
        let tx = self.tx.clone();
        let app_name = self.app_name.clone();
        let reading = matches!(job, Job::Read(_)).then(|| Reading::start(&self.reading));
        tokio::spawn(async move {
            let _reading = reading;
            let work = {
                let job = job.clone();
                let tx = tx.clone();
                async move {
                    match job {
                        Job::Read(read_job) => Some(read(&reads, read_job).await),
                        Job::Write(write_job) => Some(write(&reads, write_job, &tx).await),
                        Job::Cancel { pane } => {
                            // The pane's query may be on either server.
                            for pool in reads.pools() {
                                cancel_pane_queries(&pool, &app_name, pane).await;
                            }
                            None
                        }
                    }
                }
            };
            // The UI may have quit meanwhile; then nobody wants the answer.
            if let Some(msg) = guarded(&job, work).await {
                let _ = tx.send(msg);
            }
        });
    }
}

/// Runs `work`; if it panics, answers `job` with an error instead, so the console shows a
/// message and goes on (the panic itself is logged by the console's panic hook).
pub async fn guarded(
    job: &Job,
    work: impl std::future::Future<Output = Option<Msg>>,
) -> Option<Msg> {
    use futures_util::FutureExt;
    match std::panic::AssertUnwindSafe(work).catch_unwind().await {
        Ok(msg) => msg,
        Err(_) => failed(
            job,
            "internal error (details in the log); nothing was changed by it",
        ),
    }
}

/// The answer to `job` that says it failed with `why`.
fn failed(job: &Job, why: &str) -> Option<Msg> {
    let e = why.to_string();
    Some(match job {
        Job::Read(ReadJob::Page { req, .. }) => Msg::Page {
            req: *req,
            result: Err(e),
        },
        Job::Read(ReadJob::Count { req, .. }) => Msg::Count {
            req: *req,
            result: Err(e),
        },
        Job::Read(ReadJob::Detail { req, .. }) => Msg::Detail {
            req: *req,
            result: Err(e),
        },
        Job::Read(ReadJob::Stats {
            kind, generation, ..
        }) => Msg::Stats {
            kind: *kind,
            generation: *generation,
            result: Err(e),
        },
        Job::Read(ReadJob::Lookup { req, .. }) => Msg::Found {
            req: *req,
            result: Err(e),
        },
        Job::Write(WriteJob::SignIn {
            req, credentials, ..
        }) => Msg::SignedIn {
            req: *req,
            demo: *credentials == Credentials::Demo,
            result: Err(SignInError::Failed(ActionError::Db(e))),
        },
        Job::Write(WriteJob::Prepare { prep, .. }) => Msg::Prepared {
            req: prep.req,
            result: Err(e),
        },
        // A change that panicked may or may not have committed: the confirm dialog stays for a
        // retry, which its idempotency key or old values make safe.
        Job::Write(WriteJob::Check { req, .. }) => Msg::Checked {
            req: *req,
            result: Err(ActionError::Db(e.to_string())),
        },
        Job::Write(WriteJob::Apply { req, .. }) => Msg::Applied {
            req: *req,
            result: Err(ActionError::Db(format!(
                "{e}; the change may or may not have been applied"
            ))),
        },
        Job::Write(WriteJob::Export { req, .. }) => Msg::Exported {
            req: *req,
            result: Err(e),
        },
        Job::Cancel { .. } => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::lists::{Filter, Page};

    #[test]
    fn a_job_that_panics_is_answered_with_an_error() {
        let job = Job::Read(ReadJob::Page {
            req: 7,
            kind: ListKind::AuditLog,
            filter: Filter::default(),
            page: Page::First,
            limit: 10,
        });
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let work = async { panic!("boom") };
        let answer = rt.block_on(guarded(&job, work));
        match answer {
            Some(Msg::Page {
                req: 7,
                result: Err(e),
            }) => assert!(e.contains("internal error")),
            other => panic!("{other:?}"),
        }
    }
}
