//! Who is making the request.

use auth_core::{Session, SessionToken, User};
use rocket::http::Status;
use rocket::outcome::Outcome;
use rocket::request::{self, FromRequest, Request};

use crate::guards::session_cookie::SessionCookie;
use crate::http::error::describe;
use crate::setup::Auth;

/// The logged-in user. As a guard it forwards with 401 when there is no live
/// session, which the 401 catcher turns into a redirect to the login page:
/// adding a `CurrentUser` argument is all it takes to make a route
/// login-required. A database failure is a 503, not a redirect.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    /// The live session.
    pub session: Session,
    /// The token that named it, for logging this session out.
    pub token: SessionToken,
}

impl CurrentUser {
    /// The account.
    pub fn user(&self) -> &User {
        &self.session.user
    }
}

/// Whoever is making the request: `Visitor(None)` for anonymous visitors.
/// Fails with 503 only when the session could not be looked up.
#[derive(Debug, Clone)]
pub struct Visitor(pub Option<CurrentUser>);

/// The session lookup's result, cached for the request so that several
/// guards (the route's, the page layout's, a catcher's) cost one query.
enum Resolved {
    Anonymous,
    LoggedIn(CurrentUser),
    Unavailable,
}

async fn resolve<'r>(req: &'r Request<'_>) -> &'r Resolved {
    req.local_cache_async(async {
        let cookie = SessionCookie::of(req);
        let Some(auth) = req.rocket().state::<Auth>() else {
            log::error!("The auth service is not running; refusing the request");
            return Resolved::Unavailable;
        };
        let Some(token) = cookie.token(req.cookies()) else {
            return Resolved::Anonymous;
        };
        match auth.authenticate(&token).await {
            Ok(Some(session)) => Resolved::LoggedIn(CurrentUser { session, token }),
            Ok(None) => {
                // Logged out elsewhere, or expired: drop the dead cookie.
                cookie.clear(req.cookies());
                Resolved::Anonymous
            }
            Err(e) => {
                log::error!("Session lookup failed: {}", describe(&e));
                Resolved::Unavailable
            }
        }
    })
    .await
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for CurrentUser {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, ()> {
        match resolve(req).await {
            Resolved::LoggedIn(user) => Outcome::Success(user.clone()),
            Resolved::Anonymous => Outcome::Forward(Status::Unauthorized),
            Resolved::Unavailable => Outcome::Error((Status::ServiceUnavailable, ())),
        }
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Visitor {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, ()> {
        match resolve(req).await {
            Resolved::LoggedIn(user) => Outcome::Success(Visitor(Some(user.clone()))),
            Resolved::Anonymous => Outcome::Success(Visitor(None)),
            Resolved::Unavailable => Outcome::Error((Status::ServiceUnavailable, ())),
        }
    }
}
