//! Passkeys through the routes, answered by a software authenticator with
//! real signatures: adding one after the password, the second step and the
//! sign-in without a password, and what must be refused: a replayed or
//! expired challenge, another account's credential, a signature counter
//! that does not go up, several answers at once.

use auth_core::time::Duration;
use rocket::http::{Cookie, Status};
use test_support::SoftPasskey;

use crate::common::{app_with, csrf, form_body, location, post_with, with_subject, TestApp};

const RIGHT: &str = "analytical engine";
const SITE: &str = "https://secrets.example";
const EXPIRED: &str = "That passkey request expired or was already used.";

/// A fresh app at `SITE`, with Ada registered and logged in.
async fn ada() -> TestApp {
    let app = app_with(tempfile::tempdir().unwrap(), |f| {
        f.merge(("public_url", SITE))
    })
    .await;
    app.register("ada@example.com", "Ada", RIGHT).await;
    app
}

/// What minijinja's HTML escaping did to an attribute's value, undone.
fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#x2f;", "/")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The creation options the "Add a passkey" page carries.
fn options_on(page: &str) -> String {
    let marker = "data-options=\"";
    let start = page.find(marker).expect("the page has the options") + marker.len();
    let end = start + page[start..].find('"').unwrap();
    unescape(&page[start..end])
}

/// Adds a passkey named `name` to the logged-in account of `app`.
async fn add(app: &TestApp, name: &str) -> SoftPasskey {
    let begun = app
        .post(
            "/account/passkeys",
            "/account",
            &[("passkey_name", name), ("passkey_password", RIGHT)],
        )
        .await;
    assert_eq!(begun.status(), Status::Ok);
    let page = begun.into_string().await.unwrap();
    let mut passkey = SoftPasskey::new(SITE);
    let answer = passkey.create(&options_on(&page));
    let token = csrf(&page);
    let finished = post_with(
        &app.client,
        "/account/passkeys/new",
        &token,
        &[("credential", &answer)],
    )
    .await;
    assert_eq!(location(&finished), Some("/account#passkeys"));
    drop(finished);
    let account = app.page("/account").await;
    assert!(account.contains("Passkey added."), "{account}");
    passkey
}

/// The options of a ceremony started at `uri`, with the CSRF token of
/// `page`; and the token, for the answer.
async fn start(app: &TestApp, uri: &str, page: &str) -> (String, String) {
    let token = app.token_from(page).await;
    let answer = post_with(&app.client, uri, &token, &[]).await;
    assert_eq!(answer.status(), Status::Ok);
    (answer.into_string().await.unwrap(), token)
}

/// The ceremony cookie the browser holds now (to replay it).
fn ceremony_cookie(app: &TestApp) -> Cookie<'static> {
    app.client
        .cookies()
        .iter()
        .find(|c| c.name().ends_with("passkey"))
        .expect("a ceremony cookie")
        .clone()
        .into_owned()
}

/// Logs out and enters the password: the passkey step's options.
async fn password_step(app: &TestApp) -> (String, String) {
    app.logout().await;
    let login = app.login("ada@example.com", RIGHT).await;
    assert_eq!(location(&login), Some("/login/code"));
    drop(login);
    let page = app.page("/login/code").await;
    assert!(page.contains("Use a passkey"), "{page}");
    assert!(!page.contains("id=\"code\""), "no app, so no code field");
    start(app, "/login/code/passkey/options", "/login/code").await
}

async fn second_step(app: &TestApp, token: &str, answer: &str) -> Option<String> {
    let done = post_with(
        &app.client,
        "/login/code/passkey",
        token,
        &[("credential", answer)],
    )
    .await;
    location(&done).map(str::to_owned)
}

async fn passkey_alone(app: &TestApp, token: &str, answer: &str) -> Option<String> {
    let fields = [("credential", answer), ("remember", "off"), ("next", "")];
    let done = post_with(&app.client, "/login/passkey", token, &fields).await;
    location(&done).map(str::to_owned)
}

async fn signed_in(app: &TestApp) -> bool {
    app.get("/secrets").await.0 == Status::Ok
}

