use auth_core::time::Duration;
use rocket::http::Status;

use crate::common::{app, app_with, location, TestApp};

const RIGHT: &str = "analytical engine";

async fn with_users(app: TestApp) -> TestApp {
    for (email, name) in [("ada@example.com", "Ada"), ("bob@example.com", "Bob")] {
        app.register(email, name, RIGHT).await;
        app.logout().await;
    }
    app
}

async fn login_from(app: &TestApp, remote: &str, email: &str, password: &str) -> (Status, String) {
    let response = app
        .post_from(
            remote,
            &[],
            "/login",
            &[("email", email), ("password", password)],
        )
        .await;
    let status = response.status();
    (status, response.into_string().await.unwrap_or_default())
}

/// The refused form kept the email typed, and the browser is not logged in.
async fn refused_keeping(app: &TestApp, html: &str, email: &str) {
    assert!(
        html.contains(&format!(r#"value="{email}""#)),
        "the email is kept"
    );
    assert_eq!(
        app.get("/secrets").await.0,
        Status::SeeOther,
        "not logged in"
    );
}

#[tokio::test]
async fn five_wrong_passwords_lock_the_account_even_for_the_right_one() {
    let app = with_users(app().await).await;
    for _ in 0..5 {
        let (status, _) = login_from(&app, "192.0.2.1:4000", "ada@example.com", "wrong").await;
        assert_eq!(status, Status::Unauthorized);
    }
    let response = app
        .post_from(
            "192.0.2.1:4000",
            &[],
            "/login",
            &[("email", "ada@example.com"), ("password", RIGHT)],
        )
        .await;
    assert_eq!(response.status(), Status::TooManyRequests);
    assert_eq!(response.headers().get_one("Retry-After"), Some("60"));
    let html = response.into_string().await.unwrap();
    assert!(html.contains("Too many failed login attempts"));
    assert!(html.contains("try again in 1 minute."), "{html}");
    refused_keeping(&app, &html, "ada@example.com").await;

    // Another account, from another address, logs in meanwhile.
    let (status, _) = login_from(&app, "198.51.100.2:4000", "bob@example.com", RIGHT).await;
    assert_eq!(status, Status::SeeOther);
    app.logout().await;

    // When the lock has passed, the right password works again.
    app.clock.advance(Duration::seconds(59));
    let (status, html) = login_from(&app, "192.0.2.1:4000", "ada@example.com", RIGHT).await;
    assert_eq!(status, Status::TooManyRequests);
    assert!(html.contains("try again in 1 second."), "{html}");
    app.clock.advance(Duration::seconds(1));
    let (status, _) = login_from(&app, "192.0.2.1:4000", "ada@example.com", RIGHT).await;
    assert_eq!(status, Status::SeeOther);
}

fn tight_address_limit(figment: rocket::figment::Figment) -> rocket::figment::Figment {
    figment.merge(("login_throttle.address_limit", 3))
}

#[tokio::test]
async fn an_address_is_locked_after_its_limit_across_accounts() {
    let app = with_users(app_with(tempfile::tempdir().unwrap(), tight_address_limit).await).await;
    for victim in ["a@example.com", "b@example.com", "c@example.com"] {
        let (status, _) = login_from(&app, "203.0.113.9:1", victim, "guess").await;
        assert_eq!(status, Status::Unauthorized);
    }
    let (status, _) = login_from(&app, "203.0.113.9:1", "bob@example.com", RIGHT).await;
    assert_eq!(status, Status::TooManyRequests);
    let (status, _) = login_from(&app, "203.0.113.10:1", "bob@example.com", RIGHT).await;
    assert_eq!(status, Status::SeeOther, "another address is unaffected");
}

#[tokio::test]
async fn forwarding_headers_are_ignored_unless_the_peer_is_a_trusted_proxy() {
    let app = with_users(app_with(tempfile::tempdir().unwrap(), tight_address_limit).await).await;
    // A client claiming a different address in each request is still one
    // address: its own.
    for (n, spoof) in ["1.1.1.1", "2.2.2.2", "3.3.3.3"].iter().enumerate() {
        let email = format!("victim{n}@example.com");
        let response = app
            .post_from(
                "192.0.2.50:1",
                &[("X-Forwarded-For", spoof), ("X-Real-IP", spoof)],
                "/login",
                &[("email", &email), ("password", "guess")],
            )
            .await;
        assert_eq!(response.status(), Status::Unauthorized);
    }
    let (status, _) = login_from(&app, "192.0.2.50:1", "bob@example.com", RIGHT).await;
    assert_eq!(status, Status::TooManyRequests);
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_counts_apart() {
    let app = with_users(
        app_with(tempfile::tempdir().unwrap(), |f| {
            tight_address_limit(f).merge(("trusted_proxies", ["127.0.0.1"]))
        })
        .await,
    )
    .await;
    for victim in ["a@example.com", "b@example.com", "c@example.com"] {
        let response = app
            .post_from(
                "127.0.0.1:1",
                &[("X-Forwarded-For", "203.0.113.9")],
                "/login",
                &[("email", victim), ("password", "guess")],
            )
            .await;
        assert_eq!(response.status(), Status::Unauthorized);
    }
    let bob = [("email", "bob@example.com"), ("password", RIGHT)];
    let forwarded = |value: &'static str| [("X-Forwarded-For", value)];
    let from_proxy = "127.0.0.1:1";
    let locked = app
        .post_from(from_proxy, &forwarded("203.0.113.9"), "/login", &bob)
        .await;
    assert_eq!(locked.status(), Status::TooManyRequests);
    // A spoofed left-hand entry does not help: the proxy appended the real
    // address on the right.
    let spoofed = app
        .post_from(
            from_proxy,
            &forwarded("203.0.113.77, 203.0.113.9"),
            "/login",
            &bob,
        )
        .await;
    assert_eq!(spoofed.status(), Status::TooManyRequests);
    let other = app
        .post_from(from_proxy, &forwarded("203.0.113.10"), "/login", &bob)
        .await;
    assert_eq!(other.status(), Status::SeeOther);
    assert_eq!(location(&other), Some("/secrets"));
}

#[tokio::test]
async fn unusable_throttle_settings_stop_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let base = crate::common::figment(dir.path(), "sqlite::memory:");
    for bad in [
        base.clone().merge(("login_throttle.account_limit", 0)),
        base.clone().merge(("login_throttle.max_lockout", 1)),
        base.clone().merge(("trusted_proxies", ["not an address"])),
    ] {
        let error = auth_web::build(bad, std::sync::Arc::new(auth_core::SystemClock)).unwrap_err();
        let message = error.to_string();
        assert!(
            message.contains("login_throttle") || message.contains("trusted_proxies"),
            "{message}"
        );
    }
}

#[tokio::test]
async fn registrations_are_limited_per_address_with_429_and_retry_after() {
    let app = app_with(tempfile::tempdir().unwrap(), |f| {
        f.merge(("registration_throttle.limit", 2))
    })
    .await;
    let register = |email: &'static str, remote: &'static str| {
        let app = &app;
        async move {
            let response = app
                .post_from(
                    remote,
                    &[],
                    "/register",
                    &[("email", email), ("name", "Someone"), ("password", RIGHT)],
                )
                .await;
            let status = response.status();
            let retry_after = response.headers().get_one("Retry-After").map(str::to_owned);
            let html = response.into_string().await.unwrap_or_default();
            (status, retry_after, html)
        }
    };
    for email in ["a@example.com", "b@example.com"] {
        let (status, _, _) = register(email, "192.0.2.1:4000").await;
        assert_eq!(status, Status::SeeOther, "{email} registers");
        app.logout().await;
    }
    let (status, retry_after, html) = register("c@example.com", "192.0.2.1:4000").await;
    assert_eq!(status, Status::TooManyRequests);
    assert_eq!(retry_after.as_deref(), Some("3600"));
    assert!(
        html.contains(
            "Too many accounts have been created from your network. For your security, \
             registering is paused: try again in 60 minutes."
        ),
        "{html}"
    );
    refused_keeping(&app, &html, "c@example.com").await;

    let (status, _, _) = register("c@example.com", "198.51.100.7:4000").await;
    assert_eq!(status, Status::SeeOther, "another address is not limited");
    app.logout().await;
    app.clock.advance(Duration::hours(1));
    let (status, _, _) = register("d@example.com", "192.0.2.1:4000").await;
    assert_eq!(status, Status::SeeOther, "a new hour, a new window");
}
