//! Passkeys: adding one from the account page (after the password again),
//! removing one, and signing in with one, as the second step after the
//! password or on its own from the login page. `static/passkeys.js` runs
//! the browser's side: it asks the options from (or reads them off) the
//! page, calls WebAuthn, and posts the answer in an ordinary form.

use crate::http::templates::Html;
use auth_core::{
    AuthError, CeremonyToken, PasskeyError, PasskeyId, SecondFactorError, SessionLength,
    StartedCeremony, PASSKEY_CEREMONY_VALID_FOR,
};
use rocket::http::{ContentType, CookieJar, Status};
use rocket::response::Redirect;
use rocket::{get, post, routes, uri, FromForm, Route, State};
use serde::Serialize;

use crate::guards::cookie_policy::{CookieName, CookiePolicy};
use crate::guards::form_field::TextField;
use crate::guards::local_path::LocalPath;
use crate::guards::session_cookie::SessionCookie;
use crate::guards::{Client, CsrfForm, CurrentUser, NoFields, SignIn};
use crate::http::error::AppError;
use crate::http::flash::Flash;
use crate::http::page::Page;
use crate::http::reply::{wait_in_words, FieldErrors, FormWording, Refusal, Reply};
use crate::routes::{account, login, two_factor};
use crate::setup::Auth;
use crate::webauthn::{Passkeys, RelyingParty};

pub(crate) fn routes() -> Vec<Route> {
    routes![
        begin,
        finish,
        remove_form,
        remove,
        sign_in_options,
        sign_in,
        second_step_options,
        second_step
    ]
}

/// The private cookie that ties the browser's answer to the ceremony that
/// asked for it.
const CEREMONY_COOKIE: CookieName = CookieName {
    plain: "passkey",
    host: "__Host-passkey",
};

fn hold(jar: &CookieJar<'_>, policy: CookiePolicy, started: &StartedCeremony) {
    jar.add_private(policy.cookie_for(
        CEREMONY_COOKIE,
        started.token.expose_secret().to_owned(),
        started.expires_at - PASSKEY_CEREMONY_VALID_FOR,
        PASSKEY_CEREMONY_VALID_FOR,
    ));
}

/// The ceremony the browser holds, forgotten by the browser as it is used.
fn take_held(jar: &CookieJar<'_>, policy: CookiePolicy) -> Option<CeremonyToken> {
    let token = jar
        .get_private(policy.name(CEREMONY_COOKIE))
        .and_then(|cookie| CeremonyToken::parse(cookie.value()));
    policy.remove_private(jar, CEREMONY_COOKIE);
    token
}

fn relying_party(passkeys: &Passkeys) -> Result<&RelyingParty, AppError> {
    passkeys.get().ok_or_else(|| {
        log::warn!("A passkey request, but passkeys are off (see the start-up log)");
        AppError::Unavailable
    })
}

fn to_panel(message: &'static str) -> Flash<Redirect> {
    Flash::success(
        Redirect::to(format!("{}#passkeys", uri!(account::show))),
        message,
    )
}

fn error_to_panel(message: &'static str) -> Flash<Redirect> {
    Flash::error(
        Redirect::to(format!("{}#passkeys", uri!(account::show))),
        message,
    )
}

/// The form that starts adding a passkey.
#[derive(FromForm)]
pub struct AddForm {
    passkey_name: TextField,
    passkey_password: TextField,
}

/// How the add form words the service's refusals.
const ADD: FormWording = FormWording {
    credentials_field: "passkey_password",
    wrong_credentials: "Your password is not correct.",
    new_password_field: "passkey_password",
    blank: None,
    too_many: "Too many wrong passwords.",
    paused: "this",
};

#[derive(Serialize)]
struct AddView<'a> {
    name: &'a str,
    /// The options for `navigator.credentials.create()`, as JSON.
    options: &'a str,
}

