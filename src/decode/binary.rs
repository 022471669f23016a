//! Strings in binaries (chain `utf-16-strings`).
//!
//! A compiled program, a `.class`, a `.dex`, a SQLite page or a `.pyc` holds
//! its string literals among other bytes. ASCII and UTF-8 strings need no
//! view: the detector runs the binary rules (prefix rules without their
//! boundaries) on the raw bytes. UTF-16 strings (Android `resources.arsc`
//! and binary XML, the .NET `#US` heap, Windows resources, UTF-16 SQLite
//! databases) interleave their characters with zero bytes, so this module
//! gathers every run of at least [`MIN_CHARS`] printable ASCII characters
//! stored as UTF-16 (a character byte, then a zero byte, at either
//! alignment, which covers big-endian too) into one view, a newline after
//! each run; each character maps back to its offset in the file.

use super::map::ViewBuf;
use super::{Limits, View, cap};

/// Shortest run worth keeping: shorter ones are identifiers and noise, and
/// no key is shorter.
const MIN_CHARS: usize = 16;

/// The UTF-16 strings of `bytes`, or nothing when it has none.
pub fn utf16_strings(bytes: &[u8], limits: &Limits) -> Option<View> {
    let mut buf = ViewBuf::default();
    let budget = cap(limits);
    let mut run: Vec<u8> = Vec::new();
    for alignment in 0..2 {
        let mut start = alignment;
        let mut i = alignment;
        while i + 1 < bytes.len() {
            let (c, z) = (bytes[i], bytes[i + 1]);
            if z == 0 && (0x20..=0x7e).contains(&c) {
                if run.is_empty() {
                    start = i;
                }
                run.push(c);
            } else {
                flush(&mut run, start, &mut buf);
            }
            i += 2;
        }
        flush(&mut run, start, &mut buf);
        if buf.len() >= budget {
            buf.truncate(budget);
            break;
        }
    }
    (!buf.bytes.is_empty()).then(|| View {
        bytes: buf.bytes,
        chain: vec!["utf-16-strings"],
        map: buf.map.finish(),
        note: None,
    })
}

/// Adds `run` (decoded from UTF-16 starting at `start`) to the view if it is
/// long enough, then empties it.
fn flush(run: &mut Vec<u8>, start: usize, buf: &mut ViewBuf) {
    if run.len() >= MIN_CHARS {
        buf.ratio(run, start, 1, 2);
        let end = start + 2 * run.len();
        buf.point(b"\n", end);
    }
    run.clear();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16le(text: &str) -> Vec<u8> {
        text.encode_utf16().flat_map(u16::to_le_bytes).collect()
    }

    #[test]
    fn utf16_runs_at_either_alignment_map_back_to_their_bytes() {
        let key = "sk-ant-api03-Qx7Lm2Vb9Tn4Rk8Wd3";
        let mut bytes = vec![0x7f, b'E', b'L', b'F', 0x01];
        let at = bytes.len();
        bytes.extend(utf16le(key));
        bytes.extend([0xff, 0x03, 0x00]);
        let view = utf16_strings(&bytes, &Limits::default()).unwrap();
        let text = String::from_utf8(view.bytes.clone()).unwrap();
        let found = text.find(key).unwrap();
        assert_eq!(view.map.to_original(found), at);
        assert_eq!(view.map.to_original(found + 4), at + 8);
        assert!(utf16_strings(b"\x00\x01plain ascii, no utf-16 here at all", &Limits::default()).is_none());
    }
}
