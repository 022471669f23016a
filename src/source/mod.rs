//! Sources: where bytes come from. A source walks something (a directory
//! tree, stdin, later git history), reads each blob once, and hands it to a
//! [`BlobSink`]. Sources know nothing about rules or findings.

pub mod fs;
pub mod git;
pub mod stdin;

use crate::outcome::Skip;

/// Receives blobs from a source. Called from many threads at once.
pub trait BlobSink: Sync {
    /// One readable blob; `path` is what findings will report.
    fn blob(&self, path: &str, bytes: &[u8]);
    /// A part of a file too large to read whole (`--max-file-size`): its
    /// bytes from `start`. Parts follow one another and overlap by a few
    /// lines, so a key on a part's edge is in a part.
    fn part(&self, path: &str, bytes: &[u8], start: PartStart);
    /// Something the source could not or would not read.
    fn skipped(&self, skip: Skip);
}

/// Where a part of a large file starts: the line of its first byte, and
/// that byte's column (1 unless the part starts inside a long line, as in
/// a binary with few newlines).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartStart {
    pub line: usize,
    pub column: usize,
    /// Bytes at the start of the part that the previous part held too (a
    /// key across the cut is whole in one of them): counted once.
    pub overlap: usize,
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
