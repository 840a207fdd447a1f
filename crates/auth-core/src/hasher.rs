//! Password hashing: the pluggable trait and its bcrypt implementation.

use std::fmt;

use thiserror::Error;

use crate::Password;

/// A stored password hash (for bcrypt, the 60-character `$2b$…` string).
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
}

/// bcrypt, the default [`PasswordHasher`].
///
/// bcrypt reads at most 72 bytes of a password; the
/// [`PasswordPolicy`](crate::PasswordPolicy) refuses longer ones at
/// registration and the service refuses them at login, so no two different
/// passwords ever collide by truncation here.
///
/// ```
/// use auth_core::{BcryptHasher, Password, PasswordHasher};
///
/// let hasher = BcryptHasher::new(4)?; // the minimum cost: for tests only
/// let hash = hasher.hash(&Password::normalize("correct horse"))?;
/// assert!(hasher.verify(&Password::normalize("correct horse"), &hash)?);
/// assert!(!hasher.verify(&Password::normalize("wrong horse"), &hash)?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct BcryptHasher {
    cost: u32,
}

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

impl PasswordHasher for BcryptHasher {
    fn hash(&self, password: &Password) -> Result<PasswordHash, HashError> {
        bcrypt::hash(password.as_bytes(), self.cost)
            .map(PasswordHash)
            .map_err(HashError::new)
    }

    fn verify(&self, password: &Password, hash: &PasswordHash) -> Result<bool, HashError> {
        bcrypt::verify(password.as_bytes(), hash.as_str()).map_err(HashError::new)
    }

    fn needs_rehash(&self, hash: &PasswordHash) -> bool {
        // "$2b$12$…": the cost is the two digits after the second '$'.
        hash.as_str()
            .get(4..6)
            .and_then(|cost| cost.parse::<u32>().ok())
            .is_none_or(|cost| cost < self.cost)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bcrypt_round_trips_and_salts() {
        let hasher = BcryptHasher::new(4).unwrap();
        let password = Password::normalize("correct horse battery");
        let a = hasher.hash(&password).unwrap();
        let b = hasher.hash(&password).unwrap();
        assert_ne!(a, b, "each hash has its own salt");
        assert!(a.as_str().starts_with("$2b$04$"));
        assert!(hasher.verify(&password, &a).unwrap());
        assert!(!hasher
            .verify(&Password::normalize("correct horse batterY"), &a)
            .unwrap());
    }

    #[test]
    fn all_72_bytes_count() {
        let hasher = BcryptHasher::new(4).unwrap();
        let base = "x".repeat(71);
        let hash = hasher
            .hash(&Password::normalize(&format!("{base}a")))
            .unwrap();
        assert!(!hasher
            .verify(&Password::normalize(&format!("{base}b")), &hash)
            .unwrap());
    }

    #[test]
    fn refuses_bad_costs_and_bad_hashes() {
        assert!(BcryptHasher::new(3).is_err());
        assert!(BcryptHasher::new(32).is_err());
        let hasher = BcryptHasher::new(4).unwrap();
        let garbage = PasswordHash::new("not a hash".into());
        assert!(hasher
            .verify(&Password::normalize("whatever1"), &garbage)
            .is_err());
    }

    #[test]
    fn rehash_when_cost_rises() {
        let weak = BcryptHasher::new(4).unwrap();
        let strong = BcryptHasher::new(5).unwrap();
        let hash = weak.hash(&Password::normalize("some password")).unwrap();
        assert!(strong.needs_rehash(&hash));
        assert!(!weak.needs_rehash(&hash));
        assert!(strong.needs_rehash(&PasswordHash::new("$2b$xx$".into())));
        assert!(!format!("{hash:?}").contains("$2b$"));
    }
}
