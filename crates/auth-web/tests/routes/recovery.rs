//! A forgotten password and confirmed addresses, with the mail read from
//! the outbox the app writes when no SMTP server is configured.

use rocket::http::Status;

use crate::common::{app, app_with, expect_page, link_in, location, with_subject, TestApp};

const RIGHT: &str = "analytical engine";
const NEW: &str = "difference engine no. 2";

/// Follows a reset link (which keeps the token in a cookie and redirects),
/// then posts `password` on the form.
async fn reset_with(app: &TestApp, link: &str, password: &str) -> (Status, Option<String>) {
    let followed = app.client.get(link.to_owned()).dispatch().await;
    if followed.status() != Status::SeeOther {
        return (followed.status(), None);
    }
    assert_eq!(location(&followed), Some("/password/reset"));
    let response = app
        .post(
            "/password/reset",
            "/password/reset",
            &[("new_password", password)],
        )
        .await;
    (response.status(), location(&response).map(str::to_owned))
}

/// Asks for a reset link for Ada's address and returns it from the mail,
/// the `count`th in the outbox.
async fn ask_for_a_reset_link(app: &TestApp, count: usize) -> String {
    app.post(
        "/password/forgot",
        "/password/forgot",
        &[("email", "ada@example.com")],
    )
    .await;
    let mail = app.mail(count).await;
    link_in(
        with_subject(&mail, "Reset your password")[0],
        "/password/reset/",
    )
}

#[tokio::test]
async fn a_forgotten_password_is_reset_from_the_mailed_link_once() {
    let app = app().await;
    app.register_ada().await;
    let confirmation = app.mail(1).await;
    assert!(confirmation[0].contains("Subject: Confirm your email address"));

    // Another browser stays logged in until the reset.
    let other = app.other_browser("ada@example.com", RIGHT).await;
    app.logout().await;

    let asked = app
        .post(
            "/password/forgot",
            "/password/forgot",
            &[("email", "Ada@Example.com")],
        )
        .await;
    assert_eq!(asked.status(), Status::SeeOther);
    let mail = app.mail(2).await;
    let reset = with_subject(&mail, "Reset your password")[0];
    assert!(reset.contains("To: Ada <ada@example.com>"));
    let link = link_in(reset, "/password/reset/");

    let (status, to) = reset_with(&app, &link, NEW).await;
    assert_eq!(status, Status::SeeOther);
    assert_eq!(to.as_deref(), Some("/login"));

    // Every session ended; the new password works and the old one not.
    assert_eq!(
        other.get("/secrets").dispatch().await.status(),
        Status::SeeOther
    );
    assert_eq!(
        app.login("ada@example.com", RIGHT).await.status(),
        Status::Unauthorized
    );
    let login = app.login("ada@example.com", NEW).await;
    assert_eq!(location(&login), Some("/secrets"));

    // The link worked once.
    let again = app.client.get(link.clone()).dispatch().await;
    expect_page(again, Status::BadRequest, "This link cannot be used").await;

    // The owner is told.
    let notice = app.mail(3).await;
    assert_eq!(with_subject(&notice, "Your password was changed").len(), 1);
}

#[tokio::test]
async fn an_unknown_address_gets_the_same_answer_and_no_mail() {
    let app = app().await;
    app.register_ada().await;
    app.mail(1).await;
    let known = app
        .post(
            "/password/forgot",
            "/password/forgot",
            &[("email", "ada@example.com")],
        )
        .await;
    let known = (known.status(), location(&known).map(str::to_owned));
    app.mail(2).await;
    let unknown = app
        .post(
            "/password/forgot",
            "/password/forgot",
            &[("email", "nobody@example.com")],
        )
        .await;
    let unknown_answer = (unknown.status(), location(&unknown).map(str::to_owned));
    assert_eq!(known, unknown_answer);
    // A later mail goes out after the unknown one was handled, in order.
    app.post(
        "/password/forgot",
        "/password/forgot",
        &[("email", "ada@example.com")],
    )
    .await;
    let mail = app.mail(3).await;
    assert!(mail.iter().all(|m| !m.contains("nobody@example.com")));
    assert_eq!(mail.len(), 3);
}

