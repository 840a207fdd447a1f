//! Accounts.

use std::fmt;

use time::OffsetDateTime;

use crate::{DisplayName, Email};

/// The database identity of an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId(i64);

impl UserId {
    /// Wraps a store's numeric key.
    pub const fn new(id: i64) -> Self {
        Self(id)
    }

    /// The numeric key, as stores keep it.
    pub const fn get(self) -> i64 {
        self.0
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A registered account, as the rest of an application sees it. The password
/// hash is deliberately not part of it: it never leaves the store and the
/// service, so it cannot end up in a template, a log line or `Debug` output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The account's identity.
    pub id: UserId,
    /// The normalised email address the account logs in with.
    pub email: Email,
    /// The name shown on the account's pages.
    pub name: DisplayName,
    /// When the account was created.
    pub created_at: OffsetDateTime,
    /// When its address was confirmed (its owner followed a link sent to
    /// it), if it has been since it was last set.
    pub email_confirmed_at: Option<OffsetDateTime>,
}
