//! JSON and JavaScript string escapes (chain `json-string`).
//!
//! `"sk-ant-api03\u002d…"` hides a key's dashes from a regex, and in
//! `"config\nsk-ant-…"` the key is glued to the `n` of a literal `\n`, so a
//! boundary-anchored pattern misses it. Decoding every string in a file
//! would double the work on ordinary code, so this decoder looks only at
//! escapes that matter: one that decodes to a key character, or one directly
//! followed by a long run of key characters. Around each, it decodes the
//! enclosing string (bounded to [`REGION`] bytes either side, never past the
//! line) and keeps it only if a run of key characters now contains or
//! follows an escape. All kept regions go into one view, one per line.
//!
//! The unescaper itself ([`unescape`]) is shared with the notebook and
//! source-map decoders; it handles `\n \r \t \b \f \v \0 \/ \\ \" \' \``,
//! `\xHH`, `\uHHHH` (with surrogate pairs), `\u{H…}` and line continuations.

use memchr::{memchr, memchr3, memrchr, memrchr3};

use super::map::ViewBuf;
use super::{Limits, Relevance, View, cap, context_start, finish, is_key_byte, is_secret_byte};

/// Key characters right after an escape that make it worth decoding.
const GLUED: usize = 16;

/// Bytes a region extends on either side of the escape that triggered it.
const REGION: usize = 4096;

/// Decodes the strings around the escapes at `backslashes` (every `\\` in
/// `bytes`, in order, from [`super::marks::Marks`]).
pub(crate) fn decode(bytes: &[u8], backslashes: impl Iterator<Item = usize>, limits: &Limits) -> Option<View> {
    let mut view = ViewBuf::default();
    let (mut pos, mut floor) = (0, 0);
    let mut scratch = [0u8; 4];
    for i in backslashes {
        if i < pos {
            continue;
        }
        if bytes.get(i + 1) == Some(&b'\\') {
            // An escaped backslash: never a key, and the next one is not
            // an escape.
            pos = i + 2;
            continue;
        }
        if !may_trigger(bytes, i) {
            continue;
        }
        let (n, used) = unescape_one(bytes, i, &mut scratch);
        if !triggers(bytes, i, &scratch[..n], used) {
            pos = i + used.max(1);
            continue;
        }
        let (start, opener) = region_start(bytes, i, floor);
        let limit = i.saturating_add(REGION).min(bytes.len());
        let mark = view.len();
        let ctx = context_start(bytes, start, floor);
        view.copy(bytes.get(ctx..start).unwrap_or_default(), ctx);
        let mut rel = Relevance::default();
        let stop = opener.map_or(Stop::AnyQuote, Stop::Quote);
        let end = unescape(bytes, start, limit, stop, &mut view, &mut rel);
        if rel.hit {
            view.point(b"\n", end);
        } else {
            view.truncate(mark);
        }
        floor = end;
        pos = end.max(i + 1);
        if view.len() >= cap(limits) {
            break;
        }
    }
    finish(view, "json-string")
}

/// A quick look at the bytes after the `\` at `i` before decoding the
/// escape: [`triggers`] needs `\u`, `\x` or `\/`, or a two-byte escape
/// ending in a letter or digit glued to 16 key characters. Source code's
/// `\"`, `\n"` and `\n` before a space stop here.
fn may_trigger(bytes: &[u8], i: usize) -> bool {
    match bytes.get(i + 1) {
        Some(b'u' | b'x' | b'/') => true,
        Some(b) => {
            b.is_ascii_alphanumeric()
                && bytes.get(i + 2..i + 2 + GLUED).is_some_and(|after| after.iter().all(|&b| is_key_byte(b)))
        }
        None => false,
    }
}

