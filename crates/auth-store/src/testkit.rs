//! The conformance suite: what every implementation of auth-core's store
//! traits must do, checked against a real instance of it.
//!
//! The SQLite, PostgreSQL and in-memory stores all pass it through [`run`];
//! so should yours. Call it from a test with a function that returns a fresh,
//! empty store each time it is called. The kit needs no SQL backend: with
//! `auth-store = { version = "0.1", default-features = false, features =
//! ["testkit"] }` it builds without sqlx. Here it checks auth-core's
//! in-memory store, a `HashMap` behind a mutex:
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use auth_core::memory::MemoryStore;
//!
//! auth_store::testkit::run("a HashMap store", || async { MemoryStore::new() }).await;
//! # });
//! ```
//!
//! The rules it checks are those written on the store traits
//! ([`UserStore`], [`SessionStore`], [`ThrottleStore`],
//! [`LinkTokenStore`](auth_core::LinkTokenStore),
//! [`MailStore`](auth_core::MailStore),
//! [`SecondFactorStore`](auth_core::SecondFactorStore),
//! [`PasskeyStore`](auth_core::PasskeyStore)); each check prints
//! its name to stderr before it starts, and every assertion says what it
//! expected.

use std::future::Future;

use auth_core::time::{Duration, OffsetDateTime};
use auth_core::{
    AccountEvent, Actor, AddPasskey, AuthStore, CeremonyKind, CeremonyRecord, ClientInfo,
    CredentialId, Device, DisplayName, Email, EmailChange, EventKind, LinkPurpose, LinkTokenRecord,
    MailKind, NewCeremony, NewLinkToken, NewMail, NewPasskey, NewPendingSignIn, NewSession,
    NewUser, PasskeyName, PasswordHash, PendingSignInRecord, RecoverySalt, SealedTotpSecret,
    SessionStore, StoreError, StoredRecoveryCode, ThrottleKey, ThrottleState, ThrottleStore,
    TokenDigest, User, UserHandle, UserId, UserStore,
};

/// What a store must be for the suite to exercise it: an
/// [`AuthStore`] (every store trait) that is cheap to clone into
/// concurrent tasks.
pub trait ConformantStore: AuthStore + Clone + 'static {}

impl<S: AuthStore + Clone + 'static> ConformantStore for S {}

/// Runs every check, each on a fresh store from `new_store`, and panics at
/// the first one that fails. `label` names the store in the output.
pub async fn run<S, F, Fut>(label: &str, mut new_store: F)
where
    S: ConformantStore,
    F: FnMut() -> Fut,
    Fut: Future<Output = S>,
{
    macro_rules! checks {
        ($($check:ident),* $(,)?) => {
            $(
                eprintln!("conformance [{label}]: {}", stringify!($check));
                $check(new_store().await).await;
            )*
        };
    }
    checks!(
        users_are_created_and_found,
        stored_text_round_trips_exactly,
        an_email_is_registered_once,
        concurrent_registrations_of_one_email_create_one_account,
        password_hashes_can_be_replaced,
        sessions_are_found_with_their_user,
        touching_moves_last_seen_forward_only,
        a_deleted_session_is_gone,
        a_users_sessions_can_be_deleted_but_one,
        a_users_sessions_are_listed_most_recent_first,
        ended_sessions_are_purged,
        a_session_needs_an_existing_user,
        sessions_keep_their_client_and_timeouts,
        password_entries_move_forward_only,
        failures_are_counted_per_key_in_a_window,
        an_ended_window_starts_over,
        a_lock_is_kept_until_cleared,
        concurrent_failures_all_count,
        released_attempts_are_given_back,
        stale_throttle_records_are_deleted,
        a_disabled_accounts_sessions_are_not_found,
        accounts_are_listed_in_pages_with_their_activity,
        deleting_an_account_takes_its_sessions_and_history,
        events_come_back_newest_first_and_are_purged,
        link_tokens_are_found_by_digest_and_purpose,
        simultaneous_new_links_leave_only_one_alive,
        a_reset_token_works_once_and_ends_every_session,
        concurrent_redemptions_of_one_token_succeed_once,
        addresses_are_confirmed_and_changed_by_their_links,
        queued_mail_is_claimed_leased_retried_and_finished,
        concurrent_claims_never_take_one_mail_twice,
        a_disabled_accounts_links_redeem_nothing,
        an_accounts_queued_mail_of_one_kind_can_be_cancelled,
        a_totp_secret_waits_for_its_first_code_then_is_enabled,
        a_totp_step_is_accepted_once_even_at_once,
        recovery_codes_work_once_even_at_once,
        pending_sign_ins_are_found_deleted_once_and_purged,
        passkeys_are_added_found_used_and_removed,
        a_counter_is_accepted_once_and_the_limit_holds_even_at_once,
        ceremonies_are_taken_once_and_purged,
        a_user_handle_is_chosen_once_even_at_once,
    );
    eprintln!("conformance [{label}]: all checks passed");
}

/// A fixed, whole-second instant: stores keep seconds.
fn t0() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_900_000_000).expect("valid timestamp")
}

fn new_user(email: &str, name: &str) -> NewUser {
    NewUser {
        email: Email::parse(email).expect("valid email"),
        name: DisplayName::parse(name).expect("valid name"),
        password_hash: PasswordHash::new(format!("$2b$04$hash-of-{email}")),
        created_at: t0(),
    }
}

async fn create(store: &impl UserStore, email: &str, name: &str) -> User {
    store
        .create_user(new_user(email, name))
        .await
        .expect("create user")
}

fn digest(n: u8) -> TokenDigest {
    TokenDigest::from_bytes([n; 32])
}

/// A stored recovery code with digest `n` and a salt of its own.
fn code(n: u8) -> StoredRecoveryCode {
    StoredRecoveryCode {
        salt: RecoverySalt::from_bytes(vec![n; RecoverySalt::LEN]).expect("a salt's length"),
        digest: digest(n),
    }
}

/// The idle timeout of the sessions [`session`] makes.
const IDLE: Duration = Duration::minutes(30);

async fn session(
    store: &impl SessionStore,
    n: u8,
    user: UserId,
    created_at: OffsetDateTime,
    expires_at: OffsetDateTime,
) {
    store
        .create_session(NewSession {
            digest: digest(n),
            user_id: user,
            created_at,
            expires_at,
            idle_timeout: IDLE,
            client: ClientInfo::default(),
        })
        .await
        .expect("create session");
}

async fn users_are_created_and_found(store: impl ConformantStore) {
    let ada = create(&store, "ada@example.com", "Ada").await;
    assert_eq!(
        ada.email.as_str(),
        "ada@example.com",
        "create_user returns the email as given (already normalised)"
    );
    assert_eq!(
        ada.created_at,
        t0(),
        "create_user keeps created_at, in whole seconds"
    );

    let found = store
        .find_credentials(&Email::parse("ADA@Example.COM").unwrap())
        .await
        .unwrap()
        .expect("lookup by email ignores case");
    assert_eq!(
        found.user, ada,
        "find_credentials returns the account as created"
    );
    assert_eq!(
        found.password_hash.as_str(),
        "$2b$04$hash-of-ada@example.com",
        "find_credentials returns the password hash as stored"
    );
    assert_eq!(
        store.find_user(ada.id).await.unwrap(),
        Some(ada.clone()),
        "find_user finds the account by its id"
    );

    let bob = create(&store, "bob@example.com", "Bob").await;
    assert_ne!(bob.id, ada.id, "ids are distinct");
    let nobody = Email::parse("nobody@example.com").unwrap();
    assert!(
        store.find_credentials(&nobody).await.unwrap().is_none(),
        "an unknown email has no credentials"
    );
    let unused = UserId::new(ada.id.get().max(bob.id.get()) + 1000);
    assert!(
        store.find_user(unused).await.unwrap().is_none(),
        "an unused id has no account"
    );
}

async fn stored_text_round_trips_exactly(store: impl ConformantStore) {
    let tricky_name = "O'Brien \"; DROP TABLE users; -- Zoë 山田 🚀";
    let user = create(&store, "o'brien+x@example.com", tricky_name).await;
    let found = store.find_user(user.id).await.unwrap().unwrap();
    assert_eq!(
        found.name.as_str(),
        tricky_name,
        "names round-trip exactly (quotes, accents, emoji)"
    );
    assert_eq!(
        found.email.as_str(),
        "o'brien+x@example.com",
        "emails with quotes and plus signs round-trip exactly"
    );
}

async fn an_email_is_registered_once(store: impl ConformantStore) {
    create(&store, "ada@example.com", "Ada").await;
    let again = store
        .create_user(new_user("ada@example.com", "Someone Else"))
        .await;
    assert!(
        matches!(again, Err(StoreError::EmailTaken)),
        "expected EmailTaken, got {again:?}"
    );
    let kept = store
        .find_credentials(&Email::parse("ada@example.com").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        kept.user.name.as_str(),
        "Ada",
        "the first account is untouched"
    );
}

