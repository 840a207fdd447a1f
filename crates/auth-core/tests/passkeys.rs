//! The passkey rules auth-core keeps, whatever WebAuthn library does the
//! cryptography: here a stand-in port whose "answers" are plain text
//! (`<credential>:<counter>` or `<credential>:<counter>:forged`), over the
//! in-memory store with a manual clock. The real port (webauthn-rs) is
//! tested through auth-web's routes and in Chromium.

mod common;

use auth_core::time::Duration;
use auth_core::{
    Actor, AuthError, Challenge, ClaimedCredential, ClientInfo, CredentialId, IssuedSession,
    PasskeyCeremony, PasskeyError, RegisteredCredential, SessionLength, SignIn, SignInToken,
    StoredPasskey, UserHandle, VerifiedAssertion, MAX_PASSKEYS,
};
use common::{fixture, Fixture, ADA};

const EMAIL: &str = "ada@example.com";

/// A port that checks nothing cryptographic: a registration's state is the
/// handle it was started for, which the "authenticator" returns with each
/// answer, as a discoverable credential does; an answer names its
/// credential and counter.
#[derive(Default)]
struct PlainText {
    handles: std::sync::Mutex<std::collections::HashMap<Vec<u8>, UserHandle>>,
}

fn parts(response: &str) -> (Vec<u8>, u32, bool) {
    let mut parts = response.split(':');
    let id = parts.next().unwrap_or_default().as_bytes().to_vec();
    let counter = parts.next().and_then(|c| c.parse().ok()).unwrap_or(0);
    (id, counter, parts.next() == Some("forged"))
}

impl PasskeyCeremony for PlainText {
    fn start_registration(
        &self,
        handle: UserHandle,
        _: &str,
        _: &str,
        _: &[CredentialId],
    ) -> Result<Challenge, PasskeyError> {
        Ok(Challenge {
            options: "{}".into(),
            state: handle.as_bytes().to_vec(),
        })
    }

    fn finish_registration(
        &self,
        response: &str,
        state: &[u8],
    ) -> Result<RegisteredCredential, PasskeyError> {
        let (id, _, forged) = parts(response);
        if forged {
            return Err(PasskeyError::Rejected("forged".into()));
        }
        let handle = UserHandle::from_bytes(state.try_into().expect("16 bytes"));
        self.handles.lock().unwrap().insert(id.clone(), handle);
        Ok(RegisteredCredential {
            credential_id: CredentialId::from_bytes(id).unwrap(),
            credential: b"public key".to_vec(),
        })
    }

    fn start_authentication(&self, _: &[StoredPasskey]) -> Result<Challenge, PasskeyError> {
        Ok(Challenge {
            options: "{}".into(),
            state: Vec::new(),
        })
    }

    fn claimed_credential(&self, response: &str) -> Result<ClaimedCredential, PasskeyError> {
        let (id, _, _) = parts(response);
        let user_handle = self.handles.lock().unwrap().get(&id).copied();
        Ok(ClaimedCredential {
            credential_id: CredentialId::from_bytes(id)
                .ok_or_else(|| PasskeyError::Rejected("no id".into()))?,
            user_handle,
        })
    }

    fn finish_authentication(
        &self,
        response: &str,
        _: &[u8],
        _: &StoredPasskey,
    ) -> Result<VerifiedAssertion, PasskeyError> {
        let (_, counter, forged) = parts(response);
        if forged {
            return Err(PasskeyError::Rejected("bad signature".into()));
        }
        Ok(VerifiedAssertion {
            counter,
            credential: b"public key".to_vec(),
        })
    }
}

/// Ada, registered, with the passkey `key`.
async fn with_passkey(f: &Fixture, port: &PlainText, key: &str) -> IssuedSession {
    let issued = f.auth.register(ADA).await.unwrap();
    let client = ClientInfo::default();
    let started = f
        .auth
        .begin_passkey(port, &issued.token, ADA.password, "Laptop", client)
        .await
        .unwrap();
    f.auth
        .finish_passkey(
            port,
            &issued.user,
            &started.token,
            key,
            ClientInfo::default(),
        )
        .await
        .unwrap();
    issued
}

async fn pending(f: &Fixture) -> SignInToken {
    let client = ClientInfo::default();
    match f
        .auth
        .sign_in(EMAIL, ADA.password, client, SessionLength::Browser)
        .await
        .unwrap()
    {
        SignIn::SecondFactor(pending) => pending.token,
        SignIn::Complete(_) => panic!("a passkey makes the password not enough"),
    }
}

