//! Login-required pages that, when `require_confirmed_email` is on, wait
//! until the account's address is confirmed.

use rocket::http::Status;
use rocket::outcome::{try_outcome, Outcome};
use rocket::request::{self, FromRequest, Request};

use crate::guards::CurrentUser;

/// Whether login-required pages need a confirmed address
/// (`require_confirmed_email`), as managed state.
#[derive(Debug, Clone, Copy)]
pub struct EmailRule {
    /// The setting.
    pub require_confirmed: bool,
}

/// The logged-in user, with a confirmed address if the site requires one.
/// As a guard it forwards with 401 otherwise, marking the request so that
/// the 401 catcher sends the browser to the account page, which says how
/// to confirm, rather than to the login page.
#[derive(Debug, Clone)]
pub struct Member(pub CurrentUser);

/// Set on a request refused by [`Member`], for the catcher.
#[derive(Debug, Clone, Copy)]
pub struct NeedsConfirmedEmail(pub bool);

impl NeedsConfirmedEmail {
    /// Whether `req` was refused for want of a confirmed address.
    pub fn of(req: &Request<'_>) -> bool {
        req.local_cache(|| NeedsConfirmedEmail(false)).0
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Member {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, ()> {
        let user = try_outcome!(req.guard::<CurrentUser>().await);
        let required = req
            .rocket()
            .state::<EmailRule>()
            .is_some_and(|rule| rule.require_confirmed);
        if required && user.user().email_confirmed_at.is_none() {
            req.local_cache(|| NeedsConfirmedEmail(true));
            return Outcome::Forward(Status::Unauthorized);
        }
        Outcome::Success(Member(user))
    }
}
