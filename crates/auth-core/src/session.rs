//! Server-side sessions: the secret token a client holds, the digest a store
//! keeps, and the lifetime rules.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use sha2::{Digest as _, Sha256};
use time::{Duration, OffsetDateTime};
use zeroize::Zeroizing;

use crate::{RandomError, User};

const TOKEN_BYTES: usize = 32;
/// Length of a token's text form: 32 bytes in unpadded base64url.
const TOKEN_CHARS: usize = 43;

/// The secret a client presents to prove it holds a session: 256 random bits
/// from the operating system, as 43 characters of unpadded base64url (safe in
/// a cookie, a header or a URL-less API).
///
/// Stores never see it: they keep its [`TokenDigest`], so a copy of the
/// database does not let anyone take over a session. `Debug` prints no part of
/// it and there is no `Display`; [`SessionToken::expose_secret`] is the one
/// way to read it, for writing the cookie.
///
/// ```
/// use auth_core::SessionToken;
///
/// let token = SessionToken::generate()?;
/// assert_eq!(format!("{token:?}"), "SessionToken(<redacted>)");
/// let parsed = SessionToken::parse(token.expose_secret()).expect("round-trips");
/// assert_eq!(parsed.digest(), token.digest());
/// assert!(SessionToken::parse("forged").is_none());
/// # Ok::<(), auth_core::RandomError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct SessionToken(Zeroizing<String>);

impl SessionToken {
    /// A new random token.
    pub fn generate() -> Result<Self, RandomError> {
        let mut bytes = Zeroizing::new([0u8; TOKEN_BYTES]);
        RandomError::fill(bytes.as_mut())?;
        Ok(Self(Zeroizing::new(URL_SAFE_NO_PAD.encode(bytes.as_ref()))))
    }

    /// Reads a token a client sent back. Anything that is not exactly the
    /// shape [`SessionToken::generate`] makes is `None`: such a value cannot
    /// name a session, and refusing it here saves a store lookup.
    pub fn parse(text: &str) -> Option<Self> {
        let well_formed = text.len() == TOKEN_CHARS
            && URL_SAFE_NO_PAD
                .decode(text)
                .is_ok_and(|bytes| bytes.len() == TOKEN_BYTES);
        well_formed.then(|| Self(Zeroizing::new(text.to_owned())))
    }

    /// The secret text, for the cookie (or header) that carries it.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// The SHA-256 digest that stores keep instead of the token.
    pub fn digest(&self) -> TokenDigest {
        TokenDigest(Sha256::digest(self.0.as_bytes()).into())
    }
}

impl fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionToken(<redacted>)")
    }
}

/// The SHA-256 digest of a [`SessionToken`]: the key a store files a session
/// under.
///
/// Looking a session up by digest needs no constant-time comparison: timing
/// may tell an attacker how much of a *digest* they matched, and a digest
/// cannot be turned back into a token.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenDigest([u8; 32]);

impl TokenDigest {
    /// Wraps 32 bytes read back from a store.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The digest's bytes, as a store keeps them.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// A name for the session to put in a page or a form ("log out that
    /// session"): 32 hex digits of a second, domain-separated SHA-256 of
    /// the digest, so a page never shows the key a store files the session
    /// under. The same digest always has the same handle.
    pub fn handle(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update(b"auth-core session handle:");
        hasher.update(self.0);
        hasher.finalize()[..16]
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect()
    }
}

impl fmt::Debug for TokenDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        debug_digest("TokenDigest", &self.0, f)
    }
}

/// `Name(1a2b3c4d…)`: enough of a digest to tell two apart in a log or a
/// test failure, too little to look one up.
pub(crate) fn debug_digest(
    name: &str,
    digest: &[u8; 32],
    f: &mut fmt::Formatter<'_>,
) -> fmt::Result {
    write!(f, "{name}(")?;
    for byte in &digest[..4] {
        write!(f, "{byte:02x}")?;
    }
    write!(f, "…)")
}

