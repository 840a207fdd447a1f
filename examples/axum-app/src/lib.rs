//! auth-core and auth-store in an axum service: register, log in (with an
//! authenticator app's code when the account has one), log out, turn on
//! two-factor sign-in, and a page only a logged-in user sees. `main.rs` reads the environment and
//! calls [`app`] and [`serve`]; the end-to-end test calls them too.

use std::error::Error;
use std::future::Future;
use std::net::SocketAddr;

use auth_core::{
    AuthError, AuthService, BcryptHasher, ClientInfo, IssuedSession, Registration,
    SecondFactorError, SessionLength, SessionToken, SignIn, SignInToken,
};
use auth_store::{PoolOptions, Store};
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::{header, request::Parts, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use serde::Deserialize;
use tokio::net::TcpListener;

/// What the app needs to start.
#[derive(Debug, Clone)]
pub struct Config {
    /// `sqlite://path/to/file.db` (created if missing) or `postgres://…`.
    pub database_url: String,
    /// bcrypt's work factor: 12 in production, 4 in tests.
    pub bcrypt_cost: u32,
    /// Whether browsers reach the site over HTTPS: the cookie is then `Secure`.
    pub https: bool,
}

/// Connects to the database, brings its schema up to date and returns the
/// routes, ready for [`serve`].
pub async fn app(config: &Config) -> Result<Router, Box<dyn Error + Send + Sync>> {
    let store = Store::connect(&config.database_url, &PoolOptions::default()).await?;
    store.migrate().await?;
    // The service is an `Arc` inside, cheap to clone per request. `warm_up`
    // makes the dummy hash unknown emails are checked against (so they take
    // as long as wrong passwords) now rather than at the first such login.
    let auth = AuthService::builder(store)
        .hasher(BcryptHasher::new(config.bcrypt_cost)?)
        .build()?;
    auth.warm_up();
    let cookie = SessionCookie {
        secure: config.https,
    };
    Ok(Router::new()
        .route("/", get(home))
        .route(
            "/register",
            get(|| async { register_form("", "", &[]) }).post(register),
        )
        .route("/login", get(|| async { login_form("", &[]) }).post(login))
        .route(
            "/login/code",
            get(|| async { code_form(&[]) }).post(login_code),
        )
        .route("/two-factor", post(begin_two_factor))
        .route("/two-factor/confirm", post(confirm_two_factor))
        .route("/logout", post(logout))
        .route("/protected", get(protected))
        .layer(middleware::from_fn(refuse_cross_site_posts))
        .with_state(AppState { auth, cookie }))
}

/// Serves `app` on `listener` until `shutdown` completes. Handlers see each
/// client's address, which the login throttle counts failures against.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = app.into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

/// An error and its causes on one line, for the log. auth-store's errors say
/// *what* failed ("database unavailable") and keep the driver's detail as
/// their `source()`.
pub fn report(error: &(dyn Error + 'static)) -> String {
    let chain = std::iter::successors(Some(error), |&e| e.source());
    chain
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(": ")
}

#[derive(Clone)]
struct AppState {
    auth: AuthService<Store>,
    cookie: SessionCookie,
}

/// The cookie that carries the session token. Its value is the token itself:
/// 256 random bits that the database keeps only as a SHA-256 digest, so
/// signing or encrypting the cookie would add nothing (a forged or altered
/// value names no session), and logging out deletes the session server-side.
#[derive(Clone, Copy)]
struct SessionCookie {
    secure: bool,
}

impl SessionCookie {
    fn name(self) -> &'static str {
        // Browsers accept a `__Host-` cookie only if it is Secure, Path=/ and
        // has no Domain: no subdomain can plant or overwrite it.
        if self.secure {
            "__Host-session"
        } else {
            "session"
        }
    }

    fn token(self, jar: &CookieJar) -> Option<SessionToken> {
        SessionToken::parse(jar.get(self.name())?.value())
    }

    fn build(self, value: String) -> Cookie<'static> {
        Cookie::build((self.name(), value))
            .http_only(true) // scripts (and so XSS) cannot read it
            .same_site(SameSite::Lax) // not sent with other sites' POSTs
            .path("/")
            .secure(self.secure)
            .build()
    }

    fn set(self, jar: CookieJar, issued: &IssuedSession) -> CookieJar {
        let mut cookie = self.build(issued.token.expose_secret().to_owned());
        // A remembered session's cookie goes when its absolute timeout ends
        // it; any other is a browser-session cookie, gone with the browser.
        if issued.length == SessionLength::Remembered {
            cookie.set_max_age(issued.max_age().try_into().ok());
        }
        jar.add(cookie)
    }

    fn clear(self, jar: CookieJar) -> CookieJar {
        jar.remove(self.build(String::new()))
    }
}

