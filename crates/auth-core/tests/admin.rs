//! What an operator does to accounts, and imports with foreign hashes, over
//! the in-memory store with a manual clock.

mod common;

use std::sync::atomic::Ordering;

use auth_core::time::Duration;
use auth_core::{
    Actor, AuthError, Clock, EmailError, EventKind, ImportOutcome, ImportSkip, ImportedAccount,
    MailKind, NameError, PasswordError, Registration, UserStore,
};
use common::{fixture, session_gone, ADA};

fn root() -> Actor {
    Actor::Operator("root".into())
}

/// Werkzeug 3.1.8 vectors for "correct horse battery staple" (REFERENCE.md).
const PBKDF2: &str = "pbkdf2:sha256:1000000$abcdefgh12345678$2ddfd3920981cdcd2f2e0c242f8b8617fcf0cc5d318cea70312731630f399b09";
const SCRYPT: &str = "scrypt:32768:8:1$abcdefgh12345678$f901e466024a00c2b8d69b6a821bc3698240fd3cae2868e2fabbb4ce1ecad6145693879af1206911808e1164293b622a739734753247164b84f8a50db2ede65a";
const PASSWORD: &str = "correct horse battery staple";

fn account<'a>(email: &'a str, name: &'a str, hash: &'a str) -> ImportedAccount<'a> {
    ImportedAccount {
        email: Some(email),
        name: Some(name),
        password_hash: Some(hash),
    }
}

#[tokio::test]
async fn a_disabled_account_fails_like_a_wrong_password_and_loses_its_sessions() {
    let f = fixture();
    let issued = f.auth.register(ADA).await.unwrap();
    let id = issued.user.id;
    assert!(f.auth.disable(id, root()).await.unwrap());
    assert!(session_gone(&f, &issued.token).await);
    assert!(
        !f.auth.disable(id, root()).await.unwrap(),
        "already disabled"
    );

    let before = f.counter.verifies.load(Ordering::SeqCst);
    let refused = f.auth.login("ada@example.com", ADA.password).await;
    assert!(
        matches!(refused, Err(AuthError::InvalidCredentials)),
        "{refused:?}"
    );
    assert_eq!(
        f.counter.verifies.load(Ordering::SeqCst),
        before + 1,
        "the hash is checked as for any account, so the answer takes as long"
    );
    let summary = f.auth.account(id).await.unwrap().unwrap();
    assert!(summary.disabled_at.is_some());
    assert_eq!(summary.live_sessions, 0);

    assert!(f.auth.enable(id, root()).await.unwrap());
    let after = f.auth.login("ada@example.com", ADA.password).await.unwrap();
    assert!(!f.auth.enable(id, root()).await.unwrap(), "already enabled");
    assert!(
        !session_gone(&f, &after.token).await,
        "enabling an enabled account changes nothing, its sessions included"
    );

    let kinds: Vec<_> = f
        .auth
        .history(id, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.kind, e.actor))
        .collect();
    assert_eq!(
        kinds,
        [
            (EventKind::Login, Actor::Owner),
            (EventKind::Enabled, root()),
            (EventKind::LoginFailed, Actor::Owner),
            (EventKind::Disabled, root()),
            (EventKind::Registered, Actor::Owner),
        ]
    );
}

#[tokio::test]
async fn a_session_made_while_disabled_opens_nothing_even_after_enabling() {
    use auth_core::{NewSession, SessionStore, SessionToken};
    let f = fixture();
    let user = f.auth.register(ADA).await.unwrap().user;
    f.auth.disable(user.id, root()).await.unwrap();
    // A login that checked the password just before the disabling and
    // stores its session just after.
    let late = SessionToken::generate().unwrap();
    let now = f.auth.now();
    f.auth
        .store()
        .create_session(NewSession {
            digest: late.digest(),
            user_id: user.id,
            created_at: now,
            expires_at: now + Duration::hours(1),
            idle_timeout: Duration::minutes(30),
            client: Default::default(),
        })
        .await
        .unwrap();
    assert!(f.auth.authenticate(&late).await.unwrap().is_none());
    f.auth.enable(user.id, root()).await.unwrap();
    assert!(f.auth.authenticate(&late).await.unwrap().is_none());
}

