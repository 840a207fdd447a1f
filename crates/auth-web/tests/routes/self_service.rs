//! Remember me, sessions one by one, and the password asked for again
//! before a sensitive page: with the app's clock moved by the test.

use auth_core::time::Duration;
use rocket::http::Status;
use rocket::local::asynchronous::Client;

use crate::common::{expect_page, location, logged_in, post_with, token_on, TestApp};

const RIGHT: &str = "analytical engine";
const FIREFOX: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0";
const PHONE: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 \
                     (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36";

async fn status_of(browser: &Client, uri: &str) -> Status {
    browser.get(uri.to_owned()).dispatch().await.status()
}

/// The handle each listed session's "log out" button posts, in page order
/// (the current session has a badge instead of a button).
fn handles(account_page: &str) -> Vec<String> {
    account_page
        .split(r#"name="session" value=""#)
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn a_remembered_session_outlives_the_ordinary_limits_and_still_ends_at_logout() {
    let app = logged_in("Ada").await;
    let remembered = app
        .other_browser_with("ada@example.com", RIGHT, None, &[("remember", "on")])
        .await;
    let ordinary = app.other_browser("ada@example.com", RIGHT).await;

    // A day of quiet: past the ordinary 30-minute idle timeout and the
    // 12-hour absolute one, well within the remembered 7 and 30 days.
    app.clock.advance(Duration::days(1));
    assert_eq!(status_of(&ordinary, "/secrets").await, Status::SeeOther);
    assert_eq!(status_of(&remembered, "/secrets").await, Status::Ok);
    let html = remembered
        .get("/account")
        .dispatch()
        .await
        .into_string()
        .await
        .unwrap();
    assert!(html.contains(", remembered"), "{html}");

    // A week and a day without use ends it too.
    app.clock.advance(Duration::days(8));
    assert_eq!(status_of(&remembered, "/secrets").await, Status::SeeOther);

    // A fresh one ends at logout like any other, on every instance.
    let remembered = app
        .other_browser_with("ada@example.com", RIGHT, None, &[("remember", "on")])
        .await;
    let token = token_on(&remembered, "/login").await;
    let out = post_with(&remembered, "/logout", &token, &[]).await;
    assert_eq!(out.status(), Status::SeeOther);
    drop(out);
    assert_eq!(status_of(&remembered, "/secrets").await, Status::SeeOther);

    // ... and at "log out all other sessions".
    let remembered = app
        .other_browser_with("ada@example.com", RIGHT, None, &[("remember", "on")])
        .await;
    app.login("ada@example.com", RIGHT).await;
    let ended = app
        .post("/account/sessions", "/account", &[("password", RIGHT)])
        .await;
    assert_eq!(location(&ended), Some("/account"));
    assert_eq!(status_of(&remembered, "/secrets").await, Status::SeeOther);
}

#[tokio::test]
async fn each_session_is_listed_with_its_device_and_can_be_logged_out_alone() {
    let app = logged_in("Ada").await;
    let firefox = app
        .other_browser_with("ada@example.com", RIGHT, Some(FIREFOX), &[])
        .await;
    let phone = app
        .other_browser_with("ada@example.com", RIGHT, Some(PHONE), &[])
        .await;
    let page = app.page("/account").await;
    assert!(page.contains("Firefox on Windows 10"), "{page}");
    assert!(page.contains("Chrome on Android"), "{page}");
    assert_eq!(page.matches("This device").count(), 1);
    let buttons = handles(&page);
    assert_eq!(buttons.len(), 2, "one button per other session: {page}");

    // Which button is Firefox's: the one in the row that names it.
    let firefox_row = page
        .split("<tr>")
        .find(|row| row.contains("Firefox on Windows 10"))
        .unwrap();
    let firefox_handle = handles(firefox_row).pop().unwrap();
    let ended = app
        .post(
            "/account/sessions/end",
            "/account",
            &[("session", firefox_handle.as_str())],
        )
        .await;
    assert_eq!(location(&ended), Some("/account#sessions"));
    drop(ended);
    assert_eq!(status_of(&firefox, "/secrets").await, Status::SeeOther);
    assert_eq!(status_of(&phone, "/secrets").await, Status::Ok);
    let (status, page) = app.get("/account").await;
    assert_eq!(status, Status::Ok, "this browser stays in");
    assert!(page.contains("That session has been logged out."));
    assert!(!page.contains("Firefox on Windows 10"));

    // The same button again, a made-up handle: nothing more ends.
    for handle in [firefox_handle.as_str(), "0123456789abcdef0123456789abcdef"] {
        let again = app
            .post("/account/sessions/end", "/account", &[("session", handle)])
            .await;
        assert_eq!(location(&again), Some("/account#sessions"));
    }
    let page = app.page("/account").await;
    assert!(page.contains("That session had already ended."));
    assert_eq!(status_of(&phone, "/secrets").await, Status::Ok);

    let history = app.page("/account/history").await;
    assert_eq!(history.matches("Another session logged out").count(), 1);
    assert!(history.contains("Chrome on Android"), "{history}");
}

#[tokio::test]
async fn a_session_cannot_log_out_another_accounts_session() {
    let app = logged_in("Ada").await;
    let _ada_phone = app
        .other_browser_with("ada@example.com", RIGHT, Some(PHONE), &[])
        .await;
    let ada_handles = handles(&app.page("/account").await);
    assert_eq!(ada_handles.len(), 1);

    let bob = TestApp::sharing(&app).await;
    bob.register("bob@example.com", "Bob", "difference engine")
        .await;
    let refused = bob
        .post(
            "/account/sessions/end",
            "/account",
            &[("session", ada_handles[0].as_str())],
        )
        .await;
    assert_eq!(location(&refused), Some("/account#sessions"));
    drop(refused);
    assert!(bob
        .page("/account")
        .await
        .contains("That session had already ended."));
    assert_eq!(handles(&app.page("/account").await), ada_handles);

    // Without the form's CSRF token, nothing is even tried.
    let forged = app
        .client
        .post("/account/sessions/end")
        .header(rocket::http::ContentType::Form)
        .body(format!("session={}", ada_handles[0]))
        .dispatch()
        .await;
    assert_eq!(forged.status(), Status::Forbidden);
}

#[tokio::test]
async fn a_stale_session_enters_the_password_again_before_the_export() {
    let app = logged_in("Ada").await;
    assert_eq!(app.get("/account/export").await.0, Status::Ok, "fresh");

    app.clock.advance(Duration::minutes(11));
    let asked = app.client.get("/account/export").dispatch().await;
    assert_eq!(
        location(&asked),
        Some("/account/confirm?next=%2Faccount%2Fexport")
    );
    drop(asked);
    let page = app.page("/account/confirm?next=%2Faccount%2Fexport").await;
    assert!(page.contains("Please enter your password again to continue."));
    assert!(page.contains("Confirm it"), "{page}");

    let wrong = app
        .post(
            "/account/confirm",
            "/account/confirm",
            &[("password", "guess"), ("next", "/account/export")],
        )
        .await;
    expect_page(wrong, Status::Unauthorized, "That is not your password.").await;
    assert_eq!(
        location(&app.client.get("/account/export").dispatch().await),
        Some("/account/confirm?next=%2Faccount%2Fexport"),
        "a wrong password confirms nothing"
    );

    let right = app
        .post(
            "/account/confirm",
            "/account/confirm",
            &[("password", RIGHT), ("next", "/account/export")],
        )
        .await;
    assert_eq!(location(&right), Some("/account/export"));
    drop(right);
    assert_eq!(app.get("/account/export").await.0, Status::Ok);

    // An unsafe `next` is dropped: the account page instead.
    app.clock.advance(Duration::minutes(11));
    let elsewhere = app
        .post(
            "/account/confirm",
            "/account/confirm",
            &[("password", RIGHT), ("next", "//evil.example/")],
        )
        .await;
    assert_eq!(location(&elsewhere), Some("/account"));
    drop(elsewhere);

    let history = app.page("/account/history").await;
    assert!(
        history.contains("Failed login: wrong password"),
        "{history}"
    );
}

#[tokio::test]
async fn confirming_the_password_is_throttled_like_a_login() {
    let app = logged_in("Ada").await;
    for _ in 0..5 {
        let wrong = app
            .post(
                "/account/confirm",
                "/account/confirm",
                &[("password", "guess"), ("next", "")],
            )
            .await;
        assert_eq!(wrong.status(), Status::Unauthorized);
    }
    let locked = app
        .post(
            "/account/confirm",
            "/account/confirm",
            &[("password", RIGHT), ("next", "")],
        )
        .await;
    assert_eq!(locked.status(), Status::TooManyRequests);
}

/// Posts a form from `browser` with Firefox's `User-Agent`.
async fn post_as_firefox(browser: &Client, uri: &str, fields: &[(&str, &str)]) -> Status {
    let token = token_on(browser, "/account").await;
    let mut fields = fields.to_vec();
    fields.push(("csrf_token", &token));
    browser
        .post(uri.to_owned())
        .header(rocket::http::ContentType::Form)
        .header(rocket::http::Header::new("User-Agent", FIREFOX))
        .body(crate::common::form_body(&fields))
        .dispatch()
        .await
        .status()
}

#[tokio::test]
async fn the_history_records_each_action_with_its_device() {
    let app = logged_in("Ada").await;
    let firefox = app
        .other_browser_with("ada@example.com", RIGHT, Some(FIREFOX), &[])
        .await;
    let changed = post_as_firefox(
        &firefox,
        "/account/password",
        &[
            ("current_password", RIGHT),
            ("new_password", "difference engine"),
        ],
    )
    .await;
    assert_eq!(changed, Status::SeeOther);
    assert_eq!(
        post_as_firefox(&firefox, "/logout", &[]).await,
        Status::SeeOther
    );

    app.login("ada@example.com", "difference engine").await;
    let history = app.page("/account/history").await;
    let rows: Vec<&str> = history.split("<tr").skip(2).collect();
    let row_of = |what: &str| {
        rows.iter()
            .find(|row| row.contains(what))
            .unwrap_or_else(|| panic!("no {what:?} in {history}"))
            .to_string()
    };
    assert!(row_of("Password changed").contains("Firefox on Windows 10"));
    assert!(row_of("Logged out").contains("Firefox on Windows 10"));

    let export: serde_json::Value =
        serde_json::from_str(&app.get("/account/export").await.1).unwrap();
    let kinds: Vec<&str> = export["account"]["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["login", "logout", "password_changed", "login", "registered"]
    );
    let with_device = export["account"]["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["device"] == "Firefox on Windows 10")
        .count();
    assert_eq!(with_device, 3, "the login, the change and the logout");
    let sessions = export["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 1, "the password change ended the rest");
    assert!(sessions[0].get("device").is_some());
}
