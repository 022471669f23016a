//! JSON and JSON Lines. serde_json escapes every control character, so
//! hostile file content cannot break out of a string here.

use std::io::{self, Write};

use serde::Serialize;

use crate::finding::Finding;
use crate::outcome::{ScanOutcome, Skip, Stats};

#[derive(Serialize)]
struct Document<'a> {
    findings: &'a [Finding],
    stats: &'a Stats,
    skipped: &'a [Skip],
    notes: &'a [String],
    /// Only with `--show-suppressed`.
    #[serde(skip_serializing_if = "<[Finding]>::is_empty")]
    suppressed: &'a [Finding],
}

pub fn write_document(
    out: &mut dyn Write,
    findings: &[Finding],
    suppressed: &[Finding],
    outcome: &ScanOutcome,
) -> io::Result<()> {
    let doc =
        Document { findings, stats: &outcome.stats, skipped: &outcome.skipped, notes: &outcome.notes, suppressed };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

pub fn write_lines(out: &mut dyn Write, findings: &[Finding]) -> io::Result<()> {
    for finding in findings {
        serde_json::to_writer(&mut *out, finding)?;
        writeln!(out)?;
    }
    Ok(())
}
