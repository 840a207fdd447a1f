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

/// How long sessions live. The defaults are OWASP ASVS level 2's (§3.3.2):
/// a session ends after 30 minutes without use and 12 hours after login,
/// whichever comes first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    /// A session unused for this long has ended.
    pub idle_timeout: Duration,
    /// A session this old has ended, however busy.
    pub absolute_timeout: Duration,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self {
            idle_timeout: Duration::minutes(30),
            absolute_timeout: Duration::hours(12),
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

    /// Whether a session with these times has ended at `now`.
    pub fn is_expired(
        &self,
        now: OffsetDateTime,
        last_seen_at: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> bool {
        now >= expires_at || now >= last_seen_at + self.idle_timeout
    }
}

/// A live session, as [`AuthService::authenticate`](crate::AuthService::authenticate)
/// returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Whose session it is.
    pub user: User,
    /// When the session was created (the login).
    pub created_at: OffsetDateTime,
    /// When the session was last used, to within
    /// [`SessionPolicy::touch_interval`].
    pub last_seen_at: OffsetDateTime,
    /// When the session ends however busy it is.
    pub expires_at: OffsetDateTime,
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
}

impl IssuedSession {
    /// How long the session lasts at most, in whole seconds: the `Max-Age`
    /// for the cookie that carries the token.
    pub fn max_age(&self) -> std::time::Duration {
        let seconds = (self.expires_at - self.created_at).whole_seconds();
        std::time::Duration::from_secs(seconds.try_into().unwrap_or(0))
    }
}

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
        let expires = t0 + policy.absolute_timeout;
        assert!(!policy.is_expired(t0 + Duration::minutes(29), t0, expires));
        assert!(policy.is_expired(t0 + Duration::minutes(30), t0, expires));
        let recent = expires - Duration::minutes(1);
        assert!(policy.is_expired(expires, recent, expires));
        assert_eq!(policy.touch_interval(), Duration::minutes(1));
    }
}
