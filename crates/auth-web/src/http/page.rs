//! What every page's layout needs, gathered as one request guard.

use auth_core::{PasswordPolicy, User};
use minijinja::value::{self, Value};
use rocket::outcome::try_outcome;
use rocket::request::{self, FromRequest, Request};
use serde::Serialize;

use crate::guards::{CsrfToken, Visitor};
use crate::http::assets::AssetVersion;
use crate::http::flash::FlashMessage;
use crate::http::templates::{Html, PageTemplates};
use crate::setup::Auth;
use crate::webauthn::Passkeys;

/// The layout's data: who is logged in, the flash message (consumed by
/// rendering it, so it shows once), and, made as the page is rendered and
/// only for a page with a form, the CSRF token (the navigation bar's
/// logout button is a form: every page for a logged-in visitor has one).
pub struct Page<'r> {
    req: &'r Request<'r>,
    user: Option<User>,
    flash: Option<FlashMessage>,
    password_min_chars: usize,
}

#[derive(Serialize)]
struct Layout<'a> {
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
            req,
            user: None,
            flash: None,
            password_min_chars: PasswordPolicy::DEFAULT_MIN_CHARS,
        }
    }

    /// Renders `template`, a page with a form, with the page's own
    /// `context` and the layout's.
    pub fn render(self, template: &'static str, context: impl Serialize) -> Html {
        self.finish(template, context, true)
    }

    /// Renders `template`, a page with no form of its own (the home page,
    /// the members' page, an error page): an anonymous visitor gets no CSRF
    /// token, and no cookie for one. A form such a page is given by mistake
    /// fails closed: its posts are refused with 403.
    pub fn render_without_forms(self, template: &'static str, context: impl Serialize) -> Html {
        self.finish(template, context, false)
    }

    fn finish(self, template: &'static str, context: impl Serialize, forms: bool) -> Html {
        let req = self.req;
        let Some(templates) = req.rocket().state::<PageTemplates>() else {
            log::error!("The page templates are not loaded; refusing the request");
            return Html::FAILED;
        };
        let csrf = if forms || self.user.is_some() {
            match CsrfToken::for_request(req) {
                Ok(token) => Some(token),
                Err(e) => {
                    log::error!("No randomness for a CSRF token: {e}");
                    return Html::FAILED;
                }
            }
        } else {
            None
        };
        let flash = self.flash.as_ref().map(|f| FlashView {
            kind: f.kind(),
            message: f.message(),
        });
        let layout = Value::from_serialize(Layout {
            logged_in: self.user.is_some(),
            user: self.user.as_ref().map(|u| UserView {
                name: u.name.as_str(),
                email: u.email.as_str(),
            }),
            flash,
            csrf_token: csrf.as_ref().map_or("", CsrfToken::as_str),
            password_min_chars: self.password_min_chars,
            password_max_chars: PasswordPolicy::MAX_CHARS,
            asset_version: asset_version(req),
            path: req.uri().path().as_str(),
            passkeys_on: passkeys_on(req),
        });
        // The layout's names last, so that a page's field of the same name
        // cannot replace who is logged in or the token.
        let context = value::merge_maps([Value::from_serialize(context), layout]);
        templates.render(template, context)
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Page<'r> {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, ()> {
        let visitor = try_outcome!(req.guard::<Visitor>().await);
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
            req,
            user: visitor.0.map(|current| current.session.user),
            flash,
            password_min_chars,
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
