//! `switchboard import legacy` (the legacy voice_agent import, one audited action) and
//! `switchboard seed-legacy` (a legacy schema of generated data to try it on).

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};

use super::{CliError, RunContext, output, sign_in};
use crate::actions::import::{Imported, import_legacy};
use crate::db::DbError;
use crate::db::connect::{self, Connection, PoolSettings};
use crate::db::legacy::{self, Progress, Report, TABLES};
use crate::numbers::thousands;

#[derive(Debug, Subcommand)]
pub enum ImportCmd {
    /// Import a legacy voice_agent database (schema-mapping-guide.md) into the platform's
    /// tables: organizations → tenants, users, agents (voices folded in), numbers, leads →
    /// contacts, call logs → calls and transcripts. One transaction, run again safely (an id
    /// map keeps what came from where), with a validation report; a super_admin signs in.
    /// Exit 8 when a check of the report fails (then nothing is written).
    Legacy(LegacyArgs),
}

#[derive(Debug, Args)]
pub struct LegacyArgs {
    /// The database that holds the legacy schema (it may be the console's own database).
    #[arg(long, value_name = "URL")]
    from: String,
    /// The legacy schema's name.
    #[arg(long, default_value = "voice_agent", value_name = "NAME")]
    schema: String,
    /// Do everything in a transaction that is rolled back, and print the same report.
    #[arg(long)]
    dry_run: bool,
    /// Also write the report, every skipped or changed row with its reason, as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
}

/// Inspects the legacy schema, signs in, imports, prints the report (and writes it).
pub(super) async fn legacy(
    conn: &Connection,
    run: &RunContext,
    args: LegacyArgs,
) -> Result<(), CliError> {
    // The report's file is made writable before anything is imported: an import that commits
    // must not end with a report that cannot be written.
    let partial = match &args.report {
        Some(file) => Some(open_report(file)?),
        None => None,
    };
    let settings = PoolSettings {
        read_only: true,
        statement_timeout: None,
        connect_timeout: None,
        pooling: run.pooling,
    };
    let source_conn = match connect::open_url(&args.from, settings).await {
        Ok(c) => c,
        Err(e) => {
            forget_report(&partial);
            return Err(match e {
                DbError::BadUrl(..) => CliError::Usage(format!("--from: {e}")),
                e => CliError::Db(DbError::Refused(format!(
                    "the legacy source (--from): {}",
                    e.brief()
                ))),
            });
        }
    };
    let result = import_from(conn, run, &source_conn, &args).await;
    source_conn.close().await?;
    let done = match result {
        Ok(done) => done,
        Err(e) => {
            forget_report(&partial);
            return Err(e);
        }
    };
    if run.json {
        output::json(&done.json)?;
    } else {
        print(&done)?;
    }
    if let (Some(file), Some(partial)) = (&args.report, partial) {
        write_report(file, partial, &done.json)?;
        if !run.json {
            output::line(format!(
                "The report is in {} (SHA-256 {}).",
                file.display(),
                done.sha256
            ))?;
        }
    }
    if !done.report.passed() {
        return Err(CliError::Import(
            "a check of the import failed: it was rolled back and nothing was written".into(),
        ));
    }
    Ok(())
}

