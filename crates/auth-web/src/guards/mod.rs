//! Request guards: what a route needs from a request before it runs.

mod client_addr;
mod csrf;
mod current_user;
mod sign_in;

pub use client_addr::{ClientAddr, TrustedProxies};
pub use csrf::{CsrfForm, CsrfProtected, CsrfToken};
pub use current_user::{CurrentUser, Visitor};
pub use sign_in::SignIn;
