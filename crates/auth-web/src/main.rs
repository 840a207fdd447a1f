//! `auth-web`: serves the application with the configuration from
//! `Rocket.toml`, `ROCKET_*` variables and `DATABASE_URL`.

use std::process::ExitCode;

#[rocket::main]
async fn main() -> ExitCode {
    let rocket = match auth_web::rocket() {
        Ok(rocket) => rocket,
        Err(e) => {
            eprintln!("auth-web cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rocket.launch().await {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("auth-web stopped: {e}");
            ExitCode::FAILURE
        }
    }
}
