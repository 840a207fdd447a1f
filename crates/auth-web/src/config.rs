//! The application's settings: read by figment from `Rocket.toml`, `ROCKET_*`
//! environment variables and `DATABASE_URL`, next to Rocket's own settings.

use std::path::PathBuf;

use auth_core::time::Duration;
use auth_core::{BcryptHasher, SessionPolicy};
use rocket::figment::providers::Serialized;
use rocket::figment::value::magic::RelativePathBuf;
use rocket::figment::Figment;
use serde::{Deserialize, Serialize};

/// The database used when none is configured: a SQLite file under `data/`,
/// created on first start.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/auth.db";

/// The configuration every run reads: Rocket's own sources (`Rocket.toml`,
/// found in the working directory or a parent, and `ROCKET_*` variables),
/// then `DATABASE_URL`, which overrides `databases.auth.url`.
pub fn figment() -> Figment {
    let figment = rocket::Config::figment().join(Serialized::default(
        "databases.auth.url",
        DEFAULT_DATABASE_URL,
    ));
    match std::env::var("DATABASE_URL") {
        Ok(url) if !url.trim().is_empty() => figment.merge(("databases.auth.url", url)),
        _ => figment,
    }
}

/// This application's keys (Rocket's own, such as `port` and `secret_key`,
/// are read by Rocket). Relative paths in `Rocket.toml` are relative to that
/// file; elsewhere, to the working directory.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct AppConfig {
    /// bcrypt work factor, 4 to 31. Each step doubles the time per hash.
    pub bcrypt_cost: u32,
    /// How many password hashes may run at once; default: one per CPU core.
    pub hash_concurrency: Option<usize>,
    /// Seconds a session may go unused before it ends.
    pub session_idle_timeout: u64,
    /// Seconds after login when a session ends however busy.
    pub session_absolute_timeout: u64,
    /// Public assets, served under `/static`.
    pub static_dir: RelativePathBuf,
    /// Files served only to logged-in users (never under `static_dir`).
    pub files_dir: RelativePathBuf,
    /// Where the generated secret key is kept when `secret_key` is not set;
    /// default: beside the SQLite database file, or `data/secret_key`.
    pub secret_key_file: Option<RelativePathBuf>,
    /// Mark cookies `Secure` (and name the session cookie `__Host-session`).
    /// Turn on when users reach the site over HTTPS, for instance through a
    /// TLS-terminating proxy; it is on automatically when Rocket serves TLS.
    pub secure_cookies: bool,
}

impl Default for AppConfig {
    fn default() -> Self {
        let policy = SessionPolicy::default();
        Self {
            bcrypt_cost: BcryptHasher::DEFAULT_COST,
            hash_concurrency: None,
            session_idle_timeout: policy.idle_timeout.whole_seconds().unsigned_abs(),
            session_absolute_timeout: policy.absolute_timeout.whole_seconds().unsigned_abs(),
            static_dir: PathBuf::from("static").into(),
            files_dir: PathBuf::from("files").into(),
            secret_key_file: None,
            secure_cookies: false,
        }
    }
}

impl AppConfig {
    /// The session lifetimes, checked to be usable.
    pub fn session_policy(&self) -> Result<SessionPolicy, String> {
        if self.session_idle_timeout == 0 || self.session_absolute_timeout == 0 {
            return Err(
                "session_idle_timeout and session_absolute_timeout must be positive".into(),
            );
        }
        let seconds = |s: u64| Duration::seconds(i64::try_from(s).unwrap_or(i64::MAX));
        Ok(SessionPolicy {
            idle_timeout: seconds(self.session_idle_timeout),
            absolute_timeout: seconds(self.session_absolute_timeout),
        })
    }
}
