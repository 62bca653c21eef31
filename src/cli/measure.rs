//! `switchboard bench`: the console's figures against a database (best one filled by
//! `seed-bench`), measured side by side with what other tools do, printed as one table. Every
//! figure is a median and a p99 (nearest rank) over repeated runs, all in one go.

use std::io::Write;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use ratatui::buffer::Buffer;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::Rect;
use ratatui::{TerminalOptions, Viewport};
use sqlx::PgPool;
use uuid::Uuid;

use crate::actions::{self, Actor, AuditContext, Request, Role, Session};
use crate::console::app::{App, Status};
use crate::console::messages::{Job, Msg, ReadJob};
use crate::db::DbError;
use crate::db::lists::{self, Filter, KeyValue, ListKind, Page};

/// Rows per page in the page benchmarks, as lazysql and gobang page.
pub const PAGE: i64 = 50;

/// How hard to try.
#[derive(Debug, Clone, Copy)]
pub struct Effort {
    /// Runs of each fast measurement.
    pub runs: usize,
    /// Runs of each slow baseline (OFFSET deep pages, unindexed search).
    pub slow_runs: usize,
    /// Rows to page through for the memory figures.
    pub memory_rows: [u64; 2],
    /// Fresh processes per memory figure.
    pub memory_runs: usize,
    /// How long each credits load runs.
    pub load: Duration,
}

impl Effort {
    pub const FULL: Effort = Effort {
        runs: 50,
        slow_runs: 5,
        memory_rows: [100_000, 1_000_000],
        memory_runs: 3,
        load: Duration::from_secs(5),
    };
    /// For CI: keeps the benchmark working, says nothing about speed.
    pub const QUICK: Effort = Effort {
        runs: 5,
        slow_runs: 2,
        memory_rows: [2_000, 5_000],
        memory_runs: 1,
        load: Duration::from_millis(500),
    };
}

/// One line of the table.
#[derive(Debug, Clone)]
pub struct Figure {
    pub section: &'static str,
    pub what: String,
    pub median: String,
    pub p99: String,
    pub runs: usize,
    pub note: String,
}

/// Median and p99 (nearest rank) of `samples`.
pub fn median_p99(samples: &[Duration]) -> (Duration, Duration) {
    let mut s = samples.to_vec();
    s.sort();
    if s.is_empty() {
        return (Duration::ZERO, Duration::ZERO);
    }
    let rank = |p: f64| s[((p * s.len() as f64).ceil() as usize).clamp(1, s.len()) - 1];
    (rank(0.5), rank(0.99))
}

pub fn ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms >= 100.0 {
        format!("{ms:.0} ms")
    } else if ms >= 1.0 {
        format!("{ms:.2} ms")
    } else {
        format!("{:.0} µs", ms * 1000.0)
    }
}

async fn time_runs<F, Fut, T>(runs: usize, mut f: F) -> Result<Vec<Duration>, DbError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, DbError>>,
{
    let mut out = Vec::with_capacity(runs);
    // One untimed run warms the caches and the prepared statement, as a console in use has.
    f().await?;
    for _ in 0..runs {
        let t = Instant::now();
        f().await?;
        out.push(t.elapsed());
    }
    Ok(out)
}

/// A slow baseline (an OFFSET page, an unindexed scan), timed unless the run skips them
/// (`bench --no-baselines`: at a hundred million rows one OFFSET page takes minutes).
async fn baseline<F, Fut, T>(effort: Effort, f: F) -> Result<Option<Vec<Duration>>, DbError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, DbError>>,
{
    if effort.slow_runs == 0 {
        return Ok(None);
    }
    time_runs(effort.slow_runs, f).await.map(Some)
}

pub fn figure(
    section: &'static str,
    what: impl Into<String>,
    samples: &[Duration],
    note: impl Into<String>,
) -> Figure {
    let (m, p) = median_p99(samples);
    Figure {
        section,
        what: what.into(),
        median: ms(m),
        p99: ms(p),
        runs: samples.len(),
        note: note.into(),
    }
}

