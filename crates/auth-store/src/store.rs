//! [`Store`]: whichever backend a database URL names, behind one type, and
//! the pool settings both backends take.

use std::time::Duration;

use auth_core::time::OffsetDateTime;
use auth_core::{
    Email, NewSession, NewUser, PasswordHash, SessionRecord, SessionStore, SessionSummary,
    StoreError, ThrottleKey, ThrottleState, ThrottleStore, TokenDigest, User, UserCredentials,
    UserId, UserStore,
};

use crate::ConnectError;
#[cfg(feature = "postgres")]
use crate::PgStore;
#[cfg(feature = "sqlite")]
use crate::SqliteStore;

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
