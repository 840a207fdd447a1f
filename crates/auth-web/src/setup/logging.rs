//! The server's log: one line per record, as logfmt or JSON, formatted on
//! the thread that logs, appended to a shared buffer, and written by a
//! background thread a few times a second, so that a request never waits
//! for the terminal or the journal, nor wakes a thread per line.
//!
//! Rocket's own per-request chatter (several lines per request, in a format
//! no log shipper parses) is left out unless `log_level = "debug"`; its
//! warnings and errors are kept. The access log (see
//! [`AccessLog`](crate::http::access_log::AccessLog)) and the security
//! events are lines of their own, with their fields as keys.

use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use log::kv::{Key, Value, VisitSource};
use log::{Level, LevelFilter, Log, Metadata, Record};
use rocket::config::LogLevel;
use rocket::figment::Figment;
use serde::{Deserialize, Serialize};

/// How each line is written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// `ts=2026-12-02T06:00:00.123Z level=info target=access msg=request
    /// method=GET path=/secrets status=200 duration_ms=0.41 bytes=1834`
    #[default]
    Logfmt,
    /// The same fields as one JSON object per line.
    Json,
}

/// How often the writer thread writes what was logged.
const WRITE_EVERY: Duration = Duration::from_millis(100);

/// Most bytes held between writes; lines beyond are dropped rather than
/// make a request wait (a terminal that stopped reading, say).
const MAX_PENDING: usize = 8 * 1024 * 1024;

/// Lines logged and not yet written, shared by every thread that logs.
#[derive(Default)]
struct Pending {
    lines: Mutex<Vec<u8>>,
    stopping: AtomicBool,
}

impl Pending {
    fn push(&self, line: &[u8]) {
        let mut lines = self.lines.lock().unwrap_or_else(PoisonError::into_inner);
        if lines.len() + line.len() <= MAX_PENDING {
            lines.extend_from_slice(line);
        }
    }

    /// Writes what is pending to standard output.
    fn write_out(&self, spare: &mut Vec<u8>) {
        {
            let mut lines = self.lines.lock().unwrap_or_else(PoisonError::into_inner);
            std::mem::swap(&mut *lines, spare);
        }
        if !spare.is_empty() {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(spare);
            let _ = out.flush();
            spare.clear();
        }
    }
}

/// Keeps the writer thread running; dropping it writes what is pending
/// and stops the thread.
pub struct LogGuard {
    pending: Arc<Pending>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for LogGuard {
    fn drop(&mut self) {
        self.pending.stopping.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            thread.thread().unpark();
            let _ = thread.join();
        }
    }
}

/// Installs the log for a server run with `figment`'s settings
/// (`log_level`, `log_format`), unless a logger is installed already (a
/// test harness's). Hold the guard until the server has stopped.
pub fn install(figment: &Figment) -> Option<LogGuard> {
    let level = figment
        .extract_inner::<LogLevel>("log_level")
        .unwrap_or(LogLevel::Normal);
    // A bad value stops the start a moment later, named by the
    // configuration check; until then the default will do.
    let format = figment
        .extract_inner::<LogFormat>("log_format")
        .unwrap_or_default();
    let pending = Arc::new(Pending::default());
    let logger = LineLogger {
        level: filter(level),
        rocket_chatter: level == LogLevel::Debug,
        format,
        pending: Arc::clone(&pending),
    };
    log::set_boxed_logger(Box::new(logger)).ok()?;
    log::set_max_level(filter(level));
    let shared = Arc::clone(&pending);
    let thread = std::thread::Builder::new()
        .name("log writer".into())
        .spawn(move || {
            let mut spare = Vec::new();
            while !shared.stopping.load(Ordering::Acquire) {
                std::thread::park_timeout(WRITE_EVERY);
                shared.write_out(&mut spare);
            }
            shared.write_out(&mut spare);
        })
        .ok();
    Some(LogGuard { pending, thread })
}

fn filter(level: LogLevel) -> LevelFilter {
    match level {
        LogLevel::Off => LevelFilter::Off,
        LogLevel::Critical => LevelFilter::Warn,
        LogLevel::Normal => LevelFilter::Info,
        LogLevel::Debug => LevelFilter::Debug,
    }
}

struct LineLogger {
    level: LevelFilter,
    /// Whether Rocket's informational lines are kept.
    rocket_chatter: bool,
    format: LogFormat,
    pending: Arc<Pending>,
}

