//! Row types shared by both backends, and their conversion to domain types.
//! Both schemas use the same column names and types (integers for ids and
//! times), so one `FromRow` derive serves SQLite and PostgreSQL.

use auth_core::time::{Duration, OffsetDateTime};
use auth_core::{
    AccountEvent, AccountSummary, Actor, CeremonyKind, CeremonyRecord, ClientInfo, CredentialId,
    Device, DisplayName, Email, EventKind, LinkPurpose, LinkTokenRecord, MailKind, NewMail,
    PasskeyId, PasskeyName, PasswordHash, PendingSignInRecord, QueuedMail, SealedTotpSecret,
    SessionRecord, SessionSummary, SessionTimes, StoreError, StoredPasskey, ThrottleState,
    TokenDigest, TotpRecord, User, UserCredentials, UserHandle, UserId,
};

#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    id: i64,
    email: String,
    name: String,
    created_at: i64,
    email_confirmed_at: Option<i64>,
}

#[derive(sqlx::FromRow)]
pub(crate) struct CredentialsRow {
    #[sqlx(flatten)]
    user: UserRow,
    password_hash: String,
    disabled_at: Option<i64>,
}

#[derive(sqlx::FromRow)]
pub(crate) struct AccountSummaryRow {
    #[sqlx(flatten)]
    user: UserRow,
    disabled_at: Option<i64>,
    last_login_at: Option<i64>,
    live_sessions: i64,
}

#[derive(sqlx::FromRow)]
pub(crate) struct EventRow {
    user_id: i64,
    kind: String,
    at: i64,
    operator: Option<String>,
    #[sqlx(flatten)]
    client: ClientRow,
}

/// The client columns of sessions and events.
#[derive(sqlx::FromRow)]
pub(crate) struct ClientRow {
    client_addr: Option<String>,
    device: Option<String>,
}

#[derive(sqlx::FromRow)]
pub(crate) struct SessionRow {
    #[sqlx(flatten)]
    user: UserRow,
    #[sqlx(flatten)]
    times: SessionTimesRow,
}

#[cfg(feature = "sqlite")]
impl SessionRow {
    /// The row of [`sql::SELECT_SESSION`](crate::sql::SELECT_SESSION) as
    /// rusqlite reads it, by the same column names.
    pub(crate) fn from_rusqlite(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            user: UserRow {
                id: row.get("id")?,
                email: row.get("email")?,
                name: row.get("name")?,
                created_at: row.get("created_at")?,
                email_confirmed_at: row.get("email_confirmed_at")?,
            },
            times: SessionTimesRow {
                session_created_at: row.get("session_created_at")?,
                last_seen_at: row.get("last_seen_at")?,
                expires_at: row.get("expires_at")?,
                idle_timeout: row.get("idle_timeout")?,
                authenticated_at: row.get("authenticated_at")?,
            },
        })
    }
}

/// A session's times, as both session queries select them (its
/// `created_at` renamed, since a join with users has another).
#[derive(sqlx::FromRow)]
pub(crate) struct SessionTimesRow {
    session_created_at: i64,
    last_seen_at: i64,
    expires_at: i64,
    idle_timeout: i64,
    authenticated_at: i64,
}

#[derive(sqlx::FromRow)]
pub(crate) struct SessionSummaryRow {
    token_digest: Vec<u8>,
    #[sqlx(flatten)]
    times: SessionTimesRow,
    #[sqlx(flatten)]
    client: ClientRow,
}

#[derive(sqlx::FromRow)]
pub(crate) struct ThrottleRow {
    failures: i32,
    window_start: i64,
    locked_until: i64,
    lockouts: i32,
}

pub(crate) fn timestamp(t: OffsetDateTime) -> i64 {
    t.unix_timestamp()
}

fn time(secs: i64) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp(secs)
        .map_err(|_| StoreError::Corrupt(format!("timestamp {secs} out of range")))
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;

    fn try_from(row: UserRow) -> Result<Self, StoreError> {
        let corrupt = |what: &str| StoreError::Corrupt(format!("user {}: invalid {what}", row.id));
        Ok(User {
            id: UserId::new(row.id),
            email: Email::parse(&row.email).map_err(|_| corrupt("email"))?,
            name: DisplayName::parse(&row.name).map_err(|_| corrupt("name"))?,
            created_at: time(row.created_at)?,
            email_confirmed_at: row.email_confirmed_at.map(time).transpose()?,
        })
    }
}

impl TryFrom<CredentialsRow> for UserCredentials {
    type Error = StoreError;

    fn try_from(row: CredentialsRow) -> Result<Self, StoreError> {
        Ok(UserCredentials {
            user: row.user.try_into()?,
            password_hash: PasswordHash::new(row.password_hash),
            disabled_at: row.disabled_at.map(time).transpose()?,
        })
    }
}

