//! Logging in.

use auth_core::{AuthError, SessionLength};
use rocket::response::Redirect;

use crate::http::flash::Flash;
use crate::http::templates::Html;
use rocket::{get, post, routes, uri, FromForm, Route, State};
use serde::Serialize;

use crate::guards::form_field::TextField;
use crate::guards::local_path::LocalPath;
use crate::guards::session_cookie::SessionCookie;
use crate::guards::{Client, CsrfForm, SignIn};
use crate::http::error::AppError;
use crate::http::page::Page;
use crate::http::reply::{FieldErrors, FormWording, Refusal, Reply};
use crate::routes::{protected, two_factor};
use crate::setup::Auth;
use rocket::http::CookieJar;

pub(crate) fn routes() -> Vec<Route> {
    routes![form, submit]
}

/// The one message for an unknown email and a wrong password alike.
pub const INVALID_CREDENTIALS: &str = "Invalid email or password. Please try again.";

/// The login form; `next` is where to go afterwards.
#[derive(FromForm)]
pub struct LoginForm {
    email: TextField,
    password: TextField,
    next: TextField,
    /// The "remember me" checkbox: `on` when ticked, absent otherwise.
    remember: TextField,
}

impl LoginForm {
    /// How long the session should last: remembered only when the box was
    /// ticked; any other value is taken as not.
    fn length(&self) -> SessionLength {
        session_length(&self.remember)
    }
}

/// The session a "remember me" checkbox's value asks for: remembered only
/// when ticked; any other value is taken as not.
pub(crate) fn session_length(remember: &str) -> SessionLength {
    match remember.trim() {
        "on" | "true" | "1" | "yes" => SessionLength::Remembered,
        _ => SessionLength::Browser,
    }
}

/// How the login form words the service's refusals.
const WORDING: FormWording = FormWording {
    credentials_field: "form",
    wrong_credentials: INVALID_CREDENTIALS,
    new_password_field: "password",
    blank: Some("Enter your email and password."),
    too_many: "Too many failed login attempts.",
    paused: "logging in",
};

#[derive(Serialize, Default)]
struct FormView<'a> {
    email: &'a str,
    next: Option<&'a str>,
    remember: bool,
    /// How long "remember me" keeps the session, for its hint.
    remember_days: i64,
    errors: FieldErrors,
}

/// Whole days a remembered session lasts at most.
fn remember_days(auth: &Auth) -> i64 {
    auth.session_policy()
        .remembered_absolute_timeout
        .whole_days()
        .max(1)
}

/// The form. An unsafe `next` is dropped here, so it never reaches the page.
#[get("/login?<next>")]
pub fn form(page: Page<'_>, next: Option<&str>, auth: &State<Auth>) -> Html {
    let next = next.and_then(LocalPath::parse);
    page.render(
        "login",
        FormView {
            next: next.as_ref().map(LocalPath::as_str),
            remember_days: remember_days(auth),
            ..FormView::default()
        },
    )
}

/// A refused login as a line of its own in the server's log (target
/// `security`), for alerting: the event and the client's address, never
/// the email or the password. The account's history has the rest.
pub(crate) fn security_event(error: &AuthError, client: &Client) {
    let address = client
        .0
        .addr
        .map_or_else(|| "-".to_owned(), |ip| ip.to_string());
    match error {
        AuthError::InvalidCredentials => log::warn!(
            target: "security",
            event = "login_failed",
            client = address.as_str();
            "login failed"
        ),
        AuthError::Throttled { retry_after } => log::warn!(
            target: "security",
            event = "login_throttled",
            client = address.as_str(),
            retry_after_s = retry_after.as_secs();
            "login refused while locked"
        ),
        _ => {}
    }
}

/// Where a completed login goes: `next` if it is a local path (the members'
/// page, starting the download, for the download), else `/secrets`.
pub(crate) fn logged_in(next: Option<&LocalPath>) -> Reply {
    let download = uri!(protected::download).to_string();
    let target = match next {
        // A file to save is no page to land on: the members' page
        // starts the download instead.
        Some(next) if next.as_str().split('?').next() == Some(download.as_str()) => {
            uri!(protected::secrets(download = Some(true))).to_string()
        }
        Some(next) => next.as_str().to_owned(),
        None => uri!(protected::secrets(_)).to_string(),
    };
    Reply::redirect(Flash::success(Redirect::to(target), "You are logged in."))
}

/// Checks the credentials; on success replaces any previous session with a
/// new one and goes to `next` if it is a local path, else `/secrets`. Too
/// many failures for the account or the client's address answer 429.
#[post("/login", data = "<form>")]
pub async fn submit(
    form: CsrfForm<LoginForm>,
    page: Page<'_>,
    sign_in: SignIn<'_>,
    client: Client,
    jar: &CookieJar<'_>,
    cookie: SessionCookie,
    auth: &State<Auth>,
) -> Result<Reply, AppError> {
    let form = form.0;
    let next = LocalPath::parse(&form.next);
    let length = form.length();
    let refusal = match auth
        .sign_in(&form.email, &form.password, &client.0, length)
        .await
    {
        Ok(auth_core::SignIn::Complete(issued)) => {
            sign_in.begin(&issued).await?;
            return Ok(logged_in(next.as_ref()));
        }
        Ok(auth_core::SignIn::SecondFactor(pending)) => {
            two_factor::hold(jar, cookie.policy(), &pending, auth.now());
            let next = next.as_ref().map(LocalPath::as_str);
            return Ok(Reply::redirect(Flash::new(
                Redirect::to(uri!(two_factor::code_form(next = next))),
                "info",
                "One more step: confirm it is you.",
            )));
        }
        Err(error) => {
            security_event(&error, &client);
            Refusal::of(error, &WORDING)?
        }
    };
    let view = FormView {
        email: form.email.trim(),
        next: next.as_ref().map(LocalPath::as_str),
        remember: length == SessionLength::Remembered,
        remember_days: remember_days(auth),
        errors: refusal.errors().clone(),
    };
    Ok(refusal.reply(page.render("login", view)))
}
