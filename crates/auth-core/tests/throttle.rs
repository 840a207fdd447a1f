//! Login throttling in AuthService, over the in-memory store with a manual
//! clock: time moves, nothing sleeps.

mod common;

use common::Counting;

use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use auth_core::memory::MemoryStore;
use auth_core::time::Duration;
use auth_core::{AuthError, AuthService, BcryptHasher, ManualClock, Registration, ThrottlePolicy};

struct Fixture {
    auth: AuthService<MemoryStore>,
    clock: ManualClock,
    verifies: Arc<AtomicUsize>,
}

async fn fixture() -> Fixture {
    let clock = ManualClock::starting_now();
    let hasher = Counting::default();
    let verifies = hasher.verifies.clone();
    let auth = AuthService::builder(MemoryStore::new())
        .hasher(hasher)
        .clock(clock.clone())
        .build()
        .unwrap();
    for (email, name) in [("ada@example.com", "Ada"), ("bob@example.com", "Bob")] {
        auth.register(Registration {
            email,
            name,
            password: "correct horse battery",
        })
        .await
        .unwrap();
    }
    Fixture {
        auth,
        clock,
        verifies,
    }
}

impl Fixture {
    /// Another service on the fixture's accounts and clock, with `policy`.
    fn with_policy(&self, policy: ThrottlePolicy) -> AuthService<MemoryStore> {
        AuthService::builder(self.auth.store().clone())
            .hasher(BcryptHasher::new(4).unwrap())
            .clock(self.clock.clone())
            .throttle_policy(policy)
            .build()
            .unwrap()
    }
}

/// `times` wrong passwords for Ada, from no known address.
async fn fail_logins(f: &Fixture, times: usize) {
    for _ in 0..times {
        let _ = f.auth.login("ada@example.com", "wrong").await;
    }
}

fn ip(text: &str) -> Option<IpAddr> {
    Some(text.parse().unwrap())
}

const RIGHT: &str = "correct horse battery";

fn retry_after(result: Result<auth_core::IssuedSession, AuthError>) -> u64 {
    match result {
        Err(AuthError::Throttled { retry_after }) => retry_after.as_secs(),
        other => panic!("expected Throttled, got {other:?}"),
    }
}

#[tokio::test]
async fn an_account_is_locked_after_the_limit_even_for_the_right_password() {
    let f = fixture().await;
    for _ in 0..5 {
        let wrong = f
            .auth
            .login_from("ada@example.com", "wrong", ip("192.0.2.1"))
            .await;
        assert!(matches!(wrong, Err(AuthError::InvalidCredentials)));
    }
    let verifies = f.verifies.load(Ordering::SeqCst);
    let locked = f
        .auth
        .login_from("ada@example.com", RIGHT, ip("192.0.2.1"))
        .await;
    assert_eq!(retry_after(locked), 60);
    let elsewhere = f
        .auth
        .login_from("ADA@example.com", RIGHT, ip("198.51.100.9"))
        .await;
    assert_eq!(
        retry_after(elsewhere),
        60,
        "the account lock holds from any address"
    );
    assert_eq!(
        f.verifies.load(Ordering::SeqCst),
        verifies,
        "throttled attempts cost no hash"
    );

    // Another account from another address is not affected.
    f.auth
        .login_from("bob@example.com", RIGHT, ip("198.51.100.9"))
        .await
        .unwrap();

    f.clock.advance(Duration::seconds(59));
    assert_eq!(retry_after(f.auth.login("ada@example.com", RIGHT).await), 1);
    f.clock.advance(Duration::seconds(1));
    f.auth.login("ada@example.com", RIGHT).await.unwrap();
}

#[tokio::test]
async fn consecutive_locks_grow_and_a_quiet_window_resets_them() {
    let f = fixture().await;
    let mut locks = Vec::new();
    for _ in 0..6 {
        for _ in 0..5 {
            let _ = f.auth.login("ada@example.com", "wrong").await;
        }
        let seconds = retry_after(f.auth.login("ada@example.com", RIGHT).await);
        locks.push(seconds / 60);
        f.clock.advance(Duration::seconds(seconds as i64));
    }
    assert_eq!(locks, [1, 2, 4, 8, 15, 15]);

    // A window's quiet after the last lock: back to the shortest lock.
    f.clock.advance(Duration::minutes(15));
    fail_logins(&f, 5).await;
    assert_eq!(
        retry_after(f.auth.login("ada@example.com", RIGHT).await),
        60
    );
}

