//! `leakhound scan PATH...`: files, directory trees and standard input.

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::outcome::ScanOutcome;
use crate::scan::Collector;
use crate::source::{self, fs::WalkOptions};

use crate::cli::args::ScanArgs;
use crate::cli::interrupt;
use crate::cli::settings::{Session, thread_count};

pub fn run(args: ScanArgs) -> Result<u8> {
    let (session, outcome) = scan_paths(&args)?;
    session.finish(outcome, &args.verify, &args.output)
}

/// The filesystem/stdin scan shared by `scan` and `baseline create`.
pub fn scan_paths(args: &ScanArgs) -> Result<(Session, ScanOutcome)> {
    let paths = if args.paths.is_empty() { vec![PathBuf::from(".")] } else { args.paths.clone() };
    if let Some(repo) = paths.iter().find(|p| is_object_store(p)) {
        anyhow::bail!(
            "{} is a git repository's object store, not a tree of files: to audit its history, run `leakhound git {}`",
            repo.display(),
            repo.display()
        );
    }
    let root = paths.iter().find(|p| p.as_os_str() != "-").cloned().unwrap_or_else(|| PathBuf::from("."));
    let mut session = Session::start(&root, &args.output, args.max_file_size)?;
    let shown = |p: &PathBuf| {
        if p.as_os_str() == "-" {
            "standard input".into()
        } else {
            p.canonicalize().unwrap_or_else(|_| p.clone()).display().to_string()
        }
    };
    session.title = paths.iter().map(shown).collect::<Vec<String>>().join(", ");
    let collector = Collector::new(&session.detector);
    let (stdin, files): (Vec<PathBuf>, Vec<PathBuf>) = paths.into_iter().partition(|p| p.as_os_str() == "-");
    if !stdin.is_empty() {
        source::stdin::read(session.max_file_size, &collector);
    }
    let options = WalkOptions {
        respect_ignore_files: !args.no_ignore && session.respect_ignore_files,
        follow_symlinks: args.follow,
        max_file_size: session.max_file_size,
        threads: thread_count(args.output.threads),
        cancel: Some(interrupt::flag()),
    };
    let excluded = source::fs::walk(&files, &options, &collector);
    let mut outcome = collector.finish();
    if !files.is_empty() {
        outcome.stats.excluded_by_ignore_files = excluded;
    }
    Ok((session, outcome))
}

/// A bare repository or a `.git` folder: `scan` would find nothing in its
/// packed objects, silently.
fn is_object_store(path: &Path) -> bool {
    path.is_dir()
        && path.join("HEAD").is_file()
        && path.join("objects").is_dir()
        && path.join("refs").is_dir()
        && !path.join(".git").exists()
}