/// The cookie that holds a sign-in waiting for its second factor: the
/// [`SignInToken`] opens no page, only `POST /login/code`, for five minutes.
const PENDING_COOKIE: &str = "pending_sign_in";

fn pending_cookie(value: String, secure: bool) -> Cookie<'static> {
    Cookie::build((PENDING_COOKIE, value))
        .http_only(true)
        .same_site(SameSite::Lax)
        .path("/login/code")
        .secure(secure)
        .max_age(auth_core::SIGN_IN_STEP_VALID_FOR)
        .build()
}

/// The logged-in user, and the session's token (for the actions that ask
/// for the password again). A handler that takes it as an argument only
/// runs for a live session; anyone else is sent to the login page.
struct CurrentUser(auth_core::User, SessionToken);

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let jar = CookieJar::from_headers(&parts.headers);
        let Some(token) = state.cookie.token(&jar) else {
            return Err(Redirect::to("/login").into_response());
        };
        match state.auth.authenticate(&token).await {
            Ok(Some(session)) => Ok(CurrentUser(session.user, token)),
            // Expired, or logged out elsewhere: drop the dead cookie too.
            Ok(None) => Err((state.cookie.clear(jar), Redirect::to("/login")).into_response()),
            Err(error) => Err(AppError(error).into_response()),
        }
    }
}

/// CSRF: auth-core leaves it to the host app. Browsers say where a request
/// comes from in `Origin` (sent with every cross-origin POST) and
/// `Sec-Fetch-Site`; a POST from another site is refused here, and
/// SameSite=Lax keeps the cookie off it anyway. A production app should also
/// put CSRF tokens in its forms (older browsers; same-site subdomains).
async fn refuse_cross_site_posts(request: Request, next: Next) -> Response {
    let headers = request.headers();
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    // "scheme://host[:port]", or "null" from a sandboxed page: never a match.
    let foreign_origin = headers.get(header::ORIGIN).is_some_and(|origin| {
        let origin = origin.to_str().unwrap_or_default();
        origin.split_once("://").map(|(_, authority)| authority) != host
    });
    let fetch_site = headers.get("sec-fetch-site").map(|v| v.as_bytes());
    let cross_site = matches!(fetch_site, Some(b"cross-site" | b"same-site"));
    let safe = matches!(*request.method(), Method::GET | Method::HEAD);
    if !safe && (foreign_origin || cross_site) {
        let body = page("Forbidden", "<p>Cross-site form posts are refused.</p>");
        return (StatusCode::FORBIDDEN, body).into_response();
    }
    next.run(request).await
}

/// The one place where failures the user cannot fix become responses. The
/// detail goes to the log, never to the browser.
struct AppError(AuthError);

impl From<AuthError> for AppError {
    fn from(error: AuthError) -> Self {
        Self(error)
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, title, text) = match &self.0 {
            AuthError::Throttled { retry_after } => {
                let seconds = retry_after.as_secs(); // whole seconds, rounded up
                let text = format!("Too many failed logins. Try again in {seconds} seconds.");
                let body = page("Too many attempts", &format!("<p>{text}</p>"));
                let retry = [(header::RETRY_AFTER, seconds.to_string())];
                return (StatusCode::TOO_MANY_REQUESTS, retry, body).into_response();
            }
            AuthError::Store(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "Try again later",
                "The service is unavailable right now. Please try again in a moment.",
            ),
            // `AuthError` is non_exhaustive: new variants land here.
            _ => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "Something went wrong on our side.",
            ),
        };
        eprintln!("error: {}", report(&self.0));
        (status, page(title, &format!("<p>{text}</p>"))).into_response()
    }
}

/// What a form shows for `error`: the status and the messages. Errors that
/// are not the user's to fix go on to [`AppError`].
fn form_errors(error: AuthError) -> Result<(StatusCode, Vec<String>), AppError> {
    let one = |status, message: &str| Ok((status, vec![message.to_owned()]));
    match error {
        // Each field's error has a `Display` written for the person typing.
        AuthError::InvalidInput(fields) => {
            let messages = fields.iter().map(|(_, error)| error.to_string()).collect();
            Ok((StatusCode::UNPROCESSABLE_ENTITY, messages))
        }
        AuthError::EmailTaken => one(StatusCode::CONFLICT, "That email already has an account."),
        // auth-core returns this for an unknown email and a wrong password
        // alike; one message for both, so the page does not reveal accounts.
        AuthError::InvalidCredentials => one(StatusCode::UNAUTHORIZED, "Wrong email or password."),
        // Already on, or nothing waiting to confirm (a refreshed form).
        AuthError::SecondFactor(error) => Ok((StatusCode::CONFLICT, vec![error.to_string()])),
        other => Err(AppError(other)),
    }
}

