//! [`AuthService`]: registration, login, logout and session lookup.

use std::net::IpAddr;
use std::sync::Arc;

use time::{Duration, OffsetDateTime};

use crate::hash_pool::HashPool;
use crate::HashError;
use crate::{
    AccountEvent, AccountStore, Actor, AuthError, BcryptHasher, ClientInfo, Clock, DisplayName,
    Email, EventKind, EventStore, InputErrors, IssuedSession, LinkTokenStore, LoginActivity,
    MailKind, MailPolicy, MailStore, NewSession, NewUser, PasskeyStore, Password, PasswordError,
    PasswordHash, PasswordHasher, PasswordPolicy, SecondFactorStore, Session, SessionLength,
    SessionPolicy, SessionStore, SessionSummary, SessionToken, SystemClock, ThrottleKey,
    ThrottlePolicy, ThrottleState, ThrottleStore, TokenDigest, TotpKey, User, UserId, UserStore,
};

/// The hash unknown emails are verified against, made once, at first need.
async fn dummy_hash<'a>(
    cell: &'a tokio::sync::OnceCell<PasswordHash>,
    hashes: &HashPool,
) -> Result<&'a PasswordHash, HashError> {
    cell.get_or_try_init(|| hashes.hash(Password::normalize("dummy password for unknown accounts")))
        .await
}

/// How long account history is kept unless
/// [`AuthServiceBuilder::history_retention`] says otherwise: a year.
pub const DEFAULT_HISTORY_RETENTION: Duration = Duration::days(365);

/// What [`AuthService::purge_expired`] deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    /// Sessions past their idle or absolute timeout, and sign-ins that
    /// waited too long for their second factor.
    pub sessions: u64,
    /// Mailed links past their time.
    pub links: u64,
    /// Throttle records older than anything they still count.
    pub throttles: u64,
    /// History events older than
    /// [`AuthServiceBuilder::history_retention`].
    pub events: u64,
}

/// A throttle key an attempt counts against, with its limit and what a
/// successful check does to its count.
pub(crate) struct Counter {
    pub(crate) key: ThrottleKey,
    pub(crate) limit: u32,
    pub(crate) on_success: OnSuccess,
}

impl Counter {
    /// A key for requests that are only counted, never given back: they
    /// cost something whatever their outcome (a new account, a mail). They
    /// go through [`AuthService::reserve_attempts`] alone, with no check
    /// after whose success could release them, so `on_success` is moot.
    pub(crate) fn kept(key: ThrottleKey, limit: u32) -> Self {
        Self {
            key,
            limit,
            on_success: OnSuccess::Release,
        }
    }
}

#[derive(Clone, Copy)]
pub(crate) enum OnSuccess {
    /// Forget the record: the account's owner proved who they are.
    Clear,
    /// Give back this attempt's count only.
    Release,
}

/// What a password check found.
enum Verified {
    /// The password is the account's, and the account may log in.
    User(User),
    /// It is not: for this account, if one has the email.
    Refused(Option<UserId>),
}

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

/// A registration whose every field passed validation, as
/// [`Registration::validate`] returns it: the values a store's
/// [`NewUser`] is made of, before the password is hashed.
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
    history_retention: Duration,
    mail: MailPolicy,
    /// Seals authenticator-app secrets for the store; `None` keeps them as
    /// they are.
    totp_key: Option<TotpKey>,
    /// Wakes a worker waiting in [`AuthService::wait_for_mail`].
    mail_queued: tokio::sync::Notify,
    /// Verified against for unknown emails; made once, off the caller's
    /// thread (see [`AuthServiceBuilder::build`]).
    dummy_hash: Arc<tokio::sync::OnceCell<PasswordHash>>,
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
    history_retention: Duration,
    mail: MailPolicy,
    max_concurrent_hashes: usize,
    totp_key: Option<TotpKey>,
}

/// What an [`AuthService`]'s store must provide: every store trait. It is
/// implemented for every type that implements them all; name it in bounds
/// (`S: AuthStore`) rather than listing the nine.
pub trait AuthStore:
    UserStore
    + SessionStore
    + ThrottleStore
    + AccountStore
    + EventStore
    + LinkTokenStore
    + MailStore
    + SecondFactorStore
    + PasskeyStore
{
}

