//! Organisation-scale audits: many repositories, sharded over an existing
//! job runner, merged with cross-repository deduplication.
//!
//! - [`list`]: the `--repos FILE` list and each repository's normalized id;
//! - [`shard`]: which repositories shard K of N audits (a stable hash of
//!   the id, so adding a repository moves no other);
//! - [`fetch`]: bare clones of URLs in a cache folder (`git clone --bare`,
//!   then `git fetch --prune`), with a timeout and no prompts;
//! - this module: auditing a list into one [`ScanOutcome`] whose findings
//!   carry `repository`;
//! - [`merge`]: reading shard reports back and merging them into one
//!   outcome (the rotation plan then groups each key across repositories),
//!   reusing verification results and verifying each unverified key once.

pub mod fetch;
pub mod list;
pub mod merge;
pub mod shard;

use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::detect::Detector;
use crate::finding::Finding;
use crate::history::audit::{AuditOptions, audit};
use crate::outcome::{ScanOutcome, Skip, SkipReason, Stats, duration_ms};
use crate::report::{human_bytes, plural};
use crate::source::git::GitRepo;

pub use fetch::{FetchOptions, clone_or_fetch};
pub use list::{Location, RepoEntry, RepoList, display_path, normalize_id, parse_repo_list, read_repo_list};
pub use merge::{ShardFile, check_verifiable, merge, read_shard, verify_unverified};
pub use shard::{Shard, ShardError, select, shard_of};

/// What happened to one repository, for the progress line.
#[derive(Debug, Clone)]
pub struct RepoSummary {
    /// 1-based position in this run, and how many the run audits.
    pub position: usize,
    pub total: usize,
    /// The list line (credentials masked).
    pub repository: String,
    /// `cloned`, `fetched` or `local`.
    pub action: &'static str,
    pub blobs: u64,
    pub bytes: u64,
    pub findings: usize,
    /// Clone or fetch time, then audit time.
    pub fetch_time: Duration,
    pub audit_time: Duration,
    /// Whether the repository was audited at all.
    pub audited: bool,
    /// Why the repository was not (completely) audited.
    pub problem: Option<String>,
}

impl RepoSummary {
    /// `[2/5] https://github.com/acme/api.git: 1204 blobs, 18.3 MiB, 2 findings in 1.4 s (fetched in 0.3 s)`.
    pub fn line(&self) -> String {
        let head = format!("[{}/{}] {}", self.position, self.total, self.repository);
        let fetch = match self.action {
            "local" => String::new(),
            action => format!(" ({action} in {:.1} s)", self.fetch_time.as_secs_f64()),
        };
        let body = format!(
            "{}, {}, {} in {:.1} s{fetch}",
            plural(self.blobs, "blob"),
            human_bytes(self.bytes),
            plural(self.findings as u64, "finding"),
            self.audit_time.as_secs_f64()
        );
        match (&self.problem, self.audited) {
            (Some(problem), false) => format!("{head}: not audited: {problem}"),
            (Some(problem), true) => format!("{head}: {body}; {problem}"),
            (None, _) => format!("{head}: {body}"),
        }
    }
}

/// Writes each repository's summary line to stderr (`leakhound: [2/5] ...`).
pub fn stderr_progress(summary: &RepoSummary) {
    eprintln!("leakhound: {}", summary.line());
}

/// A repository ready to audit (or why it is not).
struct Prepared {
    entry: RepoEntry,
    path: Result<std::path::PathBuf, String>,
    action: &'static str,
    stale: Option<String>,
    fetch_time: Duration,
}

/// Clones or fetches a URL entry; a local entry is used where it is.
fn prepare(entry: RepoEntry, fetch: &FetchOptions) -> Prepared {
    let started = Instant::now();
    let (path, action, stale) = match &entry.location {
        Location::Local(path) => (Ok(path.clone()), "local", None),
        Location::Remote(url) => match clone_or_fetch(url, &entry.id, fetch) {
            Ok(fetched) => (Ok(fetched.path), fetched.action, fetched.stale),
            Err(e) => (Err(e), "cloned", None),
        },
    };
    Prepared { entry, path, action, stale, fetch_time: started.elapsed() }
}

