//! Two-factor sign-in: the page that asks for the code after the password,
//! and, on the account page, turning an authenticator app on (with its QR
//! code and recovery codes) and off.

use crate::http::templates::Html;
use auth_core::time::OffsetDateTime;
use auth_core::{
    AuthError, PendingSignIn, RecoveryCode, SecondFactorError, SignInToken, TotpSecret,
    SIGN_IN_STEP_VALID_FOR,
};
use rocket::http::{CookieJar, Status};
use rocket::response::Redirect;
use rocket::{get, post, routes, uri, FromForm, Route, State};
use serde::Serialize;

use crate::guards::cookie_policy::{CookieName, CookiePolicy};
use crate::guards::form_field::TextField;
use crate::guards::local_path::LocalPath;
use crate::guards::session_cookie::SessionCookie;
use crate::guards::{Client, CsrfForm, CurrentUser, SignIn};
use crate::http::error::AppError;
use crate::http::flash::Flash;
use crate::http::page::Page;
use crate::http::reply::{FieldErrors, FormWording, Refusal, Reply};
use crate::routes::{account, login};
use crate::setup::Auth;

pub(crate) fn routes() -> Vec<Route> {
    routes![
        code_form,
        code_submit,
        begin,
        setup,
        confirm,
        regenerate,
        turn_off
    ]
}

/// The private cookie that holds a sign-in waiting for its code.
const SIGN_IN_COOKIE: CookieName = CookieName {
    plain: "sign_in",
    host: "__Host-sign_in",
};

/// The name authenticator apps show for the account's entry.
const ISSUER: &str = "Secrets";

/// Keeps `pending` in the browser, for the code page, as long as it lasts.
pub(crate) fn hold(
    jar: &CookieJar<'_>,
    policy: CookiePolicy,
    pending: &PendingSignIn,
    now: OffsetDateTime,
) {
    jar.add_private(policy.cookie_for(
        SIGN_IN_COOKIE,
        pending.token.expose_secret().to_owned(),
        now,
        SIGN_IN_STEP_VALID_FOR,
    ));
}

pub(crate) fn held(jar: &CookieJar<'_>, policy: CookiePolicy) -> Option<SignInToken> {
    jar.get_private(policy.name(SIGN_IN_COOKIE))
        .and_then(|cookie| SignInToken::parse(cookie.value()))
}

/// Forgets the sign-in the browser held (it was completed).
pub(crate) fn forget(jar: &CookieJar<'_>, policy: CookiePolicy) {
    policy.remove_private(jar, SIGN_IN_COOKIE);
}

/// Back to the login form: the sign-in expired, was used, or never began.
pub(crate) fn start_again(jar: &CookieJar<'_>, policy: CookiePolicy) -> Flash<Redirect> {
    policy.remove_private(jar, SIGN_IN_COOKIE);
    Flash::error(
        Redirect::to(uri!(login::form(next = None::<&str>))),
        "Your sign-in took too long or was already used. Log in again.",
    )
}

#[derive(FromForm)]
pub struct CodeForm {
    code: TextField,
    next: TextField,
}

#[derive(Serialize, Default)]
struct CodeView<'a> {
    email: &'a str,
    next: Option<&'a str>,
    /// Which second factors the account has: an app (or its recovery
    /// codes), passkeys.
    app: bool,
    passkeys: bool,
    errors: FieldErrors,
}

/// The code page for `user`, showing the second factors it has.
async fn code_page(
    page: Page<'_>,
    auth: &Auth,
    user: &auth_core::User,
    next: Option<&LocalPath>,
    errors: FieldErrors,
) -> Result<Html, AppError> {
    let app = auth.has_app(user.id).await?;
    let passkeys = auth.has_passkey(user.id).await?;
    Ok(page.render(
        "login_code",
        CodeView {
            email: user.email.as_str(),
            next: next.map(LocalPath::as_str),
            app,
            passkeys,
            errors,
        },
    ))
}

