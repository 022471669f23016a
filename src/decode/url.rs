//! Percent-encoding (chain `url`).
//!
//! Keys pasted into query strings, form bodies, proxy URLs and
//! `.git-credentials` get their `-`, `_`, `/`, `+` and `=` percent-encoded
//! (`sk-ant-api03%2D…`, `token=abc%2Bdef`), which breaks a regex on the
//! raw text. Around each `%XX` that decodes to a key character (or is
//! followed by a long run of them), this decoder decodes the run of URL
//! characters holding it (bounded, never overlapping the previous run) and
//! keeps it when a long run of key characters now contains or follows a
//! decoded escape. `+` is left alone: in a query string it means a space,
//! but in a base64 key it is itself. All kept runs go into one view.

use memchr::memchr;

use super::map::ViewBuf;
use super::{Limits, Relevance, View, cap, context_start, finish, is_key_byte};

/// Bytes a run extends before and after the escape that triggered it.
const BEFORE: usize = 512;
const AFTER: usize = 2048;

/// Characters of a URL's parts (RFC 3986 unreserved, `%`, and the
/// delimiters of authority, path and query), without the sub-delimiters
/// (`!$'()*,;`) that would also let a run swallow minified code.
fn is_url_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(b, b'-' | b'.' | b'_' | b'~' | b':' | b'/' | b'?' | b'#' | b'@' | b'&' | b'+' | b'=' | b'%')
}

fn hex2(d: Option<&[u8]>) -> Option<u8> {
    match d? {
        &[h, l] => Some(((h as char).to_digit(16)? * 16 + (l as char).to_digit(16)?) as u8),
        _ => None,
    }
}

pub(crate) fn decode(bytes: &[u8], limits: &Limits) -> Option<View> {
    let mut view = ViewBuf::default();
    let (mut pos, mut floor) = (0, 0);
    while let Some(k) = memchr(b'%', bytes.get(pos..).unwrap_or_default()) {
        let i = pos + k;
        let Some(v) = hex2(bytes.get(i + 1..i + 3)) else {
            pos = i + 1;
            continue;
        };
        let run_after = bytes.get(i + 3..).unwrap_or_default().iter().take(16).take_while(|&&b| is_key_byte(b));
        if !is_key_byte(v) && run_after.count() < 16 {
            pos = i + 3;
            continue;
        }
        let lo = i.saturating_sub(BEFORE).max(floor).min(i);
        let start = bytes[lo..i].iter().rposition(|&b| !is_url_byte(b)).map_or(lo, |p| lo + p + 1);
        let hi = i.saturating_add(AFTER).min(bytes.len());
        let end = bytes[i..hi].iter().position(|&b| !is_url_byte(b)).map_or(hi, |p| i + p);
        let mark = view.len();
        let ctx = context_start(bytes, start, floor);
        view.copy(&bytes[ctx..start], ctx);
        let mut rel = Relevance::default();
        let mut p = start;
        let mut run = start;
        while p < end {
            if bytes[p] == b'%'
                && let Some(v) = hex2(bytes.get(p + 1..p + 3))
            {
                view.copy(&bytes[run..p], run);
                rel.feed(&bytes[run..p], false);
                view.point(&[v], p);
                rel.feed(&[v], true);
                p += 3;
                run = p;
                continue;
            }
            p += 1;
        }
        let tail = bytes.get(run..end).unwrap_or_default();
        view.copy(tail, run);
        rel.feed(tail, false);
        if rel.hit {
            view.point(b"\n", end);
        } else {
            view.truncate(mark);
        }
        floor = end;
        pos = end.max(i + 3);
        if view.len() >= cap(limits) {
            break;
        }
    }
    finish(view, "url")
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "sk-ant-api03-Zq8Lm2Xv9Tb4Nc7Rk1Wp5Ys3Hd6Fg0Jx";

    #[test]
    fn query_string_key_decodes_with_map() {
        let enc = KEY.replace('-', "%2D");
        let text = format!("curl 'https://api.example.com/v1?x=1&key={enc}&y=a+b'\n");
        let view = decode(text.as_bytes(), &Limits::default()).unwrap();
        assert_eq!(view.chain, ["url"]);
        let s = String::from_utf8(view.bytes.clone()).unwrap();
        assert_eq!(s, format!("curl 'https://api.example.com/v1?x=1&key={KEY}&y=a+b\n"));
        let k = s.find("sk-").unwrap();
        assert_eq!(view.map.to_original(k), text.find("sk%2D").unwrap());
        assert_eq!(view.map.to_original(k + 2), text.find("%2D").unwrap());
        assert_eq!(view.map.to_original(k + 3), text.find("%2D").unwrap() + 3);
    }

    #[test]
    fn lowercase_escapes_and_underscores() {
        let text = "token=ghp%5fAbCdEfGhIjKlMnOpQrStUvWxYz0123456789";
        let view = decode(text.as_bytes(), &Limits::default()).unwrap();
        assert_eq!(view.bytes, b"token=ghp_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789\n");
    }

    #[test]
    fn format_strings_and_spaces_give_nothing() {
        for text in ["printf(\"%2d items, %5.2f%%\", n, x);", "a%20b%20c", "100% sure", "%zz %4", "%"] {
            assert!(decode(text.as_bytes(), &Limits::default()).is_none(), "{text}");
        }
    }

    #[test]
    fn many_escapes_on_one_line_stay_linear() {
        let text = "a%2Db".repeat(200_000);
        let t = std::time::Instant::now();
        let _ = decode(text.as_bytes(), &Limits::default());
        assert!(t.elapsed().as_secs() < 2);
    }
}
