//! Setting a database up and looking at it: `migrate`, `seed-demo`, `seed-bench`, `paths`, and
//! the summary printed when standard output is not a terminal.

use super::{CliError, output};
use crate::db::DbError;
use crate::db::connect::Connection;
use crate::db::migrate::{self, Action, How, IndexEvent, Layout, MigrationInfo, Plan};
use crate::paths::AppPaths;
use crate::seed::{bench, demo};

/// `migrate`: the plan (and with `--dry-run` only the plan and its SQL), then what this run
/// did. The private cluster is migrated as it opens; this reports what that did. With `json`,
/// one JSON object says all of it (refusals included).
pub(super) async fn migrate(
    conn: &Connection,
    url: bool,
    dry_run: bool,
    json: bool,
) -> Result<(), CliError> {
    let plan = migrate::plan(&conn.pool).await?;
    let refused = !plan.refusal.is_empty();
    if json && (dry_run || refused) {
        output::json(&plan_json(conn, &plan, dry_run))?;
    } else if dry_run || refused {
        print_plan(conn, &plan, dry_run)?;
    }
    if refused {
        return Err(CliError::Incompatible(format!(
            "refused: {} difference{} from what Switchboard expects (the report lists them); \
             nothing was changed",
            plan.refusal.len(),
            if plan.refusal.len() == 1 { "" } else { "s" }
        )));
    }
    if dry_run {
        return Ok(());
    }
    let done = if url {
        let bar = indicatif::ProgressBar::new(0).with_style(
            indicatif::ProgressStyle::with_template(
                "{prefix:>5} [{bar:20}] {percent:>3}% {elapsed:>4} {wide_msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        let mut show = |event: IndexEvent| show_index_event(&bar, event);
        let done = migrate::run(&conn.pool, &mut show).await;
        bar.finish_and_clear();
        done?
    } else {
        conn.applied.clone()
    };
    if json {
        let done: Vec<serde_json::Value> = done
            .iter()
            .map(|m| {
                serde_json::json!({
                    "version": m.version, "name": m.description, "how": m.how.as_str()
                })
            })
            .collect();
        return output::json(&serde_json::json!({
            "status": "ok",
            "database": conn.description,
            "layout": layout_name(&plan.layout),
            "done": done,
        }));
    }
    if done.is_empty() {
        return output::line(format!("No pending migrations in {}.", conn.description));
    }
    for (how, verb, why) in [
        (
            How::CarriedOver,
            "Carried over",
            " from the earlier layout (its tables moved into the switchboard schema)",
        ),
        (
            How::Adopted,
            "Adopted",
            " (already there, built by the platform: recorded, not run)",
        ),
        (How::Applied, "Applied", ""),
    ] {
        let these: Vec<&MigrationInfo> = done.iter().filter(|m| m.how == how).collect();
        if these.is_empty() {
            continue;
        }
        output::line(format!(
            "{verb} {} migration{} to {}{why}:",
            these.len(),
            if these.len() == 1 { "" } else { "s" },
            conn.description
        ))?;
        for m in these {
            output::line(format!("  {:04} {}", m.version, m.description))?;
        }
    }
    Ok(())
}

fn layout_name(layout: &Layout) -> &'static str {
    match layout {
        Layout::Empty => "empty",
        Layout::Current => "current",
        Layout::Earlier => "earlier",
        Layout::Platform => "platform",
    }
}

/// The plan as one JSON object: the comparison's findings, the steps and (dry run) the SQL.
fn plan_json(conn: &Connection, plan: &Plan, dry_run: bool) -> serde_json::Value {
    let steps: Vec<serde_json::Value> = plan
        .steps
        .iter()
        .map(|s| {
            let action = match s.action {
                Action::Apply => "apply",
                Action::Record(How::Adopted) => "adopt",
                Action::Record(_) => "carry over",
            };
            serde_json::json!({
                "version": s.migration.version, "name": s.migration.name, "action": action
            })
        })
        .collect();
    let (differences, notes) = match &plan.findings {
        Some(f) => (f.differences.clone(), f.notes.clone()),
        None => (plan.refusal.clone(), Vec::new()),
    };
    let mut out = serde_json::json!({
        "status": if plan.refusal.is_empty() { "ok" } else { "refused" },
        "dry_run": dry_run,
        "database": conn.description,
        "layout": layout_name(&plan.layout),
        "differences": differences,
        "notes": notes,
        "steps": steps,
    });
    if dry_run && plan.refusal.is_empty() {
        out["sql"] = plan
            .sql()
            .into_iter()
            .map(|(step, sql)| serde_json::json!({"step": step, "sql": sql}))
            .collect();
    }
    out
}

fn print_plan(conn: &Connection, plan: &Plan, dry_run: bool) -> Result<(), CliError> {
    let layout = match plan.layout {
        Layout::Empty => "an empty database: everything is applied",
        Layout::Current => "a Switchboard database: what its history lacks is applied",
        Layout::Earlier => {
            "the earlier Switchboard layout: its tables move into the switchboard schema"
        }
        Layout::Platform => {
            "the platform's tables without a Switchboard history: compared with the migrations"
        }
    };
    output::line(format!("Plan for {}: {layout}.", conn.description))?;
    if let Some(f) = &plan.findings {
        if f.differences.is_empty() {
            output::line("The platform's tables match what Switchboard expects.")?;
        } else {
            output::line(format!(
                "Refused: {} difference{} from what Switchboard expects (nothing is written):",
                f.differences.len(),
                if f.differences.len() == 1 { "" } else { "s" }
            ))?;
        }
        for d in &f.differences {
            output::line(format!("  ✗ {d}"))?;
        }
        for n in &f.notes {
            output::line(format!("  · {n}"))?;
        }
    } else {
        for r in &plan.refusal {
            output::line(format!("  ✗ {r}"))?;
        }
    }
    if !plan.refusal.is_empty() {
        return Ok(());
    }
    if !plan.pending() {
        return output::line("Nothing to do.");
    }
    for s in &plan.steps {
        let what = match s.action {
            Action::Apply => "apply".to_string(),
            Action::Record(How::Adopted) => "adopt: already there; recorded, not run".to_string(),
            Action::Record(how) => format!("record as {}", how.as_str()),
        };
        output::line(format!(
            "  {:04} {}: {what}",
            s.migration.version, s.migration.name
        ))?;
    }
    if dry_run {
        output::line("")?;
        output::line("-- The SQL, in order (--dry-run: nothing was written).")?;
        for (heading, sql) in plan.sql() {
            output::line("")?;
            output::line(format!("-- {heading}"))?;
            for l in sql.lines() {
                output::line(l)?;
            }
        }
    }
    Ok(())
}

/// An index build as a progress bar (on a terminal) and a line per index on standard error.
fn show_index_event(bar: &indicatif::ProgressBar, event: IndexEvent) {
    let say = |text: String| bar.suspend(|| output::note(text));
    match event {
        IndexEvent::Kept { index } => say(format!("  {index}: there already, kept")),
        IndexEvent::DroppedInvalid { index } => say(format!(
            "  {index}: left INVALID by an interrupted build: dropped, building again"
        )),
        IndexEvent::Dropped { index } => say(format!(
            "  {index}: replaced by a later index of the console's: dropped"
        )),
        IndexEvent::Building {
            index,
            table,
            number,
            of,
        } => {
            bar.reset();
            bar.set_length(0);
            bar.set_prefix(format!("{number}/{of}"));
            bar.set_message(index.clone());
            if bar.is_hidden() {
                say(format!("  {index}: building on {table} ({number}/{of})"));
            }
        }
        IndexEvent::Progress {
            index,
            phase,
            done,
            total,
        } => {
            bar.set_length(u64::try_from(total).unwrap_or(0));
            bar.set_position(u64::try_from(done).unwrap_or(0));
            bar.set_message(format!("{index}: {phase}"));
        }
        IndexEvent::Built { index, took } => {
            say(format!("  {index}: built in {:.1} s", took.as_secs_f64()))
        }
        IndexEvent::Retrying {
            index,
            attempt,
            wait,
        } => say(format!(
            "  {index}: its table's lock was busy (try {attempt}); trying again in {} s",
            wait.as_secs()
        )),
    }
}

/// `paths`: where the private cluster, the config file and the log live.
pub(super) fn paths(paths: &AppPaths) -> Result<(), CliError> {
    output::line(format!("data:    {}", paths.data_dir.display()))?;
    output::line(format!("cluster: {}", paths.cluster_dir().display()))?;
    output::line(format!("config:  {}", paths.config_file().display()))?;
    output::line(format!("log:     {}", paths.log_file().display()))
}

pub(super) async fn seed_demo(conn: &Connection) -> Result<(), CliError> {
    if conn.seeded_demo {
        output::line(format!(
            "The private cluster was new: the demo data is already in {}.",
            conn.description
        ))?;
        return Ok(());
    }
    let s = demo::seed_demo(&conn.pool, chrono::Utc::now()).await?;
    output::line(format!(
        "Loaded the demo data into {}: {} tenants, {} users, {} agents, {} phone numbers, {} calls, \
         {} contacts, {} audit log entries.",
        conn.description,
        s.tenants,
        s.users,
        s.agents,
        s.phone_numbers,
        s.calls,
        s.contacts,
        s.audit_logs
    ))?;
    output::line(format!(
        "Demo admins: {} (super_admin) and {} (admin), password '{}'.",
        demo::DEMO_SUPER_ADMIN,
        demo::DEMO_SUPPORT_ADMIN,
        demo::DEMO_PASSWORD
    ))?;
    Ok(())
}

/// `seed-bench --audit-rows`: a number of entries, or the most that fit on the server's disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditRows {
    Count(i64),
    Max,
}

