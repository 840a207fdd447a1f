//! Creating an account.

use std::collections::BTreeMap;

use auth_core::{AuthError, InputErrors, Registration};
use rocket::http::Status;
use rocket::response::Redirect;

use crate::flash::Flash;
use rocket::{get, post, routes, uri, FromForm, Route, State};
use rocket_dyn_templates::Template;
use serde::Serialize;

use crate::error::AppError;
use crate::form_field::TextField;
use crate::guards::{ClientAddr, CsrfForm, CsrfProtected, SignIn};
use crate::page::Page;
use crate::routes::{login, protected, wait_in_words, Reply, Throttled};
use crate::Auth;

pub(crate) fn routes() -> Vec<Route> {
    routes![form, submit]
}

/// The registration form. Missing fields arrive empty, so they get the same
/// "Enter your …" message as blank ones rather than a bare 422.
#[derive(FromForm)]
pub struct RegisterForm {
    email: TextField,
    name: TextField,
    password: TextField,
    csrf_token: TextField,
}

impl CsrfProtected for RegisterForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

/// What the template shows: the values typed (never the password) and the
/// message for each field, by field name (`errors.email`, ...).
#[derive(Serialize, Default)]
struct FormView<'a> {
    email: &'a str,
    name: &'a str,
    errors: BTreeMap<&'static str, String>,
}

fn messages(errors: &InputErrors) -> BTreeMap<&'static str, String> {
    errors
        .iter()
        .map(|(field, error)| (field.as_str(), error.to_string()))
        .collect()
}

#[get("/register")]
pub fn form(page: Page<'_>) -> Template {
    page.render("register", FormView::default())
}

/// Creates the account and logs it in, replacing any session the browser
/// had. An email already registered goes to the login page instead. Too
/// many registrations from the client's address answer 429.
#[post("/register", data = "<form>")]
pub async fn submit(
    form: CsrfForm<RegisterForm>,
    page: Page<'_>,
    sign_in: SignIn<'_>,
    client: ClientAddr,
    auth: &State<Auth>,
) -> Result<Reply, AppError> {
    let form = form.0;
    let registration = Registration {
        email: &form.email,
        name: &form.name,
        password: &form.password,
    };
    let again = |errors| {
        let view = FormView {
            email: form.email.trim(),
            name: form.name.trim(),
            errors,
        };
        page.render("register", view)
    };
    match auth.register_from(registration, client.0).await {
        Ok(issued) => {
            sign_in.begin(&issued).await?;
            Ok(Reply::Redirect(Flash::success(
                Redirect::to(uri!(protected::secrets)),
                "Welcome! Your account has been created.",
            )))
        }
        Err(AuthError::EmailTaken) => Ok(Reply::Redirect(Flash::error(
            Redirect::to(uri!(login::form(next = Option::<&str>::None))),
            "Email already registered. Log in instead.",
        ))),
        Err(AuthError::InvalidInput(errors)) => Ok(Reply::Page((
            Status::UnprocessableEntity,
            again(messages(&errors)),
        ))),
        Err(AuthError::Throttled { retry_after }) => {
            let message = format!(
                "Too many accounts have been created from your network. Try again in {}.",
                wait_in_words(retry_after)
            );
            Ok(Reply::Throttled(Throttled::new(
                again(BTreeMap::from([("form", message)])),
                retry_after,
            )))
        }
        Err(other) => Err(other.into()),
    }
}
