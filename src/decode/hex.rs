//! Hex-encoded text (chain `hex`).
//!
//! Obfuscated configs and some CI tools store a key as the hex of its bytes
//! (`736b2d616e742d...`), sometimes behind `0x`. A run of at least
//! [`MIN_DIGITS`] hex digits of even length and one letter case, standing
//! alone (not the tail of a longer word), is decoded when its first bytes
//! and then all of it read as text. Digests, ids and colours decode to
//! binary and are dropped after 16 bytes of work.

use super::map::ViewBuf;
use super::{Limits, View, ascii_between, cap, context_start, finish, mostly_text};

/// Shortest run taken (20 decoded bytes; shorter keys do not exist).
const MIN_DIGITS: usize = 40;
/// Longest run decoded.
const MAX_DIGITS: usize = 2 << 20;

/// The value of each hex digit (other bytes are never looked up: runs
/// hold only hex digits).
static NIBBLE: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 16 {
        t[b"0123456789abcdef"[i] as usize] = i as u8;
        t[b"0123456789ABCDEF"[i] as usize] = i as u8;
        i += 1;
    }
    t
};

/// Decodes `digits` (hex digits, an even number) into `out`.
fn decode_into(digits: &[u8], out: &mut Vec<u8>) {
    out.clear();
    out.extend(digits.chunks_exact(2).map(|pair| NIBBLE[pair[0] as usize] << 4 | NIBBLE[pair[1] as usize]));
}

/// Bit 7 of each byte of the result: that byte of `x` (ASCII) is not a
/// hex digit. Eight bytes at a time: long hex runs are digests, in crate
/// and lock files by the thousand, and each is read whole.
fn not_hex(x: u64) -> u64 {
    let digit = ascii_between(x, b'0' - 1, b'9' + 1);
    let letter = ascii_between(x | (u64::MAX / 255 * 0x20), b'a' - 1, b'f' + 1);
    !(digit | letter) & (u64::MAX / 255 * 0x80)
}

/// Offset of the last byte of `window` that is not a hex digit.
fn last_not_hex(window: &[u8]) -> Option<usize> {
    let mut end = window.len();
    while end >= 8 {
        let miss = not_hex(u64::from_le_bytes(window[end - 8..end].try_into().expect("8 bytes")));
        if miss != 0 {
            return Some(end - 8 + (63 - miss.leading_zeros() as usize) / 8);
        }
        end -= 8;
    }
    window[..end].iter().rposition(|b| !b.is_ascii_hexdigit())
}

/// How many hex digits `bytes` starts with.
fn hex_prefix(bytes: &[u8]) -> usize {
    let mut start = 0;
    while let Some(chunk) = bytes.get(start..start + 8) {
        let miss = not_hex(u64::from_le_bytes(chunk.try_into().expect("8 bytes")));
        if miss != 0 {
            return start + miss.trailing_zeros() as usize / 8;
        }
        start += 8;
    }
    start + bytes[start..].iter().take_while(|b| b.is_ascii_hexdigit()).count()
}

/// Maximal runs of hex digits at least `min` long inside the key-character
/// runs `runs` (hex digits are key characters, so every hex run lies in
/// one). Checks the end of each `min`-byte window first and reads back from
/// it, so letters past `f` in identifiers skip whole windows.
fn hex_runs(bytes: &[u8], runs: &[(usize, usize)], min: usize, mut f: impl FnMut(usize, usize)) {
    for &(start, end) in runs.iter().filter(|&&(s, e)| e - s >= min) {
        // Invariant: `i == start` or `bytes[i - 1]` is not a hex digit.
        let mut i = start;
        while i + min <= end {
            match last_not_hex(&bytes[i..i + min]) {
                Some(miss) => i += miss + 1,
                None => {
                    let len = min + hex_prefix(&bytes[i + min..end]);
                    f(i, i + len);
                    i += len + 1;
                }
            }
        }
    }
}

