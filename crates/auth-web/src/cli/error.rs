//! Why a subcommand failed, in one line for standard error.

use auth_core::AuthError;
use thiserror::Error;

use crate::http::error::describe;
use crate::setup::config::InvalidSetting;
use crate::setup::db::PoolError;
use crate::setup::StartupError;

/// Why a subcommand failed. Every message names what to look at.
#[derive(Debug, Error)]
pub enum CliError {
    /// The configuration could not be read or is unusable.
    #[error("configuration: {0}")]
    Config(String),
    /// The database could not be opened or migrated.
    #[error("database: {0}")]
    Database(String),
    /// No account has this email.
    #[error("no account has the email {0}")]
    NoSuchAccount(String),
    /// The input was refused (a password against the policy, a taken email).
    #[error("{0}")]
    Refused(String),
    /// The service failed (the database went away, hashing failed).
    #[error("{}", describe(.0))]
    Auth(AuthError),
    /// Reading from or writing to the terminal failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The Flask app's database could not be read.
    #[error(transparent)]
    Flask(#[from] auth_store::flask::FlaskReadError),
}

impl CliError {
    /// Whether the failure is only that standard output was closed (`| head`),
    /// which is no failure of the command.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Self::Io(e) if e.kind() == std::io::ErrorKind::BrokenPipe)
    }
}

impl From<AuthError> for CliError {
    fn from(error: AuthError) -> Self {
        match &error {
            AuthError::EmailTaken => Self::Refused("that email is already registered".into()),
            AuthError::InvalidInput(errors) => Self::Refused(
                errors
                    .iter()
                    .map(|(field, message)| format!("{}: {message}", field.as_str()))
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            _ => Self::Auth(error),
        }
    }
}

impl From<StartupError> for CliError {
    fn from(error: StartupError) -> Self {
        Self::Config(error.to_string())
    }
}

impl From<InvalidSetting> for CliError {
    fn from(error: InvalidSetting) -> Self {
        Self::Config(error.to_string())
    }
}

impl From<rocket::figment::Error> for CliError {
    fn from(error: rocket::figment::Error) -> Self {
        Self::Config(error.to_string())
    }
}

impl From<PoolError> for CliError {
    fn from(error: PoolError) -> Self {
        Self::Database(error.to_string())
    }
}
