//! [`AuthService`]: registration, login, logout and session lookup.

use std::net::IpAddr;
use std::sync::Arc;

use time::OffsetDateTime;

use crate::hash_pool::HashPool;
use crate::{
    AuthError, BcryptHasher, Clock, DisplayName, Email, InputErrors, IssuedSession, NewSession,
    NewUser, Password, PasswordError, PasswordHash, PasswordHasher, PasswordPolicy, Session,
    SessionPolicy, SessionStore, SessionSummary, SessionToken, SystemClock, ThrottleKey,
    ThrottlePolicy, ThrottleStore, User, UserId, UserStore,
};

/// What a registration form carries.
#[derive(Clone, Copy)]
pub struct Registration<'a> {
    /// The email as typed.
    pub email: &'a str,
    /// The display name as typed.
    pub name: &'a str,
    /// The new password as typed.
    pub password: &'a str,
}

/// A registration whose every field passed validation.
#[derive(Debug)]
pub struct ValidRegistration {
    /// The normalised email.
    pub email: Email,
    /// The trimmed name.
    pub name: DisplayName,
    /// The normalised password, ready to hash.
    pub password: Password,
}

impl Registration<'_> {
    /// Checks every field at once, the password against `policy` and
    /// against the email and name typed with it.
    ///
    /// ```
    /// use auth_core::{PasswordPolicy, Registration};
    ///
    /// let form = Registration { email: "Ada@Example.com", name: " Ada ", password: "short" };
    /// let errors = form.validate(&PasswordPolicy::default()).unwrap_err();
    /// assert!(errors.email.is_none() && errors.name.is_none());
    /// assert_eq!(errors.password.unwrap().to_string(), "Use at least 8 characters for your password.");
    /// ```
    pub fn validate(&self, policy: &PasswordPolicy) -> Result<ValidRegistration, InputErrors> {
        let email = Email::parse(self.email);
        let name = DisplayName::parse(self.name);
        let password = policy.check(self.password, &[self.email, self.name]);
        match (email, name, password) {
            (Ok(email), Ok(name), Ok(password)) => Ok(ValidRegistration {
                email,
                name,
                password,
            }),
            (email, name, password) => Err(InputErrors {
                email: email.err(),
                name: name.err(),
                password: password.err(),
            }),
        }
    }
}

impl std::fmt::Debug for Registration<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registration")
            .field("email", &self.email)
            .field("name", &self.name)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// Accounts and sessions over a store `S`: the whole authentication flow
/// without any web framework. Cloning is cheap and clones share everything.
///
/// Every password hash and verification runs on a blocking thread, at most
/// [`AuthServiceBuilder::max_concurrent_hashes`] at once. A login for an
/// unknown email verifies against a dummy hash of the same cost, so it takes
/// as long as a wrong password for a real account and returns the same
/// [`AuthError::InvalidCredentials`].
pub struct AuthService<S> {
    inner: Arc<Inner<S>>,
}

struct Inner<S> {
    store: S,
    hashes: HashPool,
    clock: Arc<dyn Clock>,
    sessions: SessionPolicy,
    passwords: PasswordPolicy,
    throttle: ThrottlePolicy,
    dummy_hash: PasswordHash,
}

/// Shows the policies in force, not the store or the hasher.
impl<S> std::fmt::Debug for AuthService<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthService")
            .field("sessions", &self.inner.sessions)
            .field("passwords", &self.inner.passwords)
            .field("throttle", &self.inner.throttle)
            .finish_non_exhaustive()
    }
}

impl<S> Clone for AuthService<S> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

/// Configures an [`AuthService`]; made by [`AuthService::builder`].
pub struct AuthServiceBuilder<S> {
    store: S,
    hasher: Arc<dyn PasswordHasher>,
    clock: Arc<dyn Clock>,
    sessions: SessionPolicy,
    passwords: PasswordPolicy,
    throttle: ThrottlePolicy,
    max_concurrent_hashes: usize,
}

/// What an [`AuthService`]'s store must provide.
pub trait AuthStore: UserStore + SessionStore + ThrottleStore {}

impl<S: UserStore + SessionStore + ThrottleStore> AuthStore for S {}

impl<S: AuthStore> AuthServiceBuilder<S> {
    /// The password hasher (default: [`BcryptHasher`] at cost 12).
    pub fn hasher(mut self, hasher: impl PasswordHasher) -> Self {
        self.hasher = Arc::new(hasher);
        self
    }

    /// The clock (default: [`SystemClock`]).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Session lifetimes (default: [`SessionPolicy::default`]).
    pub fn session_policy(mut self, policy: SessionPolicy) -> Self {
        self.sessions = policy;
        self
    }

