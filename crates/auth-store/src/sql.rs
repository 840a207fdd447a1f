//! The statements both SQL backends run, and the store implementation they
//! share. The statements are public so that tools can show what runs (the
//! benchmark prints their query plans); they are not an API to build on.
//!
//! SQLite and PostgreSQL get the same statements: both schemas have the same
//! columns and integer types, and sqlx's SQLite driver accepts PostgreSQL's
//! `$1` placeholders. Only the pool type differs, so the trait impls are
//! written once, here, and instantiated per backend by `impl_sql_store!`.
//! Generic code over `sqlx::Database` would need a long list of per-type
//! trait bounds for the same result.
//!
//! A statement with `RETURNING` runs inside an explicit transaction that is
//! committed before the method returns. sqlx's SQLite driver hands back the
//! returned row before the statement has finished, and SQLite's implicit
//! transaction commits only when it finishes: without the explicit commit, a
//! process that exits right after the call loses the write it was told had
//! happened (sqlx issues #2099 and #3430).

/// Creates an account; returns its id.
pub const INSERT_USER: &str = "INSERT INTO users (email, name, password_hash, created_at) \
     VALUES ($1, $2, $3, $4) RETURNING id";

/// An account and its password hash, by normalised email (login).
pub const SELECT_CREDENTIALS: &str =
    "SELECT id, email, name, created_at, password_hash FROM users WHERE email = $1";

/// An account by id.
pub const SELECT_USER: &str = "SELECT id, email, name, created_at FROM users WHERE id = $1";

/// Replaces an account's password hash.
pub const UPDATE_PASSWORD_HASH: &str = "UPDATE users SET password_hash = $1 WHERE id = $2";

/// Records a new session under its token digest.
pub const INSERT_SESSION: &str = "INSERT INTO sessions \
     (token_digest, user_id, created_at, last_seen_at, expires_at) VALUES ($1, $2, $3, $3, $4)";

/// A session and its account, by token digest: the query on every request with a session.
pub const SELECT_SESSION: &str = "SELECT u.id, u.email, u.name, u.created_at, \
     s.created_at AS session_created_at, s.last_seen_at, s.expires_at \
     FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_digest = $1";

/// An account's sessions, most recently used first.
pub const SELECT_USER_SESSIONS: &str = "SELECT token_digest, created_at, last_seen_at, \
     expires_at FROM sessions WHERE user_id = $1 ORDER BY last_seen_at DESC";

/// Records that a session was used; never moves `last_seen_at` backwards
/// when two requests race.
pub const TOUCH_SESSION: &str =
    "UPDATE sessions SET last_seen_at = $1 WHERE token_digest = $2 AND last_seen_at < $1";

/// Ends one session (logout).
pub const DELETE_SESSION: &str = "DELETE FROM sessions WHERE token_digest = $1";

/// Ends all of an account's sessions.
pub const DELETE_USER_SESSIONS: &str = "DELETE FROM sessions WHERE user_id = $1";

/// Ends all of an account's sessions but one.
pub const DELETE_USER_SESSIONS_EXCEPT: &str =
    "DELETE FROM sessions WHERE user_id = $1 AND token_digest <> $2";

/// Deletes sessions past their absolute end. With the next statement, the
/// purge of ended sessions: two statements, because SQLite scans the whole
/// table for `expires_at <= $1 OR last_seen_at <= $2` but searches an
/// index for each half.
pub const DELETE_ENDED_SESSIONS: &str = "DELETE FROM sessions WHERE expires_at <= $1";

/// Deletes sessions unused since `$1`.
pub const DELETE_IDLE_SESSIONS: &str = "DELETE FROM sessions WHERE last_seen_at <= $1";

/// A throttle key's record (before every login).
pub const SELECT_THROTTLE: &str = "SELECT failures, window_start, locked_until, lockouts \
     FROM login_throttles WHERE key_digest = $1";

/// Counts an attempt against a throttle key before it is checked. One
/// statement, so concurrent attempts from several instances each count and
/// each see their own count: a new key starts at one; a locked key (`$2` is
/// now) is left as it is; an ended window (`$3` is its cutoff) starts over.
pub const RESERVE_ATTEMPT: &str = "INSERT INTO login_throttles \
     (key_digest, failures, window_start, locked_until, lockouts) VALUES ($1, 1, $2, 0, 0) \
     ON CONFLICT (key_digest) DO UPDATE SET \
     failures = CASE WHEN login_throttles.locked_until > $2 THEN login_throttles.failures \
                     WHEN login_throttles.window_start <= $3 THEN 1 \
                     ELSE login_throttles.failures + 1 END, \
     window_start = CASE WHEN login_throttles.locked_until > $2 THEN login_throttles.window_start \
                         WHEN login_throttles.window_start <= $3 THEN $2 \
                         ELSE login_throttles.window_start END \
     RETURNING failures, window_start, locked_until, lockouts";

/// Gives back one counted attempt.
pub const RELEASE_ATTEMPT: &str = "UPDATE login_throttles SET failures = failures - 1 \
     WHERE key_digest = $1 AND failures > 0";

