//! A commit range as CI systems write it, resolved in the clone CI made.
//!
//! `BASE..HEAD`, `BASE...HEAD` (from their merge base, as GitHub and GitLab
//! compare a pull request), `SHA` (meaning `SHA..HEAD`), the all-zero
//! `before` of a newly pushed branch and `ROOT~1..ROOT` (a branch whose first
//! commit is a root) all work; a base the clone does not have is an error
//! that says how to fetch it. In a partial clone (`--filter=blob:none` or
//! `tree:0`) the objects the range needs are fetched first, through git
//! itself, from the promisor remote: libgit2 cannot fetch them on demand.

use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Result, anyhow, bail};

/// What a range walks: from `tip` back, stopping at the `hide` commits.
#[derive(Debug)]
pub struct ResolvedRange {
    pub tip: git2::Oid,
    /// Commits whose history is excluded; empty: the tip's whole history.
    pub hide: Vec<git2::Oid>,
    /// Facts worth telling the user (a new branch scanned whole).
    pub notes: Vec<String>,
}

/// Resolves `range` in `repo`.
pub fn resolve(repo: &git2::Repository, range: &str) -> Result<ResolvedRange> {
    let range = range.trim();
    let (base, tip, merge_base) = if let Some((a, b)) = range.split_once("...") {
        (a, b, true)
    } else if let Some((a, b)) = range.split_once("..") {
        (a, b, false)
    } else {
        (range, "HEAD", false)
    };
    let tip_name = if tip.is_empty() { "HEAD" } else { tip };
    let tip = commit(repo, tip_name).ok_or_else(|| {
        anyhow!("`{tip_name}` is not a commit in this clone: check the range, or fetch the branch it names")
    })?;
    let mut notes = Vec::new();
    if base.is_empty() || is_null_sha(base) {
        notes.push(format!(
            "the range has no base commit (a newly pushed branch): every commit reachable from {tip_name} was scanned"
        ));
        return Ok(ResolvedRange { tip, hide: Vec::new(), notes });
    }
    let Some(base_commit) = commit(repo, base) else {
        if parent_of_a_root(repo, base) {
            notes.push(format!(
                "`{base}` is the parent of a root commit: the whole history up to {tip_name} was scanned"
            ));
            return Ok(ResolvedRange { tip, hide: Vec::new(), notes });
        }
        let shallow = if repo.is_shallow() { " This is a shallow clone." } else { "" };
        bail!(
            "the base commit `{base}` is not in this clone.{shallow} Fetch it first (GitHub Actions: \
             actions/checkout with `fetch-depth: 0`; or `git fetch origin <base branch>`), then run again"
        );
    };
    let hide = if merge_base {
        let Ok(found) = repo.merge_base(base_commit, tip) else {
            bail!(
                "`{base}` and `{tip_name}` have no common ancestor in this clone (a shallow clone cuts it off): \
                 fetch more history (`fetch-depth: 0`) or give `BASE..HEAD`"
            );
        };
        found
    } else {
        base_commit
    };
    Ok(ResolvedRange { tip, hide: vec![hide], notes })
}

fn commit(repo: &git2::Repository, name: &str) -> Option<git2::Oid> {
    repo.revparse_single(name).ok()?.peel_to_commit().ok().map(|c| c.id())
}

/// `0000000000000000000000000000000000000000`: the `before` a push event
/// reports for a branch that did not exist.
fn is_null_sha(name: &str) -> bool {
    name.len() >= 7 && name.bytes().all(|b| b == b'0')
}

/// `ROOT~1`, `ROOT^` or `ROOT~`: the parent a root commit does not have.
fn parent_of_a_root(repo: &git2::Repository, name: &str) -> bool {
    let stem = name.strip_suffix("~1").or_else(|| name.strip_suffix('^')).or_else(|| name.strip_suffix('~'));
    let Some(stem) = stem else { return false };
    commit(repo, stem).and_then(|id| repo.find_commit(id).ok()).is_some_and(|c| c.parent_count() == 0)
}

/// Whether `repo` is a partial clone: objects it lacks can be fetched from
/// a promisor remote.
pub fn is_partial_clone(repo: &git2::Repository) -> bool {
    let Ok(config) = repo.config() else { return false };
    if config.get_string("extensions.partialclone").is_ok() {
        return true;
    }
    let Ok(mut entries) = config.entries(Some(r"remote\..*\.promisor")) else { return false };
    let mut promisor = false;
    while let Some(Ok(entry)) = entries.next() {
        promisor |= entry.value().is_ok_and(|v| v == "true");
    }
    promisor
}

/// Fetches, through git, every tree and blob the commits of `range` touch
/// (git batches the missing objects of each commit into one request), so
/// that libgit2 finds them locally afterwards. Errors are git's own words.
pub fn prefetch(git_dir: &Path, range: &ResolvedRange) -> Result<()> {
    let mut args: Vec<String> =
        ["log", "-p", "-m", "--no-color", "--no-ext-diff", "--no-textconv", "--format=%H"].map(String::from).to_vec();
    args.push(range.tip.to_string());
    args.extend(range.hide.iter().map(|h| format!("^{h}")));
    let output = Command::new("git")
        .arg("--git-dir")
        .arg(git_dir)
        .args(&args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| anyhow!("this is a partial clone, and fetching its missing objects needs git on PATH: {e}"))?;
    if !output.status.success() {
        let why = String::from_utf8_lossy(&output.stderr);
        let why = why.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("git log failed").trim();
        bail!(
            "this is a partial clone and the objects the range needs could not be fetched from its remote ({why}): \
             clone without --filter, or make the remote reachable"
        );
    }
    Ok(())
}