/// Opens a listed local path as a repository: the path itself must be the
/// repository (its work tree, `.git` or a bare repository), not a folder
/// inside one, or the audit would cover the enclosing repository.
pub fn open_listed(path: &std::path::Path) -> Result<GitRepo, String> {
    if !path.exists() {
        return Err("no such file or directory".into());
    }
    let repo = GitRepo::open(path).map_err(|e| format!("{e:#}"))?;
    let given = path.canonicalize().map_err(|e| format!("{}: {e}", path.display()))?;
    let is_it = [repo.repo.workdir(), Some(repo.repo.path())]
        .into_iter()
        .flatten()
        .filter_map(|p| p.canonicalize().ok())
        .any(|p| p == given);
    if !is_it {
        let found = repo.repo.workdir().unwrap_or(repo.repo.path()).display().to_string();
        return Err(format!("not a git repository: it is a folder inside {found} (list that repository instead)"));
    }
    Ok(repo)
}

/// Audits every entry like `leakhound git` (clones and fetches overlap with
/// the audit of the previous repository) and returns one outcome:
///
/// - each finding's `repository` is its entry's `name`;
/// - a repository that cannot be cloned, fetched or opened is one
///   `unreadable` skip whose path is its name (the run goes on, the exit
///   code will be 2); problems inside a repository keep their own skip,
///   its path prefixed with `NAME: `; notes are prefixed the same way;
/// - stats are summed (blobs and bytes scanned, skips by reason, errors),
///   the duration is the whole run's.
///
/// `progress` is called once per repository, in list order, when it is done.
/// When `fetch.cancel` is set (Ctrl-C), the repository being audited is
/// finished (its audit stops early on its own), no other is started, and a
/// note says how many were left.
pub fn audit_repos(
    entries: &[RepoEntry],
    detector: &Detector,
    options: &AuditOptions,
    fetch: &FetchOptions,
    progress: &(dyn Fn(&RepoSummary) + Sync),
) -> ScanOutcome {
    let started = Instant::now();
    let mut outcome = ScanOutcome::default();
    let total = entries.len();
    let mut audited = 0;
    std::thread::scope(|scope| {
        // One repository fetched ahead: the network works while the CPUs audit.
        let (sender, receiver) = mpsc::sync_channel::<Prepared>(1);
        scope.spawn(move || {
            for entry in entries {
                if fetch.cancelled() || sender.send(prepare(entry.clone(), fetch)).is_err() {
                    break;
                }
            }
        });
        for (n, prepared) in receiver.into_iter().enumerate() {
            if fetch.cancelled() {
                continue;
            }
            let summary = audit_one(prepared, n + 1, total, detector, options, &mut outcome);
            progress(&summary);
            audited += 1;
        }
    });
    if audited < total {
        outcome.notes.push(format!("interrupted: {} of the {total} repositories were not audited", total - audited));
    }
    outcome.findings.sort_by(by_place);
    outcome.stats.findings = outcome.findings.len() as u64;
    outcome.stats.errors = outcome.skipped.iter().filter(|s| s.reason.is_error()).count() as u64;
    outcome.stats.duration_ms = duration_ms(started.elapsed());
    outcome
}

/// Report order: by repository, path, line, column, rule.
pub fn by_place(a: &Finding, b: &Finding) -> std::cmp::Ordering {
    fn key(f: &Finding) -> (Option<&str>, &str, usize, usize, &str) {
        (f.repository.as_deref(), &f.path, f.line, f.column, &f.rule_id)
    }
    key(a).cmp(&key(b))
}

