//! An in-memory store, for examples and fast tests (feature `memory`).
//! Everything is lost when the last clone is dropped; use `auth-store` for
//! anything real.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use time::{Duration, OffsetDateTime};

use crate::{
    AccountEvent, AccountStore, AccountSummary, AddPasskey, CeremonyRecord, ClientInfo,
    CredentialId, Email, EmailChange, EventKind, EventStore, LinkPurpose, LinkTokenRecord,
    LinkTokenStore, MailKind, MailStore, NewCeremony, NewLinkToken, NewMail, NewPasskey,
    NewPendingSignIn, NewSession, NewUser, PasskeyId, PasskeyStore, PasswordHash,
    PendingSignInRecord, QueuedMail, RecoverySalt, SealedTotpSecret, SecondFactorStore,
    SessionRecord, SessionStore, SessionSummary, SessionTimes, StoreError, StoredPasskey,
    StoredRecoveryCode, ThrottleKey, ThrottleState, ThrottleStore, TokenDigest, TotpRecord, User,
    UserCredentials, UserHandle, UserId, UserStore,
};

/// Users and sessions in a `HashMap` behind a mutex. Clones share the data.
/// Times are truncated to whole seconds, as the database stores keep them, so
/// code tested against this store sees what it will see in production.
///
/// ```
/// use auth_core::memory::MemoryStore;
/// use auth_core::{AuthService, BcryptHasher, Registration};
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let auth = AuthService::builder(MemoryStore::new())
///     .hasher(BcryptHasher::new(4)?)
///     .build()?;
/// let issued = auth
///     .register(Registration { email: "ada@example.com", name: "Ada", password: "analytical engine" })
///     .await?;
/// let session = auth.authenticate(&issued.token).await?.expect("logged in");
/// assert_eq!(session.user.name.as_str(), "Ada");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    state: Arc<Mutex<State>>,
}

#[derive(Debug, Default)]
struct State {
    next_id: i64,
    users: HashMap<UserId, StoredUser>,
    by_email: HashMap<Email, UserId>,
    sessions: HashMap<TokenDigest, StoredSession>,
    throttles: HashMap<ThrottleKey, ThrottleState>,
    /// In the order recorded.
    events: Vec<AccountEvent>,
    links: HashMap<TokenDigest, LinkTokenRecord>,
    next_mail_id: i64,
    /// By id: oldest first.
    mail: std::collections::BTreeMap<i64, StoredMail>,
    totp: HashMap<UserId, TotpRecord>,
    recovery_codes: HashMap<UserId, Vec<StoredRecoveryCode>>,
    pending_sign_ins: HashMap<TokenDigest, PendingSignInRecord>,
    next_passkey_id: i64,
    /// By id: oldest first.
    passkeys: std::collections::BTreeMap<PasskeyId, StoredPasskey>,
    ceremonies: HashMap<TokenDigest, CeremonyRecord>,
    passkey_users: HashMap<UserId, UserHandle>,
}

#[derive(Debug, Clone)]
struct StoredMail {
    mail: NewMail,
    attempts: u32,
    due_at: OffsetDateTime,
}

#[derive(Debug, Clone)]
struct StoredUser {
    user: User,
    password_hash: PasswordHash,
    disabled_at: Option<OffsetDateTime>,
}

impl State {
    fn summary(&self, stored: &StoredUser, now: OffsetDateTime) -> AccountSummary {
        let id = stored.user.id;
        AccountSummary {
            user: stored.user.clone(),
            disabled_at: stored.disabled_at,
            last_login_at: self
                .events
                .iter()
                .filter(|e| e.user_id == id && e.kind == EventKind::Login)
                .map(|e| e.at)
                .max(),
            live_sessions: self
                .sessions
                .values()
                .filter(|s| s.user_id == id && !s.times.has_ended(now))
                .count() as u64,
        }
    }
}

