//! `auth-web`: serves the application with the configuration from
//! `Rocket.toml`, `ROCKET_*` variables and `DATABASE_URL`, or runs one of
//! the operator's subcommands on the same configuration.

use std::process::ExitCode;

use auth_web::cli::{self, Cli, Command};
use clap::Parser as _;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[rocket::main]
async fn main() -> ExitCode {
    // A usage mistake exits here with status 2 and clap's message.
    let cli = Cli::parse();
    match cli.command {
        None | Some(Command::Serve) => serve().await,
        Some(command) => match cli::run(command, cli.operator).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) if e.is_broken_pipe() => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("auth-web: {e}");
                ExitCode::FAILURE
            }
        },
    }
}

async fn serve() -> ExitCode {
    let figment = auth_web::config::figment();
    // Held until the server stops, so the last lines are written.
    let _log = auth_web::setup::logging::install(&figment);
    let rocket = match auth_web::build(figment, std::sync::Arc::new(auth_core::SystemClock)) {
        Ok(rocket) => rocket,
        Err(e) => {
            eprintln!("auth-web cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rocket.launch().await {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("auth-web stopped: {e}");
            ExitCode::FAILURE
        }
    }
}
