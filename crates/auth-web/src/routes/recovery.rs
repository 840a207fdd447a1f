//! A forgotten password: the form asking for the address, the link from
//! the mail, and the form for a new password.
//!
//! The link's token never stays in a page's address: following the link
//! puts it in a private cookie and redirects to `/password/reset`, so it is
//! not in the history, the address bar, or a `Referer` (Django does the
//! same).

use crate::http::templates::Html;
use auth_core::{AuthError, LinkPurpose, LinkToken};
use rocket::http::{CookieJar, Status};
use rocket::response::Redirect;
use rocket::{get, post, routes, uri, FromForm, Route, State};
use serde::Serialize;

use crate::guards::cookie_policy::{CookieName, CookiePolicy};
use crate::guards::form_field::TextField;
use crate::guards::session_cookie::SessionCookie;
use crate::guards::{Client, CsrfForm, CsrfToken};
use crate::http::error::AppError;
use crate::http::flash::Flash;
use crate::http::page::Page;
use crate::http::reply::{FieldErrors, FormWording, Refusal, Reply};
use crate::routes::{email, login};
use crate::setup::Auth;

pub(crate) fn routes() -> Vec<Route> {
    routes![forgot_form, forgot, follow, reset_form, reset]
}

/// The private cookie holding a reset link's token between the link and
/// the new password.
const RESET_COOKIE: CookieName = CookieName {
    plain: "password_reset",
    host: "__Host-password_reset",
};

/// The path of a reset link for `token`, for its mail.
pub fn reset_link(token: &LinkToken) -> String {
    uri!(follow(token.expose_secret())).to_string()
}

/// Where a password reset is asked for.
pub fn forgot_path() -> String {
    uri!(forgot_form).to_string()
}

#[derive(FromForm)]
pub struct ForgotForm {
    email: TextField,
}

#[derive(FromForm)]
pub struct ResetForm {
    new_password: TextField,
}

const FORGOT: FormWording = FormWording {
    credentials_field: "email",
    wrong_credentials: "",
    new_password_field: "password",
    blank: None,
    too_many: "Too many reset links have been asked for.",
    paused: "sending them",
};

const RESET: FormWording = FormWording {
    credentials_field: "new_password",
    wrong_credentials: "",
    new_password_field: "new_password",
    blank: None,
    too_many: "Too many attempts.",
    paused: "this",
};

#[derive(Serialize, Default)]
struct ForgotView<'a> {
    email: &'a str,
    errors: FieldErrors,
}

#[derive(Serialize)]
struct ResetView<'a> {
    email: &'a str,
    errors: FieldErrors,
}

/// "Forgot your password?": the address to send a link to.
#[get("/password/forgot")]
pub fn forgot_form(page: Page<'_>) -> Html {
    page.render("forgot", ForgotView::default())
}

/// Queues a reset link for the address. The answer is the same whether or
/// not an account has it.
#[post("/password/forgot", data = "<form>")]
pub async fn forgot(
    form: CsrfForm<ForgotForm>,
    client: Client,
    page: Page<'_>,
    auth: &State<Auth>,
) -> Result<Reply, AppError> {
    let form = form.0;
    let refusal = match auth.request_password_reset(&form.email, &client.0).await {
        Ok(()) => {
            let hours = crate::mail::compose::in_words(auth.mail_policy().reset_valid_for);
            return Ok(Reply::redirect(Flash::new(
                Redirect::to(uri!(login::form(next = None::<&str>))),
                "info",
                format!(
                    "If an account uses that address, a link to choose a new password \
                     is on its way to it. The link works for {hours}. If nothing \
                     arrives in a few minutes, check your spam folder or the address."
                ),
            )));
        }
        Err(error) => Refusal::of(error, &FORGOT)?,
    };
    let view = ForgotView {
        email: form.email.trim(),
        errors: refusal.errors().clone(),
    };
    Ok(refusal.reply(page.render("forgot", view)))
}

