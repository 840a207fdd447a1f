//! AuthService behaviour, over the in-memory store with a manual clock.

mod common;

use common::{fixture, session_gone, ADA};

use std::sync::atomic::Ordering;

use auth_core::memory::MemoryStore;
use auth_core::time::Duration;
use auth_core::{
    AuthError, AuthService, BcryptHasher, Clock, EmailError, NameError, PasswordError,
    PasswordHash, Registration, SessionPolicy, UserStore,
};

#[tokio::test]
async fn register_creates_a_normalised_account_and_logs_it_in() {
    let f = fixture();
    let issued = f.auth.register(ADA).await.unwrap();
    assert_eq!(issued.user.email.as_str(), "ada@example.com");
    assert_eq!(issued.user.name.as_str(), "Ada Lovelace");
    let session = f.auth.authenticate(&issued.token).await.unwrap().unwrap();
    assert_eq!(session.user, issued.user);
    assert_eq!(
        issued.expires_at,
        f.clock.now() + SessionPolicy::default().absolute_timeout
    );
    assert_eq!(
        issued.max_age(),
        std::time::Duration::from_secs(12 * 60 * 60)
    );
}

#[tokio::test]
async fn a_registered_email_is_taken_in_any_case() {
    let f = fixture();
    f.auth.register(ADA).await.unwrap();
    for email in ["ada@example.com", "ADA@EXAMPLE.COM", "  Ada@example.COM "] {
        let again = Registration { email, ..ADA };
        assert!(
            matches!(f.auth.register(again).await, Err(AuthError::EmailTaken)),
            "{email}"
        );
    }
}

#[tokio::test]
async fn registration_reports_every_bad_field_at_once() {
    let f = fixture();
    let err = f
        .auth
        .register(Registration {
            email: "not an email",
            name: "  ",
            password: "short",
        })
        .await
        .unwrap_err();
    let AuthError::InvalidInput(errors) = err else {
        panic!("{err:?}")
    };
    assert_eq!(errors.email, Some(EmailError::Invalid));
    assert_eq!(errors.name, Some(NameError::Missing));
    assert_eq!(errors.password, Some(PasswordError::TooShort { min: 8 }));

    let long = "p".repeat(129);
    let err = f
        .auth
        .register(Registration {
            password: &long,
            ..ADA
        })
        .await
        .unwrap_err();
    let AuthError::InvalidInput(errors) = err else {
        panic!("{err:?}")
    };
    assert_eq!(
        errors.password,
        Some(PasswordError::TooLong { max_chars: 128 })
    );
    assert_eq!((errors.email, errors.name), (None, None));
    // The password was not hashed (the dummy hash for unknown emails, made
    // by `warm_up` or at first need, is the only hash allowed).
    assert!(
        f.counter.hashes.load(Ordering::SeqCst) <= 1,
        "only the dummy hash"
    );
}

#[tokio::test]
async fn unknown_email_and_wrong_password_fail_alike_and_both_hash() {
    let f = fixture();
    f.auth.register(ADA).await.unwrap();
    let before = f.counter.verifies.load(Ordering::SeqCst);
    let unknown = f
        .auth
        .login("nobody@example.com", "analytical engine")
        .await;
    assert_eq!(f.counter.verifies.load(Ordering::SeqCst), before + 1);
    let wrong = f.auth.login("ada@example.com", "analytical engine!").await;
    assert_eq!(f.counter.verifies.load(Ordering::SeqCst), before + 2);
    assert!(matches!(unknown, Err(AuthError::InvalidCredentials)));
    assert!(matches!(wrong, Err(AuthError::InvalidCredentials)));
}

#[tokio::test]
async fn login_is_case_insensitive_and_issues_a_new_token_each_time() {
    let f = fixture();
    let first = f.auth.register(ADA).await.unwrap();
    let second = f
        .auth
        .login(" ADA@example.com", "analytical engine")
        .await
        .unwrap();
    assert_ne!(first.token, second.token);
    assert_eq!(first.user.id, second.user.id);
    assert!(f.auth.authenticate(&first.token).await.unwrap().is_some());
    assert!(f.auth.authenticate(&second.token).await.unwrap().is_some());
}

