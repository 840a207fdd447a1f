//! A real SMTP server on loopback for the tests that send mail: Debian's
//! `python3-aiosmtpd`, which keeps every message it receives in a Maildir.
//!
//! It needs `/usr/bin/python3` with the `aiosmtpd` module (or `$AIOSMTPD_PYTHON`,
//! an interpreter that has it); asked for without it, a test fails.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tempfile::TempDir;

/// A running SMTP server and the Maildir it writes to. Stopped when
/// dropped.
pub struct SmtpSink {
    port: u16,
    child: Child,
    dir: TempDir,
}

/// A port of 127.0.0.1 that nothing listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// The `smtp_url` of a server on `port` of 127.0.0.1 (plain SMTP).
pub fn url_on(port: u16) -> String {
    format!("smtp://127.0.0.1:{port}")
}

impl SmtpSink {
    /// A server on a free port.
    pub async fn start() -> SmtpSink {
        Self::start_on(free_port()).await
    }

    /// A server on `port`, once it accepts connections.
    pub async fn start_on(port: u16) -> SmtpSink {
        let python =
            std::env::var("AIOSMTPD_PYTHON").unwrap_or_else(|_| "/usr/bin/python3".to_owned());
        let dir = tempfile::tempdir().expect("a Maildir");
        let mut child = Command::new(&python)
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(dir.path().join("mail"))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{python} -m aiosmtpd does not start: {e}"));
        for _ in 0..100 {
            if let Some(status) = child.try_wait().expect("the SMTP server's status") {
                let mut err = String::new();
                if let Some(mut stderr) = child.stderr.take() {
                    std::io::Read::read_to_string(&mut stderr, &mut err).ok();
                }
                panic!("the SMTP server exited ({status}); is python3-aiosmtpd installed?\n{err}");
            }
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return SmtpSink { port, child, dir };
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let _ = child.kill();
        panic!("the SMTP server does not listen on port {port} after 10 s");
    }

    /// Its `smtp_url`.
    pub fn url(&self) -> String {
        url_on(self.port)
    }

    fn new_mail(&self) -> PathBuf {
        self.dir.path().join("mail").join("new")
    }

    /// Every message received so far, as its raw text, in no set order.
    pub fn messages(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(self.new_mail()) else {
            return Vec::new();
        };
        entries
            .filter_map(Result::ok)
            .filter_map(|e| std::fs::read_to_string(e.path()).ok())
            .collect()
    }

    /// Waits (polling, up to 20 s) until `count` messages have arrived,
    /// and returns them.
    pub async fn wait_for(&self, count: usize) -> Vec<String> {
        for _ in 0..200 {
            let mail = self.messages();
            if mail.len() >= count {
                return mail;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "expected {count} mails at the SMTP server, found {}",
            self.messages().len()
        );
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
