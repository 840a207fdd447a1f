use rocket::http::{ContentType, Header, Status};

use crate::common::{app, form_body, location, logged_in, named, set_cookies};

/// A forged post (no token, a wrong token, a token from another browser,
/// or a cross-site origin with a valid token) is refused with the 403 page
/// and changes nothing.
#[tokio::test]
async fn forged_posts_are_refused_and_change_nothing() {
    let app = logged_in("Ada").await;
    let other_browser = app.replay_client().await;
    let foreign_token = crate::common::token_on(&other_browser, "/register").await;
    let valid_token = app.token_from("/register").await;
    let forms: [(&str, Vec<(&str, &str)>); 5] = [
        (
            "/register",
            vec![
                ("email", "eve@example.com"),
                ("name", "Eve"),
                ("password", "analytical engine"),
            ],
        ),
        (
            "/login",
            vec![
                ("email", "ada@example.com"),
                ("password", "analytical engine"),
            ],
        ),
        ("/logout", vec![]),
        (
            "/account/password",
            vec![
                ("current_password", "analytical engine"),
                ("new_password", "hijacked password"),
            ],
        ),
        ("/account/sessions", vec![("password", "analytical engine")]),
    ];
    for (uri, fields) in &forms {
        let cross_site = [
            ("cross-site origin", "Origin", "http://evil.example"),
            ("cross-site fetch", "Sec-Fetch-Site", "cross-site"),
            ("sibling subdomain", "Sec-Fetch-Site", "same-site"),
            ("opaque origin", "Origin", "null"),
        ];
        let mut forgeries: Vec<(&str, Option<&str>, Vec<Header<'static>>)> = vec![
            ("no token", None, vec![]),
            ("wrong token", Some("AAAA"), vec![]),
            ("another browser's token", Some(&foreign_token), vec![]),
        ];
        for (what, name, value) in cross_site {
            forgeries.push((what, Some(&valid_token), vec![Header::new(name, value)]));
        }
        for (what, token, headers) in forgeries {
            let mut all = fields.clone();
            if let Some(token) = token {
                all.push(("csrf_token", token));
            }
            let mut request = app
                .client
                .post(*uri)
                .header(ContentType::Form)
                .body(form_body(&all));
            for header in headers {
                request = request.header(header);
            }
            let response = request.dispatch().await;
            assert_eq!(response.status(), Status::Forbidden, "{uri}: {what}");
            let html = response.into_string().await.unwrap();
            assert!(html.contains("reload the page"), "{uri}: {what}");
        }
    }
    // Nothing changed: Eve has no account, Ada is still logged in and her
    // password is unchanged.
    assert_eq!(app.get("/secrets").await.0, Status::Ok);
    app.logout().await;
    assert_eq!(
        location(&app.login("ada@example.com", "analytical engine").await),
        Some("/secrets")
    );
    assert_eq!(
        location(&app.login("eve@example.com", "analytical engine").await),
        None
    );
}

#[tokio::test]
async fn same_origin_posts_with_a_token_pass() {
    let app = app().await;
    let token = app.token_from("/register").await;
    let mut request = app.client.post("/register");
    // The real server reads the host from the Host header; the local client
    // needs it set directly.
    request
        .inner_mut()
        .set_host(rocket::http::uri::Host::parse("localhost:8000").unwrap());
    let response = request
        .header(ContentType::Form)
        .header(Header::new("Origin", "http://localhost:8000"))
        .header(Header::new("Sec-Fetch-Site", "same-origin"))
        .body(form_body(&[
            ("email", "ada@example.com"),
            ("name", "Ada"),
            ("password", "analytical engine"),
            ("csrf_token", &token),
        ]))
        .dispatch()
        .await;
    assert_eq!(response.status(), Status::SeeOther);
    assert_eq!(location(&response), Some("/secrets"));
}

