//! Two-factor sign-in through the routes, with the test's clock: enrolment
//! from the account page, the code page after the password, replay, clock
//! drift, recovery codes, throttling, turning it off.

use auth_core::time::Duration;
use auth_core::{Clock, Email, SecondFactorStore, TotpSecret, UserStore};
use rocket::http::Status;

use crate::common::{location, logged_in, with_subject, TestApp};

const RIGHT: &str = "analytical engine";

/// The secret the set-up page shows.
fn secret_on(page: &str) -> TotpSecret {
    let marker = "id=\"totp-secret\">";
    let start = page.find(marker).expect("the secret is on the page") + marker.len();
    let end = start + page[start..].find('<').unwrap();
    TotpSecret::from_base32(&page[start..end]).expect("a base32 secret")
}

/// The recovery codes the page lists.
fn codes_on(page: &str) -> Vec<String> {
    page.split("<li><code>")
        .skip(1)
        .map(|rest| rest.split('<').next().unwrap().to_owned())
        .collect()
}

/// Ada, logged in with two-factor sign-in turned on; her secret and codes.
async fn enrolled() -> (TestApp, TotpSecret, Vec<String>) {
    let app = logged_in("Ada").await;
    let begun = app
        .post(
            "/account/two-factor",
            "/account",
            &[("two_factor_password", RIGHT)],
        )
        .await;
    assert_eq!(location(&begun), Some("/account/two-factor/setup"));
    drop(begun);
    let setup = app.page("/account/two-factor/setup").await;
    assert!(setup.contains("<svg"), "the QR code is inline SVG");
    let secret = secret_on(&setup);
    let code = secret.code_at(app.clock.now());
    let confirmed = app
        .post(
            "/account/two-factor/confirm",
            "/account/two-factor/setup",
            &[("code", &code)],
        )
        .await;
    assert_eq!(confirmed.status(), Status::Ok);
    let codes = codes_on(&confirmed.into_string().await.unwrap());
    assert_eq!(codes.len(), 10);
    // Sign-ins below start clear of the step that confirmed the app.
    app.clock.advance(Duration::seconds(60));
    (app, secret, codes)
}

/// Logs out and enters the password: where it lands.
async fn password_again(app: &TestApp) -> Option<String> {
    app.logout().await;
    let answer = app.login("ada@example.com", RIGHT).await;
    location(&answer).map(str::to_owned)
}

async fn enter_code(app: &TestApp, code: &str) -> (Status, Option<String>) {
    let answer = app
        .post("/login/code", "/login/code", &[("code", code)])
        .await;
    (answer.status(), location(&answer).map(str::to_owned))
}

#[tokio::test]
async fn enrolment_needs_the_password_and_a_code_from_the_new_secret() {
    let app = logged_in("Ada").await;
    let wrong = app
        .post(
            "/account/two-factor",
            "/account",
            &[("two_factor_password", "not it")],
        )
        .await;
    assert_eq!(wrong.status(), Status::Unauthorized);
    app.post(
        "/account/two-factor",
        "/account",
        &[("two_factor_password", RIGHT)],
    )
    .await;
    let setup = app.page("/account/two-factor/setup").await;
    let other = TotpSecret::generate().unwrap();
    let refused = app
        .post(
            "/account/two-factor/confirm",
            "/account/two-factor/setup",
            &[("code", &other.code_at(app.clock.now()))],
        )
        .await;
    assert_eq!(refused.status(), Status::UnprocessableEntity);
    assert!(refused
        .into_string()
        .await
        .unwrap()
        .contains("That code is not right"));
    assert!(app.page("/account").await.contains("Off."));

    let code = secret_on(&setup).code_at(app.clock.now());
    let confirmed = app
        .post(
            "/account/two-factor/confirm",
            "/account/two-factor/setup",
            &[("code", &code)],
        )
        .await;
    assert_eq!(confirmed.status(), Status::Ok);
    assert!(app
        .page("/account")
        .await
        .contains("10 recovery codes left"));
    let history = app.page("/account/history").await;
    assert!(history.contains("Two-factor sign-in turned on"));
}

#[tokio::test]
async fn the_database_keeps_the_apps_secret_sealed_with_a_key_from_the_secret_key() {
    let (app, secret, _) = enrolled().await;
    let store = app.auth().store();
    let ada = store
        .find_credentials(&Email::parse("ada@example.com").unwrap())
        .await
        .unwrap()
        .unwrap()
        .user;
    let kept = store.find_totp(ada.id).await.unwrap().unwrap().secret;
    assert!(kept.is_sealed());
    let raw = secret.expose_bytes();
    assert!(
        !kept.as_bytes().windows(raw.len()).any(|w| w == raw),
        "the database holds nothing of the raw secret"
    );
    let key =
        auth_web::setup::secret_key::totp_key(app.client.rocket().figment()).expect("a secret key");
    assert_eq!(key.open(ada.id, &kept).as_ref(), Some(&secret));
}

