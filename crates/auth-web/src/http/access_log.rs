//! One line per request: what an operator and a log shipper need, and
//! nothing a log should not hold.

use std::time::Instant;

use rocket::fairing::{Fairing, Info, Kind};
use rocket::{Data, Request, Response};

/// Logs each request once it is answered, at `info` under the target
/// `access`, with the fields `method`, `path` (never the query string),
/// `status`, `duration_ms` and `bytes` (the body's size, when known before
/// sending). No header is logged: no cookie, no token, no address book.
///
/// A path with a value in it (a route with a `<parameter>`, other than a
/// static file's name) is logged as the route's pattern
/// (`/errors/<code>`), so that whatever a visitor put in a path segment is
/// not copied into the log; in the path of a page that does not exist, a
/// segment with an `@` (an address, most likely) is logged as `<redacted>`.
pub struct AccessLog;

/// When the request arrived.
struct Started(Instant);

/// The longest path logged, in bytes; longer ones are cut.
const MAX_PATH: usize = 256;

#[rocket::async_trait]
impl Fairing for AccessLog {
    fn info(&self) -> Info {
        Info {
            name: "Access log",
            kind: Kind::Request | Kind::Response,
        }
    }

    async fn on_request(&self, req: &mut Request<'_>, _: &mut Data<'_>) {
        req.local_cache(|| Started(Instant::now()));
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, res: &mut Response<'r>) {
        let started = req.local_cache(|| Started(Instant::now())).0;
        let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
        let duration_ms = (duration_ms * 1000.0).round() / 1000.0;
        let path = logged_path(req);
        // A file's size is known by seeking, which Rocket caches for
        // sending it; a streamed body's is not known: logged as 0.
        let bytes = res.body_mut().size().await.unwrap_or(0) as u64;
        log::info!(
            target: "access",
            method = req.method().as_str(),
            path = path.as_str(),
            status = res.status().code,
            duration_ms = duration_ms,
            bytes = bytes;
            "request"
        );
    }
}

fn logged_path(req: &Request<'_>) -> String {
    if let Some(route) = req.route() {
        let pattern = route.uri.path();
        if pattern.contains('<') && !pattern.starts_with("/static") {
            return pattern.to_string();
        }
    }
    let mut path = String::with_capacity(req.uri().path().len().min(MAX_PATH));
    for segment in req.uri().path().as_str().split('/').skip(1) {
        if path.len() + segment.len() >= MAX_PATH {
            path.push_str("/…");
            break;
        }
        path.push('/');
        path.push_str(if segment.contains('@') || segment.contains("%40") {
            "<redacted>"
        } else {
            segment
        });
    }
    if path.is_empty() {
        path.push('/');
    }
    path
}