/// How the code form words the service's refusals.
const CODE: FormWording = FormWording {
    credentials_field: "code",
    wrong_credentials: "That code is not right. Enter the code your app shows now, or one of \
                        your recovery codes.",
    new_password_field: "code",
    blank: None,
    too_many: "Too many wrong codes or passwords.",
    paused: "signing in",
};

/// The second step of a sign-in: the code from the app.
#[get("/login/code?<next>")]
pub async fn code_form(
    next: Option<&str>,
    jar: &CookieJar<'_>,
    cookie: SessionCookie,
    page: Page<'_>,
    auth: &State<Auth>,
) -> Result<Result<Html, Flash<Redirect>>, AppError> {
    let policy = cookie.policy();
    let Some(token) = held(jar, policy) else {
        return Ok(Err(start_again(jar, policy)));
    };
    let next = next.and_then(LocalPath::parse);
    match auth.pending_sign_in(&token).await {
        Ok(user) => Ok(Ok(code_page(
            page,
            auth,
            &user,
            next.as_ref(),
            FieldErrors::default(),
        )
        .await?)),
        Err(AuthError::SecondFactor(SecondFactorError::SignInExpired)) => {
            Ok(Err(start_again(jar, policy)))
        }
        Err(e) => Err(e.into()),
    }
}

/// Checks the code; a right one issues the session and goes on like a
/// login. Wrong codes are throttled with the account's logins.
#[post("/login/code", data = "<form>")]
#[allow(clippy::too_many_arguments)]
pub async fn code_submit(
    form: CsrfForm<CodeForm>,
    jar: &CookieJar<'_>,
    cookie: SessionCookie,
    sign_in: SignIn<'_>,
    client: Client,
    page: Page<'_>,
    auth: &State<Auth>,
) -> Result<Result<Reply, Flash<Redirect>>, AppError> {
    let policy = cookie.policy();
    let form = form.0;
    let next = LocalPath::parse(&form.next);
    let Some(token) = held(jar, policy) else {
        return Ok(Err(start_again(jar, policy)));
    };
    let refusal = match auth.complete_sign_in(&token, &form.code, &client.0).await {
        Ok(issued) => {
            forget(jar, policy);
            sign_in.begin(&issued).await?;
            return Ok(Ok(login::logged_in(next.as_ref())));
        }
        Err(AuthError::SecondFactor(SecondFactorError::SignInExpired)) => {
            return Ok(Err(start_again(jar, policy)));
        }
        Err(error) => {
            login::security_event(&error, &client);
            Refusal::of(error, &CODE)?
        }
    };
    let template = match auth.pending_sign_in(&token).await {
        Ok(user) => code_page(page, auth, &user, next.as_ref(), refusal.errors().clone()).await?,
        // It ended meanwhile (throttled to the end, or the factor went).
        Err(_) => page.render(
            "login_code",
            CodeView {
                next: next.as_ref().map(LocalPath::as_str),
                errors: refusal.errors().clone(),
                ..CodeView::default()
            },
        ),
    };
    Ok(Ok(refusal.reply(template)))
}

/// The password again, before a change to the second factor.
#[derive(FromForm)]
pub struct PasswordForm {
    two_factor_password: TextField,
}

/// The password again, before turning the app off (a form of its own, so
/// that Enter in the other password field never turns it off).
#[derive(FromForm)]
pub struct OffForm {
    two_factor_off_password: TextField,
}

/// How the "turn it off" form words the service's refusals.
const TWO_FACTOR_OFF: FormWording = FormWording {
    credentials_field: "two_factor_off_password",
    wrong_credentials: "Your password is not correct.",
    new_password_field: "two_factor_off_password",
    blank: None,
    too_many: "Too many wrong passwords.",
    paused: "this",
};

/// How the account page's other two-factor forms word the service's
/// refusals.
const TWO_FACTOR_PASSWORD: FormWording = FormWording {
    credentials_field: "two_factor_password",
    wrong_credentials: "Your password is not correct.",
    new_password_field: "two_factor_password",
    blank: None,
    too_many: "Too many wrong passwords.",
    paused: "this",
};