#[tokio::test]
async fn login_and_logout_rotate_the_csrf_secret() {
    let app = app().await;
    let before = app.token_from("/login").await;
    app.register_ada().await;
    let response = app
        .client
        .post("/logout")
        .header(ContentType::Form)
        .body(form_body(&[("csrf_token", &before)]))
        .dispatch()
        .await;
    assert_eq!(
        response.status(),
        Status::Forbidden,
        "a token from before login no longer posts"
    );
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = logged_in("Ada").await;
    for path in [
        "/",
        "/login",
        "/secrets",
        "/download",
        "/nope",
        "/static/style.css",
    ] {
        let response = app.client.get(path).dispatch().await;
        let h = response.headers();
        let csp = h.get_one("Content-Security-Policy").unwrap_or_default();
        assert!(csp.contains("default-src 'none'"), "{path}");
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "{path}"
        );
        assert!(csp.contains("frame-ancestors 'none'"), "{path}");
        assert_eq!(
            h.get_one("X-Content-Type-Options"),
            Some("nosniff"),
            "{path}"
        );
        assert_eq!(h.get_one("X-Frame-Options"), Some("DENY"), "{path}");
        assert_eq!(h.get_one("Referrer-Policy"), Some("same-origin"), "{path}");
        assert_eq!(
            h.get_one("Server"),
            None,
            "{path}: the stack is not advertised"
        );
        let cache = h.get_one("Cache-Control");
        if path.starts_with("/static/") {
            assert_ne!(cache, Some("no-store"));
        } else {
            assert_eq!(cache, Some("no-store"), "{path}");
        }
    }
}

#[tokio::test]
async fn the_session_cookie_is_private_http_only_and_lax() {
    let app = app().await;
    let response = app.register_ada().await;
    let cookies = set_cookies(&response);
    let session = named(&cookies, "session");
    assert!(session.contains("HttpOnly"), "{session}");
    assert!(session.contains("SameSite=Lax"), "{session}");
    assert!(session.contains("Path=/"), "{session}");
    assert!(
        !session.contains("Max-Age") && !session.contains("Expires"),
        "a browser-session cookie unless remembered: {session}"
    );
    assert!(
        !session.contains("Secure"),
        "not over plain HTTP by default"
    );
    // The value is sealed with the secret key, not the raw 43-character token.
    let value = session
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("session=");
    assert!(value.len() > 60, "{value}");
}

#[tokio::test]
async fn secure_cookies_use_the_host_prefix_and_hsts() {
    let app = crate::common::app_with(tempfile::tempdir().unwrap(), |f| {
        f.merge(("secure_cookies", true))
    })
    .await;
    let response = app.register_ada().await;
    let cookies = set_cookies(&response);
    let session = named(&cookies, "__Host-session");
    assert!(session.contains("Secure") && session.contains("Path=/"));
    assert!(!session.contains("Domain="));
    let (_, _) = app.get("/").await;
    let response = app.client.get("/").dispatch().await;
    assert!(response
        .headers()
        .get_one("Strict-Transport-Security")
        .is_some());
}

#[tokio::test]
async fn the_session_token_never_appears_in_a_url_or_a_page() {
    let app = app().await;
    let registered = app.register_ada().await;
    let redirect = location(&registered).unwrap_or_default().to_owned();
    drop(registered);
    let token = app
        .client
        .cookies()
        .get_private("session")
        .expect("the sealed cookie opens with the app's key")
        .value()
        .to_owned();
    assert_eq!(token.len(), 43, "the raw token");
    assert!(!redirect.contains(&token));
    for path in [
        "/",
        "/secrets",
        "/account",
        "/logout",
        "/login?next=%2Fsecrets",
    ] {
        let response = app.client.get(path).dispatch().await;
        let location = response
            .headers()
            .get_one("Location")
            .unwrap_or_default()
            .to_owned();
        let body = response.into_string().await.unwrap_or_default();
        assert!(
            !location.contains(&token) && !body.contains(&token),
            "{path}"
        );
    }
    let session_cookie = app.session_cookie().unwrap();
    assert!(
        !session_cookie.value().contains(&token),
        "sealed, not plain"
    );
}

#[tokio::test]
async fn only_static_files_actually_served_are_publicly_cacheable() {
    let app = logged_in("Ada").await;
    let served = app.client.get("/static/style.css").dispatch().await;
    assert_eq!(served.status(), Status::Ok);
    assert_eq!(
        served.headers().get_one("Cache-Control"),
        Some("public, max-age=3600")
    );
    for missing in [
        "/static/nope.css",
        "/static/files/cheat_sheet.pdf",
        "/static/",
    ] {
        let response = app.client.get(missing).dispatch().await;
        assert_eq!(response.status(), Status::NotFound, "{missing}");
        assert_eq!(
            response.headers().get_one("Cache-Control"),
            Some("no-store"),
            "{missing}: an error page carries the visitor's name and CSRF token"
        );
        let html = response.into_string().await.unwrap();
        assert!(
            html.contains("Ada"),
            "{missing}: rendered for the logged-in user"
        );
    }
}
