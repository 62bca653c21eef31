//! `switchboard grants --role NAME [--read-only-role] [--import]`: prints the SQL that gives a
//! role exactly what the console needs, and with `--import` what `import legacy` needs on top
//! (for a DBA to read and run; it runs nothing itself).

use super::{CliError, output};
use crate::db::grants;

pub(super) fn execute(role: &str, read_only: bool, import: bool) -> Result<(), CliError> {
    if role.trim().is_empty() {
        return Err(CliError::Usage("name the role with --role NAME".into()));
    }
    if read_only && import {
        return Err(CliError::Usage(
            "--import is for a role that writes: without --read-only-role".into(),
        ));
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
    if import {
        output::line("-- import legacy: the platform tables it writes, and its id map.")?;
        for statement in grants::import_statements(role) {
            output::line(format!("{statement};"))?;
        }
    }
    output::line("COMMIT;")
}