/// `a/b` for people: whole numbers when large, two decimals when small.
pub fn times(a: Duration, b: Duration) -> String {
    let r = a.as_secs_f64() / b.as_secs_f64().max(1e-9);
    if r >= 10.0 {
        format!("{r:.0}×")
    } else {
        format!("{r:.2}×")
    }
}

fn ratio(slow: &[Duration], fast: &[Duration]) -> String {
    format!(
        "OFFSET/keyset = {}",
        times(median_p99(slow).0, median_p99(fast).0)
    )
}

/// The console's page query for `filter` and `page`, `PAGE` rows.
async fn console_page(pool: &PgPool, filter: &Filter, page: &Page) -> Result<usize, DbError> {
    Ok(
        lists::fetch_page(pool, ListKind::AuditLog, filter, page, PAGE)
            .await?
            .len(),
    )
}

/// What lazysql and gobang send for a table's page: `LIMIT … OFFSET …`, here with the order
/// that gives the same rows as the console's newest-first page.
async fn offset_page(pool: &PgPool, offset: i64) -> Result<usize, DbError> {
    let rows = crate::db::query(
        "SELECT * FROM audit_logs ORDER BY created_at DESC, id DESC LIMIT $1 OFFSET $2",
    )
    .bind(PAGE)
    .bind(offset)
    .fetch_all(&mut *crate::db::pinned(pool).await?)
    .await?;
    Ok(rows.len())
}

/// The keyset of the row at `offset` in the newest-first order (found once, untimed).
async fn key_at(pool: &PgPool, offset: i64) -> Result<Vec<KeyValue>, DbError> {
    let (t, id): (DateTime<Utc>, Uuid) = crate::db::query_as(
        "SELECT created_at, id FROM audit_logs ORDER BY created_at DESC, id DESC LIMIT 1 OFFSET $1",
    )
    .bind(offset)
    .fetch_one(&mut *crate::db::pinned(pool).await?)
    .await?;
    Ok(vec![KeyValue::Time(t), KeyValue::Id(id)])
}

pub async fn audit_pages(pool: &PgPool, effort: Effort) -> Result<Vec<Figure>, DbError> {
    let total: i64 = crate::db::query_scalar("SELECT count(*) FROM audit_logs")
        .fetch_one(&mut *crate::db::pinned(pool).await?)
        .await?;
    let none = Filter::default();
    let middle = key_at(pool, total / 2 - 1).await?;
    let mut out = Vec::new();
    let s = "1. audit page";
    let first = time_runs(effort.runs, || console_page(pool, &none, &Page::First)).await?;
    let first_off = time_runs(effort.runs, || offset_page(pool, 0)).await?;
    let middle = Page::After(middle);
    let mid = time_runs(effort.runs, || console_page(pool, &none, &middle)).await?;
    let mid_off = baseline(effort, || offset_page(pool, total / 2)).await?;
    let last = time_runs(effort.runs, || console_page(pool, &none, &Page::Last)).await?;
    let last_off = baseline(effort, || offset_page(pool, total - PAGE)).await?;
    out.push(figure(s, "first page, keyset (console)", &first, ""));
    out.push(figure(
        s,
        "first page, OFFSET 0",
        &first_off,
        ratio(&first_off, &first),
    ));
    out.push(figure(
        s,
        format!("middle page, keyset (row {})", total / 2),
        &mid,
        "",
    ));
    if let Some(mid_off) = mid_off {
        out.push(figure(
            s,
            format!("middle page, OFFSET {}", total / 2),
            &mid_off,
            ratio(&mid_off, &mid),
        ));
    }
    out.push(figure(s, "last page, keyset", &last, ""));
    if let Some(last_off) = last_off {
        out.push(figure(
            s,
            format!("last page, OFFSET {}", total - PAGE),
            &last_off,
            ratio(&last_off, &last),
        ));
    }
    Ok(out)
}

