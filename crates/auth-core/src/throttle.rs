//! Throttling: how many passwords an account and a client address may have
//! checked, how many accounts an address may create, and what a store keeps
//! to enforce it across instances.

use std::net::IpAddr;
use std::time::Duration as StdDuration;

use sha2::{Digest as _, Sha256};
use time::{Duration, OffsetDateTime};

use crate::Email;

/// Limits on password checks and on new accounts.
///
/// Within one `window`, at most `account_limit` passwords are checked for an
/// account and `address_limit` for a client address (looser: an office
/// behind one NAT shares an address). The limit bounds *checks*, not
/// failures seen afterwards: each attempt is counted in the store before its
/// password is verified, so a burst of simultaneous guesses, on one instance
/// or several, gets no more checks than the limit; a successful check gives
/// its count back. A failure at the limit locks that account or address for
/// `lockout`, doubling with each consecutive lock up to `max_lockout`; a
/// window without a lock resets the doubling. Locks are short by design: a
/// stranger can delay a user's login, never take their account away.
///
/// Separately, a client address may create at most `registration_limit`
/// accounts per `registration_window` (each costs a password hash), and
/// ask for at most `mail_address_limit` mails (reset links, confirmation
/// links) per `registration_window`; one address receives at most
/// `mail_limit` of them per `registration_window`, so the site cannot be
/// used to flood someone's inbox.
///
/// The defaults (5 per account and 50 per address in 15 minutes, locks of
/// 1 to 15 minutes, 20 new accounts and 20 mails per address per hour, 5
/// mails to one address per hour) keep an attacker
/// far below OWASP ASVS's 100 failed attempts per hour per account, and
/// leave room for an office behind one NAT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottlePolicy {
    /// Failed logins per account per window before a lock.
    pub account_limit: u32,
    /// Failed logins per client address per window before a lock.
    pub address_limit: u32,
    /// The counting window.
    pub window: Duration,
    /// The first lock's length.
    pub lockout: Duration,
    /// The longest lock.
    pub max_lockout: Duration,
    /// New accounts per client address per `registration_window`.
    pub registration_limit: u32,
    /// The window for counting new accounts and requested mails.
    pub registration_window: Duration,
    /// Requested mails per recipient address per `registration_window`.
    pub mail_limit: u32,
    /// Requested mails per client address per `registration_window`.
    pub mail_address_limit: u32,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        Self {
            account_limit: 5,
            address_limit: 50,
            window: Duration::minutes(15),
            lockout: Duration::minutes(1),
            max_lockout: Duration::minutes(15),
            registration_limit: 20,
            registration_window: Duration::hours(1),
            mail_limit: 5,
            mail_address_limit: 20,
        }
    }
}

impl ThrottlePolicy {
    /// No limits (for load tests of the login path; never in production).
    pub fn disabled() -> Self {
        Self {
            account_limit: u32::MAX,
            address_limit: u32::MAX,
            registration_limit: u32::MAX,
            mail_limit: u32::MAX,
            mail_address_limit: u32::MAX,
            ..Self::default()
        }
    }

    /// How long a throttle record must be kept to remember everything this
    /// policy counts: a whole login window and lock, or a registration
    /// window, whichever is longer.
    pub fn retention(&self) -> Duration {
        (self.window + self.max_lockout).max(self.registration_window)
    }

    /// How long the lock after `previous` consecutive locks lasts.
    pub fn lockout_after(&self, previous: u32) -> Duration {
        let factor = 2_i32.saturating_pow(previous.min(30));
        self.lockout
            .checked_mul(factor)
            .unwrap_or(self.max_lockout)
            .min(self.max_lockout)
    }
}

/// What an attempt is counted against: an account's logins, a client
/// address's logins, or a client address's registrations, kept as a SHA-256
/// digest so the throttle table holds no email addresses or IP addresses in
/// the clear.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ThrottleKey([u8; 32]);

impl ThrottleKey {
    /// The key of an account.
    pub fn account(email: &Email) -> Self {
        Self::digest(&[b"account:"], email.as_str().as_bytes())
    }

    /// The key of a client address. IPv6 addresses count by their /64
    /// prefix: one subscriber usually holds a whole /64, so counting single
    /// addresses would let them rotate through billions.
    pub fn address(address: IpAddr) -> Self {
        Self::network(b"", address)
    }

    /// The key of a client address's registrations, grouped like
    /// [`ThrottleKey::address`] and counted apart from its logins.
    pub fn registrations(address: IpAddr) -> Self {
        Self::network(b"register:", address)
    }

    /// The key of the mails requested for one recipient address.
    pub fn mail_to(email: &Email) -> Self {
        Self::digest(&[b"mail-to:"], email.as_str().as_bytes())
    }

    /// The key of the mails a client address requested, grouped like
    /// [`ThrottleKey::address`].
    pub fn mail_from(address: IpAddr) -> Self {
        Self::network(b"mail-from:", address)
    }

    /// The key of the passkey ceremonies a client address starts without an
    /// account (each keeps a challenge in the store until it expires),
    /// grouped like [`ThrottleKey::address`].
    pub fn passkey_ceremonies(address: IpAddr) -> Self {
        Self::network(b"passkey:", address)
    }

