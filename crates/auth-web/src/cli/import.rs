//! `auth-web import-flask`: the original Flask app's users, moved over.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use auth_core::ImportOutcome;

use crate::cli::context::Context;
use crate::cli::CliError;

/// Imports (or, with `dry_run`, checks) every row of the Flask app's `user`
/// table, printing each row left out with its reason, then a summary.
pub async fn flask(
    context: &Context,
    path: &Path,
    dry_run: bool,
    out: &mut impl Write,
) -> Result<(), CliError> {
    let rows = auth_store::flask::read_users(path).await?;
    let mut import = context.auth.import(context.actor.clone(), dry_run);
    let mut imported = 0;
    let mut skipped: BTreeMap<&'static str, usize> = BTreeMap::new();
    for row in &rows {
        match import.add(row.account()).await? {
            ImportOutcome::Imported(_) | ImportOutcome::WouldImport(_) => imported += 1,
            ImportOutcome::Skipped(reason) => {
                *skipped.entry(reason.code()).or_default() += 1;
                let email = row
                    .email
                    .as_deref()
                    .map_or("no email".into(), |e| format!("{e:?}"));
                writeln!(out, "skipped row {} ({email}): {reason}", row.id)?;
            }
            _ => unreachable!("an import has no other outcome"),
        }
    }
    let total_skipped: usize = skipped.values().sum();
    let reasons: Vec<String> = skipped
        .iter()
        .map(|(code, n)| format!("{n} {code}"))
        .collect();
    let verb = if dry_run { "would import" } else { "imported" };
    let why = if reasons.is_empty() {
        String::new()
    } else {
        format!(" ({})", reasons.join(", "))
    };
    writeln!(
        out,
        "{} rows read from {}: {verb} {imported}, skipped {total_skipped}{why}.",
        rows.len(),
        path.display()
    )?;
    Ok(())
}