#[tokio::test]
async fn login_refuses_blank_fields_and_overlong_passwords_without_hashing() {
    let f = fixture();
    f.auth.register(ADA).await.unwrap();
    let before = f.counter.verifies.load(Ordering::SeqCst);
    let blank = f.auth.login("", "").await.unwrap_err();
    let AuthError::InvalidInput(errors) = blank else {
        panic!("{blank:?}")
    };
    assert_eq!(errors.email, Some(EmailError::Missing));
    assert_eq!(errors.password, Some(PasswordError::Missing));
    // Longer than any password the policy lets in: refused without a hash.
    let overlong = format!("analytical engine{}", "x".repeat(120));
    assert!(matches!(
        f.auth.login("ada@example.com", &overlong).await,
        Err(AuthError::InvalidCredentials)
    ));
    assert_eq!(f.counter.verifies.load(Ordering::SeqCst), before);
}

#[tokio::test]
async fn logout_revokes_the_token_everywhere() {
    let f = fixture();
    let issued = f.auth.register(ADA).await.unwrap();
    assert!(f.auth.logout(&issued.token, None).await.unwrap());
    assert!(f.auth.authenticate(&issued.token).await.unwrap().is_none());
    assert!(!f.auth.logout(&issued.token, None).await.unwrap());
}

#[tokio::test]
async fn sessions_end_after_the_idle_timeout() {
    let f = fixture();
    let issued = f.auth.register(ADA).await.unwrap();
    f.clock.advance(Duration::minutes(29));
    assert!(f.auth.authenticate(&issued.token).await.unwrap().is_some());
    // That use refreshed the session: another 29 minutes is still fine.
    f.clock.advance(Duration::minutes(29));
    assert!(f.auth.authenticate(&issued.token).await.unwrap().is_some());
    f.clock.advance(Duration::minutes(30));
    assert!(f.auth.authenticate(&issued.token).await.unwrap().is_none());
    // The expired session was deleted, not just refused.
    assert!(session_gone(&f, &issued.token).await);
}

#[tokio::test]
async fn sessions_end_at_the_absolute_timeout_however_busy() {
    let f = fixture();
    let issued = f.auth.register(ADA).await.unwrap();
    for _ in 0..(12 * 4 - 1) {
        f.clock.advance(Duration::minutes(15));
        assert!(f.auth.authenticate(&issued.token).await.unwrap().is_some());
    }
    f.clock.advance(Duration::minutes(15));
    assert!(f.auth.authenticate(&issued.token).await.unwrap().is_none());
}

#[tokio::test]
async fn change_password_checks_the_old_one_and_ends_other_sessions() {
    let f = fixture();
    let here = f.auth.register(ADA).await.unwrap();
    let elsewhere = f
        .auth
        .login("ada@example.com", "analytical engine")
        .await
        .unwrap();
    assert!(matches!(
        f.auth
            .change_password(&here.token, "wrong guess", "difference engine", None)
            .await,
        Err(AuthError::InvalidCredentials)
    ));
    assert!(matches!(
        f.auth
            .change_password(&here.token, "analytical engine", "short", None)
            .await,
        Err(AuthError::InvalidInput(_))
    ));
    f.auth
        .change_password(&here.token, "analytical engine", "difference engine", None)
        .await
        .unwrap();
    assert!(f.auth.authenticate(&here.token).await.unwrap().is_some());
    assert!(f
        .auth
        .authenticate(&elsewhere.token)
        .await
        .unwrap()
        .is_none());
    assert!(f
        .auth
        .login("ada@example.com", "analytical engine")
        .await
        .is_err());
    f.auth
        .login("ada@example.com", "difference engine")
        .await
        .unwrap();
}

#[tokio::test]
async fn revoke_sessions_can_keep_the_current_one() {
    let f = fixture();
    let a = f.auth.register(ADA).await.unwrap();
    let b = f
        .auth
        .login("ada@example.com", "analytical engine")
        .await
        .unwrap();
    let c = f
        .auth
        .login("ada@example.com", "analytical engine")
        .await
        .unwrap();
    assert_eq!(
        f.auth
            .revoke_sessions(a.user.id, Some(&a.token))
            .await
            .unwrap(),
        2
    );
    assert!(f.auth.authenticate(&a.token).await.unwrap().is_some());
    assert!(f.auth.authenticate(&b.token).await.unwrap().is_none());
    assert!(f.auth.authenticate(&c.token).await.unwrap().is_none());
    assert_eq!(f.auth.revoke_sessions(a.user.id, None).await.unwrap(), 1);
}

