//! Sensitive pages: the password must have been entered recently.

use rocket::http::Status;
use rocket::outcome::{try_outcome, Outcome};
use rocket::request::{self, FromRequest, Request};

use crate::guards::CurrentUser;
use crate::setup::Auth;

/// The logged-in user, whose password was entered in this session within
/// `reauthenticate_after` (at login, or on the confirmation page). As a
/// guard it forwards with 401 otherwise, marking the request so that the
/// 401 catcher sends the browser to confirm its password and come back,
/// rather than to log in again: a remembered session of last month opens
/// ordinary pages, but not these.
#[derive(Debug, Clone)]
pub struct RecentLogin(pub CurrentUser);

/// Set on a request refused by [`RecentLogin`], for the catcher.
#[derive(Debug, Clone, Copy)]
pub struct NeedsReauthentication(pub bool);

impl NeedsReauthentication {
    /// Whether `req` was refused for want of a recent password entry.
    pub fn of(req: &Request<'_>) -> bool {
        req.local_cache(|| NeedsReauthentication(false)).0
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for RecentLogin {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, ()> {
        let user = try_outcome!(req.guard::<CurrentUser>().await);
        let Some(auth) = req.rocket().state::<Auth>() else {
            return Outcome::Error((Status::ServiceUnavailable, ()));
        };
        if auth.needs_reauthentication(&user.session) {
            req.local_cache(|| NeedsReauthentication(true));
            return Outcome::Forward(Status::Unauthorized);
        }
        Outcome::Success(RecentLogin(user))
    }
}