#[tokio::test]
async fn without_javascript_the_passkey_forms_stay_hidden_and_the_pages_work() {
    let app = ada().await;
    let account = app.page("/account").await;
    assert!(account.contains("data-passkey-form hidden>"), "{account}");
    assert!(account.contains("<script src=\"/static/passkeys.js?v="));
    app.logout().await;
    let login = app.page("/login").await;
    assert!(
        login.contains("data-options-url=\"/login/passkey/options\" hidden>"),
        "{login}"
    );
    assert_eq!(app.get("/static/passkeys.js").await.0, Status::Ok);
    assert_eq!(
        location(&app.login("ada@example.com", RIGHT).await),
        Some("/secrets"),
        "the password form works as before"
    );
}

#[tokio::test]
async fn a_passkey_is_added_then_asked_for_after_the_password_and_signs_in_alone() {
    let app = ada().await;
    let refused = app
        .post(
            "/account/passkeys",
            "/account",
            &[("passkey_name", "Laptop"), ("passkey_password", "wrong")],
        )
        .await;
    assert_eq!(refused.status(), Status::Unauthorized);
    let page = refused.into_string().await.unwrap();
    assert!(page.contains("Your password is not correct."), "{page}");
    let unnamed = app
        .post(
            "/account/passkeys",
            "/account",
            &[("passkey_name", "  "), ("passkey_password", RIGHT)],
        )
        .await;
    assert_eq!(unnamed.status(), Status::UnprocessableEntity);
    drop(unnamed);

    let mut passkey = add(&app, "Laptop").await;
    let account = app.page("/account").await;
    assert!(account.contains("Laptop") && account.contains("never"));
    let export: serde_json::Value =
        serde_json::from_str(&app.page("/account/export").await).unwrap();
    let factors = &export["account"]["second_factor"];
    assert_eq!(factors["app"], false, "{export}");
    assert_eq!(factors["passkeys"][0]["name"], "Laptop", "{export}");
    assert_eq!(
        factors["passkeys"][0]["last_used_at"],
        serde_json::Value::Null
    );
    let mail = app.mail(2).await;
    assert_eq!(with_subject(&mail, "Your passkeys changed").len(), 1);
    assert!(app.page("/account/history").await.contains("Passkey added"));

    let (options, token) = password_step(&app).await;
    assert!(!signed_in(&app).await, "the password alone signs nobody in");
    let answer = passkey.get(&options);
    assert_eq!(
        second_step(&app, &token, &answer).await.as_deref(),
        Some("/secrets")
    );
    assert!(signed_in(&app).await);

    app.logout().await;
    let (options, token) = start(&app, "/login/passkey/options", "/login").await;
    let answer = passkey.get(&options);
    assert_eq!(
        passkey_alone(&app, &token, &answer).await.as_deref(),
        Some("/secrets")
    );
    assert!(signed_in(&app).await);
    assert!(!app.page("/account").await.contains("never"), "last used");
}

#[tokio::test]
async fn a_replayed_answer_or_an_expired_challenge_is_refused() {
    let app = ada().await;
    let mut passkey = add(&app, "Laptop").await;

    let (options, token) = password_step(&app).await;
    let answer = passkey.get(&options);
    let held = ceremony_cookie(&app);
    assert_eq!(
        second_step(&app, &token, &answer).await.as_deref(),
        Some("/secrets")
    );

    // The same answer and ceremony cookie again: the ceremony is used up.
    app.logout().await;
    let token = app.token_from("/login").await;
    let replay = app
        .client
        .post("/login/passkey")
        .header(rocket::http::ContentType::Form)
        .cookie(held)
        .body(form_body(&[
            ("credential", &answer),
            ("remember", "off"),
            ("next", ""),
            ("csrf_token", &token),
        ]))
        .dispatch()
        .await;
    assert_eq!(location(&replay), Some("/login"));
    drop(replay);
    assert!(app.page("/login").await.contains(EXPIRED));
    assert!(!signed_in(&app).await);

    // The old answer to a new challenge: signed over the wrong challenge.
    let (_, token) = start(&app, "/login/passkey/options", "/login").await;
    assert_eq!(
        passkey_alone(&app, &token, &answer).await.as_deref(),
        Some("/login")
    );
    assert!(app
        .page("/login")
        .await
        .contains("That passkey was not accepted"));
    assert!(!signed_in(&app).await);

    // An answer to the second step's challenge, posted as a sign-in
    // without a password: the ceremony is not for that.
    let (options, token) = password_step(&app).await;
    let answer = passkey.get(&options);
    assert_eq!(
        passkey_alone(&app, &token, &answer).await.as_deref(),
        Some("/login")
    );
    assert!(app.page("/login").await.contains(EXPIRED));
    assert!(!signed_in(&app).await);

    // A right answer, too late.
    let (options, token) = start(&app, "/login/passkey/options", "/login").await;
    app.clock.advance(Duration::minutes(6));
    let late = passkey.get(&options);
    assert_eq!(
        passkey_alone(&app, &token, &late).await.as_deref(),
        Some("/login")
    );
    assert!(app.page("/login").await.contains(EXPIRED));
    assert!(!signed_in(&app).await);
}

