//! JSON and JSON Lines. serde_json escapes every control character, so
//! hostile file content cannot break out of a string here.

use std::io::{self, Write};

use serde::Serialize;

use crate::finding::Finding;
use crate::outcome::{Skip, Stats};

use super::ReportView;

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

pub fn write_document(out: &mut dyn Write, view: &ReportView) -> io::Result<()> {
    let doc = Document {
        findings: &view.findings,
        stats: view.stats,
        skipped: view.skipped,
        notes: view.notes,
        suppressed: &view.suppressed,
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

pub fn write_lines(out: &mut dyn Write, view: &ReportView) -> io::Result<()> {
    for finding in &view.findings {
        serde_json::to_writer(&mut *out, finding)?;
        writeln!(out)?;
    }
    Ok(())
}
