//! The application in a real browser: Debian's headless Chromium, driven
//! through chromedriver, on the app started on a free port with its own
//! SQLite database. The original flow as a person clicks through it
//! (download and Back button included), and an axe-core accessibility audit
//! of every page at desktop and phone widths, in light and dark colours,
//! which also takes the screenshots in `docs/screenshots/`.
//!
//! They need `/usr/bin/chromium` and `/usr/bin/chromedriver` (or
//! `$CHROMIUM` and `$CHROMEDRIVER`), so they are ignored unless asked for
//! with `--include-ignored`; asked for without the tools, they fail.
//!
//! `UPDATE_SCREENSHOTS=1 cargo test --test browser` rewrites the screenshots
//! in `docs/screenshots/`; `SCREENSHOT_DIR=/some/dir` saves one of every
//! page the audit visits, at every size, into that directory.

mod support;

#[path = "support/chrome.rs"]
mod chrome;
#[path = "support/smtp.rs"]
mod smtp;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use auth_core::time::OffsetDateTime;
use auth_core::TotpSecret;
use chrome::{describe_violations, Browser, ChromeDriver, Viewport};
use serde_json::Value;
use smtp::SmtpSink;
use support::{figment, sqlite_url, Server};
use test_support::{link_in, with_subject, workspace};

const LOGOUT_BUTTON: &str = "header form[action='/logout'] button[type=submit]";
const SUBMIT: &str = "main form button[type=submit]";

#[ignore = "needs Chromium and chromedriver"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_download_logout_login_and_back_in_chromium() {
    let tools = chrome::tools();
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(figment(dir.path(), &sqlite_url(dir.path()))).await;
    let driver = ChromeDriver::start(&tools).await;
    let downloads = driver.downloads();
    let base = server.base.clone();
    driver
        .run(move |browser| walk_the_original_flow(browser, base, downloads))
        .await;
    server.stop().await;
}

async fn walk_the_original_flow(b: Browser, base: String, downloads: PathBuf) {
    let url = |path: &str| format!("{base}{path}");

    // Register through the form, from the home page's button.
    b.goto(&url("/")).await;
    b.click("main a[href='/register']").await;
    b.wait_for_text("main h1", "Create your account").await;
    b.fill("#email", "Ada@Example.com").await;
    b.fill("#name", "Ada Lovelace").await;
    b.fill("#password", "analytical engine").await;
    b.click(SUBMIT).await;

    // The secret page greets her, and the navigation bar shows who is in.
    b.wait_for_text("main h1", "Welcome, Ada Lovelace").await;
    b.wait_for_text(".flash-success", "Your account has been created.")
        .await;
    assert_eq!(b.path().await, "/secrets");
    b.wait_for_text("header nav", "Ada Lovelace").await;

    // The download lands in the download directory, as the real PDF.
    b.click("main a[href='/download']").await;
    let saved = downloads.join("cheat_sheet.pdf");
    let pdf = b
        .eventually("cheat_sheet.pdf in the download directory", || async {
            Ok(std::fs::read(&saved).ok())
        })
        .await;
    assert!(pdf.starts_with(b"%PDF-"), "the download is a PDF");
    let original = std::fs::read(workspace().join("files/cheat_sheet.pdf")).unwrap();
    assert_eq!(pdf, original, "the download is the cheat sheet, whole");

    // Log out with the navigation bar's button.
    b.click(LOGOUT_BUTTON).await;
    b.wait_for_text(".flash", "You have been logged out.").await;
    assert_eq!(b.path().await, "/");

    // A wrong password: the message shows, the email is kept, the
    // password is not.
    b.click("header a[href='/login']").await;
    b.wait_for_text("main h1", "Log in").await;
    b.fill("#email", "ada@example.com").await;
    b.fill("#password", "not it at all").await;
    b.click(SUBMIT).await;
    b.wait_for_text(
        "#login-error",
        "Invalid email or password. Please try again.",
    )
    .await;
    assert_eq!(b.value("#email").await, "ada@example.com");
    assert_eq!(b.value("#password").await, "");

    // The right one.
    b.fill("#password", "analytical engine").await;
    b.click(SUBMIT).await;
    b.wait_for_text("main h1", "Welcome, Ada Lovelace").await;
    assert_eq!(b.path().await, "/secrets");

    // Log out again, then press Back: the secret page is asked for anew
    // (Cache-Control: no-store), and the server sends the browser to the
    // login page instead of the browser showing a copy.
    b.click(LOGOUT_BUTTON).await;
    b.wait_for_text(".flash", "You have been logged out.").await;
    assert_eq!(b.path().await, "/");
    b.back().await;
    let path = b
        .eventually("the Back button to leave the home page", || async {
            let path = b.path().await;
            Ok((path != "/").then_some(path))
        })
        .await;
    let shown = b.text("body").await;
    assert!(
        !shown.contains("Welcome,"),
        "Back after logout showed the secret page:\n{}",
        b.describe().await
    );
    assert_eq!(path, "/login", "{}", b.describe().await);
    b.wait_for_text(".flash", "Please log in to see this page.")
        .await;
}

