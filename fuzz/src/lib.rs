//! Invariants shared by the fuzz targets in `fuzz_targets/`.
//!
//! Every check panics (and so makes libFuzzer report a crash) when auth-core
//! breaks a promise its documentation makes. The harness itself never panics
//! on any input: decoding is lossy and nothing is `unwrap`ped on fuzz data.

use auth_core::{
    DisplayName, Email, EmailError, NameError, Password, PasswordError, PasswordPolicy,
    SessionToken,
};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

/// An accepted email: normalised, bounded, and a fixed point of `Email::parse`.
pub fn check_email(email: &Email) {
    let s = email.as_str();
    assert!(!s.is_empty(), "accepted an empty email");
    assert!(
        s.len() <= Email::MAX_LEN,
        "email longer than MAX_LEN: {s:?}"
    );
    assert!(s.is_ascii(), "non-ASCII email: {s:?}");
    assert_eq!(s, s.to_ascii_lowercase(), "email not lower-cased");
    assert_eq!(s, s.trim(), "email not trimmed");
    assert_eq!(
        s.matches('@').count(),
        1,
        "email without exactly one @: {s:?}"
    );
    let (local, domain) = s.split_once('@').expect("one @");
    assert!(
        !local.is_empty() && local.len() <= 64,
        "bad local part: {s:?}"
    );
    assert!(domain.contains('.'), "domain without a dot: {s:?}");
    assert!(
        !s.bytes().any(|b| b.is_ascii_control() || b == b' '),
        "control or space in email: {s:?}"
    );
    // Idempotent: parsing the normalised form gives the same value back.
    assert_eq!(
        Email::parse(s).as_ref(),
        Ok(email),
        "email does not round-trip"
    );
    assert_eq!(email.to_string(), s);
}

/// Checks `Email::parse(input)` against the documented contract.
pub fn check_email_parse(input: &str) -> Result<Email, EmailError> {
    let result = Email::parse(input);
    let trimmed = input.trim();
    match &result {
        Ok(email) => {
            check_email(email);
            assert_eq!(email.as_str(), trimmed.to_ascii_lowercase());
        }
        Err(error) => {
            assert!(!error.to_string().is_empty(), "empty message for {error:?}");
            match error {
                EmailError::Missing => assert!(trimmed.is_empty()),
                EmailError::TooLong => {
                    assert!(!trimmed.is_empty() && trimmed.len() > Email::MAX_LEN)
                }
                EmailError::NotAscii => assert!(!trimmed.is_ascii()),
                _ => assert!(
                    !trimmed.is_empty() && trimmed.len() <= Email::MAX_LEN && trimmed.is_ascii()
                ),
            }
        }
    }
    // Case never changes identity: upper-casing ASCII letters gives the same
    // result (same email, or same error).
    assert_eq!(
        Email::parse(&input.to_ascii_uppercase()),
        result,
        "case changed the outcome for {input:?}"
    );
    result
}

/// An accepted display name: trimmed, non-empty, bounded, no control chars.
pub fn check_name(name: &DisplayName) {
    let s = name.as_str();
    assert!(!s.is_empty(), "accepted an empty name");
    assert_eq!(s, s.trim(), "name not trimmed: {s:?}");
    assert!(
        s.chars().count() <= DisplayName::MAX_CHARS,
        "name longer than MAX_CHARS: {s:?}"
    );
    assert!(
        !s.chars().any(char::is_control),
        "control char in name: {s:?}"
    );
    assert_eq!(
        DisplayName::parse(s).as_ref(),
        Ok(name),
        "name does not round-trip"
    );
}

/// Checks `DisplayName::parse(input)` against the documented contract.
pub fn check_name_parse(input: &str) -> Result<DisplayName, NameError> {
    let result = DisplayName::parse(input);
    let trimmed = input.trim();
    match &result {
        Ok(name) => {
            check_name(name);
            assert_eq!(name.as_str(), trimmed);
        }
        Err(error) => {
            assert!(!error.to_string().is_empty(), "empty message for {error:?}");
            match error {
                NameError::Missing => assert!(trimmed.is_empty()),
                NameError::TooLong => assert!(trimmed.chars().count() > DisplayName::MAX_CHARS),
                _ => assert!(trimmed.chars().any(char::is_control)),
            }
        }
    }
    result
}

