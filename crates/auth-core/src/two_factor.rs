//! What an account does with its second factor: sign-in's second step,
//! turning an authenticator app on and off, recovery codes, and an
//! operator's reset when the owner lost everything.

use time::Duration;

use crate::{
    Actor, AuthError, AuthService, AuthStore, ClientInfo, Enrolled, EventKind, MailKind,
    NewPendingSignIn, PendingSignIn, PendingSignInRecord, RecoveryCode, SealedTotpSecret,
    SecondFactorError, SessionLength, SessionToken, SignIn, SignInToken, StoreError,
    StoredRecoveryCode, ThrottleKey, TotpRecord, TotpSecret, User, UserId, RECOVERY_CODE_COUNT,
};

/// How long the second step of a sign-in may wait after the password.
pub const SIGN_IN_STEP_VALID_FOR: Duration = Duration::minutes(5);

/// How long a new authenticator app's secret waits for its first code after
/// the password was entered to begin the set-up.
pub const TOTP_SETUP_VALID_FOR: Duration = Duration::minutes(10);

impl<S: AuthStore> AuthService<S> {
    /// Checks an email and password like [`AuthService::login_with`]; for
    /// an account with an authenticator app, issues no session but a
    /// [`PendingSignIn`] that only [`AuthService::complete_sign_in`]
    /// accepts, for [`SIGN_IN_STEP_VALID_FOR`]. The history records the
    /// login when the session is issued.
    pub async fn sign_in(
        &self,
        email: &str,
        password: &str,
        client: impl Into<ClientInfo>,
        length: SessionLength,
    ) -> Result<SignIn, AuthError> {
        let client = client.into();
        let (user, second_factor) = self.password_step(email, password, &client).await?;
        if !second_factor {
            self.record(user.id, EventKind::Login, Actor::Owner, &client)
                .await?;
            return Ok(SignIn::Complete(
                self.start_session(user, client, length).await?,
            ));
        }
        let token = SignInToken::generate()?;
        let now = self.now();
        let expires_at = now + SIGN_IN_STEP_VALID_FOR;
        self.store()
            .create_pending_sign_in(NewPendingSignIn {
                digest: token.digest(),
                user_id: user.id,
                remember: length == SessionLength::Remembered,
                created_at: now,
                expires_at,
            })
            .await?;
        Ok(SignIn::SecondFactor(PendingSignIn {
            user,
            token,
            expires_at,
        }))
    }

    /// The account a pending sign-in is for, while it lasts and the account
    /// may sign in; [`SecondFactorError::SignInExpired`] otherwise.
    pub async fn pending_sign_in(&self, token: &SignInToken) -> Result<User, AuthError> {
        Ok(self.live_pending(token).await?.1)
    }

    pub(crate) async fn live_pending(
        &self,
        token: &SignInToken,
    ) -> Result<(PendingSignInRecord, User), AuthError> {
        let expired = || AuthError::from(SecondFactorError::SignInExpired);
        let store = self.store();
        let now = self.now();
        let record = store
            .find_pending_sign_in(&token.digest())
            .await?
            .filter(|record| record.expires_at > now)
            .ok_or_else(expired)?;
        let account = store
            .account_summary(record.user_id, now)
            .await?
            .filter(|account| account.disabled_at.is_none())
            .ok_or_else(expired)?;
        Ok((record, account.user))
    }

    /// The second step: `code` is the authenticator app's current code (one
    /// step of clock drift either way is allowed, and no step is accepted
    /// twice) or one of the recovery codes (each works once). Throttled
    /// with the account's logins and the client's address, counted before
    /// the check, so simultaneous guesses get no more than the limit. A
    /// wrong code is [`AuthError::InvalidCredentials`] and the sign-in
    /// stays usable until it expires; a right one issues the session and
    /// ends the pending sign-in, which no second request can then complete.
    pub async fn complete_sign_in(
        &self,
        token: &SignInToken,
        code: &str,
        client: impl Into<ClientInfo>,
    ) -> Result<crate::IssuedSession, AuthError> {
        let client = client.into();
        let (record, user) = self.live_pending(token).await?;
        let store = self.store();
        let totp = store
            .find_totp(user.id)
            .await?
            .filter(|totp| totp.enabled_at.is_some());
        if totp.is_none() && !self.has_passkey(user.id).await? {
            // Turned off or reset meanwhile: start again with the password.
            store.delete_pending_sign_in(&token.digest()).await?;
            return Err(SecondFactorError::SignInExpired.into());
        }
        if code.trim().is_empty() {
            return Err(AuthError::InvalidCredentials);
        }
        let keys = self.login_keys(Some(&user.email), client.addr);
        let reserved = self
            .reserve_attempts(&keys, self.throttle_policy().window)
            .await?;
        let factor = match &totp {
            Some(totp) => self.use_second_factor(&user, totp, code).await?,
            // Only passkeys: no code can be right.
            None => None,
        };
        let Some(factor) = factor else {
            self.lock_exhausted(&keys, &reserved).await?;
            self.record(
                user.id,
                EventKind::SecondFactorFailed,
                Actor::Owner,
                &client,
            )
            .await?;
            return Err(AuthError::InvalidCredentials);
        };
        if !store.delete_pending_sign_in(&token.digest()).await? {
            return Err(SecondFactorError::SignInExpired.into());
        }
        self.settle_success(&keys, true).await?;
        if factor == Factor::RecoveryCode {
            self.record(user.id, EventKind::RecoveryCodeUsed, Actor::Owner, &client)
                .await?;
        }
        self.record(user.id, EventKind::Login, Actor::Owner, &client)
            .await?;
        self.start_session(user, client, record.session_length())
            .await
    }