async fn concurrent_registrations_of_one_email_create_one_account(store: impl ConformantStore) {
    const TASKS: usize = 20;
    let attempts: Vec<_> = (0..TASKS)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .create_user(new_user("race@example.com", &format!("Racer {i}")))
                    .await
            })
        })
        .collect();
    let (mut created, mut taken, mut other) = (0, 0, Vec::new());
    for attempt in attempts {
        match attempt.await.expect("task panicked") {
            Ok(_) => created += 1,
            Err(StoreError::EmailTaken) => taken += 1,
            Err(e) => other.push(e),
        }
    }
    assert!(other.is_empty(), "unexpected errors: {other:?}");
    assert_eq!(
        (created, taken),
        (1, TASKS - 1),
        "of concurrent registrations of one email: one created, the rest EmailTaken"
    );
}

async fn password_hashes_can_be_replaced(store: impl ConformantStore) {
    let ada = create(&store, "ada@example.com", "Ada").await;
    let new_hash = PasswordHash::new("$2b$04$replacement".into());
    assert!(
        store.update_password_hash(ada.id, &new_hash).await.unwrap(),
        "update_password_hash reports true for an existing account"
    );
    let found = store.find_credentials(&ada.email).await.unwrap().unwrap();
    assert_eq!(
        found.password_hash, new_hash,
        "the new hash replaced the old one"
    );
    let unused = UserId::new(ada.id.get() + 1000);
    assert!(
        !store.update_password_hash(unused, &new_hash).await.unwrap(),
        "update_password_hash reports false for an unknown account"
    );
}

async fn sessions_are_found_with_their_user(store: impl ConformantStore) {
    let ada = create(&store, "ada@example.com", "Ada").await;
    let expires = t0() + Duration::hours(12);
    session(&store, 1, ada.id, t0(), expires).await;
    let found = store.find_session(&digest(1)).await.unwrap().unwrap();
    assert_eq!(
        found.user, ada,
        "find_session returns the session's account"
    );
    assert_eq!(
        found.times.created_at,
        t0(),
        "the session keeps its created_at"
    );
    assert_eq!(
        found.times.last_seen_at,
        t0(),
        "last seen starts at creation"
    );
    assert_eq!(
        found.times.expires_at, expires,
        "the session keeps its expires_at"
    );
    assert!(
        store.find_session(&digest(2)).await.unwrap().is_none(),
        "an unknown digest has no session"
    );

    // Expired sessions are still returned: the service applies the policy.
    session(&store, 3, ada.id, t0(), t0() - Duration::hours(1)).await;
    assert!(
        store.find_session(&digest(3)).await.unwrap().is_some(),
        "another session of the same account is found too"
    );
}

async fn touching_moves_last_seen_forward_only(store: impl ConformantStore) {
    let ada = create(&store, "ada@example.com", "Ada").await;
    session(&store, 1, ada.id, t0(), t0() + Duration::hours(12)).await;
    store
        .touch_session(&digest(1), t0() + Duration::minutes(5))
        .await
        .unwrap();
    store
        .touch_session(&digest(1), t0() + Duration::minutes(2))
        .await
        .unwrap();
    let found = store.find_session(&digest(1)).await.unwrap().unwrap();
    assert_eq!(
        found.times.last_seen_at,
        t0() + Duration::minutes(5),
        "touch_session moved last_seen_at to the later time, never back"
    );
    assert_eq!(
        found.times.created_at,
        t0(),
        "touch_session leaves created_at alone"
    );
    store
        .touch_session(&digest(9), t0())
        .await
        .expect("touching an unknown session is not an error");
}

async fn a_deleted_session_is_gone(store: impl ConformantStore) {
    let ada = create(&store, "ada@example.com", "Ada").await;
    session(&store, 1, ada.id, t0(), t0() + Duration::hours(12)).await;
    session(&store, 2, ada.id, t0(), t0() + Duration::hours(12)).await;
    assert!(
        store.delete_session(&digest(1)).await.unwrap(),
        "delete_session reports true for an existing session"
    );
    assert!(
        store.find_session(&digest(1)).await.unwrap().is_none(),
        "a deleted session is not found"
    );
    assert!(
        !store.delete_session(&digest(1)).await.unwrap(),
        "delete_session reports false when there was none"
    );
    assert!(
        store.find_session(&digest(2)).await.unwrap().is_some(),
        "other sessions stay"
    );
}

async fn a_users_sessions_can_be_deleted_but_one(store: impl ConformantStore) {
    let ada = create(&store, "ada@example.com", "Ada").await;
    let bob = create(&store, "bob@example.com", "Bob").await;
    let expires = t0() + Duration::hours(12);
    for n in 1..=3 {
        session(&store, n, ada.id, t0(), expires).await;
    }
    session(&store, 10, bob.id, t0(), expires).await;

    let deleted = store
        .delete_user_sessions(ada.id, Some(&digest(1)))
        .await
        .unwrap();
    assert_eq!(
        deleted, 2,
        "delete_user_sessions with keep deletes the account's other sessions and counts them"
    );
    assert!(
        store.find_session(&digest(1)).await.unwrap().is_some(),
        "the kept session is still there"
    );
    assert!(
        store.find_session(&digest(2)).await.unwrap().is_none(),
        "another session of the account was deleted"
    );
    assert!(
        store.find_session(&digest(3)).await.unwrap().is_none(),
        "another session of the account was deleted"
    );
    assert!(
        store.find_session(&digest(10)).await.unwrap().is_some(),
        "another account's session is untouched"
    );

    assert_eq!(
        store.delete_user_sessions(ada.id, None).await.unwrap(),
        1,
        "delete_user_sessions without keep deletes the rest and counts it"
    );
    assert!(
        store.find_session(&digest(1)).await.unwrap().is_none(),
        "the last session is gone too"
    );
    assert!(
        store.find_session(&digest(10)).await.unwrap().is_some(),
        "another user's sessions stay"
    );
}

async fn a_users_sessions_are_listed_most_recent_first(store: impl ConformantStore) {
    let ada = create(&store, "ada@example.com", "Ada").await;
    let bob = create(&store, "bob@example.com", "Bob").await;
    let expires = t0() + Duration::hours(12);
    session(&store, 1, ada.id, t0(), expires).await;
    session(&store, 2, ada.id, t0() + Duration::minutes(1), expires).await;
    session(&store, 3, bob.id, t0(), expires).await;
    store
        .touch_session(&digest(1), t0() + Duration::minutes(5))
        .await
        .unwrap();
    let listed = store.list_user_sessions(ada.id).await.unwrap();
    let digests: Vec<TokenDigest> = listed.iter().map(|s| s.digest).collect();
    assert_eq!(
        digests,
        [digest(1), digest(2)],
        "Ada's only, most recent first"
    );
    assert_eq!(
        listed[0].times.created_at,
        t0(),
        "list_user_sessions gives each session's created_at"
    );
    assert_eq!(
        listed[0].times.last_seen_at,
        t0() + Duration::minutes(5),
        "list_user_sessions gives each session's last_seen_at"
    );
    assert_eq!(
        listed[0].times.expires_at, expires,
        "list_user_sessions gives each session's expires_at"
    );
    let nobody = UserId::new(ada.id.get().max(bob.id.get()) + 1000);
    assert!(
        store.list_user_sessions(nobody).await.unwrap().is_empty(),
        "an account without sessions lists none"
    );
}

async fn ended_sessions_are_purged(store: impl ConformantStore) {
    let ada = create(&store, "ada@example.com", "Ada").await;
    let hour = Duration::hours(1);
    session(&store, 1, ada.id, t0(), t0() + hour).await; // live
    session(&store, 2, ada.id, t0(), t0() + Duration::seconds(10)).await; // past its end
    session(&store, 3, ada.id, t0() - IDLE, t0() + hour).await; // idle
                                                                // Remembered: unused for a day, within its own week.
    store
        .create_session(NewSession {
            digest: digest(4),
            user_id: ada.id,
            created_at: t0() - Duration::days(1),
            expires_at: t0() + Duration::days(29),
            idle_timeout: Duration::days(7),
            client: ClientInfo::default(),
        })
        .await
        .unwrap();
    let now = t0() + Duration::seconds(10);
    assert_eq!(
        store.delete_expired_sessions(now).await.unwrap(),
        2,
        "delete_expired_sessions deletes the ended and the idle, and counts them"
    );
    assert!(
        store.find_session(&digest(4)).await.unwrap().is_some(),
        "a session idle for less than its own idle timeout survives the purge"
    );
    assert!(
        store.find_session(&digest(1)).await.unwrap().is_some(),
        "a live session survives the purge"
    );
    assert!(
        store.find_session(&digest(2)).await.unwrap().is_none(),
        "a session past its expires_at is purged"
    );
    assert!(
        store.find_session(&digest(3)).await.unwrap().is_none(),
        "a session idle since before the cutoff is purged"
    );
}

