//! The embedded backend: one SQLite file, no server.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::error::ConnectError;
use crate::PoolOptions;

/// The pool of a SQLite database file. As a store, it is used through
/// [`Store::Sqlite`](crate::Store::Sqlite), where the trait methods are.
///
/// Every connection is opened in WAL mode (readers never wait for the
/// writer), with a busy timeout (a writer waits up to five seconds for another
/// instead of failing at once), `synchronous = NORMAL` (WAL's safe setting: a
/// crashed process loses nothing) and foreign keys on. These are connection
/// settings, so they are set on the connect options: a `PRAGMA` inside a
/// migration would apply only to the connection that ran it.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// How long a connection waits for another's write lock before giving up.
    pub const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

    /// Opens (creating if needed, with its directory) the database at `url`,
    /// e.g. `sqlite://data/auth.db` or `sqlite::memory:`. An in-memory
    /// database lives in a single connection, since each connection would
    /// otherwise get its own empty one.
    pub async fn connect(url: &str, pool: &PoolOptions) -> Result<Self, ConnectError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(ConnectError::from_sqlx)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Self::BUSY_TIMEOUT)
            .foreign_keys(true);
        let file = Self::database_file(url)?;
        let in_memory = file.is_none();
        if let Some(dir) = file.as_deref().and_then(Path::parent) {
            if !dir.as_os_str().is_empty() {
                create_private_dir(dir).map_err(|e| {
                    ConnectError::Database(format!(
                        "cannot create the directory {}: {e}",
                        dir.display()
                    ))
                })?;
            }
        }
        // No ping before handing out a connection: a connection to a local
        // file cannot have been cut by a network or a server restart, and
        // each ping is a round trip to the connection's worker thread,
        // which doubled the cost of a page view.
        let pool_options = SqlitePoolOptions::new()
            .acquire_timeout(pool.acquire_timeout)
            .min_connections(pool.min_connections)
            .test_before_acquire(false);
        let pool_options = if in_memory {
            pool_options
                .max_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
        } else {
            pool_options
                .max_connections(pool.max_connections)
                .idle_timeout(pool.idle_timeout)
        };
        let pool = pool_options
            .connect_with(options)
            .await
            .map_err(ConnectError::from_sqlx)?;
        Ok(Self { pool })
    }

    /// The file a `sqlite:` URL names (`sqlite://data/auth.db`:
    /// `data/auth.db`), or `None` for an in-memory database. Other
    /// applications' files belong beside it, in its owner-only directory.
    pub fn database_file(url: &str) -> Result<Option<PathBuf>, ConnectError> {
        if url.contains(":memory:") || url.contains("mode=memory") {
            return Ok(None);
        }
        let options = SqliteConnectOptions::from_str(url).map_err(ConnectError::from_sqlx)?;
        Ok(Some(options.get_filename().to_path_buf()))
    }

    /// Wraps a pool configured elsewhere. Set the connection options above on
    /// it yourself.
    pub fn from_pool(pool: SqlitePool) -> Self {
        Self { pool }
    }

    /// The underlying pool.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Closes every connection, waiting for those in use to be returned.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Creates a directory (and its parents) that only its owner may enter, as
/// the database's directory must be: it holds password hashes. An existing
/// directory is left as it is.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}
