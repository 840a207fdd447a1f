//! The command line's grammar, read by clap.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// The authentication server, and the operator's tool for its accounts.
#[derive(Debug, Parser)]
#[command(
    name = "auth-web",
    version,
    about = "The authentication server, and the operator's tool for its accounts.",
    long_about = "The authentication server, and the operator's tool for its accounts.\n\n\
        With no subcommand, or with `serve`, it runs the web server. The other subcommands \
        work on the configured database directly (Rocket.toml, ROCKET_* variables and \
        DATABASE_URL, as the server reads them) and need no running server.\n\n\
        Exit status: 0 done, 1 failed (the reason is printed on standard error), 2 usage error.",
    after_help = "Examples:\n  auth-web users list --json | jq '.[].email'\n  \
        auth-web users disable mallory@example.com\n  \
        auth-web import-flask /srv/flask-app/instance/users.db --dry-run"
)]
pub struct Cli {
    /// What to do; the server if omitted.
    #[command(subcommand)]
    pub command: Option<Command>,

    /// The operator's name, recorded in the history of every account a
    /// command changes [default: $SUDO_USER or $USER].
    #[arg(long, global = true, env = "AUTH_OPERATOR", value_name = "NAME")]
    pub operator: Option<String>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web server (what `auth-web` alone does).
    Serve,
    /// List, inspect, create, disable, enable or delete accounts, set their
    /// passwords and end their sessions.
    #[command(subcommand)]
    Users(UsersCommand),
    /// Delete ended sessions, old throttle records and history past
    /// `history_retention` (the server also does this every ten minutes).
    Purge,
    /// Bring the database's schema up to date (the server also does this at
    /// start).
    Migrate,
    /// Check the configuration and that the database answers; exit 0 if all
    /// is well, 1 with the problem otherwise. Changes nothing in the
    /// database.
    Check,
    /// Import the accounts of the original Flask app from its SQLite file,
    /// keeping their Werkzeug password hashes: each user logs in with the
    /// password they had, and the hash is replaced by this app's at that
    /// first login. Rows that cannot be imported are listed with the
    /// reason; running it again imports nothing twice.
    ImportFlask {
        /// The Flask app's database file (its `users.db`, table `user`).
        path: PathBuf,
        /// Check every row and report what would happen, writing nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

/// `auth-web users ...`.
#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Every account: id, email, name, created, confirmed, disabled, last
    /// login, live sessions.
    List {
        /// A JSON array of objects (see the README for the fields).
        #[arg(long)]
        json: bool,
    },
    /// One account, with its recent history.
    Show {
        /// The account's email (any case).
        email: String,
        /// A JSON object (see the README for the fields).
        #[arg(long)]
        json: bool,
    },
    /// Create an account. The password is asked for twice without echo, or
    /// read from the first line of standard input when that is not a
    /// terminal; the password policy applies.
    Create {
        /// The new account's email.
        email: String,
        /// The name shown on its pages.
        #[arg(long)]
        name: String,
    },
    /// Stop an account from logging in and end its sessions at once.
    Disable {
        /// The account's email.
        email: String,
    },
    /// Let a disabled account log in again.
    Enable {
        /// The account's email.
        email: String,
    },
    /// Delete an account with its sessions and history; the email can be
    /// registered again.
    Delete {
        /// The account's email.
        email: String,
        /// Do not ask for confirmation (needed when standard input is not a
        /// terminal).
        #[arg(long)]
        yes: bool,
    },
    /// Set a new password (asked for as in `create`) and end every session.
    SetPassword {
        /// The account's email.
        email: String,
    },
    /// End every session of an account ("log out everywhere").
    Logout {
        /// The account's email.
        email: String,
    },
    /// Remove an account's authenticator app, recovery codes and passkeys,
    /// for an owner who lost them: the password alone signs in again.
    #[command(name = "reset-2fa")]
    Reset2fa {
        /// The account's email.
        email: String,
    },
}
