//! Links that confirm an address or move an account to a new one. A link
//! opens a page with a button, and only the button's POST acts: mail
//! scanners that fetch every link change nothing.

use crate::http::templates::Html;
use auth_core::{AuthError, LinkPurpose, LinkToken};
use rocket::http::{CookieJar, Status};
use rocket::response::Redirect;
use rocket::{get, post, routes, uri, FromForm, Route, State};
use serde::Serialize;

use crate::guards::form_field::TextField;
use crate::guards::session_cookie::SessionCookie;
use crate::guards::{Client, CsrfForm, Visitor};
use crate::http::error::AppError;
use crate::http::flash::Flash;
use crate::http::page::Page;
use crate::routes::{account, login, recovery};
use crate::setup::Auth;

pub(crate) fn routes() -> Vec<Route> {
    routes![confirm_page, confirm, change_page, change]
}

/// The path of a link confirming an address, for its mail.
pub fn confirm_link(token: &LinkToken) -> String {
    uri!(confirm_page(token.expose_secret())).to_string()
}

/// The path of a link moving an account to a new address, for its mail.
pub fn change_link(token: &LinkToken) -> String {
    uri!(change_page(token.expose_secret())).to_string()
}

/// A link's button: its token.
#[derive(FromForm)]
pub struct LinkForm {
    token: TextField,
}

#[derive(Serialize)]
struct LinkView<'a> {
    title: &'static str,
    text: String,
    action: String,
    token: &'a str,
    button: &'static str,
}

#[derive(Serialize)]
struct DeadLinkView {
    title: &'static str,
    text: &'static str,
    next: String,
    next_label: &'static str,
}

/// The page for a link that cannot be used (400): unknown, expired, used,
/// replaced by a newer one, or for an address the account no longer has;
/// with the way to a new one.
pub fn dead_link(page: Page<'_>, purpose: LinkPurpose) -> (Status, Html) {
    let (next, next_label) = match purpose {
        LinkPurpose::PasswordReset => (recovery::forgot_path(), "Ask for a new link"),
        _ => (
            format!("{}#email", uri!(account::show)),
            "Send a new link from your account page",
        ),
    };
    let view = DeadLinkView {
        title: "This link cannot be used",
        text: "It has expired, it was used already, or a newer link replaced it. \
               Links from our mail work once, for a limited time.",
        next,
        next_label,
    };
    (Status::BadRequest, page.render("link_dead", view))
}

/// The page a link of `purpose` opens, with its button.
async fn link_page(
    token: &str,
    purpose: LinkPurpose,
    auth: &Auth,
    page: Page<'_>,
) -> Result<Result<Html, (Status, Html)>, AppError> {
    let Some(parsed) = LinkToken::parse(token) else {
        return Ok(Err(dead_link(page, purpose)));
    };
    let target = match auth.check_link(&parsed, purpose).await {
        Ok(target) => target,
        Err(AuthError::InvalidLink) => return Ok(Err(dead_link(page, purpose))),
        Err(e) => return Err(e.into()),
    };
    let view = match purpose {
        LinkPurpose::ChangeEmail => LinkView {
            title: "Change your email address",
            text: format!(
                "Make {} the address of the account of {}? You will log in with it \
                 from now on, and your other sessions will be logged out.",
                target.email,
                target.user.name.as_str()
            ),
            action: uri!(change).to_string(),
            token,
            button: "Change my address",
        },
        _ => LinkView {
            title: "Confirm your email address",
            text: format!("Confirm that {} is your address.", target.email),
            action: uri!(confirm).to_string(),
            token,
            button: "Confirm my address",
        },
    };
    Ok(Ok(page.render("link", view)))
}

/// Where to go after a link worked: the account page when logged in.
fn onward(visitor: &Visitor) -> String {
    match visitor.0 {
        Some(_) => uri!(account::show).to_string(),
        None => uri!(login::form(next = None::<&str>)).to_string(),
    }
}

#[get("/email/confirm/<token>")]
pub async fn confirm_page(
    token: &str,
    auth: &State<Auth>,
    page: Page<'_>,
) -> Result<Result<Html, (Status, Html)>, AppError> {
    link_page(token, LinkPurpose::ConfirmEmail, auth, page).await
}

/// Confirms the address the link was sent to.
#[post("/email/confirm", data = "<form>")]
pub async fn confirm(
    form: CsrfForm<LinkForm>,
    visitor: Visitor,
    client: Client,
    auth: &State<Auth>,
    page: Page<'_>,
) -> Result<Result<Flash<Redirect>, (Status, Html)>, AppError> {
    let Some(token) = LinkToken::parse(form.0.token.trim()) else {
        return Ok(Err(dead_link(page, LinkPurpose::ConfirmEmail)));
    };
    match auth.confirm_email(&token, &client.0).await {
        Ok(user) => Ok(Ok(Flash::success(
            Redirect::to(onward(&visitor)),
            format!("Thank you: {} is confirmed as your address.", user.email),
        ))),
        Err(AuthError::InvalidLink) => Ok(Err(dead_link(page, LinkPurpose::ConfirmEmail))),
        Err(e) => Err(e.into()),
    }
}

#[get("/email/change/<token>")]
pub async fn change_page(
    token: &str,
    auth: &State<Auth>,
    page: Page<'_>,
) -> Result<Result<Html, (Status, Html)>, AppError> {
    link_page(token, LinkPurpose::ChangeEmail, auth, page).await
}

/// Moves the account to the address the link was sent to; every other
/// session of it ends, and the old address is told.
#[post("/email/change", data = "<form>")]
pub async fn change(
    form: CsrfForm<LinkForm>,
    visitor: Visitor,
    client: Client,
    cookie: SessionCookie,
    jar: &CookieJar<'_>,
    auth: &State<Auth>,
    page: Page<'_>,
) -> Result<Result<Flash<Redirect>, (Status, Html)>, AppError> {
    let Some(token) = LinkToken::parse(form.0.token.trim()) else {
        return Ok(Err(dead_link(page, LinkPurpose::ChangeEmail)));
    };
    let current = cookie.token(jar);
    match auth.change_email(&token, current.as_ref(), &client.0).await {
        Ok(change) => Ok(Ok(Flash::success(
            Redirect::to(onward(&visitor)),
            format!(
                "Your account's address is now {}. Any other sessions have been logged out.",
                change.new
            ),
        ))),
        Err(AuthError::InvalidLink) => Ok(Err(dead_link(page, LinkPurpose::ChangeEmail))),
        Err(AuthError::EmailTaken) => Ok(Err((
            Status::Conflict,
            page.render(
                "link_dead",
                DeadLinkView {
                    title: "That address is taken",
                    text: "Another account uses that address now, so yours was not changed.",
                    next: format!("{}#email", uri!(account::show)),
                    next_label: "Choose another address",
                },
            ),
        ))),
        Err(e) => Err(e.into()),
    }
}