impl TryFrom<AccountSummaryRow> for AccountSummary {
    type Error = StoreError;

    fn try_from(row: AccountSummaryRow) -> Result<Self, StoreError> {
        Ok(AccountSummary {
            user: row.user.try_into()?,
            disabled_at: row.disabled_at.map(time).transpose()?,
            last_login_at: row.last_login_at.map(time).transpose()?,
            live_sessions: u64::try_from(row.live_sessions)
                .map_err(|_| StoreError::Corrupt("negative session count".into()))?,
        })
    }
}

impl TryFrom<EventRow> for AccountEvent {
    type Error = StoreError;

    fn try_from(row: EventRow) -> Result<Self, StoreError> {
        let kind = EventKind::parse(&row.kind)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown event kind {:?}", row.kind)))?;
        let client = row.client.try_into()?;
        Ok(AccountEvent {
            user_id: UserId::new(row.user_id),
            kind,
            at: time(row.at)?,
            actor: Actor::from_operator(row.operator),
            client,
        })
    }
}

impl TryFrom<SessionRow> for SessionRecord {
    type Error = StoreError;

    fn try_from(row: SessionRow) -> Result<Self, StoreError> {
        Ok(SessionRecord {
            user: row.user.try_into()?,
            times: row.times.try_into()?,
        })
    }
}

impl TryFrom<SessionTimesRow> for SessionTimes {
    type Error = StoreError;

    fn try_from(row: SessionTimesRow) -> Result<Self, StoreError> {
        Ok(SessionTimes {
            created_at: time(row.session_created_at)?,
            last_seen_at: time(row.last_seen_at)?,
            expires_at: time(row.expires_at)?,
            idle_timeout: Duration::seconds(row.idle_timeout),
            authenticated_at: time(row.authenticated_at)?,
        })
    }
}

impl TryFrom<ClientRow> for ClientInfo {
    type Error = StoreError;

    fn try_from(row: ClientRow) -> Result<Self, StoreError> {
        let addr = row
            .client_addr
            .map(|addr| {
                addr.parse()
                    .map_err(|_| StoreError::Corrupt(format!("client address {addr:?}")))
            })
            .transpose()?;
        Ok(ClientInfo {
            addr,
            device: row.device.as_deref().and_then(Device::new),
        })
    }
}

impl TryFrom<ThrottleRow> for ThrottleState {
    type Error = StoreError;

    fn try_from(row: ThrottleRow) -> Result<Self, StoreError> {
        let count = |n: i32| {
            u32::try_from(n).map_err(|_| StoreError::Corrupt(format!("negative count {n}")))
        };
        Ok(ThrottleState {
            failures: count(row.failures)?,
            window_start: time(row.window_start)?,
            locked_until: time(row.locked_until)?,
            lockouts: count(row.lockouts)?,
        })
    }
}

impl TryFrom<SessionSummaryRow> for SessionSummary {
    type Error = StoreError;

