//! Starts the whole application on a free port of 127.0.0.1 and drives it
//! over real HTTP with a cookie jar, the way a browser would.

#![allow(dead_code)]

use std::path::Path;
use std::sync::{Arc, Mutex, Once};

use auth_core::{Clock, SystemClock};
use reqwest::cookie::Jar;
use reqwest::{Client, Response, StatusCode};
use rocket::fairing::AdHoc;
use rocket::figment::Figment;
use rocket::Shutdown;
use tokio::sync::oneshot;

use test_support::csrf;

/// The log lines of every server in this test process, at warning level
/// and above. Installed before any Rocket starts, so Rocket keeps it.
pub fn captured_logs() -> &'static Mutex<Vec<String>> {
    static LINES: Mutex<Vec<String>> = Mutex::new(Vec::new());
    struct Capture;
    impl log::Log for Capture {
        fn enabled(&self, _: &log::Metadata<'_>) -> bool {
            true
        }
        fn log(&self, record: &log::Record<'_>) {
            LINES
                .lock()
                .unwrap()
                .push(format!("{} {}", record.level(), record.args()));
        }
        fn flush(&self) {}
    }
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        if log::set_boxed_logger(Box::new(Capture)).is_ok() {
            log::set_max_level(log::LevelFilter::Warn);
        }
    });
    &LINES
}

/// The configuration of a test server keeping its data in `dir` and its
/// accounts in `database_url`.
pub fn figment(dir: &Path, database_url: &str) -> Figment {
    test_support::figment(dir, database_url)
        .merge(("address", "127.0.0.1"))
        .merge(("port", 0))
        .merge(("shutdown.ctrlc", false))
        .merge(("shutdown.grace", 1))
        .merge(("shutdown.mercy", 1))
}

pub fn sqlite_url(dir: &Path) -> String {
    format!("sqlite://{}/auth.db", dir.display())
}

/// A running server.
pub struct Server {
    pub base: String,
    shutdown: Shutdown,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    pub async fn start(figment: Figment) -> Server {
        Self::start_with_clock(figment, Arc::new(SystemClock)).await
    }

