//! Project tasks, run as `cargo xtask <task>`.
//!
//! `cargo xtask bench [--postgres URL] [--seconds N] [--scale N] [--smoke]
//! [--binary PATH]` builds the release binary (or runs PATH, another build), starts it on a fresh database (SQLite, or a
//! fresh schema in the PostgreSQL database at URL), and measures what each
//! page costs with wrk (Debian's `wrk` package) on loopback: see
//! docs/PERFORMANCE.md. `--smoke` runs every step for one second with a
//! small scale test and writes the report under target/ only: the check
//! that the command still works (CI runs it on the test build with
//! `--binary target/debug/auth-web`; its figures mean nothing).

mod bench;
mod flask;
mod scale;
mod server;
mod wrk;

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("bench") => match bench::Options::parse(&args[1..]) {
            Ok(options) => bench::run(options).await,
            Err(usage) => Err(usage.into()),
        },
        _ => Err(
            "usage: cargo xtask bench [--postgres URL] [--seconds N] [--scale N] [--smoke] \
             [--binary PATH] [--flask DIR]"
                .into(),
        ),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}
