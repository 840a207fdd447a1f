//! The ports a persistence layer implements. `auth-store` provides SQLite and
//! PostgreSQL implementations; the `memory` feature provides one in memory.
//!
//! Every method returns a `Send` future, so a service built on these traits
//! can run on a multi-threaded executor.
//!
//! Rules every implementation keeps (`auth-store`'s `testkit` checks each):
//!
//! - **Times are whole seconds.** A store may drop the sub-second part of
//!   any time it is given, and must give back exactly what it kept.
//! - **Text round-trips exactly:** names and emails come back byte for byte.
//! - **Each method is one atomic step**, whatever runs at the same moment:
//!   concurrent registrations of one email create one account; concurrent
//!   attempts on one throttle key each count; a touch never moves a
//!   session's last use backwards.
//! - **Nothing is acknowledged before it is durable:** when a method returns
//!   `Ok`, what it wrote survives the process ending at once.

use std::future::Future;

use thiserror::Error;
use time::{Duration, OffsetDateTime};

use crate::{
    AccountEvent, CeremonyRecord, ClientInfo, CredentialId, DisplayName, Email, LinkPurpose,
    MailKind, NewPasskey, PasskeyId, PasswordHash, RecoverySalt, SealedTotpSecret, SessionTimes,
    StoredPasskey, StoredRecoveryCode, ThrottleKey, ThrottleState, TokenDigest, User, UserHandle,
    UserId,
};

/// A boxed error from a store's driver.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What went wrong in a store.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The email is already registered: the store's uniqueness rule on the
    /// normalised email refused the new account.
    #[error("email already registered")]
    EmailTaken,
    /// The database could not be reached or is overloaded (connection lost,
    /// pool timed out, database locked). Worth retrying later.
    #[error("database unavailable")]
    Unavailable(#[source] BoxError),
    /// The database refused or failed the operation for another reason.
    #[error("database error")]
    Backend(#[source] BoxError),
    /// A stored value does not satisfy the domain's rules.
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
}

/// An account about to be created.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// The normalised email; the store keeps it unique.
    pub email: Email,
    /// The display name.
    pub name: DisplayName,
    /// The password's hash.
    pub password_hash: PasswordHash,
    /// When the account is created.
    pub created_at: OffsetDateTime,
}

/// An account together with its password hash: what a login needs.
#[derive(Debug, Clone)]
pub struct UserCredentials {
    /// The account.
    pub user: User,
    /// Its current password hash.
    pub password_hash: PasswordHash,
    /// When an operator disabled it, if it is disabled: it may not log in.
    pub disabled_at: Option<OffsetDateTime>,
}

/// An account as an operator sees it: its state and activity, never its
/// password hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountSummary {
    /// The account.
    pub user: User,
    /// When it was disabled, if it is disabled.
    pub disabled_at: Option<OffsetDateTime>,
    /// Its most recent [`EventKind::Login`](crate::EventKind::Login) still
    /// in its history.
    pub last_login_at: Option<OffsetDateTime>,
    /// How many of its sessions are live at the time the caller gave.
    pub live_sessions: u64,
}

/// A session about to be created. Its `last_seen_at` and
/// `authenticated_at` start at `created_at`.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// The digest of the token the client will hold.
    pub digest: TokenDigest,
    /// Whose session it is.
    pub user_id: UserId,
    /// When it is created.
    pub created_at: OffsetDateTime,
    /// When it ends however busy it is.
    pub expires_at: OffsetDateTime,
    /// How long it may go unused (whole seconds).
    pub idle_timeout: Duration,
    /// The client that logged in, kept to show the account's owner.
    pub client: ClientInfo,
}

/// A stored session with its account, as one lookup returns it.
#[derive(Debug, Clone)]
pub struct SessionRecord {
    /// Whose session it is.
    pub user: User,
    /// Its times.
    pub times: SessionTimes,
}

/// One of an account's sessions, as listed for its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionSummary {
    /// The session's digest (to tell the current one apart).
    pub digest: TokenDigest,
    /// Its times.
    pub times: SessionTimes,
    /// The client that logged in.
    pub client: ClientInfo,
}

/// Accounts. Times are kept to whole seconds.
pub trait UserStore: Send + Sync {
    /// Creates an account, returning it with its new id. An email that is
    /// already registered gives [`StoreError::EmailTaken`], decided by the
    /// database itself so that concurrent registrations of one email create
    /// exactly one account.
    fn create_user(&self, user: NewUser) -> impl Future<Output = Result<User, StoreError>> + Send;

