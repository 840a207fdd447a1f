//! The worker's side of the mail queue: claim what is due, work out each
//! mail from the account as it is now, hand it to the [`Mailer`], and settle
//! the queue by the outcome.

use time::OffsetDateTime;

use crate::{
    AuthError, AuthService, AuthStore, Delivery, Email, LinkPurpose, LinkToken, Mail, MailError,
    MailKind, Mailer, Message, NewLinkToken, NewMail, User,
};

/// How many mails one round claims: one, so that the lease (the
/// [`MailPolicy`](crate::MailPolicy)'s `lease`) covers the sending of one
/// mail rather than a queue of them behind a slow server; a busy worker
/// starts the next round at once.
const BATCH: u32 = 1;

/// A mail the mailer did not deliver this round.
#[derive(Debug)]
pub struct MailFailure {
    /// Its place in the queue.
    pub id: i64,
    /// Which mail.
    pub kind: MailKind,
    /// How many times it has been tried.
    pub attempts: u32,
    /// `true` if it was dropped (refused for good, or out of attempts);
    /// `false` if it will be tried again.
    pub dropped: bool,
    /// What the mailer said.
    pub error: MailError,
}

impl<S: AuthStore> AuthService<S> {
    /// Sends what is due in the mail queue through `mailer`: one round of
    /// at most a batch of mails, claimed so that no other worker (on this
    /// instance or another) sends them at the same time. A mail the mailer
    /// could not hand over is tried again later, backing off by the
    /// [`MailPolicy`](crate::MailPolicy), and dropped after its last
    /// attempt; each such failure is in the returned list, for the log.
    ///
    /// Links are made here, when the mail goes out: the queue holds no
    /// secret, and each new link replaces the account's previous one of the
    /// same purpose. A mail that is no longer needed (no account has the
    /// address, the address changed or was confirmed meanwhile) is dropped
    /// without sending.
    ///
    /// Run it in a loop with [`AuthService::wait_for_mail`] between rounds.
    pub async fn deliver_mail(
        &self,
        mailer: &impl Mailer,
    ) -> Result<(Delivery, Vec<MailFailure>), AuthError> {
        let policy = *self.mail_policy();
        let now = self.now();
        let store = self.store();
        let claimed = store.claim_mail(now, now + policy.lease, BATCH).await?;
        let mut delivery = Delivery::default();
        let mut failures = Vec::new();
        for queued in claimed {
            let Some(mail) = self.compose(&queued.mail).await? else {
                store.finish_mail(queued.id).await?;
                delivery.skipped += 1;
                continue;
            };
            match mailer.send(&mail).await {
                Ok(()) => {
                    store.finish_mail(queued.id).await?;
                    delivery.sent += 1;
                }
                Err(error) => {
                    let dropped = matches!(error, MailError::Rejected(_))
                        || queued.attempts >= policy.max_attempts;
                    if dropped {
                        store.finish_mail(queued.id).await?;
                        delivery.dropped += 1;
                    } else {
                        let at = self.now() + policy.retry_delay(queued.attempts);
                        store.retry_mail(queued.id, at).await?;
                        delivery.retried += 1;
                    }
                    failures.push(MailFailure {
                        id: queued.id,
                        kind: queued.mail.kind,
                        attempts: queued.attempts,
                        dropped,
                        error,
                    });
                }
            }
        }
        Ok((delivery, failures))
    }

    /// Waits until a mail is queued through this service, or `at_most` has
    /// passed (mail queued by another instance or process is found by
    /// polling: pass the longest acceptable delay).
    pub async fn wait_for_mail(&self, at_most: std::time::Duration) {
        let _ = tokio::time::timeout(at_most, self.mail_queued().notified()).await;
    }

    /// The mail a queued entry is now, or `None` if it is not needed any
    /// more.
    async fn compose(&self, queued: &NewMail) -> Result<Option<Mail>, AuthError> {
        let store = self.store();
        // A disabled account gets no mail, and above all no new link.
        let user = match queued.user_id {
            Some(id) => store
                .account_summary(id, self.now())
                .await?
                .filter(|account| account.disabled_at.is_none())
                .map(|account| account.user),
            None => None,
        };
        let policy = *self.mail_policy();
        let mail = |to: Email, user: User, message| Mail {
            to,
            name: user.name,
            at: queued.created_at,
            message,
        };
        Ok(match (queued.kind, user, queued.email.clone()) {
            (MailKind::PasswordReset, _, Some(email)) => {
                let Some(credentials) = store.find_credentials(&email).await? else {
                    return Ok(None);
                };
                if credentials.disabled_at.is_some() {
                    return Ok(None);
                }
                let valid_for = policy.reset_valid_for;
                let token = self
                    .new_link(
                        &credentials.user,
                        LinkPurpose::PasswordReset,
                        &email,
                        valid_for,
                    )
                    .await?;
                Some(mail(
                    email,
                    credentials.user,
                    Message::PasswordReset { token, valid_for },
                ))
            }
            (MailKind::ConfirmEmail, Some(user), _) if user.email_confirmed_at.is_none() => {
                let valid_for = policy.confirm_valid_for;
                let email = user.email.clone();
                let token = self
                    .new_link(&user, LinkPurpose::ConfirmEmail, &email, valid_for)
                    .await?;
                Some(mail(
                    email,
                    user,
                    Message::ConfirmEmail { token, valid_for },
                ))
            }
            (MailKind::ConfirmNewEmail, Some(user), Some(email)) => {
                if store.find_credentials(&email).await?.is_some() {
                    return Ok(None);
                }
                let valid_for = policy.confirm_valid_for;
                let token = self
                    .new_link(&user, LinkPurpose::ChangeEmail, &email, valid_for)
                    .await?;
                Some(mail(
                    email,
                    user,
                    Message::ConfirmNewEmail { token, valid_for },
                ))
            }
            (MailKind::PasswordChanged, Some(user), _) => {
                Some(mail(user.email.clone(), user, Message::PasswordChanged))
            }
            (MailKind::SecondFactorChanged, Some(user), _) => {
                let on = self.has_app(user.id).await?;
                let recovery_codes = match on {
                    true => store.count_recovery_codes(user.id).await?,
                    false => 0,
                };
                let passkeys = store.count_passkeys(user.id).await?;
                Some(mail(
                    user.email.clone(),
                    user,
                    Message::SecondFactorChanged {
                        on,
                        recovery_codes,
                        passkeys,
                    },
                ))
            }
            (MailKind::PasskeysChanged, Some(user), _) => {
                let passkeys = store.count_passkeys(user.id).await?;
                Some(mail(
                    user.email.clone(),
                    user,
                    Message::PasskeysChanged { passkeys },
                ))
            }
            (MailKind::EmailChanged, Some(user), Some(old)) => {
                let new_email = user.email.clone();
                Some(mail(old, user, Message::EmailChanged { new_email }))
            }
            _ => None,
        })
    }

    /// Makes and stores a link token of `purpose` for `user`, sent to
    /// `email`, replacing the account's previous one of that purpose.
    async fn new_link(
        &self,
        user: &User,
        purpose: LinkPurpose,
        email: &Email,
        valid_for: time::Duration,
    ) -> Result<LinkToken, AuthError> {
        let token = LinkToken::generate()?;
        let now: OffsetDateTime = self.now();
        self.store()
            .create_link_token(NewLinkToken {
                digest: token.digest(),
                user_id: user.id,
                purpose,
                email: email.clone(),
                created_at: now,
                expires_at: now + valid_for,
            })
            .await?;
        Ok(token)
    }
}
