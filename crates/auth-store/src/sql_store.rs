//! auth-core's store traits for [`Store`], written once for both SQL
//! backends.
//!
//! SQLite and PostgreSQL run the same statements (see [`sql`](crate::sql));
//! only the pool's type differs. Each method below is ordinary code whose
//! database call sits in `on_pool!`, which compiles that one expression for
//! whichever backends are built and runs it on the store's pool. Generic code
//! over `sqlx::Database` would need a long list of per-type trait bounds for
//! the same result.
//!
//! A statement with `RETURNING` runs inside an explicit transaction that is
//! committed before the method returns. sqlx's SQLite driver hands back the
//! returned row before the statement has finished, and SQLite's implicit
//! transaction commits only when it finishes: without the explicit commit, a
//! process that exits right after the call loses the write it was told had
//! happened (sqlx issues #2099 and #3430).

use auth_core::time::OffsetDateTime;
use auth_core::{
    AccountEvent, AccountStore, AccountSummary, AddPasskey, CeremonyKind, CeremonyRecord,
    CredentialId, Device, Email, EmailChange, EventKind, EventStore, LinkPurpose, LinkTokenRecord,
    LinkTokenStore, MailKind, MailStore, NewCeremony, NewLinkToken, NewMail, NewPasskey,
    NewPendingSignIn, NewSession, NewUser, PasskeyId, PasskeyStore, PasswordHash,
    PendingSignInRecord, QueuedMail, RecoverySalt, SealedTotpSecret, SecondFactorStore,
    SessionRecord, SessionStore, SessionSummary, StoreError, StoredPasskey, StoredRecoveryCode,
    ThrottleKey, ThrottleState, ThrottleStore, TokenDigest, TotpRecord, User, UserCredentials,
    UserHandle, UserId, UserStore,
};

use crate::error::{classify, classify_user_insert};
use crate::rows::{self, timestamp};
use crate::{sql, Store};

/// Evaluates `$body` with `$pool` bound to `$store`'s pool, whichever
/// backend it is on. The body must have the same type for every backend.
macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match $store {
            #[cfg(feature = "sqlite")]
            Store::Sqlite(store) => {
                let $pool = store.pool();
                $body
            }
            #[cfg(feature = "postgres")]
            Store::Postgres(store) => {
                let $pool = store.pool();
                $body
            }
        }
    };
}

/// Takes the account's row in the transaction `tx` (`sql::LOCK_USER`),
/// returning "no such user" from the calling function if it is gone. A macro
/// for the reason `on_pool!` is one: each backend's transaction is a type
/// of its own.
macro_rules! lock_user {
    ($tx:expr, $user:expr) => {{
        let found = sqlx::query(sql::LOCK_USER)
            .bind($user.get())
            .execute(&mut *$tx)
            .await
            .map_err(classify)?
            .rows_affected();
        if found == 0 {
            return Err(StoreError::Backend("no such user".into()));
        }
    }};
}

impl UserStore for Store {
    async fn create_user(&self, new: NewUser) -> Result<User, StoreError> {
        let created_at = timestamp(new.created_at);
        let id: i64 = on_pool!(self, pool => {
            let mut tx = pool.begin().await.map_err(classify)?;
            let id = sqlx::query_scalar(sql::INSERT_USER)
                .bind(new.email.as_str())
                .bind(new.name.as_str())
                .bind(new.password_hash.as_str())
                .bind(created_at)
                .fetch_one(&mut *tx)
                .await
                .map_err(classify_user_insert)?;
            tx.commit().await.map_err(classify)?;
            id
        });
        Ok(User {
            id: UserId::new(id),
            email: new.email,
            name: new.name,
            created_at: OffsetDateTime::from_unix_timestamp(created_at)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            email_confirmed_at: None,
        })
    }

    async fn find_credentials(&self, email: &Email) -> Result<Option<UserCredentials>, StoreError> {
        on_pool!(self, pool => sqlx::query_as::<_, rows::CredentialsRow>(sql::SELECT_CREDENTIALS)
            .bind(email.as_str())
            .fetch_optional(pool)
            .await)
        .map_err(classify)?
        .map(TryInto::try_into)
        .transpose()
    }

    async fn find_user(&self, id: UserId) -> Result<Option<User>, StoreError> {
        on_pool!(self, pool => sqlx::query_as::<_, rows::UserRow>(sql::SELECT_USER)
            .bind(id.get())
            .fetch_optional(pool)
            .await)
        .map_err(classify)?
        .map(TryInto::try_into)
        .transpose()
    }