    fn try_from(row: SessionSummaryRow) -> Result<Self, StoreError> {
        let digest: [u8; 32] = row
            .token_digest
            .try_into()
            .map_err(|_| StoreError::Corrupt("session digest is not 32 bytes".into()))?;
        Ok(SessionSummary {
            digest: TokenDigest::from_bytes(digest),
            times: row.times.try_into()?,
            client: row.client.try_into()?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct LinkTokenRow {
    user_id: i64,
    purpose: String,
    email: String,
    created_at: i64,
    expires_at: i64,
}

impl TryFrom<LinkTokenRow> for LinkTokenRecord {
    type Error = StoreError;

    fn try_from(row: LinkTokenRow) -> Result<Self, StoreError> {
        Ok(LinkTokenRecord {
            user_id: UserId::new(row.user_id),
            purpose: LinkPurpose::parse(&row.purpose)
                .ok_or_else(|| StoreError::Corrupt(format!("link purpose {:?}", row.purpose)))?,
            email: stored_email(&row.email)?,
            created_at: time(row.created_at)?,
            expires_at: time(row.expires_at)?,
        })
    }
}

/// A used-up link token: whose it was and where it was sent.
#[derive(sqlx::FromRow)]
pub(crate) struct TakenLinkRow {
    pub(crate) user_id: i64,
    pub(crate) email: String,
}

#[derive(sqlx::FromRow)]
pub(crate) struct QueuedMailRow {
    id: i64,
    kind: String,
    user_id: Option<i64>,
    email: Option<String>,
    created_at: i64,
    attempts: i64,
}

impl TryFrom<QueuedMailRow> for QueuedMail {
    type Error = StoreError;

    fn try_from(row: QueuedMailRow) -> Result<Self, StoreError> {
        Ok(QueuedMail {
            id: row.id,
            mail: NewMail {
                kind: MailKind::parse(&row.kind)
                    .ok_or_else(|| StoreError::Corrupt(format!("mail kind {:?}", row.kind)))?,
                user_id: row.user_id.map(UserId::new),
                email: row.email.as_deref().map(stored_email).transpose()?,
                created_at: time(row.created_at)?,
            },
            attempts: u32::try_from(row.attempts)
                .map_err(|_| StoreError::Corrupt("mail attempts out of range".into()))?,
        })
    }
}

/// An address read back from the store.
pub(crate) fn stored_email(text: &str) -> Result<Email, StoreError> {
    Email::parse(text).map_err(|_| StoreError::Corrupt("invalid stored email".into()))
}

#[derive(sqlx::FromRow)]
pub(crate) struct TotpRow {
    secret: Vec<u8>,
    created_at: i64,
    enabled_at: Option<i64>,
    last_step: Option<i64>,
}

impl TryFrom<TotpRow> for TotpRecord {
    type Error = StoreError;

    fn try_from(row: TotpRow) -> Result<Self, StoreError> {
        Ok(TotpRecord {
            secret: SealedTotpSecret::from_bytes(row.secret),
            created_at: time(row.created_at)?,
            enabled_at: row.enabled_at.map(time).transpose()?,
            last_step: row
                .last_step
                .map(|step| {
                    u64::try_from(step)
                        .map_err(|_| StoreError::Corrupt(format!("TOTP step {step}")))
                })
                .transpose()?,
        })
    }
}

/// A TOTP time step as the database keeps it.
pub(crate) fn stored_step(step: u64) -> Result<i64, StoreError> {
    i64::try_from(step).map_err(|_| StoreError::Corrupt(format!("TOTP step {step}")))
}

#[derive(sqlx::FromRow)]
pub(crate) struct PendingSignInRow {
    user_id: i64,
    remember: bool,
    created_at: i64,
    expires_at: i64,
}

impl TryFrom<PendingSignInRow> for PendingSignInRecord {
    type Error = StoreError;

    fn try_from(row: PendingSignInRow) -> Result<Self, StoreError> {
        Ok(PendingSignInRecord {
            user_id: UserId::new(row.user_id),
            remember: row.remember,
            created_at: time(row.created_at)?,
            expires_at: time(row.expires_at)?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct PasskeyRow {
    id: i64,
    user_id: i64,
    credential_id: Vec<u8>,
    user_handle: Vec<u8>,
    name: String,
    credential: Vec<u8>,
    counter: i64,
    created_at: i64,
    last_used_at: Option<i64>,
}

impl TryFrom<PasskeyRow> for StoredPasskey {
    type Error = StoreError;

    fn try_from(row: PasskeyRow) -> Result<Self, StoreError> {
        let corrupt = |what: &str| StoreError::Corrupt(format!("passkey {}: {what}", row.id));
        let handle: [u8; 16] = row
            .user_handle
            .as_slice()
            .try_into()
            .map_err(|_| corrupt("user handle"))?;
        Ok(StoredPasskey {
            id: PasskeyId::new(row.id),
            user_id: UserId::new(row.user_id),
            credential_id: CredentialId::from_bytes(row.credential_id)
                .ok_or_else(|| corrupt("credential id"))?,
            user_handle: UserHandle::from_bytes(handle),
            name: PasskeyName::parse(&row.name).map_err(|_| corrupt("name"))?,
            credential: row.credential,
            counter: u32::try_from(row.counter).map_err(|_| corrupt("counter"))?,
            created_at: time(row.created_at)?,
            last_used_at: row.last_used_at.map(time).transpose()?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct CeremonyRow {
    kind: String,
    user_id: Option<i64>,
    name: Option<String>,
    state: Vec<u8>,
    expires_at: i64,
}

impl TryFrom<CeremonyRow> for CeremonyRecord {
    type Error = StoreError;

    fn try_from(row: CeremonyRow) -> Result<Self, StoreError> {
        let kind = match (row.kind.as_str(), row.name) {
            ("register", Some(name)) => CeremonyKind::Register(
                PasskeyName::parse(&name)
                    .map_err(|_| StoreError::Corrupt("passkey ceremony name".into()))?,
            ),
            ("second_step", None) => CeremonyKind::SecondStep,
            ("sign_in", None) => CeremonyKind::SignIn,
            (kind, _) => {
                return Err(StoreError::Corrupt(format!("passkey ceremony kind {kind}")));
            }
        };
        Ok(CeremonyRecord {
            kind,
            user_id: row.user_id.map(UserId::new),
            state: row.state,
            expires_at: time(row.expires_at)?,
        })
    }
}
