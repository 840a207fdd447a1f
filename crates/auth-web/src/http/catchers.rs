//! Error pages, in the site's layout. Every failure ends here, whether
//! Rocket raised it (404, 413, an unreadable form) or a route did
//! ([`AppError`](crate::http::error::AppError)); none shows its cause.

use rocket::http::{Method, Status};
use rocket::request::Request;
use rocket::response::Redirect;

use crate::http::flash::Flash;
use crate::http::templates::Html;
use minijinja::context;
use rocket::{catch, catchers, uri, Catcher};

use crate::guards::local_path::LocalPath;
use crate::guards::session_cookie::SessionCookie;
use crate::guards::{NeedsConfirmedEmail, NeedsReauthentication};
use crate::http::page::Page;
use crate::routes::{account, login};

/// Every catcher.
pub fn all() -> Vec<Catcher> {
    catchers![login_required, error_page]
}

/// A login-required route was asked for without a live session: to the
/// login page, which comes back here afterwards. A sensitive page asked
/// for by a session whose password entry is not recent: to the page that
/// confirms the password, which comes back here too.
#[catch(401)]
pub fn login_required(req: &Request<'_>) -> Flash<Redirect> {
    // Only a page can be returned to; after a refused form post, the
    // login page leads to the default place.
    let next = (req.method() == Method::Get)
        .then(|| LocalPath::parse(&req.uri().to_string()))
        .flatten();
    let next = next.as_ref().map(LocalPath::as_str);
    if NeedsConfirmedEmail::of(req) {
        return Flash::new(
            Redirect::to(format!("{}#email", uri!(account::show))),
            "info",
            "Please confirm your email address to see that page: follow the link \
             we sent you, or have it sent again below.",
        );
    }
    if NeedsReauthentication::of(req) {
        return Flash::new(
            Redirect::to(uri!(account::confirm_form(next = next))),
            "info",
            "Please enter your password again to continue.",
        );
    }
    // The session guard's own removal of a dead cookie was reset when the
    // request turned into an error; remove it again.
    let cookie = SessionCookie::of(req);
    if cookie.token(req.cookies()).is_some() {
        cookie.clear(req.cookies());
    }
    Flash::new(
        Redirect::to(uri!(login::form(next = next))),
        "info",
        "Please log in to see this page.",
    )
}

/// Any other error status, explained for the visitor.
#[catch(default)]
pub async fn error_page(status: Status, req: &Request<'_>) -> Html {
    let page = match req.guard::<Page<'_>>().await.succeeded() {
        Some(page) => page,
        None => Page::anonymous(req),
    };
    render(status, page)
}

/// The page explaining `status`, in the site's layout.
pub fn render(status: Status, page: Page<'_>) -> Html {
    let (title, message) = explain(status);
    page.render_without_forms("error", context! { status => status.code, title, message })
}

fn explain(status: Status) -> (&'static str, &'static str) {
    match status.code {
        400 => (
            "Bad request",
            "The request could not be understood. Go back, reload the page and try again.",
        ),
        403 => (
            "This form was refused",
            "For your safety, a form is only accepted from a page of this site that you \
             loaded recently. Go back, reload the page, and submit the form again.",
        ),
        404 => (
            "Page not found",
            "There is no page at this address. Check it, or start again from the home page.",
        ),
        408 => (
            "Too slow",
            "The request took too long to arrive. Check your connection and try again.",
        ),
        431 => (
            "Request too large",
            "Your browser sent more data with this request than this site accepts. Clear this \
             site's cookies and try again.",
        ),
        414 => (
            "Address too long",
            "The address of this page is longer than this site accepts. Check the link, \
             or start again from the home page.",
        ),
        413 => (
            "Too much data",
            "What you sent is larger than this site accepts. Shorten it and try again.",
        ),
        415 => (
            "Unsupported form",
            "The form was sent in a format this site does not accept. Use the site's own forms.",
        ),
        422 => (
            "The form could not be read",
            "Some of what was sent could not be read (for instance, text that is not valid \
             UTF-8). Go back, reload the page and try again.",
        ),
        429 => (
            "Too many attempts",
            "Too many requests came too quickly. Wait a little and try again.",
        ),
        503 => (
            "Temporarily unavailable",
            "The site cannot reach its database right now. Nothing you entered was saved; \
             please try again in a moment.",
        ),
        500..=599 => (
            "Something went wrong",
            "An unexpected error occurred and has been logged. Please try again later.",
        ),
        _ => (
            "Request not handled",
            "This request could not be handled. Start again from the home page.",
        ),
    }
}
