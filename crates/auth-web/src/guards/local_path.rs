//! Where to send a browser after login: only ever a page of this site.

use rocket::http::uri::Origin;

/// A path on this site (`/secrets`, `/download?x=1`), never another site.
///
/// Refused: anything not starting with one `/` (`//evil.example` and
/// `/\evil.example` are read by browsers as another host), absolute URLs,
/// whitespace and control characters, and anything Rocket cannot parse as a
/// path and query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalPath(String);

impl LocalPath {
    const MAX_LEN: usize = 2048;

    /// Validates a `next` value.
    pub fn parse(raw: &str) -> Option<Self> {
        let local = raw.len() <= Self::MAX_LEN
            && raw.starts_with('/')
            && !raw.starts_with("//")
            && !raw.contains('\\')
            && !raw.chars().any(|c| c.is_control() || c.is_whitespace())
            && Origin::parse(raw).is_ok();
        local.then(|| Self(raw.to_owned()))
    }

    /// The path.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::LocalPath;

    #[test]
    fn keeps_local_paths() {
        for ok in ["/", "/secrets", "/download?x=1&y=%2F", "/a/b/../c"] {
            assert_eq!(LocalPath::parse(ok).unwrap().as_str(), ok);
        }
    }

    #[test]
    fn refuses_anything_that_could_leave_the_site() {
        for bad in [
            "",
            "secrets",
            "//evil.example",
            "///evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "https://evil.example/",
            "http:evil.example",
            "javascript:alert(1)",
            "/\t/evil.example",
            "/ /evil.example",
            "/\n",
        ] {
            assert!(LocalPath::parse(bad).is_none(), "{bad:?}");
        }
        assert!(LocalPath::parse(&format!("/{}", "a".repeat(3000))).is_none());
    }
}
