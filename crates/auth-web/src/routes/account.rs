//! The account page: details, password change, the account's sessions one
//! by one, its history, the export, deletion, and the page that confirms
//! the password before a sensitive page.

use auth_core::time::OffsetDateTime;
use auth_core::{
    AccountEvent, Actor, AuthError, ClientInfo, EventKind, SessionPolicy, SessionSummary,
};
use rocket::response::Redirect;

use crate::http::flash::Flash;
use crate::http::templates::Html;
use minijinja::context;
use rocket::http::{CookieJar, Header, Status};
use rocket::{get, post, routes, uri, FromForm, Responder, Route, State};
use serde::Serialize;

use crate::guards::form_field::TextField;
use crate::guards::local_path::LocalPath;
use crate::guards::session_cookie::SessionCookie;
use crate::guards::{Client, CsrfForm, CsrfToken, CurrentUser, NoFields, RecentLogin};
use crate::http::account_json::{AccountJson, ExportJson, SecondFactors, SessionJson};
use crate::http::error::AppError;
use crate::http::page::Page;
use crate::http::reply::{FieldErrors, FormWording, Refusal, Reply};
use crate::routes::home;
use crate::setup::Auth;

pub(crate) fn routes() -> Vec<Route> {
    routes![
        show,
        history,
        export,
        change_password,
        end_other_sessions,
        end_session,
        confirm_form,
        confirm,
        confirm_delete,
        delete,
        send_confirmation,
        change_email
    ]
}

/// Events the export carries at most: the whole history kept, in practice.
const EXPORT_HISTORY: u32 = 10_000;

/// A JSON file the browser saves under its name.
#[derive(Responder)]
#[response(content_type = "json")]
pub struct JsonDownload {
    body: String,
    disposition: Header<'static>,
}

/// Events the history page lists.
const HISTORY_PAGE: u32 = 50;

/// The password-change form.
#[derive(FromForm)]
pub struct PasswordForm {
    current_password: TextField,
    new_password: TextField,
}

/// "Log out all other sessions", deletion: the password again.
#[derive(FromForm)]
pub struct ReauthForm {
    password: TextField,
}

/// The password again, before going on to `next`.
#[derive(FromForm)]
pub struct ConfirmForm {
    password: TextField,
    next: TextField,
}

/// A new address, and the password to allow it.
#[derive(FromForm)]
pub struct EmailForm {
    new_email: TextField,
    email_password: TextField,
}

/// How the address-change form words the service's refusals.
const CHANGE_EMAIL: FormWording = FormWording {
    credentials_field: "email_password",
    wrong_credentials: "Your password is not correct.",
    new_password_field: "email_password",
    blank: None,
    too_many: "Too many attempts.",
    paused: "this",
};

/// One session's "log out" button: the session's handle.
#[derive(FromForm)]
pub struct SessionForm {
    session: TextField,
}

/// How the password-change form words the service's refusals.
const CHANGE_PASSWORD: FormWording = FormWording {
    credentials_field: "current_password",
    wrong_credentials: "Your current password is not correct.",
    new_password_field: "new_password",
    blank: None,
    too_many: "Too many wrong passwords.",
    paused: "this",
};

/// How the "log out all other sessions" form words them.
const END_OTHER_SESSIONS: FormWording = FormWording {
    credentials_field: "password",
    wrong_credentials: "Your password is not correct.",
    new_password_field: "password",
    blank: None,
    too_many: "Too many wrong passwords.",
    paused: "this",
};

#[derive(Serialize)]
struct SessionView {
    created: String,
    last_seen: String,
    device: String,
    address: String,
    /// Kept across browser restarts ("remember me").
    remembered: bool,
    current: bool,
    /// What its "log out" button posts.
    handle: String,
}

impl SessionView {
    fn new(session: &SessionSummary, current: bool, policy: &SessionPolicy) -> Self {
        let times = &session.times;
        Self {
            created: when(times.created_at),
            last_seen: when(times.last_seen_at),
            device: device_of(&session.client),
            address: address_of(&session.client),
            remembered: times.idle_timeout > policy.idle_timeout,
            current,
            handle: session.digest.handle(),
        }
    }
}

