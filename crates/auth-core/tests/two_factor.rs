//! Sign-in with an authenticator app and recovery codes, over the
//! in-memory store with a manual clock.

mod common;

use auth_core::memory::MemoryStore;
use auth_core::time::Duration;
use auth_core::{
    Actor, AuthError, ClientInfo, Clock, EventKind, IssuedSession, RecoveryCode, RecoverySalt,
    SecondFactorError, SecondFactorStore, SessionLength, SignIn, SignInToken, StoreError,
    StoredRecoveryCode, TotpKey, TotpSecret,
};
use common::{fixture, fixture_with, Fixture, ADA};

const EMAIL: &str = "ada@example.com";

/// Ada, registered and enrolled: her session, the app's secret and her
/// recovery codes.
async fn enrolled(f: &Fixture) -> (IssuedSession, TotpSecret, Vec<RecoveryCode>) {
    let issued = f.auth.register(ADA).await.unwrap();
    let secret = f
        .auth
        .begin_totp(&issued.token, ADA.password, ClientInfo::default())
        .await
        .unwrap();
    let code = secret.code_at(f.clock.now());
    let enrolled = f
        .auth
        .confirm_totp(&issued.user, &code, ClientInfo::default())
        .await
        .unwrap();
    // The confirming code's step is used: sign-ins below start a step later.
    f.clock.advance(Duration::seconds(30));
    (issued, secret, enrolled.recovery_codes)
}

/// Signs Ada in up to the second step.
async fn pending(f: &Fixture) -> SignInToken {
    match f
        .auth
        .sign_in(
            EMAIL,
            ADA.password,
            ClientInfo::default(),
            SessionLength::Browser,
        )
        .await
        .unwrap()
    {
        SignIn::SecondFactor(pending) => pending.token,
        SignIn::Complete(_) => panic!("a session without the second factor"),
    }
}

/// Whether `result` is a sign-in that expired or was used up.
fn expired<T>(result: &Result<T, AuthError>) -> bool {
    matches!(
        result,
        Err(AuthError::SecondFactor(SecondFactorError::SignInExpired))
    )
}

async fn complete(
    f: &Fixture,
    token: &SignInToken,
    code: &str,
) -> Result<IssuedSession, AuthError> {
    f.auth
        .complete_sign_in(token, code, ClientInfo::default())
        .await
}

#[tokio::test]
async fn enrolment_needs_a_code_from_the_new_secret() {
    let f = fixture();
    let issued = f.auth.register(ADA).await.unwrap();
    let wrong = f
        .auth
        .begin_totp(&issued.token, "not the password", ClientInfo::default())
        .await;
    assert!(
        matches!(wrong, Err(AuthError::InvalidCredentials)),
        "{wrong:?}"
    );
    let secret = f
        .auth
        .begin_totp(&issued.token, ADA.password, ClientInfo::default())
        .await
        .unwrap();
    let other = TotpSecret::generate().unwrap();
    let refused = f
        .auth
        .confirm_totp(
            &issued.user,
            &other.code_at(f.clock.now()),
            ClientInfo::default(),
        )
        .await;
    assert!(
        matches!(refused, Err(AuthError::InvalidCredentials)),
        "{refused:?}"
    );
    assert!(!f.auth.has_second_factor(issued.user.id).await.unwrap());
    assert_eq!(
        f.auth.waiting_totp(issued.user.id).await.unwrap(),
        Some(secret.clone())
    );

    let enrolled = f
        .auth
        .confirm_totp(
            &issued.user,
            &secret.code_at(f.clock.now()),
            ClientInfo::default(),
        )
        .await
        .unwrap();
    assert_eq!(enrolled.recovery_codes.len(), 10);
    assert!(f.auth.has_second_factor(issued.user.id).await.unwrap());
    assert_eq!(
        f.auth.recovery_codes_left(issued.user.id).await.unwrap(),
        10
    );
    let again = f
        .auth
        .begin_totp(&issued.token, ADA.password, ClientInfo::default())
        .await;
    assert!(
        matches!(
            again,
            Err(AuthError::SecondFactor(SecondFactorError::AlreadyOn))
        ),
        "{again:?}"
    );
    let events = f.auth.history(issued.user.id, 10).await.unwrap();
    assert_eq!(events[0].kind, EventKind::TotpEnabled);
}