    async fn update_password_hash(
        &self,
        id: UserId,
        hash: &PasswordHash,
    ) -> Result<bool, StoreError> {
        let updated = on_pool!(self, pool => sqlx::query(sql::UPDATE_PASSWORD_HASH)
            .bind(hash.as_str())
            .bind(id.get())
            .execute(pool)
            .await
            .map(|done| done.rows_affected()));
        Ok(updated.map_err(classify)? > 0)
    }
}

impl SessionStore for Store {
    async fn create_session(&self, new: NewSession) -> Result<(), StoreError> {
        let client_addr = new.client.addr.map(|ip| ip.to_string());
        on_pool!(self, pool => sqlx::query(sql::INSERT_SESSION)
            .bind(&new.digest.as_bytes()[..])
            .bind(new.user_id.get())
            .bind(timestamp(new.created_at))
            .bind(timestamp(new.expires_at))
            .bind(new.idle_timeout.whole_seconds())
            .bind(client_addr.as_deref())
            .bind(new.client.device.as_ref().map(Device::as_str))
            .execute(pool)
            .await
            .map(|_| ()))
        .map_err(classify)
    }

    async fn find_session(
        &self,
        digest: &TokenDigest,
    ) -> Result<Option<SessionRecord>, StoreError> {
        #[cfg(feature = "sqlite")]
        if let Store::Sqlite(store) = self {
            if let Some(found) = store.read_session(digest) {
                return found;
            }
        }
        on_pool!(self, pool => sqlx::query_as::<_, rows::SessionRow>(sql::SELECT_SESSION)
            .bind(&digest.as_bytes()[..])
            .fetch_optional(pool)
            .await)
        .map_err(classify)?
        .map(TryInto::try_into)
        .transpose()
    }

    async fn list_user_sessions(&self, user: UserId) -> Result<Vec<SessionSummary>, StoreError> {
        on_pool!(self, pool => sqlx::query_as::<_, rows::SessionSummaryRow>(sql::SELECT_USER_SESSIONS)
            .bind(user.get())
            .fetch_all(pool)
            .await)
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
        on_pool!(self, pool => sqlx::query(sql::TOUCH_SESSION)
            .bind(timestamp(at))
            .bind(&digest.as_bytes()[..])
            .execute(pool)
            .await
            .map(|_| ()))
        .map_err(classify)
    }

    async fn record_authentication(
        &self,
        digest: &TokenDigest,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let updated = on_pool!(self, pool => sqlx::query(sql::RECORD_AUTHENTICATION)
            .bind(timestamp(at))
            .bind(&digest.as_bytes()[..])
            .execute(pool)
            .await
            .map(|done| done.rows_affected()));
        Ok(updated.map_err(classify)? > 0)
    }

    async fn delete_session(&self, digest: &TokenDigest) -> Result<bool, StoreError> {
        let deleted = on_pool!(self, pool => sqlx::query(sql::DELETE_SESSION)
            .bind(&digest.as_bytes()[..])
            .execute(pool)
            .await
            .map(|done| done.rows_affected()));
        Ok(deleted.map_err(classify)? > 0)
    }

    async fn delete_user_sessions(
        &self,
        user: UserId,
        keep: Option<&TokenDigest>,
    ) -> Result<u64, StoreError> {
        on_pool!(self, pool => match keep {
            Some(keep) => sqlx::query(sql::DELETE_USER_SESSIONS_EXCEPT)
                .bind(user.get())
                .bind(&keep.as_bytes()[..]),
            None => sqlx::query(sql::DELETE_USER_SESSIONS).bind(user.get()),
        }
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))
        .map_err(classify)
    }

    async fn delete_expired_sessions(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        let mut deleted = 0;
        for statement in [sql::DELETE_ENDED_SESSIONS, sql::DELETE_IDLE_SESSIONS] {
            deleted += on_pool!(self, pool => sqlx::query(statement)
                .bind(timestamp(now))
                .execute(pool)
                .await
                .map(|done| done.rows_affected()))
            .map_err(classify)?;
        }
        Ok(deleted)
    }
}

impl ThrottleStore for Store {
    async fn throttle_state(&self, key: &ThrottleKey) -> Result<Option<ThrottleState>, StoreError> {
        on_pool!(self, pool => sqlx::query_as::<_, rows::ThrottleRow>(sql::SELECT_THROTTLE)
            .bind(&key.as_bytes()[..])
            .fetch_optional(pool)
            .await)
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
        let row: rows::ThrottleRow = on_pool!(self, pool => {
            let mut tx = pool.begin().await.map_err(classify)?;
            let row = sqlx::query_as(sql::RESERVE_ATTEMPT)
                .bind(&key.as_bytes()[..])
                .bind(timestamp(now))
                .bind(timestamp(window_cutoff))
                .fetch_one(&mut *tx)
                .await
                .map_err(classify)?;
            tx.commit().await.map_err(classify)?;
            row
        });
        row.try_into()
    }