async fn sessions_keep_their_client_and_timeouts(store: impl ConformantStore) {
    let ada = create(&store, "ada@example.com", "Ada").await;
    let client = ClientInfo {
        addr: Some("2001:db8::7".parse().expect("an address")),
        device: Device::new("Firefox on Linux ✓"),
    };
    store
        .create_session(NewSession {
            digest: digest(1),
            user_id: ada.id,
            created_at: t0(),
            expires_at: t0() + Duration::days(30),
            idle_timeout: Duration::days(7),
            client: client.clone(),
        })
        .await
        .unwrap();
    let found = store.find_session(&digest(1)).await.unwrap().unwrap();
    assert_eq!(
        found.times.idle_timeout,
        Duration::days(7),
        "find_session gives the session's own idle timeout"
    );
    assert_eq!(
        found.times.authenticated_at,
        t0(),
        "the password was last entered at login"
    );
    let listed = store.list_user_sessions(ada.id).await.unwrap();
    assert_eq!(
        listed[0].client, client,
        "list_user_sessions gives the client (address and device) that logged in"
    );
    assert_eq!(listed[0].times, found.times, "listing and lookup agree");
    session(&store, 2, ada.id, t0(), t0() + Duration::hours(1)).await;
    let listed = store.list_user_sessions(ada.id).await.unwrap();
    let anonymous = listed.iter().find(|s| s.digest == digest(2)).unwrap();
    assert_eq!(
        anonymous.client,
        ClientInfo::default(),
        "a session without a known client lists none"
    );
    let summary = store
        .account_summary(ada.id, t0() + Duration::days(6))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        summary.live_sessions, 1,
        "after six quiet days only the session with a week's idle timeout is live"
    );
}

async fn password_entries_move_forward_only(store: impl ConformantStore) {
    let ada = create(&store, "ada@example.com", "Ada").await;
    session(&store, 1, ada.id, t0(), t0() + Duration::hours(12)).await;
    let later = t0() + Duration::minutes(20);
    assert!(
        store
            .record_authentication(&digest(1), later)
            .await
            .unwrap(),
        "record_authentication finds the session"
    );
    assert!(
        store
            .record_authentication(&digest(1), t0() + Duration::minutes(5))
            .await
            .unwrap(),
        "an older entry still finds the session"
    );
    let found = store.find_session(&digest(1)).await.unwrap().unwrap();
    assert_eq!(
        found.times.authenticated_at, later,
        "record_authentication moved authenticated_at forward, never back"
    );
    assert!(
        !store
            .record_authentication(&digest(9), later)
            .await
            .unwrap(),
        "an unknown session is reported as such"
    );
}

async fn a_session_needs_an_existing_user(store: impl ConformantStore) {
    let nobody = UserId::new(987_654_321);
    let result = store
        .create_session(NewSession {
            digest: digest(1),
            user_id: nobody,
            created_at: t0(),
            expires_at: t0() + Duration::hours(1),
            idle_timeout: IDLE,
            client: ClientInfo::default(),
        })
        .await;
    assert!(result.is_err(), "a session for a missing user was stored");
    assert!(
        store.find_session(&digest(1)).await.unwrap().is_none(),
        "a refused session is not stored"
    );
}

fn key(n: u8) -> ThrottleKey {
    ThrottleKey::from_bytes([n; 32])
}

async fn fail(store: &impl ThrottleStore, n: u8, at: OffsetDateTime) -> ThrottleState {
    let window = Duration::minutes(15);
    store
        .reserve_attempt(&key(n), at, at - window)
        .await
        .expect("reserve an attempt")
}

async fn failures_are_counted_per_key_in_a_window(store: impl ConformantStore) {
    assert!(
        store.throttle_state(&key(1)).await.unwrap().is_none(),
        "a key without attempts has no record"
    );
    for (n, minutes) in [(1, 0), (2, 1), (3, 2)] {
        let state = fail(&store, 1, t0() + Duration::minutes(minutes)).await;
        assert_eq!(
            state.failures, n,
            "each reserved attempt adds one in the window"
        );
        assert_eq!(
            state.window_start,
            t0(),
            "the window began at the first failure"
        );
        assert_eq!(state.lockouts, 0, "counting never locks by itself");
        assert!(state.locked_until < t0(), "not locked");
    }
    assert_eq!(fail(&store, 2, t0()).await.failures, 1, "keys count apart");
    let stored = store.throttle_state(&key(1)).await.unwrap().unwrap();
    assert_eq!(
        stored.failures, 3,
        "throttle_state returns the count as stored"
    );
}

async fn an_ended_window_starts_over(store: impl ConformantStore) {
    fail(&store, 1, t0()).await;
    fail(&store, 1, t0() + Duration::minutes(1)).await;
    let later = t0() + Duration::minutes(20);
    let state = fail(&store, 1, later).await;
    assert_eq!(
        (state.failures, state.window_start),
        (1, later),
        "an ended window starts over at one, beginning now"
    );
}

async fn a_lock_is_kept_until_cleared(store: impl ConformantStore) {
    fail(&store, 1, t0()).await;
    let until = t0() + Duration::minutes(4);
    store.lock(&key(1), t0(), until, 3).await.unwrap();
    let state = store.throttle_state(&key(1)).await.unwrap().unwrap();
    assert_eq!(
        state,
        ThrottleState {
            failures: 0,
            window_start: t0(),
            locked_until: until,
            lockouts: 3
        },
        "lock sets the lock, the lockouts and a new empty window"
    );
    let during = fail(&store, 1, t0() + Duration::minutes(1)).await;
    assert_eq!(
        (during.failures, during.locked_until, during.lockouts),
        (0, until, 3),
        "an attempt while locked counts nothing and keeps the lock"
    );
    let after = fail(&store, 1, until).await;
    assert_eq!(
        (after.failures, after.locked_until, after.lockouts),
        (1, until, 3),
        "once the lock is over, attempts count again and the lockouts are remembered"
    );
    store.clear_throttle(&key(1)).await.unwrap();
    assert!(
        store.throttle_state(&key(1)).await.unwrap().is_none(),
        "clear_throttle forgets the key"
    );
    store
        .clear_throttle(&key(9))
        .await
        .expect("clearing an unknown key is not an error");
}

async fn concurrent_failures_all_count(store: impl ConformantStore) {
    const TASKS: u32 = 20;
    let tasks: Vec<_> = (0..TASKS)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { fail(&store, 1, t0()).await.failures })
        })
        .collect();
    let mut seen = Vec::new();
    for task in tasks {
        seen.push(task.await.expect("task panicked"));
    }
    seen.sort_unstable();
    assert_eq!(
        seen,
        (1..=TASKS).collect::<Vec<_>>(),
        "each failure counted once"
    );
}

async fn released_attempts_are_given_back(store: impl ConformantStore) {
    fail(&store, 1, t0()).await;
    fail(&store, 1, t0()).await;
    store.release_attempt(&key(1)).await.expect("release");
    let state = store.throttle_state(&key(1)).await.unwrap().unwrap();
    assert_eq!(state.failures, 1, "one of two attempts given back");
    store.release_attempt(&key(1)).await.unwrap();
    store.release_attempt(&key(1)).await.unwrap();
    let state = store.throttle_state(&key(1)).await.unwrap().unwrap();
    assert_eq!(state.failures, 0, "the count never goes below zero");
    store
        .release_attempt(&key(9))
        .await
        .expect("releasing an unknown key is not an error");
    assert!(
        store.throttle_state(&key(9)).await.unwrap().is_none(),
        "releasing creates no record"
    );
}

async fn stale_throttle_records_are_deleted(store: impl ConformantStore) {
    let old = t0() - Duration::hours(2);
    fail(&store, 1, old).await; // old window, never locked: stale
    fail(&store, 2, t0()).await; // current window
    fail(&store, 3, old).await;
    store
        .lock(&key(3), old, t0() + Duration::minutes(5), 1)
        .await
        .unwrap(); // still locked
    assert_eq!(
        store
            .delete_stale_throttles(t0() - Duration::hours(1))
            .await
            .unwrap(),
        1,
        "delete_stale_throttles deletes records whose window and lock both ended before the cutoff"
    );
    assert!(
        store.throttle_state(&key(1)).await.unwrap().is_none(),
        "an old, unlocked record is stale"
    );
    assert!(
        store.throttle_state(&key(2)).await.unwrap().is_some(),
        "a record in its window is kept"
    );
    assert!(
        store.throttle_state(&key(3)).await.unwrap().is_some(),
        "a record still locked is kept"
    );
}

fn event(user: UserId, kind: EventKind, at: OffsetDateTime) -> AccountEvent {
    AccountEvent {
        user_id: user,
        kind,
        at,
        actor: Actor::Owner,
        client: ClientInfo::default(),
    }
}