pub async fn filtered_pages(pool: &PgPool, effort: Effort) -> Result<Vec<Figure>, DbError> {
    // The busiest actor, a much-audited resource, and a month of one action.
    let (actor,): (String,) = crate::db::query_as(
        "SELECT u.email FROM users u WHERE u.role IN ('admin', 'super_admin') ORDER BY u.email LIMIT 1",
    )
    .fetch_one(&mut *crate::db::pinned(pool).await?)
    .await?;
    let (resource_type, resource_id): (String, Uuid) = crate::db::query_as(
        "SELECT resource_type, resource_id FROM audit_logs WHERE resource_id IS NOT NULL \
         AND created_at > now() - interval '30 days' ORDER BY created_at DESC LIMIT 1",
    )
    .fetch_one(&mut *crate::db::pinned(pool).await?)
    .await?;
    let since = (Utc::now() - chrono::Duration::days(60)).format("%Y-%m-%d");
    let until = (Utc::now() - chrono::Duration::days(30)).format("%Y-%m-%d");
    let cases = [
        ("by actor", format!("actor:{actor}")),
        (
            "by resource",
            format!("type:{resource_type} id:{resource_id}"),
        ),
        (
            "by action + time range",
            format!("action:credits.top_up since:{since} until:{until}"),
        ),
    ];
    let mut out = Vec::new();
    for (what, text) in cases {
        let filter = Filter::parse(ListKind::AuditLog, &text).map_err(DbError::Refused)?;
        let first = time_runs(effort.runs, || console_page(pool, &filter, &Page::First)).await?;
        let last = time_runs(effort.runs, || console_page(pool, &filter, &Page::Last)).await?;
        out.push(figure(
            "2. filtered audit",
            format!("{what}: first page"),
            &first,
            text.clone(),
        ));
        out.push(figure(
            "2. filtered audit",
            format!("{what}: last page"),
            &last,
            "",
        ));
    }
    Ok(out)
}

pub async fn user_search(pool: &PgPool, effort: Effort) -> Result<Vec<Figure>, DbError> {
    let users: i64 = crate::db::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&mut *crate::db::pinned(pool).await?)
        .await?;
    let mut out = Vec::new();
    for term in ["kowalski42", "tariq.sato", "Brennan"] {
        let filter = Filter::parse(ListKind::Users, term).map_err(DbError::Refused)?;
        let console = time_runs(effort.runs, || async {
            Ok::<_, DbError>(
                lists::fetch_page(pool, ListKind::Users, &filter, &Page::First, PAGE)
                    .await?
                    .len(),
            )
        })
        .await?;
        // The same question without the console's trigram indexes: a plain ILIKE scan.
        let pattern = lists::like_pattern(term);
        let plain = baseline(effort, || async {
            let mut tx = crate::db::begin(pool).await?;
            crate::db::query("SET LOCAL enable_bitmapscan = off")
                .execute(&mut *tx)
                .await?;
            let n = crate::db::query(
                "SELECT id, email, name FROM users WHERE email ILIKE $1 OR name ILIKE $1 \
                 OR company ILIKE $1 OR phone ILIKE $1 ORDER BY email, id LIMIT $2",
            )
            .bind(&pattern)
            .bind(PAGE)
            .fetch_all(&mut *tx)
            .await?
            .len();
            tx.rollback().await?;
            Ok::<_, DbError>(n)
        })
        .await?;
        let s = "3. user search";
        out.push(figure(
            s,
            format!("\"{term}\" console (trigram)"),
            &console,
            format!("{users} users"),
        ));
        if let Some(plain) = plain {
            out.push(figure(
                s,
                format!("\"{term}\" plain ILIKE scan"),
                &plain,
                format!(
                    "scan/console = {}",
                    times(median_p99(&plain).0, median_p99(&console).0)
                ),
            ));
        }
    }
    Ok(out)
}

fn status() -> Status {
    Status {
        database: "bench".into(),
        signed_in_as: None,
        read_only: false,
        error: None,
        info: None,
    }
}

fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

/// Runs the app's reads against the database right away (no worker), feeding the answers
/// back, until nothing is left to do.
pub async fn settle(app: &mut App, pool: &PgPool, mut jobs: Vec<Job>) -> Result<(), DbError> {
    let reads = crate::db::replica::Reads::primary_only(pool.clone());
    while let Some(job) = jobs.pop() {
        if let Job::Read(read) = job {
            let msg = crate::console::worker::read(&reads, read).await;
            jobs.extend(app.update(msg));
            if let Some(e) = &app.status.error {
                return Err(DbError::Refused(e.clone()));
            }
        }
    }
    Ok(())
}

/// An app on the audit log with its first pages loaded.
pub async fn audit_app(pool: &PgPool, width: u16, height: u16) -> Result<App, DbError> {
    pane_app(pool, width, height, ListKind::AuditLog).await
}

/// An app on pane `pane` with its first pages loaded (reached by its tab key, as a person would).
pub async fn pane_app(
    pool: &PgPool,
    width: u16,
    height: u16,
    pane: ListKind,
) -> Result<App, DbError> {
    let mut app = App::new(status(), width, height, Utc::now());
    let cmds = app.start();
    settle(&mut app, pool, cmds).await?;
    let tab_key = char::from_digit(pane.index() as u32 + 1, 10).unwrap_or('1');
    let cmds = app.update(key(KeyCode::Char(tab_key)));
    settle(&mut app, pool, cmds).await?;
    Ok(app)
}

pub async fn render(pool: &PgPool, effort: Effort) -> Result<Vec<Figure>, DbError> {
    let mut out = Vec::new();
    for (w, h) in [(80u16, 24u16), (200, 60)] {
        let app = audit_app(pool, w, h).await?;
        let area = Rect::new(0, 0, w, h);
        let runs = effort.runs * 20;
        let mut samples = Vec::with_capacity(runs);
        for _ in 0..=runs {
            let mut buf = Buffer::empty(area);
            let t = Instant::now();
            crate::ui::render_app(&app, area, &mut buf);
            samples.push(t.elapsed());
        }
        samples.remove(0);
        out.push(figure(
            "5. render",
            format!("full frame {w}×{h}"),
            &samples,
            "from state in memory",
        ));
    }
    Ok(out)
}

/// Counts what the terminal would be sent.
#[derive(Default, Clone)]
struct Counter(std::sync::Arc<std::sync::atomic::AtomicUsize>);

