//! The production nginx configuration in front of the app, as
//! `deploy/nginx/run-local.sh` runs it: HTTPS with a certificate made for
//! the run, the app behind it with `secure_cookies` and `trusted_proxies`
//! set as the configuration's header says. Clients connect from other
//! loopback addresses (127.0.0.2, 127.0.0.3) than nginx's own, so the app
//! can tell them apart only by what nginx passes on.
//!
//! Needs Debian's nginx (`.ci/run` installs it), so it is ignored unless
//! asked for with `--include-ignored`.

mod support;

use std::io::{BufRead, BufReader};
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use reqwest::cookie::Jar;
use reqwest::{Certificate, Client, StatusCode};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::CertificateDer;
use support::{figment, sqlite_url, Server};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// nginx, started by run-local.sh, stopped (and its files removed) on drop.
struct Nginx {
    child: Child,
    port: u16,
    certificate: PathBuf,
}

impl Nginx {
    fn start(app_port: u16) -> Self {
        let port = free_port_pair();
        let script = test_support::workspace().join("deploy/nginx/run-local.sh");
        let mut child = Command::new(script)
            .args([port.to_string(), app_port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .expect("deploy/nginx/run-local.sh starts");
        let mut ready = String::new();
        BufReader::new(child.stdout.take().expect("its output"))
            .read_line(&mut ready)
            .expect("a line from run-local.sh");
        assert!(ready.starts_with("ready:"), "run-local.sh said: {ready:?}");
        let certificate = PathBuf::from(
            ready
                .trim()
                .rsplit_once("certificate ")
                .expect("the certificate's path")
                .1,
        );
        Nginx {
            child,
            port,
            certificate,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("https://127.0.0.1:{}{path}", self.port)
    }

    fn certificate_pem(&self) -> Vec<u8> {
        std::fs::read(&self.certificate).expect("the run's certificate")
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // TERM: the script stops nginx and removes its directory.
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

/// A port whose successor is free too (run-local.sh puts the plain-HTTP
/// redirect there).
fn free_port_pair() -> u16 {
    loop {
        let first = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = first.local_addr().unwrap().port();
        if port < u16::MAX && std::net::TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
            return port;
        }
    }
}

/// A browser at `address` that trusts only nginx's certificate.
fn browser_at(nginx: &Nginx, address: &str) -> Client {
    Client::builder()
        .cookie_provider(Arc::new(Jar::default()))
        .redirect(reqwest::redirect::Policy::none())
        .add_root_certificate(Certificate::from_pem(&nginx.certificate_pem()).unwrap())
        .tls_built_in_root_certs(false)
        .local_address(address.parse::<IpAddr>().unwrap())
        .build()
        .expect("an HTTPS client")
}

async fn page(client: &Client, url: &str) -> (StatusCode, String) {
    let response = client.get(url).send().await.expect("GET through nginx");
    (response.status(), response.text().await.unwrap())
}

/// Posts the form of `path` (with its CSRF token) to `path`.
async fn post(
    client: &Client,
    nginx: &Nginx,
    path: &str,
    fields: &[(&str, &str)],
    extra: Option<(&str, &str)>,
) -> reqwest::Response {
    let (_, html) = page(client, &nginx.url(path)).await;
    let token = test_support::csrf(&html);
    let mut all = fields.to_vec();
    all.push(("csrf_token", &token));
    let mut request = client.post(nginx.url(path)).form(&all);
    if let Some((name, value)) = extra {
        request = request.header(name, value);
    }
    request.send().await.expect("POST through nginx")
}

fn set_cookies(response: &reqwest::Response) -> Vec<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

/// The app configured as deploy/nginx/auth-web.conf says (and with an
/// address limit of 3 logins), and nginx in front of it.
async fn app_behind_nginx() -> (Server, Nginx, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let config = figment(dir.path(), &sqlite_url(dir.path()))
        .merge(("secure_cookies", true))
        .merge(("trusted_proxies", ["127.0.0.1"]))
        .merge(("login_throttle.address_limit", 3));
    let server = Server::start(config).await;
    let app_port: u16 = server.base.rsplit(':').next().unwrap().parse().unwrap();
    let nginx = Nginx::start(app_port);
    (server, nginx, dir)
}

#[ignore = "needs nginx"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_flow_works_over_https_through_nginx_with_secure_cookies() {
    let (server, nginx, _dir) = app_behind_nginx().await;
    let ada = browser_at(&nginx, "127.0.0.2");

    let registered = post(
        &ada,
        &nginx,
        "/register",
        &[
            ("email", "ada@example.com"),
            ("name", "Ada"),
            ("password", "analytical engine"),
        ],
        None,
    )
    .await;
    assert_eq!(registered.status(), StatusCode::SEE_OTHER);
    let cookies = set_cookies(&registered);
    let session = cookies
        .iter()
        .find(|c| c.starts_with("__Host-session="))
        .unwrap_or_else(|| panic!("a __Host- session cookie in {cookies:?}"));
    assert!(
        session.contains("Secure") && session.contains("HttpOnly"),
        "{session}"
    );

    let (status, secrets) = page(&ada, &nginx.url("/secrets")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(secrets.contains("Welcome, Ada"), "{secrets}");
    let download = ada.get(nginx.url("/download")).send().await.unwrap();
    assert_eq!(download.status(), StatusCode::OK);
    assert!(download.bytes().await.unwrap().starts_with(b"%PDF-"));
    let hsts = ada.get(nginx.url("/")).send().await.unwrap();
    assert!(
        hsts.headers().contains_key("strict-transport-security"),
        "HSTS under secure_cookies"
    );

    let logged_out = post(&ada, &nginx, "/logout", &[], None).await;
    assert_eq!(logged_out.status(), StatusCode::SEE_OTHER);
    let removal = set_cookies(&logged_out)
        .into_iter()
        .find(|c| c.starts_with("__Host-session="))
        .expect("the session cookie removed");
    assert!(removal.contains("Secure"), "{removal}");
    let (status, _) = page(&ada, &nginx.url("/secrets")).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "logged out");
    server.stop().await;
}

/// A URL too long for nginx's buffers never reaches the app; the visitor
/// still gets the site's 414 page, not an empty body.
#[ignore = "needs nginx"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_url_too_long_for_nginx_gets_the_sites_414_page() {
    let (server, nginx, _dir) = app_behind_nginx().await;
    let visitor = browser_at(&nginx, "127.0.0.4");
    let long = format!("/secrets?q={}", "a".repeat(20_000));
    let (status, body) = page(&visitor, &nginx.url(&long)).await;
    assert_eq!(status, StatusCode::URI_TOO_LONG);
    assert!(body.contains("Address too long"), "{body}");
    assert!(body.contains("<nav"), "in the site's layout: {body}");
    let (status, _) = page(&visitor, &nginx.url("/")).await;
    assert_eq!(status, StatusCode::OK, "the next request is served");
    server.stop().await;
}

#[ignore = "needs nginx"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_address_throttle_counts_the_client_nginx_passes_on() {
    let (server, nginx, _dir) = app_behind_nginx().await;
    let ada = browser_at(&nginx, "127.0.0.3");
    let fields = [
        ("email", "ada@example.com"),
        ("name", "Ada"),
        ("password", "analytical engine"),
    ];
    post(&ada, &nginx, "/register", &fields, None).await;
    post(&ada, &nginx, "/logout", &[], None).await;

    // The address limit is 3: three wrong passwords from 127.0.0.2, each
    // for another account so no account limit is reached...
    let attacker = browser_at(&nginx, "127.0.0.2");
    for n in 0..3 {
        let email = format!("victim{n}@example.com");
        let wrong = [("email", email.as_str()), ("password", "guess")];
        let response = post(&attacker, &nginx, "/login", &wrong, None).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "guess {n}");
    }
    // ...lock 127.0.0.2 out, whatever X-Forwarded-For it claims...
    let right = [
        ("email", "ada@example.com"),
        ("password", "analytical engine"),
    ];
    let forged = post(
        &attacker,
        &nginx,
        "/login",
        &right,
        Some(("X-Forwarded-For", "203.0.113.9")),
    )
    .await;
    assert_eq!(
        forged.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "a forged X-Forwarded-For does not escape the lock"
    );
    // ...while another client behind the same nginx logs in: the lock is
    // on 127.0.0.2, not on nginx's own 127.0.0.1.
    let response = post(&ada, &nginx, "/login", &right, None).await;
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "127.0.0.3 is not locked"
    );
    server.stop().await;
}

