//! The console's indexes on the platform's live tables: built `CONCURRENTLY` (writes go on),
//! one statement at a time, outside any transaction, on a connection of their own with a lock
//! timeout and retries. An index already there and valid is kept; one left INVALID by an
//! interrupted build is dropped concurrently and built again. While an index builds, a second
//! connection reads its progress from `pg_stat_progress_create_index`.

use std::time::{Duration, Instant};

use sqlx::{ConnectOptions, Connection, PgConnection, PgPool};

use super::super::DbError;
use super::{ATTEMPTS, Migration, lock_timed_out};

/// How long a build waits for its table's lock before it gives up and tries again.
pub const LOCK_TIMEOUT: &str = "10s";

/// One `CREATE INDEX CONCURRENTLY` of the migration, or a `DROP INDEX CONCURRENTLY IF EXISTS`
/// of one that a later migration replaced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexStatement {
    pub name: String,
    /// The table it is built on ("" for a drop).
    pub table: String,
    /// The statement on one line, without its semicolon.
    pub sql: String,
    pub drop: bool,
}

/// The migration's statements, comments dropped.
pub fn statements(sql: &str) -> Vec<IndexStatement> {
    let text: String = sql
        .lines()
        .map(|l| l.split("--").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join(" ");
    text.split(';')
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|s| !s.is_empty())
        .map(|sql| {
            let words: Vec<&str> = sql.split(' ').collect();
            let after = |w: &str| {
                words
                    .iter()
                    .position(|x| x.eq_ignore_ascii_case(w))
                    .and_then(|i| words.get(i + 1))
                    .map(|s| s.to_string())
                    .unwrap_or_default()
            };
            let drop = words
                .first()
                .is_some_and(|w| w.eq_ignore_ascii_case("DROP"));
            IndexStatement {
                name: if drop {
                    words.last().map(|s| s.to_string()).unwrap_or_default()
                } else {
                    after("CONCURRENTLY")
                },
                table: if drop { String::new() } else { after("ON") },
                sql,
                drop,
            }
        })
        .collect()
}

/// The statements of `m` that a migration runs: an index that a later migration drops (it
/// replaced it) is not built first.
pub fn to_run(m: &Migration) -> Vec<IndexStatement> {
    let retired: Vec<String> = super::MIGRATIONS
        .iter()
        .filter(|later| later.version > m.version && later.kind == super::Kind::ConcurrentIndexes)
        .flat_map(|later| statements(later.sql))
        .filter(|s| s.drop)
        .map(|s| s.name)
        .collect();
    statements(m.sql)
        .into_iter()
        .filter(|s| s.drop || !retired.contains(&s.name))
        .collect()
}

/// What the build is doing, for a progress display.
#[derive(Debug, Clone, PartialEq)]
pub enum IndexEvent {
    /// There already, and valid.
    Kept {
        index: String,
    },
    /// Left INVALID by an interrupted build: dropped, to be built again.
    DroppedInvalid {
        index: String,
    },
    /// Replaced by a later index of the console's, and dropped (or not there).
    Dropped {
        index: String,
    },
    Building {
        index: String,
        table: String,
        number: usize,
        of: usize,
    },
    /// `done` of `total` blocks (or tuples) in `phase`.
    Progress {
        index: String,
        phase: String,
        done: i64,
        total: i64,
    },
    Built {
        index: String,
        took: Duration,
    },
    /// The table's lock was not to be had within [`LOCK_TIMEOUT`].
    Retrying {
        index: String,
        attempt: u32,
        wait: Duration,
    },
}

async fn validity(conn: &mut PgConnection, index: &str) -> Result<Option<bool>, sqlx::Error> {
    crate::db::query_scalar(
        "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
         WHERE c.relname = $1 AND c.relnamespace = 'public'::regnamespace",
    )
    .bind(index)
    .fetch_optional(conn)
    .await
}

async fn drop_index(conn: &mut PgConnection, index: &str) -> Result<(), sqlx::Error> {
    let name = super::super::connect::quote_ident(index);
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "DROP INDEX CONCURRENTLY IF EXISTS public.{name}"
    )))
    .execute(conn)
    .await
    .map(|_| ())
}

/// Builds the indexes of `m` that are not there (valid) yet.
pub(super) async fn build(
    pool: &PgPool,
    m: &Migration,
    progress: &mut (dyn FnMut(IndexEvent) + Send),
) -> Result<(), DbError> {
    let options = pool.connect_options();
    let mut conn = options.connect().await?;
    let mut watcher = options.connect().await?;
    let result = build_on(&mut conn, &mut watcher, m, progress).await;
    conn.close().await.ok();
    watcher.close().await.ok();
    result.map_err(|e| {
        DbError::Refused(format!(
            "migration {:04} ({}): {}",
            m.version,
            m.name,
            super::super::sqlx_text(&e)
        ))
    })
}