async fn a_disabled_accounts_sessions_are_not_found(store: impl ConformantStore) {
    let ada = create(&store, "ada@example.com", "Ada").await;
    let bob = create(&store, "bob@example.com", "Bob").await;
    session(&store, 1, ada.id, t0(), t0() + Duration::hours(1)).await;
    session(&store, 2, bob.id, t0(), t0() + Duration::hours(1)).await;
    let email = Email::parse("ada@example.com").unwrap();
    assert_eq!(
        store
            .find_credentials(&email)
            .await
            .unwrap()
            .unwrap()
            .disabled_at,
        None,
        "a new account is enabled"
    );
    assert!(
        store.disable_user(ada.id, t0()).await.unwrap(),
        "disable_user disables an enabled account"
    );
    assert!(
        !store
            .disable_user(ada.id, t0() + Duration::hours(1))
            .await
            .unwrap(),
        "disable_user on a disabled account changes nothing"
    );
    assert_eq!(
        store
            .find_credentials(&email)
            .await
            .unwrap()
            .unwrap()
            .disabled_at,
        Some(t0()),
        "find_credentials gives the time of the first disabling"
    );
    assert!(
        store.find_session(&digest(1)).await.unwrap().is_none(),
        "find_session never returns a session of a disabled account"
    );
    assert!(
        store.find_session(&digest(2)).await.unwrap().is_some(),
        "other accounts' sessions are unaffected"
    );
    assert!(
        store.enable_user(ada.id).await.unwrap(),
        "enable_user enables a disabled account"
    );
    assert!(
        !store.enable_user(ada.id).await.unwrap(),
        "enable_user on an enabled account changes nothing"
    );
    assert!(
        store.find_session(&digest(1)).await.unwrap().is_some(),
        "an enabled account's sessions are found again"
    );
    let unused = UserId::new(bob.id.get() + 1000);
    assert!(
        !store.disable_user(unused, t0()).await.unwrap()
            && !store.enable_user(unused).await.unwrap(),
        "an unknown account is neither disabled nor enabled"
    );
}

async fn accounts_are_listed_in_pages_with_their_activity(store: impl ConformantStore) {
    let mut users = Vec::new();
    for n in 0..5 {
        users.push(create(&store, &format!("user{n}@example.com"), "User").await);
    }
    let ada = users[0].id;
    let now = t0() + Duration::hours(1);
    let idle_cutoff = now - IDLE;
    // Live; past its absolute end; idle; live.
    session(&store, 1, ada, t0(), now + Duration::hours(1)).await;
    session(&store, 2, ada, t0(), now).await;
    session(&store, 3, ada, t0(), now + Duration::hours(1)).await;
    store.touch_session(&digest(1), now).await.unwrap();
    store.touch_session(&digest(2), now).await.unwrap();
    store.touch_session(&digest(3), idle_cutoff).await.unwrap();
    session(&store, 4, ada, now, now + Duration::hours(1)).await;
    for (kind, minutes) in [
        (EventKind::Login, 10),
        (EventKind::Login, 20),
        (EventKind::PasswordChanged, 30),
    ] {
        store
            .record_event(&event(ada, kind, t0() + Duration::minutes(minutes)))
            .await
            .unwrap();
    }
    store.disable_user(users[1].id, t0()).await.unwrap();

    let first = store.list_accounts(None, 2, now).await.unwrap();
    let ids: Vec<_> = first.iter().map(|a| a.user.id).collect();
    assert_eq!(
        ids,
        [users[0].id, users[1].id],
        "list_accounts pages in id order"
    );
    assert_eq!(first[0].user, users[0], "the summary carries the account");
    assert_eq!(
        first[0].live_sessions, 2,
        "a live session is before expires_at and used after the idle cutoff"
    );
    assert_eq!(
        first[0].last_login_at,
        Some(t0() + Duration::minutes(20)),
        "last_login_at is the latest login event, not any event"
    );
    assert_eq!(first[0].disabled_at, None);
    assert_eq!(first[0].user.email_confirmed_at, None);
    assert_eq!(
        first[1].disabled_at,
        Some(t0()),
        "the disabling time is shown"
    );
    assert_eq!(first[1].last_login_at, None);
    assert_eq!(first[1].live_sessions, 0);
    let rest = store
        .list_accounts(Some(users[1].id), 10, now)
        .await
        .unwrap();
    let ids: Vec<_> = rest.iter().map(|a| a.user.id).collect();
    let expected: Vec<_> = users[2..].iter().map(|u| u.id).collect();
    assert_eq!(ids, expected, "the next page starts after the id given");
    assert_eq!(
        store.account_summary(ada, now).await.unwrap(),
        Some(first[0].clone()),
        "account_summary gives what list_accounts gives"
    );
    assert!(store
        .account_summary(UserId::new(users[4].id.get() + 1000), now)
        .await
        .unwrap()
        .is_none());
}

async fn deleting_an_account_takes_its_sessions_and_history(store: impl ConformantStore) {
    let ada = create(&store, "ada@example.com", "Ada").await;
    let bob = create(&store, "bob@example.com", "Bob").await;
    session(&store, 1, ada.id, t0(), t0() + Duration::hours(1)).await;
    session(&store, 2, bob.id, t0(), t0() + Duration::hours(1)).await;
    store
        .record_event(&event(ada.id, EventKind::Login, t0()))
        .await
        .unwrap();
    store
        .record_event(&event(bob.id, EventKind::Login, t0()))
        .await
        .unwrap();
    assert!(
        store.delete_user(ada.id).await.unwrap(),
        "delete_user deletes"
    );
    assert!(
        !store.delete_user(ada.id).await.unwrap(),
        "a deleted account is not deleted twice"
    );
    assert!(store.find_user(ada.id).await.unwrap().is_none());
    assert!(
        store.find_session(&digest(1)).await.unwrap().is_none(),
        "the account's sessions go with it"
    );
    assert!(
        store.list_events(ada.id, 10).await.unwrap().is_empty(),
        "the account's history goes with it"
    );
    assert!(store.find_session(&digest(2)).await.unwrap().is_some());
    assert_eq!(store.list_events(bob.id, 10).await.unwrap().len(), 1);
    let again = create(&store, "ada@example.com", "Ada").await;
    assert_ne!(again.id, ada.id, "the email registers again, with a new id");
}

async fn events_come_back_newest_first_and_are_purged(store: impl ConformantStore) {
    let ada = create(&store, "ada@example.com", "Ada").await;
    let by_operator = AccountEvent {
        actor: Actor::Operator("root".into()),
        client: Some("2001:db8::7".parse::<std::net::IpAddr>().unwrap()).into(),
        ..event(ada.id, EventKind::Disabled, t0() + Duration::minutes(1))
    };
    let from_site = AccountEvent {
        client: ClientInfo::new(
            Some("192.0.2.7".parse().unwrap()),
            Some("Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"),
        ),
        ..event(ada.id, EventKind::Login, t0())
    };
    store.record_event(&from_site).await.unwrap();
    store.record_event(&by_operator).await.unwrap();
    // Two of one second: the later recorded comes first.
    let tie_a = event(ada.id, EventKind::Enabled, t0() + Duration::minutes(2));
    let tie_b = event(ada.id, EventKind::PasswordSet, t0() + Duration::minutes(2));
    store.record_event(&tie_a).await.unwrap();
    store.record_event(&tie_b).await.unwrap();
    assert_eq!(
        store.list_events(ada.id, 10).await.unwrap(),
        [
            tie_b.clone(),
            tie_a.clone(),
            by_operator.clone(),
            from_site.clone()
        ],
        "events come back newest first, exactly as recorded"
    );
    assert_eq!(
        store.list_events(ada.id, 2).await.unwrap(),
        [tie_b, tie_a],
        "list_events keeps to its limit"
    );
    let gone = UserId::new(ada.id.get() + 1000);
    store
        .record_event(&event(gone, EventKind::Deleted, t0()))
        .await
        .expect("an event may name an account that no longer exists");
    assert_eq!(
        store
            .delete_events_before(t0() + Duration::minutes(1))
            .await
            .unwrap(),
        2,
        "delete_events_before deletes events strictly before the cutoff"
    );
    assert_eq!(store.list_events(ada.id, 10).await.unwrap().len(), 3);
}

fn link(
    n: u8,
    user: UserId,
    purpose: LinkPurpose,
    email: &str,
    expires_at: OffsetDateTime,
) -> NewLinkToken {
    NewLinkToken {
        digest: digest(n),
        user_id: user,
        purpose,
        email: Email::parse(email).expect("valid email"),
        created_at: t0(),
        expires_at,
    }
}

/// When the links [`link`] makes in these checks stop working.
fn in_an_hour() -> OffsetDateTime {
    t0() + Duration::hours(1)
}

