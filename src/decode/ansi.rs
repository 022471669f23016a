//! Terminal colour codes (chain `ansi`).
//!
//! CI logs and notebook outputs (IPython colours a traceback's source line
//! token by token) put escape sequences right against a key:
//! `\x1b[38;5;124mghp_…\x1b[39m`. The key then follows the `m` of the
//! sequence, and a pattern that wants a boundary before the key misses it.
//! This decoder removes CSI sequences (`ESC [ params final`), OSC sequences
//! (`ESC ] … BEL` or `ESC ] … ESC \`) and two-byte escapes, and keeps the
//! text when a run of key characters starts right after a removed sequence.
//! Nothing is scanned unless the text has an `ESC` byte.

use memchr::memchr;

use super::map::ViewBuf;
use super::{Limits, Relevance, View, cap, finish};

const ESC: u8 = 0x1b;
const BEL: u8 = 0x07;

/// Where the escape sequence starting at `i` (an `ESC`) ends.
fn sequence_end(bytes: &[u8], i: usize) -> usize {
    let at = |k: usize| bytes.get(k).copied();
    match at(i + 1) {
        // CSI: parameter and intermediate bytes, then one final byte.
        Some(b'[') => {
            let mut k = i + 2;
            while matches!(at(k), Some(0x20..=0x3f)) {
                k += 1;
            }
            if matches!(at(k), Some(0x40..=0x7e)) { k + 1 } else { k }
        }
        // OSC: up to BEL or ESC \ (or the end of the line, unterminated).
        Some(b']') => {
            let mut k = i + 2;
            while let Some(b) = at(k) {
                match b {
                    BEL => return k + 1,
                    ESC if at(k + 1) == Some(b'\\') => return k + 2,
                    b'\n' => return k,
                    _ => k += 1,
                }
            }
            k
        }
        Some(0x40..=0x5f) => i + 2,
        _ => i + 1,
    }
}

pub(crate) fn decode(bytes: &[u8], limits: &Limits) -> Option<View> {
    let first = memchr(ESC, bytes)?;
    let mut view = ViewBuf::default();
    let mut rel = Relevance::default();
    let mut pos = 0;
    let mut next = Some(first);
    while let Some(i) = next {
        view.copy(&bytes[pos..i], pos);
        rel.feed(&bytes[pos..i], false);
        pos = sequence_end(bytes, i);
        // Whatever follows a removed sequence starts a new token.
        rel.mark();
        if view.len() >= cap(limits) {
            break;
        }
        next = memchr(ESC, &bytes[pos..]).map(|k| pos + k);
    }
    if next.is_none() {
        view.copy(&bytes[pos..], pos);
        rel.feed(&bytes[pos..], false);
    }
    if !rel.hit {
        return None;
    }
    finish(view, "ansi")
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "ghp_Zq8Lm2Xv9Tb4Nc7Rk1Wp5Ys3Hd6Fg0JxQ2";

    #[test]
    fn colour_codes_are_removed_with_a_map() {
        let text = format!("token = \x1b[38;5;124m{KEY}\x1b[39m\n\x1b]0;title\x07done\n");
        let view = decode(text.as_bytes(), &Limits::default()).unwrap();
        assert_eq!(view.chain, ["ansi"]);
        let s = String::from_utf8(view.bytes.clone()).unwrap();
        assert_eq!(s, format!("token = {KEY}\ndone\n"));
        assert_eq!(view.map.to_original(s.find("ghp_").unwrap()), text.find("ghp_").unwrap());
        assert_eq!(view.map.to_original(s.find("done").unwrap()), text.find("done").unwrap());
    }

    #[test]
    fn plain_and_colour_only_text_give_nothing() {
        for text in ["no escapes here", "\x1b[1mbold\x1b[0m words only", "\x1b[31", "\x1b", "a\x1b]unterminated"] {
            assert!(decode(text.as_bytes(), &Limits::default()).is_none(), "{text:?}");
        }
    }
}
