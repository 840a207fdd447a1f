use rocket::http::Status;

use rocket::http::{ContentType, Cookie};

use crate::common::{app, csrf, form_body, location, logged_in, named, set_cookies};

#[tokio::test]
async fn anonymous_home_offers_login_and_register() {
    let app = app().await;
    let html = app.page("/").await;
    assert!(html.contains(r#"href="/login""#));
    assert!(html.contains(r#"href="/register""#));
    assert!(!html.contains("(You are already logged in)"));
    assert!(!html.contains(r#"action="/logout""#));
}

#[tokio::test]
async fn logged_in_home_says_so_and_shows_name_and_logout() {
    let app = logged_in("Ada Lovelace").await;
    let html = app.page("/").await;
    assert!(html.contains("(You are already logged in)"));
    assert!(html.contains("Ada Lovelace"));
    assert!(html.contains(r#"<form method="post" action="/logout""#));
    assert!(!html.contains(r#"href="/register""#));
}

#[tokio::test]
async fn unknown_pages_get_a_404_in_the_layout() {
    let app = app().await;
    let (status, html) = app.get("/no/such/page").await;
    assert_eq!(status, Status::NotFound);
    assert!(html.contains("Page not found"));
    assert!(html.contains(r#"class="site-header""#));
}

#[tokio::test]
async fn healthz_answers_without_a_session() {
    let app = app().await;
    assert_eq!(app.get("/healthz").await, (Status::Ok, "ok".to_owned()));
}

#[tokio::test]
async fn asset_urls_are_versioned_and_the_current_page_is_marked() {
    let app = app().await;
    let (_, html) = app.get("/login").await;
    let marker = "/static/style.css?v=";
    let start = html.find(marker).expect("a versioned stylesheet") + marker.len();
    let version = &html[start..start + 10];
    assert!(version.bytes().all(|b| b.is_ascii_hexdigit()), "{version}");
    let (status, css) = app.get(&format!("{marker}{version}")).await;
    assert_eq!(status, Status::Ok);
    assert!(!css.is_empty());
    assert!(html.contains(r#"<a href="/login" aria-current="page">"#));
    assert!(!html.contains(r#"<a href="/register" aria-current="page""#));
}

/// The pages a reverse proxy shows for errors it answers itself.
#[tokio::test]
async fn error_pages_for_the_proxy_keep_their_status() {
    let app = crate::common::app().await;
    let (status, html) = app.get("/errors/414").await;
    assert_eq!(status, rocket::http::Status::UriTooLong);
    assert!(
        html.contains("Address too long") && html.contains("<nav"),
        "{html}"
    );
    assert_eq!(
        app.get("/errors/200").await.0,
        rocket::http::Status::NotFound
    );
    assert_eq!(app.get("/errors/x").await.0, rocket::http::Status::NotFound);
}

/// A page with no form of its own makes no CSRF secret for an anonymous
/// visitor: no cookie at all. The login form still gets one, and a
/// logged-in visitor's home and members' pages a token their logout
/// button posts with.
#[tokio::test]
async fn pages_without_forms_set_no_cookie_for_anonymous_visitors() {
    let app = app().await;
    for uri in ["/", "/no/such/page", "/errors/414"] {
        let response = app.client.get(uri).dispatch().await;
        let cookies = set_cookies(&response);
        assert!(cookies.is_empty(), "GET {uri} set {cookies:?}");
    }
    let response = app.client.get("/login").dispatch().await;
    named(&set_cookies(&response), "csrf");

    for page in ["/", "/secrets"] {
        let app = logged_in("Ada").await;
        let response = app.post("/logout", page, &[]).await;
        assert_eq!(response.status(), Status::SeeOther, "logout from {page}");
        assert_eq!(location(&response), Some("/"));
        assert_eq!(app.get("/secrets").await.0, Status::SeeOther);
    }
}

/// The CSRF cookie lasts a week and a remembered session longer: a
/// logged-in visitor who has no CSRF cookie gets one with the home page, and
/// its logout button works.
#[tokio::test]
async fn a_logged_in_visitor_without_a_csrf_cookie_gets_one_on_the_home_page() {
    let app = logged_in("Ada").await;
    let session = app.session_cookie().expect("a session cookie");
    let client = app.replay_client().await;
    let response = client.get("/").cookie(session.clone()).dispatch().await;
    let cookies = set_cookies(&response);
    let secret = Cookie::parse_encoded(named(&cookies, "csrf").to_owned()).unwrap();
    let html = response.into_string().await.unwrap();
    assert!(html.contains(r#"action="/logout""#));
    let response = client
        .post("/logout")
        .cookie(session.clone())
        .cookie(secret)
        .header(ContentType::Form)
        .body(form_body(&[("csrf_token", &csrf(&html))]))
        .dispatch()
        .await;
    assert_eq!(response.status(), Status::SeeOther);
    assert_eq!(app.replay("/secrets", session).await, Status::SeeOther);
}
