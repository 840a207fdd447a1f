//! The HTTP side shared by every route: the layout data of a page, flash
//! messages, what a form answers (and the one mapping of the service's
//! errors to it), error pages, security headers, asset versions, and an
//! account as JSON.

pub mod access_log;
pub mod account_json;
pub mod assets;
pub mod catchers;
pub mod error;
pub mod flash;
pub mod page;
pub mod reply;
pub mod security_headers;
pub mod templates;