#[derive(Debug, Clone)]
struct StoredSession {
    user_id: UserId,
    times: SessionTimes,
    client: ClientInfo,
}

fn whole_seconds(t: OffsetDateTime) -> OffsetDateTime {
    t.replace_nanosecond(0).unwrap_or(t)
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // Every critical section leaves the maps consistent, so a panic in
        // another thread cannot have left them half-updated.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl UserStore for MemoryStore {
    async fn create_user(&self, new: NewUser) -> Result<User, StoreError> {
        let mut state = self.state();
        if state.by_email.contains_key(&new.email) {
            return Err(StoreError::EmailTaken);
        }
        state.next_id += 1;
        let user = User {
            id: UserId::new(state.next_id),
            email: new.email,
            name: new.name,
            created_at: whole_seconds(new.created_at),
            email_confirmed_at: None,
        };
        state.by_email.insert(user.email.clone(), user.id);
        state.users.insert(
            user.id,
            StoredUser {
                user: user.clone(),
                password_hash: new.password_hash,
                disabled_at: None,
            },
        );
        Ok(user)
    }

    async fn find_credentials(&self, email: &Email) -> Result<Option<UserCredentials>, StoreError> {
        let state = self.state();
        Ok(state
            .by_email
            .get(email)
            .and_then(|id| state.users.get(id))
            .map(|stored| UserCredentials {
                user: stored.user.clone(),
                password_hash: stored.password_hash.clone(),
                disabled_at: stored.disabled_at,
            }))
    }

    async fn find_user(&self, id: UserId) -> Result<Option<User>, StoreError> {
        Ok(self
            .state()
            .users
            .get(&id)
            .map(|stored| stored.user.clone()))
    }

    async fn update_password_hash(
        &self,
        id: UserId,
        hash: &PasswordHash,
    ) -> Result<bool, StoreError> {
        Ok(self
            .state()
            .users
            .get_mut(&id)
            .map(|stored| stored.password_hash = hash.clone())
            .is_some())
    }
}

impl SessionStore for MemoryStore {
    async fn create_session(&self, new: NewSession) -> Result<(), StoreError> {
        let mut state = self.state();
        if !state.users.contains_key(&new.user_id) {
            return Err(StoreError::Backend("no such user".into()));
        }
        state.sessions.insert(
            new.digest,
            StoredSession {
                user_id: new.user_id,
                times: SessionTimes {
                    created_at: whole_seconds(new.created_at),
                    last_seen_at: whole_seconds(new.created_at),
                    expires_at: whole_seconds(new.expires_at),
                    idle_timeout: Duration::seconds(new.idle_timeout.whole_seconds()),
                    authenticated_at: whole_seconds(new.created_at),
                },
                client: new.client,
            },
        );
        Ok(())
    }

    async fn find_session(
        &self,
        digest: &TokenDigest,
    ) -> Result<Option<SessionRecord>, StoreError> {
        let state = self.state();
        Ok(state.sessions.get(digest).and_then(|s| {
            let stored = state.users.get(&s.user_id)?;
            stored.disabled_at.is_none().then(|| SessionRecord {
                user: stored.user.clone(),
                times: s.times,
            })
        }))
    }

    async fn list_user_sessions(&self, user: UserId) -> Result<Vec<SessionSummary>, StoreError> {
        let mut sessions: Vec<SessionSummary> = self
            .state()
            .sessions
            .iter()
            .filter(|(_, s)| s.user_id == user)
            .map(|(digest, s)| SessionSummary {
                digest: *digest,
                times: s.times,
                client: s.client.clone(),
            })
            .collect();
        sessions.sort_by_key(|s| std::cmp::Reverse(s.times.last_seen_at));
        Ok(sessions)
    }

    async fn touch_session(
        &self,
        digest: &TokenDigest,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        if let Some(session) = self.state().sessions.get_mut(digest) {
            session.times.last_seen_at = session.times.last_seen_at.max(whole_seconds(at));
        }
        Ok(())
    }