/// Long passwords, typed into the real forms: a 100-character ASCII one and
/// a 64-character CJK one reach the server whole (no `maxlength` cuts them),
/// register, and log in again.
#[ignore = "needs Chromium and chromedriver"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_passwords_register_and_log_in_in_chromium() {
    let tools = chrome::tools();
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(figment(dir.path(), &sqlite_url(dir.path()))).await;
    let driver = ChromeDriver::start(&tools).await;
    let base = server.base.clone();
    driver
        .run(move |b| async move {
            let ascii: String = "correct-horse-battery-staple-"
                .chars()
                .cycle()
                .take(100)
                .collect();
            let cjk = "漢字仮名交じり文".repeat(8);
            for (email, password) in [("ascii@example.com", ascii), ("cjk@example.com", cjk)] {
                let length = password.chars().count();
                b.goto(&format!("{base}/register")).await;
                b.fill("#email", email).await;
                b.fill("#name", "Long Password").await;
                b.fill("#password", &password).await;
                assert_eq!(
                    b.value("#password").await.chars().count(),
                    length,
                    "{email}: the field kept every character"
                );
                b.click(SUBMIT).await;
                b.wait_for_text("main h1", "Welcome, Long Password").await;
                b.click(LOGOUT_BUTTON).await;
                b.wait_for_text(".flash", "You have been logged out.").await;

                b.goto(&format!("{base}/login")).await;
                b.fill("#email", email).await;
                b.fill("#password", &password).await;
                assert_eq!(b.value("#password").await.chars().count(), length);
                b.click(SUBMIT).await;
                b.wait_for_text("main h1", "Welcome, Long Password").await;
                b.click(LOGOUT_BUTTON).await;
                b.wait_for_text(".flash", "You have been logged out.").await;
            }
        })
        .await;
    server.stop().await;
}

/// Registers Ada through the form and waits for the members' page.
async fn register_ada(b: &Browser, base: &str) {
    b.goto(&format!("{base}/register")).await;
    b.fill("#email", "ada@example.com").await;
    b.fill("#name", "Ada").await;
    b.fill("#password", "analytical engine").await;
    b.click(SUBMIT).await;
    b.wait_for_text("main h1", "Welcome, Ada").await;
}

/// A visitor sent to log in by the download ends up on the members' page
/// with the file saved, not left on the login form.
#[ignore = "needs Chromium and chromedriver"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_from_the_download_lands_on_the_members_page_with_the_file() {
    let tools = chrome::tools();
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(figment(dir.path(), &sqlite_url(dir.path()))).await;
    let driver = ChromeDriver::start(&tools).await;
    let downloads = driver.downloads();
    let base = server.base.clone();
    driver
        .run(move |b| async move {
            register_ada(&b, &base).await;
            b.click(LOGOUT_BUTTON).await;
            b.wait_for_text(".flash", "You have been logged out.").await;

            b.goto(&format!("{base}/download")).await;
            b.wait_for_text(".flash", "Please log in").await;
            b.fill("#email", "ada@example.com").await;
            b.fill("#password", "analytical engine").await;
            b.click(SUBMIT).await;
            b.wait_for_text("main h1", "Welcome, Ada").await;
            b.wait_for_text("main", "Your download of the cheat sheet has started.")
                .await;
            let saved = downloads.join("cheat_sheet.pdf");
            let pdf = b
                .eventually("cheat_sheet.pdf in the download directory", || async {
                    Ok(std::fs::read(&saved).ok())
                })
                .await;
            assert!(pdf.starts_with(b"%PDF-"));
            assert_eq!(b.path().await, "/secrets", "the browser stays on the page");
            b.wait_for_text("header nav", "Ada").await;
        })
        .await;
    server.stop().await;
}

/// An operator disabling the account ends the session of the browser
/// logged into it: the next page asks it to log in, and the right password
/// is refused like a wrong one until the account is enabled.
#[ignore = "needs Chromium and chromedriver"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_disabling_the_account_logs_chromium_out() {
    use auth_web::cli::{run_with, Command, UsersCommand};
    let tools = chrome::tools();
    let dir = tempfile::tempdir().unwrap();
    let config = figment(dir.path(), &sqlite_url(dir.path()));
    let server = Server::start(config.clone()).await;
    let driver = ChromeDriver::start(&tools).await;
    let base = server.base.clone();
    let shared = config.clone();
    let operator = move |command: UsersCommand| {
        let config = shared.clone();
        async move {
            let mut said = Vec::new();
            run_with(
                config,
                Command::Users(command),
                Some("tester".into()),
                &mut said,
            )
            .await
            .expect("the command succeeds");
            String::from_utf8(said).unwrap()
        }
    };
    let email = || "ada@example.com".to_owned();
    driver
        .run(move |b| async move {
            register_ada(&b, &base).await;

            let said = operator(UsersCommand::Disable { email: email() }).await;
            assert!(said.contains("1 live sessions ended"), "{said}");
            b.goto(&format!("{base}/secrets")).await;
            b.wait_for_text("main h1", "Log in").await;
            assert_eq!(b.path().await, "/login");

            b.fill("#email", "ada@example.com").await;
            b.fill("#password", "analytical engine").await;
            b.click(SUBMIT).await;
            b.wait_for_text(".flash", "Invalid email or password").await;

            operator(UsersCommand::Enable { email: email() }).await;
            b.fill("#password", "analytical engine").await;
            b.click(SUBMIT).await;
            b.wait_for_text("main h1", "Welcome, Ada").await;
        })
        .await;
    server.stop().await;
}

