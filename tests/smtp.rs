//! Mail through a real SMTP server on loopback (Debian's python3-aiosmtpd):
//! the forgotten password from the request to the new login, links that
//! cannot be used, the address confirmed and changed, every notice, and
//! mail queued while the server is down that arrives once it is back.
//!
//! Those on aiosmtpd need `/usr/bin/python3` with it (`.ci/run` installs
//! python3-aiosmtpd), so they are ignored unless asked for with
//! `--include-ignored`; asked for without it, they fail.

mod support;

#[path = "support/smtp.rs"]
mod smtp;

use std::sync::Arc;

use auth_core::ManualClock;
use reqwest::cookie::Jar;
use reqwest::{Client, StatusCode};
use smtp::SmtpSink;
use support::{browser, figment, login, page, post_form, register, sqlite_url, submit, Server};
use test_support::{link_in, with_subject};

const RIGHT: &str = "analytical engine";
const NEW: &str = "difference engine no. 2";

/// A server on a fresh SQLite file sending its mail to `smtp_url`.
async fn server_sending_to(dir: &std::path::Path, smtp_url: &str) -> Server {
    Server::start(figment(dir, &sqlite_url(dir)).merge(("smtp_url", smtp_url))).await
}

/// The one mail among `mail` with `subject`.
fn the<'m>(mail: &'m [String], subject: &str) -> &'m String {
    match with_subject(mail, subject).as_slice() {
        [one] => one,
        other => panic!("{} mails say {subject:?}: {mail:#?}", other.len()),
    }
}

/// Asks for a reset link for `email` from a browser of its own.
async fn forgot(server: &Server, email: &str) -> (StatusCode, String) {
    let client = browser(Arc::new(Jar::default()));
    let answer = post_form(&client, server, "/password/forgot", &[("email", email)]).await;
    let status = answer.status();
    let at = answer.url().path().to_owned();
    let text = answer.text().await.expect("a page");
    let flash = text
        .split("If an account uses")
        .nth(1)
        .map(|rest| rest.split('<').next().unwrap_or_default().to_owned())
        .unwrap_or_default();
    (status, format!("{at}: {flash}"))
}

/// Follows a reset link in `client` and sets `password` on the form it
/// opens; the page it ends on.
async fn reset_with(
    client: &Client,
    server: &Server,
    link: &str,
    password: &str,
) -> (StatusCode, String, String) {
    let opened = client.get(server.url(link)).send().await.expect("GET");
    if opened.url().path() != "/password/reset" {
        let status = opened.status();
        return (
            status,
            opened.url().path().to_owned(),
            opened.text().await.unwrap(),
        );
    }
    let form = server.url("/password/reset");
    let answer = submit(client, &form, &form, &[("new_password", password)]).await;
    let status = answer.status();
    let at = answer.url().path().to_owned();
    (status, at, answer.text().await.unwrap())
}

