use auth_core::time::Duration;
use rocket::http::Status;

use crate::common::{client, database_url, expect_page, figment, logged_in, post_with, token_on};

#[tokio::test]
async fn a_session_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let clock = auth_core::ManualClock::starting_now();
    let url = database_url(dir.path()).await;
    let cookie = {
        let first = client(figment(dir.path(), &url), &clock).await;
        let token = token_on(&first, "/register").await;
        let fields = [
            ("email", "ada@example.com"),
            ("name", "Ada"),
            ("password", "analytical engine"),
        ];
        let response = post_with(&first, "/register", &token, &fields).await;
        assert_eq!(response.status(), Status::SeeOther);
        drop(response);
        let cookie = first.cookies().get("session").cloned().unwrap();
        first.rocket().shutdown().notify();
        cookie
    };
    assert!(dir.path().join("secret_key").exists());
    let second = rocket::local::asynchronous::Client::untracked(
        auth_web::build(figment(dir.path(), &url), std::sync::Arc::new(clock)).unwrap(),
    )
    .await
    .unwrap();
    let response = second.get("/secrets").cookie(cookie).dispatch().await;
    expect_page(response, Status::Ok, "Welcome, Ada").await;
}

#[tokio::test]
async fn an_idle_session_ends_after_the_idle_timeout() {
    let app = logged_in("Ada").await;
    app.clock.advance(Duration::minutes(29));
    assert_eq!(app.get("/secrets").await.0, Status::Ok);
    app.clock.advance(Duration::minutes(29));
    assert_eq!(
        app.get("/secrets").await.0,
        Status::Ok,
        "use keeps it alive"
    );
    app.clock.advance(Duration::minutes(31));
    assert_eq!(app.get("/secrets").await.0, Status::SeeOther);
}

#[tokio::test]
async fn a_busy_session_ends_at_the_absolute_timeout() {
    let app = logged_in("Ada").await;
    for _ in 0..(12 * 4 - 1) {
        app.clock.advance(Duration::minutes(15));
        assert_eq!(app.get("/secrets").await.0, Status::Ok);
    }
    app.clock.advance(Duration::minutes(15));
    assert_eq!(app.get("/secrets").await.0, Status::SeeOther);
}

#[tokio::test]
async fn timeouts_come_from_the_configuration() {
    let app = crate::common::app_with(tempfile::tempdir().unwrap(), |f| {
        f.merge(("session_idle_timeout", 60))
    })
    .await;
    app.register_ada().await;
    app.clock.advance(Duration::seconds(61));
    assert_eq!(app.get("/secrets").await.0, Status::SeeOther);
}

#[tokio::test]
async fn a_database_failure_is_a_503_page() {
    let app = logged_in("Ada").await;
    let token = app.token_from("/login").await;
    let auth = app.auth();
    auth.store().close().await;
    for path in ["/secrets", "/"] {
        let (status, html) = app.get(path).await;
        assert_eq!(status, Status::ServiceUnavailable, "{path}");
        assert!(html.contains("Temporarily unavailable"), "{path}");
    }
    let body = crate::common::form_body(&[
        ("email", "ada@example.com"),
        ("password", "analytical engine"),
        ("csrf_token", &token),
    ]);
    let response = app.post_raw("/login", body).await;
    assert_eq!(response.status(), Status::ServiceUnavailable);
}