    async fn record_authentication(
        &self,
        digest: &TokenDigest,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let mut state = self.state();
        let Some(session) = state.sessions.get_mut(digest) else {
            return Ok(false);
        };
        let times = &mut session.times;
        times.authenticated_at = times.authenticated_at.max(whole_seconds(at));
        Ok(true)
    }

    async fn delete_session(&self, digest: &TokenDigest) -> Result<bool, StoreError> {
        Ok(self.state().sessions.remove(digest).is_some())
    }

    async fn delete_user_sessions(
        &self,
        user: UserId,
        keep: Option<&TokenDigest>,
    ) -> Result<u64, StoreError> {
        let mut state = self.state();
        let before = state.sessions.len();
        state
            .sessions
            .retain(|digest, s| s.user_id != user || Some(digest) == keep);
        Ok((before - state.sessions.len()) as u64)
    }

    async fn delete_expired_sessions(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        let mut state = self.state();
        let before = state.sessions.len();
        state.sessions.retain(|_, s| !s.times.has_ended(now));
        Ok((before - state.sessions.len()) as u64)
    }
}

impl ThrottleStore for MemoryStore {
    async fn throttle_state(&self, key: &ThrottleKey) -> Result<Option<ThrottleState>, StoreError> {
        Ok(self.state().throttles.get(key).copied())
    }

    async fn reserve_attempt(
        &self,
        key: &ThrottleKey,
        now: OffsetDateTime,
        window_cutoff: OffsetDateTime,
    ) -> Result<ThrottleState, StoreError> {
        let now = whole_seconds(now);
        let mut state = self.state();
        let entry = state.throttles.entry(*key).or_insert(ThrottleState {
            failures: 0,
            window_start: now,
            locked_until: OffsetDateTime::UNIX_EPOCH,
            lockouts: 0,
        });
        if entry.locked_until > now {
            return Ok(*entry);
        }
        if entry.window_start <= window_cutoff {
            entry.failures = 0;
            entry.window_start = now;
        }
        entry.failures += 1;
        Ok(*entry)
    }

    async fn release_attempt(&self, key: &ThrottleKey) -> Result<(), StoreError> {
        if let Some(entry) = self.state().throttles.get_mut(key) {
            entry.failures = entry.failures.saturating_sub(1);
        }
        Ok(())
    }

    async fn lock(
        &self,
        key: &ThrottleKey,
        now: OffsetDateTime,
        until: OffsetDateTime,
        lockouts: u32,
    ) -> Result<(), StoreError> {
        if let Some(entry) = self.state().throttles.get_mut(key) {
            *entry = ThrottleState {
                failures: 0,
                window_start: whole_seconds(now),
                locked_until: whole_seconds(until),
                lockouts,
            };
        }
        Ok(())
    }

    async fn clear_throttle(&self, key: &ThrottleKey) -> Result<(), StoreError> {
        self.state().throttles.remove(key);
        Ok(())
    }

    async fn delete_stale_throttles(&self, before: OffsetDateTime) -> Result<u64, StoreError> {
        let mut state = self.state();
        let count = state.throttles.len();
        state
            .throttles
            .retain(|_, t| t.window_start >= before || t.locked_until >= before);
        Ok((count - state.throttles.len()) as u64)
    }
}

impl AccountStore for MemoryStore {
    async fn list_accounts(
        &self,
        after: Option<UserId>,
        limit: u32,
        now: OffsetDateTime,
    ) -> Result<Vec<AccountSummary>, StoreError> {
        let state = self.state();
        let mut users: Vec<&StoredUser> = state
            .users
            .values()
            .filter(|stored| after.is_none_or(|after| stored.user.id > after))
            .collect();
        users.sort_by_key(|stored| stored.user.id);
        Ok(users
            .into_iter()
            .take(limit as usize)
            .map(|stored| state.summary(stored, now))
            .collect())
    }

