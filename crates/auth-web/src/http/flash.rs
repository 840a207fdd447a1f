//! One-time messages carried across a redirect ("You are logged in."), in
//! a cookie written by the site's [`CookiePolicy`].
//!
//! Rocket's own `Flash` sets its cookie without `HttpOnly` and, behind a
//! TLS-terminating proxy, without `Secure`; this one is a private cookie
//! (sealed with the secret key, so another site on a sibling domain cannot
//! plant a message) with the same attributes as every other cookie here.

use rocket::request::{self, FromRequest, Request};
use rocket::response::{self, Responder};
use rocket::time::OffsetDateTime;

use crate::guards::cookie_policy::{CookieName, CookiePolicy};

const COOKIE: CookieName = CookieName {
    plain: "flash",
    host: "__Host-flash",
};

/// Long enough to follow a redirect, short enough not to surprise later.
const LIFETIME: rocket::time::Duration = rocket::time::Duration::minutes(5);

/// A responder that shows `message` on the next page rendered.
#[derive(Debug)]
pub struct Flash<R> {
    inner: R,
    kind: &'static str,
    message: String,
}

impl<R> Flash<R> {
    /// A message of `kind` (`success`, `error`, `info`: the template's CSS
    /// class) with `inner`, usually a redirect.
    pub fn new(inner: R, kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            inner,
            kind,
            message: message.into(),
        }
    }

    /// Something worked.
    pub fn success(inner: R, message: impl Into<String>) -> Self {
        Self::new(inner, "success", message)
    }

    /// Something went wrong.
    pub fn error(inner: R, message: impl Into<String>) -> Self {
        Self::new(inner, "error", message)
    }
}

impl<'r, 'o: 'r, R: Responder<'r, 'o>> Responder<'r, 'o> for Flash<R> {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'o> {
        let cookie = CookiePolicy::of(req).cookie_for(
            COOKIE,
            format!("{}:{}", self.kind, self.message),
            OffsetDateTime::now_utc(),
            LIFETIME,
        );
        req.cookies().add_private(cookie);
        self.inner.respond_to(req)
    }
}

/// The message the browser brought, if any, as a request guard. Taking it
/// removes the cookie, so it shows once.
#[derive(Debug, Clone)]
pub struct FlashMessage {
    kind: String,
    message: String,
}

impl FlashMessage {
    /// Its kind: `success`, `error` or `info`.
    pub fn kind(&self) -> &str {
        &self.kind
    }

    /// The text.
    pub fn message(&self) -> &str {
        &self.message
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for FlashMessage {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, ()> {
        let policy = CookiePolicy::of(req);
        let jar = req.cookies();
        let Some(cookie) = jar.get_private(policy.name(COOKIE)) else {
            return request::Outcome::Forward(rocket::http::Status::Ok);
        };
        policy.remove_private(jar, COOKIE);
        match cookie.value().split_once(':') {
            Some((kind, message)) => request::Outcome::Success(Self {
                kind: kind.to_owned(),
                message: message.to_owned(),
            }),
            None => request::Outcome::Forward(rocket::http::Status::Ok),
        }
    }
}