    pub async fn start_with_clock(figment: Figment, clock: Arc<dyn Clock>) -> Server {
        let (tx, rx) = oneshot::channel();
        let rocket =
            auth_web::build(figment, clock)
                .expect("app builds")
                .attach(AdHoc::on_liftoff("Report the port", move |rocket| {
                    Box::pin(async move {
                        let _ = tx.send((rocket.config().port, rocket.shutdown()));
                    })
                }));
        let task = tokio::spawn(async move {
            if let Err(e) = rocket.launch().await {
                panic!("server failed: {e}");
            }
        });
        let (port, shutdown) = rx.await.expect("server lifted off");
        Server {
            base: format!("http://127.0.0.1:{port}"),
            shutdown,
            task,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn stop(self) {
        self.shutdown.notify();
        self.task.await.expect("server task");
    }
}

/// A browser: a cookie jar (shareable between servers, as a browser's is
/// between instances behind one address) and redirects followed.
pub fn browser(jar: Arc<Jar>) -> Client {
    Client::builder()
        .cookie_provider(jar)
        .build()
        .expect("http client")
}

/// Like [`browser`], but redirects are returned, not followed.
pub fn browser_no_redirects(jar: Arc<Jar>) -> Client {
    Client::builder()
        .cookie_provider(jar)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client")
}

pub async fn page(client: &Client, url: &str) -> (StatusCode, String) {
    let response = client.get(url).send().await.expect("GET");
    let status = response.status();
    (status, response.text().await.expect("body"))
}

/// Checks that the page of `response` says `text`.
pub async fn expect_text(response: Response, text: &str) {
    let page = response.text().await.expect("a page");
    assert!(page.contains(text), "{text:?} is not on the page:\n{page}");
}

/// Fetches `form_page`, then posts `fields` and its CSRF token to `action`.
pub async fn submit(
    client: &Client,
    form_page: &str,
    action: &str,
    fields: &[(&str, &str)],
) -> Response {
    let (_, html) = page(client, form_page).await;
    let token = csrf(&html);
    let mut all = fields.to_vec();
    all.push(("csrf_token", &token));
    client.post(action).form(&all).send().await.expect("POST")
}

/// Posts `fields` through the form of `server`'s page `path`.
pub async fn post_form(
    client: &Client,
    server: &Server,
    path: &str,
    fields: &[(&str, &str)],
) -> Response {
    let url = server.url(path);
    submit(client, &url, &url, fields).await
}

/// Registers through `server`'s form.
pub async fn register(
    client: &Client,
    server: &Server,
    email: &str,
    name: &str,
    password: &str,
) -> Response {
    let fields = [("email", email), ("name", name), ("password", password)];
    post_form(client, server, "/register", &fields).await
}

/// Logs in through `server`'s form.
pub async fn login(client: &Client, server: &Server, email: &str, password: &str) -> Response {
    let fields = [("email", email), ("password", password)];
    post_form(client, server, "/login", &fields).await
}

/// The original app's flow, as a browser walks it: register, the secret
/// page, the download, logout, the login redirect, a wrong password, login.
pub async fn walk_the_original_flow(server: &Server) {
    let client = browser(Arc::new(Jar::default()));
    let url = |path| server.url(path);

    let (status, home) = page(&client, &url("/")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(home.contains(r#"href="/register""#));

    let registered = post_form(
        &client,
        server,
        "/register",
        &[
            ("email", "Ada@Example.com"),
            ("name", "Ada"),
            ("password", "analytical engine"),
        ],
    )
    .await;
    assert_eq!(registered.url().path(), "/secrets");
    let secrets = registered.text().await.unwrap();
    assert!(secrets.contains("Welcome, Ada"));
    assert!(secrets.contains("Your account has been created."));

    let download = client.get(url("/download")).send().await.unwrap();
    assert_eq!(download.status(), StatusCode::OK);
    assert_eq!(download.headers()["content-type"], "application/pdf");
    assert!(download.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("cheat_sheet.pdf"));
    assert!(download.bytes().await.unwrap().starts_with(b"%PDF-"));

    let logged_out = submit(&client, &url("/"), &url("/logout"), &[]).await;
    assert_eq!(logged_out.url().path(), "/");
    expect_text(logged_out, "You have been logged out.").await;

    let bounced = client.get(url("/secrets")).send().await.unwrap();
    assert_eq!(bounced.url().path(), "/login");
    assert_eq!(bounced.url().query(), Some("next=%2Fsecrets"));
    let login_page = bounced.text().await.unwrap();
    assert!(login_page.contains("Please log in to see this page."));

    let wrong = post_form(
        &client,
        server,
        "/login",
        &[("email", "ada@example.com"), ("password", "not it at all")],
    )
    .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    expect_text(wrong, "Invalid email or password. Please try again.").await;

    let logged_in = submit(
        &client,
        &url("/login?next=/download"),
        &url("/login"),
        &[
            ("email", "ada@example.com"),
            ("password", "analytical engine"),
            ("next", "/secrets"),
        ],
    )
    .await;
    assert_eq!(logged_in.url().path(), "/secrets");
    assert!(logged_in.text().await.unwrap().contains("Welcome, Ada"));
}

/// How a burst of simultaneous wrong passwords was answered.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Burst {
    /// 401: the password was checked and was wrong.
    pub checked: usize,
    /// 429: refused by the throttle without a check.
    pub throttled: usize,
    /// Anything else, by status.
    pub other: Vec<u16>,
}

/// Sends `guesses` wrong passwords for `email` at the same moment, spread
/// over `servers` in turn, each from its own browser.
pub async fn guess_at_once(servers: &[&Server], email: &str, guesses: usize) -> Burst {
    let statuses = post_at_once(servers, "/login", guesses, |n| {
        vec![
            ("email", email.to_owned()),
            ("password", format!("wrong guess {n}")),
        ]
    })
    .await;
    let mut burst = Burst::default();
    for status in statuses {
        match status {
            StatusCode::UNAUTHORIZED => burst.checked += 1,
            StatusCode::TOO_MANY_REQUESTS => burst.throttled += 1,
            other => burst.other.push(other.as_u16()),
        }
    }
    burst
}

/// Posts the form of `path` `times` at the same moment, spread over
/// `servers` in turn, each from its own browser (redirects not followed):
/// every browser first loads the form, then all posts go out together.
/// The `n`th post sends `fields(n)` and its CSRF token. Returns each
/// post's status.
pub async fn post_at_once(
    servers: &[&Server],
    path: &str,
    times: usize,
    fields: impl Fn(usize) -> Vec<(&'static str, String)>,
) -> Vec<StatusCode> {
    let mut ready = Vec::with_capacity(times);
    for n in 0..times {
        let server = servers[n % servers.len()];
        let client = browser_no_redirects(Arc::new(Jar::default()));
        let url = server.url(path);
        let (_, html) = page(&client, &url).await;
        let mut form = fields(n);
        form.push(("csrf_token", csrf(&html)));
        ready.push((client, url, form));
    }
    let start = Arc::new(tokio::sync::Barrier::new(times));
    let posts: Vec<_> = ready
        .into_iter()
        .map(|(client, url, form)| {
            let start = start.clone();
            tokio::spawn(async move {
                start.wait().await;
                client
                    .post(&url)
                    .form(&form)
                    .send()
                    .await
                    .expect("POST")
                    .status()
            })
        })
        .collect();
    let mut statuses = Vec::with_capacity(times);
    for post in posts {
        statuses.push(post.await.expect("request task"));
    }
    statuses
}

/// The registration form of a new account, numbered `n`.
pub fn new_account(n: usize) -> Vec<(&'static str, String)> {
    vec![
        ("email", format!("new{n}@example.com")),
        ("name", format!("New {n}")),
        ("password", "analytical engine".to_owned()),
    ]
}

/// How many registrations created an account (303) and how many were
/// throttled (429); anything else fails.
pub fn registration_outcomes(statuses: &[StatusCode]) -> (usize, usize) {
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::SEE_OTHER || *s == StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    let created = statuses
        .iter()
        .filter(|s| **s == StatusCode::SEE_OTHER)
        .count();
    (created, statuses.len() - created)
}

/// Turns on two-factor sign-in for `client`'s account through the account
/// page, as its owner would (the secret read off the set-up page); returns
/// the secret and the recovery codes.
pub async fn enrol_over_http(
    client: &Client,
    server: &Server,
    password: &str,
) -> (auth_core::TotpSecret, Vec<String>) {
    let begun = submit(
        client,
        &server.url("/account"),
        &server.url("/account/two-factor"),
        &[("two_factor_password", password)],
    )
    .await;
    let setup = begun.text().await.expect("the set-up page");
    let marker = "id=\"totp-secret\">";
    let start = setup.find(marker).expect("the secret is on the page") + marker.len();
    let end = start + setup[start..].find('<').expect("the secret ends");
    let secret = auth_core::TotpSecret::from_base32(&setup[start..end]).expect("base32");
    let code = secret.code_at(auth_core::time::OffsetDateTime::now_utc());
    let confirmed = submit(
        client,
        &server.url("/account/two-factor/setup"),
        &server.url("/account/two-factor/confirm"),
        &[("code", &code)],
    )
    .await;
    let page = confirmed.text().await.expect("the recovery codes");
    let codes = page
        .split("<li><code>")
        .skip(1)
        .map(|rest| rest.split('<').next().unwrap_or_default().to_owned())
        .collect();
    (secret, codes)
}

/// Posts `fields` (the CSRF token among them) to `path` from one browser's
/// cookies, `times` at the same moment, spread over `servers` in turn.
/// Returns the statuses.
pub async fn post_at_once_as(
    jar: &Arc<Jar>,
    servers: &[&Server],
    path: &str,
    times: usize,
    fields: &[(&'static str, String)],
) -> Vec<StatusCode> {
    let start = Arc::new(tokio::sync::Barrier::new(times));
    let posts: Vec<_> = (0..times)
        .map(|n| {
            let client = browser_no_redirects(jar.clone());
            let url = servers[n % servers.len()].url(path);
            let (form, start) = (fields.to_vec(), start.clone());
            tokio::spawn(async move {
                start.wait().await;
                client.post(&url).form(&form).send().await.unwrap().status()
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for post in posts {
        statuses.push(post.await.unwrap());
    }
    statuses
}
