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
//!
//! Such a run spans 32 bytes or more, so it covers a whole 16-byte block at
//! a multiple of 16: the scan tests blocks, eight bytes at a time (zeros
//! where they must be, printable bytes between), and walks pair by pair only
//! outward from a block that passes. Machine code rarely passes, so a binary
//! costs about one read of its bytes per alignment.

use super::map::ViewBuf;
use super::{Limits, View, ascii_between, cap};

/// Shortest run worth keeping: shorter ones are identifiers and noise, and
/// no key is shorter.
const MIN_CHARS: usize = 16;

/// Bytes in a block the scan tests at once (a run of [`MIN_CHARS`] covers one).
const BLOCK: usize = 16;

/// The UTF-16 strings of `bytes`, or nothing when it has none.
pub fn utf16_strings(bytes: &[u8], limits: &Limits) -> Option<View> {
    // One pass over the blocks finds the runs at both alignments; those at
    // alignment 0 go into the view first, then those at 1.
    let mut runs: [Vec<(usize, usize)>; 2] = [Vec::new(), Vec::new()];
    let mut next = [0, 0];
    let mut block = 0;
    while block + BLOCK <= bytes.len() {
        for alignment in 0..2 {
            if block < next[alignment] || !block_is_utf16(&bytes[block..block + BLOCK], alignment) {
                continue;
            }
            // The maximal run of character pairs through this block.
            let mut start = block + alignment;
            while start >= 2 && is_char_pair(bytes, start - 2) {
                start -= 2;
            }
            let mut end = block + alignment;
            while is_char_pair(bytes, end) {
                end += 2;
            }
            if (end - start) / 2 >= MIN_CHARS {
                runs[alignment].push((start, end));
            }
            // Past the pair that ended the run: a later block cannot reach
            // back over it, so no run is found twice.
            next[alignment] = (end + 1).next_multiple_of(BLOCK);
        }
        block += BLOCK;
    }
    let mut buf = ViewBuf::default();
    let budget = cap(limits);
    let mut run: Vec<u8> = Vec::new();
    for &(start, end) in runs.iter().flatten() {
        run.clear();
        run.extend(bytes[start..end].iter().step_by(2));
        buf.ratio(&run, start, 1, 2);
        buf.point(b"\n", end);
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

/// Whether the pair at `i` is a printable ASCII character stored as UTF-16
/// (the character byte, then a zero byte).
fn is_char_pair(bytes: &[u8], i: usize) -> bool {
    matches!(bytes.get(i..i + 2), Some([c, 0]) if (0x20..=0x7e).contains(c))
}

/// Whether every byte of `block` at `alignment`'s parity is printable ASCII
/// and every other byte zero: what a block inside a run looks like.
fn block_is_utf16(block: &[u8], alignment: usize) -> bool {
    const EVEN: u64 = 0x00ff_00ff_00ff_00ff;
    const EVEN_HIGH: u64 = 0x0080_0080_0080_0080;
    let (chars, high) = if alignment == 0 { (EVEN, EVEN_HIGH) } else { (!EVEN, EVEN_HIGH << 8) };
    block.chunks_exact(8).all(|word| {
        let w = u64::from_le_bytes(word.try_into().unwrap_or_default());
        w & !chars == 0 && ascii_between(w, 0x1f, 0x7f) & high == high
    })
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

    /// The definition, pair by pair: every maximal run of at least
    /// `MIN_CHARS` character pairs, alignment 0 first, as (start, text).
    fn runs_by_definition(bytes: &[u8]) -> Vec<(usize, Vec<u8>)> {
        let mut out = Vec::new();
        for alignment in 0..2 {
            let mut i = alignment;
            while i + 1 < bytes.len() {
                let start = i;
                while is_char_pair(bytes, i) {
                    i += 2;
                }
                if (i - start) / 2 >= MIN_CHARS {
                    out.push((start, bytes[start..i].iter().step_by(2).copied().collect()));
                }
                i = if i == start { i + 2 } else { i };
            }
        }
        out
    }

    #[test]
    fn block_scan_finds_what_the_definition_does() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let (mut runs, mut odd) = (0, 0);
        for _ in 0..3_000 {
            let mut bytes = Vec::new();
            while bytes.len() < 300 {
                let r = next();
                match r % 5 {
                    // A run of random length and alignment, maybe broken by a bad pair.
                    0 | 1 => {
                        if r & 0x100 != 0 {
                            bytes.push(0);
                        }
                        for j in 0..(r >> 16) % 40 {
                            let c = if (r >> 24) % 7 == 0 && j == 20 { 0x80 } else { b'A' + (j as u8 % 26) };
                            bytes.extend([c, 0]);
                        }
                    }
                    2 => bytes.extend([0u8; 7]),
                    _ => bytes.extend((0..(r >> 8) % 24).map(|k| (r >> (k % 56)) as u8)),
                }
            }
            let view = utf16_strings(&bytes, &Limits::default());
            let want = runs_by_definition(&bytes);
            runs += want.len();
            odd += want.iter().filter(|(start, _)| start % 2 == 1).count();
            let Some(view) = view else {
                assert!(want.is_empty(), "{bytes:?}");
                continue;
            };
            let mut expected = Vec::new();
            for (_, text) in &want {
                expected.extend(text);
                expected.push(b'\n');
            }
            assert_eq!(view.bytes, expected, "{bytes:?}");
            let mut at = 0;
            for (start, text) in &want {
                assert_eq!(view.map.to_original(at), *start);
                assert_eq!(view.map.to_original(at + text.len() - 1), start + 2 * (text.len() - 1));
                at += text.len() + 1;
            }
        }
        assert!(runs > 3_000 && odd > 1_000, "{runs} runs, {odd} odd");
    }
}
