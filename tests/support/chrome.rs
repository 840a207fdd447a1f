//! Debian's Chromium, headless, driven through chromedriver over WebDriver:
//! the driver process, a browser session with helpers that wait for what a
//! person would see, screenshots, and axe-core accessibility audits.
//!
//! Nothing is downloaded at run time: the browser and the driver come from
//! the system (`apt-get install chromium chromium-driver`), axe-core from
//! `tests/vendor/axe-core/`.

use std::future::Future;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::error::CmdError;
use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{json, Value};

/// How long a wait may take before it counts as a failure. Generous: the
/// machine may be busy; a passing run never waits this long.
const WAIT: Duration = Duration::from_secs(30);
const POLL: Duration = Duration::from_millis(100);

const RECORD_CSP_VIOLATIONS: &str = "window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__cspViolations.push(
        `${e.violatedDirective} blocked ${e.blockedURI || 'inline'} at ${e.sourceFile || ''}:${e.lineNumber}`));";

/// Where the browser and its driver are: `/usr/bin/chromium` and
/// `/usr/bin/chromedriver`, or `$CHROMIUM` and `$CHROMEDRIVER`.
pub struct Tools {
    chromium: PathBuf,
    chromedriver: PathBuf,
}

/// The browser and driver. The tests that call this are ignored unless
/// asked for; asked for without the tools, they fail here and say how to
/// install them.
pub fn tools() -> Tools {
    let find = |var: &str, default: &str| {
        std::env::var_os(var)
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(default))
    };
    let tools = Tools {
        chromium: find("CHROMIUM", "/usr/bin/chromium"),
        chromedriver: find("CHROMEDRIVER", "/usr/bin/chromedriver"),
    };
    assert!(
        tools.chromium.is_file() && tools.chromedriver.is_file(),
        "no {} or {}: apt-get install chromium chromium-driver, or set $CHROMIUM and \
         $CHROMEDRIVER",
        tools.chromium.display(),
        tools.chromedriver.display()
    );
    tools
}

/// A running chromedriver, with its own temporary directory for the
/// browser profile, its log and downloads. Dropping it ends the driver and
/// any browser process still using that profile.
pub struct ChromeDriver {
    child: Child,
    url: String,
    dir: tempfile::TempDir,
    chromium: PathBuf,
}