/// From the account page, asks to set up an authenticator app: ends on
/// the set-up page.
async fn open_app_setup(b: &Browser, password: &str) {
    b.fill("#two_factor_password", password).await;
    b.click("form[action='/account/two-factor'] button[type=submit]")
        .await;
    b.wait_for_text("main h1", "Set up your authenticator app")
        .await;
}

/// On the set-up page, does what someone who cannot scan does: types the
/// secret into the app (here: reads it off the page) and enters the app's
/// code. Ends on the recovery codes page; returns the secret.
async fn confirm_app_setup(b: &Browser) -> TotpSecret {
    let secret = TotpSecret::from_base32(&b.text("#totp-secret").await).expect("a base32 secret");
    b.fill("#code", &secret.code_at(OffsetDateTime::now_utc()))
        .await;
    b.click(SUBMIT).await;
    b.wait_for_text("main h1", "Your recovery codes").await;
    secret
}

/// Logs in with the login form, ticking "remember me" if asked.
async fn log_in(b: &Browser, base: &str, password: &str, remember: bool) {
    b.goto(&format!("{base}/login")).await;
    b.fill("#email", "ada@example.com").await;
    b.fill("#password", password).await;
    if remember {
        b.click("#remember").await;
    }
    b.click(SUBMIT).await;
    b.wait_for_text("main h1", "Welcome, Ada").await;
}

/// Closing Chromium and starting it again on the same profile: an ordinary
/// session is gone with the browser, a remembered one is still there, and
/// logging out ends it.
#[ignore = "needs Chromium and chromedriver"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remembered_session_survives_a_browser_restart_and_ends_at_logout() {
    let tools = chrome::tools();
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(figment(dir.path(), &sqlite_url(dir.path()))).await;
    let base = server.base.clone();
    let driver = ChromeDriver::start(&tools).await;

    let b = driver.browser().await;
    register_ada(&b, &base).await;
    b.close().await;
    let b = driver.browser().await;
    b.goto(&format!("{base}/secrets")).await;
    b.wait_for_text("main h1", "Log in").await;
    assert_eq!(b.path().await, "/login", "without remember me, out");

    log_in(&b, &base, "analytical engine", true).await;
    b.close().await;
    let b = driver.browser().await;
    b.goto(&format!("{base}/secrets")).await;
    b.wait_for_text("main h1", "Welcome, Ada").await;
    b.goto(&format!("{base}/account")).await;
    b.wait_for_text("#sessions + p + table", "remembered").await;

    b.click(LOGOUT_BUTTON).await;
    b.wait_for_text(".flash", "You have been logged out.").await;
    b.close().await;
    let b = driver.browser().await;
    b.goto(&format!("{base}/secrets")).await;
    b.wait_for_text("main h1", "Log in").await;
    b.close().await;
    drop(driver);
    server.stop().await;
}

/// Two Chromiums logged into one account: the first logs the second out
/// from its sessions list, and only the second has to log in again.
#[ignore = "needs Chromium and chromedriver"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logging_out_one_session_logs_out_exactly_that_browser() {
    let tools = chrome::tools();
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(figment(dir.path(), &sqlite_url(dir.path()))).await;
    let base = server.base.clone();
    let (laptop_driver, phone_driver) = (
        ChromeDriver::start(&tools).await,
        ChromeDriver::start(&tools).await,
    );
    let laptop = laptop_driver.browser().await;
    let phone = phone_driver.browser().await;
    register_ada(&laptop, &base).await;
    log_in(&phone, &base, "analytical engine", false).await;

    laptop.goto(&format!("{base}/account")).await;
    let sessions = laptop.text("table.sessions").await;
    assert_eq!(sessions.matches("This device").count(), 1, "{sessions}");
    assert!(sessions.contains("127.0.0.1"), "{sessions}");
    laptop
        .click("table.sessions form button[type=submit]")
        .await;
    laptop
        .wait_for_text(".flash", "That session has been logged out.")
        .await;
    assert!(!laptop.text("table.sessions").await.contains("Log out"));

    phone.goto(&format!("{base}/secrets")).await;
    phone.wait_for_text("main h1", "Log in").await;
    laptop.goto(&format!("{base}/secrets")).await;
    laptop.wait_for_text("main h1", "Welcome, Ada").await;
    laptop.goto(&format!("{base}/account/history")).await;
    laptop
        .wait_for_text("table.history", "Another session logged out")
        .await;
    laptop.close().await;
    phone.close().await;
    server.stop().await;
}

