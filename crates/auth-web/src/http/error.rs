//! Failures a route cannot turn into a page of its own: mapped to a status
//! here, in one place, logged, and rendered by the catcher for that status,
//! so the visitor sees a page in the site's layout and never the cause.

use auth_core::{AuthError, StoreError};
use rocket::http::Status;
use rocket::request::Request;
use rocket::response::{self, Responder};

/// A request that failed for a reason the visitor cannot fix.
#[derive(Debug)]
pub enum AppError {
    /// The database is down or failing: 503, try again later.
    Unavailable,
    /// A bug or a broken installation: 500.
    Internal,
}

impl From<AuthError> for AppError {
    fn from(error: AuthError) -> Self {
        log::error!("{}", describe(&error));
        match error {
            AuthError::Store(StoreError::Corrupt(_)) => Self::Internal,
            AuthError::Store(_) => Self::Unavailable,
            _ => Self::Internal,
        }
    }
}

impl From<auth_core::RandomError> for AppError {
    fn from(error: auth_core::RandomError) -> Self {
        log::error!("No randomness available: {error}");
        Self::Internal
    }
}

impl<'r> Responder<'r, 'static> for AppError {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        Err(match self {
            Self::Unavailable => Status::ServiceUnavailable,
            Self::Internal => Status::InternalServerError,
        })
    }
}

/// An error and its chain of causes on one line, for the log.
pub fn describe(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
