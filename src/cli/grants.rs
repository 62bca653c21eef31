//! `switchboard grants --role NAME [--read-only]`: prints the SQL that gives a role exactly what
//! the console needs (for a DBA to read and run; it runs nothing itself).

use super::{CliError, output};
use crate::db::grants;

pub(super) fn execute(role: &str, read_only: bool) -> Result<(), CliError> {
    if role.trim().is_empty() {
        return Err(CliError::Usage("name the role with --role NAME".into()));
    }
    let what = if read_only {
        "reads, and the audit rows of its sign-ins, refusals and exports"
    } else {
        "reads, and exactly the columns its actions write"
    };
    output::line(format!(
        "-- What Switchboard needs as role {role}: it {what}. The audit log gets INSERT only."
    ))?;
    output::line("BEGIN;")?;
    for statement in grants::statements(role, read_only) {
        output::line(format!("{statement};"))?;
    }
    output::line("COMMIT;")
}
