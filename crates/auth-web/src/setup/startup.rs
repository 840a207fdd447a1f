//! Start-up work: migrations, the auth service, the line that says where
//! the server listens, and the periodic purge of ended sessions.

use std::sync::Arc;
use std::time::Duration;

use auth_core::{AuthService, Clock, Purged};
use rocket::fairing::{AdHoc, Fairing};
use rocket::tokio;

use crate::http::error::describe;
use crate::setup::config::ServiceConfig;
use crate::setup::db::AuthDb;
use crate::setup::{secret_key, Auth};

/// Runs the migrations and builds the [`Auth`] service over the pool. Must
/// be attached after [`AuthDb::init`](rocket_db_pools::Database::init). A failure stops the launch with a
/// log line saying why.
pub fn auth_service(config: ServiceConfig, clock: Arc<dyn Clock>) -> impl Fairing {
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
        let builder = config.apply(AuthService::builder(store)).clock(clock);
        let builder = match secret_key::totp_key(rocket.figment()) {
            Some(key) => builder.totp_key(key),
            None => builder,
        };
        match builder.build() {
            Ok(service) => {
                service.warm_up();
                log::info!(
                    "Auth service ready on {} (bcrypt cost {})",
                    service.store().backend(),
                    config.bcrypt_cost()
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

/// Says where the server listens, once it does: one line of the server's
/// own log (Rocket's launch banner is left out of it).
pub fn announce() -> impl Fairing {
    AdHoc::on_liftoff("Announce the address", |rocket| {
        Box::pin(async move {
            let config = rocket.config();
            let scheme = if config.tls_enabled() {
                "https"
            } else {
                "http"
            };
            log::info!(
                address = config.address.to_string().as_str(),
                port = config.port;
                "auth-web launched from {scheme}://{}:{}",
                config.address,
                config.port
            );
        })
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