async fn link_tokens_are_found_by_digest_and_purpose(store: impl ConformantStore) {
    let ada = create(&store, "ada@example.com", "Ada").await;
    let reset = LinkPurpose::PasswordReset;
    let confirm = LinkPurpose::ConfirmEmail;
    store
        .create_link_token(link(1, ada.id, reset, "ada@example.com", in_an_hour()))
        .await
        .unwrap();
    store
        .create_link_token(link(2, ada.id, confirm, "ada@example.com", in_an_hour()))
        .await
        .unwrap();
    let found = store.find_link_token(&digest(1), reset).await.unwrap();
    assert_eq!(
        found,
        Some(LinkTokenRecord {
            user_id: ada.id,
            purpose: reset,
            email: ada.email.clone(),
            created_at: t0(),
            expires_at: in_an_hour(),
        }),
        "a link token is found under its digest with what it was stored with"
    );
    assert_eq!(
        store.find_link_token(&digest(1), confirm).await.unwrap(),
        None,
        "a token is not found for another purpose"
    );

    // A newer token of one purpose replaces the older; other purposes stay.
    store
        .create_link_token(link(3, ada.id, reset, "ada@example.com", in_an_hour()))
        .await
        .unwrap();
    assert_eq!(
        store.find_link_token(&digest(1), reset).await.unwrap(),
        None,
        "a newer token of the same purpose replaces the older one"
    );
    assert!(store
        .find_link_token(&digest(3), reset)
        .await
        .unwrap()
        .is_some());
    assert!(
        store
            .find_link_token(&digest(2), confirm)
            .await
            .unwrap()
            .is_some(),
        "a token of another purpose is kept"
    );

    assert_eq!(
        store
            .delete_link_tokens(ada.id, Some(confirm))
            .await
            .unwrap(),
        1,
        "delete_link_tokens of one purpose counts what it deleted"
    );
    assert!(store
        .find_link_token(&digest(3), reset)
        .await
        .unwrap()
        .is_some());
    store
        .create_link_token(link(4, ada.id, confirm, "ada@example.com", t0()))
        .await
        .unwrap();
    assert_eq!(
        store.delete_expired_link_tokens(t0()).await.unwrap(),
        1,
        "a token whose expiry has come is deleted, a live one is not"
    );
    assert_eq!(store.delete_link_tokens(ada.id, None).await.unwrap(), 1);
    assert_eq!(
        store.find_link_token(&digest(3), reset).await.unwrap(),
        None
    );
}

async fn a_reset_token_works_once_and_ends_every_session(store: impl ConformantStore) {
    let ada = create(&store, "ada@example.com", "Ada").await;
    let reset = LinkPurpose::PasswordReset;
    session(&store, 10, ada.id, t0(), t0() + Duration::days(1)).await;
    session(&store, 11, ada.id, t0(), t0() + Duration::days(1)).await;
    store
        .create_link_token(link(1, ada.id, reset, "ada@example.com", in_an_hour()))
        .await
        .unwrap();
    let change = LinkPurpose::ChangeEmail;
    store
        .create_link_token(link(2, ada.id, change, "new@example.com", in_an_hour()))
        .await
        .unwrap();
    let hash = PasswordHash::new("$2b$04$reset".into());

    assert_eq!(
        store
            .reset_password(&digest(1), &hash, in_an_hour())
            .await
            .unwrap(),
        None,
        "a token is dead when its expiry has come"
    );
    let now = t0() + Duration::minutes(5);
    assert_eq!(
        store.reset_password(&digest(1), &hash, now).await.unwrap(),
        Some(ada.id),
        "a live token resets its account's password"
    );
    let found = store.find_credentials(&ada.email).await.unwrap().unwrap();
    assert_eq!(found.password_hash, hash, "the new hash is stored");
    assert_eq!(
        store.find_link_token(&digest(2), change).await.unwrap(),
        None,
        "a reset kills the account's other links: an address change asked for \
         with the old password must not outlive it"
    );
    for n in [10, 11] {
        assert!(
            store.find_session(&digest(n)).await.unwrap().is_none(),
            "every session of the account ended"
        );
    }
    let other = PasswordHash::new("$2b$04$again".into());
    assert_eq!(
        store.reset_password(&digest(1), &other, now).await.unwrap(),
        None,
        "a token works once"
    );
    let found = store.find_credentials(&ada.email).await.unwrap().unwrap();
    assert_eq!(found.password_hash, hash, "a used token changes nothing");
    assert_eq!(
        store.reset_password(&digest(9), &other, now).await.unwrap(),
        None,
        "an unknown token resets nothing"
    );
}

async fn simultaneous_new_links_leave_only_one_alive(store: impl ConformantStore) {
    const TASKS: u8 = 20;
    let ada = create(&store, "ada@example.com", "Ada").await;
    let reset = LinkPurpose::PasswordReset;
    let requests: Vec<_> = (1..=TASKS)
        .map(|n| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .create_link_token(link(n, ada.id, reset, "ada@example.com", in_an_hour()))
                    .await
            })
        })
        .collect();
    for request in requests {
        request
            .await
            .expect("task panicked")
            .expect("a new link is stored even while others are");
    }
    let mut alive = 0;
    for n in 1..=TASKS {
        if store
            .find_link_token(&digest(n), reset)
            .await
            .unwrap()
            .is_some()
        {
            alive += 1;
        }
    }
    assert_eq!(
        alive, 1,
        "of {TASKS} links asked for at once, only one still works: each replaces the ones before"
    );
}

async fn concurrent_redemptions_of_one_token_succeed_once(store: impl ConformantStore) {
    const TASKS: usize = 20;
    let ada = create(&store, "ada@example.com", "Ada").await;
    let reset = LinkPurpose::PasswordReset;
    store
        .create_link_token(link(1, ada.id, reset, "ada@example.com", in_an_hour()))
        .await
        .unwrap();
    let now = t0() + Duration::minutes(1);
    let attempts: Vec<_> = (0..TASKS)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let hash = PasswordHash::new(format!("$2b$04$racer-{i}"));
                let won = store.reset_password(&digest(1), &hash, now).await;
                (hash, won)
            })
        })
        .collect();
    let mut winners = Vec::new();
    for attempt in attempts {
        let (hash, won) = attempt.await.expect("task panicked");
        match won {
            Ok(Some(user)) => winners.push((user, hash)),
            Ok(None) => {}
            Err(e) => panic!("a redemption failed instead of finding the token used: {e:?}"),
        }
    }
    assert_eq!(
        winners.len(),
        1,
        "of {TASKS} simultaneous redemptions of one token exactly one succeeds"
    );
    let found = store.find_credentials(&ada.email).await.unwrap().unwrap();
    assert_eq!(
        found.password_hash, winners[0].1,
        "the winner's password is the one stored"
    );
}

async fn addresses_are_confirmed_and_changed_by_their_links(store: impl ConformantStore) {
    let ada = create(&store, "ada@example.com", "Ada").await;
    create(&store, "taken@example.com", "Taken").await;
    let now = t0() + Duration::minutes(1);
    store
        .create_link_token(link(
            1,
            ada.id,
            LinkPurpose::ConfirmEmail,
            "ada@example.com",
            in_an_hour(),
        ))
        .await
        .unwrap();
    assert_eq!(
        store.confirm_email(&digest(1), now).await.unwrap(),
        Some(ada.id)
    );
    let user = store.find_user(ada.id).await.unwrap().unwrap();
    assert_eq!(
        user.email_confirmed_at,
        Some(now),
        "the address is confirmed at now"
    );
    assert_eq!(
        store.confirm_email(&digest(1), now).await.unwrap(),
        None,
        "a confirmation token works once"
    );

    // A link to an address another account has since taken changes
    // nothing and stays unused.
    let change = LinkPurpose::ChangeEmail;
    store
        .create_link_token(link(2, ada.id, change, "taken@example.com", in_an_hour()))
        .await
        .unwrap();
    let taken = store.change_email(&digest(2), None, now).await;
    assert!(
        matches!(taken, Err(StoreError::EmailTaken)),
        "an address another account has is EmailTaken, got {taken:?}"
    );
    assert_eq!(
        store.find_user(ada.id).await.unwrap().unwrap().email,
        ada.email
    );

    // A change keeps the named session, ends the others, and kills the
    // links sent to the old address.
    session(&store, 10, ada.id, t0(), t0() + Duration::days(1)).await;
    session(&store, 11, ada.id, t0(), t0() + Duration::days(1)).await;
    store
        .create_link_token(link(
            3,
            ada.id,
            LinkPurpose::PasswordReset,
            "ada@example.com",
            in_an_hour(),
        ))
        .await
        .unwrap();
    store
        .create_link_token(link(
            4,
            ada.id,
            change,
            "lovelace@example.com",
            in_an_hour(),
        ))
        .await
        .unwrap();
    let later = now + Duration::minutes(1);
    let changed = store
        .change_email(&digest(4), Some(&digest(10)), later)
        .await
        .unwrap();
    let lovelace = Email::parse("lovelace@example.com").unwrap();
    assert_eq!(
        changed,
        Some(EmailChange {
            user_id: ada.id,
            old: ada.email.clone(),
            new: lovelace.clone(),
        })
    );
    let user = store.find_user(ada.id).await.unwrap().unwrap();
    assert_eq!(
        (user.email, user.email_confirmed_at),
        (lovelace, Some(later))
    );
    assert!(
        store.find_session(&digest(10)).await.unwrap().is_some(),
        "the kept session stays"
    );
    assert!(
        store.find_session(&digest(11)).await.unwrap().is_none(),
        "other sessions end"
    );
    let hash = PasswordHash::new("$2b$04$late".into());
    assert_eq!(
        store
            .reset_password(&digest(3), &hash, later)
            .await
            .unwrap(),
        None,
        "a reset link sent to the old address no longer works"
    );
    assert_eq!(
        store.change_email(&digest(4), None, later).await.unwrap(),
        None
    );
}

