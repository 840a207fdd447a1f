//! The operator's command line. `auth-web` (or `auth-web serve`) runs the
//! server; every other subcommand works on the configured database
//! directly (the same `Rocket.toml`, `ROCKET_*` variables and
//! `DATABASE_URL`), with or without a server running, and exits: 0 when it
//! did what was asked, 1 when it could not (one line on standard error
//! says why), 2 for a usage mistake.

mod args;
mod context;
mod error;
mod import;
mod output;
mod secret;
mod users;

pub use args::{Cli, Command, UsersCommand};
pub use error::CliError;

use std::io::Write as _;

use context::Context;
use rocket::figment::Figment;

use crate::setup::config;

/// Runs one administrative subcommand to completion on the configuration
/// [`config::figment`] reads, writing its output to standard output.
pub async fn run(command: Command, operator: Option<String>) -> Result<(), CliError> {
    let mut out = std::io::BufWriter::new(std::io::stdout());
    let done = run_with(config::figment(), command, operator, &mut out).await;
    // What was printed before a failure still comes out, before its reason.
    let flushed = out.flush();
    done?;
    Ok(flushed?)
}

/// Runs one administrative subcommand on the configuration `figment`
/// holds, writing its output to `out`: [`run`] without the process around
/// it, for tests and for tools embedding the application.
pub async fn run_with(
    figment: Figment,
    command: Command,
    operator: Option<String>,
    out: &mut impl std::io::Write,
) -> Result<(), CliError> {
    match command {
        Command::Serve => Err(CliError::Refused(
            "serve runs the server: start it with auth_web::rocket()".into(),
        )),
        Command::Check => context::check(&figment, out).await,
        Command::Migrate => {
            let context = Context::open(&figment, operator).await?;
            writeln!(
                out,
                "The {} database's schema is up to date.",
                context.auth.store().backend()
            )?;
            Ok(())
        }
        Command::Purge => {
            let context = Context::open(&figment, operator).await?;
            let purged = context.auth.purge_expired().await?;
            writeln!(
                out,
                "Deleted {} ended sessions, {} old throttle records and {} history events \
                 past their retention.",
                purged.sessions, purged.throttles, purged.events
            )?;
            Ok(())
        }
        Command::ImportFlask { path, dry_run } => {
            let context = Context::open(&figment, operator).await?;
            import::flask(&context, &path, dry_run, out).await
        }
        Command::Users(command) => {
            let context = Context::open(&figment, operator).await?;
            users::run(&context, command, out).await
        }
    }
}