async fn second_step(
    f: &Fixture,
    port: &PlainText,
    pending: &SignInToken,
    answer: &str,
) -> Result<IssuedSession, AuthError> {
    let started = f
        .auth
        .begin_passkey_sign_in(port, Some(pending), ClientInfo::default())
        .await?;
    f.auth
        .finish_passkey_sign_in(
            port,
            &started.token,
            Some(pending),
            answer,
            SessionLength::Browser,
            ClientInfo::default(),
        )
        .await
}

#[tokio::test]
async fn a_passkey_makes_a_second_step_that_no_code_completes() {
    let f = fixture();
    let port = &PlainText::default();
    let issued = with_passkey(&f, port, "key-1").await;
    assert!(f.auth.has_second_factor(issued.user.id).await.unwrap());
    assert!(!f.auth.has_app(issued.user.id).await.unwrap());
    assert!(matches!(
        f.auth.login(EMAIL, ADA.password).await,
        Err(AuthError::SecondFactorRequired)
    ));
    let pending = pending(&f).await;
    assert!(matches!(
        f.auth
            .complete_sign_in(&pending, "123456", ClientInfo::default())
            .await,
        Err(AuthError::InvalidCredentials)
    ));
    let session = second_step(&f, port, &pending, "key-1:1").await.unwrap();
    assert!(f.auth.authenticate(&session.token).await.unwrap().is_some());
    assert!(
        second_step(&f, port, &pending, "key-1:2").await.is_err(),
        "the pending sign-in is used up"
    );
}

#[tokio::test]
async fn a_ceremony_works_once_and_for_its_purpose_only() {
    let f = fixture();
    let port = &PlainText::default();
    let issued = with_passkey(&f, port, "key-1").await;
    let started = f
        .auth
        .begin_passkey_sign_in(port, None, ClientInfo::default())
        .await
        .unwrap();
    let finish = |answer: &'static str| {
        f.auth.finish_passkey_sign_in(
            port,
            &started.token,
            None,
            answer,
            SessionLength::Browser,
            ClientInfo::default(),
        )
    };
    assert!(finish("key-1:1").await.is_ok());
    assert!(matches!(
        finish("key-1:2").await,
        Err(AuthError::Passkey(PasskeyError::CeremonyExpired))
    ));

    // A sign-in ceremony cannot add a passkey, nor a registration sign in.
    let sign_in = f
        .auth
        .begin_passkey_sign_in(port, None, ClientInfo::default())
        .await
        .unwrap();
    assert!(matches!(
        f.auth
            .finish_passkey(
                port,
                &issued.user,
                &sign_in.token,
                "key-2",
                ClientInfo::default()
            )
            .await,
        Err(AuthError::Passkey(PasskeyError::CeremonyExpired))
    ));
    let register = f
        .auth
        .begin_passkey(
            port,
            &issued.token,
            ADA.password,
            "Phone",
            ClientInfo::default(),
        )
        .await
        .unwrap();
    assert!(matches!(
        f.auth
            .finish_passkey_sign_in(
                port,
                &register.token,
                None,
                "key-1:5",
                SessionLength::Browser,
                ClientInfo::default()
            )
            .await,
        Err(AuthError::Passkey(PasskeyError::CeremonyExpired))
    ));

    // Nor does one outlive PASSKEY_CEREMONY_VALID_FOR.
    let late = f
        .auth
        .begin_passkey_sign_in(port, None, ClientInfo::default())
        .await
        .unwrap();
    f.clock.advance(Duration::minutes(5));
    assert!(matches!(
        f.auth
            .finish_passkey_sign_in(
                port,
                &late.token,
                None,
                "key-1:9",
                SessionLength::Browser,
                ClientInfo::default()
            )
            .await,
        Err(AuthError::Passkey(PasskeyError::CeremonyExpired))
    ));
}