impl Counter {
    fn get(&self) -> usize {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .fetch_add(buf.len(), std::sync::atomic::Ordering::Relaxed);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Bytes sent for keys in the Users pane at 80×24 (its rows all differ, as real rows do).
pub async fn bytes_on_the_wire(pool: &PgPool) -> Result<Vec<Figure>, DbError> {
    let mut app = pane_app(pool, 80, 24, ListKind::Users).await?;
    let counter = Counter::default();
    let backend = CrosstermBackend::new(counter.clone());
    let mut terminal = Terminal::with_options(
        backend,
        TerminalOptions {
            viewport: Viewport::Fixed(Rect::new(0, 0, 80, 24)),
        },
    )
    .map_err(|e| DbError::Refused(e.to_string()))?;
    let mut draw = |app: &App| -> Result<usize, DbError> {
        let before = counter.get();
        terminal
            .draw(|f| crate::ui::render(app, f))
            .map_err(|e| DbError::Refused(e.to_string()))?;
        Ok(counter.get() - before)
    };
    let full = draw(&app)?;
    let press = async |app: &mut App, code: KeyCode| -> Result<(), DbError> {
        let cmds = app.update(key(code));
        settle(app, pool, cmds).await
    };
    // Down one row while the bar moves on screen, then while the list scrolls under it.
    let (mut on_screen, mut scrolling, mut pages) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..60 {
        let scrolls = app.pane().selected + 1 >= app.pane().offset + app.list_rows();
        press(&mut app, KeyCode::Char('j')).await?;
        let n = draw(&app)?;
        if scrolls {
            scrolling.push(n);
        } else {
            on_screen.push(n);
        }
    }
    for _ in 0..10 {
        press(&mut app, KeyCode::PageDown).await?;
        pages.push(draw(&app)?);
    }
    let row = |what: &str, v: &mut Vec<usize>, note: &str| {
        v.sort();
        let rank = |p: f64| match v.len() {
            0 => 0,
            n => v[((p * n as f64).ceil() as usize).clamp(1, n) - 1],
        };
        Figure {
            section: "7. bytes to the terminal",
            what: what.into(),
            median: format!("{} B", rank(0.5)),
            p99: format!("{} B", rank(0.99)),
            runs: v.len(),
            note: note.into(),
        }
    };
    Ok(vec![
        row("first full frame 80×24", &mut vec![full], "Users pane"),
        row(
            "one row down (j), bar moves",
            &mut on_screen,
            "two rows restyled, position",
        ),
        row(
            "one row down (j), list scrolls",
            &mut scrolling,
            "every visible row changes",
        ),
        row("one page down (PgDn)", &mut pages, ""),
    ])
}

/// The bench's super_admin as an actor (the bench measures actions, not sign-in).
async fn bench_actor(pool: &PgPool) -> Result<Actor, DbError> {
    let (id, email, name): (Uuid, String, String) = crate::db::query_as(
        "SELECT id, email, name FROM users WHERE email = $1 AND role = 'super_admin' AND is_active",
    )
    .bind(crate::seed::bench::BENCH_SUPER_ADMIN)
    .fetch_one(&mut *crate::db::pinned(pool).await?)
    .await?;
    Ok(Actor {
        id,
        email,
        name,
        role: Role::SuperAdmin,
    })
}

pub async fn credits(pool: &PgPool, effort: Effort) -> Result<Vec<Figure>, DbError> {
    // This section writes (top-ups and their audit rows): only on a database seed-bench filled.
    let Some(session) = bench_session(pool).await? else {
        return Ok(vec![skipped("8. credits top-ups")]);
    };
    let targets: Vec<Uuid> = crate::db::query_scalar(
        "SELECT id FROM users WHERE role = 'user' AND is_active ORDER BY id LIMIT 8",
    )
    .fetch_all(&mut *crate::db::pinned(pool).await?)
    .await?;
    if targets.len() < 8 {
        return Err(DbError::Refused(
            "the credits benchmark needs 8 active customers".into(),
        ));
    }
    let mut out = Vec::new();
    for (what, users) in [
        ("8 connections, one user", vec![targets[0]; 8]),
        ("8 connections, 8 users", targets.clone()),
    ] {
        let until = Instant::now() + effort.load;
        let mut tasks = Vec::new();
        for user in users {
            let (pool, session) = (pool.clone(), session.clone());
            tasks.push(tokio::spawn(async move {
                let mut latencies = Vec::new();
                while Instant::now() < until {
                    let req = Request::AdjustCredits {
                        user,
                        delta: 1,
                        reason: "benchmark".into(),
                        key: Uuid::new_v4(),
                    };
                    let t = Instant::now();
                    actions::apply(&pool, &session, &req)
                        .await
                        .map_err(|e| DbError::Refused(e.to_string()))?;
                    latencies.push(t.elapsed());
                }
                Ok::<_, DbError>(latencies)
            }));
        }
        let started = Instant::now();
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.map_err(|e| DbError::Refused(e.to_string()))??);
        }
        let per_sec = all.len() as f64 / started.elapsed().as_secs_f64();
        let mut f = figure(
            "8. credits top-ups",
            what,
            &all,
            format!("{per_sec:.0} top-ups/s"),
        );
        f.note = format!("{per_sec:.0} top-ups/s (latency per top-up)");
        out.push(f);
    }
    Ok(out)
}

