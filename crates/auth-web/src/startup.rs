//! Start-up work that needs the database: migrations, the auth service, and
//! the periodic purge of ended sessions.

use std::sync::Arc;
use std::time::Duration;

use auth_core::{AuthService, BcryptHasher, Clock, SessionPolicy};
use rocket::fairing::{AdHoc, Fairing};
use rocket::tokio;

use crate::db::AuthDb;
use crate::error::describe;
use crate::Auth;

/// Runs the migrations and builds the [`Auth`] service over the pool. Must
/// be attached after [`AuthDb::init`]. A failure stops the launch with a
/// log line saying why.
pub fn auth_service(
    hasher: BcryptHasher,
    sessions: SessionPolicy,
    hash_concurrency: Option<usize>,
    clock: Arc<dyn Clock>,
) -> impl Fairing {
    AdHoc::try_on_ignite("Auth service", move |rocket| async move {
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
            .session_policy(sessions)
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

/// How often ended sessions are deleted.
const PURGE_EVERY: Duration = Duration::from_secs(600);

/// Deletes ended sessions every ten minutes while the server runs. Ended
/// sessions are refused anyway; this only keeps the table small.
pub fn session_purge() -> impl Fairing {
    AdHoc::on_liftoff("Session purge", |rocket| {
        Box::pin(async move {
            let Some(auth) = rocket.state::<Auth>().cloned() else {
                return;
            };
            let mut shutdown = rocket.shutdown();
            tokio::spawn(async move {
                let mut every = tokio::time::interval(PURGE_EVERY);
                loop {
                    tokio::select! {
                        _ = every.tick() => match auth.purge_expired_sessions().await {
                            Ok(0) => {}
                            Ok(n) => log::info!("Deleted {n} ended sessions"),
                            Err(e) => log::warn!("Session purge failed: {}", describe(&e)),
                        },
                        _ = &mut shutdown => break,
                    }
                }
            });
        })
    })
}
