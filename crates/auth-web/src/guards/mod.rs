//! Request guards: what a route needs from a request before it runs.

mod client_addr;
mod csrf;
mod current_user;

pub use client_addr::{ClientAddr, TrustedProxies};
pub use csrf::{CsrfForm, CsrfProtected, CsrfToken};
pub use current_user::{CurrentUser, Visitor};
