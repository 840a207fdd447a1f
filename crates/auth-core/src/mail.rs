//! Mail to an account's owner: links that reset a password or confirm an
//! address, and notices of changes. The service decides what to send and
//! queues it in the store; a [`Mailer`] (the application's) turns each
//! [`Mail`] into a message and delivers it.

use std::fmt;
use std::future::Future;

use time::{Duration, OffsetDateTime};

use crate::{BoxError, DisplayName, Email, RandomError, SessionToken, TokenDigest};

/// The secret in a link sent by mail: 256 random bits, like a
/// [`SessionToken`]. Stores keep only its [`TokenDigest`]. `Debug` prints
/// no part of it and there is no `Display`.
///
/// ```
/// use auth_core::LinkToken;
///
/// let token = LinkToken::generate()?;
/// assert_eq!(format!("{token:?}"), "LinkToken(<redacted>)");
/// let parsed = LinkToken::parse(token.expose_secret()).expect("round-trips");
/// assert_eq!(parsed.digest(), token.digest());
/// assert!(LinkToken::parse("not-a-token").is_none());
/// # Ok::<(), auth_core::RandomError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct LinkToken(SessionToken);

impl LinkToken {
    /// A new random token.
    pub fn generate() -> Result<Self, RandomError> {
        SessionToken::generate().map(Self)
    }

    /// Reads a token from a link. Anything that is not of the shape
    /// [`LinkToken::generate`] makes is `None`, without a store lookup.
    pub fn parse(text: &str) -> Option<Self> {
        SessionToken::parse(text).map(Self)
    }

    /// The secret text, for the link.
    pub fn expose_secret(&self) -> &str {
        self.0.expose_secret()
    }

    /// The SHA-256 digest a store keeps instead of the token.
    pub fn digest(&self) -> TokenDigest {
        self.0.digest()
    }
}

impl fmt::Debug for LinkToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LinkToken(<redacted>)")
    }
}

/// What a [`LinkToken`] lets its holder do. Stored by
/// [`LinkPurpose::as_str`]; a token of one purpose never does another's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LinkPurpose {
    /// Set a new password without the old one.
    PasswordReset,
    /// Confirm that the account's address reaches its owner.
    ConfirmEmail,
    /// Make the address the link was sent to the account's address.
    ChangeEmail,
}

impl LinkPurpose {
    /// Every purpose.
    pub const ALL: [LinkPurpose; 3] = [Self::PasswordReset, Self::ConfirmEmail, Self::ChangeEmail];

    /// The stable name a store keeps.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::PasswordReset => "password_reset",
            Self::ConfirmEmail => "confirm_email",
            Self::ChangeEmail => "change_email",
        }
    }

    /// The purpose [`LinkPurpose::as_str`] names.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == name)
    }
}

/// Which mail a queued entry becomes. Stored by [`MailKind::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MailKind {
    /// A password-reset link, to whichever account has the address.
    PasswordReset,
    /// A link confirming the account's address.
    ConfirmEmail,
    /// A link, to a new address, that makes it the account's.
    ConfirmNewEmail,
    /// A notice that the password changed.
    PasswordChanged,
    /// A notice, to the old address, that the address changed.
    EmailChanged,
    /// A notice that two-factor sign-in was turned on or off, or its
    /// recovery codes replaced.
    SecondFactorChanged,
    /// A notice that a passkey was added or removed.
    PasskeysChanged,
}

impl MailKind {
    /// Every kind.
    pub const ALL: [MailKind; 7] = [
        Self::PasswordReset,
        Self::ConfirmEmail,
        Self::ConfirmNewEmail,
        Self::PasswordChanged,
        Self::EmailChanged,
        Self::SecondFactorChanged,
        Self::PasskeysChanged,
    ];

    /// The stable name a store keeps.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::PasswordReset => "password_reset",
            Self::ConfirmEmail => "confirm_email",
            Self::ConfirmNewEmail => "confirm_new_email",
            Self::PasswordChanged => "password_changed",
            Self::EmailChanged => "email_changed",
            Self::SecondFactorChanged => "second_factor_changed",
            Self::PasskeysChanged => "passkeys_changed",
        }
    }

    /// The kind [`MailKind::as_str`] names.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

/// One mail for a [`Mailer`] to deliver.
#[derive(Debug, Clone)]
pub struct Mail {
    /// The address to send it to.
    pub to: Email,
    /// The account's display name, for the greeting.
    pub name: DisplayName,
    /// When what the mail is about happened (the request or the change).
    pub at: OffsetDateTime,
    /// What it says.
    pub message: Message,
}

/// What a [`Mail`] says. Links carry their token; a [`Mailer`] builds the
/// address around it from the site's own configured address, never from a
/// request's `Host` header.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Message {
    /// "Someone asked to reset your password": a link, usable once, for
    /// `valid_for`.
    PasswordReset {
        /// The link's secret.
        token: LinkToken,
        /// How long the link works.
        valid_for: Duration,
    },
    /// "Confirm your address": a link for `valid_for`.
    ConfirmEmail {
        /// The link's secret.
        token: LinkToken,
        /// How long the link works.
        valid_for: Duration,
    },
    /// To the new address: "follow this link to make this your account's
    /// address".
    ConfirmNewEmail {
        /// The link's secret.
        token: LinkToken,
        /// How long the link works.
        valid_for: Duration,
    },
    /// "Your password was changed": what to do if it was not them.
    PasswordChanged,
    /// To the old address: "your account's address is now `new_email`".
    EmailChanged {
        /// The account's new address.
        new_email: Email,
    },
    /// "Your two-factor sign-in changed": how it is now (worked out when
    /// the mail is sent), and what to do if it was not them.
    SecondFactorChanged {
        /// Whether sign-in asks for an authenticator app's code now.
        on: bool,
        /// Unused recovery codes now.
        recovery_codes: u32,
        /// Passkeys the account has now (each also counts as a second
        /// factor).
        passkeys: u32,
    },
    /// "A passkey was added or removed": how many there are now (worked out
    /// when the mail is sent), and what to do if it was not them.
    PasskeysChanged {
        /// Passkeys the account has now.
        passkeys: u32,
    },
}

