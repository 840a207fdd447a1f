//! Pages and files for logged-in users only. Each route takes a
//! [`Member`]; without a session the request ends at the 401 catcher,
//! which redirects to the login page (or, when the site requires a
//! confirmed address and the account's is not, to the account page).

use std::path::PathBuf;

use crate::http::templates::Html;
use minijinja::context;
use rocket::fs::NamedFile;
use rocket::http::Header;
use rocket::{get, routes, Responder, Route, State};

use crate::guards::Member;
use crate::http::error::AppError;
use crate::http::page::Page;

pub(crate) fn routes() -> Vec<Route> {
    routes![secrets, download]
}

/// The directory of files served only through [`download`]. It is not
/// under the static directory, so there is no public way to them.
#[derive(Debug, Clone)]
pub struct ProtectedFiles(pub PathBuf);

/// The protected file's name, on disk and for the browser.
pub const CHEAT_SHEET: &str = "cheat_sheet.pdf";

/// The members' page. With `download=true` (where a login that began at
/// `/download` lands) it also starts the download, by a meta refresh to it:
/// the browser saves the file and stays on this page, instead of staying on
/// the login form it came from.
#[get("/secrets?<download>")]
pub fn secrets(user: Member, page: Page<'_>, download: Option<bool>) -> Html {
    page.render_without_forms(
        "secrets",
        context! {
            name => user.0.user().name.as_str(),
            start_download => download.unwrap_or(false),
        },
    )
}

/// A PDF sent as an attachment, so the browser saves it under its name.
#[derive(Responder)]
#[response(content_type = "application/pdf")]
pub struct Attachment {
    file: NamedFile,
    disposition: Header<'static>,
}

#[get("/download")]
pub async fn download(
    _user: Member,
    files: &State<ProtectedFiles>,
) -> Result<Attachment, AppError> {
    let path = files.0.join(CHEAT_SHEET);
    match NamedFile::open(&path).await {
        Ok(file) => Ok(Attachment {
            file,
            disposition: Header::new(
                "Content-Disposition",
                format!("attachment; filename=\"{CHEAT_SHEET}\""),
            ),
        }),
        Err(e) => {
            log::error!("Cannot open the protected file {}: {e}", path.display());
            Err(AppError::Internal)
        }
    }
}
