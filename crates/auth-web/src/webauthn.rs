//! The WebAuthn relying party: auth-core's [`PasskeyCeremony`] port over
//! webauthn-rs, for the site at `public_url` (or, without it, at
//! `http://localhost:<port>`), never at whatever a request's `Host` says.

use std::sync::{Arc, OnceLock};

use auth_core::{
    Challenge, ClaimedCredential, CredentialId, PasskeyCeremony, PasskeyError,
    RegisteredCredential, StoredPasskey, UserHandle, VerifiedAssertion, PASSKEY_CEREMONY_VALID_FOR,
};
use rocket::fairing::{AdHoc, Fairing};
use serde::{Deserialize, Serialize};
use webauthn_rs::prelude::{
    CredentialID, DiscoverableAuthentication, Passkey, PasskeyAuthentication, PasskeyRegistration,
    PublicKeyCredential, RegisterPublicKeyCredential, Url, Uuid, WebauthnError,
};
use webauthn_rs::{Webauthn, WebauthnBuilder};
use webauthn_rs_proto::ResidentKeyRequirement;

use crate::setup::site;

/// The name authenticators show for the site.
const RP_NAME: &str = "Secrets";

/// The relying party once the server knows its address (at liftoff);
/// routes reach it through [`Passkeys::get`].
#[derive(Clone, Default)]
pub struct Passkeys(Arc<OnceLock<RelyingParty>>);

impl Passkeys {
    /// The relying party, if passkeys work on this site (its address has a
    /// domain name, which WebAuthn requires).
    pub fn get(&self) -> Option<&RelyingParty> {
        self.0.get()
    }
}

/// Makes the relying party for `public_url`, or for the address the server
/// listens on, once it listens; managed as [`Passkeys`].
pub fn fairing(passkeys: Passkeys, public_url: Option<String>) -> impl Fairing {
    AdHoc::on_liftoff("Passkeys", move |rocket| {
        Box::pin(async move {
            let site = site::url(public_url.as_deref(), rocket.config());
            match RelyingParty::new(&site) {
                Ok(party) => {
                    log::info!("Passkeys work for {}", party.origin);
                    let _ = passkeys.0.set(party);
                }
                Err(problem) => log::warn!(
                    "Passkeys are off: {problem} (set public_url to the site's https address). \
                     Accounts whose only second factor is a passkey cannot sign in until it is \
                     set, or until `auth-web users reset-2fa` removes their passkeys."
                ),
            }
        })
    })
}

/// webauthn-rs set up for one origin.
pub struct RelyingParty {
    webauthn: Webauthn,
    origin: String,
}

/// What a sign-in ceremony left, as the store keeps it.
#[derive(Serialize, Deserialize)]
enum SignInState {
    /// The account is known: one of its passkeys.
    Account(PasskeyAuthentication),
    /// The browser picks the account (a discoverable passkey).
    AnyAccount(DiscoverableAuthentication),
}

impl RelyingParty {
    /// The relying party of the site at `site` (`https://auth.example.com`):
    /// its host is the relying party id; only that origin is accepted.
    pub fn new(site: &str) -> Result<Self, String> {
        let origin = Url::parse(site).map_err(|e| format!("{site} is not a URL: {e}"))?;
        let Some(host) = origin.domain() else {
            return Err(format!("{site} has no domain name"));
        };
        let webauthn = WebauthnBuilder::new(host, &origin)
            .and_then(|builder| {
                builder
                    .rp_name(RP_NAME)
                    .timeout(PASSKEY_CEREMONY_VALID_FOR.unsigned_abs())
                    .build()
            })
            .map_err(|e| format!("{site}: {e}"))?;
        Ok(Self {
            webauthn,
            origin: origin.origin().ascii_serialization(),
        })
    }

    /// The origin passkeys are made for (`https://auth.example.com`).
    pub fn origin(&self) -> &str {
        &self.origin
    }
}

/// How the library's refusal of an answer is told to auth-core.
fn refusal(error: WebauthnError) -> PasskeyError {
    match error {
        WebauthnError::CredentialPossibleCompromise => PasskeyError::CounterNotIncreased,
        error => PasskeyError::Rejected(error.to_string()),
    }
}

fn failure(error: impl std::fmt::Display) -> PasskeyError {
    PasskeyError::Failed(error.to_string())
}

fn parse<T: serde::de::DeserializeOwned>(response: &str) -> Result<T, PasskeyError> {
    serde_json::from_str(response)
        .map_err(|e| PasskeyError::Rejected(format!("not a WebAuthn answer: {e}")))
}

