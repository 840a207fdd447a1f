//! Storage for [`auth_core`]: its [`UserStore`], [`SessionStore`] and
//! [`ThrottleStore`] implemented on SQLite (embedded, one file, the default)
//! and PostgreSQL (one database behind any number of app instances), chosen
//! at run time from the database URL. Both backends share one set of SQL
//! statements and pass one conformance suite, which the `testkit` feature
//! exports for anyone implementing the traits for another database.
//!
//! # Getting started
//!
//! ```text
//! cargo add auth-core auth-store
//! cargo add tokio --features macros,rt-multi-thread
//! ```
//!
//! Connect, migrate, and hand the store to [`auth_core::AuthService`]:
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use auth_core::{AuthService, BcryptHasher, Registration};
//! use auth_store::{PoolOptions, Store};
//!
//! # let dir = tempfile::tempdir()?;
//! # let url = format!("sqlite://{}/app.db", dir.path().display());
//! // let url = "sqlite://data/app.db"; // or "postgres://user:password@host/db"
//! let store = Store::connect(&url, &PoolOptions::default()).await?;
//! store.migrate().await?; // embedded migrations; safe at every start
//!
//! let auth = AuthService::builder(store)
//!     .hasher(BcryptHasher::new(4)?) // cost 4 keeps examples fast; keep the default 12
//!     .build()?;
//! let issued = auth
//!     .register(Registration { email: "ada@example.com", name: "Ada", password: "analytical engine" })
//!     .await?;
//! assert!(auth.authenticate(&issued.token).await?.is_some());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
//!
//! # Backends
//!
//! [`Store::connect`] reads the URL's scheme:
//!
//! - `sqlite:` ([`SqliteStore`]): the file (and its directory, created
//!   owner-only) appears on first use. Every connection runs in WAL mode with
//!   a five-second busy timeout, `synchronous = NORMAL` and foreign keys on;
//!   `sqlite::memory:` gives a private in-memory database on one connection.
//! - `postgres:` or `postgresql:` ([`PgStore`]): instances share everything
//!   through the database; migrations take an advisory lock, so instances
//!   starting together are safe.
//!
//! Times are stored as whole Unix seconds and ids as 64-bit integers on both
//! backends. Emails are unique by a unique index on the normalised address,
//! so concurrent registrations of one email create one account and give
//! [`auth_core::StoreError::EmailTaken`] to the rest. Driver errors become
//! [`auth_core::StoreError::Unavailable`] when the database is unreachable,
//! busy or restarting (worth a 503 and a retry) and
//! [`auth_core::StoreError::Backend`] otherwise; their messages never
//! contain the URL.
//!
//! # Features
//!
//! - `sqlite` (default): [`SqliteStore`].
//! - `postgres` (default): [`PgStore`].
//! - `testkit`: [`testkit::run`], the conformance suite, and
//!   `testkit::postgres::TestSchema` (with `postgres`), a fresh schema per
//!   test.
//!
//! Build with one backend only with `default-features = false` and the
//! feature you want.
//!
//! # Testing a store of your own
//!
//! Implement the three traits for your database, then run the same suite the
//! built-in stores pass, with a function that returns a fresh, empty store:
//!
//! ```text
//! #[tokio::test]
//! async fn my_store_conforms() {
//!     auth_store::testkit::run("my store", || async { MyStore::fresh().await }).await;
//! }
//! ```
#![cfg_attr(feature = "sqlite", doc = "[`SqliteStore`]: crate::SqliteStore")]
#![cfg_attr(
    not(feature = "sqlite"),
    doc = "[`SqliteStore`]: https://docs.rs/auth-store/latest/auth_store/struct.SqliteStore.html"
)]
#![cfg_attr(feature = "postgres", doc = "[`PgStore`]: crate::PgStore")]
#![cfg_attr(
    not(feature = "postgres"),
    doc = "[`PgStore`]: https://docs.rs/auth-store/latest/auth_store/struct.PgStore.html"
)]
#![cfg_attr(feature = "testkit", doc = "[`testkit::run`]: crate::testkit::run")]
#![cfg_attr(
    not(feature = "testkit"),
    doc = "[`testkit::run`]: https://docs.rs/auth-store/latest/auth_store/testkit/fn.run.html"
)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]
#![forbid(unsafe_code)]

