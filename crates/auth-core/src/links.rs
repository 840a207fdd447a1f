//! What links sent by mail do: reset a forgotten password, confirm an
//! address, move an account to a new address. Asking for one queues a mail
//! (see [`AuthService::deliver_mail`]); following one redeems its token in
//! one atomic step of the store.

use crate::{
    AuthError, AuthService, AuthStore, ClientInfo, Email, EmailChange, EventKind, InputErrors,
    LinkPurpose, LinkToken, MailKind, NewMail, SessionToken, ThrottleKey, User, UserId,
};

/// The account a live link acts on, and the address it was sent to (for an
/// address change, the new address), as
/// [`AuthService::check_link`] finds them.
#[derive(Debug, Clone)]
pub struct LinkTarget {
    /// The account.
    pub user: User,
    /// The address the link was sent to.
    pub email: Email,
}

impl<S: AuthStore> AuthService<S> {
    /// Asks for a password-reset link for `email`, from `client`.
    ///
    /// The answer and the work are the same whether or not an account has
    /// the address: nothing is looked up now; the queued mail is dropped
    /// when it is sent if no (enabled) account has the address. A blank or
    /// malformed address is [`AuthError::InvalidInput`]. Requests are
    /// limited per recipient address and per client address
    /// ([`ThrottlePolicy::mail_limit`](crate::ThrottlePolicy::mail_limit)),
    /// registered or not, so the limit tells nothing either.
    pub async fn request_password_reset(
        &self,
        email: &str,
        client: impl Into<ClientInfo>,
    ) -> Result<(), AuthError> {
        let email = Email::parse(email).map_err(|e| InputErrors {
            email: Some(e),
            ..InputErrors::default()
        })?;
        self.reserve_mail(&email, &client.into()).await?;
        self.queue_mail(MailKind::PasswordReset, None, Some(email))
            .await
    }

    /// The account and address a live link of `purpose` acts on; for the
    /// page a link opens, before its owner confirms. Nothing is used up.
    /// [`AuthError::InvalidLink`] if the token is unknown, expired, used,
    /// replaced by a newer link, its account is disabled or gone, or (for a
    /// reset or a confirmation) the account's address is no longer the one
    /// it was sent to.
    pub async fn check_link(
        &self,
        token: &LinkToken,
        purpose: LinkPurpose,
    ) -> Result<LinkTarget, AuthError> {
        let now = self.now();
        let store = self.store();
        let record = store
            .find_link_token(&token.digest(), purpose)
            .await?
            .filter(|record| record.expires_at > now)
            .ok_or(AuthError::InvalidLink)?;
        let account = store
            .account_summary(record.user_id, now)
            .await?
            .filter(|account| account.disabled_at.is_none())
            .ok_or(AuthError::InvalidLink)?;
        let same_address = account.user.email == record.email;
        if purpose != LinkPurpose::ChangeEmail && !same_address {
            return Err(AuthError::InvalidLink);
        }
        Ok(LinkTarget {
            user: account.user,
            email: record.email,
        })
    }

    /// Sets a new password with a reset link's token, from `client`: the
    /// policy applies ([`AuthError::InvalidInput`], and the link still
    /// works); then, in one step, the token is used up, the password
    /// changed, every session of the account ended and every other link of
    /// it dead (an address change not mailed yet is cancelled). A lock on the account's logins is lifted, the reset
    /// recorded in its history, and a notice mailed to its address. The
    /// caller sends the user to log in afresh (with a second factor, if the
    /// account has one), rather than logging them in. Of two requests with
    /// one token, one succeeds and the other gets
    /// [`AuthError::InvalidLink`].
    pub async fn reset_password(
        &self,
        token: &LinkToken,
        new_password: &str,
        client: impl Into<ClientInfo>,
    ) -> Result<User, AuthError> {
        let user = self
            .check_link(token, LinkPurpose::PasswordReset)
            .await?
            .user;
        let password = self.new_password_for(&user, new_password)?;
        let hash = self.hash(password).await?;
        let store = self.store();
        if store
            .reset_password(&token.digest(), &hash, self.now())
            .await?
            .is_none()
        {
            return Err(AuthError::InvalidLink);
        }
        self.drop_outstanding_requests(user.id).await?;
        // Wrong codes stay counted: a reset proves the mailbox, not the
        // second factor.
        if !self.has_second_factor(user.id).await? {
            store
                .clear_throttle(&ThrottleKey::account(&user.email))
                .await?;
        }
        self.record(
            user.id,
            EventKind::PasswordReset,
            crate::Actor::Owner,
            &client.into(),
        )
        .await?;
        self.queue_mail(MailKind::PasswordChanged, Some(&user), None)
            .await?;
        Ok(user)
    }

    /// Mails `user` a link confirming their address, unless it is confirmed
    /// already. Limited like [`AuthService::request_password_reset`].
    pub async fn request_confirmation(
        &self,
        user: &User,
        client: impl Into<ClientInfo>,
    ) -> Result<(), AuthError> {
        if user.email_confirmed_at.is_some() {
            return Ok(());
        }
        self.reserve_mail(&user.email, &client.into()).await?;
        self.queue_mail(MailKind::ConfirmEmail, Some(user), None)
            .await
    }

