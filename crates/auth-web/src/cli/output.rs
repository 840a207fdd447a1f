//! How accounts are printed: aligned text for people, JSON for scripts.
//!
//! The JSON fields are stable (documented in the README): `id`, `email`,
//! `name`, `created_at`, `email_confirmed_at`, `disabled_at`,
//! `last_login_at` (RFC 3339 in UTC, or null) and `live_sessions`; `show`
//! adds `history`, the most recent events first, each with `at`, `kind`,
//! `operator` (null when the account's owner acted) and `client`.

use std::io::Write;

use auth_core::time::format_description::well_known::Rfc3339;
use auth_core::time::OffsetDateTime;
use auth_core::{AccountEvent, AccountSummary};
use serde::Serialize;

/// An account in the JSON output.
#[derive(Serialize)]
pub struct AccountJson<'a> {
    id: i64,
    email: &'a str,
    name: &'a str,
    created_at: String,
    email_confirmed_at: Option<String>,
    disabled_at: Option<String>,
    last_login_at: Option<String>,
    live_sessions: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    history: Option<Vec<EventJson<'a>>>,
}

/// An event in the JSON output.
#[derive(Serialize)]
pub struct EventJson<'a> {
    at: String,
    kind: &'static str,
    operator: Option<&'a str>,
    client: Option<String>,
}

/// RFC 3339, UTC, whole seconds.
fn when(t: OffsetDateTime) -> String {
    t.format(&Rfc3339)
        .unwrap_or_else(|_| t.unix_timestamp().to_string())
}

impl<'a> AccountJson<'a> {
    /// The account's fields.
    pub fn new(account: &'a AccountSummary) -> Self {
        Self {
            id: account.user.id.get(),
            email: account.user.email.as_str(),
            name: account.user.name.as_str(),
            created_at: when(account.user.created_at),
            email_confirmed_at: account.email_confirmed_at.map(when),
            disabled_at: account.disabled_at.map(when),
            last_login_at: account.last_login_at.map(when),
            live_sessions: account.live_sessions,
            history: None,
        }
    }

    /// With its history.
    pub fn with_history(mut self, events: &'a [AccountEvent]) -> Self {
        self.history = Some(
            events
                .iter()
                .map(|event| EventJson {
                    at: when(event.at),
                    kind: event.kind.as_str(),
                    operator: event.actor.operator(),
                    client: event.client.map(|ip| ip.to_string()),
                })
                .collect(),
        );
        self
    }
}

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
        or_dash(account.email_confirmed_at),
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
            .map(|ip| format!(" from {ip}"))
            .unwrap_or_default();
        writeln!(out, "  {}  {}{by}{from}", when(event.at), event.kind)?;
    }
    Ok(())
}