pub(super) fn audit_rows_arg(text: &str) -> Result<AuditRows, String> {
    if text.trim().eq_ignore_ascii_case("max") {
        return Ok(AuditRows::Max);
    }
    match crate::numbers::parse_whole(text) {
        Some(n) if n >= 10 => Ok(AuditRows::Count(n)),
        _ => Err(format!(
            "{text:?} is neither a whole number of entries (at least 10) nor max"
        )),
    }
}

pub(super) async fn seed_bench(
    conn: &Connection,
    scale: f64,
    audit_rows: Option<AuditRows>,
    users: Option<i64>,
) -> Result<(), CliError> {
    if conn.seeded_demo {
        return Err(CliError::Usage(
            "the private cluster was just filled with the demo data; give seed-bench an empty \
             database with --database-url"
                .into(),
        ));
    }
    let gib = |b: u64| b as f64 / (1u64 << 30) as f64;
    let free = bench::server_free_bytes(&conn.pool).await;
    let audit_rows = match (audit_rows, &free) {
        (Some(AuditRows::Count(n)), _) => Some(n),
        (None, _) => None,
        (Some(AuditRows::Max), Some((dir, free))) => {
            let most = bench::BenchSize::at(scale)
                .with_counts(None, users)
                .audit_rows_fitting(*free);
            if most < 10 {
                return Err(CliError::Usage(format!(
                    "{dir} has {:.1} GiB free: not even the rest of this data set fits; nothing \
                     was written",
                    gib(*free)
                )));
            }
            output::note(format!(
                "The most audit entries that fit beside the rest: {}.",
                crate::numbers::thousands(most)
            ));
            Some(most)
        }
        (Some(AuditRows::Max), None) => {
            return Err(CliError::Usage(
                "--audit-rows max needs the server's free disk, which cannot be read from here \
                 (not on this machine, or the role may not read data_directory): give a number"
                    .into(),
            ));
        }
    };
    let size = bench::BenchSize::at(scale).with_counts(audit_rows, users);
    match free {
        Some((dir, free)) if size.disk_bytes() > free => {
            return Err(CliError::Usage(format!(
                "this data set needs about {:.1} GiB on the server's disk and {dir} has {:.1} GiB \
                 free: at most {} audit entries fit beside the rest (--audit-rows); nothing was \
                 written",
                gib(size.disk_bytes()),
                gib(free),
                crate::numbers::thousands(size.audit_rows_fitting(free))
            )));
        }
        Some((dir, free)) => output::note(format!(
            "Needs about {:.1} GiB; {dir} has {:.1} GiB free.",
            gib(size.disk_bytes()),
            gib(free)
        )),
        None => output::warning(format!(
            "the server's free disk cannot be read from here (not on this machine, or the role may \
             not read data_directory); this data set needs about {:.1} GiB there",
            gib(size.disk_bytes())
        )),
    }
    let bar = indicatif::ProgressBar::new(1);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} rows  {msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    let mut progress = |what: &str, done: i64, total: i64| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
        bar.set_message(what.to_string());
    };
    let result = bench::seed_bench_sized(&conn.pool, scale, audit_rows, users, &mut progress).await;
    bar.finish_and_clear();
    let s = result?;
    output::line(format!(
        "Loaded the bench data (scale {scale}) into {} in {:.1} s: {} tenants, {} users, {} agents, \
         {} phone numbers, {} calls, {} audit log entries; the database is now {:.1} MiB.",
        conn.description,
        s.elapsed.as_secs_f64(),
        s.size.tenants,
        s.size.users,
        s.size.agents,
        s.size.phone_numbers,
        s.size.calls,
        s.size.audit_logs,
        s.database_bytes as f64 / (1024.0 * 1024.0)
    ))?;
    output::line(format!(
        "Bench admins: {} (super_admin) and bench-admin-1..{}@bench.test (admin), password '{}'.",
        bench::BENCH_SUPER_ADMIN,
        bench::BENCH_ADMINS,
        bench::BENCH_PASSWORD
    ))?;
    Ok(())
}