    /// The account registered with `email`, with its password hash.
    fn find_credentials(
        &self,
        email: &Email,
    ) -> impl Future<Output = Result<Option<UserCredentials>, StoreError>> + Send;

    /// The account with `id`.
    fn find_user(
        &self,
        id: UserId,
    ) -> impl Future<Output = Result<Option<User>, StoreError>> + Send;

    /// Replaces an account's password hash. `false` if there is no such account.
    fn update_password_hash(
        &self,
        id: UserId,
        hash: &PasswordHash,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// Server-side sessions, filed under the digest of their token.
pub trait SessionStore: Send + Sync {
    /// Records a new session. A session for an account that does not exist
    /// is refused with an error (SQL stores refuse it by foreign key, as
    /// [`StoreError::Backend`]) and nothing is stored.
    fn create_session(
        &self,
        session: NewSession,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The session filed under `digest`, with its account, in one lookup.
    /// Expired sessions are returned too: the caller applies the policy.
    /// A session of a disabled account is never returned, so one created
    /// while the account was being disabled opens nothing.
    fn find_session(
        &self,
        digest: &TokenDigest,
    ) -> impl Future<Output = Result<Option<SessionRecord>, StoreError>> + Send;

    /// Every session of `user`, most recently used first. Ended sessions not
    /// yet purged are included: the caller applies the policy.
    fn list_user_sessions(
        &self,
        user: UserId,
    ) -> impl Future<Output = Result<Vec<SessionSummary>, StoreError>> + Send;

    /// Records that the session was used at `at`. Only ever moves
    /// `last_seen_at` forward: a touch with an earlier time than the one
    /// stored (two requests racing) changes nothing. `created_at` is never
    /// changed; an unknown digest is not an error.
    fn touch_session(
        &self,
        digest: &TokenDigest,
        at: OffsetDateTime,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Deletes one session. `false` if there was none.
    fn delete_session(
        &self,
        digest: &TokenDigest,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Deletes every session of `user`, except the one filed under `keep` if
    /// given. Returns how many were deleted.
    fn delete_user_sessions(
        &self,
        user: UserId,
        keep: Option<&TokenDigest>,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Records that the account's password was entered again in the
    /// session at `at`; never moves `authenticated_at` backwards. `false` if
    /// there is no such session.
    fn record_authentication(
        &self,
        digest: &TokenDigest,
        at: OffsetDateTime,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Deletes every session that ended by `now`: past `expires_at`, or
    /// unused since `now` minus its own idle timeout. Returns how many were
    /// deleted.
    fn delete_expired_sessions(
        &self,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;
}

/// What an operator does to accounts. Times are kept to whole seconds.
pub trait AccountStore: Send + Sync {
    /// Up to `limit` accounts with ids above `after` (all, if `None`), in
    /// increasing id order: page through every account by passing the last
    /// id of each page as the next `after`. A session counts as live if it
    /// has not ended at `now` (see [`SessionTimes::has_ended`]).
    fn list_accounts(
        &self,
        after: Option<UserId>,
        limit: u32,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<Vec<AccountSummary>, StoreError>> + Send;

    /// The account with `id`, summarised as by
    /// [`list_accounts`](AccountStore::list_accounts).
    fn account_summary(
        &self,
        id: UserId,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<Option<AccountSummary>, StoreError>> + Send;

    /// Marks an enabled account disabled since `at`. `false` if there is no
    /// such account or it was already disabled (its time is kept).
    fn disable_user(
        &self,
        id: UserId,
        at: OffsetDateTime,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Enables a disabled account. `false` if there is no such account or it
    /// was not disabled.
    fn enable_user(&self, id: UserId) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Deletes the account, its sessions and its history, in one
    /// transaction. `false` if there was no such account. Its email can be
    /// registered again at once.
    fn delete_user(&self, id: UserId) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// Accounts' histories. Events of one account are returned newest first;
/// two events of the same second come back in the reverse of the order
/// they were recorded.
pub trait EventStore: Send + Sync {
    /// Records one event. The account need not exist any more (an
    /// [`EventKind::Deleted`](crate::EventKind::Deleted) event outlives it).
    fn record_event(
        &self,
        event: &AccountEvent,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The `limit` most recent events of `user`, newest first.
    fn list_events(
        &self,
        user: UserId,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<AccountEvent>, StoreError>> + Send;

    /// Deletes every event from before `before`. Returns how many.
    fn delete_events_before(
        &self,
        before: OffsetDateTime,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;
}

/// Attempt counters for throttling, shared by every instance through the
/// database. Each operation must be one atomic step in the database: two
/// instances reserving an attempt for the same key at the same moment must
/// count two, and see two different counts.
pub trait ThrottleStore: Send + Sync {
    /// The key's record, if it has one.
    fn throttle_state(
        &self,
        key: &ThrottleKey,
    ) -> impl Future<Output = Result<Option<ThrottleState>, StoreError>> + Send;

    /// Counts one attempt at `now`, before it is checked, and returns the
    /// record as this attempt left it:
    ///
    /// - a key locked at `now` (`locked_until > now`) is left as it is, and
    ///   its record returned unchanged;
    /// - a new key, or one whose window began at or before `window_cutoff`,
    ///   counts one in a window beginning at `now` (lock fields kept);
    /// - otherwise its count goes up by one.
    ///
    /// The caller decides from the returned count whether the attempt may
    /// be checked; concurrent callers must each see their own count.
    fn reserve_attempt(
        &self,
        key: &ThrottleKey,
        now: OffsetDateTime,
        window_cutoff: OffsetDateTime,
    ) -> impl Future<Output = Result<ThrottleState, StoreError>> + Send;

    /// Gives back one attempt reserved by
    /// [`reserve_attempt`](ThrottleStore::reserve_attempt) (its check
    /// succeeded, or it was refused without a check). The count never goes
    /// below zero; a key without a record is left alone.
    fn release_attempt(
        &self,
        key: &ThrottleKey,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Locks the key until `until`, recording `lockouts` consecutive locks
    /// and starting a new, empty window at `now` (a count of zero). A key
    /// without a record is left alone.
    fn lock(
        &self,
        key: &ThrottleKey,
        now: OffsetDateTime,
        until: OffsetDateTime,
        lockouts: u32,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Forgets the key (after a successful login). An unknown key is not an
    /// error.
    fn clear_throttle(
        &self,
        key: &ThrottleKey,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Deletes records whose window began and whose lock ended before
    /// `before`. Returns how many were deleted.
    fn delete_stale_throttles(
        &self,
        before: OffsetDateTime,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;
}

/// A link token about to be stored.
#[derive(Debug, Clone)]
pub struct NewLinkToken {
    /// The digest of the token the link carries.
    pub digest: TokenDigest,
    /// Whose account it acts on.
    pub user_id: UserId,
    /// What it does.
    pub purpose: LinkPurpose,
    /// The address it was sent to: for a reset or a confirmation the
    /// account's address at the time (the link dies if it changes), for an
    /// address change the new address.
    pub email: Email,
    /// When it was made.
    pub created_at: OffsetDateTime,
    /// When it stops working.
    pub expires_at: OffsetDateTime,
}

/// A stored link token, as [`LinkTokenStore::find_link_token`] returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkTokenRecord {
    /// Whose account it acts on.
    pub user_id: UserId,
    /// What it does.
    pub purpose: LinkPurpose,
    /// The address it was sent to.
    pub email: Email,
    /// When it was made.
    pub created_at: OffsetDateTime,
    /// When it stops working.
    pub expires_at: OffsetDateTime,
}

/// What [`LinkTokenStore::change_email`] changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailChange {
    /// The account.
    pub user_id: UserId,
    /// Its address before.
    pub old: Email,
    /// Its address now.
    pub new: Email,
}

/// The single-use secrets of links sent by mail, filed under their
/// digest. Redeeming one is a single transaction that deletes it and makes
/// its change, so of two requests with one token at the same moment, on
/// one instance or several, exactly one wins; a token whose account's
/// address changed since it was sent redeems nothing.
pub trait LinkTokenStore: Send + Sync {
    /// Stores a token, deleting every other token of the same account and
    /// purpose in the same step: only the newest link works, and of two
    /// stored at the same moment only one does.
    fn create_link_token(
        &self,
        token: NewLinkToken,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The token filed under `digest` for `purpose`, expired or not (the
    /// caller applies the time).
    fn find_link_token(
        &self,
        digest: &TokenDigest,
        purpose: LinkPurpose,
    ) -> impl Future<Output = Result<Option<LinkTokenRecord>, StoreError>> + Send;

    /// Deletes `user`'s tokens of `purpose` (all purposes if `None`).
    /// Returns how many.
    fn delete_link_tokens(
        &self,
        user: UserId,
        purpose: Option<LinkPurpose>,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Deletes every token that expired by `now`. Returns how many.
    fn delete_expired_link_tokens(
        &self,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Redeems a [`LinkPurpose::PasswordReset`] token live at `now`, in one
    /// transaction: deletes it, sets the account's password hash (only if
    /// its address is still the one the link was sent to and it is not
    /// disabled), ends every session of the account and deletes all its
    /// other link tokens (an address change asked for with the old password
    /// must not outlive it). The account, or `None` if the token was
    /// unknown, expired, already used, its address changed or the account
    /// is disabled (then nothing changes).
    fn reset_password(
        &self,
        digest: &TokenDigest,
        hash: &PasswordHash,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<Option<UserId>, StoreError>> + Send;

    /// Redeems a [`LinkPurpose::ConfirmEmail`] token live at `now`, in one
    /// transaction: deletes it and marks the account's address confirmed at
    /// `now`, if it is still the address the link was sent to and the
    /// account is not disabled. `None` (and nothing changes) otherwise.
    fn confirm_email(
        &self,
        digest: &TokenDigest,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<Option<UserId>, StoreError>> + Send;

    /// Redeems a [`LinkPurpose::ChangeEmail`] token live at `now`, in one
    /// transaction: deletes it, makes its address the account's (confirmed
    /// at `now`), deletes the account's other link tokens, and ends every
    /// session of the account except `keep`. An address another account
    /// took meanwhile is [`StoreError::EmailTaken`] and changes nothing.
    /// `None` if the token was unknown, expired or used, or the account is
    /// disabled.
    fn change_email(
        &self,
        digest: &TokenDigest,
        keep: Option<&TokenDigest>,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<Option<EmailChange>, StoreError>> + Send;
}

/// A mail about to be queued. What it says is worked out when it is sent,
/// from the account as it is then: the queue holds no secret, and a link is
/// made only for a mail that goes out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMail {
    /// Which mail.
    pub kind: MailKind,
    /// The account it concerns; `None` for a reset asked for by address
    /// (the account is looked up when it is sent, so the request does the
    /// same work whether or not the address is registered).
    pub user_id: Option<UserId>,
    /// The address concerned: the one a reset was asked for, the new
    /// address of an address change, the old one of a notice of it.
    pub email: Option<Email>,
    /// When it was asked for.
    pub created_at: OffsetDateTime,
}

/// A queued mail, as a worker claims it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedMail {
    /// Its place in the queue.
    pub id: i64,
    /// What was queued.
    pub mail: NewMail,
    /// How many times it has been claimed, this claim included.
    pub attempts: u32,
}

/// The outgoing mail queue, shared by every instance through the database.
pub trait MailStore: Send + Sync {
    /// Queues a mail, due at once.
    fn enqueue_mail(&self, mail: &NewMail) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Claims up to `limit` mails due at `now`, oldest first, in one atomic
    /// step: each claimed mail counts one more attempt and is not due again
    /// until `lease_until`, so two workers (on one instance or several)
    /// never claim the same mail at once.
    fn claim_mail(
        &self,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<QueuedMail>, StoreError>> + Send;

    /// Removes a mail from the queue (sent, or given up).
    fn finish_mail(&self, id: i64) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Removes `user`'s queued mail of `kind` that no worker has sent yet
    /// (an address change asked for before the password changed). Returns
    /// how many.
    fn cancel_mail(
        &self,
        user: UserId,
        kind: MailKind,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Makes a claimed mail due again at `at`.
    fn retry_mail(
        &self,
        id: i64,
        at: OffsetDateTime,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// An account's authenticator-app secret, as
/// [`SecondFactorStore::find_totp`] returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotpRecord {
    /// The shared secret, as the service sealed it.
    pub secret: SealedTotpSecret,
    /// When it was made (a waiting secret is only good for a while).
    pub created_at: OffsetDateTime,
    /// When a code from it first confirmed it; `None` while it waits for
    /// that (it is not yet asked for at sign-in).
    pub enabled_at: Option<OffsetDateTime>,
    /// The last time step whose code was accepted (none is accepted twice).
    pub last_step: Option<u64>,
}

/// A sign-in waiting for its second factor: the password was right, no
/// session exists yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPendingSignIn {
    /// The digest of the token the browser holds for it.
    pub digest: TokenDigest,
    /// The account signing in.
    pub user_id: UserId,
    /// Whether the session, once issued, is remembered.
    pub remember: bool,
    /// When the password was checked.
    pub created_at: OffsetDateTime,
    /// When it stops working.
    pub expires_at: OffsetDateTime,
}

/// A stored [`NewPendingSignIn`], as
/// [`SecondFactorStore::find_pending_sign_in`] returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingSignInRecord {
    /// The account signing in.
    pub user_id: UserId,
    /// Whether the session, once issued, is remembered.
    pub remember: bool,
    /// When the password was checked.
    pub created_at: OffsetDateTime,
    /// When it stops working.
    pub expires_at: OffsetDateTime,
}

impl PendingSignInRecord {
    /// The length of the session the sign-in issues, as the password step
    /// asked.
    pub fn session_length(&self) -> crate::SessionLength {
        match self.remember {
            true => crate::SessionLength::Remembered,
            false => crate::SessionLength::Browser,
        }
    }
}

/// Second factors: an account's authenticator-app secret, its recovery
/// codes (kept as salted digests, [`StoredRecoveryCode`]), and sign-ins
/// waiting for one of them. Every
/// one-time secret is used up in one atomic step, so of two requests with
/// one code at the same moment, on one instance or several, exactly one
/// wins.
pub trait SecondFactorStore: Send + Sync {
    /// Keeps `secret` for `user`, waiting for a code to confirm it,
    /// replacing an earlier one that still waits. `false`, and nothing
    /// changes, if the account already has one enabled. The bytes are kept
    /// as they are: sealing is the service's.
    fn set_totp_secret(
        &self,
        user: UserId,
        secret: &SealedTotpSecret,
        at: OffsetDateTime,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// `user`'s secret, enabled or waiting.
    fn find_totp(
        &self,
        user: UserId,
    ) -> impl Future<Output = Result<Option<TotpRecord>, StoreError>> + Send;

    /// Enables the waiting secret in one transaction: marks it enabled at
    /// `at` with `step` as its last accepted step, and replaces the
    /// account's recovery codes with `codes`. `false`, and nothing changes,
    /// if no secret waits.
    fn enable_totp(
        &self,
        user: UserId,
        step: u64,
        codes: &[StoredRecoveryCode],
        at: OffsetDateTime,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Replaces `user`'s secret, kept as `old`, with `new` (the same secret
    /// sealed), if it is still `old`: `false`, and nothing changes, if it
    /// was replaced or removed meanwhile. Nothing else of the row changes.
    fn reseal_totp_secret(
        &self,
        user: UserId,
        old: &SealedTotpSecret,
        new: &SealedTotpSecret,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Accepts `step` for `user`'s enabled secret if it is later than the
    /// last accepted one, recording it, in one atomic step: `true` for
    /// exactly one of any number of simultaneous calls with one step.
    fn use_totp_step(
        &self,
        user: UserId,
        step: u64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Deletes `user`'s secret (enabled or waiting) and recovery codes.
    /// `false` if there was no secret.
    fn remove_totp(&self, user: UserId) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Replaces the recovery codes of `user`'s enabled secret with `codes`,
    /// in one transaction that first takes the secret's row, so that of
    /// simultaneous replacements one runs after the other and exactly one
    /// set remains. `false`, and nothing changes, if the account has no
    /// enabled secret (it was turned off meanwhile).
    fn replace_recovery_codes(
        &self,
        user: UserId,
        codes: &[StoredRecoveryCode],
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// The salts of `user`'s unused recovery codes, each once: a typed code
    /// is checked against its digest under each.
    fn recovery_code_salts(
        &self,
        user: UserId,
    ) -> impl Future<Output = Result<Vec<RecoverySalt>, StoreError>> + Send;

    /// Uses up the recovery code with `digest` of `user`: `true` for
    /// exactly one of any number of simultaneous calls with one code.
    fn use_recovery_code(
        &self,
        user: UserId,
        digest: &TokenDigest,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// How many unused recovery codes `user` has.
    fn count_recovery_codes(
        &self,
        user: UserId,
    ) -> impl Future<Output = Result<u32, StoreError>> + Send;

    /// Records a sign-in waiting for its second factor.
    fn create_pending_sign_in(
        &self,
        pending: NewPendingSignIn,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The waiting sign-in filed under `digest`, expired or not (the
    /// caller applies the time).
    fn find_pending_sign_in(
        &self,
        digest: &TokenDigest,
    ) -> impl Future<Output = Result<Option<PendingSignInRecord>, StoreError>> + Send;

    /// Deletes the waiting sign-in: `true` for exactly one of any number of
    /// simultaneous calls, so only one of them goes on to a session.
    fn delete_pending_sign_in(
        &self,
        digest: &TokenDigest,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Deletes `user`'s waiting sign-ins (their password changed, or the
    /// second factor went). Returns how many.
    fn delete_user_pending_sign_ins(
        &self,
        user: UserId,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Deletes every waiting sign-in that expired by `now`. Returns how
    /// many.
    fn delete_expired_pending_sign_ins(
        &self,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;
}

/// Passkeys, and the ceremonies waiting for a browser's answer. Every
/// one-time thing is used up in one atomic step: of simultaneous calls
/// taking one ceremony, or recording one signature counter, exactly one
/// wins, on one instance or several.
pub trait PasskeyStore: Send + Sync {
    /// Adds `passkey` unless its account has `limit` passkeys
    /// ([`AddPasskey::TooMany`], checked first) or its credential id is
    /// registered already (to any account: [`AddPasskey::Duplicate`]), in
    /// one transaction that holds the account's row, so simultaneous
    /// additions never pass the limit.
    fn add_passkey(
        &self,
        passkey: NewPasskey,
        limit: u32,
    ) -> impl Future<Output = Result<AddPasskey, StoreError>> + Send;

    /// `user`'s WebAuthn user handle: the one kept for it, or else
    /// `candidate`, kept from now on. Of simultaneous calls for one account,
    /// all get the same handle.
    fn user_handle(
        &self,
        user: UserId,
        candidate: UserHandle,
    ) -> impl Future<Output = Result<UserHandle, StoreError>> + Send;

    /// `user`'s passkeys, oldest first.
    fn list_passkeys(
        &self,
        user: UserId,
    ) -> impl Future<Output = Result<Vec<StoredPasskey>, StoreError>> + Send;

    /// How many passkeys `user` has.
    fn count_passkeys(&self, user: UserId) -> impl Future<Output = Result<u32, StoreError>> + Send;

    /// The passkey with `credential`, whoever's it is.
    fn find_passkey(
        &self,
        credential: &CredentialId,
    ) -> impl Future<Output = Result<Option<StoredPasskey>, StoreError>> + Send;

    /// Records a sign-in with passkey `id`: its new `counter` and
    /// `credential` record, used at `at`, in one atomic step, but only if
    /// `counter` is above the stored one, or both are 0 (an authenticator
    /// that keeps no counter). `false`, and nothing changes, otherwise: of
    /// simultaneous uses with one counter value, exactly one is `true`.
    fn use_passkey(
        &self,
        id: PasskeyId,
        counter: u32,
        credential: &[u8],
        at: OffsetDateTime,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Deletes `user`'s passkey `id`; `false` if it has none such.
    fn remove_passkey(
        &self,
        user: UserId,
        id: PasskeyId,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Deletes all of `user`'s passkeys. Returns how many.
    fn remove_passkeys(&self, user: UserId)
        -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Records a ceremony waiting for the browser's answer.
    fn create_ceremony(
        &self,
        ceremony: NewCeremony,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Deletes the ceremony filed under `digest` and returns it, if it had
    /// not expired by `now`: of simultaneous calls, at most one gets it.
    fn take_ceremony(
        &self,
        digest: &TokenDigest,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<Option<CeremonyRecord>, StoreError>> + Send;

    /// Deletes every ceremony that expired by `now`. Returns how many.
    fn delete_expired_ceremonies(
        &self,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;
}

/// What [`PasskeyStore::add_passkey`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddPasskey {
    /// Added, with this id.
    Added(PasskeyId),
    /// A passkey with that credential id exists already.
    Duplicate,
    /// The account has as many passkeys as the limit allows.
    TooMany,
}

/// A ceremony to keep until the browser answers.
#[derive(Clone, PartialEq, Eq)]
pub struct NewCeremony {
    /// The digest of the token the browser holds for it.
    pub digest: TokenDigest,
    /// What it is for, the account, the library's state and the expiry.
    pub record: CeremonyRecord,
}

impl std::fmt::Debug for NewCeremony {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewCeremony")
            .field("digest", &self.digest)
            .field("record", &self.record)
            .finish()
    }
}