/// The device as the pages word it.
fn device_of(client: &ClientInfo) -> String {
    client
        .device
        .as_ref()
        .map_or_else(|| "Unknown device".to_owned(), ToString::to_string)
}

/// The address as the pages word it.
fn address_of(client: &ClientInfo) -> String {
    client
        .addr
        .map_or_else(|| "an unknown address".to_owned(), |ip| ip.to_string())
}

#[derive(Serialize)]
struct AccountView<'a> {
    name: &'a str,
    email: &'a str,
    /// When the address was confirmed, if it was.
    email_confirmed: Option<String>,
    /// The new address typed into the change form, shown again on errors.
    new_email: &'a str,
    member_since: String,
    /// The login before this one: when, and from where.
    previous_login: Option<EventView>,
    failed_since: usize,
    sessions: Vec<SessionView>,
    /// Whether sign-in asks for an authenticator app's code.
    two_factor: bool,
    recovery_codes_left: u32,
    passkeys: Vec<PasskeyView>,
    errors: FieldErrors,
}

/// One event of the history, as the pages word it.
#[derive(Serialize)]
struct EventView {
    at: String,
    what: &'static str,
    from: String,
    device: Option<String>,
    warning: bool,
}

impl EventView {
    fn new(event: &AccountEvent) -> Self {
        let what = match event.kind {
            EventKind::Registered => "Account created",
            EventKind::Created => "Account created by an operator",
            EventKind::Imported => "Account moved over from the previous site",
            EventKind::Login => "Logged in",
            EventKind::LoginFailed => "Failed login: wrong password",
            EventKind::PasswordChanged => "Password changed",
            EventKind::PasswordSet => "Password set by an operator",
            EventKind::PasswordReset => "Password reset with a link sent by mail",
            EventKind::EmailConfirmed => "Email address confirmed",
            EventKind::EmailChanged => "Email address changed",
            EventKind::SessionsEnded => "Other sessions logged out",
            EventKind::Logout => "Logged out",
            EventKind::SessionRevoked => "Another session logged out",
            EventKind::Disabled => "Account disabled by an operator",
            EventKind::Enabled => "Account enabled by an operator",
            EventKind::TotpEnabled => "Two-factor sign-in turned on",
            EventKind::TotpDisabled => "Two-factor sign-in turned off",
            EventKind::SecondFactorReset => "Two-factor sign-in removed by an operator",
            EventKind::RecoveryCodeUsed => "Signed in with a recovery code",
            EventKind::RecoveryCodesRegenerated => "New recovery codes made",
            EventKind::SecondFactorFailed => "Failed login: wrong code",
            EventKind::PasskeyAdded => "Passkey added",
            EventKind::PasskeyRemoved => "Passkey removed",
            EventKind::PasskeyFailed => "Failed login: passkey refused",
            _ => event.kind.as_str(),
        };
        let from = match &event.actor {
            Actor::Operator(_) => "the site's operators".to_owned(),
            Actor::Owner => address_of(&event.client),
        };
        Self {
            at: when(event.at),
            what,
            from,
            device: event.client.device.as_ref().map(ToString::to_string),
            warning: matches!(
                event.kind,
                EventKind::LoginFailed | EventKind::SecondFactorFailed | EventKind::PasskeyFailed
            ),
        }
    }
}

#[derive(Serialize)]
struct HistoryView {
    events: Vec<EventView>,
}

/// A time as the pages and mails show it: `2026-11-27 15:04 UTC`.
pub(crate) fn when(t: OffsetDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute()
    )
}

