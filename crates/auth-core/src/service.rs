//! [`AuthService`]: registration, login, logout and session lookup.

use std::sync::Arc;

use time::OffsetDateTime;

use crate::hash_pool::HashPool;
use crate::{
    AuthError, BcryptHasher, Clock, DisplayName, Email, InputErrors, IssuedSession, NewSession,
    NewUser, Password, PasswordError, PasswordHash, PasswordHasher, PasswordPolicy, Session,
    SessionPolicy, SessionStore, SessionToken, SystemClock, User, UserId, UserStore,
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
    dummy_hash: PasswordHash,
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
    max_concurrent_hashes: usize,
}

impl<S: UserStore + SessionStore> AuthServiceBuilder<S> {
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

    /// How many hashes may run at once (default: the number of CPU cores).
    /// More would only make each one slower and take CPU from everything
    /// else; further logins wait their turn.
    pub fn max_concurrent_hashes(mut self, limit: usize) -> Self {
        self.max_concurrent_hashes = limit.max(1);
        self
    }

    /// Builds the service. This computes the dummy hash used for unknown
    /// emails, which takes one hash's time (about 0.25 s at cost 12).
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
                dummy_hash,
            }),
        })
    }
}

impl<S: UserStore + SessionStore> AuthService<S> {
    /// Starts configuring a service over `store`.
    pub fn builder(store: S) -> AuthServiceBuilder<S> {
        AuthServiceBuilder {
            store,
            hasher: Arc::new(BcryptHasher::default()),
            clock: Arc::new(SystemClock),
            sessions: SessionPolicy::default(),
            passwords: PasswordPolicy::default(),
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
        let email = Email::parse(form.email);
        let name = DisplayName::parse(form.name);
        let password = self
            .inner
            .passwords
            .check(form.password, &[form.email, form.name]);
        let (email, name, password) = match (email, name, password) {
            (Ok(email), Ok(name), Ok(password)) => (email, name, password),
            (email, name, password) => {
                return Err(InputErrors {
                    email: email.err(),
                    name: name.err(),
                    password: password.err(),
                }
                .into())
            }
        };
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
    /// is worthless after it).
    ///
    /// A blank field is [`AuthError::InvalidInput`]; everything else that
    /// fails is [`AuthError::InvalidCredentials`], whether the account exists
    /// or not.
    pub async fn login(&self, email: &str, password: &str) -> Result<IssuedSession, AuthError> {
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
        let password = Password::normalize(password);
        // No stored password is longer than the policy allows, and bcrypt
        // would compare only its first 72 bytes: refuse rather than truncate.
        if password.len_bytes() > self.inner.passwords.max_bytes() {
            return Err(AuthError::InvalidCredentials);
        }
        let Ok(email) = Email::parse(email) else {
            return Err(AuthError::InvalidCredentials);
        };
        let credentials = self.inner.store.find_credentials(&email).await?;
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
            return Err(AuthError::InvalidCredentials);
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
        self.start_session(credentials.user).await
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

    /// Changes the password of the session's account after checking the
    /// current one, and ends every other session of the account (someone
    /// who learnt the old password is logged out).
    pub async fn change_password(
        &self,
        token: &SessionToken,
        current: &str,
        new: &str,
    ) -> Result<(), AuthError> {
        let user = self
            .authenticate(token)
            .await?
            .ok_or(AuthError::InvalidCredentials)?
            .user;
        let new = self
            .inner
            .passwords
            .check(new, &[user.email.as_str(), user.name.as_str()])
            .map_err(|e| InputErrors {
                password: Some(e),
                ..InputErrors::default()
            })?;
        let credentials = self
            .inner
            .store
            .find_credentials(&user.email)
            .await?
            .ok_or(AuthError::InvalidCredentials)?;
        let current = Password::normalize(current);
        if current.len_bytes() > self.inner.passwords.max_bytes()
            || !self
                .inner
                .hashes
                .verify(current, credentials.password_hash)
                .await?
        {
            return Err(AuthError::InvalidCredentials);
        }
        let hash = self.inner.hashes.hash(new).await?;
        self.inner
            .store
            .update_password_hash(user.id, &hash)
            .await?;
        self.revoke_sessions(user.id, Some(token)).await?;
        Ok(())
    }

    /// Deletes sessions that have ended; run it now and then to keep the
    /// table small. Returns how many were deleted.
    pub async fn purge_expired_sessions(&self) -> Result<u64, AuthError> {
        let now = self.now();
        Ok(self
            .inner
            .store
            .delete_expired_sessions(now, now - self.inner.sessions.idle_timeout)
            .await?)
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
            expires_at,
        })
    }
}
