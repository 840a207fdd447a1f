//! Passkeys (WebAuthn credentials): what a store keeps of them, the
//! half-finished ceremonies that wait for the browser's answer, and the
//! port ([`PasskeyCeremony`]) through which a WebAuthn library does the
//! cryptography. auth-core keeps the rules (who may add, use or remove a
//! passkey, single-use challenges, the signature counter, throttling,
//! history and mail) and never parses a WebAuthn message itself.

use std::fmt;

use time::{Duration, OffsetDateTime};

use crate::{PasskeyError, RandomError, UserId};

/// How long the browser has to answer a challenge.
pub const PASSKEY_CEREMONY_VALID_FOR: Duration = Duration::minutes(5);

/// How many passkeys one account may have.
pub const MAX_PASSKEYS: u32 = 10;

/// The longest passkey name, in characters.
pub const PASSKEY_NAME_MAX_CHARS: usize = 60;

/// A credential's id, as the authenticator made it (at most 1023 bytes,
/// WebAuthn's limit). Not a secret: the browser sends it in the clear.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct CredentialId(Vec<u8>);

impl CredentialId {
    /// The id's bytes; `None` if empty or longer than WebAuthn allows.
    pub fn from_bytes(bytes: Vec<u8>) -> Option<Self> {
        (!bytes.is_empty() && bytes.len() <= 1023).then_some(Self(bytes))
    }

    /// The id's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for CredentialId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CredentialId({} bytes)", self.0.len())
    }
}

/// The random 16 bytes a browser files an account's passkeys under (the
/// WebAuthn "user handle"): no email, no database id, nothing personal.
/// A passkey that signs in without an email returns it, and it must be
/// the one the passkey was registered with.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct UserHandle([u8; 16]);

impl UserHandle {
    /// A new random handle.
    pub fn generate() -> Result<Self, RandomError> {
        let mut bytes = [0u8; 16];
        RandomError::fill(&mut bytes)?;
        Ok(Self(bytes))
    }

    /// A handle read back from a store or a browser.
    pub const fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    /// The handle's bytes.
    pub const fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
}

impl fmt::Debug for UserHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("UserHandle(..)")
    }
}

/// What the owner calls a passkey ("Laptop", "Phone"): 1 to
/// [`PASSKEY_NAME_MAX_CHARS`] characters, surrounding spaces trimmed, no
/// control characters.
///
/// ```
/// use auth_core::PasskeyName;
///
/// assert_eq!(PasskeyName::parse("  Work laptop ").unwrap().as_str(), "Work laptop");
/// assert!(PasskeyName::parse("   ").is_err());
/// assert!(PasskeyName::parse("a\u{7}b").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyName(String);

impl PasskeyName {
    /// Checks a name as typed.
    pub fn parse(text: &str) -> Result<Self, PasskeyError> {
        let name = text.trim();
        if name.is_empty() {
            return Err(PasskeyError::InvalidName("Give the passkey a name."));
        }
        if name.chars().count() > PASSKEY_NAME_MAX_CHARS {
            return Err(PasskeyError::InvalidName(
                "The name can have at most 60 characters.",
            ));
        }
        if name.chars().any(char::is_control) {
            return Err(PasskeyError::InvalidName(
                "The name cannot contain control characters.",
            ));
        }
        Ok(Self(name.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The id a store gives a passkey, for the account page's remove button.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PasskeyId(i64);

impl PasskeyId {
    /// Wraps a store's id.
    pub const fn new(id: i64) -> Self {
        Self(id)
    }

    /// The store's id.
    pub const fn get(self) -> i64 {
        self.0
    }
}

/// A passkey to add, from a finished registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPasskey {
    /// Whose it is.
    pub user_id: UserId,
    /// The authenticator's id for it: unique among all accounts.
    pub credential_id: CredentialId,
    /// The handle it was registered under.
    pub user_handle: UserHandle,
    /// What the owner calls it.
    pub name: PasskeyName,
    /// The WebAuthn library's record of it (public key, counter, flags),
    /// opaque to auth-core and the store.
    pub credential: Vec<u8>,
    /// When it was added.
    pub created_at: OffsetDateTime,
}

/// A stored passkey.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredPasskey {
    /// The store's id for it.
    pub id: PasskeyId,
    /// Whose it is.
    pub user_id: UserId,
    /// The authenticator's id for it.
    pub credential_id: CredentialId,
    /// The handle it was registered under.
    pub user_handle: UserHandle,
    /// What the owner calls it.
    pub name: PasskeyName,
    /// The WebAuthn library's record of it, as of its last use.
    pub credential: Vec<u8>,
    /// The highest signature counter accepted so far (0 for authenticators
    /// that keep none).
    pub counter: u32,
    /// When it was added.
    pub created_at: OffsetDateTime,
    /// When it last signed in.
    pub last_used_at: Option<OffsetDateTime>,
}

impl fmt::Debug for StoredPasskey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredPasskey")
            .field("id", &self.id)
            .field("user_id", &self.user_id)
            .field("name", &self.name)
            .field("counter", &self.counter)
            .field("created_at", &self.created_at)
            .field("last_used_at", &self.last_used_at)
            .finish_non_exhaustive()
    }
}

/// What a ceremony is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CeremonyKind {
    /// Adding a passkey, named so, to the account that started it.
    Register(PasskeyName),
    /// The second step of a sign-in whose password was right.
    SecondStep,
    /// Signing in with a passkey alone (the browser picks the account).
    SignIn,
}