#[cfg(not(any(feature = "sqlite", feature = "postgres")))]
compile_error!("auth-store needs at least one of the features `sqlite` and `postgres`");

mod error;
#[cfg(feature = "postgres")]
mod postgres;
mod rows;
pub mod sql;
#[cfg(feature = "sqlite")]
mod sqlite;
#[cfg(feature = "testkit")]
#[cfg_attr(docsrs, doc(cfg(feature = "testkit")))]
pub mod testkit;

use std::time::Duration;

use auth_core::time::OffsetDateTime;
use auth_core::{
    Email, NewSession, NewUser, PasswordHash, SessionRecord, SessionStore, SessionSummary,
    StoreError, ThrottleKey, ThrottleState, ThrottleStore, TokenDigest, User, UserCredentials,
    UserId, UserStore,
};

pub use error::ConnectError;
#[cfg(feature = "postgres")]
pub use postgres::PgStore;
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteStore;

/// Connection-pool settings, the same for both backends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolOptions {
    /// Most connections open at once.
    pub max_connections: u32,
    /// Connections kept open even when idle.
    pub min_connections: u32,
    /// How long a query waits for a free connection (or a new one to open)
    /// before failing with [`StoreError::Unavailable`]. Keep it short: it is
    /// how long a request hangs when the database is down.
    pub acquire_timeout: Duration,
    /// Idle connections are closed after this long.
    pub idle_timeout: Option<Duration>,
}

impl Default for PoolOptions {
    fn default() -> Self {
        Self {
            max_connections: 10,
            min_connections: 0,
            acquire_timeout: Duration::from_secs(5),
            idle_timeout: Some(Duration::from_secs(600)),
        }
    }
}

/// A store on whichever backend the database URL names.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Store {
    /// `sqlite:` URLs.
    #[cfg(feature = "sqlite")]
    Sqlite(SqliteStore),
    /// `postgres:` and `postgresql:` URLs.
    #[cfg(feature = "postgres")]
    Postgres(PgStore),
}

macro_rules! dispatch {
    ($self:ident, $store:ident => $call:expr) => {
        match $self {
            #[cfg(feature = "sqlite")]
            Store::Sqlite($store) => $call,
            #[cfg(feature = "postgres")]
            Store::Postgres($store) => $call,
        }
    };
}

impl Store {
    /// Connects to the database `url` names: `sqlite:` (a file, created if
    /// missing) or `postgres:`/`postgresql:`. The error never contains the
    /// URL, which may hold a password.
    pub async fn connect(url: &str, pool: &PoolOptions) -> Result<Self, ConnectError> {
        let scheme = url.split_once(':').map(|(scheme, _)| scheme);
        match scheme {
            #[cfg(feature = "sqlite")]
            Some("sqlite") => Ok(Self::Sqlite(SqliteStore::connect(url, pool).await?)),
            #[cfg(feature = "postgres")]
            Some("postgres" | "postgresql") => {
                Ok(Self::Postgres(PgStore::connect(url, pool).await?))
            }
            _ => Err(ConnectError::UnsupportedScheme {
                supported: Self::SCHEMES.join(", "),
            }),
        }
    }