/// Starts adding a passkey, after the password: the page whose button asks
/// the browser to make it.
#[post("/account/passkeys", data = "<form>")]
#[allow(clippy::too_many_arguments)]
pub async fn begin(
    form: CsrfForm<AddForm>,
    user: CurrentUser,
    client: Client,
    jar: &CookieJar<'_>,
    cookie: SessionCookie,
    page: Page<'_>,
    passkeys: &State<Passkeys>,
    auth: &State<Auth>,
) -> Result<Reply, AppError> {
    let form = form.0;
    let party = relying_party(passkeys)?;
    let refusal = match auth
        .begin_passkey(
            party,
            &user.token,
            &form.passkey_password,
            &form.passkey_name,
            &client.0,
        )
        .await
    {
        Ok(started) => {
            hold(jar, cookie.policy(), &started);
            let name = form.passkey_name.trim();
            let view = AddView {
                name,
                options: &started.options,
            };
            return Ok(Reply::Page((Status::Ok, page.render("passkey_add", view))));
        }
        Err(AuthError::Passkey(PasskeyError::InvalidName(message))) => {
            Refusal::form_error(Status::UnprocessableEntity, "passkey_name", message)
        }
        Err(AuthError::Passkey(PasskeyError::TooMany)) => Refusal::form_error(
            Status::Conflict,
            "passkey_name",
            "You have as many passkeys as an account may: remove one first.",
        ),
        Err(error) => Refusal::of(error, &ADD)?,
    };
    let template = account::render(page, &user, auth, refusal.errors().clone(), "").await?;
    Ok(refusal.reply(template))
}

/// The browser's new credential, as JSON.
#[derive(FromForm)]
pub struct CredentialForm {
    credential: TextField,
}

/// Keeps the passkey the browser made.
#[post("/account/passkeys/new", data = "<form>")]
#[allow(clippy::too_many_arguments)]
pub async fn finish(
    form: CsrfForm<CredentialForm>,
    user: CurrentUser,
    client: Client,
    jar: &CookieJar<'_>,
    cookie: SessionCookie,
    passkeys: &State<Passkeys>,
    auth: &State<Auth>,
) -> Result<Flash<Redirect>, AppError> {
    let party = relying_party(passkeys)?;
    let Some(token) = take_held(jar, cookie.policy()) else {
        return Ok(error_to_panel(ADD_EXPIRED));
    };
    match auth
        .finish_passkey(party, user.user(), &token, &form.0.credential, &client.0)
        .await
    {
        Ok(_) => Ok(to_panel("Passkey added. It signs you in from now on.")),
        Err(AuthError::Passkey(PasskeyError::CeremonyExpired)) => Ok(error_to_panel(ADD_EXPIRED)),
        Err(AuthError::Passkey(PasskeyError::AlreadyRegistered)) => {
            Ok(error_to_panel("That passkey is registered already."))
        }
        Err(AuthError::Passkey(PasskeyError::TooMany)) => Ok(error_to_panel(
            "You have as many passkeys as an account may: remove one first.",
        )),
        Err(AuthError::Passkey(PasskeyError::Rejected(reason))) => {
            log::info!("A new passkey was refused: {reason}");
            Ok(error_to_panel(
                "The passkey could not be added. Try again, or with another device.",
            ))
        }
        Err(error) => Err(error.into()),
    }
}

const ADD_EXPIRED: &str =
    "Adding the passkey took too long or was already done. Start again below.";

#[derive(Serialize)]
struct RemoveView {
    id: i64,
    name: String,
    created: String,
    errors: FieldErrors,
}

async fn remove_page(
    id: i64,
    user: &CurrentUser,
    auth: &Auth,
    page: Page<'_>,
    errors: FieldErrors,
) -> Result<Option<Html>, AppError> {
    let passkeys = auth.passkeys(user.user().id).await?;
    let Some(passkey) = passkeys.iter().find(|p| p.id.get() == id) else {
        return Ok(None);
    };
    Ok(Some(page.render(
        "passkey_remove",
        RemoveView {
            id,
            name: passkey.name.as_str().to_owned(),
            created: account::when(passkey.created_at),
            errors,
        },
    )))
}

/// Asks for the password before a passkey is removed.
#[get("/account/passkeys/<id>/remove")]
pub async fn remove_form(
    id: i64,
    user: CurrentUser,
    page: Page<'_>,
    auth: &State<Auth>,
) -> Result<Result<Html, Flash<Redirect>>, AppError> {
    Ok(remove_page(id, &user, auth, page, FieldErrors::default())
        .await?
        .ok_or_else(|| error_to_panel("That passkey was removed already.")))
}

/// The password, before a passkey goes.
#[derive(FromForm)]
pub struct RemoveForm {
    passkey_password: TextField,
}