    async fn release_attempt(&self, key: &ThrottleKey) -> Result<(), StoreError> {
        on_pool!(self, pool => sqlx::query(sql::RELEASE_ATTEMPT)
            .bind(&key.as_bytes()[..])
            .execute(pool)
            .await
            .map(|_| ()))
        .map_err(classify)
    }

    async fn lock(
        &self,
        key: &ThrottleKey,
        now: OffsetDateTime,
        until: OffsetDateTime,
        lockouts: u32,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => sqlx::query(sql::LOCK)
            .bind(&key.as_bytes()[..])
            .bind(timestamp(now))
            .bind(timestamp(until))
            .bind(i32::try_from(lockouts).unwrap_or(i32::MAX))
            .execute(pool)
            .await
            .map(|_| ()))
        .map_err(classify)
    }

    async fn clear_throttle(&self, key: &ThrottleKey) -> Result<(), StoreError> {
        on_pool!(self, pool => sqlx::query(sql::CLEAR_THROTTLE)
            .bind(&key.as_bytes()[..])
            .execute(pool)
            .await
            .map(|_| ()))
        .map_err(classify)
    }

    async fn delete_stale_throttles(&self, before: OffsetDateTime) -> Result<u64, StoreError> {
        on_pool!(self, pool => sqlx::query(sql::DELETE_STALE_THROTTLES)
            .bind(timestamp(before))
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))
        .map_err(classify)
    }
}

impl AccountStore for Store {
    async fn list_accounts(
        &self,
        after: Option<UserId>,
        limit: u32,
        now: OffsetDateTime,
    ) -> Result<Vec<AccountSummary>, StoreError> {
        let after = after.map_or(i64::MIN, UserId::get);
        on_pool!(self, pool => sqlx::query_as::<_, rows::AccountSummaryRow>(sql::SELECT_ACCOUNTS)
            .bind(timestamp(now))
            .bind(EventKind::Login.as_str())
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await)
        .map_err(classify)?
        .into_iter()
        .map(TryInto::try_into)
        .collect()
    }

    async fn account_summary(
        &self,
        id: UserId,
        now: OffsetDateTime,
    ) -> Result<Option<AccountSummary>, StoreError> {
        on_pool!(self, pool => sqlx::query_as::<_, rows::AccountSummaryRow>(sql::SELECT_ACCOUNT)
            .bind(timestamp(now))
            .bind(EventKind::Login.as_str())
            .bind(id.get())
            .fetch_optional(pool)
            .await)
        .map_err(classify)?
        .map(TryInto::try_into)
        .transpose()
    }

    async fn disable_user(&self, id: UserId, at: OffsetDateTime) -> Result<bool, StoreError> {
        let updated = on_pool!(self, pool => sqlx::query(sql::DISABLE_USER)
            .bind(timestamp(at))
            .bind(id.get())
            .execute(pool)
            .await
            .map(|done| done.rows_affected()));
        Ok(updated.map_err(classify)? > 0)
    }

    async fn enable_user(&self, id: UserId) -> Result<bool, StoreError> {
        let updated = on_pool!(self, pool => sqlx::query(sql::ENABLE_USER)
            .bind(id.get())
            .execute(pool)
            .await
            .map(|done| done.rows_affected()));
        Ok(updated.map_err(classify)? > 0)
    }

    async fn delete_user(&self, id: UserId) -> Result<bool, StoreError> {
        let deleted: u64 = on_pool!(self, pool => {
            let mut tx = pool.begin().await.map_err(classify)?;
            sqlx::query(sql::DELETE_USER_EVENTS)
                .bind(id.get())
                .execute(&mut *tx)
                .await
                .map_err(classify)?;
            let deleted = sqlx::query(sql::DELETE_USER)
                .bind(id.get())
                .execute(&mut *tx)
                .await
                .map_err(classify)?
                .rows_affected();
            tx.commit().await.map_err(classify)?;
            deleted
        });
        Ok(deleted > 0)
    }
}

impl EventStore for Store {
    async fn record_event(&self, event: &AccountEvent) -> Result<(), StoreError> {
        let client = event.client.addr.map(|ip| ip.to_string());
        on_pool!(self, pool => sqlx::query(sql::INSERT_EVENT)
            .bind(event.user_id.get())
            .bind(event.kind.as_str())
            .bind(timestamp(event.at))
            .bind(event.actor.operator())
            .bind(client.as_deref())
            .bind(event.client.device.as_ref().map(Device::as_str))
            .execute(pool)
            .await
            .map(|_| ()))
        .map_err(classify)
    }

