//! The store traits implemented once for both SQL backends.
//!
//! [`SqliteStore`](crate::SqliteStore) and [`PgStore`](crate::PgStore) run
//! the same statements (see [`sql`](crate::sql)) and differ only in their
//! pool's type, so the trait impls are written once, here, and stamped out
//! for each backend by `impl_sql_store!` at the end of `sqlite.rs` and
//! `postgres.rs`. Generic code over `sqlx::Database` would need a long list
//! of per-type trait bounds for the same result. Read the methods below as
//! ordinary code: `self.pool` is the backend's pool.
//!
//! A statement with `RETURNING` runs inside an explicit transaction that is
//! committed before the method returns. sqlx's SQLite driver hands back the
//! returned row before the statement has finished, and SQLite's implicit
//! transaction commits only when it finishes: without the explicit commit, a
//! process that exits right after the call loses the write it was told had
//! happened (sqlx issues #2099 and #3430).

/// Implements auth-core's store traits for a struct with a `pool` field of
/// any sqlx pool type.
macro_rules! impl_sql_store {
    ($store:ty) => {
        const _: () = {
            use auth_core::time::OffsetDateTime;
            use auth_core::{
                Email, NewSession, NewUser, PasswordHash, SessionRecord, SessionStore,
                SessionSummary, StoreError, ThrottleKey, ThrottleState, ThrottleStore, TokenDigest,
                User, UserCredentials, UserId, UserStore,
            };
            use $crate::error::{classify, classify_user_insert};
            use $crate::rows::{self, timestamp};
            use $crate::sql;
            impl UserStore for $store {
                async fn create_user(&self, new: NewUser) -> Result<User, StoreError> {
                    let created_at = timestamp(new.created_at);
                    // RETURNING runs in an explicit transaction: see the module
                    // documentation.
                    let mut tx = self.pool.begin().await.map_err(classify)?;
                    let id: i64 = sqlx::query_scalar(sql::INSERT_USER)
                        .bind(new.email.as_str())
                        .bind(new.name.as_str())
                        .bind(new.password_hash.as_str())
                        .bind(created_at)
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(classify_user_insert)?;
                    tx.commit().await.map_err(classify)?;
                    Ok(User {
                        id: UserId::new(id),
                        email: new.email,
                        name: new.name,
                        created_at: OffsetDateTime::from_unix_timestamp(created_at)
                            .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                    })
                }

                async fn find_credentials(
                    &self,
                    email: &Email,
                ) -> Result<Option<UserCredentials>, StoreError> {
                    sqlx::query_as::<_, rows::CredentialsRow>(sql::SELECT_CREDENTIALS)
                        .bind(email.as_str())
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(classify)?
                        .map(TryInto::try_into)
                        .transpose()
                }

                async fn find_user(&self, id: UserId) -> Result<Option<User>, StoreError> {
                    sqlx::query_as::<_, rows::UserRow>(sql::SELECT_USER)
                        .bind(id.get())
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(classify)?
                        .map(TryInto::try_into)
                        .transpose()
                }

                async fn update_password_hash(
                    &self,
                    id: UserId,
                    hash: &PasswordHash,
                ) -> Result<bool, StoreError> {
                    let done = sqlx::query(sql::UPDATE_PASSWORD_HASH)
                        .bind(hash.as_str())
                        .bind(id.get())
                        .execute(&self.pool)
                        .await
                        .map_err(classify)?;
                    Ok(done.rows_affected() > 0)
                }
            }

            impl SessionStore for $store {
                async fn create_session(&self, new: NewSession) -> Result<(), StoreError> {
                    sqlx::query(sql::INSERT_SESSION)
                        .bind(&new.digest.as_bytes()[..])
                        .bind(new.user_id.get())
                        .bind(timestamp(new.created_at))
                        .bind(timestamp(new.expires_at))
                        .execute(&self.pool)
                        .await
                        .map_err(classify)?;
                    Ok(())
                }

                async fn find_session(
                    &self,
                    digest: &TokenDigest,
                ) -> Result<Option<SessionRecord>, StoreError> {
                    sqlx::query_as::<_, rows::SessionRow>(sql::SELECT_SESSION)
                        .bind(&digest.as_bytes()[..])
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(classify)?
                        .map(TryInto::try_into)
                        .transpose()
                }

                async fn list_user_sessions(
                    &self,
                    user: UserId,
                ) -> Result<Vec<SessionSummary>, StoreError> {
                    sqlx::query_as::<_, rows::SessionSummaryRow>(sql::SELECT_USER_SESSIONS)
                        .bind(user.get())
                        .fetch_all(&self.pool)
                        .await
                        .map_err(classify)?
                        .into_iter()
                        .map(TryInto::try_into)
                        .collect()
                }

                async fn touch_session(
                    &self,
                    digest: &TokenDigest,
                    at: OffsetDateTime,
                ) -> Result<(), StoreError> {
                    sqlx::query(sql::TOUCH_SESSION)
                        .bind(timestamp(at))
                        .bind(&digest.as_bytes()[..])
                        .execute(&self.pool)
                        .await
                        .map_err(classify)?;
                    Ok(())
                }

                async fn delete_session(&self, digest: &TokenDigest) -> Result<bool, StoreError> {
                    let done = sqlx::query(sql::DELETE_SESSION)
                        .bind(&digest.as_bytes()[..])
                        .execute(&self.pool)
                        .await
                        .map_err(classify)?;
                    Ok(done.rows_affected() > 0)
                }

                async fn delete_user_sessions(
                    &self,
                    user: UserId,
                    keep: Option<&TokenDigest>,
                ) -> Result<u64, StoreError> {
                    let query = match keep {
                        Some(keep) => sqlx::query(sql::DELETE_USER_SESSIONS_EXCEPT)
                            .bind(user.get())
                            .bind(&keep.as_bytes()[..]),
                        None => sqlx::query(sql::DELETE_USER_SESSIONS).bind(user.get()),
                    };
                    let done = query.execute(&self.pool).await.map_err(classify)?;
                    Ok(done.rows_affected())
                }

                async fn delete_expired_sessions(
                    &self,
                    now: OffsetDateTime,
                    idle_cutoff: OffsetDateTime,
                ) -> Result<u64, StoreError> {
                    let ended = sqlx::query(sql::DELETE_ENDED_SESSIONS)
                        .bind(timestamp(now))
                        .execute(&self.pool)
                        .await
                        .map_err(classify)?;
                    let idle = sqlx::query(sql::DELETE_IDLE_SESSIONS)
                        .bind(timestamp(idle_cutoff))
                        .execute(&self.pool)
                        .await
                        .map_err(classify)?;
                    Ok(ended.rows_affected() + idle.rows_affected())
                }
            }

            impl ThrottleStore for $store {
                async fn throttle_state(
                    &self,
                    key: &ThrottleKey,
                ) -> Result<Option<ThrottleState>, StoreError> {
                    sqlx::query_as::<_, rows::ThrottleRow>(sql::SELECT_THROTTLE)
                        .bind(&key.as_bytes()[..])
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(classify)?
                        .map(TryInto::try_into)
                        .transpose()
                }

                async fn reserve_attempt(
                    &self,
                    key: &ThrottleKey,
                    now: OffsetDateTime,
                    window_cutoff: OffsetDateTime,
                ) -> Result<ThrottleState, StoreError> {
                    let mut tx = self.pool.begin().await.map_err(classify)?;
                    let row = sqlx::query_as::<_, rows::ThrottleRow>(sql::RESERVE_ATTEMPT)
                        .bind(&key.as_bytes()[..])
                        .bind(timestamp(now))
                        .bind(timestamp(window_cutoff))
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(classify)?;
                    tx.commit().await.map_err(classify)?;
                    row.try_into()
                }

                async fn release_attempt(&self, key: &ThrottleKey) -> Result<(), StoreError> {
                    sqlx::query(sql::RELEASE_ATTEMPT)
                        .bind(&key.as_bytes()[..])
                        .execute(&self.pool)
                        .await
                        .map_err(classify)?;
                    Ok(())
                }

                async fn lock(
                    &self,
                    key: &ThrottleKey,
                    now: OffsetDateTime,
                    until: OffsetDateTime,
                    lockouts: u32,
                ) -> Result<(), StoreError> {
                    sqlx::query(sql::LOCK)
                        .bind(&key.as_bytes()[..])
                        .bind(timestamp(now))
                        .bind(timestamp(until))
                        .bind(i32::try_from(lockouts).unwrap_or(i32::MAX))
                        .execute(&self.pool)
                        .await
                        .map_err(classify)?;
                    Ok(())
                }

                async fn clear_throttle(&self, key: &ThrottleKey) -> Result<(), StoreError> {
                    sqlx::query(sql::CLEAR_THROTTLE)
                        .bind(&key.as_bytes()[..])
                        .execute(&self.pool)
                        .await
                        .map_err(classify)?;
                    Ok(())
                }

                async fn delete_stale_throttles(
                    &self,
                    before: OffsetDateTime,
                ) -> Result<u64, StoreError> {
                    let done = sqlx::query(sql::DELETE_STALE_THROTTLES)
                        .bind(timestamp(before))
                        .execute(&self.pool)
                        .await
                        .map_err(classify)?;
                    Ok(done.rows_affected())
                }
            }
        };
    };
}

pub(crate) use impl_sql_store;