/// Removes a passkey, after the password.
#[post("/account/passkeys/<id>/remove", data = "<form>")]
pub async fn remove(
    id: i64,
    form: CsrfForm<RemoveForm>,
    user: CurrentUser,
    client: Client,
    page: Page<'_>,
    auth: &State<Auth>,
) -> Result<Reply, AppError> {
    let refusal = match auth
        .remove_passkey(
            &user.token,
            &form.0.passkey_password,
            PasskeyId::new(id),
            &client.0,
        )
        .await
    {
        Ok(()) => return Ok(Reply::redirect(to_panel("Passkey removed."))),
        Err(AuthError::Passkey(PasskeyError::NotFound)) => {
            return Ok(Reply::redirect(error_to_panel(
                "That passkey was removed already.",
            )))
        }
        Err(error) => Refusal::of(error, &ADD)?,
    };
    match remove_page(id, &user, auth, page, refusal.errors().clone()).await? {
        Some(template) => Ok(refusal.reply(template)),
        None => Ok(Reply::redirect(error_to_panel(
            "That passkey was removed already.",
        ))),
    }
}

/// What the options endpoints answer: the options, or a message for the
/// page, as JSON.
type Json = (Status, (ContentType, String));

fn json(status: Status, body: &impl Serialize) -> Result<Json, AppError> {
    let text = serde_json::to_string(body).map_err(|e| {
        log::error!("Cannot write JSON: {e}");
        AppError::Internal
    })?;
    Ok((status, (ContentType::JSON, text)))
}

#[derive(Serialize)]
struct Problem<'a> {
    error: &'a str,
}

/// The options for a sign-in ceremony just started, or why none was.
fn options(
    started: Result<StartedCeremony, AuthError>,
    jar: &CookieJar<'_>,
    policy: CookiePolicy,
) -> Result<Json, AppError> {
    let problem = |status, error: &str| json(status, &Problem { error });
    match started {
        Ok(started) => {
            hold(jar, policy, &started);
            Ok((Status::Ok, (ContentType::JSON, started.options)))
        }
        Err(AuthError::Throttled { retry_after }) => problem(
            Status::TooManyRequests,
            &format!(
                "Too many attempts. Try again in {}.",
                wait_in_words(retry_after)
            ),
        ),
        Err(AuthError::SecondFactor(SecondFactorError::SignInExpired)) => problem(
            Status::BadRequest,
            "Your sign-in took too long or was already used. Log in again.",
        ),
        Err(AuthError::Passkey(PasskeyError::NoPasskey)) => {
            problem(Status::BadRequest, "Your account has no passkey.")
        }
        Err(error) => Err(error.into()),
    }
}

/// Starts a sign-in with a passkey alone (JSON, for passkeys.js).
#[post("/login/passkey/options", data = "<_form>")]
pub async fn sign_in_options(
    _form: CsrfForm<NoFields>,
    client: Client,
    jar: &CookieJar<'_>,
    cookie: SessionCookie,
    passkeys: &State<Passkeys>,
    auth: &State<Auth>,
) -> Result<Json, AppError> {
    let party = relying_party(passkeys)?;
    let started = auth.begin_passkey_sign_in(party, None, &client.0).await;
    options(started, jar, cookie.policy())
}

/// A passkey's answer to a sign-in.
#[derive(FromForm)]
pub struct SignInForm {
    credential: TextField,
    /// The login form's "remember me", copied by passkeys.js.
    remember: TextField,
    next: TextField,
}

/// How a refused passkey is told on the login page.
const PASSKEY_REFUSED: &str = "That passkey was not accepted. Try again, or log in with your \
                               password.";

/// Signs in with the passkey's answer, like a login.
#[post("/login/passkey", data = "<form>")]
#[allow(clippy::too_many_arguments)]
pub async fn sign_in(
    form: CsrfForm<SignInForm>,
    sign_in: SignIn<'_>,
    client: Client,
    jar: &CookieJar<'_>,
    cookie: SessionCookie,
    passkeys: &State<Passkeys>,
    auth: &State<Auth>,
) -> Result<Reply, AppError> {
    let form = form.0;
    let next = LocalPath::parse(&form.next);
    let party = relying_party(passkeys)?;
    let form_page = uri!(login::form(next = next.as_ref().map(LocalPath::as_str))).to_string();
    let back = |message: String| back_to(form_page.clone(), message);
    let Some(token) = take_held(jar, cookie.policy()) else {
        return Ok(back(SIGN_IN_EXPIRED.into()));
    };
    let length = login::session_length(&form.remember);
    let result = auth
        .finish_passkey_sign_in(party, &token, None, &form.credential, length, &client.0)
        .await;
    match result {
        Ok(issued) => {
            sign_in.begin(&issued).await?;
            Ok(login::logged_in(next.as_ref()))
        }
        Err(error) => Ok(back(refused(error, &client)?)),
    }
}