    async fn list_events(&self, user: UserId, limit: u32) -> Result<Vec<AccountEvent>, StoreError> {
        on_pool!(self, pool => sqlx::query_as::<_, rows::EventRow>(sql::SELECT_EVENTS)
            .bind(user.get())
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await)
        .map_err(classify)?
        .into_iter()
        .map(TryInto::try_into)
        .collect()
    }

    async fn delete_events_before(&self, before: OffsetDateTime) -> Result<u64, StoreError> {
        on_pool!(self, pool => sqlx::query(sql::DELETE_OLD_EVENTS)
            .bind(timestamp(before))
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))
        .map_err(classify)
    }
}

/// Uses up the live token of `purpose` under `digest` inside the
/// transaction `$tx`, returning from the enclosing method with `Ok(None)`
/// (the transaction rolled back) if there is none.
macro_rules! take_link {
    ($tx:expr, $digest:expr, $purpose:expr, $now:expr) => {
        match sqlx::query_as::<_, rows::TakenLinkRow>(sql::TAKE_LINK_TOKEN)
            .bind(&$digest.as_bytes()[..])
            .bind($purpose.as_str())
            .bind(timestamp($now))
            .fetch_optional(&mut *$tx)
            .await
            .map_err(classify)?
        {
            Some(row) => row,
            None => return Ok(None),
        }
    };
}

impl LinkTokenStore for Store {
    async fn create_link_token(&self, new: NewLinkToken) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await.map_err(classify)?;
            // Without the account's row held, two simultaneous requests on
            // PostgreSQL would each delete what was there before either
            // inserted, and both links would work.
            lock_user!(tx, new.user_id);
            sqlx::query(sql::DELETE_USER_LINK_TOKENS_FOR)
                .bind(new.user_id.get())
                .bind(new.purpose.as_str())
                .execute(&mut *tx)
                .await
                .map_err(classify)?;
            sqlx::query(sql::INSERT_LINK_TOKEN)
                .bind(&new.digest.as_bytes()[..])
                .bind(new.user_id.get())
                .bind(new.purpose.as_str())
                .bind(new.email.as_str())
                .bind(timestamp(new.created_at))
                .bind(timestamp(new.expires_at))
                .execute(&mut *tx)
                .await
                .map_err(classify)?;
            tx.commit().await.map_err(classify)
        })
    }

    async fn find_link_token(
        &self,
        digest: &TokenDigest,
        purpose: LinkPurpose,
    ) -> Result<Option<LinkTokenRecord>, StoreError> {
        on_pool!(self, pool => sqlx::query_as::<_, rows::LinkTokenRow>(sql::SELECT_LINK_TOKEN)
            .bind(&digest.as_bytes()[..])
            .bind(purpose.as_str())
            .fetch_optional(pool)
            .await)
        .map_err(classify)?
        .map(TryInto::try_into)
        .transpose()
    }

    async fn delete_link_tokens(
        &self,
        user: UserId,
        purpose: Option<LinkPurpose>,
    ) -> Result<u64, StoreError> {
        on_pool!(self, pool => match purpose {
            Some(purpose) => sqlx::query(sql::DELETE_USER_LINK_TOKENS_FOR)
                .bind(user.get())
                .bind(purpose.as_str()),
            None => sqlx::query(sql::DELETE_USER_LINK_TOKENS).bind(user.get()),
        }
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))
        .map_err(classify)
    }

    async fn delete_expired_link_tokens(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        on_pool!(self, pool => sqlx::query(sql::DELETE_EXPIRED_LINK_TOKENS)
            .bind(timestamp(now))
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))
        .map_err(classify)
    }

    async fn reset_password(
        &self,
        digest: &TokenDigest,
        hash: &PasswordHash,
        now: OffsetDateTime,
    ) -> Result<Option<UserId>, StoreError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await.map_err(classify)?;
            let link = take_link!(tx, digest, LinkPurpose::PasswordReset, now);
            let updated = sqlx::query(sql::RESET_PASSWORD_HASH)
                .bind(hash.as_str())
                .bind(link.user_id)
                .bind(&link.email)
                .execute(&mut *tx)
                .await
                .map_err(classify)?
                .rows_affected();
            if updated == 0 {
                return Ok(None);
            }
            sqlx::query(sql::DELETE_USER_SESSIONS)
                .bind(link.user_id)
                .execute(&mut *tx)
                .await
                .map_err(classify)?;
            sqlx::query(sql::DELETE_USER_LINK_TOKENS)
                .bind(link.user_id)
                .execute(&mut *tx)
                .await
                .map_err(classify)?;
            tx.commit().await.map_err(classify)?;
            Ok(Some(UserId::new(link.user_id)))
        })
    }

    async fn confirm_email(
        &self,
        digest: &TokenDigest,
        now: OffsetDateTime,
    ) -> Result<Option<UserId>, StoreError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await.map_err(classify)?;
            let link = take_link!(tx, digest, LinkPurpose::ConfirmEmail, now);
            let updated = sqlx::query(sql::CONFIRM_EMAIL)
                .bind(timestamp(now))
                .bind(link.user_id)
                .bind(&link.email)
                .execute(&mut *tx)
                .await
                .map_err(classify)?
                .rows_affected();
            if updated == 0 {
                return Ok(None);
            }
            tx.commit().await.map_err(classify)?;
            Ok(Some(UserId::new(link.user_id)))
        })
    }

    async fn change_email(
        &self,
        digest: &TokenDigest,
        keep: Option<&TokenDigest>,
        now: OffsetDateTime,
    ) -> Result<Option<EmailChange>, StoreError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await.map_err(classify)?;
            let link = take_link!(tx, digest, LinkPurpose::ChangeEmail, now);
            let Some(old): Option<String> = sqlx::query_scalar(sql::SELECT_ENABLED_EMAIL)
                .bind(link.user_id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(classify)?
            else {
                return Ok(None);
            };
            sqlx::query(sql::CHANGE_EMAIL)
                .bind(&link.email)
                .bind(timestamp(now))
                .bind(link.user_id)
                .execute(&mut *tx)
                .await
                .map_err(classify_user_insert)?;
            sqlx::query(sql::DELETE_USER_LINK_TOKENS)
                .bind(link.user_id)
                .execute(&mut *tx)
                .await
                .map_err(classify)?;
            match keep {
                Some(keep) => sqlx::query(sql::DELETE_USER_SESSIONS_EXCEPT)
                    .bind(link.user_id)
                    .bind(&keep.as_bytes()[..]),
                None => sqlx::query(sql::DELETE_USER_SESSIONS).bind(link.user_id),
            }
            .execute(&mut *tx)
            .await
            .map_err(classify)?;
            tx.commit().await.map_err(classify)?;
            Ok(Some(EmailChange {
                user_id: UserId::new(link.user_id),
                old: rows::stored_email(&old)?,
                new: rows::stored_email(&link.email)?,
            }))
        })
    }
}

