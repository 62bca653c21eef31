//! The sign-in screen's state.

use tui_input::Input;

/// The sign-in screen.
#[derive(Clone, Default)]
pub struct SignIn {
    pub email: Input,
    pub password: Input,
    /// Whether the password field has the focus (else the email field).
    pub on_password: bool,
    pub failures: u8,
    pub message: Option<String>,
    /// The sign-in request in flight.
    pub pending: Option<u64>,
}

impl std::fmt::Debug for SignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the password, not even its length.
        f.debug_struct("SignIn")
            .field("email", &self.email.value())
            .field("on_password", &self.on_password)
            .field("failures", &self.failures)
            .field("message", &self.message)
            .field("pending", &self.pending)
            .finish_non_exhaustive()
    }
}

/// Tries before the console gives up.
pub const SIGN_IN_TRIES: u8 = 3;

impl SignIn {
    pub fn new(email: Option<&str>) -> SignIn {
        let email = email.unwrap_or_default();
        SignIn {
            email: Input::new(email.to_string()),
            on_password: !email.is_empty(),
            ..SignIn::default()
        }
    }

    pub fn tries_left(&self) -> u8 {
        SIGN_IN_TRIES.saturating_sub(self.failures)
    }
}
