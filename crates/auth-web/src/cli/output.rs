//! How accounts are printed: aligned text for people; JSON for scripts is
//! [`crate::http::account_json`], shared with the account export.

use std::io::Write;

use auth_core::time::OffsetDateTime;
use auth_core::{AccountEvent, AccountSummary};

use crate::http::account_json::{when, SecondFactors};

/// The columns of `users list`.
const HEADER: [&str; 8] = [
    "ID",
    "EMAIL",
    "NAME",
    "CREATED",
    "CONFIRMED",
    "DISABLED",
    "LAST LOGIN",
    "SESSIONS",
];

fn or_dash(t: Option<OffsetDateTime>) -> String {
    t.map_or_else(|| "-".to_owned(), when)
}

fn columns(account: &AccountSummary) -> [String; 8] {
    [
        account.user.id.to_string(),
        account.user.email.as_str().to_owned(),
        account.user.name.as_str().to_owned(),
        when(account.user.created_at),
        or_dash(account.user.email_confirmed_at),
        or_dash(account.disabled_at),
        or_dash(account.last_login_at),
        account.live_sessions.to_string(),
    ]
}

/// A page of accounts as aligned columns, with the header if `header`.
pub fn table(
    out: &mut impl Write,
    accounts: &[AccountSummary],
    header: bool,
) -> std::io::Result<()> {
    let rows: Vec<[String; 8]> = accounts.iter().map(columns).collect();
    let mut widths = HEADER.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut line = |cells: [&str; 8]| -> std::io::Result<()> {
        let text: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        writeln!(out, "{}", text.join("  ").trim_end())
    };
    if header {
        line(HEADER)?;
    }
    for row in &rows {
        line(row.each_ref().map(String::as_str))?;
    }
    Ok(())
}

/// One account, a field per line, then its history.
pub fn details(
    out: &mut impl Write,
    account: &AccountSummary,
    factors: &SecondFactors,
    history: &[AccountEvent],
) -> std::io::Result<()> {
    let [id, email, name, created, confirmed, disabled, last_login, sessions] = columns(account);
    for (label, value) in [
        ("id", id),
        ("email", email),
        ("name", name),
        ("created", created),
        ("confirmed", confirmed),
        ("disabled", disabled),
        ("last login", last_login),
        ("live sessions", sessions),
    ] {
        writeln!(out, "{label:<14} {value}")?;
    }
    let app = match factors.app {
        true => format!("on, {} recovery codes left", factors.recovery_codes),
        false => "off".to_owned(),
    };
    writeln!(out, "{:<14} {app}", "app (TOTP)")?;
    writeln!(out, "{:<14} {}", "passkeys", factors.passkeys.len())?;
    for passkey in &factors.passkeys {
        let used = passkey.last_used_at.map_or("never".to_owned(), when);
        writeln!(
            out,
            "  {}  added {}, last used {used}",
            passkey.name.as_str(),
            when(passkey.created_at)
        )?;
    }
    writeln!(out, "history (most recent first):")?;
    if history.is_empty() {
        writeln!(out, "  (none)")?;
    }
    for event in history {
        let by = match event.actor.operator() {
            Some(operator) => format!(" by operator {operator}"),
            None => String::new(),
        };
        let from = event
            .client
            .addr
            .map(|ip| format!(" from {ip}"))
            .unwrap_or_default();
        let device = event
            .client
            .device
            .as_ref()
            .map(|device| format!(" ({device})"))
            .unwrap_or_default();
        writeln!(
            out,
            "  {}  {}{by}{from}{device}",
            when(event.at),
            event.kind
        )?;
    }
    Ok(())
}
