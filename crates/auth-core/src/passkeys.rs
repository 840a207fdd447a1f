//! What an account does with passkeys: adding one (after the password
//! again), using one as the second step of a sign-in or to sign in without
//! a password, and removing one. The cryptography is the
//! [`PasskeyCeremony`]'s; the rules are here.

use crate::service::Counter;
use crate::{
    Actor, AddPasskey, AuthError, AuthService, AuthStore, CeremonyKind, CeremonyRecord,
    CeremonyToken, ClientInfo, EventKind, IssuedSession, MailKind, NewCeremony, NewPasskey,
    PasskeyCeremony, PasskeyError, PasskeyId, PasskeyName, SecondFactorError, SessionLength,
    SessionToken, SignInToken, StartedCeremony, StoredPasskey, ThrottleKey, User, UserHandle,
    UserId, MAX_PASSKEYS, PASSKEY_CEREMONY_VALID_FOR,
};

impl<S: AuthStore> AuthService<S> {
    /// Starts adding a passkey named `name` to the session's account, after
    /// checking its password again. Send the returned options to the
    /// browser's `navigator.credentials.create()` and keep the token (in a
    /// cookie) for [`AuthService::finish_passkey`], which accepts the answer
    /// once, within [`PASSKEY_CEREMONY_VALID_FOR`].
    pub async fn begin_passkey(
        &self,
        webauthn: &impl PasskeyCeremony,
        session: &SessionToken,
        password: &str,
        name: &str,
        client: impl Into<ClientInfo>,
    ) -> Result<StartedCeremony, AuthError> {
        let name = PasskeyName::parse(name)?;
        let user = self.reauthenticate(session, password, client).await?;
        let passkeys = self.store().list_passkeys(user.id).await?;
        if passkeys.len() >= MAX_PASSKEYS as usize {
            return Err(PasskeyError::TooMany.into());
        }
        // One handle per account, so an authenticator keeps one entry for
        // it, chosen once even by simultaneous first registrations.
        let handle = self
            .store()
            .user_handle(user.id, UserHandle::generate()?)
            .await?;
        let exclude: Vec<_> = passkeys.iter().map(|p| p.credential_id.clone()).collect();
        let challenge = webauthn.start_registration(
            handle,
            user.email.as_str(),
            user.name.as_str(),
            &exclude,
        )?;
        let state = handle_and_state(handle, challenge.state);
        self.keep_ceremony(
            CeremonyKind::Register(name),
            Some(user.id),
            state,
            challenge.options,
        )
        .await
    }

    /// Finishes adding a passkey with the browser's answer (`response`, the
    /// JSON of its `PublicKeyCredential`) to the ceremony `token` names,
    /// which must have been started by `user`. Returns the new passkey's
    /// id. The owner is told by mail.
    pub async fn finish_passkey(
        &self,
        webauthn: &impl PasskeyCeremony,
        user: &User,
        token: &CeremonyToken,
        response: &str,
        client: impl Into<ClientInfo>,
    ) -> Result<PasskeyId, AuthError> {
        let ceremony = self.take_ceremony(token).await?;
        let CeremonyKind::Register(name) = ceremony.kind else {
            return Err(PasskeyError::CeremonyExpired.into());
        };
        if ceremony.user_id != Some(user.id) {
            return Err(PasskeyError::CeremonyExpired.into());
        }
        let (handle, state) = split_handle(&ceremony.state)?;
        let registered = webauthn.finish_registration(response, state)?;
        let now = self.now();
        let new = NewPasskey {
            user_id: user.id,
            credential_id: registered.credential_id,
            user_handle: handle,
            name,
            credential: registered.credential,
            created_at: now,
        };
        let id = match self.store().add_passkey(new, MAX_PASSKEYS).await? {
            AddPasskey::Added(id) => id,
            AddPasskey::Duplicate => return Err(PasskeyError::AlreadyRegistered.into()),
            AddPasskey::TooMany => return Err(PasskeyError::TooMany.into()),
        };
        self.record(
            user.id,
            EventKind::PasskeyAdded,
            Actor::Owner,
            &client.into(),
        )
        .await?;
        self.queue_mail(MailKind::PasskeysChanged, Some(user), None)
            .await?;
        Ok(id)
    }

    /// Whether `user` has a passkey.
    pub async fn has_passkey(&self, user: UserId) -> Result<bool, AuthError> {
        Ok(self.store().count_passkeys(user).await? > 0)
    }

    /// `user`'s passkeys, oldest first.
    pub async fn passkeys(&self, user: UserId) -> Result<Vec<StoredPasskey>, AuthError> {
        Ok(self.store().list_passkeys(user).await?)
    }

