use rocket::http::Status;
use rocket::local::asynchronous::LocalResponse;

use crate::common::{app, expect_page, location, logged_in, TestApp};

const RIGHT: &str = "analytical engine";

/// How each session of the account page's list begins.
const SESSION_ROW: &str = r#"<td><span class="device">"#;

async fn with_ada() -> TestApp {
    let app = app().await;
    app.register("ada@example.com", "Ada Lovelace", RIGHT).await;
    app
}

/// Posts the password-change form of the account page.
async fn change_password<'a>(app: &'a TestApp, current: &str, new: &str) -> LocalResponse<'a> {
    app.post(
        "/account/password",
        "/account",
        &[("current_password", current), ("new_password", new)],
    )
    .await
}

#[tokio::test]
async fn the_account_page_needs_a_login() {
    let app = app().await;
    let response = app.client.get("/account").dispatch().await;
    assert_eq!(location(&response), Some("/login?next=%2Faccount"));
    // A refused form post is not a page to come back to.
    let response = app.post("/account/password", "/login", &[]).await;
    assert_eq!(response.status(), Status::SeeOther);
    assert_eq!(location(&response), Some("/login"));
}

#[tokio::test]
async fn the_account_page_shows_the_details_and_every_session() {
    let app = with_ada().await;
    let _phone = app.other_browser("ada@example.com", RIGHT).await;
    let html = app.page("/account").await;
    assert!(html.contains("Ada Lovelace") && html.contains("ada@example.com"));
    assert_eq!(html.matches(SESSION_ROW).count(), 2, "two sessions listed");
    assert_eq!(html.matches("This device").count(), 1);
}

#[tokio::test]
async fn changing_the_password_needs_the_current_one_and_ends_other_sessions() {
    let app = with_ada().await;
    let phone = app.other_browser("ada@example.com", RIGHT).await;

    let wrong = app
        .post(
            "/account/password",
            "/account",
            &[
                ("current_password", "guess"),
                ("new_password", "difference engine"),
            ],
        )
        .await;
    expect_page(
        wrong,
        Status::Unauthorized,
        "Your current password is not correct.",
    )
    .await;

    let weak = app
        .post(
            "/account/password",
            "/account",
            &[("current_password", RIGHT), ("new_password", "password1")],
        )
        .await;
    expect_page(weak, Status::UnprocessableEntity, "most commonly used").await;

    let changed = change_password(&app, RIGHT, "difference engine").await;
    assert_eq!(location(&changed), Some("/account"));
    let (status, html) = app.get("/account").await;
    assert_eq!(status, Status::Ok, "this browser stays logged in");
    assert!(html.contains("Your password has been changed"));
    assert_eq!(
        phone.get("/secrets").dispatch().await.status(),
        Status::SeeOther,
        "the other session ended"
    );

    app.logout().await;
    assert_eq!(location(&app.login("ada@example.com", RIGHT).await), None);
    assert_eq!(
        location(&app.login("ada@example.com", "difference engine").await),
        Some("/secrets")
    );
}

#[tokio::test]
async fn other_sessions_end_after_the_password_is_entered_again() {
    let app = with_ada().await;
    let phone = app.other_browser("ada@example.com", RIGHT).await;
    let laptop = app.other_browser("ada@example.com", RIGHT).await;

    let wrong = app
        .post("/account/sessions", "/account", &[("password", "guess")])
        .await;
    expect_page(wrong, Status::Unauthorized, "Your password is not correct.").await;
    assert_eq!(phone.get("/secrets").dispatch().await.status(), Status::Ok);

    let ended = app
        .post("/account/sessions", "/account", &[("password", RIGHT)])
        .await;
    assert_eq!(location(&ended), Some("/account"));
    let (_, html) = app.get("/account").await;
    assert!(html.contains("Logged out 2 other sessions."));
    assert_eq!(html.matches(SESSION_ROW).count(), 1);
    for other in [&phone, &laptop] {
        assert_eq!(
            other.get("/secrets").dispatch().await.status(),
            Status::SeeOther
        );
    }
    assert_eq!(app.get("/secrets").await.0, Status::Ok);
}

#[tokio::test]
async fn guessing_the_password_on_the_account_page_is_throttled() {
    let app = with_ada().await;
    for _ in 0..5 {
        let response = app
            .post("/account/sessions", "/account", &[("password", "guess")])
            .await;
        assert_eq!(response.status(), Status::Unauthorized);
    }
    let response = change_password(&app, RIGHT, "difference engine").await;
    assert_eq!(response.status(), Status::TooManyRequests);
    assert!(response.headers().get_one("Retry-After").is_some());
}