#[tokio::test]
async fn accounts_show_last_login_and_live_sessions_page_by_page() {
    let f = fixture();
    let ada = f.auth.register(ADA).await.unwrap().user;
    let grace = f
        .auth
        .add_account(
            Registration {
                email: "grace@example.com",
                name: "Grace Hopper",
                password: "compiler nanoseconds",
            },
            root(),
        )
        .await
        .unwrap();
    f.clock.advance(Duration::minutes(5));
    f.auth.login("ada@example.com", ADA.password).await.unwrap();
    let login_at = f.auth.now().replace_nanosecond(0).unwrap();

    let first = f.auth.accounts(None, 1).await.unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].user, ada);
    assert_eq!(first[0].last_login_at, Some(login_at));
    assert_eq!(
        first[0].live_sessions, 2,
        "the registration's and the login's"
    );
    let second = f.auth.accounts(Some(ada.id), 10).await.unwrap();
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].user, grace);
    assert_eq!(second[0].last_login_at, None);
    assert_eq!(
        second[0].live_sessions, 0,
        "an operator's account is not logged in"
    );

    f.clock.advance(Duration::minutes(31));
    let idle = f.auth.account(ada.id).await.unwrap().unwrap();
    assert_eq!(idle.live_sessions, 0, "idle sessions are not live");
}

#[tokio::test]
async fn an_operator_sets_a_password_under_the_policy_and_unlocks_the_account() {
    let f = fixture();
    let issued = f.auth.register(ADA).await.unwrap();
    let id = issued.user.id;
    for _ in 0..5 {
        let _ = f.auth.login("ada@example.com", "wrong password").await;
    }
    assert!(matches!(
        f.auth.login("ada@example.com", ADA.password).await,
        Err(AuthError::Throttled { .. })
    ));
    let weak = f.auth.set_password(id, "short", root()).await;
    assert!(
        matches!(&weak, Err(AuthError::InvalidInput(e)) if e.password == Some(PasswordError::TooShort { min: 8 })),
        "{weak:?}"
    );
    let own_name = f.auth.set_password(id, "Ada Lovelace", root()).await;
    assert!(matches!(own_name, Err(AuthError::InvalidInput(_))));

    assert!(f
        .auth
        .set_password(id, "a brand new secret", root())
        .await
        .unwrap());
    assert!(session_gone(&f, &issued.token).await);
    let now = f.clock.now();
    let queued = auth_core::MailStore::claim_mail(f.auth.store(), now, now, 10)
        .await
        .unwrap();
    let kinds: Vec<_> = queued.iter().map(|m| m.mail.kind).collect();
    assert_eq!(
        kinds,
        [MailKind::ConfirmEmail, MailKind::PasswordChanged],
        "the owner is told of the new password"
    );
    f.auth
        .login("ada@example.com", "a brand new secret")
        .await
        .expect("the lock is lifted and the new password works");
    assert!(matches!(
        f.auth.login("ada@example.com", ADA.password).await,
        Err(AuthError::InvalidCredentials)
    ));
    let unknown = auth_core::UserId::new(999);
    assert!(!f
        .auth
        .set_password(unknown, "a brand new secret", root())
        .await
        .unwrap());
}

#[tokio::test]
async fn ending_sessions_and_deleting_an_account() {
    let f = fixture();
    let first = f.auth.register(ADA).await.unwrap();
    let second = f.auth.login("ada@example.com", ADA.password).await.unwrap();
    let id = first.user.id;
    assert_eq!(f.auth.end_sessions(id, root()).await.unwrap(), 2);
    assert!(session_gone(&f, &first.token).await && session_gone(&f, &second.token).await);
    assert_eq!(f.auth.end_sessions(id, root()).await.unwrap(), 0);

    let live = f.auth.login("ada@example.com", ADA.password).await.unwrap();
    assert!(f.auth.delete_account(id, root()).await.unwrap());
    assert!(session_gone(&f, &live.token).await);
    assert!(f.auth.find_user(id).await.unwrap().is_none());
    let kept = f.auth.history(id, 10).await.unwrap();
    assert_eq!(kept.len(), 1, "only the record of the deletion: {kept:?}");
    assert_eq!(
        (kept[0].kind, &kept[0].actor),
        (EventKind::Deleted, &root())
    );
    assert!(!f.auth.delete_account(id, root()).await.unwrap());
    let again = f.auth.register(ADA).await.unwrap();
    assert_ne!(again.user.id, id);
}

#[tokio::test]
async fn imported_werkzeug_hashes_log_in_and_are_replaced() {
    let f = fixture();
    let mut import = f.auth.import(root(), false);
    for (email, hash) in [("ada@example.com", PBKDF2), ("grace@example.com", SCRYPT)] {
        let outcome = import.add(account(email, "Someone", hash)).await.unwrap();
        assert!(matches!(outcome, ImportOutcome::Imported(_)), "{outcome:?}");
    }
    for email in ["ada@example.com", "grace@example.com"] {
        assert!(matches!(
            f.auth.login(email, "correct horse battery stapler").await,
            Err(AuthError::InvalidCredentials)
        ));
        let user = f.auth.login(email, PASSWORD).await.unwrap().user;
        let stored = f
            .auth
            .store()
            .find_credentials(&user.email)
            .await
            .unwrap()
            .unwrap();
        assert!(
            stored.password_hash.as_str().starts_with("$bcrypt-sha256$"),
            "replaced at the first login"
        );
        f.auth.login(email, PASSWORD).await.unwrap();
        let kinds: Vec<_> = f
            .auth
            .history(user.id, 5)
            .await
            .unwrap()
            .iter()
            .map(|e| e.kind)
            .collect();
        assert_eq!(
            kinds,
            [
                EventKind::Login,
                EventKind::Login,
                EventKind::LoginFailed,
                EventKind::Imported
            ]
        );
    }
}