impl MailStore for Store {
    async fn enqueue_mail(&self, mail: &NewMail) -> Result<(), StoreError> {
        on_pool!(self, pool => sqlx::query(sql::INSERT_MAIL)
            .bind(mail.kind.as_str())
            .bind(mail.user_id.map(UserId::get))
            .bind(mail.email.as_ref().map(Email::as_str))
            .bind(timestamp(mail.created_at))
            .execute(pool)
            .await
            .map(|_| ()))
        .map_err(classify)
    }

    async fn claim_mail(
        &self,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<QueuedMail>, StoreError> {
        let rows: Vec<rows::QueuedMailRow> = on_pool!(self, pool => {
            let mut tx = pool.begin().await.map_err(classify)?;
            let rows = sqlx::query_as(sql::CLAIM_MAIL)
                .bind(timestamp(now))
                .bind(timestamp(lease_until))
                .bind(i64::from(limit))
                .fetch_all(&mut *tx)
                .await
                .map_err(classify)?;
            tx.commit().await.map_err(classify)?;
            rows
        });
        let mut claimed = rows
            .into_iter()
            .map(QueuedMail::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        claimed.sort_by_key(|mail| mail.id);
        Ok(claimed)
    }

    async fn cancel_mail(&self, user: UserId, kind: MailKind) -> Result<u64, StoreError> {
        on_pool!(self, pool => sqlx::query(sql::CANCEL_MAIL)
            .bind(user.get())
            .bind(kind.as_str())
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))
        .map_err(classify)
    }

    async fn finish_mail(&self, id: i64) -> Result<(), StoreError> {
        on_pool!(self, pool => sqlx::query(sql::DELETE_MAIL)
            .bind(id)
            .execute(pool)
            .await
            .map(|_| ()))
        .map_err(classify)
    }

    async fn retry_mail(&self, id: i64, at: OffsetDateTime) -> Result<(), StoreError> {
        on_pool!(self, pool => sqlx::query(sql::RETRY_MAIL)
            .bind(id)
            .bind(timestamp(at))
            .execute(pool)
            .await
            .map(|_| ()))
        .map_err(classify)
    }
}

/// Replaces `$user`'s recovery codes with `$codes` inside the transaction
/// `$tx`.
macro_rules! replace_codes {
    ($tx:expr, $user:expr, $codes:expr) => {{
        sqlx::query(sql::DELETE_RECOVERY_CODES)
            .bind($user.get())
            .execute(&mut *$tx)
            .await
            .map_err(classify)?;
        for code in $codes {
            sqlx::query(sql::INSERT_RECOVERY_CODE)
                .bind($user.get())
                .bind(&code.digest.as_bytes()[..])
                .bind(code.salt.as_bytes())
                .execute(&mut *$tx)
                .await
                .map_err(classify)?;
        }
    }};
}

impl SecondFactorStore for Store {
    async fn set_totp_secret(
        &self,
        user: UserId,
        secret: &SealedTotpSecret,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let changed = on_pool!(self, pool => sqlx::query(sql::UPSERT_TOTP_SECRET)
            .bind(user.get())
            .bind(secret.as_bytes())
            .bind(timestamp(at))
            .execute(pool)
            .await
            .map(|done| done.rows_affected()));
        Ok(changed.map_err(classify)? > 0)
    }

