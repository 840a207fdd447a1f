//! What the workspace's test harnesses share (the route tests on Rocket's
//! local client, the end-to-end tests on a real socket, the binary's tests):
//! the configuration of an app under test, reading a form's CSRF token,
//! encoding a form body, a random secret key, finding a mail and its link,
//! and a software passkey ([`SoftPasskey`]). Dev-only; never published.

use std::path::{Path, PathBuf};

mod authenticator;
pub use authenticator::SoftPasskey;

use rocket::figment::Figment;

/// The repository's root, where `templates/`, `static/` and `files/` are.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The configuration of an app under test: its data in `database_url`, its
/// generated key in `dir`, the cheapest bcrypt cost, no log, and the
/// repository's templates and files wherever the test runs from.
pub fn figment(dir: &Path, database_url: &str) -> Figment {
    let root = workspace();
    auth_web::config::figment()
        .merge(("databases.auth.url", database_url))
        .merge(("secret_key_file", dir.join("secret_key")))
        // The test's own outbox, whatever the database (beside a SQLite
        // file it would be anyway; for PostgreSQL it would be data/).
        .merge(("mail_outbox", dir.join("outbox")))
        .merge(("bcrypt_cost", 4))
        .merge(("log_level", "off"))
        .merge(("template_dir", root.join("templates")))
        .merge(("static_dir", root.join("static")))
        .merge(("files_dir", root.join("files")))
}

/// The value of a form's hidden CSRF field in `html`.
pub fn csrf(html: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html.find(marker).expect("page has a CSRF field") + marker.len();
    let end = start + html[start..].find('"').expect("the field's value ends");
    html[start..end].to_owned()
}

/// `application/x-www-form-urlencoded` encoding of `fields`.
pub fn form_body(fields: &[(&str, &str)]) -> String {
    fn encode(s: &str) -> String {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    (b as char).to_string()
                }
                b' ' => "+".into(),
                _ => format!("%{b:02X}"),
            })
            .collect()
    }
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// A fresh secret key for instances that must share one: 32 random bytes
/// in hex, one of the forms Rocket reads.
pub fn random_key() -> String {
    use std::io::Read;
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .expect("random bytes from /dev/urandom");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The `.eml` files the app wrote to the outbox `dir`, as text, oldest
/// first (as far as the file system's clock tells: pick mail by what it
/// is, with [`with_subject`]); none if the outbox does not exist yet.
pub fn outbox_mail(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<_> = entries
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .collect();
    files.sort();
    files
        .into_iter()
        .filter_map(|(_, path)| std::fs::read_to_string(path).ok())
        .collect()
}

/// The mail among `mail` whose subject is `subject` (mail arrives in no
/// order a test can rely on, so tests pick it by what it is).
pub fn with_subject<'m>(mail: &'m [String], subject: &str) -> Vec<&'m String> {
    let header = format!("Subject: {subject}");
    mail.iter().filter(|m| m.contains(&header)).collect()
}

/// The path of the first link in the raw message `mail` that starts with
/// `prefix` (`/password/reset/`), with quoted-printable soft line breaks
/// and `=3D` undone, whichever line endings the message was stored with.
pub fn link_in(mail: &str, prefix: &str) -> String {
    let text = mail
        .replace("\r\n", "\n")
        .replace("=\n", "")
        .replace("=3D", "=");
    let start = text
        .find(prefix)
        .unwrap_or_else(|| panic!("no {prefix} link in {text}"));
    text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || "/-_".contains(*c))
        .collect()
}