impl<S> AuthStore for S where
    S: UserStore
        + SessionStore
        + ThrottleStore
        + AccountStore
        + EventStore
        + LinkTokenStore
        + MailStore
        + SecondFactorStore
        + PasskeyStore
{
}

impl<S: AuthStore> AuthServiceBuilder<S> {
    /// The password hasher (default: [`BcryptHasher`] at cost 12).
    pub fn hasher(mut self, hasher: impl PasswordHasher) -> Self {
        self.hasher = Arc::new(hasher);
        self
    }

    /// The key that seals authenticator-app secrets before the store keeps
    /// them (default: none, and the store keeps them as they are, readable
    /// by anyone with a copy of the database). Secrets kept without a key
    /// are still read when one is given; sealed ones need the same key
    /// (see [`TotpKey`]).
    pub fn totp_key(mut self, key: TotpKey) -> Self {
        self.totp_key = Some(key);
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

    /// How long account history is kept before
    /// [`AuthService::purge_expired`] deletes it (default:
    /// [`DEFAULT_HISTORY_RETENTION`]).
    pub fn history_retention(mut self, retention: Duration) -> Self {
        self.history_retention = retention;
        self
    }

    /// How long mailed links work and how undelivered mail is retried
    /// (default: [`MailPolicy::default`]).
    pub fn mail_policy(mut self, policy: MailPolicy) -> Self {
        self.mail = policy;
        self
    }

    /// How many hashes may run at once (default: the number of CPU cores).
    /// More would only make each one slower and take CPU from everything
    /// else; further logins wait their turn.
    pub fn max_concurrent_hashes(mut self, limit: usize) -> Self {
        self.max_concurrent_hashes = limit.max(1);
        self
    }

    /// Builds the service. Cheap: nothing is hashed yet. The dummy hash
    /// that unknown emails are verified against (one hash's time, about
    /// 0.25 s at cost 12) is made at the first login that needs it, or
    /// ahead of time by [`AuthService::warm_up`].
    pub fn build(self) -> Result<AuthService<S>, AuthError> {
        Ok(AuthService {
            inner: Arc::new(Inner {
                store: self.store,
                hashes: HashPool::new(self.hasher, self.max_concurrent_hashes),
                clock: self.clock,
                sessions: self.sessions,
                passwords: self.passwords,
                throttle: self.throttle,
                history_retention: self.history_retention,
                mail: self.mail,
                totp_key: self.totp_key,
                mail_queued: tokio::sync::Notify::new(),
                dummy_hash: Arc::default(),
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
            history_retention: DEFAULT_HISTORY_RETENTION,
            mail: MailPolicy::default(),
            max_concurrent_hashes: std::thread::available_parallelism().map_or(2, usize::from),
            totp_key: None,
        }
    }

    /// Starts making the dummy hash in the background, on the blocking
    /// pool, so that the first login for an unknown email does not wait for
    /// it. A server calls it at start-up; a command-line tool that logs
    /// nobody in does not, and spends no hash. Must be called inside a
    /// tokio runtime.
    pub fn warm_up(&self) {
        let (cell, hashes) = (
            Arc::clone(&self.inner.dummy_hash),
            self.inner.hashes.clone(),
        );
        tokio::spawn(async move {
            // A failure here is retried, and reported, at first use.
            let _ = dummy_hash(&cell, &hashes).await;
        });
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

    /// How long mailed links work, and the mail queue's retries.
    pub fn mail_policy(&self) -> &MailPolicy {
        &self.inner.mail
    }

    /// The key sealing authenticator-app secrets, if the service has one.
    pub(crate) fn totp_key(&self) -> Option<&TotpKey> {
        self.inner.totp_key.as_ref()
    }

    /// Woken whenever this service queues a mail.
    pub(crate) fn mail_queued(&self) -> &tokio::sync::Notify {
        &self.inner.mail_queued
    }

    /// The rules for new passwords in force.
    pub fn password_policy(&self) -> &PasswordPolicy {
        &self.inner.passwords
    }

    /// Creates an account and logs it in, and queues a mail with a link
    /// confirming its address.
    ///
    /// Every field is checked and every problem reported at once in
    /// [`AuthError::InvalidInput`]. The password is hashed before the insert,
    /// so a taken email costs as much time as a new one; the database decides
    /// uniqueness, giving [`AuthError::EmailTaken`]. Not throttled; use
    /// [`AuthService::register_from`] when the client's address is known.
    pub async fn register(&self, form: Registration<'_>) -> Result<IssuedSession, AuthError> {
        self.register_from(form, None).await
    }

    /// [`AuthService::register`], limited to
    /// [`ThrottlePolicy::registration_limit`] attempts per client address
    /// and window. A form with invalid fields costs no hash and is not
    /// counted; every valid one is, whether its email was free or not.
    /// Past the limit the answer is [`AuthError::Throttled`], with the time
    /// until the window ends.
    pub async fn register_from(
        &self,
        form: Registration<'_>,
        client: impl Into<ClientInfo>,
    ) -> Result<IssuedSession, AuthError> {
        let client = client.into();
        let user = self.create_account(form, client.addr).await?;
        self.record(user.id, EventKind::Registered, Actor::Owner, &client)
            .await?;
        self.queue_mail(MailKind::ConfirmEmail, Some(&user), None)
            .await?;
        self.start_session(user, client, SessionLength::Browser)
            .await
    }

    /// Creates an account without logging it in (an operator's tool, an
    /// import), with the checks and the per-address limit of
    /// [`AuthService::register_from`]; pass `None` for `client` when no
    /// visitor is behind the call.
    pub async fn create_account(
        &self,
        form: Registration<'_>,
        client: Option<IpAddr>,
    ) -> Result<User, AuthError> {
        let ValidRegistration {
            email,
            name,
            password,
        } = form.validate(&self.inner.passwords)?;
        let policy = &self.inner.throttle;
        let keys: Vec<_> = client
            .map(|ip| Counter::kept(ThrottleKey::registrations(ip), policy.registration_limit))
            .into_iter()
            .collect();
        self.reserve_attempts(&keys, policy.registration_window)
            .await?;
        let password_hash = self.inner.hashes.hash(password).await?;
        Ok(self
            .inner
            .store
            .create_user(NewUser {
                email,
                name,
                password_hash,
                created_at: self.now(),
            })
            .await?)
    }

    /// The account with `id`, if there is one.
    pub async fn find_user(&self, id: UserId) -> Result<Option<User>, AuthError> {
        Ok(self.inner.store.find_user(id).await?)
    }

    /// The account registered with `email` (compared as normalised), if
    /// there is one. For operators' tools: a login form must not use it,
    /// since telling "no such account" from "wrong password" is what
    /// [`AuthService::login`] is careful not to do.
    pub async fn find_user_by_email(&self, email: &str) -> Result<Option<User>, AuthError> {
        let Ok(email) = Email::parse(email) else {
            return Ok(None);
        };
        Ok(self
            .inner
            .store
            .find_credentials(&email)
            .await?
            .map(|credentials| credentials.user))
    }

    /// Ends one of `user`'s sessions, named by its
    /// [`handle`](crate::TokenDigest::handle) (as a page listing
    /// [`AuthService::list_sessions`] shows it), and records it in the
    /// history from `client`. `false` if `user` has no such session: the
    /// handle of someone else's session ends nothing.
    pub async fn revoke_session(
        &self,
        user: UserId,
        handle: &str,
        client: impl Into<ClientInfo>,
    ) -> Result<bool, AuthError> {
        let sessions = self.inner.store.list_user_sessions(user).await?;
        let Some(session) = sessions.iter().find(|s| s.digest.handle() == handle) else {
            return Ok(false);
        };
        self.end_recorded(
            user,
            &session.digest,
            EventKind::SessionRevoked,
            client.into(),
        )
        .await
    }

    /// Checks an email and password and, if they match, starts a new session
    /// with a new token (never reusing one, so a token planted before login
    /// is worthless after it). Throttled per account only; use
    /// [`AuthService::login_from`] when the client's address is known.
    pub async fn login(&self, email: &str, password: &str) -> Result<IssuedSession, AuthError> {
        self.login_from(email, password, None).await
    }

    /// [`AuthService::login_from`] for a session of `length`:
    /// [`SessionLength::Remembered`] when the user ticked "remember me".
    /// An account with a second factor is [`AuthError::SecondFactorRequired`]
    /// even with the right password: sign it in with
    /// [`AuthService::sign_in`].
    pub async fn login_with(
        &self,
        email: &str,
        password: &str,
        client: impl Into<ClientInfo>,
        length: SessionLength,
    ) -> Result<IssuedSession, AuthError> {
        let client = client.into();
        let (user, second_factor) = self.password_step(email, password, &client).await?;
        if second_factor {
            return Err(AuthError::SecondFactorRequired);
        }
        self.record(user.id, EventKind::Login, Actor::Owner, &client)
            .await?;
        self.start_session(user, client, length).await
    }

    /// The first step of every login: the fields are not blank, and the
    /// password is the account's, within the login throttle. With whether
    /// the account has a second factor.
    pub(crate) async fn password_step(
        &self,
        email: &str,
        password: &str,
        client: &ClientInfo,
    ) -> Result<(User, bool), AuthError> {
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
        let keys = self.login_keys(email.as_ref(), client.addr);
        self.checked(&keys, email.as_ref(), password, client).await
    }

    /// [`AuthService::login`], also throttled per client address.
    ///
    /// A blank field is [`AuthError::InvalidInput`]. Each attempt is counted
    /// against the account and the address *before* its password is checked,
    /// so simultaneous guesses cannot outrun the limits: an attempt past a
    /// limit, or while the account or the address is locked after too many
    /// failures, is [`AuthError::Throttled`] (the right password included)
    /// and costs no hash. Everything else that fails is
    /// [`AuthError::InvalidCredentials`], whether the account exists or not.
    /// A success clears the account's count and gives the address back its
    /// one attempt (an attacker must not reset an address's count by
    /// logging into an account of their own).
    /// The session lasts until the browser closes
    /// ([`SessionLength::Browser`]); see [`AuthService::login_with`] for
    /// "remember me".
    pub async fn login_from(
        &self,
        email: &str,
        password: &str,
        client: impl Into<ClientInfo>,
    ) -> Result<IssuedSession, AuthError> {
        self.login_with(email, password, client, SessionLength::Browser)
            .await
    }

    /// Adds an event to `user`'s history, at the clock's time.
    pub(crate) async fn record(
        &self,
        user: UserId,
        kind: EventKind,
        actor: Actor,
        client: &ClientInfo,
    ) -> Result<(), AuthError> {
        let event = AccountEvent {
            user_id: user,
            kind,
            at: self.now(),
            actor,
            client: client.clone(),
        };
        Ok(self.inner.store.record_event(&event).await?)
    }

    /// `user`'s previous login and the failed attempts since, from the
    /// last 100 events of the history.
    pub async fn login_activity(&self, user: UserId) -> Result<LoginActivity, AuthError> {
        Ok(LoginActivity::from_history(&self.history(user, 100).await?))
    }

    /// The `limit` most recent events of `user`'s history, newest first.
    pub async fn history(&self, user: UserId, limit: u32) -> Result<Vec<AccountEvent>, AuthError> {
        Ok(self.inner.store.list_events(user, limit).await?)
    }

    /// Verifies `password` for `email` within the login throttle of `keys`:
    /// reserves an attempt on each key, checks, then settles the keys by the
    /// outcome. A wrong password for an existing account is recorded in its
    /// history, from `client`. With the account, whether it has a second
    /// factor: then a right password only gives its own attempt back, and
    /// the failures counted so far (wrong codes among them) stay until the
    /// second factor succeeds, so knowing the password buys no fresh
    /// guesses at the code.
    pub(crate) async fn checked(
        &self,
        keys: &[Counter],
        email: Option<&Email>,
        password: &str,
        client: &ClientInfo,
    ) -> Result<(User, bool), AuthError> {
        let window = self.inner.throttle.window;
        let reserved = self.reserve_attempts(keys, window).await?;
        match self.verify(email, password).await? {
            Verified::User(user) => {
                let second_factor = self.has_second_factor(user.id).await?;
                self.settle_success(keys, !second_factor).await?;
                Ok((user, second_factor))
            }
            Verified::Refused(account) => {
                self.lock_exhausted(keys, &reserved).await?;
                if let Some(id) = account {
                    self.record(id, EventKind::LoginFailed, Actor::Owner, client)
                        .await?;
                }
                Err(AuthError::InvalidCredentials)
            }
        }
    }

    /// The account `email` names if `password` is its password and it is not
    /// disabled. An unknown email is checked against the dummy hash, and a
    /// disabled account's hash is checked too, so each takes as long as a
    /// wrong password and fails the same way.
    async fn verify(&self, email: Option<&Email>, password: &str) -> Result<Verified, AuthError> {
        let password = Password::normalize(password);
        let Some(email) = email else {
            return Ok(Verified::Refused(None));
        };
        let credentials = self.inner.store.find_credentials(email).await?;
        // No stored password is longer than the policy allows.
        if password.len_chars() > PasswordPolicy::MAX_CHARS {
            return Ok(Verified::Refused(credentials.map(|c| c.user.id)));
        }
        let stored_hash = match &credentials {
            Some(credentials) => credentials.password_hash.clone(),
            None => dummy_hash(&self.inner.dummy_hash, &self.inner.hashes)
                .await?
                .clone(),
        };
        let matches = self
            .inner
            .hashes
            .verify(password.clone(), stored_hash)
            .await?;
        let Some(credentials) = credentials else {
            return Ok(Verified::Refused(None));
        };
        if !matches || credentials.disabled_at.is_some() {
            return Ok(Verified::Refused(Some(credentials.user.id)));
        }
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
        Ok(Verified::User(credentials.user))
    }

    pub(crate) fn login_keys(&self, email: Option<&Email>, client: Option<IpAddr>) -> Vec<Counter> {
        let policy = &self.inner.throttle;
        let account = email.map(|email| Counter {
            key: ThrottleKey::account(email),
            limit: policy.account_limit,
            on_success: OnSuccess::Clear,
        });
        let address = client.map(|ip| Counter {
            key: ThrottleKey::address(ip),
            limit: policy.address_limit,
            on_success: OnSuccess::Release,
        });
        account.into_iter().chain(address).collect()
    }

    /// Counts one attempt against every key, in the store, before anything
    /// is checked. If any key is locked or has no attempt left in its
    /// window, the attempts just counted are given back and the answer is
    /// [`AuthError::Throttled`] with the longest wait.
    pub(crate) async fn reserve_attempts(
        &self,
        keys: &[Counter],
        window: Duration,
    ) -> Result<Vec<ThrottleState>, AuthError> {
        let now = self.now();
        let store = &self.inner.store;
        let mut reserved = Vec::with_capacity(keys.len());
        for Counter { key, limit, .. } in keys {
            let state = store.reserve_attempt(key, now, now - window).await?;
            if let Some(retry_after) = state.refusal(now, *limit, window) {
                // A locked key counted nothing; every other one did.
                if state.retry_after(now).is_none() {
                    store.release_attempt(key).await?;
                }
                for counter in &keys[..reserved.len()] {
                    store.release_attempt(&counter.key).await?;
                }
                return Err(AuthError::Throttled { retry_after });
            }
            reserved.push(state);
        }
        Ok(reserved)
    }

    /// After a successful check: gives each key's attempt back, and clears
    /// the keys that a success clears (the account's) if `clear`.
    pub(crate) async fn settle_success(
        &self,
        keys: &[Counter],
        clear: bool,
    ) -> Result<(), AuthError> {
        let store = &self.inner.store;
        for counter in keys {
            match (counter.on_success, clear) {
                (OnSuccess::Clear, true) => store.clear_throttle(&counter.key).await?,
                _ => store.release_attempt(&counter.key).await?,
            }
        }
        Ok(())
    }

    /// After a failed check: locks each key whose attempt was its window's
    /// last, for longer after each consecutive lock.
    pub(crate) async fn lock_exhausted(
        &self,
        keys: &[Counter],
        reserved: &[ThrottleState],
    ) -> Result<(), AuthError> {
        let now = self.now();
        let policy = &self.inner.throttle;
        for (Counter { key, limit, .. }, state) in keys.iter().zip(reserved) {
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
        let mut times = record.times;
        if times.has_ended(now) {
            self.inner.store.delete_session(&digest).await?;
            return Ok(None);
        }
        if now - times.last_seen_at >= self.inner.sessions.touch_interval() {
            self.inner.store.touch_session(&digest, now).await?;
            times.last_seen_at = now;
        }
        Ok(Some(Session {
            user: record.user,
            times,
        }))
    }

    /// Whether `session` must have its password entered again
    /// ([`AuthService::reauthenticate`]) before a sensitive action: the
    /// last entry is [`SessionPolicy::reauthenticate_after`] old or more. A
    /// remembered session of last month has its cookie, not its owner's
    /// recent word.
    pub fn needs_reauthentication(&self, session: &Session) -> bool {
        self.now() - session.times.authenticated_at >= self.inner.sessions.reauthenticate_after
    }

    /// Ends the session `token` names without recording anything: for a
    /// browser that logs in again, whose old session the new one replaces.
    /// `false` if there was no such session.
    pub async fn end_session(&self, token: &SessionToken) -> Result<bool, AuthError> {
        Ok(self.inner.store.delete_session(&token.digest()).await?)
    }

    /// Ends the session `token` names, everywhere: the token stops working
    /// even if it was copied. Recorded in the account's history, from
    /// `client`. `false` if there was no such session.
    pub async fn logout(
        &self,
        token: &SessionToken,
        client: impl Into<ClientInfo>,
    ) -> Result<bool, AuthError> {
        let digest = token.digest();
        let Some(record) = self.inner.store.find_session(&digest).await? else {
            return Ok(false);
        };
        self.end_recorded(record.user.id, &digest, EventKind::Logout, client.into())
            .await
    }

    /// Deletes the session filed under `digest` and records `kind` in
    /// `user`'s history, once: of several requests ending one session at
    /// the same moment, only the one whose delete found it records it.
    async fn end_recorded(
        &self,
        user: UserId,
        digest: &TokenDigest,
        kind: EventKind,
        client: ClientInfo,
    ) -> Result<bool, AuthError> {
        if !self.inner.store.delete_session(digest).await? {
            return Ok(false);
        }
        self.record(user, kind, Actor::Owner, &client).await?;
        Ok(true)
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
        let mut sessions = self.inner.store.list_user_sessions(user).await?;
        sessions.retain(|s| !s.times.has_ended(now));
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
        client: impl Into<ClientInfo>,
    ) -> Result<u64, AuthError> {
        let client = client.into();
        let user = self.reauthenticate(token, password, &client).await?;
        let ended = self.revoke_sessions(user.id, Some(token)).await?;
        if ended > 0 {
            self.record(user.id, EventKind::SessionsEnded, Actor::Owner, &client)
                .await?;
        }
        Ok(ended)
    }

    /// Checks the password of the token's account again, and records it as
    /// the session's latest password entry (so
    /// [`AuthService::needs_reauthentication`] is `false` for a while).
    /// Throttled like a login, per account: a wrong password counts, and is
    /// recorded as a failed login from `client`, so a stolen session cannot
    /// be used to guess the password quickly. Returns the account.
    pub async fn reauthenticate(
        &self,
        token: &SessionToken,
        password: &str,
        client: impl Into<ClientInfo>,
    ) -> Result<User, AuthError> {
        let client = client.into();
        let user = self
            .authenticate(token)
            .await?
            .ok_or(AuthError::InvalidCredentials)?
            .user;
        let keys = self.login_keys(Some(&user.email), None);
        let (user, _) = self
            .checked(&keys, Some(&user.email), password, &client)
            .await?;
        self.inner
            .store
            .record_authentication(&token.digest(), self.now())
            .await?;
        Ok(user)
    }

    /// Deletes the token's account, after checking its password again (so a
    /// stolen session cannot), with every session and its whole history:
    /// nothing of the account is left in the store, and its email can be
    /// registered again. A wrong password counts against the account's
    /// login throttle. Returns the deleted account's id, for the caller's
    /// log.
    pub async fn delete_own_account(
        &self,
        token: &SessionToken,
        password: &str,
        client: impl Into<ClientInfo>,
    ) -> Result<UserId, AuthError> {
        let user = self.reauthenticate(token, password, client).await?;
        self.inner.store.delete_user(user.id).await?;
        Ok(user.id)
    }

    /// Changes the password of the session's account after checking the
    /// current one, ends every other session of the account (someone
    /// who learnt the old password is logged out) and every link mailed for
    /// it (a pending address change too), and mails a notice to its
    /// address. A wrong current password
    /// counts against the account's login throttle, so a stolen session
    /// cannot be used to guess it quickly.
    pub async fn change_password(
        &self,
        token: &SessionToken,
        current: &str,
        new: &str,
        client: impl Into<ClientInfo>,
    ) -> Result<(), AuthError> {
        let client = client.into();
        let user = self.reauthenticate(token, current, &client).await?;
        let new = self.new_password_for(&user, new)?;
        let hash = self.inner.hashes.hash(new).await?;
        self.inner
            .store
            .update_password_hash(user.id, &hash)
            .await?;
        self.revoke_sessions(user.id, Some(token)).await?;
        self.drop_outstanding_requests(user.id).await?;
        self.record(user.id, EventKind::PasswordChanged, Actor::Owner, &client)
            .await?;
        self.queue_mail(MailKind::PasswordChanged, Some(&user), None)
            .await
    }

    /// Deletes ended sessions, expired links, throttle records that no longer matter and
    /// history past its retention; run it now and then to keep the tables
    /// small. Returns how many of each were deleted.
    pub async fn purge_expired(&self) -> Result<Purged, AuthError> {
        let now = self.now();
        let store = &self.inner.store;
        let sessions = store.delete_expired_sessions(now).await?
            + store.delete_expired_pending_sign_ins(now).await?
            + store.delete_expired_ceremonies(now).await?;
        let links = store.delete_expired_link_tokens(now).await?;
        // Keep records through a whole lock, so the doubling is remembered,
        // and through a whole registration window.
        let stale = now - self.inner.throttle.retention();
        let throttles = store.delete_stale_throttles(stale).await?;
        let events = store
            .delete_events_before(now - self.inner.history_retention)
            .await?;
        Ok(Purged {
            sessions,
            links,
            throttles,
            events,
        })
    }

    /// `raw` as `user`'s new password, if it passes the policy (which also
    /// refuses the account's own email and name).
    pub(crate) fn new_password_for(&self, user: &User, raw: &str) -> Result<Password, AuthError> {
        self.inner
            .passwords
            .check(raw, &[user.email.as_str(), user.name.as_str()])
            .map_err(|e| {
                InputErrors {
                    password: Some(e),
                    ..InputErrors::default()
                }
                .into()
            })
    }

    /// Hashes a new password on the bounded blocking pool.
    pub(crate) async fn hash(&self, password: Password) -> Result<PasswordHash, HashError> {
        self.inner.hashes.hash(password).await
    }

    /// Whether the hasher can verify `hash` (an import checks this).
    pub(crate) fn can_verify(&self, hash: &PasswordHash) -> bool {
        self.inner.hashes.can_verify(hash)
    }

    /// The limits on failed logins in force.
    pub fn throttle_policy(&self) -> &ThrottlePolicy {
        &self.inner.throttle
    }

    pub(crate) async fn start_session(
        &self,
        user: User,
        client: ClientInfo,
        length: SessionLength,
    ) -> Result<IssuedSession, AuthError> {
        let token = SessionToken::generate()?;
        let now = self.now();
        let (idle_timeout, absolute_timeout) = self.inner.sessions.timeouts(length);
        let expires_at = now + absolute_timeout;
        self.inner
            .store
            .create_session(NewSession {
                digest: token.digest(),
                user_id: user.id,
                created_at: now,
                expires_at,
                idle_timeout,
                client,
            })
            .await?;
        Ok(IssuedSession {
            user,
            token,
            created_at: now,
            expires_at,
            length,
        })
    }
}