impl CeremonyKind {
    /// The stable name a store keeps.
    pub const fn as_str(&self) -> &'static str {
        match self {
            Self::Register(_) => "register",
            Self::SecondStep => "second_step",
            Self::SignIn => "sign_in",
        }
    }
}

/// A ceremony waiting for the browser's answer, as a store keeps it.
#[derive(Clone, PartialEq, Eq)]
pub struct CeremonyRecord {
    /// What it is for.
    pub kind: CeremonyKind,
    /// The account it is for; `None` for [`CeremonyKind::SignIn`].
    pub user_id: Option<UserId>,
    /// The WebAuthn library's state (the challenge and what it allows),
    /// opaque to auth-core and the store.
    pub state: Vec<u8>,
    /// When it stops working.
    pub expires_at: OffsetDateTime,
}

impl fmt::Debug for CeremonyRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CeremonyRecord")
            .field("kind", &self.kind)
            .field("user_id", &self.user_id)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

crate::session::single_purpose_token!(
    /// The secret the browser holds for a ceremony it was given: like a
    /// [`SessionToken`](crate::SessionToken), of which stores keep only the
    /// digest. It ties the browser's answer to the server-side state that
    /// asked the question, on whichever instance the answer arrives.
    CeremonyToken
);

/// A question for the browser, as the WebAuthn library makes it.
pub struct Challenge {
    /// The options for `navigator.credentials.create()` or `.get()`, as
    /// JSON in the library's encoding (binary fields base64url).
    pub options: String,
    /// What the library needs back to check the answer; kept server-side.
    pub state: Vec<u8>,
}

/// A ceremony started by [`AuthService`](crate::AuthService): send
/// `options` to the browser and keep `token` in a cookie until it answers.
#[derive(Debug)]
pub struct StartedCeremony {
    /// The secret that ties the answer to this ceremony.
    pub token: CeremonyToken,
    /// The options for the browser, as JSON.
    pub options: String,
    /// When the answer stops being accepted.
    pub expires_at: OffsetDateTime,
}

/// A credential the browser created and the library accepted.
pub struct RegisteredCredential {
    /// The authenticator's id for it.
    pub credential_id: CredentialId,
    /// The library's record of it, for the store.
    pub credential: Vec<u8>,
}

/// Which credential, and under which user handle, a browser's answer to a
/// sign-in says it used; not yet checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedCredential {
    /// The credential the answer names.
    pub credential_id: CredentialId,
    /// The user handle the authenticator returned, if any (a discoverable
    /// credential always returns one).
    pub user_handle: Option<UserHandle>,
}

/// A sign-in answer the library verified.
pub struct VerifiedAssertion {
    /// The authenticator's signature counter in the answer (0 if it keeps
    /// none).
    pub counter: u32,
    /// The library's record of the credential, updated by this use.
    pub credential: Vec<u8>,
}

/// The port a WebAuthn library implements for
/// [`AuthService`](crate::AuthService)'s passkey methods (`auth-web` has
/// one over `webauthn-rs`). The relying party (its id and origin) is the
/// implementation's, fixed when it is made, never taken from a request.
///
/// Implementations must: require user verification; check the answer
/// against the challenge, origin and relying party in `state`; accept in
/// [`PasskeyCeremony::finish_authentication`] only `passkey`, with a
/// signature counter above the one recorded in its `credential` unless
/// both are 0, and say [`PasskeyError::CounterNotIncreased`] when that is
/// what failed. Anything the browser sent that does not verify is
/// [`PasskeyError::Rejected`]; a failure of the library itself is
/// [`PasskeyError::Failed`].
pub trait PasskeyCeremony: Send + Sync {
    /// The options for adding a passkey for the account filed under
    /// `handle`, named `user_name` (its email) in the authenticator,
    /// excluding credentials it has already.
    fn start_registration(
        &self,
        handle: UserHandle,
        user_name: &str,
        display_name: &str,
        exclude: &[CredentialId],
    ) -> Result<Challenge, PasskeyError>;

    /// Checks the browser's answer (`response`, the JSON of its
    /// `PublicKeyCredential`) to the registration that left `state`.
    fn finish_registration(
        &self,
        response: &str,
        state: &[u8],
    ) -> Result<RegisteredCredential, PasskeyError>;

    /// The options for signing in with one of `passkeys`, or, if it is
    /// empty, with any passkey the browser holds for this site.
    fn start_authentication(&self, passkeys: &[StoredPasskey]) -> Result<Challenge, PasskeyError>;

    /// Which credential a sign-in answer names, before it is checked.
    fn claimed_credential(&self, response: &str) -> Result<ClaimedCredential, PasskeyError>;

    /// Checks a sign-in answer against the ceremony's `state` and the
    /// stored `passkey` it names.
    fn finish_authentication(
        &self,
        response: &str,
        state: &[u8],
        passkey: &StoredPasskey,
    ) -> Result<VerifiedAssertion, PasskeyError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(PasskeyName::parse(" Phone ").unwrap().as_str(), "Phone");
        assert!(PasskeyName::parse(&"x".repeat(60)).is_ok());
        assert!(PasskeyName::parse(&"x".repeat(61)).is_err());
        assert!(PasskeyName::parse("").is_err());
        assert!(PasskeyName::parse("tab\there").is_err());
    }

    #[test]
    fn credential_ids_are_bounded_and_debug_shows_no_bytes() {
        assert!(CredentialId::from_bytes(Vec::new()).is_none());
        assert!(CredentialId::from_bytes(vec![1; 1024]).is_none());
        let id = CredentialId::from_bytes(vec![7; 16]).unwrap();
        assert_eq!(format!("{id:?}"), "CredentialId(16 bytes)");
    }
}
