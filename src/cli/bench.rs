//! `bench`: every figure in one run, printed as one table; and the hidden helpers it runs as
//! child processes (start-up, memory), so that each is measured in a fresh process.

use super::{CliError, output};
use crate::db::connect::{Connection, DbTarget};

/// `bench`: every figure in one run, printed as one table.
pub(super) async fn execute(
    conn: &Connection,
    target: &DbTarget,
    quick: bool,
    no_baselines: bool,
    only: &[u8],
) -> Result<(), CliError> {
    use super::measure::{self as b, Effort, Figure};
    let mut effort = if quick { Effort::QUICK } else { Effort::FULL };
    if no_baselines {
        effort.slow_runs = 0;
    }
    let pool = &conn.pool;
    let db = CliError::Db;
    output::note(format!("bench: {}", b::describe(pool).await.map_err(db)?));
    let mut figures: Vec<Figure> = Vec::new();
    let steps: [(&str, u8); 10] = [
        ("audit pages", 1),
        ("filtered audit pages", 2),
        ("user search", 3),
        ("start-up", 4),
        ("render", 5),
        ("memory", 6),
        ("bytes", 7),
        ("credits", 8),
        ("live audit log", 9),
        ("audit verify", 10),
    ];
    for (name, n) in steps {
        if !only.is_empty() && !only.contains(&n) {
            continue;
        }
        output::note(format!("bench: {name}…"));
        let mut got = match n {
            1 => b::audit_pages(pool, effort).await.map_err(db)?,
            2 => b::filtered_pages(pool, effort).await.map_err(db)?,
            3 => b::user_search(pool, effort).await.map_err(db)?,
            4 => first_frames(target, effort)?,
            5 => b::render(pool, effort).await.map_err(db)?,
            6 => memory(target, effort)?,
            7 => b::bytes_on_the_wire(pool).await.map_err(db)?,
            8 => b::credits(pool, effort).await.map_err(db)?,
            9 => b::live_audit(pool, effort).await.map_err(db)?,
            _ => b::verify_chain(pool).await.map_err(db)?,
        };
        figures.append(&mut got);
    }
    // The table quotes database text (filters with emails): printed line by line, escaped.
    let mut table = Vec::new();
    b::print_table(&figures, &mut table).map_err(|e| CliError::Io(format!("writing: {e}")))?;
    for line in String::from_utf8_lossy(&table).lines() {
        output::line(line)?;
    }
    Ok(())
}

/// Runs this binary's hidden helper `args` against the same database; returns its stdout.
fn helper(target: &DbTarget, args: &[&str]) -> Result<(String, std::time::Duration), CliError> {
    let exe = std::env::current_exe().map_err(|e| CliError::Io(e.to_string()))?;
    let mut cmd = std::process::Command::new(exe);
    cmd.args(args);
    match target {
        DbTarget::Url(url) => cmd.env("DATABASE_URL", url),
        DbTarget::Embedded => cmd.env_remove("DATABASE_URL"),
    };
    let started = std::time::Instant::now();
    let out = cmd
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| CliError::Io(format!("running the bench helper: {e}")))?;
    let wall = started.elapsed();
    if !out.status.success() {
        return Err(CliError::Io(format!("the bench helper {args:?} failed")));
    }
    Ok((String::from_utf8_lossy(&out.stdout).into_owned(), wall))
}

/// `key=value` from a helper's output, as a non-negative number.
fn field(text: &str, key: &str) -> Result<f64, CliError> {
    text.split_whitespace()
        .find_map(|w| w.strip_prefix(&format!("{key}=")))
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|v| v.is_finite() && *v >= 0.0)
        .ok_or_else(|| CliError::Io(format!("the bench helper did not report {key}: {text}")))
}

fn first_frames(
    target: &DbTarget,
    effort: super::measure::Effort,
) -> Result<Vec<super::measure::Figure>, CliError> {
    use super::measure::figure;
    use std::time::Duration;
    let (mut from_start, mut from_connect, mut wall) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..effort.runs.min(20) {
        let (text, w) = helper(target, &["__first-frame"])?;
        let (frame, connected) = (field(&text, "frame_ms")?, field(&text, "connected_ms")?);
        from_start.push(Duration::from_secs_f64(frame / 1000.0));
        from_connect.push(Duration::from_secs_f64(
            (frame - connected).max(0.0) / 1000.0,
        ));
        wall.push(w);
    }
    let s = "4. start-up";
    Ok(vec![
        figure(
            s,
            "connection accepted → first frame with rows",
            &from_connect,
            "Tenants pane, 80×24",
        ),
        figure(
            s,
            "main() → first frame with rows",
            &from_start,
            "includes connecting",
        ),
        figure(
            s,
            "whole process (exec → exit)",
            &wall,
            "measured by the parent",
        ),
    ])
}

fn memory(
    target: &DbTarget,
    effort: super::measure::Effort,
) -> Result<Vec<super::measure::Figure>, CliError> {
    let mut out = Vec::new();
    for rows in effort.memory_rows {
        // A fresh process each time, three times (peak RSS varies a little with allocation).
        let (mut peaks, mut starts, mut paged) = (Vec::new(), Vec::new(), 0.0);
        for _ in 0..effort.memory_runs {
            let (text, _) = helper(target, &["__page-memory", "--rows", &rows.to_string()])?;
            starts.push(field(&text, "before_kib")?);
            peaks.push(field(&text, "after_kib")?);
            paged = field(&text, "paged")?;
        }
        let rank = |v: &mut Vec<f64>, p: f64| {
            v.sort_by(f64::total_cmp);
            v[((p * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1]
        };
        out.push(super::measure::Figure {
            section: "6. memory",
            what: format!("peak RSS after paging {paged:.0} audit rows"),
            median: format!("{:.1} MiB", rank(&mut peaks, 0.5) / 1024.0),
            p99: format!("{:.1} MiB", rank(&mut peaks, 0.99) / 1024.0),
            runs: peaks.len(),
            note: format!(
                "{:.1} MiB with the first page loaded (median)",
                rank(&mut starts, 0.5) / 1024.0
            ),
        });
    }
    Ok(out)
}

/// `__first-frame`: start, connect, draw the first frame with rows, print the times.
pub(super) async fn first_frame(
    conn: &Connection,
    started: std::time::Instant,
) -> Result<(), CliError> {
    let connected = started.elapsed();
    let frame = super::measure::first_frame(&conn.pool).await?;
    let drawn = started.elapsed();
    output::line(format!(
        "connected_ms={:.3} frame_ms={:.3} rows={frame}",
        connected.as_secs_f64() * 1000.0,
        drawn.as_secs_f64() * 1000.0
    ))?;
    Ok(())
}

/// `__page-memory`: page through `rows` audit rows and print the peak RSS.
pub(super) async fn page_memory(conn: &Connection, rows: u64) -> Result<(), CliError> {
    let (before, after, paged) = super::measure::page_through(&conn.pool, rows).await?;
    output::line(format!(
        "before_kib={before} after_kib={after} paged={paged}"
    ))?;
    Ok(())
}