#[tokio::test]
async fn a_credential_of_another_account_is_refused() {
    let app = ada().await;
    let mut adas = add(&app, "Ada's laptop").await;
    // Bob, in another browser, on another instance sharing the database.
    let bob = TestApp::sharing(&app).await;
    bob.register("bob@example.com", "Bob", RIGHT).await;
    let mut bobs = add(&bob, "Bob's phone").await;

    let (options, token) = password_step(&app).await;
    let answer = bobs.get(&options);
    assert_eq!(
        second_step(&app, &token, &answer).await.as_deref(),
        Some("/login/code")
    );
    assert!(app
        .page("/login/code")
        .await
        .contains("That passkey was not accepted"));
    assert!(!signed_in(&app).await);
    assert!(
        app.page("/login/code").await.contains("Use a passkey"),
        "the sign-in goes on"
    );
    let (options, token) = start(&app, "/login/code/passkey/options", "/login/code").await;
    let answer = adas.get(&options);
    assert_eq!(
        second_step(&app, &token, &answer).await.as_deref(),
        Some("/secrets")
    );
    let history = app.page("/account/history").await;
    assert!(
        history.contains("Failed login: passkey refused"),
        "{history}"
    );
}

#[tokio::test]
async fn the_signature_counter_must_go_up() {
    let app = ada().await;
    let mut passkey = add(&app, "Laptop").await;
    app.logout().await;
    let (options, token) = start(&app, "/login/passkey/options", "/login").await;
    passkey.counter = 41;
    let answer = passkey.get(&options);
    assert_eq!(
        passkey_alone(&app, &token, &answer).await.as_deref(),
        Some("/secrets")
    );

    // A clone still at 42, or behind it, is refused.
    app.logout().await;
    for counter in [42, 7] {
        let (options, token) = start(&app, "/login/passkey/options", "/login").await;
        let clone = passkey.answer(&options, counter);
        assert_eq!(
            passkey_alone(&app, &token, &clone).await.as_deref(),
            Some("/login"),
            "counter {counter}"
        );
        assert!(!signed_in(&app).await);
    }
    let (options, token) = start(&app, "/login/passkey/options", "/login").await;
    let answer = passkey.get(&options);
    assert_eq!(
        passkey_alone(&app, &token, &answer).await.as_deref(),
        Some("/secrets")
    );
    let history = app.page("/account/history").await;
    assert_eq!(history.matches("Failed login: passkey refused").count(), 2);
}

#[tokio::test]
async fn one_answer_sent_many_times_at_once_signs_in_once() {
    const AT_ONCE: usize = 8;
    let app = ada().await;
    let mut passkey = add(&app, "Laptop").await;
    app.logout().await;
    let (options, token) = start(&app, "/login/passkey/options", "/login").await;
    let answer = passkey.get(&options);
    let body = form_body(&[
        ("credential", &answer),
        ("remember", "off"),
        ("next", ""),
        ("csrf_token", &token),
    ]);
    let requests = (0..AT_ONCE).map(|_| {
        app.client
            .post("/login/passkey")
            .header(rocket::http::ContentType::Form)
            .body(body.clone())
            .dispatch()
    });
    let answers = futures::future::join_all(requests).await;
    let signed_in = answers
        .iter()
        .filter(|a| location(a) == Some("/secrets"))
        .count();
    assert_eq!(signed_in, 1, "of {AT_ONCE} identical answers one signs in");
}

