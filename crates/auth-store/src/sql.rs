//! The statements both SQL backends run, and the store implementation they
//! share. The statements are public so that tools can show what runs (the
//! benchmark prints their query plans); they are not an API to build on.
//!
//! SQLite and PostgreSQL get the same statements: both schemas have the same
//! columns and integer types, and sqlx's SQLite driver accepts PostgreSQL's
//! `$1` placeholders. The code that runs them is in `sql_store.rs`.

/// Creates an account; returns its id.
pub const INSERT_USER: &str = "INSERT INTO users (email, name, password_hash, created_at) \
     VALUES ($1, $2, $3, $4) RETURNING id";

/// An account and its password hash, by normalised email (login).
pub const SELECT_CREDENTIALS: &str = "SELECT id, email, name, created_at, email_confirmed_at, \
     password_hash, disabled_at FROM users WHERE email = $1";

/// An account by id.
pub const SELECT_USER: &str =
    "SELECT id, email, name, created_at, email_confirmed_at FROM users WHERE id = $1";

/// Replaces an account's password hash.
pub const UPDATE_PASSWORD_HASH: &str = "UPDATE users SET password_hash = $1 WHERE id = $2";

/// Records a new session under its token digest.
pub const INSERT_SESSION: &str = "INSERT INTO sessions \
     (token_digest, user_id, created_at, last_seen_at, authenticated_at, expires_at, \
      idle_timeout, client_addr, device) VALUES ($1, $2, $3, $3, $3, $4, $5, $6, $7)";

/// A session and its account, by token digest: the query on every request
/// with a session. A disabled account's sessions are not found.
pub const SELECT_SESSION: &str =
    "SELECT u.id, u.email, u.name, u.created_at, u.email_confirmed_at, \
     s.created_at AS session_created_at, s.last_seen_at, s.expires_at, s.idle_timeout, \
     s.authenticated_at \
     FROM sessions s JOIN users u ON u.id = s.user_id \
     WHERE s.token_digest = $1 AND u.disabled_at IS NULL";

/// An account's sessions, most recently used first.
pub const SELECT_USER_SESSIONS: &str = "SELECT token_digest, created_at AS session_created_at, \
     last_seen_at, expires_at, idle_timeout, authenticated_at, client_addr, device \
     FROM sessions WHERE user_id = $1 ORDER BY last_seen_at DESC";

/// Records that a session was used; never moves `last_seen_at` backwards
/// when two requests race.
pub const TOUCH_SESSION: &str =
    "UPDATE sessions SET last_seen_at = $1 WHERE token_digest = $2 AND last_seen_at < $1";

/// Records that the password was entered again in a session; never moves
/// `authenticated_at` backwards, and touches the row (so its count says
/// whether the session exists) either way.
pub const RECORD_AUTHENTICATION: &str = "UPDATE sessions SET authenticated_at = \
     CASE WHEN authenticated_at < $1 THEN $1 ELSE authenticated_at END \
     WHERE token_digest = $2";

/// Ends one session (logout).
pub const DELETE_SESSION: &str = "DELETE FROM sessions WHERE token_digest = $1";

/// Ends all of an account's sessions.
pub const DELETE_USER_SESSIONS: &str = "DELETE FROM sessions WHERE user_id = $1";

/// Ends all of an account's sessions but one.
pub const DELETE_USER_SESSIONS_EXCEPT: &str =
    "DELETE FROM sessions WHERE user_id = $1 AND token_digest <> $2";

/// Deletes sessions past their absolute end. With the next statement, the
/// purge of ended sessions: two statements, because SQLite scans the whole
/// table for the two conditions joined by `OR` but searches an index for
/// each.
pub const DELETE_ENDED_SESSIONS: &str = "DELETE FROM sessions WHERE expires_at <= $1";

/// Deletes sessions unused for their own idle timeout by `$1` (through the
/// index on `last_seen_at + idle_timeout`, which the expression must match).
pub const DELETE_IDLE_SESSIONS: &str =
    "DELETE FROM sessions WHERE last_seen_at + idle_timeout <= $1";

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

