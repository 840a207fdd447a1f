//! Logging out: only ever by a POST with a valid CSRF token, so a link or an
//! image on another site cannot log anyone out.

use rocket::http::CookieJar;
use rocket::response::Redirect;

use crate::http::flash::Flash;
use crate::http::templates::Html;
use rocket::{get, post, routes, uri, Route, State};

use crate::guards::session_cookie::SessionCookie;
use crate::guards::{Client, CsrfForm, CsrfToken, NoFields};
use crate::http::error::AppError;
use crate::http::page::Page;
use crate::routes::home;
use crate::setup::Auth;

pub(crate) fn routes() -> Vec<Route> {
    routes![confirm, submit]
}

/// A page with the logout button; a GET changes nothing.
#[get("/logout")]
pub fn confirm(page: Page<'_>) -> Html {
    page.render("logout", ())
}

/// Deletes the session server-side (so a copy of the cookie stops working
/// too) and clears the cookie.
#[post("/logout", data = "<_form>")]
pub async fn submit(
    _form: CsrfForm<NoFields>,
    auth: &State<Auth>,
    client: Client,
    cookie: SessionCookie,
    jar: &CookieJar<'_>,
) -> Result<Flash<Redirect>, AppError> {
    let token = cookie.token(jar);
    cookie.clear(jar);
    CsrfToken::rotate(jar, cookie.policy())?;
    if let Some(token) = token {
        auth.logout(&token, client.0).await?;
    }
    Ok(Flash::success(
        Redirect::to(uri!(home::index)),
        "You have been logged out.",
    ))
}
