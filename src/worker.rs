//! Runs the app's commands off the UI loop: each in a task of its own, its answer sent back as a
//! message tagged with the request id.

use sqlx::PgPool;
use tokio::sync::mpsc::UnboundedSender;

use crate::actions::auth::{self, SignInMethod};
use crate::actions::{self, ActionError};
use crate::app::{Command, Msg, SignInFail};
use crate::db::{DbError, details, lists};

#[derive(Clone)]
pub struct Worker {
    pool: PgPool,
    /// This console's `application_name`, which tells its sessions apart from other consoles'.
    app_name: String,
    tx: UnboundedSender<Msg>,
}

/// Error text for the status line: one line, no SQL, no password.
pub fn describe_error(e: &DbError) -> String {
    let text = match e {
        DbError::Sqlx(sqlx::Error::Database(d)) if d.code().as_deref() == Some("57014") => {
            "query cancelled".to_string()
        }
        DbError::Sqlx(sqlx::Error::PoolTimedOut) => {
            "database unreachable (timed out waiting for a connection); retrying on r".to_string()
        }
        DbError::Sqlx(sqlx::Error::Io(io)) => format!("database connection lost: {io}"),
        other => other.to_string(),
    };
    text.lines().next().unwrap_or_default().to_string()
}

/// Answers the commands that only read (pages, counts, details, late figures); gives any other
/// command back. The console's worker and the benchmark both answer through here.
pub async fn read(pool: &PgPool, cmd: Command) -> Result<Msg, Command> {
    let text = |e: DbError| describe_error(&e);
    Ok(match cmd {
        Command::FetchPage {
            req,
            kind,
            filter,
            page,
            limit,
        } => Msg::Page {
            req,
            result: lists::fetch_page(pool, kind, &filter, &page, limit)
                .await
                .map_err(text),
        },
        Command::Count { req, kind, filter } => Msg::Count {
            req,
            result: lists::count_rows(pool, kind, &filter).await.map_err(text),
        },
        Command::LoadDetail { req, kind, id } => Msg::Detail {
            req,
            result: details::load_detail(pool, kind, id).await.map_err(text),
        },
        Command::FetchStats {
            kind,
            generation,
            ids,
        } => Msg::Stats {
            kind,
            generation,
            result: lists::fetch_stats(pool, kind, &ids).await.map_err(text),
        },
        other => return Err(other),
    })
}

impl Worker {
    pub fn new(pool: PgPool, app_name: String, tx: UnboundedSender<Msg>) -> Worker {
        Worker { pool, app_name, tx }
    }

    pub fn run(&self, cmd: Command) {
        let pool = self.pool.clone();
        let tx = self.tx.clone();
        let app_name = self.app_name.clone();
        tokio::spawn(async move {
            let cmd = match read(&pool, cmd).await {
                Ok(msg) => {
                    // The UI may have quit meanwhile; then nobody wants the answer.
                    let _ = tx.send(msg);
                    return;
                }
                Err(cmd) => cmd,
            };
            let msg = match cmd {
                // Answered by `read` above.
                Command::FetchPage { .. }
                | Command::Count { .. }
                | Command::LoadDetail { .. }
                | Command::FetchStats { .. } => return,
                Command::SignIn {
                    req,
                    email,
                    password,
                    demo,
                    ctx,
                    read_only,
                } => {
                    let method = if demo {
                        SignInMethod::Demo
                    } else {
                        SignInMethod::Password
                    };
                    let usable = if demo {
                        auth::is_demo_account(&pool, &email).await
                    } else {
                        Ok(true)
                    };
                    let result = match usable {
                        Err(e) => Err(SignInFail::Error(describe_error(&e))),
                        Ok(false) => Err(SignInFail::NeedPassword),
                        Ok(true) => {
                            auth::sign_in(&pool, &email, &password, method, &ctx, read_only)
                                .await
                                .map_err(|e| match e {
                                    ActionError::SignIn => SignInFail::Refused,
                                    other => SignInFail::Error(other.to_string()),
                                })
                        }
                    };
                    Msg::SignedIn { req, demo, result }
                }
                Command::Prepare {
                    req,
                    session,
                    verb,
                    kind,
                    id,
                } => Msg::Prepared {
                    req,
                    result: actions::prepare(&pool, &session, verb, kind, id)
                        .await
                        .map_err(|e| e.to_string()),
                },
                Command::Apply {
                    req,
                    session,
                    request,
                } => Msg::Applied {
                    req,
                    result: actions::apply(&pool, &session, &request).await,
                },
                Command::Export {
                    req,
                    session,
                    filter,
                    filter_text,
                    path,
                } => {
                    use crate::db::export::{self, Format};
                    let format = Format::for_path(&path);
                    let progress_tx = tx.clone();
                    let mut progress = move |rows: u64| {
                        let _ = progress_tx.send(Msg::ExportProgress { req, rows });
                    };
                    // Still an active admin? (The console may have been open for hours.)
                    let result = match actions::ensure_admin(&pool, &session).await {
                        Err(e) => Err(e.to_string()),
                        Ok(()) => export::export_to_file(
                            &pool,
                            &filter,
                            format,
                            &path,
                            false,
                            &mut progress,
                        )
                        .await
                        .map_err(|e| e.to_string()),
                    };
                    if let (Ok(rows), false) = (&result, session.read_only) {
                        let output = path.display().to_string();
                        if let Err(e) = actions::record_export(
                            &pool,
                            &session,
                            &filter_text,
                            format,
                            *rows,
                            &output,
                        )
                        .await
                        {
                            tracing::warn!("recording the export: {e}");
                            let _ = tx.send(Msg::Exported {
                                req,
                                result: Err(format!(
                                    "the file was written, but recording the export in the \
                                     audit log failed: {e}"
                                )),
                            });
                            return;
                        }
                    }
                    Msg::Exported { req, result }
                }
                Command::CancelQueries => {
                    let result = sqlx::query(
                        "SELECT pg_cancel_backend(pid) FROM pg_stat_activity \
                         WHERE application_name = $1 AND state = 'active' AND pid <> pg_backend_pid()",
                    )
                    .bind(&app_name)
                    .execute(&pool)
                    .await;
                    if let Err(e) = result {
                        tracing::warn!("cancelling queries: {e}");
                    }
                    return;
                }
            };
            // The UI may have quit meanwhile; then nobody wants the answer.
            let _ = tx.send(msg);
        });
    }
}
