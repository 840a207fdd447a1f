//! The routes, one file per area.

use rocket::response::Redirect;

use crate::flash::Flash;
use rocket::Route;
use rocket_dyn_templates::Template;

pub mod account;
pub mod home;
pub mod login;
pub mod logout;
pub mod protected;
pub mod register;

/// Every route of the site.
pub fn all() -> Vec<Route> {
    [
        home::routes(),
        register::routes(),
        login::routes(),
        logout::routes(),
        protected::routes(),
        account::routes(),
    ]
    .concat()
}

/// What a form submission answers: a redirect with a flash message when it
/// worked (or must go elsewhere), or the form again with a status and the
/// problems.
#[derive(rocket::Responder)]
pub enum Reply {
    /// Post/redirect/get.
    Redirect(Flash<Redirect>),
    /// The form again, with a 4xx status.
    Page((rocket::http::Status, Template)),
    /// The form again, refused for too many attempts.
    Throttled(Throttled),
}

/// A 429 page, with `Retry-After` in seconds.
#[derive(rocket::Responder)]
#[response(status = 429)]
pub struct Throttled {
    page: Template,
    retry_after: rocket::http::Header<'static>,
}

impl Throttled {
    /// `page`, sent with a `Retry-After` of `wait` (whole seconds, as
    /// auth-core reports it).
    pub fn new(page: Template, wait: std::time::Duration) -> Self {
        Self {
            page,
            retry_after: rocket::http::Header::new("Retry-After", wait.as_secs().to_string()),
        }
    }
}

/// "2 minutes", "45 seconds": how long to wait, rounded up, for a message.
pub fn wait_in_words(wait: std::time::Duration) -> String {
    let seconds = wait.as_secs();
    let (n, unit) = if seconds >= 60 {
        (seconds.div_ceil(60), "minute")
    } else {
        (seconds.max(1), "second")
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}