async fn a_disabled_accounts_links_redeem_nothing(store: impl ConformantStore) {
    let ada = create(&store, "ada@example.com", "Ada").await;
    for (n, purpose, email) in [
        (1, LinkPurpose::PasswordReset, "ada@example.com"),
        (2, LinkPurpose::ConfirmEmail, "ada@example.com"),
        (3, LinkPurpose::ChangeEmail, "lovelace@example.com"),
    ] {
        store
            .create_link_token(link(n, ada.id, purpose, email, in_an_hour()))
            .await
            .unwrap();
    }
    assert!(store.disable_user(ada.id, t0()).await.unwrap());
    let now = t0() + Duration::minutes(1);
    let hash = PasswordHash::new("$2b$04$disabled".into());
    assert_eq!(
        store.reset_password(&digest(1), &hash, now).await.unwrap(),
        None,
        "a reset link of a disabled account sets no password"
    );
    assert_eq!(
        store.confirm_email(&digest(2), now).await.unwrap(),
        None,
        "a confirmation link of a disabled account confirms nothing"
    );
    assert_eq!(
        store.change_email(&digest(3), None, now).await.unwrap(),
        None,
        "an address-change link of a disabled account changes nothing"
    );
    let found = store.find_credentials(&ada.email).await.unwrap().unwrap();
    assert_ne!(found.password_hash, hash);
    assert_eq!(found.user.email_confirmed_at, None);
}

fn mail_to(n: u8) -> NewMail {
    NewMail {
        kind: MailKind::PasswordReset,
        user_id: None,
        email: Some(Email::parse(&format!("reader{n}@example.com")).expect("valid email")),
        created_at: t0() + Duration::seconds(n.into()),
    }
}

async fn queued_mail_is_claimed_leased_retried_and_finished(store: impl ConformantStore) {
    for n in 0..3 {
        store.enqueue_mail(&mail_to(n)).await.unwrap();
    }
    let now = t0() + Duration::minutes(1);
    let lease = now + Duration::minutes(2);
    let first = store.claim_mail(now, lease, 2).await.unwrap();
    assert_eq!(
        first
            .iter()
            .map(|m| (&m.mail, m.attempts))
            .collect::<Vec<_>>(),
        [(&mail_to(0), 1), (&mail_to(1), 1)],
        "the oldest mail is claimed first, up to the limit, with one attempt each"
    );
    let rest = store.claim_mail(now, lease, 10).await.unwrap();
    assert_eq!(
        rest.len(),
        1,
        "claimed mail is not claimed again while leased"
    );
    assert!(store.claim_mail(now, lease, 10).await.unwrap().is_empty());

    store.finish_mail(first[0].id).await.unwrap();
    store
        .retry_mail(first[1].id, now + Duration::seconds(30))
        .await
        .unwrap();
    let retried = store
        .claim_mail(
            now + Duration::seconds(30),
            lease + Duration::minutes(5),
            10,
        )
        .await
        .unwrap();
    assert_eq!(
        retried
            .iter()
            .map(|m| (m.id, m.attempts))
            .collect::<Vec<_>>(),
        [(first[1].id, 2)],
        "a retried mail is due again at its time, its attempts counted"
    );
    let expired = store
        .claim_mail(lease, lease + Duration::minutes(2), 10)
        .await
        .unwrap();
    assert_eq!(
        expired.iter().map(|m| m.id).collect::<Vec<_>>(),
        [rest[0].id],
        "a lease that ran out makes the mail due again (a worker that died)"
    );
}

async fn concurrent_claims_never_take_one_mail_twice(store: impl ConformantStore) {
    const MAILS: u8 = 30;
    const WORKERS: usize = 8;
    for n in 0..MAILS {
        store.enqueue_mail(&mail_to(n)).await.unwrap();
    }
    let now = t0() + Duration::minutes(1);
    let lease = now + Duration::minutes(2);
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut claimed = Vec::new();
                loop {
                    match store.claim_mail(now, lease, 3).await {
                        Ok(batch) if batch.is_empty() => return claimed,
                        Ok(batch) => claimed.extend(batch.into_iter().map(|m| m.id)),
                        Err(e) => panic!("a claim failed: {e:?}"),
                    }
                }
            })
        })
        .collect();
    let mut all = Vec::new();
    for worker in workers {
        all.extend(worker.await.expect("task panicked"));
    }
    let claimed = all.len();
    all.sort_unstable();
    all.dedup();
    assert_eq!(
        (claimed, all.len()),
        (usize::from(MAILS), usize::from(MAILS)),
        "{WORKERS} workers claiming at once take every mail exactly once"
    );
}

async fn an_accounts_queued_mail_of_one_kind_can_be_cancelled(store: impl ConformantStore) {
    let ada = create(&store, "ada@example.com", "Ada").await;
    let bob = create(&store, "bob@example.com", "Bob").await;
    let queued = |user: UserId, kind| NewMail {
        kind,
        user_id: Some(user),
        email: None,
        created_at: t0(),
    };
    for mail in [
        queued(ada.id, MailKind::ConfirmNewEmail),
        queued(ada.id, MailKind::ConfirmNewEmail),
        queued(ada.id, MailKind::PasswordChanged),
        queued(bob.id, MailKind::ConfirmNewEmail),
    ] {
        store.enqueue_mail(&mail).await.unwrap();
    }
    assert_eq!(
        store
            .cancel_mail(ada.id, MailKind::ConfirmNewEmail)
            .await
            .unwrap(),
        2,
        "cancel_mail removes that account's mail of that kind and counts it"
    );
    let now = t0() + Duration::minutes(1);
    let left = store.claim_mail(now, now, 10).await.unwrap();
    let mut left: Vec<_> = left.iter().map(|m| (m.mail.user_id, m.mail.kind)).collect();
    left.sort_by_key(|(user, _)| user.map(UserId::get));
    assert_eq!(
        left,
        [
            (Some(ada.id), MailKind::PasswordChanged),
            (Some(bob.id), MailKind::ConfirmNewEmail)
        ],
        "other kinds and other accounts keep their mail"
    );
}

/// How many of `tasks` simultaneous calls of `use_once` report `true`.
async fn successes_at_once<F, Fut>(tasks: usize, use_once: F) -> usize
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<bool, StoreError>> + Send + 'static,
{
    let attempts: Vec<_> = (0..tasks).map(|_| tokio::spawn(use_once())).collect();
    let mut succeeded = 0;
    for attempt in attempts {
        if attempt
            .await
            .expect("task panicked")
            .expect("the store call")
        {
            succeeded += 1;
        }
    }
    succeeded
}

fn secret(n: u8) -> SealedTotpSecret {
    SealedTotpSecret::from_bytes(vec![n; 20])
}

async fn a_totp_secret_waits_for_its_first_code_then_is_enabled(store: impl ConformantStore) {
    let ada = create(&store, "ada@example.com", "Ada").await;
    assert_eq!(store.find_totp(ada.id).await.unwrap(), None);
    assert!(store
        .set_totp_secret(ada.id, &secret(1), t0())
        .await
        .unwrap());
    assert!(
        store
            .set_totp_secret(ada.id, &secret(2), t0())
            .await
            .unwrap(),
        "a waiting secret is replaced"
    );
    let waiting = store.find_totp(ada.id).await.unwrap().unwrap();
    assert_eq!(
        (
            waiting.secret,
            waiting.created_at,
            waiting.enabled_at,
            waiting.last_step
        ),
        (secret(2), t0(), None, None)
    );
    assert!(
        !store.use_totp_step(ada.id, 5).await.unwrap(),
        "a waiting secret accepts no code at sign-in"
    );

    let codes = [code(1), code(2)];
    assert!(store.enable_totp(ada.id, 100, &codes, t0()).await.unwrap());
    let enabled = store.find_totp(ada.id).await.unwrap().unwrap();
    assert_eq!(
        (enabled.enabled_at, enabled.last_step),
        (Some(t0()), Some(100)),
        "enabled at its time, with the confirming step used"
    );
    assert_eq!(store.count_recovery_codes(ada.id).await.unwrap(), 2);
    assert!(
        !store.enable_totp(ada.id, 101, &codes, t0()).await.unwrap(),
        "an enabled secret is not enabled again"
    );
    assert!(
        !store
            .set_totp_secret(ada.id, &secret(3), t0())
            .await
            .unwrap(),
        "an enabled secret is never replaced by a new one"
    );
    assert_eq!(
        store.find_totp(ada.id).await.unwrap().unwrap().secret,
        secret(2)
    );

    // Resealing: only over what was read, and nothing else of the row moves.
    let sealed = SealedTotpSecret::from_bytes(vec![7; 52]);
    assert!(
        !store
            .reseal_totp_secret(ada.id, &secret(9), &sealed)
            .await
            .unwrap(),
        "a secret that is no longer what was read is left alone"
    );
    assert!(store
        .reseal_totp_secret(ada.id, &secret(2), &sealed)
        .await
        .unwrap());
    let resealed = store.find_totp(ada.id).await.unwrap().unwrap();
    assert_eq!(
        (resealed.secret, resealed.enabled_at, resealed.last_step),
        (sealed, Some(t0()), Some(100))
    );

    assert!(store.remove_totp(ada.id).await.unwrap());
    assert_eq!(store.find_totp(ada.id).await.unwrap(), None);
    assert_eq!(
        store.count_recovery_codes(ada.id).await.unwrap(),
        0,
        "removing the secret removes the recovery codes"
    );
    assert!(!store.remove_totp(ada.id).await.unwrap());
}

