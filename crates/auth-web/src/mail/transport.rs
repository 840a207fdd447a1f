//! The site's [`Mailer`]: each mail composed from the templates into a
//! multipart message and handed to an SMTP server, or written as an `.eml`
//! file into the outbox.

use std::sync::Arc;

use auth_core::{Mail, MailError, Mailer};
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use rocket::tokio;

use crate::mail::settings::{Destination, MailSettings};
use crate::mail::MailTemplates;

enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Outbox(AsyncFileTransport<Tokio1Executor>),
}

/// Composes and sends the site's mail. Cheap to clone.
#[derive(Clone)]
pub struct SiteMailer {
    templates: Arc<MailTemplates>,
    transport: Arc<Transport>,
    from: Mailbox,
    site: String,
}

impl SiteMailer {
    /// The mailer `settings` describe, with links on `site`.
    pub fn new(settings: &MailSettings, templates: Arc<MailTemplates>, site: String) -> Self {
        let transport = match &settings.destination {
            Destination::Smtp(_, smtp) => Transport::Smtp(smtp.clone()),
            Destination::Outbox(dir) => Transport::Outbox(AsyncFileTransport::new(dir)),
        };
        Self {
            templates,
            transport: Arc::new(transport),
            from: settings.from.clone(),
            site,
        }
    }

    /// Where the mail goes, for the start-up log (no credentials).
    pub fn describe(settings: &MailSettings) -> String {
        match &settings.destination {
            Destination::Smtp(url, _) => format!("the SMTP server {}", url.redacted()),
            Destination::Outbox(dir) => format!(
                "the outbox {} (.eml files; set smtp_url to send them)",
                dir.display()
            ),
        }
    }

    fn message(&self, mail: &Mail) -> Result<lettre::Message, MailError> {
        let composed = self
            .templates
            .compose(mail, &self.site)
            .map_err(|e| MailError::Rejected(e.into()))?;
        let address = mail
            .to
            .as_str()
            .parse()
            .map_err(|e: lettre::address::AddressError| MailError::Rejected(e.into()))?;
        lettre::Message::builder()
            .from(self.from.clone())
            .to(Mailbox::new(Some(mail.name.as_str().to_owned()), address))
            .subject(composed.subject)
            .multipart(MultiPart::alternative_plain_html(
                composed.text,
                composed.html,
            ))
            .map_err(|e| MailError::Rejected(e.into()))
    }
}

/// The longest one mail may take to hand over, all SMTP commands
/// together: well inside the queue's lease (2 minutes), so no other worker
/// takes the mail over, and sends it again, while this one still waits.
const SEND_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// Whether the server refused this mail for good: its recipient's mailbox
/// does not exist or is not allowed there (550, 551, 553). Every other
/// refusal, permanent ones included (a refused login, relaying denied,
/// TLS required), says the server or its settings are wrong, not the mail:
/// it is tried again, with back-off, until the operator fixes them or its
/// attempts run out.
fn refused_for_good(error: &lettre::transport::smtp::Error) -> bool {
    error.is_permanent()
        && error
            .status()
            .is_some_and(|code| matches!(u16::from(code), 550 | 551 | 553))
}

impl Mailer for SiteMailer {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let message = self.message(mail)?;
        match self.transport.as_ref() {
            Transport::Smtp(smtp) => {
                let sent = tokio::time::timeout(SEND_TIMEOUT, smtp.send(message))
                    .await
                    .map_err(|elapsed| MailError::Unavailable(elapsed.into()))?;
                sent.map(|_| ()).map_err(|e| {
                    if refused_for_good(&e) {
                        MailError::Rejected(e.into())
                    } else {
                        MailError::Unavailable(e.into())
                    }
                })
            }
            Transport::Outbox(outbox) => outbox
                .send(message)
                .await
                .map(|_| ())
                .map_err(|e| MailError::Unavailable(e.into())),
        }
    }
}
