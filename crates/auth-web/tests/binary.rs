//! The `auth-web` binary itself, started as the README says (from the
//! repository root, with its Rocket.toml), its data directed to a temporary
//! directory by DATABASE_URL.

mod process;

use process::{auth_web, http_get, printed, watch_stdout, Running};

#[test]
fn the_binary_starts_on_a_fresh_directory_and_serves() {
    let data = tempfile::tempdir().unwrap();
    let mut child = Running(auth_web(data.path()).spawn().unwrap());
    let (port, log) = watch_stdout(&mut child.0);

    let home = http_get(port, "/");
    assert!(home.starts_with("HTTP/1.1 200"), "{home}");
    assert!(home.contains(r#"href="/register""#));
    let secrets = http_get(port, "/secrets");
    assert!(secrets.starts_with("HTTP/1.1 303"), "{secrets}");

    assert!(data.path().join("auth.db").exists());
    let key_file = data.path().join("secret_key");
    let key = std::fs::read_to_string(&key_file).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let log = log.lock().unwrap().clone();
    assert!(
        log.contains(&format!("generated one into {}", key_file.display())),
        "the log says where the key is:\n{log}"
    );
    assert!(!log.contains(key.trim()), "the log never shows the key");
}

#[test]
fn a_bad_configuration_stops_it_with_a_clear_message() {
    let data = tempfile::tempdir().unwrap();
    let output = auth_web(data.path())
        .env("ROCKET_STATIC_DIR", data.path().join("missing"))
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("static_dir"), "{stderr}");

    let output = auth_web(data.path())
        .env("ROCKET_BCRYPT_COST", "99")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("bcrypt_cost"));

    let output = auth_web(data.path())
        .env("DATABASE_URL", "mysql://root@localhost/db")
        .env("ROCKET_SECRET_KEY_FILE", data.path().join("secret_key"))
        .output()
        .unwrap();
    assert!(!output.status.success());
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(all.contains("sqlite:"), "{all}");
    assert!(
        !all.contains("root@localhost"),
        "the URL is never printed: {all}"
    );
}

/// What the binary printed when it could not start on `database_url`.
fn refused_database(database_url: &str) -> String {
    let data = tempfile::tempdir().unwrap();
    let output = auth_web(data.path())
        .env("DATABASE_URL", database_url)
        .env("ROCKET_SECRET_KEY_FILE", data.path().join("secret_key"))
        .output()
        .unwrap();
    assert!(!output.status.success(), "it must not start");
    printed(&output)
}

#[test]
fn a_bad_rocket_setting_is_named_with_its_value_and_source_before_the_database_opens() {
    let data = tempfile::tempdir().unwrap();
    let output = auth_web(data.path())
        .env("ROCKET_PORT", "abc")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("PORT") && stderr.contains("\"abc\"") && stderr.contains("ROCKET_"),
        "the setting, its value and its source: {stderr}"
    );
    assert_eq!(
        stderr.lines().count(),
        1,
        "one line, no panic or backtrace: {stderr}"
    );
    assert!(
        !data.path().join("auth.db").exists(),
        "stopped before opening the database"
    );
}

#[test]
fn an_unreachable_database_is_named_with_its_address_and_cause() {
    // A port nothing listens on: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let all = refused_database(&format!(
        "postgres://auth:hunter2-secret@127.0.0.1:{port}/auth"
    ));
    assert!(
        all.contains(&format!("127.0.0.1:{port}")) && all.contains("refused"),
        "the address and the cause: {all}"
    );
    assert!(!all.contains("pool timed out"), "{all}");
    assert_eq!(
        all.matches("failed to initialize database").count(),
        1,
        "the prefix once: {all}"
    );
    assert!(
        !all.contains("hunter2-secret"),
        "no password in the log: {all}"
    );
}

/// The URL of the test database with certificate checks (set by `.ci/run`:
/// `sslmode=verify-full`, the server's own certificate as `sslrootcert`).
fn verify_full_url() -> String {
    std::env::var("AUTH_TEST_POSTGRES_VERIFY_URL")
        .expect("AUTH_TEST_POSTGRES_VERIFY_URL names the test database with sslmode=verify-full")
}