/// Audits one prepared repository into `into`, and says how it went.
fn audit_one(
    prepared: Prepared,
    position: usize,
    total: usize,
    detector: &Detector,
    options: &AuditOptions,
    into: &mut ScanOutcome,
) -> RepoSummary {
    let Prepared { entry, path, action, stale, fetch_time } = prepared;
    let name = entry.name.clone();
    let mut summary = RepoSummary {
        position,
        total,
        repository: name.clone(),
        action,
        blobs: 0,
        bytes: 0,
        findings: 0,
        fetch_time,
        audit_time: Duration::ZERO,
        audited: false,
        problem: None,
    };
    let started = Instant::now();
    let audited = path
        .and_then(|p| open_listed(&p))
        .and_then(|repo| audit(&repo, detector, options).map_err(|e| format!("{e:#}")));
    summary.audit_time = started.elapsed();
    if let Some(stale) = stale {
        unreadable_repo(into, &name, &stale);
        summary.problem = Some(stale);
    }
    let repo_outcome = match audited {
        Ok(o) => o,
        Err(detail) => {
            unreadable_repo(into, &name, &detail);
            summary.problem = Some(detail);
            return summary;
        }
    };
    summary.audited = true;
    summary.blobs = repo_outcome.stats.files_scanned;
    summary.bytes = repo_outcome.stats.bytes_scanned;
    summary.findings = repo_outcome.findings.len();
    let errors = repo_outcome.skipped.iter().filter(|s| s.reason.is_error()).count();
    if errors > 0 && summary.problem.is_none() {
        summary.problem = Some(format!("{errors} objects could not be read"));
    }
    add_repo(into, repo_outcome, &name);
    summary
}

/// Records that repository `name` could not be (completely) read.
fn unreadable_repo(into: &mut ScanOutcome, name: &str, detail: &str) {
    into.skipped.push(Skip { path: name.to_string(), reason: SkipReason::Unreadable, detail: detail.to_string() });
    *into.stats.skipped.entry(SkipReason::Unreadable.as_str()).or_insert(0) += 1;
}

/// Adds one repository's outcome to the run's, labelled with `name`.
fn add_repo(into: &mut ScanOutcome, repo: ScanOutcome, name: &str) {
    into.findings.extend(repo.findings.into_iter().map(|mut f: Finding| {
        f.repository = Some(name.to_string());
        f
    }));
    into.skipped.extend(repo.skipped.into_iter().map(|s| Skip { path: format!("{name}: {}", s.path), ..s }));
    into.notes.extend(repo.notes.into_iter().map(|n| format!("{name}: {n}")));
    add_stats(&mut into.stats, &repo.stats);
}

fn add_stats(into: &mut Stats, add: &Stats) {
    into.files_scanned += add.files_scanned;
    into.unit = add.unit;
    into.bytes_scanned += add.bytes_scanned;
    for (reason, n) in &add.skipped {
        *into.skipped.entry(reason).or_insert(0) += n;
    }
}

/// Makes paths say which repository they are in, for the formats people and
/// code-scanning platforms read (text, HTML, SARIF): a finding with a
/// `repository` gets `path` = [`display_path`] (`github.com/acme/api/src/app.py`)
/// and its fingerprint recomputed from that path, so two repositories'
/// `config.py` are two files and two SARIF alerts. Not for JSON and JSONL,
/// which keep `path` relative to the repository (with `repository` beside
/// it). Call after suppression (which matches repository-relative
/// paths) and before writing the report.
pub fn qualify_for_display(outcome: &mut ScanOutcome) {
    for list in [&mut outcome.findings, &mut outcome.suppressed] {
        for f in list.iter_mut() {
            if let Some(repository) = &f.repository {
                let shown = f.at_path(&display_path(repository, &f.path));
                *f = shown;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_lines() {
        let mut s = RepoSummary {
            position: 2,
            total: 5,
            repository: "https://github.com/acme/api.git".into(),
            action: "fetched",
            blobs: 1204,
            bytes: 19_188_000,
            findings: 1,
            fetch_time: Duration::from_millis(300),
            audit_time: Duration::from_millis(1400),
            audited: true,
            problem: None,
        };
        assert_eq!(
            s.line(),
            "[2/5] https://github.com/acme/api.git: 1204 blobs, 18.3 MiB, 1 finding in 1.4 s (fetched in 0.3 s)"
        );
        s.audited = false;
        s.problem = Some("git clone failed: not found".into());
        assert_eq!(s.line(), "[2/5] https://github.com/acme/api.git: not audited: git clone failed: not found");
    }
}
