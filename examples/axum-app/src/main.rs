//! Runs the example: `cargo run -p axum-app`, then open http://127.0.0.1:3000.
//!
//! Environment: `DATABASE_URL` (default `sqlite://data/axum-app.db`),
//! `BIND_ADDR` (default `127.0.0.1:3000`), `BCRYPT_COST` (default 12) and
//! `HTTPS=1` when browsers reach the site over HTTPS (makes the cookie Secure).

use std::env;
use std::error::Error;
use std::process::ExitCode;

use axum_app::Config;
use tokio::net::TcpListener;

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("axum-app: {}", axum_app::report(&*error));
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn Error + Send + Sync>> {
    let var = |name, default: &str| env::var(name).unwrap_or_else(|_| default.to_owned());
    let config = Config {
        database_url: var("DATABASE_URL", "sqlite://data/axum-app.db"),
        bcrypt_cost: var("BCRYPT_COST", "12")
            .parse()
            .map_err(|e| format!("BCRYPT_COST: {e}"))?,
        https: matches!(var("HTTPS", "").as_str(), "1" | "true" | "on"),
    };
    let app = axum_app::app(&config).await?;
    let listener = TcpListener::bind(var("BIND_ADDR", "127.0.0.1:3000")).await?;
    eprintln!("axum-app: listening on http://{}", listener.local_addr()?);
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    axum_app::serve(listener, app, ctrl_c).await?;
    Ok(())
}
