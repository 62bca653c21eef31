//! Passwords: a type that never shows itself, hashing for new passwords, and verification of
//! stored argon2 and bcrypt hashes. A leaf: it knows nothing of the database or the console.

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

/// A password or other secret: never shown by `Debug`, so it cannot reach a log by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// Hashing failed (argon2 refused its parameters or the salt): never carries the password.
#[derive(Debug, Clone, thiserror::Error)]
#[error("cannot hash the password: {0}")]
pub struct HashError(String);

/// Checks a password against a stored hash: argon2 PHC strings and bcrypt `$2a$`/`$2b$`/`$2y$`.
/// Anything else (no hash, an unknown scheme) never matches. CPU-heavy: call off the UI loop.
pub fn verify_password(password: &str, hash: &str) -> bool {
    if hash.starts_with("$argon2") {
        Argon2::default()
            .verify_password(password.as_bytes(), hash)
            .is_ok()
    } else if ["$2a$", "$2b$", "$2y$"].iter().any(|p| hash.starts_with(p)) {
        bcrypt::verify(password, hash).unwrap_or(false)
    } else {
        false
    }
}

/// An argon2id PHC string of `password` with a random salt and argon2's default (OWASP) cost.
pub fn hash_password(password: &str) -> Result<String, HashError> {
    use rand::Rng;
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    Argon2::default()
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| HashError(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argon2_and_all_bcrypt_prefixes_verify() {
        let argon = hash_password("correct horse").unwrap();
        assert!(argon.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &argon));
        assert!(!verify_password("wrong horse", &argon));
        let b = bcrypt::hash("correct horse", 4).unwrap();
        for prefix in ["$2a$", "$2b$", "$2y$"] {
            let h = format!("{prefix}{}", &b[4..]);
            assert!(verify_password("correct horse", &h), "{prefix}");
            assert!(!verify_password("wrong horse", &h), "{prefix}");
        }
        assert!(!verify_password("x", "plaintext"));
        assert!(!verify_password("", ""));
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        let s = Secret::new("hunter2hunter2");
        assert!(!format!("{s:?}").contains("hunter2"));
    }
}
