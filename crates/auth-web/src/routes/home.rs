//! The home page.

use crate::http::templates::Html;
use rocket::{get, routes, Route};

use crate::http::page::Page;

pub(crate) fn routes() -> Vec<Route> {
    routes![index, healthz]
}

/// Login and register buttons, or "(You are already logged in)".
#[get("/")]
pub fn index(page: Page<'_>) -> Html {
    page.render_without_forms("index", ())
}

/// For load balancers and the benchmark's baseline: answers without touching
/// the database or any template.
#[get("/healthz")]
pub fn healthz() -> &'static str {
    "ok"
}