#[tokio::test]
async fn purge_removes_only_ended_sessions() {
    let f = fixture();
    let old = f.auth.register(ADA).await.unwrap();
    f.clock.advance(Duration::minutes(20));
    let fresh = f
        .auth
        .login("ada@example.com", "analytical engine")
        .await
        .unwrap();
    f.clock.advance(Duration::minutes(15));
    assert_eq!(
        f.auth.purge_expired().await.unwrap(),
        auth_core::Purged {
            sessions: 1,
            links: 0,
            throttles: 0,
            events: 0
        }
    );
    assert!(f.auth.authenticate(&fresh.token).await.unwrap().is_some());
    assert!(session_gone(&f, &old.token).await);
}

#[tokio::test]
async fn a_login_upgrades_a_hash_made_at_a_lower_cost() {
    let store = MemoryStore::new();
    let weak = AuthService::builder(store.clone())
        .hasher(BcryptHasher::new(4).unwrap())
        .build()
        .unwrap();
    let ada = weak.register(ADA).await.unwrap().user;
    let strong = AuthService::builder(store.clone())
        .hasher(BcryptHasher::new(5).unwrap())
        .build()
        .unwrap();
    strong
        .login("ada@example.com", "analytical engine")
        .await
        .unwrap();
    let stored = store.find_credentials(&ada.email).await.unwrap().unwrap();
    assert!(stored
        .password_hash
        .as_str()
        .starts_with("$bcrypt-sha256$v=1$2b$05$"));
    strong
        .login("ada@example.com", "analytical engine")
        .await
        .unwrap();
}

#[tokio::test]
async fn a_plain_bcrypt_hash_logs_in_and_is_upgraded() {
    let store = MemoryStore::new();
    let auth = AuthService::builder(store.clone())
        .hasher(BcryptHasher::new(4).unwrap())
        .build()
        .unwrap();
    let ada = auth.register(ADA).await.unwrap().user;
    let plain = PasswordHash::new(bcrypt::hash("analytical engine", 4).unwrap());
    store.update_password_hash(ada.id, &plain).await.unwrap();
    auth.login("ada@example.com", "analytical engine")
        .await
        .expect("the old format still verifies");
    let upgraded = store.find_credentials(&ada.email).await.unwrap().unwrap();
    let format = upgraded.password_hash.as_str().split('$').nth(1);
    assert_eq!(format, Some("bcrypt-sha256"), "upgraded at login");
    auth.login("ada@example.com", "analytical engine")
        .await
        .expect("and verifies in the new format");
}

#[tokio::test]
async fn live_sessions_are_listed_and_others_can_be_ended_with_the_password() {
    let f = fixture();
    let here = f.auth.register(ADA).await.unwrap();
    f.clock.advance(Duration::minutes(1));
    let phone = f
        .auth
        .login("ada@example.com", "analytical engine")
        .await
        .unwrap();
    f.clock.advance(Duration::minutes(1));
    let laptop = f
        .auth
        .login("ada@example.com", "analytical engine")
        .await
        .unwrap();
    let listed = f.auth.list_sessions(here.user.id).await.unwrap();
    let digests: Vec<_> = listed.iter().map(|s| s.digest).collect();
    assert_eq!(
        digests,
        [
            laptop.token.digest(),
            phone.token.digest(),
            here.token.digest()
        ]
    );
    // This browser is in use; the phone is not.
    f.auth.authenticate(&here.token).await.unwrap().unwrap();

    // The phone idles out and is no longer listed.
    f.clock.advance(Duration::minutes(29));
    f.auth.authenticate(&here.token).await.unwrap().unwrap();
    f.auth.authenticate(&laptop.token).await.unwrap().unwrap();
    f.clock.advance(Duration::minutes(2));
    let listed = f.auth.list_sessions(here.user.id).await.unwrap();
    assert_eq!(listed.len(), 2);

    assert!(matches!(
        f.auth
            .revoke_other_sessions(&here.token, "wrong", None)
            .await,
        Err(AuthError::InvalidCredentials)
    ));
    assert_eq!(
        f.auth
            .revoke_other_sessions(&here.token, "analytical engine", None)
            .await
            .unwrap(),
        2,
        "the laptop's, and the idle phone's row"
    );
    assert!(f.auth.authenticate(&here.token).await.unwrap().is_some());
    assert!(f.auth.authenticate(&laptop.token).await.unwrap().is_none());
}

