//! Request guards: what a route needs from a request before it runs, and
//! the pieces of a request they read (cookies, form fields, local paths).

mod client;
mod confirmed_email;
pub mod cookie_policy;
mod csrf;
mod current_user;
pub mod form_field;
pub mod local_path;
mod recent_login;
pub mod session_cookie;
mod sign_in;

pub use client::{Client, TrustedProxies};
pub use confirmed_email::{EmailRule, Member, NeedsConfirmedEmail};
pub use csrf::{CsrfForm, CsrfToken, NoFields};
pub use current_user::{CurrentUser, Visitor};
pub use recent_login::{NeedsReauthentication, RecentLogin};
pub use sign_in::SignIn;
