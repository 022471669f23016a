//! The filesystem source: a parallel walk (the `ignore` crate, as ripgrep
//! uses it) that reads each regular file once and hands it to the sink.
//!
//! Scanning happens on the walker's own threads, each reusing one read
//! buffer, so memory stays at (threads × largest file read) and no channel
//! sits between reading and matching.
//!
//! The walker does not report what ignore files kept out, so it is counted
//! beside it: each directory it enters is listed once more (`read_dir`
//! only, file types from the listing, no `stat`), and what the walker
//! yields is subtracted from what the listings hold. Totals only, no
//! per-directory state; see `Tally`.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use ignore::{WalkBuilder, WalkState};

use super::{BlobSink, PartStart, read_capped};
use crate::decode::sniff::media_kind;
use crate::outcome::{Excluded, Skip, SkipReason};

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
/// file keeps the path as given). Returns what ignore files kept out, when
/// they were honoured and the walk ran to its end.
pub fn walk(roots: &[PathBuf], options: &WalkOptions, sink: &dyn BlobSink) -> Option<Excluded> {
    let tally = Arc::new(Tally::default());
    for root in roots {
        walk_root(root, options, sink, &tally);
    }
    let cancelled = options.cancel.is_some_and(|c| c.load(Ordering::Relaxed));
    (options.respect_ignore_files && !cancelled).then(|| tally.excluded())
}

/// Counts for what ignore files excluded: entries the walk's directories
/// list, less those the walker yielded and the `.git` entries it is told to
/// skip. A file created or deleted during the walk can skew it by one.
#[derive(Default)]
struct Tally {
    listed_files: AtomicU64,
    listed_dirs: AtomicU64,
    /// Yielded, or `.git` (skipped on purpose, not by an ignore file).
    passed_files: AtomicU64,
    passed_dirs: AtomicU64,
}

impl Tally {
    fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    fn passed(&self, is_dir: bool) {
        Tally::add(if is_dir { &self.passed_dirs } else { &self.passed_files }, 1);
    }

    /// Lists `dir` (entered by the walk): its children by type, a followed
    /// symlink by its target's.
    fn list(&self, dir: &Path, follow: bool) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        let (mut files, mut dirs) = (0, 0);
        for entry in entries.flatten() {
            let is_dir = match entry.file_type() {
                Ok(t) if t.is_symlink() && follow => entry.path().metadata().is_ok_and(|m| m.is_dir()),
                Ok(t) => t.is_dir(),
                Err(_) => false,
            };
            if is_dir { dirs += 1 } else { files += 1 }
        }
        Tally::add(&self.listed_files, files);
        Tally::add(&self.listed_dirs, dirs);
    }

    fn excluded(&self) -> Excluded {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        Excluded {
            files: get(&self.listed_files).saturating_sub(get(&self.passed_files)),
            directories: get(&self.listed_dirs).saturating_sub(get(&self.passed_dirs)),
        }
    }
}

fn walk_root(root: &Path, options: &WalkOptions, sink: &dyn BlobSink, tally: &Arc<Tally>) {
    let root_is_dir = root.is_dir();
    if !root_is_dir && root.metadata().is_ok_and(|m| m.is_file()) {
        // A file named on the command line (a hook's staged file, an editor
        // buffer): read it here; starting walker threads would cost more
        // than the scan.
        let display = root.to_string_lossy();
        read_file(root, &display, options.max_file_size, &mut Vec::new(), sink);
        return;
    }
    // Without ignore files nothing is excluded: no second listing.
    let counting = options.respect_ignore_files;
    let git_tally = Arc::clone(tally);
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
        .filter_entry(move |entry| {
            let git = entry.file_name() == ".git";
            if git && counting && entry.depth() > 0 {
                git_tally.passed(entry.file_type().is_some_and(|t| t.is_dir()));
            }
            !git
        });
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
                    if counting {
                        if entry.depth() > 0 {
                            tally.passed(file_type.is_dir());
                        }
                        if file_type.is_dir() {
                            tally.list(entry.path(), options.follow_symlinks);
                        }
                    }
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
                Err(error) => {
                    // A followed link the walker could not enter (a loop, a
                    // dangling target) was listed: it is not excluded.
                    if counting && options.follow_symlinks && walk_error_path(&error).is_some_and(is_symlink) {
                        tally.passed(walk_error_is_loop(&error));
                    }
                    sink.skipped(skip_for_walk_error(&error, &display))
                }
            }
            WalkState::Continue
        })
    });
}