/// What the console shows until its panes exist: where it is connected and what is there.
pub(super) async fn overview(
    conn: &Connection,
    admin: Option<&str>,
    read_only: bool,
) -> Result<(), CliError> {
    let version: String = crate::db::query_scalar("SHOW server_version")
        .fetch_one(&mut *crate::db::pinned(&conn.pool).await?)
        .await
        .map_err(DbError::from)?;
    // Exact counts for small tables; the planner's estimate for large ones (a count(*) of ten
    // million audit rows takes seconds).
    let mut parts = Vec::new();
    for (table, noun) in [
        ("tenants", "tenants"),
        ("users", "users"),
        ("agents", "agents"),
        ("phone_numbers", "phone numbers"),
        ("calls", "calls"),
        ("audit_logs", "audit log entries"),
    ] {
        // A partitioned table's own estimate is ANALYZE's; its partitions' are kept current.
        let estimate: f32 = crate::db::query_scalar(
            "SELECT greatest((SELECT reltuples FROM pg_class WHERE oid = $1::regclass), \
                             (SELECT sum(greatest(c.reltuples, 0))::real FROM pg_inherits i \
                              JOIN pg_class c ON c.oid = i.inhrelid \
                              WHERE i.inhparent = $1::regclass))",
        )
        .bind(table)
        .fetch_one(&mut *crate::db::pinned(&conn.pool).await?)
        .await
        .map_err(DbError::from)?;
        if estimate > 100_000.0 {
            parts.push(format!("about {} {noun}", estimate as i64));
        } else {
            let n: i64 = crate::db::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT count(*) FROM {table}"
            )))
            .fetch_one(&mut *crate::db::pinned(&conn.pool).await?)
            .await
            .map_err(DbError::from)?;
            parts.push(format!("{n} {noun}"));
        }
    }
    output::line(format!(
        "Connected to {} (PostgreSQL {version}).",
        conn.description
    ))?;
    if conn.seeded_demo {
        output::line("The private cluster was created and filled with the demo data.")?;
    }
    output::line(format!("{}.", parts.join(", ")))?;
    if read_only {
        output::line("Session is READ-ONLY.")?;
    }
    if let Some(admin) = admin {
        output::line(format!("Admin: {admin}"))?;
    }
    Ok(())
}

