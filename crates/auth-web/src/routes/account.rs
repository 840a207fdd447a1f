//! The account page: details, password change, and the account's sessions.

use auth_core::time::OffsetDateTime;
use auth_core::{AuthError, SessionSummary};
use rocket::http::Status;
use rocket::response::Redirect;

use crate::flash::Flash;
use rocket::{get, post, routes, uri, FromForm, Route, State};
use rocket_dyn_templates::Template;
use serde::Serialize;

use crate::error::AppError;
use crate::form_field::TextField;
use crate::guards::{CsrfForm, CsrfProtected, CurrentUser};
use crate::page::Page;
use crate::routes::{wait_in_words, Reply, Throttled};
use crate::Auth;

pub(crate) fn routes() -> Vec<Route> {
    routes![show, change_password, end_other_sessions]
}

/// The password-change form.
#[derive(FromForm)]
pub struct PasswordForm {
    current_password: TextField,
    new_password: TextField,
    csrf_token: TextField,
}

impl CsrfProtected for PasswordForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

/// "Log out all other sessions": the password again, and the token.
#[derive(FromForm)]
pub struct ReauthForm {
    password: TextField,
    csrf_token: TextField,
}

impl CsrfProtected for ReauthForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

#[derive(Serialize, Default)]
struct Errors {
    current_password: Option<String>,
    new_password: Option<String>,
    password: Option<String>,
}

#[derive(Serialize)]
struct SessionView {
    created: String,
    last_seen: String,
    current: bool,
}

#[derive(Serialize)]
struct AccountView<'a> {
    name: &'a str,
    email: &'a str,
    member_since: String,
    sessions: Vec<SessionView>,
    errors: Errors,
}

/// A time as the page shows it: `2026-11-27 15:04 UTC`.
fn when(t: OffsetDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute()
    )
}

async fn render(
    page: Page<'_>,
    user: &CurrentUser,
    auth: &Auth,
    errors: Errors,
) -> Result<Template, AppError> {
    let this = user.token.digest();
    let sessions = auth
        .list_sessions(user.user().id)
        .await?
        .iter()
        .map(|s: &SessionSummary| SessionView {
            created: when(s.created_at),
            last_seen: when(s.last_seen_at),
            current: s.digest == this,
        })
        .collect();
    let account = user.user();
    Ok(page.render(
        "account",
        AccountView {
            name: account.name.as_str(),
            email: account.email.as_str(),
            member_since: when(account.created_at),
            sessions,
            errors,
        },
    ))
}

#[get("/account")]
pub async fn show(
    user: CurrentUser,
    page: Page<'_>,
    auth: &State<Auth>,
) -> Result<Template, AppError> {
    render(page, &user, auth, Errors::default()).await
}

/// Needs the current password; ends every other session of the account.
#[post("/account/password", data = "<form>")]
pub async fn change_password(
    form: CsrfForm<PasswordForm>,
    user: CurrentUser,
    page: Page<'_>,
    auth: &State<Auth>,
) -> Result<Reply, AppError> {
    let form = form.0;
    let result = auth
        .change_password(&user.token, &form.current_password, &form.new_password)
        .await;
    let (refusal, errors) = match result {
        Ok(()) => {
            return Ok(Reply::Redirect(Flash::success(
                Redirect::to(uri!(show)),
                "Your password has been changed, and your other sessions have been logged out.",
            )))
        }
        Err(AuthError::InvalidCredentials) => (
            Refusal::Status(Status::Unauthorized),
            Errors {
                current_password: Some("Your current password is not correct.".into()),
                ..Errors::default()
            },
        ),
        Err(AuthError::InvalidInput(errors)) => (
            Refusal::Status(Status::UnprocessableEntity),
            Errors {
                new_password: errors.password.map(|e| e.to_string()),
                ..Errors::default()
            },
        ),
        Err(AuthError::Throttled { retry_after }) => (
            Refusal::Throttled(retry_after),
            Errors {
                current_password: Some(too_many(retry_after)),
                ..Errors::default()
            },
        ),
        Err(other) => return Err(other.into()),
    };
    refused(page, &user, auth, refusal, errors).await
}

/// Ends every session of the account but this one, after checking the
/// password again.
#[post("/account/sessions", data = "<form>")]
pub async fn end_other_sessions(
    form: CsrfForm<ReauthForm>,
    user: CurrentUser,
    page: Page<'_>,
    auth: &State<Auth>,
) -> Result<Reply, AppError> {
    let (refusal, message) = match auth
        .revoke_other_sessions(&user.token, &form.0.password)
        .await
    {
        Ok(ended) => {
            let message = match ended {
                0 => "There were no other sessions to log out.".to_owned(),
                1 => "Logged out 1 other session.".to_owned(),
                n => format!("Logged out {n} other sessions."),
            };
            return Ok(Reply::Redirect(Flash::success(
                Redirect::to(uri!(show)),
                message,
            )));
        }
        Err(AuthError::InvalidCredentials) => (
            Refusal::Status(Status::Unauthorized),
            "Your password is not correct.".to_owned(),
        ),
        Err(AuthError::Throttled { retry_after }) => {
            (Refusal::Throttled(retry_after), too_many(retry_after))
        }
        Err(other) => return Err(other.into()),
    };
    let errors = Errors {
        password: Some(message),
        ..Errors::default()
    };
    refused(page, &user, auth, refusal, errors).await
}

/// How a form on the account page was refused.
enum Refusal {
    /// A 4xx status.
    Status(Status),
    /// Too many wrong passwords: 429, try again after this long.
    Throttled(std::time::Duration),
}

/// The account page again, with the problems by their fields.
async fn refused(
    page: Page<'_>,
    user: &CurrentUser,
    auth: &Auth,
    refusal: Refusal,
    errors: Errors,
) -> Result<Reply, AppError> {
    let page = render(page, user, auth, errors).await?;
    Ok(match refusal {
        Refusal::Status(status) => Reply::Page((status, page)),
        Refusal::Throttled(wait) => Reply::Throttled(Throttled::new(page, wait)),
    })
}

fn too_many(wait: std::time::Duration) -> String {
    format!(
        "Too many wrong passwords. For your security, this is paused: try again in {}.",
        wait_in_words(wait)
    )
}
