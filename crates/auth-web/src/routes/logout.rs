//! Logging out: only ever by a POST with a valid CSRF token, so a link or an
//! image on another site cannot log anyone out.

use rocket::http::CookieJar;
use rocket::response::Redirect;

use crate::flash::Flash;
use rocket::{get, post, routes, uri, FromForm, Route, State};
use rocket_dyn_templates::{context, Template};

use crate::error::AppError;
use crate::form_field::TextField;
use crate::guards::{CsrfForm, CsrfProtected, CsrfToken};
use crate::page::Page;
use crate::routes::home;
use crate::session_cookie::SessionCookie;
use crate::Auth;

pub(crate) fn routes() -> Vec<Route> {
    routes![confirm, submit]
}

/// The logout form: nothing but the CSRF token.
#[derive(FromForm)]
pub struct LogoutForm {
    csrf_token: TextField,
}

impl CsrfProtected for LogoutForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

/// A page with the logout button; a GET changes nothing.
#[get("/logout")]
pub fn confirm(page: Page<'_>) -> Template {
    page.render("logout", context! {})
}

/// Deletes the session server-side (so a copy of the cookie stops working
/// too) and clears the cookie.
#[post("/logout", data = "<form>")]
pub async fn submit(
    form: CsrfForm<LogoutForm>,
    auth: &State<Auth>,
    cookie: &State<SessionCookie>,
    jar: &CookieJar<'_>,
) -> Result<Flash<Redirect>, AppError> {
    let _ = form;
    let token = cookie.token(jar);
    cookie.clear(jar);
    CsrfToken::rotate(jar, cookie.policy())?;
    if let Some(token) = token {
        auth.logout(&token).await?;
    }
    Ok(Flash::success(
        Redirect::to(uri!(home::index)),
        "You have been logged out.",
    ))
}
