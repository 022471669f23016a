//! The full-history audit (`leakhound git`): decode every object once,
//! scan every blob once, then attribute the matches. Wires the git source
//! (which hands blobs to the [`BlobScanner`] here), the detector and the
//! attribution; each stays ignorant of the others.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use anyhow::Result;

use super::attribution::{AttributionInput, BlobHits, attribute};
use super::budget;
use crate::detect::Detector;
use crate::outcome::{ScanOutcome, Skip, SkipReason, Stats, Unit, count_by_reason, duration_ms};
use crate::source::git::GitRepo;
use crate::source::git::graph::GraphBuilder;
use crate::source::git::memory::{self, PhaseLog};
use crate::source::git::objects::{Id, ObjectTable};
use crate::source::git::packs::{DecodeOptions, DecodeProgress, ObjectSink, decode_all};

pub struct AuditOptions {
    pub all_objects: bool,
    pub max_blob_size: u64,
    pub threads: usize,
    /// The memory budget (`--max-memory`); `None`: [`budget::default_budget`].
    pub max_memory: Option<u64>,
    /// Draw a progress bar on stderr (the CLI sets this only for a terminal).
    pub progress: bool,
    /// Set (by a Ctrl-C handler) to stop early and report what was found.
    pub cancel: Option<&'static AtomicBool>,
}

/// Scans each blob the pack decode hands over; keeps those that matched.
struct BlobScanner<'d> {
    detector: &'d Detector,
    hits: Mutex<Vec<BlobHits>>,
}

impl ObjectSink for BlobScanner<'_> {
    fn blob(&self, blob: Id, bytes: &[u8]) {
        let findings = self.detector.raw_findings(bytes, "");
        if !findings.is_empty() {
            let facts = self.detector.exposure.facts(bytes);
            self.hits.lock().unwrap_or_else(|e| e.into_inner()).push(BlobHits { blob, findings, facts });
        }
    }
}

/// Objects decoded / total, throughput and memory held, redrawn ten times a second until
/// `done`.
fn show_progress(counters: &DecodeProgress, total: u64, done: &AtomicBool) {
    let bar = indicatif::ProgressBar::new(total);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {pos}/{len} objects  {msg}  [{elapsed_precise}]")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let started = Instant::now();
    while !done.load(Ordering::Relaxed) {
        let bytes = counters.bytes.load(Ordering::Relaxed);
        let rate = bytes as f64 / started.elapsed().as_secs_f64().max(0.001) / (1024.0 * 1024.0);
        bar.set_position(counters.objects.load(Ordering::Relaxed));
        let held = memory::usage().map_or(String::new(), |u| format!("  {} in memory", budget::mib(u.resident())));
        bar.set_message(format!("{rate:.0} MiB/s{held}"));
        std::thread::park_timeout(std::time::Duration::from_millis(100));
    }
    bar.finish_and_clear();
}