/// The account page, with `errors` on its forms and `new_email` in the
/// address form.
pub(crate) async fn render(
    page: Page<'_>,
    user: &CurrentUser,
    auth: &Auth,
    errors: FieldErrors,
    new_email: &str,
) -> Result<Html, AppError> {
    let this = user.token.digest();
    let policy = auth.session_policy();
    let sessions = auth
        .list_sessions(user.user().id)
        .await?
        .iter()
        .map(|s| SessionView::new(s, s.digest == this, policy))
        .collect();
    let account = user.user();
    let activity = auth.login_activity(account.id).await?;
    let two_factor = auth.has_app(account.id).await?;
    let passkeys = auth
        .passkeys(account.id)
        .await?
        .iter()
        .map(PasskeyView::new)
        .collect();
    let recovery_codes_left = match two_factor {
        true => auth.recovery_codes_left(account.id).await?,
        false => 0,
    };
    Ok(page.render(
        "account",
        AccountView {
            name: account.name.as_str(),
            email: account.email.as_str(),
            email_confirmed: account.email_confirmed_at.map(when),
            new_email,
            member_since: when(account.created_at),
            previous_login: activity.previous_login.as_ref().map(EventView::new),
            failed_since: activity.failed_since,
            sessions,
            two_factor,
            recovery_codes_left,
            passkeys,
            errors,
        },
    ))
}

/// A passkey as the account page lists it.
#[derive(Serialize)]
struct PasskeyView {
    id: i64,
    name: String,
    created: String,
    last_used: Option<String>,
}

impl PasskeyView {
    fn new(passkey: &auth_core::StoredPasskey) -> Self {
        Self {
            id: passkey.id.get(),
            name: passkey.name.as_str().to_owned(),
            created: when(passkey.created_at),
            last_used: passkey.last_used_at.map(when),
        }
    }
}

/// The account's data as a JSON file, for its owner to keep or take
/// elsewhere (GDPR art. 20): the account, its history and its live
/// sessions; never a password hash or a token. Personal data: it asks for
/// the password again when the session's last entry is not recent.
#[get("/account/export")]
pub async fn export(user: RecentLogin, auth: &State<Auth>) -> Result<JsonDownload, AppError> {
    let user = user.0;
    let id = user.user().id;
    // The session was just found, so the account exists; if it went in the
    // meantime, there is nothing to export.
    let account = auth.account(id).await?.ok_or(AppError::Internal)?;
    let history = auth.history(id, EXPORT_HISTORY).await?;
    let this = user.token.digest();
    let sessions = auth.list_sessions(id).await?;
    let factors = SecondFactors::of(auth, id).await?;
    let export = ExportJson {
        account: AccountJson::new(&account)
            .with_history(&history)
            .with_second_factor(&factors),
        sessions: sessions
            .iter()
            .map(|s| SessionJson::new(s, s.digest == this))
            .collect(),
    };
    let body = serde_json::to_string_pretty(&export).map_err(|e| {
        log::error!("Cannot write the export: {e}");
        AppError::Internal
    })?;
    Ok(JsonDownload {
        body,
        disposition: Header::new(
            "Content-Disposition",
            "attachment; filename=\"account.json\"",
        ),
    })
}

/// The account's recent security events, newest first.
#[get("/account/history")]
pub async fn history(
    user: CurrentUser,
    page: Page<'_>,
    auth: &State<Auth>,
) -> Result<Html, AppError> {
    let events = auth.history(user.user().id, HISTORY_PAGE).await?;
    Ok(page.render(
        "history",
        HistoryView {
            events: events.iter().map(EventView::new).collect(),
        },
    ))
}

#[get("/account")]
pub async fn show(user: CurrentUser, page: Page<'_>, auth: &State<Auth>) -> Result<Html, AppError> {
    render(page, &user, auth, FieldErrors::default(), "").await
}

/// Sends the link confirming the account's address again.
#[post("/account/email/confirmation", data = "<_form>")]
pub async fn send_confirmation(
    _form: CsrfForm<NoFields>,
    user: CurrentUser,
    client: Client,
    auth: &State<Auth>,
) -> Result<Flash<Redirect>, AppError> {
    let back = Redirect::to(format!("{}#email", uri!(show)));
    let account = user.user();
    Ok(match auth.request_confirmation(account, client.0).await {
        Ok(()) if account.email_confirmed_at.is_some() => {
            Flash::success(back, "Your address is already confirmed.")
        }
        Ok(()) => Flash::success(
            back,
            format!(
                "A new confirmation link is on its way to {}. Once it arrives, earlier links \
                 no longer work.",
                account.email
            ),
        ),
        Err(AuthError::Throttled { retry_after }) => Flash::error(
            back,
            format!(
                "Too many links have been sent to that address. Try again in {}.",
                crate::http::reply::wait_in_words(retry_after)
            ),
        ),
        Err(e) => return Err(e.into()),
    })
}

