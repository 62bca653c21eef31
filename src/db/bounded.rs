//! User searches bounded in time, whatever the planner believes.
//!
//! PostgreSQL estimates how many users `ILIKE '%term%'` matches from a sample of about a hundred
//! values (the column's histogram). When that sample happens to hold the term, it expects a
//! hundred times more matches than there are, and for a page of 51 in email order it walks the
//! email index in that order, checking each user until it has the page: on ten million users,
//! minutes (seen at 50 million audit entries: BENCHMARKS.md). Fresh statistics can bring this on
//! at any `ANALYZE`, so it is bounded here rather than hoped away.
//!
//! A search (the Users and Credits panes with free text, and the pickers that use them) runs as
//! planned for at most [`SEARCH_BUDGET`]. If that runs out, it runs once more with index scans and
//! sequential scans off: bitmap scans of the trigram indexes find every match, which are then
//! sorted. That plan is not always the faster one (a word that matches a third of a million users
//! is found in 3 ms by the walk, in seconds by the bitmap), which is why it is the second try and
//! not the only one.

use std::time::{Duration, Instant};

use sqlx::postgres::PgRow;
use sqlx::{PgPool, Postgres, QueryBuilder};

use super::DbError;

/// How long a search may run as planned before it is run again with bitmap scans only. A right
/// plan answers in well under 50 ms on ten million users (BENCHMARKS.md); a wrong one takes
/// seconds.
pub const SEARCH_BUDGET: Duration = Duration::from_millis(250);

/// Marks the second try's statement, after the pane's tag (so that Esc still cancels it, and
/// `pg_stat_activity` shows which try is running).
pub const BITMAP_TAG: &str = "/* bitmap scans only */ ";

/// The rows of a search. `build(tag)` makes the statement, with `tag` ("" or [`BITMAP_TAG`])
/// right after the pane's own tag.
pub(crate) async fn search_rows(
    pool: &PgPool,
    build: impl Fn(&'static str) -> QueryBuilder<Postgres>,
) -> Result<Vec<PgRow>, DbError> {
    let started = Instant::now();
    match as_planned(pool, build("")).await {
        Err(e) if ran_out(&e) && started.elapsed() >= SEARCH_BUDGET => {
            tracing::info!(
                "a search ran out of its {} ms as planned; running it with bitmap scans only",
                SEARCH_BUDGET.as_millis()
            );
            bitmap_only(pool, build(BITMAP_TAG)).await
        }
        other => other,
    }
}

/// The first try, under the budget (or the session's own statement timeout, when shorter).
async fn as_planned(pool: &PgPool, mut qb: QueryBuilder<Postgres>) -> Result<Vec<PgRow>, DbError> {
    let mut tx = crate::db::begin(pool).await?;
    crate::db::query(
        "SELECT set_config('statement_timeout', \
           CASE WHEN current_setting('statement_timeout')::interval > interval '0' \
                 AND current_setting('statement_timeout')::interval < $1::interval \
                THEN current_setting('statement_timeout') ELSE $1 END, true)",
    )
    .bind(format!("{}ms", SEARCH_BUDGET.as_millis()))
    .execute(&mut *tx)
    .await?;
    let rows = qb.build().persistent(false).fetch_all(&mut *tx).await?;
    tx.commit().await?;
    Ok(rows)
}

/// The second try: bitmap scans only, under the session's statement timeout.
async fn bitmap_only(pool: &PgPool, mut qb: QueryBuilder<Postgres>) -> Result<Vec<PgRow>, DbError> {
    let mut tx = crate::db::begin(pool).await?;
    // Constants, no input. One round trip.
    sqlx::raw_sql("SET LOCAL enable_indexscan = off; SET LOCAL enable_seqscan = off")
        .execute(&mut *tx)
        .await?;
    let rows = qb.build().persistent(false).fetch_all(&mut *tx).await?;
    tx.commit().await?;
    Ok(rows)
}

/// Whether the statement was cancelled (`query_canceled`: a statement timeout, or a cancel
/// request such as Esc's; the caller tells them apart by the time it ran).
fn ran_out(e: &DbError) -> bool {
    matches!(e, DbError::Sqlx(sqlx::Error::Database(d)) if d.code().as_deref() == Some("57014"))
}