fn state<T: serde::de::DeserializeOwned>(state: &[u8]) -> Result<T, PasskeyError> {
    serde_json::from_slice(state).map_err(failure)
}

fn credential_id(bytes: &[u8]) -> Result<CredentialId, PasskeyError> {
    CredentialId::from_bytes(bytes.to_vec())
        .ok_or_else(|| PasskeyError::Rejected("credential id of no or too many bytes".into()))
}

fn passkey_of(stored: &StoredPasskey) -> Result<Passkey, PasskeyError> {
    serde_json::from_slice(&stored.credential).map_err(failure)
}

impl PasskeyCeremony for RelyingParty {
    fn start_registration(
        &self,
        handle: UserHandle,
        user_name: &str,
        display_name: &str,
        exclude: &[CredentialId],
    ) -> Result<Challenge, PasskeyError> {
        let exclude: Vec<CredentialID> = exclude
            .iter()
            .map(|id| CredentialID::from(id.as_bytes().to_vec()))
            .collect();
        let (mut options, registration) = self
            .webauthn
            .start_passkey_registration(
                Uuid::from_bytes(*handle.as_bytes()),
                user_name,
                display_name,
                Some(exclude),
            )
            .map_err(failure)?;
        // A discoverable credential where the authenticator can make one,
        // so the passkey can also sign in without the email.
        if let Some(selection) = options.public_key.authenticator_selection.as_mut() {
            selection.resident_key = Some(ResidentKeyRequirement::Preferred);
        }
        Ok(Challenge {
            options: serde_json::to_string(&options).map_err(failure)?,
            state: serde_json::to_vec(&registration).map_err(failure)?,
        })
    }

    fn finish_registration(
        &self,
        response: &str,
        kept: &[u8],
    ) -> Result<RegisteredCredential, PasskeyError> {
        let answer: RegisterPublicKeyCredential = parse(response)?;
        let registration: PasskeyRegistration = state(kept)?;
        let passkey = self
            .webauthn
            .finish_passkey_registration(&answer, &registration)
            .map_err(refusal)?;
        Ok(RegisteredCredential {
            credential_id: credential_id(passkey.cred_id().as_slice())?,
            credential: serde_json::to_vec(&passkey).map_err(failure)?,
        })
    }

    fn start_authentication(&self, passkeys: &[StoredPasskey]) -> Result<Challenge, PasskeyError> {
        let (options, kept) = if passkeys.is_empty() {
            let (mut options, state) = self
                .webauthn
                .start_discoverable_authentication()
                .map_err(failure)?;
            // A button asks for the passkey, not the autofill prompt.
            options.mediation = None;
            (options, SignInState::AnyAccount(state))
        } else {
            let passkeys = passkeys
                .iter()
                .map(passkey_of)
                .collect::<Result<Vec<_>, _>>()?;
            let (options, state) = self
                .webauthn
                .start_passkey_authentication(&passkeys)
                .map_err(failure)?;
            (options, SignInState::Account(state))
        };
        Ok(Challenge {
            options: serde_json::to_string(&options).map_err(failure)?,
            state: serde_json::to_vec(&kept).map_err(failure)?,
        })
    }

    fn claimed_credential(&self, response: &str) -> Result<ClaimedCredential, PasskeyError> {
        let answer: PublicKeyCredential = parse(response)?;
        let user_handle = match answer.get_user_unique_id() {
            None => None,
            Some(bytes) => Some(UserHandle::from_bytes(bytes.try_into().map_err(|_| {
                PasskeyError::Rejected("a user handle of another site".into())
            })?)),
        };
        Ok(ClaimedCredential {
            credential_id: credential_id(answer.get_credential_id())?,
            user_handle,
        })
    }

    fn finish_authentication(
        &self,
        response: &str,
        kept: &[u8],
        stored: &StoredPasskey,
    ) -> Result<VerifiedAssertion, PasskeyError> {
        let answer: PublicKeyCredential = parse(response)?;
        let mut passkey = passkey_of(stored)?;
        let result = match state(kept)? {
            SignInState::Account(state) => {
                self.webauthn.finish_passkey_authentication(&answer, &state)
            }
            SignInState::AnyAccount(state) => self
                .webauthn
                .finish_discoverable_authentication_v2(&answer, state, &passkey),
        }
        .map_err(refusal)?;
        if result.cred_id().as_slice() != stored.credential_id.as_bytes() {
            return Err(PasskeyError::Rejected(
                "answered with another credential".into(),
            ));
        }
        passkey.update_credential(&result);
        Ok(VerifiedAssertion {
            counter: result.counter(),
            credential: serde_json::to_vec(&passkey).map_err(failure)?,
        })
    }
}
