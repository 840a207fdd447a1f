//! The email address that identifies an account.

use std::fmt;

use thiserror::Error;

/// A syntactically valid, normalised email address.
///
/// Construction trims surrounding whitespace and lower-cases the whole
/// address, so `" Foo@Example.COM "` and `"foo@example.com"` are the same
/// account. The accepted syntax is the WHATWG "valid e-mail address" rule that
/// browsers apply to `<input type="email">`, plus a dot in the domain, so what
/// a browser lets through the server accepts too.
///
/// Only ASCII is accepted. Internationalised addresses are rare, and allowing
/// them would let look-alike characters (a Cyrillic `а` for a Latin `a`)
/// register an address that reads the same as someone else's.
///
/// ```
/// use auth_core::Email;
///
/// let email = Email::parse("  Ada@Example.COM ")?;
/// assert_eq!(email.as_str(), "ada@example.com");
/// assert!(Email::parse("not-an-address").is_err());
/// # Ok::<(), auth_core::EmailError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

/// Why a string is not an acceptable [`Email`]. The `Display` text is written
/// for the person who typed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum EmailError {
    /// Nothing but whitespace was given.
    #[error("Enter your email address.")]
    Missing,
    /// Longer than [`Email::MAX_LEN`] bytes.
    #[error("That email address is too long (at most 254 characters).")]
    TooLong,
    /// Contains a character outside ASCII.
    #[error("Use an email address made of plain ASCII letters, digits and punctuation.")]
    NotAscii,
    /// Not of the form `name@domain.tld`.
    #[error("Enter a valid email address, like name@example.com.")]
    Invalid,
    /// The account's current address, given as a new one.
    #[error("That is already your email address.")]
    Unchanged,
}

impl Email {
    /// Longest accepted address in bytes (RFC 5321's path limit minus the
    /// angle brackets).
    pub const MAX_LEN: usize = 254;
    const MAX_LOCAL_LEN: usize = 64;
    const MAX_LABEL_LEN: usize = 63;

    /// Validates and normalises `input`.
    pub fn parse(input: &str) -> Result<Self, EmailError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(EmailError::Missing);
        }
        if trimmed.len() > Self::MAX_LEN {
            return Err(EmailError::TooLong);
        }
        if !trimmed.is_ascii() {
            return Err(EmailError::NotAscii);
        }
        let normalised = trimmed.to_ascii_lowercase();
        let (local, domain) = normalised.split_once('@').ok_or(EmailError::Invalid)?;
        if !valid_local_part(local) || !valid_domain(domain) {
            return Err(EmailError::Invalid);
        }
        Ok(Self(normalised))
    }

    /// The normalised address.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Consumes the value, returning the normalised address.
    pub fn into_string(self) -> String {
        self.0
    }
}

fn valid_local_part(local: &str) -> bool {
    const SPECIALS: &[u8] = b".!#$%&'*+/=?^_`{|}~-";
    !local.is_empty()
        && local.len() <= Email::MAX_LOCAL_LEN
        && local
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || SPECIALS.contains(&b))
}

fn valid_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.len() <= Email::MAX_LABEL_LEN
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

impl AsRef<str> for Email {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Email").field(&self.0).finish()
    }
}

impl std::str::FromStr for Email {
    type Err = EmailError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn normalises_case_and_whitespace() {
        let a = Email::parse("Foo@Example.COM").unwrap();
        let b = Email::parse("  foo@example.com\t").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.as_str(), "foo@example.com");
    }

    #[test]
    fn accepts_common_shapes() {
        for ok in [
            "a@b.co",
            "first.last+tag@sub.example.org",
            "o'brien@example.ie",
            "x_y-z@a-b.example",
            "1234@123.45.com",
        ] {
            assert!(Email::parse(ok).is_ok(), "{ok} should be accepted");
        }
    }

    #[test]
    fn refuses_malformed_addresses() {
        for bad in [
            "plainaddress",
            "@example.com",
            "user@",
            "user@localhost",
            "user@@example.com",
            "user@exa mple.com",
            "user name@example.com",
            "user@-example.com",
            "user@example-.com",
            "user@example..com",
            "user@.example.com",
            "user@example.com.",
            "\"quoted\"@example.com",
            "user@[127.0.0.1]",
            "a@b.c\0",
            "x';DROP TABLE users;--@example.com",
        ] {
            assert_eq!(Email::parse(bad), Err(EmailError::Invalid), "{bad:?}");
        }
    }

    #[test]
    fn refuses_empty_long_and_non_ascii() {
        assert_eq!(Email::parse("   "), Err(EmailError::Missing));
        let long = format!("{}@{}.com", "a".repeat(64), "b".repeat(200));
        assert_eq!(Email::parse(&long), Err(EmailError::TooLong));
        let long_local = format!("{}@example.com", "a".repeat(65));
        assert_eq!(Email::parse(&long_local), Err(EmailError::Invalid));
        // Cyrillic "а" (U+0430) looks like a Latin "a".
        assert_eq!(
            Email::parse("\u{0430}dmin@example.com"),
            Err(EmailError::NotAscii)
        );
        assert_eq!(
            Email::parse("admin@ex\u{0430}mple.com"),
            Err(EmailError::NotAscii)
        );
    }

    proptest! {
        #[test]
        fn parse_never_panics_and_is_idempotent(input in "\\PC{0,80}") {
            if let Ok(email) = Email::parse(&input) {
                prop_assert_eq!(Email::parse(email.as_str()), Ok(email.clone()));
                prop_assert_eq!(email.as_str(), email.as_str().to_ascii_lowercase());
                prop_assert!(email.as_str().len() <= Email::MAX_LEN);
            }
        }

        #[test]
        fn case_never_changes_identity(local in "[a-zA-Z0-9._+-]{1,20}", domain in "[a-zA-Z0-9]{1,20}\\.[a-zA-Z]{2,6}") {
            let input = format!("{local}@{domain}");
            let upper = Email::parse(&input.to_uppercase());
            let lower = Email::parse(&input.to_lowercase());
            prop_assert_eq!(upper, lower);
        }
    }
}
