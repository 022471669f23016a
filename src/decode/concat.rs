//! Keys split across string literals (chain `concat`).
//!
//! To dodge scanners (or line-length linters) people write
//! `"sk-ant-api03-" + "Zq8L…"`, Python's implicit `("sk-ant-" "api03…")`,
//! Go's `"a" +\n "b"`, PHP's `"a" . "b"`. Each piece alone is too short
//! for any rule. This decoder finds chains of quoted literals joined only by
//! `+`, `.` or `..` (any whitespace around), or by whitespace alone when on
//! one logical line or after a `(` or `=`, and joins their unescaped
//! contents into one line of the view, when a run of key characters of at
//! least [`MIN_JOINED`] bytes crosses a join. Every byte maps to its own
//! place in its own piece, so a finding points at the first piece.
//!
//! Literals are recognised on one line only and at most [`MAX_LITERAL`]
//! bytes long; a quote that does not close is remembered, so a line full of
//! stray quotes is scanned once.

use memchr::memchr3;

use super::json_escape::{Stop, unescape};
use super::map::ViewBuf;
use super::{Limits, Relevance, View, cap, context_start, finish, is_key_byte};

const MAX_LITERAL: usize = 4096;
const MAX_PIECES: usize = 64;
/// A joined run of key characters at least this long is worth a view.
const MIN_JOINED: usize = 20;

/// A literal: `open` is its quote, `start..end` its content, `after` the
/// byte after its closing quote; `piece` is false for templates with
/// `${…}` and triple-quoted strings, which are skipped but never joined.
#[derive(Clone, Copy)]
struct Lit {
    open: usize,
    start: usize,
    end: usize,
    after: usize,
    piece: bool,
}

/// The literal opening at `i`, or `Err(stop)`: it does not close before
/// `stop` (a newline or the length limit).
fn literal_at(bytes: &[u8], i: usize) -> Result<Lit, usize> {
    let q = bytes[i];
    if bytes.get(i + 1) == Some(&q) && bytes.get(i + 2) == Some(&q) {
        let close = memchr::memmem::find(bytes.get(i + 3..).unwrap_or_default(), &[q, q, q]);
        let after = close.map_or(i + 3, |c| i + 3 + c + 3);
        return Ok(Lit { open: i, start: i + 3, end: after, after, piece: false });
    }
    let limit = i.saturating_add(MAX_LITERAL).min(bytes.len());
    let mut p = i + 1;
    while let Some(k) = memchr3(q, b'\\', b'\n', &bytes[p.min(limit)..limit]) {
        let at = p + k;
        match bytes[at] {
            b'\\' => p = at + 2,
            b'\n' => return Err(at),
            _ => {
                let templated = q == b'`' && memchr::memmem::find(&bytes[i + 1..at], b"${").is_some();
                return Ok(Lit { open: i, start: i + 1, end: at, after: at + 1, piece: !templated });
            }
        }
    }
    Err(limit)
}

/// Skips what may join two literals from `p`: returns where the next token
/// starts and whether the join was an operator or stayed on one line.
fn joiner(bytes: &[u8], mut p: usize) -> (usize, bool, bool) {
    let (mut op, mut newline) = (false, false);
    let limit = p.saturating_add(256).min(bytes.len());
    while p < limit {
        // Indentation first, in a tight loop: most joins to look past are
        // a line break and the next line's indent.
        while p < limit && matches!(bytes[p], b' ' | b'\t') {
            p += 1;
        }
        match bytes.get(p) {
            Some(b' ' | b'\t' | b'\r') => p += 1,
            Some(b'\n') => {
                newline = true;
                p += 1;
            }
            Some(b'\\') if matches!(bytes.get(p + 1), Some(b'\n' | b'\r')) => p += 2,
            Some(b'+') if !op => {
                op = true;
                p += 1;
            }
            Some(b'.') if !op => {
                op = true;
                p += if bytes.get(p + 1) == Some(&b'.') { 2 } else { 1 };
            }
            _ => break,
        }
    }
    (p, op, !newline)
}

/// Whether the byte before `open` (whitespace skipped) is `(` or `=`, so
/// literals may follow each other on separate lines (Python, C).
fn opens_group(bytes: &[u8], open: usize) -> bool {
    let before = &bytes[open.saturating_sub(64)..open];
    matches!(before.iter().rev().find(|b| !b.is_ascii_whitespace()), Some(b'(' | b'='))
}

