//! The application's settings: read by figment from `Rocket.toml`, `ROCKET_*`
//! environment variables and `DATABASE_URL`, next to Rocket's own settings.

use std::path::PathBuf;

use auth_core::time::Duration;
use auth_core::{
    AuthServiceBuilder, AuthStore, BcryptHasher, MailPolicy, PasswordPolicy, SessionPolicy,
    ThrottlePolicy,
};
use auth_store::SqliteStore;
use rocket::figment::providers::Serialized;
use rocket::figment::value::magic::RelativePathBuf;
use rocket::figment::Figment;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::mail::{MailSettings, SmtpUrl};
use crate::setup::logging::LogFormat;

/// The database used when none is configured: a SQLite file under `data/`,
/// created on first start.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/auth.db";

/// Where the generated secret key is kept when neither `secret_key` nor
/// `secret_key_file` is set and the database is not an SQLite file (whose
/// directory it otherwise shares).
pub const DEFAULT_SECRET_KEY_FILE: &str = "data/secret_key";

/// The sender of the site's mail when `mail_from` is not set.
pub const DEFAULT_MAIL_FROM: &str = "auth-web <no-reply@localhost>";

/// Where files that belong with the database go (the generated secret key,
/// the mail outbox) unless configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataDir {
    /// The directory of the SQLite database file.
    BesideDatabase(PathBuf),
    /// An in-memory SQLite database: nothing outlives the process.
    InMemory,
    /// Any other database: `data/`.
    Default,
}

impl DataDir {
    /// The data directory for `database_url`.
    pub fn of(database_url: &str) -> Self {
        if !database_url.starts_with("sqlite:") {
            return Self::Default;
        }
        match SqliteStore::database_file(database_url) {
            Ok(Some(file)) => Self::BesideDatabase(
                file.parent()
                    .filter(|dir| !dir.as_os_str().is_empty())
                    .map_or_else(|| PathBuf::from("."), PathBuf::from),
            ),
            Ok(None) => Self::InMemory,
            // The store will refuse the URL at connection, and say why.
            Err(_) => Self::Default,
        }
    }

    /// `name` in this directory (`data/` for an in-memory database).
    pub fn join(&self, name: &str) -> PathBuf {
        match self {
            Self::BesideDatabase(dir) => dir.join(name),
            Self::InMemory | Self::Default => PathBuf::from("data").join(name),
        }
    }
}

/// A setting with a value this application cannot use. Its message names
/// the setting, the value, where the value came from and what is wrong.
#[derive(Debug, Error)]
#[error("{setting} = {value}{origin}: {problem}")]
pub struct InvalidSetting {
    /// The setting's key, as in `Rocket.toml` (`login_throttle.window`).
    pub setting: &'static str,
    /// The value given.
    pub value: String,
    /// Where it came from (" (from ...)"), once known.
    origin: String,
    /// What is wrong with it, and what would do.
    pub problem: String,
}

impl InvalidSetting {
    /// `setting` has `value`, which is wrong as `problem` says.
    pub fn new(
        setting: &'static str,
        value: impl std::fmt::Display,
        problem: impl Into<String>,
    ) -> Self {
        Self {
            setting,
            value: value.to_string(),
            origin: String::new(),
            problem: problem.into(),
        }
    }

    /// Says where the value came from (a file, an environment variable or
    /// the built-in default), as `figment` recorded it.
    pub fn located(mut self, figment: &Figment) -> Self {
        self.origin = match figment.find_metadata(self.setting) {
            Some(meta) => match &meta.source {
                Some(source) => format!(" (from {} {source})", meta.name),
                None => format!(" (from {})", meta.name),
            },
            None => " (the default)".to_owned(),
        };
        self
    }
}

/// How the [`Auth`](crate::setup::Auth) service is configured: every
/// setting of [`AppConfig`] that the service reads, checked.
pub struct ServiceConfig {
    hasher: BcryptHasher,
    passwords: PasswordPolicy,
    sessions: SessionPolicy,
    throttle: ThrottlePolicy,
    history_retention: Duration,
    mail: MailPolicy,
    hash_concurrency: Option<usize>,
}

impl ServiceConfig {
    /// `builder` with these settings.
    pub fn apply<S: AuthStore>(&self, builder: AuthServiceBuilder<S>) -> AuthServiceBuilder<S> {
        let builder = builder
            .hasher(self.hasher)
            .password_policy(self.passwords.clone())
            .session_policy(self.sessions)
            .throttle_policy(self.throttle)
            .history_retention(self.history_retention)
            .mail_policy(self.mail);
        match self.hash_concurrency {
            Some(limit) => builder.max_concurrent_hashes(limit),
            None => builder,
        }
    }

