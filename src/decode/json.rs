//! A minimal JSON walker that reports every string value with its path and
//! its raw byte range.
//!
//! Notebooks and source maps need the *positions* of their strings in the
//! file (so a key found in cell 3 is reported at the notebook's real line),
//! which `serde_json` does not give. This walker is iterative (no recursion,
//! so no stack overflow on hostile nesting), linear, allocation-light, and
//! lenient: on malformed input it stops and keeps what it already reported.

use memchr::memchr2;

/// One step of a value's path: an object key (raw byte range, without the
/// quotes) or an array index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    Key(usize, usize),
    Index(usize),
}

impl Step {
    /// Whether this step is the key `name` (keys are compared raw: the keys
    /// we look for never need escapes).
    pub(crate) fn is(&self, bytes: &[u8], name: &str) -> bool {
        matches!(*self, Step::Key(s, e) if bytes.get(s..e) == Some(name.as_bytes()))
    }

    pub(crate) fn key<'a>(&self, bytes: &'a [u8]) -> Option<&'a [u8]> {
        match *self {
            Step::Key(s, e) => bytes.get(s..e),
            Step::Index(_) => None,
        }
    }
}

/// Nesting deeper than this is treated as malformed.
const MAX_NESTING: usize = 256;

enum Ctx {
    Obj,
    Arr(usize),
}

/// Calls `visit(path, start, end)` for every string value (not keys), where
/// `start..end` is the raw content between the quotes. Returns false when
/// the input is not well-formed JSON (strings before the fault were visited).
pub(crate) fn walk(bytes: &[u8], visit: &mut dyn FnMut(&[Step], usize, usize)) -> bool {
    let mut ctx: Vec<Ctx> = Vec::new();
    let mut path: Vec<Step> = Vec::new();
    let mut i = ws(bytes, 0);
    'value: loop {
        // A value starts at `i`.
        match bytes.get(i) {
            Some(b'{') => {
                i = ws(bytes, i + 1);
                if bytes.get(i) == Some(&b'}') {
                    i += 1;
                } else {
                    if ctx.len() >= MAX_NESTING {
                        return false;
                    }
                    ctx.push(Ctx::Obj);
                    let Some(next) = key(bytes, i, &mut path) else { return false };
                    i = next;
                    continue 'value;
                }
            }
            Some(b'[') => {
                i = ws(bytes, i + 1);
                if bytes.get(i) == Some(&b']') {
                    i += 1;
                } else {
                    if ctx.len() >= MAX_NESTING {
                        return false;
                    }
                    ctx.push(Ctx::Arr(0));
                    path.push(Step::Index(0));
                    continue 'value;
                }
            }
            Some(b'"') => {
                let Some(end) = string_end(bytes, i + 1) else { return false };
                visit(&path, i + 1, end);
                i = end + 1;
            }
            Some(_) => {
                let start = i;
                while let Some(&b) = bytes.get(i) {
                    if matches!(b, b',' | b']' | b'}' | b' ' | b'\t' | b'\r' | b'\n') {
                        break;
                    }
                    i += 1;
                }
                if i == start {
                    return false;
                }
            }
            None => return false,
        }
        // After a value: a separator or the end of containers.
        loop {
            i = ws(bytes, i);
            match ctx.last_mut() {
                None => return true,
                Some(Ctx::Obj) => {
                    path.pop();
                    match bytes.get(i) {
                        Some(b',') => {
                            let Some(next) = key(bytes, ws(bytes, i + 1), &mut path) else { return false };
                            i = next;
                            continue 'value;
                        }
                        Some(b'}') => {
                            ctx.pop();
                            i += 1;
                        }
                        _ => return false,
                    }
                }
                Some(Ctx::Arr(n)) => {
                    path.pop();
                    match bytes.get(i) {
                        Some(b',') => {
                            *n += 1;
                            path.push(Step::Index(*n));
                            i = ws(bytes, i + 1);
                            continue 'value;
                        }
                        Some(b']') => {
                            ctx.pop();
                            i += 1;
                        }
                        _ => return false,
                    }
                }
            }
        }
    }
}

/// Parses `"key" :` at `i`, pushes the key step and returns where its value
/// starts.
fn key(bytes: &[u8], i: usize, path: &mut Vec<Step>) -> Option<usize> {
    if bytes.get(i) != Some(&b'"') {
        return None;
    }
    let end = string_end(bytes, i + 1)?;
    let colon = ws(bytes, end + 1);
    if bytes.get(colon) != Some(&b':') {
        return None;
    }
    path.push(Step::Key(i + 1, end));
    Some(ws(bytes, colon + 1))
}

/// The offset of the closing quote of a string whose content starts at `i`.
pub(crate) fn string_end(bytes: &[u8], mut i: usize) -> Option<usize> {
    loop {
        let rest = bytes.get(i..)?;
        let k = memchr2(b'"', b'\\', rest)?;
        if rest[k] == b'"' {
            return Some(i + k);
        }
        i += k + 2;
    }
}

fn ws(bytes: &[u8], mut i: usize) -> usize {
    while matches!(bytes.get(i), Some(b' ' | b'\t' | b'\r' | b'\n')) {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(text: &str) -> (bool, Vec<(String, String)>) {
        let b = text.as_bytes();
        let mut out = Vec::new();
        let ok = walk(b, &mut |path, s, e| {
            let p: Vec<String> = path
                .iter()
                .map(|st| match st {
                    Step::Key(..) => String::from_utf8_lossy(st.key(b).unwrap()).into_owned(),
                    Step::Index(n) => n.to_string(),
                })
                .collect();
            out.push((p.join("/"), text[s..e].to_string()));
        });
        (ok, out)
    }

    #[test]
    fn paths_and_ranges() {
        let (ok, got) = strings(r#"{"a": [1, "x", {"b": "y\"z"}], "c": {}, "d": [], "e": "w", "f": null}"#);
        assert!(ok);
        assert_eq!(got, [("a/1".into(), "x".into()), ("a/2/b".into(), r#"y\"z"#.into()), ("e".into(), "w".into())]);
    }

    #[test]
    fn malformed_input_stops_without_panicking() {
        for bad in ["", "{", "{\"a\"", "{\"a\":", "[1,", "{\"a\" 1}", "\"abc", "[\"a\\", "]", "{,}"] {
            let (ok, _) = strings(bad);
            assert!(!ok, "{bad:?}");
        }
        let (ok, got) = strings(r#"{"a": "kept", "b": [1 2]}"#);
        assert!(!ok);
        assert_eq!(got.len(), 1);
        let deep = "[".repeat(100_000);
        assert!(!strings(&deep).0);
    }
}
