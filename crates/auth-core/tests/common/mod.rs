//! Shared by the service tests.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use auth_core::{BcryptHasher, HashError, Password, PasswordHash, PasswordHasher};

/// bcrypt at cost 4 that counts its calls, to show which paths hash.
#[derive(Clone, Default)]
pub struct Counting {
    pub hashes: Arc<AtomicUsize>,
    pub verifies: Arc<AtomicUsize>,
}

impl PasswordHasher for Counting {
    fn hash(&self, password: &Password) -> Result<PasswordHash, HashError> {
        self.hashes.fetch_add(1, Ordering::SeqCst);
        BcryptHasher::new(4).expect("a valid cost").hash(password)
    }
    fn verify(&self, password: &Password, hash: &PasswordHash) -> Result<bool, HashError> {
        self.verifies.fetch_add(1, Ordering::SeqCst);
        BcryptHasher::new(4)
            .expect("a valid cost")
            .verify(password, hash)
    }
}
