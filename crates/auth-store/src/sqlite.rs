//! The embedded backend: one SQLite file, no server.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex, PoisonError};

use auth_core::{SessionRecord, StoreError, TokenDigest};

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
    /// Read-only connections for the session lookup, for a database file.
    readers: Option<Arc<Readers>>,
}

/// Read-only connections to the database file, used on the calling thread:
/// a lookup by primary key takes microseconds, less than handing it to a
/// connection's thread and back. WAL mode lets them read while the pool's
/// connections write, and each statement reads what was committed when it
/// began, on whichever instance or process committed it.
struct Readers {
    file: PathBuf,
    idle: Mutex<Vec<rusqlite::Connection>>,
    /// Set by [`SqliteStore::close`]: a closed store reads nothing either.
    closed: std::sync::atomic::AtomicBool,
    max_idle: usize,
}

impl std::fmt::Debug for Readers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Readers").field("file", &self.file).finish()
    }
}

/// Idle readers kept (more are opened while more lookups run at once): a
/// few per core, since each of Rocket's workers runs one lookup at a time.
fn idle_readers() -> usize {
    std::thread::available_parallelism().map_or(8, |cores| (2 * cores.get()).max(8))
}

impl Readers {
    fn open(&self) -> rusqlite::Result<rusqlite::Connection> {
        use rusqlite::OpenFlags;
        let connection = rusqlite::Connection::open_with_flags(
            &self.file,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        // Never wait on the request's thread: a lookup that finds the file
        // busy (rare in WAL mode) goes through the pool instead.
        connection.busy_timeout(std::time::Duration::ZERO)?;
        Ok(connection)
    }

    /// Runs `read` on an idle reader (or a new one); `None` if SQLite
    /// refused, for the caller to ask the pool instead.
    fn with<T>(
        &self,
        read: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<T>,
    ) -> Option<T> {
        if self.closed.load(std::sync::atomic::Ordering::Acquire) {
            return None;
        }
        let idle = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let connection = match idle {
            Some(connection) => connection,
            None => self.open().ok()?,
        };
        let result = read(&connection).ok();
        if result.is_some() {
            let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
            if idle.len() < self.max_idle {
                idle.push(connection);
            }
        }
        result
    }
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
        // After the pool: its first connection made the file, in WAL mode.
        let readers = file.map(|file| {
            Arc::new(Readers {
                file,
                idle: Mutex::new(Vec::new()),
                closed: std::sync::atomic::AtomicBool::new(false),
                max_idle: idle_readers(),
            })
        });
        Ok(Self { pool, readers })
    }

    /// The session filed under `digest`, read on this thread; `None` if
    /// that cannot be done (an in-memory database, a pool from elsewhere,
    /// SQLite busy), for the caller to ask the pool.
    pub(crate) fn read_session(
        &self,
        digest: &TokenDigest,
    ) -> Option<Result<Option<SessionRecord>, StoreError>> {
        let row = self.readers.as_ref()?.with(|connection| {
            let mut statement = connection.prepare_cached(crate::sql::SELECT_SESSION)?;
            let mut rows = statement.query([&digest.as_bytes()[..]])?;
            rows.next()?
                .map(crate::rows::SessionRow::from_rusqlite)
                .transpose()
        })?;
        Some(row.map(TryInto::try_into).transpose())
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
        Self {
            pool,
            readers: None,
        }
    }

    /// The underlying pool.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Closes every connection, waiting for those in use to be returned.
    pub async fn close(&self) {
        if let Some(readers) = &self.readers {
            readers
                .closed
                .store(true, std::sync::atomic::Ordering::Release);
            readers
                .idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clear();
        }
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
