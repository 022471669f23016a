//! UTF-16 text (chain `utf-16le` / `utf-16be`).
//!
//! Windows tools write UTF-16: PowerShell's `>` redirection, `.reg`
//! exports, some `.ps1`, `.vbs` and `.rdp` files, SQL Server scripts. In
//! UTF-16LE a key's bytes are interleaved with NULs (`s\0k\0-\0`), so no
//! pattern matches. With a BOM (`FF FE` / `FE FF`), or without one when the
//! first 4 KiB has NULs at most odd (LE) or even (BE) positions and almost
//! none at the others, the whole blob is converted to one UTF-8 view,
//! kept only if it reads as text. Each decoded byte maps to the start of its
//! UTF-16 code unit, so newlines counted in the original up to that offset
//! give the right line. A UTF-8 BOM needs nothing (the engine skips it).

use memchr::memchr;

use super::map::ViewBuf;
use super::{Limits, View, cap, mostly_text};

/// Bytes sniffed for NUL patterns when there is no BOM.
const SNIFF: usize = 4096;

/// The byte order of `bytes` and where its text starts, if it is UTF-16.
fn detect(bytes: &[u8]) -> Option<(bool, usize)> {
    match bytes {
        [0xFF, 0xFE, 0, 0, ..] => None, // UTF-32LE
        [0xFF, 0xFE, ..] => Some((true, 2)),
        [0xFE, 0xFF, ..] => Some((false, 2)),
        _ => {
            let sample = &bytes[..bytes.len().min(SNIFF) & !1];
            if sample.len() < 8 || memchr(0, sample).is_none() {
                return None;
            }
            let pairs = sample.len() / 2;
            let (mut even, mut odd) = (0, 0);
            for pair in sample.chunks_exact(2) {
                even += usize::from(pair[0] == 0);
                odd += usize::from(pair[1] == 0);
            }
            let mostly = |n: usize| n * 10 >= pairs * 4;
            let rarely = |n: usize| n * 20 <= pairs;
            if mostly(odd) && rarely(even) {
                Some((true, 0))
            } else if mostly(even) && rarely(odd) {
                Some((false, 0))
            } else {
                None
            }
        }
    }
}

pub(crate) fn decode(bytes: &[u8], limits: &Limits) -> Option<View> {
    let (le, start) = detect(bytes)?;
    // Binary data with NULs in the right places fails on its first KiBs.
    if !mostly_text(&convert(bytes, start, le, SNIFF).bytes) {
        return None;
    }
    let view = convert(bytes, start, le, cap(limits));
    if !mostly_text(&view.bytes) {
        return None;
    }
    let (bytes, map) = view.finish();
    Some(View { bytes, chain: vec![if le { "utf-16le" } else { "utf-16be" }], map, note: None })
}

/// UTF-8 of the UTF-16 text from `start`, up to about `cap` bytes; ASCII
/// runs map at one byte per code unit, other characters to their unit.
fn convert(bytes: &[u8], start: usize, le: bool, cap: usize) -> ViewBuf {
    let unit = |i: usize| -> u16 {
        let (a, b) = (bytes[i], bytes[i + 1]);
        if le { u16::from_le_bytes([a, b]) } else { u16::from_be_bytes([a, b]) }
    };
    let mut view = ViewBuf::default();
    let mut ascii: Vec<u8> = Vec::new();
    let mut ascii_at = start;
    let mut i = start;
    let mut utf8 = [0u8; 4];
    while i + 1 < bytes.len() && view.len() + ascii.len() < cap {
        let u = unit(i);
        if u < 0x80 {
            if ascii.is_empty() {
                ascii_at = i;
            }
            ascii.push(u as u8);
            i += 2;
            continue;
        }
        view.ratio(&ascii, ascii_at, 1, 2);
        ascii.clear();
        let (c, used) = match u {
            0xD800..=0xDBFF if i + 3 < bytes.len() => {
                let lo = unit(i + 2);
                if (0xDC00..=0xDFFF).contains(&lo) {
                    let v = 0x10000 + ((u32::from(u) - 0xD800) << 10) + (u32::from(lo) - 0xDC00);
                    (char::from_u32(v).unwrap_or('\u{fffd}'), 4)
                } else {
                    ('\u{fffd}', 2)
                }
            }
            _ => (char::from_u32(u32::from(u)).unwrap_or('\u{fffd}'), 2),
        };
        view.point(c.encode_utf8(&mut utf8).as_bytes(), i);
        i += used;
    }
    view.ratio(&ascii, ascii_at, 1, 2);
    view
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "sk-ant-api03-Zq8Lm2Xv9Tb4Nc7Rk1Wp5Ys3Hd6Fg0Jx";

    fn le(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(u16::to_le_bytes).collect()
    }

    fn be(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(u16::to_be_bytes).collect()
    }

    #[test]
    fn bom_le_with_line_mapping() {
        let text = format!("Windows Registry Editor\r\n\r\n\"Key\"=\"{KEY}\"\r\ncafé 😀\r\n");
        let mut bytes = vec![0xFF, 0xFE];
        bytes.extend(le(&text));
        let view = decode(&bytes, &Limits::default()).unwrap();
        assert_eq!(view.chain, ["utf-16le"]);
        assert_eq!(view.bytes, text.as_bytes());
        let k = text.find("sk-").unwrap();
        let at = view.map.to_original(k);
        assert_eq!(at, 2 + 2 * text[..k].encode_utf16().count());
        // Line 3 of the original: two 0x0A bytes before the mapped offset.
        assert_eq!(bytes[..at].iter().filter(|&&b| b == b'\n').count(), 2);
        let e = text.find('é').unwrap();
        assert_eq!(view.map.to_original(e), view.map.to_original(e + 1));
        let smile = text.find('😀').unwrap();
        assert_eq!(view.map.to_original(smile + 3), 2 + 2 * text[..smile].encode_utf16().count());
    }

    #[test]
    fn no_bom_le_and_be_are_sniffed() {
        let text = format!("$env:OPENAI_API_KEY = \"{KEY}\"\n");
        let view = decode(&le(&text), &Limits::default()).unwrap();
        assert_eq!((view.bytes.as_slice(), view.chain[0]), (text.as_bytes(), "utf-16le"));
        let view = decode(&be(&text), &Limits::default()).unwrap();
        assert_eq!((view.bytes.as_slice(), view.chain[0]), (text.as_bytes(), "utf-16be"));
        assert_eq!(view.map.to_original(2), 4);
    }

    #[test]
    fn utf8_binary_and_odd_inputs_give_nothing() {
        assert!(decode("\u{feff}plain utf-8 text".as_bytes(), &Limits::default()).is_none());
        assert!(decode(b"plain text without nuls", &Limits::default()).is_none());
        let binary: Vec<u8> = (0..4096u32).map(|i| (i * 7919 % 251) as u8).collect();
        assert!(decode(&binary, &Limits::default()).is_none());
        assert!(decode(&[0xFF, 0xFE, 0x41], &Limits::default()).is_none());
        assert!(decode(&[0xFF, 0xFE, 0, 0xD8, 0x41, 0], &Limits::default()).is_some());
    }
}
