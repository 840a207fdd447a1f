//! The example app on a real socket with its own SQLite database, driven over
//! HTTP like a browser (a cookie jar, redirects not followed so each status
//! can be checked).

use reqwest::{header, redirect, Client, Response, StatusCode};
use tempfile::TempDir;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

const EMAIL: &str = "ada@example.com";
const PASSWORD: &str = "analytical engine";

struct Server {
    base: String,
    task: JoinHandle<std::io::Result<()>>,
    _dir: TempDir,
}

impl Server {
    async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let config = axum_app::Config {
            database_url: format!("sqlite://{}", dir.path().join("test.db").display()),
            bcrypt_cost: 4,
            https: false,
        };
        let app = axum_app::app(&config).await.expect("the app starts");
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(axum_app::serve(listener, app, std::future::pending()));
        Self {
            base,
            task,
            _dir: dir,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Drop for Server {
    // Stops the server even when an assertion fails.
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A client that keeps cookies, like a browser.
fn browser() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(redirect::Policy::none())
        .build()
        .unwrap()
}

/// A client with no cookie jar: it sends only the headers it is given.
fn bare() -> Client {
    Client::builder()
        .redirect(redirect::Policy::none())
        .build()
        .unwrap()
}

fn location(response: &Response) -> &str {
    response.headers()[header::LOCATION].to_str().unwrap()
}

async fn register(client: &Client, server: &Server, name: &str) -> Response {
    let form = [("email", EMAIL), ("name", name), ("password", PASSWORD)];
    let url = server.url("/register");
    client.post(url).form(&form).send().await.unwrap()
}

async fn login(client: &Client, server: &Server, email: &str, password: &str) -> Response {
    let form = [("email", email), ("password", password)];
    let url = server.url("/login");
    client.post(url).form(&form).send().await.unwrap()
}

#[tokio::test]
async fn register_protected_logout_and_replay() {
    let server = Server::start().await;
    let browser = browser();

    let registered = register(&browser, &server, "Ada <3").await;
    assert_eq!(registered.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&registered), "/protected");
    let cookie = registered
        .cookies()
        .find(|c| c.name() == "session")
        .expect("a session cookie");
    assert!(cookie.http_only() && cookie.same_site_lax() && !cookie.secure());
    assert_eq!(cookie.path(), Some("/"));
    assert_eq!(
        cookie.max_age(),
        None,
        "a browser-session cookie: no remember-me in this example"
    );
    let stolen = format!("session={}", cookie.value());

    let page = browser.get(server.url("/protected")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("Hello, Ada &lt;3!"), "{html}");
    assert!(!html.contains("Ada <3"), "the name is escaped");

    // The token is a bearer credential: before logout, a copy works too.
    let copy = bare()
        .get(server.url("/protected"))
        .header(header::COOKIE, &stolen);
    assert_eq!(copy.send().await.unwrap().status(), StatusCode::OK);

    let logout = browser.post(server.url("/logout")).send().await.unwrap();
    assert_eq!(logout.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&logout), "/");
    let cleared = logout.cookies().find(|c| c.name() == "session");
    assert!(
        cleared.is_some_and(|c| c.value().is_empty()),
        "the cookie is cleared"
    );

    let after = browser.get(server.url("/protected")).send().await.unwrap();
    assert_eq!(after.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&after), "/login");

    // The session was deleted server-side: the copied cookie is dead too.
    let replay = bare()
        .get(server.url("/protected"))
        .header(header::COOKIE, &stolen);
    let replay = replay.send().await.unwrap();
    assert_eq!(replay.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&replay), "/login");
}

#[tokio::test]
async fn failed_logins_are_generic_then_throttled() {
    let server = Server::start().await;
    register(&browser(), &server, "Ada").await;

    let client = browser();
    for (email, password) in [(EMAIL, "wrong password"), ("nobody@example.com", PASSWORD)] {
        let failed = login(&client, &server, email, password).await;
        assert_eq!(failed.status(), StatusCode::UNAUTHORIZED, "{email}");
        assert!(failed.cookies().next().is_none());
        let html = failed.text().await.unwrap();
        assert!(html.contains("Wrong email or password."), "{html}");
    }
    let blank = login(&client, &server, EMAIL, "").await;
    assert_eq!(blank.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(blank.text().await.unwrap().contains("Enter a password."));

    let ok = login(&client, &server, EMAIL, PASSWORD).await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&ok), "/protected");

    // Five failures lock the account; then even the right password waits.
    for _ in 0..5 {
        let failed = login(&client, &server, EMAIL, "wrong password").await;
        assert_eq!(failed.status(), StatusCode::UNAUTHORIZED);
    }
    let locked = login(&client, &server, EMAIL, PASSWORD).await;
    assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = locked.headers()[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
}

