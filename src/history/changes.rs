//! Scanning what a change adds: a CI commit range (`leakhound git --range`)
//! and the staged changes (`leakhound staged`). The diff source yields the
//! new text around each change; the engine scans it; only matches that start
//! on an added line become findings.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use anyhow::Result;

use super::attribution::commit_info;
use crate::detect::Detector;
use crate::finding::Finding;
use crate::outcome::{ScanOutcome, Skip, SkipReason, Stats, count_by_reason, duration_ms};
use crate::source::git::diff::{ChangedText, DiffSkips, range_changes, staged_changes};
use crate::source::git::{GitRepo, to_gix};

/// Findings in `change` whose secret starts on an added line.
pub fn scan_change(detector: &Detector, change: &ChangedText) -> Vec<Finding> {
    let mut findings = detector.findings(&change.text, &change.path);
    for finding in &mut findings {
        finding.line = finding.line.saturating_add(change.first_line.saturating_sub(1));
    }
    findings.retain(|f| change.added.contains(&f.line));
    findings
}

/// `leakhound git --range BASE..HEAD`: each finding carries the commit that
/// added it; a secret added at the same path by several commits is reported
/// once, for the first.
pub fn scan_range(repo: &GitRepo, detector: &Detector, range: &str, max_size: u64) -> Result<ScanOutcome> {
    let started = Instant::now();
    let mut skips = DiffSkips::default();
    let mut notes = Vec::new();
    let commits = range_changes(&repo.repo, range, max_size, &mut skips, &mut notes)?;
    let head_tree = repo.repo.head().ok().and_then(|h| h.peel_to_tree().ok());
    let mut first: BTreeMap<(String, String, String), Finding> = BTreeMap::new();
    let (mut files, mut bytes) = (0u64, 0u64);
    for commit in &commits {
        for change in &commit.changes {
            files += 1;
            bytes += change.text.len() as u64;
            for mut finding in scan_change(detector, change) {
                let key = (finding.rule_id.clone(), finding.secret_sha256.clone(), finding.path.clone());
                if first.contains_key(&key) {
                    continue;
                }
                let mut info = commit_info(&repo.repo, &to_gix(commit.commit));
                info.in_head = head_tree.as_ref().is_some_and(|t| blob_contains(&repo.repo, t, &finding));
                info.commit_count = 1;
                finding.git = Some(info);
                first.insert(key, finding);
            }
        }
    }
    let findings: Vec<Finding> = first.into_values().collect();
    if repo.shallow {
        notes.push(
            "shallow clone: only the commits in this clone were compared; if the base was cut off,              fetch more history (`fetch-depth: 0`)"
                .into(),
        );
    }
    let mut outcome = outcome(findings, skips, files, bytes, started);
    outcome.notes = notes;
    Ok(outcome)
}

/// Whether the file at the finding's path in `tree` still holds its secret.
fn blob_contains(repo: &git2::Repository, tree: &git2::Tree, finding: &Finding) -> bool {
    tree.get_path(Path::new(&finding.path))
        .ok()
        .and_then(|e| repo.find_blob(e.id()).ok())
        .is_some_and(|b| memchr::memmem::find(b.content(), finding.secret.as_bytes()).is_some())
}

/// `leakhound staged`: what the next commit would add.
pub fn scan_staged(work_tree: &Path, detector: &Detector) -> Result<ScanOutcome> {
    let started = Instant::now();
    let mut skips = DiffSkips::default();
    let changes = staged_changes(work_tree, &mut skips)?;
    let mut findings = Vec::new();
    let (mut files, mut bytes) = (0u64, 0u64);
    for change in &changes {
        files += 1;
        bytes += change.text.len() as u64;
        findings.extend(scan_change(detector, change));
    }
    // Hunks of one file are separate changes: count files, not hunks.
    let mut paths: Vec<&str> = changes.iter().map(|c| c.path.as_str()).collect();
    paths.dedup();
    files = files.min(paths.len() as u64);
    Ok(outcome(findings, skips, files, bytes, started))
}

fn outcome(mut findings: Vec<Finding>, skips: DiffSkips, files: u64, bytes: u64, started: Instant) -> ScanOutcome {
    findings.sort_by(|a, b| (&a.path, a.line, a.column, &a.rule_id).cmp(&(&b.path, b.line, b.column, &b.rule_id)));
    let skip =
        |reason: SkipReason, detail: &'static str| move |path: String| Skip { path, reason, detail: detail.into() };
    let skipped: Vec<Skip> = skips
        .binary
        .into_iter()
        .map(skip(SkipReason::Binary, "binary file in the diff"))
        .chain(skips.too_large.into_iter().map(skip(SkipReason::TooLarge, "over --max-file-size")))
        .collect();
    let stats = Stats {
        files_scanned: files,
        bytes_scanned: bytes,
        findings: findings.len() as u64,
        skipped: count_by_reason(&skipped),
        errors: 0,
        duration_ms: duration_ms(started.elapsed()),
        ..Stats::default()
    };
    ScanOutcome { findings, skipped, stats, ..ScanOutcome::default() }
}