#[tokio::test]
async fn a_newer_link_replaces_the_older_one() {
    let app = app().await;
    app.register_ada().await;
    app.mail(1).await;
    app.logout().await;
    for _ in 0..2 {
        app.post(
            "/password/forgot",
            "/password/forgot",
            &[("email", "ada@example.com")],
        )
        .await;
    }
    let mail = app.mail(3).await;
    let links: Vec<String> = with_subject(&mail, "Reset your password")
        .into_iter()
        .map(|m| link_in(m, "/password/reset/"))
        .collect();
    assert_eq!(links.len(), 2);
    assert_ne!(links[0], links[1]);
    // Exactly one link works: the newer one replaced the other.
    let mut live = Vec::new();
    for link in &links {
        let status = app.client.get(link.clone()).dispatch().await.status();
        if status == Status::SeeOther {
            live.push(link.clone());
        } else {
            assert_eq!(status, Status::BadRequest, "the superseded link is dead");
        }
    }
    assert_eq!(live.len(), 1);
    let (status, to) = reset_with(&app, &live[0], NEW).await;
    assert_eq!((status, to.as_deref()), (Status::SeeOther, Some("/login")));
}

#[tokio::test]
async fn a_password_changed_on_the_account_page_kills_the_reset_link() {
    let app = app().await;
    app.register_ada().await;
    app.mail(1).await;
    let link = ask_for_a_reset_link(&app, 2).await;
    let changed = app
        .post(
            "/account/password",
            "/account",
            &[("current_password", RIGHT), ("new_password", NEW)],
        )
        .await;
    assert_eq!(location(&changed), Some("/account"));
    let (status, _) = reset_with(&app, &link, "yet another password").await;
    assert_eq!(status, Status::BadRequest);
    assert_eq!(
        location(&app.login("ada@example.com", NEW).await),
        Some("/secrets"),
        "the password is the one set on the account page"
    );
}

#[tokio::test]
async fn an_expired_link_is_refused() {
    let app = app().await;
    app.register_ada().await;
    app.mail(1).await;
    let link = ask_for_a_reset_link(&app, 2).await;
    app.clock.advance(auth_core::time::Duration::minutes(61));
    let (status, _) = reset_with(&app, &link, NEW).await;
    assert_eq!(status, Status::BadRequest);
}

#[tokio::test]
async fn the_address_is_confirmed_from_the_mailed_link() {
    let app = app().await;
    app.register_ada().await;
    let account = app.page("/account").await;
    assert!(account.contains("not confirmed yet"));
    let link = link_in(&app.mail(1).await[0], "/email/confirm/");
    let page = app.page(&link).await;
    assert!(page.contains("Confirm my address"));
    let token = link.rsplit('/').next().unwrap().to_owned();
    let confirmed = app
        .post("/email/confirm", &link, &[("token", &token)])
        .await;
    assert_eq!(location(&confirmed), Some("/account"));
    assert!(app.page("/account").await.contains("(confirmed)"));
    let again = app
        .post("/email/confirm", &link, &[("token", &token)])
        .await;
    assert_eq!(again.status(), Status::BadRequest);
}

#[tokio::test]
async fn an_address_changes_only_when_the_new_one_confirms_and_the_old_one_is_told() {
    let app = app().await;
    app.register_ada().await;
    app.mail(1).await;
    let asked = app
        .post(
            "/account/email",
            "/account",
            &[
                ("new_email", "lovelace@example.com"),
                ("email_password", RIGHT),
            ],
        )
        .await;
    assert_eq!(asked.status(), Status::SeeOther);
    let mail = app.mail(2).await;
    let request = with_subject(&mail, "Confirm your new email address")[0];
    assert!(request.contains("To: Ada <lovelace@example.com>"));
    // Nothing changed yet, and the page says so.
    let account = app.page("/account").await;
    assert!(
        account.contains(
            "A link is on its way to lovelace@example.com. Your address changes when you \
             follow it; until then, keep logging in with ada@example.com."
        ),
        "{account}"
    );
    let link = link_in(request, "/email/change/");
    let token = link.rsplit('/').next().unwrap().to_owned();
    let changed = app.post("/email/change", &link, &[("token", &token)]).await;
    assert_eq!(location(&changed), Some("/account"));
    let account = app.page("/account").await;
    assert!(account.contains("lovelace@example.com"));
    let notice = app.mail(3).await;
    let notice = with_subject(&notice, "Your email address was changed")[0];
    assert!(notice.contains("To: Ada <ada@example.com>"));
    app.logout().await;
    assert_eq!(
        location(&app.login("lovelace@example.com", RIGHT).await),
        Some("/secrets")
    );
}