fn to_panel(message: &'static str) -> Flash<Redirect> {
    Flash::success(
        Redirect::to(format!("{}#two-factor", uri!(account::show))),
        message,
    )
}

/// The account page again with the two-factor form's problem.
async fn refused(
    refusal: Refusal,
    page: Page<'_>,
    user: &CurrentUser,
    auth: &Auth,
) -> Result<Reply, AppError> {
    let template = account::render(page, user, auth, refusal.errors().clone(), "").await?;
    Ok(refusal.reply(template))
}

/// Starts setting up an app, after the password: a new secret, shown on the
/// setup page until a code from it confirms it.
#[post("/account/two-factor", data = "<form>")]
pub async fn begin(
    form: CsrfForm<PasswordForm>,
    user: CurrentUser,
    client: Client,
    page: Page<'_>,
    auth: &State<Auth>,
) -> Result<Result<Redirect, Reply>, AppError> {
    let refusal = match auth
        .begin_totp(&user.token, &form.0.two_factor_password, &client.0)
        .await
    {
        Ok(_) => return Ok(Ok(Redirect::to(uri!(setup)))),
        Err(AuthError::SecondFactor(SecondFactorError::AlreadyOn)) => {
            return Ok(Err(Reply::redirect(to_panel(
                "Two-factor sign-in is already on.",
            ))))
        }
        Err(error) => Refusal::of(error, &TWO_FACTOR_PASSWORD)?,
    };
    Ok(Err(refused(refusal, page, &user, auth).await?))
}

#[derive(Serialize)]
struct SetupView {
    /// The QR code of the otpauth:// address, as inline SVG.
    qr_svg: String,
    /// The secret in groups of four, for typing.
    secret: String,
    errors: FieldErrors,
}

/// The secret as a QR code, inline SVG without its XML declaration: no
/// image request, nothing the Content-Security-Policy blocks.
fn qr_svg(secret: &TotpSecret, user: &CurrentUser) -> Result<String, AppError> {
    let url = secret.otpauth_url(ISSUER, &user.user().email);
    let code = qrcode::QrCode::new(url.as_bytes()).map_err(|e| {
        log::error!("Cannot draw the QR code: {e}");
        AppError::Internal
    })?;
    let svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .dark_color(qrcode::render::svg::Color("#000000"))
        .light_color(qrcode::render::svg::Color("#ffffff"))
        .build();
    let start = svg.find("<svg").unwrap_or(0);
    Ok(svg[start..].replacen(
        "<svg",
        "<svg role=\"img\" aria-label=\"QR code for your authenticator app\"",
        1,
    ))
}

