//! Building the application: configuration read and checked, the secret
//! key ensured, and every fairing, route and catcher put together.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use auth_core::{AuthService, Clock, SystemClock};
use auth_store::Store;
use rocket::figment::value::magic::RelativePathBuf;
use rocket::figment::Figment;
use rocket::fs::FileServer;
use rocket::{Build, Rocket};
use rocket_db_pools::Database;
use thiserror::Error;

use crate::guards::cookie_policy::CookiePolicy;
use crate::guards::{EmailRule, TrustedProxies};
use crate::http::access_log::AccessLog;
use crate::http::assets::AssetVersion;
use crate::http::catchers;
use crate::http::security_headers::{self, SecurityHeaders};
use crate::http::templates::PageTemplates;
use crate::mail::{self, MailTemplates};
use crate::routes;
use crate::routes::protected::ProtectedFiles;
use crate::setup::config::{self, AppConfig, InvalidSetting};
use crate::setup::db::AuthDb;
use crate::setup::secret_key::{self, SecretKeyError};
use crate::setup::startup;
use crate::webauthn::{self, Passkeys};

/// The auth service as this application runs it.
pub type Auth = AuthService<Store>;

/// Why the application cannot start. The messages say what to fix.
#[derive(Debug, Error)]
pub enum StartupError {
    /// A setting could not be read (boxed: figment's error is large).
    #[error("configuration: {0}")]
    Config(Box<rocket::figment::Error>),
    /// A setting has an unusable value.
    #[error("configuration: {0}")]
    Invalid(#[from] InvalidSetting),
    /// The secret key could not be loaded or created.
    #[error(transparent)]
    SecretKey(#[from] SecretKeyError),
    /// A mail template is missing or does not compile.
    #[error("{0}")]
    MailTemplates(String),
    /// A page template cannot be read or does not compile.
    #[error("{0}")]
    PageTemplates(String),
}

impl From<rocket::figment::Error> for StartupError {
    fn from(error: rocket::figment::Error) -> Self {
        Self::Config(Box::new(error))
    }
}

/// The application, configured from [`config::figment`], on the system clock.
pub fn rocket() -> Result<Rocket<Build>, StartupError> {
    build(config::figment(), Arc::new(SystemClock))
}

/// The application with the given configuration and clock (tests move the
/// clock instead of sleeping).
pub fn build(figment: Figment, clock: Arc<dyn Clock>) -> Result<Rocket<Build>, StartupError> {
    // Rocket's own settings (port, address, limits...) are read when it
    // ignites, after the database is opened; read them first, so that a
    // bad one stops the start with its key, value and source.
    figment.extract::<rocket::Config>()?;
    let config: AppConfig = figment.extract()?;
    let located = |e: InvalidSetting| e.located(&figment);
    let service = config.service().map_err(located)?;
    let proxies = TrustedProxies::parse(&config.trusted_proxies).map_err(located)?;
    let static_dir = existing_dir("static_dir", config.static_dir.relative()).map_err(located)?;
    let files_dir = existing_dir("files_dir", config.files_dir.relative()).map_err(located)?;
    if files_dir.starts_with(&static_dir) {
        let problem = format!(
            "is inside static_dir ({}): protected files would be public",
            static_dir.display()
        );
        return Err(located(InvalidSetting::new(
            "files_dir",
            files_dir.display(),
            problem,
        ))
        .into());
    }
    let assets = AssetVersion::of_dir(&static_dir).map_err(|e| {
        located(InvalidSetting::new(
            "static_dir",
            static_dir.display(),
            e.to_string(),
        ))
    })?;
    let database_url: String = figment.extract_inner("databases.auth.url")?;
    let mail = config.mail_settings(&database_url).map_err(located)?;
    let template_dir: RelativePathBuf = figment
        .extract_inner("template_dir")
        .unwrap_or_else(|_| PathBuf::from("templates").into());
    let mail_templates =
        MailTemplates::load(&template_dir.relative()).map_err(StartupError::MailTemplates)?;
    let page_templates =
        PageTemplates::load(&template_dir.relative()).map_err(StartupError::PageTemplates)?;
    let (figment, key_source) = secret_key::ensure(figment, &config, &database_url)?;

    let rocket = rocket::custom(figment);
    key_source.log();
    let cookies = CookiePolicy::new(config.secure_cookies);
    let passkeys = Passkeys::default();
    let rocket = match config.access_log {
        true => rocket.attach(AccessLog),
        false => rocket,
    };
    Ok(rocket
        .attach(startup::announce())
        .attach(security_headers::shield(config.secure_cookies))
        .attach(SecurityHeaders)
        .attach(AuthDb::init())
        .attach(startup::auth_service(service, clock))
        .attach(startup::purge())
        .attach(webauthn::fairing(
            passkeys.clone(),
            config.public_url.clone(),
        ))
        .attach(mail::worker::fairing(mail, Arc::new(mail_templates)))
        .manage(passkeys)
        .manage(page_templates)
        .manage(cookies)
        .manage(proxies)
        .manage(assets)
        .manage(ProtectedFiles(files_dir))
        .manage(EmailRule {
            require_confirmed: config.require_confirmed_email,
        })
        .mount("/", routes::all())
        .mount("/static", FileServer::from(static_dir))
        .register("/", catchers::all()))
}

fn existing_dir(setting: &'static str, path: PathBuf) -> Result<PathBuf, InvalidSetting> {
    Path::new(&path).canonicalize().map_err(|e| {
        InvalidSetting::new(
            setting,
            path.display(),
            format!("{e} (run from the repository root, or set {setting})"),
        )
    })
}
