//! The shared backend: one PostgreSQL database behind any number of app
//! instances.

use std::str::FromStr;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{ConnectOptions as _, Connection as _};

use crate::error::ConnectError;
use crate::PoolOptions;

/// The pool of a PostgreSQL database. As a store, it is used through
/// [`Store::Postgres`](crate::Store::Postgres), where the trait methods are.
/// Instances keep no state of their own, so any number of them can share one
/// database.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects to `url`, e.g. `postgres://user:password@host/database`.
    pub async fn connect(url: &str, pool: &PoolOptions) -> Result<Self, ConnectError> {
        let options = PgConnectOptions::from_str(url)
            .map_err(ConnectError::from_sqlx)?
            .application_name("auth-store");
        // One connection first, on its own: the pool would retry until its
        // timeout and then say only "pool timed out", where an operator
        // needs the address and the cause (refused, a certificate it does
        // not trust, a wrong password).
        let address = format!("{}:{}", options.get_host(), options.get_port());
        match tokio::time::timeout(pool.acquire_timeout, options.connect()).await {
            Ok(Ok(connection)) => {
                let _ = connection.close().await;
            }
            Ok(Err(e)) => return Err(ConnectError::unreachable(address, e)),
            Err(_) => {
                return Err(ConnectError::Unreachable {
                    address,
                    cause: format!("no answer within {:?}", pool.acquire_timeout),
                })
            }
        }
        let pool = PgPoolOptions::new()
            .max_connections(pool.max_connections)
            .min_connections(pool.min_connections)
            .acquire_timeout(pool.acquire_timeout)
            .idle_timeout(pool.idle_timeout)
            .connect_with(options)
            .await
            .map_err(ConnectError::from_sqlx)?;
        Ok(Self { pool })
    }

    /// Wraps a pool configured elsewhere.
    pub fn from_pool(pool: PgPool) -> Self {
        Self { pool }
    }

    /// The underlying pool.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Closes every connection, waiting for those in use to be returned.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}
