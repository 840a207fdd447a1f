//! The worker's side of the mail queue over the in-memory store with a
//! manual clock: what a round sends, skips, retries and gives up, through a
//! mailer that keeps what it is handed and answers as the test says.

mod common;

use std::sync::{Arc, Mutex};

use auth_core::memory::MemoryStore;
use auth_core::time::Duration;
use auth_core::{
    AuthError, AuthService, ClientInfo, Delivery, LinkPurpose, Mail, MailError, MailKind,
    MailPolicy, Mailer, ManualClock, Message,
};
use common::ADA;

/// How the mailer answers.
#[derive(Clone, Copy)]
enum Answer {
    Take,
    TryLater,
    Refuse,
}

/// A mailer that keeps every mail it takes.
#[derive(Clone)]
struct Kept {
    answer: Arc<Mutex<Answer>>,
    taken: Arc<Mutex<Vec<Mail>>>,
}

impl Kept {
    fn answering(answer: Answer) -> Self {
        Self {
            answer: Arc::new(Mutex::new(answer)),
            taken: Arc::default(),
        }
    }
    fn answer(&self, answer: Answer) {
        *self.answer.lock().unwrap() = answer;
    }
    fn taken(&self) -> Vec<Mail> {
        self.taken.lock().unwrap().clone()
    }
}

impl Mailer for Kept {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let answer = *self.answer.lock().unwrap();
        match answer {
            Answer::Take => {
                self.taken.lock().unwrap().push(mail.clone());
                Ok(())
            }
            Answer::TryLater => Err(MailError::Unavailable("421 try again later".into())),
            Answer::Refuse => Err(MailError::Rejected("550 no such user".into())),
        }
    }
}

fn service(policy: MailPolicy) -> (AuthService<MemoryStore>, ManualClock) {
    let clock = ManualClock::starting_now();
    let auth = AuthService::builder(MemoryStore::new())
        .hasher(common::Counting::default())
        .clock(clock.clone())
        .mail_policy(policy)
        .build()
        .unwrap();
    (auth, clock)
}

fn delivered(sent: u32, skipped: u32, retried: u32, dropped: u32) -> Delivery {
    Delivery {
        sent,
        skipped,
        retried,
        dropped,
    }
}

#[tokio::test]
async fn a_mail_is_worked_out_when_it_is_sent_with_a_link_that_works() {
    let (auth, _) = service(MailPolicy::default());
    let mailer = Kept::answering(Answer::Take);
    auth.register(ADA).await.unwrap();
    let (delivery, failures) = auth.deliver_mail(&mailer).await.unwrap();
    assert_eq!(delivery, delivered(1, 0, 0, 0));
    assert!(failures.is_empty());
    let taken = mailer.taken();
    assert_eq!(taken[0].to.as_str(), "ada@example.com");
    let Message::ConfirmEmail { token, valid_for } = &taken[0].message else {
        panic!("a confirmation: {:?}", taken[0].message);
    };
    assert_eq!(*valid_for, Duration::days(3));
    let target = auth
        .check_link(token, LinkPurpose::ConfirmEmail)
        .await
        .expect("the mailed link works");
    assert_eq!(target.email.as_str(), "ada@example.com");
    let (again, _) = auth.deliver_mail(&mailer).await.unwrap();
    assert_eq!(again.total(), 0, "a sent mail leaves the queue");
}

#[tokio::test]
async fn a_reset_for_an_unknown_or_disabled_address_is_dropped_unsent() {
    let (auth, _) = service(MailPolicy::default());
    let mailer = Kept::answering(Answer::Take);
    let ada = auth.register(ADA).await.unwrap().user;
    auth.deliver_mail(&mailer).await.unwrap();
    auth.request_password_reset("nobody@example.com", ClientInfo::default())
        .await
        .unwrap();
    let (delivery, _) = auth.deliver_mail(&mailer).await.unwrap();
    assert_eq!(
        delivery,
        delivered(0, 1, 0, 0),
        "no account has the address"
    );

    auth.disable(ada.id, auth_core::Actor::Operator("root".into()))
        .await
        .unwrap();
    auth.request_password_reset("ada@example.com", ClientInfo::default())
        .await
        .unwrap();
    let (delivery, _) = auth.deliver_mail(&mailer).await.unwrap();
    assert_eq!(delivery, delivered(0, 1, 0, 0), "the account is disabled");
    assert_eq!(mailer.taken().len(), 1, "only the confirmation went out");
}

#[tokio::test]
async fn an_unavailable_server_is_tried_again_backing_off_until_the_last_attempt() {
    let policy = MailPolicy {
        retry_after: Duration::seconds(30),
        max_attempts: 3,
        ..MailPolicy::default()
    };
    let (auth, clock) = service(policy);
    let mailer = Kept::answering(Answer::TryLater);
    auth.register(ADA).await.unwrap();

    let (delivery, failures) = auth.deliver_mail(&mailer).await.unwrap();
    assert_eq!(delivery, delivered(0, 0, 1, 0));
    assert_eq!(
        (failures[0].kind, failures[0].attempts, failures[0].dropped),
        (MailKind::ConfirmEmail, 1, false)
    );
    assert!(matches!(failures[0].error, MailError::Unavailable(_)));
    clock.advance(Duration::seconds(29));
    let (early, _) = auth.deliver_mail(&mailer).await.unwrap();
    assert_eq!(early.total(), 0, "not due before its retry time");

    clock.advance(Duration::seconds(1));
    let (second, failures) = auth.deliver_mail(&mailer).await.unwrap();
    assert_eq!(second, delivered(0, 0, 1, 0));
    assert_eq!(failures[0].attempts, 2);
    clock.advance(Duration::seconds(59));
    assert_eq!(
        auth.deliver_mail(&mailer).await.unwrap().0.total(),
        0,
        "the wait doubled"
    );

    clock.advance(Duration::seconds(1));
    let (last, failures) = auth.deliver_mail(&mailer).await.unwrap();
    assert_eq!(
        last,
        delivered(0, 0, 0, 1),
        "given up after the last attempt"
    );
    assert_eq!((failures[0].attempts, failures[0].dropped), (3, true));
    mailer.answer(Answer::Take);
    clock.advance(Duration::days(1));
    assert_eq!(auth.deliver_mail(&mailer).await.unwrap().0.total(), 0);
    assert!(mailer.taken().is_empty());
}