/// Whether the escape at `i` (decoded to `decoded`, `used` bytes long) may
/// hide a key: a real escape (`\uXXXX`, `\xHH`, `\/`) of a key character,
/// or an escape ending in a letter or digit (`\n`, `\u000a`) glued to a
/// long run of key characters. Regex escapes (`\d`, `\.`) are neither.
fn triggers(bytes: &[u8], i: usize, decoded: &[u8], used: usize) -> bool {
    let kind = bytes.get(i + 1).copied().unwrap_or(0);
    let real = (matches!(kind, b'u' | b'x') && used > 2) || kind == b'/';
    match decoded {
        // A slash is in URLs far more often than in keys (AWS secrets,
        // base64): only one with key characters on both sides counts.
        [b'/'] if real => {
            let near = |r: Option<&[u8]>| r.is_some_and(|r| r.iter().all(|&b| is_secret_byte(b)));
            return near(i.checked_sub(4).and_then(|s| bytes.get(s..i))) && near(bytes.get(i + used..i + used + 4));
        }
        [b] if real && is_key_byte(*b) => return true,
        _ => {}
    }
    let glued = used >= 2 && bytes.get(i + used - 1).is_some_and(u8::is_ascii_alphanumeric);
    glued
        && bytes.get(i + used..).unwrap_or_default().iter().take(GLUED).take_while(|&&b| is_key_byte(b)).count()
            >= GLUED
}

/// Where the string holding the escape at `i` starts: just after the nearest
/// unescaped quote (returned as the opener) or line start before `i`, at
/// most [`REGION`] bytes back and never before `floor`.
fn region_start(bytes: &[u8], i: usize, floor: usize) -> (usize, Option<u8>) {
    let lo = i.saturating_sub(REGION).max(floor).min(i);
    let mut hi = i;
    loop {
        let window = &bytes[lo..hi];
        // The nearest quote, backtick or newline before `hi`.
        let near = memrchr3(b'"', b'\'', b'\n', window);
        let tick = memrchr(b'`', window);
        let Some(p) = near.max(tick).map(|p| lo + p) else { return (lo, None) };
        let q = bytes[p];
        if q == b'\n' {
            return (p + 1, None);
        }
        let slashes = bytes[lo..p].iter().rev().take_while(|&&b| b == b'\\').count();
        if slashes % 2 == 0 {
            return (p + 1, Some(q));
        }
        hi = p;
    }
}

/// Where unescaping stops (besides its end): nowhere, at a newline or the
/// given quote, or at a newline or any quote.
#[derive(Clone, Copy)]
pub(crate) enum Stop {
    Never,
    Quote(u8),
    AnyQuote,
}

/// Unescapes `bytes[start..]` into `out` until `end` or an unescaped byte
/// `stop` names; returns where it stopped. Escapes map to their backslash;
/// `rel` sees which bytes came from escapes.
pub(crate) fn unescape(
    bytes: &[u8],
    start: usize,
    end: usize,
    stop: Stop,
    out: &mut ViewBuf,
    rel: &mut Relevance,
) -> usize {
    let end = end.min(bytes.len());
    let mut i = start.min(end);
    let mut scratch = [0u8; 4];
    loop {
        let rest = &bytes[i..end];
        let next = match stop {
            Stop::Never => memchr(b'\\', rest),
            Stop::Quote(q) => memchr3(b'\\', q, b'\n', rest),
            Stop::AnyQuote => rest.iter().position(|&b| matches!(b, b'\\' | b'"' | b'\'' | b'`' | b'\n')),
        };
        let at = next.map_or(end, |k| i + k);
        let plain = &bytes[i..at];
        out.copy(plain, i);
        rel.feed(plain, false);
        if at >= end || bytes[at] != b'\\' {
            return at;
        }
        let (n, used) = unescape_one(bytes, at, &mut scratch);
        let decoded = &scratch[..n];
        out.point(decoded, at);
        rel.feed(decoded, true);
        i = at.saturating_add(used.max(1)).min(end);
    }
}

