//! A second factor: authenticator-app codes (TOTP, RFC 6238, as every app
//! reads them: SHA-1, 6 digits, 30-second steps), the one-time recovery
//! codes that stand in for the app, and the half-finished sign-in that
//! waits for one of them.

use std::fmt;

use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;
use totp_rs::{Algorithm, TOTP};
use zeroize::Zeroizing;

use crate::{Email, RandomError, TokenDigest};

/// Seconds per TOTP time step.
pub const TOTP_STEP_SECONDS: u64 = 30;

/// How many recovery codes an account gets at a time.
pub const RECOVERY_CODE_COUNT: usize = 10;

/// Bytes of a new TOTP secret: 160 bits, what RFC 4226 recommends.
const SECRET_BYTES: usize = 20;

/// The TOTP time step `at` falls in.
pub fn totp_step(at: OffsetDateTime) -> u64 {
    u64::try_from(at.unix_timestamp()).unwrap_or(0) / TOTP_STEP_SECONDS
}

/// The secret an authenticator app and the server share. `Debug` prints
/// none of it; [`TotpSecret::base32`] and [`TotpSecret::otpauth_url`] show
/// it once, at enrolment, and stores read it with
/// [`TotpSecret::expose_bytes`].
///
/// ```
/// use auth_core::{Email, TotpSecret};
/// use auth_core::time::OffsetDateTime;
///
/// let secret = TotpSecret::generate()?;
/// assert_eq!(format!("{secret:?}"), "TotpSecret(<redacted>)");
/// assert_eq!(secret.base32().len(), 32);
/// let url = secret.otpauth_url("Secrets", &Email::parse("ada@example.com").unwrap());
/// assert!(url.starts_with("otpauth://totp/Secrets:ada%40example.com?secret="));
/// let now = OffsetDateTime::now_utc();
/// assert_eq!(secret.code_at(now).len(), 6);
/// # Ok::<(), auth_core::RandomError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct TotpSecret(Zeroizing<Vec<u8>>);

impl TotpSecret {
    /// A new random secret.
    pub fn generate() -> Result<Self, RandomError> {
        let mut bytes = Zeroizing::new(vec![0u8; SECRET_BYTES]);
        RandomError::fill(bytes.as_mut())?;
        Ok(Self(bytes))
    }

    /// A secret read back from a store; `None` if it is shorter than the
    /// 128 bits RFC 4226 requires.
    pub fn from_bytes(bytes: Vec<u8>) -> Option<Self> {
        (bytes.len() >= 16).then(|| Self(Zeroizing::new(bytes)))
    }

    /// A secret as [`TotpSecret::base32`] shows it (spaces and letter case
    /// aside): what a person or a test reads off the set-up page.
    pub fn from_base32(text: &str) -> Option<Self> {
        let text: String = text
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| c.to_ascii_uppercase())
            .collect();
        totp_rs::Secret::Encoded(text)
            .to_bytes()
            .ok()
            .and_then(Self::from_bytes)
    }

    /// The raw secret, for [`TotpKey::seal`](crate::TotpKey::seal).
    pub fn expose_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The secret as people type it into an app that cannot scan: base32,
    /// without padding.
    pub fn base32(&self) -> String {
        self.totp().get_secret_base32()
    }

    /// The `otpauth://` address a QR code carries, naming the site
    /// (`issuer`) and the account.
    pub fn otpauth_url(&self, issuer: &str, account: &Email) -> String {
        // A ':' separates the issuer from the account in the label.
        let issuer = issuer.replace(':', " ");
        let account = account.as_str().replace(':', " ");
        TOTP::new_unchecked(
            Algorithm::SHA1,
            6,
            1,
            TOTP_STEP_SECONDS,
            self.0.to_vec(),
            Some(issuer),
            account,
        )
        .get_url()
    }

    /// The code an app shows at `at`.
    pub fn code_at(&self, at: OffsetDateTime) -> String {
        self.code_of_step(totp_step(at))
    }

    fn code_of_step(&self, step: u64) -> String {
        self.totp().generate(step * TOTP_STEP_SECONDS)
    }

    /// The time step whose code `code` is, among the step of `now` and
    /// the one before and after it (a phone's clock may be off by that
    /// much); compared in constant time. The caller must accept each step
    /// once: see [`SecondFactorStore::use_totp_step`](crate::SecondFactorStore::use_totp_step).
    pub fn matching_step(&self, code: &str, now: OffsetDateTime) -> Option<u64> {
        let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let current = totp_step(now);
        let mut found = None;
        for step in [current.saturating_sub(1), current, current + 1] {
            let expected = self.code_of_step(step);
            if bool::from(subtle::ConstantTimeEq::ct_eq(
                expected.as_bytes(),
                code.as_bytes(),
            )) {
                found = Some(step);
            }
        }
        found
    }

    fn totp(&self) -> TOTP {
        TOTP::new_unchecked(
            Algorithm::SHA1,
            6,
            1,
            TOTP_STEP_SECONDS,
            self.0.to_vec(),
            None,
            String::new(),
        )
    }
}