pub fn audit(repo: &GitRepo, detector: &Detector, options: &AuditOptions) -> Result<ScanOutcome> {
    let started = Instant::now();
    let mut phases = PhaseLog::start();
    let refs = repo.refs()?;
    let (table, open_problems) = ObjectTable::open(&repo.objects_dir);
    phases.end("open");
    let budget = options.max_memory.unwrap_or_else(budget::default_budget);
    let resident = memory::usage().map_or(0, |u| u.resident());
    let file_pages_limit = budget::file_pages_limit(budget);
    let plan = budget::plan(budget::floor(&table, resident, file_pages_limit), budget, options.threads.max(1));
    let mut skipped: Vec<Skip> =
        open_problems.into_iter().map(|p| unreadable(p.path.display().to_string(), p.detail)).collect();

    let counters = DecodeProgress::default();
    let decode_options = DecodeOptions {
        max_blob_size: options.max_blob_size,
        file_pages_limit,
        threads: plan.threads,
        progress: Some(&counters),
        cancel: options.cancel,
    };
    let scanner = BlobScanner { detector, hits: Mutex::default() };
    let open_path = repo.open_path.clone();
    // Every parallel step of the audit runs on the planned threads, and no
    // more (`--threads`, or fewer to fit `--max-memory`).
    let pool = rayon::ThreadPoolBuilder::new().num_threads(plan.threads).build()?;
    let done = AtomicBool::new(false);
    let decoded = std::thread::scope(|scope| {
        let ticker = options.progress.then(|| scope.spawn(|| show_progress(&counters, table.len() as u64, &done)));
        let open_repo = move || git2::Repository::open(&open_path);
        let decoded = pool.install(|| decode_all(&table, &scanner, &decode_options, &open_repo));
        done.store(true, Ordering::Relaxed);
        if let Some(ticker) = ticker {
            ticker.thread().unpark();
        }
        decoded
    });
    phases.end("decode");
    for (what, why) in decoded.failures {
        skipped.push(unreadable(what, why));
    }
    // Packed objects the traversal could not decode (corrupt entries).
    let loose_start = table.packs.iter().map(|p| p.base as usize + p.index.num_objects() as usize).max().unwrap_or(0);
    // After Ctrl-C most objects were never reached: that is not corruption.
    let cancelled = options.cancel.is_some_and(|c| c.load(Ordering::Relaxed));
    let checked_to = if cancelled { 0 } else { loose_start as u32 };
    for id in 0..checked_to {
        if decoded.decoded[id as usize / 64].load(Ordering::Relaxed) & (1 << (id % 64)) == 0 {
            skipped.push(unreadable(format!("object {}", table.oid(id)), "could not be decoded from its pack".into()));
        }
    }
    let mut absent = decoded.absent;
    absent.sort();
    absent.dedup();
    for oid in absent {
        skipped.push(unreadable(format!("object {oid}"), "referenced but missing from the object store".into()));
    }

    let (commits, trees, tree_entries) = GraphBuilder::counts(&decoded.graph);
    let graph = GraphBuilder::build(decoded.graph, table.len());
    release_freed_memory();
    phases.end("graph");
    let hits = scanner.hits.into_inner().unwrap_or_else(|e| e.into_inner());
    // Attribution reads few pages, all over the pack, and holds the most
    // memory of any phase: its pages are kept to 32 MiB.
    let mut findings = table.with_bounded_pages(file_pages_limit.min(32 << 20), || {
        attribute(&AttributionInput {
            repo,
            detector,
            table: &table,
            graph: &graph,
            hits: &hits,
            refs: &refs,
            all_objects: options.all_objects,
            pool: &pool,
        })
    });
    phases.end("attribution");
    // The memory model's measurements (benches/git_history.sh reads them).
    if std::env::var_os("LEAKHOUND_MEMORY_PHASES").is_some() {
        eprintln!(
            "history {} objects, {commits} commits, {trees} trees, {tree_entries} tree entries; {} threads",
            table.len(),
            plan.threads
        );
        eprint!("{}", phases.describe());
    }
    findings.sort_by(|a, b| (&a.path, a.line, a.column, &a.rule_id).cmp(&(&b.path, b.line, b.column, &b.rule_id)));

    let counts = decoded.counts;
    let mut notes: Vec<String> = plan.note.into_iter().collect();
    if phases.peak() > budget {
        notes.push(format!(
            "peak memory {} was over the budget of {} (--max-memory)",
            budget::mib(phases.peak()),
            budget::mib(budget)
        ));
    }
    if repo.shallow {
        notes.push("shallow clone: history before the clone's depth is not present and was not scanned".into());
    }
    if counts.submodules > 0 {
        notes.push(format!(
            "{} submodule entries not followed: scan each submodule's repository separately",
            counts.submodules
        ));
    }
    if counts.lfs_pointers > 0 {
        notes.push(format!("{} Git LFS pointer files: their content is not fetched or scanned", counts.lfs_pointers));
    }
    if refs.is_empty() {
        notes.push("the repository has no commits yet".into());
    }

    let mut by_reason = count_by_reason(&skipped);
    add_count(&mut by_reason, SkipReason::Media, counts.blobs_media);
    add_count(&mut by_reason, SkipReason::TooLarge, counts.blobs_too_large);
    let stats = Stats {
        files_scanned: counts.blobs_scanned,
        unit: Unit::Blob,
        bytes_scanned: counts.bytes_scanned,
        findings: findings.len() as u64,
        errors: skipped.iter().filter(|s| s.reason.is_error()).count() as u64,
        skipped: by_reason,
        duration_ms: duration_ms(started.elapsed()),
        ..Stats::default()
    };
    Ok(ScanOutcome { findings, skipped, stats, notes, ..ScanOutcome::default() })
}

fn unreadable(path: String, detail: String) -> Skip {
    Skip { path, reason: SkipReason::Unreadable, detail }
}

fn add_count(map: &mut BTreeMap<&'static str, u64>, reason: SkipReason, n: u64) {
    if n > 0 {
        *map.entry(reason.as_str()).or_insert(0) += n;
    }
}

/// Hands memory freed by the decode threads back to the OS before
/// attribution starts: glibc keeps per-thread arenas otherwise, and the
/// audit's peak RSS would be decode garbage plus attribution (measured
/// ~55 MB on a 20k-commit history).
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free heap pages to the kernel; it has
    // no preconditions and touches no live allocation.
    unsafe {
        libc::malloc_trim(0);
    }
}