/// Asks to move the account to a new address, with the password: a link
/// goes to the new address, and nothing changes until it is followed.
#[post("/account/email", data = "<form>")]
pub async fn change_email(
    form: CsrfForm<EmailForm>,
    user: CurrentUser,
    client: Client,
    page: Page<'_>,
    auth: &State<Auth>,
) -> Result<Reply, AppError> {
    let form = form.0;
    let outcome = auth
        .request_email_change(&user.token, &form.email_password, &form.new_email, client.0)
        .await
        .map(|new| {
            format!(
                "A link is on its way to {new}. Your address changes when you follow it; \
                 until then, keep logging in with {}.",
                user.user().email
            )
        });
    let refusal = match outcome {
        Ok(message) => {
            return Ok(Reply::redirect(Flash::success(
                Redirect::to(format!("{}#email", uri!(show))),
                message,
            )))
        }
        Err(AuthError::EmailTaken) => Refusal::form_error(
            Status::Conflict,
            "email",
            "Another account uses that address.",
        ),
        Err(error) => Refusal::of(error, &CHANGE_EMAIL)?,
    };
    let page = render(
        page,
        &user,
        auth,
        refusal.errors().clone(),
        form.new_email.trim(),
    )
    .await?;
    Ok(refusal.reply(page))
}

/// Needs the current password; ends every other session of the account.
#[post("/account/password", data = "<form>")]
pub async fn change_password(
    form: CsrfForm<PasswordForm>,
    user: CurrentUser,
    client: Client,
    page: Page<'_>,
    auth: &State<Auth>,
) -> Result<Reply, AppError> {
    let form = form.0;
    let outcome = auth
        .change_password(
            &user.token,
            &form.current_password,
            &form.new_password,
            client.0,
        )
        .await
        .map(|()| {
            "Your password has been changed, and your other sessions have been logged out."
                .to_owned()
        });
    answer(outcome, &CHANGE_PASSWORD, page, &user, auth).await
}

/// Ends every session of the account but this one, after checking the
/// password again.
#[post("/account/sessions", data = "<form>")]
pub async fn end_other_sessions(
    form: CsrfForm<ReauthForm>,
    user: CurrentUser,
    client: Client,
    page: Page<'_>,
    auth: &State<Auth>,
) -> Result<Reply, AppError> {
    let outcome = auth
        .revoke_other_sessions(&user.token, &form.0.password, client.0)
        .await
        .map(|ended| match ended {
            0 => "There were no other sessions to log out.".to_owned(),
            1 => "Logged out 1 other session.".to_owned(),
            n => format!("Logged out {n} other sessions."),
        });
    answer(outcome, &END_OTHER_SESSIONS, page, &user, auth).await
}

/// Logs out one session of the account, by its handle: another browser
/// the owner no longer uses or does not recognise. A handle that names no
/// session of theirs (someone else's, or one already ended) ends nothing.
#[post("/account/sessions/end", data = "<form>")]
pub async fn end_session(
    form: CsrfForm<SessionForm>,
    user: CurrentUser,
    client: Client,
    auth: &State<Auth>,
) -> Result<Flash<Redirect>, AppError> {
    let ended = auth
        .revoke_session(user.user().id, form.0.session.trim(), client.0)
        .await?;
    let back = Redirect::to(format!("{}#sessions", uri!(show)));
    Ok(if ended {
        Flash::success(back, "That session has been logged out.")
    } else {
        Flash::error(back, "That session had already ended.")
    })
}

/// How the confirmation form words the service's refusals.
const CONFIRM: FormWording = FormWording {
    credentials_field: "password",
    wrong_credentials: "That is not your password.",
    new_password_field: "password",
    blank: Some("Enter your password."),
    too_many: "Too many wrong passwords.",
    paused: "this",
};

