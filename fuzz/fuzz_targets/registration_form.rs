//! The registration form as a browser posts it: the input is an
//! `application/x-www-form-urlencoded` body. The first `email`, `name` and
//! `password` fields (empty when missing) go to `Registration::validate`
//! with the default policy. The web app refuses duplicated fields before
//! validation; here the first one wins, so every body reaches the checks.
#![no_main]

use std::borrow::Cow;

use auth_core::{PasswordPolicy, Registration};
use auth_fuzz::{check_email_parse, check_name_parse, check_password, check_password_policy};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    let (mut email, mut name, mut password) = (None, None, None);
    // Percent-decoding and `+` to space; invalid UTF-8 becomes U+FFFD.
    for (key, value) in form_urlencoded::parse(body) {
        let slot = match &*key {
            "email" => &mut email,
            "name" => &mut name,
            "password" => &mut password,
            _ => continue,
        };
        if slot.is_none() {
            *slot = Some(value);
        }
    }
    let email: Cow<str> = email.unwrap_or_default();
    let name: Cow<str> = name.unwrap_or_default();
    let password: Cow<str> = password.unwrap_or_default();

    let form = Registration {
        email: &email,
        name: &name,
        password: &password,
    };
    let context = [&*email, &*name];
    match form.validate(&PasswordPolicy::default()) {
        Ok(valid) => {
            // Each field meets its type's invariants and is exactly what the
            // field's own parser makes of it (check_* also round-trip it).
            let alone = check_email_parse(&email).expect("form accepted a refused email");
            assert_eq!(valid.email, alone);
            let alone = check_name_parse(&name).expect("form accepted a refused name");
            assert_eq!(valid.name, alone);
            check_password(&valid.password, &context);
            let alone = check_password_policy(&password, &context)
                .expect("form accepted a refused password");
            assert_eq!(valid.password.as_bytes(), alone.as_bytes());
        }
        Err(errors) => {
            assert!(
                errors.email.is_some() || errors.name.is_some() || errors.password.is_some(),
                "Err with no field error"
            );
            assert!(!errors.is_empty());
            if let Some(e) = errors.email {
                assert!(!e.to_string().is_empty(), "empty email message: {e:?}");
            }
            if let Some(e) = errors.name {
                assert!(!e.to_string().is_empty(), "empty name message: {e:?}");
            }
            if let Some(e) = errors.password {
                assert!(!e.to_string().is_empty(), "empty password message: {e:?}");
            }
            // Field by field, the same verdict as the parsers on their own.
            assert_eq!(errors.email, check_email_parse(&email).err());
            assert_eq!(errors.name, check_name_parse(&name).err());
            assert_eq!(
                errors.password,
                check_password_policy(&password, &context).err()
            );
        }
    }
});