/// Bytes after a closing quote that rule out a join at once.
static ENDS_JOINS: [bool; 256] =
    byte_table!(|b| b.is_ascii_alphanumeric() || matches!(b, b')' | b',' | b';' | b']' | b'}' | b':'));

/// Whether the quote at `i` may close a literal joined to another: a key
/// character before it, then past what [`joiner`] skips another quote and
/// a key character (`a" + "b`, `a"\n    "b`, `a' . 'b`). A peek or two per
/// quote; most files have no such quote and skip parsing.
fn may_join_at(bytes: &[u8], i: usize) -> bool {
    if i == 0 || !is_key_byte(bytes[i - 1]) || bytes.get(i + 1).is_some_and(|&b| ENDS_JOINS[b as usize]) {
        return false;
    }
    let (j, _, _) = joiner(bytes, i + 1);
    matches!(bytes.get(j), Some(b'"' | b'\'' | b'`')) && bytes.get(j + 1).is_some_and(|&b| is_key_byte(b))
}

/// Joins split literals; `quotes` are the offsets, in order, of at least
/// every quote right after a key character in `bytes` (from
/// [`super::marks::Marks`]): where a literal may close and be joined to
/// another ([`may_join_at`]). Literals are parsed only on the lines
/// where a quote may join another, from the start of that line (a literal
/// never spans lines, so the first piece of a chain opens there; a chain
/// that began on an earlier line was parsed from that line's own quote).
pub(crate) fn decode(bytes: &[u8], quotes: impl Iterator<Item = usize>, limits: &Limits) -> Option<View> {
    let mut view = ViewBuf::default();
    let mut chain: Vec<Lit> = Vec::new();
    let mut bounds: Vec<usize> = Vec::new();
    let (mut pos, mut floor) = (0, 0);
    // Per quote kind, the offset before which it is known not to close.
    let mut dead = [0usize; 3];
    let kind = |q: u8| match q {
        b'"' => 0,
        b'\'' => 1,
        _ => 2,
    };
    for candidate in quotes {
        if candidate < pos || !may_join_at(bytes, candidate) {
            continue;
        }
        // The line's start, or where parsing already got to on it (never
        // looking back past that: a one-line bundle stays linear).
        pos = memchr::memrchr(b'\n', &bytes[pos..candidate]).map_or(pos, |nl| pos + nl + 1);
        while pos <= candidate && view.len() < cap(limits) {
            let Some(k) = memchr3(b'"', b'\'', b'`', bytes.get(pos..).unwrap_or_default()) else { break };
            let i = pos + k;
            pos = i + 1;
            let q = bytes[i];
            let glued =
                q == b'\'' && i >= 2 && bytes[i - 1].is_ascii_alphanumeric() && bytes[i - 2].is_ascii_alphanumeric();
            if i < dead[kind(q)] || glued {
                continue;
            }
            let first = match literal_at(bytes, i) {
                Ok(lit) => lit,
                Err(stop) => {
                    dead[kind(q)] = stop;
                    continue;
                }
            };
            pos = first.after;
            if !first.piece {
                continue;
            }
            chain.clear();
            chain.push(first);
            // Only asked when literals on separate lines need it.
            let mut grouped = None;
            while chain.len() < MAX_PIECES {
                let last = chain[chain.len() - 1];
                let (j, op, same_line) = joiner(bytes, last.after);
                if !matches!(bytes.get(j), Some(b'"' | b'\'' | b'`'))
                    || !(op || same_line || *grouped.get_or_insert_with(|| opens_group(bytes, first.open)))
                {
                    break;
                }
                match literal_at(bytes, j) {
                    Ok(lit) if lit.piece => chain.push(lit),
                    _ => break,
                }
            }
            let last = chain[chain.len() - 1];
            pos = last.after;
            if chain.len() < 2 {
                continue;
            }
            let mark = view.len();
            let ctx = context_start(bytes, first.open, floor);
            if ctx > floor && bytes[ctx..first.open].iter().all(u8::is_ascii_whitespace) {
                // The first piece alone on its line (`NAME = (` above it):
                // the line above is the context, joined without the break.
                let above = ctx - 1;
                let above_start = context_start(bytes, above, floor);
                let line = &bytes[above_start..above];
                view.copy(line.strip_suffix(b"\r").unwrap_or(line), above_start);
                view.point(b" ", ctx);
            } else {
                view.copy(&bytes[ctx..first.open], ctx);
            }
            bounds.clear();
            let body = view.len();
            for lit in &chain {
                bounds.push(view.len());
                unescape(bytes, lit.start, lit.end, Stop::Never, &mut view, &mut Relevance::default());
            }
            if crosses_a_join(&view.bytes[body..], &bounds, body) {
                view.point(b"\n", last.after);
                floor = last.after;
            } else {
                view.truncate(mark);
            }
        }
    }
    finish(view, "concat")
}

