//! The name a person gives at registration and sees on their pages.

use std::fmt;

use thiserror::Error;

/// A person's display name: trimmed, non-empty, at most
/// [`DisplayName::MAX_CHARS`] characters, free of control characters.
///
/// Any script is welcome; the name is shown back to its owner (HTML-escaped by
/// the templates), never used to identify an account.
///
/// ```
/// use auth_core::DisplayName;
///
/// assert_eq!(DisplayName::parse("  Ada Lovelace ")?.as_str(), "Ada Lovelace");
/// assert!(DisplayName::parse("   ").is_err());
/// # Ok::<(), auth_core::NameError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct DisplayName(String);

/// Why a string is not an acceptable [`DisplayName`]. The `Display` text is
/// written for the person who typed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum NameError {
    /// Nothing but whitespace was given.
    #[error("Enter your name.")]
    Missing,
    /// More than [`DisplayName::MAX_CHARS`] characters.
    #[error("That name is too long (at most 100 characters).")]
    TooLong,
    /// Contains a control character such as a NUL byte or a line break.
    #[error("Your name cannot contain control characters such as line breaks.")]
    ControlCharacter,
}

impl DisplayName {
    /// Longest accepted name, in characters (Unicode scalar values).
    pub const MAX_CHARS: usize = 100;

    /// Validates and trims `input`.
    pub fn parse(input: &str) -> Result<Self, NameError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(NameError::Missing);
        }
        if trimmed.chars().count() > Self::MAX_CHARS {
            return Err(NameError::TooLong);
        }
        if trimmed.chars().any(char::is_control) {
            return Err(NameError::ControlCharacter);
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// The name as given, without surrounding whitespace.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for DisplayName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DisplayName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for DisplayName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("DisplayName").field(&self.0).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn trims_and_keeps_any_script() {
        assert_eq!(DisplayName::parse(" Zoë ").unwrap().as_str(), "Zoë");
        assert_eq!(DisplayName::parse("山田太郎").unwrap().as_str(), "山田太郎");
        assert_eq!(
            DisplayName::parse("<script>alert(1)</script>")
                .unwrap()
                .as_str(),
            "<script>alert(1)</script>"
        );
    }

    #[test]
    fn refuses_empty_long_and_control_characters() {
        assert_eq!(DisplayName::parse(""), Err(NameError::Missing));
        assert_eq!(DisplayName::parse(" \t\n"), Err(NameError::Missing));
        assert!(DisplayName::parse(&"é".repeat(100)).is_ok());
        assert_eq!(
            DisplayName::parse(&"é".repeat(101)),
            Err(NameError::TooLong)
        );
        assert_eq!(
            DisplayName::parse("Ada\0Lovelace"),
            Err(NameError::ControlCharacter)
        );
        assert_eq!(
            DisplayName::parse("Ada\nLovelace"),
            Err(NameError::ControlCharacter)
        );
    }

    proptest! {
        #[test]
        fn valid_names_are_trimmed_bounded_and_clean(input in "\\PC{0,120}") {
            if let Ok(name) = DisplayName::parse(&input) {
                prop_assert_eq!(name.as_str(), name.as_str().trim());
                prop_assert!(!name.as_str().is_empty());
                prop_assert!(name.as_str().chars().count() <= DisplayName::MAX_CHARS);
                prop_assert!(!name.as_str().chars().any(char::is_control));
            }
        }
    }
}