/// An accepted password: at most 128 characters, at least 8 characters,
/// no control characters, already in NFKC form, and none of `context`
/// (compared case-insensitively, email local parts too).
pub fn check_password(password: &Password, context: &[&str]) {
    let bytes = password.as_bytes();
    assert_eq!(bytes.len(), password.len_bytes());
    assert!(
        password.len_chars() <= PasswordPolicy::MAX_CHARS,
        "password of {} characters accepted",
        password.len_chars()
    );
    assert!(!bytes.contains(&0), "NUL byte in accepted password");
    let text = std::str::from_utf8(bytes).expect("a password is always UTF-8");
    assert!(
        text.chars().count() >= PasswordPolicy::DEFAULT_MIN_CHARS,
        "password of {} chars accepted",
        text.chars().count()
    );
    assert!(
        !text.chars().any(char::is_control),
        "control char in accepted password"
    );
    // NFKC is idempotent: normalising the stored form changes nothing.
    assert_eq!(
        Password::normalize(text).as_bytes(),
        bytes,
        "password not in NFKC"
    );
    let folded = text.to_lowercase();
    for word in context {
        let word = word.trim();
        let local = word.split_once('@').map(|(local, _)| local);
        for w in [Some(word), local].into_iter().flatten() {
            assert!(
                w.is_empty() || folded != w.to_lowercase(),
                "password equal to a context word was accepted"
            );
        }
    }
}

/// Checks `PasswordPolicy::default().check(raw, context)`.
pub fn check_password_policy(raw: &str, context: &[&str]) -> Result<Password, PasswordError> {
    let policy = PasswordPolicy::default();
    let result = policy.check(raw, context);
    match &result {
        Ok(password) => {
            check_password(password, context);
            // Same bytes as a login would hash.
            assert_eq!(Password::normalize(raw).as_bytes(), password.as_bytes());
            // Context only ever adds refusals.
            let alone = policy
                .check(raw, &[])
                .expect("accepted with context, refused without");
            assert_eq!(alone.as_bytes(), password.as_bytes());
        }
        Err(error) => {
            assert!(!error.to_string().is_empty(), "empty message for {error:?}");
            match error {
                PasswordError::Missing => assert!(raw.is_empty()),
                PasswordError::TooShort { min } => {
                    assert_eq!(*min, PasswordPolicy::DEFAULT_MIN_CHARS)
                }
                PasswordError::TooLong { max_chars } => {
                    assert_eq!(*max_chars, PasswordPolicy::MAX_CHARS);
                    assert!(Password::normalize(raw).len_chars() > PasswordPolicy::MAX_CHARS);
                }
                PasswordError::ControlCharacter => {
                    let normalised = Password::normalize(raw);
                    let text = std::str::from_utf8(normalised.as_bytes()).expect("UTF-8");
                    assert!(text.chars().any(char::is_control));
                }
                _ => {}
            }
        }
    }
    result
}

/// Checks `SessionToken::parse(input)`: only 43 characters of canonical
/// unpadded base64url for 32 bytes are accepted, and kept verbatim.
pub fn check_session_token(input: &str) -> Option<SessionToken> {
    let token = SessionToken::parse(input);
    if let Some(token) = &token {
        let secret = token.expose_secret();
        assert_eq!(secret, input, "token text changed by parsing");
        assert_eq!(secret.len(), 43, "token of {} bytes accepted", secret.len());
        assert_eq!(secret.chars().count(), 43);
        assert!(
            secret
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "non-base64url character in accepted token"
        );
        let decoded = URL_SAFE_NO_PAD
            .decode(secret)
            .expect("accepted token decodes");
        assert_eq!(decoded.len(), 32);
        assert_eq!(
            URL_SAFE_NO_PAD.encode(&decoded),
            secret,
            "non-canonical token accepted"
        );
        assert_eq!(SessionToken::parse(secret).as_ref(), Some(token));
        assert_eq!(format!("{token:?}"), "SessionToken(<redacted>)");
    } else if input.len() == 43 {
        // A refused 43-byte string must not be canonical base64url of 32 bytes.
        if let Ok(decoded) = URL_SAFE_NO_PAD.decode(input) {
            assert_ne!(decoded.len(), 32, "valid token refused: {input:?}");
        }
    }
    token
}
