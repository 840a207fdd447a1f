//! The rules a new password must meet, and the normalisation every password
//! goes through before it is hashed or checked.

use std::collections::HashSet;
use std::sync::OnceLock;

use thiserror::Error;
use unicode_normalization::UnicodeNormalization;
use zeroize::Zeroizing;

/// Why a new password is refused. The `Display` text is written for the
/// person choosing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum PasswordError {
    /// No password was given.
    #[error("Enter a password.")]
    Missing,
    /// Fewer characters than the policy's minimum.
    #[error("Use at least {min} characters for your password.")]
    TooShort {
        /// The minimum number of characters.
        min: usize,
    },
    /// More characters than the policy's maximum.
    #[error("That password is too long: use at most {max_chars} characters.")]
    TooLong {
        /// The maximum number of characters (after normalisation).
        max_chars: usize,
    },
    /// Contains a control character such as a NUL byte.
    #[error("Your password cannot contain control characters such as NUL bytes or line breaks.")]
    ControlCharacter,
    /// On the list of commonly used passwords.
    #[error(
        "That password is one of the most commonly used ones. Choose one that is harder to guess."
    )]
    Common,
    /// The same as the account's email address, its local part, or the name.
    #[error("Your password must not be your email address or your name.")]
    PersonalInformation,
}

/// A password as it is hashed and verified: normalised to Unicode NFKC, so the
/// same password typed on two keyboards (a precomposed `é` or `e` plus a
/// combining accent) is the same password, as NIST SP 800-63B §5.1.1.2 asks.
/// The text as typed is kept beside it, for hashes made elsewhere without
/// normalising (imported Werkzeug hashes). The buffers are zeroed when
/// dropped, and `Debug` never shows them.
#[derive(Clone)]
pub struct Password(Zeroizing<String>, Zeroizing<String>);

impl Password {
    /// Normalises `raw` without checking any rule: what a login does with the
    /// password it is given.
    pub fn normalize(raw: &str) -> Self {
        Self(
            Zeroizing::new(raw.nfkc().collect()),
            Zeroizing::new(raw.to_owned()),
        )
    }

    /// The normalised password's bytes, as handed to the hasher.
    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }

    /// The password's bytes exactly as typed, before normalisation: what a
    /// hasher verifying a hash made by another system (which hashed the raw
    /// UTF-8) must use.
    pub fn as_typed_bytes(&self) -> &[u8] {
        self.1.as_bytes()
    }

    /// Length in bytes after normalisation.
    pub fn len_bytes(&self) -> usize {
        self.0.len()
    }

    /// Length in characters after normalisation.
    pub fn len_chars(&self) -> usize {
        self.0.chars().count()
    }

    fn chars(&self) -> std::str::Chars<'_> {
        self.0.chars()
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// What a new password must satisfy.
///
/// The defaults follow NIST SP 800-63B: at least 8 characters, no composition
/// rules, refused if it is a commonly used password or the account's own email
/// or name. Up to [`PasswordPolicy::MAX_CHARS`] characters in any script are
/// accepted (OWASP ASVS 4.0.3 §2.1.2); every one of them counts, since
/// [`BcryptHasher`](crate::BcryptHasher) pre-hashes the password instead of
/// letting bcrypt cut it at 72 bytes. Longer ones are refused with a message,
/// never cut.
///
/// ```
/// use auth_core::{PasswordError, PasswordPolicy};
///
/// let policy = PasswordPolicy::default();
/// assert!(policy.check("correct horse battery staple", &[]).is_ok());
/// assert_eq!(policy.check("short", &[]).unwrap_err(), PasswordError::TooShort { min: 8 });
/// assert_eq!(policy.check("password123", &[]).unwrap_err(), PasswordError::Common);
/// assert_eq!(
///     policy.check("ada@example.com", &["ada@example.com"]).unwrap_err(),
///     PasswordError::PersonalInformation,
/// );
/// ```
///
/// Like [`SessionPolicy`](crate::SessionPolicy) and
/// [`ThrottlePolicy`](crate::ThrottlePolicy), it is plain data: start from
/// `Default` and set the fields you change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordPolicy {
    /// The shortest password, in characters (1 to [`Self::MAX_CHARS`]).
    pub min_chars: usize,
    /// Whether passwords on the built-in common-password list are refused.
    pub refuse_common: bool,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self {
            min_chars: Self::DEFAULT_MIN_CHARS,
            refuse_common: true,
        }
    }
}

impl PasswordPolicy {
    /// The default minimum length, in characters.
    pub const DEFAULT_MIN_CHARS: usize = 8;
    /// The longest password accepted, in characters (after normalisation):
    /// OWASP ASVS 4.0.3 §2.1.2's upper bound.
    pub const MAX_CHARS: usize = 128;