/// Locks a throttle key.
pub const LOCK: &str = "UPDATE login_throttles \
     SET failures = 0, window_start = $2, locked_until = $3, lockouts = $4 WHERE key_digest = $1";

/// Forgets a throttle key's record (after a successful login).
pub const CLEAR_THROTTLE: &str = "DELETE FROM login_throttles WHERE key_digest = $1";

/// Deletes throttle records that no longer matter.
pub const DELETE_STALE_THROTTLES: &str =
    "DELETE FROM login_throttles WHERE window_start < $1 AND locked_until < $1";

/// Implements auth-core's store traits for a struct with a `pool` field of
/// any sqlx pool type.
macro_rules! impl_sql_store {
    ($store:ty) => {
        impl auth_core::UserStore for $store {
            async fn create_user(
                &self,
                new: auth_core::NewUser,
            ) -> Result<auth_core::User, auth_core::StoreError> {
                let created_at = $crate::rows::timestamp(new.created_at);
                // RETURNING runs in an explicit transaction: see the module
                // documentation.
                let mut tx = self.pool.begin().await.map_err($crate::error::classify)?;
                let id: i64 = sqlx::query_scalar($crate::sql::INSERT_USER)
                    .bind(new.email.as_str())
                    .bind(new.name.as_str())
                    .bind(new.password_hash.as_str())
                    .bind(created_at)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err($crate::error::classify_user_insert)?;
                tx.commit().await.map_err($crate::error::classify)?;
                Ok(auth_core::User {
                    id: auth_core::UserId::new(id),
                    email: new.email,
                    name: new.name,
                    created_at: auth_core::time::OffsetDateTime::from_unix_timestamp(created_at)
                        .map_err(|e| auth_core::StoreError::Corrupt(e.to_string()))?,
                })
            }

            async fn find_credentials(
                &self,
                email: &auth_core::Email,
            ) -> Result<Option<auth_core::UserCredentials>, auth_core::StoreError> {
                sqlx::query_as::<_, $crate::rows::CredentialsRow>($crate::sql::SELECT_CREDENTIALS)
                    .bind(email.as_str())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err($crate::error::classify)?
                    .map(TryInto::try_into)
                    .transpose()
            }

            async fn find_user(
                &self,
                id: auth_core::UserId,
            ) -> Result<Option<auth_core::User>, auth_core::StoreError> {
                sqlx::query_as::<_, $crate::rows::UserRow>($crate::sql::SELECT_USER)
                    .bind(id.get())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err($crate::error::classify)?
                    .map(TryInto::try_into)
                    .transpose()
            }

            async fn update_password_hash(
                &self,
                id: auth_core::UserId,
                hash: &auth_core::PasswordHash,
            ) -> Result<bool, auth_core::StoreError> {
                let done = sqlx::query($crate::sql::UPDATE_PASSWORD_HASH)
                    .bind(hash.as_str())
                    .bind(id.get())
                    .execute(&self.pool)
                    .await
                    .map_err($crate::error::classify)?;
                Ok(done.rows_affected() > 0)
            }
        }

        impl auth_core::SessionStore for $store {
            async fn create_session(
                &self,
                new: auth_core::NewSession,
            ) -> Result<(), auth_core::StoreError> {
                sqlx::query($crate::sql::INSERT_SESSION)
                    .bind(&new.digest.as_bytes()[..])
                    .bind(new.user_id.get())
                    .bind($crate::rows::timestamp(new.created_at))
                    .bind($crate::rows::timestamp(new.expires_at))
                    .execute(&self.pool)
                    .await
                    .map_err($crate::error::classify)?;
                Ok(())
            }

            async fn find_session(
                &self,
                digest: &auth_core::TokenDigest,
            ) -> Result<Option<auth_core::SessionRecord>, auth_core::StoreError> {
                sqlx::query_as::<_, $crate::rows::SessionRow>($crate::sql::SELECT_SESSION)
                    .bind(&digest.as_bytes()[..])
                    .fetch_optional(&self.pool)
                    .await
                    .map_err($crate::error::classify)?
                    .map(TryInto::try_into)
                    .transpose()
            }

            async fn list_user_sessions(
                &self,
                user: auth_core::UserId,
            ) -> Result<Vec<auth_core::SessionSummary>, auth_core::StoreError> {
                sqlx::query_as::<_, $crate::rows::SessionSummaryRow>(
                    $crate::sql::SELECT_USER_SESSIONS,
                )
                .bind(user.get())
                .fetch_all(&self.pool)
                .await
                .map_err($crate::error::classify)?
                .into_iter()
                .map(TryInto::try_into)
                .collect()
            }

            async fn touch_session(
                &self,
                digest: &auth_core::TokenDigest,
                at: auth_core::time::OffsetDateTime,
            ) -> Result<(), auth_core::StoreError> {
                sqlx::query($crate::sql::TOUCH_SESSION)
                    .bind($crate::rows::timestamp(at))
                    .bind(&digest.as_bytes()[..])
                    .execute(&self.pool)
                    .await
                    .map_err($crate::error::classify)?;
                Ok(())
            }

            async fn delete_session(
                &self,
                digest: &auth_core::TokenDigest,
            ) -> Result<bool, auth_core::StoreError> {
                let done = sqlx::query($crate::sql::DELETE_SESSION)
                    .bind(&digest.as_bytes()[..])
                    .execute(&self.pool)
                    .await
                    .map_err($crate::error::classify)?;
                Ok(done.rows_affected() > 0)
            }

            async fn delete_user_sessions(
                &self,
                user: auth_core::UserId,
                keep: Option<&auth_core::TokenDigest>,
            ) -> Result<u64, auth_core::StoreError> {
                let query = match keep {
                    Some(keep) => sqlx::query($crate::sql::DELETE_USER_SESSIONS_EXCEPT)
                        .bind(user.get())
                        .bind(&keep.as_bytes()[..]),
                    None => sqlx::query($crate::sql::DELETE_USER_SESSIONS).bind(user.get()),
                };
                let done = query
                    .execute(&self.pool)
                    .await
                    .map_err($crate::error::classify)?;
                Ok(done.rows_affected())
            }

            async fn delete_expired_sessions(
                &self,
                now: auth_core::time::OffsetDateTime,
                idle_cutoff: auth_core::time::OffsetDateTime,
            ) -> Result<u64, auth_core::StoreError> {
                let ended = sqlx::query($crate::sql::DELETE_ENDED_SESSIONS)
                    .bind($crate::rows::timestamp(now))
                    .execute(&self.pool)
                    .await
                    .map_err($crate::error::classify)?;
                let idle = sqlx::query($crate::sql::DELETE_IDLE_SESSIONS)
                    .bind($crate::rows::timestamp(idle_cutoff))
                    .execute(&self.pool)
                    .await
                    .map_err($crate::error::classify)?;
                Ok(ended.rows_affected() + idle.rows_affected())
            }
        }

        impl auth_core::ThrottleStore for $store {
            async fn throttle_state(
                &self,
                key: &auth_core::ThrottleKey,
            ) -> Result<Option<auth_core::ThrottleState>, auth_core::StoreError> {
                sqlx::query_as::<_, $crate::rows::ThrottleRow>($crate::sql::SELECT_THROTTLE)
                    .bind(&key.as_bytes()[..])
                    .fetch_optional(&self.pool)
                    .await
                    .map_err($crate::error::classify)?
                    .map(TryInto::try_into)
                    .transpose()
            }

            async fn reserve_attempt(
                &self,
                key: &auth_core::ThrottleKey,
                now: auth_core::time::OffsetDateTime,
                window_cutoff: auth_core::time::OffsetDateTime,
            ) -> Result<auth_core::ThrottleState, auth_core::StoreError> {
                let mut tx = self.pool.begin().await.map_err($crate::error::classify)?;
                let row =
                    sqlx::query_as::<_, $crate::rows::ThrottleRow>($crate::sql::RESERVE_ATTEMPT)
                        .bind(&key.as_bytes()[..])
                        .bind($crate::rows::timestamp(now))
                        .bind($crate::rows::timestamp(window_cutoff))
                        .fetch_one(&mut *tx)
                        .await
                        .map_err($crate::error::classify)?;
                tx.commit().await.map_err($crate::error::classify)?;
                row.try_into()
            }

            async fn release_attempt(
                &self,
                key: &auth_core::ThrottleKey,
            ) -> Result<(), auth_core::StoreError> {
                sqlx::query($crate::sql::RELEASE_ATTEMPT)
                    .bind(&key.as_bytes()[..])
                    .execute(&self.pool)
                    .await
                    .map_err($crate::error::classify)?;
                Ok(())
            }

            async fn lock(
                &self,
                key: &auth_core::ThrottleKey,
                now: auth_core::time::OffsetDateTime,
                until: auth_core::time::OffsetDateTime,
                lockouts: u32,
            ) -> Result<(), auth_core::StoreError> {
                sqlx::query($crate::sql::LOCK)
                    .bind(&key.as_bytes()[..])
                    .bind($crate::rows::timestamp(now))
                    .bind($crate::rows::timestamp(until))
                    .bind(i32::try_from(lockouts).unwrap_or(i32::MAX))
                    .execute(&self.pool)
                    .await
                    .map_err($crate::error::classify)?;
                Ok(())
            }

            async fn clear_throttle(
                &self,
                key: &auth_core::ThrottleKey,
            ) -> Result<(), auth_core::StoreError> {
                sqlx::query($crate::sql::CLEAR_THROTTLE)
                    .bind(&key.as_bytes()[..])
                    .execute(&self.pool)
                    .await
                    .map_err($crate::error::classify)?;
                Ok(())
            }

            async fn delete_stale_throttles(
                &self,
                before: auth_core::time::OffsetDateTime,
            ) -> Result<u64, auth_core::StoreError> {
                let done = sqlx::query($crate::sql::DELETE_STALE_THROTTLES)
                    .bind($crate::rows::timestamp(before))
                    .execute(&self.pool)
                    .await
                    .map_err($crate::error::classify)?;
                Ok(done.rows_affected())
            }
        }
    };
}

pub(crate) use impl_sql_store;
