//! The cookie that carries a session token.

use auth_core::{IssuedSession, SessionToken};
use rocket::http::{Cookie, CookieJar, SameSite};

/// How the session cookie is written: a private cookie (encrypted and
/// authenticated with the secret key), `HttpOnly` so scripts cannot read
/// it, `SameSite=Lax` so other sites cannot send it with their forms, on
/// path `/`, expiring with the session. With `secure`, it is also `Secure`
/// and named with the `__Host-` prefix, which browsers only accept from an
/// HTTPS origin, for the whole host.
#[derive(Debug, Clone, Copy)]
pub struct SessionCookie {
    secure: bool,
}

impl SessionCookie {
    /// The cookie's name over plain HTTP.
    pub const NAME: &'static str = "session";
    /// The cookie's name when `Secure`.
    pub const SECURE_NAME: &'static str = "__Host-session";

    /// Cookie settings; `secure` for sites served over HTTPS.
    pub fn new(secure: bool) -> Self {
        Self { secure }
    }

    fn name(self) -> &'static str {
        if self.secure {
            Self::SECURE_NAME
        } else {
            Self::NAME
        }
    }

    /// Whether cookies are marked `Secure`.
    pub fn secure(self) -> bool {
        self.secure
    }

    /// The token the browser sent, if it is well-formed and was sealed with
    /// our key.
    pub fn token(self, jar: &CookieJar<'_>) -> Option<SessionToken> {
        jar.get_private(self.name())
            .and_then(|cookie| SessionToken::parse(cookie.value()))
    }

    /// Hands a new session to the browser.
    pub fn set(self, jar: &CookieJar<'_>, issued: &IssuedSession) {
        let max_age = auth_core::time::Duration::try_from(issued.max_age()).unwrap_or_default();
        let cookie = Cookie::build((self.name(), issued.token.expose_secret().to_owned()))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(self.secure)
            .max_age(max_age);
        jar.add_private(cookie);
    }

    /// Tells the browser to forget its session cookie.
    pub fn clear(self, jar: &CookieJar<'_>) {
        jar.remove_private(Cookie::build(self.name()).path("/"));
    }
}
