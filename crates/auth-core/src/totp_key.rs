//! Authenticator-app secrets sealed for storage. A TOTP secret cannot be
//! hashed (the server computes codes from it), so a store keeps it sealed
//! with a key that lives outside the database (ASVS 2.8.2): a copy of the
//! database alone does not give anyone the codes of its accounts.

use std::fmt;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::{RandomError, TotpSecret, UserId};

/// What a sealed secret starts with: a secret kept as it is (before keys,
/// or by a service without one) is random bytes, which start like this
/// once in 2³² secrets.
const MAGIC: &[u8; 4] = b"ts1\0";
const NONCE_BYTES: usize = 12;
const TAG_BYTES: usize = 16;

/// The key that seals authenticator-app secrets (AES-256-GCM, a fresh
/// random nonce for each, bound to its account so that a sealed secret
/// copied to another account's row opens nothing). `Debug` shows none of it.
///
/// Losing or changing the key makes every sealed secret unreadable: the
/// apps' codes stop working (recovery codes still do, and their owners can
/// set the app up again). Derive it from a secret the deployment keeps
/// anyway, with [`TotpKey::derive`].
///
/// ```
/// use auth_core::{TotpKey, TotpSecret, UserId};
///
/// let key = TotpKey::derive(b"the deployment's secret key", "example totp");
/// let secret = TotpSecret::generate()?;
/// let sealed = key.seal(UserId::new(7), &secret)?;
/// assert_ne!(sealed.as_bytes(), secret.expose_bytes());
/// assert_eq!(key.open(UserId::new(7), &sealed), Some(secret));
/// assert_eq!(key.open(UserId::new(8), &sealed), None);
/// # Ok::<(), auth_core::RandomError>(())
/// ```
pub struct TotpKey(Zeroizing<[u8; 32]>);

impl TotpKey {
    /// The key for `purpose`, derived from `master` with HKDF-SHA256. The
    /// same master and purpose always give the same key.
    pub fn derive(master: &[u8], purpose: &str) -> Self {
        let mut key = Zeroizing::new([0u8; 32]);
        Hkdf::<Sha256>::new(None, master)
            .expand(purpose.as_bytes(), key.as_mut())
            .expect("32 bytes is a valid HKDF-SHA256 output length");
        Self(key)
    }

    /// `secret`, sealed for `user`'s row.
    pub fn seal(&self, user: UserId, secret: &TotpSecret) -> Result<SealedTotpSecret, RandomError> {
        let mut nonce = [0u8; NONCE_BYTES];
        RandomError::fill(&mut nonce)?;
        let aad = associated_data(user);
        let sealed = self
            .cipher()
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: secret.expose_bytes(),
                    aad: &aad,
                },
            )
            .expect("AES-GCM seals any secret shorter than 64 GiB");
        let mut bytes = Vec::with_capacity(MAGIC.len() + NONCE_BYTES + sealed.len());
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&nonce);
        bytes.extend_from_slice(&sealed);
        Ok(SealedTotpSecret(bytes))
    }

    /// The secret `sealed` holds for `user`; `None` if it was sealed with
    /// another key or for another account, or altered.
    pub fn open(&self, user: UserId, sealed: &SealedTotpSecret) -> Option<TotpSecret> {
        let rest = sealed.0.strip_prefix(MAGIC)?;
        if rest.len() < NONCE_BYTES + TAG_BYTES {
            return None;
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_BYTES);
        let aad = associated_data(user);
        let opened = self
            .cipher()
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: &aad,
                },
            )
            .ok()?;
        TotpSecret::from_bytes(opened)
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new(self.0.as_ref().into())
    }
}

impl fmt::Debug for TotpKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpKey(..)")
    }
}

fn associated_data(user: UserId) -> Vec<u8> {
    let mut aad = b"auth-core totp secret of account ".to_vec();
    aad.extend_from_slice(&user.get().to_be_bytes());
    aad
}

/// An authenticator-app secret as a store keeps it: sealed with a
/// [`TotpKey`], or, for a secret kept before keys or by a service built
/// without one, the secret itself. Stores keep the bytes as they are.
/// `Debug` shows none of them.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedTotpSecret(Vec<u8>);

impl SealedTotpSecret {
    /// What a store kept.
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// A secret kept as it is, by a service without a [`TotpKey`].
    pub fn unsealed(secret: &TotpSecret) -> Self {
        Self(secret.expose_bytes().to_vec())
    }

    /// `secret` as a service keeps it for `user`: sealed with `key`, or as
    /// it is without one.
    pub fn keep(
        user: UserId,
        secret: &TotpSecret,
        key: Option<&TotpKey>,
    ) -> Result<Self, RandomError> {
        match key {
            Some(key) => key.seal(user, secret),
            None => Ok(Self::unsealed(secret)),
        }
    }

    /// The secret it holds for `user`: opened with `key` if it was sealed,
    /// read as it is if it was not; `None` if it cannot be (sealed, and
    /// `key` is another or missing; altered; too short).
    pub fn read(&self, user: UserId, key: Option<&TotpKey>) -> Option<TotpSecret> {
        if self.is_sealed() {
            key?.open(user, self)
        } else {
            TotpSecret::from_bytes(self.0.clone())
        }
    }

    /// The bytes to store.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Whether a [`TotpKey`] sealed it (otherwise it is the secret itself).
    pub fn is_sealed(&self) -> bool {
        self.0.starts_with(MAGIC)
    }
}

impl fmt::Debug for SealedTotpSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.is_sealed() {
            "SealedTotpSecret(sealed)"
        } else {
            "SealedTotpSecret(<redacted>)"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_opens_only_with_its_key_for_its_account_unaltered() {
        let key = TotpKey::derive(b"master", "totp");
        let secret = TotpSecret::generate().unwrap();
        let ada = UserId::new(1);
        let sealed = key.seal(ada, &secret).unwrap();
        assert!(sealed.is_sealed());
        assert_ne!(
            key.seal(ada, &secret).unwrap(),
            sealed,
            "a fresh nonce each time"
        );
        assert_eq!(key.open(ada, &sealed).as_ref(), Some(&secret));
        assert_eq!(TotpKey::derive(b"other", "totp").open(ada, &sealed), None);
        assert_eq!(TotpKey::derive(b"master", "other").open(ada, &sealed), None);
        assert_eq!(key.open(UserId::new(2), &sealed), None);
        let mut altered = sealed.as_bytes().to_vec();
        let last = altered.len() - 1;
        altered[last] ^= 1;
        assert_eq!(key.open(ada, &SealedTotpSecret::from_bytes(altered)), None);
        assert_eq!(key.open(ada, &SealedTotpSecret::unsealed(&secret)), None);
        assert!(!SealedTotpSecret::unsealed(&secret).is_sealed());
        for shown in [
            format!("{key:?}"),
            format!("{sealed:?}"),
            format!("{:?}", SealedTotpSecret::unsealed(&secret)),
        ] {
            assert!(
                !shown.contains(&format!("{:?}", secret.expose_bytes())),
                "{shown}"
            );
        }
    }
}
