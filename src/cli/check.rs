//! `switchboard check`: the connected database against what the console needs, as a report or
//! one JSON object, ending with one line per pane and per action.

use super::{CliError, RunContext, output};
use crate::db::check::{self, Readiness, Report};
use crate::db::connect::{Connection, DbTarget, options_from_url};

pub(super) async fn execute(conn: &Connection, run: &RunContext) -> Result<(), CliError> {
    let port = match &run.target {
        DbTarget::Url(url) => options_from_url(url).ok().map(|o| o.get_port()),
        DbTarget::Embedded => None,
    };
    // `--read-only` as the user gave it: `check` itself always runs in a read-only session.
    let report = check::check(&conn.pool, port, run.read_only).await?;
    if run.json {
        let value = serde_json::to_value(&report)
            .map_err(|e| CliError::Io(format!("writing the report: {e}")))?;
        output::json(&value)?;
    } else {
        print(conn, &report, run.read_only)?;
    }
    match report.worst() {
        "ready" => Ok(()),
        worst => Err(CliError::Check(worst)),
    }
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