/// Decodes the hex among `runs` (from [`super::marks::Marks`]).
pub(crate) fn decode(bytes: &[u8], runs: &[(usize, usize)], limits: &Limits) -> Option<View> {
    const { assert!(MIN_DIGITS >= super::marks::MIN_RUN) };
    let mut view = ViewBuf::default();
    let mut decoded = Vec::new();
    let mut floor = 0;
    hex_runs(bytes, runs, MIN_DIGITS, |start, end| {
        let digits = &bytes[start..end];
        // Letter case, in one pass: hex digits with bit 5 clear are `A`-`F`,
        // letters with it set `a`-`f` (digits have it set too).
        let (upper, lower) =
            digits.iter().fold((false, false), |(u, l), &b| (u | (b & 0x60 == 0x40), l | (b & 0x60 == 0x60)));
        let before = start.checked_sub(1).map(|p| bytes[p]);
        let prefixed = before == Some(b'x') && start >= 2 && matches!(bytes[start - 2], b'0' | b'\\');
        let glued = |b: Option<u8>| b.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_');
        if digits.len() > MAX_DIGITS || !digits.len().is_multiple_of(2) || (upper && lower) || view.len() >= cap(limits)
        {
            return;
        }
        if (glued(before) && !prefixed) || glued(bytes.get(end).copied()) {
            return;
        }
        // Cheap rejection on the first 16 bytes, then the whole run.
        decode_into(&digits[..32], &mut decoded);
        if !mostly_text(&decoded) {
            return;
        }
        decode_into(digits, &mut decoded);
        if !mostly_text(&decoded) {
            return;
        }
        // The text before, without a `0x`/`\x` prefix: the decoded key
        // must not be glued to its `x`.
        let text_end = if prefixed { start - 2 } else { start }.max(floor);
        let ctx = context_start(bytes, text_end, floor);
        view.copy(&bytes[ctx..text_end], ctx);
        view.ratio(&decoded, start, 1, 2);
        view.point(b"\n", end);
        floor = end;
    });
    finish(view, "hex")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(text: &[u8], limits: &Limits) -> Option<View> {
        super::decode(text, &super::super::marks::Marks::find(text).runs, limits)
    }

    const KEY: &str = "sk-ant-api03-Zq8Lm2Xv9Tb4Nc7Rk1Wp5Ys3Hd6Fg0Jx";

    #[test]
    fn hex_key_decodes_with_map() {
        let enc = hex::encode(KEY);
        let text = format!("ANTHROPIC_KEY_HEX=0x{enc}\n");
        let view = decode(text.as_bytes(), &Limits::default()).unwrap();
        assert_eq!(view.chain, ["hex"]);
        let s = String::from_utf8(view.bytes.clone()).unwrap();
        assert_eq!(s, format!("ANTHROPIC_KEY_HEX={KEY}\n"));
        let k = s.find("sk-").unwrap();
        let tok = text.find(&enc).unwrap();
        assert_eq!(view.map.to_original(k), tok);
        assert_eq!(view.map.to_original(k + 5), tok + 10);
        let upper = hex::encode_upper(KEY);
        assert!(decode(upper.as_bytes(), &Limits::default()).is_some());
    }

    #[test]
    fn hex_scans_match_the_definition() {
        let all: Vec<u8> = (0u8..128).collect();
        for chunk in all.chunks(8) {
            let x = u64::from_le_bytes(chunk.try_into().unwrap());
            let want =
                chunk.iter().enumerate().fold(0u64, |m, (k, b)| m | u64::from(!b.is_ascii_hexdigit()) << (8 * k + 7));
            assert_eq!(not_hex(x), want, "{chunk:?}");
        }
        let text = b"0123456789abcdefABCDEF0123456789abcdefg0123456789abcdef01234567Z89";
        for a in 0..text.len() {
            for b in a..text.len() {
                let w = &text[a..b];
                assert_eq!(last_not_hex(w), w.iter().rposition(|c| !c.is_ascii_hexdigit()));
                assert_eq!(hex_prefix(w), w.iter().take_while(|c| c.is_ascii_hexdigit()).count());
            }
        }
    }

    #[test]
    fn digests_mixed_case_and_odd_runs_give_nothing() {
        let texts = [
            "commit 9fceb02d0ae598e95dc970b74767f19372d61af8".to_string(),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855".into(),
            format!("{}a", hex::encode(KEY)),
            format!("g{}", hex::encode(KEY)),
            hex::encode(KEY).replacen('a', "A", 1),
            hex::encode("short"),
        ];
        for t in &texts {
            assert!(decode(t.as_bytes(), &Limits::default()).is_none(), "{t}");
        }
    }
}