#[tokio::test]
async fn the_password_alone_issues_no_session_and_login_refuses() {
    let f = fixture();
    let (_, secret, _) = enrolled(&f).await;
    let refused = f.auth.login(EMAIL, ADA.password).await;
    assert!(
        matches!(refused, Err(AuthError::SecondFactorRequired)),
        "{refused:?}"
    );
    let token = pending(&f).await;
    let user = f.auth.pending_sign_in(&token).await.unwrap();
    assert_eq!(user.email.as_str(), EMAIL);
    let session = complete(&f, &token, &secret.code_at(f.clock.now()))
        .await
        .unwrap();
    assert!(f.auth.authenticate(&session.token).await.unwrap().is_some());
    let used = complete(&f, &token, &secret.code_at(f.clock.now())).await;
    assert!(expired(&used), "a completed sign-in is gone: {used:?}");
}

#[tokio::test]
async fn a_code_is_accepted_once() {
    let f = fixture();
    let (_, secret, _) = enrolled(&f).await;
    let code = secret.code_at(f.clock.now());
    complete(&f, &pending(&f).await, &code).await.unwrap();
    let replayed = complete(&f, &pending(&f).await, &code).await;
    assert!(
        matches!(replayed, Err(AuthError::InvalidCredentials)),
        "{replayed:?}"
    );
}

#[tokio::test]
async fn one_step_of_drift_is_accepted_two_are_not() {
    let f = fixture();
    let (_, secret, _) = enrolled(&f).await;
    // Clear of the step that confirmed the app (used, so refused anyway).
    f.clock.advance(Duration::seconds(60));
    let now = f.clock.now();
    let at = |steps: i64| now + Duration::seconds(30 * steps);
    // Two steps away is refused (unless it happens to equal a near code).
    for far in [-2, 2] {
        let code = secret.code_at(at(far));
        if [-1, 0, 1].iter().all(|d| secret.code_at(at(*d)) != code) {
            let refused = complete(&f, &pending(&f).await, &code).await;
            assert!(
                matches!(refused, Err(AuthError::InvalidCredentials)),
                "{far}: {refused:?}"
            );
        }
    }
    // A phone one step behind, then one step ahead.
    complete(&f, &pending(&f).await, &secret.code_at(at(-1)))
        .await
        .expect("one step behind");
    complete(&f, &pending(&f).await, &secret.code_at(at(1)))
        .await
        .expect("one step ahead");
}

#[tokio::test]
async fn each_recovery_code_works_once_and_new_ones_replace_them() {
    let f = fixture();
    let (issued, _, codes) = enrolled(&f).await;
    let typed = codes[0].expose_secret().to_uppercase();
    complete(&f, &pending(&f).await, &typed).await.unwrap();
    let again = complete(&f, &pending(&f).await, codes[0].expose_secret()).await;
    assert!(
        matches!(again, Err(AuthError::InvalidCredentials)),
        "{again:?}"
    );
    assert_eq!(f.auth.recovery_codes_left(issued.user.id).await.unwrap(), 9);
    let events = f.auth.history(issued.user.id, 20).await.unwrap();
    assert!(events.iter().any(|e| e.kind == EventKind::RecoveryCodeUsed));

    let fresh = f
        .auth
        .regenerate_recovery_codes(&issued.token, ADA.password, ClientInfo::default())
        .await
        .unwrap();
    assert_eq!(fresh.len(), 10);
    let old = complete(&f, &pending(&f).await, codes[1].expose_secret()).await;
    assert!(
        matches!(old, Err(AuthError::InvalidCredentials)),
        "old codes stopped: {old:?}"
    );
    complete(&f, &pending(&f).await, fresh[0].expose_secret())
        .await
        .unwrap();
}

#[tokio::test]
async fn the_apps_secret_is_kept_sealed_and_a_changed_key_leaves_the_recovery_codes() {
    let store = MemoryStore::new();
    let f = fixture_with(store.clone(), Some(TotpKey::derive(b"first key", "tests")));
    let (issued, secret, codes) = enrolled(&f).await;
    let kept = store
        .find_totp(issued.user.id)
        .await
        .unwrap()
        .unwrap()
        .secret;
    assert!(kept.is_sealed());
    let raw = secret.expose_bytes();
    assert!(
        !kept.as_bytes().windows(raw.len()).any(|w| w == raw),
        "the store holds nothing of the raw secret"
    );
    let code = secret.code_at(f.clock.now());
    complete(&f, &pending(&f).await, &code).await.unwrap();

    // The same accounts, served with another key: the app's codes cannot
    // be checked (a corrupt-store error, which the server logs and answers
    // with a 500), but a recovery code still signs in.
    let g = fixture_with(
        store.clone(),
        Some(TotpKey::derive(b"another key", "tests")),
    );
    g.clock.advance(Duration::seconds(60));
    let code = secret.code_at(g.clock.now());
    let refused = complete(&g, &pending(&g).await, &code).await;
    assert!(
        matches!(refused, Err(AuthError::Store(StoreError::Corrupt(_)))),
        "{refused:?}"
    );
    complete(&g, &pending(&g).await, codes[0].expose_secret())
        .await
        .unwrap();
}