/// Decodes the escape whose backslash is at `bytes[i]` into `buf`; returns
/// (decoded length, bytes consumed).
pub(crate) fn unescape_one(bytes: &[u8], i: usize, buf: &mut [u8; 4]) -> (usize, usize) {
    let Some(&c) = bytes.get(i + 1) else {
        buf[0] = b'\\';
        return (1, 1);
    };
    let simple = match c {
        b'n' => Some(b'\n'),
        b'r' => Some(b'\r'),
        b't' => Some(b'\t'),
        b'b' => Some(8),
        b'f' => Some(12),
        b'v' => Some(11),
        b'0' if !bytes.get(i + 2).is_some_and(u8::is_ascii_digit) => Some(0),
        _ => None,
    };
    if let Some(s) = simple {
        buf[0] = s;
        return (1, 2);
    }
    match c {
        b'\n' => (0, 2),
        b'\r' => (0, if bytes.get(i + 2) == Some(&b'\n') { 3 } else { 2 }),
        b'x' => match hex_value(bytes.get(i + 2..i + 4)) {
            Some(v) => (encode(char::from_u32(v).unwrap_or('\u{fffd}'), buf), 4),
            None => plain(c, buf),
        },
        b'u' if bytes.get(i + 2) == Some(&b'{') => {
            let digits = bytes.get(i + 3..).unwrap_or_default().iter().take(7).position(|&b| b == b'}');
            match digits.and_then(|n| hex_value(bytes.get(i + 3..i + 3 + n)).map(|v| (n, v))) {
                Some((n, v)) if n > 0 => (encode(char::from_u32(v).unwrap_or('\u{fffd}'), buf), n + 4),
                _ => plain(c, buf),
            }
        }
        b'u' => {
            let Some(hi) = hex_value(bytes.get(i + 2..i + 6)) else { return plain(c, buf) };
            if (0xD800..0xDC00).contains(&hi)
                && bytes.get(i + 6..i + 8) == Some(b"\\u")
                && let Some(lo) = hex_value(bytes.get(i + 8..i + 12)).filter(|lo| (0xDC00..0xE000).contains(lo))
            {
                let v = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                return (encode(char::from_u32(v).unwrap_or('\u{fffd}'), buf), 12);
            }
            (encode(char::from_u32(hi).unwrap_or('\u{fffd}'), buf), 6)
        }
        // `\"`, `\\`, `\/` and any other escaped byte stand for themselves.
        _ => plain(c, buf),
    }
}

fn plain(c: u8, buf: &mut [u8; 4]) -> (usize, usize) {
    buf[0] = c;
    (1, 2)
}

fn encode(c: char, buf: &mut [u8; 4]) -> usize {
    c.encode_utf8(buf).len()
}

