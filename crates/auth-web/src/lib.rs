//! The web application: the Flask tutorial's registration, login, secret
//! page, protected download and logout, on Rocket, over `auth-core` and
//! `auth-store`.
//!
//! The folders are the layers:
//!
//! - [`setup`]: configuration, the secret key, the database pool, start-up
//!   fairings, and [`build`], the one place that puts every other module
//!   together;
//! - [`guards`]: what a route needs from a request (the session's user, a
//!   CSRF-checked form, the client's address) and the cookies they read;
//! - [`http`]: what every response shares (a page's layout data, flash
//!   messages, the one mapping of errors to statuses and form messages,
//!   error pages, headers);
//! - [`routes`]: one file per area of the site, built from guards and http;
//! - [`mail`]: the site's mailer (templates, SMTP or the outbox) and the
//!   worker that sends what the service queues;
//! - [`webauthn`]: the passkey relying party, auth-core's WebAuthn port
//!   over webauthn-rs;
//! - [`cli`]: the operator's subcommands, on the same configuration and
//!   service as the server.
//!
//! A request flows through: the security-header fairings; the route's
//! guards ([`guards::Visitor`] or [`guards::CurrentUser`] turning the
//! session cookie into a user with one indexed lookup, [`http::page::Page`]
//! gathering the layout's data, [`guards::CsrfForm`] checking forms); the
//! route, which calls the [`Auth`] service; and the catchers, which render
//! every error status in the site's layout.

pub mod cli;
pub mod guards;
pub mod http;
pub mod mail;
pub mod routes;
pub mod setup;
pub mod webauthn;

pub use setup::config;
pub use setup::{build, rocket, Auth, StartupError};
