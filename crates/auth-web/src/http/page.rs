//! What every page's layout needs, gathered as one request guard.

use auth_core::{PasswordPolicy, User};
use rocket::outcome::try_outcome;
use rocket::request::{self, FromRequest, Request};
use rocket_dyn_templates::Template;
use serde::Serialize;

use crate::guards::{CsrfToken, Visitor};
use crate::http::assets::AssetVersion;
use crate::http::flash::FlashMessage;
use crate::setup::Auth;
use crate::webauthn::Passkeys;

/// The layout's data: who is logged in, the flash message (consumed by
/// rendering it, so it shows once), and the CSRF token for the navigation
/// bar's logout form and the page's own forms.
pub struct Page<'r> {
    user: Option<User>,
    flash: Option<FlashMessage>,
    csrf: Option<CsrfToken>,
    password_min_chars: usize,
    asset_version: &'r str,
    path: &'r str,
    passkeys_on: bool,
}

#[derive(Serialize)]
struct Layout<'a, C> {
    #[serde(flatten)]
    page: C,
    logged_in: bool,
    user: Option<UserView<'a>>,
    flash: Option<FlashView<'a>>,
    csrf_token: &'a str,
    /// For the password fields' hints and `minlength`.
    password_min_chars: usize,
    /// For the password fields' hints (never a `maxlength`, which would
    /// make the browser cut a pasted password short without a word).
    password_max_chars: usize,
    /// Appended to asset URLs (`?v=`), see [`AssetVersion`].
    asset_version: &'a str,
    /// The page's path, for marking the current page in the navigation.
    path: &'a str,
    /// Whether passkeys work on this site (its address has a domain name):
    /// without, the pages offer none.
    passkeys_on: bool,
}

#[derive(Serialize)]
struct UserView<'a> {
    name: &'a str,
    email: &'a str,
}

#[derive(Serialize)]
struct FlashView<'a> {
    kind: &'a str,
    message: &'a str,
}

impl<'r> Page<'r> {
    /// A layout for a visitor whose session could not be looked up (an
    /// error page while the database is down).
    pub fn anonymous(req: &'r Request<'_>) -> Self {
        Self {
            user: None,
            flash: None,
            csrf: None,
            password_min_chars: PasswordPolicy::DEFAULT_MIN_CHARS,
            asset_version: asset_version(req),
            path: req.uri().path().as_str(),
            passkeys_on: passkeys_on(req),
        }
    }

    /// Renders `template` with the page's own `context` and the layout's.
    pub fn render(self, template: &'static str, context: impl Serialize) -> Template {
        let flash = self.flash.as_ref().map(|f| FlashView {
            kind: f.kind(),
            message: f.message(),
        });
        Template::render(
            template,
            Layout {
                page: context,
                logged_in: self.user.is_some(),
                user: self.user.as_ref().map(|u| UserView {
                    name: u.name.as_str(),
                    email: u.email.as_str(),
                }),
                flash,
                csrf_token: self.csrf.as_ref().map_or("", CsrfToken::as_str),
                password_min_chars: self.password_min_chars,
                password_max_chars: PasswordPolicy::MAX_CHARS,
                asset_version: self.asset_version,
                path: self.path,
                passkeys_on: self.passkeys_on,
            },
        )
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Page<'r> {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, ()> {
        let visitor = try_outcome!(req.guard::<Visitor>().await);
        let csrf = try_outcome!(req.guard::<CsrfToken>().await);
        let flash = req
            .guard::<Option<FlashMessage>>()
            .await
            .succeeded()
            .flatten();
        let password_min_chars = req
            .rocket()
            .state::<Auth>()
            .map_or(PasswordPolicy::DEFAULT_MIN_CHARS, |auth| {
                auth.password_policy().min_chars
            });
        request::Outcome::Success(Page {
            user: visitor.0.map(|current| current.session.user),
            flash,
            csrf: Some(csrf),
            password_min_chars,
            asset_version: asset_version(req),
            path: req.uri().path().as_str(),
            passkeys_on: passkeys_on(req),
        })
    }
}

fn passkeys_on(req: &Request<'_>) -> bool {
    req.rocket()
        .state::<Passkeys>()
        .is_some_and(|passkeys| passkeys.get().is_some())
}

fn asset_version<'r>(req: &'r Request<'_>) -> &'r str {
    req.rocket()
        .state::<AssetVersion>()
        .map_or("", AssetVersion::as_str)
}