impl ChromeDriver {
    /// Starts chromedriver on a port of 127.0.0.1 that the system picks,
    /// and waits until it says which one it listens on.
    pub async fn start(tools: &Tools) -> ChromeDriver {
        let dir = tempfile::tempdir().expect("temporary directory");
        let log = dir.path().join("chromedriver.log");
        let mut child = Command::new(&tools.chromedriver)
            .arg("--port=0")
            .arg(format!("--log-path={}", log.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{} did not start: {e}", tools.chromedriver.display()));
        let stdout = child.stdout.take().expect("chromedriver's output");
        let (port_tx, port_rx) = std::sync::mpsc::channel();
        // Reads the output to its end, so that chromedriver never blocks on
        // a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let port = line
                    .strip_prefix("ChromeDriver was started successfully on port ")
                    .and_then(|rest| rest.trim_end_matches('.').parse::<u16>().ok());
                if let Some(port) = port {
                    let _ = port_tx.send(port);
                }
            }
        });
        let mut driver = ChromeDriver {
            child,
            url: String::new(),
            dir,
            chromium: tools.chromium.clone(),
        };
        let port = tokio::task::spawn_blocking(move || port_rx.recv_timeout(WAIT))
            .await
            .expect("waiting for chromedriver");
        match port {
            Ok(port) => driver.url = format!("http://127.0.0.1:{port}"),
            Err(_) => {
                let exit = driver.child.try_wait().ok().flatten();
                panic!(
                    "chromedriver did not start listening (exit status: {exit:?})\n{}",
                    driver.log()
                );
            }
        }
        driver
    }

    /// A new headless browser session with an empty profile, saving
    /// downloads into [`ChromeDriver::downloads`] without asking.
    pub async fn browser(&self) -> Browser {
        let profile = self.dir.path().join("profile");
        let downloads = self.downloads();
        std::fs::create_dir_all(&downloads).expect("download directory");
        let capabilities = json!({
            "browserName": "chrome",
            "pageLoadStrategy": "normal",
            "goog:chromeOptions": {
                "binary": self.chromium,
                "args": [
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--no-first-run",
                    "--disable-quic",
                    "--hide-scrollbars",
                    "--window-size=1280,800",
                    format!("--user-data-dir={}", profile.display()),
                ],
                "prefs": {
                    "download.default_directory": downloads,
                    "download.prompt_for_download": false,
                    "download.directory_upgrade": true,
                    "safebrowsing.enabled": false,
                    "credentials_enable_service": false,
                    "profile.password_manager_enabled": false,
                    "profile.password_manager_leak_detection": false,
                },
            },
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!()
        };
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&self.url)
            .await
            .unwrap_or_else(|e| panic!("no browser session: {e}\n{}", self.log()));
        let browser = Browser { client };
        // Headless Chromium takes the download directory from the
        // preferences; say it over the DevTools protocol as well.
        browser
            .cdp(
                "Browser.setDownloadBehavior",
                json!({ "behavior": "allow", "downloadPath": downloads }),
            )
            .await;
        // Every page records what its Content-Security-Policy blocked
        // (an inline style, say), for [`Browser::csp_violations`].
        browser
            .cdp(
                "Page.addScriptToEvaluateOnNewDocument",
                json!({ "source": RECORD_CSP_VIOLATIONS }),
            )
            .await;
        browser.set_viewport(Viewport::DESKTOP).await;
        browser
    }

    /// Where the browser saves downloads.
    pub fn downloads(&self) -> PathBuf {
        self.dir.path().join("downloads")
    }

    fn log(&self) -> String {
        let log =
            std::fs::read_to_string(self.dir.path().join("chromedriver.log")).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(20).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        format!("chromedriver log (last lines):\n{}", tail.join("\n"))
    }

    /// Runs `test` with a new browser session, then closes the session and
    /// stops the driver whether the test passed or panicked (the panic is
    /// passed on afterwards).
    pub async fn run<F, Fut>(self, test: F)
    where
        F: FnOnce(Browser) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let browser = self.browser().await;
        let outcome = tokio::spawn(test(browser.clone())).await;
        let _ = tokio::time::timeout(WAIT, browser.client.close()).await;
        drop(self);
        if let Err(failure) = outcome {
            match failure.try_into_panic() {
                Ok(panic) => std::panic::resume_unwind(panic),
                Err(e) => panic!("browser test did not finish: {e}"),
            }
        }
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // A browser the driver could not close is found by its profile
        // directory, which is this driver's alone, and ended by its id.
        let marker = format!(
            "--user-data-dir={}",
            self.dir.path().join("profile").display()
        );
        let Ok(processes) = std::fs::read_dir("/proc") else {
            return;
        };
        for process in processes.flatten() {
            let name = process.file_name();
            let Some(pid) = name
                .to_str()
                .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
            else {
                continue;
            };
            let Ok(cmdline) = std::fs::read(process.path().join("cmdline")) else {
                continue;
            };
            if cmdline
                .split(|&b| b == 0)
                .any(|arg| arg == marker.as_bytes())
            {
                let _ = Command::new("kill")
                    .args(["-KILL", pid])
                    .stderr(Stdio::null())
                    .status();
            }
        }
    }
}

/// The size of the page's viewport, and its colour scheme.
#[derive(Clone, Copy, Debug)]
pub struct Viewport {
    pub name: &'static str,
    pub width: u32,
    pub height: u32,
    pub mobile: bool,
    pub dark: bool,
}

impl Viewport {
    pub const DESKTOP: Viewport = Viewport {
        name: "desktop",
        width: 1280,
        height: 800,
        mobile: false,
        dark: false,
    };
    pub const PHONE: Viewport = Viewport {
        name: "phone",
        width: 390,
        height: 844,
        mobile: true,
        dark: false,
    };
    pub const DESKTOP_DARK: Viewport = Viewport {
        name: "desktop-dark",
        dark: true,
        ..Viewport::DESKTOP
    };
}

/// A chromedriver command that runs a DevTools protocol method.
#[derive(Debug)]
struct DevTools {
    method: &'static str,
    params: Value,
}

impl WebDriverCompatibleCommand for DevTools {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        let session = session_id.expect("a session");
        base_url.join(&format!("session/{session}/goog/cdp/execute"))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (http::Method, Option<String>) {
        let body = json!({ "cmd": self.method, "params": self.params });
        (http::Method::POST, Some(body.to_string()))
    }
}

/// A command of the W3C WebAuthn extension to WebDriver (virtual
/// authenticators), at `path` below the session.
#[derive(Debug)]
struct WebAuthn {
    method: http::Method,
    path: String,
    body: Option<Value>,
}

impl WebDriverCompatibleCommand for WebAuthn {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        let session = session_id.expect("a session");
        base_url.join(&format!("session/{session}/webauthn/{}", self.path))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (http::Method, Option<String>) {
        (
            self.method.clone(),
            self.body.as_ref().map(ToString::to_string),
        )
    }
}

/// One browser session (a tab), with helpers that wait for what a person
/// would see before going on.
#[derive(Clone)]
pub struct Browser {
    client: Client,
}

