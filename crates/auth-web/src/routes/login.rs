//! Logging in.

use auth_core::AuthError;
use rocket::http::Status;
use rocket::response::Redirect;

use crate::flash::Flash;
use rocket::{get, post, routes, uri, FromForm, Route, State};
use rocket_dyn_templates::Template;
use serde::Serialize;

use crate::error::AppError;
use crate::form_field::TextField;
use crate::guards::{ClientAddr, CsrfForm, CsrfProtected, SignIn};
use crate::local_path::LocalPath;
use crate::page::Page;
use crate::routes::{protected, wait_in_words, Reply, Throttled};
use crate::Auth;

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
    csrf_token: TextField,
}

impl CsrfProtected for LoginForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

#[derive(Serialize, Default)]
struct FormView<'a> {
    email: &'a str,
    next: Option<&'a str>,
    error: Option<&'a str>,
}

/// The form. An unsafe `next` is dropped here, so it never reaches the page.
#[get("/login?<next>")]
pub fn form(page: Page<'_>, next: Option<&str>) -> Template {
    let next = next.and_then(LocalPath::parse);
    page.render(
        "login",
        FormView {
            next: next.as_ref().map(LocalPath::as_str),
            ..FormView::default()
        },
    )
}

/// Checks the credentials; on success replaces any previous session with a
/// new one and goes to `next` if it is a local path, else `/secrets`. Too
/// many failures for the account or the client's address answer 429.
#[post("/login", data = "<form>")]
pub async fn submit(
    form: CsrfForm<LoginForm>,
    page: Page<'_>,
    sign_in: SignIn<'_>,
    client: ClientAddr,
    auth: &State<Auth>,
) -> Result<Reply, AppError> {
    let form = form.0;
    let next = LocalPath::parse(&form.next);
    let again = |error: &str| {
        let view = FormView {
            email: form.email.trim(),
            next: next.as_ref().map(LocalPath::as_str),
            error: Some(error),
        };
        page.render("login", view)
    };
    match auth.login_from(&form.email, &form.password, client.0).await {
        Ok(issued) => {
            sign_in.begin(&issued).await?;
            let target = next.map_or_else(
                || uri!(protected::secrets).to_string(),
                |next| next.as_str().to_owned(),
            );
            Ok(Reply::Redirect(Flash::success(
                Redirect::to(target),
                "You are logged in.",
            )))
        }
        Err(AuthError::InvalidCredentials) => Ok(Reply::Page((
            Status::Unauthorized,
            again(INVALID_CREDENTIALS),
        ))),
        Err(AuthError::InvalidInput(_)) => Ok(Reply::Page((
            Status::UnprocessableEntity,
            again("Enter your email and password."),
        ))),
        Err(AuthError::Throttled { retry_after }) => {
            let message = format!(
                "Too many failed login attempts. For your security, logging in is paused: \
                 try again in {}.",
                wait_in_words(retry_after)
            );
            Ok(Reply::Throttled(Throttled::new(
                again(&message),
                retry_after,
            )))
        }
        Err(other) => Err(other.into()),
    }
}
