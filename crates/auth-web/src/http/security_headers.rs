//! Security headers on every response.

use rocket::fairing::{Fairing, Info, Kind};
use rocket::http::{Header, Status};
use rocket::shield::{Frame, Hsts, NoSniff, Referrer, Shield};
use rocket::{Request, Response};

/// Rocket's [`Shield`] with this site's policies: `X-Frame-Options: DENY`,
/// `X-Content-Type-Options: nosniff`, `Referrer-Policy: same-origin`, its
/// default `Permissions-Policy`, and HSTS when the site is served over HTTPS.
pub fn shield(https: bool) -> Shield {
    let shield = Shield::default()
        .enable(Frame::Deny)
        .enable(NoSniff::Enable)
        .enable(Referrer::SameOrigin);
    if https {
        shield.enable(Hsts::default())
    } else {
        shield
    }
}

/// The headers Shield does not set. The CSP allows scripts, styles, images
/// and fonts from this site only (no inline script, no `eval`), forms that
/// post only here, no framing and no plugins. Every response except a
/// static asset actually served gets `Cache-Control: no-store`: pages carry the visitor's
/// name or a per-visitor CSRF token, and the back button after logout must
/// not show a protected page from the cache.
pub struct SecurityHeaders;

const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

#[rocket::async_trait]
impl Fairing for SecurityHeaders {
    fn info(&self) -> Info {
        Info {
            name: "Security headers",
            kind: Kind::Response,
        }
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, res: &mut Response<'r>) {
        res.set_header(Header::new(
            "Content-Security-Policy",
            CONTENT_SECURITY_POLICY,
        ));
        res.set_header(Header::new("Cross-Origin-Opener-Policy", "same-origin"));
        res.set_header(Header::new("Cross-Origin-Resource-Policy", "same-origin"));
        // Only a static file actually served may be kept by shared caches: an
        // error page under /static/ is rendered for the visitor, with their
        // name and CSRF token.
        let served = res.status().class().is_success() || res.status() == Status::NotModified;
        let cache = if served && req.uri().path().starts_with("/static/") {
            "public, max-age=3600"
        } else {
            "no-store"
        };
        res.set_header(Header::new("Cache-Control", cache));
    }
}