/// Pages through `rows` audit rows as a person holding PgDn would, through the console's own
/// state and queries, and returns the peak RSS in KiB before and after (Linux).
pub async fn page_through(pool: &PgPool, rows: u64) -> Result<(u64, u64, u64), DbError> {
    let mut app = audit_app(pool, 80, 24).await?;
    let before = peak_rss_kib();
    let mut paged = 0u64;
    while paged < rows {
        let cmds = app.update(key(KeyCode::PageDown));
        settle(&mut app, pool, cmds).await?;
        paged += app.list_rows() as u64;
        if app.pane().at_end && app.pane().selected + 1 >= app.pane().rows.len() {
            break;
        }
    }
    Ok((before, peak_rss_kib(), paged))
}

/// This process's peak resident set (VmHWM) in KiB; 0 where /proc is missing.
pub fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

/// Prints the table.
pub fn print_table(figures: &[Figure], out: &mut impl Write) -> std::io::Result<()> {
    let w = figures
        .iter()
        .map(|f| f.what.chars().count())
        .max()
        .unwrap_or(10)
        .max(10);
    writeln!(
        out,
        "| section | measurement{} | median | p99 | runs | note |",
        " ".repeat(w.saturating_sub(11))
    )?;
    writeln!(out, "|---|{}|---:|---:|---:|---|", "-".repeat(w + 2))?;
    for f in figures {
        writeln!(
            out,
            "| {} | {:<w$} | {} | {} | {} | {} |",
            f.section, f.what, f.median, f.p99, f.runs, f.note
        )?;
    }
    Ok(())
}

/// Whether the database looks like one `seed-bench` filled (the figures mean most there).
pub async fn describe(pool: &PgPool) -> Result<String, DbError> {
    let (audit, users, calls): (i64, i64, i64) = crate::db::query_as(
        "SELECT (SELECT reltuples::bigint FROM pg_class WHERE oid = 'audit_logs'::regclass), \
                (SELECT reltuples::bigint FROM pg_class WHERE oid = 'users'::regclass), \
                (SELECT reltuples::bigint FROM pg_class WHERE oid = 'calls'::regclass)",
    )
    .fetch_one(&mut *crate::db::pinned(pool).await?)
    .await?;
    let version: String = crate::db::query_scalar("SHOW server_version")
        .fetch_one(&mut *crate::db::pinned(pool).await?)
        .await?;
    Ok(format!(
        "PostgreSQL {version}; about {audit} audit entries, {users} users, {calls} calls (planner estimates)"
    ))
}

/// Loads the first pane as the console does on start and draws it at 80×24 into a test
/// backend; returns how many rows the frame shows.
pub async fn first_frame(pool: &PgPool) -> Result<usize, DbError> {
    let mut app = App::new(status(), 80, 24, Utc::now());
    // Only the page: the row count and the per-row figures come later and do not hold up the
    // first frame (the console draws the rows as soon as they arrive).
    for job in app.start() {
        if let Job::Read(ReadJob::Page {
            req,
            kind,
            filter,
            page,
            limit,
        }) = job
        {
            let rows = lists::fetch_page(pool, kind, &filter, &page, limit).await?;
            app.update(Msg::Page {
                req,
                result: Ok(rows),
            });
        }
    }
    let mut terminal = Terminal::new(ratatui::backend::TestBackend::new(80, 24))
        .map_err(|e| DbError::Refused(e.to_string()))?;
    terminal
        .draw(|f| crate::ui::render(&app, f))
        .map_err(|e| DbError::Refused(e.to_string()))?;
    Ok(app.pane().rows.len().min(app.list_rows()))
}