async fn build_on(
    conn: &mut PgConnection,
    watcher: &mut PgConnection,
    m: &Migration,
    progress: &mut (dyn FnMut(IndexEvent) + Send),
) -> Result<(), sqlx::Error> {
    // Operator classes (pg_trgm's) are found wherever their extension lives.
    crate::db::query(
        "SELECT set_config('search_path', concat_ws(', ', 'public', \
             (SELECT string_agg(DISTINCT quote_ident(n.nspname), ', ') FROM pg_extension e \
              JOIN pg_namespace n ON n.oid = e.extnamespace \
              WHERE n.nspname NOT IN ('public', 'pg_catalog'))), false)",
    )
    .execute(&mut *conn)
    .await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "SET lock_timeout = '{LOCK_TIMEOUT}'; SET statement_timeout = 0"
    )))
    .execute(&mut *conn)
    .await?;
    let pid: i32 = crate::db::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(&mut *conn)
        .await?;
    let all = to_run(m);
    for (i, ix) in all.iter().enumerate() {
        if ix.drop {
            drop_index(&mut *conn, &ix.name).await?;
            progress(IndexEvent::Dropped {
                index: ix.name.clone(),
            });
            continue;
        }
        if is_partitioned(&mut *conn, &ix.table).await? {
            if validity(&mut *conn, &ix.name).await? == Some(true) {
                progress(IndexEvent::Kept {
                    index: ix.name.clone(),
                });
                continue;
            }
            progress(IndexEvent::Building {
                index: ix.name.clone(),
                table: ix.table.clone(),
                number: i + 1,
                of: all.len(),
            });
            let started = Instant::now();
            build_partitioned(&mut *conn, &mut *watcher, pid, ix, progress).await?;
            progress(IndexEvent::Built {
                index: ix.name.clone(),
                took: started.elapsed(),
            });
            continue;
        }
        match validity(&mut *conn, &ix.name).await? {
            Some(true) => {
                progress(IndexEvent::Kept {
                    index: ix.name.clone(),
                });
                continue;
            }
            Some(false) => {
                drop_index(&mut *conn, &ix.name).await?;
                progress(IndexEvent::DroppedInvalid {
                    index: ix.name.clone(),
                });
            }
            None => {}
        }
        progress(IndexEvent::Building {
            index: ix.name.clone(),
            table: ix.table.clone(),
            number: i + 1,
            of: all.len(),
        });
        let mut attempt = 1;
        loop {
            let started = Instant::now();
            let outcome = build_one(&mut *conn, &mut *watcher, pid, ix, progress).await;
            match outcome {
                Ok(()) => {
                    progress(IndexEvent::Built {
                        index: ix.name.clone(),
                        took: started.elapsed(),
                    });
                    break;
                }
                Err(e) => {
                    // A failed concurrent build leaves an INVALID index behind.
                    drop_index(&mut *conn, &ix.name).await?;
                    if !lock_timed_out(&e) || attempt >= ATTEMPTS {
                        return Err(e);
                    }
                    let wait = Duration::from_secs(1 << attempt);
                    progress(IndexEvent::Retrying {
                        index: ix.name.clone(),
                        attempt,
                        wait,
                    });
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
            }
        }
    }
    Ok(())
}

async fn is_partitioned(conn: &mut PgConnection, table: &str) -> Result<bool, sqlx::Error> {
    crate::db::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM pg_class WHERE relname = $1 \
                        AND relnamespace = 'public'::regnamespace AND relkind = 'p')",
    )
    .bind(table)
    .fetch_one(conn)
    .await
}

