//! The binary under measure (the release build, unless `--binary` names
//! another), started as a deployment would start it.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

pub struct Server {
    child: Child,
    pub base: String,
}

impl Server {
    /// Starts `binary` from the repository root on a free port, in its
    /// default configuration (the access log on), its log written to `log`
    /// as a service's log would be to the journal, not to a terminal.
    pub async fn start(
        root: &Path,
        binary: &Path,
        log: &Path,
        database_url: &str,
        secret_key: &str,
        extra_env: &[(&str, &str)],
    ) -> Result<Self, Box<dyn std::error::Error>> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let child = Command::new(binary)
            .current_dir(root)
            .env("DATABASE_URL", database_url)
            .env("ROCKET_PORT", port.to_string())
            .env("ROCKET_SECRET_KEY", secret_key)
            .env("ROCKET_CLI_COLORS", "false")
            .env_remove("ROCKET_PROFILE")
            .envs(extra_env.iter().copied())
            .stdout(std::fs::File::create(log)?)
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()?;
        let server = Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if reqwest::get(server.url("/healthz"))
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return Ok(server);
            }
            if Instant::now() > deadline {
                return Err("the server did not answer /healthz within 60 s".into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The most memory the process has held (VmHWM), in MiB.
    pub fn peak_rss_mib(&self) -> Result<f64, Box<dyn std::error::Error>> {
        let pid = self.child.id().ok_or("the server has exited")?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
        let kib: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .ok_or("no VmHWM in /proc status")?;
        Ok(kib / 1024.0)
    }

    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}