    /// Removes the session's account's passkey `id`, after checking its
    /// password again. The owner is told by mail.
    pub async fn remove_passkey(
        &self,
        session: &SessionToken,
        password: &str,
        id: PasskeyId,
        client: impl Into<ClientInfo>,
    ) -> Result<(), AuthError> {
        let client = client.into();
        let user = self.reauthenticate(session, password, &client).await?;
        if !self.store().remove_passkey(user.id, id).await? {
            return Err(PasskeyError::NotFound.into());
        }
        self.record(user.id, EventKind::PasskeyRemoved, Actor::Owner, &client)
            .await?;
        self.queue_mail(MailKind::PasskeysChanged, Some(&user), None)
            .await
    }

    /// Starts a sign-in with a passkey: the second step of `pending`, with
    /// one of its account's passkeys, or with `None`, a sign-in without a
    /// password where the browser picks the account (only discoverable
    /// passkeys can). Each start keeps a challenge in the store, so starts
    /// are counted per client address like failed logins.
    pub async fn begin_passkey_sign_in(
        &self,
        webauthn: &impl PasskeyCeremony,
        pending: Option<&SignInToken>,
        client: impl Into<ClientInfo>,
    ) -> Result<StartedCeremony, AuthError> {
        let client = client.into();
        match pending {
            Some(pending) => {
                let (_, user) = self.live_pending(pending).await?;
                let passkeys = self.store().list_passkeys(user.id).await?;
                if passkeys.is_empty() {
                    return Err(PasskeyError::NoPasskey.into());
                }
                let challenge = webauthn.start_authentication(&passkeys)?;
                self.keep_ceremony(
                    CeremonyKind::SecondStep,
                    Some(user.id),
                    challenge.state,
                    challenge.options,
                )
                .await
            }
            None => {
                // Anyone may start one, and each keeps a challenge in the
                // store: counted per client address, and given back by the
                // sign-in it leads to, so only abandoned starts add up.
                let starts = self.ceremony_starts(&client);
                self.reserve_attempts(&starts, self.throttle_policy().window)
                    .await?;
                let challenge = webauthn.start_authentication(&[])?;
                self.keep_ceremony(
                    CeremonyKind::SignIn,
                    None,
                    challenge.state,
                    challenge.options,
                )
                .await
            }
        }
    }

    /// Finishes a sign-in with a passkey: the browser's answer (`response`)
    /// to the ceremony `token` names. For a second step, `pending` must be
    /// the sign-in that started it and the passkey one of its account's;
    /// the session is remembered as the password step asked. For a sign-in
    /// without a password, `pending` is ignored, the passkey must have been
    /// registered under the user handle the authenticator returns, and the
    /// session has `length`. Either way the answer's signature counter
    /// must be above the last accepted one (or both 0), checked and
    /// recorded in one step, and a refused answer counts against the
    /// account and the client address like a wrong password.
    pub async fn finish_passkey_sign_in(
        &self,
        webauthn: &impl PasskeyCeremony,
        token: &CeremonyToken,
        pending: Option<&SignInToken>,
        response: &str,
        length: SessionLength,
        client: impl Into<ClientInfo>,
    ) -> Result<IssuedSession, AuthError> {
        let client = client.into();
        let ceremony = self.take_ceremony(token).await?;
        let claimed = webauthn.claimed_credential(response)?;
        let passkey = self.store().find_passkey(&claimed.credential_id).await?;
        let (user, length, pending) = match ceremony.kind {
            CeremonyKind::SecondStep => {
                // Answered where a sign-in without a password was expected.
                let pending = pending.ok_or(PasskeyError::CeremonyExpired)?;
                let (record, user) = self.live_pending(pending).await?;
                if ceremony.user_id != Some(user.id) {
                    return Err(PasskeyError::CeremonyExpired.into());
                }
                (user, record.session_length(), Some(pending))
            }
            CeremonyKind::SignIn => {
                let Some(passkey) = &passkey else {
                    self.count_refusal(&client).await?;
                    return Err(unknown_credential());
                };
                if claimed.user_handle != Some(passkey.user_handle) {
                    self.count_refusal(&client).await?;
                    return Err(PasskeyError::Rejected("user handle does not match".into()).into());
                }
                let account = self
                    .store()
                    .account_summary(passkey.user_id, self.now())
                    .await?
                    .filter(|account| account.disabled_at.is_none())
                    .ok_or(AuthError::InvalidCredentials)?;
                (account.user, length, None)
            }
            CeremonyKind::Register(_) => return Err(PasskeyError::CeremonyExpired.into()),
        };
        let keys = self.login_keys(Some(&user.email), client.addr);
        let reserved = self
            .reserve_attempts(&keys, self.throttle_policy().window)
            .await?;
        // A returned user handle must be the passkey's own (WebAuthn
        // §7.2), whichever way the sign-in started.
        let passkey = passkey.filter(|passkey| {
            passkey.user_id == user.id
                && claimed
                    .user_handle
                    .is_none_or(|handle| handle == passkey.user_handle)
        });
        let passkey = match passkey {
            Some(passkey) => passkey,
            None => {
                self.refused(&user, &keys, &reserved, &client).await?;
                return Err(unknown_credential());
            }
        };
        let verified = match webauthn.finish_authentication(response, &ceremony.state, &passkey) {
            Ok(verified) => verified,
            Err(error @ PasskeyError::Failed(_)) => {
                self.settle_success(&keys, false).await?;
                return Err(error.into());
            }
            Err(error) => {
                self.refused(&user, &keys, &reserved, &client).await?;
                return Err(error.into());
            }
        };
        let store = self.store();
        if !store
            .use_passkey(
                passkey.id,
                verified.counter,
                &verified.credential,
                self.now(),
            )
            .await?
        {
            self.refused(&user, &keys, &reserved, &client).await?;
            return Err(match store.find_passkey(&passkey.credential_id).await? {
                Some(_) => PasskeyError::CounterNotIncreased,
                None => PasskeyError::Rejected("the passkey was removed meanwhile".into()),
            }
            .into());
        }
        // The owner proved themselves: whatever happens to the pending
        // sign-in, these attempts are not failures.
        self.settle_success(&keys, true).await?;
        if pending.is_none() {
            self.settle_success(&self.ceremony_starts(&client), false)
                .await?;
        }
        if let Some(pending) = pending {
            if !store.delete_pending_sign_in(&pending.digest()).await? {
                // Completed meanwhile, by another request.
                return Err(SecondFactorError::SignInExpired.into());
            }
        }
        self.record(user.id, EventKind::Login, Actor::Owner, &client)
            .await?;
        self.start_session(user, client, length).await
    }

