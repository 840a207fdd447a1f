//! The routes, one file per area.

use rocket::Route;

pub mod account;
pub mod email;
pub mod error_pages;
pub mod home;
pub mod login;
pub mod logout;
pub mod passkeys;
pub mod protected;
pub mod recovery;
pub mod register;
pub mod two_factor;

/// Every route of the site.
pub fn all() -> Vec<Route> {
    [
        home::routes(),
        register::routes(),
        login::routes(),
        logout::routes(),
        protected::routes(),
        account::routes(),
        recovery::routes(),
        email::routes(),
        two_factor::routes(),
        passkeys::routes(),
        error_pages::routes(),
    ]
    .concat()
}