const SIGN_IN_EXPIRED: &str = "That passkey request expired or was already used. Try again.";

/// Back to the page the sign-in started from, saying why it did not work.
fn back_to(page: String, message: String) -> Reply {
    Reply::redirect(Flash::error(Redirect::to(page), message))
}

/// The message for a refused sign-in with a passkey, logged as a security
/// event; an internal failure stays an [`AppError`].
fn refused(error: AuthError, client: &Client) -> Result<String, AppError> {
    login::security_event(&error, client);
    Ok(match error {
        AuthError::Passkey(PasskeyError::CeremonyExpired) => SIGN_IN_EXPIRED.into(),
        AuthError::Passkey(PasskeyError::CounterNotIncreased) => {
            log::warn!(
                target: "security",
                event = "passkey_counter";
                "a passkey's signature counter did not increase: cloned or replayed"
            );
            PASSKEY_REFUSED.into()
        }
        AuthError::Passkey(PasskeyError::Rejected(reason)) => {
            log::info!("A passkey sign-in was refused: {reason}");
            PASSKEY_REFUSED.into()
        }
        AuthError::InvalidCredentials => PASSKEY_REFUSED.into(),
        AuthError::Throttled { retry_after } => format!(
            "Too many failed attempts. For your security, signing in is paused: try again in {}.",
            wait_in_words(retry_after)
        ),
        other => return Err(other.into()),
    })
}

/// Starts the second step of a sign-in with a passkey (JSON, for
/// passkeys.js).
#[post("/login/code/passkey/options", data = "<_form>")]
pub async fn second_step_options(
    _form: CsrfForm<NoFields>,
    client: Client,
    jar: &CookieJar<'_>,
    cookie: SessionCookie,
    passkeys: &State<Passkeys>,
    auth: &State<Auth>,
) -> Result<Json, AppError> {
    let party = relying_party(passkeys)?;
    let pending = two_factor::held(jar, cookie.policy());
    let started = match &pending {
        Some(pending) => {
            auth.begin_passkey_sign_in(party, Some(pending), &client.0)
                .await
        }
        None => Err(SecondFactorError::SignInExpired.into()),
    };
    options(started, jar, cookie.policy())
}

/// A passkey's answer to the second step.
#[derive(FromForm)]
pub struct SecondStepForm {
    credential: TextField,
    next: TextField,
}

/// Completes the sign-in with the passkey's answer.
#[post("/login/code/passkey", data = "<form>")]
#[allow(clippy::too_many_arguments)]
pub async fn second_step(
    form: CsrfForm<SecondStepForm>,
    sign_in: SignIn<'_>,
    client: Client,
    jar: &CookieJar<'_>,
    cookie: SessionCookie,
    passkeys: &State<Passkeys>,
    auth: &State<Auth>,
) -> Result<Reply, AppError> {
    let form = form.0;
    let next = LocalPath::parse(&form.next);
    let party = relying_party(passkeys)?;
    let policy = cookie.policy();
    let code_page = uri!(two_factor::code_form(
        next = next.as_ref().map(LocalPath::as_str)
    ))
    .to_string();
    let back = |message: String| back_to(code_page.clone(), message);
    let Some(pending) = two_factor::held(jar, policy) else {
        return Ok(Reply::redirect(two_factor::start_again(jar, policy)));
    };
    let Some(token) = take_held(jar, policy) else {
        return Ok(back(SIGN_IN_EXPIRED.into()));
    };
    let result = auth
        .finish_passkey_sign_in(
            party,
            &token,
            Some(&pending),
            &form.credential,
            SessionLength::Browser,
            &client.0,
        )
        .await;
    match result {
        Ok(issued) => {
            two_factor::forget(jar, policy);
            sign_in.begin(&issued).await?;
            Ok(login::logged_in(next.as_ref()))
        }
        Err(AuthError::SecondFactor(SecondFactorError::SignInExpired)) => {
            Ok(Reply::redirect(two_factor::start_again(jar, policy)))
        }
        Err(error) => Ok(back(refused(error, &client)?)),
    }
}
