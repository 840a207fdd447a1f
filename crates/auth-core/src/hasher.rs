//! Password hashing: the pluggable trait and its bcrypt implementation.

use std::fmt;

use base64::alphabet::BCRYPT;
use base64::engine::general_purpose::{GeneralPurpose, NO_PAD, STANDARD};
use base64::Engine as _;
use hmac::{Hmac, Mac as _};
use sha2::Sha256;
use thiserror::Error;
use zeroize::Zeroizing;

use crate::werkzeug::WerkzeugHash;
use crate::Password;

/// bcrypt's own base64, in which it writes the salt.
const BCRYPT_BASE64: GeneralPurpose = GeneralPurpose::new(&BCRYPT, NO_PAD);

/// A stored password hash, in its hasher's encoding (for
/// [`BcryptHasher`], `$bcrypt-sha256$v=1$2b$…`).
/// `Debug` does not print it: a hash is an offline guessing target.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// Wraps a hash read back from a store.
    pub fn new(encoded: String) -> Self {
        Self(encoded)
    }

    /// The encoded hash, for the store to keep.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(<redacted>)")
    }
}

/// Hashing or verification failed for a reason other than a wrong password:
/// a malformed stored hash, an unusable cost, a worker thread that died.
#[derive(Debug, Error)]
#[error("password hashing failed")]
pub struct HashError(#[source] Box<dyn std::error::Error + Send + Sync>);

/// A bcrypt cost outside 4 to 31: a configuration mistake.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("bcrypt cost must be between 4 and 31, not {0}")]
pub struct InvalidCost(pub u32);

impl HashError {
    /// Wraps the underlying cause.
    pub fn new(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self(source.into())
    }
}

/// A slow, salted password hash. Implementations are called on a blocking
/// thread by [`AuthService`](crate::AuthService), never on an async executor,
/// so they may take as long as their work factor asks.
pub trait PasswordHasher: Send + Sync + 'static {
    /// Hashes a password that passed the [`PasswordPolicy`](crate::PasswordPolicy).
    fn hash(&self, password: &Password) -> Result<PasswordHash, HashError>;

    /// Whether `password` is the one `hash` was made from. A wrong password is
    /// `Ok(false)`; `Err` means the hash itself could not be used. The
    /// comparison must take the same time wherever the first difference is.
    fn verify(&self, password: &Password, hash: &PasswordHash) -> Result<bool, HashError>;

    /// Whether `hash` was made with weaker settings than this hasher's, so the
    /// service should store a fresh hash at the next successful login.
    fn needs_rehash(&self, hash: &PasswordHash) -> bool {
        let _ = hash;
        false
    }

    /// Whether [`verify`](PasswordHasher::verify) can use `hash`: its format
    /// is one this hasher reads and its parameters are within its limits.
    /// An [`Import`](crate::Import)
    /// refuses a hash for which this is `false`, so an imported account is
    /// never one nobody can log into. By default, every hash.
    fn can_verify(&self, hash: &PasswordHash) -> bool {
        let _ = hash;
        true
    }
}

/// bcrypt over a keyed pre-hash, the default [`PasswordHasher`].
///
/// bcrypt reads at most 72 bytes of its input and stops at a NUL byte, so
/// the password is first condensed: HMAC-SHA-256 keyed with the hash's own
/// bcrypt salt, then base64 (44 ASCII bytes, no NUL). Every character of a
/// password up to [`PasswordPolicy::MAX_CHARS`](crate::PasswordPolicy::MAX_CHARS)
/// counts, in any script. Keying the pre-hash with the salt, rather than
/// taking a plain SHA-256 as Django's `BCryptSHA256PasswordHasher` does,
/// means a leaked list of unsalted SHA-256 password hashes from elsewhere
/// cannot be tested against these hashes without cracking ("password
/// shucking"). The format is versioned:
///
/// - `$bcrypt-sha256$v=1$2b$12$…`: this scheme (the bcrypt string follows
///   the version);
/// - `$2b$…`, `$2a$…`, `$2y$…`: plain bcrypt from before, still verified
///   (passwords over 72 bytes never match one, rather than being cut);
/// - `pbkdf2:sha256:N$salt$hex`, `pbkdf2:sha512:N$…` and `scrypt:N:r:p$…`:
///   Werkzeug's, for accounts imported from a Flask application, verified
///   against the password as typed (Werkzeug hashes it unnormalised), with
///   at most 10,000,000 PBKDF2 rounds and 128 MiB for scrypt (Werkzeug's
///   defaults are 1,000,000 and 32 MiB; a hash beyond them is refused).
///
/// Every format but the first is reported by
/// [`PasswordHasher::needs_rehash`], so the service replaces it at the next
/// successful login.
///
/// ```
/// use auth_core::{BcryptHasher, Password, PasswordHasher};
///
/// let hasher = BcryptHasher::new(4)?; // the minimum cost: for tests only
/// let hash = hasher.hash(&Password::normalize("correct horse"))?;
/// assert!(hash.as_str().starts_with("$bcrypt-sha256$v=1$2b$04$"));
/// assert!(hasher.verify(&Password::normalize("correct horse"), &hash)?);
/// assert!(!hasher.verify(&Password::normalize("wrong horse"), &hash)?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct BcryptHasher {
    cost: u32,
}

