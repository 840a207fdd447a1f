//! The key that encrypts and signs private cookies, and from which the key
//! sealing authenticator-app secrets is derived: configured, or generated
//! once and kept in a file so that sessions survive a restart.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use rocket::figment::Figment;
use thiserror::Error;

use crate::setup::config::{AppConfig, DataDir, DEFAULT_SECRET_KEY_FILE};

/// The key that seals authenticator-app secrets in the database, derived
/// from the secret key as it is written (in `figment`, after [`ensure`]);
/// `None` if there is none. The same text always gives the same key: the
/// same key written another way (hex instead of base64) does not.
pub fn totp_key(figment: &Figment) -> Option<auth_core::TotpKey> {
    let written = figment.extract_inner::<String>("secret_key").ok()?;
    Some(auth_core::TotpKey::derive(
        written.as_bytes(),
        "auth-web: authenticator-app secrets",
    ))
}

/// Why the secret key could not be loaded or created.
#[derive(Debug, Error)]
pub enum SecretKeyError {
    /// The file could not be read or written.
    #[error("secret key file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The file does not hold a base64 key of 32 or 64 bytes.
    #[error(
        "secret key file {0} does not hold a base64-encoded 32- or 64-byte key; \
         fix it, or delete it to generate a new one (which logs everyone out)"
    )]
    Malformed(PathBuf),
    /// The operating system's random number generator failed.
    #[error("cannot generate a secret key: {0}")]
    Random(auth_core::RandomError),
}

/// Where the secret key came from, to be logged once Rocket's logger runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// `secret_key` in the configuration.
    Configured,
    /// A key file, just created or read back.
    File {
        /// The file.
        path: PathBuf,
        /// Whether this start created it.
        created: bool,
        /// Whether users other than the owner may read it.
        exposed: bool,
    },
    /// A key for this run only (in-memory database).
    Ephemeral,
}

impl KeySource {
    /// Logs where the key is (never the key).
    pub fn log(&self) {
        match self {
            Self::Configured => log::info!("Using the configured secret key"),
            Self::File { path, exposed: true, .. } => log::warn!(
                "The secret key file {} is readable by other users; run: chmod 600 {}",
                path.display(),
                path.display()
            ),
            Self::File { path, created: false, .. } => {
                log::info!("Using the secret key in {}", path.display());
            }
            Self::File { path, created: true, .. } => log::warn!(
                "No secret_key configured: generated one into {} (mode 0600). Keep it to keep \
                 sessions valid across restarts; instances sharing a database must share one \
                 key (set ROCKET_SECRET_KEY).",
                path.display()
            ),
            Self::Ephemeral => log::warn!(
                "No secret_key configured and the database is in memory: using a key for this run only"
            ),
        }
    }
}

/// Adds a `secret_key` to `figment` unless one is configured: read from the
/// key file, or generated into it on the first start. An in-memory database
/// gets a key for this run only, since its sessions die with the process.
pub fn ensure(
    figment: Figment,
    config: &AppConfig,
    database_url: &str,
) -> Result<(Figment, KeySource), SecretKeyError> {
    // Rocket's defaults contain an all-zero placeholder key, so "is there a
    // secret_key value" is always yes; the extracted key tells the truth.
    let configured = figment
        .extract::<rocket::Config>()
        .is_ok_and(|rocket| !rocket.secret_key.is_zero());
    if configured {
        return Ok((figment, KeySource::Configured));
    }
    // Beside an SQLite file; for a database elsewhere (or a URL the store
    // will refuse at connection), in `data/`.
    let path = match (&config.secret_key_file, DataDir::of(database_url)) {
        (Some(configured), _) => configured.relative(),
        (None, DataDir::InMemory) => {
            let key = generate()?;
            return Ok((figment.merge(("secret_key", key)), KeySource::Ephemeral));
        }
        (None, DataDir::BesideDatabase(dir)) => dir.join("secret_key"),
        (None, DataDir::Default) => PathBuf::from(DEFAULT_SECRET_KEY_FILE),
    };
    let (key, created) = load_or_create(&path)?;
    let exposed = readable_by_others(&path);
    Ok((
        figment.merge(("secret_key", key)),
        KeySource::File {
            path,
            created,
            exposed,
        },
    ))
}

