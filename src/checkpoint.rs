//! Signed checkpoints of the audit chain's head (a leaf: no database, no terminal).
//!
//! A chain alone cannot show that its newest links were cut off: whoever deletes the tail
//! leaves a shorter chain that still verifies. A checkpoint is the head at one moment (link
//! number, hash, time, database) signed with an ed25519 key kept outside the database; `verify
//! --checkpoint` proves the chain still holds that link with that hash. Keep the files (and the
//! key) where whoever can write to the database cannot.

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, SecondsFormat, Utc};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use hex::FromHex;

/// What a checkpoint file says it is.
pub const FORMAT: &str = "switchboard-audit-checkpoint/1";

/// The key file's name in the config directory.
pub const KEY_FILE: &str = "audit-checkpoint.key";

#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("{0}")]
    Key(String),
    #[error("{0}")]
    File(String),
    /// The file was changed, or signed by another key.
    #[error("{0}")]
    Forged(String),
}

/// A signed head, as written to a file (JSON).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Checkpoint {
    pub format: String,
    /// The database's name, so that a checkpoint of one database is not held against another.
    pub database: String,
    pub seq: i64,
    /// The link's hash, 64 hex digits.
    pub hash: String,
    pub at: String,
    /// The signer's public key, 64 hex digits (checked against the key verify is given).
    pub public_key: String,
    /// ed25519 over [`Checkpoint::message`], 128 hex digits.
    pub signature: String,
}

impl Checkpoint {
    /// What is signed: the format, the database, the link, its hash and the time, one a line.
    fn message(&self) -> String {
        format!(
            "{}\n{}\n{}\n{}\n{}\n",
            self.format, self.database, self.seq, self.hash, self.at
        )
    }

    /// Signs the head `seq`/`hash` of `database` at `at`.
    pub fn sign(
        key: &SigningKey,
        database: &str,
        seq: i64,
        hash: &str,
        at: DateTime<Utc>,
    ) -> Checkpoint {
        let mut c = Checkpoint {
            format: FORMAT.into(),
            database: database.into(),
            seq,
            hash: hash.into(),
            at: at.to_rfc3339_opts(SecondsFormat::Micros, true),
            public_key: hex::encode(key.verifying_key().as_bytes()),
            signature: String::new(),
        };
        c.signature = hex::encode(key.sign(c.message().as_bytes()).to_bytes());
        c
    }

    /// Checks the signature with the trusted key `trusted` (not the one the file names: a
    /// forger would name their own).
    pub fn verify(&self, trusted: &VerifyingKey) -> Result<(), CheckpointError> {
        if self.format != FORMAT {
            return Err(CheckpointError::Forged(format!(
                "not a checkpoint of this format (`{}`)",
                self.format
            )));
        }
        if self.public_key != hex::encode(trusted.as_bytes()) {
            return Err(CheckpointError::Forged(
                "the checkpoint was signed by another key than the one given".into(),
            ));
        }
        let bytes: [u8; 64] = <[u8; 64]>::from_hex(&self.signature)
            .ok()
            .ok_or_else(|| CheckpointError::Forged("its signature is malformed".into()))?;
        trusted
            .verify(self.message().as_bytes(), &Signature::from_bytes(&bytes))
            .map_err(|_| {
                CheckpointError::Forged(
                    "its signature does not match its contents: the file was changed".into(),
                )
            })
    }

    pub fn time(&self) -> Result<DateTime<Utc>, CheckpointError> {
        DateTime::parse_from_rfc3339(&self.at)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| CheckpointError::Forged(format!("`{}` is not a time", self.at)))
    }

    pub fn read(path: &Path) -> Result<Checkpoint, CheckpointError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| CheckpointError::File(format!("reading {}: {e}", path.display())))?;
        serde_json::from_str(&text).map_err(|e| {
            CheckpointError::Forged(format!("{} is not a checkpoint: {e}", path.display()))
        })
    }

    /// Writes the checkpoint to `path` (a new file; an existing one is not replaced).
    pub fn write_new(&self, path: &Path) -> Result<(), CheckpointError> {
        let text = serde_json::to_string_pretty(self).unwrap_or_default();
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(|e| CheckpointError::File(format!("writing {}: {e}", path.display())))?;
        f.write_all(format!("{text}\n").as_bytes())
            .map_err(|e| CheckpointError::File(format!("writing {}: {e}", path.display())))
    }
}

