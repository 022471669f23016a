//! `leakhound rules list|check`: what is detected, and a user's own rules
//! checked against their examples.

use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};

use crate::config::{Config, gitleaks};
use crate::engine::selftest;

use crate::cli::args::{ListFormat, RulesCommand};
use crate::cli::output::exit;
use crate::cli::settings::load_rules;

pub fn run(command: RulesCommand) -> Result<u8> {
    match command {
        RulesCommand::List { format } => list(format),
        RulesCommand::Check { file } => check(&file),
        RulesCommand::ImportGitleaks { file, output } => import_gitleaks(&file, output.as_deref()),
    }
}

fn import_gitleaks(file: &Path, output: Option<&Path>) -> Result<u8> {
    let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let translated = gitleaks::translate(&text).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    match output {
        Some(path) => {
            std::fs::write(path, &translated).with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!("leakhound: wrote {} (check it with `leakhound rules check {0}`)", path.display());
        }
        None => print!("{translated}"),
    }
    Ok(exit::CLEAN)
}

/// `leakhound detect` and friends: the leakhound command a gitleaks user wants.
pub fn from_gitleaks(command: &str, instead: &str) -> Result<u8> {
    eprintln!(
        "leakhound: `{command}` is a gitleaks command; here it is: {instead}\n\
         (`.gitleaksignore` and `gitleaks:allow` comments are honoured; `leakhound rules import-gitleaks \
         .gitleaks.toml -o .leakhound.toml` brings your rules over. See the README's \"Coming from gitleaks\".)"
    );
    Ok(exit::ERROR)
}

fn check(file: &Path) -> Result<u8> {
    let mut config = Config::load(Some(file), Path::new("."))?;
    let mut rules = load_rules()?;
    let builtin: Vec<String> = rules.rules().iter().map(|r| r.spec.id.clone()).collect();
    config.apply_to_rules(&mut rules)?;
    for warning in &config.warnings {
        eprintln!("leakhound: warning: {warning}");
    }
    let custom = Arc::new(rules.subset(|r| !builtin.contains(&r.spec.id)));
    let failures = selftest::check_examples(&custom);
    for f in &failures {
        eprintln!("leakhound: {}: {}: {}", file.display(), f.rule_id, f.message);
    }
    println!("{}: {} rule(s), {} example problem(s)", file.display(), custom.len(), failures.len());
    Ok(if failures.is_empty() { exit::CLEAN } else { exit::ERROR })
}

fn list(format: ListFormat) -> Result<u8> {
    let rules = load_rules()?;
    let mut out = BufWriter::new(io::stdout().lock());
    match format {
        ListFormat::Text => {
            let width = rules.rules().iter().map(|r| r.spec.id.len()).max().unwrap_or(0);
            let pwidth = rules.rules().iter().map(|r| r.spec.provider.len()).max().unwrap_or(0);
            for rule in rules.rules() {
                writeln!(out, "{:width$}  {:pwidth$}  {}", rule.spec.id, rule.spec.provider, rule.spec.name)?;
            }
        }
        ListFormat::Json => {
            for rule in rules.rules() {
                let row = serde_json::json!({
                    "id": rule.spec.id,
                    "provider": rule.spec.provider,
                    "name": rule.spec.name,
                    "kind": rule.spec.kind,
                    "severity": rule.spec.severity,
                    "rotate_url": rule.spec.rotate_url,
                });
                writeln!(out, "{row}")?;
            }
        }
    }
    out.flush()?;
    Ok(exit::CLEAN)
}
