//! Accounts, password hashing, revocable server-side sessions and login
//! throttling, with no web framework and no database driver: the domain of
//! an authentication service, for any Rust application to build on.
//!
//! Pair it with [`auth-store`](https://docs.rs/auth-store) for SQLite or
//! PostgreSQL storage, and with any web framework for the HTTP side.
//!
//! # Getting started
//!
//! ```text
//! cargo add auth-core auth-store
//! cargo add tokio --features macros,rt-multi-thread
//! ```
//!
//! Build one [`AuthService`] at start-up over a store, share it with your
//! handlers (it is `Clone`, and clones share everything), and call it from
//! them. The example runs on the in-memory store of the `memory` feature; in
//! an application, `auth_store::Store::connect("sqlite://data/app.db", ..)`
//! takes its place and nothing else changes.
//!
//! ```
//! # #[cfg(feature = "memory")]
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use auth_core::memory::MemoryStore;
//! use auth_core::{AuthError, AuthService, BcryptHasher, Registration};
//!
//! let auth = AuthService::builder(MemoryStore::new())
//!     .hasher(BcryptHasher::new(4)?) // cost 4 keeps examples fast; keep the default 12
//!     .build()?;
//!
//! // POST /register
//! let issued = auth
//!     .register(Registration {
//!         email: "Ada@Example.com",
//!         name: "Ada",
//!         password: "analytical engine",
//!     })
//!     .await?;
//! // Send `issued.token.expose_secret()` to the browser in a cookie: with
//! // Max-Age = `issued.max_age()` for a remembered session
//! // (`issued.length`), with no expiry (gone with the browser) otherwise.
//!
//! // POST /login: the email is case-insensitive, and a wrong password and an
//! // unknown email fail the same way. Pass the client's address when you
//! // know it, so failures are also counted per address.
//! let client = "192.0.2.7".parse().ok();
//! let issued = auth.login_from("ada@example.com", "analytical engine", client).await?;
//! assert!(matches!(
//!     auth.login_from("nobody@example.com", "analytical engine", client).await,
//!     Err(AuthError::InvalidCredentials)
//! ));
//!
//! // Every later request: turn the cookie back into a session.
//! let cookie_value = issued.token.expose_secret().to_owned();
//! let token = auth_core::SessionToken::parse(&cookie_value).expect("well-formed");
//! let session = auth.authenticate(&token).await?.expect("a live session");
//! assert_eq!(session.user.name.as_str(), "Ada");
//!
//! // POST /logout: the session is deleted, so the token (and any copy of
//! // it) stops working everywhere.
//! auth.logout(&token, None).await?;
//! assert!(auth.authenticate(&token).await?.is_none());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
//!
//! # Turning errors into responses
//!
//! [`AuthError`] has one variant per way a caller should answer, so no
//! caller matches on message strings:
//!
//! | Variant | Typical answer |
//! |---|---|
//! | [`AuthError::InvalidInput`] | the form again (422), each field's message from [`InputErrors::iter`] |
//! | [`AuthError::EmailTaken`] | "already registered: log in instead" |
//! | [`AuthError::InvalidCredentials`] | one generic "invalid email or password" (401) |
//! | [`AuthError::Throttled`] | 429 with `Retry-After: retry_after` |
//! | [`AuthError::Store`] | 503 (with `Retry-After` if [`AuthError::is_transient`]): the database is down or failing; log it |
//! | anything else | 500; log it |
//!
//! The enum is `#[non_exhaustive]`: keep a catch-all arm.
//!
//! # Sessions
//!
//! A [`SessionToken`] is 256 random bits, opaque to the client. Stores keep
//! only its SHA-256 [`TokenDigest`]. Sessions end after
//! [`SessionPolicy::idle_timeout`] without use (30 minutes by default) and
//! [`SessionPolicy::absolute_timeout`] after login (12 hours), enforced by
//! [`AuthService::authenticate`]. [`AuthService::login_with`] and
//! [`SessionLength::Remembered`] make a "remember me" session (30 days, 7
//! idle, by default); each session keeps the idle timeout it was created
//! with, the [`ClientInfo`] that logged in (address and [`Device`]), and
//! when the password was last entered in it: before a sensitive action, ask
//! [`AuthService::needs_reauthentication`] and, if so, have the user
//! confirm with [`AuthService::reauthenticate`]. Each login issues a new
//! token. Besides
//! [`AuthService::logout`], [`AuthService::revoke_session`] ends one session
//! by the handle a page shows, [`AuthService::revoke_sessions`] ends all of an
//! account's sessions or all but one, [`AuthService::revoke_other_sessions`]
//! does so after checking the password again, and
//! [`AuthService::change_password`] ends the other sessions by itself. Call
//! [`AuthService::purge_expired`] now and then to keep the tables small.
//!
//! # Throttling
//!
//! [`AuthService::login_from`] counts attempts per account and per client
//! address in the store, *before* checking each password, in one atomic
//! step, so every instance sharing the database sees them and simultaneous
//! guesses get no more checks than the limit. At the [`ThrottlePolicy`]'s
//! limits the account or address is locked for a short, growing time and
//! every attempt, the right password included, is [`AuthError::Throttled`]
//! without any hashing. [`AuthService::register_from`] limits new accounts
//! per address the same way. Determining the client's
//! address (behind proxies, which headers to believe) is the caller's job.
//!
//! # Two-factor sign-in
//!
//! An account can add an authenticator app (TOTP, RFC 6238). Sign it in
//! with [`AuthService::sign_in`]: for an account without an app it returns
//! the session; for one with an app, only a [`PendingSignIn`] whose
//! [`SignInToken`] opens nothing but [`AuthService::complete_sign_in`],
//! which takes the app's code or a [`RecoveryCode`] and issues the session.
//! The plain [`AuthService::login`] refuses such an account with
//! [`AuthError::SecondFactorRequired`] rather than skip the factor. Codes
//! are counted with the account's wrong passwords, before each check; each
//! time step and each recovery code works once, however many requests
//! bring it at the same moment. Give the builder a [`TotpKey`]
//! ([`AuthServiceBuilder::totp_key`]) kept outside the database, and the
//! store keeps each app's secret sealed with it; recovery codes are kept
//! as salted digests.
//!
//! ```
//! # #[cfg(feature = "memory")]
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use auth_core::memory::MemoryStore;
//! use auth_core::{AuthService, BcryptHasher, ClientInfo, Registration, SessionLength, SignIn};
//!
//! let auth = AuthService::builder(MemoryStore::new())
//!     .hasher(BcryptHasher::new(4)?)
//!     .build()?;
//! let ada = Registration { email: "ada@example.com", name: "Ada", password: "analytical engine" };
//! let issued = auth.register(ada).await?;
//!
//! // The account page: the password again, then a new secret to show as a
//! // QR code of `secret.otpauth_url(..)` and as `secret.base32()`.
//! let secret = auth.begin_totp(&issued.token, "analytical engine", ClientInfo::default()).await?;
//! // The first code from the app turns it on; show the recovery codes once.
//! let code = secret.code_at(auth.now());
//! let enrolled = auth.confirm_totp(&issued.user, &code, ClientInfo::default()).await?;
//! assert_eq!(enrolled.recovery_codes.len(), 10);
//!
//! // POST /login: the password alone issues no session...
//! let client = ClientInfo::default();
//! let SignIn::SecondFactor(pending) = auth
//!     .sign_in("ada@example.com", "analytical engine", client.clone(), SessionLength::Browser)
//!     .await?
//! else {
//!     unreachable!("the account has an app")
//! };
//! // ...keep `pending.token.expose_secret()` in a short-lived cookie, and
//! // POST /login/code: the app's code (here a recovery code, since the
//! // app's current code was just used to turn it on).
//! let recovery = enrolled.recovery_codes[0].expose_secret();
//! let session = auth.complete_sign_in(&pending.token, recovery, client).await?;
//! assert!(auth.authenticate(&session.token).await?.is_some());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
//!
//! # Passkeys
//!
//! Passkeys (WebAuthn) stand in for the app's code at the second step, or
//! sign in without a password. auth-core keeps the rules and the state; the
//! cryptography is a [`PasskeyCeremony`] you pass in (`auth-web` implements
//! it over `webauthn-rs`, for the site's own origin). Each ceremony is
//! started by the service ([`AuthService::begin_passkey`],
//! [`AuthService::begin_passkey_sign_in`]), which returns the options for
//! the browser and a [`CeremonyToken`] to keep in a cookie; the answer goes
//! back with that token ([`AuthService::finish_passkey`],
//! [`AuthService::finish_passkey_sign_in`]) and is accepted once, within
//! [`PASSKEY_CEREMONY_VALID_FOR`], for that purpose and account only, and
//! only if the passkey's signature counter went up. An account with a
//! passkey takes the second step after its password, like one with an app.
//!
//! # Operators, history and imports
//!
//! The operator's side works on the same service: [`AuthService::accounts`]
//! pages through accounts with their state and activity
//! ([`AccountSummary`]); [`AuthService::disable`] stops an account from
//! logging in (the right password then fails exactly like a wrong one, after
//! the same hash check) and ends its sessions; [`AuthService::enable`],
//! [`AuthService::set_password`], [`AuthService::end_sessions`] and
//! [`AuthService::delete_account`] do what they say. Each takes the
//! [`Actor`] to record: every change, and every registration, login and
//! password change, is an [`AccountEvent`] in the account's history
//! ([`AuthService::history`]), kept for
//! [`AuthServiceBuilder::history_retention`].
//!
//! [`AuthService::import`] moves accounts over from another system with
//! their password hashes kept as they are: [`BcryptHasher`] verifies
//! Werkzeug's PBKDF2 and scrypt hashes (a Flask application's), and the
//! first successful login replaces them with its own. See [`Import`].
//!
//! # Testing code built on it
//!
//! With the `memory` feature, [`memory::MemoryStore`] is a complete store in
//! a `HashMap`. [`ManualClock`] lets a test move time forward instead of
//! sleeping (session expiry, throttle windows). A custom
//! [`PasswordHasher`] can count calls. Implementers of the store traits for
//! another database get the conformance suite from `auth-store`'s
//! `testkit` feature.
//!
//! # Security model
//!
//! What this crate guarantees:
//!
//! - **Tokens are hashed at rest.** Stores see only SHA-256 digests of
//!   session tokens; a copy of the database does not let anyone take over a
//!   session. Lookups by digest need no constant-time comparison (a digest
//!   cannot be turned back into a token).
//! - **Passwords:** bcrypt (default cost 12) over an HMAC-SHA-256 pre-hash
//!   keyed with the hash's salt, so every character counts and nothing is
//!   cut at bcrypt's 72 bytes (see [`BcryptHasher`]); salted per hash;
//!   verification compares in constant time. Hashes of an older format or a
//!   lower cost are upgraded at the next login. Passwords are
//!   NFKC-normalised and must have 8 (configurable) to 128 characters in
//!   any script: longer ones are refused, never truncated. Common passwords
//!   and the account's own email or name are refused.
//! - **No account enumeration at login:** an unknown email is verified
//!   against a dummy hash of the same cost, so it takes as long as a wrong
//!   password and returns the same [`AuthError::InvalidCredentials`].
//!   (Registration necessarily reveals that an email is taken.)
//! - **Hashing never blocks the async executor:** it runs on tokio's
//!   blocking pool, at most
//!   [`AuthServiceBuilder::max_concurrent_hashes`] at once (default: one per
//!   core); further logins wait in a fair queue.
//! - **Secrets stay out of logs:** `Debug` of [`SessionToken`], [`Password`],
//!   [`PasswordHash`] and [`Registration`] prints no secret, and there is no
//!   `Display` for them.
//! - **Server-side revocation:** a logged-out or revoked session fails on
//!   every instance immediately; no signed, unrevocable tokens.
//!
//! What the host application must still do:
//!
//! - **CSRF protection** for every state-changing form (tokens, and a check
//!   of `Origin`/`Sec-Fetch-Site`).
//! - **TLS**, and the **cookie attributes**: `HttpOnly`, `SameSite`, `Path=/`,
//!   `Secure` (ideally the `__Host-` prefix) for the cookie carrying the
//!   token, and `Cache-Control: no-store` on logged-in pages.
//! - **The client address** for [`AuthService::login_from`]: the TCP peer,
//!   or a proxy header only from proxies you trust.
//! - **Rate limits elsewhere**: [`AuthService::register_from`] limits new
//!   accounts per address and the login methods limit password checks;
//!   anything else the application adds is its own to limit.
//! - **Keep the store's database private**: it holds password hashes.
//!
//! # Runtime and features
//!
//! [`AuthService`] must run inside a tokio runtime (hashing uses
//! `spawn_blocking`). The `memory` feature adds [`memory::MemoryStore`].
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod admin;
mod client;
mod clock;
mod delivery;
mod email;
mod error;
mod event;
mod hash_pool;
mod hasher;
mod import;
mod links;
mod mail;
// Always in the documentation, so links to it resolve; usable with the
// `memory` feature.
#[cfg(any(feature = "memory", doc))]
#[cfg_attr(docsrs, doc(cfg(feature = "memory")))]
pub mod memory;
mod name;
mod passkey;
mod passkeys;
mod password;
mod second_factor;
mod service;
mod session;
mod store;
mod throttle;
mod totp_key;
mod two_factor;
mod user;
mod werkzeug;