    /// The URL schemes this build supports.
    pub const SCHEMES: &'static [&'static str] = &[
        #[cfg(feature = "sqlite")]
        "sqlite:",
        #[cfg(feature = "postgres")]
        "postgres:",
    ];

    /// The backend's name: `"sqlite"` or `"postgres"`.
    pub fn backend(&self) -> &'static str {
        match self {
            #[cfg(feature = "sqlite")]
            Self::Sqlite(_) => "sqlite",
            #[cfg(feature = "postgres")]
            Self::Postgres(_) => "postgres",
        }
    }

    /// Brings the schema up to date with the embedded migrations.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        dispatch!(self, s => s.migrate().await)
    }

    /// Closes every connection.
    pub async fn close(&self) {
        dispatch!(self, s => s.close().await)
    }
}

impl UserStore for Store {
    async fn create_user(&self, user: NewUser) -> Result<User, StoreError> {
        dispatch!(self, s => s.create_user(user).await)
    }

    async fn find_credentials(&self, email: &Email) -> Result<Option<UserCredentials>, StoreError> {
        dispatch!(self, s => s.find_credentials(email).await)
    }

    async fn find_user(&self, id: UserId) -> Result<Option<User>, StoreError> {
        dispatch!(self, s => s.find_user(id).await)
    }

    async fn update_password_hash(
        &self,
        id: UserId,
        hash: &PasswordHash,
    ) -> Result<bool, StoreError> {
        dispatch!(self, s => s.update_password_hash(id, hash).await)
    }
}

impl SessionStore for Store {
    async fn create_session(&self, session: NewSession) -> Result<(), StoreError> {
        dispatch!(self, s => s.create_session(session).await)
    }

    async fn find_session(
        &self,
        digest: &TokenDigest,
    ) -> Result<Option<SessionRecord>, StoreError> {
        dispatch!(self, s => s.find_session(digest).await)
    }

    async fn list_user_sessions(&self, user: UserId) -> Result<Vec<SessionSummary>, StoreError> {
        dispatch!(self, s => s.list_user_sessions(user).await)
    }

    async fn touch_session(
        &self,
        digest: &TokenDigest,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        dispatch!(self, s => s.touch_session(digest, at).await)
    }

    async fn delete_session(&self, digest: &TokenDigest) -> Result<bool, StoreError> {
        dispatch!(self, s => s.delete_session(digest).await)
    }

    async fn delete_user_sessions(
        &self,
        user: UserId,
        keep: Option<&TokenDigest>,
    ) -> Result<u64, StoreError> {
        dispatch!(self, s => s.delete_user_sessions(user, keep).await)
    }

    async fn delete_expired_sessions(
        &self,
        now: OffsetDateTime,
        idle_cutoff: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        dispatch!(self, s => s.delete_expired_sessions(now, idle_cutoff).await)
    }
}

impl ThrottleStore for Store {
    async fn throttle_state(&self, key: &ThrottleKey) -> Result<Option<ThrottleState>, StoreError> {
        dispatch!(self, s => s.throttle_state(key).await)
    }

    async fn reserve_attempt(
        &self,
        key: &ThrottleKey,
        now: OffsetDateTime,
        window_cutoff: OffsetDateTime,
    ) -> Result<ThrottleState, StoreError> {
        dispatch!(self, s => s.reserve_attempt(key, now, window_cutoff).await)
    }

    async fn release_attempt(&self, key: &ThrottleKey) -> Result<(), StoreError> {
        dispatch!(self, s => s.release_attempt(key).await)
    }

    async fn lock(
        &self,
        key: &ThrottleKey,
        now: OffsetDateTime,
        until: OffsetDateTime,
        lockouts: u32,
    ) -> Result<(), StoreError> {
        dispatch!(self, s => s.lock(key, now, until, lockouts).await)
    }

    async fn clear_throttle(&self, key: &ThrottleKey) -> Result<(), StoreError> {
        dispatch!(self, s => s.clear_throttle(key).await)
    }

    async fn delete_stale_throttles(&self, before: OffsetDateTime) -> Result<u64, StoreError> {
        dispatch!(self, s => s.delete_stale_throttles(before).await)
    }
}
