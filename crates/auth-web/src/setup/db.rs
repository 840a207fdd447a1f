//! The database pool, managed by rocket_db_pools.
//!
//! rocket_db_pools' own sqlx pools are typed to one database, while this
//! application picks SQLite or PostgreSQL from the URL at start-up. Its
//! `Pool` trait is public, so [`StorePool`] implements it over
//! [`auth_store::Store`]: rocket_db_pools still reads the `databases.auth`
//! configuration, opens the pool at ignition and closes it at shutdown.

use std::time::Duration;

use auth_store::{ConnectError, PoolOptions, Store};
use rocket::figment::Figment;
use rocket_db_pools::Database;

/// The `databases.auth` database.
#[derive(Database)]
#[database("auth")]
pub struct AuthDb(StorePool);

impl AuthDb {
    /// The store behind the pool.
    pub fn store(&self) -> &Store {
        &self.0 .0
    }
}

/// Why the pool could not be opened: its settings, or the database itself.
#[derive(Debug, thiserror::Error)]
pub enum PoolError {
    /// `databases.auth` could not be read.
    #[error("{0}")]
    Config(Box<rocket::figment::Error>),
    /// The database could not be reached or opened.
    #[error(transparent)]
    Connect(ConnectError),
}

/// Connects to the database `figment` (the `databases.auth` part of the
/// configuration) describes, with its pool settings: for the server's pool
/// and for the command line alike.
pub async fn connect(figment: &Figment) -> Result<Store, PoolError> {
    let config: rocket_db_pools::Config = figment
        .extract()
        .map_err(|e| PoolError::Config(Box::new(e)))?;
    let options = PoolOptions {
        max_connections: u32::try_from(config.max_connections).unwrap_or(u32::MAX),
        min_connections: config.min_connections.unwrap_or(0),
        acquire_timeout: Duration::from_secs(config.connect_timeout),
        idle_timeout: config.idle_timeout.map(Duration::from_secs),
    };
    Store::connect(&config.url, &options)
        .await
        .map_err(PoolError::Connect)
}

/// A [`Store`] as a rocket_db_pools pool.
pub struct StorePool(Store);

#[rocket::async_trait]
impl rocket_db_pools::Pool for StorePool {
    /// The store is itself a cheap handle onto the connection pool.
    type Connection = Store;
    /// Not `rocket_db_pools::Error`, whose message repeats the "failed to
    /// initialize database" that rocket_db_pools puts before it in the log.
    type Error = PoolError;

    async fn init(figment: &Figment) -> Result<Self, Self::Error> {
        connect(figment).await.map(StorePool)
    }

    async fn get(&self) -> Result<Store, PoolError> {
        Ok(self.0.clone())
    }

    async fn close(&self) {
        self.0.close().await;
    }
}