impl fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpSecret(<redacted>)")
    }
}

/// The letters of recovery codes: lowercase base32 without the ones people
/// confuse (0/o, 1/l/i).
const RECOVERY_ALPHABET: &[u8; 32] = b"abcdefghjkmnpqrstuvwxyz23456789_";

/// A one-time code that stands in for the authenticator app: ten letters
/// or digits (about 49 random bits) in two groups, `k7m2x-qp4rt`. Stores keep
/// only a [`StoredRecoveryCode`]: the code's own random salt and its
/// salted digest. [`RecoveryCode::parse`] accepts it in any letter case,
/// with or without the dash and spaces.
///
/// ```
/// use auth_core::RecoveryCode;
///
/// let code = RecoveryCode::generate()?;
/// let stored = code.to_stored()?;
/// let typed = code.expose_secret().to_uppercase().replace('-', " ");
/// let again = RecoveryCode::parse(&typed).unwrap();
/// assert_eq!(again.digest_with(&stored.salt), stored.digest);
/// assert!(RecoveryCode::parse("123456").is_none());
/// # Ok::<(), auth_core::RandomError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct RecoveryCode(Zeroizing<String>);

impl RecoveryCode {
    /// A new random code.
    pub fn generate() -> Result<Self, RandomError> {
        let mut bytes = Zeroizing::new([0u8; 10]);
        RandomError::fill(bytes.as_mut())?;
        // 31 of the 32 letters are used: '_' only pads the table.
        let letters: String = bytes
            .iter()
            .map(|b| RECOVERY_ALPHABET[usize::from(*b) % 31] as char)
            .collect();
        Ok(Self(Zeroizing::new(format!(
            "{}-{}",
            &letters[..5],
            &letters[5..]
        ))))
    }

    /// A code as a person typed it; `None` if it cannot be one.
    pub fn parse(text: &str) -> Option<Self> {
        let letters: String = text
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .map(|c| c.to_ascii_lowercase())
            .collect();
        let valid = letters.len() == 10
            && letters
                .bytes()
                .all(|b| b != b'_' && RECOVERY_ALPHABET.contains(&b));
        valid.then(|| {
            Self(Zeroizing::new(format!(
                "{}-{}",
                &letters[..5],
                &letters[5..]
            )))
        })
    }

    /// The code, for showing it once.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// What a store keeps of a new code: a fresh salt and the digest with it.
    pub fn to_stored(&self) -> Result<StoredRecoveryCode, RandomError> {
        let salt = RecoverySalt::generate()?;
        Ok(StoredRecoveryCode {
            digest: self.digest_with(&salt),
            salt,
        })
    }

    /// The SHA-256 digest of the code with `salt`. Without a salt of its
    /// own, a stolen table of 49-bit codes could be searched for every
    /// account's codes at once; with one, each code is a search of its own
    /// (ASVS 2.6.2: a salt of 32 bits or more and an approved hash). The
    /// empty salt gives the digest codes had before salts, so those still work.
    pub fn digest_with(&self, salt: &RecoverySalt) -> TokenDigest {
        let mut hasher = Sha256::new();
        hasher.update(b"auth-core recovery code:");
        hasher.update(&salt.0);
        hasher.update(self.0.as_bytes());
        TokenDigest::from_bytes(hasher.finalize().into())
    }
}

/// A recovery code's own random salt: 16 bytes from the OS generator, or
/// none for a code kept before salts were (see [`RecoveryCode::digest_with`]).
/// Not a secret: stores keep it beside the digest.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RecoverySalt(Vec<u8>);

impl RecoverySalt {
    /// Bytes of a new salt.
    pub const LEN: usize = 16;

    /// A new random salt.
    pub fn generate() -> Result<Self, RandomError> {
        let mut bytes = vec![0u8; Self::LEN];
        RandomError::fill(&mut bytes)?;
        Ok(Self(bytes))
    }

    /// A salt as a store kept it: [`RecoverySalt::LEN`] bytes, or none;
    /// `None` for any other length.
    pub fn from_bytes(bytes: Vec<u8>) -> Option<Self> {
        (bytes.is_empty() || bytes.len() == Self::LEN).then_some(Self(bytes))
    }

    /// The bytes to store.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// What a store keeps of one recovery code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRecoveryCode {
    /// The code's own salt.
    pub salt: RecoverySalt,
    /// [`RecoveryCode::digest_with`] that salt: what a store looks up.
    pub digest: TokenDigest,
}

impl fmt::Debug for RecoveryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RecoveryCode(<redacted>)")
    }
}

