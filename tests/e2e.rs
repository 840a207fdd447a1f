//! The whole application on a real socket, driven like a browser: the
//! original app's flow end to end, and a restart in the middle.

mod support;

use std::sync::Arc;

use reqwest::cookie::Jar;
use reqwest::StatusCode;
use support::{browser, figment, page, sqlite_url, Server};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_secrets_download_logout_login() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(figment(dir.path(), &sqlite_url(dir.path()))).await;
    support::walk_the_original_flow(&server).await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_keeps_accounts_and_logged_in_browsers() {
    let dir = tempfile::tempdir().unwrap();
    let jar = Arc::new(Jar::default());
    let client = browser(jar.clone());

    let first = Server::start(figment(dir.path(), &sqlite_url(dir.path()))).await;
    support::register(
        &client,
        &first,
        "ada@example.com",
        "Ada",
        "analytical engine",
    )
    .await;
    first.stop().await;

    let second = Server::start(figment(dir.path(), &sqlite_url(dir.path()))).await;
    let (status, html) = page(&client, &second.url("/secrets")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("Welcome, Ada"),
        "still logged in after the restart"
    );

    let other = browser(Arc::new(Jar::default()));
    let login = support::login(&other, &second, "ada@example.com", "analytical engine").await;
    assert_eq!(login.url().path(), "/secrets", "the account survived");
    second.stop().await;
}

/// Wrong passwords for one account sent at the same moment: the throttle
/// counts each before its check, so no more than the limit (5) are checked.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn simultaneous_wrong_passwords_get_no_more_checks_than_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(figment(dir.path(), &sqlite_url(dir.path()))).await;
    let ada = browser(Arc::new(Jar::default()));
    support::register(&ada, &server, "ada@example.com", "Ada", "analytical engine").await;

    let burst = support::guess_at_once(&[&server], "ada@example.com", 25).await;
    assert_eq!(
        burst,
        support::Burst {
            checked: 5,
            throttled: 20,
            other: vec![]
        }
    );
    let attacker = browser(Arc::new(Jar::default()));
    let locked = support::login(&attacker, &server, "ada@example.com", "analytical engine").await;
    assert_eq!(
        locked.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "locked afterwards"
    );
    server.stop().await;
}

/// Registrations from one address sent at the same moment: the limit is
/// reserved before each hash, so no more accounts than it are created.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn simultaneous_registrations_stop_at_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let config =
        figment(dir.path(), &sqlite_url(dir.path())).merge(("registration_throttle.limit", 5));
    let server = Server::start(config).await;
    let statuses = support::post_at_once(&[&server], "/register", 12, |n| {
        vec![
            ("email", format!("new{n}@example.com")),
            ("name", format!("New {n}")),
            ("password", "analytical engine".to_owned()),
        ]
    })
    .await;
    let created = statuses
        .iter()
        .filter(|s| **s == StatusCode::SEE_OTHER)
        .count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!((created, refused), (5, 7), "{statuses:?}");
    server.stop().await;
}

/// Reset requests for one address sent at the same moment: the limit per
/// recipient (5) holds, and no more mails than it go out.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn simultaneous_reset_requests_for_one_address_mail_no_more_than_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(figment(dir.path(), &sqlite_url(dir.path()))).await;
    let ada = browser(Arc::new(Jar::default()));
    support::register(&ada, &server, "ada@example.com", "Ada", "analytical engine").await;

    let statuses = support::post_at_once(&[&server], "/password/forgot", 12, |_| {
        vec![("email", "ada@example.com".to_owned())]
    })
    .await;
    let count = |status| statuses.iter().filter(|s| **s == status).count();
    assert_eq!(
        (
            count(StatusCode::SEE_OTHER),
            count(StatusCode::TOO_MANY_REQUESTS)
        ),
        (5, 7),
        "{statuses:?}"
    );
    // The confirmation and five reset mails, then nothing more.
    let outbox = dir.path().join("outbox");
    let mails = || test_support::outbox_mail(&outbox).len();
    for _ in 0..200 {
        if mails() >= 6 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(mails(), 6);
    server.stop().await;
}

/// Wrong codes for one pending sign-in sent at the same moment: each is
/// counted with the account's logins before its check, so no more than the
/// limit (5) are checked.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn simultaneous_wrong_codes_get_no_more_checks_than_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(figment(dir.path(), &sqlite_url(dir.path()))).await;
    let ada = browser(Arc::new(Jar::default()));
    support::register(&ada, &server, "ada@example.com", "Ada", "analytical engine").await;
    support::enrol_over_http(&ada, &server, "analytical engine").await;

    let jar = Arc::new(Jar::default());
    let phone = support::browser_no_redirects(jar.clone());
    let answer = support::login(&phone, &server, "ada@example.com", "analytical engine").await;
    assert_eq!(answer.headers()["location"], "/login/code");
    let (_, form) = support::page(&phone, &server.url("/login/code")).await;
    let fields = [
        ("code", "000000".to_owned()),
        ("csrf_token", test_support::csrf(&form)),
    ];
    let statuses = support::post_at_once_as(&jar, &[&server], "/login/code", 20, &fields).await;
    let count = |status| statuses.iter().filter(|s| **s == status).count();
    assert_eq!(
        (
            count(StatusCode::UNAUTHORIZED),
            count(StatusCode::TOO_MANY_REQUESTS)
        ),
        (5, 15),
        "{statuses:?}"
    );
    server.stop().await;
}