    /// Uses up `code` for `user`, whose enabled secret is `totp`: an app's
    /// code of a step not used before, or a recovery code. Which it was, or
    /// `None` if neither.
    async fn use_second_factor(
        &self,
        user: &User,
        totp: &TotpRecord,
        code: &str,
    ) -> Result<Option<Factor>, AuthError> {
        let store = self.store();
        if let Some(code) = RecoveryCode::parse(code) {
            // Before the app's secret is opened: if it cannot be (the key
            // changed), recovery codes still get their owner in.
            for salt in store.recovery_code_salts(user.id).await? {
                if store
                    .use_recovery_code(user.id, &code.digest_with(&salt))
                    .await?
                {
                    return Ok(Some(Factor::RecoveryCode));
                }
            }
            return Ok(None);
        }
        let secret = self.open_totp(user.id, &totp.secret)?;
        let Some(step) = secret.matching_step(code, self.now()) else {
            return Ok(None);
        };
        if !store.use_totp_step(user.id, step).await? {
            return Ok(None);
        }
        // A secret kept before the service had a key is sealed at its
        // owner's next sign-in, as an old password hash is upgraded.
        if let (false, Some(key)) = (totp.secret.is_sealed(), self.totp_key()) {
            store
                .reseal_totp_secret(user.id, &totp.secret, &key.seal(user.id, &secret)?)
                .await?;
        }
        Ok(Some(Factor::App))
    }

    /// Whether signing in as `user` takes a second step: the account has
    /// an authenticator app or a passkey.
    pub async fn has_second_factor(&self, user: UserId) -> Result<bool, AuthError> {
        Ok(self.has_app(user).await? || self.has_passkey(user).await?)
    }

    /// Whether `user` signs in with an authenticator app.
    pub async fn has_app(&self, user: UserId) -> Result<bool, AuthError> {
        Ok(self
            .store()
            .find_totp(user)
            .await?
            .is_some_and(|totp| totp.enabled_at.is_some()))
    }

    /// Starts setting up an authenticator app for the session's account,
    /// after checking its password again: a new secret, kept waiting until
    /// a code from it confirms it ([`AuthService::confirm_totp`]); an
    /// earlier waiting one is replaced. Show it as a QR code of
    /// [`TotpSecret::otpauth_url`] and as [`TotpSecret::base32`].
    pub async fn begin_totp(
        &self,
        session: &SessionToken,
        password: &str,
        client: impl Into<ClientInfo>,
    ) -> Result<TotpSecret, AuthError> {
        let user = self.reauthenticate(session, password, client).await?;
        let secret = TotpSecret::generate()?;
        let sealed = SealedTotpSecret::keep(user.id, &secret, self.totp_key())?;
        if !self
            .store()
            .set_totp_secret(user.id, &sealed, self.now())
            .await?
        {
            return Err(SecondFactorError::AlreadyOn.into());
        }
        Ok(secret)
    }

    /// The secret waiting for its first code, if one is (to show it again)
    /// and it was made less than [`TOTP_SETUP_VALID_FOR`] ago: a set-up
    /// left half-done is no use to whoever takes over the session later.
    pub async fn waiting_totp(&self, user: UserId) -> Result<Option<TotpSecret>, AuthError> {
        let since = self.now() - TOTP_SETUP_VALID_FOR;
        self.store()
            .find_totp(user)
            .await?
            .filter(|totp| totp.enabled_at.is_none() && totp.created_at > since)
            .map(|totp| self.open_totp(user, &totp.secret))
            .transpose()
    }

    /// The secret `sealed` holds for `user`: opened with the service's key,
    /// or as it is if it was kept without one. A sealed secret the key does
    /// not open is [`StoreError::Corrupt`] (auth-web logs it and answers
    /// 500, a broken installation): the key changed, or the row was altered.
    fn open_totp(&self, user: UserId, sealed: &SealedTotpSecret) -> Result<TotpSecret, AuthError> {
        sealed.read(user, self.totp_key()).ok_or_else(|| {
            StoreError::Corrupt(format!(
                "the authenticator-app secret of account {user} does not open with this \
                 service's TOTP key (was the key changed?)"
            ))
            .into()
        })
    }