#[tokio::test]
async fn refused_answers_lock_the_account_like_wrong_passwords() {
    let f = fixture();
    let port = &PlainText::default();
    with_passkey(&f, port, "key-1").await;
    let pending = pending(&f).await;
    let limit = f.auth.throttle_policy().account_limit;
    for _ in 0..limit {
        assert!(matches!(
            second_step(&f, port, &pending, "key-1:1:forged").await,
            Err(AuthError::Passkey(PasskeyError::Rejected(_)))
        ));
    }
    assert!(matches!(
        second_step(&f, port, &pending, "key-1:1").await,
        Err(AuthError::Throttled { .. })
    ));
    let ada = f.auth.find_user_by_email(EMAIL).await.unwrap().unwrap();
    let history = f.auth.history(ada.id, 50).await.unwrap();
    let failed = history
        .iter()
        .filter(|e| e.kind == auth_core::EventKind::PasskeyFailed)
        .count();
    assert_eq!(failed as u32, limit);
}

#[tokio::test]
async fn a_disabled_account_cannot_sign_in_with_its_passkey() {
    let f = fixture();
    let port = &PlainText::default();
    let issued = with_passkey(&f, port, "key-1").await;
    f.auth
        .disable(issued.user.id, Actor::Operator("root".into()))
        .await
        .unwrap();
    let started = f
        .auth
        .begin_passkey_sign_in(port, None, ClientInfo::default())
        .await
        .unwrap();
    assert!(f
        .auth
        .finish_passkey_sign_in(
            port,
            &started.token,
            None,
            "key-1:1",
            SessionLength::Browser,
            ClientInfo::default()
        )
        .await
        .is_err());
}

#[tokio::test]
async fn the_limit_on_passkeys_and_an_operators_reset() {
    let f = fixture();
    let port = &PlainText::default();
    let issued = with_passkey(&f, port, "key-0").await;
    for n in 1..MAX_PASSKEYS {
        let started = f
            .auth
            .begin_passkey(
                port,
                &issued.token,
                ADA.password,
                "Key",
                ClientInfo::default(),
            )
            .await
            .unwrap();
        f.auth
            .finish_passkey(
                port,
                &issued.user,
                &started.token,
                &format!("key-{n}"),
                ClientInfo::default(),
            )
            .await
            .unwrap();
    }
    assert!(matches!(
        f.auth
            .begin_passkey(
                port,
                &issued.token,
                ADA.password,
                "One more",
                ClientInfo::default()
            )
            .await,
        Err(AuthError::Passkey(PasskeyError::TooMany))
    ));
    assert!(f
        .auth
        .reset_second_factor(issued.user.id, Actor::Operator("root".into()))
        .await
        .unwrap());
    assert!(f.auth.passkeys(issued.user.id).await.unwrap().is_empty());
    assert!(f.auth.login(EMAIL, ADA.password).await.is_ok());
}

#[tokio::test]
async fn starts_without_an_account_are_limited_but_sign_ins_give_theirs_back() {
    let f = fixture();
    let port = &PlainText::default();
    with_passkey(&f, port, "key-1").await;
    let office = || ClientInfo::new(Some("192.0.2.7".parse().unwrap()), None);
    let limit = f.auth.throttle_policy().address_limit;
    // A whole office signing in one after the other is never refused.
    for counter in 1..=limit + 5 {
        let started = f
            .auth
            .begin_passkey_sign_in(port, None, office())
            .await
            .unwrap();
        f.auth
            .finish_passkey_sign_in(
                port,
                &started.token,
                None,
                &format!("key-1:{counter}"),
                SessionLength::Browser,
                office(),
            )
            .await
            .unwrap();
    }
    // Starts left unanswered add up to the limit.
    for _ in 0..limit {
        f.auth
            .begin_passkey_sign_in(port, None, office())
            .await
            .unwrap();
    }
    assert!(matches!(
        f.auth.begin_passkey_sign_in(port, None, office()).await,
        Err(AuthError::Throttled { .. })
    ));
}

#[tokio::test]
async fn a_second_step_ceremony_answered_as_a_sign_in_without_password_is_expired() {
    let f = fixture();
    let port = &PlainText::default();
    with_passkey(&f, port, "key-1").await;
    let pending = pending(&f).await;
    let started = f
        .auth
        .begin_passkey_sign_in(port, Some(&pending), ClientInfo::default())
        .await
        .unwrap();
    assert!(matches!(
        f.auth
            .finish_passkey_sign_in(
                port,
                &started.token,
                None,
                "key-1:1",
                SessionLength::Browser,
                ClientInfo::default()
            )
            .await,
        Err(AuthError::Passkey(PasskeyError::CeremonyExpired))
    ));
}