    /// Confirms the account's address with a confirmation link's token,
    /// from `client`, and records it. Returns the account as it is now.
    pub async fn confirm_email(
        &self,
        token: &LinkToken,
        client: impl Into<ClientInfo>,
    ) -> Result<User, AuthError> {
        let store = self.store();
        let id = store
            .confirm_email(&token.digest(), self.now())
            .await?
            .ok_or(AuthError::InvalidLink)?;
        self.record(
            id,
            EventKind::EmailConfirmed,
            crate::Actor::Owner,
            &client.into(),
        )
        .await?;
        self.find_user(id).await?.ok_or(AuthError::InvalidLink)
    }

    /// Asks to move the session's account to `new_email`, after checking
    /// its password again (throttled like a login): a link goes to the new
    /// address, and nothing changes until it is followed
    /// ([`AuthService::change_email`]). The account's own address is
    /// [`EmailError::Unchanged`](crate::EmailError::Unchanged), an address
    /// of another account [`AuthError::EmailTaken`] (registration tells as
    /// much). Limited like [`AuthService::request_password_reset`], per new
    /// address. Returns the normalised new address.
    pub async fn request_email_change(
        &self,
        session: &SessionToken,
        password: &str,
        new_email: &str,
        client: impl Into<ClientInfo>,
    ) -> Result<Email, AuthError> {
        let client = client.into();
        let email = Email::parse(new_email).map_err(|e| InputErrors {
            email: Some(e),
            ..InputErrors::default()
        })?;
        let user = self.reauthenticate(session, password, &client).await?;
        if email == user.email {
            return Err(InputErrors {
                email: Some(crate::EmailError::Unchanged),
                ..InputErrors::default()
            }
            .into());
        }
        // Counted before the lookup, so that the form cannot test more
        // addresses for an account than the mail limits allow.
        self.reserve_mail(&email, &client).await?;
        if self.store().find_credentials(&email).await?.is_some() {
            return Err(AuthError::EmailTaken);
        }
        self.queue_mail(MailKind::ConfirmNewEmail, Some(&user), Some(email.clone()))
            .await?;
        Ok(email)
    }

    /// Moves the account to the address an address-change link was sent
    /// to, from `client`: in one step the token is used up, the address
    /// changed (and confirmed, since the link reached it), the account's
    /// other links dead and every session but `current` (the browser that
    /// followed the link, if it is logged in) ended. The old address gets a
    /// notice. [`AuthError::EmailTaken`] if another account took the
    /// address meanwhile.
    pub async fn change_email(
        &self,
        token: &LinkToken,
        current: Option<&SessionToken>,
        client: impl Into<ClientInfo>,
    ) -> Result<EmailChange, AuthError> {
        let keep = current.map(SessionToken::digest);
        let change = self
            .store()
            .change_email(&token.digest(), keep.as_ref(), self.now())
            .await?
            .ok_or(AuthError::InvalidLink)?;
        self.record(
            change.user_id,
            EventKind::EmailChanged,
            crate::Actor::Owner,
            &client.into(),
        )
        .await?;
        if let Some(user) = self.find_user(change.user_id).await? {
            self.queue_mail(
                MailKind::EmailChanged,
                Some(&user),
                Some(change.old.clone()),
            )
            .await?;
        }
        Ok(change)
    }

    /// Kills every link mailed to the account, cancels an address change
    /// not mailed yet and ends sign-ins waiting for their second factor:
    /// after its password changes (or it is disabled), nothing asked for
    /// before may act on it, least of all an address change or a sign-in
    /// begun by someone who knew the old password.
    pub(crate) async fn drop_outstanding_requests(&self, user: UserId) -> Result<(), AuthError> {
        let store = self.store();
        store.delete_link_tokens(user, None).await?;
        store.cancel_mail(user, MailKind::ConfirmNewEmail).await?;
        store.delete_user_pending_sign_ins(user).await?;
        Ok(())
    }

    /// Counts one requested mail to `email` from `client` against the mail
    /// limits, or refuses it with [`AuthError::Throttled`].
    async fn reserve_mail(&self, email: &Email, client: &ClientInfo) -> Result<(), AuthError> {
        let policy = self.throttle_policy();
        let to = crate::service::Counter::kept(ThrottleKey::mail_to(email), policy.mail_limit);
        let from = client.addr.map(|ip| {
            crate::service::Counter::kept(ThrottleKey::mail_from(ip), policy.mail_address_limit)
        });
        let keys: Vec<_> = std::iter::once(to).chain(from).collect();
        self.reserve_attempts(&keys, policy.registration_window)
            .await
            .map(|_| ())
    }

    /// Queues a mail of `kind` about `user` (and `email`), due at once, and
    /// wakes a waiting worker.
    pub(crate) async fn queue_mail(
        &self,
        kind: MailKind,
        user: Option<&User>,
        email: Option<Email>,
    ) -> Result<(), AuthError> {
        let mail = NewMail {
            kind,
            user_id: user.map(|u| u.id),
            email,
            created_at: self.now(),
        };
        self.store().enqueue_mail(&mail).await?;
        self.mail_queued().notify_one();
        Ok(())
    }
}