    async fn account_summary(
        &self,
        id: UserId,
        now: OffsetDateTime,
    ) -> Result<Option<AccountSummary>, StoreError> {
        let state = self.state();
        Ok(state
            .users
            .get(&id)
            .map(|stored| state.summary(stored, now)))
    }

    async fn disable_user(&self, id: UserId, at: OffsetDateTime) -> Result<bool, StoreError> {
        let mut state = self.state();
        let Some(stored) = state.users.get_mut(&id).filter(|s| s.disabled_at.is_none()) else {
            return Ok(false);
        };
        stored.disabled_at = Some(whole_seconds(at));
        Ok(true)
    }

    async fn enable_user(&self, id: UserId) -> Result<bool, StoreError> {
        let mut state = self.state();
        let stored = state.users.get_mut(&id);
        Ok(stored.and_then(|s| s.disabled_at.take()).is_some())
    }

    async fn delete_user(&self, id: UserId) -> Result<bool, StoreError> {
        let mut state = self.state();
        let Some(stored) = state.users.remove(&id) else {
            return Ok(false);
        };
        state.by_email.remove(&stored.user.email);
        state.sessions.retain(|_, s| s.user_id != id);
        state.events.retain(|e| e.user_id != id);
        state.links.retain(|_, l| l.user_id != id);
        state.mail.retain(|_, m| m.mail.user_id != Some(id));
        state.totp.remove(&id);
        state.recovery_codes.remove(&id);
        state.pending_sign_ins.retain(|_, p| p.user_id != id);
        state.passkeys.retain(|_, p| p.user_id != id);
        state.ceremonies.retain(|_, c| c.user_id != Some(id));
        state.passkey_users.remove(&id);
        Ok(true)
    }
}

impl EventStore for MemoryStore {
    async fn record_event(&self, event: &AccountEvent) -> Result<(), StoreError> {
        let mut event = event.clone();
        event.at = whole_seconds(event.at);
        self.state().events.push(event);
        Ok(())
    }

    async fn list_events(&self, user: UserId, limit: u32) -> Result<Vec<AccountEvent>, StoreError> {
        let state = self.state();
        let mut events: Vec<AccountEvent> = state
            .events
            .iter()
            .rev()
            .filter(|e| e.user_id == user)
            .cloned()
            .collect();
        // Stable: events of one second stay newest-recorded first.
        events.sort_by_key(|e| std::cmp::Reverse(e.at));
        events.truncate(limit as usize);
        Ok(events)
    }

    async fn delete_events_before(&self, before: OffsetDateTime) -> Result<u64, StoreError> {
        let mut state = self.state();
        let count = state.events.len();
        state.events.retain(|e| e.at >= before);
        Ok((count - state.events.len()) as u64)
    }
}

impl State {
    /// Removes the live token of `purpose` filed under `digest`.
    fn take_link(
        &mut self,
        digest: &TokenDigest,
        purpose: LinkPurpose,
        now: OffsetDateTime,
    ) -> Option<LinkTokenRecord> {
        let live = self
            .links
            .get(digest)
            .is_some_and(|l| l.purpose == purpose && l.expires_at > now);
        live.then(|| self.links.remove(digest)).flatten()
    }
}

impl LinkTokenStore for MemoryStore {
    async fn create_link_token(&self, new: NewLinkToken) -> Result<(), StoreError> {
        let mut state = self.state();
        if !state.users.contains_key(&new.user_id) {
            return Err(StoreError::Backend("no such user".into()));
        }
        state
            .links
            .retain(|_, l| l.user_id != new.user_id || l.purpose != new.purpose);
        state.links.insert(
            new.digest,
            LinkTokenRecord {
                user_id: new.user_id,
                purpose: new.purpose,
                email: new.email,
                created_at: whole_seconds(new.created_at),
                expires_at: whole_seconds(new.expires_at),
            },
        );
        Ok(())
    }

