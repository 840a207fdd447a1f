//! Turning driver errors into [`StoreError`]s, and why a store could not be
//! opened.

use auth_core::StoreError;
use thiserror::Error;

/// Why [`Store::connect`](crate::Store::connect) (or a backend's `connect`)
/// failed. Messages never contain the URL, which may hold a password.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// The URL names no backend this build supports.
    #[error("unsupported database URL: it must start with one of {supported}")]
    UnsupportedScheme {
        /// The schemes this build supports, e.g. `sqlite:, postgres:`.
        supported: String,
    },
    /// The URL could not be read.
    #[error("invalid database URL: {0}")]
    InvalidUrl(String),
    /// The database server could not be reached, or refused the
    /// connection: the address tried and the cause ("Connection refused",
    /// a certificate it did not trust, a wrong password).
    #[error("cannot connect to the database at {address}: {cause}")]
    Unreachable {
        /// `host:port` (or the socket path) tried.
        address: String,
        /// Why, in the driver's words.
        cause: String,
    },
    /// The database could not be opened.
    #[error("cannot open the database: {0}")]
    Database(String),
}

impl ConnectError {
    /// Sorts a driver's error from opening a pool. sqlx's messages already
    /// name their cause ("error communicating with database: Connection
    /// refused"), so the message is kept whole and nothing is chained.
    pub(crate) fn from_sqlx(error: sqlx::Error) -> Self {
        match error {
            sqlx::Error::Configuration(e) => Self::InvalidUrl(e.to_string()),
            other => Self::Database(other.to_string()),
        }
    }

    /// A failed first connection to `address`, with the driver's cause
    /// (its chain of sources on one line, minus sqlx's generic prefixes).
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    pub(crate) fn unreachable(address: String, error: sqlx::Error) -> Self {
        if let sqlx::Error::Configuration(e) = error {
            return Self::InvalidUrl(e.to_string());
        }
        let cause = match &error {
            sqlx::Error::Io(e) => e.to_string(),
            sqlx::Error::Tls(e) => format!("TLS: {e}"),
            sqlx::Error::Database(e) => e.message().to_owned(),
            other => other.to_string(),
        };
        let cause = if cause.contains("certificate") {
            format!("{cause} (check that sslrootcert= names the CA that signed the server's certificate)")
        } else {
            cause
        };
        Self::Unreachable { address, cause }
    }
}

/// Sorts a sqlx error into "try again later" (the database is down, busy or
/// restarting) and everything else. Unique violations are not special here:
/// only the insert that can cause one knows what it means.
pub(crate) fn classify(error: sqlx::Error) -> StoreError {
    let unavailable = match &error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => transient(db.as_ref()),
        _ => false,
    };
    if unavailable {
        StoreError::Unavailable(error.into())
    } else {
        StoreError::Backend(error.into())
    }
}

/// Whether a database's own error means it is momentarily unable to serve,
/// rather than that the statement is wrong.
fn transient(error: &dyn sqlx::error::DatabaseError) -> bool {
    #[cfg(feature = "sqlite")]
    if error
        .try_downcast_ref::<sqlx::sqlite::SqliteError>()
        .is_some()
    {
        return error.code().is_some_and(|code| sqlite_transient(&code));
    }
    #[cfg(feature = "postgres")]
    if let Some(pg) = error.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
        return postgres_transient(pg.code());
    }
    false
}

/// SQLite result codes (possibly extended; the primary code is the low byte):
/// BUSY, LOCKED, READONLY, IOERR, FULL, CANTOPEN.
#[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
fn sqlite_transient(code: &str) -> bool {
    code.parse::<u32>()
        .is_ok_and(|code| matches!(code & 0xff, 5 | 6 | 8 | 10 | 13 | 14))
}

/// PostgreSQL SQLSTATEs: connection exception, insufficient resources,
/// operator intervention (pg_terminate_backend, shutdown), serialization
/// failure, deadlock.
#[cfg_attr(not(feature = "postgres"), allow(dead_code))]
fn postgres_transient(sqlstate: &str) -> bool {
    ["08", "53", "57"]
        .iter()
        .any(|class| sqlstate.starts_with(class))
        || sqlstate == "40001"
        || sqlstate == "40P01"
}

/// `classify`, except that a unique violation means the email is taken: for
/// the one insert whose only unique key besides the id is the email.
pub(crate) fn classify_user_insert(error: sqlx::Error) -> StoreError {
    match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::EmailTaken,
        _ => classify(error),
    }
}

#[cfg(test)]
mod tests {
    use super::{postgres_transient, sqlite_transient};

    #[test]
    fn transient_codes() {
        for code in ["5", "517", "6", "10", "14"] {
            assert!(sqlite_transient(code), "sqlite {code}");
        }
        for code in ["19", "2067", "1", "787"] {
            assert!(!sqlite_transient(code), "sqlite {code}");
        }
        for code in ["08006", "57P01", "53300", "40001", "40P01"] {
            assert!(postgres_transient(code), "postgres {code}");
        }
        for code in ["23505", "42601", "42P01", "22001"] {
            assert!(!postgres_transient(code), "postgres {code}");
        }
    }
}
