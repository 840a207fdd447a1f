//! Handing a browser the session a registration or login just created.

use auth_core::{IssuedSession, SessionToken};
use rocket::http::{CookieJar, Status};
use rocket::outcome::{try_outcome, Outcome};
use rocket::request::{self, FromRequest, Request};

use crate::guards::session_cookie::SessionCookie;
use crate::guards::{CsrfToken, Visitor};
use crate::http::error::AppError;
use crate::setup::Auth;

/// What a route needs to log a browser in: [`SignIn::begin`] ends the
/// session the browser had (one browser, one session), sets the new session
/// cookie, and replaces the CSRF secret, so forms loaded before the login
/// no longer post.
pub struct SignIn<'r> {
    previous: Option<SessionToken>,
    auth: &'r Auth,
    cookie: SessionCookie,
    jar: &'r CookieJar<'r>,
}

impl SignIn<'_> {
    /// Gives the browser `issued`.
    pub async fn begin(self, issued: &IssuedSession) -> Result<(), AppError> {
        if let Some(previous) = &self.previous {
            self.auth.end_session(previous).await?;
        }
        self.cookie.set(self.jar, issued);
        CsrfToken::rotate(self.jar, self.cookie.policy())?;
        Ok(())
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for SignIn<'r> {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, ()> {
        let visitor = try_outcome!(req.guard::<Visitor>().await);
        let Some(auth) = req.rocket().state::<Auth>() else {
            return Outcome::Error((Status::ServiceUnavailable, ()));
        };
        Outcome::Success(SignIn {
            previous: visitor.0.map(|current| current.token),
            auth,
            cookie: SessionCookie::of(req),
            jar: req.cookies(),
        })
    }
}
