//! The cookie that carries a session token.

use auth_core::{IssuedSession, SessionLength, SessionToken};
use rocket::http::CookieJar;
use rocket::request::{self, FromRequest, Request};

use crate::guards::cookie_policy::{CookieName, CookiePolicy};

/// How the session cookie is written: a private cookie (encrypted and
/// authenticated with the secret key) with the site's [`CookiePolicy`]
/// (`HttpOnly` so scripts cannot read it, `SameSite=Lax` so other sites
/// cannot send it with their forms, `Secure` and `__Host-session` over
/// HTTPS). A remembered session's cookie expires with the session; any
/// other is a browser-session cookie, gone when the browser closes.
#[derive(Debug, Clone, Copy)]
pub struct SessionCookie {
    policy: CookiePolicy,
}

impl SessionCookie {
    /// The cookie's names.
    pub const NAME: CookieName = CookieName {
        plain: "session",
        host: "__Host-session",
    };

    /// The session cookie under `policy`.
    pub fn new(policy: CookiePolicy) -> Self {
        Self { policy }
    }

    fn name(self) -> &'static str {
        self.policy.name(Self::NAME)
    }

    /// The session cookie under the policy the application was built with.
    pub fn of(req: &Request<'_>) -> Self {
        Self::new(CookiePolicy::of(req))
    }

    /// The site's cookie policy.
    pub fn policy(self) -> CookiePolicy {
        self.policy
    }

    /// The token the browser sent, if it is well-formed and was sealed with
    /// our key.
    pub fn token(self, jar: &CookieJar<'_>) -> Option<SessionToken> {
        jar.get_private(self.name())
            .and_then(|cookie| SessionToken::parse(cookie.value()))
    }

    /// Hands a new session to the browser.
    pub fn set(self, jar: &CookieJar<'_>, issued: &IssuedSession) {
        let token = issued.token.expose_secret().to_owned();
        let cookie = match issued.length {
            SessionLength::Remembered => {
                let max_age =
                    auth_core::time::Duration::try_from(issued.max_age()).unwrap_or_default();
                self.policy
                    .cookie_for(Self::NAME, token, issued.created_at, max_age)
            }
            _ => self.policy.browser_session_cookie(Self::NAME, token),
        };
        jar.add_private(cookie);
    }

    /// Tells the browser to forget its session cookie.
    pub fn clear(self, jar: &CookieJar<'_>) {
        self.policy.remove_private(jar, Self::NAME);
    }
}

/// The session cookie's settings, as a request guard (it cannot fail).
#[rocket::async_trait]
impl<'r> FromRequest<'r> for SessionCookie {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, Self::Error> {
        request::Outcome::Success(Self::of(req))
    }
}