impl Message {
    /// Which kind of mail it is.
    pub fn kind(&self) -> MailKind {
        match self {
            Self::PasswordReset { .. } => MailKind::PasswordReset,
            Self::ConfirmEmail { .. } => MailKind::ConfirmEmail,
            Self::ConfirmNewEmail { .. } => MailKind::ConfirmNewEmail,
            Self::PasswordChanged => MailKind::PasswordChanged,
            Self::EmailChanged { .. } => MailKind::EmailChanged,
            Self::SecondFactorChanged { .. } => MailKind::SecondFactorChanged,
            Self::PasskeysChanged { .. } => MailKind::PasskeysChanged,
        }
    }
}

/// Why a [`Mailer`] did not deliver a mail.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MailError {
    /// The mail server could not be reached or asked to try later: the
    /// mail is tried again after a while.
    #[error("mail server unavailable")]
    Unavailable(#[source] BoxError),
    /// The mail can never be delivered (the server refused the address,
    /// the message could not be built): it is dropped, with a log line.
    #[error("mail refused")]
    Rejected(#[source] BoxError),
}

/// Delivers mail: the application's side of the mail queue (an SMTP
/// client, a file writer, a provider's API).
///
/// `send` returns `Ok` only once the mail has been handed over for good:
/// after an `Ok` the queue forgets it. A mail may be sent more than once
/// (the process ended between the hand-over and the queue's update), never
/// lost.
pub trait Mailer: Send + Sync {
    /// Delivers one mail.
    fn send(&self, mail: &Mail) -> impl Future<Output = Result<(), MailError>> + Send;
}

/// How long links work and how the queue retries.
///
/// The defaults: a reset link works for an hour (Devise: 6 hours, Django:
/// 3 days; shorter is safer, and a user can ask again), a confirmation link
/// for 3 days. A mail the server will not take is tried again after
/// `retry_after`, doubling each time up to `max_retry_after`, at most
/// `max_attempts` times (about a day with the defaults), then dropped with a
/// log line. While a worker sends a mail it holds it for `lease`, so a
/// worker on another instance does not send it too; a worker that dies
/// mid-way leaves it to be sent again after the lease.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailPolicy {
    /// How long a password-reset link works.
    pub reset_valid_for: Duration,
    /// How long a link confirming an address works.
    pub confirm_valid_for: Duration,
    /// The wait before the first retry.
    pub retry_after: Duration,
    /// The longest wait between retries.
    pub max_retry_after: Duration,
    /// How many times a mail is tried before it is dropped.
    pub max_attempts: u32,
    /// How long a worker holds a mail it is sending.
    pub lease: Duration,
}

impl Default for MailPolicy {
    fn default() -> Self {
        Self {
            reset_valid_for: Duration::hours(1),
            confirm_valid_for: Duration::days(3),
            retry_after: Duration::seconds(30),
            max_retry_after: Duration::hours(1),
            max_attempts: 30,
            lease: Duration::minutes(2),
        }
    }
}

impl MailPolicy {
    /// The wait after the `attempts`th failed attempt.
    pub fn retry_delay(&self, attempts: u32) -> Duration {
        let factor = 2_i32.saturating_pow(attempts.saturating_sub(1).min(30));
        self.retry_after
            .checked_mul(factor)
            .unwrap_or(self.max_retry_after)
            .min(self.max_retry_after)
    }
}

/// What one [`AuthService::deliver_mail`](crate::AuthService::deliver_mail)
/// round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Delivery {
    /// Handed to the mailer successfully.
    pub sent: u32,
    /// Not needed any more (no account has the address; the address was
    /// confirmed or changed meanwhile): dropped without sending.
    pub skipped: u32,
    /// Failed for now; tried again later.
    pub retried: u32,
    /// Refused for good, or out of attempts: dropped.
    pub dropped: u32,
}

impl Delivery {
    /// How many queued mails the round took.
    pub fn total(&self) -> u32 {
        self.sent + self.skipped + self.retried + self.dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_up_to_the_cap() {
        let policy = MailPolicy::default();
        assert_eq!(policy.retry_delay(1), Duration::seconds(30));
        assert_eq!(policy.retry_delay(2), Duration::seconds(60));
        assert_eq!(policy.retry_delay(3), Duration::seconds(120));
        assert_eq!(policy.retry_delay(100), Duration::hours(1));
    }

    #[test]
    fn names_round_trip() {
        for kind in MailKind::ALL {
            assert_eq!(MailKind::parse(kind.as_str()), Some(kind));
        }
        for purpose in LinkPurpose::ALL {
            assert_eq!(LinkPurpose::parse(purpose.as_str()), Some(purpose));
        }
        assert_eq!(MailKind::parse("other"), None);
    }
}