/// The signing key in `path`, created (mode 0600, its directory 0700) if there is none yet.
/// Returns the key and whether it was made now.
pub fn load_or_create_key(path: &Path) -> Result<(SigningKey, bool), CheckpointError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok((parse_signing_key(path, &text)?, false)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            use rand::Rng;
            use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
            if let Some(dir) = path.parent() {
                std::fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(dir)
                    .map_err(|e| CheckpointError::Key(format!("{}: {e}", dir.display())))?;
            }
            let mut seed = [0u8; 32];
            rand::rng().fill_bytes(&mut seed);
            let key = SigningKey::from_bytes(&seed);
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)
                .map_err(|e| CheckpointError::Key(format!("creating {}: {e}", path.display())))?;
            f.write_all(format!("{}\n", hex::encode(seed)).as_bytes())
                .map_err(|e| CheckpointError::Key(format!("writing {}: {e}", path.display())))?;
            Ok((key, true))
        }
        Err(e) => Err(CheckpointError::Key(format!(
            "reading {}: {e}",
            path.display()
        ))),
    }
}

fn parse_signing_key(path: &Path, text: &str) -> Result<SigningKey, CheckpointError> {
    let seed: [u8; 32] = <[u8; 32]>::from_hex(text.trim()).ok().ok_or_else(|| {
        CheckpointError::Key(format!(
            "{} does not hold a signing key (64 hex digits)",
            path.display()
        ))
    })?;
    Ok(SigningKey::from_bytes(&seed))
}

/// The key a checkpoint is checked with: a signing key file (its public half), or a file or
/// text holding the public key's 64 hex digits.
pub fn trusted_key(path: &Path) -> Result<VerifyingKey, CheckpointError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CheckpointError::Key(format!("reading {}: {e}", path.display())))?;
    let bytes: [u8; 32] = <[u8; 32]>::from_hex(text.trim()).ok().ok_or_else(|| {
        CheckpointError::Key(format!("{} holds no key (64 hex digits)", path.display()))
    })?;
    // A signing key's file holds its seed; a public key's file its public key. The private
    // key file is the default; `.pub` files name themselves.
    if path.extension().is_some_and(|e| e == "pub") {
        VerifyingKey::from_bytes(&bytes)
            .map_err(|_| CheckpointError::Key(format!("{} is not an ed25519 key", path.display())))
    } else {
        Ok(SigningKey::from_bytes(&bytes).verifying_key())
    }
}

/// The public key file written beside a signing key (`KEY.pub`), to give to whoever verifies.
pub fn public_key_path(key: &Path) -> PathBuf {
    let mut name = key.as_os_str().to_os_string();
    name.push(".pub");
    PathBuf::from(name)
}

/// Writes `key`'s public half beside it (replacing an older copy).
pub fn write_public_key(key_path: &Path, key: &SigningKey) -> Result<PathBuf, CheckpointError> {
    let path = public_key_path(key_path);
    std::fs::write(
        &path,
        format!("{}\n", hex::encode(key.verifying_key().as_bytes())),
    )
    .map_err(|e| CheckpointError::Key(format!("writing {}: {e}", path.display())))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checkpoint_verifies_with_its_key_and_not_once_changed_or_with_another_key() {
        let dir = std::env::temp_dir().join(format!("sb-cp-{}", std::process::id()));
        let path = dir.join(KEY_FILE);
        let (key, made) = load_or_create_key(&path).unwrap();
        assert!(made);
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let (again, made) = load_or_create_key(&path).unwrap();
        assert!(!made);
        assert_eq!(again.to_bytes(), key.to_bytes());
        let at = DateTime::from_timestamp(1_764_000_000, 0).unwrap();
        let c = Checkpoint::sign(&key, "platform", 42, &"ab".repeat(32), at);
        let trusted = trusted_key(&path).unwrap();
        c.verify(&trusted).unwrap();
        let pubfile = write_public_key(&path, &key).unwrap();
        c.verify(&trusted_key(&pubfile).unwrap()).unwrap();
        let mut changed = c.clone();
        changed.seq = 41;
        assert!(matches!(
            changed.verify(&trusted),
            Err(CheckpointError::Forged(_))
        ));
        let other = SigningKey::from_bytes(&[7; 32]);
        let resigned = Checkpoint::sign(&other, "platform", 41, &"ab".repeat(32), at);
        assert!(
            resigned
                .verify(&trusted)
                .unwrap_err()
                .to_string()
                .contains("another key")
        );
        std::fs::remove_dir_all(dir).ok();
    }
}