#[derive(Deserialize)]
struct RegisterForm {
    email: String,
    name: String,
    password: String,
}

async fn register(
    State(state): State<AppState>,
    jar: CookieJar,
    Form(form): Form<RegisterForm>,
) -> Result<Response, AppError> {
    let registration = Registration {
        email: &form.email,
        name: &form.name,
        password: &form.password,
    };
    match state.auth.register(registration).await {
        Ok(issued) => Ok(logged_in(&state, jar, &issued)),
        Err(error) => {
            let (status, messages) = form_errors(error)?;
            Ok((status, register_form(&form.email, &form.name, &messages)).into_response())
        }
    }
}

#[derive(Deserialize)]
struct LoginForm {
    email: String,
    password: String,
}

async fn login(
    State(state): State<AppState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    jar: CookieJar,
    Form(form): Form<LoginForm>,
) -> Result<Response, AppError> {
    // Failed logins are throttled per account and per client address. Behind
    // a reverse proxy, take the address from the header your proxy sets.
    // An account with an authenticator app gets no session yet: only a
    // pending sign-in, completed at /login/code.
    let result = state
        .auth
        .sign_in(
            &form.email,
            &form.password,
            Some(client.ip()),
            SessionLength::Browser,
        )
        .await;
    match result {
        Ok(SignIn::Complete(issued)) => Ok(logged_in(&state, jar, &issued)),
        Ok(SignIn::SecondFactor(pending)) => {
            let cookie = pending_cookie(
                pending.token.expose_secret().to_owned(),
                state.cookie.secure,
            );
            Ok((jar.add(cookie), Redirect::to("/login/code")).into_response())
        }
        Err(error) => {
            let (status, messages) = form_errors(error)?;
            Ok((status, login_form(&form.email, &messages)).into_response())
        }
    }
}

#[derive(Deserialize)]
struct CodeForm {
    code: String,
}

/// The second step: the app's code or a recovery code. Wrong codes count
/// with the account's wrong passwords.
async fn login_code(
    State(state): State<AppState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    jar: CookieJar,
    Form(form): Form<CodeForm>,
) -> Result<Response, AppError> {
    let pending = jar
        .get(PENDING_COOKIE)
        .and_then(|cookie| SignInToken::parse(cookie.value()));
    let Some(pending) = pending else {
        return Ok(Redirect::to("/login").into_response());
    };
    let client = ClientInfo::new(Some(client.ip()), None);
    match state
        .auth
        .complete_sign_in(&pending, &form.code, client)
        .await
    {
        Ok(issued) => {
            let jar = jar.remove(pending_cookie(String::new(), state.cookie.secure));
            Ok(logged_in(&state, jar, &issued))
        }
        Err(AuthError::SecondFactor(SecondFactorError::SignInExpired)) => {
            Ok(Redirect::to("/login").into_response())
        }
        Err(AuthError::InvalidCredentials) => {
            let messages = ["That code is not right.".to_owned()];
            Ok((StatusCode::UNAUTHORIZED, code_form(&messages)).into_response())
        }
        Err(error) => Err(AppError(error)),
    }
}

#[derive(Deserialize)]
struct PasswordForm {
    password: String,
}

/// Turning on an authenticator app, after the password: the secret to type
/// into the app (a real site also shows `secret.otpauth_url(..)` as a QR
/// code) and the form for its first code.
async fn begin_two_factor(
    State(state): State<AppState>,
    CurrentUser(_, token): CurrentUser,
    Form(form): Form<PasswordForm>,
) -> Result<Response, AppError> {
    match state
        .auth
        .begin_totp(&token, &form.password, ClientInfo::default())
        .await
    {
        Ok(secret) => {
            let body = format!(
                r#"<p>Add this secret to your authenticator app: <code id="secret">{}</code></p>
<form method="post" action="/two-factor/confirm"><label>Code <input name="code" autocomplete="one-time-code" required></label><button>Turn on</button></form>"#,
                secret.base32()
            );
            // The page shows a secret: keep it out of caches.
            Ok((
                [(header::CACHE_CONTROL, "no-store")],
                page("Set up your app", &body),
            )
                .into_response())
        }
        Err(error) => {
            let (status, messages) = form_errors(error)?;
            Ok((status, page("Set up your app", &error_list(&messages))).into_response())
        }
    }
}

