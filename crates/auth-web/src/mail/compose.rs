//! From a [`Mail`] to the words of a message: the subject, and the text
//! and HTML parts rendered from `templates/mail/<kind>.txt.jinja` and
//! `<kind>.html.jinja`, with every link built on the site's configured
//! address. (`.jinja`, so that no one takes them for pages, which are
//! `.html.j2`.)

use std::path::Path;

use auth_core::time::Duration;
use auth_core::{Mail, MailKind, Message};
use minijinja::Environment;
use serde::Serialize;

use crate::routes::{account, email, recovery};

/// A message's words.
#[derive(Debug)]
pub struct Composed {
    /// The subject line.
    pub subject: &'static str,
    /// The plain-text part.
    pub text: String,
    /// The HTML part.
    pub html: String,
}

/// The mail templates, loaded from the template directory's `mail/`.
#[derive(Debug)]
pub struct MailTemplates {
    env: Environment<'static>,
}

/// What every mail template gets.
#[derive(Serialize)]
struct MailView<'a> {
    name: &'a str,
    /// The site's address.
    site: &'a str,
    /// When it happened, in UTC.
    at: String,
    /// The link to follow, for a mail that has one.
    link: Option<String>,
    /// How long the link works, in words.
    valid_for: Option<String>,
    /// The new address, for a notice of an address change.
    new_email: Option<&'a str>,
    /// For a notice of a second-factor change: whether it is on now, and
    /// the recovery codes left.
    two_factor_on: Option<bool>,
    recovery_codes: u32,
    /// For a notice of a second-factor or passkey change: the passkeys the
    /// account has now.
    passkeys: u32,
    /// Where to reset the password, for "if it was not you".
    forgot: String,
}

impl MailTemplates {
    /// Loads and compiles every mail template under `template_dir`; the
    /// error names the template that is missing or broken.
    pub fn load(template_dir: &Path) -> Result<Self, String> {
        let mut env = Environment::new();
        env.set_loader(minijinja::path_loader(template_dir));
        for kind in MailKind::ALL {
            for part in ["txt", "html"] {
                let name = template_name(kind, part);
                env.get_template(&name)
                    .map_err(|e| format!("mail template {name}: {e}"))?;
            }
        }
        Ok(Self { env })
    }

    /// The words of `mail`, with links on `site` (no trailing slash).
    pub fn compose(&self, mail: &Mail, site: &str) -> Result<Composed, minijinja::Error> {
        let (subject, link, valid_for) = match &mail.message {
            Message::PasswordReset { token, valid_for } => (
                "Reset your password",
                Some(recovery::reset_link(token)),
                Some(*valid_for),
            ),
            Message::ConfirmEmail { token, valid_for } => (
                "Confirm your email address",
                Some(email::confirm_link(token)),
                Some(*valid_for),
            ),
            Message::ConfirmNewEmail { token, valid_for } => (
                "Confirm your new email address",
                Some(email::change_link(token)),
                Some(*valid_for),
            ),
            Message::PasswordChanged => ("Your password was changed", None, None),
            Message::EmailChanged { .. } => ("Your email address was changed", None, None),
            Message::SecondFactorChanged { .. } => ("Your two-factor sign-in changed", None, None),
            Message::PasskeysChanged { .. } => ("Your passkeys changed", None, None),
            _ => ("A message about your account", None, None),
        };
        let new_email = match &mail.message {
            Message::EmailChanged { new_email } => Some(new_email.as_str()),
            _ => None,
        };
        let (two_factor_on, recovery_codes, passkeys) = match &mail.message {
            Message::SecondFactorChanged {
                on,
                recovery_codes,
                passkeys,
            } => (Some(*on), *recovery_codes, *passkeys),
            Message::PasskeysChanged { passkeys } => (None, 0, *passkeys),
            _ => (None, 0, 0),
        };
        let view = MailView {
            name: mail.name.as_str(),
            site,
            at: account::when(mail.at),
            link: link.map(|path| format!("{site}{path}")),
            valid_for: valid_for.map(in_words),
            new_email,
            two_factor_on,
            recovery_codes,
            passkeys,
            forgot: format!("{site}{}", recovery::forgot_path()),
        };
        let kind = mail.message.kind();
        let render = |part| {
            self.env
                .get_template(&template_name(kind, part))?
                .render(&view)
        };
        Ok(Composed {
            subject,
            text: render("txt")?,
            html: render("html")?,
        })
    }
}

fn template_name(kind: MailKind, part: &str) -> String {
    format!("mail/{}.{part}.jinja", kind.as_str())
}

/// "1 hour", "3 days", "30 minutes": a link's lifetime, for its mail.
pub fn in_words(d: Duration) -> String {
    let (n, unit) = if d.whole_days() >= 1 && d.whole_hours() % 24 == 0 {
        (d.whole_days(), "day")
    } else if d.whole_hours() >= 1 && d.whole_minutes() % 60 == 0 {
        (d.whole_hours(), "hour")
    } else {
        (d.whole_minutes().max(1), "minute")
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::{in_words, MailTemplates};
    use auth_core::time::{Duration, OffsetDateTime};
    use auth_core::{DisplayName, Email, Mail, Message};

    #[test]
    fn the_html_part_escapes_what_the_user_typed_and_the_text_part_keeps_it() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../templates");
        let templates = MailTemplates::load(&root).expect("the shipped templates load");
        let mail = Mail {
            to: Email::parse("ada@example.com").unwrap(),
            name: DisplayName::parse("Ada <b>&</b>").unwrap(),
            at: OffsetDateTime::UNIX_EPOCH,
            message: Message::PasswordChanged,
        };
        let composed = templates.compose(&mail, "https://example.com").unwrap();
        assert_eq!(composed.subject, "Your password was changed");
        assert!(
            composed.html.contains("Ada &lt;b&gt;&amp;&lt;&#x2f;b&gt;"),
            "{}",
            composed.html
        );
        assert!(
            composed.text.contains("Hello Ada <b>&</b>,"),
            "{}",
            composed.text
        );
        assert!(composed
            .text
            .contains("https://example.com/password/forgot"));
    }

    #[test]
    fn lifetimes_in_words() {
        assert_eq!(in_words(Duration::hours(1)), "1 hour");
        assert_eq!(in_words(Duration::days(3)), "3 days");
        assert_eq!(in_words(Duration::minutes(90)), "90 minutes");
        assert_eq!(in_words(Duration::seconds(5)), "1 minute");
    }
}
