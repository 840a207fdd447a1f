//! A forgotten password and confirmed addresses, with the mail read from
//! the outbox the app writes when no SMTP server is configured.

use rocket::http::Status;

use crate::common::{app, expect_page, link_in, location, TestApp};

const RIGHT: &str = "analytical engine";
const NEW: &str = "difference engine no. 2";

/// The mail with `subject` among `mail` (the outbox's order is only as
/// fine as the file system's clock, so tests pick mail by what it is).
fn with_subject<'m>(mail: &'m [String], subject: &str) -> Vec<&'m String> {
    let header = format!("Subject: {subject}");
    mail.iter().filter(|m| m.contains(&header)).collect()
}

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
async fn a_newer_link_replaces_the_older_one_and_a_password_change_kills_both() {
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
async fn an_expired_link_is_refused() {
    let app = app().await;
    app.register_ada().await;
    app.mail(1).await;
    app.post(
        "/password/forgot",
        "/password/forgot",
        &[("email", "ada@example.com")],
    )
    .await;
    let mail = app.mail(2).await;
    let link = link_in(
        with_subject(&mail, "Reset your password")[0],
        "/password/reset/",
    );
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
    // Nothing changed yet.
    assert!(app.page("/account").await.contains("ada@example.com"));
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
