//! The value types one by one. The input, if it is UTF-8 (anything else is
//! skipped), goes whole to `Email::parse`, `DisplayName::parse`,
//! `SessionToken::parse` and `PasswordPolicy::check` (no context). Then it is
//! split at NUL bytes: the first piece is checked as a password with the other
//! pieces as the context words (the account's email and name).
#![no_main]

use auth_fuzz::{check_email_parse, check_name_parse, check_password_policy, check_session_token};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let _ = check_email_parse(input);
    let _ = check_name_parse(input);
    let _ = check_session_token(input);
    let _ = check_password_policy(input, &[]);

    if input.contains('\0') {
        let mut pieces = input.split('\0');
        let password = pieces.next().unwrap_or_default();
        let context: Vec<&str> = pieces.collect();
        let _ = check_password_policy(password, &context);
        for piece in &context {
            let _ = check_email_parse(piece);
            let _ = check_name_parse(piece);
            let _ = check_session_token(piece);
        }
    }
});
