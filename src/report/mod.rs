//! Reports: one `Finding` type, several renderers. Redaction happens here,
//! once, before any renderer sees a finding, so no output format can leak a
//! secret by forgetting to mask it.

mod json;
pub mod redact;
pub mod sanitize;
mod text;

use std::io::{self, Write};

use clap::ValueEnum;

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
}

#[derive(Debug, Clone)]
pub struct ReportOptions {
    pub format: Format,
    pub show_secrets: bool,
    /// ANSI colours in text output.
    pub color: bool,
}

/// Writes `outcome` in the chosen format, secrets masked unless asked not to.
pub fn write(
    out: &mut dyn Write,
    outcome: &ScanOutcome,
    rules: &RuleSet,
    options: &ReportOptions,
) -> io::Result<()> {
    let mut findings = outcome.findings.clone();
    if !options.show_secrets {
        for finding in &mut findings {
            let keywords = rules
                .get(&finding.rule_id)
                .map(|r| r.spec.keywords.as_slice())
                .unwrap_or(&[]);
            let prefix = redact::keyword_prefix_len(&finding.secret, keywords);
            redact::redact(finding, prefix);
        }
    }
    match options.format {
        Format::Text => text::write(out, &findings, outcome, options.color),
        Format::Json => json::write_document(out, &findings, outcome),
        Format::Jsonl => json::write_lines(out, &findings),
    }
}
