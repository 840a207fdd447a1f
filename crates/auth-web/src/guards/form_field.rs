//! The one field type of this site's forms.

use std::ops::Deref;

use rocket::form::error::ErrorKind;
use rocket::form::{self, DataField, Errors, FromForm, Options, ValueField};

/// A text field that is read strictly, because every form here is small and
/// fixed:
///
/// - missing: empty, so the form answers "Enter your …" like a blank field;
/// - sent twice: an error (422). Which copy a server picks is where HTTP
///   parameter pollution attacks live, so neither is picked;
/// - not valid UTF-8: an error (422). Rocket decodes form values lossily,
///   turning bad bytes into U+FFFD; a password must not silently change;
/// - a file upload in its place: an error (422).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TextField(String);

impl TextField {
    /// The value as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Deref for TextField {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

/// Parsing state of a [`TextField`].
#[derive(Default)]
pub struct Context<'r> {
    value: Option<String>,
    errors: Errors<'r>,
}

#[rocket::async_trait]
impl<'r> FromForm<'r> for TextField {
    type Context = Context<'r>;

    fn init(_: Options) -> Context<'r> {
        Context::default()
    }

    fn push_value(ctxt: &mut Context<'r>, field: ValueField<'r>) {
        if ctxt.value.is_some() {
            ctxt.errors
                .push(form::Error::from(ErrorKind::Duplicate).with_name(field.name));
        } else if field.value.contains(char::REPLACEMENT_CHARACTER) {
            ctxt.errors
                .push(form::Error::validation("not valid UTF-8").with_name(field.name));
        } else {
            ctxt.value = Some(field.value.to_owned());
        }
    }

    async fn push_data(ctxt: &mut Context<'r>, field: DataField<'r, '_>) {
        ctxt.errors
            .push(form::Error::from(ErrorKind::Unexpected).with_name(field.name));
    }

    fn push_error(ctxt: &mut Context<'r>, error: form::Error<'r>) {
        ctxt.errors.push(error);
    }

    fn finalize(ctxt: Context<'r>) -> form::Result<'r, Self> {
        if ctxt.errors.is_empty() {
            Ok(Self(ctxt.value.unwrap_or_default()))
        } else {
            Err(ctxt.errors)
        }
    }

    fn default(_: Options) -> Option<Self> {
        Some(Self(String::new()))
    }
}
