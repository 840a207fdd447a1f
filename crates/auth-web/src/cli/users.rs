//! `auth-web users ...`.

use std::io::Write;

use auth_core::{AccountSummary, Registration};

use crate::cli::context::Context;
use crate::cli::output;
use crate::cli::{secret, CliError, UsersCommand};
use crate::http::account_json::{AccountJson, SecondFactors};

/// Accounts fetched per query by `list`: output starts at once and memory
/// stays flat however many accounts there are.
const PAGE: u32 = 500;

/// Events shown by `show`.
const HISTORY: u32 = 20;

/// Runs one `users` subcommand.
pub async fn run(
    context: &Context,
    command: UsersCommand,
    out: &mut impl Write,
) -> Result<(), CliError> {
    let auth = &context.auth;
    let actor = || context.actor.clone();
    match command {
        UsersCommand::List { json } => list(context, json, out).await,
        UsersCommand::Show { email, json } => {
            let account = find(context, &email).await?;
            let history = auth.history(account.user.id, HISTORY).await?;
            let factors = SecondFactors::of(auth, account.user.id).await?;
            if json {
                let view = AccountJson::new(&account)
                    .with_history(&history)
                    .with_second_factor(&factors);
                serde_json::to_writer_pretty(&mut *out, &view).map_err(std::io::Error::from)?;
                writeln!(out)?;
            } else {
                output::details(out, &account, &factors, &history)?;
            }
            Ok(())
        }
        UsersCommand::Create { email, name } => {
            let password = secret::new_password()?;
            let form = Registration {
                email: &email,
                name: &name,
                password: &password,
            };
            let user = auth.add_account(form, actor()).await?;
            writeln!(
                out,
                "Created account {} for {}.",
                user.id,
                user.email.as_str()
            )?;
            Ok(())
        }
        UsersCommand::Disable { email } => {
            let account = find(context, &email).await?;
            let email = account.user.email.as_str();
            if auth.disable(account.user.id, actor()).await? {
                writeln!(
                    out,
                    "Disabled {email}: it cannot log in, and its {} live sessions ended.",
                    account.live_sessions
                )?;
            } else {
                writeln!(out, "{email} was already disabled; nothing changed.")?;
            }
            Ok(())
        }
        UsersCommand::Enable { email } => {
            let account = find(context, &email).await?;
            let email = account.user.email.as_str();
            if auth.enable(account.user.id, actor()).await? {
                writeln!(out, "Enabled {email}: it can log in again.")?;
            } else {
                writeln!(out, "{email} was not disabled; nothing changed.")?;
            }
            Ok(())
        }
        UsersCommand::Delete { email, yes } => {
            let account = find(context, &email).await?;
            let email = account.user.email.as_str();
            let question = format!(
                "Delete the account {email} ({}), its {} live sessions and its history?",
                account.user.name.as_str(),
                account.live_sessions
            );
            if !yes && !secret::confirm(&question, email)? {
                return Err(CliError::Refused(
                    "not confirmed; nothing was deleted".into(),
                ));
            }
            if !auth.delete_account(account.user.id, actor()).await? {
                return Err(CliError::NoSuchAccount(email.to_owned()));
            }
            writeln!(out, "Deleted {email}; the email can be registered again.")?;
            Ok(())
        }
        UsersCommand::SetPassword { email } => {
            let account = find(context, &email).await?;
            let password = secret::new_password()?;
            if !auth
                .set_password(account.user.id, &password, actor())
                .await?
            {
                return Err(CliError::NoSuchAccount(email));
            }
            writeln!(
                out,
                "Set a new password for {}; its sessions ended.",
                account.user.email.as_str()
            )?;
            Ok(())
        }
        UsersCommand::Reset2fa { email } => {
            let account = find(context, &email).await?;
            let email = account.user.email.as_str();
            if auth.reset_second_factor(account.user.id, actor()).await? {
                writeln!(
                    out,
                    "Removed the authenticator app, recovery codes and passkeys of {email}: its \
                     password alone signs in now. Ask its owner to set up two-factor sign-in again."
                )?;
            } else {
                writeln!(out, "{email} has no two-factor sign-in; nothing changed.")?;
            }
            Ok(())
        }
        UsersCommand::Logout { email } => {
            let account = find(context, &email).await?;
            let ended = auth.end_sessions(account.user.id, actor()).await?;
            writeln!(
                out,
                "Ended {ended} sessions of {}.",
                account.user.email.as_str()
            )?;
            Ok(())
        }
    }
}

/// The account `email` names, or [`CliError::NoSuchAccount`].
async fn find(context: &Context, email: &str) -> Result<AccountSummary, CliError> {
    let missing = || CliError::NoSuchAccount(email.trim().to_owned());
    let user = context
        .auth
        .find_user_by_email(email)
        .await?
        .ok_or_else(missing)?;
    context.auth.account(user.id).await?.ok_or_else(missing)
}

/// Every account, page by page.
async fn list(context: &Context, json: bool, out: &mut impl Write) -> Result<(), CliError> {
    let mut after = None;
    let mut first = true;
    if json {
        write!(out, "[")?;
    }
    loop {
        let page = context.auth.accounts(after, PAGE).await?;
        if json {
            for account in &page {
                let separator = if first { "\n  " } else { ",\n  " };
                write!(out, "{separator}")?;
                serde_json::to_writer(&mut *out, &AccountJson::new(account))
                    .map_err(std::io::Error::from)?;
                first = false;
            }
        } else if !page.is_empty() || first {
            output::table(out, &page, first)?;
            first = false;
        }
        match page.last() {
            Some(last) if page.len() == PAGE as usize => after = Some(last.user.id),
            _ => break,
        }
    }
    if json {
        writeln!(out, "{}]", if first { "" } else { "\n" })?;
    }
    Ok(())
}