#[ignore = "needs python3-aiosmtpd"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forgotten_password_is_reset_through_mail_from_a_real_smtp_server() {
    let sink = SmtpSink::start().await;
    let dir = tempfile::tempdir().unwrap();
    let server = server_sending_to(dir.path(), &sink.url()).await;

    let ada = browser(Arc::new(Jar::default()));
    register(&ada, &server, "ada@example.com", "Ada", RIGHT).await;
    let mail = sink.wait_for(1).await;
    let confirmation = the(&mail, "Confirm your email address");
    assert!(confirmation.contains("To: Ada <ada@example.com>"));
    // Links point at the site, whose address the server knows: without
    // public_url, the address it listens on, a loopback one as localhost.
    let site = server.base.replace("127.0.0.1", "localhost");
    assert!(
        confirmation.contains(&format!("{site}/email/confirm/")),
        "{confirmation}"
    );

    // Another browser is logged in too.
    let elsewhere = browser(Arc::new(Jar::default()));
    login(&elsewhere, &server, "ada@example.com", RIGHT).await;

    // An unknown address gets the same answer as a known one, and no mail.
    let unknown = forgot(&server, "nobody@example.com").await;
    let known = forgot(&server, "Ada@Example.com").await;
    assert_eq!(unknown, known);
    assert_eq!(known.0, StatusCode::OK);
    assert!(known.1.starts_with("/login: "), "{known:?}");
    let mail = sink.wait_for(2).await;
    assert_eq!(mail.len(), 2, "nothing for the unknown address: {mail:#?}");
    assert!(mail.iter().all(|m| !m.contains("nobody@example.com")));
    let first = link_in(the(&mail, "Reset your password"), "/password/reset/");

    // A second request replaces the first link.
    forgot(&server, "ada@example.com").await;
    let mail = sink.wait_for(3).await;
    let links: Vec<String> = with_subject(&mail, "Reset your password")
        .into_iter()
        .map(|m| link_in(m, "/password/reset/"))
        .collect();
    let second = links.into_iter().find(|l| *l != first).expect("a new link");
    let stranger = browser(Arc::new(Jar::default()));
    let (status, _, text) = reset_with(&stranger, &server, &first, NEW).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(text.contains("This link cannot be used"));

    // The new link opens the form; a weak password is refused on it and
    // the link still works; then the new password is set.
    let (status, at, text) = reset_with(&ada, &server, &second, "short").await;
    assert_eq!(
        (status, at.as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "/password/reset")
    );
    assert!(
        text.contains("ada@example.com"),
        "the form says whose account"
    );
    let (status, at, text) = reset_with(&ada, &server, &second, NEW).await;
    assert_eq!((status, at.as_str()), (StatusCode::OK, "/login"));
    assert!(text.contains("Your password has been changed"));

    // Every session ended, the old password is dead, the new one works.
    let (_, bounced) = page(&elsewhere, &server.url("/secrets")).await;
    assert!(bounced.contains("Please log in to see this page."));
    let old = login(&ada, &server, "ada@example.com", RIGHT).await;
    assert_eq!(old.status(), StatusCode::UNAUTHORIZED);
    let new = login(&ada, &server, "ada@example.com", NEW).await;
    assert_eq!(new.url().path(), "/secrets");

    // The link worked once.
    let (status, _, text) = reset_with(&stranger, &server, &second, "yet another one").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(text.contains("This link cannot be used"));

    // The owner is told, with when and what to do.
    let mail = sink.wait_for(4).await;
    let notice = the(&mail, "Your password was changed");
    assert!(notice.contains("To: Ada <ada@example.com>"));
    assert!(notice.contains("/password/forgot"), "{notice}");
    server.stop().await;
}

#[ignore = "needs python3-aiosmtpd"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_reset_link_is_refused_with_the_way_to_a_new_one() {
    let sink = SmtpSink::start().await;
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::starting_now();
    let figment = figment(dir.path(), &sqlite_url(dir.path())).merge(("smtp_url", sink.url()));
    let server = Server::start_with_clock(figment, Arc::new(clock.clone())).await;
    let ada = browser(Arc::new(Jar::default()));
    register(&ada, &server, "ada@example.com", "Ada", RIGHT).await;
    forgot(&server, "ada@example.com").await;
    let mail = sink.wait_for(2).await;
    let link = link_in(the(&mail, "Reset your password"), "/password/reset/");
    assert!(the(&mail, "Reset your password").contains("1 hour"));

    clock.advance(auth_core::time::Duration::minutes(61));
    let (status, _, text) = reset_with(&ada, &server, &link, NEW).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(text.contains("This link cannot be used"));
    assert!(text.contains("Ask for a new link"));
    let still = login(
        &browser(Arc::new(Jar::default())),
        &server,
        "ada@example.com",
        RIGHT,
    )
    .await;
    assert_eq!(still.url().path(), "/secrets", "the password is unchanged");
    server.stop().await;
}

/// Follows the confirm or change link `link` in `client` and presses its
/// button; the page it ends on.
async fn press_link(
    client: &Client,
    server: &Server,
    link: &str,
    action: &str,
) -> (StatusCode, String, String) {
    let token = link.rsplit('/').next().expect("a token").to_owned();
    let answer = submit(
        client,
        &server.url(link),
        &server.url(action),
        &[("token", &token)],
    )
    .await;
    let status = answer.status();
    let at = answer.url().path().to_owned();
    (status, at, answer.text().await.unwrap())
}