    /// Confirms the waiting secret with a code from the app: from now on
    /// sign-in asks for a code. Returns the [`RECOVERY_CODE_COUNT`] recovery
    /// codes, to show once. A wrong code is
    /// [`AuthError::InvalidCredentials`] (the secret keeps waiting).
    pub async fn confirm_totp(
        &self,
        user: &User,
        code: &str,
        client: impl Into<ClientInfo>,
    ) -> Result<Enrolled, AuthError> {
        let secret = self
            .waiting_totp(user.id)
            .await?
            .ok_or(SecondFactorError::NothingToConfirm)?;
        let step = secret
            .matching_step(code, self.now())
            .ok_or(AuthError::InvalidCredentials)?;
        let (codes, stored) = new_recovery_codes()?;
        if !self
            .store()
            .enable_totp(user.id, step, &stored, self.now())
            .await?
        {
            return Err(SecondFactorError::NothingToConfirm.into());
        }
        self.record(
            user.id,
            EventKind::TotpEnabled,
            Actor::Owner,
            &client.into(),
        )
        .await?;
        self.queue_mail(MailKind::SecondFactorChanged, Some(user), None)
            .await?;
        Ok(Enrolled {
            recovery_codes: codes,
        })
    }

    /// Turns the authenticator app off for the session's account, after
    /// checking its password again; its recovery codes go with it. Like
    /// every change to the second factor, the owner is told by mail.
    pub async fn disable_totp(
        &self,
        session: &SessionToken,
        password: &str,
        client: impl Into<ClientInfo>,
    ) -> Result<(), AuthError> {
        let client = client.into();
        let user = self.reauthenticate(session, password, &client).await?;
        if !self.has_app(user.id).await? {
            return Err(SecondFactorError::Off.into());
        }
        let store = self.store();
        store.remove_totp(user.id).await?;
        store.delete_user_pending_sign_ins(user.id).await?;
        self.record(user.id, EventKind::TotpDisabled, Actor::Owner, &client)
            .await?;
        self.queue_mail(MailKind::SecondFactorChanged, Some(&user), None)
            .await
    }

    /// New recovery codes for the session's account, after checking its
    /// password again: the old ones stop working.
    pub async fn regenerate_recovery_codes(
        &self,
        session: &SessionToken,
        password: &str,
        client: impl Into<ClientInfo>,
    ) -> Result<Vec<RecoveryCode>, AuthError> {
        let client = client.into();
        let user = self.reauthenticate(session, password, &client).await?;
        if !self.has_app(user.id).await? {
            return Err(SecondFactorError::Off.into());
        }
        let (codes, stored) = new_recovery_codes()?;
        if !self
            .store()
            .replace_recovery_codes(user.id, &stored)
            .await?
        {
            return Err(SecondFactorError::Off.into());
        }
        self.record(
            user.id,
            EventKind::RecoveryCodesRegenerated,
            Actor::Owner,
            &client,
        )
        .await?;
        self.queue_mail(MailKind::SecondFactorChanged, Some(&user), None)
            .await?;
        Ok(codes)
    }

    /// How many unused recovery codes `user` has.
    pub async fn recovery_codes_left(&self, user: UserId) -> Result<u32, AuthError> {
        Ok(self.store().count_recovery_codes(user).await?)
    }

    /// For an operator, when the owner lost the app, the codes and the
    /// passkeys: removes them all, and lifts a lock that wrong codes put on
    /// the account's logins, so the password alone signs in again. `false`
    /// if the account had no second factor on (a set-up left waiting is
    /// dropped all the same).
    pub async fn reset_second_factor(&self, user: UserId, actor: Actor) -> Result<bool, AuthError> {
        let store = self.store();
        let was_on = self.has_second_factor(user).await?;
        store.remove_totp(user).await?;
        store.remove_passkeys(user).await?;
        store.delete_user_pending_sign_ins(user).await?;
        if !was_on {
            return Ok(false);
        }
        if let Some(account) = self.find_user(user).await? {
            store
                .clear_throttle(&ThrottleKey::account(&account.email))
                .await?;
        }
        self.record_by(user, EventKind::SecondFactorReset, actor)
            .await?;
        if let Some(account) = self.find_user(user).await? {
            self.queue_mail(MailKind::SecondFactorChanged, Some(&account), None)
                .await?;
        }
        Ok(true)
    }
}

/// What a second step was completed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Factor {
    App,
    RecoveryCode,
}

/// A fresh set of recovery codes, and what a store keeps of them.
fn new_recovery_codes() -> Result<(Vec<RecoveryCode>, Vec<StoredRecoveryCode>), AuthError> {
    let codes = (0..RECOVERY_CODE_COUNT)
        .map(|_| RecoveryCode::generate())
        .collect::<Result<Vec<_>, _>>()?;
    let stored = codes
        .iter()
        .map(RecoveryCode::to_stored)
        .collect::<Result<Vec<_>, _>>()?;
    Ok((codes, stored))
}