async fn a_totp_step_is_accepted_once_even_at_once(store: impl ConformantStore) {
    const TASKS: usize = 20;
    let ada = create(&store, "ada@example.com", "Ada").await;
    store
        .set_totp_secret(ada.id, &secret(1), t0())
        .await
        .unwrap();
    store.enable_totp(ada.id, 100, &[], t0()).await.unwrap();
    assert!(
        !store.use_totp_step(ada.id, 100).await.unwrap(),
        "the confirming step is used"
    );
    assert!(
        !store.use_totp_step(ada.id, 99).await.unwrap(),
        "an earlier step is refused"
    );
    let accepted = successes_at_once(TASKS, || {
        let store = store.clone();
        async move { store.use_totp_step(ada.id, 101).await }
    })
    .await;
    assert_eq!(
        accepted, 1,
        "of {TASKS} simultaneous uses of one step exactly one succeeds"
    );
    assert_eq!(
        store.find_totp(ada.id).await.unwrap().unwrap().last_step,
        Some(101)
    );
}

async fn recovery_codes_work_once_even_at_once(store: impl ConformantStore) {
    const TASKS: usize = 20;
    let ada = create(&store, "ada@example.com", "Ada").await;
    let bob = create(&store, "bob@example.com", "Bob").await;
    assert!(
        !store
            .replace_recovery_codes(ada.id, &[code(9)])
            .await
            .unwrap(),
        "no codes for an account without an enabled secret"
    );
    for (user, codes) in [
        (ada.id, vec![code(1), code(2), code(3)]),
        // As migration 0008 left the codes made before salts.
        (
            bob.id,
            vec![StoredRecoveryCode {
                salt: RecoverySalt::from_bytes(Vec::new()).expect("the empty salt"),
                digest: digest(4),
            }],
        ),
    ] {
        store.set_totp_secret(user, &secret(1), t0()).await.unwrap();
        store.enable_totp(user, 1, &codes, t0()).await.unwrap();
    }
    let mut salts = store.recovery_code_salts(ada.id).await.unwrap();
    salts.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    assert_eq!(
        salts,
        [code(1).salt, code(2).salt, code(3).salt],
        "each code's salt comes back, and only the account's own"
    );
    assert_eq!(
        store.recovery_code_salts(bob.id).await.unwrap(),
        [RecoverySalt::from_bytes(Vec::new()).unwrap()],
        "a code without a salt has the empty one"
    );
    assert!(
        !store.use_recovery_code(ada.id, &digest(4)).await.unwrap(),
        "another account's code is refused"
    );
    let accepted = successes_at_once(TASKS, || {
        let store = store.clone();
        async move { store.use_recovery_code(ada.id, &digest(1)).await }
    })
    .await;
    assert_eq!(
        accepted, 1,
        "of {TASKS} simultaneous uses of one code exactly one succeeds"
    );
    assert_eq!(store.count_recovery_codes(ada.id).await.unwrap(), 2);
    assert!(store
        .replace_recovery_codes(ada.id, &[code(5)])
        .await
        .unwrap());
    assert!(
        !store.use_recovery_code(ada.id, &digest(2)).await.unwrap(),
        "new codes replace every old one"
    );
    assert_eq!(store.count_recovery_codes(ada.id).await.unwrap(), 1);
    assert_eq!(store.count_recovery_codes(bob.id).await.unwrap(), 1);

    // Replacements at the same moment, each with two codes of its own:
    // one set remains whole, with nothing of the others.
    let replacements: Vec<_> = (0..10u8)
        .map(|n| {
            let store = store.clone();
            let codes = [code(100 + 2 * n), code(101 + 2 * n)];
            tokio::spawn(async move { store.replace_recovery_codes(ada.id, &codes).await })
        })
        .collect();
    for replacement in replacements {
        assert!(replacement.await.expect("task panicked").expect("replace"));
    }
    assert_eq!(
        store.count_recovery_codes(ada.id).await.unwrap(),
        2,
        "simultaneous replacements leave exactly one set"
    );
}

async fn pending_sign_ins_are_found_deleted_once_and_purged(store: impl ConformantStore) {
    const TASKS: usize = 20;
    let ada = create(&store, "ada@example.com", "Ada").await;
    let pending = |n: u8, expires_at| NewPendingSignIn {
        digest: digest(n),
        user_id: ada.id,
        remember: n == 1,
        created_at: t0(),
        expires_at,
    };
    let soon = t0() + Duration::minutes(5);
    store
        .create_pending_sign_in(pending(1, soon))
        .await
        .unwrap();
    store
        .create_pending_sign_in(pending(2, t0()))
        .await
        .unwrap();
    assert_eq!(
        store.find_pending_sign_in(&digest(1)).await.unwrap(),
        Some(PendingSignInRecord {
            user_id: ada.id,
            remember: true,
            created_at: t0(),
            expires_at: soon,
        })
    );
    assert_eq!(store.find_pending_sign_in(&digest(3)).await.unwrap(), None);
    let deleted = successes_at_once(TASKS, || {
        let store = store.clone();
        async move { store.delete_pending_sign_in(&digest(1)).await }
    })
    .await;
    assert_eq!(
        deleted, 1,
        "of {TASKS} simultaneous completions exactly one goes on"
    );
    assert_eq!(
        store.delete_expired_pending_sign_ins(t0()).await.unwrap(),
        1,
        "an expired sign-in is purged"
    );
    store
        .create_pending_sign_in(pending(3, soon))
        .await
        .unwrap();
    store
        .create_pending_sign_in(pending(4, soon))
        .await
        .unwrap();
    assert_eq!(
        store.delete_user_pending_sign_ins(ada.id).await.unwrap(),
        2,
        "an account's waiting sign-ins are deleted together"
    );
    assert_eq!(store.find_pending_sign_in(&digest(3)).await.unwrap(), None);
    assert_eq!(store.find_pending_sign_in(&digest(2)).await.unwrap(), None);
}

/// A fresh PostgreSQL schema per test, so tests sharing one database never
/// see each other's rows.
#[cfg(feature = "postgres")]
pub mod postgres {
    use std::sync::atomic::{AtomicU32, Ordering};

    use auth_core::StoreError;

    use crate::{PgStore, PoolOptions, Store};

    /// An empty schema in the database at an admin URL, and a URL whose
    /// connections use it (through `search_path`), for a store or a whole
    /// app. [`TestSchema::drop`] removes it; a schema left behind by a
    /// failed test goes with the test database.
    pub struct TestSchema {
        admin: PgStore,
        name: String,
        url: String,
    }

    impl TestSchema {
        /// Creates `test_<process>_<n>` in the database `admin_url` names.
        pub async fn create(
            admin_url: &str,
        ) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
            static NEXT: AtomicU32 = AtomicU32::new(0);
            let name = format!(
                "test_{}_{}",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::Relaxed)
            );
            let options = PoolOptions {
                max_connections: 1,
                ..PoolOptions::default()
            };
            let admin = PgStore::connect(admin_url, &options).await?;
            sqlx::query(&format!("CREATE SCHEMA {name}"))
                .execute(admin.pool())
                .await
                .map_err(crate::error::classify)?;
            let separator = if admin_url.contains('?') { '&' } else { '?' };
            let url = format!("{admin_url}{separator}options=-csearch_path%3D{name}");
            Ok(Self { admin, name, url })
        }

        /// The URL of a connection that sees only this schema.
        pub fn url(&self) -> &str {
            &self.url
        }

        /// A migrated store on the schema.
        pub async fn store(&self) -> Result<Store, Box<dyn std::error::Error + Send + Sync>> {
            let store =
                Store::Postgres(PgStore::connect(&self.url, &PoolOptions::default()).await?);
            store.migrate().await?;
            Ok(store)
        }

        /// Leaves the schema in place for the test database's own clean-up
        /// and returns its URL: for a test that cannot drop it at its end.
        pub fn keep(self) -> String {
            self.url
        }

        /// Drops the schema and everything in it.
        pub async fn drop(self) -> Result<(), StoreError> {
            sqlx::query(&format!("DROP SCHEMA {} CASCADE", self.name))
                .execute(self.admin.pool())
                .await
                .map_err(crate::error::classify)?;
            self.admin.close().await;
            Ok(())
        }
    }
}