    async fn find_link_token(
        &self,
        digest: &TokenDigest,
        purpose: LinkPurpose,
    ) -> Result<Option<LinkTokenRecord>, StoreError> {
        Ok(self
            .state()
            .links
            .get(digest)
            .filter(|l| l.purpose == purpose)
            .cloned())
    }

    async fn delete_link_tokens(
        &self,
        user: UserId,
        purpose: Option<LinkPurpose>,
    ) -> Result<u64, StoreError> {
        let mut state = self.state();
        let before = state.links.len();
        state
            .links
            .retain(|_, l| l.user_id != user || purpose.is_some_and(|p| p != l.purpose));
        Ok((before - state.links.len()) as u64)
    }

    async fn delete_expired_link_tokens(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        let mut state = self.state();
        let before = state.links.len();
        state.links.retain(|_, l| l.expires_at > now);
        Ok((before - state.links.len()) as u64)
    }

    async fn reset_password(
        &self,
        digest: &TokenDigest,
        hash: &PasswordHash,
        now: OffsetDateTime,
    ) -> Result<Option<UserId>, StoreError> {
        let mut state = self.state();
        let Some(link) = state.links.get(digest).cloned() else {
            return Ok(None);
        };
        let current = state
            .users
            .get(&link.user_id)
            .filter(|u| u.disabled_at.is_none())
            .map(|u| &u.user.email);
        if current != Some(&link.email) {
            return Ok(None);
        }
        if state
            .take_link(digest, LinkPurpose::PasswordReset, now)
            .is_none()
        {
            return Ok(None);
        }
        let user = link.user_id;
        if let Some(stored) = state.users.get_mut(&user) {
            stored.password_hash = hash.clone();
        }
        state.sessions.retain(|_, s| s.user_id != user);
        state.links.retain(|_, l| l.user_id != user);
        Ok(Some(user))
    }

    async fn confirm_email(
        &self,
        digest: &TokenDigest,
        now: OffsetDateTime,
    ) -> Result<Option<UserId>, StoreError> {
        let mut state = self.state();
        let Some(link) = state.links.get(digest).cloned() else {
            return Ok(None);
        };
        let matches = state
            .users
            .get(&link.user_id)
            .is_some_and(|u| u.user.email == link.email && u.disabled_at.is_none());
        if !matches
            || state
                .take_link(digest, LinkPurpose::ConfirmEmail, now)
                .is_none()
        {
            return Ok(None);
        }
        if let Some(stored) = state.users.get_mut(&link.user_id) {
            stored.user.email_confirmed_at = Some(whole_seconds(now));
        }
        Ok(Some(link.user_id))
    }

    async fn change_email(
        &self,
        digest: &TokenDigest,
        keep: Option<&TokenDigest>,
        now: OffsetDateTime,
    ) -> Result<Option<EmailChange>, StoreError> {
        let mut state = self.state();
        let Some(link) = state.links.get(digest).cloned() else {
            return Ok(None);
        };
        let live = link.purpose == LinkPurpose::ChangeEmail && link.expires_at > now;
        let enabled = state
            .users
            .get(&link.user_id)
            .is_some_and(|u| u.disabled_at.is_none());
        if !live || !enabled {
            return Ok(None);
        }
        if state.by_email.contains_key(&link.email) {
            return Err(StoreError::EmailTaken);
        }
        let user = link.user_id;
        state.links.retain(|_, l| l.user_id != user);
        let Some(stored) = state.users.get_mut(&user) else {
            return Ok(None);
        };
        let old = std::mem::replace(&mut stored.user.email, link.email.clone());
        stored.user.email_confirmed_at = Some(whole_seconds(now));
        state.by_email.remove(&old);
        state.by_email.insert(link.email.clone(), user);
        state
            .sessions
            .retain(|d, s| s.user_id != user || Some(d) == keep);
        Ok(Some(EmailChange {
            user_id: user,
            old,
            new: link.email,
        }))
    }
}