#[ignore = "needs python3-aiosmtpd"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn addresses_are_confirmed_and_changed_through_mail_and_each_change_is_told() {
    let sink = SmtpSink::start().await;
    let dir = tempfile::tempdir().unwrap();
    let server = server_sending_to(dir.path(), &sink.url()).await;
    let ada = browser(Arc::new(Jar::default()));
    register(&ada, &server, "ada@example.com", "Ada", RIGHT).await;
    let (_, account) = page(&ada, &server.url("/account")).await;
    assert!(account.contains("not confirmed yet"));

    // Confirming the address from the mail.
    let mail = sink.wait_for(1).await;
    let link = link_in(the(&mail, "Confirm your email address"), "/email/confirm/");
    let (status, at, text) = press_link(&ada, &server, &link, "/email/confirm").await;
    assert_eq!((status, at.as_str()), (StatusCode::OK, "/account"));
    assert!(text.contains("(confirmed)"));
    let (status, _, _) = press_link(&ada, &server, &link, "/email/confirm").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "the link worked once");

    // A new address needs the password, and changes only once confirmed.
    let account = server.url("/account");
    let email_form = server.url("/account/email");
    let mut statuses = Vec::new();
    for password in ["not it", RIGHT] {
        let fields = [
            ("new_email", "lovelace@example.com"),
            ("email_password", password),
        ];
        let answer = submit(&ada, &account, &email_form, &fields).await;
        statuses.push((answer.status(), answer.url().path().to_owned()));
    }
    assert_eq!(
        statuses,
        [
            (StatusCode::UNAUTHORIZED, "/account/email".to_owned()),
            (StatusCode::OK, "/account".to_owned())
        ]
    );
    let mail = sink.wait_for(2).await;
    let request = the(&mail, "Confirm your new email address");
    assert!(request.contains("To: Ada <lovelace@example.com>"));
    let (_, account_page) = page(&ada, &account).await;
    assert!(
        account_page.contains("ada@example.com"),
        "nothing changed yet"
    );

    // The change ends the other sessions, keeps this one, tells the old
    // address.
    let elsewhere = browser(Arc::new(Jar::default()));
    login(&elsewhere, &server, "ada@example.com", RIGHT).await;
    let link = link_in(request, "/email/change/");
    let (status, at, text) = press_link(&ada, &server, &link, "/email/change").await;
    assert_eq!((status, at.as_str()), (StatusCode::OK, "/account"));
    assert!(text.contains("lovelace@example.com"));
    let (_, bounced) = page(&elsewhere, &server.url("/secrets")).await;
    assert!(bounced.contains("Please log in to see this page."));
    let mail = sink.wait_for(3).await;
    let notice = the(&mail, "Your email address was changed");
    assert!(notice.contains("To: Ada <ada@example.com>"));
    assert!(notice.contains("lovelace@example.com"));

    // A password change on the account page is told too, at the new address.
    let changed = submit(
        &ada,
        &account,
        &server.url("/account/password"),
        &[("current_password", RIGHT), ("new_password", NEW)],
    )
    .await;
    assert_eq!(changed.url().path(), "/account");
    let mail = sink.wait_for(4).await;
    let notice = the(&mail, "Your password was changed");
    assert!(notice.contains("To: Ada <lovelace@example.com>"));
    server.stop().await;
}

#[ignore = "needs python3-aiosmtpd"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_queued_while_the_smtp_server_is_down_arrives_once_it_is_back() {
    let port = smtp::free_port();
    let dir = tempfile::tempdir().unwrap();
    let figment = figment(dir.path(), &sqlite_url(dir.path()))
        .merge(("smtp_url", smtp::url_on(port)))
        .merge(("mail_retry_after", 1));
    let server = Server::start(figment).await;

    // Nothing listens: the requests are answered as always.
    let ada = browser(Arc::new(Jar::default()));
    let registered = register(&ada, &server, "ada@example.com", "Ada", RIGHT).await;
    assert_eq!(registered.url().path(), "/secrets");
    let (status, answer) = forgot(&server, "ada@example.com").await;
    assert_eq!(status, StatusCode::OK);
    assert!(answer.starts_with("/login: "));
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;

    // The server comes up on that port; both mails arrive, and the reset
    // link in them works.
    let sink = SmtpSink::start_on(port).await;
    let mail = sink.wait_for(2).await;
    the(&mail, "Confirm your email address");
    let link = link_in(the(&mail, "Reset your password"), "/password/reset/");
    let (status, at, _) = reset_with(&ada, &server, &link, NEW).await;
    assert_eq!((status, at.as_str()), (StatusCode::OK, "/login"));
    let mail = sink.wait_for(3).await;
    assert_eq!(mail.len(), 3, "each mail once: {mail:#?}");
    server.stop().await;
}