/// Asks for a reset link for `email` from the client at `remote`; the
/// status and `Retry-After`.
async fn forgot_from(app: &TestApp, remote: &str, email: &str) -> (Status, Option<String>) {
    let response = app
        .post_from(remote, &[], "/password/forgot", &[("email", email)])
        .await;
    let retry_after = response.headers().get_one("Retry-After").map(str::to_owned);
    (response.status(), retry_after)
}

#[tokio::test]
async fn reset_requests_are_limited_per_recipient_whether_or_not_it_is_registered() {
    let app = app().await;
    app.register_ada().await;
    app.logout().await;
    for email in ["ada@example.com", "nobody@example.com"] {
        for n in 0..5 {
            let remote = format!("192.0.2.{n}:4000");
            assert_eq!(forgot_from(&app, &remote, email).await.0, Status::SeeOther);
        }
        // The sixth, from yet another network, is refused the same way
        // for a registered and an unknown address.
        let refused = app
            .post_from(
                "198.51.100.9:4000",
                &[],
                "/password/forgot",
                &[("email", email)],
            )
            .await;
        assert_eq!(refused.status(), Status::TooManyRequests, "{email}");
        assert_eq!(refused.headers().get_one("Retry-After"), Some("3600"));
        let html = refused.into_string().await.unwrap();
        assert!(html.contains("try again in 60 minutes"), "{html}");
        assert!(
            html.contains(&format!(r#"value="{email}""#)),
            "the address is kept"
        );
    }
    // Ada's confirmation and five reset links, nothing for nobody@.
    let mail = app.mail(6).await;
    assert_eq!(with_subject(&mail, "Reset your password").len(), 5);
    app.clock.advance(auth_core::time::Duration::hours(1));
    assert_eq!(
        forgot_from(&app, "198.51.100.9:4000", "ada@example.com")
            .await
            .0,
        Status::SeeOther,
        "a new hour, a new window"
    );
}

#[tokio::test]
async fn reset_requests_are_limited_per_network_across_addresses() {
    let app = app_with(tempfile::tempdir().unwrap(), |f| {
        f.merge(("mail_throttle.address_limit", 3))
    })
    .await;
    for n in 0..3 {
        let email = format!("someone{n}@example.com");
        assert_eq!(
            forgot_from(&app, "192.0.2.1:4000", &email).await.0,
            Status::SeeOther
        );
    }
    let (status, retry_after) = forgot_from(&app, "192.0.2.1:4000", "other@example.com").await;
    assert_eq!(
        (status, retry_after.as_deref()),
        (Status::TooManyRequests, Some("3600"))
    );
    let elsewhere = forgot_from(&app, "198.51.100.9:4000", "other@example.com").await;
    assert_eq!(
        elsewhere.0,
        Status::SeeOther,
        "another network is not limited"
    );
}

#[tokio::test]
async fn a_blank_or_malformed_address_is_refused_on_the_form() {
    let app = app().await;
    for (email, message) in [
        ("", "Enter your email address"),
        ("not an address", "valid email"),
    ] {
        let response = app
            .post("/password/forgot", "/password/forgot", &[("email", email)])
            .await;
        assert_eq!(response.status(), Status::UnprocessableEntity, "{email:?}");
        let html = response.into_string().await.unwrap();
        assert!(html.contains(message), "{message:?} for {email:?}:\n{html}");
    }
}

#[tokio::test]
async fn malformed_unknown_and_missing_tokens_get_the_dead_link_page() {
    let app = app().await;
    let long = "x".repeat(5000);
    for uri in [
        "/password/reset/not-a-token",
        "/password/reset/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "/password/reset/%00%FF",
        "/password/reset",
        "/email/confirm/not-a-token",
        "/email/change/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ] {
        let response = app.client.get(uri).dispatch().await;
        expect_page(response, Status::BadRequest, "This link cannot be used").await;
    }
    let response = app
        .client
        .get(format!("/password/reset/{long}"))
        .dispatch()
        .await;
    assert!(response.status().code >= 400 && response.status().code < 500);
    for action in ["/email/confirm", "/email/change"] {
        for token in ["", "garbage", long.as_str()] {
            let response = app.post(action, "/login", &[("token", token)]).await;
            assert_eq!(
                response.status(),
                Status::BadRequest,
                "{action} {}",
                token.len()
            );
        }
    }
    let response = app
        .post("/password/reset", "/login", &[("new_password", NEW)])
        .await;
    expect_page(response, Status::BadRequest, "This link cannot be used").await;
}

#[tokio::test]
async fn with_confirmed_addresses_required_members_pages_wait_for_the_link() {
    let app = app_with(tempfile::tempdir().unwrap(), |f| {
        f.merge(("require_confirmed_email", true))
    })
    .await;
    let registered = app.register_ada().await;
    assert_eq!(registered.status(), Status::SeeOther);
    for page in ["/secrets", "/download"] {
        let refused = app.client.get(page).dispatch().await;
        assert_eq!(refused.status(), Status::SeeOther, "{page}");
        assert!(
            location(&refused).unwrap().starts_with("/account"),
            "{page}"
        );
    }
    let account = app.page("/account").await;
    assert!(account.contains("not confirmed yet"));

    let link = link_in(&app.mail(1).await[0], "/email/confirm/");
    let token = link.rsplit('/').next().unwrap().to_owned();
    app.post("/email/confirm", &link, &[("token", &token)])
        .await;
    assert_eq!(app.get("/secrets").await.0, Status::Ok);
    assert_eq!(app.get("/download").await.0, Status::Ok);
}

#[tokio::test]
async fn a_disabled_account_gets_no_reset_mail_and_its_links_die() {
    use auth_web::cli::{run_with, Command, UsersCommand};
    let app = app().await;
    app.register_ada().await;
    app.mail(1).await;
    app.logout().await;
    let link = ask_for_a_reset_link(&app, 2).await;

    let operator = |command| async {
        let mut said = Vec::new();
        run_with(
            app.figment.clone(),
            Command::Users(command),
            Some("tester".into()),
            &mut said,
        )
        .await
        .expect("the command succeeds");
    };
    operator(UsersCommand::Disable {
        email: "ada@example.com".into(),
    })
    .await;
    let (status, _) = reset_with(&app, &link, NEW).await;
    assert_eq!(status, Status::BadRequest, "the mailed link died");

    let asked = app
        .post(
            "/password/forgot",
            "/password/forgot",
            &[("email", "ada@example.com")],
        )
        .await;
    assert_eq!(
        asked.status(),
        Status::SeeOther,
        "the same answer as for anyone"
    );
    // A later mail to another account shows the queue got past it.
    app.register("bob@example.com", "Bob", RIGHT).await;
    let mail = app.mail(3).await;
    assert_eq!(mail.len(), 3, "{mail:#?}");
    assert_eq!(with_subject(&mail, "Reset your password").len(), 1);

    operator(UsersCommand::Enable {
        email: "ada@example.com".into(),
    })
    .await;
    let (status, _) = reset_with(&app, &link, NEW).await;
    assert_eq!(
        status,
        Status::BadRequest,
        "enabled again, the old link stays dead"
    );
}

#[tokio::test]
async fn unusable_mail_settings_stop_the_start_naming_the_setting() {
    let dir = tempfile::tempdir().unwrap();
    let base = crate::common::figment(dir.path(), "sqlite::memory:");
    for (setting, value, problem) in [
        ("password_reset_valid_for", 0, "at least 1 second"),
        (
            "password_reset_valid_for",
            u64::MAX / 2,
            "at most 2592000 seconds",
        ),
        (
            "email_confirmation_valid_for",
            10_000_000,
            "at most 2592000 seconds",
        ),
        ("mail_retry_after", 100_000, "at most 86400 seconds"),
    ] {
        let bad = base.clone().merge((setting, value));
        let error = auth_web::build(bad, std::sync::Arc::new(auth_core::SystemClock)).unwrap_err();
        let message = error.to_string();
        assert!(
            message.contains(setting)
                && message.contains(problem)
                && message.contains(&value.to_string()),
            "{message}"
        );
    }
}