    /// The bcrypt cost in force, for the start-up log.
    pub fn bcrypt_cost(&self) -> u32 {
        self.hasher.cost()
    }
}

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
    /// Shortest new password, in characters (8 by default, NIST SP
    /// 800-63B's floor; OWASP ASVS 4.0.3 §2.1.1 asks for 12).
    pub password_min_chars: usize,
    /// How many password hashes may run at once; default: one per CPU core.
    pub hash_concurrency: Option<usize>,
    /// Seconds a session may go unused before it ends.
    pub session_idle_timeout: u64,
    /// Seconds after login when a session ends however busy.
    pub session_absolute_timeout: u64,
    /// Seconds a session logged in with "remember me" may go unused.
    pub remembered_idle_timeout: u64,
    /// Seconds after login when a remembered session ends however busy.
    pub remembered_absolute_timeout: u64,
    /// Seconds after the password was last entered in a session before a
    /// sensitive page (the export, security settings) asks for it again.
    pub reauthenticate_after: u64,
    /// Public assets, served under `/static`.
    pub static_dir: RelativePathBuf,
    /// Files served only to logged-in users (never under `static_dir`).
    pub files_dir: RelativePathBuf,
    /// Where the generated secret key is kept when `secret_key` is not set;
    /// default: beside the SQLite database file, or `data/secret_key`.
    pub secret_key_file: Option<RelativePathBuf>,
    /// Mark cookies `Secure` (and name the session cookie `__Host-session`),
    /// and send HSTS. Turn on when users reach the site over HTTPS, for
    /// instance through a TLS-terminating proxy.
    pub secure_cookies: bool,
    /// Limits on failed logins.
    pub login_throttle: ThrottleConfig,
    /// Limits on new accounts per client address.
    pub registration_throttle: RegistrationThrottleConfig,
    /// Reverse proxies (addresses or networks) whose `X-Forwarded-For` is
    /// believed; see [`TrustedProxies`](crate::guards::TrustedProxies).
    pub trusted_proxies: Vec<String>,
    /// Seconds an account's history (logins, changes, operator actions) is
    /// kept before the purge deletes it; a year by default.
    pub history_retention: u64,
    /// How the server's log lines are written: `logfmt` or `json`.
    pub log_format: LogFormat,
    /// One line per request (method, path, status, duration, bytes).
    pub access_log: bool,
    /// The SMTP server for the site's mail: `smtp://host:port` (plain),
    /// `smtp://user:password@host:587?tls=required` (STARTTLS) or
    /// `smtps://user:password@host:465` (TLS). Not set: mail is written to
    /// `mail_outbox` instead.
    pub smtp_url: Option<SmtpUrl>,
    /// Where mail is written as `.eml` files when `smtp_url` is not set;
    /// default: `outbox/` beside the SQLite database, or `data/outbox`.
    pub mail_outbox: Option<RelativePathBuf>,
    /// The sender of the site's mail: an address, or `Name <address>`.
    pub mail_from: String,
    /// The site's address as users reach it (`https://auth.example.com`),
    /// the base of every link in a mail; never taken from a request.
    /// Default: the address the server listens on.
    pub public_url: Option<String>,
    /// Login-required pages wait until the account's address is confirmed.
    pub require_confirmed_email: bool,
    /// Seconds a password-reset link works.
    pub password_reset_valid_for: u64,
    /// Seconds a link confirming an address works.
    pub email_confirmation_valid_for: u64,
    /// Seconds before mail the server did not take is tried again; the
    /// wait doubles with each try, up to an hour.
    pub mail_retry_after: u64,
    /// Limits on mail asked for (reset links, confirmation links).
    pub mail_throttle: MailThrottleConfig,
}

/// `mail_throttle`: mails asked for, per hour (`registration_throttle.window`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct MailThrottleConfig {
    /// Mails to one recipient address per window.
    pub recipient_limit: u32,
    /// Mails asked for by one client address per window.
    pub address_limit: u32,
}

impl Default for MailThrottleConfig {
    fn default() -> Self {
        let policy = ThrottlePolicy::default();
        Self {
            recipient_limit: policy.mail_limit,
            address_limit: policy.mail_address_limit,
        }
    }
}