/// The start of both account summaries: `$1` is now (live sessions), `$2`
/// the name of the login event kind.
macro_rules! select_account_summaries {
    () => {
        "SELECT u.id, u.email, u.name, u.created_at, u.email_confirmed_at, u.disabled_at, \
         (SELECT max(e.at) FROM account_events e \
          WHERE e.user_id = u.id AND e.kind = $2) AS last_login_at, \
         (SELECT count(*) FROM sessions s \
          WHERE s.user_id = u.id AND s.expires_at > $1 \
          AND s.last_seen_at + s.idle_timeout > $1) AS live_sessions \
         FROM users u "
    };
}

/// A page of account summaries: ids above `$3`, at most `$4`.
pub const SELECT_ACCOUNTS: &str = concat!(
    select_account_summaries!(),
    "WHERE u.id > $3 ORDER BY u.id LIMIT $4"
);

/// One account's summary, by id (`$3`).
pub const SELECT_ACCOUNT: &str = concat!(select_account_summaries!(), "WHERE u.id = $3");

/// Disables an enabled account.
pub const DISABLE_USER: &str =
    "UPDATE users SET disabled_at = $1 WHERE id = $2 AND disabled_at IS NULL";

/// Enables a disabled account.
pub const ENABLE_USER: &str =
    "UPDATE users SET disabled_at = NULL WHERE id = $1 AND disabled_at IS NOT NULL";

/// Deletes an account's history (with the account, in one transaction).
pub const DELETE_USER_EVENTS: &str = "DELETE FROM account_events WHERE user_id = $1";

/// Deletes an account; its sessions go with it (foreign key cascade).
pub const DELETE_USER: &str = "DELETE FROM users WHERE id = $1";

/// Records an event of an account's history.
pub const INSERT_EVENT: &str = "INSERT INTO account_events \
     (user_id, kind, at, operator, client_addr, device) VALUES ($1, $2, $3, $4, $5, $6)";

/// An account's most recent events, newest first.
pub const SELECT_EVENTS: &str = "SELECT user_id, kind, at, operator, client_addr, device \
     FROM account_events WHERE user_id = $1 ORDER BY at DESC, id DESC LIMIT $2";

/// Deletes history past its retention.
pub const DELETE_OLD_EVENTS: &str = "DELETE FROM account_events WHERE at < $1";

/// Stores a mailed link's token (after the next statement, in one
/// transaction).
pub const INSERT_LINK_TOKEN: &str = "INSERT INTO link_tokens \
     (token_digest, user_id, purpose, email, created_at, expires_at) \
     VALUES ($1, $2, $3, $4, $5, $6)";

/// Deletes an account's link tokens of one purpose: the ones a new link
/// replaces, or every reset link once the password changes.
pub const DELETE_USER_LINK_TOKENS_FOR: &str =
    "DELETE FROM link_tokens WHERE user_id = $1 AND purpose = $2";

/// Deletes all of an account's link tokens.
pub const DELETE_USER_LINK_TOKENS: &str = "DELETE FROM link_tokens WHERE user_id = $1";

/// A link token by digest and purpose.
pub const SELECT_LINK_TOKEN: &str = "SELECT user_id, purpose, email, created_at, expires_at \
     FROM link_tokens WHERE token_digest = $1 AND purpose = $2";

/// Uses up a live link token, returning whose it was and where it was sent:
/// of two transactions taking one token, only one gets a row.
pub const TAKE_LINK_TOKEN: &str = "DELETE FROM link_tokens \
     WHERE token_digest = $1 AND purpose = $2 AND expires_at > $3 RETURNING user_id, email";

/// Deletes expired link tokens.
pub const DELETE_EXPIRED_LINK_TOKENS: &str = "DELETE FROM link_tokens WHERE expires_at <= $1";

/// Sets the password hash from a reset link, if the account's address is
/// still the one the link went to and it is not disabled.
pub const RESET_PASSWORD_HASH: &str =
    "UPDATE users SET password_hash = $1 WHERE id = $2 AND email = $3 AND disabled_at IS NULL";

/// Marks an address confirmed, if it is still the account's and the
/// account is not disabled.
pub const CONFIRM_EMAIL: &str = "UPDATE users SET email_confirmed_at = $1 \
     WHERE id = $2 AND email = $3 AND disabled_at IS NULL";

/// An enabled account's address (before an address change).
pub const SELECT_ENABLED_EMAIL: &str =
    "SELECT email FROM users WHERE id = $1 AND disabled_at IS NULL";