fn grouped(base32: &str) -> String {
    base32
        .as_bytes()
        .chunks(4)
        .map(|chunk| String::from_utf8_lossy(chunk).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

async fn setup_page(
    page: Page<'_>,
    user: &CurrentUser,
    auth: &Auth,
    errors: FieldErrors,
) -> Result<Option<Html>, AppError> {
    let Some(secret) = auth.waiting_totp(user.user().id).await? else {
        return Ok(None);
    };
    Ok(Some(page.render(
        "two_factor_setup",
        SetupView {
            qr_svg: qr_svg(&secret, user)?,
            secret: grouped(&secret.base32()),
            errors,
        },
    )))
}

/// The QR code and the secret, and the form for the first code.
#[get("/account/two-factor/setup")]
pub async fn setup(
    user: CurrentUser,
    page: Page<'_>,
    auth: &State<Auth>,
) -> Result<Result<Html, Redirect>, AppError> {
    Ok(setup_page(page, &user, auth, FieldErrors::default())
        .await?
        .ok_or_else(|| Redirect::to(format!("{}#two-factor", uri!(account::show)))))
}

#[derive(FromForm)]
pub struct ConfirmForm {
    code: TextField,
}

#[derive(Serialize)]
struct CodesView {
    codes: Vec<String>,
    /// The codes as a text file, for the download link.
    download: String,
}

/// The recovery codes, shown once.
fn codes_page(page: Page<'_>, codes: &[RecoveryCode]) -> Html {
    let codes: Vec<String> = codes.iter().map(|c| c.expose_secret().to_owned()).collect();
    let text = format!(
        "Recovery codes for {ISSUER}. Each works once, instead of a code from your app.\n\n{}\n",
        codes.join("\n")
    );
    let download = format!(
        "data:text/plain;charset=utf-8,{}",
        rocket::http::RawStr::new(&text).percent_encode()
    );
    page.render("recovery_codes", CodesView { codes, download })
}

/// Confirms the app with its first code: from now on sign-in asks for one.
/// Answers with the recovery codes.
#[post("/account/two-factor/confirm", data = "<form>")]
pub async fn confirm(
    form: CsrfForm<ConfirmForm>,
    user: CurrentUser,
    client: Client,
    page: Page<'_>,
    auth: &State<Auth>,
) -> Result<Result<Html, Result<(Status, Html), Redirect>>, AppError> {
    match auth
        .confirm_totp(user.user(), &form.0.code, &client.0)
        .await
    {
        Ok(enrolled) => Ok(Ok(codes_page(page, &enrolled.recovery_codes))),
        Err(AuthError::InvalidCredentials) => {
            let errors = FieldErrors::from([(
                "code",
                "That code is not right. Enter the six digits your app shows now.".to_owned(),
            )]);
            match setup_page(page, &user, auth, errors).await? {
                Some(template) => Ok(Err(Ok((Status::UnprocessableEntity, template)))),
                None => Ok(Err(Err(Redirect::to(uri!(account::show))))),
            }
        }
        Err(AuthError::SecondFactor(_)) => Ok(Err(Err(Redirect::to(format!(
            "{}#two-factor",
            uri!(account::show)
        ))))),
        Err(e) => Err(e.into()),
    }
}

/// New recovery codes, after the password; the old ones stop working.
#[post("/account/two-factor/recovery-codes", data = "<form>")]
pub async fn regenerate(
    form: CsrfForm<PasswordForm>,
    user: CurrentUser,
    client: Client,
    page: Page<'_>,
    auth: &State<Auth>,
) -> Result<Result<Html, Reply>, AppError> {
    let refusal = match auth
        .regenerate_recovery_codes(&user.token, &form.0.two_factor_password, &client.0)
        .await
    {
        Ok(codes) => return Ok(Ok(codes_page(page, &codes))),
        Err(AuthError::SecondFactor(_)) => {
            return Ok(Err(Reply::redirect(to_panel(
                "Two-factor sign-in is off, so there are no recovery codes.",
            ))))
        }
        Err(error) => Refusal::of(error, &TWO_FACTOR_PASSWORD)?,
    };
    Ok(Err(refused(refusal, page, &user, auth).await?))
}

/// Turns the app off, after the password.
#[post("/account/two-factor/off", data = "<form>")]
pub async fn turn_off(
    form: CsrfForm<OffForm>,
    user: CurrentUser,
    client: Client,
    page: Page<'_>,
    auth: &State<Auth>,
) -> Result<Reply, AppError> {
    let refusal = match auth
        .disable_totp(&user.token, &form.0.two_factor_off_password, &client.0)
        .await
    {
        Ok(()) => {
            return Ok(Reply::redirect(to_panel(
                "Two-factor sign-in is off: your password alone signs you in.",
            )))
        }
        Err(AuthError::SecondFactor(_)) => {
            return Ok(Reply::redirect(to_panel(
                "Two-factor sign-in is already off.",
            )))
        }
        Err(error) => Refusal::of(error, &TWO_FACTOR_OFF)?,
    };
    refused(refusal, page, &user, auth).await
}