/// The value of 1 to 6 hex digits.
fn hex_value(digits: Option<&[u8]>) -> Option<u32> {
    let digits = digits.filter(|d| !d.is_empty() && d.len() <= 6)?;
    digits.iter().try_fold(0u32, |acc, &b| Some(acc * 16 + (b as char).to_digit(16)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(text: &[u8], limits: &Limits) -> Option<View> {
        super::decode(text, super::super::marks::Marks::find(text).backslashes.iter(), limits)
    }

    fn one(s: &str) -> (String, usize) {
        let mut buf = [0u8; 4];
        let (n, used) = unescape_one(s.as_bytes(), 0, &mut buf);
        (String::from_utf8_lossy(&buf[..n]).into_owned(), used)
    }

    #[test]
    fn escapes() {
        assert_eq!(one(r"\u002d"), ("-".into(), 6));
        assert_eq!(one(r"\u00e9"), ("é".into(), 6));
        assert_eq!(one(r"\ud83d\ude00"), ("😀".into(), 12));
        assert_eq!(one(r"\ud83dx"), ("\u{fffd}".into(), 6));
        assert_eq!(one(r"\u{1F600}"), ("😀".into(), 9));
        assert_eq!(one(r"\x2D"), ("-".into(), 4));
        assert_eq!(one(r"\/"), ("/".into(), 2));
        assert_eq!(one(r"\n"), ("\n".into(), 2));
        assert_eq!(one("\\\n"), ("".into(), 2));
        assert_eq!(one(r"\uZZ"), ("u".into(), 2));
        assert_eq!(one("\\"), ("\\".into(), 1));
        assert_eq!(one(r"\u{}"), ("u".into(), 2));
        assert_eq!(one(r"\u{110000}"), ("\u{fffd}".into(), 10));
    }

    const KEY: &str = "sk-ant-api03-Zq8Lm2Xv9Tb4Nc7Rk1Wp5Ys3Hd6Fg0Jx";

    #[test]
    fn unicode_escaped_dashes_decode_with_map() {
        let raw = KEY.replace('-', r"\u002d");
        let text = format!("{{\"key\": \"{raw}\"}}");
        let view = decode(text.as_bytes(), &Limits::default()).unwrap();
        assert_eq!(view.chain, ["json-string"]);
        let s = String::from_utf8(view.bytes.clone()).unwrap();
        assert_eq!(s, format!("{{\"key\": \"{KEY}\n"));
        let k = s.find("sk-").unwrap();
        let at = view.map.to_original(k);
        assert_eq!(at, text.find("sk").unwrap());
        // The first dash maps to its backslash.
        assert_eq!(view.map.to_original(k + 2), text.find(r"\u002d").unwrap());
        assert_eq!(view.map.to_original(k + 3), text.find(r"\u002d").unwrap() + 6);
    }

    #[test]
    fn key_after_a_literal_newline() {
        let text = format!(r#"x = "config\n{KEY}";"#);
        let view = decode(text.as_bytes(), &Limits::default()).unwrap();
        let s = String::from_utf8(view.bytes.clone()).unwrap();
        assert!(s.contains(&format!("config\n{KEY}\n")), "{s:?}");
        let k = s.find("sk-").unwrap();
        assert_eq!(view.map.to_original(k), text.find("sk-").unwrap());
    }

    #[test]
    fn escaped_slashes_in_urls_and_keys() {
        let url = br#"{"u":"https:\u002F\u002Fapi.example.com\u002Fv1\u002Fusers\u002Fme"}"#;
        assert!(decode(url, &Limits::default()).is_none());
        let aws = br#"{"secret":"wJalrXUtnFEMI\/K7MDENG\/bPxRfiCYzQ8vT3nWb5"}"#; // leakhound:allow (AWS's documented example)
        let view = decode(aws, &Limits::default()).unwrap();
        assert!(view.bytes.ends_with(b"wJalrXUtnFEMI/K7MDENG/bPxRfiCYzQ8vT3nWb5\n"));
    }

    #[test]
    fn ordinary_escapes_give_nothing() {
        let text = br#"printf("%d\n", x); s = "a\tb\\c"; path = "C:\\Users\\me"; re = /^\d+\.\w{20,}\s*$/;"#;
        assert!(decode(text, &Limits::default()).is_none());
        assert!(decode(b"no escapes at all", &Limits::default()).is_none());
    }

    #[test]
    fn single_quotes_and_regions_stay_in_their_string() {
        let raw = KEY.replace('-', r"\x2d");
        let text = format!("a = 'first' + \"other\";\nb = 'pre{raw}' + 'tail'\n");
        let view = decode(text.as_bytes(), &Limits::default()).unwrap();
        let s = String::from_utf8(view.bytes).unwrap();
        assert_eq!(s, format!("b = 'pre{KEY}\n"));
    }

    #[test]
    fn long_lines_are_linear_and_bounded() {
        let unit = format!(r#""v\u002d{}", "#, "a".repeat(20));
        let text = unit.repeat(50_000);
        let t = std::time::Instant::now();
        let limits = Limits { max_view_bytes: 1 << 20, ..Limits::default() };
        let view = decode(text.as_bytes(), &limits).unwrap();
        assert!(view.bytes.len() < (1 << 20) + 10_000);
        assert!(t.elapsed().as_secs() < 2);
        // Hostile: backslashes only.
        let text = "\\".repeat(1 << 18);
        assert!(decode(text.as_bytes(), &Limits::default()).is_none());
    }
}