/// An SMTP server on a free port of 127.0.0.1 that answers `refusal` to
/// the command `verb` (`RCPT`, `MAIL`) and accepts everything else.
/// Returns its port.
async fn refusing_smtp_server(verb: &'static str, refusal: &'static str) -> u16 {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut lines = BufReader::new(read).lines();
                write.write_all(b"220 refusing.test ESMTP\r\n").await.ok();
                while let Ok(Some(line)) = lines.next_line().await {
                    let command = line.get(..4).unwrap_or_default().to_ascii_uppercase();
                    let reply = match command.as_str() {
                        c if c == verb => format!("{refusal}\r\n"),
                        "QUIT" => "221 2.0.0 Bye\r\n".to_owned(),
                        _ => "250 refusing.test\r\n".to_owned(),
                    };
                    if write.write_all(reply.as_bytes()).await.is_err() || command == "QUIT" {
                        break;
                    }
                }
            });
        }
    });
    port
}

/// Waits (up to 20 s) for a captured log line containing `text`, and
/// returns every such line.
async fn log_lines_with(text: &str) -> Vec<String> {
    let logs = support::captured_logs();
    for _ in 0..200 {
        let lines: Vec<String> = logs
            .lock()
            .unwrap()
            .iter()
            .filter(|line| line.contains(text))
            .cloned()
            .collect();
        if !lines.is_empty() {
            return lines;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("no log line says {text:?}: {:?}", logs.lock().unwrap());
}

/// A mail the server refuses for good (no such mailbox) is dropped with a
/// warning in the log that names neither the address nor a token; the
/// request that queued it was answered as always. (The server is this
/// test's own, so it needs no aiosmtpd.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mail_the_server_refuses_is_given_up_with_a_log_line() {
    support::captured_logs();
    let port = refusing_smtp_server("RCPT", "550 5.1.1 No such user here").await;
    let dir = tempfile::tempdir().unwrap();
    let server = server_sending_to(dir.path(), &smtp::url_on(port)).await;
    let ada = browser(Arc::new(Jar::default()));
    let registered = register(&ada, &server, "ada@example.com", "Ada", RIGHT).await;
    assert_eq!(registered.url().path(), "/secrets");
    let given_up = log_lines_with("No such user here").await;
    assert_eq!(given_up.len(), 1, "{given_up:?}");
    assert!(
        given_up[0].contains("Mail not sent, given up"),
        "{given_up:?}"
    );
    assert!(given_up[0].starts_with("WARN"), "{given_up:?}");
    assert!(given_up[0].contains("No such user here"), "{given_up:?}");
    assert!(!given_up[0].contains("ada@example.com"), "{given_up:?}");
    server.stop().await;
}

/// The queue is a table: mail queued by a process that ended before any
/// worker sent it (an AuthService of the test's own on the database, as an
/// operator's command is) goes out from the next server on it.
#[ignore = "needs python3-aiosmtpd"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_queued_by_a_process_that_ended_is_sent_by_the_next_server() {
    use auth_core::{AuthService, BcryptHasher, Registration};
    use auth_store::{PoolOptions, Store};
    let sink = SmtpSink::start().await;
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::connect(&sqlite_url(dir.path()), &PoolOptions::default())
            .await
            .unwrap();
        store.migrate().await.unwrap();
        let auth = AuthService::builder(store)
            .hasher(BcryptHasher::new(4).unwrap())
            .build()
            .unwrap();
        let ada = Registration {
            email: "ada@example.com",
            name: "Ada",
            password: RIGHT,
        };
        auth.register(ada).await.unwrap();
        auth.store().close().await;
    }
    let server = server_sending_to(dir.path(), &sink.url()).await;
    let mail = sink.wait_for(1).await;
    let link = link_in(the(&mail, "Confirm your email address"), "/email/confirm/");
    let visitor = browser(Arc::new(Jar::default()));
    let (status, at, _) = press_link(&visitor, &server, &link, "/email/confirm").await;
    assert_eq!((status, at.as_str()), (StatusCode::OK, "/login"));
    server.stop().await;
}

/// A refusal that says the server's settings are wrong (relaying denied,
/// a refused login), not the mail, keeps the mail for another attempt.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_refusing_to_relay_keeps_the_mail_for_later() {
    support::captured_logs();
    let port = refusing_smtp_server("MAIL", "554 5.7.1 Relay access denied").await;
    let dir = tempfile::tempdir().unwrap();
    let server = server_sending_to(dir.path(), &smtp::url_on(port)).await;
    let ada = browser(Arc::new(Jar::default()));
    register(&ada, &server, "ada@example.com", "Ada", RIGHT).await;
    let lines = log_lines_with("Relay access denied").await;
    assert!(
        lines[0].contains("Mail not sent, will be retried"),
        "{lines:?}"
    );
    assert!(lines.iter().all(|l| !l.contains("given up")), "{lines:?}");
    server.stop().await;
}
