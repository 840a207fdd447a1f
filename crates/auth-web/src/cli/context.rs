//! What every subcommand works with: the auth service over the configured
//! database, and the operator's name for the history.

use std::io::Write;
use std::sync::Arc;

use auth_core::{Actor, AuthService, SystemClock};
use rocket::figment::Figment;

use crate::cli::CliError;
use crate::setup::config::AppConfig;
use crate::setup::{db, Auth};

/// The service and the actor of one command.
pub struct Context {
    /// The service over the configured database, migrated.
    pub auth: Auth,
    /// Who is acting, for the history.
    pub actor: Actor,
}

impl Context {
    /// Reads the configuration as the server does, connects to its database
    /// and brings the schema up to date (as the server does at start).
    pub async fn open(figment: &Figment, operator: Option<String>) -> Result<Self, CliError> {
        let app: AppConfig = figment.extract()?;
        let service = app.service().map_err(|e| e.located(figment))?;
        let store = db::connect(&database(figment)).await?;
        store
            .migrate()
            .await
            .map_err(|e| CliError::Database(crate::http::error::describe(&e)))?;
        let auth = service.apply(AuthService::builder(store)).build()?;
        Ok(Self {
            auth,
            actor: Actor::Operator(operator.unwrap_or_else(login_name)),
        })
    }
}

/// The `databases.auth` settings, with the defaults rocket_db_pools adds
/// when the server opens its pool.
fn database(figment: &Figment) -> Figment {
    figment
        .focus("databases.auth")
        .join(("max_connections", 2))
        .join(("connect_timeout", 5))
}

/// The person at the terminal: who ran `sudo`, else the login name.
fn login_name() -> String {
    ["SUDO_USER", "USER", "LOGNAME"]
        .into_iter()
        .find_map(|var| {
            std::env::var(var)
                .ok()
                .filter(|name| !name.trim().is_empty())
        })
        .unwrap_or_else(|| "operator".to_owned())
}

/// `auth-web check`: everything the server checks before it starts, then a
/// query to the database. Writes nothing to the database.
pub async fn check(figment: &Figment, out: &mut impl Write) -> Result<(), CliError> {
    crate::setup::build(figment.clone(), Arc::new(SystemClock))?;
    writeln!(out, "Configuration: ok")?;
    let store = db::connect(&database(figment)).await?;
    store
        .ping()
        .await
        .map_err(|e| CliError::Database(crate::http::error::describe(&e)))?;
    writeln!(out, "Database ({}): answers", store.backend())?;
    store.close().await;
    Ok(())
}