    /// Rules for new passwords (default: [`PasswordPolicy::default`]).
    pub fn password_policy(mut self, policy: PasswordPolicy) -> Self {
        self.passwords = policy;
        self
    }

    /// Limits on failed logins (default: [`ThrottlePolicy::default`]).
    pub fn throttle_policy(mut self, policy: ThrottlePolicy) -> Self {
        self.throttle = policy;
        self
    }

    /// How many hashes may run at once (default: the number of CPU cores).
    /// More would only make each one slower and take CPU from everything
    /// else; further logins wait their turn.
    pub fn max_concurrent_hashes(mut self, limit: usize) -> Self {
        self.max_concurrent_hashes = limit.max(1);
        self
    }

    /// Builds the service. This computes the dummy hash used for unknown
    /// emails, synchronously, on the calling thread: one hash's time (about
    /// 0.25 s at cost 12). Call it once at start-up; from inside an async
    /// runtime that must not stall, wrap it in `tokio::task::spawn_blocking`.
    pub fn build(self) -> Result<AuthService<S>, AuthError> {
        let dummy_hash = self
            .hasher
            .hash(&Password::normalize("dummy password for unknown accounts"))?;
        Ok(AuthService {
            inner: Arc::new(Inner {
                store: self.store,
                hashes: HashPool::new(self.hasher, self.max_concurrent_hashes),
                clock: self.clock,
                sessions: self.sessions,
                passwords: self.passwords,
                throttle: self.throttle,
                dummy_hash,
            }),
        })
    }
}

impl<S: AuthStore> AuthService<S> {
    /// Starts configuring a service over `store`.
    pub fn builder(store: S) -> AuthServiceBuilder<S> {
        AuthServiceBuilder {
            store,
            hasher: Arc::new(BcryptHasher::default()),
            clock: Arc::new(SystemClock),
            sessions: SessionPolicy::default(),
            passwords: PasswordPolicy::default(),
            throttle: ThrottlePolicy::default(),
            max_concurrent_hashes: std::thread::available_parallelism().map_or(2, usize::from),
        }
    }

    /// The store the service works on.
    pub fn store(&self) -> &S {
        &self.inner.store
    }

    /// The current time by the service's clock.
    pub fn now(&self) -> OffsetDateTime {
        self.inner.clock.now()
    }

    /// The session lifetimes in force.
    pub fn session_policy(&self) -> &SessionPolicy {
        &self.inner.sessions
    }

    /// The rules for new passwords in force.
    pub fn password_policy(&self) -> &PasswordPolicy {
        &self.inner.passwords
    }

    /// Creates an account and logs it in.
    ///
    /// Every field is checked and every problem reported at once in
    /// [`AuthError::InvalidInput`]. The password is hashed before the insert,
    /// so a taken email costs as much time as a new one; the database decides
    /// uniqueness, giving [`AuthError::EmailTaken`].
    pub async fn register(&self, form: Registration<'_>) -> Result<IssuedSession, AuthError> {
        let ValidRegistration {
            email,
            name,
            password,
        } = form.validate(&self.inner.passwords)?;
        let password_hash = self.inner.hashes.hash(password).await?;
        let user = self
            .inner
            .store
            .create_user(NewUser {
                email,
                name,
                password_hash,
                created_at: self.now(),
            })
            .await?;
        self.start_session(user).await
    }

    /// Checks an email and password and, if they match, starts a new session
    /// with a new token (never reusing one, so a token planted before login
    /// is worthless after it). Throttled per account only; use
    /// [`AuthService::login_from`] when the client's address is known.
    pub async fn login(&self, email: &str, password: &str) -> Result<IssuedSession, AuthError> {
        self.login_from(email, password, None).await
    }

    /// [`AuthService::login`], also throttled per client address.
    ///
    /// A blank field is [`AuthError::InvalidInput`]. While the account or
    /// the address is locked after too many failures, every attempt, the
    /// right password included, is [`AuthError::Throttled`] and costs no
    /// hash. Everything else that fails is [`AuthError::InvalidCredentials`],
    /// whether the account exists or not, and counts as a failure for both.
    /// A success clears the account's count (not the address's: an attacker
    /// must not reset it by logging into an account of their own).
    pub async fn login_from(
        &self,
        email: &str,
        password: &str,
        client: Option<IpAddr>,
    ) -> Result<IssuedSession, AuthError> {
        let blank = InputErrors {
            email: email
                .trim()
                .is_empty()
                .then_some(crate::EmailError::Missing),
            password: password.is_empty().then_some(PasswordError::Missing),
            ..InputErrors::default()
        };
        if !blank.is_empty() {
            return Err(blank.into());
        }
        let email = Email::parse(email).ok();
        let keys = self.throttle_keys(email.as_ref(), client);
        self.check_throttles(&keys).await?;
        match self.verify(email.as_ref(), password).await? {
            Some(user) => {
                if let Some(email) = &email {
                    let key = ThrottleKey::account(email);
                    self.inner.store.clear_throttle(&key).await?;
                }
                self.start_session(user).await
            }
            None => {
                self.count_failure(&keys).await?;
                Err(AuthError::InvalidCredentials)
            }
        }
    }

