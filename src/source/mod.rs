//! Sources: where bytes come from. A source walks something (a directory
//! tree, stdin, later git history), reads each blob once, and hands it to a
//! [`BlobSink`]. Sources know nothing about rules or findings.

pub mod fs;
pub mod git;
pub mod stdin;

use serde::Serialize;

/// Receives blobs from a source. Called from many threads at once.
pub trait BlobSink: Sync {
    /// One readable blob; `path` is what findings will report.
    fn blob(&self, path: &str, bytes: &[u8]);
    /// Something the source could not or would not read.
    fn skipped(&self, skip: Skip);
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
    /// NUL bytes near the start: not text.
    Binary,
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
            SkipReason::TooLarge => "too-large",
            SkipReason::NotAFile => "not-a-file",
            SkipReason::SymlinkLoop => "symlink-loop",
            SkipReason::Unreadable => "unreadable",
        }
    }
}

/// Bytes inspected for NUL to call a blob binary (as git and ripgrep do).
pub const BINARY_SNIFF_LEN: usize = 8 * 1024;

/// Git's heuristic: a NUL byte in the first 8 KiB means binary.
pub fn looks_binary(bytes: &[u8]) -> bool {
    memchr::memchr(0, &bytes[..bytes.len().min(BINARY_SNIFF_LEN)]).is_some()
}

/// Reads at most `max + 1` bytes of `reader` into `buf` (cleared first), so
/// a file that grew past its stat size is still caught by the size cap.
/// Returns `Ok(false)` when the content exceeds `max`.
pub fn read_capped(reader: impl std::io::Read, max: u64, buf: &mut Vec<u8>) -> std::io::Result<bool> {
    use std::io::Read;
    buf.clear();
    reader.take(max.saturating_add(1)).read_to_end(buf)?;
    Ok(buf.len() as u64 <= max)
}