#[ignore = "needs nginx"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nginx_cuts_off_a_client_that_sends_half_a_request() {
    let (server, nginx, _dir) = app_behind_nginx().await;

    let mut roots = rustls::RootCertStore::empty();
    let pem = nginx.certificate_pem();
    let der = CertificateDer::from_pem_slice(&pem).expect("a PEM certificate");
    roots.add(der).expect("the run's certificate as a root");
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(tls));
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", nginx.port))
        .await
        .unwrap();
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
    let mut stream = connector.connect(name, tcp).await.expect("TLS handshake");
    // Headers without the blank line that ends them, then nothing more.
    stream
        .write_all(b"GET /secrets HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slow\r\n")
        .await
        .unwrap();
    stream.flush().await.unwrap();

    // nginx's client_header_timeout is 10 s; wait far longer than that for
    // it to close the connection, so that only a connection held open for
    // ever fails the test.
    let mut rest = Vec::new();
    let closed =
        tokio::time::timeout(Duration::from_secs(120), stream.read_to_end(&mut rest)).await;
    assert!(
        closed.is_ok(),
        "nginx still holds the half-sent request open after 120 s"
    );
    let answer = String::from_utf8_lossy(&rest);
    assert!(
        !answer.contains("HTTP/1.1 200") && !answer.contains("HTTP/1.1 303"),
        "the app never saw the half request: {answer}"
    );

    // Meanwhile and afterwards, whole requests are served.
    let client = browser_at(&nginx, "127.0.0.2");
    let (status, _) = page(&client, &nginx.url("/")).await;
    assert_eq!(status, StatusCode::OK);
    server.stop().await;
}