    /// The counter of passkey sign-ins started without an account from
    /// `client`'s address.
    fn ceremony_starts(&self, client: &ClientInfo) -> Vec<Counter> {
        let limit = self.throttle_policy().address_limit;
        client
            .addr
            .map(|addr| Counter::kept(ThrottleKey::passkey_ceremonies(addr), limit))
            .into_iter()
            .collect()
    }

    async fn keep_ceremony(
        &self,
        kind: CeremonyKind,
        user_id: Option<UserId>,
        state: Vec<u8>,
        options: String,
    ) -> Result<StartedCeremony, AuthError> {
        let token = CeremonyToken::generate()?;
        let expires_at = self.now() + PASSKEY_CEREMONY_VALID_FOR;
        self.store()
            .create_ceremony(NewCeremony {
                digest: token.digest(),
                record: CeremonyRecord {
                    kind,
                    user_id,
                    state,
                    expires_at,
                },
            })
            .await?;
        Ok(StartedCeremony {
            token,
            options,
            expires_at,
        })
    }

    async fn take_ceremony(&self, token: &CeremonyToken) -> Result<CeremonyRecord, AuthError> {
        self.store()
            .take_ceremony(&token.digest(), self.now())
            .await?
            .ok_or_else(|| PasskeyError::CeremonyExpired.into())
    }

    /// A refused answer for `user`'s sign-in: counted, locked at the limit,
    /// and in the history.
    async fn refused(
        &self,
        user: &User,
        keys: &[Counter],
        reserved: &[crate::ThrottleState],
        client: &ClientInfo,
    ) -> Result<(), AuthError> {
        self.lock_exhausted(keys, reserved).await?;
        self.record(user.id, EventKind::PasskeyFailed, Actor::Owner, client)
            .await
    }

    /// A refused answer that names no account: counted against the client
    /// address only.
    async fn count_refusal(&self, client: &ClientInfo) -> Result<(), AuthError> {
        let keys = self.login_keys(None, client.addr);
        let reserved = self
            .reserve_attempts(&keys, self.throttle_policy().window)
            .await?;
        self.lock_exhausted(&keys, &reserved).await
    }
}

fn unknown_credential() -> AuthError {
    PasskeyError::Rejected("no passkey of the account has that credential id".into()).into()
}

/// A registration's state as the store keeps it: the handle it was started
/// with (16 bytes), then the library's state.
fn handle_and_state(handle: UserHandle, state: Vec<u8>) -> Vec<u8> {
    let mut kept = Vec::with_capacity(16 + state.len());
    kept.extend_from_slice(handle.as_bytes());
    kept.extend_from_slice(&state);
    kept
}

fn split_handle(kept: &[u8]) -> Result<(UserHandle, &[u8]), AuthError> {
    let (handle, state) = kept
        .split_first_chunk::<16>()
        .ok_or_else(|| crate::StoreError::Corrupt("a registration without its handle".into()))?;
    Ok((UserHandle::from_bytes(*handle), state))
}
