//! Storage for [`auth_core`]: its [`UserStore`](auth_core::UserStore),
//! [`SessionStore`](auth_core::SessionStore) and
//! [`ThrottleStore`](auth_core::ThrottleStore) implemented on SQLite (embedded, one file, the default)
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
//! # #[cfg(feature = "sqlite")]
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
//! - `sqlite:` ([`Store::Sqlite`], on a [`SqliteStore`] pool): the file (and its directory, created
//!   owner-only) appears on first use. Every connection runs in WAL mode with
//!   a five-second busy timeout, `synchronous = NORMAL` and foreign keys on;
//!   `sqlite::memory:` gives a private in-memory database on one connection.
//! - `postgres:` or `postgresql:` ([`Store::Postgres`], on a [`PgStore`]
//!   pool): instances share everything
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
//! - `sqlite` also brings `flask`, which reads the accounts of the Flask
//!   tutorial app's SQLite file for an import.
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

#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod error;
#[cfg(feature = "sqlite")]
pub mod flask;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod rows;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub mod sql;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod sql_store;
#[cfg(feature = "sqlite")]
mod sqlite;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod store;
#[cfg(feature = "testkit")]
#[cfg_attr(docsrs, doc(cfg(feature = "testkit")))]
pub mod testkit;

#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub use error::ConnectError;
#[cfg(feature = "postgres")]
pub use postgres::PgStore;
#[cfg(feature = "sqlite")]
pub use sqlite::{create_private_dir, SqliteStore};
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub use store::{PoolOptions, Store};
