//! Building the application: configuration read and checked, the secret
//! key ensured, and every fairing, route and catcher put together.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use auth_core::{AuthService, BcryptHasher, Clock, SystemClock};
use auth_store::Store;
use rocket::figment::Figment;
use rocket::fs::FileServer;
use rocket::{Build, Rocket};
use rocket_db_pools::Database;
use rocket_dyn_templates::Template;
use thiserror::Error;

use crate::guards::cookie_policy::CookiePolicy;
use crate::guards::session_cookie::SessionCookie;
use crate::guards::TrustedProxies;
use crate::http::assets::AssetVersion;
use crate::http::catchers;
use crate::http::security_headers::{self, SecurityHeaders};
use crate::routes;
use crate::routes::protected::ProtectedFiles;
use crate::setup::config::{self, AppConfig};
use crate::setup::db::AuthDb;
use crate::setup::secret_key::{self, SecretKeyError};
use crate::setup::startup;

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
    Invalid(String),
    /// The secret key could not be loaded or created.
    #[error(transparent)]
    SecretKey(#[from] SecretKeyError),
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
    let config: AppConfig = figment.extract()?;
    let passwords = config.password_policy().map_err(StartupError::Invalid)?;
    let sessions = config.session_policy().map_err(StartupError::Invalid)?;
    let throttle = config
        .login_throttle
        .policy(&config.registration_throttle)
        .map_err(StartupError::Invalid)?;
    let proxies = TrustedProxies::parse(&config.trusted_proxies).map_err(StartupError::Invalid)?;
    let hasher = BcryptHasher::new(config.bcrypt_cost)
        .map_err(|e| StartupError::Invalid(format!("bcrypt_cost: {e}")))?;
    let database_url: String = figment.extract_inner("databases.auth.url")?;
    let (figment, key_source) = secret_key::ensure(figment, &config, &database_url)?;
    let static_dir = existing_dir("static_dir", config.static_dir.relative())?;
    let files_dir = existing_dir("files_dir", config.files_dir.relative())?;
    if files_dir.starts_with(&static_dir) {
        return Err(StartupError::Invalid(format!(
            "files_dir ({}) is inside static_dir ({}): protected files would be public",
            files_dir.display(),
            static_dir.display()
        )));
    }

    let assets = AssetVersion::of_dir(&static_dir)
        .map_err(|e| StartupError::Invalid(format!("static_dir {}: {e}", static_dir.display())))?;

    let rocket = rocket::custom(figment);
    key_source.log();
    Ok(rocket
        .attach(security_headers::shield(config.secure_cookies))
        .attach(SecurityHeaders)
        .attach(Template::fairing())
        .attach(AuthDb::init())
        .attach(startup::auth_service(startup::ServiceSettings {
            hasher,
            passwords,
            sessions,
            throttle,
            hash_concurrency: config.hash_concurrency,
            clock,
        }))
        .attach(startup::purge())
        .manage(CookiePolicy::new(config.secure_cookies))
        .manage(SessionCookie::new(CookiePolicy::new(config.secure_cookies)))
        .manage(proxies)
        .manage(assets)
        .manage(ProtectedFiles(files_dir))
        .mount("/", routes::all())
        .mount("/static", FileServer::from(static_dir))
        .register("/", catchers::all()))
}

fn existing_dir(setting: &str, path: PathBuf) -> Result<PathBuf, StartupError> {
    Path::new(&path).canonicalize().map_err(|e| {
        StartupError::Invalid(format!(
            "{setting} {}: {e} (run from the repository root, or set {setting})",
            path.display()
        ))
    })
}
