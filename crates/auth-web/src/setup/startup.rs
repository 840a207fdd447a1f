//! Start-up work that needs the database: migrations, the auth service, and
//! the periodic purge of ended sessions.

use std::sync::Arc;
use std::time::Duration;

use auth_core::{
    AuthService, BcryptHasher, Clock, PasswordPolicy, Purged, SessionPolicy, ThrottlePolicy,
};
use rocket::fairing::{AdHoc, Fairing};
use rocket::tokio;

use crate::http::error::describe;
use crate::setup::db::AuthDb;
use crate::setup::Auth;

/// What the [`Auth`] service is built with.
pub struct ServiceSettings {
    /// The password hasher.
    pub hasher: BcryptHasher,
    /// Rules for new passwords.
    pub passwords: PasswordPolicy,
    /// Session lifetimes.
    pub sessions: SessionPolicy,
    /// Failed-login limits.
    pub throttle: ThrottlePolicy,
    /// Hashes at once, if not one per core.
    pub hash_concurrency: Option<usize>,
    /// The clock.
    pub clock: Arc<dyn Clock>,
}

/// Runs the migrations and builds the [`Auth`] service over the pool. Must
/// be attached after [`AuthDb::init`](rocket_db_pools::Database::init). A failure stops the launch with a
/// log line saying why.
pub fn auth_service(settings: ServiceSettings) -> impl Fairing {
    AdHoc::try_on_ignite("Auth service", move |rocket| async move {
        let ServiceSettings {
            hasher,
            passwords,
            sessions,
            throttle,
            hash_concurrency,
            clock,
        } = settings;
        // Absent when the pool failed to open, which rocket_db_pools has
        // already logged with its cause.
        let Some(db) = rocket.state::<AuthDb>() else {
            return Err(rocket);
        };
        let store = db.store().clone();
        if let Err(e) = store.migrate().await {
            log::error!("Database migration failed: {}", describe(&e));
            return Err(rocket);
        }
        let mut builder = AuthService::builder(store)
            .hasher(hasher)
            .password_policy(passwords)
            .session_policy(sessions)
            .throttle_policy(throttle)
            .clock(clock);
        if let Some(limit) = hash_concurrency {
            builder = builder.max_concurrent_hashes(limit);
        }
        match builder.build() {
            Ok(service) => {
                log::info!(
                    "Auth service ready on {} (bcrypt cost {})",
                    service.store().backend(),
                    hasher.cost()
                );
                Ok(rocket.manage(service))
            }
            Err(e) => {
                log::error!("Cannot start the auth service: {}", describe(&e));
                Err(rocket)
            }
        }
    })
}

/// How often ended sessions and old throttle records are deleted.
const PURGE_EVERY: Duration = Duration::from_secs(600);

/// Deletes ended sessions and old throttle records every ten minutes while
/// the server runs. Ended sessions are refused anyway; this only keeps the
/// tables small.
pub fn purge() -> impl Fairing {
    AdHoc::on_liftoff("Purge of ended sessions", |rocket| {
        Box::pin(async move {
            let Some(auth) = rocket.state::<Auth>().cloned() else {
                return;
            };
            let mut shutdown = rocket.shutdown();
            tokio::spawn(async move {
                let mut every = tokio::time::interval(PURGE_EVERY);
                loop {
                    tokio::select! {
                        _ = every.tick() => match auth.purge_expired().await {
                            Ok(purged) if purged == Purged::default() => {}
                            Ok(Purged { sessions, throttles, .. }) => log::info!(
                                "Deleted {sessions} ended sessions and {throttles} old throttle records"
                            ),
                            Err(e) => log::warn!("Purge failed: {}", describe(&e)),
                        },
                        _ = &mut shutdown => break,
                    }
                }
            });
        })
    })
}