/// How long sessions live, and how recently the password must have been
/// entered for a sensitive action.
///
/// The defaults for an ordinary session are OWASP ASVS level 2's (§3.3.2):
/// it ends after 30 minutes without use and 12 hours after login, whichever
/// comes first. A session the user asked to be remembered
/// ([`SessionLength::Remembered`]) lasts up to 30 days, and ends after 7
/// days without use; it is a revocable row like any other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    /// An ordinary session unused for this long has ended.
    pub idle_timeout: Duration,
    /// An ordinary session this old has ended, however busy.
    pub absolute_timeout: Duration,
    /// A remembered session unused for this long has ended.
    pub remembered_idle_timeout: Duration,
    /// A remembered session this old has ended, however busy.
    pub remembered_absolute_timeout: Duration,
    /// How long after the password was last entered in a session a
    /// sensitive action may go ahead without asking for it again (see
    /// [`SessionTimes::authenticated_at`]). Ten minutes by default.
    pub reauthenticate_after: Duration,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self {
            idle_timeout: Duration::minutes(30),
            absolute_timeout: Duration::hours(12),
            remembered_idle_timeout: Duration::days(7),
            remembered_absolute_timeout: Duration::days(30),
            reauthenticate_after: Duration::minutes(10),
        }
    }
}

impl SessionPolicy {
    /// How stale `last_seen_at` may get before a request records the new
    /// time. Writing it on every request would turn every page view into a
    /// database write; a minute (or a tenth of the idle timeout, if shorter)
    /// costs at most that much precision in the idle timeout.
    pub fn touch_interval(&self) -> Duration {
        (self.idle_timeout / 10_i32).min(Duration::minutes(1))
    }

    /// The idle and absolute timeouts of a new session of `length`.
    pub fn timeouts(&self, length: SessionLength) -> (Duration, Duration) {
        match length {
            SessionLength::Browser => (self.idle_timeout, self.absolute_timeout),
            SessionLength::Remembered => (
                self.remembered_idle_timeout,
                self.remembered_absolute_timeout,
            ),
        }
    }
}

/// How long a new session is meant to last: the "remember me" choice.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SessionLength {
    /// Until the browser closes (a cookie without an expiry), and at most
    /// [`SessionPolicy::absolute_timeout`].
    #[default]
    Browser,
    /// Across browser restarts, up to
    /// [`SessionPolicy::remembered_absolute_timeout`].
    Remembered,
}

/// A session's times: what decides whether it is still live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionTimes {
    /// When the session was created (the login).
    pub created_at: OffsetDateTime,
    /// When the session was last recorded as used, to within
    /// [`SessionPolicy::touch_interval`].
    pub last_seen_at: OffsetDateTime,
    /// When the session ends however busy it is.
    pub expires_at: OffsetDateTime,
    /// How long the session may go unused, fixed when it was created.
    pub idle_timeout: Duration,
    /// When the account's password was last entered in this session: at
    /// login, or later to confirm a sensitive action.
    pub authenticated_at: OffsetDateTime,
}

impl SessionTimes {
    /// Whether the session has ended at `now`: past its absolute end, or
    /// unused for its idle timeout.
    pub fn has_ended(&self, now: OffsetDateTime) -> bool {
        now >= self.expires_at || now >= self.last_seen_at + self.idle_timeout
    }
}

/// A live session, as [`AuthService::authenticate`](crate::AuthService::authenticate)
/// returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Whose session it is.
    pub user: User,
    /// Its times; `last_seen_at` as of this request.
    pub times: SessionTimes,
}

/// A session just created by a registration or login: the token to hand to
/// the client, and whose it is.
#[derive(Debug)]
#[non_exhaustive]
pub struct IssuedSession {
    /// The account now logged in.
    pub user: User,
    /// The secret for the client to present on later requests.
    pub token: SessionToken,
    /// When the session was created.
    pub created_at: OffsetDateTime,
    /// When the session ends however busy it is.
    pub expires_at: OffsetDateTime,
    /// Whether it should outlive the browser: a persistent cookie for
    /// [`SessionLength::Remembered`], a browser-session cookie otherwise.
    pub length: SessionLength,
}