/// The app's first code turns it on; the recovery codes are shown once.
async fn confirm_two_factor(
    State(state): State<AppState>,
    CurrentUser(user, _): CurrentUser,
    Form(form): Form<CodeForm>,
) -> Result<Response, AppError> {
    match state
        .auth
        .confirm_totp(&user, &form.code, ClientInfo::default())
        .await
    {
        Ok(enrolled) => {
            let codes: String = enrolled
                .recovery_codes
                .iter()
                .map(|code| format!("<li><code>{}</code></li>", code.expose_secret()))
                .collect();
            let body = format!(
                r#"<p>Keep these recovery codes safe; each works once.</p><ul id="codes">{codes}</ul>"#
            );
            Ok((
                [(header::CACHE_CONTROL, "no-store")],
                page("Two-factor sign-in is on", &body),
            )
                .into_response())
        }
        Err(AuthError::InvalidCredentials) => {
            let messages = ["That code is not right: start the set-up again.".to_owned()];
            Ok((
                StatusCode::UNAUTHORIZED,
                page("Set up your app", &error_list(&messages)),
            )
                .into_response())
        }
        Err(error) => {
            let (status, messages) = form_errors(error)?;
            Ok((status, page("Set up your app", &error_list(&messages))).into_response())
        }
    }
}

/// A new session (registration or login) always gets a new token, so a token
/// planted in the browser beforehand is worthless afterwards.
fn logged_in(state: &AppState, jar: CookieJar, issued: &IssuedSession) -> Response {
    let jar = state.cookie.set(jar, issued);
    (jar, Redirect::to("/protected")).into_response()
}

async fn logout(
    State(state): State<AppState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    jar: CookieJar,
) -> Result<Response, AppError> {
    // Deleting the session server-side is what logs out: a copy of the
    // cookie stops working too. The client goes into the account's history.
    if let Some(token) = state.cookie.token(&jar) {
        state.auth.logout(&token, client.ip()).await?;
    }
    Ok((state.cookie.clear(jar), Redirect::to("/")).into_response())
}

async fn protected(CurrentUser(user, _): CurrentUser) -> impl IntoResponse {
    let body = format!(
        "<p>Hello, {}! You are logged in as {}.</p>{TWO_FACTOR_FORM}{LOGOUT_BUTTON}",
        escape(user.name.as_str()),
        escape(user.email.as_str()),
    );
    // A personal page: keep it out of caches (and the back button after logout).
    (
        [(header::CACHE_CONTROL, "no-store")],
        page("Protected", &body),
    )
}

async fn home() -> Html<String> {
    let links = r#"<ul><li><a href="/register">Register</a></li><li><a href="/login">Log in</a></li><li><a href="/protected">Protected page</a></li></ul>"#;
    page("auth-core on axum", &format!("{links}{LOGOUT_BUTTON}"))
}

const TWO_FACTOR_FORM: &str = r#"<form method="post" action="/two-factor"><label>Password <input name="password" type="password" autocomplete="current-password" required></label><button>Set up an authenticator app</button></form>"#;

fn code_form(messages: &[String]) -> Html<String> {
    let body = format!(
        r#"{}<form method="post" action="/login/code">
<label>Code from your app, or a recovery code <input name="code" autocomplete="one-time-code" required></label>
<button>Sign in</button></form>"#,
        error_list(messages),
    );
    page("Enter your code", &body)
}

const LOGOUT_BUTTON: &str =
    r#"<form method="post" action="/logout"><button>Log out</button></form>"#;

fn register_form(email: &str, name: &str, messages: &[String]) -> Html<String> {
    let body = format!(
        r#"{}<form method="post" action="/register">
<label>Email <input name="email" type="email" value="{}" required></label>
<label>Name <input name="name" value="{}" required></label>
<label>Password <input name="password" type="password" autocomplete="new-password" required></label>
<button>Register</button></form>"#,
        error_list(messages),
        escape(email),
        escape(name),
    );
    page("Register", &body)
}

fn login_form(email: &str, messages: &[String]) -> Html<String> {
    let body = format!(
        r#"{}<form method="post" action="/login">
<label>Email <input name="email" type="email" value="{}" required></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button>Log in</button></form>"#,
        error_list(messages),
        escape(email),
    );
    page("Log in", &body)
}

fn error_list(messages: &[String]) -> String {
    let items: String = messages
        .iter()
        .map(|m| format!("<li>{}</li>", escape(m)))
        .collect();
    if items.is_empty() {
        items
    } else {
        format!(r#"<ul class="errors">{items}</ul>"#)
    }
}

fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{title}</title></head>\
         <body><h1>{title}</h1>{body}</body></html>"
    ))
}

/// Escapes text for HTML element content and quoted attribute values. Every
/// user-supplied value (and a name may be `<script>…`) goes through it.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
