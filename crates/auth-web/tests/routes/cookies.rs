//! Every cookie the site sets, and every removal, carries the same
//! attributes: HttpOnly, SameSite=Lax, Path=/, and Secure with the __Host-
//! prefix in secure mode.

use crate::common::{app, app_with, logged_in, named, set_cookies, TestApp};

fn attributes(cookie: &str) -> Vec<String> {
    cookie
        .split(';')
        .skip(1)
        .map(|a| a.trim().to_owned())
        .collect()
}

fn assert_site_attributes(cookie: &str, secure: bool) {
    let attributes = attributes(cookie);
    for wanted in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(
            attributes.iter().any(|a| a == wanted),
            "{wanted} missing from {cookie}"
        );
    }
    assert_eq!(
        attributes.iter().any(|a| a == "Secure"),
        secure,
        "Secure in {cookie}"
    );
    assert!(!cookie.contains("Domain="), "{cookie}");
}

async fn secure_app() -> TestApp {
    app_with(tempfile::tempdir().unwrap(), |f| {
        f.merge(("secure_cookies", true))
    })
    .await
}

#[tokio::test]
async fn the_flash_cookie_is_http_only_and_lax_over_http() {
    let app = app().await;
    let cookies = app.register_ada_cookies().await;
    let flash = named(&cookies, "flash");
    assert_site_attributes(flash, false);
    assert!(
        attributes(flash).iter().any(|a| a == "Max-Age=300"),
        "{flash}"
    );
    let html = app.page("/secrets").await;
    assert!(html.contains("Your account has been created"), "shown once");
    let (_, html) = app.get("/secrets").await;
    assert!(
        !html.contains("Your account has been created"),
        "and only once"
    );
}

#[tokio::test]
async fn in_secure_mode_the_flash_cookie_is_secure_with_the_host_prefix() {
    let app = secure_app().await;
    let cookies = app.register_ada_cookies().await;
    assert_site_attributes(named(&cookies, "__Host-flash"), true);
    let response = app.client.get("/secrets").dispatch().await;
    let cookies = set_cookies(&response);
    let removal = named(&cookies, "__Host-flash");
    assert_site_attributes(removal, true);
    assert!(removal.contains("Max-Age=0"), "{removal}");
    let html = response.into_string().await.unwrap();
    assert!(html.contains("Your account has been created"));
}

#[tokio::test]
async fn in_secure_mode_logout_removes_the_session_cookie_with_its_attributes() {
    let app = secure_app().await;
    let cookies = app.register_ada_cookies().await;
    assert_site_attributes(named(&cookies, "__Host-session"), true);
    assert_site_attributes(named(&cookies, "__Host-csrf"), true);
    let response = app.logout().await;
    let cookies = set_cookies(&response);
    let removal = named(&cookies, "__Host-session");
    assert_site_attributes(removal, true);
    assert!(
        removal.contains("Max-Age=0") || removal.contains("Expires="),
        "a removal: {removal}"
    );
    assert_site_attributes(named(&cookies, "__Host-csrf"), true);
}

#[tokio::test]
async fn over_http_logout_removes_the_session_cookie_with_its_attributes() {
    let app = logged_in("Ada").await;
    let response = app.logout().await;
    let cookies = set_cookies(&response);
    let removal = named(&cookies, "session");
    assert_site_attributes(removal, false);
    assert!(removal.contains("Max-Age=0"), "{removal}");
}

/// Without "remember me" the session cookie is a browser-session cookie:
/// neither `Max-Age` nor `Expires` (not even Rocket's default of a week).
#[tokio::test]
async fn without_remember_me_the_session_cookie_ends_with_the_browser() {
    let app = app().await;
    let cookies = app.register_ada_cookies().await;
    let session = named(&cookies, "session");
    assert_site_attributes(session, false);
    assert!(!session.contains("Max-Age"), "{session}");
    assert!(!session.contains("Expires"), "{session}");
    app.logout().await;
    let cookies = set_cookies(&app.login("ada@example.com", "analytical engine").await);
    let session = named(&cookies, "session");
    assert!(
        !session.contains("Max-Age") && !session.contains("Expires"),
        "{session}"
    );
}

/// With "remember me", `Expires` and `Max-Age` give the same end, the
/// remembered session's own (30 days): the app's clock is moved five days
/// ahead of the real one, so neither the real time nor Rocket's default of
/// a week from it would match.
#[tokio::test]
async fn with_remember_me_the_session_cookie_expires_with_the_session() {
    use auth_core::time::Duration;
    use auth_core::Clock as _;
    let app = app().await;
    app.register_ada().await;
    app.logout().await;
    app.clock.advance(Duration::days(5));
    let logged_in_at = app.clock.now().replace_nanosecond(0).unwrap();
    let response = app
        .post(
            "/login",
            "/login",
            &[
                ("email", "ada@example.com"),
                ("password", "analytical engine"),
                ("remember", "on"),
            ],
        )
        .await;
    let cookies = set_cookies(&response);
    let raw = named(&cookies, "session");
    assert_site_attributes(raw, false);
    let session = rocket::http::Cookie::parse(raw.to_owned()).unwrap();
    let max_age = session.max_age().expect("a Max-Age");
    assert_eq!(max_age, Duration::days(30));
    let expires = session.expires_datetime().expect("an Expires");
    assert_eq!(expires, logged_in_at + max_age, "{session}");
}
