//! Creating an account.

use auth_core::{AuthError, Registration};
use rocket::response::Redirect;

use crate::http::flash::Flash;
use crate::http::templates::Html;
use rocket::{get, post, routes, uri, FromForm, Route, State};
use serde::Serialize;

use crate::guards::form_field::TextField;
use crate::guards::{Client, CsrfForm, SignIn};
use crate::http::error::AppError;
use crate::http::page::Page;
use crate::http::reply::{FieldErrors, FormWording, Refusal, Reply};
use crate::routes::{login, protected};
use crate::setup::Auth;

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
}

/// How the registration form words the service's refusals.
const WORDING: FormWording = FormWording {
    credentials_field: "form",
    wrong_credentials: "",
    new_password_field: "password",
    blank: None,
    too_many: "Too many accounts have been created from your network.",
    paused: "registering",
};

/// What the template shows: the values typed (never the password) and the
/// message for each field, by field name (`errors.email`, ...).
#[derive(Serialize, Default)]
struct FormView<'a> {
    email: &'a str,
    name: &'a str,
    errors: FieldErrors,
}

#[get("/register")]
pub fn form(page: Page<'_>) -> Html {
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
    client: Client,
    auth: &State<Auth>,
) -> Result<Reply, AppError> {
    let form = form.0;
    let registration = Registration {
        email: &form.email,
        name: &form.name,
        password: &form.password,
    };
    let refusal = match auth.register_from(registration, client.0).await {
        Ok(issued) => {
            sign_in.begin(&issued).await?;
            return Ok(Reply::redirect(Flash::success(
                Redirect::to(uri!(protected::secrets(_))),
                "Welcome! Your account has been created.",
            )));
        }
        Err(AuthError::EmailTaken) => {
            return Ok(Reply::redirect(Flash::error(
                Redirect::to(uri!(login::form(next = Option::<&str>::None))),
                "Email already registered. Log in instead.",
            )))
        }
        Err(error) => Refusal::of(error, &WORDING)?,
    };
    let view = FormView {
        email: form.email.trim(),
        name: form.name.trim(),
        errors: refusal.errors().clone(),
    };
    Ok(refusal.reply(page.render("register", view)))
}