/// `login_throttle`: the [`ThrottlePolicy`], with times in seconds.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct ThrottleConfig {
    /// Failed logins per account per window before a lock.
    pub account_limit: u32,
    /// Failed logins per client address per window before a lock.
    pub address_limit: u32,
    /// The counting window, in seconds.
    pub window: u64,
    /// The first lock, in seconds; it doubles with each consecutive lock.
    pub lockout: u64,
    /// The longest lock, in seconds.
    pub max_lockout: u64,
    /// Turns throttling off (for load tests of the login path only).
    pub disabled: bool,
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        let policy = ThrottlePolicy::default();
        Self {
            account_limit: policy.account_limit,
            address_limit: policy.address_limit,
            window: seconds_of(policy.window),
            lockout: seconds_of(policy.lockout),
            max_lockout: seconds_of(policy.max_lockout),
            disabled: false,
        }
    }
}

fn seconds_of(duration: Duration) -> u64 {
    duration.whole_seconds().unsigned_abs()
}

fn seconds(s: u64) -> Duration {
    Duration::seconds(i64::try_from(s).unwrap_or(i64::MAX))
}

/// `registration_throttle`: new accounts per client address per window.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct RegistrationThrottleConfig {
    /// Registrations (valid forms, whether the email was free or not) per
    /// client address per window.
    pub limit: u32,
    /// The counting window, in seconds.
    pub window: u64,
}

impl Default for RegistrationThrottleConfig {
    fn default() -> Self {
        let policy = ThrottlePolicy::default();
        Self {
            limit: policy.registration_limit,
            window: seconds_of(policy.registration_window),
        }
    }
}

impl ThrottleConfig {
    /// The policy, with `registrations`' and `mail`'s limits, checked to
    /// be usable.
    pub fn policy(
        &self,
        registrations: &RegistrationThrottleConfig,
        mail: &MailThrottleConfig,
    ) -> Result<ThrottlePolicy, InvalidSetting> {
        if self.disabled {
            return Ok(ThrottlePolicy::disabled());
        }
        let positive = [
            (
                "login_throttle.account_limit",
                u64::from(self.account_limit),
            ),
            (
                "login_throttle.address_limit",
                u64::from(self.address_limit),
            ),
            ("login_throttle.window", self.window),
            ("login_throttle.lockout", self.lockout),
            (
                "registration_throttle.limit",
                u64::from(registrations.limit),
            ),
            ("registration_throttle.window", registrations.window),
            (
                "mail_throttle.recipient_limit",
                u64::from(mail.recipient_limit),
            ),
            ("mail_throttle.address_limit", u64::from(mail.address_limit)),
        ];
        if let Some((setting, value)) = positive.into_iter().find(|(_, value)| *value == 0) {
            return Err(InvalidSetting::new(setting, value, "must be at least 1"));
        }
        if self.max_lockout < self.lockout {
            return Err(InvalidSetting::new(
                "login_throttle.max_lockout",
                self.max_lockout,
                format!("must be at least login_throttle.lockout ({})", self.lockout),
            ));
        }
        Ok(ThrottlePolicy {
            account_limit: self.account_limit,
            address_limit: self.address_limit,
            window: seconds(self.window),
            lockout: seconds(self.lockout),
            max_lockout: seconds(self.max_lockout),
            registration_limit: registrations.limit,
            registration_window: seconds(registrations.window),
            mail_limit: mail.recipient_limit,
            mail_address_limit: mail.address_limit,
        })
    }
}

impl Default for AppConfig {
    fn default() -> Self {
        let policy = SessionPolicy::default();
        let mail = MailPolicy::default();
        Self {
            bcrypt_cost: BcryptHasher::DEFAULT_COST,
            password_min_chars: PasswordPolicy::DEFAULT_MIN_CHARS,
            hash_concurrency: None,
            session_idle_timeout: seconds_of(policy.idle_timeout),
            session_absolute_timeout: seconds_of(policy.absolute_timeout),
            remembered_idle_timeout: seconds_of(policy.remembered_idle_timeout),
            remembered_absolute_timeout: seconds_of(policy.remembered_absolute_timeout),
            reauthenticate_after: seconds_of(policy.reauthenticate_after),
            static_dir: PathBuf::from("static").into(),
            files_dir: PathBuf::from("files").into(),
            secret_key_file: None,
            secure_cookies: false,
            login_throttle: ThrottleConfig::default(),
            registration_throttle: RegistrationThrottleConfig::default(),
            trusted_proxies: Vec::new(),
            history_retention: seconds_of(auth_core::DEFAULT_HISTORY_RETENTION),
            log_format: LogFormat::default(),
            access_log: true,
            smtp_url: None,
            mail_outbox: None,
            mail_from: DEFAULT_MAIL_FROM.to_owned(),
            public_url: None,
            require_confirmed_email: false,
            password_reset_valid_for: seconds_of(mail.reset_valid_for),
            email_confirmation_valid_for: seconds_of(mail.confirm_valid_for),
            mail_retry_after: seconds_of(mail.retry_after),
            mail_throttle: MailThrottleConfig::default(),
        }
    }
}