impl Browser {
    /// Ends the browser session, closing Chromium as a person would: it
    /// writes its persistent cookies to the profile on the way out.
    pub async fn close(self) {
        tokio::time::timeout(WAIT, self.client.close())
            .await
            .expect("Chromium closes in time")
            .expect("Chromium closes");
    }

    pub async fn goto(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("could not open {url}: {e}"));
    }

    pub async fn back(&self) {
        self.client.back().await.expect("the Back button");
    }

    pub async fn path(&self) -> String {
        self.client
            .current_url()
            .await
            .expect("current URL")
            .path()
            .to_owned()
    }

    /// The visible text of the first element matching `css`.
    pub async fn text(&self, css: &str) -> String {
        let element = self.find(css).await;
        element
            .text()
            .await
            .unwrap_or_else(|e| panic!("text of {css}: {e}"))
    }

    async fn find(&self, css: &str) -> fantoccini::elements::Element {
        match self.client.find(Locator::Css(css)).await {
            Ok(element) => element,
            Err(e) => panic!("no element {css}: {e}\n{}", self.describe().await),
        }
    }

    /// The current value of the form field `css`.
    pub async fn value(&self, css: &str) -> String {
        let field = self.find(css).await;
        field
            .prop("value")
            .await
            .unwrap_or_else(|e| panic!("value of {css}: {e}"))
            .unwrap_or_default()
    }

    /// Types `value` into the field `css`, replacing what it held.
    pub async fn fill(&self, css: &str, value: &str) {
        let field = self.find(css).await;
        field.clear().await.expect("clear a field");
        field.send_keys(value).await.expect("type into a field");
    }

    pub async fn click(&self, css: &str) {
        let element = self.find(css).await;
        element
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    /// Waits until an element matching `css` is displayed and its text
    /// contains `needle`; returns that text.
    pub async fn wait_for_text(&self, css: &str, needle: &str) -> String {
        let what = format!("{css} showing {needle:?}");
        self.eventually(&what, || async {
            let element = self.client.find(Locator::Css(css)).await?;
            let text = element.text().await?;
            Ok((text.contains(needle) && element.is_displayed().await?).then_some(text))
        })
        .await
    }

    /// Polls `check` until it gives a value, for at most [`WAIT`]. An error
    /// (say, an element that went away with the page) counts as "not yet".
    pub async fn eventually<T, F, Fut>(&self, what: &str, mut check: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<Option<T>, CmdError>>,
    {
        let deadline = Instant::now() + WAIT;
        loop {
            let last = match check().await {
                Ok(Some(value)) => return value,
                Ok(None) => String::from("not yet"),
                Err(e) => e.to_string(),
            };
            if Instant::now() >= deadline {
                panic!(
                    "gave up waiting for {what} ({last})\n{}",
                    self.describe().await
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Where the browser is and what it shows, for failure messages.
    pub async fn describe(&self) -> String {
        let url = match self.client.current_url().await {
            Ok(url) => url.to_string(),
            Err(e) => format!("(unknown: {e})"),
        };
        let text = match self.client.find(Locator::Css("body")).await {
            Ok(body) => body.text().await.unwrap_or_default(),
            Err(e) => format!("(no page: {e})"),
        };
        format!("the browser is at {url}, showing:\n{text}")
    }

    async fn webauthn(&self, method: http::Method, path: String, body: Option<Value>) -> Value {
        let what = format!("{method} webauthn/{path}");
        self.client
            .issue_cmd(WebAuthn { method, path, body })
            .await
            .unwrap_or_else(|e| panic!("{what}: {e}"))
    }

    /// Adds a virtual authenticator to this tab, like a phone's or laptop's
    /// built-in one: it keeps discoverable credentials, verifies the user
    /// (as a fingerprint would) and consents at once. Returns its id.
    pub async fn add_authenticator(&self) -> String {
        let body = json!({
            "protocol": "ctap2",
            "transport": "internal",
            "hasResidentKey": true,
            "hasUserVerification": true,
            "isUserConsenting": true,
            "isUserVerified": true,
        });
        let id = self
            .webauthn(http::Method::POST, "authenticator".into(), Some(body))
            .await;
        id.as_str().expect("an authenticator id").to_owned()
    }

    /// Removes a virtual authenticator, with its credentials.
    pub async fn remove_authenticator(&self, id: &str) {
        self.webauthn(http::Method::DELETE, format!("authenticator/{id}"), None)
            .await;
    }

    /// The credentials a virtual authenticator holds, private keys and
    /// signature counters included.
    pub async fn credentials(&self, id: &str) -> Vec<Value> {
        let list = self
            .webauthn(
                http::Method::GET,
                format!("authenticator/{id}/credentials"),
                None,
            )
            .await;
        list.as_array().expect("a list of credentials").clone()
    }

    /// Puts `credential` (as [`Browser::credentials`] lists it) into a
    /// virtual authenticator: a copy of a passkey, as a cloned device has.
    pub async fn add_credential(&self, id: &str, credential: Value) {
        self.webauthn(
            http::Method::POST,
            format!("authenticator/{id}/credential"),
            Some(credential),
        )
        .await;
    }

    /// Runs a DevTools protocol method.
    pub async fn cdp(&self, method: &'static str, params: Value) -> Value {
        self.client
            .issue_cmd(DevTools { method, params })
            .await
            .unwrap_or_else(|e| panic!("{method}: {e}"))
    }

    /// Sizes the viewport exactly (a phone's is also "mobile": the viewport
    /// meta tag applies) and picks the colour scheme pages see.
    pub async fn set_viewport(&self, viewport: Viewport) {
        self.resize(viewport, viewport.height).await;
        let scheme = if viewport.dark { "dark" } else { "light" };
        self.cdp(
            "Emulation.setEmulatedMedia",
            json!({ "features": [{ "name": "prefers-color-scheme", "value": scheme }] }),
        )
        .await;
    }

    async fn resize(&self, viewport: Viewport, height: u32) {
        self.cdp(
            "Emulation.setDeviceMetricsOverride",
            json!({
                "width": viewport.width,
                "height": height,
                "deviceScaleFactor": 1,
                "mobile": viewport.mobile,
            }),
        )
        .await;
    }

    /// A PNG of the whole page at the viewport's width (as tall as the page,
    /// at least the viewport's height), saved as `path`.
    pub async fn screenshot(&self, viewport: Viewport, path: &Path) {
        let height = self
            .client
            .execute(
                "return Math.ceil(document.documentElement.scrollHeight);",
                vec![],
            )
            .await
            .expect("page height")
            .as_u64()
            .and_then(|h| u32::try_from(h).ok())
            .unwrap_or(viewport.height)
            .max(viewport.height);
        self.resize(viewport, height).await;
        let png = self.client.screenshot().await.expect("screenshot");
        self.resize(viewport, viewport.height).await;
        std::fs::write(path, png)
            .unwrap_or_else(|e| panic!("could not write {}: {e}", path.display()));
    }

    /// What the page's Content-Security-Policy blocked since it loaded.
    pub async fn csp_violations(&self) -> Vec<String> {
        let list = self
            .client
            .execute("return window.__cspViolations || [];", vec![])
            .await
            .expect("CSP violations");
        serde_json::from_value(list).expect("a list of strings")
    }

    /// How many CSS pixels the page is wider than the viewport (0 when
    /// nothing sticks out sideways).
    pub async fn horizontal_overflow(&self) -> i64 {
        let script = "return document.documentElement.scrollWidth - window.innerWidth;";
        self.client
            .execute(script, vec![])
            .await
            .expect("page width")
            .as_i64()
            .expect("a number")
    }

    /// Runs axe-core on the page and returns its violations, each as axe
    /// reports it (`id`, `impact`, `help`, `helpUrl`, `nodes`).
    pub async fn axe(&self) -> Vec<Value> {
        let source = axe_source();
        self.client
            .execute(&format!("{source}\nreturn typeof axe;"), vec![])
            .await
            .expect("axe-core loads into the page");
        let script = r#"
            const done = arguments[arguments.length - 1];
            axe.run(document, { resultTypes: ["violations"] })
                .then(results => done({ violations: results.violations }))
                .catch(error => done({ error: String(error) }));
        "#;
        let result = self
            .client
            .execute_async(script, vec![])
            .await
            .expect("axe-core runs");
        if let Some(error) = result.get("error") {
            panic!("axe-core failed: {error}");
        }
        match result.get("violations") {
            Some(Value::Array(violations)) => violations.clone(),
            other => panic!("axe-core gave no violations list: {other:?}"),
        }
    }
}

fn axe_source() -> &'static str {
    static SOURCE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SOURCE.get_or_init(|| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vendor/axe-core/axe.min.js");
        std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("could not read {}: {e}", path.display()))
    })
}

/// One line per violation and per element it was found on.
pub fn describe_violations(violations: &[Value]) -> String {
    let mut out = String::new();
    for v in violations {
        let field = |name: &str| v.get(name).and_then(Value::as_str).unwrap_or("?");
        out.push_str(&format!(
            "  [{}] {}: {} ({})\n",
            field("impact"),
            field("id"),
            field("help"),
            field("helpUrl")
        ));
        for node in v
            .get("nodes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let target = node.get("target").map(Value::to_string).unwrap_or_default();
            let summary = node
                .get("failureSummary")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .replace('\n', " ");
            out.push_str(&format!("      at {target}: {summary}\n"));
        }
    }
    out
}
