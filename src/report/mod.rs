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
mod text_keys;

use std::io::{self, Write};

use crate::finding::Finding;
use crate::outcome::{ScanOutcome, Skip, Stats};
use crate::rules::RuleSet;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// For people: a tree's findings grouped by file, history findings by key.
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

impl Format {
    /// Every format, by the name users type.
    pub const ALL: [(&'static str, Format); 5] = [
        ("text", Format::Text),
        ("json", Format::Json),
        ("jsonl", Format::Jsonl),
        ("sarif", Format::Sarif),
        ("html", Format::Html),
    ];

    pub fn from_name(name: &str) -> Option<Format> {
        Format::ALL.iter().find(|(n, _)| *n == name).map(|&(_, f)| f)
    }
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

/// What every renderer writes: findings as they may be shown (masked by
/// [`redact`] unless the user asked otherwise), and the run's counts,
/// skips and notes. A renderer never sees a secret the report must hide.
pub struct ReportView<'a> {
    pub findings: Vec<Finding>,
    /// Empty unless `--show-suppressed`.
    pub suppressed: Vec<Finding>,
    pub stats: &'a Stats,
    pub skipped: &'a [Skip],
    pub notes: &'a [String],
    /// Rule metadata (rotation steps, which rules are built in).
    pub rules: &'a RuleSet,
    pub color: bool,
    /// What was scanned, for headings.
    pub title: &'a str,
}

impl<'a> ReportView<'a> {
    /// A view of `outcome` showing `findings` as given (no suppressed list,
    /// no colour).
    pub fn new(outcome: &'a ScanOutcome, findings: Vec<Finding>, rules: &'a RuleSet, title: &'a str) -> Self {
        ReportView {
            findings,
            suppressed: Vec::new(),
            stats: &outcome.stats,
            skipped: &outcome.skipped,
            notes: &outcome.notes,
            rules,
            color: false,
            title,
        }
    }
}

/// Writes `outcome` in the chosen format, secrets masked unless asked not to.
pub fn write(out: &mut dyn Write, outcome: &ScanOutcome, rules: &RuleSet, options: &ReportOptions) -> io::Result<()> {
    let reveal = match options.format {
        // SARIF files are uploaded to and kept by third parties.
        Format::Sarif => false,
        // An HTML report is a file that gets shared: full secrets need both flags.
        Format::Html => options.show_secrets && options.html_show_secrets,
        _ => options.show_secrets,
    };
    let shown = |list: &[Finding]| if reveal { list.to_vec() } else { redact::masked(list, rules) };
    let mut view = ReportView::new(outcome, shown(&outcome.findings), rules, &options.title);
    view.color = options.color;
    if options.show_suppressed {
        view.suppressed = shown(&outcome.suppressed);
    }
    match options.format {
        Format::Text => text::write(out, &view),
        Format::Json => json::write_document(out, &view),
        Format::Jsonl => json::write_lines(out, &view),
        Format::Sarif => sarif::write(out, &view),
        Format::Html => html::write(out, &view),
    }
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