#[tokio::test]
async fn a_secret_kept_without_a_key_works_once_a_key_is_given_and_is_sealed_then() {
    let store = MemoryStore::new();
    let f = fixture_with(store.clone(), None);
    let (issued, secret, _) = enrolled(&f).await;
    assert!(!store
        .find_totp(issued.user.id)
        .await
        .unwrap()
        .unwrap()
        .secret
        .is_sealed());
    let g = fixture_with(store.clone(), Some(TotpKey::derive(b"a key", "tests")));
    g.clock.advance(Duration::seconds(60));
    let code = secret.code_at(g.clock.now());
    complete(&g, &pending(&g).await, &code).await.unwrap();
    let kept = store.find_totp(issued.user.id).await.unwrap().unwrap();
    assert!(
        kept.secret.is_sealed(),
        "sealed at the sign-in, as an old password hash is upgraded"
    );
    g.clock.advance(Duration::seconds(60));
    let code = secret.code_at(g.clock.now());
    complete(&g, &pending(&g).await, &code).await.unwrap();
}

#[tokio::test]
async fn a_recovery_code_kept_before_salts_still_works_once() {
    let f = fixture();
    let (issued, _, _) = enrolled(&f).await;
    let old = RecoveryCode::generate().unwrap();
    let unsalted = RecoverySalt::from_bytes(Vec::new()).unwrap();
    let kept = StoredRecoveryCode {
        digest: old.digest_with(&unsalted),
        salt: unsalted,
    };
    let salted = RecoveryCode::generate().unwrap();
    let codes = [kept, salted.to_stored().unwrap()];
    assert!(f
        .auth
        .store()
        .replace_recovery_codes(issued.user.id, &codes)
        .await
        .unwrap());
    complete(&f, &pending(&f).await, old.expose_secret())
        .await
        .unwrap();
    let again = complete(&f, &pending(&f).await, old.expose_secret()).await;
    assert!(
        matches!(again, Err(AuthError::InvalidCredentials)),
        "{again:?}"
    );
    complete(&f, &pending(&f).await, salted.expose_secret())
        .await
        .unwrap();
    assert_eq!(f.auth.recovery_codes_left(issued.user.id).await.unwrap(), 0);
}

#[tokio::test]
async fn wrong_codes_lock_the_account_and_the_password_does_not_reset_the_count() {
    let f = fixture();
    let (_, secret, _) = enrolled(&f).await;
    for _ in 0..3 {
        let refused = complete(&f, &pending(&f).await, "000000").await;
        assert!(matches!(refused, Err(AuthError::InvalidCredentials)));
    }
    // Two more, each after entering the password again: still counted.
    for _ in 0..2 {
        let refused = complete(&f, &pending(&f).await, "000000").await;
        assert!(matches!(refused, Err(AuthError::InvalidCredentials)));
    }
    let locked = f
        .auth
        .sign_in(
            EMAIL,
            ADA.password,
            ClientInfo::default(),
            SessionLength::Browser,
        )
        .await;
    assert!(
        matches!(locked, Err(AuthError::Throttled { .. })),
        "{locked:?}"
    );
    f.clock.advance(Duration::minutes(2));
    let token = pending(&f).await;
    complete(&f, &token, &secret.code_at(f.clock.now()))
        .await
        .expect("after the lock, the right code works");
}

#[tokio::test]
async fn simultaneous_wrong_codes_get_no_more_checks_than_the_limit() {
    let f = fixture();
    enrolled(&f).await;
    let token = pending(&f).await;
    let attempts: Vec<_> = (0..20)
        .map(|n| {
            let auth = f.auth.clone();
            let token = token.clone();
            tokio::spawn(async move {
                auth.complete_sign_in(&token, &format!("{:06}", n), ClientInfo::default())
                    .await
            })
        })
        .collect();
    let (mut checked, mut throttled) = (0, 0);
    for attempt in attempts {
        match attempt.await.unwrap() {
            Err(AuthError::InvalidCredentials) => checked += 1,
            Err(AuthError::Throttled { .. }) => throttled += 1,
            other => panic!("{other:?}"),
        }
    }
    assert_eq!((checked, throttled), (5, 15));
}

