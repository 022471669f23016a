//! A zip found by its end. A self-extracting program, a launcher script
//! before a jar, a zipapp's `#!` line: such files start with something
//! else, but the zip's end record (and the central directory it points at)
//! still says where the zip is. Reading them from the end, and only when
//! the three records agree (a stray `PK\x05\x06` in a binary is not
//! enough), opens such a zip whatever its name: a git object has none.

/// The end record: signature, disk numbers, entry counts, the central
/// directory's size and offset, the comment's length.
const END_RECORD: usize = 22;

/// Bytes from the end where the end record may start (the longest comment).
const TAIL: usize = END_RECORD + 0xffff;

/// Bytes from the end that must hold a NUL before the tail is searched: an
/// end record holds several (disk numbers, high bytes of counts), text none,
/// so a text file costs one `memchr` over its last 4 KiB at most.
const NUL_WINDOW: usize = 4096;

/// A central directory entry: fixed fields before the name.
const CENTRAL_ENTRY: usize = 46;

fn u16_at(bytes: &[u8], at: usize) -> Option<usize> {
    Some(u16::from_le_bytes(bytes.get(at..at + 2)?.try_into().ok()?) as usize)
}

fn u32_at(bytes: &[u8], at: usize) -> Option<usize> {
    usize::try_from(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?)).ok()
}

/// Where the zip at the end of `bytes` starts (its first local header):
/// the end record closes the file (its comment runs to the last byte), the
/// central directory sits right before it, and that directory's first entry
/// points at a local header. Offsets may count from the file's start (a
/// stub added with `zip -A`) or from the zip's (a plain `cat stub app.zip`).
/// `None` for zip64 archives, whose sizes are in another record.
pub(super) fn start(bytes: &[u8]) -> Option<usize> {
    let len = bytes.len();
    memchr::memrchr(0, &bytes[len.saturating_sub(NUL_WINDOW)..])?;
    let from = len.saturating_sub(TAIL);
    // Candidates from the end: most zips have no comment, so the first one
    // tried is the record in the last 22 bytes.
    let at = memchr::memrchr_iter(b'P', &bytes[from..len.saturating_sub(END_RECORD - 1)])
        .map(|i| from + i)
        .find(|&at| bytes[at..].starts_with(b"PK\x05\x06") && u16_at(bytes, at + 20) == Some(len - at - END_RECORD))?;
    let (entries, size, offset) = (u16_at(bytes, at + 10)?, u32_at(bytes, at + 12)?, u32_at(bytes, at + 16)?);
    if entries == 0 || entries == 0xffff || size == 0xffff_ffff || offset == 0xffff_ffff {
        return None;
    }
    let directory = at.checked_sub(size)?;
    // Bytes before the zip that its offsets do not count (0 when they do).
    let shift = directory.checked_sub(offset)?;
    let entry = bytes.get(directory..directory + CENTRAL_ENTRY)?;
    if !entry.starts_with(b"PK\x01\x02") {
        return None;
    }
    let local = shift.checked_add(u32_at(entry, 42)?)?;
    bytes.get(local..local + 4).filter(|&magic| magic == b"PK\x03\x04").map(|_| local)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::test_archives::zip_of;

    #[test]
    fn a_prefix_is_found_by_the_records_at_the_end() {
        let zip = zip_of(&[("a.txt", b"hello"), ("b.txt", b"world")]);
        assert_eq!(start(&zip), Some(0));
        let stub = b"#!/bin/sh\nexec java -jar \"$0\" \"$@\"\n\x7fELF\x00\x00".repeat(50);
        let prefixed = [&stub[..], &zip].concat();
        assert_eq!(start(&prefixed), Some(stub.len()));
        // Offsets counted from the file's start (what `zip -A` writes).
        let mut adjusted = prefixed.clone();
        let end = adjusted.len() - END_RECORD;
        let cd = u32_at(&adjusted, end + 16).unwrap() + stub.len();
        adjusted[end + 16..end + 20].copy_from_slice(&(cd as u32).to_le_bytes());
        let mut at = cd;
        while adjusted[at..].starts_with(b"PK\x01\x02") {
            let local = u32_at(&adjusted, at + 42).unwrap() + stub.len();
            adjusted[at + 42..at + 46].copy_from_slice(&(local as u32).to_le_bytes());
            at += CENTRAL_ENTRY + u16_at(&adjusted, at + 28).unwrap() + u16_at(&adjusted, at + 30).unwrap();
        }
        assert_eq!(start(&adjusted), Some(stub.len()));
        // A comment after the record.
        let mut commented = prefixed.clone();
        let n = commented.len();
        commented[n - 2..].copy_from_slice(&7u16.to_le_bytes());
        commented.extend(b"comment");
        assert_eq!(start(&commented), Some(stub.len()));
    }

    #[test]
    fn a_stray_end_record_is_not_a_zip() {
        let zip = zip_of(&[("a.txt", b"hello")]);
        let end = &zip[zip.len() - END_RECORD..];
        // The record alone, with text or random bytes before it.
        assert_eq!(start(&[b"some text\n".repeat(20).as_slice(), end].concat()), None);
        assert_eq!(start(&[&[0u8; 300][..], end].concat()), None);
        // Bytes after the record that its comment length does not cover.
        assert_eq!(start(&[&zip[..], b"\x00trailing"].concat()), None);
        // Text has no NUL: not searched at all; short and empty blobs are fine.
        assert_eq!(start(b"PK\x05\x06 in a text file"), None);
        assert_eq!(start(b""), None);
        assert_eq!(start(b"PK\x05\x06"), None);
        // A central directory that points at no local header.
        let mut broken = zip.clone();
        broken[0] = b'X';
        assert_eq!(start(&broken), None);
    }
}