#[tokio::test]
async fn registration_errors_are_shown_on_the_form() {
    let server = Server::start().await;
    let client = browser();

    let form = [
        ("email", "not <an> email"),
        ("name", " "),
        ("password", "short"),
    ];
    let invalid = client.post(server.url("/register")).form(&form);
    let invalid = invalid.send().await.unwrap();
    assert_eq!(invalid.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = invalid.text().await.unwrap();
    for message in [
        "Enter a valid email address",
        "Enter your name.",
        "Use at least 8 characters for your password.",
    ] {
        assert!(html.contains(message), "{message}: {html}");
    }
    assert!(html.contains(r#"value="not &lt;an&gt; email""#), "{html}");

    assert_eq!(
        register(&client, &server, "Ada").await.status(),
        StatusCode::SEE_OTHER
    );
    let taken = register(&browser(), &server, "Ada again").await;
    assert_eq!(taken.status(), StatusCode::CONFLICT);
    assert!(taken
        .text()
        .await
        .unwrap()
        .contains("already has an account"));
}

#[tokio::test]
async fn cross_site_posts_are_refused() {
    let server = Server::start().await;
    let client = browser();
    let form = [("email", EMAIL), ("name", "Ada"), ("password", PASSWORD)];
    let post = |path: &str| client.post(server.url(path)).form(&form);

    for (name, value) in [
        ("origin", "http://evil.example"),
        ("origin", "null"),
        ("sec-fetch-site", "cross-site"),
        ("sec-fetch-site", "same-site"),
    ] {
        let refused = post("/register").header(name, value).send().await.unwrap();
        assert_eq!(refused.status(), StatusCode::FORBIDDEN, "{name}: {value}");
        assert!(refused.cookies().next().is_none());
    }
    let refused = post("/logout").header(header::ORIGIN, "http://evil.example");
    assert_eq!(
        refused.send().await.unwrap().status(),
        StatusCode::FORBIDDEN
    );

    // What a browser sends for the site's own form: accepted (and the
    // refused attempts above created no account).
    let own = post("/register")
        .header(header::ORIGIN, &server.base)
        .header("sec-fetch-site", "same-origin");
    let own = own.send().await.unwrap();
    assert_eq!(own.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&own), "/protected");
}

#[tokio::test]
async fn two_factor_sign_in_needs_the_code_after_the_password() {
    let server = Server::start().await;
    let ada = browser();
    register(&ada, &server, "Ada").await;
    let begun = ada
        .post(server.url("/two-factor"))
        .form(&[("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(begun.status(), StatusCode::OK);
    let html = begun.text().await.unwrap();
    let start = html.find("id=\"secret\">").unwrap() + "id=\"secret\">".len();
    let secret = &html[start..start + html[start..].find('<').unwrap()];
    let secret = auth_core::TotpSecret::from_base32(secret).unwrap();
    let code = secret.code_at(auth_core::time::OffsetDateTime::now_utc());
    let confirmed = ada
        .post(server.url("/two-factor/confirm"))
        .form(&[("code", code.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(confirmed.status(), StatusCode::OK);
    let html = confirmed.text().await.unwrap();
    let recovery: Vec<&str> = html
        .split("<li><code>")
        .skip(1)
        .map(|rest| rest.split('<').next().unwrap())
        .collect();
    assert_eq!(recovery.len(), 10);

    let phone = browser();
    let answer = login(&phone, &server, EMAIL, PASSWORD).await;
    assert_eq!(location(&answer), "/login/code");
    let closed = phone.get(server.url("/protected")).send().await.unwrap();
    assert_eq!(
        closed.status(),
        StatusCode::SEE_OTHER,
        "the password alone opens nothing"
    );
    let wrong = phone
        .post(server.url("/login/code"))
        .form(&[("code", "000000")])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let right = phone
        .post(server.url("/login/code"))
        .form(&[("code", recovery[0])])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&right), "/protected");
    let open = phone.get(server.url("/protected")).send().await.unwrap();
    assert_eq!(open.status(), StatusCode::OK);
}
