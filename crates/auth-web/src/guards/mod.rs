//! Request guards: what a route needs from a request before it runs.

mod csrf;
mod current_user;

pub use csrf::{CsrfForm, CsrfProtected, CsrfToken};
pub use current_user::{CurrentUser, Visitor};
