//! `leakhound git`: a repository's whole history, a commit range for CI,
//! or every repository of a list (`--repos`, sharded for large fleets).

use std::io::{self, IsTerminal};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Result;

use crate::history::audit::{AuditOptions, audit};
use crate::history::changes::scan_range;
use crate::org::{self, Shard};
use crate::outcome::ScanOutcome;
use crate::source::git::GitRepo;

use crate::cli::args::GitArgs;
use crate::cli::interrupt;
use crate::cli::settings::{Session, thread_count};

pub fn run(args: GitArgs) -> Result<u8> {
    if let Some(list) = args.repos.repos.clone() {
        return run_list(&list, args);
    }
    let r = &args.repos;
    if r.clone_dir.is_some() || r.clone_timeout.is_some() || r.shard.is_some() || r.shard_index_env.is_some() {
        anyhow::bail!("--clone-dir, --clone-timeout, --shard and --shard-index-env go with --repos FILE");
    }
    let repo = GitRepo::open(&args.repo)?;
    let mut session = Session::start(&repo_root(&repo), &args.output, args.max_file_size)?;
    let range = args.range.clone().or(args.since_commit.clone());
    session.title = match &range {
        Some(range) => format!("commits {range} of {}", session.title),
        None => format!("git history of {}", session.title),
    };
    let outcome = match range {
        Some(range) => scan_range(&repo, &session.detector, &range, session.max_file_size)?,
        None => narrowed(audit(&repo, &session.detector, &audit_options(&args, &session))?, &args),
    };
    session.finish(outcome, &args.verify, &args.output)
}

/// `--since` and `--branch`: the audit's findings introduced since a date,
/// or in the history of the named refs (the whole store is still decoded
/// once: narrowing the report is cheap, narrowing the decode is not).
fn narrowed(mut outcome: ScanOutcome, args: &GitArgs) -> ScanOutcome {
    let wanted = |name: &str| {
        args.branch.iter().any(|b| {
            name == b || ["refs/heads/", "refs/tags/", "refs/remotes/"].iter().any(|p| name.strip_prefix(p) == Some(b))
        })
    };
    let before = outcome.findings.len();
    outcome.findings.retain(|f| {
        let Some(git) = &f.git else { return true };
        let recent = args.since.is_none_or(|since| {
            time::OffsetDateTime::parse(&git.date, &time::format_description::well_known::Rfc3339)
                .is_ok_and(|d| d >= since)
        });
        recent && (args.branch.is_empty() || git.branches.iter().any(|r| wanted(r)))
    });
    if outcome.findings.len() < before {
        let mut why = Vec::new();
        if let Some(since) = args.since {
            why.push(format!("introduced since {}", since.date()));
        }
        if !args.branch.is_empty() {
            why.push(format!("in the history of {}", args.branch.join(", ")));
        }
        outcome.notes.push(format!(
            "{} of {} findings shown: only keys {}",
            outcome.findings.len(),
            before,
            why.join(" and ")
        ));
    }
    outcome.stats.findings = outcome.findings.len() as u64;
    outcome
}

/// Where a repository's `.leakhound.toml` lives: its work tree, or the
/// repository directory itself when bare.
fn repo_root(repo: &GitRepo) -> PathBuf {
    repo.repo.workdir().map_or_else(|| repo.open_path.clone(), Path::to_path_buf)
}

fn audit_options(args: &GitArgs, session: &Session) -> AuditOptions {
    AuditOptions {
        all_objects: args.all_objects,
        max_blob_size: session.max_file_size,
        threads: thread_count(args.output.threads),
        max_memory: args.max_memory,
        progress: io::stderr().is_terminal(),
        cancel: Some(interrupt::flag()),
    }
}

/// `git --repos FILE`: every listed repository (or one shard of them)
/// audited into one report whose findings name their `repository`.
fn run_list(list_file: &Path, args: GitArgs) -> Result<u8> {
    let list = org::read_repo_list(list_file)?;
    for warning in &list.warnings {
        eprintln!("leakhound: warning: {}: {warning}", list_file.display());
    }
    let shard = match (args.repos.shard, &args.repos.shard_index_env, args.repos.shard_count) {
        (Some(shard), _, _) => Some(shard),
        (None, Some(var), Some(count)) => Some(Shard::from_env(var, count)?),
        _ => None,
    };
    let entries = match shard {
        Some(shard) => org::select(&list.entries, shard),
        None => list.entries.clone(),
    };
    // Settings come from --config or ./.leakhound.toml, not from each repository.
    let mut session = Session::start(Path::new("."), &args.output, args.max_file_size)?;
    let of_shard = shard.map(|s| format!(" (shard {s})")).unwrap_or_default();
    session.title = format!(
        "git history of {} of the {} repositories listed in {}{of_shard}",
        entries.len(),
        list.entries.len(),
        list_file.display()
    );
    eprintln!("leakhound: auditing the {}", session.title);
    let fetch = org::FetchOptions {
        clone_dir: args.repos.clone_dir.clone().unwrap_or_else(|| PathBuf::from(".leakhound-clones")),
        timeout: Duration::from_secs(args.repos.clone_timeout.unwrap_or(600).max(1)),
        cancel: Some(interrupt::flag()),
    };
    let options = audit_options(&args, &session);
    let outcome = org::audit_repos(&entries, &session.detector, &options, &fetch, &org::stderr_progress);
    session.finish(outcome, &args.verify, &args.output)
}
