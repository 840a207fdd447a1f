//! Every route through Rocket's local client, each test on its own fresh
//! SQLite file.

mod common;

mod account;
mod cookies;
mod home;
mod hostile_input;
mod login;
mod logout;
mod passkeys;
mod protected;
mod recovery;
mod register;
mod security;
mod self_service;
mod sessions;
mod throttle;
mod two_factor;
