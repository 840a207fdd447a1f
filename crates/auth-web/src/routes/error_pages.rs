//! The site's error pages by status, for the reverse proxy in front.
//!
//! Some requests never reach the application: nginx (or hyper, below it)
//! refuses a URL too long for its buffers with a bare `414`. nginx's
//! `error_page 414 /errors/414` fetches the page from here instead, so the
//! visitor sees the site's layout and an explanation (see
//! `deploy/nginx/auth-web.conf`).

use crate::http::templates::Html;
use rocket::http::Status;
use rocket::{get, routes, Route};

use crate::http::catchers;
use crate::http::page::Page;

pub(crate) fn routes() -> Vec<Route> {
    routes![error_page]
}

/// The error page of `code`, answered with that status. Only the client
/// and server error statuses a proxy may stand in for are served; any
/// other code is an unknown page (404).
#[get("/errors/<code>")]
pub fn error_page(code: &str, page: Page<'_>) -> (Status, Html) {
    let status = match code.parse() {
        Ok(code @ (400 | 408 | 413 | 414 | 429 | 431 | 502 | 503 | 504)) => Status::new(code),
        _ => Status::NotFound,
    };
    (status, catchers::render(status, page))
}