/// Whether a run of at least [`MIN_JOINED`] key characters in `joined`
/// spans one of the piece boundaries (`bounds`, offset by `base`).
fn crosses_a_join(joined: &[u8], bounds: &[usize], base: usize) -> bool {
    bounds.iter().skip(1).any(|&b| {
        let b = b - base;
        let back = joined[..b].iter().rev().take(MIN_JOINED).take_while(|&&c| is_key_byte(c)).count();
        let fwd = joined[b..].iter().take(MIN_JOINED).take_while(|&&c| is_key_byte(c)).count();
        back > 0 && fwd > 0 && back + fwd >= MIN_JOINED
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "sk-ant-api03-Zq8Lm2Xv9Tb4Nc7Rk1Wp5Ys3Hd6Fg0Jx";

    fn decode(text: &[u8], limits: &Limits) -> Option<View> {
        super::decode(text, super::super::marks::Marks::find(text).quotes.iter(), limits)
    }

    fn joined(text: &str) -> Option<String> {
        decode(text.as_bytes(), &Limits::default()).map(|v| String::from_utf8(v.bytes).unwrap())
    }

    #[test]
    fn plus_joined_across_lines_with_map() {
        let text = format!("const key =\n  \"{}\" +\n  \"{}\";\n", &KEY[..13], &KEY[13..]);
        let view = decode(text.as_bytes(), &Limits::default()).unwrap();
        assert_eq!(view.chain, ["concat"]);
        let s = String::from_utf8(view.bytes.clone()).unwrap();
        assert_eq!(s, format!("const key = {KEY}\n"));
        let k = s.find("sk-").unwrap();
        assert_eq!(view.map.to_original(k), text.find("sk-").unwrap());
        assert_eq!(view.map.to_original(k + 13), text.find(&KEY[13..]).unwrap());
    }

    #[test]
    fn languages() {
        let (a, b) = (&KEY[..20], &KEY[20..]);
        for text in [
            format!("key = (\"{a}\"\n       \"{b}\")\n"),
            format!("key := \"{a}\" + \"{b}\"\n"),
            format!("$key = '{a}' . '{b}';\n"),
            format!("local key = \"{a}\" .. \"{b}\"\n"),
            format!("#define KEY \"{a}\" \"{b}\"\n"),
            format!("key = \"{a}\" \\\n      \"{b}\"\n"),
            format!("k = `{a}` + `{b}`;"),
        ] {
            assert_eq!(joined(&text).as_deref().map(|s| s.contains(KEY)), Some(true), "{text}");
        }
    }

    #[test]
    fn unrelated_literals_give_nothing() {
        for text in [
            "msg = \"Hello, \" + \"world\";\n".to_string(),
            format!("a = \"{}\"\nb = \"{}\"\n", &KEY[..20], &KEY[20..]),
            format!("echo \"{}\"\n\"{}\"\n", &KEY[..20], &KEY[20..]),
            format!("x = `{}${{y}}` + `{}`", &KEY[..20], &KEY[20..]),
            "it's a don't won't \"unterminated\n".to_string(),
        ] {
            assert!(joined(&text).is_none(), "{text}");
        }
    }

    #[test]
    fn one_line_bundles_are_linear() {
        // A minified bundle: every join on one 2 MB line. Looking back for
        // the line's start from each one was quadratic.
        let text = "x=\"ab\"+\"cd\";".repeat(150_000);
        let t = std::time::Instant::now();
        let _ = decode(text.as_bytes(), &Limits::default());
        assert!(t.elapsed().as_secs() < 5, "{:?}", t.elapsed());
    }

    #[test]
    fn stray_quotes_are_linear() {
        let text = "\\'".repeat(200_000) + &"x = \"a\"".repeat(20_000);
        let t = std::time::Instant::now();
        let _ = decode(text.as_bytes(), &Limits::default());
        assert!(t.elapsed().as_secs() < 2);
    }
}