impl MailStore for MemoryStore {
    async fn enqueue_mail(&self, mail: &NewMail) -> Result<(), StoreError> {
        let mut state = self.state();
        state.next_mail_id += 1;
        let id = state.next_mail_id;
        let mut mail = mail.clone();
        mail.created_at = whole_seconds(mail.created_at);
        let due_at = mail.created_at;
        state.mail.insert(
            id,
            StoredMail {
                mail,
                attempts: 0,
                due_at,
            },
        );
        Ok(())
    }

    async fn claim_mail(
        &self,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<QueuedMail>, StoreError> {
        let mut state = self.state();
        Ok(state
            .mail
            .iter_mut()
            .filter(|(_, m)| m.due_at <= now)
            .take(limit as usize)
            .map(|(id, m)| {
                m.attempts += 1;
                m.due_at = whole_seconds(lease_until);
                QueuedMail {
                    id: *id,
                    mail: m.mail.clone(),
                    attempts: m.attempts,
                }
            })
            .collect())
    }

    async fn cancel_mail(&self, user: UserId, kind: MailKind) -> Result<u64, StoreError> {
        let mut state = self.state();
        let before = state.mail.len();
        state
            .mail
            .retain(|_, m| m.mail.user_id != Some(user) || m.mail.kind != kind);
        Ok((before - state.mail.len()) as u64)
    }

    async fn finish_mail(&self, id: i64) -> Result<(), StoreError> {
        self.state().mail.remove(&id);
        Ok(())
    }

    async fn retry_mail(&self, id: i64, at: OffsetDateTime) -> Result<(), StoreError> {
        if let Some(m) = self.state().mail.get_mut(&id) {
            m.due_at = whole_seconds(at);
        }
        Ok(())
    }
}

impl SecondFactorStore for MemoryStore {
    async fn set_totp_secret(
        &self,
        user: UserId,
        secret: &SealedTotpSecret,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let mut state = self.state();
        if !state.users.contains_key(&user) {
            return Err(StoreError::Backend("no such user".into()));
        }
        if state
            .totp
            .get(&user)
            .is_some_and(|t| t.enabled_at.is_some())
        {
            return Ok(false);
        }
        state.totp.insert(
            user,
            TotpRecord {
                secret: secret.clone(),
                created_at: whole_seconds(at),
                enabled_at: None,
                last_step: None,
            },
        );
        Ok(true)
    }

    async fn find_totp(&self, user: UserId) -> Result<Option<TotpRecord>, StoreError> {
        Ok(self.state().totp.get(&user).cloned())
    }

    async fn enable_totp(
        &self,
        user: UserId,
        step: u64,
        codes: &[StoredRecoveryCode],
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let mut state = self.state();
        let Some(totp) = state.totp.get_mut(&user).filter(|t| t.enabled_at.is_none()) else {
            return Ok(false);
        };
        totp.enabled_at = Some(whole_seconds(at));
        totp.last_step = Some(step);
        state.recovery_codes.insert(user, codes.to_vec());
        Ok(true)
    }

    async fn reseal_totp_secret(
        &self,
        user: UserId,
        old: &SealedTotpSecret,
        new: &SealedTotpSecret,
    ) -> Result<bool, StoreError> {
        let mut state = self.state();
        let Some(totp) = state.totp.get_mut(&user).filter(|t| t.secret == *old) else {
            return Ok(false);
        };
        totp.secret = new.clone();
        Ok(true)
    }

    async fn use_totp_step(&self, user: UserId, step: u64) -> Result<bool, StoreError> {
        let mut state = self.state();
        let Some(totp) = state.totp.get_mut(&user).filter(|t| t.enabled_at.is_some()) else {
            return Ok(false);
        };
        if totp.last_step.is_some_and(|last| last >= step) {
            return Ok(false);
        }
        totp.last_step = Some(step);
        Ok(true)
    }