/// Moves an account to a confirmed new address; the unique index refuses
/// an address another account has.
pub const CHANGE_EMAIL: &str = "UPDATE users SET email = $1, email_confirmed_at = $2 WHERE id = $3";

/// Queues a mail, due at once.
pub const INSERT_MAIL: &str = "INSERT INTO mail_queue \
     (kind, user_id, email, created_at, attempts, due_at) VALUES ($1, $2, $3, $4, 0, $4)";

/// Claims up to `$3` mails due at `$1` until `$2`. The outer condition is
/// checked again on each row as it is updated, so on PostgreSQL a row
/// another worker claimed meanwhile is skipped rather than claimed twice.
pub const CLAIM_MAIL: &str = "UPDATE mail_queue SET attempts = attempts + 1, due_at = $2 \
     WHERE due_at <= $1 AND id IN \
     (SELECT id FROM mail_queue WHERE due_at <= $1 ORDER BY due_at, id LIMIT $3) \
     RETURNING id, kind, user_id, email, created_at, attempts";

/// Removes a mail from the queue.
pub const DELETE_MAIL: &str = "DELETE FROM mail_queue WHERE id = $1";

/// Removes an account's queued mail of one kind.
pub const CANCEL_MAIL: &str = "DELETE FROM mail_queue WHERE user_id = $1 AND kind = $2";

/// Makes a mail due again.
pub const RETRY_MAIL: &str = "UPDATE mail_queue SET due_at = $2 WHERE id = $1";

/// Keeps a TOTP secret waiting for its first code, replacing one that still
/// waits, never one that is enabled (then no row changes).
pub const UPSERT_TOTP_SECRET: &str = "INSERT INTO totp_secrets \
     (user_id, secret, created_at, enabled_at, last_step) VALUES ($1, $2, $3, NULL, NULL) \
     ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret, \
     created_at = excluded.created_at WHERE totp_secrets.enabled_at IS NULL";

/// An account's TOTP secret.
pub const SELECT_TOTP: &str =
    "SELECT secret, created_at, enabled_at, last_step FROM totp_secrets WHERE user_id = $1";

/// Enables a waiting TOTP secret with its first accepted step.
pub const ENABLE_TOTP: &str = "UPDATE totp_secrets SET enabled_at = $2, last_step = $3 \
     WHERE user_id = $1 AND enabled_at IS NULL";

/// Replaces an account's TOTP secret with the same secret kept another
/// way, if it is still what the caller read.
pub const RESEAL_TOTP_SECRET: &str =
    "UPDATE totp_secrets SET secret = $3 WHERE user_id = $1 AND secret = $2";

/// Accepts a time step later than the last one: of two updates with one
/// step, the second finds the row changed and matches nothing.
pub const USE_TOTP_STEP: &str = "UPDATE totp_secrets SET last_step = $2 \
     WHERE user_id = $1 AND enabled_at IS NOT NULL AND (last_step IS NULL OR last_step < $2)";

/// Takes an enabled TOTP secret's row for the rest of the transaction (a
/// write that changes nothing: PostgreSQL locks the row, SQLite the
/// database), so that replacements of its recovery codes run one after
/// the other.
pub const LOCK_ENABLED_TOTP: &str = "UPDATE totp_secrets SET last_step = last_step \
     WHERE user_id = $1 AND enabled_at IS NOT NULL";

/// Deletes an account's TOTP secret.
pub const DELETE_TOTP: &str = "DELETE FROM totp_secrets WHERE user_id = $1";

/// Deletes an account's recovery codes.
pub const DELETE_RECOVERY_CODES: &str = "DELETE FROM recovery_codes WHERE user_id = $1";

/// Adds one recovery code.
pub const INSERT_RECOVERY_CODE: &str =
    "INSERT INTO recovery_codes (user_id, code_digest, salt) VALUES ($1, $2, $3)";

/// The salts of an account's recovery codes, each once.
pub const SELECT_RECOVERY_SALTS: &str =
    "SELECT DISTINCT salt FROM recovery_codes WHERE user_id = $1";

/// Uses up one recovery code.
pub const USE_RECOVERY_CODE: &str =
    "DELETE FROM recovery_codes WHERE user_id = $1 AND code_digest = $2";

