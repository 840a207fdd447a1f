//! Start-up: the configuration, the secret key, the database pool, the
//! fairings that finish the work once the database is open, and the
//! building of the whole application from them.

pub mod app;
pub mod config;
pub mod db;
pub mod logging;
pub mod secret_key;
pub mod site;
pub mod startup;

pub use app::{build, rocket, Auth, StartupError};
