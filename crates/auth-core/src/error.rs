//! The one error type of [`AuthService`](crate::AuthService).

use thiserror::Error;

use crate::{EmailError, HashError, NameError, PasswordError, StoreError};

/// Why an [`AuthService`](crate::AuthService) operation did not succeed.
///
/// Each variant is a case a caller handles differently, so no caller needs to
/// look at message strings: show a form error for [`AuthError::InvalidInput`],
/// one generic message for [`AuthError::InvalidCredentials`], a "try again
/// later" page for [`AuthError::Store`].
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum AuthError {
    /// Registration with an email that already has an account.
    #[error("email already registered")]
    EmailTaken,
    /// Login with an unknown email or a wrong password; deliberately the same
    /// error for both, so a caller cannot tell which accounts exist.
    #[error("invalid email or password")]
    InvalidCredentials,
    /// Too many failed logins for this account or client address: no
    /// password was checked. Try again after `retry_after`.
    #[error("too many failed logins; retry after {retry_after:?}")]
    Throttled {
        /// How long the lock still lasts.
        retry_after: std::time::Duration,
    },
    /// Some fields failed validation; each carries its own message.
    #[error("invalid input")]
    InvalidInput(#[from] InputErrors),
    /// Hashing failed for a reason other than a wrong password.
    #[error(transparent)]
    Hashing(#[from] HashError),
    /// The operating system's random number generator failed.
    #[error("no randomness available: {0}")]
    Random(getrandom::Error),
    /// The store failed.
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for AuthError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::EmailTaken => Self::EmailTaken,
            other => Self::Store(other),
        }
    }
}

/// Field-by-field validation failures. A field is `None` when it was fine;
/// each error's `Display` is a message for the person who filled the form.
///
/// ```
/// use auth_core::{AuthError, InputErrors};
///
/// fn form_message(error: &AuthError) -> Option<String> {
///     match error {
///         AuthError::InvalidInput(errors) => errors.email.map(|e| e.to_string()),
///         _ => None,
///     }
/// }
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Error)]
#[error("invalid input")]
#[non_exhaustive]
pub struct InputErrors {
    /// The email field's problem.
    pub email: Option<EmailError>,
    /// The name field's problem.
    pub name: Option<NameError>,
    /// The password field's problem.
    pub password: Option<PasswordError>,
}

impl InputErrors {
    /// Whether every field was fine.
    pub fn is_empty(&self) -> bool {
        self.email.is_none() && self.name.is_none() && self.password.is_none()
    }
}