crate::session::single_purpose_token!(
    /// The secret a browser holds between the password and the second
    /// factor of a sign-in: like a [`SessionToken`](crate::SessionToken),
    /// 256 random bits of which stores keep only the digest, but it opens no
    /// page; only
    /// [`AuthService::complete_sign_in`](crate::AuthService::complete_sign_in)
    /// accepts it.
    SignInToken
);

/// A sign-in whose password was right, waiting for the second factor.
#[derive(Debug, Clone)]
pub struct PendingSignIn {
    /// The account signing in.
    pub user: crate::User,
    /// For the browser to send back with the code.
    pub token: SignInToken,
    /// When it stops working.
    pub expires_at: OffsetDateTime,
}

/// What a right password leads to, from
/// [`AuthService::sign_in`](crate::AuthService::sign_in).
#[derive(Debug)]
pub enum SignIn {
    /// Signed in: the account has no second factor.
    Complete(crate::IssuedSession),
    /// Ask for the code from the authenticator app (or a recovery code).
    SecondFactor(PendingSignIn),
}

/// A new authenticator app, confirmed: the recovery codes to show its owner
/// once.
#[derive(Debug)]
pub struct Enrolled {
    /// Each works once, instead of a code from the app.
    pub recovery_codes: Vec<RecoveryCode>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238, appendix B, SHA-1: the 20-byte ASCII secret
    /// "12345678901234567890" at 59 s gives 94287082 in 8 digits, whose
    /// last six are 287082.
    #[test]
    fn codes_follow_rfc_6238() {
        let secret = TotpSecret::from_bytes(b"12345678901234567890".to_vec()).unwrap();
        let typed = secret.base32().to_lowercase();
        assert_eq!(TotpSecret::from_base32(&typed), Some(secret.clone()));
        let at = OffsetDateTime::from_unix_timestamp(59).unwrap();
        assert_eq!(secret.code_at(at), "287082");
        let at = OffsetDateTime::from_unix_timestamp(1_111_111_109).unwrap();
        assert_eq!(secret.code_at(at), "081804");
    }

    #[test]
    fn one_step_of_drift_either_way_is_accepted_two_are_not() {
        let secret = TotpSecret::generate().unwrap();
        let now = OffsetDateTime::from_unix_timestamp(1_900_000_000).unwrap();
        let step = totp_step(now);
        let at = |steps: i64| now + time::Duration::seconds(steps * 30);
        assert_eq!(secret.matching_step(&secret.code_at(now), now), Some(step));
        assert_eq!(
            secret.matching_step(&secret.code_at(at(-1)), now),
            Some(step - 1)
        );
        assert_eq!(
            secret.matching_step(&secret.code_at(at(1)), now),
            Some(step + 1)
        );
        for far in [-2, 2] {
            let code = secret.code_at(at(far));
            let near = [-1, 0, 1].map(|d| secret.code_at(at(d)));
            if !near.contains(&code) {
                assert_eq!(secret.matching_step(&code, now), None, "{far} steps");
            }
        }
        assert_eq!(secret.matching_step("12345", now), None);
        assert_eq!(secret.matching_step("abcdef", now), None);
    }

    #[test]
    fn recovery_codes_are_random_and_read_back_however_typed() {
        let a = RecoveryCode::generate().unwrap();
        let b = RecoveryCode::generate().unwrap();
        assert_ne!(a.expose_secret(), b.expose_secret());
        assert_eq!(a.expose_secret().len(), 11);
        let typed = format!(" {} ", a.expose_secret().to_uppercase().replace('-', ""));
        assert_eq!(RecoveryCode::parse(&typed).unwrap(), a);
        assert!(RecoveryCode::parse("k7m2x-qp4r").is_none());
        assert!(
            RecoveryCode::parse("k7m2x-qp4r0").is_none(),
            "0 is not a letter of codes"
        );
        assert!(!format!("{a:?}").contains(a.expose_secret()));
    }

    #[test]
    fn each_stored_recovery_code_has_a_salt_of_its_own() {
        let code = RecoveryCode::generate().unwrap();
        let (first, second) = (code.to_stored().unwrap(), code.to_stored().unwrap());
        assert_eq!(first.salt.as_bytes().len(), RecoverySalt::LEN);
        assert_ne!(first.salt, second.salt);
        assert_ne!(
            first.digest, second.digest,
            "one code under two salts gives two digests"
        );
        assert_eq!(code.digest_with(&first.salt), first.digest);

        let unsalted = RecoverySalt::from_bytes(Vec::new()).unwrap();
        let before_salts: [u8; 32] = Sha256::new()
            .chain_update(b"auth-core recovery code:")
            .chain_update(code.expose_secret().as_bytes())
            .finalize()
            .into();
        assert_eq!(
            code.digest_with(&unsalted),
            TokenDigest::from_bytes(before_salts),
            "a code kept before salts still matches"
        );
        assert!(RecoverySalt::from_bytes(vec![0; 4]).is_none());
    }
}