/// Whether a record is Rocket's own chatter: its launch banner (replaced
/// by one line of ours) and its lines about each request (the access log
/// says it in one). Its warnings and errors about anything else (a failed
/// launch, a shutdown) are kept.
fn is_rocket_chatter(metadata: &Metadata<'_>) -> bool {
    let target = metadata.target();
    // Rocket's indented lines (its code generated into our routes too)
    // have a target ending in `_`.
    if target == "_" || target.ends_with("::_") {
        return true;
    }
    if !target.starts_with("rocket") {
        return false;
    }
    let banner = target.starts_with("rocket::launch") && metadata.level() > Level::Error;
    banner || metadata.level() > Level::Warn
}

impl Log for LineLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= self.level && (self.rocket_chatter || !is_rocket_chatter(metadata))
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let line = format_line(self.format, record, time::OffsetDateTime::now_utc());
        self.pending.push(line.as_bytes());
    }

    fn flush(&self) {
        self.pending.write_out(&mut Vec::new());
    }
}

/// One record as one line, ending in a newline.
pub fn format_line(format: LogFormat, record: &Record<'_>, at: time::OffsetDateTime) -> String {
    let ts = at
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let level = match record.level() {
        Level::Error => "error",
        Level::Warn => "warn",
        Level::Info => "info",
        Level::Debug => "debug",
        Level::Trace => "trace",
    };
    // Most messages are literals ("request"): no need to format them.
    let formatted;
    let message = match record.args().as_str() {
        Some(literal) => literal,
        None => {
            formatted = record.args().to_string();
            &formatted
        }
    };
    let mut fields = Fields {
        format,
        out: String::with_capacity(160),
    };
    fields.pair("ts", &ts, false);
    fields.pair("level", level, false);
    fields.pair("target", record.target(), false);
    fields.pair("msg", message, false);
    let _ = record.key_values().visit(&mut fields);
    let mut out = fields.out;
    match format {
        LogFormat::Logfmt => out.push('\n'),
        LogFormat::Json => {
            out.insert(0, '{');
            out.push_str("}\n");
        }
    }
    out
}

struct Fields {
    format: LogFormat,
    out: String,
}

impl Fields {
    /// Appends `key` and `value`; `bare` values (numbers) are written
    /// without quotes.
    fn pair(&mut self, key: &str, value: &str, bare: bool) {
        let out = &mut self.out;
        match self.format {
            LogFormat::Logfmt => {
                if !out.is_empty() {
                    out.push(' ');
                }
                out.push_str(key);
                out.push('=');
                let plain = !value.is_empty()
                    && value
                        .chars()
                        .all(|c| c.is_ascii_graphic() && c != '"' && c != '=' && c != '\\');
                if plain {
                    out.push_str(value);
                } else {
                    push_quoted(out, value);
                }
            }
            LogFormat::Json => {
                if !out.is_empty() {
                    out.push(',');
                }
                push_quoted(out, key);
                out.push(':');
                if bare {
                    out.push_str(value);
                } else {
                    push_quoted(out, value);
                }
            }
        }
    }
}

/// `value` in double quotes, escaped as JSON escapes it (which logfmt
/// readers accept too): no line of the log is ever split by a value.
fn push_quoted(out: &mut String, value: &str) {
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

impl<'kvs> VisitSource<'kvs> for Fields {
    fn visit_pair(&mut self, key: Key<'kvs>, value: Value<'kvs>) -> Result<(), log::kv::Error> {
        let bare = value.to_u64().is_some() || value.to_i64().is_some() || value.to_f64().is_some();
        self.pair(key.as_str(), &value.to_string(), bare);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(format: LogFormat) -> String {
        let at = time::OffsetDateTime::UNIX_EPOCH;
        let kvs: [(&str, Value<'_>); 3] = [
            ("method", Value::from("GET")),
            ("status", Value::from(200_u16)),
            ("path", Value::from("/a b\"\n")),
        ];
        let record = Record::builder()
            .level(Level::Info)
            .target("access")
            .args(format_args!("request"))
            .key_values(&kvs)
            .build();
        format_line(format, &record, at)
    }

    #[test]
    fn logfmt_lines_quote_what_needs_it() {
        assert_eq!(
            line(LogFormat::Logfmt),
            "ts=1970-01-01T00:00:00Z level=info target=access msg=request method=GET \
             status=200 path=\"/a b\\\"\\n\"\n"
        );
    }

    #[test]
    fn json_lines_are_one_object_each() {
        let text = line(LogFormat::Json);
        assert!(text.ends_with("}\n") && text.matches('\n').count() == 1);
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["status"], 200);
        assert_eq!(value["path"], "/a b\"\n");
        assert_eq!(value["target"], "access");
    }
}