/// After eleven quiet minutes, downloading the account's data asks for the
/// password first, then saves the file.
#[ignore = "needs Chromium and chromedriver"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_session_confirms_the_password_before_the_export() {
    let tools = chrome::tools();
    let dir = tempfile::tempdir().unwrap();
    let clock = auth_core::ManualClock::starting_now();
    let server = Server::start_with_clock(
        figment(dir.path(), &sqlite_url(dir.path())),
        std::sync::Arc::new(clock.clone()),
    )
    .await;
    let driver = ChromeDriver::start(&tools).await;
    let downloads = driver.downloads();
    let base = server.base.clone();
    driver
        .run(move |b| async move {
            register_ada(&b, &base).await;
            clock.advance(auth_core::time::Duration::minutes(11));
            b.goto(&format!("{base}/account")).await;
            b.click("a[href='/account/export']").await;
            b.wait_for_text("main h1", "Confirm it's you").await;
            b.wait_for_text(".flash", "Please enter your password again")
                .await;
            b.fill("#password", "not it").await;
            b.click(SUBMIT).await;
            b.wait_for_text("#password-error", "That is not your password.")
                .await;
            b.fill("#password", "analytical engine").await;
            b.click(SUBMIT).await;
            let saved = downloads.join("account.json");
            let json = b
                .eventually("account.json in the download directory", || async {
                    Ok(std::fs::read(&saved).ok())
                })
                .await;
            let export: Value = serde_json::from_slice(&json).unwrap();
            assert_eq!(export["account"]["email"], "ada@example.com");
            let kinds: Vec<&str> = export["account"]["history"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|e| e["kind"].as_str())
                .collect();
            assert_eq!(kinds, ["login_failed", "registered"], "{export}");
        })
        .await;
    server.stop().await;
}

/// Deleting the account from its page: the password again, the browser is
/// logged out, and the email registers again.
#[ignore = "needs Chromium and chromedriver"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_the_account_in_chromium_logs_out_and_frees_the_email() {
    let tools = chrome::tools();
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(figment(dir.path(), &sqlite_url(dir.path()))).await;
    let driver = ChromeDriver::start(&tools).await;
    let base = server.base.clone();
    driver
        .run(move |b| async move {
            register_ada(&b, &base).await;
            b.goto(&format!("{base}/account")).await;
            b.click("a[href='/account/delete']").await;
            b.wait_for_text("main h1", "Delete your account").await;
            b.fill("#password", "analytical engine").await;
            b.click(SUBMIT).await;
            b.wait_for_text(".flash", "Your account has been deleted")
                .await;
            assert_eq!(b.path().await, "/");
            b.goto(&format!("{base}/secrets")).await;
            b.wait_for_text("main h1", "Log in").await;
            register_ada(&b, &base).await;
        })
        .await;
    server.stop().await;
}

/// The pages whose screenshots are kept in `docs/screenshots/`.
const DOCUMENTED: &[&str] = &[
    "home",
    "register-error",
    "login-flash",
    "secrets",
    "account",
    "history",
    "forgot",
    "reset",
    "two-factor-setup",
    "login-code",
    "passkey-add",
    "account-passkeys",
];

#[ignore = "needs Chromium and chromedriver"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_passes_axe_at_both_widths_in_light_and_dark() {
    let tools = chrome::tools();
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(figment(dir.path(), &sqlite_url(dir.path()))).await;
    let driver = ChromeDriver::start(&tools).await;
    let base = localhost(&server);
    let outbox = dir.path().join("outbox");
    driver
        .run(move |browser| audit(browser, base, outbox))
        .await;
    server.stop().await;
}

