//! Reports: one `Finding` type, several renderers. Redaction happens here,
//! once, before any renderer sees a finding, so no output format can leak a
//! secret by forgetting to mask it.

mod json;
pub mod redact;
pub mod rotation;
pub mod sanitize;
mod sarif;
mod text;

use std::io::{self, Write};

use clap::ValueEnum;

use crate::finding::Finding;
use crate::rules::RuleSet;
use crate::scan::ScanOutcome;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Grouped by file, for people.
    Text,
    /// One JSON document: {"findings": [...], "stats": {...}, "skipped": [...]}.
    Json,
    /// One JSON finding per line, for streaming into other tools.
    Jsonl,
    /// SARIF 2.1.0 for code-scanning platforms (secrets always masked).
    Sarif,
}

#[derive(Debug, Clone)]
pub struct ReportOptions {
    pub format: Format,
    pub show_secrets: bool,
    /// Also list suppressed findings.
    pub show_suppressed: bool,
    /// ANSI colours in text output.
    pub color: bool,
}

/// Writes `outcome` in the chosen format, secrets masked unless asked not to.
pub fn write(out: &mut dyn Write, outcome: &ScanOutcome, rules: &RuleSet, options: &ReportOptions) -> io::Result<()> {
    let shown = |list: &[Finding]| if options.show_secrets { list.to_vec() } else { masked(list, rules) };
    let findings = || shown(&outcome.findings);
    let suppressed = if options.show_suppressed { shown(&outcome.suppressed) } else { Vec::new() };
    match options.format {
        Format::Text => text::write(out, &findings(), &suppressed, outcome, rules, options.color),
        Format::Json => json::write_document(out, &findings(), &suppressed, outcome),
        Format::Jsonl => json::write_lines(out, &findings()),
        // SARIF masks on its own, whatever --show-secrets says.
        Format::Sarif => sarif::write(out, &outcome.findings, rules),
    }
}

/// Copies of `findings` with every secret masked (names of env variables,
/// which are not secrets, stay readable).
fn masked(findings: &[Finding], rules: &RuleSet) -> Vec<Finding> {
    let mut findings = findings.to_vec();
    for finding in findings.iter_mut() {
        let Some(rule) = rules.get(&finding.rule_id) else {
            // A finding whose rule is unknown here (merged from another
            // run) is masked with no prefix rather than shown.
            redact::redact(finding, 0);
            continue;
        };
        if !rule.spec.not_secret {
            redact::redact(finding, redact::keyword_prefix_len(&finding.secret, &rule.spec.keywords));
        }
    }
    findings
}