impl AppConfig {
    /// Everything the service reads, checked to be usable.
    pub fn service(&self) -> Result<ServiceConfig, InvalidSetting> {
        Ok(ServiceConfig {
            hasher: BcryptHasher::new(self.bcrypt_cost)
                .map_err(|e| InvalidSetting::new("bcrypt_cost", self.bcrypt_cost, e.to_string()))?,
            passwords: self.password_policy()?,
            sessions: self.session_policy()?,
            throttle: self
                .login_throttle
                .policy(&self.registration_throttle, &self.mail_throttle)?,
            mail: self.mail_policy()?,
            history_retention: match self.history_retention {
                0 => {
                    return Err(InvalidSetting::new(
                        "history_retention",
                        0,
                        "must be at least 1 second",
                    ))
                }
                s => seconds(s),
            },
            hash_concurrency: self.hash_concurrency,
        })
    }

    /// Link lifetimes and retries, checked to be usable: at least a second,
    /// and at most what a mailed secret should live for (30 days) or a
    /// retry wait for (a day).
    pub fn mail_policy(&self) -> Result<MailPolicy, InvalidSetting> {
        const DAY: u64 = 86_400;
        for (setting, value, max) in [
            (
                "password_reset_valid_for",
                self.password_reset_valid_for,
                30 * DAY,
            ),
            (
                "email_confirmation_valid_for",
                self.email_confirmation_valid_for,
                30 * DAY,
            ),
            ("mail_retry_after", self.mail_retry_after, DAY),
        ] {
            if value == 0 {
                return Err(InvalidSetting::new(
                    setting,
                    value,
                    "must be at least 1 second",
                ));
            }
            if value > max {
                return Err(InvalidSetting::new(
                    setting,
                    value,
                    format!("must be at most {max} seconds"),
                ));
            }
        }
        let defaults = MailPolicy::default();
        Ok(MailPolicy {
            reset_valid_for: seconds(self.password_reset_valid_for),
            confirm_valid_for: seconds(self.email_confirmation_valid_for),
            retry_after: seconds(self.mail_retry_after),
            max_retry_after: defaults.max_retry_after.max(seconds(self.mail_retry_after)),
            ..defaults
        })
    }

    /// Where mail goes and how it is addressed, checked (the outbox is
    /// created if missing).
    pub fn mail_settings(&self, database_url: &str) -> Result<MailSettings, InvalidSetting> {
        let outbox = match &self.mail_outbox {
            Some(dir) => dir.relative(),
            None => DataDir::of(database_url).join("outbox"),
        };
        MailSettings::new(
            self.smtp_url.as_ref(),
            &outbox,
            &self.mail_from,
            self.public_url.as_deref(),
        )
    }

    /// The rules for new passwords, checked to be usable.
    pub fn password_policy(&self) -> Result<PasswordPolicy, InvalidSetting> {
        if !(1..=PasswordPolicy::MAX_CHARS).contains(&self.password_min_chars) {
            return Err(InvalidSetting::new(
                "password_min_chars",
                self.password_min_chars,
                format!("must be between 1 and {}", PasswordPolicy::MAX_CHARS),
            ));
        }
        Ok(PasswordPolicy {
            min_chars: self.password_min_chars,
            ..PasswordPolicy::default()
        })
    }

    /// The session lifetimes, checked to be usable.
    pub fn session_policy(&self) -> Result<SessionPolicy, InvalidSetting> {
        for (setting, value) in [
            ("session_idle_timeout", self.session_idle_timeout),
            ("session_absolute_timeout", self.session_absolute_timeout),
            ("remembered_idle_timeout", self.remembered_idle_timeout),
            (
                "remembered_absolute_timeout",
                self.remembered_absolute_timeout,
            ),
            ("reauthenticate_after", self.reauthenticate_after),
        ] {
            if value == 0 {
                return Err(InvalidSetting::new(
                    setting,
                    value,
                    "must be at least 1 second",
                ));
            }
        }
        Ok(SessionPolicy {
            idle_timeout: seconds(self.session_idle_timeout),
            absolute_timeout: seconds(self.session_absolute_timeout),
            remembered_idle_timeout: seconds(self.remembered_idle_timeout),
            remembered_absolute_timeout: seconds(self.remembered_absolute_timeout),
            reauthenticate_after: seconds(self.reauthenticate_after),
        })
    }
}
