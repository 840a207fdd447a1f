//! The mail worker: while the server runs, sends what the service queues,
//! retrying what the mail server does not take, and logs each failure.

use std::sync::Arc;
use std::time::Duration;

use rocket::fairing::{AdHoc, Fairing};
use rocket::tokio;

use crate::http::error::describe;
use crate::mail::{MailSettings, MailTemplates, SiteMailer};
use crate::setup::{site, Auth};

/// How long the worker sleeps when the queue is empty before looking
/// again: mail queued by another instance, or due for a retry, goes out
/// within this time (mail queued here wakes it at once).
const POLL: Duration = Duration::from_secs(1);

/// Starts the mail worker once the server listens, with links on
/// `public_url` or, if that is not set, on the address it listens on.
pub fn fairing(settings: MailSettings, templates: Arc<MailTemplates>) -> impl Fairing {
    AdHoc::on_liftoff("Mail worker", move |rocket| {
        Box::pin(async move {
            let Some(auth) = rocket.state::<Auth>().cloned() else {
                return;
            };
            let site = site::url(settings.public_url.as_deref(), rocket.config());
            log::info!(
                "Mail goes to {}, with links to {site}",
                SiteMailer::describe(&settings)
            );
            let mailer = SiteMailer::new(&settings, templates, site);
            let mut shutdown = rocket.shutdown();
            tokio::spawn(async move {
                loop {
                    // A round is never cut short: a mail claimed and then
                    // abandoned would wait out its lease before anyone
                    // sent it. Shutting down waits for the round.
                    let busy = deliver(&auth, &mailer).await;
                    if busy {
                        continue;
                    }
                    tokio::select! {
                        _ = auth.wait_for_mail(POLL) => {}
                        _ = &mut shutdown => break,
                    }
                }
            });
        })
    })
}

/// One round; `true` if it found mail (so there may be more at once).
async fn deliver(auth: &Auth, mailer: &SiteMailer) -> bool {
    match auth.deliver_mail(mailer).await {
        Ok((delivery, failures)) => {
            for failure in failures {
                let what = if failure.dropped {
                    "given up"
                } else {
                    "will be retried"
                };
                log::warn!(
                    target: "mail",
                    mail_id = failure.id,
                    kind = failure.kind.as_str(),
                    attempts = failure.attempts;
                    "Mail not sent, {what}: {}",
                    describe(&failure.error)
                );
            }
            if delivery.sent > 0 {
                log::info!(target: "mail", sent = delivery.sent; "Mail sent");
            }
            delivery.total() > 0 && delivery.retried < delivery.total()
        }
        Err(e) => {
            log::warn!(target: "mail", "Mail queue unavailable: {}", describe(&e));
            tokio::time::sleep(POLL).await;
            false
        }
    }
}
