//! The filesystem source: a parallel walk (the `ignore` crate, as ripgrep
//! uses it) that reads each regular file once and hands it to the sink.
//!
//! Scanning happens on the walker's own threads, each reusing one read
//! buffer, so memory stays at (threads × largest file read) and no channel
//! sits between reading and matching.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use ignore::{WalkBuilder, WalkState};

use super::{BlobSink, looks_binary, read_capped};
use crate::outcome::{Skip, SkipReason};

#[derive(Debug, Clone)]
pub struct WalkOptions {
    /// Honour .gitignore, .ignore and git's exclude files.
    pub respect_ignore_files: bool,
    pub follow_symlinks: bool,
    pub max_file_size: u64,
    pub threads: usize,
    /// Set (by a Ctrl-C handler) to stop walking and keep what was found.
    pub cancel: Option<&'static AtomicBool>,
}

/// Walks every root and feeds its files to `sink`. Paths handed to the sink
/// are relative to the root they were found under (a root that is itself a
/// file keeps the path as given).
pub fn walk(roots: &[PathBuf], options: &WalkOptions, sink: &dyn BlobSink) {
    for root in roots {
        walk_root(root, options, sink);
    }
}

fn walk_root(root: &Path, options: &WalkOptions, sink: &dyn BlobSink) {
    let root_is_dir = root.is_dir();
    if !root_is_dir && root.metadata().is_ok_and(|m| m.is_file()) {
        // A file named on the command line (a hook's staged file, an editor
        // buffer): read it here; starting walker threads would cost more
        // than the scan.
        let display = root.to_string_lossy();
        return read_file(root, &display, options.max_file_size, &mut Vec::new(), sink);
    }
    let mut builder = WalkBuilder::new(root);
    builder
        .hidden(false) // `.env` files are where keys live
        .ignore(options.respect_ignore_files)
        .git_ignore(options.respect_ignore_files)
        .git_global(options.respect_ignore_files)
        .git_exclude(options.respect_ignore_files)
        .parents(options.respect_ignore_files)
        .require_git(true) // like ripgrep: .gitignore only counts inside a git repository
        .follow_links(options.follow_symlinks)
        .threads(options.threads)
        // Never descend into git's object store: history is `leakhound git`'s job.
        .filter_entry(|entry| entry.file_name() != ".git");
    let display = |path: &Path| -> String {
        let relative = if root_is_dir { path.strip_prefix(root).unwrap_or(path) } else { path };
        relative.to_string_lossy().into_owned()
    };
    builder.build_parallel().run(|| {
        let mut buffer = Vec::new();
        Box::new(move |entry| {
            if options.cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
                return WalkState::Quit;
            }
            match entry {
                Ok(entry) => {
                    let Some(file_type) = entry.file_type() else {
                        return WalkState::Continue;
                    };
                    if file_type.is_file() {
                        read_file(entry.path(), &display(entry.path()), options.max_file_size, &mut buffer, sink);
                    } else if !file_type.is_dir() && !file_type.is_symlink() {
                        // Symlinks reach here only when not followed: they are
                        // left alone, like ripgrep does without -L.
                        sink.skipped(Skip {
                            path: display(entry.path()),
                            reason: SkipReason::NotAFile,
                            detail: "not a regular file (FIFO, socket or device)".into(),
                        });
                    }
                }
                Err(error) => sink.skipped(skip_for_walk_error(&error, &display)),
            }
            WalkState::Continue
        })
    });
}

fn read_file(path: &Path, display: &str, max_file_size: u64, buffer: &mut Vec<u8>, sink: &dyn BlobSink) {
    let unreadable =
        |e: std::io::Error| Skip { path: display.to_string(), reason: SkipReason::Unreadable, detail: e.to_string() };
    let file = match File::open(path) {
        Ok(f) => f,
        // The walk listed it a moment ago: it was deleted (or renamed) while
        // the scan ran. Say so, rather than a bare "No such file".
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return sink.skipped(Skip {
                path: display.to_string(),
                reason: SkipReason::Unreadable,
                detail: format!("vanished during the scan (deleted or renamed after it was listed): {e}"),
            });
        }
        Err(e) => return sink.skipped(unreadable(e)),
    };
    let too_large = |size: u64| Skip {
        path: display.to_string(),
        reason: SkipReason::TooLarge,
        detail: format!("{size} bytes is over the {max_file_size}-byte limit (--max-file-size)"),
    };
    if let Ok(meta) = file.metadata()
        && meta.len() > max_file_size
    {
        return sink.skipped(too_large(meta.len()));
    }
    match read_capped(file, max_file_size, buffer) {
        Ok(true) => {}
        Ok(false) => return sink.skipped(too_large(buffer.len() as u64)),
        Err(e) => return sink.skipped(unreadable(e)),
    }
    if looks_binary(buffer, display) {
        return sink.skipped(Skip {
            path: display.to_string(),
            reason: SkipReason::Binary,
            detail: "NUL byte in the first 8 KiB".into(),
        });
    }
    sink.blob(display, buffer);
}

fn skip_for_walk_error(error: &ignore::Error, display: &dyn Fn(&Path) -> String) -> Skip {
    let path = walk_error_path(error).map(display).unwrap_or_default();
    let is_loop = walk_error_is_loop(error);
    Skip {
        path,
        reason: if is_loop { SkipReason::SymlinkLoop } else { SkipReason::Unreadable },
        detail: error.to_string(),
    }
}

fn walk_error_path(error: &ignore::Error) -> Option<&Path> {
    match error {
        ignore::Error::WithPath { path, .. } => Some(path),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => walk_error_path(err),
        ignore::Error::Loop { child, .. } => Some(child),
        _ => None,
    }
}

fn walk_error_is_loop(error: &ignore::Error) -> bool {
    match error {
        ignore::Error::Loop { .. } => true,
        ignore::Error::WithPath { err, .. }
        | ignore::Error::WithDepth { err, .. }
        | ignore::Error::WithLineNumber { err, .. } => walk_error_is_loop(err),
        _ => false,
    }
}