#[test]
#[ignore = "needs AUTH_TEST_POSTGRES_VERIFY_URL"]
fn a_database_certificate_from_an_unknown_ca_is_a_clear_startup_error() {
    let url = verify_full_url();
    let (base, _) = url
        .split_once("sslrootcert=")
        .expect("the URL names a CA file");
    // The system's public CAs: none of them signed the test server's
    // self-signed certificate.
    let all = refused_database(&format!(
        "{base}sslrootcert=/etc/ssl/certs/ca-certificates.crt"
    ));
    assert!(
        all.contains("certificate") && all.contains("UnknownIssuer"),
        "the cause: {all}"
    );
    assert!(all.contains("sslrootcert"), "what to check: {all}");
}

/// The log of a real run, as JSON: every line one object, one `access`
/// line per request with its fields, a `security` line for a refused
/// login, and no email, password, cookie or token anywhere in it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_is_one_json_object_per_line_with_no_secret_in_it() {
    const EMAIL: &str = "ada.secret@example.com";
    const PASSWORD: &str = "a long passphrase 77";
    let data = tempfile::tempdir().unwrap();
    let mut command = auth_web(data.path());
    command.env("ROCKET_LOG_FORMAT", "json");
    let mut child = Running(command.spawn().unwrap());
    let (port, log) = watch_stdout(&mut child.0);
    let base = format!("http://127.0.0.1:{port}");
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let token_of = |html: &str| test_support::csrf(html);
    let form = browser
        .get(format!("{base}/register"))
        .send()
        .await
        .unwrap();
    let token = token_of(&form.text().await.unwrap());
    let registered = browser
        .post(format!("{base}/register?from=test"))
        .form(&[
            ("email", EMAIL),
            ("name", "Ada"),
            ("password", PASSWORD),
            ("csrf_token", &token),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), 303);
    let session = registered
        .cookies()
        .find(|c| c.name() == "session")
        .expect("a session cookie")
        .value()
        .to_owned();
    let account = browser.get(format!("{base}/account")).send().await.unwrap();
    let token = token_of(&account.text().await.unwrap());
    browser
        .post(format!("{base}/logout"))
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap();
    // Logging out gave the browser a new CSRF secret.
    let login = browser.get(format!("{base}/login")).send().await.unwrap();
    let token = token_of(&login.text().await.unwrap());
    browser
        .post(format!("{base}/login"))
        .form(&[
            ("email", EMAIL),
            ("password", "wrong password"),
            ("csrf_token", token.as_str()),
        ])
        .send()
        .await
        .unwrap();
    browser
        .get(format!("{base}/no/{EMAIL}"))
        .send()
        .await
        .unwrap();

    // The writer thread writes soon after; wait for the last request's line.
    let mut lines = Vec::new();
    for _ in 0..100 {
        lines = log.lock().unwrap().lines().map(str::to_owned).collect();
        if lines.iter().any(|l| l.contains("<redacted>")) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let parsed: Vec<serde_json::Value> = lines
        .iter()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    let access: Vec<_> = parsed.iter().filter(|l| l["target"] == "access").collect();
    let requests: Vec<(String, String, u64)> = access
        .iter()
        .map(|l| {
            (
                l["method"].as_str().unwrap().to_owned(),
                l["path"].as_str().unwrap().to_owned(),
                l["status"].as_u64().unwrap(),
            )
        })
        .collect();
    let expected = [
        ("GET", "/register", 200),
        ("POST", "/register", 303),
        ("GET", "/account", 200),
        ("POST", "/logout", 303),
        ("GET", "/login", 200),
        ("POST", "/login", 401),
        ("GET", "/no/<redacted>", 404),
    ]
    .map(|(m, p, s)| (m.to_owned(), p.to_owned(), s));
    assert_eq!(requests, expected, "{lines:#?}");
    for line in &access {
        assert!(line["duration_ms"].as_f64().is_some(), "{line}");
        assert!(line["bytes"].as_u64().is_some(), "{line}");
    }
    assert!(
        parsed
            .iter()
            .any(|l| l["target"] == "security" && l["event"] == "login_failed"),
        "{lines:#?}"
    );
    let text = lines.join("\n");
    for secret in [EMAIL, PASSWORD, &session, &token, "csrf_token", "from=test"] {
        assert!(!text.contains(secret), "{secret:?} is in the log:\n{text}");
    }
}
