use auth_core::{Email, UserStore};
use rocket::http::Status;

use crate::common::{app, expect_page, location, logged_in};

#[tokio::test]
async fn registration_logs_in_and_goes_to_the_secrets_with_a_flash() {
    let app = app().await;
    let response = app
        .register("Ada@Example.com", "Ada Lovelace", "analytical engine")
        .await;
    assert_eq!(response.status(), Status::SeeOther);
    assert_eq!(location(&response), Some("/secrets"));
    let html = app.page("/secrets").await;
    assert!(html.contains("Welcome, Ada Lovelace"));
    assert!(html.contains("Your account has been created."));
    let (_, again) = app.get("/secrets").await;
    assert!(
        !again.contains("Your account has been created."),
        "a flash shows once"
    );
}

#[tokio::test]
async fn a_registered_email_in_any_case_is_sent_to_login() {
    let app = logged_in("Ada").await;
    app.logout().await;
    for email in ["ada@example.com", "ADA@Example.COM", "  Ada@example.com "] {
        let response = app.register(email, "Impostor", "another password").await;
        assert_eq!(response.status(), Status::SeeOther, "{email}");
        assert_eq!(location(&response), Some("/login"));
        let (_, html) = app.get("/login").await;
        assert!(
            html.contains("Email already registered. Log in instead."),
            "{email}"
        );
    }
    // The first account is untouched: its password still works, the
    // impostor's does not.
    assert_eq!(
        location(&app.login("ada@example.com", "another password").await),
        None
    );
    assert_eq!(
        location(&app.login("ada@example.com", "analytical engine").await),
        Some("/secrets")
    );
}

/// Each bad input re-shows the form with 422, the field's message and the
/// values typed, never the password, and stores nothing.
#[tokio::test]
async fn invalid_registrations_re_show_the_form() {
    let app = app().await;
    let long_password = "p".repeat(129);
    let cases: &[(&[(&str, &str)], &str)] = &[
        (
            &[
                ("email", "ada@example.com"),
                ("password", "analytical engine"),
            ],
            "Enter your name.",
        ),
        (
            &[
                ("email", "ada@example.com"),
                ("name", "   "),
                ("password", "analytical engine"),
            ],
            "Enter your name.",
        ),
        (
            &[
                ("email", "not-an-email"),
                ("name", "Ada"),
                ("password", "analytical engine"),
            ],
            "Enter a valid email address",
        ),
        (
            &[
                ("email", "ada@example.com"),
                ("name", "Ada"),
                ("password", "short"),
            ],
            "Use at least 8 characters",
        ),
        (
            &[
                ("email", "ada@example.com"),
                ("name", "Ada"),
                ("password", &long_password),
            ],
            "at most 128 characters",
        ),
        (
            &[
                ("email", "ada@example.com"),
                ("name", "Ada"),
                ("password", "password123"),
            ],
            "most commonly used",
        ),
        (&[], "Enter your email address."),
    ];
    for (fields, message) in cases {
        let response = app.post("/register", "/register", fields).await;
        assert_eq!(response.status(), Status::UnprocessableEntity, "{fields:?}");
        let html = response.into_string().await.unwrap();
        assert!(html.contains(message), "{fields:?} should say {message:?}");
        for (name, value) in fields.iter() {
            let shown = html.contains(&format!("value=\"{}\"", value.trim()));
            if *name == "password" {
                assert!(!html.contains(value), "the password is never echoed");
            } else if !value.trim().is_empty() {
                assert!(shown, "{name} keeps the typed value");
            }
        }
    }
    let store = app.auth().store();
    let email = Email::parse("ada@example.com").unwrap();
    assert!(store.find_credentials(&email).await.unwrap().is_none());
}

#[tokio::test]
async fn the_minimum_length_is_configurable_and_shown_on_the_form() {
    let app = crate::common::app_with(tempfile::tempdir().unwrap(), |f| {
        f.merge(("password_min_chars", 12))
    })
    .await;
    let (_, form) = app.get("/register").await;
    assert!(form.contains(r#"minlength="12""#));
    assert!(form.contains("At least 12 characters"));
    let response = app.register("ada@example.com", "Ada", "eleven char").await;
    expect_page(
        response,
        Status::UnprocessableEntity,
        "Use at least 12 characters",
    )
    .await;
    let response = app.register("ada@example.com", "Ada", "twelve chars").await;
    assert_eq!(location(&response), Some("/secrets"));
}

/// The password fields never carry a `maxlength` (a browser would cut a
/// pasted password short without a word); long passwords in any script
/// register and log in, and every character counts.
#[tokio::test]
async fn long_passwords_in_any_script_work_and_are_never_cut() {
    let app = app().await;
    for page in ["/register", "/login"] {
        let (_, html) = app.get(page).await;
        for input in html.split("<input").skip(1) {
            let tag = input.split('>').next().unwrap_or_default();
            if tag.contains(r#"type="password""#) {
                assert!(!tag.contains("maxlength="), "{page}: {tag}");
            }
        }
    }
    let ascii = "correct horse ".repeat(7) + "battery st"; // 108 characters
    let cjk = "漢字仮名交じり文".repeat(8); // 64 characters, 192 bytes
    for (email, password) in [
        ("ascii@example.com", ascii.as_str()),
        ("cjk@example.com", cjk.as_str()),
    ] {
        let response = app.register(email, "Long", password).await;
        assert_eq!(response.status(), Status::SeeOther, "{email} registers");
        drop(response);
        app.logout().await;
        let cut: String = {
            let mut chars: Vec<char> = password.chars().collect();
            let last = chars.len() - 1;
            chars[last] = if chars[last] == 'X' { 'Y' } else { 'X' };
            chars.into_iter().collect()
        };
        let wrong = app.login(email, &cut).await;
        assert_eq!(
            wrong.status(),
            Status::Unauthorized,
            "{email}: a password differing only at its end (past byte 72) fails"
        );
        drop(wrong);
        let right = app.login(email, password).await;
        assert_eq!(right.status(), Status::SeeOther, "{email} logs in");
        drop(right);
        app.logout().await;
    }
}
