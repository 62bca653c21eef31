//! `audit export`: the action layer's export flow, to standard output or a file with a
//! progress bar.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use uuid::Uuid;

use super::{CliError, RunContext, output, sign_in};
use crate::actions::export::{self, Destination, ExportRequest};
use crate::db::connect::Connection;
use crate::db::export::{Format, estimate_rows};
use crate::db::lists::{Filter, ListKind};
use crate::numbers::thousands;

#[derive(Debug, Subcommand)]
pub enum AuditCmd {
    /// Stream audit entries, oldest first, as CSV or JSON lines, in constant memory. The
    /// filters are the Audit log pane's.
    Export(ExportArgs),
    /// Walk the audit chain and name every edited, moved, deleted or forged entry and every
    /// missing or altered link; with --checkpoint, prove the newest entries were not cut off.
    /// Exit 0 when it verifies, 7 when it does not.
    Verify(super::proof::VerifyArgs),
    /// Sign the chain's head (link, hash, time) with an ed25519 key kept outside the database
    /// and write it to a file, for `verify --checkpoint` (run it from cron).
    Checkpoint(super::proof::CheckpointArgs),
    /// Print the newest entries, then each new one as it is committed, like `tail -f`. The
    /// filters are the Audit log pane's.
    Tail(TailArgs),
    /// Take the entries made before a day out of the log: write them to a file, verify it, then
    /// delete them in one audited transaction that records the cut (super_admin).
    Archive(ArchiveArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatArg {
    Csv,
    Jsonl,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// csv (cells a spreadsheet would run as formulas get a leading ') or jsonl [default: from
    /// the --output file name, else csv]
    #[arg(long, value_enum)]
    format: Option<FormatArg>,
    /// Write to FILE (with a progress bar) instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Replace FILE if it exists.
    #[arg(long)]
    force: bool,
    /// The pane's filter, e.g. "actor:ops@example.com action:credits. since:2026-01-01".
    #[arg(long, value_name = "FILTER")]
    filter: Option<String>,
    /// Entries by this actor (email, id, or "system").
    #[arg(long)]
    actor: Option<String>,
    /// This action, or every action under a prefix ending in "." (e.g. credits.).
    #[arg(long)]
    action: Option<String>,
    /// This resource type (user, tenant, agent, phone_number, ...).
    #[arg(long = "type", value_name = "TYPE")]
    resource_type: Option<String>,
    /// This resource id.
    #[arg(long, value_name = "UUID")]
    id: Option<Uuid>,
    /// From this day (YYYY-MM-DD, UTC).
    #[arg(long, value_name = "DAY")]
    since: Option<String>,
    /// To this day, inclusive (YYYY-MM-DD, UTC).
    #[arg(long, value_name = "DAY")]
    until: Option<String>,
}

impl ExportArgs {
    /// The pane's filter text these options make.
    fn filter_text(&self) -> String {
        let mut words: Vec<String> = self.filter.iter().cloned().collect();
        let mut word = |key: &str, v: &Option<String>| {
            if let Some(v) = v {
                words.push(format!("{key}:{v}"));
            }
        };
        word("actor", &self.actor);
        word("action", &self.action);
        word("type", &self.resource_type);
        word("id", &self.id.map(|u| u.to_string()));
        word("since", &self.since);
        word("until", &self.until);
        words.join(" ")
    }
}

/// Signs in, streams the rows, records the export, and says on standard error what was done
/// (standard output holds only the export).
pub(super) async fn execute(
    conn: &Connection,
    run: &RunContext,
    args: ExportArgs,
) -> Result<(), CliError> {
    let text = args.filter_text();
    let filter = Filter::parse(ListKind::AuditLog, &text)
        .map_err(|e| CliError::Usage(format!("filter: {e}")))?;
    let format = match (args.format, &args.output) {
        (Some(FormatArg::Csv), _) => Format::Csv,
        (Some(FormatArg::Jsonl), _) => Format::Jsonl,
        (None, Some(path)) => Format::for_path(path),
        (None, None) => Format::Csv,
    };
    // Checked before signing in, so that nothing is asked for in vain (and again, for real, as
    // the file is written).
    if let Some(problem) = args
        .output
        .as_deref()
        .and_then(crate::db::export::directory_problem)
    {
        return Err(CliError::Usage(problem));
    }
    if let Some(path) = &args.output
        && let Ok(meta) = std::fs::symlink_metadata(path)
    {
        if !meta.file_type().is_file() {
            return Err(CliError::Usage(format!(
                "{} is not a regular file (a device, a FIFO, a directory or a link): an export \
                 never replaces it, not even with --force",
                path.display()
            )));
        }
        if !args.force {
            return Err(CliError::Usage(format!(
                "{} exists; pass --force to replace it",
                path.display()
            )));
        }
    }
    let session = sign_in::session(conn, run).await?;
    let request = ExportRequest {
        filter,
        filter_text: text,
        format,
    };
    let source = super::read_source(conn).await;
    let started = std::time::Instant::now();
    let (rows, output) = match &args.output {
        None => {
            // Unbuffered here: the export buffers its rows itself, and what it counts as
            // delivered must be what reached standard output.
            #[allow(clippy::disallowed_methods)] // the export's own stream; its cells are escaped
            let mut out = std::io::stdout();
            let rows = export::export(
                &conn.pool,
                &source,
                &session,
                &request,
                Destination::Stream(&mut out),
                &mut |_| {},
            )
            .await?;
            (rows, "standard output".to_string())
        }
        Some(path) => {
            let bar = match estimate_rows(&source, &request.filter).await {
                Some(n) => indicatif::ProgressBar::new(n),
                None => indicatif::ProgressBar::new_spinner(),
            };
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {bar:30} {pos}/~{len} rows ({per_sec})",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            let mut progress = |rows: u64| bar.set_position(rows);
            let destination = Destination::File {
                path,
                replace: args.force,
            };
            let result = export::export(
                &conn.pool,
                &source,
                &session,
                &request,
                destination,
                &mut progress,
            )
            .await;
            bar.finish_and_clear();
            (result?, path.display().to_string())
        }
    };
    let seconds = started.elapsed().as_secs_f64();
    let per_second = (rows as f64 / seconds.max(1e-9)).round() as u64;
    output::note(format!(
        "Exported {} rows to {output} in {seconds:.1} s ({} rows/s).",
        thousands(rows),
        thousands(per_second)
    ));
    Ok(())
}

#[derive(Debug, Args)]
pub struct TailArgs {
    /// The pane's filter, e.g. "action:credits. actor:ops@example.com".
    #[arg(long, value_name = "FILTER")]
    filter: Option<String>,
    /// How many of the newest entries to print before following.
    #[arg(long, short = 'n', default_value_t = 10, value_name = "N")]
    lines: i64,
    /// One JSON object per entry instead of text.
    #[arg(long)]
    json: bool,
}

/// Rows read per query while catching up.
const TAIL_PAGE: i64 = 500;

/// `audit tail`: the newest entries the filter selects, oldest first, then each new one as it is
/// committed (LISTEN; every 2 s behind a transaction pooler), like `tail -f`. Ctrl-C ends it.
pub(super) async fn tail(conn: &Connection, args: TailArgs) -> Result<(), CliError> {
    use crate::db::lists::{Page, fetch_page};
    let text = args.filter.clone().unwrap_or_default();
    let filter = Filter::parse(ListKind::AuditLog, &text)
        .map_err(|e| CliError::Usage(format!("filter: {e}")))?;
    let pool = &conn.pool;
    let mut newest = fetch_page(
        pool,
        ListKind::AuditLog,
        &filter,
        &Page::First,
        args.lines.max(0),
    )
    .await?;
    newest.reverse();
    print_entries(pool, &newest, args.json).await?;
    let mut last = newest.last().map(|r| r.key.clone());
    if last.is_none() {
        // Nothing printed (-n 0): follow from the newest entry there is now.
        last = fetch_page(pool, ListKind::AuditLog, &filter, &Page::First, 1)
            .await?
            .first()
            .map(|r| r.key.clone());
    }
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    let follower = pool.clone();
    let polling = crate::db::pooler::transaction_pooler();
    // Stopped when this returns (a closed output, say), so that closing the pool does not wait.
    let mut follow = crate::console::live::Background::default();
    follow.spawn(async move {
        let mut heard = |()| tx.send(()).is_ok();
        if polling {
            crate::console::live::poll(&follower, &mut heard).await;
        } else {
            crate::console::live::listen(&follower, &mut heard).await;
        }
    });
    if polling {
        output::note("Following every 2 s (no LISTEN behind a transaction pooler); Ctrl-C ends.");
    } else {
        output::note("Following; Ctrl-C ends.");
    }
    while rx.recv().await.is_some() {
        // Catch up from the last entry printed: pages of newer entries, oldest first.
        loop {
            let page = match &last {
                Some(key) => Page::Before(key.clone()),
                None => Page::Last,
            };
            let mut rows = fetch_page(pool, ListKind::AuditLog, &filter, &page, TAIL_PAGE).await?;
            rows.reverse();
            if rows.is_empty() {
                break;
            }
            print_entries(pool, &rows, args.json).await?;
            last = rows.last().map(|r| r.key.clone());
            if (rows.len() as i64) < TAIL_PAGE {
                break;
            }
        }
    }
    Ok(())
}

/// Prints audit list rows (oldest first), each with its sentence.
async fn print_entries(
    pool: &sqlx::PgPool,
    rows: &[crate::db::lists::ListRow],
    json: bool,
) -> Result<(), CliError> {
    use crate::db::lists::{Cell, fetch_stats};
    if rows.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let sentences = fetch_stats(pool, ListKind::AuditLog, &ids).await?;
    let text = |c: Option<&Cell>| match c {
        Some(Cell::Text(s)) => s.clone(),
        _ => String::new(),
    };
    for row in rows {
        let change = sentences
            .iter()
            .find(|s| s.id == row.id)
            .map(|s| text(s.cells.first()))
            .unwrap_or_default();
        let at = match row.cells.first() {
            Some(Cell::Time(t)) => *t,
            _ => chrono::Utc::now(),
        };
        let (actor, action) = (text(row.cells.get(1)), text(row.cells.get(2)));
        if json {
            let resource_id = match row.cells.get(4) {
                Some(Cell::Id(id)) => Some(*id),
                _ => None,
            };
            output::json(&serde_json::json!({
                "id": row.id,
                "created_at": at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
                "actor": actor,
                "action": action,
                "resource_type": text(row.cells.get(3)),
                "resource_id": resource_id,
                "change": change,
            }))?;
        } else {
            output::line(format!(
                "{}  {actor}  {action}  {change}",
                at.format("%Y-%m-%d %H:%M:%S")
            ))?;
        }
    }
    Ok(())
}

#[derive(Debug, Args)]
pub struct ArchiveArgs {
    /// Archive the entries made before this day (YYYY-MM-DD, UTC midnight).
    #[arg(long, value_name = "DAY")]
    before: String,
    /// The archive file (JSON lines; a new file, never replaced).
    #[arg(long, short, value_name = "FILE")]
    output: PathBuf,
    /// One JSON object on standard output instead of text.
    #[arg(long)]
    json: bool,
}

/// Signs in, archives, says what was taken out and where the chain goes on from.
pub(super) async fn archive(
    conn: &Connection,
    run: &RunContext,
    args: ArchiveArgs,
) -> Result<(), CliError> {
    let day = chrono::NaiveDate::parse_from_str(args.before.trim(), "%Y-%m-%d").map_err(|_| {
        CliError::Usage(format!("--before {}: not a day (YYYY-MM-DD)", args.before))
    })?;
    let before = day.and_time(chrono::NaiveTime::MIN).and_utc();
    if before > chrono::Utc::now() {
        return Err(CliError::Usage(format!(
            "--before {day} is in the future: an archive takes out only what is past"
        )));
    }
    if args.output.exists() {
        return Err(CliError::Usage(format!(
            "{} exists: an archive never replaces a file",
            args.output.display()
        )));
    }
    if let Some(problem) = crate::db::export::directory_problem(&args.output) {
        return Err(CliError::Usage(problem));
    }
    let session = sign_in::session(conn, run).await?;
    let done = crate::actions::archive::archive(&conn.pool, &session, before, &args.output).await?;
    if args.json {
        output::json(&serde_json::to_value(&done).unwrap_or_default())?;
    } else {
        let chained = if done.chained == 0 {
            "none of them chained".to_string()
        } else {
            format!(
                "{} chained (links {} to {})",
                thousands(done.chained),
                thousands(done.start_seq + 1),
                thousands(done.through_seq)
            )
        };
        output::line(format!(
            "Archived {} entries made before {day} to {} (SHA-256 {}): {chained}, {} outside \
             the chain.",
            thousands(done.chained + done.outside),
            done.path.display(),
            done.file_sha256,
            thousands(done.outside),
        ))?;
        if done.chained > 0 {
            output::line(format!(
                "The chain goes on from link {}, hash {}.",
                thousands(done.through_seq),
                done.head_hash,
            ))?;
        }
        output::line(format!(
            "`switchboard audit verify --archive {}` proves the file.",
            done.path.display()
        ))?;
    }
    Ok(())
}
