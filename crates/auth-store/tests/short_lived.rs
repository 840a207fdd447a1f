//! Nothing a store acknowledges is lost when the process ends right after:
//! each write below runs in a child process (this test binary again) that
//! calls `std::process::exit` as soon as the store method returns, without
//! closing its pool. The parent then counts what reached the database.
//!
//! sqlx's SQLite driver returns the row of an `INSERT ... RETURNING` before
//! SQLite has finished (and so committed) the statement; without an explicit
//! commit such a child loses writes it was told had happened.

use std::process::Command;

use auth_core::time::{Duration, OffsetDateTime};
use auth_core::{DisplayName, Email, NewUser, PasswordHash, ThrottleKey, ThrottleStore, UserStore};
use auth_store::{PoolOptions, Store};

/// Set in a child: the database URL and the write to make.
const CHILD: &str = "AUTH_STORE_SHORT_LIVED_CHILD";

const USERS: usize = 3;
const ATTEMPTS: u32 = 6;

fn key() -> ThrottleKey {
    ThrottleKey::from_bytes([7; 32])
}

fn t0() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_800_000_000).expect("a valid time")
}

/// In a child, makes the one write its environment names and exits at
/// once; in the parent, does nothing.
fn run_child_write() {
    let Ok(spec) = std::env::var(CHILD) else {
        return;
    };
    let (url, write) = spec.split_once(' ').expect("URL and write");
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async {
        let store = Store::connect(url, &PoolOptions::default())
            .await
            .expect("connect");
        match write.split_once(':') {
            Some(("user", n)) => {
                store
                    .create_user(NewUser {
                        email: Email::parse(&format!("user{n}@example.com")).unwrap(),
                        name: DisplayName::parse("Short Lived").unwrap(),
                        password_hash: PasswordHash::new("$2b$04$not-a-real-hash".into()),
                        created_at: t0(),
                    })
                    .await
                    .expect("create_user");
            }
            Some(("attempt", _)) => {
                store
                    .reserve_attempt(&key(), t0(), t0() - Duration::minutes(15))
                    .await
                    .expect("reserve_attempt");
            }
            _ => panic!("unknown write {write}"),
        }
    });
    // Exit with the pool still open, as a command-line tool might.
    std::process::exit(0);
}

/// Runs `write` against `url` in a child process of this test.
fn in_a_child(test: &str, url: &str, write: &str) {
    let status = Command::new(std::env::current_exe().expect("the test binary"))
        .args([
            test,
            "--exact",
            "--include-ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, format!("{url} {write}"))
        .status()
        .expect("the child runs");
    assert!(status.success(), "child for {write} failed: {status}");
}

/// Makes every write in its own short-lived child, then checks that each
/// one is in the database.
async fn every_acknowledged_write_is_kept(test: &str, url: &str) {
    let store = Store::connect(url, &PoolOptions::default()).await.unwrap();
    store.migrate().await.unwrap();
    store.close().await;

    for n in 0..USERS {
        in_a_child(test, url, &format!("user:{n}"));
    }
    for n in 0..ATTEMPTS {
        in_a_child(test, url, &format!("attempt:{n}"));
    }

    let store = Store::connect(url, &PoolOptions::default()).await.unwrap();
    for n in 0..USERS {
        let email = Email::parse(&format!("user{n}@example.com")).unwrap();
        assert!(
            store.find_credentials(&email).await.unwrap().is_some(),
            "account {n}, created by a child that then exited, is missing"
        );
    }
    let state = store
        .throttle_state(&key())
        .await
        .unwrap()
        .expect("the attempts' record");
    assert_eq!(
        state.failures, ATTEMPTS,
        "attempts counted by children that then exited"
    );
    store.close().await;
}

#[test]
fn sqlite_keeps_every_write_of_a_process_that_exits_at_once() {
    run_child_write();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/auth.db", dir.path().display());
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(every_acknowledged_write_is_kept(
            "sqlite_keeps_every_write_of_a_process_that_exits_at_once",
            &url,
        ));
}

#[cfg(feature = "postgres")]
#[test]
#[ignore = "needs AUTH_TEST_POSTGRES_URL (.ci/run sets it)"]
fn postgres_keeps_every_write_of_a_process_that_exits_at_once() {
    run_child_write();
    let admin = std::env::var("AUTH_TEST_POSTGRES_URL")
        .expect("AUTH_TEST_POSTGRES_URL names a database to test in");
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let schema = auth_store::testkit::postgres::TestSchema::create(&admin)
            .await
            .unwrap();
        every_acknowledged_write_is_kept(
            "postgres_keeps_every_write_of_a_process_that_exits_at_once",
            schema.url(),
        )
        .await;
        schema.drop().await.unwrap();
    });
}