#[tokio::test]
async fn failed_logins_are_counted_on_the_account_page_and_listed_in_the_history() {
    let app = logged_in("Ada").await;
    let html = app.page("/account").await;
    assert!(html.contains("None before this one"), "{html}");
    assert!(!html.contains("failed login attempt"));
    for _ in 0..2 {
        app.login("ada@example.com", "not the password").await;
    }
    app.login("ada@example.com", "analytical engine").await;
    let html = app.page("/account").await;
    assert!(
        html.contains("2 failed login attempts since your account was created."),
        "{html}"
    );
    assert!(html.contains(r#"href="/account/history""#));

    app.clock.advance(auth_core::time::Duration::minutes(2));
    app.login("ada@example.com", "analytical engine").await;
    let html = app.page("/account").await;
    assert!(
        !html.contains("failed login attempt"),
        "none since the previous login"
    );
    assert!(html.contains(" UTC from "), "the previous login: {html}");

    let history = app.page("/account/history").await;
    let rows: Vec<&str> = history
        .split("<tr")
        .skip(2)
        .map(|row| {
            [
                "Logged in",
                "Logged out",
                "Failed login: wrong password",
                "Account created",
            ]
            .into_iter()
            .find(|what| row.contains(what))
            .unwrap_or(row)
        })
        .collect();
    assert_eq!(
        rows,
        [
            "Logged in",
            "Logged in",
            "Failed login: wrong password",
            "Failed login: wrong password",
            "Account created"
        ],
        "newest first"
    );
    assert!(history.contains(r#"<tr class="warning">"#));
}

#[tokio::test]
async fn the_history_needs_a_login() {
    let app = app().await;
    let response = app.client.get("/account/history").dispatch().await;
    assert_eq!(response.status(), Status::SeeOther);
    assert_eq!(
        location(&response),
        Some("/login?next=%2Faccount%2Fhistory")
    );
}

#[tokio::test]
async fn the_export_is_the_accounts_data_as_a_json_file() {
    let app = logged_in("Ada").await;
    let _other = app
        .other_browser("ada@example.com", "analytical engine")
        .await;
    app.login("ada@example.com", "not the password").await;
    let response = app.client.get("/account/export").dispatch().await;
    assert_eq!(response.status(), Status::Ok);
    assert_eq!(
        response.content_type(),
        Some(rocket::http::ContentType::JSON)
    );
    assert_eq!(
        response.headers().get_one("Content-Disposition"),
        Some("attachment; filename=\"account.json\"")
    );
    assert_eq!(
        response.headers().get_one("Cache-Control"),
        Some("no-store")
    );
    let body = response.into_string().await.unwrap();
    assert!(!body.contains("$bcrypt"), "never a hash: {body}");
    let export: serde_json::Value = serde_json::from_str(&body).unwrap();
    let account = &export["account"];
    assert_eq!(account["email"], "ada@example.com");
    assert_eq!(account["name"], "Ada");
    assert_eq!(account["live_sessions"], 2);
    let kinds: Vec<_> = account["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["login_failed", "login", "registered"], "{body}");
    let sessions = export["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2);
    let current: Vec<_> = sessions.iter().map(|s| s["current"] == true).collect();
    assert_eq!(current.iter().filter(|c| **c).count(), 1, "{body}");
    assert!(sessions[0]["expires_at"].as_str().unwrap().ends_with('Z'));

    let anonymous = crate::common::app().await;
    let response = anonymous.client.get("/account/export").dispatch().await;
    assert_eq!(response.status(), Status::SeeOther, "a login is needed");
}

#[tokio::test]
async fn deleting_the_account_needs_the_password_and_leaves_nothing_of_it() {
    use auth_core::{Email, EventStore, SessionStore, UserStore};
    let app = logged_in("Ada").await;
    let other = app
        .other_browser("ada@example.com", "analytical engine")
        .await;
    let page = app.page("/account/delete").await;
    assert!(page.contains("cannot be undone") && page.contains("Delete my account"));
    let url: String = app.figment.extract_inner("databases.auth.url").unwrap();
    let store = auth_store::Store::connect(&url, &auth_store::PoolOptions::default())
        .await
        .unwrap();
    let email = Email::parse("ada@example.com").unwrap();
    let id = store
        .find_credentials(&email)
        .await
        .unwrap()
        .unwrap()
        .user
        .id;

    let wrong = app
        .post(
            "/account/delete",
            "/account/delete",
            &[("password", "not it")],
        )
        .await;
    expect_page(
        wrong,
        Status::Unauthorized,
        "Your password is not correct; nothing was deleted.",
    )
    .await;
    assert!(store.find_credentials(&email).await.unwrap().is_some());

    let done = app
        .post(
            "/account/delete",
            "/account/delete",
            &[("password", "analytical engine")],
        )
        .await;
    assert_eq!(done.status(), Status::SeeOther);
    assert_eq!(location(&done), Some("/"));
    let home = app.page("/").await;
    assert!(home.contains("Your account has been deleted"), "{home}");
    for client in [&app.client, &other] {
        let response = client.get("/secrets").dispatch().await;
        assert_eq!(response.status(), Status::SeeOther, "every browser is out");
    }
    assert!(store.find_credentials(&email).await.unwrap().is_none());
    assert!(store.list_user_sessions(id).await.unwrap().is_empty());
    let left: Vec<_> = store
        .list_events(id, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(left, [], "no event of the account is left");
    store.close().await;

    let again = app.register_ada().await;
    assert_eq!(
        again.status(),
        Status::SeeOther,
        "the email registers again"
    );
}
