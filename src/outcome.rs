//! What a run produced, in one neutral type: findings, what was skipped and
//! why, the counts, and notes. Sources report skips in it, modes fill it,
//! enrichment edits its findings, and every renderer reads it; none of them
//! needs to know about the others.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use crate::finding::Finding;

/// What a run found, plus what it could not look at.
#[derive(Debug, Default)]
pub struct ScanOutcome {
    pub findings: Vec<Finding>,
    pub skipped: Vec<Skip>,
    pub stats: Stats,
    /// Facts about the input worth telling (a shallow clone, submodules not
    /// followed, LFS pointers not fetched).
    pub notes: Vec<String>,
    /// Findings silenced by suppression, each with `suppressed_by`.
    pub suppressed: Vec<Finding>,
}

#[derive(Debug, Default, Clone, Serialize)]
pub struct Stats {
    /// Files (or, in a history audit, distinct blobs) scanned.
    pub files_scanned: u64,
    /// What `files_scanned` counts, for the text summary: `file` or `blob`.
    #[serde(skip)]
    pub unit: Unit,
    pub bytes_scanned: u64,
    pub findings: u64,
    /// Distinct secrets among the findings (by `secret_sha256`): the text
    /// summary's "of N unique keys".
    pub unique_keys: u64,
    /// Skipped inputs by reason (`binary`, `too-large`, `not-a-file`,
    /// `symlink-loop`, `unreadable`).
    pub skipped: BTreeMap<&'static str, u64>,
    /// Inputs that should have been scanned and could not be (exit code 2).
    pub errors: u64,
    /// Findings silenced (inline `leakhound:allow`, `allow_paths`, baseline).
    pub suppressed: u64,
    /// The same, by reason.
    pub suppressed_by: BTreeMap<&'static str, u64>,
    pub duration_ms: u64,
    /// What `--verify` did, when it ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verification: Option<VerifyStats>,
    /// What ignore files kept out of a tree scan (absent when none were
    /// honoured: `--no-ignore`, git modes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub excluded_by_ignore_files: Option<Excluded>,
}

/// Entries ignore files (`.gitignore`, `.ignore`, git's exclude files)
/// kept out of a walk: files, and directories not entered (their contents
/// are not counted: counting them would mean walking them).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Excluded {
    pub files: u64,
    pub directories: u64,
}

/// What a scan's inputs were.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    #[default]
    File,
    /// Distinct blobs of a repository's history.
    Blob,
}

impl Unit {
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::File => "file",
            Unit::Blob => "blob",
        }
    }
}

/// A thing a source did not scan, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Skip {
    pub path: String,
    pub reason: SkipReason,
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SkipReason {
    /// A binary file in a diff (range and staged modes), which has no
    /// added lines to scan.
    Binary,
    /// An image, font, audio or video file (by its signature): compressed
    /// samples, no text to find keys in.
    Media,
    /// Larger than `--max-file-size`.
    TooLarge,
    /// A FIFO, socket or device: reading could block or never end.
    NotAFile,
    /// A symlink that points back into its own ancestry.
    SymlinkLoop,
    /// Permission denied or another I/O error: this one means the scan is
    /// incomplete, so the run exits 2.
    Unreadable,
}

impl SkipReason {
    /// Whether this skip means data that should have been scanned was not.
    pub fn is_error(self) -> bool {
        matches!(self, SkipReason::Unreadable)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::Binary => "binary",
            SkipReason::Media => "media",
            SkipReason::TooLarge => "too-large",
            SkipReason::NotAFile => "not-a-file",
            SkipReason::SymlinkLoop => "symlink-loop",
            SkipReason::Unreadable => "unreadable",
        }
    }
}

/// What one run of verification did.
#[derive(Debug, Default, Clone, Copy, Serialize)]
pub struct VerifyStats {
    pub unique_secrets: u64,
    pub requests: u64,
    pub from_cache: u64,
    pub live: u64,
    pub invalid: u64,
    pub unknown: u64,
}

pub fn count_by_reason(skipped: &[Skip]) -> BTreeMap<&'static str, u64> {
    let mut counts = BTreeMap::new();
    for skip in skipped {
        *counts.entry(skip.reason.as_str()).or_insert(0) += 1;
    }
    counts
}

/// Distinct secrets among `findings`.
pub fn unique_keys(findings: &[Finding]) -> u64 {
    findings.iter().map(|f| f.secret_sha256.as_str()).collect::<std::collections::BTreeSet<_>>().len() as u64
}

pub fn duration_ms(d: Duration) -> u64 {
    d.as_millis().try_into().unwrap_or(u64::MAX)
}

impl ScanOutcome {
    /// Sets the counts that follow from `findings` (after suppression).
    pub fn count_findings(&mut self) {
        self.stats.findings = self.findings.len() as u64;
        self.stats.unique_keys = unique_keys(&self.findings);
    }

    pub fn has_errors(&self) -> bool {
        self.skipped.iter().any(|s| s.reason.is_error())
    }

    pub fn count_skipped(&self, reason: SkipReason) -> usize {
        self.skipped.iter().filter(|s| s.reason == reason).count()
    }
}