#[tokio::test]
async fn failures_outside_the_window_do_not_add_up() {
    let f = fixture().await;
    fail_logins(&f, 4).await;
    f.clock.advance(Duration::minutes(16));
    fail_logins(&f, 4).await;
    f.auth.login("ada@example.com", RIGHT).await.unwrap();
}

#[tokio::test]
async fn a_success_clears_the_account_count() {
    let f = fixture().await;
    fail_logins(&f, 4).await;
    f.auth.login("ada@example.com", RIGHT).await.unwrap();
    fail_logins(&f, 4).await;
    f.auth.login("ada@example.com", RIGHT).await.unwrap();
}

#[tokio::test]
async fn an_address_is_locked_after_its_looser_limit_across_accounts() {
    let f = fixture().await;
    let attacker = ip("203.0.113.5");
    // Spread over many accounts, so no account limit is reached.
    for i in 0..50 {
        let email = format!("victim{}@example.com", i % 25);
        let result = f.auth.login_from(&email, "guess", attacker).await;
        assert!(
            matches!(result, Err(AuthError::InvalidCredentials)),
            "attempt {i}"
        );
    }
    let locked = f.auth.login_from("bob@example.com", RIGHT, attacker).await;
    assert_eq!(
        retry_after(locked),
        60,
        "even a right password from that address"
    );
    // The same account from another address is fine.
    f.auth
        .login_from("bob@example.com", RIGHT, ip("198.51.100.9"))
        .await
        .unwrap();
    // An IPv6 neighbour in the same /64 shares the count.
    for i in 0..50 {
        let email = format!("other{}@example.com", i % 25);
        let _ = f.auth.login_from(&email, "guess", ip("2001:db8::1")).await;
    }
    let neighbour = f
        .auth
        .login_from("bob@example.com", RIGHT, ip("2001:db8::ffff"))
        .await;
    assert_eq!(retry_after(neighbour), 60);
}

#[tokio::test]
async fn a_custom_policy_is_applied_and_can_be_disabled() {
    let clock = ManualClock::starting_now();
    let auth = AuthService::builder(MemoryStore::new())
        .hasher(BcryptHasher::new(4).unwrap())
        .clock(clock.clone())
        .throttle_policy(ThrottlePolicy {
            account_limit: 2,
            lockout: Duration::seconds(10),
            ..ThrottlePolicy::default()
        })
        .build()
        .unwrap();
    for _ in 0..2 {
        let _ = auth.login("nobody@example.com", "wrong").await;
    }
    assert_eq!(
        retry_after(auth.login("nobody@example.com", "wrong").await),
        10
    );

    let open = AuthService::builder(MemoryStore::new())
        .hasher(BcryptHasher::new(4).unwrap())
        .throttle_policy(ThrottlePolicy::disabled())
        .build()
        .unwrap();
    for _ in 0..20 {
        assert!(matches!(
            open.login("nobody@example.com", "wrong").await,
            Err(AuthError::InvalidCredentials)
        ));
    }
}

#[tokio::test]
async fn a_wrong_current_password_counts_against_the_account() {
    let f = fixture().await;
    let session = f.auth.login("ada@example.com", RIGHT).await.unwrap();
    for _ in 0..5 {
        let wrong = f
            .auth
            .change_password(&session.token, "guess", "a brand new password", None)
            .await;
        assert!(matches!(wrong, Err(AuthError::InvalidCredentials)));
    }
    let locked = f
        .auth
        .change_password(&session.token, RIGHT, "a brand new password", None)
        .await;
    assert!(matches!(locked, Err(AuthError::Throttled { .. })));
}