#[tokio::test]
async fn two_right_codes_at_once_make_one_session() {
    let f = fixture();
    let (issued, _, codes) = enrolled(&f).await;
    let token = pending(&f).await;
    let attempts: Vec<_> = codes[..2]
        .iter()
        .map(|code| {
            let (auth, token, code) = (f.auth.clone(), token.clone(), code.clone());
            tokio::spawn(async move {
                auth.complete_sign_in(&token, code.expose_secret(), ClientInfo::default())
                    .await
            })
        })
        .collect();
    let mut sessions = 0;
    for attempt in attempts {
        if attempt.await.unwrap().is_ok() {
            sessions += 1;
        }
    }
    assert_eq!(sessions, 1);
    let live = f.auth.list_sessions(issued.user.id).await.unwrap();
    assert_eq!(live.len(), 2, "registration's session and one sign-in");
}

#[tokio::test]
async fn a_waiting_sign_in_expires() {
    let f = fixture();
    let (_, secret, _) = enrolled(&f).await;
    let token = pending(&f).await;
    f.clock.advance(Duration::minutes(5));
    let late = complete(&f, &token, &secret.code_at(f.clock.now())).await;
    assert!(expired(&late), "{late:?}");
    let forged = SignInToken::parse(&"A".repeat(43)).unwrap();
    assert!(f.auth.pending_sign_in(&forged).await.is_err());
}

#[tokio::test]
async fn turning_it_off_needs_the_password_and_an_operator_can_reset_it() {
    let f = fixture();
    let (issued, _, _) = enrolled(&f).await;
    let wrong = f
        .auth
        .disable_totp(&issued.token, "not the password", ClientInfo::default())
        .await;
    assert!(matches!(wrong, Err(AuthError::InvalidCredentials)));
    f.auth
        .disable_totp(&issued.token, ADA.password, ClientInfo::default())
        .await
        .unwrap();
    f.auth
        .login(EMAIL, ADA.password)
        .await
        .expect("the password alone again");
    assert_eq!(f.auth.recovery_codes_left(issued.user.id).await.unwrap(), 0);

    let f = fixture();
    let (issued, _, _) = enrolled(&f).await;
    let operator = Actor::Operator("root".into());
    assert!(f
        .auth
        .reset_second_factor(issued.user.id, operator.clone())
        .await
        .unwrap());
    assert!(!f
        .auth
        .reset_second_factor(issued.user.id, operator)
        .await
        .unwrap());
    f.auth
        .login(EMAIL, ADA.password)
        .await
        .expect("reset by the operator");
    let events = f.auth.history(issued.user.id, 20).await.unwrap();
    assert!(events
        .iter()
        .any(|e| e.kind == EventKind::SecondFactorReset));
}

#[tokio::test]
async fn a_set_up_left_waiting_expires() {
    let f = fixture();
    let issued = f.auth.register(ADA).await.unwrap();
    let secret = f
        .auth
        .begin_totp(&issued.token, ADA.password, ClientInfo::default())
        .await
        .unwrap();
    f.clock.advance(Duration::minutes(10));
    assert_eq!(f.auth.waiting_totp(issued.user.id).await.unwrap(), None);
    let late = f
        .auth
        .confirm_totp(
            &issued.user,
            &secret.code_at(f.clock.now()),
            ClientInfo::default(),
        )
        .await;
    assert!(
        matches!(
            late,
            Err(AuthError::SecondFactor(SecondFactorError::NothingToConfirm))
        ),
        "{late:?}"
    );
}

#[tokio::test]
async fn a_sign_in_waiting_when_the_factor_goes_ends_without_counting() {
    let f = fixture();
    let (issued, secret, _) = enrolled(&f).await;
    let token = pending(&f).await;
    assert!(f
        .auth
        .reset_second_factor(issued.user.id, Actor::Operator("root".into()))
        .await
        .unwrap());
    let ended = complete(&f, &token, &secret.code_at(f.clock.now())).await;
    assert!(expired(&ended), "{ended:?}");
    let events = f.auth.history(issued.user.id, 20).await.unwrap();
    assert!(!events
        .iter()
        .any(|e| e.kind == EventKind::SecondFactorFailed));
}

#[tokio::test]
async fn a_password_change_ends_sign_ins_waiting_for_their_code() {
    let f = fixture();
    let (issued, secret, _) = enrolled(&f).await;
    let token = pending(&f).await;
    f.auth
        .change_password(
            &issued.token,
            ADA.password,
            "a brand new secret",
            ClientInfo::default(),
        )
        .await
        .unwrap();
    let ended = complete(&f, &token, &secret.code_at(f.clock.now())).await;
    assert!(expired(&ended), "{ended:?}");
}