    async fn remove_totp(&self, user: UserId) -> Result<bool, StoreError> {
        let mut state = self.state();
        state.recovery_codes.remove(&user);
        Ok(state.totp.remove(&user).is_some())
    }

    async fn replace_recovery_codes(
        &self,
        user: UserId,
        codes: &[StoredRecoveryCode],
    ) -> Result<bool, StoreError> {
        let mut state = self.state();
        if state.totp.get(&user).is_none_or(|t| t.enabled_at.is_none()) {
            return Ok(false);
        }
        state.recovery_codes.insert(user, codes.to_vec());
        Ok(true)
    }

    async fn use_recovery_code(
        &self,
        user: UserId,
        digest: &TokenDigest,
    ) -> Result<bool, StoreError> {
        let mut state = self.state();
        let Some(codes) = state.recovery_codes.get_mut(&user) else {
            return Ok(false);
        };
        let before = codes.len();
        codes.retain(|code| code.digest != *digest);
        Ok(codes.len() < before)
    }

    async fn recovery_code_salts(&self, user: UserId) -> Result<Vec<RecoverySalt>, StoreError> {
        let mut salts: Vec<RecoverySalt> = Vec::new();
        for code in self.state().recovery_codes.get(&user).into_iter().flatten() {
            if !salts.contains(&code.salt) {
                salts.push(code.salt.clone());
            }
        }
        Ok(salts)
    }

    async fn count_recovery_codes(&self, user: UserId) -> Result<u32, StoreError> {
        let count = self.state().recovery_codes.get(&user).map_or(0, Vec::len);
        Ok(u32::try_from(count).unwrap_or(u32::MAX))
    }

    async fn create_pending_sign_in(&self, pending: NewPendingSignIn) -> Result<(), StoreError> {
        let mut state = self.state();
        if !state.users.contains_key(&pending.user_id) {
            return Err(StoreError::Backend("no such user".into()));
        }
        state.pending_sign_ins.insert(
            pending.digest,
            PendingSignInRecord {
                user_id: pending.user_id,
                remember: pending.remember,
                created_at: whole_seconds(pending.created_at),
                expires_at: whole_seconds(pending.expires_at),
            },
        );
        Ok(())
    }

    async fn find_pending_sign_in(
        &self,
        digest: &TokenDigest,
    ) -> Result<Option<PendingSignInRecord>, StoreError> {
        Ok(self.state().pending_sign_ins.get(digest).cloned())
    }

    async fn delete_pending_sign_in(&self, digest: &TokenDigest) -> Result<bool, StoreError> {
        Ok(self.state().pending_sign_ins.remove(digest).is_some())
    }

    async fn delete_user_pending_sign_ins(&self, user: UserId) -> Result<u64, StoreError> {
        let mut state = self.state();
        let before = state.pending_sign_ins.len();
        state.pending_sign_ins.retain(|_, p| p.user_id != user);
        Ok((before - state.pending_sign_ins.len()) as u64)
    }

    async fn delete_expired_pending_sign_ins(
        &self,
        now: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        let mut state = self.state();
        let before = state.pending_sign_ins.len();
        state.pending_sign_ins.retain(|_, p| p.expires_at > now);
        Ok((before - state.pending_sign_ins.len()) as u64)
    }
}

impl PasskeyStore for MemoryStore {
    async fn user_handle(
        &self,
        user: UserId,
        candidate: UserHandle,
    ) -> Result<UserHandle, StoreError> {
        let mut state = self.state();
        if !state.users.contains_key(&user) {
            return Err(StoreError::Backend("no such user".into()));
        }
        Ok(*state.passkey_users.entry(user).or_insert(candidate))
    }

