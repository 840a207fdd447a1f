//! A fresh application per test: its own database and key, bcrypt at cost
//! 4, a clock the test moves, Rocket's local client.
//!
//! The database is a SQLite file in a temporary directory, or, with
//! `AUTH_TEST_BACKEND=postgres`, a fresh schema in the database named by
//! `AUTH_TEST_POSTGRES_URL`: the same tests run on both backends.

use std::path::Path;
use std::sync::Arc;

use auth_core::ManualClock;
use rocket::figment::Figment;
use rocket::http::{ContentType, Cookie, Status};
use rocket::local::asynchronous::{Client, LocalResponse};
use tempfile::TempDir;
pub use test_support::{csrf, figment, form_body, link_in, with_subject, workspace};

pub struct TestApp {
    pub client: Client,
    pub clock: ManualClock,
    pub figment: Figment,
    /// Keeps the temporary directory alive as long as the app.
    _dir: TempDir,
}

/// A new, empty database for one test.
pub async fn database_url(dir: &Path) -> String {
    match std::env::var("AUTH_TEST_BACKEND").as_deref() {
        Ok("postgres") => {
            let admin = std::env::var("AUTH_TEST_POSTGRES_URL")
                .expect("AUTH_TEST_BACKEND=postgres needs AUTH_TEST_POSTGRES_URL");
            auth_store::testkit::postgres::TestSchema::create(&admin)
                .await
                .expect("a fresh schema")
                .keep()
        }
        Ok("sqlite") | Err(_) => format!("sqlite://{}/auth.db", dir.display()),
        Ok(other) => panic!("AUTH_TEST_BACKEND must be sqlite or postgres, not {other}"),
    }
}

pub async fn client(figment: Figment, clock: &ManualClock) -> Client {
    let rocket = auth_web::build(figment, Arc::new(clock.clone())).expect("app builds");
    Client::tracked(rocket).await.expect("app ignites")
}

pub async fn app() -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    app_with(dir, |f| f).await
}

/// A fresh app whose browser has registered as ada@example.com, named
/// `name`, with the password "analytical engine", and is logged in.
pub async fn logged_in(name: &str) -> TestApp {
    let app = app().await;
    app.register("ada@example.com", name, "analytical engine")
        .await;
    app
}

pub async fn app_with(dir: TempDir, configure: impl FnOnce(Figment) -> Figment) -> TestApp {
    let clock = ManualClock::starting_now();
    let figment = configure(figment(dir.path(), &database_url(dir.path()).await));
    let client = client(figment.clone(), &clock).await;
    TestApp {
        client,
        clock,
        figment,
        _dir: dir,
    }
}

/// The CSRF token of the form on `page`, as `client` sees it.
pub async fn token_on(client: &Client, page: &str) -> String {
    let html = client
        .get(page.to_owned())
        .dispatch()
        .await
        .into_string()
        .await;
    csrf(&html.unwrap_or_default())
}

/// Posts `fields` and `token` as a form from `client`.
pub async fn post_with<'c>(
    client: &'c Client,
    uri: &str,
    token: &str,
    fields: &[(&str, &str)],
) -> LocalResponse<'c> {
    let mut all = fields.to_vec();
    all.push(("csrf_token", token));
    client
        .post(uri.to_owned())
        .header(ContentType::Form)
        .body(form_body(&all))
        .dispatch()
        .await
}

impl TestApp {
    /// Another browser, on another instance of the app sharing `other`'s
    /// database, key and clock.
    pub async fn sharing(other: &TestApp) -> TestApp {
        TestApp {
            client: client(other.figment.clone(), &other.clock).await,
            clock: other.clock.clone(),
            figment: other.figment.clone(),
            _dir: tempfile::tempdir().unwrap(),
        }
    }

    /// The running app's auth service, to look at what its store keeps.
    pub fn auth(&self) -> &auth_web::Auth {
        self.client
            .rocket()
            .state::<auth_web::Auth>()
            .expect("the app manages its auth service")
    }

    /// The mail the app has written to its outbox (beside its database),
    /// as it is now: the text of each `.eml` file, oldest first.
    pub fn outbox(&self) -> Vec<String> {
        test_support::outbox_mail(&self._dir.path().join("outbox"))
    }

    /// Waits (polling, up to 20 s) until the outbox holds `count` mails,
    /// and returns them.
    pub async fn mail(&self, count: usize) -> Vec<String> {
        for _ in 0..200 {
            let mail = self.outbox();
            if mail.len() >= count {
                return mail;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!(
            "expected {count} mails in the outbox, found {}",
            self.outbox().len()
        );
    }

    pub async fn get(&self, uri: &str) -> (Status, String) {
        let response = self.client.get(uri.to_owned()).dispatch().await;
        let status = response.status();
        (status, response.into_string().await.unwrap_or_default())
    }

    /// The page at `uri`, which must answer 200.
    pub async fn page(&self, uri: &str) -> String {
        let (status, html) = self.get(uri).await;
        assert_eq!(status, Status::Ok, "GET {uri}:\n{html}");
        html
    }

    pub async fn token_from(&self, page: &str) -> String {
        token_on(&self.client, page).await
    }

    /// Posts a form with the CSRF token of `page` added.
    pub async fn post(&self, uri: &str, page: &str, fields: &[(&str, &str)]) -> LocalResponse<'_> {
        let token = self.token_from(page).await;
        post_with(&self.client, uri, &token, fields).await
    }

    /// [`TestApp::post`] from a client at `remote`, with extra headers.
    pub async fn post_from(
        &self,
        remote: &str,
        headers: &[(&'static str, &'static str)],
        uri: &str,
        fields: &[(&str, &str)],
    ) -> LocalResponse<'_> {
        let token = self.token_from("/login").await;
        let mut all = fields.to_vec();
        all.push(("csrf_token", &token));
        let mut request = self
            .client
            .post(uri.to_owned())
            .remote(remote.parse().expect("a socket address"))
            .header(ContentType::Form)
            .body(form_body(&all));
        for (name, value) in headers {
            request = request.header(rocket::http::Header::new(*name, *value));
        }
        request.dispatch().await
    }

