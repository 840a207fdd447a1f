//! What a form submission answers, and the one mapping of the service's
//! refusals (wrong password, invalid fields, too many attempts) to a status,
//! a `Retry-After` and a message on the form.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::http::templates::Html;
use auth_core::AuthError;
use rocket::http::{Header, Status};
use rocket::response::Redirect;

use crate::http::error::AppError;
use crate::http::flash::Flash;

/// What a form submission answers: a redirect with a flash message when it
/// worked (or must go elsewhere), or the form again with a status and the
/// problems.
#[derive(rocket::Responder)]
pub enum Reply {
    /// Post/redirect/get (boxed: a redirect with its message is ten times
    /// the size of the other answers).
    Redirect(Box<Flash<Redirect>>),
    /// The form again, with a 4xx status.
    Page((Status, Html)),
    /// The form again, refused for too many attempts.
    Throttled(Throttled),
}

impl Reply {
    /// Post/redirect/get to `to`.
    pub fn redirect(to: Flash<Redirect>) -> Self {
        Self::Redirect(Box::new(to))
    }
}

/// A 429 page, with `Retry-After` in seconds.
#[derive(rocket::Responder)]
#[response(status = 429)]
pub struct Throttled {
    page: Html,
    retry_after: Header<'static>,
}

/// The messages a form shows, by field name (`errors.email`, ...; `form`
/// for the form as a whole).
pub type FieldErrors = BTreeMap<&'static str, String>;

/// How one form words the service's refusals and where it shows them.
#[derive(Debug)]
pub struct FormWording {
    /// The field that shows a wrong password or a throttle.
    pub credentials_field: &'static str,
    /// The message for a wrong password (or an unknown email).
    pub wrong_credentials: &'static str,
    /// The field that shows a new password's problems.
    pub new_password_field: &'static str,
    /// For a form that reports blank fields together (login): the message.
    pub blank: Option<&'static str>,
    /// What there were too many of, as a sentence.
    pub too_many: &'static str,
    /// What is paused meanwhile ("logging in").
    pub paused: &'static str,
}

/// A submission the service refused for a reason the visitor can fix or
/// wait out.
#[derive(Debug)]
pub struct Refusal {
    status: Status,
    retry_after: Option<Duration>,
    errors: FieldErrors,
}

impl Refusal {
    /// The refusal `error` stands for on the form `wording` describes; an
    /// error the visitor cannot fix (the database is down, a bug) stays an
    /// [`AppError`], for the catchers.
    pub fn of(error: AuthError, wording: &FormWording) -> Result<Self, AppError> {
        let refusal = |status, errors| Self {
            status,
            retry_after: None,
            errors,
        };
        Ok(match error {
            AuthError::InvalidCredentials => refusal(
                Status::Unauthorized,
                FieldErrors::from([(wording.credentials_field, wording.wrong_credentials.into())]),
            ),
            AuthError::InvalidInput(errors) => {
                let messages = match wording.blank {
                    Some(blank) => FieldErrors::from([("form", blank.to_owned())]),
                    None => errors
                        .iter()
                        .map(|(field, error)| {
                            let name = match field {
                                auth_core::Field::Password => wording.new_password_field,
                                other => other.as_str(),
                            };
                            (name, error.to_string())
                        })
                        .collect(),
                };
                refusal(Status::UnprocessableEntity, messages)
            }
            AuthError::Throttled { retry_after } => Self {
                status: Status::TooManyRequests,
                retry_after: Some(retry_after),
                errors: FieldErrors::from([(
                    wording.credentials_field,
                    format!(
                        "{} For your security, {} is paused: try again in {}.",
                        wording.too_many,
                        wording.paused,
                        wait_in_words(retry_after)
                    ),
                )]),
            },
            other => return Err(other.into()),
        })
    }

    /// A refusal with `status` and one `message` on `field`, for a case
    /// the form handles itself.
    pub fn form_error(status: Status, field: &'static str, message: &str) -> Self {
        Self {
            status,
            retry_after: None,
            errors: FieldErrors::from([(field, message.to_owned())]),
        }
    }

    /// The messages for the form.
    pub fn errors(&self) -> &FieldErrors {
        &self.errors
    }

    /// The answer: `page` (the form again, showing [`Refusal::errors`]) with
    /// the status, and `Retry-After` when throttled.
    pub fn reply(self, page: Html) -> Reply {
        match self.retry_after {
            Some(wait) => Reply::Throttled(Throttled {
                page,
                retry_after: Header::new("Retry-After", wait.as_secs().to_string()),
            }),
            None => Reply::Page((self.status, page)),
        }
    }
}

/// "2 minutes", "45 seconds": how long to wait, rounded up, for a message.
pub fn wait_in_words(wait: Duration) -> String {
    let seconds = wait.as_secs();
    let (n, unit) = if seconds >= 60 {
        (seconds.div_ceil(60), "minute")
    } else {
        (seconds.max(1), "second")
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}
