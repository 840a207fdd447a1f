//! One wrk run, and what it measured.

use std::io::Write;
use std::process::Stdio;

use tokio::process::{Child, Command};

/// A request to send again and again.
#[derive(Clone)]
pub struct Request {
    pub url: String,
    pub method: &'static str,
    pub cookie: Option<String>,
    pub form: Option<String>,
}

impl Request {
    pub fn get(url: String) -> Self {
        Self {
            url,
            method: "GET",
            cookie: None,
            form: None,
        }
    }

    pub fn with_cookie(mut self, cookie: &str) -> Self {
        self.cookie = Some(cookie.to_owned());
        self
    }

    pub fn post_form(url: String, cookie: &str, form: String) -> Self {
        Self {
            url,
            method: "POST",
            cookie: Some(cookie.to_owned()),
            form: Some(form),
        }
    }
}

/// What a run measured. `errors` counts responses of 400 and above (wrk's
/// "non-2xx/3xx") and socket errors.
#[derive(Debug, Clone, Copy, Default)]
pub struct Measured {
    pub requests_per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub errors: u64,
}

/// The Lua script: the request, and a JSON summary printed at the end.
fn script(request: &Request) -> String {
    let quote = |s: &str| format!("{s:?}");
    let mut lua = format!("wrk.method = {}\n", quote(request.method));
    if let Some(cookie) = &request.cookie {
        lua += &format!("wrk.headers[\"Cookie\"] = {}\n", quote(cookie));
    }
    if let Some(form) = &request.form {
        lua += "wrk.headers[\"Content-Type\"] = \"application/x-www-form-urlencoded\"\n";
        lua += &format!("wrk.body = {}\n", quote(form));
    }
    lua += r#"
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\n{"requests":%d,"duration_us":%d,"errors":%d,"p50_us":%d,"p99_us":%d}\n',
    summary.requests, summary.duration,
    e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"#;
    lua
}

/// Starts wrk (one thread: the server gets the rest of the machine).
pub fn start(
    request: &Request,
    connections: u32,
    seconds: u64,
) -> Result<(Child, tempfile::NamedTempFile), Box<dyn std::error::Error>> {
    let mut lua = tempfile::Builder::new().suffix(".lua").tempfile()?;
    lua.write_all(script(request).as_bytes())?;
    let child = Command::new("wrk")
        .args(["--threads", "1", "--latency", "--timeout", "10s"])
        .arg(format!("--connections={connections}"))
        .arg(format!("--duration={seconds}s"))
        .arg("--script")
        .arg(lua.path())
        .arg(&request.url)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot run wrk ({e}); install it: apt-get install wrk"))?;
    Ok((child, lua))
}

/// Waits for a run started by [`start`] and reads its summary.
pub async fn finish(
    child: Child,
    _script: tempfile::NamedTempFile,
) -> Result<Measured, Box<dyn std::error::Error>> {
    let output = child.wait_with_output().await?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .ok_or_else(|| {
            format!(
                "wrk printed no summary: {stdout}{}",
                String::from_utf8_lossy(&output.stderr)
            )
        })?;
    let json: serde_json::Value = serde_json::from_str(line)?;
    let number = |key: &str| json[key].as_f64().unwrap_or(0.0);
    let seconds = number("duration_us") / 1e6;
    Ok(Measured {
        requests_per_second: if seconds > 0.0 {
            number("requests") / seconds
        } else {
            0.0
        },
        p50_ms: number("p50_us") / 1e3,
        p99_ms: number("p99_us") / 1e3,
        errors: number("errors") as u64,
    })
}

/// Runs `request` for `seconds` with `connections` open.
pub async fn run(
    request: &Request,
    connections: u32,
    seconds: u64,
) -> Result<Measured, Box<dyn std::error::Error>> {
    let (child, script) = start(request, connections, seconds)?;
    finish(child, script).await
}