    /// The account `email` names if `password` is its password. An unknown
    /// email is checked against the dummy hash, so it takes as long.
    async fn verify(
        &self,
        email: Option<&Email>,
        password: &str,
    ) -> Result<Option<User>, AuthError> {
        let password = Password::normalize(password);
        // No stored password is longer than the policy allows, and bcrypt
        // would compare only its first 72 bytes: refuse rather than truncate.
        let Some(email) =
            email.filter(|_| password.len_bytes() <= self.inner.passwords.max_bytes())
        else {
            return Ok(None);
        };
        let credentials = self.inner.store.find_credentials(email).await?;
        let stored_hash = credentials
            .as_ref()
            .map_or(&self.inner.dummy_hash, |c| &c.password_hash)
            .clone();
        let matches = self
            .inner
            .hashes
            .verify(password.clone(), stored_hash)
            .await?;
        let Some(credentials) = credentials.filter(|_| matches) else {
            return Ok(None);
        };
        if self.inner.hashes.needs_rehash(&credentials.password_hash) {
            // Upgrading to the configured cost is best effort: if it fails,
            // the next login tries again, and this one still succeeds.
            if let Ok(hash) = self.inner.hashes.hash(password).await {
                let _ = self
                    .inner
                    .store
                    .update_password_hash(credentials.user.id, &hash)
                    .await;
            }
        }
        Ok(Some(credentials.user))
    }

    fn throttle_keys(
        &self,
        email: Option<&Email>,
        client: Option<IpAddr>,
    ) -> Vec<(ThrottleKey, u32)> {
        let policy = &self.inner.throttle;
        email
            .map(|email| (ThrottleKey::account(email), policy.account_limit))
            .into_iter()
            .chain(client.map(|ip| (ThrottleKey::address(ip), policy.address_limit)))
            .collect()
    }

    /// Refuses the attempt if any key is locked, saying for how long.
    async fn check_throttles(&self, keys: &[(ThrottleKey, u32)]) -> Result<(), AuthError> {
        let now = self.now();
        let mut retry_after = None;
        for (key, _) in keys {
            if let Some(state) = self.inner.store.throttle_state(key).await? {
                retry_after = retry_after.max(state.retry_after(now));
            }
        }
        match retry_after {
            Some(retry_after) => Err(AuthError::Throttled { retry_after }),
            None => Ok(()),
        }
    }

    /// Counts a failure against every key, locking those at their limit.
    async fn count_failure(&self, keys: &[(ThrottleKey, u32)]) -> Result<(), AuthError> {
        let now = self.now();
        let policy = &self.inner.throttle;
        for (key, limit) in keys {
            let state = self
                .inner
                .store
                .record_failure(key, now, now - policy.window)
                .await?;
            if state.failures >= *limit {
                // A window's quiet after the last lock resets the doubling.
                let previous = if now >= state.locked_until + policy.window {
                    0
                } else {
                    state.lockouts
                };
                let until = now + policy.lockout_after(previous);
                self.inner.store.lock(key, now, until, previous + 1).await?;
            }
        }
        Ok(())
    }

    /// The live session `token` names, if any. A session past its idle or
    /// absolute timeout is deleted and reported as `None`; a live one has its
    /// last-use time refreshed (at most once per
    /// [`SessionPolicy::touch_interval`]).
    pub async fn authenticate(&self, token: &SessionToken) -> Result<Option<Session>, AuthError> {
        let digest = token.digest();
        let Some(record) = self.inner.store.find_session(&digest).await? else {
            return Ok(None);
        };
        let now = self.now();
        let policy = &self.inner.sessions;
        if policy.is_expired(now, record.last_seen_at, record.expires_at) {
            self.inner.store.delete_session(&digest).await?;
            return Ok(None);
        }
        let mut last_seen_at = record.last_seen_at;
        if now - last_seen_at >= policy.touch_interval() {
            self.inner.store.touch_session(&digest, now).await?;
            last_seen_at = now;
        }
        Ok(Some(Session {
            user: record.user,
            created_at: record.created_at,
            last_seen_at,
            expires_at: record.expires_at,
        }))
    }

