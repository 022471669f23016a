//! Reports: one `Finding` type, several renderers. Redaction happens here,
//! once, before any renderer sees a finding, so no output format can leak a
//! secret by forgetting to mask it.

pub mod html;
mod json;
pub mod redact;
pub mod rotation;
pub mod sanitize;
mod sarif;
mod text;

use std::collections::HashMap;
use std::io::{self, Write};

use clap::ValueEnum;

use crate::finding::Finding;
use crate::rules::RuleSet;
use crate::outcome::ScanOutcome;

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
    /// One self-contained HTML audit page (secrets masked unless both
    /// --show-secrets and --html-show-secrets are given).
    Html,
}

#[derive(Debug, Clone)]
pub struct ReportOptions {
    pub format: Format,
    pub show_secrets: bool,
    /// Also list suppressed findings.
    pub show_suppressed: bool,
    /// ANSI colours in text output.
    pub color: bool,
    /// HTML only: secrets in full, which also needs `show_secrets`.
    pub html_show_secrets: bool,
    /// HTML only: what was scanned, for the page's heading.
    pub title: String,
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
        // An HTML report is a file that gets shared: full secrets need both flags.
        Format::Html => {
            let findings = if options.html_show_secrets { findings() } else { masked(&outcome.findings, rules) };
            html::write(out, outcome, &findings, rules, &options.title)
        }
    }
}

/// Copies of `findings` with every secret masked (names of env variables,
/// which are not secrets, stay readable).
pub fn masked(findings: &[Finding], rules: &RuleSet) -> Vec<Finding> {
    let prefix_len = |f: &Finding| -> Option<usize> {
        match rules.get(&f.rule_id) {
            // Names of env variables are not secrets.
            Some(rule) if rule.spec.not_secret => None,
            Some(rule) => Some(redact::keyword_prefix_len(&f.secret, &rule.spec.keywords)),
            // A rule unknown here (merged from another run): no prefix shown.
            None => Some(0),
        }
    };
    // Every secret on a line, so each snippet of that line hides all of
    // them, not only its own finding's.
    let mut by_line: HashMap<(&str, usize), Vec<(&str, usize)>> = HashMap::new();
    for f in findings {
        if let Some(prefix) = prefix_len(f) {
            by_line.entry((f.path.as_str(), f.line)).or_default().push((f.secret.as_str(), prefix));
        }
    }
    findings
        .iter()
        .map(|f| {
            let mut shown = f.clone();
            for &(secret, prefix) in by_line.get(&(f.path.as_str(), f.line)).map_or(&[][..], Vec::as_slice) {
                shown.snippet = redact::mask_in(&shown.snippet, secret, prefix);
            }
            if let Some(prefix) = prefix_len(f) {
                shown.secret = redact::mask(&f.secret, prefix);
            }
            shown
        })
        .collect()
}

/// `1 finding`, `3 findings`.
pub fn plural(n: u64, word: &str) -> String {
    if n == 1 { format!("1 {word}") } else { format!("{n} {word}s") }
}

/// `18.3 MiB`-style sizes for summaries and progress lines.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 { format!("{bytes} B") } else { format!("{value:.1} {}", UNITS[unit]) }
}