    async fn find_totp(&self, user: UserId) -> Result<Option<TotpRecord>, StoreError> {
        on_pool!(self, pool => sqlx::query_as::<_, rows::TotpRow>(sql::SELECT_TOTP)
            .bind(user.get())
            .fetch_optional(pool)
            .await)
        .map_err(classify)?
        .map(TryInto::try_into)
        .transpose()
    }

    async fn enable_totp(
        &self,
        user: UserId,
        step: u64,
        codes: &[StoredRecoveryCode],
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let step = rows::stored_step(step)?;
        on_pool!(self, pool => {
            let mut tx = pool.begin().await.map_err(classify)?;
            let enabled = sqlx::query(sql::ENABLE_TOTP)
                .bind(user.get())
                .bind(timestamp(at))
                .bind(step)
                .execute(&mut *tx)
                .await
                .map_err(classify)?
                .rows_affected();
            if enabled == 0 {
                return Ok(false);
            }
            replace_codes!(tx, user, codes);
            tx.commit().await.map_err(classify)?;
            Ok(true)
        })
    }

    async fn reseal_totp_secret(
        &self,
        user: UserId,
        old: &SealedTotpSecret,
        new: &SealedTotpSecret,
    ) -> Result<bool, StoreError> {
        let changed = on_pool!(self, pool => sqlx::query(sql::RESEAL_TOTP_SECRET)
            .bind(user.get())
            .bind(old.as_bytes())
            .bind(new.as_bytes())
            .execute(pool)
            .await
            .map(|done| done.rows_affected()));
        Ok(changed.map_err(classify)? > 0)
    }

    async fn use_totp_step(&self, user: UserId, step: u64) -> Result<bool, StoreError> {
        let step = rows::stored_step(step)?;
        let used = on_pool!(self, pool => sqlx::query(sql::USE_TOTP_STEP)
            .bind(user.get())
            .bind(step)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()));
        Ok(used.map_err(classify)? > 0)
    }

