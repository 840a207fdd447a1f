//! [`Store`]: whichever backend a database URL names, behind one type, and
//! the pool settings both backends take.

use std::time::Duration;

use auth_core::StoreError;

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

    /// Brings the schema up to date with the backend's migrations, which
    /// are embedded in the binary: safe to run at every start. On
    /// PostgreSQL, instances starting together are safe too: sqlx takes an
    /// advisory lock, so one migrates and the others wait.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let done = match self {
            #[cfg(feature = "sqlite")]
            Self::Sqlite(s) => sqlx::migrate!("migrations/sqlite").run(s.pool()).await,
            #[cfg(feature = "postgres")]
            Self::Postgres(s) => sqlx::migrate!("migrations/postgres").run(s.pool()).await,
        };
        done.map_err(|e| StoreError::Backend(Box::new(e)))
    }

    /// Whether the database answers now: one trivial query.
    pub async fn ping(&self) -> Result<(), StoreError> {
        dispatch!(self, s => sqlx::query("SELECT 1").execute(s.pool()).await.map(|_| ()))
            .map_err(crate::error::classify)
    }

    /// Closes every connection.
    pub async fn close(&self) {
        dispatch!(self, s => s.close().await)
    }
}