/// How many recovery codes an account has left.
pub const COUNT_RECOVERY_CODES: &str = "SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1";

/// Records a sign-in waiting for its second factor.
pub const INSERT_PENDING_SIGN_IN: &str = "INSERT INTO pending_sign_ins \
     (token_digest, user_id, remember, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)";

/// A waiting sign-in.
pub const SELECT_PENDING_SIGN_IN: &str = "SELECT user_id, remember, created_at, expires_at \
     FROM pending_sign_ins WHERE token_digest = $1";

/// Ends a waiting sign-in.
pub const DELETE_PENDING_SIGN_IN: &str = "DELETE FROM pending_sign_ins WHERE token_digest = $1";

/// Deletes an account's waiting sign-ins.
pub const DELETE_USER_PENDING_SIGN_INS: &str = "DELETE FROM pending_sign_ins WHERE user_id = $1";

/// Deletes waiting sign-ins that expired.
pub const DELETE_EXPIRED_PENDING_SIGN_INS: &str =
    "DELETE FROM pending_sign_ins WHERE expires_at <= $1";

/// Takes an account's row for the rest of the transaction, so that
/// simultaneous changes to what it owns (a passkey added, a link that
/// replaces the earlier ones) run one after the other.
pub const LOCK_USER: &str = "UPDATE users SET name = name WHERE id = $1";

/// Keeps an account's WebAuthn user handle unless it has one.
pub const INSERT_USER_HANDLE: &str = "INSERT INTO passkey_users (user_id, user_handle) \
     VALUES ($1, $2) ON CONFLICT (user_id) DO NOTHING";

/// An account's WebAuthn user handle.
pub const SELECT_USER_HANDLE: &str = "SELECT user_handle FROM passkey_users WHERE user_id = $1";

/// How many passkeys an account has.
pub const COUNT_PASSKEYS: &str = "SELECT count(*) FROM passkeys WHERE user_id = $1";

/// Adds a passkey unless its credential id is taken; returns its id.
pub const INSERT_PASSKEY: &str = "INSERT INTO passkeys \
     (user_id, credential_id, user_handle, name, credential, counter, created_at) \
     VALUES ($1, $2, $3, $4, $5, 0, $6) ON CONFLICT (credential_id) DO NOTHING RETURNING id";

/// The columns of a stored passkey.
macro_rules! select_passkeys {
    () => {
        "SELECT id, user_id, credential_id, user_handle, name, credential, counter, created_at, \
         last_used_at FROM passkeys "
    };
}

/// An account's passkeys, oldest first.
pub const SELECT_USER_PASSKEYS: &str =
    concat!(select_passkeys!(), "WHERE user_id = $1 ORDER BY id");

/// The passkey with a credential id.
pub const SELECT_PASSKEY: &str = concat!(select_passkeys!(), "WHERE credential_id = $1");

/// Records a passkey's use if its counter went up (or stays 0 on an
/// authenticator that keeps none).
pub const USE_PASSKEY: &str =
    "UPDATE passkeys SET counter = $2, credential = $3, last_used_at = $4 \
     WHERE id = $1 AND (counter < $2 OR (counter = 0 AND $2 = 0))";

/// Deletes one of an account's passkeys.
pub const DELETE_PASSKEY: &str = "DELETE FROM passkeys WHERE user_id = $1 AND id = $2";

/// Deletes all of an account's passkeys.
pub const DELETE_USER_PASSKEYS: &str = "DELETE FROM passkeys WHERE user_id = $1";

/// Records a ceremony waiting for the browser's answer.
pub const INSERT_CEREMONY: &str = "INSERT INTO passkey_ceremonies \
     (token_digest, kind, user_id, name, state, expires_at) VALUES ($1, $2, $3, $4, $5, $6)";

/// Takes a live ceremony: of two transactions taking one, only one gets a
/// row.
pub const TAKE_CEREMONY: &str = "DELETE FROM passkey_ceremonies \
     WHERE token_digest = $1 AND expires_at > $2 RETURNING kind, user_id, name, state, expires_at";

/// Deletes expired ceremonies.
pub const DELETE_EXPIRED_CEREMONIES: &str = "DELETE FROM passkey_ceremonies WHERE expires_at <= $1";