fn new_passkey(user: UserId, n: u8) -> NewPasskey {
    NewPasskey {
        user_id: user,
        credential_id: CredentialId::from_bytes(vec![n; 32]).expect("32 bytes"),
        user_handle: UserHandle::from_bytes([n; 16]),
        name: PasskeyName::parse(&format!("Key {n} ✓")).expect("a name"),
        credential: format!("{{\"credential\":{n}}}").into_bytes(),
        created_at: t0(),
    }
}

async fn passkeys_are_added_found_used_and_removed(store: impl ConformantStore) {
    let ada = create(&store, "ada@example.com", "Ada").await;
    let bob = create(&store, "bob@example.com", "Bob").await;
    let AddPasskey::Added(first) = store.add_passkey(new_passkey(ada.id, 1), 10).await.unwrap()
    else {
        panic!("the first passkey is added");
    };
    let AddPasskey::Added(second) = store.add_passkey(new_passkey(ada.id, 2), 10).await.unwrap()
    else {
        panic!("a second passkey is added");
    };
    assert_eq!(
        store.add_passkey(new_passkey(bob.id, 1), 10).await.unwrap(),
        AddPasskey::Duplicate,
        "a credential id belongs to one account only"
    );
    assert_eq!(
        store.add_passkey(new_passkey(ada.id, 3), 2).await.unwrap(),
        AddPasskey::TooMany,
        "no passkey beyond the limit"
    );
    assert_eq!(
        store.add_passkey(new_passkey(ada.id, 1), 2).await.unwrap(),
        AddPasskey::TooMany,
        "the limit is checked before the credential id"
    );
    let listed = store.list_passkeys(ada.id).await.unwrap();
    assert_eq!(
        listed.iter().map(|p| p.id).collect::<Vec<_>>(),
        vec![first, second],
        "oldest first"
    );
    let expected = new_passkey(ada.id, 1);
    let found = store
        .find_passkey(&expected.credential_id)
        .await
        .unwrap()
        .expect("found by credential id");
    assert_eq!(
        (
            found.user_id,
            found.user_handle,
            found.name.as_str(),
            found.credential.as_slice(),
            found.counter,
            found.created_at,
            found.last_used_at
        ),
        (
            ada.id,
            expected.user_handle,
            expected.name.as_str(),
            expected.credential.as_slice(),
            0,
            t0(),
            None
        ),
        "everything round-trips"
    );
    assert_eq!(store.count_passkeys(ada.id).await.unwrap(), 2);
    assert_eq!(store.count_passkeys(bob.id).await.unwrap(), 0);

    let later = t0() + Duration::minutes(5);
    assert!(store
        .use_passkey(first, 7, b"after 7", later)
        .await
        .unwrap());
    let used = store
        .find_passkey(&found.credential_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (used.counter, used.credential.as_slice(), used.last_used_at),
        (7, &b"after 7"[..], Some(later)),
        "a use records the counter, the credential and the time"
    );
    assert!(
        !store
            .use_passkey(first, 7, b"again 7", later)
            .await
            .unwrap(),
        "the same counter is refused"
    );
    assert!(
        !store.use_passkey(first, 3, b"lower", later).await.unwrap(),
        "a lower counter is refused"
    );
    assert!(
        store
            .use_passkey(second, 0, b"no counter", later)
            .await
            .unwrap()
            && store
                .use_passkey(second, 0, b"no counter", later)
                .await
                .unwrap(),
        "an authenticator without a counter (0 and 0) is accepted each time"
    );
    assert!(
        !store.use_passkey(first, 0, b"zero", later).await.unwrap(),
        "once a counter was seen, 0 is refused"
    );

    assert!(
        !store.remove_passkey(bob.id, first).await.unwrap(),
        "nobody removes another account's passkey"
    );
    assert!(store.remove_passkey(ada.id, first).await.unwrap());
    assert!(!store.remove_passkey(ada.id, first).await.unwrap());
    assert!(store
        .find_passkey(&found.credential_id)
        .await
        .unwrap()
        .is_none());
    store.add_passkey(new_passkey(bob.id, 4), 10).await.unwrap();
    assert_eq!(store.remove_passkeys(ada.id).await.unwrap(), 1);
    assert_eq!(store.count_passkeys(ada.id).await.unwrap(), 0);
    assert_eq!(
        store.count_passkeys(bob.id).await.unwrap(),
        1,
        "others keep theirs"
    );
    assert!(store.delete_user(bob.id).await.unwrap());
    assert!(
        store
            .find_passkey(&new_passkey(bob.id, 4).credential_id)
            .await
            .unwrap()
            .is_none(),
        "deleting an account deletes its passkeys"
    );
}

async fn a_counter_is_accepted_once_and_the_limit_holds_even_at_once(store: impl ConformantStore) {
    const TASKS: usize = 20;
    let ada = create(&store, "ada@example.com", "Ada").await;
    let AddPasskey::Added(id) = store.add_passkey(new_passkey(ada.id, 1), 10).await.unwrap() else {
        panic!("added");
    };
    let accepted = successes_at_once(TASKS, || {
        let store = store.clone();
        async move { store.use_passkey(id, 5, b"5", t0()).await }
    })
    .await;
    assert_eq!(
        accepted, 1,
        "of {TASKS} simultaneous uses with one counter exactly one succeeds"
    );

    let next = std::sync::Arc::new(std::sync::atomic::AtomicU8::new(10));
    let added = successes_at_once(TASKS, || {
        let store = store.clone();
        let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        async move {
            store
                .add_passkey(new_passkey(ada.id, n), 4)
                .await
                .map(|added| matches!(added, AddPasskey::Added(_)))
        }
    })
    .await;
    assert_eq!(
        added, 3,
        "{TASKS} simultaneous additions fill the limit of 4 and no more"
    );
    assert_eq!(store.count_passkeys(ada.id).await.unwrap(), 4);
}

async fn ceremonies_are_taken_once_and_purged(store: impl ConformantStore) {
    const TASKS: usize = 20;
    let ada = create(&store, "ada@example.com", "Ada").await;
    let name = PasskeyName::parse("Laptop").unwrap();
    let record = |kind, user_id, expires_at| CeremonyRecord {
        kind,
        user_id,
        state: b"library state".to_vec(),
        expires_at,
    };
    let soon = t0() + Duration::minutes(5);
    for (n, kind, user) in [
        (1, CeremonyKind::Register(name.clone()), Some(ada.id)),
        (2, CeremonyKind::SecondStep, Some(ada.id)),
        (3, CeremonyKind::SignIn, None),
    ] {
        store
            .create_ceremony(NewCeremony {
                digest: digest(n),
                record: record(kind, user, soon),
            })
            .await
            .unwrap();
    }
    assert_eq!(
        store.take_ceremony(&digest(1), t0()).await.unwrap(),
        Some(record(CeremonyKind::Register(name), Some(ada.id), soon)),
        "everything round-trips"
    );
    assert_eq!(
        store.take_ceremony(&digest(1), t0()).await.unwrap(),
        None,
        "once"
    );
    assert_eq!(
        store.take_ceremony(&digest(2), soon).await.unwrap(),
        None,
        "an expired ceremony is not taken"
    );
    let taken = successes_at_once(TASKS, || {
        let store = store.clone();
        async move {
            store
                .take_ceremony(&digest(3), t0())
                .await
                .map(|taken| taken.is_some())
        }
    })
    .await;
    assert_eq!(
        taken, 1,
        "of {TASKS} simultaneous takes exactly one gets it"
    );
    assert_eq!(store.delete_expired_ceremonies(soon).await.unwrap(), 1);
    assert_eq!(store.delete_expired_ceremonies(soon).await.unwrap(), 0);
}

async fn a_user_handle_is_chosen_once_even_at_once(store: impl ConformantStore) {
    const TASKS: u8 = 20;
    let ada = create(&store, "ada@example.com", "Ada").await;
    let tasks: Vec<_> = (0..TASKS)
        .map(|n| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .user_handle(ada.id, UserHandle::from_bytes([n; 16]))
                    .await
            })
        })
        .collect();
    let mut handles = Vec::new();
    for task in tasks {
        handles.push(task.await.expect("task panicked").expect("the store call"));
    }
    assert!(
        handles.windows(2).all(|pair| pair[0] == pair[1]),
        "{TASKS} simultaneous first calls all get one handle"
    );
    assert_eq!(
        store
            .user_handle(ada.id, UserHandle::from_bytes([99; 16]))
            .await
            .unwrap(),
        handles[0],
        "and it stays"
    );
    let bob = create(&store, "bob@example.com", "Bob").await;
    assert_eq!(
        store
            .user_handle(bob.id, UserHandle::from_bytes([98; 16]))
            .await
            .unwrap(),
        UserHandle::from_bytes([98; 16]),
        "each account has its own"
    );
}