#[derive(Serialize)]
struct ConfirmView<'a> {
    next: Option<&'a str>,
    errors: FieldErrors,
}

/// "Confirm it's you": the password again, before a sensitive page.
#[get("/account/confirm?<next>")]
pub fn confirm_form(_user: CurrentUser, page: Page<'_>, next: Option<&str>) -> Html {
    let next = next.and_then(LocalPath::parse);
    page.render(
        "confirm",
        ConfirmView {
            next: next.as_ref().map(LocalPath::as_str),
            errors: FieldErrors::default(),
        },
    )
}

/// Checks the password (throttled like a login), records the entry in the
/// session, and goes on to `next` (a local path) or the account page.
#[post("/account/confirm", data = "<form>")]
pub async fn confirm(
    form: CsrfForm<ConfirmForm>,
    user: CurrentUser,
    client: Client,
    page: Page<'_>,
    auth: &State<Auth>,
) -> Result<Reply, AppError> {
    let form = form.0;
    let next = LocalPath::parse(&form.next);
    let refusal = match auth
        .reauthenticate(&user.token, &form.password, client.0)
        .await
    {
        Ok(_) => {
            let target = match &next {
                Some(next) => next.as_str().to_owned(),
                None => uri!(show).to_string(),
            };
            return Ok(Reply::redirect(Flash::success(
                Redirect::to(target),
                "Thank you. You can go ahead.",
            )));
        }
        Err(error) => Refusal::of(error, &CONFIRM)?,
    };
    let view = ConfirmView {
        next: next.as_ref().map(LocalPath::as_str),
        errors: refusal.errors().clone(),
    };
    Ok(refusal.reply(page.render("confirm", view)))
}

/// How the deletion form words the service's refusals.
const DELETE_ACCOUNT: FormWording = FormWording {
    wrong_credentials: "Your password is not correct; nothing was deleted.",
    ..END_OTHER_SESSIONS
};

/// What deleting the account takes away, and the form that does it.
#[get("/account/delete")]
pub fn confirm_delete(_user: CurrentUser, page: Page<'_>) -> Html {
    page.render("delete", context! { errors => FieldErrors::default() })
}

/// Deletes the account after its password is entered again; logs this
/// browser out and says so on the home page.
#[post("/account/delete", data = "<form>")]
pub async fn delete(
    form: CsrfForm<ReauthForm>,
    user: CurrentUser,
    client: Client,
    page: Page<'_>,
    auth: &State<Auth>,
    cookie: SessionCookie,
    jar: &CookieJar<'_>,
) -> Result<Reply, AppError> {
    let deleted = auth
        .delete_own_account(&user.token, &form.0.password, client.0)
        .await;
    let refusal = match deleted {
        Ok(id) => {
            // The account's history went with it; the log keeps the fact.
            log::info!("Account {} deleted by its owner", id.get());
            cookie.clear(jar);
            CsrfToken::rotate(jar, cookie.policy())?;
            return Ok(Reply::redirect(Flash::success(
                Redirect::to(uri!(home::index)),
                "Your account has been deleted, with its sessions and history. \
                 You are logged out.",
            )));
        }
        Err(error) => Refusal::of(error, &DELETE_ACCOUNT)?,
    };
    let errors = refusal.errors().clone();
    Ok(refusal.reply(page.render("delete", context! { errors })))
}

/// Back to the account page with `outcome`'s message if the form worked;
/// else the account page again, with the refusal's messages by their
/// fields.
async fn answer(
    outcome: Result<String, AuthError>,
    wording: &FormWording,
    page: Page<'_>,
    user: &CurrentUser,
    auth: &Auth,
) -> Result<Reply, AppError> {
    let refusal = match outcome {
        Ok(message) => {
            return Ok(Reply::redirect(Flash::success(
                Redirect::to(uri!(show)),
                message,
            )))
        }
        Err(error) => Refusal::of(error, wording)?,
    };
    let page = render(page, user, auth, refusal.errors().clone(), "").await?;
    Ok(refusal.reply(page))
}
