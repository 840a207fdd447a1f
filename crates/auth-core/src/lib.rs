//! Accounts, password hashing and revocable server-side sessions, with no web
//! framework and no database driver: the domain of a small authentication
//! service, for any Rust application to build on.
//!
//! # The pieces
//!
//! - Value types that cannot hold bad data: [`Email`] (trimmed, lower-cased,
//!   validated), [`DisplayName`], and the [`PasswordPolicy`] that new
//!   passwords must meet (8 characters or more, 72 bytes or fewer, not a
//!   common password, not the account's own email or name).
//! - [`PasswordHasher`], with [`BcryptHasher`] as the default.
//! - [`SessionToken`]: the opaque secret a client holds. Stores keep only its
//!   SHA-256 [`TokenDigest`].
//! - The ports [`UserStore`], [`SessionStore`] and [`ThrottleStore`],
//!   implemented for SQLite and
//!   PostgreSQL by the `auth-store` crate, and in memory by
//!   [`memory::MemoryStore`] (feature `memory`).
//! - [`AuthService`]: register, log in (throttled per account and per client
//!   address by a [`ThrottlePolicy`]), authenticate a token, log out, change
//!   a password, revoke sessions. Its one error type is [`AuthError`].
//!
//! # A login, start to end
//!
//! ```
//! # #[cfg(feature = "memory")]
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use auth_core::memory::MemoryStore;
//! use auth_core::{AuthError, AuthService, BcryptHasher, Registration};
//!
//! let auth = AuthService::builder(MemoryStore::new())
//!     .hasher(BcryptHasher::new(4)?) // cost 4 keeps examples fast; use the default 12
//!     .build()?;
//!
//! auth.register(Registration {
//!     email: "Ada@Example.com",
//!     name: "Ada",
//!     password: "analytical engine",
//! })
//! .await?;
//!
//! // The email is case-insensitive; a wrong password and an unknown email
//! // fail the same way.
//! let issued = auth.login("ada@example.com", "analytical engine").await?;
//! assert!(matches!(
//!     auth.login("nobody@example.com", "analytical engine").await,
//!     Err(AuthError::InvalidCredentials)
//! ));
//!
//! // Hand `issued.token.expose_secret()` to the client (in a cookie, say);
//! // on each later request, turn what it sends back into a session:
//! let session = auth.authenticate(&issued.token).await?.expect("live session");
//! assert_eq!(session.user.email.as_str(), "ada@example.com");
//!
//! // Logging out deletes the session: the token stops working everywhere.
//! auth.logout(&issued.token).await?;
//! assert!(auth.authenticate(&issued.token).await?.is_none());
//! # Ok::<(), AuthError>(())
//! # }).unwrap();
//! ```
//!
//! # Runtime
//!
//! Hashing runs on tokio's blocking thread pool, so [`AuthService`] must be
//! used inside a tokio runtime.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod clock;
mod email;
mod error;
mod hash_pool;
mod hasher;
#[cfg(feature = "memory")]
pub mod memory;
mod name;
mod password;
mod service;
mod session;
mod store;
mod throttle;
mod user;

pub use clock::{Clock, ManualClock, SystemClock};
pub use email::{Email, EmailError};
pub use error::{AuthError, InputErrors};
pub use hasher::{BcryptHasher, HashError, PasswordHash, PasswordHasher};
pub use name::{DisplayName, NameError};
pub use password::{Password, PasswordError, PasswordPolicy};
pub use service::{AuthService, AuthServiceBuilder, AuthStore, Registration, ValidRegistration};
pub use session::{IssuedSession, Session, SessionPolicy, SessionToken, TokenDigest};
pub use store::{
    BoxError, NewSession, NewUser, SessionRecord, SessionStore, SessionSummary, StoreError,
    ThrottleStore, UserCredentials, UserStore,
};
pub use throttle::{ThrottleKey, ThrottlePolicy, ThrottleState};
pub use time;
pub use user::{User, UserId};
