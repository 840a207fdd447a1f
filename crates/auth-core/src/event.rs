//! An account's history: the security events recorded against it.

use std::fmt;

use time::OffsetDateTime;

use crate::{ClientInfo, UserId};

/// What happened to an account. Stored by [`EventKind::as_str`], which never
/// changes for a kind once released; new kinds may be added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EventKind {
    /// The account was registered through the site.
    Registered,
    /// An operator created the account.
    Created,
    /// The account was imported from another system, with its password hash.
    Imported,
    /// A successful login.
    Login,
    /// A login, or a check of the password on the account's own pages,
    /// with the wrong password (or for a disabled account).
    LoginFailed,
    /// The owner changed the password.
    PasswordChanged,
    /// An operator set a new password.
    PasswordSet,
    /// The owner set a new password through a reset link.
    PasswordReset,
    /// The owner confirmed the address by following a link sent to it.
    EmailConfirmed,
    /// The owner moved the account to a new address by following a link
    /// sent to it.
    EmailChanged,
    /// Sessions were ended: by the owner ("log out everywhere else") or by
    /// an operator.
    SessionsEnded,
    /// The owner logged out.
    Logout,
    /// The owner ended one other session from the account page.
    SessionRevoked,
    /// An operator disabled the account: it cannot log in, and its sessions
    /// ended.
    Disabled,
    /// An operator enabled the account again.
    Enabled,
    /// An operator deleted the account. The only event kept after it, as
    /// the operators' record: the account's own history is deleted with it.
    /// (An owner deleting their own account leaves no event at all.)
    Deleted,
    /// The owner turned on sign-in with an authenticator app.
    TotpEnabled,
    /// The owner turned off sign-in with an authenticator app.
    TotpDisabled,
    /// An operator removed the account's authenticator app and recovery
    /// codes (its owner had lost them).
    SecondFactorReset,
    /// A sign-in used one of the recovery codes.
    RecoveryCodeUsed,
    /// The owner made new recovery codes (the old ones stopped working).
    RecoveryCodesRegenerated,
    /// A sign-in's second step with a wrong code.
    SecondFactorFailed,
    /// The owner added a passkey.
    PasskeyAdded,
    /// The owner removed a passkey.
    PasskeyRemoved,
    /// A passkey's answer was refused at sign-in (it did not verify, or
    /// its signature counter went backwards).
    PasskeyFailed,
}

impl EventKind {
    /// Every kind, in declaration order.
    pub const ALL: [EventKind; 25] = [
        Self::Registered,
        Self::Created,
        Self::Imported,
        Self::Login,
        Self::LoginFailed,
        Self::PasswordChanged,
        Self::PasswordSet,
        Self::PasswordReset,
        Self::EmailConfirmed,
        Self::EmailChanged,
        Self::SessionsEnded,
        Self::Logout,
        Self::SessionRevoked,
        Self::Disabled,
        Self::Enabled,
        Self::Deleted,
        Self::TotpEnabled,
        Self::TotpDisabled,
        Self::SecondFactorReset,
        Self::RecoveryCodeUsed,
        Self::RecoveryCodesRegenerated,
        Self::SecondFactorFailed,
        Self::PasskeyAdded,
        Self::PasskeyRemoved,
        Self::PasskeyFailed,
    ];

    /// The stable name a store keeps (`"login"`, `"password_changed"`...).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Registered => "registered",
            Self::Created => "created",
            Self::Imported => "imported",
            Self::Login => "login",
            Self::LoginFailed => "login_failed",
            Self::PasswordChanged => "password_changed",
            Self::PasswordSet => "password_set",
            Self::PasswordReset => "password_reset",
            Self::EmailConfirmed => "email_confirmed",
            Self::EmailChanged => "email_changed",
            Self::SessionsEnded => "sessions_ended",
            Self::Logout => "logout",
            Self::SessionRevoked => "session_revoked",
            Self::Disabled => "disabled",
            Self::Enabled => "enabled",
            Self::Deleted => "deleted",
            Self::TotpEnabled => "totp_enabled",
            Self::TotpDisabled => "totp_disabled",
            Self::SecondFactorReset => "second_factor_reset",
            Self::RecoveryCodeUsed => "recovery_code_used",
            Self::RecoveryCodesRegenerated => "recovery_codes_regenerated",
            Self::SecondFactorFailed => "second_factor_failed",
            Self::PasskeyAdded => "passkey_added",
            Self::PasskeyRemoved => "passkey_removed",
            Self::PasskeyFailed => "passkey_failed",
        }
    }

    /// The kind [`EventKind::as_str`] names.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == name)
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who caused an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// The account's owner, through the site (or the system acting for them).
    Owner,
    /// An operator, by the name their tool recorded (a login name, not an
    /// email).
    Operator(String),
}

impl Actor {
    /// The operator's name, or `None` for the owner: what a store keeps.
    pub fn operator(&self) -> Option<&str> {
        match self {
            Self::Owner => None,
            Self::Operator(name) => Some(name),
        }
    }

    /// The actor a store's operator column describes.
    pub fn from_operator(name: Option<String>) -> Self {
        name.map_or(Self::Owner, Self::Operator)
    }
}

/// One event of an account's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountEvent {
    /// The account it happened to. For [`EventKind::Deleted`], an account
    /// that no longer exists.
    pub user_id: UserId,
    /// What happened.
    pub kind: EventKind,
    /// When (whole seconds).
    pub at: OffsetDateTime,
    /// Who did it.
    pub actor: Actor,
    /// The client (address and device), when it happened through the site.
    pub client: ClientInfo,
}

/// What an account's owner is shown when they log in: their previous
/// successful login, and how many failed attempts there have been since.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoginActivity {
    /// The login before the most recent one, if the history has one.
    pub previous_login: Option<AccountEvent>,
    /// [`EventKind::LoginFailed`] and [`EventKind::SecondFactorFailed`]
    /// events since `previous_login` (in the
    /// whole history given, if there is none).
    pub failed_since: usize,
}

impl LoginActivity {
    /// Reads `history`, newest first, as
    /// [`AuthService::history`](crate::AuthService::history) gives it.
    ///
    /// ```
    /// use auth_core::time::OffsetDateTime;
    /// use auth_core::{AccountEvent, Actor, EventKind, LoginActivity, UserId};
    ///
    /// let event = |kind| AccountEvent {
    ///     user_id: UserId::new(1),
    ///     kind,
    ///     at: OffsetDateTime::UNIX_EPOCH,
    ///     actor: Actor::Owner,
    ///     client: Default::default(),
    /// };
    /// use EventKind::*;
    /// let history = [Login, LoginFailed, LoginFailed, Login, LoginFailed].map(event);
    /// let activity = LoginActivity::from_history(&history);
    /// assert_eq!(activity.failed_since, 2);
    /// assert_eq!(activity.previous_login, Some(event(Login)));
    /// ```
    pub fn from_history(history: &[AccountEvent]) -> Self {
        let mut logins = 0;
        let mut failed_since = 0;
        for event in history {
            match event.kind {
                EventKind::Login => {
                    logins += 1;
                    if logins == 2 {
                        return Self {
                            previous_login: Some(event.clone()),
                            failed_since,
                        };
                    }
                }
                EventKind::LoginFailed
                | EventKind::SecondFactorFailed
                | EventKind::PasskeyFailed => failed_since += 1,
                _ => {}
            }
        }
        Self {
            previous_login: None,
            failed_since,
        }
    }
}
