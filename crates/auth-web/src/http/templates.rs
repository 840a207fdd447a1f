//! The page templates (`template_dir/<name>.html.j2`), compiled once at
//! start, and the responder a rendered page is.
//!
//! minijinja directly, not through rocket_dyn_templates: that crate copies
//! every page's context into figment's value tree and then again into
//! minijinja's, which cost a tenth of a page view (docs/PERFORMANCE.md).

use std::path::Path;

use minijinja::{AutoEscape, Environment, Value};
use rocket::http::Status;
use rocket::response::{self, content::RawHtml, Responder};
use rocket::Request;

use crate::http::error::describe;

/// The suffix of a page template's file; the name is what comes before it.
const SUFFIX: &str = ".html.j2";

/// Every page template, compiled. Templates are read once, when the
/// application is built: an edited template shows after a restart.
#[derive(Debug)]
pub struct PageTemplates {
    env: Environment<'static>,
}

impl PageTemplates {
    /// Reads and compiles every `*.html.j2` directly in `template_dir`;
    /// the error names the file that cannot be read or does not compile.
    /// Every page is HTML-escaped.
    pub fn load(template_dir: &Path) -> Result<Self, String> {
        let entries = std::fs::read_dir(template_dir)
            .map_err(|e| format!("template_dir {}: {e}", template_dir.display()))?;
        let mut env = Environment::new();
        env.set_auto_escape_callback(|_| AutoEscape::Html);
        for entry in entries {
            let path = entry
                .map_err(|e| format!("template_dir {}: {e}", template_dir.display()))?
                .path();
            // Not an editor's hidden lock or backup file (`.#login.html.j2`).
            let Some(name) = path
                .file_name()
                .and_then(|f| f.to_str())
                .filter(|f| !f.starts_with('.'))
                .and_then(|f| f.strip_suffix(SUFFIX))
            else {
                continue;
            };
            if !path.is_file() {
                continue;
            }
            let source = std::fs::read_to_string(&path)
                .map_err(|e| format!("page template {}: {e}", path.display()))?;
            env.add_template_owned(name.to_owned(), source)
                .map_err(|e| format!("page template {}: {e}", path.display()))?;
        }
        Ok(Self { env })
    }

    /// `name` rendered with `context`; a failure (a template that does not
    /// exist, or one that fails on this context) is logged and answers 500.
    pub fn render(&self, name: &str, context: Value) -> Html {
        let rendered = self
            .env
            .get_template(name)
            .and_then(|template| template.render(context));
        match rendered {
            Ok(body) => Html(Some(body)),
            Err(e) => {
                // Messages only: a minijinja error's `Debug` lists the
                // template's variables, the CSRF token among them.
                log::error!("Page template {name} failed: {}", describe(&e));
                Html::FAILED
            }
        }
    }
}

/// A rendered page, or the 500 of one that could not be.
#[derive(Debug)]
pub struct Html(Option<String>);

impl Html {
    /// A page that could not be made (its failure is logged).
    pub const FAILED: Self = Self(None);
}

impl<'r> Responder<'r, 'static> for Html {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        match self.0 {
            Some(body) => RawHtml(body).respond_to(req),
            None => Err(Status::InternalServerError),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_load_by_name_escape_html_and_a_missing_one_fails() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("base.html.j2"),
            "<p>{% block b %}{% endblock %}</p>",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("hello.html.j2"),
            r#"{% extends "base" %}{% block b %}Hi {{ who }}{% endblock %}"#,
        )
        .unwrap();
        std::fs::write(dir.path().join("notes.txt"), "{% not a template").unwrap();
        std::fs::write(dir.path().join(".#hello.html.j2"), "{% if %}").unwrap();
        let pages = PageTemplates::load(dir.path()).unwrap();
        let page = pages.render("hello", minijinja::context! { who => "<b>Ada</b>" });
        assert_eq!(
            page.0.as_deref(),
            Some("<p>Hi &lt;b&gt;Ada&lt;&#x2f;b&gt;</p>")
        );
        assert!(pages.render("missing", Value::UNDEFINED).0.is_none());
    }

    #[test]
    fn a_template_that_does_not_compile_is_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("broken.html.j2"), "{% if %}").unwrap();
        let error = PageTemplates::load(dir.path()).unwrap_err();
        assert!(error.contains("broken.html.j2"), "{error}");
    }
}
