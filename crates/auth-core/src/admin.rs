//! What an operator does to accounts: list and inspect them, create,
//! disable, enable and delete them, set passwords and end sessions. Every
//! change is recorded in the account's history with the operator's name.

use crate::{
    AccountSummary, Actor, AuthError, AuthService, AuthStore, ClientInfo, EventKind, Registration,
    ThrottleKey, User, UserId,
};

impl<S: AuthStore> AuthService<S> {
    /// Adds an operator's (or an import's) action to `user`'s history: it
    /// comes from no client of the site.
    pub(crate) async fn record_by(
        &self,
        user: UserId,
        kind: EventKind,
        actor: Actor,
    ) -> Result<(), AuthError> {
        self.record(user, kind, actor, &ClientInfo::default()).await
    }

    /// Up to `limit` accounts with ids above `after`, in id order, with
    /// their state and activity: call again with the last id until a page
    /// comes back short.
    pub async fn accounts(
        &self,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<Vec<AccountSummary>, AuthError> {
        Ok(self.store().list_accounts(after, limit, self.now()).await?)
    }

    /// The account with `id`, with its state and activity.
    pub async fn account(&self, id: UserId) -> Result<Option<AccountSummary>, AuthError> {
        Ok(self.store().account_summary(id, self.now()).await?)
    }

    /// Creates an account for someone, as `actor`, without logging it in.
    /// The same checks as a registration apply; no per-address limit.
    pub async fn add_account(
        &self,
        form: Registration<'_>,
        actor: Actor,
    ) -> Result<User, AuthError> {
        let user = self.create_account(form, None).await?;
        self.record_by(user.id, EventKind::Created, actor).await?;
        Ok(user)
    }

    /// Disables the account: it can no longer log in (a login with the right
    /// password fails exactly like a wrong one), its sessions end at once
    /// and the links mailed to it die (enabled again, it starts with none).
    /// `false` if there is no such account or it was already disabled.
    pub async fn disable(&self, id: UserId, actor: Actor) -> Result<bool, AuthError> {
        let store = self.store();
        if !store.disable_user(id, self.now()).await? {
            return Ok(false);
        }
        store.delete_user_sessions(id, None).await?;
        self.drop_outstanding_requests(id).await?;
        self.record_by(id, EventKind::Disabled, actor).await?;
        Ok(true)
    }

    /// Enables a disabled account. Any session made while it was disabled
    /// (a login racing the disabling) is ended first, so only new logins
    /// open it. `false` if there is no such account or it was not
    /// disabled.
    pub async fn enable(&self, id: UserId, actor: Actor) -> Result<bool, AuthError> {
        let disabled = self
            .account(id)
            .await?
            .is_some_and(|account| account.disabled_at.is_some());
        if !disabled {
            return Ok(false);
        }
        let store = self.store();
        store.delete_user_sessions(id, None).await?;
        if !store.enable_user(id).await? {
            return Ok(false);
        }
        self.record_by(id, EventKind::Enabled, actor).await?;
        Ok(true)
    }

    /// Deletes the account with its sessions and history; its email can be
    /// registered again. One [`EventKind::Deleted`] event, naming only the
    /// account's id, is kept as the operator's record. `false` if there was
    /// no such account.
    pub async fn delete_account(&self, id: UserId, actor: Actor) -> Result<bool, AuthError> {
        if !self.store().delete_user(id).await? {
            return Ok(false);
        }
        self.record_by(id, EventKind::Deleted, actor).await?;
        Ok(true)
    }

    /// Sets a new password for the account (the policy applies), ends all
    /// of its sessions and reset links, and lifts any lock on its logins, so
    /// its owner can log in with the new password at once; the owner is
    /// told by mail, as for any password change. `false` if there is no
    /// such account.
    pub async fn set_password(
        &self,
        id: UserId,
        password: &str,
        actor: Actor,
    ) -> Result<bool, AuthError> {
        let Some(user) = self.find_user(id).await? else {
            return Ok(false);
        };
        let password = self.new_password_for(&user, password)?;
        let hash = self.hash(password).await?;
        let store = self.store();
        if !store.update_password_hash(id, &hash).await? {
            return Ok(false);
        }
        store.delete_user_sessions(id, None).await?;
        self.drop_outstanding_requests(id).await?;
        store
            .clear_throttle(&ThrottleKey::account(&user.email))
            .await?;
        self.record_by(id, EventKind::PasswordSet, actor).await?;
        self.queue_mail(crate::MailKind::PasswordChanged, Some(&user), None)
            .await?;
        Ok(true)
    }

    /// Ends every session of the account ("log out everywhere"). Returns how
    /// many ended; recorded only when some did.
    pub async fn end_sessions(&self, id: UserId, actor: Actor) -> Result<u64, AuthError> {
        let ended = self.revoke_sessions(id, None).await?;
        if ended > 0 {
            self.record_by(id, EventKind::SessionsEnded, actor).await?;
        }
        Ok(ended)
    }
}