#[tokio::test]
async fn bad_accounts_are_skipped_with_their_reason_and_nothing_is_imported_twice() {
    let f = fixture();
    let cases = [
        (account(" Ada@Example.com ", "Ada", PBKDF2), None),
        (
            account("ADA@example.com", "Ada Again", PBKDF2),
            Some(ImportSkip::DuplicateInSource),
        ),
        (
            account("not-an-email", "Nobody", PBKDF2),
            Some(ImportSkip::InvalidEmail(EmailError::Invalid)),
        ),
        (
            ImportedAccount {
                email: None,
                name: Some("No Email"),
                password_hash: Some(PBKDF2),
            },
            Some(ImportSkip::InvalidEmail(EmailError::Missing)),
        ),
        (
            account("blank@example.com", "", PBKDF2),
            Some(ImportSkip::InvalidName(NameError::Missing)),
        ),
        (
            account(
                "md5@example.com",
                "Old",
                "md5$$5f4dcc3b5aa765d61d8327deb882cf99",
            ),
            Some(ImportSkip::UnsupportedHash),
        ),
        (
            account("huge@example.com", "Huge", "scrypt:1048576:8:1$salt$00"),
            Some(ImportSkip::UnsupportedHash),
        ),
    ];
    for dry_run in [true, false] {
        let mut import = f.auth.import(root(), dry_run);
        for (row, expected) in &cases {
            let outcome = import.add(*row).await.unwrap();
            match expected {
                Some(skip) => assert_eq!(outcome, ImportOutcome::Skipped(skip.clone()), "{row:?}"),
                None if dry_run => assert!(matches!(outcome, ImportOutcome::WouldImport(_))),
                None => assert!(matches!(outcome, ImportOutcome::Imported(_))),
            }
        }
        let accounts = f.auth.accounts(None, 10).await.unwrap();
        assert_eq!(
            accounts.len(),
            usize::from(!dry_run),
            "dry run writes nothing"
        );
    }
    let mut again = f.auth.import(root(), false);
    assert_eq!(
        again.add(cases[0].0).await.unwrap(),
        ImportOutcome::Skipped(ImportSkip::AlreadyRegistered)
    );
    assert_eq!(f.auth.accounts(None, 10).await.unwrap().len(), 1);
}

#[tokio::test]
async fn history_past_its_retention_is_purged() {
    let f = fixture();
    let id = f.auth.register(ADA).await.unwrap().user.id;
    f.clock.advance(Duration::days(366));
    f.auth.login("ada@example.com", ADA.password).await.unwrap();
    let purged = f.auth.purge_expired().await.unwrap();
    assert_eq!(purged.events, 1);
    let left: Vec<_> = f
        .auth
        .history(id, 10)
        .await
        .unwrap()
        .iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(left, [EventKind::Login]);
}

#[tokio::test]
async fn wrong_passwords_are_recorded_and_counted_until_the_next_login() {
    let f = fixture();
    let id = f.auth.register(ADA).await.unwrap().user.id;
    let client = "192.0.2.9".parse().ok();
    for _ in 0..2 {
        let _ = f
            .auth
            .login_from("ada@example.com", "wrong password", client)
            .await;
    }
    let _ = f
        .auth
        .login_from("nobody@example.com", "wrong password", client)
        .await;
    f.auth.login("ada@example.com", ADA.password).await.unwrap();
    let activity = f.auth.login_activity(id).await.unwrap();
    assert_eq!(activity.failed_since, 2, "the unknown email is nobody's");
    assert_eq!(
        activity.previous_login, None,
        "the first login since registering"
    );
    let failed = &f.auth.history(id, 10).await.unwrap()[1];
    assert_eq!(
        (failed.kind, failed.client.addr),
        (EventKind::LoginFailed, client)
    );

    f.clock.advance(Duration::minutes(1));
    f.auth.login("ada@example.com", ADA.password).await.unwrap();
    let activity = f.auth.login_activity(id).await.unwrap();
    assert_eq!(activity.failed_since, 0, "counted since the previous login");
    assert_eq!(
        activity.previous_login.map(|e| e.kind),
        Some(EventKind::Login)
    );

    f.auth.disable(id, root()).await.unwrap();
    let _ = f.auth.login("ada@example.com", ADA.password).await;
    let latest = &f.auth.history(id, 1).await.unwrap()[0];
    assert_eq!(
        latest.kind,
        EventKind::LoginFailed,
        "a disabled account's attempt too"
    );
}
