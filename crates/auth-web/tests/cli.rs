//! The operator's subcommands, run as the real binary in new processes on a
//! real database (a SQLite file; PostgreSQL when AUTH_TEST_POSTGRES_URL
//! names one), next to the real server on the same database where a test
//! needs a live session.

mod process;

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;

use auth_core::{Email, UserStore};
use auth_store::testkit::postgres::TestSchema;
use auth_store::{PoolOptions, Store};
use process::{auth_web, printed, watch_stdout, Running};
use reqwest::cookie::Jar;
use reqwest::{Client, StatusCode};
use serde_json::Value;
use test_support::{csrf, workspace};

/// The Flask app's database made by the real Flask-SQLAlchemy and Werkzeug
/// (tests/fixtures/flask/make_users_db.py).
fn flask_fixture() -> PathBuf {
    workspace().join("tests/fixtures/flask/users.db")
}

/// One database and a directory for the app's files, as an operator's
/// machine would have them.
struct Site {
    dir: tempfile::TempDir,
    database_url: String,
    schema: Option<TestSchema>,
}

impl Site {
    async fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let database_url = format!("sqlite://{}/auth.db", dir.path().display());
        Self {
            dir,
            database_url,
            schema: None,
        }
    }

    async fn postgres() -> Self {
        let admin = std::env::var("AUTH_TEST_POSTGRES_URL")
            .expect("AUTH_TEST_POSTGRES_URL names a database to create schemas in");
        let schema = TestSchema::create(&admin).await.unwrap();
        Self {
            dir: tempfile::tempdir().unwrap(),
            database_url: schema.url().to_owned(),
            schema: Some(schema),
        }
    }

    fn command(&self) -> Command {
        let mut command = auth_web(self.dir.path());
        command
            .env("DATABASE_URL", &self.database_url)
            .env("ROCKET_SECRET_KEY_FILE", self.dir.path().join("secret_key"))
            .env("AUTH_OPERATOR", "tester");
        command
    }

    /// `auth-web ARGS` in a new process, `stdin` piped in (not a terminal).
    fn run(&self, args: &[&str], stdin: &str) -> Output {
        let mut child = self
            .command()
            .args(args)
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }

    /// Runs `args` and checks it succeeded; returns its standard output.
    fn ok(&self, args: &[&str], stdin: &str) -> String {
        let output = self.run(args, stdin);
        assert!(
            output.status.success(),
            "auth-web {args:?} failed:\n{}",
            printed(&output)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    /// Runs `args` and checks it failed with status `code` and one line on
    /// standard error; returns that line.
    fn fails(&self, args: &[&str], stdin: &str, code: i32) -> String {
        let output = self.run(args, stdin);
        assert_eq!(
            output.status.code(),
            Some(code),
            "auth-web {args:?}:\n{}",
            printed(&output)
        );
        let stderr = String::from_utf8(output.stderr).unwrap();
        if code == 1 {
            assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
            assert!(stderr.starts_with("auth-web: "), "{stderr}");
        }
        stderr
    }

    fn json(&self, args: &[&str]) -> Value {
        serde_json::from_str(&self.ok(args, "")).unwrap()
    }

    /// The server, on the same database and key, on a free port.
    fn serve(&self) -> (Running, String) {
        let mut child = Running(self.command().spawn().unwrap());
        let (port, _log) = watch_stdout(&mut child.0);
        (child, format!("http://127.0.0.1:{port}"))
    }

    /// The database, opened directly, for what no command shows.
    async fn store(&self) -> Store {
        Store::connect(&self.database_url, &PoolOptions::default())
            .await
            .unwrap()
    }

    async fn finish(self) {
        if let Some(schema) = self.schema {
            schema.drop().await.unwrap();
        }
    }
}

/// A browser: cookies kept, redirects not followed.
fn browser() -> Client {
    Client::builder()
        .cookie_provider(Arc::new(Jar::default()))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Posts `fields` through the form at `base` + `path`; the status and body.
async fn submit(
    client: &Client,
    base: &str,
    path: &str,
    fields: &[(&str, &str)],
) -> (StatusCode, String) {
    let url = format!("{base}{path}");
    let html = client.get(&url).send().await.unwrap().text().await.unwrap();
    let token = csrf(&html);
    let mut all = fields.to_vec();
    all.push(("csrf_token", &token));
    let response = client.post(&url).form(&all).send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

/// Registers ada@example.com through the form; the status and body.
async fn register_ada(client: &Client, base: &str) -> (StatusCode, String) {
    let fields = [
        ("email", "ada@example.com"),
        ("name", "Ada"),
        ("password", "analytical engine"),
    ];
    submit(client, base, "/register", &fields).await
}

async fn login(client: &Client, base: &str, email: &str, password: &str) -> (StatusCode, String) {
    submit(
        client,
        base,
        "/login",
        &[("email", email), ("password", password)],
    )
    .await
}

async fn secrets_status(client: &Client, base: &str) -> StatusCode {
    client
        .get(format!("{base}/secrets"))
        .send()
        .await
        .unwrap()
        .status()
}

/// Turns on two-factor sign-in for the logged-in `client` through the
/// account page, as its owner would.
async fn enrol(client: &Client, base: &str) {
    let url = format!("{base}/account");
    let html = client.get(&url).send().await.unwrap().text().await.unwrap();
    let form = [
        ("two_factor_password", "analytical engine"),
        ("csrf_token", &csrf(&html)),
    ];
    let begun = client
        .post(format!("{base}/account/two-factor"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(begun.status(), StatusCode::SEE_OTHER);
    let setup = format!("{base}/account/two-factor/setup");
    let html = client
        .get(&setup)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let marker = "id=\"totp-secret\">";
    let start = html.find(marker).unwrap() + marker.len();
    let secret =
        auth_core::TotpSecret::from_base32(&html[start..start + html[start..].find('<').unwrap()])
            .unwrap();
    let code = secret.code_at(auth_core::time::OffsetDateTime::now_utc());
    let form = [("code", code.as_str()), ("csrf_token", &csrf(&html))];
    let confirmed = client
        .post(format!("{base}/account/two-factor/confirm"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(confirmed.status(), StatusCode::OK);
}

async fn resetting_two_factor_lets_the_password_alone_sign_in(site: Site) {
    let (server, base) = site.serve();
    let ada = browser();
    register_ada(&ada, &base).await;
    let none = site.ok(&["users", "reset-2fa", "ada@example.com"], "");
    assert!(none.contains("has no two-factor sign-in"), "{none}");
    enrol(&ada, &base).await;
    let stranger = browser();
    let (status, _) = login(&stranger, &base, "ada@example.com", "analytical engine").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        secrets_status(&stranger, &base).await,
        StatusCode::SEE_OTHER,
        "the password alone opens nothing"
    );

    let shown = site.ok(&["users", "show", "ada@example.com"], "");
    assert!(
        shown.contains("app (TOTP)     on, 10 recovery codes left"),
        "{shown}"
    );
    let shown = site.json(&["users", "show", "ada@example.com", "--json"]);
    assert_eq!(shown["second_factor"]["app"], true, "{shown}");
    assert_eq!(shown["second_factor"]["recovery_codes"], 10, "{shown}");
    assert_eq!(shown["second_factor"]["passkeys"], serde_json::json!([]));

    let reset = site.ok(&["users", "reset-2fa", "ada@example.com"], "");
    assert!(reset.contains("Removed the authenticator app"), "{reset}");
    let shown = site.ok(&["users", "show", "ada@example.com"], "");
    assert!(shown.contains("app (TOTP)     off"), "{shown}");
    let again = browser();
    login(&again, &base, "ada@example.com", "analytical engine").await;
    assert_eq!(secrets_status(&again, &base).await, StatusCode::OK);
    let shown = site.json(&["users", "show", "ada@example.com", "--json"]);
    let kinds: Vec<&str> = shown["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    assert!(kinds.contains(&"second_factor_reset"), "{kinds:?}");
    // The server first: its mail worker's queries would deadlock with
    // dropping the schema under them.
    drop(server);
    site.finish().await;
}

/// Each test, once on SQLite and once on PostgreSQL.
macro_rules! on_both_backends {
    ($($test:ident),* $(,)?) => {$(
        mod $test {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$test(super::Site::sqlite().await).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[ignore = "needs AUTH_TEST_POSTGRES_URL"]
            async fn postgres() {
                super::$test(super::Site::postgres().await).await;
            }
        }
    )*};
}

on_both_backends!(
    an_account_created_is_listed_at_once_by_a_new_process,
    disabling_ends_a_live_session_and_refuses_the_right_password,
    passwords_sessions_and_deletion,
    resetting_two_factor_lets_the_password_alone_sign_in,
    the_flask_apps_users_log_in_with_their_old_passwords,
    two_imports_at_once_create_each_account_once,
    purge_and_migrate,
);

async fn an_account_created_is_listed_at_once_by_a_new_process(site: Site) {
    let created = site.ok(
        &[
            "users",
            "create",
            " Ada@Example.com ",
            "--name",
            "Ada Lovelace",
        ],
        "analytical engine\n",
    );
    assert!(created.contains("Created account"), "{created}");
    let list = site.json(&["users", "list", "--json"]);
    let accounts = list.as_array().unwrap();
    assert_eq!(accounts.len(), 1, "{list}");
    let ada = &accounts[0];
    assert_eq!(ada["email"], "ada@example.com");
    assert_eq!(ada["name"], "Ada Lovelace");
    assert_eq!(ada["email_confirmed_at"], Value::Null);
    assert_eq!(ada["disabled_at"], Value::Null);
    assert_eq!(ada["last_login_at"], Value::Null);
    assert_eq!(ada["live_sessions"], 0);
    assert!(ada["created_at"].as_str().unwrap().ends_with('Z'));
    let fields: Vec<_> = ada.as_object().unwrap().keys().cloned().collect();
    assert_eq!(
        fields,
        [
            "created_at",
            "disabled_at",
            "email",
            "email_confirmed_at",
            "id",
            "last_login_at",
            "live_sessions",
            "name"
        ],
        "the documented fields, and never a hash"
    );

    let text = site.ok(&["users", "list"], "");
    assert!(text.starts_with("ID  "), "{text}");
    assert!(
        text.contains("ada@example.com") && !text.contains("$bcrypt"),
        "{text}"
    );
    let shown = site.json(&["users", "show", "ADA@example.com", "--json"]);
    assert_eq!(shown["id"], ada["id"]);
    assert_eq!(shown["history"][0]["kind"], "created");
    assert_eq!(shown["history"][0]["operator"], "tester");

    // Refusals: one line each, nothing created.
    let weak = site.fails(
        &["users", "create", "bob@example.com", "--name", "Bob"],
        "short\n",
        1,
    );
    assert!(
        weak.contains("password: Use at least 8 characters"),
        "{weak}"
    );
    let taken = site.fails(
        &["users", "create", "ada@example.com", "--name", "Ada"],
        "another long password\n",
        1,
    );
    assert!(taken.contains("already registered"), "{taken}");
    let bad = site.fails(
        &["users", "create", "not-an-email", "--name", "X"],
        "another long password\n",
        1,
    );
    assert!(bad.contains("email:"), "{bad}");
    let missing = site.fails(&["users", "show", "nobody@example.com"], "", 1);
    assert!(
        missing.contains("no account has the email nobody@example.com"),
        "{missing}"
    );
    let usage = site.fails(&["users", "create", "bob@example.com"], "", 2);
    assert!(usage.contains("--name"), "{usage}");
    assert_eq!(
        site.json(&["users", "list", "--json"])
            .as_array()
            .unwrap()
            .len(),
        1
    );
    site.finish().await;
}

async fn disabling_ends_a_live_session_and_refuses_the_right_password(site: Site) {
    let (server, base) = site.serve();
    let ada = browser();
    let (status, _) = register_ada(&ada, &base).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(secrets_status(&ada, &base).await, StatusCode::OK);
    let before = site.json(&["users", "show", "ada@example.com", "--json"]);
    assert_eq!(before["live_sessions"], 1);

    let said = site.ok(&["users", "disable", "ada@example.com"], "");
    assert!(said.contains("Disabled ada@example.com"), "{said}");
    assert_eq!(
        secrets_status(&ada, &base).await,
        StatusCode::SEE_OTHER,
        "the live session ended at once"
    );
    let (right, right_page) =
        login(&browser(), &base, "ada@example.com", "analytical engine").await;
    let (wrong, wrong_page) = login(&browser(), &base, "ada@example.com", "not the password").await;
    assert_eq!(right, StatusCode::UNAUTHORIZED);
    assert_eq!(right, wrong, "the same answer as a wrong password");
    let without_token = |page: &str| page.replace(&csrf(page), "");
    assert_eq!(
        without_token(&right_page),
        without_token(&wrong_page),
        "the same page as a wrong password (but for its fresh CSRF token)"
    );
    let shown = site.json(&["users", "show", "ada@example.com", "--json"]);
    assert!(shown["disabled_at"].is_string());
    assert_eq!(shown["live_sessions"], 0);
    let kinds: Vec<_> = shown["history"].as_array().unwrap()[..3]
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["login_failed", "login_failed", "disabled"],
        "{shown}"
    );
    assert_eq!(shown["history"][2]["operator"], "tester");
    assert_eq!(
        shown["history"][0]["client"], "127.0.0.1",
        "from the client's address"
    );
    assert!(site
        .ok(&["users", "disable", "ada@example.com"], "")
        .contains("already disabled"));

    site.ok(&["users", "enable", "ada@example.com"], "");
    let again = browser();
    let (status, _) = login(&again, &base, "ada@example.com", "analytical engine").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(secrets_status(&again, &base).await, StatusCode::OK);
    let shown = site.json(&["users", "show", "ada@example.com", "--json"]);
    assert_eq!(shown["disabled_at"], Value::Null);
    assert!(shown["last_login_at"].is_string());
    assert_eq!(shown["history"][0]["kind"], "login");
    // The server first: its mail worker's queries would deadlock with
    // dropping the schema under them.
    drop(server);
    site.finish().await;
}

async fn passwords_sessions_and_deletion(site: Site) {
    let (server, base) = site.serve();
    let (ada, other) = (browser(), browser());
    register_ada(&ada, &base).await;
    login(&other, &base, "ada@example.com", "analytical engine").await;
    assert_eq!(secrets_status(&other, &base).await, StatusCode::OK);

    let ended = site.ok(&["users", "logout", "ada@example.com"], "");
    assert!(ended.contains("Ended 2 sessions"), "{ended}");
    assert_eq!(secrets_status(&ada, &base).await, StatusCode::SEE_OTHER);
    assert_eq!(secrets_status(&other, &base).await, StatusCode::SEE_OTHER);

    let weak = site.fails(
        &["users", "set-password", "ada@example.com"],
        "password\n",
        1,
    );
    assert!(weak.contains("password:"), "{weak}");
    login(&ada, &base, "ada@example.com", "analytical engine").await;
    site.ok(
        &["users", "set-password", "ada@example.com"],
        "difference engine\n",
    );
    assert_eq!(
        secrets_status(&ada, &base).await,
        StatusCode::SEE_OTHER,
        "a new password ends the sessions"
    );
    let (old, _) = login(&browser(), &base, "ada@example.com", "analytical engine").await;
    assert_eq!(old, StatusCode::UNAUTHORIZED);
    let (new, _) = login(&ada, &base, "ada@example.com", "difference engine").await;
    assert_eq!(new, StatusCode::SEE_OTHER);

    let unconfirmed = site.fails(&["users", "delete", "ada@example.com"], "", 1);
    assert!(unconfirmed.contains("--yes"), "{unconfirmed}");
    assert_eq!(
        site.json(&["users", "list", "--json"])
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let deleted = site.ok(&["users", "delete", "ada@example.com", "--yes"], "");
    assert!(deleted.contains("Deleted ada@example.com"), "{deleted}");
    assert_eq!(secrets_status(&ada, &base).await, StatusCode::SEE_OTHER);
    assert!(site
        .json(&["users", "list", "--json"])
        .as_array()
        .unwrap()
        .is_empty());
    let gone = site.fails(&["users", "delete", "ada@example.com", "--yes"], "", 1);
    assert!(gone.contains("no account"), "{gone}");

    let (status, _) = register_ada(&browser(), &base).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "the email registers again");
    // The server first: its mail worker's queries would deadlock with
    // dropping the schema under them.
    drop(server);
    site.finish().await;
}

/// The fixture's importable rows and their passwords (its README).
const FLASK_USERS: [(&str, &str); 5] = [
    ("ada@example.com", "analytical engine"),
    ("grace@example.com", "compiler nanoseconds"),
    ("alan@example.com", "pässwörd ñ 漢字 machine"),
    ("edsger@example.com", "goto considered harmful"),
    ("barbara@example.com", "substitution principle"),
];

async fn the_flask_apps_users_log_in_with_their_old_passwords(site: Site) {
    let fixture = flask_fixture();
    let fixture = fixture.to_str().unwrap();
    let dry = site.ok(&["import-flask", fixture, "--dry-run"], "");
    assert!(
        dry.ends_with(
            "would import 5, skipped 5 (1 duplicate_email, 2 invalid_email, 1 invalid_name, \
             1 unsupported_hash).\n"
        ),
        "{dry}"
    );
    assert!(
        site.json(&["users", "list", "--json"])
            .as_array()
            .unwrap()
            .is_empty(),
        "a dry run writes nothing"
    );

    let report = site.ok(&["import-flask", fixture], "");
    for line in [
        "skipped row 6 (\"ADA@example.com\"): same email (ignoring case and spaces) as an earlier account",
        "skipped row 7 (\"not-an-email\"): invalid email",
        "skipped row 8 (\"blank@example.com\"): invalid name",
        "skipped row 9 (\"legacy@example.com\"): password hash of an unsupported format",
        "skipped row 10 (no email): invalid email",
        "10 rows read from",
    ] {
        assert!(report.contains(line), "{line:?} missing from:\n{report}");
    }
    assert!(report.contains("imported 5, skipped 5"), "{report}");
    let emails: Vec<_> = site
        .json(&["users", "list", "--json"])
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["email"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(emails, FLASK_USERS.map(|(email, _)| email.to_owned()));

    let twice = site.ok(&["import-flask", fixture], "");
    assert!(
        twice.contains("imported 0, skipped 10 (5 already_registered"),
        "{twice}"
    );

    let (server, base) = site.serve();
    let store = site.store().await;
    for (email, password) in FLASK_USERS {
        let hash = || async {
            store
                .find_credentials(&Email::parse(email).unwrap())
                .await
                .unwrap()
                .unwrap()
                .password_hash
        };
        assert!(
            !hash().await.as_str().starts_with('$'),
            "a Werkzeug hash, kept as it was"
        );
        let (wrong, _) = login(&browser(), &base, email, "not my password").await;
        assert_eq!(wrong, StatusCode::UNAUTHORIZED, "{email}");
        let client = browser();
        let (status, page) = login(&client, &base, email, password).await;
        assert_eq!(
            status,
            StatusCode::SEE_OTHER,
            "{email} logs in with the Flask password: {page}"
        );
        assert_eq!(secrets_status(&client, &base).await, StatusCode::OK);
        assert!(
            hash()
                .await
                .as_str()
                .starts_with("$bcrypt-sha256$v=1$2b$04$"),
            "{email}'s hash is replaced at the first login"
        );
        let (status, _) = login(&browser(), &base, email, password).await;
        assert_eq!(
            status,
            StatusCode::SEE_OTHER,
            "{email} logs in with the new hash too"
        );
    }
    let history = site.json(&["users", "show", "grace@example.com", "--json"]);
    assert_eq!(history["history"][3]["kind"], "imported", "{history}");
    assert_eq!(history["history"][3]["operator"], "tester");
    store.close().await;

    let absent = site.fails(&["import-flask", "/nonexistent/users.db"], "", 1);
    assert!(
        absent.contains("cannot open /nonexistent/users.db"),
        "{absent}"
    );
    let not_flask = site.dir.path().join("other.db");
    std::fs::write(&not_flask, b"").unwrap();
    let wrong = site.fails(&["import-flask", not_flask.to_str().unwrap()], "", 1);
    assert!(wrong.contains("has no table `user`"), "{wrong}");
    // The server first: its mail worker's queries would deadlock with
    // dropping the schema under them.
    drop(server);
    site.finish().await;
}

async fn two_imports_at_once_create_each_account_once(site: Site) {
    site.ok(&["migrate"], "");
    let fixture = flask_fixture();
    let started: Vec<_> = (0..3)
        .map(|_| {
            site.command()
                .arg("import-flask")
                .arg(&fixture)
                .spawn()
                .unwrap()
        })
        .collect();
    let mut imported = 0;
    for child in started {
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "{}", printed(&output));
        let report = String::from_utf8(output.stdout).unwrap();
        let summary = report.lines().last().unwrap();
        let count = summary.split("imported ").nth(1).unwrap();
        imported += count.split(',').next().unwrap().parse::<usize>().unwrap();
    }
    assert_eq!(
        imported, 5,
        "each account imported by exactly one of the three"
    );
    let accounts = site.json(&["users", "list", "--json"]);
    assert_eq!(accounts.as_array().unwrap().len(), 5, "{accounts}");
    site.finish().await;
}

async fn purge_and_migrate(site: Site) {
    let migrated = site.ok(&["migrate"], "");
    assert!(migrated.contains("schema is up to date"), "{migrated}");
    assert!(
        site.ok(&["migrate"], "").contains("up to date"),
        "migrating twice is harmless"
    );
    site.ok(
        &["users", "create", "ada@example.com", "--name", "Ada"],
        "analytical engine\n",
    );
    let purged = site.ok(&["purge"], "");
    assert!(
        purged.starts_with("Deleted 0 ended sessions, 0 old throttle records and 0 history events"),
        "{purged}"
    );
    let check = site.ok(&["check"], "");
    assert!(
        check.contains("Configuration: ok") && check.contains("answers"),
        "{check}"
    );
    site.finish().await;
}

#[test]
fn check_names_what_is_wrong() {
    let data = tempfile::tempdir().unwrap();
    let output = auth_web(data.path())
        .arg("check")
        .env("ROCKET_BCRYPT_COST", "99")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("bcrypt_cost = 99") && stderr.lines().count() == 1,
        "{stderr}"
    );

    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let output = auth_web(data.path())
        .arg("check")
        .env(
            "DATABASE_URL",
            format!("postgres://someone:hunter2@127.0.0.1:{port}/db"),
        )
        .env("ROCKET_SECRET_KEY_FILE", data.path().join("secret_key"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", printed(&output));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains(&format!("127.0.0.1:{port}")), "{stderr}");
    assert!(!stderr.contains("hunter2"), "never the password: {stderr}");
}

#[test]
fn help_describes_every_subcommand() {
    let data = tempfile::tempdir().unwrap();
    let help = |args: &[&str]| {
        let output = auth_web(data.path()).args(args).output().unwrap();
        assert!(output.status.success(), "{args:?}: {}", printed(&output));
        String::from_utf8(output.stdout).unwrap()
    };
    let top = help(&["--help"]);
    for command in [
        "serve",
        "users",
        "purge",
        "migrate",
        "check",
        "import-flask",
        "Exit status",
    ] {
        assert!(
            top.contains(command),
            "{command} missing from --help:\n{top}"
        );
    }
    let users = help(&["users", "--help"]);
    for command in [
        "list",
        "show",
        "create",
        "disable",
        "enable",
        "delete",
        "set-password",
        "logout",
        "reset-2fa",
    ] {
        assert!(
            users.contains(command),
            "{command} missing from users --help:\n{users}"
        );
        let own = help(&["users", command, "--help"]);
        assert!(own.contains("Usage: auth-web users"), "{own}");
    }
    for command in ["purge", "migrate", "check", "import-flask", "serve"] {
        assert!(help(&[command, "--help"]).contains("Usage: auth-web"));
    }
    let output = auth_web(data.path()).arg("frobnicate").output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(2),
        "a usage mistake exits with 2"
    );
    assert!(!data.path().join("auth.db").exists(), "and touches nothing");
}