#[tokio::test]
async fn removing_a_passkey_needs_the_password_and_ends_the_second_step() {
    let app = ada().await;
    add(&app, "Laptop").await;
    let account = app.page("/account").await;
    let start = account.find("/account/passkeys/").unwrap();
    let remove = account[start..].split('"').next().unwrap().to_owned();
    let page = app.page(&remove).await;
    assert!(page.contains("Remove the passkey “Laptop”"), "{page}");

    let wrong = app
        .post(&remove, &remove, &[("passkey_password", "wrong")])
        .await;
    assert_eq!(wrong.status(), Status::Unauthorized);
    drop(wrong);
    let done = app
        .post(&remove, &remove, &[("passkey_password", RIGHT)])
        .await;
    assert_eq!(location(&done), Some("/account#passkeys"));
    drop(done);
    assert!(app.page("/account").await.contains("You have no passkey."));
    let mail = app.mail(3).await;
    assert_eq!(with_subject(&mail, "Your passkeys changed").len(), 2);

    app.logout().await;
    let login = app.login("ada@example.com", RIGHT).await;
    assert_eq!(
        location(&login),
        Some("/secrets"),
        "no passkey, no second step"
    );
}

#[tokio::test]
async fn with_an_ip_address_for_public_url_the_pages_offer_no_passkeys() {
    let app = app_with(tempfile::tempdir().unwrap(), |f| {
        f.merge(("public_url", "http://192.0.2.1:8000"))
    })
    .await;
    app.register("ada@example.com", "Ada", RIGHT).await;
    let account = app.page("/account").await;
    assert!(account.contains("New passkeys cannot be made on this site right now."));
    assert!(
        !account.contains("action=\"/account/passkeys\""),
        "{account}"
    );
    app.logout().await;
    let login = app.page("/login").await;
    assert!(!login.contains("/login/passkey"), "{login}");
    let token = app.token_from("/login").await;
    let refused = post_with(&app.client, "/login/passkey/options", &token, &[]).await;
    assert_eq!(refused.status(), Status::ServiceUnavailable);
}

#[tokio::test]
async fn one_answer_sent_to_two_instances_at_once_signs_in_once() {
    const EACH: usize = 4;
    let app = ada().await;
    let mut passkey = add(&app, "Laptop").await;
    // Another instance on the same database and key, where the same
    // browser's copies of the answer also arrive.
    let other = TestApp::sharing(&app).await;
    app.logout().await;
    let (options, token) = start(&app, "/login/passkey/options", "/login").await;
    let held = ceremony_cookie(&app);
    let csrf_cookie = app
        .client
        .cookies()
        .iter()
        .find(|c| c.name().ends_with("csrf"))
        .expect("a CSRF cookie")
        .clone()
        .into_owned();
    let answer = passkey.get(&options);
    let body = form_body(&[
        ("credential", &answer),
        ("remember", "off"),
        ("next", ""),
        ("csrf_token", &token),
    ]);
    let requests = [&app, &other].into_iter().flat_map(|instance| {
        let (held, csrf_cookie, body) = (held.clone(), csrf_cookie.clone(), body.clone());
        (0..EACH).map(move |_| {
            instance
                .client
                .post("/login/passkey")
                .header(rocket::http::ContentType::Form)
                .cookie(held.clone())
                .cookie(csrf_cookie.clone())
                .body(body.clone())
                .dispatch()
        })
    });
    let answers = futures::future::join_all(requests).await;
    assert!(
        answers
            .iter()
            .all(|a| matches!(location(a), Some("/secrets") | Some("/login"))),
        "every copy reached the ceremony (none was refused for its CSRF token)"
    );
    let signed_in = answers
        .iter()
        .filter(|a| location(a) == Some("/secrets"))
        .count();
    assert_eq!(
        signed_in,
        1,
        "of {} copies of one answer on two instances, one signs in",
        2 * EACH
    );
}
