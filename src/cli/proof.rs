//! `audit verify` and `audit checkpoint`: prove the audit log against its hash chain, and sign
//! the chain's head so that a cut-off tail can be proven too.

use std::path::PathBuf;

use clap::Args;
use serde_json::json;

use super::{CliError, output};
use crate::checkpoint::{self, Checkpoint, CheckpointError};
use crate::db::connect::Connection;
use crate::db::verify::{self, CheckpointHead, Report};
use crate::numbers::thousands;

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Also prove the chain still holds the head this checkpoint file signed (its newest
    /// entries were not cut off).
    #[arg(long, value_name = "FILE")]
    checkpoint: Option<PathBuf>,
    /// The key the checkpoint is checked with: the signing key file, or its KEY.pub [default:
    /// audit-checkpoint.key in the config directory]
    #[arg(long, value_name = "FILE")]
    key: Option<PathBuf>,
    /// Verify this archive file instead (every link in it recomputed), and that the database
    /// recorded it.
    #[arg(long, value_name = "FILE", conflicts_with = "checkpoint")]
    archive: Option<PathBuf>,
    /// One JSON object on standard output instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct CheckpointArgs {
    /// The ed25519 signing key; made (mode 0600) if it does not exist, with its public half
    /// beside it as KEY.pub [default: audit-checkpoint.key in the config directory]
    #[arg(long, value_name = "FILE")]
    key: Option<PathBuf>,
    /// Where to write the checkpoint (a new file) [default:
    /// audit-checkpoint-<link>-<time>.json in the current directory]
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    /// One JSON object on standard output (the checkpoint) instead of text.
    #[arg(long)]
    json: bool,
}

/// The checkpoint key's default place: in the config directory.
fn default_key(config_dir: &std::path::Path) -> PathBuf {
    config_dir.join(checkpoint::KEY_FILE)
}

fn checkpoint_error(e: CheckpointError) -> CliError {
    match e {
        CheckpointError::Key(m) | CheckpointError::File(m) => CliError::Usage(m),
        CheckpointError::Forged(m) => CliError::Verify(format!("the checkpoint: {m}")),
    }
}

/// The database's name, as a checkpoint records it.
async fn database_name(conn: &Connection) -> Result<String, CliError> {
    Ok(crate::db::query_scalar("SELECT current_database()::text")
        .fetch_one(&mut *crate::db::pinned(&conn.pool).await?)
        .await
        .map_err(crate::db::DbError::from)?)
}

/// Walks the chain; prints the report; exit 7 when it does not verify.
pub(super) async fn verify(
    conn: &Connection,
    config_dir: &std::path::Path,
    args: VerifyArgs,
) -> Result<(), CliError> {
    if let Some(file) = &args.archive {
        return verify_archive(conn, file, args.json).await;
    }
    // The checkpoint is read and its signature checked before the walk: a forged one stops here.
    let head = match &args.checkpoint {
        None => None,
        Some(path) => {
            let key = match &args.key {
                Some(k) => k.clone(),
                None => default_key(config_dir),
            };
            let trusted = checkpoint::trusted_key(&key).map_err(checkpoint_error)?;
            let c = Checkpoint::read(path).map_err(checkpoint_error)?;
            c.verify(&trusted).map_err(checkpoint_error)?;
            let database = database_name(conn).await?;
            if c.database != database {
                return Err(CliError::Verify(format!(
                    "the checkpoint is of database `{}`, not of `{database}`",
                    c.database
                )));
            }
            let hash = crate::db::chain::from_hex(&c.hash)
                .ok_or_else(|| CliError::Verify("the checkpoint's hash is malformed".into()))?;
            Some(CheckpointHead {
                seq: c.seq,
                hash,
                at: c.time().map_err(checkpoint_error)?,
            })
        }
    };
    let source = super::read_source(conn).await;
    let started = std::time::Instant::now();
    let report = verify::verify(&source, head.as_ref(), &mut |n| {
        if !args.json {
            output::note(format!("… {} rows checked", thousands(n as i64)));
        }
    })
    .await?;
    let seconds = started.elapsed().as_secs_f64();
    if args.json {
        let mut value = serde_json::to_value(&report).unwrap_or_default();
        value["ok"] = json!(report.ok());
        value["seconds"] = json!(seconds);
        output::json(&value)?;
    } else {
        print_report(&report, seconds)?;
    }
    if report.ok() {
        Ok(())
    } else {
        let n: u64 = report.counts.values().sum();
        Err(CliError::Verify(format!(
            "the audit log does not verify: {} problem{} (listed above)",
            thousands(n as i64),
            if n == 1 { "" } else { "s" }
        )))
    }
}

