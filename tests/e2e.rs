//! The whole application on a real socket, driven like a browser: the
//! original app's flow end to end, and a restart in the middle.

mod support;

use std::sync::Arc;

use reqwest::cookie::Jar;
use reqwest::StatusCode;
use support::{browser, figment, page, sqlite_url, submit, Server};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_secrets_download_logout_login() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(figment(dir.path(), &sqlite_url(dir.path()))).await;
    let client = browser(Arc::new(Jar::default()));
    let url = |path| server.url(path);

    let (status, home) = page(&client, &url("/")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(home.contains(r#"href="/register""#));

    let registered = submit(
        &client,
        &url("/register"),
        &url("/register"),
        &[
            ("email", "Ada@Example.com"),
            ("name", "Ada"),
            ("password", "analytical engine"),
        ],
    )
    .await;
    assert_eq!(registered.url().path(), "/secrets");
    let secrets = registered.text().await.unwrap();
    assert!(secrets.contains("Welcome, Ada"));
    assert!(secrets.contains("Your account has been created."));

    let download = client.get(url("/download")).send().await.unwrap();
    assert_eq!(download.status(), StatusCode::OK);
    assert_eq!(download.headers()["content-type"], "application/pdf");
    assert!(download.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("cheat_sheet.pdf"));
    assert!(download.bytes().await.unwrap().starts_with(b"%PDF-"));

    let logged_out = submit(&client, &url("/"), &url("/logout"), &[]).await;
    assert_eq!(logged_out.url().path(), "/");
    assert!(logged_out
        .text()
        .await
        .unwrap()
        .contains("You have been logged out."));

    let bounced = client.get(url("/secrets")).send().await.unwrap();
    assert_eq!(bounced.url().path(), "/login");
    assert_eq!(bounced.url().query(), Some("next=%2Fsecrets"));
    let login_page = bounced.text().await.unwrap();
    assert!(login_page.contains("Please log in to see this page."));

    let wrong = submit(
        &client,
        &url("/login"),
        &url("/login"),
        &[("email", "ada@example.com"), ("password", "not it at all")],
    )
    .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(wrong
        .text()
        .await
        .unwrap()
        .contains("Invalid email or password. Please try again."));

    let logged_in = submit(
        &client,
        &url("/login?next=/download"),
        &url("/login"),
        &[
            ("email", "ada@example.com"),
            ("password", "analytical engine"),
            ("next", "/secrets"),
        ],
    )
    .await;
    assert_eq!(logged_in.url().path(), "/secrets");
    assert!(logged_in.text().await.unwrap().contains("Welcome, Ada"));

    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_keeps_accounts_and_logged_in_browsers() {
    let dir = tempfile::tempdir().unwrap();
    let jar = Arc::new(Jar::default());
    let client = browser(jar.clone());

    let first = Server::start(figment(dir.path(), &sqlite_url(dir.path()))).await;
    submit(
        &client,
        &first.url("/register"),
        &first.url("/register"),
        &[
            ("email", "ada@example.com"),
            ("name", "Ada"),
            ("password", "analytical engine"),
        ],
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
    let login = submit(
        &other,
        &second.url("/login"),
        &second.url("/login"),
        &[
            ("email", "ada@example.com"),
            ("password", "analytical engine"),
        ],
    )
    .await;
    assert_eq!(login.url().path(), "/secrets", "the account survived");
    second.stop().await;
}
