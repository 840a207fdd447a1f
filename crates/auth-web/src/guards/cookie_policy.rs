//! How this site writes every cookie it sets, and every removal of one.

use rocket::http::{Cookie, CookieJar, SameSite};
use rocket::time::{Duration, OffsetDateTime};
use rocket::Request;

/// The attributes every cookie of this site carries: `Path=/`, `HttpOnly`
/// (no script here reads a cookie), `SameSite=Lax`, and, when the site is
/// served over HTTPS, `Secure` with the `__Host-` prefix on the name, which
/// browsers accept only from an HTTPS origin, for the whole host and no
/// other.
///
/// A removal carries the same attributes as the cookie it removes: browsers
/// ignore a `__Host-` cookie without `Secure`, removal included, so a bare
/// removal would leave the cookie in place.
#[derive(Debug, Clone, Copy)]
pub struct CookiePolicy {
    secure: bool,
}

/// A cookie's two names: over plain HTTP, and with the `__Host-` prefix.
#[derive(Debug, Clone, Copy)]
pub struct CookieName {
    /// The name over plain HTTP.
    pub plain: &'static str,
    /// The name when `Secure`.
    pub host: &'static str,
}

impl CookiePolicy {
    /// The policy; `secure` for sites served over HTTPS.
    pub fn new(secure: bool) -> Self {
        Self { secure }
    }

    /// The policy the application was built with (plain HTTP if none).
    pub fn of(req: &Request<'_>) -> Self {
        req.rocket()
            .state::<Self>()
            .copied()
            .unwrap_or(Self::new(false))
    }

    /// Whether cookies are marked `Secure`.
    pub fn secure(self) -> bool {
        self.secure
    }

    /// The name `name` goes by under this policy.
    pub fn name(self, name: CookieName) -> &'static str {
        if self.secure {
            name.host
        } else {
            name.plain
        }
    }

    /// A cookie named `name` holding `value`, with every attribute set.
    pub fn cookie(self, name: CookieName, value: String) -> Cookie<'static> {
        Cookie::build((self.name(name), value))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(self.secure)
            .build()
    }

    /// A cookie like [`CookiePolicy::cookie`] that the browser keeps for
    /// `max_age` from `now`: `Max-Age` and `Expires` say the same thing
    /// (without an `Expires`, Rocket's private cookies get one a week away,
    /// which older browsers would follow).
    pub fn cookie_for(
        self,
        name: CookieName,
        value: String,
        now: OffsetDateTime,
        max_age: Duration,
    ) -> Cookie<'static> {
        let mut cookie = self.cookie(name, value);
        cookie.set_max_age(max_age);
        cookie.set_expires(now + max_age);
        cookie
    }

    /// A cookie like [`CookiePolicy::cookie`] that the browser forgets when
    /// it closes: no `Max-Age`, no `Expires` (said explicitly, since
    /// Rocket's private cookies otherwise get an `Expires` a week away).
    pub fn browser_session_cookie(self, name: CookieName, value: String) -> Cookie<'static> {
        let mut cookie = self.cookie(name, value);
        // `None` is the cookie crate's `Expiration::Session`.
        cookie.set_expires(None::<OffsetDateTime>);
        cookie
    }

    /// Tells the browser to forget the private cookie `name`.
    pub fn remove_private(self, jar: &CookieJar<'_>, name: CookieName) {
        jar.remove_private(self.cookie(name, String::new()));
    }
}
