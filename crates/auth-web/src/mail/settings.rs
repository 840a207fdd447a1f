//! The mail settings, checked at start-up: where mail goes (an SMTP server
//! or the outbox), who it is from, and the site's address for links.

use std::fmt;
use std::path::{Path, PathBuf};

use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, Tokio1Executor};
use serde::{Deserialize, Serialize};

use crate::setup::config::InvalidSetting;

/// `smtp_url`: the SMTP server, with its credentials. Never shown whole:
/// `Debug` and [`SmtpUrl::redacted`] leave the user and password out.
#[derive(Clone, Deserialize, Serialize)]
#[serde(transparent)]
pub struct SmtpUrl(String);

impl SmtpUrl {
    /// The URL without its user and password, for the log and messages.
    pub fn redacted(&self) -> String {
        let (scheme, rest) = self.0.split_once("://").unwrap_or(("", &self.0));
        let rest = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
        format!("{scheme}://{rest}")
    }
}

impl fmt::Debug for SmtpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SmtpUrl({})", self.redacted())
    }
}

/// How long one SMTP command may take before the mail is tried again
/// later (the whole hand-over is bounded too, by the mailer).
const SMTP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Where mail goes.
#[derive(Clone)]
pub enum Destination {
    /// An SMTP server, and the client for it.
    Smtp(SmtpUrl, AsyncSmtpTransport<Tokio1Executor>),
    /// `.eml` files in a directory (the embedded default).
    Outbox(PathBuf),
}

/// Shows the server without its credentials.
impl fmt::Debug for Destination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Smtp(url, _) => f.debug_tuple("Smtp").field(url).finish(),
            Self::Outbox(dir) => f.debug_tuple("Outbox").field(dir).finish(),
        }
    }
}

/// The mail settings, checked.
#[derive(Debug, Clone)]
pub struct MailSettings {
    /// Where mail goes.
    pub destination: Destination,
    /// The sender.
    pub from: Mailbox,
    /// The site's address for links, without a trailing slash; `None`:
    /// the address the server listens on, once it does.
    pub public_url: Option<String>,
}

impl MailSettings {
    /// Checks the raw settings. With no `smtp_url`, mail goes to `outbox`
    /// (created if missing, readable by its owner only: its mail holds live
    /// links). `public_url` must be an absolute `http(s)` URL.
    pub fn new(
        smtp_url: Option<&SmtpUrl>,
        outbox: &Path,
        from: &str,
        public_url: Option<&str>,
    ) -> Result<Self, InvalidSetting> {
        let destination = match smtp_url {
            Some(url) => {
                let builder =
                    AsyncSmtpTransport::<Tokio1Executor>::from_url(&url.0).map_err(|e| {
                        InvalidSetting::new(
                            "smtp_url",
                            url.redacted(),
                            format!(
                                "{e} (use smtp://host:port, smtp://host:587?tls=required \
                             or smtps://user:password@host:465)"
                            ),
                        )
                    })?;
                Destination::Smtp(url.clone(), builder.timeout(Some(SMTP_TIMEOUT)).build())
            }
            None => {
                create_private_dir(outbox).map_err(|e| {
                    InvalidSetting::new("mail_outbox", outbox.display(), e.to_string())
                })?;
                Destination::Outbox(outbox.to_path_buf())
            }
        };
        let from = from.parse::<Mailbox>().map_err(|e| {
            InvalidSetting::new(
                "mail_from",
                from,
                format!("{e} (use an address, or \"Name <address>\")"),
            )
        })?;
        let public_url = public_url
            .map(|url| {
                let url = url.trim().trim_end_matches('/');
                let absolute = url.starts_with("https://") || url.starts_with("http://");
                let host = url.split_once("://").map_or("", |(_, rest)| rest);
                if !absolute || host.is_empty() || host.contains(['?', '#', ' ']) {
                    return Err(InvalidSetting::new(
                        "public_url",
                        url,
                        "must be the site's absolute address, like https://auth.example.com",
                    ));
                }
                Ok(url.to_owned())
            })
            .transpose()?;
        Ok(Self {
            destination,
            from,
            public_url,
        })
    }
}

/// Creates `dir` (and its parents) if missing; the directory itself, on
/// Unix, with mode 0700.
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_never_shows() {
        let url = SmtpUrl("smtps://mailer:s3cret@smtp.example.com:465".into());
        assert_eq!(url.redacted(), "smtps://smtp.example.com:465");
        assert!(!format!("{url:?}").contains("s3cret"));
    }

    #[test]
    fn bad_settings_name_themselves() {
        let dir = tempfile::tempdir().unwrap();
        let bad = SmtpUrl("ftp://nowhere".into());
        let e = MailSettings::new(Some(&bad), dir.path(), "a@example.com", None).unwrap_err();
        assert_eq!(e.setting, "smtp_url");
        let e = MailSettings::new(None, dir.path(), "not an address", None).unwrap_err();
        assert_eq!(e.setting, "mail_from");
        let e =
            MailSettings::new(None, dir.path(), "a@example.com", Some("example.com")).unwrap_err();
        assert_eq!(e.setting, "public_url");
        let ok = MailSettings::new(
            None,
            dir.path(),
            "Site <a@example.com>",
            Some("https://x.example/"),
        )
        .unwrap();
        assert_eq!(ok.public_url.as_deref(), Some("https://x.example"));
    }

    #[cfg(unix)]
    #[test]
    fn a_new_outbox_is_its_owners_alone() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let outbox = dir.path().join("data").join("outbox");
        MailSettings::new(None, &outbox, "a@example.com", None).unwrap();
        let mode = std::fs::metadata(&outbox).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
    }
}
