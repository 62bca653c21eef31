//! Setting a database up and looking at it: `migrate`, `seed-demo`, `seed-bench`, `paths`, and
//! the summary printed when standard output is not a terminal.

use super::{CliError, output};
use crate::db::connect::Connection;
use crate::db::{self, DbError};
use crate::paths::AppPaths;
use crate::seed::{bench, demo};

/// `migrate`: what this run applied (the private cluster is migrated as it opens).
pub(super) async fn migrate(conn: &Connection, url: bool) -> Result<(), CliError> {
    let applied = if url {
        db::migrate(&conn.pool).await?
    } else {
        conn.applied.clone()
    };
    if applied.is_empty() {
        output::line(format!("No pending migrations in {}.", conn.description))?;
    } else {
        output::line(format!(
            "Applied {} migration{} to {}:",
            applied.len(),
            if applied.len() == 1 { "" } else { "s" },
            conn.description
        ))?;
        for m in &applied {
            output::line(format!("  {:04} {}", m.version, m.description))?;
        }
    }
    Ok(())
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

pub(super) async fn seed_bench(conn: &Connection, scale: f64) -> Result<(), CliError> {
    if conn.seeded_demo {
        return Err(CliError::Usage(
            "the private cluster was just filled with the demo data; give seed-bench an empty \
             database with --database-url"
                .into(),
        ));
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
    let result = bench::seed_bench(&conn.pool, scale, &mut progress).await;
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
    let version: String = sqlx::query_scalar("SHOW server_version")
        .fetch_one(&conn.pool)
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
        let estimate: f32 =
            sqlx::query_scalar("SELECT reltuples FROM pg_class WHERE oid = $1::regclass")
                .bind(table)
                .fetch_one(&conn.pool)
                .await
                .map_err(DbError::from)?;
        if estimate > 100_000.0 {
            parts.push(format!("about {} {noun}", estimate as i64));
        } else {
            let n: i64 =
                sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
                    .fetch_one(&conn.pool)
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
