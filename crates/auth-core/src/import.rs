//! Moving accounts over from another system with their password hashes, so
//! that their owners log in with the passwords they already have.

use std::collections::HashSet;
use std::fmt;

use crate::{
    Actor, AuthError, AuthService, AuthStore, DisplayName, Email, EmailError, EventKind, NameError,
    NewUser, PasswordHash, StoreError, User,
};

/// One account as the other system stored it; any field may be missing
/// (a nullable column).
#[derive(Clone, Copy)]
pub struct ImportedAccount<'a> {
    /// The email, as stored there (normalised on import).
    pub email: Option<&'a str>,
    /// The display name.
    pub name: Option<&'a str>,
    /// The password hash, in a format the service's hasher verifies (see
    /// [`PasswordHasher::can_verify`](crate::PasswordHasher::can_verify)).
    pub password_hash: Option<&'a str>,
}

/// Shows the email and name, never the hash.
impl fmt::Debug for ImportedAccount<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ImportedAccount")
            .field("email", &self.email)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// Why an account was not imported. The `Display` text is a short reason
/// for a report ("invalid email: ...").
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ImportSkip {
    /// The email does not pass [`Email::parse`] (or is missing).
    InvalidEmail(EmailError),
    /// The name does not pass [`DisplayName::parse`] (or is missing).
    InvalidName(NameError),
    /// The hash is missing, or of a format or with parameters the hasher
    /// cannot verify: nobody could ever log in with it.
    UnsupportedHash,
    /// An earlier account of the same import has the same normalised email.
    DuplicateInSource,
    /// An account with this email already exists here (imported before, or
    /// registered).
    AlreadyRegistered,
}

impl ImportSkip {
    /// A stable, short name for the reason (`"invalid_email"`...), for
    /// counting and machine-readable reports.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidEmail(_) => "invalid_email",
            Self::InvalidName(_) => "invalid_name",
            Self::UnsupportedHash => "unsupported_hash",
            Self::DuplicateInSource => "duplicate_email",
            Self::AlreadyRegistered => "already_registered",
        }
    }
}

impl fmt::Display for ImportSkip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidEmail(e) => write!(f, "invalid email: {e}"),
            Self::InvalidName(e) => write!(f, "invalid name: {e}"),
            Self::UnsupportedHash => f.write_str("password hash of an unsupported format"),
            Self::DuplicateInSource => {
                f.write_str("same email (ignoring case and spaces) as an earlier account")
            }
            Self::AlreadyRegistered => f.write_str("email already registered here"),
        }
    }
}

/// What became of one account.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ImportOutcome {
    /// Created, with its hash kept as it was.
    Imported(User),
    /// Would be created (a dry run writes nothing).
    WouldImport(Email),
    /// Left out, for this reason.
    Skipped(ImportSkip),
}

/// An import in progress: hand it each account in the other system's
/// order; the first of several accounts with the same normalised email
/// wins. Each account is its own transaction, so an import stopped halfway
/// can be run again: accounts already there are reported as
/// [`ImportSkip::AlreadyRegistered`] and nothing is created twice.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use auth_core::memory::MemoryStore;
/// use auth_core::{Actor, AuthService, BcryptHasher, ImportOutcome, ImportSkip, ImportedAccount};
///
/// let auth = AuthService::builder(MemoryStore::new())
///     .hasher(BcryptHasher::new(4)?)
///     .build()?;
/// let mut import = auth.import(Actor::Operator("root".into()), false);
/// let werkzeug = "pbkdf2:sha256:1000000$zJKeT4v6$8d9a3b98cda1a49b0c55dec7f67b6ba26e489b7e6978dd41d21ca571008f2616";
/// let ada = ImportedAccount { email: Some("Ada@Example.com"), name: Some("Ada"), password_hash: Some(werkzeug) };
/// assert!(matches!(import.add(ada).await?, ImportOutcome::Imported(_)));
/// assert_eq!(import.add(ada).await?, ImportOutcome::Skipped(ImportSkip::DuplicateInSource));
///
/// // Its owner logs in with the old password; the hash is replaced by the
/// // service's own on the way.
/// auth.login("ada@example.com", "correct horse battery staple").await?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
pub struct Import<'a, S> {
    auth: &'a AuthService<S>,
    actor: Actor,
    dry_run: bool,
    seen: HashSet<Email>,
}

impl<S: AuthStore> AuthService<S> {
    /// Starts an import by `actor`. With `dry_run`, every check runs
    /// (against the accounts already here too) but nothing is written.
    pub fn import(&self, actor: Actor, dry_run: bool) -> Import<'_, S> {
        Import {
            auth: self,
            actor,
            dry_run,
            seen: HashSet::new(),
        }
    }
}

impl<S: AuthStore> Import<'_, S> {
    /// Checks one account and, unless this is a dry run, creates it with its
    /// hash as it is, recording an [`EventKind::Imported`] event. An account
    /// that cannot be imported is an [`ImportOutcome::Skipped`], never an
    /// error: errors are the store's (the database is down).
    pub async fn add(&mut self, account: ImportedAccount<'_>) -> Result<ImportOutcome, AuthError> {
        let email = match Email::parse(account.email.unwrap_or_default()) {
            Ok(email) => email,
            Err(e) => return Ok(ImportOutcome::Skipped(ImportSkip::InvalidEmail(e))),
        };
        let name = match DisplayName::parse(account.name.unwrap_or_default()) {
            Ok(name) => name,
            Err(e) => return Ok(ImportOutcome::Skipped(ImportSkip::InvalidName(e))),
        };
        let password_hash = PasswordHash::new(account.password_hash.unwrap_or_default().into());
        if !self.auth.can_verify(&password_hash) {
            return Ok(ImportOutcome::Skipped(ImportSkip::UnsupportedHash));
        }
        if !self.seen.insert(email.clone()) {
            return Ok(ImportOutcome::Skipped(ImportSkip::DuplicateInSource));
        }
        let store = self.auth.store();
        if self.dry_run {
            return Ok(match store.find_credentials(&email).await? {
                Some(_) => ImportOutcome::Skipped(ImportSkip::AlreadyRegistered),
                None => ImportOutcome::WouldImport(email),
            });
        }
        let created = store
            .create_user(NewUser {
                email,
                name,
                password_hash,
                created_at: self.auth.now(),
            })
            .await;
        match created {
            Ok(user) => {
                self.auth
                    .record_by(user.id, EventKind::Imported, self.actor.clone())
                    .await?;
                Ok(ImportOutcome::Imported(user))
            }
            Err(StoreError::EmailTaken) => {
                Ok(ImportOutcome::Skipped(ImportSkip::AlreadyRegistered))
            }
            Err(e) => Err(e.into()),
        }
    }
}