    pub async fn post_raw(&self, uri: &str, body: String) -> LocalResponse<'_> {
        self.client
            .post(uri.to_owned())
            .header(ContentType::Form)
            .body(body)
            .dispatch()
            .await
    }

    pub async fn register(&self, email: &str, name: &str, password: &str) -> LocalResponse<'_> {
        self.post(
            "/register",
            "/register",
            &[("email", email), ("name", name), ("password", password)],
        )
        .await
    }

    /// Registers ada@example.com, named Ada, with "analytical engine".
    pub async fn register_ada(&self) -> LocalResponse<'_> {
        self.register("ada@example.com", "Ada", "analytical engine")
            .await
    }

    /// [`TestApp::register_ada`]'s `Set-Cookie` headers.
    pub async fn register_ada_cookies(&self) -> Vec<String> {
        set_cookies(&self.register_ada().await)
    }

    pub async fn login(&self, email: &str, password: &str) -> LocalResponse<'_> {
        self.post(
            "/login",
            "/login",
            &[("email", email), ("password", password)],
        )
        .await
    }

    /// Posts the logout form (with a token from the login page, which every
    /// visitor gets; the logout page shows its form only to logged-in ones).
    pub async fn logout(&self) -> LocalResponse<'_> {
        self.post("/logout", "/login", &[]).await
    }

    /// Another instance of the app on the same database, key and clock,
    /// with a client that sends only the cookies a test gives it: for
    /// replaying a copied cookie.
    pub async fn replay_client(&self) -> Client {
        let rocket = auth_web::build(self.figment.clone(), Arc::new(self.clock.clone()))
            .expect("app builds");
        Client::untracked(rocket).await.expect("app ignites")
    }

    /// Another browser (its own cookie jar) on another instance of the app,
    /// logged in as `email`.
    pub async fn other_browser(&self, email: &str, password: &str) -> Client {
        self.other_browser_with(email, password, None, &[]).await
    }

    /// [`TestApp::other_browser`], sending `user_agent` and `extra` fields
    /// (`remember`) with the login form.
    pub async fn other_browser_with(
        &self,
        email: &str,
        password: &str,
        user_agent: Option<&'static str>,
        extra: &[(&str, &str)],
    ) -> Client {
        let rocket = auth_web::build(self.figment.clone(), Arc::new(self.clock.clone()))
            .expect("app builds");
        let browser = Client::tracked(rocket).await.expect("app ignites");
        let page = browser.get("/login").dispatch().await.into_string().await;
        let token = csrf(&page.unwrap_or_default());
        let mut fields = vec![
            ("email", email),
            ("password", password),
            ("csrf_token", &token),
        ];
        fields.extend_from_slice(extra);
        let mut request = browser
            .post("/login")
            .header(ContentType::Form)
            .body(form_body(&fields));
        if let Some(agent) = user_agent {
            request = request.header(rocket::http::Header::new("User-Agent", agent));
        }
        let response = request.dispatch().await;
        let location = response.headers().get_one("Location").map(str::to_owned);
        drop(response);
        assert_eq!(location.as_deref(), Some("/secrets"));
        browser
    }

    /// Status of `GET uri` sent with only `cookie`, by another instance.
    pub async fn replay(&self, uri: &str, cookie: Cookie<'static>) -> Status {
        let client = self.replay_client().await;
        let status = client
            .get(uri.to_owned())
            .cookie(cookie)
            .dispatch()
            .await
            .status();
        status
    }

    /// The encrypted session cookie as the browser holds it.
    pub fn session_cookie(&self) -> Option<Cookie<'static>> {
        self.client.cookies().get("session").cloned()
    }
}

pub fn location<'a>(response: &'a LocalResponse<'_>) -> Option<&'a str> {
    response.headers().get_one("Location")
}

/// Checks that `response` came with `status` and that its page says `text`.
pub async fn expect_page(response: LocalResponse<'_>, status: Status, text: &str) {
    assert_eq!(
        response.status(),
        status,
        "status, before looking for {text:?}"
    );
    expect_text(response, text).await;
}

/// Checks that the page of `response` says `text`.
pub async fn expect_text(response: LocalResponse<'_>, text: &str) {
    let page = response.into_string().await.unwrap_or_default();
    assert!(page.contains(text), "{text:?} is not on the page:\n{page}");
}

/// Every `Set-Cookie` header of `response`.
pub fn set_cookies(response: &rocket::local::asynchronous::LocalResponse<'_>) -> Vec<String> {
    response
        .headers()
        .get("Set-Cookie")
        .map(str::to_owned)
        .collect()
}

/// The `Set-Cookie` value for the cookie `name`.
pub fn named<'a>(cookies: &'a [String], name: &str) -> &'a str {
    cookies
        .iter()
        .find(|c| c.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} cookie in {cookies:?}"))
}