    async fn remove_totp(&self, user: UserId) -> Result<bool, StoreError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await.map_err(classify)?;
            // The secret first: a replacement of the codes holding its row
            // finishes before this goes on, and one after finds no row.
            let removed = sqlx::query(sql::DELETE_TOTP)
                .bind(user.get())
                .execute(&mut *tx)
                .await
                .map_err(classify)?
                .rows_affected();
            sqlx::query(sql::DELETE_RECOVERY_CODES)
                .bind(user.get())
                .execute(&mut *tx)
                .await
                .map_err(classify)?;
            tx.commit().await.map_err(classify)?;
            Ok(removed > 0)
        })
    }

    async fn replace_recovery_codes(
        &self,
        user: UserId,
        codes: &[StoredRecoveryCode],
    ) -> Result<bool, StoreError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await.map_err(classify)?;
            let enabled = sqlx::query(sql::LOCK_ENABLED_TOTP)
                .bind(user.get())
                .execute(&mut *tx)
                .await
                .map_err(classify)?
                .rows_affected();
            if enabled == 0 {
                return Ok(false);
            }
            replace_codes!(tx, user, codes);
            tx.commit().await.map_err(classify)?;
            Ok(true)
        })
    }

    async fn use_recovery_code(
        &self,
        user: UserId,
        digest: &TokenDigest,
    ) -> Result<bool, StoreError> {
        let used = on_pool!(self, pool => sqlx::query(sql::USE_RECOVERY_CODE)
            .bind(user.get())
            .bind(&digest.as_bytes()[..])
            .execute(pool)
            .await
            .map(|done| done.rows_affected()));
        Ok(used.map_err(classify)? > 0)
    }

    async fn recovery_code_salts(&self, user: UserId) -> Result<Vec<RecoverySalt>, StoreError> {
        let salts: Vec<Vec<u8>> =
            on_pool!(self, pool => sqlx::query_scalar(sql::SELECT_RECOVERY_SALTS)
            .bind(user.get())
            .fetch_all(pool)
            .await)
            .map_err(classify)?;
        salts
            .into_iter()
            .map(|salt| {
                let len = salt.len();
                RecoverySalt::from_bytes(salt).ok_or_else(|| {
                    StoreError::Corrupt(format!("a recovery code salt of {len} bytes"))
                })
            })
            .collect()
    }

    async fn count_recovery_codes(&self, user: UserId) -> Result<u32, StoreError> {
        let count: i64 = on_pool!(self, pool => sqlx::query_scalar(sql::COUNT_RECOVERY_CODES)
            .bind(user.get())
            .fetch_one(pool)
            .await)
        .map_err(classify)?;
        u32::try_from(count).map_err(|_| StoreError::Corrupt(format!("{count} recovery codes")))
    }

    async fn create_pending_sign_in(&self, pending: NewPendingSignIn) -> Result<(), StoreError> {
        on_pool!(self, pool => sqlx::query(sql::INSERT_PENDING_SIGN_IN)
            .bind(&pending.digest.as_bytes()[..])
            .bind(pending.user_id.get())
            .bind(pending.remember)
            .bind(timestamp(pending.created_at))
            .bind(timestamp(pending.expires_at))
            .execute(pool)
            .await
            .map(|_| ()))
        .map_err(classify)
    }

    async fn find_pending_sign_in(
        &self,
        digest: &TokenDigest,
    ) -> Result<Option<PendingSignInRecord>, StoreError> {
        on_pool!(self, pool => sqlx::query_as::<_, rows::PendingSignInRow>(sql::SELECT_PENDING_SIGN_IN)
            .bind(&digest.as_bytes()[..])
            .fetch_optional(pool)
            .await)
        .map_err(classify)?
        .map(TryInto::try_into)
        .transpose()
    }

    async fn delete_pending_sign_in(&self, digest: &TokenDigest) -> Result<bool, StoreError> {
        let deleted = on_pool!(self, pool => sqlx::query(sql::DELETE_PENDING_SIGN_IN)
            .bind(&digest.as_bytes()[..])
            .execute(pool)
            .await
            .map(|done| done.rows_affected()));
        Ok(deleted.map_err(classify)? > 0)
    }

    async fn delete_user_pending_sign_ins(&self, user: UserId) -> Result<u64, StoreError> {
        on_pool!(self, pool => sqlx::query(sql::DELETE_USER_PENDING_SIGN_INS)
            .bind(user.get())
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))
        .map_err(classify)
    }

    async fn delete_expired_pending_sign_ins(
        &self,
        now: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        on_pool!(self, pool => sqlx::query(sql::DELETE_EXPIRED_PENDING_SIGN_INS)
            .bind(timestamp(now))
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))
        .map_err(classify)
    }
}

impl PasskeyStore for Store {
    async fn user_handle(
        &self,
        user: UserId,
        candidate: UserHandle,
    ) -> Result<UserHandle, StoreError> {
        let kept: Vec<u8> = on_pool!(self, pool => {
            let mut tx = pool.begin().await.map_err(classify)?;
            sqlx::query(sql::INSERT_USER_HANDLE)
                .bind(user.get())
                .bind(&candidate.as_bytes()[..])
                .execute(&mut *tx)
                .await
                .map_err(classify)?;
            let kept = sqlx::query_scalar(sql::SELECT_USER_HANDLE)
                .bind(user.get())
                .fetch_one(&mut *tx)
                .await
                .map_err(classify)?;
            tx.commit().await.map_err(classify)?;
            kept
        });
        let bytes: [u8; 16] = kept.as_slice().try_into().map_err(|_| {
            StoreError::Corrupt(format!("the user handle of account {}", user.get()))
        })?;
        Ok(UserHandle::from_bytes(bytes))
    }