/// The link starting with `prefix` in the newest mail to `email` saying
/// `subject` in `outbox`, once there is one (up to 20 s).
async fn link_from_outbox(outbox: &Path, email: &str, subject: &str, prefix: &str) -> String {
    let to = format!("<{email}>");
    for _ in 0..200 {
        let texts: Vec<String> = test_support::outbox_mail(outbox)
            .into_iter()
            .filter(|text| text.contains(&to))
            .collect();
        if let Some(last) = with_subject(&texts, subject).last() {
            return link_in(last, prefix);
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("no mail {subject:?} to {email} in {}", outbox.display());
}

async fn audit(b: Browser, base: String, outbox: PathBuf) {
    let url = |path: &str| format!("{base}{path}");
    let mut audit = Audit::new();
    let viewports = [Viewport::DESKTOP, Viewport::PHONE, Viewport::DESKTOP_DARK];
    for (pass, viewport) in viewports.into_iter().enumerate() {
        b.set_viewport(viewport).await;

        b.goto(&url("/")).await;
        b.wait_for_text("main h1", "Keep your secrets").await;
        audit.check(&b, "home", viewport).await;

        b.goto(&url("/register")).await;
        b.wait_for_text("main h1", "Create your account").await;
        audit.check(&b, "register", viewport).await;

        b.fill("#email", "not-an-email").await;
        b.fill("#password", "short").await;
        b.click(SUBMIT).await;
        b.wait_for_text("#email-error", "Enter a valid email address")
            .await;
        b.wait_for_text("#name-error", "Enter your name.").await;
        audit.check(&b, "register-error", viewport).await;

        b.goto(&url("/login")).await;
        b.wait_for_text("main h1", "Log in").await;
        audit.check(&b, "login", viewport).await;

        b.fill("#email", "nobody@example.com").await;
        b.fill("#password", "not a password").await;
        b.click(SUBMIT).await;
        b.wait_for_text("#login-error", "Invalid email or password.")
            .await;
        audit.check(&b, "login-error", viewport).await;

        b.goto(&url("/secrets")).await;
        b.wait_for_text(".flash", "Please log in to see this page.")
            .await;
        audit.check(&b, "login-flash", viewport).await;

        b.goto(&url("/no-such-page")).await;
        b.wait_for_text("main h1", "Page not found").await;
        audit.check(&b, "not-found", viewport).await;

        b.goto(&url("/register")).await;
        b.fill("#email", &format!("grace{pass}@example.com")).await;
        b.fill("#name", "Grace Hopper").await;
        b.fill("#password", "compiler of compilers").await;
        b.click(SUBMIT).await;
        b.wait_for_text("main h1", "Welcome, Grace Hopper").await;
        audit.check(&b, "secrets", viewport).await;

        // A second session, from another device, for the lists.
        let email = format!("grace{pass}@example.com");
        log_in_elsewhere(&base, &email, "compiler of compilers").await;
        b.goto(&url("/account")).await;
        b.wait_for_text("main h1", "Your account").await;
        audit.check(&b, "account", viewport).await;

        open_app_setup(&b, "compiler of compilers").await;
        audit.check(&b, "two-factor-setup", viewport).await;
        confirm_app_setup(&b).await;
        audit.check(&b, "recovery-codes", viewport).await;
        b.goto(&url("/account")).await;
        b.wait_for_text("#two-factor + p", "On:").await;
        audit.check(&b, "account-two-factor", viewport).await;

        let authenticator = b.add_authenticator().await;
        b.fill("#passkey_name", "Work laptop").await;
        b.fill("#passkey_password", "compiler of compilers").await;
        b.click("form[action='/account/passkeys'] button[type=submit]")
            .await;
        b.wait_for_text("main h1", "Add a passkey").await;
        audit.check(&b, "passkey-add", viewport).await;
        b.click("[data-passkey-start]").await;
        b.wait_for_text(".flash", "Passkey added.").await;
        audit.check(&b, "account-passkeys", viewport).await;
        b.click("table.passkeys a").await;
        b.wait_for_text("main h1", "Remove the passkey").await;
        audit.check(&b, "passkey-remove", viewport).await;
        b.click(SUBMIT).await;
        b.wait_for_text("#passkey-password-error", "Your password is not correct")
            .await;
        audit.check(&b, "passkey-remove-error", viewport).await;
        b.remove_authenticator(&authenticator).await;

        b.goto(&url("/account/history")).await;
        b.wait_for_text("main h1", "Your account's history").await;
        audit.check(&b, "history", viewport).await;

        b.goto(&url("/account/confirm?next=%2Faccount%2Fexport"))
            .await;
        b.wait_for_text("main h1", "Confirm it's you").await;
        audit.check(&b, "confirm", viewport).await;

        b.goto(&url("/account/delete")).await;
        b.wait_for_text("main h1", "Delete your account").await;
        audit.check(&b, "delete", viewport).await;

        b.goto(&url("/logout")).await;
        b.wait_for_text("main h1", "Log out").await;
        audit.check(&b, "logout", viewport).await;

        b.goto(&url("/")).await;
        b.wait_for_text("main", "(You are already logged in)").await;
        audit.check(&b, "home-logged-in", viewport).await;

        b.click(LOGOUT_BUTTON).await;
        b.wait_for_text(".flash", "You have been logged out.").await;

        // The mailed links' pages, from the outbox.
        let link = link_from_outbox(
            &outbox,
            &email,
            "Confirm your email address",
            "/email/confirm/",
        )
        .await;
        b.goto(&url(&link)).await;
        b.wait_for_text("main h1", "Confirm your email address")
            .await;
        audit.check(&b, "link", viewport).await;

        b.goto(&url("/login")).await;
        b.click("main a[href='/password/forgot']").await;
        b.wait_for_text("main h1", "Forgot your password?").await;
        audit.check(&b, "forgot", viewport).await;

        b.click(SUBMIT).await;
        b.wait_for_text("#email-error", "Enter your email address.")
            .await;
        audit.check(&b, "forgot-error", viewport).await;

        b.fill("#email", &email).await;
        b.click(SUBMIT).await;
        b.wait_for_text(".flash", "If an account uses that address")
            .await;
        audit.check(&b, "forgot-sent", viewport).await;

        let link =
            link_from_outbox(&outbox, &email, "Reset your password", "/password/reset/").await;
        b.goto(&url(&link)).await;
        b.wait_for_text("main h1", "Choose a new password").await;
        audit.check(&b, "reset", viewport).await;

        b.fill("#new_password", "short").await;
        b.click(SUBMIT).await;
        b.wait_for_text("#new-password-error", "at least").await;
        audit.check(&b, "reset-error", viewport).await;

        b.goto(&url("/password/reset/no-such-link")).await;
        b.wait_for_text("main h1", "This link cannot be used").await;
        audit.check(&b, "link-dead", viewport).await;

        b.goto(&url("/login")).await;
        b.fill("#email", &email).await;
        b.fill("#password", "compiler of compilers").await;
        b.click(SUBMIT).await;
        b.wait_for_text("main h1", "Enter your code").await;
        audit.check(&b, "login-code", viewport).await;
    }

    // The longest name and email the server accepts, without a space to
    // break at, on a phone: they wrap or are cut short, never stick out.
    let viewport = Viewport::PHONE;
    b.set_viewport(viewport).await;
    let name = "W".repeat(100);
    let label = "b".repeat(60);
    let email = format!("{}@{label}.{label}.{label}.example", "a".repeat(64));
    b.goto(&url("/register")).await;
    b.fill("#email", &email).await;
    b.fill("#name", &name).await;
    b.fill("#password", "compiler of compilers").await;
    b.click(SUBMIT).await;
    b.wait_for_text("main h1", &format!("Welcome, {name}"))
        .await;
    audit.check(&b, "long-name-secrets", viewport).await;
    for (path, page) in [
        ("/account", "long-name-account"),
        ("/logout", "long-name-logout"),
    ] {
        b.goto(&url(path)).await;
        b.wait_for_text("main", &name).await;
        audit.check(&b, page, viewport).await;
    }
    audit.finish();
}

/// Logs `email` in from a phone's browser (an HTTP client sending a phone's
/// `User-Agent`), so the account has a session besides Chromium's.
async fn log_in_elsewhere(base: &str, email: &str, password: &str) {
    let phone = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 \
             (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
        )
        .build()
        .unwrap();
    let page = phone.get(format!("{base}/login")).send().await.unwrap();
    let token = test_support::csrf(&page.text().await.unwrap());
    let fields = [
        ("email", email),
        ("password", password),
        ("csrf_token", token.as_str()),
    ];
    let response = phone
        .post(format!("{base}/login"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(test_support::form_body(&fields))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::SEE_OTHER);
}

/// axe-core's findings per page and viewport, and the screenshots.
struct Audit {
    findings: Vec<(String, Vec<Value>)>,
    update_docs: bool,
    extra_dir: Option<PathBuf>,
}

impl Audit {
    fn new() -> Self {
        let extra_dir = std::env::var_os("SCREENSHOT_DIR").map(PathBuf::from);
        if let Some(dir) = &extra_dir {
            std::fs::create_dir_all(dir).expect("SCREENSHOT_DIR");
        }
        Audit {
            findings: Vec::new(),
            update_docs: std::env::var("UPDATE_SCREENSHOTS").is_ok_and(|v| v == "1"),
            extra_dir,
        }
    }

    async fn check(&mut self, b: &Browser, page: &str, viewport: Viewport) {
        let overflow = b.horizontal_overflow().await;
        assert!(
            overflow <= 0,
            "{page} ({}) is {overflow}px wider than the window",
            viewport.name
        );
        let blocked = b.csp_violations().await;
        assert!(
            blocked.is_empty(),
            "{page} ({}): the Content-Security-Policy blocked {blocked:?}",
            viewport.name
        );
        let violations = b.axe().await;
        self.findings
            .push((format!("{page} ({})", viewport.name), violations));
        let file = format!("{page}-{}.png", viewport.name);
        if self.update_docs && !viewport.dark && DOCUMENTED.contains(&page) {
            let docs = workspace().join("docs/screenshots");
            std::fs::create_dir_all(&docs).unwrap();
            b.screenshot(viewport, &docs.join(&file)).await;
        }
        if let Some(dir) = &self.extra_dir {
            b.screenshot(viewport, &Path::new(dir).join(&file)).await;
        }
    }

    /// Prints every finding; fails on any serious or critical one.
    fn finish(self) {
        let mut report = String::new();
        let mut blocking = 0;
        for (page, violations) in &self.findings {
            let count = |impact: &str| {
                violations
                    .iter()
                    .filter(|v| v.get("impact").and_then(Value::as_str) == Some(impact))
                    .count()
            };
            let _ = writeln!(
                report,
                "axe {page}: {} critical, {} serious, {} moderate, {} minor",
                count("critical"),
                count("serious"),
                count("moderate"),
                count("minor"),
            );
            report.push_str(&describe_violations(violations));
            blocking += count("critical") + count("serious");
        }
        println!("{report}");
        assert_eq!(
            blocking, 0,
            "axe-core found serious or critical accessibility problems:\n{report}"
        );
    }
}

#[ignore = "needs Chromium, chromedriver and python3-aiosmtpd"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forgotten_password_is_reset_in_chromium_with_the_mail_from_the_smtp_server() {
    let tools = chrome::tools();
    let sink = SmtpSink::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = figment(dir.path(), &sqlite_url(dir.path())).merge(("smtp_url", sink.url()));
    let server = Server::start(config).await;
    let driver = ChromeDriver::start(&tools).await;
    let base = server.base.clone();
    driver
        .run(move |b| async move {
            let url = |path: &str| format!("{base}{path}");
            register_ada(&b, &base).await;
            b.click(LOGOUT_BUTTON).await;
            b.wait_for_text(".flash", "You have been logged out.").await;

            // From the login page's link, the form, the answer.
            b.goto(&url("/login")).await;
            b.click("main a[href='/password/forgot']").await;
            b.wait_for_text("main h1", "Forgot your password?").await;
            b.fill("#email", "Ada@Example.com").await;
            b.click(SUBMIT).await;
            b.wait_for_text(".flash", "a link to choose a new password is on its way")
                .await;
            assert_eq!(b.path().await, "/login");

            // The mail, as the SMTP server got it; its link, clicked.
            let mail = sink.wait_for(2).await;
            let reset = with_subject(&mail, "Reset your password");
            assert_eq!(reset.len(), 1, "{mail:#?}");
            let link = link_in(reset[0], "/password/reset/");
            b.goto(&url(&link)).await;
            b.wait_for_text("main h1", "Choose a new password").await;
            assert_eq!(
                b.path().await,
                "/password/reset",
                "the token left the address bar"
            );
            b.wait_for_text("main", "ada@example.com").await;
            b.fill("#new_password", "difference engine no. 2").await;
            b.click(SUBMIT).await;
            b.wait_for_text(".flash", "Your password has been changed")
                .await;

            // Logged in with the new password; the link is dead.
            b.fill("#email", "ada@example.com").await;
            b.fill("#password", "difference engine no. 2").await;
            b.click(SUBMIT).await;
            b.wait_for_text("main h1", "Welcome, Ada").await;
            b.goto(&url(&link)).await;
            b.wait_for_text("main h1", "This link cannot be used").await;
            let mail = sink.wait_for(3).await;
            assert_eq!(with_subject(&mail, "Your password was changed").len(), 1);
        })
        .await;
    server.stop().await;
}

#[ignore = "needs Chromium and chromedriver"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_factor_sign_in_in_chromium_with_the_apps_code_and_a_recovery_code() {
    let tools = chrome::tools();
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(figment(dir.path(), &sqlite_url(dir.path()))).await;
    let driver = ChromeDriver::start(&tools).await;
    let base = server.base.clone();
    driver
        .run(move |b| async move {
            let url = |path: &str| format!("{base}{path}");
            register_ada(&b, &base).await;
            b.goto(&url("/account")).await;
            open_app_setup(&b, "analytical engine").await;
            let secret = confirm_app_setup(&b).await;
            let codes: Vec<String> = b
                .text("#recovery-codes")
                .await
                .split_whitespace()
                .map(str::to_owned)
                .collect();
            assert_eq!(codes.len(), 10, "{codes:?}");

            let sign_in_up_to_the_code = || async {
                b.click(LOGOUT_BUTTON).await;
                b.wait_for_text(".flash", "You have been logged out.").await;
                b.goto(&url("/login")).await;
                b.fill("#email", "ada@example.com").await;
                b.fill("#password", "analytical engine").await;
                b.click(SUBMIT).await;
                b.wait_for_text("main h1", "Enter your code").await;
                assert_eq!(b.path().await, "/login/code");
            };

            // With the app's code. The code of the step that confirmed
            // the app is used; the next step's is within the one step of
            // drift a phone's clock may have.
            sign_in_up_to_the_code().await;
            b.goto(&url("/secrets")).await;
            b.wait_for_text("main h1", "Log in").await;
            b.goto(&url("/login/code")).await;
            b.wait_for_text("main h1", "Enter your code").await;
            let next_step = OffsetDateTime::now_utc() + auth_core::time::Duration::seconds(30);
            b.fill("#code", &secret.code_at(next_step)).await;
            b.click(SUBMIT).await;
            b.wait_for_text("main h1", "Welcome, Ada").await;

            // With a recovery code, which then is used up.
            sign_in_up_to_the_code().await;
            b.fill("#code", &codes[3]).await;
            b.click(SUBMIT).await;
            b.wait_for_text("main h1", "Welcome, Ada").await;
            sign_in_up_to_the_code().await;
            b.fill("#code", &codes[3]).await;
            b.click(SUBMIT).await;
            b.wait_for_text("#code-error", "That code is not right")
                .await;
            b.fill("#code", &codes[4]).await;
            b.click(SUBMIT).await;
            b.wait_for_text("main h1", "Welcome, Ada").await;
            b.goto(&url("/account")).await;
            b.wait_for_text("#two-factor + p", "8 recovery codes left")
                .await;
        })
        .await;
    server.stop().await;
}

/// The app as a browser reaches it for passkeys: WebAuthn needs a domain
/// name, and without `public_url` the relying party is `localhost`.
fn localhost(server: &Server) -> String {
    server.base.replace("127.0.0.1", "localhost")
}

/// Logs out, then logs in with the password, up to the passkey step.
async fn password_up_to_the_passkey(b: &Browser, base: &str) {
    b.click(LOGOUT_BUTTON).await;
    b.wait_for_text(".flash", "You have been logged out.").await;
    b.goto(&format!("{base}/login")).await;
    b.fill("#email", "ada@example.com").await;
    b.fill("#password", "analytical engine").await;
    b.click(SUBMIT).await;
    b.wait_for_text("main h1", "Use your passkey").await;
}

/// Logs out, then signs in from the login page's passkey button.
async fn passkey_button_on_the_login_page(b: &Browser, base: &str) {
    b.click(LOGOUT_BUTTON).await;
    b.wait_for_text(".flash", "You have been logged out.").await;
    b.goto(&format!("{base}/login")).await;
    b.click("form[action='/login/passkey'] [data-passkey-start]")
        .await;
}

#[ignore = "needs Chromium and chromedriver"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passkeys_are_added_used_with_and_without_the_password_and_removed_in_chromium() {
    let tools = chrome::tools();
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(figment(dir.path(), &sqlite_url(dir.path()))).await;
    let driver = ChromeDriver::start(&tools).await;
    let base = localhost(&server);
    let outbox = dir.path().join("outbox");
    driver
        .run(move |b| async move {
            let url = |path: &str| format!("{base}{path}");
            register_ada(&b, &base).await;
            let laptop = b.add_authenticator().await;

            // Add one: name and password, then the browser makes it.
            b.goto(&url("/account")).await;
            b.fill("#passkey_name", "Laptop").await;
            b.fill("#passkey_password", "analytical engine").await;
            b.click("form[action='/account/passkeys'] button[type=submit]")
                .await;
            b.wait_for_text("main h1", "Add a passkey").await;
            b.click("[data-passkey-start]").await;
            b.wait_for_text(".flash", "Passkey added.").await;
            b.wait_for_text("table.passkeys tbody", "Laptop").await;
            assert!(b.text("table.passkeys tbody").await.contains("never"));
            let held = b.credentials(&laptop).await;
            assert_eq!(held.len(), 1, "{held:?}");
            assert_eq!(held[0]["isResidentCredential"], true, "{held:?}");
            b.eventually("the notice mail", || async {
                let mail = test_support::outbox_mail(&outbox);
                let sent = !with_subject(&mail, "Your passkeys changed").is_empty();
                Ok::<_, fantoccini::error::CmdError>(sent.then_some(()))
            })
            .await;

            // The password, then the passkey.
            password_up_to_the_passkey(&b, &base).await;
            assert!(
                b.describe().await.contains("Use a passkey"),
                "{}",
                b.describe().await
            );
            b.click("[data-passkey-start]").await;
            b.wait_for_text("main h1", "Welcome, Ada").await;

            // The passkey alone, from the login page.
            passkey_button_on_the_login_page(&b, &base).await;
            b.wait_for_text("main h1", "Welcome, Ada").await;
            b.goto(&url("/account")).await;
            let listed = b.text("table.passkeys tbody").await;
            assert!(!listed.contains("never"), "last used is shown: {listed}");
            b.goto(&url("/account/history")).await;
            b.wait_for_text("main", "Passkey added").await;

            // Another device, with no credential for the site: refused, at
            // both steps, and nobody is signed in.
            let mut copy = b.credentials(&laptop).await.remove(0);
            b.remove_authenticator(&laptop).await;
            let other = b.add_authenticator().await;
            password_up_to_the_passkey(&b, &base).await;
            b.click("[data-passkey-start]").await;
            b.wait_for_text("[data-passkey-status]", "cancelled or timed out")
                .await;
            assert_eq!(b.path().await, "/login/code");
            b.goto(&url("/login")).await;
            b.click("form[action='/login/passkey'] [data-passkey-start]")
                .await;
            b.wait_for_text("[data-passkey-status]", "cancelled or timed out")
                .await;
            b.goto(&url("/secrets")).await;
            b.wait_for_text("main h1", "Log in").await;

            // A clone of the passkey whose counter is behind the server's
            // (as a copied device's would be) is refused.
            b.remove_authenticator(&other).await;
            let used = copy["signCount"].as_u64().expect("a signature counter");
            assert!(used >= 2, "the authenticator counts signatures: {copy}");
            let clone = b.add_authenticator().await;
            let mut behind = copy.clone();
            behind["signCount"] = 0.into();
            b.add_credential(&clone, behind).await;
            b.goto(&url("/login")).await;
            b.click("form[action='/login/passkey'] [data-passkey-start]")
                .await;
            b.wait_for_text(".flash", "That passkey was not accepted")
                .await;
            b.remove_authenticator(&clone).await;

            // The device itself (its counter ahead) still works; then the
            // passkey is removed, and the password alone signs in again.
            let device = b.add_authenticator().await;
            copy["signCount"] = used.into();
            b.add_credential(&device, copy).await;
            b.goto(&url("/login")).await;
            b.click("form[action='/login/passkey'] [data-passkey-start]")
                .await;
            b.wait_for_text("main h1", "Welcome, Ada").await;
            b.goto(&url("/account")).await;
            b.click("table.passkeys a").await;
            b.wait_for_text("main h1", "Remove the passkey “Laptop”")
                .await;
            b.fill("#passkey_password", "analytical engine").await;
            b.click(SUBMIT).await;
            b.wait_for_text(".flash", "Passkey removed.").await;
            b.wait_for_text("#passkeys + p", "A passkey signs you in")
                .await;
            assert!(b.describe().await.contains("You have no passkey."));
            b.click(LOGOUT_BUTTON).await;
            b.wait_for_text(".flash", "You have been logged out.").await;
            log_in(&b, &base, "analytical engine", false).await;
        })
        .await;
    server.stop().await;
}
