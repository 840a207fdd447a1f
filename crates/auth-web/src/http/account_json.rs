//! An account as JSON, the same for the operator's `--json` output and
//! the owner's export.
//!
//! The fields are stable (documented in the README): `id`, `email`,
//! `name`, `created_at`, `email_confirmed_at`, `disabled_at`,
//! `last_login_at` (RFC 3339 in UTC, or null) and `live_sessions`; with
//! its history, `history`, the most recent events first, each with `at`,
//! `kind`, `operator` (null when the account's owner acted), `client` (the
//! address) and `device`, and its `second_factor`: `app` (whether an
//! authenticator app is on), `recovery_codes` (unused) and `passkeys`, each
//! with `name`, `created_at` and `last_used_at`. The export adds the live
//! `sessions`, each with `created_at`, `last_seen_at`, `expires_at`,
//! `client`, `device` and `current`.

use auth_core::time::format_description::well_known::Rfc3339;
use auth_core::time::OffsetDateTime;
use auth_core::{AccountEvent, AccountSummary, AuthError, SessionSummary, StoredPasskey, UserId};

use crate::setup::Auth;
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
    #[serde(skip_serializing_if = "Option::is_none")]
    second_factor: Option<SecondFactorJson<'a>>,
}

/// What an account signs in with besides its password, for the operator's
/// `users show` and the owner's export.
pub struct SecondFactors {
    /// Whether an authenticator app is on.
    pub app: bool,
    /// Its unused recovery codes.
    pub recovery_codes: u32,
    /// Its passkeys, oldest first.
    pub passkeys: Vec<StoredPasskey>,
}

impl SecondFactors {
    /// The account `user`'s.
    pub async fn of(auth: &Auth, user: UserId) -> Result<Self, AuthError> {
        let app = auth.has_app(user).await?;
        let recovery_codes = match app {
            true => auth.recovery_codes_left(user).await?,
            false => 0,
        };
        Ok(Self {
            app,
            recovery_codes,
            passkeys: auth.passkeys(user).await?,
        })
    }
}

/// An account's second factors in the JSON output: never a secret, a
/// code or a key.
#[derive(Serialize)]
pub struct SecondFactorJson<'a> {
    app: bool,
    recovery_codes: u32,
    passkeys: Vec<PasskeyJson<'a>>,
}

/// A passkey in the JSON output.
#[derive(Serialize)]
pub struct PasskeyJson<'a> {
    name: &'a str,
    created_at: String,
    last_used_at: Option<String>,
}

/// An event in the JSON output.
#[derive(Serialize)]
pub struct EventJson<'a> {
    at: String,
    kind: &'static str,
    operator: Option<&'a str>,
    client: Option<String>,
    device: Option<&'a str>,
}

/// RFC 3339, UTC, whole seconds.
pub fn when(t: OffsetDateTime) -> String {
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
            email_confirmed_at: account.user.email_confirmed_at.map(when),
            disabled_at: account.disabled_at.map(when),
            last_login_at: account.last_login_at.map(when),
            live_sessions: account.live_sessions,
            history: None,
            second_factor: None,
        }
    }

    /// With its second factors.
    pub fn with_second_factor(mut self, factors: &'a SecondFactors) -> Self {
        self.second_factor = Some(SecondFactorJson {
            app: factors.app,
            recovery_codes: factors.recovery_codes,
            passkeys: factors
                .passkeys
                .iter()
                .map(|passkey| PasskeyJson {
                    name: passkey.name.as_str(),
                    created_at: when(passkey.created_at),
                    last_used_at: passkey.last_used_at.map(when),
                })
                .collect(),
        });
        self
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
                    client: event.client.addr.map(|ip| ip.to_string()),
                    device: event.client.device.as_ref().map(|d| d.as_str()),
                })
                .collect(),
        );
        self
    }
}

/// One of the account's sessions in the export.
#[derive(Serialize)]
pub struct SessionJson<'a> {
    created_at: String,
    last_seen_at: String,
    expires_at: String,
    client: Option<String>,
    device: Option<&'a str>,
    /// The session the export was made from.
    current: bool,
}

impl<'a> SessionJson<'a> {
    /// The session's times and client, and whether it is the current one.
    pub fn new(session: &'a SessionSummary, current: bool) -> Self {
        Self {
            created_at: when(session.times.created_at),
            last_seen_at: when(session.times.last_seen_at),
            expires_at: when(session.times.expires_at),
            client: session.client.addr.map(|ip| ip.to_string()),
            device: session.client.device.as_ref().map(|d| d.as_str()),
            current,
        }
    }
}

/// Everything the owner of an account can download about it (GDPR art.
/// 20): the account with its history, and its live sessions. Never a hash
/// or a token.
#[derive(Serialize)]
pub struct ExportJson<'a> {
    /// The account, with its history.
    pub account: AccountJson<'a>,
    /// Its live sessions.
    pub sessions: Vec<SessionJson<'a>>,
}