    async fn add_passkey(&self, passkey: NewPasskey, limit: u32) -> Result<AddPasskey, StoreError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await.map_err(classify)?;
            lock_user!(tx, passkey.user_id);
            let owned: i64 = sqlx::query_scalar(sql::COUNT_PASSKEYS)
                .bind(passkey.user_id.get())
                .fetch_one(&mut *tx)
                .await
                .map_err(classify)?;
            if owned >= i64::from(limit) {
                return Ok(AddPasskey::TooMany);
            }
            let id: Option<i64> = sqlx::query_scalar(sql::INSERT_PASSKEY)
                .bind(passkey.user_id.get())
                .bind(passkey.credential_id.as_bytes())
                .bind(&passkey.user_handle.as_bytes()[..])
                .bind(passkey.name.as_str())
                .bind(&passkey.credential)
                .bind(timestamp(passkey.created_at))
                .fetch_optional(&mut *tx)
                .await
                .map_err(classify)?;
            let Some(id) = id else {
                return Ok(AddPasskey::Duplicate);
            };
            tx.commit().await.map_err(classify)?;
            Ok(AddPasskey::Added(PasskeyId::new(id)))
        })
    }

    async fn list_passkeys(&self, user: UserId) -> Result<Vec<StoredPasskey>, StoreError> {
        on_pool!(self, pool => sqlx::query_as::<_, rows::PasskeyRow>(sql::SELECT_USER_PASSKEYS)
            .bind(user.get())
            .fetch_all(pool)
            .await)
        .map_err(classify)?
        .into_iter()
        .map(TryInto::try_into)
        .collect()
    }

    async fn count_passkeys(&self, user: UserId) -> Result<u32, StoreError> {
        let count: i64 = on_pool!(self, pool => sqlx::query_scalar(sql::COUNT_PASSKEYS)
            .bind(user.get())
            .fetch_one(pool)
            .await)
        .map_err(classify)?;
        u32::try_from(count).map_err(|_| StoreError::Corrupt(format!("{count} passkeys")))
    }

    async fn find_passkey(
        &self,
        credential: &CredentialId,
    ) -> Result<Option<StoredPasskey>, StoreError> {
        on_pool!(self, pool => sqlx::query_as::<_, rows::PasskeyRow>(sql::SELECT_PASSKEY)
            .bind(credential.as_bytes())
            .fetch_optional(pool)
            .await)
        .map_err(classify)?
        .map(TryInto::try_into)
        .transpose()
    }

    async fn use_passkey(
        &self,
        id: PasskeyId,
        counter: u32,
        credential: &[u8],
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let used = on_pool!(self, pool => sqlx::query(sql::USE_PASSKEY)
            .bind(id.get())
            .bind(i64::from(counter))
            .bind(credential)
            .bind(timestamp(at))
            .execute(pool)
            .await
            .map(|done| done.rows_affected()));
        Ok(used.map_err(classify)? > 0)
    }

    async fn remove_passkey(&self, user: UserId, id: PasskeyId) -> Result<bool, StoreError> {
        let removed = on_pool!(self, pool => sqlx::query(sql::DELETE_PASSKEY)
            .bind(user.get())
            .bind(id.get())
            .execute(pool)
            .await
            .map(|done| done.rows_affected()));
        Ok(removed.map_err(classify)? > 0)
    }

    async fn remove_passkeys(&self, user: UserId) -> Result<u64, StoreError> {
        on_pool!(self, pool => sqlx::query(sql::DELETE_USER_PASSKEYS)
            .bind(user.get())
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))
        .map_err(classify)
    }

    async fn create_ceremony(&self, ceremony: NewCeremony) -> Result<(), StoreError> {
        let record = &ceremony.record;
        let name = match &record.kind {
            CeremonyKind::Register(name) => Some(name.as_str()),
            _ => None,
        };
        on_pool!(self, pool => sqlx::query(sql::INSERT_CEREMONY)
            .bind(&ceremony.digest.as_bytes()[..])
            .bind(record.kind.as_str())
            .bind(record.user_id.map(UserId::get))
            .bind(name)
            .bind(&record.state)
            .bind(timestamp(record.expires_at))
            .execute(pool)
            .await
            .map(|_| ()))
        .map_err(classify)
    }

    async fn take_ceremony(
        &self,
        digest: &TokenDigest,
        now: OffsetDateTime,
    ) -> Result<Option<CeremonyRecord>, StoreError> {
        let row = on_pool!(self, pool => {
            let mut tx = pool.begin().await.map_err(classify)?;
            let row = sqlx::query_as::<_, rows::CeremonyRow>(sql::TAKE_CEREMONY)
                .bind(&digest.as_bytes()[..])
                .bind(timestamp(now))
                .fetch_optional(&mut *tx)
                .await
                .map_err(classify)?;
            tx.commit().await.map_err(classify)?;
            row
        });
        row.map(TryInto::try_into).transpose()
    }

    async fn delete_expired_ceremonies(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        on_pool!(self, pool => sqlx::query(sql::DELETE_EXPIRED_CEREMONIES)
            .bind(timestamp(now))
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))
        .map_err(classify)
    }
}
