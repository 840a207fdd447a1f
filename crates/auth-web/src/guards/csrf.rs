//! Protection against cross-site request forgery, for every form that
//! changes state.
//!
//! Two independent checks, both required:
//!
//! 1. Where the request comes from. Browsers send `Sec-Fetch-Site` and
//!    `Origin` with form posts; a post from another site (or from a sibling
//!    subdomain, `same-site`) is refused. Clients that send neither, such as
//!    old browsers and scripts, are judged by the token alone.
//! 2. A synchronizer token. The browser holds a random 256-bit secret in a
//!    private cookie (encrypted with the secret key, `HttpOnly`,
//!    `SameSite=Lax`): the pre-session cookie, replaced at every login and
//!    logout. Each form carries the secret masked with a fresh random pad
//!    (so the page never contains the same bytes twice, which defeats
//!    compression side channels such as BREACH); a post is accepted only if
//!    its unmasked token equals the cookie's secret, compared in constant
//!    time. Another site can neither read the page nor forge the cookie.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rocket::data::{self, Data, FromData};
use rocket::form::{self, DataField, Form, FromForm, Options, ValueField};
use rocket::http::uri::Host;
use rocket::http::{CookieJar, Status};
use rocket::outcome::Outcome;
use rocket::request::Request;
use subtle::ConstantTimeEq;

use crate::guards::cookie_policy::{CookieName, CookiePolicy};
use crate::guards::form_field::TextField;

const SECRET_BYTES: usize = 32;

/// The masked token for this response's forms. Its `Debug` leaves the
/// token out: with its pad it is the secret.
#[derive(Clone)]
pub struct CsrfToken(String);

impl std::fmt::Debug for CsrfToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CsrfToken(..)")
    }
}

impl CsrfToken {
    /// A token for the forms of the page answering `req`; on a visitor's
    /// first page with a form, a new secret, set in its cookie.
    pub fn for_request(req: &Request<'_>) -> Result<Self, auth_core::RandomError> {
        let policy = CookiePolicy::of(req);
        let jar = req.cookies();
        let secret = match current_secret(jar, policy) {
            Some(secret) => secret,
            None => new_secret(jar, policy)?,
        };
        mask(&secret).map(Self)
    }

    /// The value for the forms' hidden `csrf_token` field.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Replaces the visitor's secret: after a login or logout, forms from
    /// before no longer post.
    pub fn rotate(jar: &CookieJar<'_>, policy: CookiePolicy) -> Result<(), auth_core::RandomError> {
        new_secret(jar, policy).map(|_| ())
    }
}

const COOKIE: CookieName = CookieName {
    plain: "csrf",
    host: "__Host-csrf",
};

fn current_secret(jar: &CookieJar<'_>, policy: CookiePolicy) -> Option<[u8; SECRET_BYTES]> {
    let cookie = jar.get_private(policy.name(COOKIE))?;
    URL_SAFE_NO_PAD.decode(cookie.value()).ok()?.try_into().ok()
}

fn new_secret(
    jar: &CookieJar<'_>,
    policy: CookiePolicy,
) -> Result<[u8; SECRET_BYTES], auth_core::RandomError> {
    let mut secret = [0u8; SECRET_BYTES];
    auth_core::RandomError::fill(&mut secret)?;
    jar.add_private(policy.cookie(COOKIE, URL_SAFE_NO_PAD.encode(secret)));
    Ok(secret)
}

fn mask(secret: &[u8; SECRET_BYTES]) -> Result<String, auth_core::RandomError> {
    let mut token = [0u8; 2 * SECRET_BYTES];
    let (pad, masked) = token.split_at_mut(SECRET_BYTES);
    auth_core::RandomError::fill(pad)?;
    for ((m, s), p) in masked.iter_mut().zip(secret).zip(pad.iter()) {
        *m = s ^ p;
    }
    Ok(URL_SAFE_NO_PAD.encode(token))
}

fn unmask_matches(token: &str, secret: &[u8; SECRET_BYTES]) -> bool {
    let Ok(bytes) = URL_SAFE_NO_PAD.decode(token) else {
        return false;
    };
    if bytes.len() != 2 * SECRET_BYTES {
        return false;
    }
    let (pad, masked) = bytes.split_at(SECRET_BYTES);
    let unmasked: Vec<u8> = pad.iter().zip(masked).map(|(p, m)| p ^ m).collect();
    unmasked.ct_eq(secret).into()
}

/// A form that passed both CSRF checks, as a data guard. Anything else is a
/// 403, which the catcher explains (reload the form and try again); a body
/// that is too large or unreadable keeps its own 413 or 4xx.
///
/// The form's `csrf_token` field is read here, as a strict [`TextField`]
/// (sent twice or not UTF-8: 422), and the rest of the body is `T`: a form
/// type needs no field or code of its own for the token.
#[derive(Debug)]
pub struct CsrfForm<T>(pub T);

/// A form of nothing but its CSRF token, such as logout's: other fields are
/// ignored.
#[derive(Debug)]
pub struct NoFields;

#[rocket::async_trait]
impl<'r> FromForm<'r> for NoFields {
    type Context = ();

    fn init(_: Options) {}

    fn push_value(_: &mut (), _: ValueField<'r>) {}

    async fn push_data(_: &mut (), _: DataField<'r, '_>) {}

    fn finalize(_: ()) -> form::Result<'r, Self> {
        Ok(Self)
    }
}

/// The name of the token's field in every form.
const FIELD: &str = "csrf_token";

/// `T` and the token sent with it, as the body is parsed.
struct WithToken<T> {
    form: T,
    token: TextField,
}

