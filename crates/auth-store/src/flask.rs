//! Reading the accounts of the Flask tutorial app from its SQLite file, for
//! [`auth_core::AuthService::import`].
//!
//! Flask-SQLAlchemy creates the table `user` from the app's model, with
//! `id`, `email`, `password` (a Werkzeug hash) and `name`, every column but
//! `id` nullable and of any type SQLite lets through; the declared lengths
//! are not enforced (Werkzeug's scrypt hashes exceed the `String(100)`).

use std::path::Path;

use auth_core::ImportedAccount;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};
use thiserror::Error;

/// One row of the Flask app's `user` table, as stored.
#[derive(sqlx::FromRow)]
pub struct FlaskUser {
    /// The row's id in the Flask app (not kept: accounts get new ids).
    pub id: i64,
    /// The email as the Flask app stored it (not normalised).
    pub email: Option<String>,
    /// The Werkzeug hash.
    pub password: Option<String>,
    /// The display name.
    pub name: Option<String>,
}

/// Shows the id, email and name, never the hash.
impl std::fmt::Debug for FlaskUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlaskUser")
            .field("id", &self.id)
            .field("email", &self.email)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl FlaskUser {
    /// The row as an account to import.
    pub fn account(&self) -> ImportedAccount<'_> {
        ImportedAccount {
            email: self.email.as_deref(),
            name: self.name.as_deref(),
            password_hash: self.password.as_deref(),
        }
    }
}

/// Why the Flask app's database could not be read. Says which file.
#[derive(Debug, Error)]
pub enum FlaskReadError {
    /// No such file (or not readable).
    #[error("cannot open {path}: {cause}")]
    Open {
        /// The file given.
        path: String,
        /// Why, in the driver's words.
        cause: String,
    },
    /// The file is not the Flask app's database.
    #[error("{path} has no table `user` with columns id, email, password and name: {cause}")]
    NotFlask {
        /// The file given.
        path: String,
        /// What the query said.
        cause: String,
    },
}

/// Every row of the `user` table of the Flask app's database at `path`, in
/// id order (the order they registered in). The file is opened read-only
/// and never created or changed.
pub async fn read_users(path: &Path) -> Result<Vec<FlaskUser>, FlaskReadError> {
    let shown = path.display().to_string();
    let open = |cause: String| FlaskReadError::Open {
        path: shown.clone(),
        cause,
    };
    if !path.is_file() {
        return Err(open("no such file".into()));
    }
    let mut connection = SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .connect()
        .await
        .map_err(|e| open(e.to_string()))?;
    // CAST: SQLite keeps whatever type was written; text is what matters.
    let rows = sqlx::query_as::<_, FlaskUser>(
        "SELECT id, CAST(email AS TEXT) AS email, CAST(password AS TEXT) AS password, \
         CAST(name AS TEXT) AS name FROM user ORDER BY id",
    )
    .fetch_all(&mut connection)
    .await
    .map_err(|e| FlaskReadError::NotFlask {
        path: shown.clone(),
        cause: match e {
            sqlx::Error::Database(e) => e.message().to_owned(),
            other => other.to_string(),
        },
    })?;
    let _ = connection.close().await;
    Ok(rows)
}
