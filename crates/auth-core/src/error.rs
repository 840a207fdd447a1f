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
    #[error(transparent)]
    Random(#[from] RandomError),
    /// The store failed.
    #[error(transparent)]
    Store(StoreError),
    /// A link from a mail that is unknown, expired, already used, replaced
    /// by a newer one, or for an address the account no longer has.
    #[error("the link is invalid, expired or already used")]
    InvalidLink,
    /// [`AuthService::login`](crate::AuthService::login) and its variants
    /// for an account with a second factor: the password was right, but
    /// no session is issued without the second step. Use
    /// [`AuthService::sign_in`](crate::AuthService::sign_in) for such
    /// accounts.
    #[error("the account needs a second factor: use sign_in")]
    SecondFactorRequired,
    /// A second-factor operation that does not fit the account's state.
    #[error(transparent)]
    SecondFactor(#[from] SecondFactorError),
    /// A passkey could not be added, used or removed.
    #[error(transparent)]
    Passkey(#[from] PasskeyError),
}

/// Why a passkey operation did not go ahead.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum PasskeyError {
    /// The name the owner typed cannot be a passkey's: the message says why.
    #[error("{0}")]
    InvalidName(&'static str),
    /// The ceremony the answer is for is unknown, was answered already, is
    /// for another account or purpose, or expired: start again.
    #[error("the passkey request expired or was already used")]
    CeremonyExpired,
    /// The browser's answer did not verify (signature, challenge, origin,
    /// user verification), or names a credential this account does not
    /// have. The text is for logs, never for the page.
    #[error("the passkey was refused: {0}")]
    Rejected(String),
    /// The answer's signature counter is not above the last one accepted
    /// for this passkey: it may have been cloned, or the answer replayed.
    #[error("the passkey's signature counter did not increase")]
    CounterNotIncreased,
    /// The new passkey is registered already (to this or another account).
    #[error("that passkey is registered already")]
    AlreadyRegistered,
    /// The account has [`MAX_PASSKEYS`](crate::MAX_PASSKEYS) already.
    #[error("the account has as many passkeys as it may")]
    TooMany,
    /// No passkey of the account has that id.
    #[error("no such passkey")]
    NotFound,
    /// The sign-in's account has no passkey.
    #[error("the account has no passkey")]
    NoPasskey,
    /// The WebAuthn library failed (not the browser's answer).
    #[error("the WebAuthn library failed: {0}")]
    Failed(String),
}

/// Why a second-factor operation could not go ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum SecondFactorError {
    /// The account already signs in with an authenticator app.
    #[error("two-factor sign-in is already on")]
    AlreadyOn,
    /// The account does not sign in with an authenticator app.
    #[error("two-factor sign-in is off")]
    Off,
    /// No new authenticator waits to be confirmed (it was confirmed, or
    /// never set up).
    #[error("no authenticator is waiting to be confirmed")]
    NothingToConfirm,
    /// The sign-in waiting for its second factor expired, was completed
    /// already, or is unknown: start again with the password.
    #[error("the sign-in expired; start again")]
    SignInExpired,
}

/// The operating system's random number generator failed: no token, salt
/// or key could be made. Rare, and not worth retrying at once.
#[derive(Debug, Error)]
#[error("no randomness available: {0}")]
pub struct RandomError(getrandom::Error);

impl RandomError {
    /// Fills `bytes` from the operating system's generator.
    pub fn fill(bytes: &mut [u8]) -> Result<(), RandomError> {
        getrandom::fill(bytes).map_err(RandomError)
    }
}

impl AuthError {
    /// [`AuthError::EmailTaken`].
    pub fn is_email_taken(&self) -> bool {
        matches!(self, Self::EmailTaken)
    }

    /// [`AuthError::InvalidCredentials`].
    pub fn is_invalid_credentials(&self) -> bool {
        matches!(self, Self::InvalidCredentials)
    }

    /// [`AuthError::InvalidInput`]: the problems, field by field.
    pub fn input_errors(&self) -> Option<&InputErrors> {
        match self {
            Self::InvalidInput(errors) => Some(errors),
            _ => None,
        }
    }

    /// [`AuthError::Throttled`]: how long to wait (for `Retry-After`).
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            Self::Throttled { retry_after } => Some(*retry_after),
            _ => None,
        }
    }

    /// Whether the caller can do nothing about it but report it: the store,
    /// the hasher or the random number generator failed (a 5xx, logged).
    pub fn is_internal(&self) -> bool {
        matches!(
            self,
            Self::Hashing(_)
                | Self::Random(_)
                | Self::Store(_)
                | Self::Passkey(PasskeyError::Failed(_))
        )
    }

    /// Whether trying again later may succeed: the database was unreachable
    /// or busy ([`StoreError::Unavailable`]). A good reason for a 503 with
    /// `Retry-After` rather than a 500.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Store(StoreError::Unavailable(_)))
    }
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
        self.iter().next().is_none()
    }

    /// Each field's problem, in form order, with the field it belongs to.
    /// Building form messages from this, rather than from the fields one by
    /// one, keeps working if a later version checks more fields.
    ///
    /// ```
    /// use auth_core::{Field, PasswordPolicy, Registration};
    ///
    /// let form = Registration { email: "nope", name: "", password: "correct horse" };
    /// let errors = form.validate(&PasswordPolicy::default()).unwrap_err();
    /// let messages: Vec<(&str, String)> =
    ///     errors.iter().map(|(field, e)| (field.as_str(), e.to_string())).collect();
    /// assert_eq!(messages, [
    ///     ("email", "Enter a valid email address, like name@example.com.".to_owned()),
    ///     ("name", "Enter your name.".to_owned()),
    /// ]);
    /// assert_eq!(Field::Password.as_str(), "password");
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = (Field, &(dyn std::error::Error + 'static))> {
        let email = self.email.as_ref().map(|e| (Field::Email, e as _));
        let name = self.name.as_ref().map(|e| (Field::Name, e as _));
        let password = self.password.as_ref().map(|e| (Field::Password, e as _));
        [email, name, password].into_iter().flatten()
    }
}

/// A field of the registration and login forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Field {
    /// The email address.
    Email,
    /// The display name.
    Name,
    /// The password.
    Password,
}

impl Field {
    /// The conventional form-field name: `"email"`, `"name"`, `"password"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Name => "name",
            Self::Password => "password",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_unavailable_store_is_transient() {
        let unavailable = AuthError::Store(StoreError::Unavailable("down".into()));
        let broken = AuthError::Store(StoreError::Backend("syntax".into()));
        assert!(unavailable.is_transient());
        assert!(!broken.is_transient());
        assert!(!AuthError::InvalidCredentials.is_transient());
    }

    #[test]
    fn errors_come_in_form_order_with_their_field() {
        let errors = InputErrors {
            password: Some(PasswordError::Missing),
            email: Some(EmailError::Invalid),
            ..InputErrors::default()
        };
        let fields: Vec<Field> = errors.iter().map(|(field, _)| field).collect();
        assert_eq!(fields, [Field::Email, Field::Password]);
        assert!(InputErrors::default().is_empty());
    }
}
