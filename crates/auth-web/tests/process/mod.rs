//! Starting the `auth-web` binary as the README says (from the repository
//! root, with its Rocket.toml), its data directed to a temporary directory
//! by DATABASE_URL (and its mail by ROCKET_MAIL_OUTBOX), and reading what
//! it printed.
// Each test file uses a part of it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use test_support::workspace;

pub fn auth_web(data: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_auth-web"));
    command
        .current_dir(workspace())
        .env(
            "DATABASE_URL",
            format!("sqlite://{}/auth.db", data.display()),
        )
        // Beside the SQLite file anyway; for PostgreSQL it would be the
        // checkout's data/outbox.
        .env("ROCKET_MAIL_OUTBOX", data.join("outbox"))
        .env("ROCKET_PORT", "0")
        .env("ROCKET_BCRYPT_COST", "4")
        .env("ROCKET_CLI_COLORS", "false")
        .env_remove("ROCKET_SECRET_KEY")
        .env_remove("ROCKET_PROFILE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// Kills the server when the test ends, passing or failing.
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn http_get(port: u16, path: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

/// Reads the child's stdout on a thread for as long as it runs (a closed
/// pipe would make its logging fail), collecting it and reporting the port
/// from Rocket's launch line.
pub fn watch_stdout(child: &mut Child) -> (u16, std::sync::Arc<std::sync::Mutex<String>>) {
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let (tx, rx) = std::sync::mpsc::channel();
    let collected = log.clone();
    std::thread::spawn(move || {
        const LAUNCHED: &str = "launched from http://127.0.0.1:";
        for line in stdout.lines().map_while(Result::ok) {
            if let Some(at) = line.find(LAUNCHED) {
                let digits: String = line[at + LAUNCHED.len()..]
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                let port = digits.parse::<u16>();
                let _ = tx.send(port.ok());
            }
            let mut log = collected.lock().unwrap();
            log.push_str(&line);
            log.push('\n');
        }
        let _ = tx.send(None);
    });
    let port = rx.recv().ok().flatten();
    let port = port.unwrap_or_else(|| {
        let mut stderr = String::new();
        let _ = child.stderr.take().unwrap().read_to_string(&mut stderr);
        panic!(
            "no launch line; stdout:\n{}\nstderr:\n{stderr}",
            log.lock().unwrap()
        )
    });
    (port, log)
}

/// Everything the binary printed, both streams.
pub fn printed(output: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}