    /// Ends the session `token` names, everywhere: the token stops working
    /// even if it was copied. `false` if there was no such session.
    pub async fn logout(&self, token: &SessionToken) -> Result<bool, AuthError> {
        Ok(self.inner.store.delete_session(&token.digest()).await?)
    }

    /// Ends every session of `user`, except `keep` if given ("log out
    /// everywhere else"). Returns how many ended.
    pub async fn revoke_sessions(
        &self,
        user: UserId,
        keep: Option<&SessionToken>,
    ) -> Result<u64, AuthError> {
        let keep = keep.map(SessionToken::digest);
        Ok(self
            .inner
            .store
            .delete_user_sessions(user, keep.as_ref())
            .await?)
    }

    /// The live sessions of `user`, most recently used first.
    pub async fn list_sessions(&self, user: UserId) -> Result<Vec<SessionSummary>, AuthError> {
        let now = self.now();
        let policy = &self.inner.sessions;
        let mut sessions = self.inner.store.list_user_sessions(user).await?;
        sessions.retain(|s| !policy.is_expired(now, s.last_seen_at, s.expires_at));
        Ok(sessions)
    }

    /// Ends every session of the token's account except this one, after
    /// checking the account's password again (so a stolen session cannot
    /// lock its owner out). Returns how many ended. A wrong password counts
    /// against the account's login throttle.
    pub async fn revoke_other_sessions(
        &self,
        token: &SessionToken,
        password: &str,
    ) -> Result<u64, AuthError> {
        let user = self.reauthenticate(token, password).await?;
        self.revoke_sessions(user.id, Some(token)).await
    }

    /// The token's account, if `password` is its password; throttled like a
    /// login.
    async fn reauthenticate(
        &self,
        token: &SessionToken,
        password: &str,
    ) -> Result<User, AuthError> {
        let user = self
            .authenticate(token)
            .await?
            .ok_or(AuthError::InvalidCredentials)?
            .user;
        let keys = self.throttle_keys(Some(&user.email), None);
        self.check_throttles(&keys).await?;
        if self.verify(Some(&user.email), password).await?.is_none() {
            self.count_failure(&keys).await?;
            return Err(AuthError::InvalidCredentials);
        }
        Ok(user)
    }

    /// Changes the password of the session's account after checking the
    /// current one, and ends every other session of the account (someone
    /// who learnt the old password is logged out). A wrong current password
    /// counts against the account's login throttle, so a stolen session
    /// cannot be used to guess it quickly.
    pub async fn change_password(
        &self,
        token: &SessionToken,
        current: &str,
        new: &str,
    ) -> Result<(), AuthError> {
        let user = self.reauthenticate(token, current).await?;
        let new = self
            .inner
            .passwords
            .check(new, &[user.email.as_str(), user.name.as_str()])
            .map_err(|e| InputErrors {
                password: Some(e),
                ..InputErrors::default()
            })?;
        let hash = self.inner.hashes.hash(new).await?;
        self.inner
            .store
            .update_password_hash(user.id, &hash)
            .await?;
        self.revoke_sessions(user.id, Some(token)).await?;
        Ok(())
    }

    /// Deletes ended sessions and throttle records that no longer matter;
    /// run it now and then to keep the tables small. Returns how many
    /// sessions and throttle records were deleted.
    pub async fn purge_expired(&self) -> Result<(u64, u64), AuthError> {
        let now = self.now();
        let store = &self.inner.store;
        let sessions = store
            .delete_expired_sessions(now, now - self.inner.sessions.idle_timeout)
            .await?;
        let throttle = &self.inner.throttle;
        // Keep records through a whole lock, so the doubling is remembered.
        let stale = now - throttle.window - throttle.max_lockout;
        let throttles = store.delete_stale_throttles(stale).await?;
        Ok((sessions, throttles))
    }

    /// The limits on failed logins in force.
    pub fn throttle_policy(&self) -> &ThrottlePolicy {
        &self.inner.throttle
    }

    async fn start_session(&self, user: User) -> Result<IssuedSession, AuthError> {
        let token = SessionToken::generate().map_err(AuthError::Random)?;
        let now = self.now();
        let expires_at = now + self.inner.sessions.absolute_timeout;
        self.inner
            .store
            .create_session(NewSession {
                digest: token.digest(),
                user_id: user.id,
                created_at: now,
                expires_at,
            })
            .await?;
        Ok(IssuedSession {
            user,
            token,
            created_at: now,
            expires_at,
        })
    }
}
