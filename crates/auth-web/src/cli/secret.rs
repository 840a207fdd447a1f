//! Reading a new password: from the terminal without echo, asked twice, or
//! from the first line of standard input when it is not a terminal (a
//! script, a pipe).

use std::io::{BufRead, IsTerminal};

use zeroize::Zeroizing;

use crate::cli::CliError;

/// The new password, as typed.
pub fn new_password() -> Result<Zeroizing<String>, CliError> {
    if !std::io::stdin().is_terminal() {
        let mut line = Zeroizing::new(String::new());
        std::io::stdin().lock().read_line(&mut line)?;
        let typed = line.trim_end_matches(['\n', '\r']);
        return Ok(Zeroizing::new(typed.to_owned()));
    }
    let first = Zeroizing::new(rpassword::prompt_password("New password: ")?);
    let second = Zeroizing::new(rpassword::prompt_password("Repeat it: ")?);
    if first != second {
        return Err(CliError::Refused(
            "the two passwords differ; nothing was changed".into(),
        ));
    }
    Ok(first)
}

/// Whether the person at the terminal confirms by typing `expected`; an
/// error if standard input is not a terminal.
pub fn confirm(question: &str, expected: &str) -> Result<bool, CliError> {
    if !std::io::stdin().is_terminal() {
        return Err(CliError::Refused(
            "standard input is not a terminal: pass --yes to confirm".into(),
        ));
    }
    eprint!("{question} Type the email to confirm: ");
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(answer.trim().eq_ignore_ascii_case(expected))
}