/// The prefix of [`BcryptHasher`]'s current format; the bcrypt string follows.
const PREHASHED: &str = "$bcrypt-sha256$v=1";

/// The characters of a bcrypt string's salt: after `$2b$12$`, 22 of them.
const SALT: std::ops::Range<usize> = 7..29;

impl BcryptHasher {
    /// The default work factor: about a quarter of a second per hash on a
    /// current server core.
    pub const DEFAULT_COST: u32 = 12;

    /// A hasher with the given cost (4 to 31; each step doubles the work).
    pub fn new(cost: u32) -> Result<Self, InvalidCost> {
        if !(4..=31).contains(&cost) {
            return Err(InvalidCost(cost));
        }
        Ok(Self { cost })
    }

    /// The configured cost.
    pub fn cost(&self) -> u32 {
        self.cost
    }
}

impl Default for BcryptHasher {
    fn default() -> Self {
        Self {
            cost: Self::DEFAULT_COST,
        }
    }
}

/// The password as bcrypt gets it: HMAC-SHA-256 under the salt's text, in
/// base64.
fn prehash(password: &Password, salt: &str) -> Zeroizing<String> {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(salt.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(password.as_bytes());
    Zeroizing::new(STANDARD.encode(mac.finalize().into_bytes()))
}

impl PasswordHasher for BcryptHasher {
    fn hash(&self, password: &Password) -> Result<PasswordHash, HashError> {
        let mut salt = [0u8; 16];
        crate::RandomError::fill(&mut salt).map_err(HashError::new)?;
        // The salt's text, as bcrypt will write it into the hash.
        let salt_text = BCRYPT_BASE64.encode(salt);
        let parts =
            bcrypt::hash_with_salt(prehash(password, &salt_text).as_bytes(), self.cost, salt)
                .map_err(HashError::new)?;
        let bcrypt = parts.format_for_version(bcrypt::Version::TwoB);
        debug_assert_eq!(bcrypt.get(SALT), Some(salt_text.as_str()));
        Ok(PasswordHash(format!("{PREHASHED}{bcrypt}")))
    }

    fn verify(&self, password: &Password, hash: &PasswordHash) -> Result<bool, HashError> {
        match hash.as_str().strip_prefix(PREHASHED) {
            Some(bcrypt) => {
                let salt = bcrypt
                    .get(SALT)
                    .ok_or_else(|| HashError::new("a bcrypt-sha256 hash without a salt"))?;
                bcrypt::verify(prehash(password, salt).as_bytes(), bcrypt).map_err(HashError::new)
            }
            None if is_werkzeug(hash) => WerkzeugHash::parse(hash.as_str())
                .ok_or_else(|| HashError::new("a Werkzeug hash with unsupported parameters"))?
                .verify(password.as_typed_bytes()),
            // Plain bcrypt, from before the pre-hash: it saw the password
            // itself, so one over 72 bytes can never be the one it was made
            // from (such passwords were refused then).
            None => match bcrypt::non_truncating_verify(password.as_bytes(), hash.as_str()) {
                Err(bcrypt::BcryptError::Truncation(_)) => Ok(false),
                other => other.map_err(HashError::new),
            },
        }
    }

    fn needs_rehash(&self, hash: &PasswordHash) -> bool {
        // "$2b$12$…": the cost is the two digits after the second '$'.
        hash.as_str()
            .strip_prefix(PREHASHED)
            .and_then(|bcrypt| bcrypt.get(4..6))
            .and_then(|cost| cost.parse::<u32>().ok())
            .is_none_or(|cost| cost < self.cost)
    }

    fn can_verify(&self, hash: &PasswordHash) -> bool {
        let encoded = hash.as_str();
        if is_werkzeug(hash) {
            return WerkzeugHash::parse(encoded).is_some();
        }
        let bcrypt = encoded.strip_prefix(PREHASHED).unwrap_or(encoded);
        bcrypt.parse::<bcrypt::HashParts>().is_ok()
    }
}

/// Werkzeug's hashes start with their method's name; bcrypt's with `$`.
fn is_werkzeug(hash: &PasswordHash) -> bool {
    let method = hash.as_str().split('$').next().unwrap_or_default();
    let name = method.split(':').next().unwrap_or_default();
    matches!(name, "pbkdf2" | "scrypt")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hasher() -> BcryptHasher {
        BcryptHasher::new(4).unwrap()
    }

    #[test]
    fn bcrypt_round_trips_and_salts() {
        let hasher = hasher();
        let password = Password::normalize("correct horse battery");
        let a = hasher.hash(&password).unwrap();
        let b = hasher.hash(&password).unwrap();
        assert_ne!(a, b, "each hash has its own salt");
        assert!(a.as_str().starts_with("$bcrypt-sha256$v=1$2b$04$"), "{a:?}");
        assert!(hasher.verify(&password, &a).unwrap());
        assert!(!hasher
            .verify(&Password::normalize("correct horse batterY"), &a)
            .unwrap());
    }

    #[test]
    fn every_character_counts_past_72_bytes() {
        let hasher = hasher();
        let base = "x".repeat(100);
        let hash = hasher
            .hash(&Password::normalize(&format!("{base}a")))
            .unwrap();
        assert!(hasher
            .verify(&Password::normalize(&format!("{base}a")), &hash)
            .unwrap());
        assert!(
            !hasher
                .verify(&Password::normalize(&format!("{base}b")), &hash)
                .unwrap(),
            "a password differing only after byte 72 must not match"
        );
        let cjk = "漢".repeat(64); // 192 bytes
        let hash = hasher.hash(&Password::normalize(&cjk)).unwrap();
        assert!(hasher.verify(&Password::normalize(&cjk), &hash).unwrap());
        let other = format!("{}字", "漢".repeat(63));
        assert!(!hasher.verify(&Password::normalize(&other), &hash).unwrap());
    }

    #[test]
    fn the_prehash_is_keyed_by_the_salt() {
        let password = Password::normalize("correct horse battery");
        let a = prehash(&password, "abcdefghijklmnopqrstuv");
        let b = prehash(&password, "abcdefghijklmnopqrstuw");
        assert_ne!(a, b);
        assert_eq!(a.len(), 44);
        assert!(!a.as_bytes().contains(&0));
    }

    #[test]
    fn plain_bcrypt_hashes_still_verify_and_need_a_rehash() {
        let hasher = hasher();
        let legacy = PasswordHash::new(bcrypt::hash("correct horse battery", 4).unwrap());
        assert!(hasher
            .verify(&Password::normalize("correct horse battery"), &legacy)
            .unwrap());
        assert!(!hasher
            .verify(&Password::normalize("correct horse batterY"), &legacy)
            .unwrap());
        assert!(hasher.needs_rehash(&legacy), "plain bcrypt is upgraded");
        // Plain bcrypt only ever saw 72 bytes: a longer password is refused,
        // never compared by its first 72 bytes.
        let first_72 = "k".repeat(72);
        let legacy_72 = PasswordHash::new(bcrypt::hash(&first_72, 4).unwrap());
        assert!(!hasher
            .verify(
                &Password::normalize(&format!("{first_72}extra")),
                &legacy_72
            )
            .unwrap());
    }

    #[test]
    fn refuses_bad_costs_and_bad_hashes() {
        assert!(BcryptHasher::new(3).is_err());
        assert!(BcryptHasher::new(32).is_err());
        let hasher = hasher();
        for garbage in [
            "not a hash",
            "$bcrypt-sha256$v=1",
            "$bcrypt-sha256$v=1$2b$04$short",
        ] {
            assert!(
                hasher
                    .verify(
                        &Password::normalize("whatever1"),
                        &PasswordHash::new(garbage.into())
                    )
                    .is_err(),
                "{garbage}"
            );
        }
    }

    #[test]
    fn rehash_when_cost_rises() {
        let weak = hasher();
        let strong = BcryptHasher::new(5).unwrap();
        let hash = weak.hash(&Password::normalize("some password")).unwrap();
        assert!(strong.needs_rehash(&hash));
        assert!(!weak.needs_rehash(&hash));
        assert!(strong.needs_rehash(&PasswordHash::new("$bcrypt-sha256$v=1$2b$xx$".into())));
        assert!(!format!("{hash:?}").contains("$2b$"));
    }
}