/// The session the writing sections act as (the first bench admin), or none on a database
/// seed-bench did not fill (they write, so they run only there).
async fn bench_session(pool: &PgPool) -> Result<Option<Session>, DbError> {
    let bench: bool =
        crate::db::query_scalar("SELECT EXISTS (SELECT 1 FROM users WHERE email = $1)")
            .bind(crate::seed::bench::BENCH_SUPER_ADMIN)
            .fetch_one(&mut *crate::db::pinned(pool).await?)
            .await?;
    if !bench {
        return Ok(None);
    }
    Ok(Some(Session {
        actor: bench_actor(pool).await?,
        ctx: AuditContext {
            ip: None,
            user_agent: actions::user_agent("bench", "localhost"),
        },
        read_only: false,
    }))
}

fn skipped(section: &'static str) -> Figure {
    Figure {
        section,
        what: "skipped".into(),
        median: "—".into(),
        p99: "—".into(),
        runs: 0,
        note: "it writes, so it runs only on a database filled by seed-bench".into(),
    }
}

/// The live Audit log pane: a top-up committed, then what the pane does when it hears of it
/// (the notification on a LISTEN connection of its own, then the first page and its sentences,
/// the rows it draws). Drawing them is section 5's figure.
pub async fn live_audit(pool: &PgPool, effort: Effort) -> Result<Vec<Figure>, DbError> {
    const SECTION: &str = "9. live audit log";
    let Some(session) = bench_session(pool).await? else {
        return Ok(vec![skipped(SECTION)]);
    };
    let user: Uuid = crate::db::query_scalar(
        "SELECT id FROM users WHERE role = 'user' AND is_active ORDER BY id LIMIT 1",
    )
    .fetch_one(&mut *crate::db::pinned(pool).await?)
    .await?;
    let mut listener = sqlx::postgres::PgListener::connect_with(pool).await?;
    listener.listen(crate::db::chain::CHANNEL).await?;
    let (mut heard, mut shown) = (Vec::new(), Vec::new());
    for _ in 0..effort.runs {
        let req = Request::AdjustCredits {
            user,
            delta: 1,
            reason: "benchmark".into(),
            key: Uuid::new_v4(),
        };
        let out = actions::apply(pool, &session, &req)
            .await
            .map_err(|e| DbError::Refused(e.to_string()))?;
        // apply returns once COMMIT has: the clock starts there.
        let committed = Instant::now();
        let id = out.audit_id.map(|u| u.to_string()).unwrap_or_default();
        loop {
            let n = tokio::time::timeout(Duration::from_secs(5), listener.recv())
                .await
                .map_err(|_| DbError::Refused("no notification within 5 s".into()))??;
            if n.payload() == id {
                break;
            }
        }
        heard.push(committed.elapsed());
        let rows = lists::fetch_page(
            pool,
            ListKind::AuditLog,
            &Filter::default(),
            &Page::First,
            crate::console::pane::PAGE_ROWS,
        )
        .await?;
        let ids: Vec<Uuid> = rows
            .iter()
            .take(crate::console::pane::STATS_CHUNK)
            .map(|r| r.id)
            .collect();
        lists::fetch_stats(pool, ListKind::AuditLog, &ids).await?;
        if rows.first().map(|r| r.id) != out.audit_id {
            return Err(DbError::Refused("the new entry is not first".into()));
        }
        shown.push(committed.elapsed());
    }
    Ok(vec![
        figure(SECTION, "commit → notification heard", &heard, "LISTEN"),
        figure(
            SECTION,
            "commit → first page and sentences in hand",
            &shown,
            "what the pane draws next",
        ),
    ])
}

/// `audit verify` over the whole chain, in this process: its time, and links per second.
pub async fn verify_chain(pool: &PgPool) -> Result<Vec<Figure>, DbError> {
    let started = Instant::now();
    let report = crate::db::verify::verify(pool, None, &mut |_| {}).await?;
    let took = started.elapsed();
    let per_sec = report.links as f64 / took.as_secs_f64().max(1e-9);
    Ok(vec![figure(
        "10. audit verify",
        format!("{} links, {} rows outside", report.links, report.outside),
        &[took],
        format!(
            "{per_sec:.0} links/s; {}",
            if report.ok() { "verified" } else { "PROBLEMS" }
        ),
    )])
}