pub use client::{ClientInfo, Device};
pub use clock::{Clock, ManualClock, SystemClock};
pub use delivery::MailFailure;
pub use email::{Email, EmailError};
pub use error::{AuthError, Field, InputErrors, PasskeyError, RandomError, SecondFactorError};
pub use event::{AccountEvent, Actor, EventKind, LoginActivity};
pub use hasher::{BcryptHasher, HashError, InvalidCost, PasswordHash, PasswordHasher};
pub use import::{Import, ImportOutcome, ImportSkip, ImportedAccount};
pub use links::LinkTarget;
pub use mail::{
    Delivery, LinkPurpose, LinkToken, Mail, MailError, MailKind, MailPolicy, Mailer, Message,
};
pub use name::{DisplayName, NameError};
pub use passkey::{
    CeremonyKind, CeremonyRecord, CeremonyToken, Challenge, ClaimedCredential, CredentialId,
    NewPasskey, PasskeyCeremony, PasskeyId, PasskeyName, RegisteredCredential, StartedCeremony,
    StoredPasskey, UserHandle, VerifiedAssertion, MAX_PASSKEYS, PASSKEY_CEREMONY_VALID_FOR,
    PASSKEY_NAME_MAX_CHARS,
};
pub use password::{Password, PasswordError, PasswordPolicy};
pub use second_factor::{
    totp_step, Enrolled, PendingSignIn, RecoveryCode, RecoverySalt, SignIn, SignInToken,
    StoredRecoveryCode, TotpSecret, RECOVERY_CODE_COUNT, TOTP_STEP_SECONDS,
};
pub use service::{
    AuthService, AuthServiceBuilder, AuthStore, Purged, Registration, ValidRegistration,
    DEFAULT_HISTORY_RETENTION,
};
pub use session::{
    IssuedSession, Session, SessionLength, SessionPolicy, SessionTimes, SessionToken, TokenDigest,
};
pub use store::{
    AccountStore, AccountSummary, AddPasskey, BoxError, EmailChange, EventStore, LinkTokenRecord,
    LinkTokenStore, MailStore, NewCeremony, NewLinkToken, NewMail, NewPendingSignIn, NewSession,
    NewUser, PasskeyStore, PendingSignInRecord, QueuedMail, SecondFactorStore, SessionRecord,
    SessionStore, SessionSummary, StoreError, ThrottleStore, TotpRecord, UserCredentials,
    UserStore,
};
pub use throttle::{ThrottleKey, ThrottlePolicy, ThrottleState};
pub use time;
pub use totp_key::{SealedTotpSecret, TotpKey};
pub use two_factor::{SIGN_IN_STEP_VALID_FOR, TOTP_SETUP_VALID_FOR};
pub use user::{User, UserId};