/// `migrate --partition-audit monthly`: the audit log partitioned by month, or its next months
/// added; said in a line (or with the rest of `--json`'s answer, as one more object).
pub(super) async fn partition_audit(
    conn: &Connection,
    dry_run: bool,
    json: bool,
) -> Result<(), CliError> {
    use crate::db::migrate::partition;
    if dry_run {
        output::note(format!(
            "With --partition-audit monthly, it would also make audit_logs partitioned by month \
             on created_at (copying its rows in one transaction, under a lock that holds writes \
             to it until the copy ends), or add the partitions of the next {} months; nothing \
             was written.",
            partition::MONTHS_AHEAD
        ));
        return Ok(());
    }
    let done = partition::partition_audit_monthly(&conn.pool)
        .await
        .map_err(|e| match e {
            crate::db::DbError::Refused(why) => CliError::Incompatible(why),
            other => other.into(),
        })?;
    if json {
        output::json(&serde_json::json!({ "partition_audit": done }))?;
        return Ok(());
    }
    let added = if done.added.is_empty() {
        "no partition was missing".to_string()
    } else {
        format!("made {}", done.added.join(", "))
    };
    output::note(if done.converted {
        format!(
            "audit_logs is now partitioned by month on created_at: {} rows copied, {added}; \
             {} partitions. Run `switchboard migrate --partition-audit monthly` monthly to add \
             the months ahead (rows past them go to audit_logs_default meanwhile).",
            crate::numbers::thousands(done.rows_moved),
            done.partitions
        )
    } else {
        format!(
            "audit_logs is partitioned by month: {added}{}; {} partitions.",
            if done.from_default > 0 {
                format!(
                    " ({} rows moved there from the default partition)",
                    crate::numbers::thousands(done.from_default)
                )
            } else {
                String::new()
            },
            done.partitions
        )
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{AuditRows, audit_rows_arg};

    #[test]
    fn audit_rows_are_a_count_or_max() {
        assert_eq!(audit_rows_arg("max"), Ok(AuditRows::Max));
        assert_eq!(audit_rows_arg("MAX"), Ok(AuditRows::Max));
        assert_eq!(
            audit_rows_arg("100,000,000"),
            Ok(AuditRows::Count(100_000_000))
        );
        assert!(audit_rows_arg("5").is_err());
        assert!(audit_rows_arg("lots").unwrap_err().contains("nor max"));
    }
}
