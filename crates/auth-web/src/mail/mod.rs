//! Mail: the site's [`Mailer`](auth_core::Mailer) (templates rendered into
//! a message, sent over SMTP or written to the outbox) and the worker that
//! drains the service's mail queue while the server runs.

pub mod compose;
pub mod settings;
pub mod transport;
pub mod worker;

pub use compose::MailTemplates;
pub use settings::{MailSettings, SmtpUrl};
pub use transport::SiteMailer;