/// The link from the mail: keeps the token in a private cookie for the
/// link's lifetime and goes on to the form, or explains a dead link.
#[get("/password/reset/<token>")]
pub async fn follow(
    token: &str,
    auth: &State<Auth>,
    jar: &CookieJar<'_>,
    cookie: SessionCookie,
    page: Page<'_>,
) -> Result<Result<Redirect, (Status, Html)>, AppError> {
    let policy = cookie.policy();
    let Some(token) = LinkToken::parse(token) else {
        return Ok(Err(email::dead_link(page, LinkPurpose::PasswordReset)));
    };
    match auth.check_link(&token, LinkPurpose::PasswordReset).await {
        Ok(_) => {
            let valid_for = auth.mail_policy().reset_valid_for;
            jar.add_private(policy.cookie_for(
                RESET_COOKIE,
                token.expose_secret().to_owned(),
                auth.now(),
                valid_for,
            ));
            Ok(Ok(Redirect::to(uri!(reset_form))))
        }
        Err(AuthError::InvalidLink) => Ok(Err(email::dead_link(page, LinkPurpose::PasswordReset))),
        Err(e) => Err(e.into()),
    }
}

/// The token the browser holds from a reset link, if any.
fn held_token(jar: &CookieJar<'_>, policy: CookiePolicy) -> Option<LinkToken> {
    jar.get_private(policy.name(RESET_COOKIE))
        .and_then(|cookie| LinkToken::parse(cookie.value()))
}

/// The form for a new password, for the browser holding a live link.
#[get("/password/reset")]
pub async fn reset_form(
    auth: &State<Auth>,
    jar: &CookieJar<'_>,
    cookie: SessionCookie,
    page: Page<'_>,
) -> Result<Result<Html, (Status, Html)>, AppError> {
    let policy = cookie.policy();
    let Some(token) = held_token(jar, policy) else {
        return Ok(Err(email::dead_link(page, LinkPurpose::PasswordReset)));
    };
    match auth.check_link(&token, LinkPurpose::PasswordReset).await {
        Ok(target) => Ok(Ok(page.render(
            "reset",
            ResetView {
                email: target.email.as_str(),
                errors: FieldErrors::default(),
            },
        ))),
        Err(AuthError::InvalidLink) => {
            policy.remove_private(jar, RESET_COOKIE);
            Ok(Err(email::dead_link(page, LinkPurpose::PasswordReset)))
        }
        Err(e) => Err(e.into()),
    }
}

/// Sets the new password: every session of the account ends (this
/// browser's too), and the user logs in afresh with it.
#[post("/password/reset", data = "<form>")]
pub async fn reset(
    form: CsrfForm<ResetForm>,
    client: Client,
    auth: &State<Auth>,
    jar: &CookieJar<'_>,
    cookie: SessionCookie,
    page: Page<'_>,
) -> Result<Result<Reply, (Status, Html)>, AppError> {
    let policy = cookie.policy();
    let Some(token) = held_token(jar, policy) else {
        return Ok(Err(email::dead_link(page, LinkPurpose::PasswordReset)));
    };
    let refusal = match auth
        .reset_password(&token, &form.0.new_password, &client.0)
        .await
    {
        Ok(_) => {
            policy.remove_private(jar, RESET_COOKIE);
            cookie.clear(jar);
            CsrfToken::rotate(jar, policy)?;
            return Ok(Ok(Reply::redirect(Flash::success(
                Redirect::to(uri!(login::form(next = None::<&str>))),
                "Your password has been changed, and every session of your account \
                 has been logged out. Log in with your new password.",
            ))));
        }
        Err(AuthError::InvalidLink) => {
            policy.remove_private(jar, RESET_COOKIE);
            return Ok(Err(email::dead_link(page, LinkPurpose::PasswordReset)));
        }
        Err(error) => Refusal::of(error, &RESET)?,
    };
    // The link is still good: the form again, for a better password.
    let email = match auth.check_link(&token, LinkPurpose::PasswordReset).await {
        Ok(target) => target.email.to_string(),
        Err(_) => String::new(),
    };
    let view = ResetView {
        email: &email,
        errors: refusal.errors().clone(),
    };
    Ok(Ok(refusal.reply(page.render("reset", view))))
}