#[tokio::test]
async fn a_server_that_comes_back_gets_the_mail_with_a_link_that_works() {
    let (auth, clock) = service(MailPolicy::default());
    let mailer = Kept::answering(Answer::TryLater);
    auth.register(ADA).await.unwrap();
    auth.deliver_mail(&mailer).await.unwrap();
    mailer.answer(Answer::Take);
    clock.advance(Duration::seconds(30));
    let (delivery, _) = auth.deliver_mail(&mailer).await.unwrap();
    assert_eq!(delivery, delivered(1, 0, 0, 0));
    let Message::ConfirmEmail { token, .. } = &mailer.taken()[0].message else {
        panic!("a confirmation");
    };
    auth.check_link(token, LinkPurpose::ConfirmEmail)
        .await
        .expect("the link made for the mail that went out works");
}

#[tokio::test]
async fn a_refused_mail_is_dropped_at_once() {
    let (auth, clock) = service(MailPolicy::default());
    let mailer = Kept::answering(Answer::Refuse);
    auth.register(ADA).await.unwrap();
    let (delivery, failures) = auth.deliver_mail(&mailer).await.unwrap();
    assert_eq!(delivery, delivered(0, 0, 0, 1));
    assert!(failures[0].dropped);
    assert!(matches!(failures[0].error, MailError::Rejected(_)));
    clock.advance(Duration::hours(2));
    assert_eq!(auth.deliver_mail(&mailer).await.unwrap().0.total(), 0);
}

/// The token of the one mail of `kind` among `taken`.
fn token_of(taken: &[Mail], kind: MailKind) -> auth_core::LinkToken {
    let mut tokens = taken.iter().filter_map(|mail| match &mail.message {
        Message::PasswordReset { token, .. } if kind == MailKind::PasswordReset => Some(token),
        Message::ConfirmNewEmail { token, .. } if kind == MailKind::ConfirmNewEmail => Some(token),
        _ => None,
    });
    let token = tokens.next().expect("a mail of that kind").clone();
    assert!(tokens.next().is_none(), "one mail of that kind");
    token
}

/// Someone who knew the old password asked to move the account to their
/// address; the owner resets the password: that change link is dead.
#[tokio::test]
async fn a_password_reset_kills_an_address_change_asked_for_before_it() {
    let (auth, _) = service(MailPolicy::default());
    let mailer = Kept::answering(Answer::Take);
    let issued = auth.register(ADA).await.unwrap();
    let client = ClientInfo::default;
    auth.request_email_change(&issued.token, ADA.password, "thief@example.com", client())
        .await
        .unwrap();
    auth.request_password_reset("ada@example.com", client())
        .await
        .unwrap();
    // One mail per round: three rounds.
    for _ in 0..3 {
        assert_eq!(auth.deliver_mail(&mailer).await.unwrap().0.sent, 1);
    }
    let change = token_of(&mailer.taken(), MailKind::ConfirmNewEmail);
    let reset = token_of(&mailer.taken(), MailKind::PasswordReset);

    auth.reset_password(&reset, "a brand new secret", client())
        .await
        .unwrap();
    let stolen = auth.change_email(&change, None, client()).await;
    assert!(matches!(stolen, Err(AuthError::InvalidLink)), "{stolen:?}");
    let user = auth.find_user(issued.user.id).await.unwrap().unwrap();
    assert_eq!(user.email.as_str(), "ada@example.com");
}

/// The same when the change was asked for but not mailed yet, and the
/// password changes on the account page: the change is never mailed.
#[tokio::test]
async fn a_password_change_cancels_an_address_change_not_mailed_yet() {
    let (auth, _) = service(MailPolicy::default());
    let mailer = Kept::answering(Answer::Take);
    let issued = auth.register(ADA).await.unwrap();
    auth.deliver_mail(&mailer).await.unwrap();
    let client = ClientInfo::default;
    auth.request_email_change(&issued.token, ADA.password, "thief@example.com", client())
        .await
        .unwrap();
    auth.change_password(&issued.token, ADA.password, "a brand new secret", client())
        .await
        .unwrap();
    auth.deliver_mail(&mailer).await.unwrap();
    let kinds: Vec<_> = mailer.taken().iter().map(|m| m.message.kind()).collect();
    assert_eq!(kinds, [MailKind::ConfirmEmail, MailKind::PasswordChanged]);
}

/// Mail queued before the account was disabled is not sent, and makes no
/// link.
#[tokio::test]
async fn mail_queued_for_an_account_disabled_since_is_dropped_unsent() {
    let (auth, _) = service(MailPolicy::default());
    let mailer = Kept::answering(Answer::Take);
    let issued = auth.register(ADA).await.unwrap();
    auth.disable(issued.user.id, auth_core::Actor::Operator("root".into()))
        .await
        .unwrap();
    let (delivery, _) = auth.deliver_mail(&mailer).await.unwrap();
    assert_eq!(delivery, delivered(0, 1, 0, 0));
    assert!(mailer.taken().is_empty());
}
