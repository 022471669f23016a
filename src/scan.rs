//! Wires one run together: a source feeds blobs, the engine finds matches,
//! matches become findings, and the counts become stats. The one place that
//! knows about all three; each of them stays ignorant of the others.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use crate::detect::Detector;
use crate::finding::Finding;
use crate::outcome::{ScanOutcome, Skip, Stats, count_by_reason, duration_ms};
use crate::source::{BlobSink, PartStart};

/// Collects findings from blobs as sources deliver them.
pub struct Collector<'e> {
    detector: &'e Detector,
    findings: Mutex<Vec<Finding>>,
    skipped: Mutex<Vec<Skip>>,
    notes: Mutex<Vec<String>>,
    files: AtomicU64,
    bytes: AtomicU64,
    started: Instant,
}

impl<'e> Collector<'e> {
    pub fn new(detector: &'e Detector) -> Collector<'e> {
        Collector {
            detector,
            findings: Mutex::default(),
            skipped: Mutex::default(),
            notes: Mutex::default(),
            files: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            started: Instant::now(),
        }
    }

    /// Sorts and deduplicates what was collected and computes the stats.
    pub fn finish(self) -> ScanOutcome {
        let elapsed = self.started.elapsed();
        let mut findings = self.findings.into_inner().unwrap_or_else(|e| e.into_inner());
        let mut skipped = self.skipped.into_inner().unwrap_or_else(|e| e.into_inner());
        findings.sort_by(|a, b| order_key(a).cmp(&order_key(b)));
        // Overlapping roots (`scan . src`) can deliver a file twice.
        findings.dedup_by(|a, b| order_key(a) == order_key(b));
        skipped.sort_by(|a, b| (&a.path, a.reason).cmp(&(&b.path, b.reason)));
        let stats = Stats {
            files_scanned: self.files.into_inner(),
            bytes_scanned: self.bytes.into_inner(),
            findings: findings.len() as u64,
            skipped: count_by_reason(&skipped),
            errors: skipped.iter().filter(|s| s.reason.is_error()).count() as u64,
            duration_ms: duration_ms(elapsed),
            ..Stats::default()
        };
        let mut notes = self.notes.into_inner().unwrap_or_else(|e| e.into_inner());
        notes.sort();
        ScanOutcome { findings, skipped, stats, notes, ..ScanOutcome::default() }
    }
}

/// How findings are ordered, and what makes two of them the same. The
/// secret is part of it: files whose names differ only in invalid UTF-8
/// are shown under one (lossy) path, and neither one's key may be dropped.
fn order_key(f: &Finding) -> (&str, usize, usize, &str, &str) {
    (&f.path, f.line, f.column, &f.rule_id, &f.secret_sha256)
}

impl BlobSink for Collector<'_> {
    fn blob(&self, path: &str, bytes: &[u8]) {
        self.files.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(bytes.len() as u64, Ordering::Relaxed);
        let found = self.detector.findings(bytes, path);
        if found.is_empty() {
            return;
        }
        self.findings.lock().unwrap_or_else(|e| e.into_inner()).extend(found);
    }

    fn part(&self, path: &str, bytes: &[u8], start: PartStart) {
        if start == (PartStart { line: 1, column: 1, overlap: 0 }) {
            self.files.fetch_add(1, Ordering::Relaxed);
            self.notes.lock().unwrap_or_else(|e| e.into_inner()).push(format!(
                "{path}: larger than --max-file-size: scanned in parts, for keys in plain text and binary strings only \
                 (encodings and archives are decoded only in files under the limit)"
            ));
        }
        self.bytes.fetch_add((bytes.len() - start.overlap.min(bytes.len())) as u64, Ordering::Relaxed);
        let mut found = self.detector.part_findings(bytes, path);
        if found.is_empty() {
            return;
        }
        for f in &mut found {
            // The part's first line may be the rest of a long line.
            if f.line == 1 {
                f.column += start.column - 1;
            }
            f.line += start.line - 1;
        }
        // Parts overlap: a key in the overlap is found twice, on one line.
        let mut findings = self.findings.lock().unwrap_or_else(|e| e.into_inner());
        found.retain(|f| !findings.iter().any(|o| order_key(o) == order_key(f)));
        findings.extend(found);
    }

    fn skipped(&self, skip: Skip) {
        self.skipped.lock().unwrap_or_else(|e| e.into_inner()).push(skip);
    }
}
