//! Why a command stopped, and the exit code each reason means (the README's table).

use crate::actions::ActionError;
use crate::actions::export::ExportFailure;
use crate::db::DbError;
use crate::db::export::ExportError;
use crate::db::pg::PgError;

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Db(#[from] DbError),
    /// The command cannot start as given: the command line, the config file or the environment
    /// is wrong (nothing was attempted).
    #[error("{0}")]
    Usage(String),
    /// Reading or writing a file or the terminal failed while the command ran.
    #[error("{0}")]
    Io(String),
    #[error("interrupted by {0}")]
    Interrupted(&'static str),
    #[error(transparent)]
    Action(#[from] ActionError),
    /// `check` found a pane or action degraded or unavailable (the report says which).
    #[error("the database is {0} for some of the console (see the report)")]
    Check(&'static str),
    /// `migrate` refused a database whose tables differ; its report (text or JSON) is printed
    /// already.
    #[error("{0}")]
    Incompatible(String),
    /// `audit verify` found the log or a checkpoint not as they were signed (the report names
    /// what).
    #[error("{0}")]
    Verify(String),
    /// `import legacy` found a check of its report failing: it rolled back (the report is
    /// printed already).
    #[error("{0}")]
    Import(String),
    /// The reader of standard output went away (`| head`): end quietly.
    #[error("output closed")]
    Stopped,
}

impl CliError {
    /// 0 done, 1 failed while running, 2 cannot start as given, 3 refused or invalid, 4 conflict,
    /// 5/6 `check` degraded/unavailable, 7 `audit verify` found tampering, 8 an import check
    /// failed (nothing written), 130 interrupted.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_)
            | CliError::Db(DbError::BadUrl(..))
            | CliError::Db(DbError::Pg(PgError::BinariesNotFound { .. })) => 2,
            CliError::Interrupted(_) => 130,
            CliError::Db(DbError::Incompatible(_)) | CliError::Incompatible(_) => 3,
            CliError::Db(_) | CliError::Io(_) => 1,
            CliError::Action(ActionError::Db(_)) => 1,
            CliError::Action(ActionError::Conflict { .. }) => 4,
            CliError::Action(
                ActionError::ReadOnly
                | ActionError::SignIn
                | ActionError::Forbidden(_)
                | ActionError::Invalid(_)
                | ActionError::NotFound(_)
                | ActionError::Insufficient { .. },
            ) => 3,
            CliError::Check("degraded") => 5,
            CliError::Check(_) => 6,
            CliError::Verify(_) => 7,
            CliError::Import(_) => 8,
            CliError::Stopped => 0,
        }
    }

    /// The `status` of a `--json` answer.
    pub fn json_status(&self) -> &'static str {
        match self {
            CliError::Action(ActionError::Forbidden(_) | ActionError::ReadOnly)
            | CliError::Db(DbError::Incompatible(_))
            | CliError::Incompatible(_) => "refused",
            CliError::Action(ActionError::Conflict { .. }) => "conflict",
            CliError::Action(ActionError::Db(_)) | CliError::Db(_) | CliError::Io(_) => "error",
            _ => "invalid",
        }
    }
}

impl From<ExportFailure> for CliError {
    fn from(e: ExportFailure) -> CliError {
        match e {
            ExportFailure::Refused(a) => CliError::Action(a),
            ExportFailure::Export(ExportError::Db(e)) => CliError::Action(e.into()),
            // The reader stopped early (`| head`): not an error.
            ExportFailure::Export(ExportError::Write(e))
                if e.kind() == std::io::ErrorKind::BrokenPipe =>
            {
                CliError::Stopped
            }
            e @ ExportFailure::Export(ExportError::Write(_)) => CliError::Io(e.to_string()),
            ExportFailure::Export(ExportError::Interrupted) => CliError::Interrupted("a signal"),
            e @ ExportFailure::Unrecorded { .. } => CliError::Io(e.to_string()),
        }
    }
}