fn print_report(r: &Report, seconds: f64) -> Result<(), CliError> {
    let first = r.start_seq + 1;
    let verdict = if r.ok() { "verified" } else { "walked" };
    output::line(format!(
        "Audit chain: {} links {verdict} in {seconds:.1} s (links {} to {}).",
        thousands(r.links as i64),
        thousands(first),
        thousands(r.head_seq)
    ))?;
    if r.start_seq > 0 {
        output::line(format!(
            "It goes on from an archive's cut at link {} (hash {}).",
            thousands(r.start_seq),
            r.start_hash
        ))?;
    }
    let at = r
        .head_time
        .map(|t| format!(" at {}", t.format("%Y-%m-%d %H:%M:%S UTC")))
        .unwrap_or_default();
    output::line(format!(
        "Head: link {}, hash {}{at}.",
        thousands(r.head_seq),
        r.head_hash
    ))?;
    match &r.checkpoint {
        Some(c) => output::line(format!("Checkpoint: {c}."))?,
        None => output::line(
            "No checkpoint given: a tail cut off since the last checkpoint would not show \
             (see `switchboard audit checkpoint`).",
        )?,
    }
    if r.actor_deleted > 0 {
        output::line(format!(
            "{} rows verify with the actor they were written with, whose account was deleted \
             since (the platform's key emptied user_id).",
            thousands(r.actor_deleted as i64)
        ))?;
    }
    if r.outside > 0 {
        let by: Vec<String> = r
            .outside_by_action
            .iter()
            .map(|(a, n)| format!("{a} {}", thousands(*n as i64)))
            .collect();
        output::line(format!(
            "Outside the chain (written by others, or before the chain began): {} rows: {}.",
            thousands(r.outside as i64),
            by.join(", ")
        ))?;
    }
    if r.ok() {
        output::line("No problem found.")?;
        return Ok(());
    }
    let counts: Vec<String> = r
        .counts
        .iter()
        .map(|(k, n)| format!("{} {}", k.word(), thousands(*n as i64)))
        .collect();
    output::line(format!("PROBLEMS: {}.", counts.join(", ")))?;
    for p in &r.problems {
        let seq = p
            .seq
            .map(|s| format!("link {}", thousands(s)))
            .unwrap_or_else(|| "no link".into());
        output::line(format!("  {:<13} {seq}: {}", p.kind.word(), p.detail))?;
    }
    let listed = r.problems.len() as u64;
    let total: u64 = r.counts.values().sum();
    if total > listed {
        output::line(format!(
            "  … and {} more (--json lists the first {})",
            thousands((total - listed) as i64),
            verify::LISTED
        ))?;
    }
    Ok(())
}

/// Signs the chain's head with the key outside the database and writes it to a new file.
pub(super) async fn checkpoint(
    conn: &Connection,
    config_dir: &std::path::Path,
    args: CheckpointArgs,
) -> Result<(), CliError> {
    let key_path = match &args.key {
        Some(k) => k.clone(),
        None => default_key(config_dir),
    };
    let (key, made) = checkpoint::load_or_create_key(&key_path).map_err(checkpoint_error)?;
    if made {
        let public = checkpoint::write_public_key(&key_path, &key).map_err(checkpoint_error)?;
        output::note(format!(
            "Made the signing key {} (mode 0600) and its public half {}: keep copies of both \
             away from the database's hosts.",
            key_path.display(),
            public.display()
        ));
    }
    let database = database_name(conn).await?;
    let mut pinned = crate::db::pinned(&conn.pool).await?;
    let head = crate::db::chain::head(&mut pinned).await?;
    drop(pinned);
    let now = chrono::Utc::now();
    let signed = Checkpoint::sign(&key, &database, head.seq, &hex::encode(head.hash), now);
    let path = args.output.clone().unwrap_or_else(|| {
        PathBuf::from(format!(
            "audit-checkpoint-{}-{}.json",
            head.seq,
            now.format("%Y%m%dT%H%M%SZ")
        ))
    });
    signed.write_new(&path).map_err(checkpoint_error)?;
    if args.json {
        output::json(&serde_json::to_value(&signed).unwrap_or_default())?;
    } else {
        output::line(format!(
            "Checkpoint of link {} (hash {}) written to {}.",
            thousands(head.seq),
            signed.hash,
            path.display()
        ))?;
    }
    Ok(())
}

/// Verifies an archive file on its own, then that the database recorded exactly it.
async fn verify_archive(
    conn: &Connection,
    file: &std::path::Path,
    json: bool,
) -> Result<(), CliError> {
    use crate::db::archive::{ArchiveError, recorded, verify_file};
    let check = verify_file(file).map_err(|e| match e {
        ArchiveError::File(m) => CliError::Usage(m),
        ArchiveError::Verify(m) => CliError::Verify(m),
        ArchiveError::Db(e) => CliError::Db(e),
    })?;
    let when = recorded(&conn.pool, &check).await?;
    if json {
        let mut v = serde_json::to_value(&check).unwrap_or_default();
        v["ok"] = json!(when.is_some());
        v["recorded_at"] = json!(when);
        output::json(&v)?;
    } else {
        let chained = if check.chained == 0 {
            "none of them chained".to_string()
        } else {
            format!(
                "{} of them chained (links {} to {}, every hash recomputed)",
                thousands(check.chained as i64),
                thousands(check.start_seq + 1),
                thousands(check.through_seq)
            )
        };
        output::line(format!(
            "{}: {} entries made before {}, {chained}; SHA-256 {}.",
            file.display(),
            thousands((check.chained + check.outside) as i64),
            check.before,
            check.file_sha256
        ))?;
        if let Some(at) = when {
            output::line(format!(
                "The database recorded this archive on {}: the chain goes on from its last link.",
                at.format("%Y-%m-%d %H:%M:%S UTC")
            ))?;
        }
    }
    match when {
        Some(_) => Ok(()),
        None => Err(CliError::Verify(
            "the database has no record of an archive with this file's digest and last link".into(),
        )),
    }
}