struct WithTokenContext<'r, T: FromForm<'r>> {
    form: T::Context,
    token: <TextField as FromForm<'r>>::Context,
}

#[rocket::async_trait]
impl<'r, T: FromForm<'r>> FromForm<'r> for WithToken<T> {
    type Context = WithTokenContext<'r, T>;

    fn init(options: Options) -> Self::Context {
        WithTokenContext {
            form: T::init(options),
            token: TextField::init(options),
        }
    }

    fn push_value(ctxt: &mut Self::Context, field: ValueField<'r>) {
        if field.name.key_lossy().as_str() == FIELD {
            TextField::push_value(&mut ctxt.token, field);
        } else {
            T::push_value(&mut ctxt.form, field);
        }
    }

    async fn push_data(ctxt: &mut Self::Context, field: DataField<'r, '_>) {
        if field.name.key_lossy().as_str() == FIELD {
            TextField::push_data(&mut ctxt.token, field).await;
        } else {
            T::push_data(&mut ctxt.form, field).await;
        }
    }

    fn finalize(ctxt: Self::Context) -> form::Result<'r, Self> {
        match (T::finalize(ctxt.form), TextField::finalize(ctxt.token)) {
            (Ok(form), Ok(token)) => Ok(Self { form, token }),
            (form, token) => {
                let mut errors = form.err().unwrap_or_default();
                errors.extend(token.err().unwrap_or_default());
                Err(errors)
            }
        }
    }
}

/// Why a [`CsrfForm`] was refused.
#[derive(Debug)]
pub enum CsrfFormError<'r> {
    /// Sent by another site.
    CrossSite,
    /// Missing or wrong token, or no secret cookie.
    BadToken,
    /// The body is not a readable form.
    Form(rocket::form::Errors<'r>),
}

/// Whether the browser says the request comes from another site.
fn cross_site(req: &Request<'_>) -> bool {
    let headers = req.headers();
    if let Some(site) = headers.get_one("Sec-Fetch-Site") {
        if !matches!(site, "same-origin" | "none") {
            return true;
        }
    }
    headers
        .get_one("Origin")
        .is_some_and(|origin| !same_authority(origin, req.host()))
}

/// Whether an `Origin` header names this host (and port). The scheme is not
/// compared: behind a TLS-terminating proxy the browser says `https` while
/// the app is reached over `http`.
fn same_authority(origin: &str, host: Option<&Host<'_>>) -> bool {
    let (Some((_, authority)), Some(host)) = (origin.split_once("://"), host) else {
        return false;
    };
    authority.eq_ignore_ascii_case(&host.to_string())
}

#[rocket::async_trait]
impl<'r, T: FromForm<'r> + Send> FromData<'r> for CsrfForm<T> {
    type Error = CsrfFormError<'r>;

    async fn from_data(req: &'r Request<'_>, data: Data<'r>) -> data::Outcome<'r, Self> {
        if cross_site(req) {
            log::warn!("Refused a cross-site {} {}", req.method(), req.uri().path());
            return Outcome::Error((Status::Forbidden, CsrfFormError::CrossSite));
        }
        let WithToken { form, token } = match Form::<WithToken<T>>::from_data(req, data).await {
            Outcome::Success(form) => form.into_inner(),
            Outcome::Error((status, errors)) => {
                return Outcome::Error((status, CsrfFormError::Form(errors)))
            }
            Outcome::Forward(forward) => return Outcome::Forward(forward),
        };
        let valid = current_secret(req.cookies(), CookiePolicy::of(req))
            .is_some_and(|secret| unmask_matches(&token, &secret));
        if valid {
            Outcome::Success(CsrfForm(form))
        } else {
            log::warn!(
                "Refused {} {}: missing or wrong CSRF token",
                req.method(),
                req.uri().path()
            );
            Outcome::Error((Status::Forbidden, CsrfFormError::BadToken))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_tokens_differ_but_all_unmask_to_the_secret() {
        let secret = [7u8; SECRET_BYTES];
        let a = mask(&secret).unwrap();
        let b = mask(&secret).unwrap();
        assert_ne!(a, b);
        assert!(unmask_matches(&a, &secret));
        assert!(unmask_matches(&b, &secret));
        assert!(!unmask_matches(&a, &[8u8; SECRET_BYTES]));
        assert_eq!(format!("{:?}", CsrfToken(a)), "CsrfToken(..)");
    }

    #[test]
    fn malformed_tokens_never_match() {
        let secret = [0u8; SECRET_BYTES];
        for token in ["", "x", "not base64!!", &URL_SAFE_NO_PAD.encode([0u8; 63])] {
            assert!(!unmask_matches(token, &secret), "{token:?}");
        }
        // A token of all zero bytes unmasks to all zeros: it matches only
        // the all-zero secret, which getrandom does not produce.
        let zeros = URL_SAFE_NO_PAD.encode([0u8; 64]);
        assert!(!unmask_matches(&zeros, &[1u8; SECRET_BYTES]));
    }

    #[test]
    fn origin_must_name_this_host_and_port() {
        let host = Host::parse("example.com:8000").unwrap();
        assert!(same_authority("http://example.com:8000", Some(&host)));
        assert!(same_authority("https://EXAMPLE.com:8000", Some(&host)));
        assert!(!same_authority("http://example.com", Some(&host)));
        assert!(!same_authority("http://evil.example:8000", Some(&host)));
        assert!(!same_authority(
            "http://example.com:8000.evil.test",
            Some(&host)
        ));
        assert!(!same_authority("null", Some(&host)));
        assert!(!same_authority("http://example.com:8000", None));
    }
}
