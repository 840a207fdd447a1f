//! The Flask original, measured on the same machine in the same run: its
//! requirements installed into a virtual environment under `target/bench/`,
//! served by gunicorn with one worker process per core (as it would be in
//! production, and faster than the Werkzeug development server the
//! tutorial runs), on a SQLite file of its own.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::cookie::{CookieStore, Jar};
use tokio::process::{Child, Command};

use crate::wrk::{self, Measured, Request};

/// What the Flask app answered under the same load as S1 and S2.
pub struct FlaskResults {
    pub dir: PathBuf,
    pub workers: usize,
    pub home: Measured,
    pub secrets: Measured,
}

struct Flask {
    child: Child,
    base: String,
}

/// The virtual environment with `dir/requirements.txt` installed, made once
/// and made again when the requirements change.
fn virtualenv(dir: &Path, root: &Path) -> Result<PathBuf, Box<dyn std::error::Error>> {
    let requirements = std::fs::read_to_string(dir.join("requirements.txt"))
        .map_err(|e| format!("{}: {e}", dir.join("requirements.txt").display()))?;
    let venv = root.join("target/bench/flask-venv");
    let stamp = venv.join("requirements.txt");
    if std::fs::read_to_string(&stamp).ok().as_deref() == Some(requirements.as_str()) {
        return Ok(venv);
    }
    eprintln!(
        "bench: installing the Flask original's requirements into {}",
        venv.display()
    );
    let _ = std::fs::remove_dir_all(&venv);
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let made = std::process::Command::new(&python)
        .args(["-m", "venv"])
        .arg(&venv)
        .status()?;
    if !made.success() {
        return Err(format!("{python} -m venv failed").into());
    }
    let installed = std::process::Command::new(venv.join("bin/pip"))
        .args(["install", "--quiet", "-r"])
        .arg(dir.join("requirements.txt"))
        .status()?;
    if !installed.success() {
        return Err("pip install of the Flask original's requirements failed".into());
    }
    std::fs::write(&stamp, requirements)?;
    Ok(venv)
}

impl Flask {
    async fn start(
        dir: &Path,
        venv: &Path,
        data: &Path,
        workers: usize,
    ) -> Result<Self, Box<dyn std::error::Error>> {
        let database = format!("sqlite:///{}", data.join("flask.db").display());
        // The app creates its tables when imported; done once here, since
        // gunicorn's workers importing it together on a fresh file can
        // race to CREATE TABLE, and the loser's failure stops gunicorn.
        let created = Command::new(venv.join("bin/python"))
            .current_dir(dir)
            .env("SECRET_KEY", "benchmark only")
            .env("DATABASE_URI", &database)
            .args(["-c", "import app"])
            .status()
            .await?;
        if !created.success() {
            return Err("the Flask original's app.py failed to import".into());
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let child = Command::new(venv.join("bin/gunicorn"))
            .current_dir(dir)
            .env("SECRET_KEY", "benchmark only")
            .env("DATABASE_URI", &database)
            .args(["--workers", &workers.to_string(), "--threads", "8"])
            .args([
                "--bind",
                &format!("127.0.0.1:{port}"),
                "--log-level",
                "warning",
            ])
            .arg("app:app")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()?;
        let mut flask = Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()?;
        let deadline = Instant::now() + Duration::from_secs(60);
        while !client
            .get(flask.url("/"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            if let Some(status) = flask.child.try_wait()? {
                return Err(format!("gunicorn exited ({status}) before answering").into());
            }
            if Instant::now() > deadline {
                return Err("the Flask original did not answer / within 60 s".into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(flask)
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Registers an account through its form (which logs it in) and
    /// returns the session cookie, checked to open the secret page.
    async fn session(&self) -> Result<String, Box<dyn std::error::Error>> {
        let jar = Arc::new(Jar::default());
        let client = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        client
            .post(self.url("/register"))
            .form(&[
                ("name", "Bench"),
                ("email", "bench@example.com"),
                ("password", "benchmark password 1"),
            ])
            .send()
            .await?;
        let cookies = jar
            .cookies(&self.base.parse()?)
            .ok_or("the Flask original set no session cookie")?
            .to_str()?
            .to_owned();
        let page = reqwest::Client::new()
            .get(self.url("/secrets"))
            .header("Cookie", &cookies)
            .send()
            .await?
            .text()
            .await?;
        if !page.contains("Welcome, Bench") {
            return Err("the Flask original's session does not open /secrets".into());
        }
        Ok(cookies)
    }
}

/// Starts the Flask app in `dir`, measures `/` and `/secrets` as S1 and S2
/// are measured, and stops it.
pub async fn measure(
    dir: &Path,
    root: &Path,
    connections: u32,
    seconds: u64,
) -> Result<FlaskResults, Box<dyn std::error::Error>> {
    let venv = virtualenv(dir, root)?;
    let data = tempfile::tempdir()?;
    let workers = std::thread::available_parallelism().map_or(2, usize::from);
    eprintln!("bench: the Flask original, {workers} gunicorn workers");
    let mut flask = Flask::start(dir, &venv, data.path(), workers).await?;
    let cookies = flask.session().await?;
    let home = wrk::run(&Request::get(flask.url("/")), connections, seconds).await?;
    let secrets = wrk::run(
        &Request::get(flask.url("/secrets")).with_cookie(&cookies),
        connections,
        seconds,
    )
    .await?;
    let _ = flask.child.kill().await;
    Ok(FlaskResults {
        dir: dir.to_owned(),
        workers,
        home,
        secrets,
    })
}
