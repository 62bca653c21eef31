//! `switchboard grants`: the exact SQL a DBA runs to give a role what the console needs and no
//! more, from the same list `check` holds the database to: SELECT on what it reads, INSERT and
//! UPDATE on exactly the columns its actions write, DELETE where an action deletes, and INSERT
//! only (never UPDATE, DELETE or TRUNCATE) on the audit log.

use std::collections::BTreeMap;

use super::check::{ACTIONS, AUDIT_INSERT, Privilege, READS, qualified};
use super::connect::quote_ident;

/// The statements for `role`, in order: table-level grants on the console's tables revoked
/// first, then exactly what it needs. A read-only role may read, and write nothing but the
/// audit rows of its sign-ins, refusals and exports.
pub fn statements(role: &str, read_only: bool) -> Vec<String> {
    let role = quote_ident(role);
    let table = |t: &str| qualified(t);
    let mut out = vec![
        format!("GRANT USAGE ON SCHEMA public TO {role}"),
        format!("GRANT USAGE ON SCHEMA switchboard TO {role}"),
    ];
    for t in READS {
        out.push(format!("REVOKE ALL ON {} FROM {role}", table(t)));
    }
    out.push(format!(
        "GRANT SELECT ON {} TO {role}",
        READS
            .iter()
            .map(|t| table(t))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    let privileges: Vec<&Privilege> = if read_only {
        AUDIT_INSERT.iter().collect()
    } else {
        AUDIT_INSERT
            .iter()
            .chain(ACTIONS.iter().flat_map(|(_, p)| p.iter()))
            .collect()
    };
    // (privilege, table) → columns; table-level ones get no columns.
    let mut grouped: BTreeMap<(&str, &str), Vec<&str>> = BTreeMap::new();
    for (t, column, privilege) in privileges {
        if matches!(*privilege, "SELECT" | "LOCK") {
            // SELECT is granted on every table read, above; a lock needs UPDATE on some column,
            // which the UPDATE grants give.
            continue;
        }
        let cols = grouped.entry((privilege, t)).or_default();
        if let Some(c) = column
            && !cols.contains(c)
        {
            cols.push(c);
        }
    }
    for ((privilege, t), cols) in grouped {
        let cols = if cols.is_empty() {
            String::new()
        } else {
            format!(
                " ({})",
                cols.iter()
                    .map(|c| quote_ident(c))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        out.push(format!("GRANT {privilege}{cols} ON {} TO {role}", table(t)));
    }
    out
}

/// The tables `import legacy` writes (and reads back for its checks): more than the console's
/// actions need, so apart from `statements`, for the role that runs the import.
pub const IMPORT_WRITES: &[&str] = &[
    "tenants",
    "users",
    "agents",
    "phone_numbers",
    "contacts",
    "calls",
    "transcripts",
    "switchboard.legacy_ids",
];

/// What `role` needs on top of `statements` to run `import legacy`: SELECT, INSERT and UPDATE
/// on every table it writes. (Its temporary tables need the database's TEMPORARY privilege,
/// which PUBLIC has unless a DBA revoked it; reading the legacy schema is granted on the source.)
pub fn import_statements(role: &str) -> Vec<String> {
    let role = quote_ident(role);
    vec![format!(
        "GRANT SELECT, INSERT, UPDATE ON {} TO {role}",
        IMPORT_WRITES
            .iter()
            .map(|t| qualified(t))
            .collect::<Vec<_>>()
            .join(", ")
    )]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_audit_log_gets_insert_only_and_writes_are_column_level() {
        let sql = statements("console ops", false).join(";\n");
        assert!(sql.contains("TO \"console ops\""), "{sql}");
        assert!(
            sql.contains("GRANT INSERT (\"user_id\", \"action\""),
            "{sql}"
        );
        for line in sql.lines().filter(|l| l.contains("\"audit_logs\"")) {
            assert!(
                !line.contains("UPDATE") && !line.contains("DELETE") && !line.contains("TRUNCATE"),
                "{line}"
            );
        }
        assert!(sql.contains("GRANT UPDATE (\"credits\""), "{sql}");
        let read_only = statements("reader", true).join(";\n");
        assert!(!read_only.contains("UPDATE"), "{read_only}");
        assert!(
            read_only.contains("GRANT INSERT (\"user_id\""),
            "{read_only}"
        );
    }
}