#[tokio::test]
async fn purging_forgets_old_throttle_records() {
    let f = fixture().await;
    for _ in 0..3 {
        let _ = f
            .auth
            .login_from("ada@example.com", "wrong", ip("192.0.2.1"))
            .await;
    }
    assert_eq!(f.auth.purge_expired().await.unwrap().throttles, 0);
    // Records are kept as long as the longest thing they count: here the
    // hour of the registration window.
    f.clock.advance(Duration::minutes(59));
    assert_eq!(f.auth.purge_expired().await.unwrap().throttles, 0);
    f.clock.advance(Duration::minutes(2));
    assert_eq!(
        f.auth.purge_expired().await.unwrap().throttles,
        2,
        "the account's and the address's records"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn simultaneous_guesses_get_no_more_checks_than_the_limit() {
    let f = fixture().await;
    let before = f.verifies.load(Ordering::SeqCst);
    let guesses: Vec<_> = (0..25)
        .map(|n| {
            let auth = f.auth.clone();
            tokio::spawn(async move {
                let wrong = format!("wrong guess {n}");
                auth.login_from("ada@example.com", &wrong, ip("192.0.2.1"))
                    .await
            })
        })
        .collect();
    let (mut checked, mut throttled) = (0, 0);
    for guess in guesses {
        match guess.await.expect("login task panicked") {
            Err(AuthError::InvalidCredentials) => checked += 1,
            Err(AuthError::Throttled { .. }) => throttled += 1,
            other => panic!("unexpected outcome {other:?}"),
        }
    }
    assert_eq!((checked, throttled), (5, 20), "checked vs refused");
    assert_eq!(
        f.verifies.load(Ordering::SeqCst) - before,
        5,
        "passwords verified"
    );
    let locked = f
        .auth
        .login_from("ada@example.com", RIGHT, ip("192.0.2.1"))
        .await;
    assert!(retry_after(locked) > 0, "the account is locked afterwards");
}

#[tokio::test]
async fn a_right_password_at_the_limit_gives_the_address_its_attempt_back() {
    let f = fixture().await;
    let auth = f.with_policy(ThrottlePolicy {
        address_limit: 3,
        ..ThrottlePolicy::default()
    });
    let office = ip("203.0.113.5");
    for _ in 0..2 {
        let wrong = auth.login_from("bob@example.com", "wrong", office).await;
        assert!(matches!(wrong, Err(AuthError::InvalidCredentials)));
    }
    for _ in 0..3 {
        auth.login_from("ada@example.com", RIGHT, office)
            .await
            .expect("successful logins do not use up the address's attempts");
    }
    let third = auth.login_from("bob@example.com", "wrong", office).await;
    assert!(matches!(third, Err(AuthError::InvalidCredentials)));
    assert!(retry_after(auth.login_from("ada@example.com", RIGHT, office).await) > 0);
}

#[tokio::test]
async fn registrations_are_limited_per_address() {
    let f = fixture().await;
    let auth = f.with_policy(ThrottlePolicy {
        registration_limit: 3,
        ..ThrottlePolicy::default()
    });
    let office = ip("203.0.113.5");
    let form = |email| Registration {
        email,
        name: "Someone",
        password: "correct horse battery",
    };
    let invalid = auth
        .register_from(form("not an email"), office)
        .await
        .unwrap_err();
    assert!(
        matches!(invalid, AuthError::InvalidInput(_)),
        "an invalid form is not counted"
    );
    for email in ["a@example.com", "b@example.com"] {
        auth.register_from(form(email), office).await.unwrap();
    }
    let taken = auth
        .register_from(form("ada@example.com"), office)
        .await
        .unwrap_err();
    assert!(matches!(taken, AuthError::EmailTaken), "{taken:?}");
    match auth.register_from(form("c@example.com"), office).await {
        Err(AuthError::Throttled { retry_after }) => {
            assert_eq!(retry_after.as_secs(), 3600, "until the hour's window ends");
        }
        other => panic!("expected Throttled, got {other:?}"),
    }
    auth.register_from(form("c@example.com"), ip("198.51.100.1"))
        .await
        .expect("another address is not limited");
    f.clock.advance(Duration::hours(1));
    auth.register_from(form("d@example.com"), office)
        .await
        .expect("a new window");
}
