//! The routes, one file per area.

use rocket::response::{Flash, Redirect};
use rocket::Route;
use rocket_dyn_templates::Template;

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
}