fn generate() -> Result<String, SecretKeyError> {
    let mut bytes = [0u8; 64];
    auth_core::RandomError::fill(&mut bytes).map_err(SecretKeyError::Random)?;
    Ok(STANDARD.encode(bytes))
}

/// The key in `path`, creating the file if there is none; `true` if this
/// call created it.
fn load_or_create(path: &Path) -> Result<(String, bool), SecretKeyError> {
    let io = |source| SecretKeyError::Io {
        path: path.to_owned(),
        source,
    };
    let created = match fs::read_to_string(path) {
        Ok(_) => false,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                auth_store::create_private_dir(dir).map_err(io)?;
            }
            // Another process may win the race to create it; then its key
            // is the one read back below.
            write_new(path, &generate()?).map_err(io)?;
            true
        }
        Err(e) => return Err(io(e)),
    };
    let text = fs::read_to_string(path).map_err(io)?;
    let key = text.trim().to_owned();
    let valid = STANDARD
        .decode(&key)
        .is_ok_and(|bytes| bytes.len() == 32 || bytes.len() == 64);
    if valid {
        Ok((key, created))
    } else {
        Err(SecretKeyError::Malformed(path.to_owned()))
    }
}

/// Writes the key to a private temporary file, then links it into place:
/// the key file appears whole or not at all, and if another instance created
/// it first, theirs is kept.
fn write_new(path: &Path, key: &str) -> std::io::Result<()> {
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let result = options.open(&tmp).and_then(|mut file| {
        file.write_all(key.as_bytes())?;
        file.write_all(b"\n")?;
        file.sync_all()
    });
    let result = result.and_then(|()| match fs::hard_link(&tmp, path) {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        other => other,
    });
    let _ = fs::remove_file(&tmp);
    result
}

#[cfg(unix)]
fn readable_by_others(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).is_ok_and(|meta| meta.permissions().mode() & 0o077 != 0)
}

#[cfg(not(unix))]
fn readable_by_others(_: &Path) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generates_once_with_private_permissions_then_reuses() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/secret_key");
        let (first, created) = load_or_create(&path).unwrap();
        let (second, created_again) = load_or_create(&path).unwrap();
        assert!(created && !created_again);
        assert_eq!(first, second);
        assert_eq!(STANDARD.decode(&first).unwrap().len(), 64);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let leftovers: Vec<_> = fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers, vec!["secret_key"]);
    }

    #[test]
    fn a_malformed_file_is_an_error_not_a_new_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret_key");
        fs::write(&path, "not base64 at all!").unwrap();
        assert!(matches!(
            load_or_create(&path),
            Err(SecretKeyError::Malformed(_))
        ));
    }

    #[test]
    fn the_key_file_lives_beside_the_sqlite_database() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/db/auth.db?mode=rwc", dir.path().display());
        let defaults = Figment::from(rocket::Config::default());
        let (figment, source) = ensure(defaults.clone(), &AppConfig::default(), &url).unwrap();
        assert_eq!(
            source,
            KeySource::File {
                path: dir.path().join("db/secret_key"),
                created: true,
                exposed: false,
            }
        );
        let key = figment.extract::<rocket::Config>().unwrap().secret_key;
        assert!(!key.is_zero());
        let (_, source) = ensure(defaults, &AppConfig::default(), "sqlite::memory:").unwrap();
        assert_eq!(source, KeySource::Ephemeral);
        let (_, source) = ensure(figment, &AppConfig::default(), &url).unwrap();
        assert_eq!(source, KeySource::Configured);
    }
}