    async fn add_passkey(&self, passkey: NewPasskey, limit: u32) -> Result<AddPasskey, StoreError> {
        let mut state = self.state();
        if !state.users.contains_key(&passkey.user_id) {
            return Err(StoreError::Backend("no such user".into()));
        }
        let owned = state
            .passkeys
            .values()
            .filter(|p| p.user_id == passkey.user_id)
            .count();
        if owned >= limit as usize {
            return Ok(AddPasskey::TooMany);
        }
        if state
            .passkeys
            .values()
            .any(|p| p.credential_id == passkey.credential_id)
        {
            return Ok(AddPasskey::Duplicate);
        }
        state.next_passkey_id += 1;
        let id = PasskeyId::new(state.next_passkey_id);
        state.passkeys.insert(
            id,
            StoredPasskey {
                id,
                user_id: passkey.user_id,
                credential_id: passkey.credential_id,
                user_handle: passkey.user_handle,
                name: passkey.name,
                credential: passkey.credential,
                counter: 0,
                created_at: whole_seconds(passkey.created_at),
                last_used_at: None,
            },
        );
        Ok(AddPasskey::Added(id))
    }

    async fn list_passkeys(&self, user: UserId) -> Result<Vec<StoredPasskey>, StoreError> {
        Ok(self
            .state()
            .passkeys
            .values()
            .filter(|p| p.user_id == user)
            .cloned()
            .collect())
    }

    async fn count_passkeys(&self, user: UserId) -> Result<u32, StoreError> {
        let count = self
            .state()
            .passkeys
            .values()
            .filter(|p| p.user_id == user)
            .count();
        Ok(u32::try_from(count).unwrap_or(u32::MAX))
    }

    async fn find_passkey(
        &self,
        credential: &CredentialId,
    ) -> Result<Option<StoredPasskey>, StoreError> {
        Ok(self
            .state()
            .passkeys
            .values()
            .find(|p| &p.credential_id == credential)
            .cloned())
    }

    async fn use_passkey(
        &self,
        id: PasskeyId,
        counter: u32,
        credential: &[u8],
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let mut state = self.state();
        let Some(passkey) = state.passkeys.get_mut(&id) else {
            return Ok(false);
        };
        if !(counter > passkey.counter || (counter == 0 && passkey.counter == 0)) {
            return Ok(false);
        }
        passkey.counter = counter;
        passkey.credential = credential.to_vec();
        passkey.last_used_at = Some(whole_seconds(at));
        Ok(true)
    }

    async fn remove_passkey(&self, user: UserId, id: PasskeyId) -> Result<bool, StoreError> {
        let mut state = self.state();
        if state.passkeys.get(&id).is_none_or(|p| p.user_id != user) {
            return Ok(false);
        }
        Ok(state.passkeys.remove(&id).is_some())
    }

    async fn remove_passkeys(&self, user: UserId) -> Result<u64, StoreError> {
        let mut state = self.state();
        let before = state.passkeys.len();
        state.passkeys.retain(|_, p| p.user_id != user);
        Ok((before - state.passkeys.len()) as u64)
    }

    async fn create_ceremony(&self, ceremony: NewCeremony) -> Result<(), StoreError> {
        let mut record = ceremony.record;
        record.expires_at = whole_seconds(record.expires_at);
        self.state().ceremonies.insert(ceremony.digest, record);
        Ok(())
    }

    async fn take_ceremony(
        &self,
        digest: &TokenDigest,
        now: OffsetDateTime,
    ) -> Result<Option<CeremonyRecord>, StoreError> {
        let mut state = self.state();
        if state
            .ceremonies
            .get(digest)
            .is_none_or(|c| c.expires_at <= now)
        {
            return Ok(None);
        }
        Ok(state.ceremonies.remove(digest))
    }

    async fn delete_expired_ceremonies(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        let mut state = self.state();
        let before = state.ceremonies.len();
        state.ceremonies.retain(|_, c| c.expires_at > now);
        Ok((before - state.ceremonies.len()) as u64)
    }
}