async fn import_from(
    conn: &Connection,
    run: &RunContext,
    source_conn: &Connection,
    args: &LegacyArgs,
) -> Result<Imported, CliError> {
    let source = legacy::inspect(&source_conn.pool, args.schema.trim())
        .await
        .map_err(|e| match e {
            legacy::ImportError::Db(e) => CliError::Db(e),
            e => CliError::Action(crate::actions::ActionError::Invalid(e.to_string())),
        })?;
    let session = sign_in::session(conn, run).await?;
    let bars = indicatif::MultiProgress::new();
    let style =
        indicatif::ProgressStyle::with_template("{prefix:<26} {bar:24} {pos:>9}/{len:<9} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    let table_bars: Vec<(&str, indicatif::ProgressBar)> = source
        .counts
        .iter()
        .map(|(table, n)| {
            let bar = bars.add(indicatif::ProgressBar::new(*n as u64));
            bar.set_style(style.clone());
            bar.set_prefix(*table);
            bar.set_message("waiting");
            (*table, bar)
        })
        .collect();
    let mut progress = |p: Progress| {
        let table = match p {
            Progress::Copied { table, .. }
            | Progress::Mapping { table, .. }
            | Progress::Written { table } => table,
        };
        let Some((_, bar)) = table_bars.iter().find(|(t, _)| *t == table) else {
            return;
        };
        match p {
            Progress::Copied { rows, .. } => {
                bar.set_position(rows);
                bar.set_message("copied");
            }
            Progress::Mapping { step, .. } => bar.set_message(format!("{step}…")),
            Progress::Written { .. } => bar.set_message("done"),
        }
    };
    let result = import_legacy(
        &conn.pool,
        &session,
        &source_conn.pool,
        &source,
        args.dry_run,
        &mut progress,
    )
    .await;
    for (_, bar) in &table_bars {
        bar.finish_and_clear();
    }
    Ok(result?)
}

/// The report's temporary file beside `file` (`FILE.partial`), created now: a path that cannot
/// be written is said before the import starts.
fn open_report(file: &Path) -> Result<(std::fs::File, PathBuf), CliError> {
    if file.is_dir() {
        return Err(CliError::Usage(format!(
            "--report {}: a directory, not a file",
            file.display()
        )));
    }
    let partial = file.with_extension("partial");
    let f = std::fs::File::create(&partial).map_err(|e| {
        CliError::Usage(format!(
            "--report {}: cannot write there ({e}); nothing was imported",
            file.display()
        ))
    })?;
    Ok((f, partial))
}

/// Writes the report file whole or not at all (the temporary file renamed over it), escaped as
/// every output is.
fn write_report(
    file: &Path,
    (mut f, partial): (std::fs::File, PathBuf),
    json: &serde_json::Value,
) -> Result<(), CliError> {
    use std::io::Write;
    // One line of JSON (`jq .` shows it indented): the escaping keeps database text inert.
    writeln!(f, "{}", crate::escape::json(json))
        .and_then(|()| f.sync_all())
        .and_then(|()| std::fs::rename(&partial, file))
        .map_err(|e| {
            CliError::Io(format!(
                "cannot write the report to {}: {e}",
                file.display()
            ))
        })
}

/// Removes the report's temporary file of an import that did not get to a report.
fn forget_report(partial: &Option<(std::fs::File, PathBuf)>) {
    if let Some((_, path)) = partial {
        let _ = std::fs::remove_file(path);
    }
}

/// The report as a person reads it, at 80 columns.
fn print(done: &Imported) -> Result<(), CliError> {
    let r = &done.report;
    let state = if r.dry_run {
        "dry run, rolled back: nothing was written"
    } else if done.committed {
        "committed"
    } else {
        "a check failed, rolled back: nothing was written"
    };
    output::line(format!(
        "Legacy import of {} ({state}) in {:.1} s",
        r.source, r.seconds
    ))?;
    output::line("")?;
    output::line(format!(
        "{:<26} {:>9} {:>9} {:>9} {:>7} {:>6} {:>7}",
        "legacy table", "rows", "imported", "new", "updated", "merged", "skipped"
    ))?;
    for t in &r.tables {
        let skipped = t.count("skipped") + t.count("not represented");
        output::line(format!(
            "{:<26} {:>9} {:>9} {:>9} {:>7} {:>6} {:>7}",
            t.legacy_table,
            thousands(t.legacy),
            thousands(t.imported()),
            thousands(t.count("new")),
            thousands(t.count("updated")),
            thousands(t.count("merged")),
            thousands(skipped),
        ))?;
    }
    output::line("imported: now in the platform (new, updated, unchanged since the last run,")?;
    output::line("linked to a row that was there, or folded into another table)")?;
    print_reasons(r)?;
    output::line("")?;
    output::line("Checks")?;
    for c in &r.checks {
        output::line(format!(
            "  {} {} ({})",
            if c.passed { "ok    " } else { "FAILED" },
            c.name,
            c.detail
        ))?;
    }
    output::line("")?;
    const SHOWN: usize = 8;
    output::line(format!(
        "Rows per tenant ({} tenants{})",
        thousands(r.tenants.len() as i64),
        if r.tenants.len() > SHOWN {
            format!(", the {SHOWN} with the most calls")
        } else {
            String::new()
        }
    ))?;
    for t in r.tenants.iter().take(SHOWN) {
        let figures = [
            (t.users, "user"),
            (t.agents, "agent"),
            (t.contacts, "contact"),
            (t.calls, "call"),
            (t.numbers, "number"),
        ]
        .map(|(n, noun)| format!("{} {noun}{}", thousands(n), if n == 1 { "" } else { "s" }));
        output::line(format!("  {}: {}", t.name, figures.join(", ")))?;
    }
    if done.committed {
        output::line("")?;
        output::line(format!(
            "The id map (switchboard.legacy_ids, source '{}') links every new row to its legacy \
             row; a second run inserts nothing new and updates only what changed.",
            r.source
        ))?;
    }
    Ok(())
}

/// Why rows were not imported as they were: per table, each outcome and reason with its count
/// (every row, with its id, is in the report file).
fn print_reasons(r: &Report) -> Result<(), CliError> {
    if r.rows.is_empty() {
        return Ok(());
    }
    output::line("")?;
    output::line(format!(
        "{} rows skipped, merged, adopted, changed or flagged, and permissions, by reason \
         (each row with its id: --report FILE)",
        thousands(r.rows.len() as i64)
    ))?;
    for t in &r.tables {
        if t.reasons.is_empty() {
            continue;
        }
        output::line(format!("  {}", t.legacy_table))?;
        for r in &t.reasons {
            output::line(format!(
                "    {} {}: {}",
                r.outcome,
                thousands(r.rows),
                r.reason
            ))?;
        }
    }
    Ok(())
}

#[derive(Debug, Args)]
pub struct SeedLegacyArgs {
    /// 1 is the guide's sizes (39 users, 23 agents, 742 call logs …); N is N times them
    /// (1348 gives a million call logs).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=20_000))]
    scale: u32,
    /// The schema to create and fill (refused if it exists).
    #[arg(long, default_value = "voice_agent", value_name = "NAME")]
    schema: String,
}

/// Creates and fills a legacy schema, and says what is in it.
pub(super) async fn seed_legacy(conn: &Connection, args: SeedLegacyArgs) -> Result<(), CliError> {
    let started = std::time::Instant::now();
    let counts = crate::seed::legacy::seed_legacy(&conn.pool, args.schema.trim(), args.scale)
        .await
        .map_err(|e| match e {
            crate::db::DbError::Refused(m) => CliError::Usage(m),
            e => CliError::Db(e),
        })?;
    let parts: Vec<String> = TABLES
        .iter()
        .zip(&counts)
        .map(|(t, n)| format!("{} {}", thousands(*n), t.name))
        .collect();
    output::line(format!(
        "Created schema {} in {} and filled it (scale {}) in {:.1} s: {}.",
        args.schema.trim(),
        conn.description,
        args.scale,
        started.elapsed().as_secs_f64(),
        parts.join(", ")
    ))?;
    output::line(format!(
        "Import it with: switchboard import legacy --from URL --schema {} --dry-run",
        args.schema.trim()
    ))?;
    Ok(())
}
