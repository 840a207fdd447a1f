//! Shared by the service tests.
// Each test file uses a part of it.
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use auth_core::memory::MemoryStore;
use auth_core::{
    AuthService, BcryptHasher, HashError, ManualClock, Password, PasswordHash, PasswordHasher,
    Registration, SessionStore, TotpKey,
};

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
    fn needs_rehash(&self, hash: &PasswordHash) -> bool {
        BcryptHasher::new(4)
            .expect("a valid cost")
            .needs_rehash(hash)
    }
    fn can_verify(&self, hash: &PasswordHash) -> bool {
        BcryptHasher::new(4).expect("a valid cost").can_verify(hash)
    }
}

pub struct Fixture {
    pub auth: AuthService<MemoryStore>,
    pub clock: ManualClock,
    pub counter: Counting,
}

pub fn fixture() -> Fixture {
    fixture_with(MemoryStore::new(), None)
}

/// A service over `store` (which another fixture may share), sealing
/// authenticator-app secrets with `key` if one is given.
pub fn fixture_with(store: MemoryStore, key: Option<TotpKey>) -> Fixture {
    let clock = ManualClock::starting_now();
    let counter = Counting::default();
    let builder = AuthService::builder(store)
        .hasher(counter.clone())
        .clock(clock.clone());
    let auth = match key {
        Some(key) => builder.totp_key(key),
        None => builder,
    }
    .build()
    .unwrap();
    Fixture {
        auth,
        clock,
        counter,
    }
}

/// Whether the store no longer holds the session of `token`.
pub async fn session_gone(f: &Fixture, token: &auth_core::SessionToken) -> bool {
    f.auth
        .store()
        .find_session(&token.digest())
        .await
        .unwrap()
        .is_none()
}

pub const ADA: Registration<'static> = Registration {
    email: "Ada@Example.com",
    name: "Ada Lovelace",
    password: "analytical engine",
};