#[tokio::test]
async fn a_remembered_session_lasts_its_own_timeouts() {
    use auth_core::SessionLength;
    let f = fixture();
    f.auth.register(ADA).await.unwrap();
    let remembered = f
        .auth
        .login_with(
            "ada@example.com",
            ADA.password,
            None,
            SessionLength::Remembered,
        )
        .await
        .unwrap();
    let ordinary = f.auth.login("ada@example.com", ADA.password).await.unwrap();
    assert_eq!(remembered.length, SessionLength::Remembered);
    assert_eq!(ordinary.length, SessionLength::Browser);
    assert_eq!(
        remembered.max_age(),
        std::time::Duration::from_secs(30 * 86_400)
    );

    f.clock.advance(Duration::days(6));
    assert!(f
        .auth
        .authenticate(&ordinary.token)
        .await
        .unwrap()
        .is_none());
    let session = f
        .auth
        .authenticate(&remembered.token)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(session.times.idle_timeout, Duration::days(7));
    assert!(
        f.auth.needs_reauthentication(&session),
        "six days after the password was entered"
    );
    // Used every six days, it still ends 30 days after login.
    for _ in 0..3 {
        f.clock.advance(Duration::days(6));
        assert!(f
            .auth
            .authenticate(&remembered.token)
            .await
            .unwrap()
            .is_some());
    }
    f.clock.advance(Duration::days(6));
    assert!(f
        .auth
        .authenticate(&remembered.token)
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn reauthentication_refreshes_the_sessions_password_entry_only() {
    let f = fixture();
    let here = f.auth.register(ADA).await.unwrap();
    let there = f.auth.login("ada@example.com", ADA.password).await.unwrap();
    let fresh = f.auth.authenticate(&here.token).await.unwrap().unwrap();
    assert!(!f.auth.needs_reauthentication(&fresh));
    f.clock.advance(Duration::minutes(10));
    let stale = f.auth.authenticate(&here.token).await.unwrap().unwrap();
    assert!(f.auth.needs_reauthentication(&stale));
    assert!(matches!(
        f.auth.reauthenticate(&here.token, "wrong", None).await,
        Err(AuthError::InvalidCredentials)
    ));
    f.auth
        .reauthenticate(&here.token, ADA.password, None)
        .await
        .unwrap();
    let here = f.auth.authenticate(&here.token).await.unwrap().unwrap();
    assert!(!f.auth.needs_reauthentication(&here));
    let there = f.auth.authenticate(&there.token).await.unwrap().unwrap();
    assert!(f.auth.needs_reauthentication(&there), "only that session");
}

#[tokio::test]
async fn one_session_is_revoked_by_its_handle_and_recorded() {
    use auth_core::EventKind;
    let f = fixture();
    let here = f.auth.register(ADA).await.unwrap();
    let there = f.auth.login("ada@example.com", ADA.password).await.unwrap();
    let bob = f
        .auth
        .register(Registration {
            email: "bob@example.com",
            name: "Bob",
            password: "difference engine",
        })
        .await
        .unwrap();
    let handle = there.token.digest().handle();
    assert!(
        !f.auth
            .revoke_session(bob.user.id, &handle, None)
            .await
            .unwrap(),
        "not Bob's to end"
    );
    assert!(f
        .auth
        .revoke_session(here.user.id, &handle, None)
        .await
        .unwrap());
    assert!(f.auth.authenticate(&there.token).await.unwrap().is_none());
    assert!(f.auth.authenticate(&here.token).await.unwrap().is_some());
    assert!(!f
        .auth
        .revoke_session(here.user.id, &handle, None)
        .await
        .unwrap());
    let kinds: Vec<_> = f
        .auth
        .history(here.user.id, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        kinds,
        [
            EventKind::SessionRevoked,
            EventKind::Login,
            EventKind::Registered
        ]
    );
    f.auth.logout(&here.token, None).await.unwrap();
    assert_eq!(
        f.auth.history(here.user.id, 1).await.unwrap()[0].kind,
        EventKind::Logout
    );
}

#[tokio::test]
async fn deleting_ones_own_account_leaves_no_event() {
    let f = fixture();
    let here = f.auth.register(ADA).await.unwrap();
    let id = f
        .auth
        .delete_own_account(&here.token, ADA.password, None)
        .await
        .unwrap();
    assert_eq!(id, here.user.id);
    assert!(f.auth.history(id, 10).await.unwrap().is_empty());
}