/// Files over `--max-file-size` are read in parts up to this size; larger
/// ones (disk images, database dumps, sparse files) are skipped, with a note.
const MAX_STREAMED: u64 = 1 << 30;

/// Bytes of a large file handed over at once.
const PART: usize = 8 << 20;
/// Bytes of the previous part a part starts with (whole lines when it can).
const OVERLAP: usize = 4 << 10;

/// A file over `--max-file-size`, handed to `sink` in parts of [`PART`]
/// bytes cut at line ends, each starting a few lines before the previous
/// one ended: the size limit bounds memory and decoding, not detection.
fn read_parts(mut file: File, display: &str, sink: &dyn BlobSink) -> std::io::Result<()> {
    let mut buf: Vec<u8> = Vec::with_capacity(PART + OVERLAP);
    let mut at = PartStart { line: 1, column: 1, overlap: 0 };
    loop {
        let wanted = (PART + OVERLAP).saturating_sub(buf.len()) as u64;
        let read = (&mut file).take(wanted).read_to_end(&mut buf)?;
        let at_end = (read as u64) < wanted;
        if buf.is_empty() {
            return Ok(());
        }
        // Cut after the last line end in the part's second half, else at
        // PART: a cut near the start (a binary with one newline in its
        // header) would start the next part where this one started.
        let half = PART / 2;
        let cut =
            if at_end { buf.len() } else { memchr::memrchr(b'\n', &buf[half..PART]).map_or(PART, |i| half + i + 1) };
        sink.part(display, &buf[..cut], at);
        if at_end {
            return Ok(());
        }
        // Start the next part at a line start in the overlap, or (one long
        // line) OVERLAP bytes back.
        let from = cut.saturating_sub(OVERLAP);
        let start = memchr::memchr(b'\n', &buf[from..cut.saturating_sub(1)]).map_or(from, |i| from + i + 1);
        let overlap = cut - start;
        at = match memchr::memrchr(b'\n', &buf[..start]) {
            Some(nl) => PartStart {
                line: at.line + memchr::memchr_iter(b'\n', &buf[..start]).count(),
                column: start - nl,
                overlap,
            },
            None => PartStart { line: at.line, column: at.column + start, overlap },
        };
        buf.drain(..start);
    }
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
    if let Ok(meta) = file.metadata()
        && meta.len() > max_file_size
    {
        if meta.len() > MAX_STREAMED {
            return sink.skipped(Skip {
                path: display.to_string(),
                reason: SkipReason::TooLarge,
                detail: format!(
                    "{} bytes is over the {MAX_STREAMED}-byte limit for reading large files in parts \
                     (a disk image or a dump: scan what it holds instead)",
                    meta.len()
                ),
            });
        }
        return read_parts(file, display, sink).unwrap_or_else(|e| sink.skipped(unreadable(e)));
    }
    match read_capped(&file, max_file_size, buffer) {
        Ok(true) => {}
        // It grew past the limit after the stat: read it in parts after all.
        Ok(false) => {
            buffer.clear();
            let rewound = (&file).seek(SeekFrom::Start(0)).map(|_| ());
            return rewound
                .and_then(|()| read_parts(file, display, sink))
                .unwrap_or_else(|e| sink.skipped(unreadable(e)));
        }
        Err(e) => return sink.skipped(unreadable(e)),
    }
    if let Some(kind) = media_kind(buffer) {
        return sink.skipped(Skip { path: display.to_string(), reason: SkipReason::Media, detail: kind.into() });
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

fn is_symlink(path: &Path) -> bool {
    path.symlink_metadata().is_ok_and(|m| m.file_type().is_symlink())
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
