//! Binaries (compiled programs, `.class` and `.dex` files, `.pyc`, SQLite
//! databases, `.wasm` modules) are scanned, not skipped: a key compiled
//! into a mobile app is as leaked as one in a `.env`.
//!
//! The rules that run are [`RuleSet::for_binaries`](crate::rules::RuleSet::for_binaries):
//! prefix rules reduced to their secret group, because in a binary the
//! byte before a key is often a length prefix and the byte after it the
//! start of the next string (a key with a short prefix must still not start
//! inside a word: [`SHORT_KEYWORD`]). ASCII and UTF-8 strings are found in
//! the raw bytes; UTF-16 strings through [`decode::utf16_strings`]; a
//! SQLite database's values, one per line, through [`decode::sqlite_text`].
//! Line and column count `0x0A` bytes as in any file (`line` 1, `column` =
//! byte offset + 1 when the binary has no such byte before the key).

use std::sync::Arc;

use super::{Detector, finding_from_match};
use crate::decode;
use crate::engine::{Engine, LineIndex, Match};
use crate::finding::Finding;

/// Printable bytes kept on each side of a secret in a binary's snippet.
const SNIPPET_CONTEXT: usize = 40;

impl Detector {
    fn binary_engine(&self) -> &Engine {
        self.binary_engine.get_or_init(|| Engine::new(Arc::new(self.engine.rules().for_binaries())))
    }

    /// Findings in the binary `bytes` at `path`: its raw bytes, and its
    /// UTF-16 strings unless decoding is off.
    pub(super) fn binary_findings(&self, bytes: &[u8], path: &str) -> Vec<Finding> {
        let engine = self.binary_engine();
        let mut findings = Vec::new();
        // Lines and columns count 0x0A bytes, as in any file: a position a
        // hex viewer can find (the byte offset follows from them).
        let mut original_lines = LineIndex::new(bytes);
        let mut found = |haystack: &[u8], to_original: &dyn Fn(usize) -> usize, chain: &[&str]| {
            let matches = engine.scan(haystack);
            if matches.is_empty() {
                return;
            }
            let mut lines = LineIndex::new(haystack);
            for m in &matches {
                if starts_inside_a_word(engine, m, haystack) {
                    continue;
                }
                let m = &Match { end: unglued_end(engine, m, haystack), ..m.clone() };
                let mut f = finding_from_match(engine, m, haystack, path, &mut lines);
                let offset = to_original(m.start);
                if findings.iter().any(|o: &Finding| o.rule_id == f.rule_id && o.byte_offset == offset) {
                    continue;
                }
                (f.line, f.column) = original_lines.locate(offset);
                f.byte_offset = offset;
                f.snippet = snippet(haystack, m.start, m.end);
                f.decoded = chain.iter().map(|s| s.to_string()).collect();
                findings.push(f);
            }
        };
        found(bytes, &|offset| offset, &["binary"]);
        if self.decode
            && let Some(view) = decode::utf16_strings(bytes, &self.limits)
        {
            found(&view.bytes, &|offset| view.map.to_original(offset), &view.chain);
        }
        // A database's values one per line: a key is not glued to the value
        // before it.
        if self.decode
            && let Some(view) = decode::sqlite_text(bytes, &self.limits)
        {
            found(&view.bytes, &|offset| view.map.to_original(offset), &view.chain);
        }
        findings
    }
}

/// Keywords shorter than this turn up inside words, identifiers and
/// base64 (`AKIA` in Unicode character names, `EAA` in an embedded wasm
/// blob, `r8_` in LLVM opcode names, `cio` in Polish UI text).
const SHORT_KEYWORD: usize = 5;

/// Whether `m` starts inside a word and its rule's keywords are short. The
/// byte before it is then an ASCII letter or digit that is not the length
/// of the key or of the string it starts (a length prefix, as `.class`,
/// `.pyc`, `.dex` and Android strings have), or the end of a two-byte
/// UTF-8 character (`ś` in `ściowego`). Such matches are dropped: in system
/// libraries and programs nearly all are false. The cost: a key that a Rust
/// or Go binary stores right after a string ending in a letter is dropped
/// too, unless its prefix is long (`sk-proj-`, `github_pat_`, `glpat-`).
fn starts_inside_a_word(engine: &Engine, m: &Match, haystack: &[u8]) -> bool {
    let Some(&before) = m.start.checked_sub(1).and_then(|i| haystack.get(i)) else { return false };
    let letter = match before {
        b'0'..=b'9' | b'A'..=b'Z' | b'a'..=b'z' => {
            // A length prefix counts the key, or the whole string it starts.
            let string = haystack[m.start..].iter().take(1 << 16).take_while(|b| (0x20..0x7f).contains(*b)).count();
            ![m.end - m.start, string].iter().any(|len| usize::from(before) == len % 256)
        }
        0x80..=0xbf => m.start >= 2 && (0xc2..=0xdf).contains(&haystack[m.start - 2]),
        _ => false,
    };
    letter && engine.rule(m.rule).spec.keywords.iter().map(String::len).min().is_some_and(|n| n < SHORT_KEYWORD)
}

/// URL schemes a binary's next string may start with, right after a key.
const GLUED_SCHEMES: [&[u8]; 2] = [b"https", b"http"];

/// Where `m` ends without a URL scheme read into it. Rust and Go store
/// their strings end to end, with nothing between, and an API's base URL
/// is often the string after its key: an open-ended pattern
/// (`sk-proj-...{20,120}`) then reads `https` as more of the key. The
/// scheme is left out when the rest still matches the rule on its own.
fn unglued_end(engine: &Engine, m: &Match, haystack: &[u8]) -> usize {
    if !haystack[m.end..].starts_with(b"://") {
        return m.end;
    }
    let regex = engine.rule(m.rule).regex();
    GLUED_SCHEMES
        .iter()
        .filter(|scheme| haystack[m.start..m.end].ends_with(scheme))
        .map(|scheme| m.end - scheme.len())
        .find(|&end| regex.find(&haystack[m.start..end]).is_some_and(|r| r.start() == 0 && r.end() == end - m.start))
        .unwrap_or(m.end)
}

/// The printable text around `start..end` (at most [`SNIPPET_CONTEXT`]
/// bytes on each side, stopping at the first unprintable byte).
fn snippet(bytes: &[u8], start: usize, end: usize) -> String {
    let printable = |b: &u8| (0x20..0x7f).contains(b);
    let from = bytes[start.saturating_sub(SNIPPET_CONTEXT)..start]
        .iter()
        .rposition(|b| !printable(b))
        .map_or(start.saturating_sub(SNIPPET_CONTEXT), |i| start.saturating_sub(SNIPPET_CONTEXT) + i + 1);
    let to = bytes[end..(end + SNIPPET_CONTEXT).min(bytes.len())]
        .iter()
        .position(|b| !printable(b))
        .map_or((end + SNIPPET_CONTEXT).min(bytes.len()), |i| end + i);
    String::from_utf8_lossy(&bytes[from..to]).into_owned()
}
