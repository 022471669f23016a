//! Sources: where bytes come from. A source walks something (a directory
//! tree, stdin, later git history), reads each blob once, and hands it to a
//! [`BlobSink`]. Sources know nothing about rules or findings.

pub mod fs;
pub mod git;
pub mod stdin;

use crate::decode;
use crate::outcome::Skip;

/// Receives blobs from a source. Called from many threads at once.
pub trait BlobSink: Sync {
    /// One readable blob; `path` is what findings will report.
    fn blob(&self, path: &str, bytes: &[u8]);
    /// Something the source could not or would not read.
    fn skipped(&self, skip: Skip);
}

/// Bytes inspected for NUL to call a blob binary (as git and ripgrep do).
pub const BINARY_SNIFF_LEN: usize = 8 * 1024;

/// Git's heuristic: a NUL byte in the first 8 KiB means binary. UTF-16
/// text and containers also have NULs but are worth scanning (the decoders
/// read them): they are not binary here. Containers are told by content
/// (zip, tar, gzip, bzip2, xz, zstd, lz4, CRX, asar, PDF); `path` (empty
/// when unknown) lets a zip-family file with a prefix (a self-extracting
/// `.jar`, `.ipa`, `.crx`) count as one.
pub fn looks_binary(bytes: &[u8], path: &str) -> bool {
    let head = &bytes[..bytes.len().min(BINARY_SNIFF_LEN)];
    memchr::memchr(0, head).is_some() && !looks_utf16(head) && !decode::is_container(bytes, path)
}

/// UTF-16 text: a byte-order mark, or NULs in (almost) every other byte of
/// one parity and (almost) none of the other, as ASCII text in UTF-16 has.
fn looks_utf16(head: &[u8]) -> bool {
    if head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]) {
        return true;
    }
    let pairs = head.len() / 2;
    if pairs < 8 {
        return false;
    }
    let even = head.iter().step_by(2).filter(|&&b| b == 0).count();
    let odd = head.iter().skip(1).step_by(2).filter(|&&b| b == 0).count();
    let (many, few) = (pairs * 7 / 10, pairs / 20);
    (even >= many && odd <= few) || (odd >= many && even <= few)
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
