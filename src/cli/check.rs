//! `switchboard check`: the connected database against what the console needs, as a report or
//! one JSON object, ending with one line per pane and per action.

use super::{CliError, RunContext, output};
use crate::db::check::{self, Readiness, Report};
use crate::db::connect::{Connection, DbTarget, options_from_url};
use crate::db::replica::StandbyReport;

pub(super) async fn execute(conn: &Connection, run: &RunContext) -> Result<(), CliError> {
    let port = match &run.target {
        DbTarget::Url(url) => options_from_url(url).ok().map(|o| o.get_port()),
        DbTarget::Embedded => None,
    };
    // `--read-only` as the user gave it: `check` itself always runs in a read-only session.
    let report = check::check(&conn.pool, port, run.read_only).await?;
    let standby = conn.reads.standby_report().await;
    if run.json {
        let mut value = serde_json::to_value(&report)
            .map_err(|e| CliError::Io(format!("writing the report: {e}")))?;
        value["standby"] = serde_json::to_value(&standby).unwrap_or_default();
        output::json(&value)?;
    } else {
        print(conn, &report, run.read_only)?;
        if let Some(s) = &standby {
            print_standby(s)?;
        }
    }
    // Reads that cannot go to the standby still work, on the primary: degraded.
    let standby_ok = standby.as_ref().is_none_or(|s| s.usable());
    match (report.worst(), standby_ok) {
        ("ready", true) => Ok(()),
        ("ready", false) => Err(CliError::Check("degraded")),
        (worst, _) => Err(CliError::Check(worst)),
    }
}

/// The standby's lines: where, whether it is a standby of this primary, its lag.
fn print_standby(s: &StandbyReport) -> Result<(), CliError> {
    let what = match (s.reachable, s.in_recovery, s.same_system) {
        (false, _, _) => format!(
            "unreachable ({}): the console reads from the primary until it is back",
            s.error.as_deref().unwrap_or("no answer")
        ),
        (true, false, _) => "NOT a hot standby (pg_is_in_recovery() is false there): \
                             the console reads from the primary"
            .to_string(),
        (true, true, Some(false)) => "a standby of ANOTHER server (its system_identifier \
                                      differs from the primary's)"
            .to_string(),
        (true, true, same) => format!(
            "a hot standby{} ({}); pane pages, details, searches, exports and verify read there",
            match same {
                Some(true) => " of this primary",
                _ => "",
            },
            s.state
        ),
    };
    output::line(format!("Standby: {}: {what}.", s.description))?;
    Ok(())
}

fn print(conn: &Connection, r: &Report, read_only: bool) -> Result<(), CliError> {
    output::line(format!(
        "{}: PostgreSQL {}, as role {}",
        conn.description, r.server_version, r.role
    ))?;
    if let Some(between) = &r.in_between {
        output::line(format!("Between: {between}"))?;
    }
    output::line(format!("Extensions: {}", r.extensions.join(", ")))?;
    let t = &r.audit_trail;
    output::line(format!(
        "Audit log: {}; {} links in its hash chain (`switchboard audit verify`); {}.",
        if t.append_only {
            "append-only (UPDATE, DELETE and TRUNCATE refused)"
        } else {
            "NOT append-only (run `switchboard migrate`)"
        },
        crate::numbers::thousands(t.links),
        if t.backstop.is_empty() {
            "no backstop (`switchboard migrate --backstop` records changes made outside the \
             console)"
                .to_string()
        } else {
            format!(
                "the backstop records changes made outside the console to {}",
                t.backstop.join(", ")
            )
        }
    ))?;
    if let Some(p) = &t.partitioning {
        output::line(format!("Audit log {}.", p.describe()))?;
    }
    if r.schema_problems.is_empty() {
        output::line(
            "Schema: every table and column the console relies on is there, of its type.",
        )?;
    } else {
        output::line("Schema problems:")?;
        for p in &r.schema_problems {
            output::line(format!("  {p}"))?;
        }
    }
    if !r.other_tables.is_empty() {
        output::line(format!(
            "Other tables (the platform's; fine): {}",
            r.other_tables.join(", ")
        ))?;
    }
    for i in r.indexes.iter().filter(|i| !(i.present && i.valid)) {
        let state = if i.present { "INVALID" } else { "missing" };
        output::line(format!(
            "Index {} {state} ({} pane slow): {};",
            i.name, i.pane, i.create
        ))?;
    }
    for (title, lines) in [("Panes", &r.panes), ("Actions", &r.actions)] {
        output::line(format!("{title}:"))?;
        for l in lines.iter() {
            let (state, why) = match &l.readiness {
                Readiness::Ready => ("ready", Vec::new()),
                Readiness::Degraded(why) => ("degraded", why.clone()),
                Readiness::Unavailable(why) => ("unavailable", why.clone()),
                Readiness::NotUsed(why) => ("not used", why.clone()),
            };
            let why = if why.is_empty() {
                String::new()
            } else {
                format!(": {}", why.join("; "))
            };
            output::line(format!("  {:<14} {state}{why}", l.name))?;
        }
    }
    let unavailable = |l: &&check::Line| matches!(l.readiness, Readiness::Unavailable(_));
    let changes = r
        .actions
        .iter()
        .filter(|l| !check::READING_ACTIONS.contains(&l.name.as_str()));
    if !read_only && changes.clone().count() == changes.filter(unavailable).count() {
        output::line(
            "No change is possible as this role: if it is meant to be read-only, \
             `switchboard --read-only check` holds it to what a read-only session does.",
        )?;
    }
    Ok(())
}