#[tokio::test]
async fn the_password_alone_opens_nothing_and_the_code_signs_in() {
    let (app, secret, _) = enrolled().await;
    assert_eq!(password_again(&app).await.as_deref(), Some("/login/code"));
    for page in ["/secrets", "/account", "/download"] {
        assert_eq!(
            app.get(page).await.0,
            Status::SeeOther,
            "{page} stays closed"
        );
    }
    let code_page = app.page("/login/code").await;
    assert!(code_page.contains("ada@example.com"));
    let (status, to) = enter_code(&app, &secret.code_at(app.clock.now())).await;
    assert_eq!(
        (status, to.as_deref()),
        (Status::SeeOther, Some("/secrets"))
    );
    assert_eq!(app.get("/secrets").await.0, Status::Ok);
}

#[tokio::test]
async fn the_same_code_is_refused_the_second_time() {
    let (app, secret, _) = enrolled().await;
    let code = secret.code_at(app.clock.now());
    password_again(&app).await;
    assert_eq!(enter_code(&app, &code).await.0, Status::SeeOther);
    password_again(&app).await;
    assert_eq!(enter_code(&app, &code).await.0, Status::Unauthorized);
}

#[tokio::test]
async fn one_step_of_drift_is_accepted_two_are_refused() {
    let (app, secret, _) = enrolled().await;
    let now = app.clock.now();
    let at = |steps: i64| now + Duration::seconds(30 * steps);
    for far in [-2, 2] {
        let code = secret.code_at(at(far));
        if [-1, 0, 1].iter().all(|d| secret.code_at(at(*d)) != code) {
            password_again(&app).await;
            assert_eq!(
                enter_code(&app, &code).await.0,
                Status::Unauthorized,
                "{far}"
            );
        }
    }
    for near in [-1, 1] {
        password_again(&app).await;
        let (status, _) = enter_code(&app, &secret.code_at(at(near))).await;
        assert_eq!(status, Status::SeeOther, "{near} step");
    }
}

#[tokio::test]
async fn each_recovery_code_works_once() {
    let (app, _, codes) = enrolled().await;
    password_again(&app).await;
    let typed = codes[0].to_uppercase();
    assert_eq!(enter_code(&app, &typed).await.0, Status::SeeOther);
    password_again(&app).await;
    assert_eq!(enter_code(&app, &codes[0]).await.0, Status::Unauthorized);
    assert_eq!(enter_code(&app, &codes[1]).await.0, Status::SeeOther);
    assert!(app.page("/account").await.contains("8 recovery codes left"));
}

#[tokio::test]
async fn wrong_codes_are_throttled_with_the_accounts_logins() {
    let (app, secret, _) = enrolled().await;
    password_again(&app).await;
    for _ in 0..5 {
        assert_eq!(enter_code(&app, "000000").await.0, Status::Unauthorized);
    }
    let locked = app
        .post("/login/code", "/login/code", &[("code", "000000")])
        .await;
    assert_eq!(locked.status(), Status::TooManyRequests);
    assert!(locked.headers().get_one("Retry-After").is_some());
    let (status, _) = enter_code(&app, &secret.code_at(app.clock.now())).await;
    assert_eq!(status, Status::TooManyRequests, "even the right code waits");
}

#[tokio::test]
async fn a_code_page_without_a_pending_sign_in_sends_to_the_login() {
    let app = crate::common::app().await;
    let (status, _) = app.get("/login/code").await;
    assert_eq!(status, Status::SeeOther);
    let answer = app
        .post("/login/code", "/login", &[("code", "123456")])
        .await;
    assert_eq!(location(&answer), Some("/login"));
}

#[tokio::test]
async fn turning_it_off_needs_the_password() {
    let (app, _, _) = enrolled().await;
    // The notice of the enrolment went out (it tells the state as it is
    // when sent).
    app.mail(2).await;
    let wrong = app
        .post(
            "/account/two-factor/off",
            "/account",
            &[("two_factor_off_password", "nope")],
        )
        .await;
    assert_eq!(wrong.status(), Status::Unauthorized);
    let off = app
        .post(
            "/account/two-factor/off",
            "/account",
            &[("two_factor_off_password", RIGHT)],
        )
        .await;
    assert_eq!(location(&off), Some("/account#two-factor"));
    drop(off);
    assert_eq!(password_again(&app).await.as_deref(), Some("/secrets"));
    // The owner was told of both changes: the confirmation, then two
    // notices.
    let mail = app.mail(3).await;
    // As the text part reads, quoted-printable soft line breaks undone.
    let notices: Vec<String> = with_subject(&mail, "Your two-factor sign-in changed")
        .iter()
        .map(|m| m.replace("=\r\n", "").replace("=\n", ""))
        .collect();
    assert_eq!(notices.len(), 2, "{mail:#?}");
    let saying = |text: &str| notices.iter().filter(|m| m.contains(text)).count();
    assert_eq!(saying("It is off"), 1, "{notices:#?}");
    assert_eq!(saying("you have 10 recovery codes"), 1, "{notices:#?}");
}