impl IssuedSession {
    /// How long the session lasts at most, in whole seconds: the `Max-Age`
    /// for a persistent cookie that carries the token.
    pub fn max_age(&self) -> std::time::Duration {
        let seconds = (self.expires_at - self.created_at).whole_seconds();
        std::time::Duration::from_secs(seconds.try_into().unwrap_or(0))
    }
}

/// Defines a token for one purpose (a pending sign-in, a passkey ceremony):
/// made like a [`SessionToken`], kept by stores only as its digest, and
/// accepted by nothing but the methods of that purpose. `Debug` prints no
/// secret.
macro_rules! single_purpose_token {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq)]
        pub struct $name(crate::SessionToken);

        impl $name {
            pub(crate) fn generate() -> Result<Self, crate::RandomError> {
                crate::SessionToken::generate().map(Self)
            }

            /// Reads a token back from the browser; `None` if it cannot be one.
            pub fn parse(text: &str) -> Option<Self> {
                crate::SessionToken::parse(text).map(Self)
            }

            /// The secret text, for the cookie that carries it.
            pub fn expose_secret(&self) -> &str {
                self.0.expose_secret()
            }

            /// The digest a store keeps.
            pub fn digest(&self) -> crate::TokenDigest {
                self.0.digest()
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(concat!(stringify!($name), "(<redacted>)"))
            }
        }
    };
}
pub(crate) use single_purpose_token;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_round_trip() {
        let a = SessionToken::generate().unwrap();
        let b = SessionToken::generate().unwrap();
        assert_ne!(a, b);
        assert_ne!(a.digest(), b.digest());
        assert_eq!(a.expose_secret().len(), TOKEN_CHARS);
        assert_eq!(SessionToken::parse(a.expose_secret()), Some(a));
    }

    #[test]
    fn parse_refuses_anything_else() {
        let good = SessionToken::generate().unwrap();
        let good = good.expose_secret();
        assert!(SessionToken::parse("").is_none());
        assert!(SessionToken::parse(&good[1..]).is_none());
        assert!(SessionToken::parse(&format!("{good}A")).is_none());
        assert!(SessionToken::parse(&format!("{}+", &good[..42])).is_none());
        let non_ascii = format!("{}a", "é".repeat(21));
        assert_eq!(non_ascii.len(), TOKEN_CHARS);
        assert!(SessionToken::parse(&non_ascii).is_none());
    }

    #[test]
    fn debug_hides_the_secret() {
        let token = SessionToken::generate().unwrap();
        let shown = format!("{token:?} {:?}", token.digest());
        assert!(!shown.contains(token.expose_secret()));
    }

    #[test]
    fn expiry_is_idle_or_absolute() {
        let policy = SessionPolicy::default();
        let t0 = OffsetDateTime::UNIX_EPOCH;
        let (idle_timeout, absolute) = policy.timeouts(SessionLength::Browser);
        let times = SessionTimes {
            created_at: t0,
            last_seen_at: t0,
            expires_at: t0 + absolute,
            idle_timeout,
            authenticated_at: t0,
        };
        assert!(!times.has_ended(t0 + Duration::minutes(29)));
        assert!(times.has_ended(t0 + Duration::minutes(30)));
        let busy = SessionTimes {
            last_seen_at: times.expires_at - Duration::minutes(1),
            ..times
        };
        assert!(busy.has_ended(times.expires_at));
        assert_eq!(policy.touch_interval(), Duration::minutes(1));
        let (idle, absolute) = policy.timeouts(SessionLength::Remembered);
        assert_eq!((idle, absolute), (Duration::days(7), Duration::days(30)));
    }

    #[test]
    fn handles_are_stable_and_hide_the_digest() {
        let token = SessionToken::generate().unwrap();
        let handle = token.digest().handle();
        assert_eq!(handle.len(), 32);
        assert_eq!(handle, token.digest().handle());
        let digest_hex: String = token.digest().as_bytes()[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_ne!(handle, digest_hex);
    }
}