    /// Checks a new password. `context` holds words the password must not be,
    /// compared without regard to case: the account's email, name and so on.
    /// The email's part before the `@` is checked as well.
    pub fn check(&self, raw: &str, context: &[&str]) -> Result<Password, PasswordError> {
        if raw.is_empty() {
            return Err(PasswordError::Missing);
        }
        let password = Password::normalize(raw);
        if password.chars().any(char::is_control) {
            return Err(PasswordError::ControlCharacter);
        }
        let chars = password.len_chars();
        let min = self.min_chars.clamp(1, Self::MAX_CHARS);
        if chars < min {
            return Err(PasswordError::TooShort { min });
        }
        if chars > Self::MAX_CHARS {
            return Err(PasswordError::TooLong {
                max_chars: Self::MAX_CHARS,
            });
        }
        let folded = Zeroizing::new(password.0.to_lowercase());
        if self.refuse_common && is_common(&folded) {
            return Err(PasswordError::Common);
        }
        let personal = context
            .iter()
            .flat_map(|word| {
                let word = word.trim();
                [Some(word), word.split_once('@').map(|(local, _)| local)]
            })
            .flatten()
            .filter(|word| !word.is_empty());
        for word in personal {
            if folded.as_str() == word.to_lowercase() {
                return Err(PasswordError::PersonalInformation);
            }
        }
        Ok(password)
    }
}

/// Whether a lower-cased password is on the shipped common-password list.
fn is_common(folded: &str) -> bool {
    static LIST: OnceLock<HashSet<&'static str>> = OnceLock::new();
    LIST.get_or_init(|| {
        include_str!("../data/common-passwords.txt")
            .lines()
            .filter(|line| !line.starts_with('#') && !line.is_empty())
            .collect()
    })
    .contains(folded)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn length_is_counted_in_characters_in_any_script() {
        let policy = PasswordPolicy::default();
        assert!(policy.check("abcdefgh-x", &[]).is_ok());
        assert_eq!(
            policy.check("abc1234", &[]).unwrap_err(),
            PasswordError::TooShort { min: 8 }
        );
        // Eight characters but sixteen bytes: long enough.
        assert!(policy.check("éüöäàèìò", &[]).is_ok());
        assert!(policy.check(&"k".repeat(128), &[]).is_ok());
        assert_eq!(
            policy.check(&"k".repeat(129), &[]).unwrap_err(),
            PasswordError::TooLong { max_chars: 128 }
        );
        // 128 CJK characters are 384 bytes: allowed, as ASVS 2.1.2 asks.
        assert!(policy.check(&"漢字仮名交".repeat(25), &[]).is_ok());
        assert!(policy.check(&"字".repeat(128), &[]).is_ok());
        assert_eq!(
            policy.check(&"字".repeat(129), &[]).unwrap_err(),
            PasswordError::TooLong { max_chars: 128 }
        );
    }

    #[test]
    fn refuses_missing_control_common_and_personal() {
        let policy = PasswordPolicy::default();
        assert_eq!(policy.check("", &[]).unwrap_err(), PasswordError::Missing);
        assert_eq!(
            policy.check("abc\0defghij", &[]).unwrap_err(),
            PasswordError::ControlCharacter
        );
        for common in [
            "password",
            "PASSWORD1",
            "12345678",
            "iloveyou1",
            "qwertyuiop",
        ] {
            assert_eq!(
                policy.check(common, &[]).unwrap_err(),
                PasswordError::Common,
                "{common}"
            );
        }
        assert_eq!(
            policy
                .check("Lovelace1815", &["lovelace1815@example.com", "Ada"])
                .unwrap_err(),
            PasswordError::PersonalInformation
        );
        assert_eq!(
            policy
                .check("Ada Lovelace", &["x@example.com", "ada lovelace"])
                .unwrap_err(),
            PasswordError::PersonalInformation
        );
        let lenient = PasswordPolicy {
            refuse_common: false,
            ..PasswordPolicy::default()
        };
        assert!(lenient.check("password", &[]).is_ok());
    }

    #[test]
    fn normalisation_makes_composed_and_decomposed_equal() {
        let composed = Password::normalize("caf\u{e9}-secret");
        let decomposed = Password::normalize("cafe\u{301}-secret");
        assert_eq!(composed.as_bytes(), decomposed.as_bytes());
        // NFKC also folds compatibility forms such as full-width letters.
        assert_eq!(Password::normalize("\u{ff21}").as_bytes(), b"A");
    }

    #[test]
    fn debug_never_shows_the_password() {
        let shown = format!("{:?}", Password::normalize("hunter2-secret"));
        assert!(!shown.contains("hunter2"), "{shown}");
    }

    #[test]
    fn the_shipped_list_has_thousands_of_lowercase_entries() {
        let entries: Vec<&str> = include_str!("../data/common-passwords.txt")
            .lines()
            .filter(|l| !l.starts_with('#'))
            .collect();
        assert!(entries.len() > 5_000, "{}", entries.len());
        assert!(entries
            .iter()
            .all(|e| e.chars().count() >= 8 && *e == e.to_lowercase()));
    }

    proptest! {
        #[test]
        fn accepted_passwords_are_within_bounds(raw in "\\PC{0,140}") {
            if let Ok(password) = PasswordPolicy::default().check(&raw, &[]) {
                prop_assert!(password.len_chars() <= PasswordPolicy::MAX_CHARS);
                prop_assert!(password.as_bytes().iter().all(|b| *b != 0));
            }
        }
    }
}