    fn network(purpose: &[u8], address: IpAddr) -> Self {
        match address {
            IpAddr::V4(v4) => Self::digest(&[purpose, b"ipv4:"], &v4.octets()),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Self::digest(&[purpose, b"ipv4:"], &v4.octets()),
                None => Self::digest(&[purpose, b"ipv6/64:"], &v6.octets()[..8]),
            },
        }
    }

    fn digest(kind: &[&[u8]], value: &[u8]) -> Self {
        let mut hasher = Sha256::new();
        for part in kind {
            hasher.update(part);
        }
        hasher.update(value);
        Self(hasher.finalize().into())
    }

    /// Wraps 32 bytes read back from a store.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The digest, as a store keeps it.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl std::fmt::Debug for ThrottleKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        crate::session::debug_digest("ThrottleKey", &self.0, f)
    }
}

/// A key's record, as a store returns it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleState {
    /// Attempts counted in the current window: each is counted before its
    /// check and given back if the check succeeds, so outside a race this is
    /// the number of failures.
    pub failures: u32,
    /// When the current window began.
    pub window_start: OffsetDateTime,
    /// Until when the key is locked (in the past if it is not).
    pub locked_until: OffsetDateTime,
    /// Consecutive locks so far.
    pub lockouts: u32,
}

impl ThrottleState {
    /// How long the key stays locked after `now`, if it is locked, rounded
    /// up to whole seconds (ready for a `Retry-After` header).
    pub fn retry_after(&self, now: OffsetDateTime) -> Option<StdDuration> {
        (self.locked_until > now).then(|| {
            let left = self.locked_until - now;
            let seconds = left.whole_seconds() + i64::from(left.subsec_nanoseconds() > 0);
            StdDuration::from_secs(seconds.try_into().unwrap_or(0))
        })
    }

    /// Why an attempt that brought the key to this record must not be
    /// checked, as the time to wait: the key is locked, or this attempt is
    /// past `limit` in the window that began at `window_start` (the wait is
    /// then until that window ends, at least a second).
    pub fn refusal(
        &self,
        now: OffsetDateTime,
        limit: u32,
        window: Duration,
    ) -> Option<StdDuration> {
        self.retry_after(now).or_else(|| {
            (self.failures > limit).then(|| {
                let end = ThrottleState {
                    locked_until: (self.window_start + window).max(now + Duration::seconds(1)),
                    ..*self
                };
                end.retry_after(now).unwrap_or(StdDuration::from_secs(1))
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lockouts_double_up_to_the_cap() {
        let policy = ThrottlePolicy::default();
        let minutes: Vec<i64> = (0..7)
            .map(|n| policy.lockout_after(n).whole_minutes())
            .collect();
        assert_eq!(minutes, [1, 2, 4, 8, 15, 15, 15]);
        assert_eq!(policy.lockout_after(u32::MAX), policy.max_lockout);
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        let t0 = OffsetDateTime::UNIX_EPOCH + Duration::hours(1);
        let state = ThrottleState {
            failures: 0,
            window_start: t0,
            locked_until: t0 + Duration::seconds(60),
            lockouts: 1,
        };
        let just_after = t0 + Duration::milliseconds(1);
        assert_eq!(
            state.retry_after(just_after),
            Some(StdDuration::from_secs(60))
        );
        assert_eq!(state.retry_after(t0), Some(StdDuration::from_secs(60)));
        assert_eq!(state.retry_after(t0 + Duration::seconds(60)), None);
    }

    #[test]
    fn refusal_is_a_lock_or_an_exhausted_window() {
        let t0 = OffsetDateTime::UNIX_EPOCH + Duration::hours(1);
        let window = Duration::minutes(15);
        let state = |failures, locked_until| ThrottleState {
            failures,
            window_start: t0,
            locked_until,
            lockouts: 0,
        };
        let now = t0 + Duration::minutes(5);
        let unlocked = OffsetDateTime::UNIX_EPOCH;
        assert_eq!(state(5, unlocked).refusal(now, 5, window), None);
        assert_eq!(
            state(6, unlocked).refusal(now, 5, window),
            Some(StdDuration::from_secs(600)),
            "past the limit: wait for the window to end"
        );
        assert_eq!(
            state(1, now + Duration::seconds(30)).refusal(now, 5, window),
            Some(StdDuration::from_secs(30)),
            "locked: wait for the lock to end"
        );
        assert_eq!(
            state(6, unlocked).refusal(t0 + window, 5, window),
            Some(StdDuration::from_secs(1)),
            "never a zero wait"
        );
    }

    #[test]
    fn keys_separate_kinds_and_group_ipv6_by_prefix() {
        let email = Email::parse("ada@example.com").unwrap();
        let v4: IpAddr = "192.0.2.7".parse().unwrap();
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(ThrottleKey::address(v4), ThrottleKey::address(mapped));
        assert_eq!(ThrottleKey::address(a), ThrottleKey::address(b));
        assert_ne!(ThrottleKey::address(a), ThrottleKey::address(other));
        assert_ne!(ThrottleKey::account(&email), ThrottleKey::address(v4));
        assert_ne!(ThrottleKey::registrations(v4), ThrottleKey::address(v4));
        assert_eq!(ThrottleKey::registrations(a), ThrottleKey::registrations(b));
    }
}