/// A partitioned table takes no `CREATE INDEX CONCURRENTLY`: the index is made on the parent
/// alone (`ON ONLY`, invalid until complete), then built concurrently on each partition (writes
/// go on) and attached; with the last one attached the parent's index is valid. Partitions made
/// later get it from the parent.
async fn build_partitioned(
    conn: &mut PgConnection,
    watcher: &mut PgConnection,
    pid: i32,
    ix: &IndexStatement,
    progress: &mut (dyn FnMut(IndexEvent) + Send),
) -> Result<(), sqlx::Error> {
    let head = format!("CREATE INDEX CONCURRENTLY {} ON {} ", ix.name, ix.table);
    let Some(rest) = ix.sql.strip_prefix(&head) else {
        return Err(sqlx::Error::Protocol(format!(
            "cannot read the index statement {}",
            ix.sql
        )));
    };
    let q = super::super::connect::quote_ident;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "CREATE INDEX IF NOT EXISTS {} ON ONLY public.{} {rest}",
        q(&ix.name),
        q(&ix.table)
    )))
    .execute(&mut *conn)
    .await?;
    let partitions: Vec<String> = crate::db::query_scalar(
        "SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid \
         WHERE i.inhparent = (SELECT oid FROM pg_class WHERE relname = $1 \
                              AND relnamespace = 'public'::regnamespace) ORDER BY 1",
    )
    .bind(&ix.table)
    .fetch_all(&mut *conn)
    .await?;
    let suffix = ix
        .name
        .trim_start_matches("idx_")
        .trim_start_matches(&format!("{}_", ix.table))
        .to_string();
    for partition in partitions {
        // A partition whose index is attached already (an earlier run, or one the parent's
        // index gave a partition made since) needs nothing.
        let attached: bool = crate::db::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM pg_inherits h JOIN pg_index x ON x.indexrelid = h.inhrelid \
             WHERE h.inhparent = (SELECT oid FROM pg_class WHERE relname = $1 \
                                  AND relnamespace = 'public'::regnamespace) \
               AND x.indrelid = (SELECT oid FROM pg_class WHERE relname = $2 \
                                 AND relnamespace = 'public'::regnamespace))",
        )
        .bind(&ix.name)
        .bind(&partition)
        .fetch_one(&mut *conn)
        .await?;
        if attached {
            continue;
        }
        // PostgreSQL's 63-byte limit on names, cut on a character boundary.
        let mut child = format!("{partition}_{suffix}");
        while child.len() > 63 {
            child.pop();
        }
        if validity(&mut *conn, &child).await? == Some(false) {
            drop_index(&mut *conn, &child).await?;
        }
        if validity(&mut *conn, &child).await?.is_none() {
            let one = IndexStatement {
                name: child.clone(),
                table: partition.clone(),
                sql: format!(
                    "CREATE INDEX CONCURRENTLY {} ON public.{} {rest}",
                    q(&child),
                    q(&partition)
                ),
                drop: false,
            };
            build_one(&mut *conn, &mut *watcher, pid, &one, progress).await?;
        }
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "ALTER INDEX public.{} ATTACH PARTITION public.{}",
            q(&ix.name),
            q(&child)
        )))
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// One build, with its progress read every 250 ms on `watcher`.
async fn build_one(
    conn: &mut PgConnection,
    watcher: &mut PgConnection,
    pid: i32,
    ix: &IndexStatement,
    progress: &mut (dyn FnMut(IndexEvent) + Send),
) -> Result<(), sqlx::Error> {
    let sql = ix.sql.clone();
    let build = sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(conn);
    tokio::pin!(build);
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    loop {
        tokio::select! {
            done = &mut build => return done.map(|_| ()),
            _ = tick.tick() => {
                let row: Option<(String, i64, i64)> = crate::db::query_as(
                    "SELECT phase, \
                            CASE WHEN blocks_total > 0 THEN blocks_done ELSE tuples_done END, \
                            CASE WHEN blocks_total > 0 THEN blocks_total ELSE tuples_total END \
                     FROM pg_stat_progress_create_index WHERE pid = $1",
                )
                .bind(pid)
                .fetch_optional(&mut *watcher)
                .await
                .unwrap_or(None);
                if let Some((phase, done, total)) = row {
                    progress(IndexEvent::Progress { index: ix.name.clone(), phase, done, total });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_index_a_later_migration_drops_is_not_built() {
        let all = statements(super::super::MIGRATIONS[4].sql);
        let run = to_run(&super::super::MIGRATIONS[4]);
        assert_eq!(run.len(), all.len() - 2);
        assert!(all.iter().any(|i| i.name == "idx_users_email_trgm"));
        assert!(
            !run.iter()
                .any(|i| i.name.starts_with("idx_users_email_trgm"))
        );
        assert!(
            !run.iter()
                .any(|i| i.name.starts_with("idx_users_name_trgm"))
        );
    }

    #[test]
    fn a_drop_names_its_index_and_no_table() {
        let all = statements(super::super::MIGRATIONS[9].sql);
        let drops: Vec<&str> = all
            .iter()
            .filter(|i| i.drop)
            .map(|i| i.name.as_str())
            .collect();
        assert_eq!(drops, ["idx_users_email_trgm", "idx_users_name_trgm"]);
        let built = all.iter().find(|i| !i.drop).unwrap();
        assert_eq!(built.name, "idx_users_email_key_trgm");
        assert_eq!(built.table, "users");
        assert_eq!(
            built.sql,
            "CREATE INDEX CONCURRENTLY idx_users_email_key_trgm ON users USING gin \
             ((translate(email, ' .@-+_''', '')) gin_trgm_ops)"
        );
    }

    #[test]
    fn every_statement_is_a_named_concurrent_index_on_a_table() {
        let all = statements(super::super::MIGRATIONS[4].sql);
        assert!(all.len() >= 15, "{all:?}");
        for ix in &all {
            assert!(
                ix.sql.starts_with("CREATE INDEX CONCURRENTLY idx_"),
                "{ix:?}"
            );
            assert!(ix.name.starts_with("idx_"), "{ix:?}");
            assert!(!ix.table.is_empty() && !ix.sql.contains("--"), "{ix:?}");
        }
        let partial = all
            .iter()
            .find(|i| i.name == "idx_users_active_super_admins")
            .unwrap();
        assert_eq!(
            partial.sql,
            "CREATE INDEX CONCURRENTLY idx_users_active_super_admins ON users (id) \
             WHERE role = 'super_admin' AND is_active"
        );
    }
}
