use auth_core::{Email, PasswordHash, UserStore};
use auth_store::{PoolOptions, Store};
use rocket::http::Status;

use crate::common::{expect_page, location, logged_in, TestApp};

async fn with_ada() -> TestApp {
    let app = logged_in("Ada").await;
    app.logout().await;
    app
}

#[tokio::test]
async fn login_goes_to_the_secrets() {
    let app = with_ada().await;
    let response = app.login("ADA@example.com", "analytical engine").await;
    assert_eq!(response.status(), Status::SeeOther);
    assert_eq!(location(&response), Some("/secrets"));
    assert_eq!(app.get("/secrets").await.0, Status::Ok);
}

#[tokio::test]
async fn unknown_email_and_wrong_password_get_the_same_answer() {
    let app = with_ada().await;
    let wrong = app.login("ada@example.com", "wrong password").await;
    assert_eq!(wrong.status(), Status::Unauthorized);
    let wrong = wrong.into_string().await.unwrap();
    let unknown = app.login("nobody@example.com", "wrong password").await;
    assert_eq!(unknown.status(), Status::Unauthorized);
    let unknown = unknown.into_string().await.unwrap();
    let message = "Invalid email or password. Please try again.";
    assert!(wrong.contains(message) && unknown.contains(message));
    // The pages differ only in the email typed and the CSRF token.
    let strip = |html: &str, email: &str| {
        let token = crate::common::csrf(html);
        html.replace(&token, "").replace(email, "")
    };
    assert_eq!(
        strip(&wrong, "ada@example.com"),
        strip(&unknown, "nobody@example.com")
    );
    assert!(wrong.contains(r#"value="ada@example.com""#));
    assert!(!wrong.contains("wrong password"));
}

#[tokio::test]
async fn blank_fields_ask_for_both() {
    let app = with_ada().await;
    let response = app.post("/login", "/login", &[]).await;
    expect_page(
        response,
        Status::UnprocessableEntity,
        "Enter your email and password.",
    )
    .await;
}

#[tokio::test]
async fn a_local_next_is_followed_after_login() {
    let app = with_ada().await;
    let response = app
        .post(
            "/login",
            "/login?next=/account",
            &[
                ("email", "ada@example.com"),
                ("password", "analytical engine"),
                ("next", "/account?from=test"),
            ],
        )
        .await;
    assert_eq!(location(&response), Some("/account?from=test"));
}

#[tokio::test]
async fn an_off_site_next_is_never_followed() {
    let app = with_ada().await;
    for next in [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
        "http:evil.example",
        "javascript:alert(1)",
    ] {
        let (_, page) = app
            .get(&format!(
                "/login?next={}",
                crate::common::form_body(&[("x", next)])[2..].to_owned()
            ))
            .await;
        assert!(!page.contains("evil.example"), "{next} reached the page");
        let response = app
            .post(
                "/login",
                "/login",
                &[
                    ("email", "ada@example.com"),
                    ("password", "analytical engine"),
                    ("next", next),
                ],
            )
            .await;
        assert_eq!(location(&response), Some("/secrets"), "{next}");
        app.logout().await;
    }
}

#[tokio::test]
async fn each_login_issues_a_new_session_and_ends_the_previous_one() {
    let app = with_ada().await;
    app.login("ada@example.com", "analytical engine").await;
    let first = app.session_cookie().unwrap();
    app.login("ada@example.com", "analytical engine").await;
    let second = app.session_cookie().unwrap();
    assert_ne!(first.value(), second.value());
    assert_eq!(app.replay("/secrets", second).await, Status::Ok);
    assert_eq!(
        app.replay("/secrets", first).await,
        Status::SeeOther,
        "the replaced session is gone"
    );
}

/// An account whose hash predates the pre-hash (plain bcrypt, as earlier
/// releases stored it) still logs in, and that login replaces the hash.
#[tokio::test]
async fn a_plain_bcrypt_hash_logs_in_and_is_upgraded() {
    let app = with_ada().await;
    let url: String = app.figment.extract_inner("databases.auth.url").unwrap();
    let store = Store::connect(&url, &PoolOptions::default()).await.unwrap();
    let ada = Email::parse("ada@example.com").unwrap();
    let id = store.find_credentials(&ada).await.unwrap().unwrap().user.id;
    let plain = PasswordHash::new(bcrypt::hash("analytical engine", 4).unwrap());
    store.update_password_hash(id, &plain).await.unwrap();

    let response = app.login("ada@example.com", "analytical engine").await;
    assert_eq!(
        location(&response),
        Some("/secrets"),
        "the old hash verifies"
    );
    let upgraded = store.find_credentials(&ada).await.unwrap().unwrap();
    let format = upgraded.password_hash.as_str().split('$').nth(1);
    assert_eq!(format, Some("bcrypt-sha256"), "upgraded at login");
    store.close().await;
}
