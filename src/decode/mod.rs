//! Decoders: where a line-by-line regex misses a key, decode and scan again.
//!
//! Real leaks hide behind encodings: a key in a JSON string with `\u002d`
//! for its dashes, a notebook cell, a `%2D` in a query string, a Kubernetes
//! `Secret` whose values are base64, a UTF-16 `.reg` export, a source map's
//! `sourcesContent`, a key split into `"sk-ant-" + "…"`, a key glued to a
//! terminal colour code, a `.env` inside a `.jar`. Each decoder here turns (part of) a blob into a [`View`]: decoded
//! bytes that the *same* engine scans, an [`OffsetMap`] back to the original
//! blob (so findings keep the file's real line and column) and the `chain`
//! of decodings that found them. Archives are different: their members are
//! new blobs with their own paths ([`members`], [`expand`]).
//!
//! Everything here is pure: bytes in, views out, no I/O and no knowledge of
//! the engine or the rules. [`views`] runs on every text file, so the
//! token decoders start from one marking pass over the text (`marks`: long
//! runs of key characters, quotes, backslashes, percent signs, found 64
//! bytes at a time), the others from a cheap check (a `memchr` for NUL or
//! `ESC`, the path for notebooks and source maps), and return nothing when
//! nothing applies. Every scan is linear; candidate regions are
//! bounded and never overlap, and views are capped at
//! [`Limits::max_view_bytes`], so a 20 MB one-line bundle costs one pass per
//! decoder. Decoded views are decoded again (base64 in a JSON string, in a
//! notebook cell) up to [`Limits::max_depth`] decodings, maps composed.
//!
//! Views overlap the raw blob on purpose (a decoded region keeps up to
//! [`CONTEXT`] bytes of the text before it, so `MISTRAL_API_KEY: <base64>`
//! still gives a context rule its keyword): a caller scanning the raw bytes
//! and the views must drop a view match whose rule and mapped original
//! offset it already has.

/// A `[bool; 256]` byte table from a predicate, built at compile time:
/// `byte_table!(|b| b.is_ascii_hexdigit())`.
macro_rules! byte_table {
    (|$b:ident| $pred:expr) => {{
        let mut t = [false; 256];
        let mut i = 0;
        while i < 256 {
            let $b = i as u8;
            t[i] = $pred;
            i += 1;
        }
        t
    }};
}

mod ansi;
mod archive;
mod asar;
mod base64;
mod binary;
mod compressed;
mod concat;
mod crx;
mod hex;
mod json;
mod json_escape;
mod map;
mod marks;
mod notebook;
mod ooxml;
mod pdf;
pub mod sniff;
mod sourcemap;
mod sqlite;
/// The container builders the integration tests use, shared with the unit
/// tests here (one copy of each).
#[cfg(test)]
#[allow(dead_code)]
#[path = "../../tests/common/archive.rs"]
pub(crate) mod test_archives;
mod url;
mod utf16;
mod zip_end;

pub use archive::{Budget, expand, is_container, members, members_in, zip_prefix};
pub use binary::utf16_strings;
pub use map::OffsetMap;
pub use sqlite::sqlite_text;

use map::ViewBuf;

/// One decoded view of (part of) a blob.
#[derive(Debug, Clone)]
pub struct View {
    /// Decoded bytes to scan.
    pub bytes: Vec<u8>,
    /// How they were obtained, outermost first: `["base64"]`,
    /// `["json-string", "base64"]`, `["utf-16le"]`, `["notebook"]`, ...
    pub chain: Vec<&'static str>,
    /// Maps an offset in `bytes` to an offset in the original blob.
    pub map: OffsetMap,
    /// Extra location: `cell 3` in a notebook, the source's name for a
    /// source map's `sourcesContent` entry.
    pub note: Option<String>,
}

/// A file inside an archive: a new blob with its own path.
#[derive(Debug, Clone)]
pub struct Member {
    /// Path inside the archive (`inner/path`; for [`expand`], nested
    /// archives are joined with `!/`: `lib/a.jar!/config/.env`).
    pub path: String,
    pub bytes: Vec<u8>,
    /// Container formats from the outermost in: `["zip"]`, `["zip", "tar.gz"]`,
    /// `["crx"]`, `["asar"]`, `["tar", "tar.zst"]`, `["pdf"]`; a zip's
    /// Office text part ends in `ooxml` (`["zip", "ooxml"]`).
    pub chain: Vec<&'static str>,
}

/// Bounds on decoding work and output.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Longest chain of text decodings (`base64` inside `base64` is 2).
    pub max_depth: u32,
    /// Archives nested deeper than this are not opened (with a note). Four
    /// levels hold a library jar in a fat jar in an image layer in a
    /// `docker save` tarball.
    pub max_archive_depth: u32,
    /// Decompressed bytes per archive tree, all members and levels together.
    pub max_total_out: u64,
    /// Decompressed/compressed ratio past which a member is a bomb (checked
    /// once a member passes [`RATIO_FLOOR`] bytes).
    pub max_ratio: u64,
    /// Bytes kept of one member; a larger member is cut (with a note).
    pub max_member_size: u64,
    /// Bytes in one view; decoders stop adding regions past it.
    pub max_view_bytes: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_depth: 2,
            max_archive_depth: 4,
            max_total_out: 256 << 20,
            max_ratio: 100,
            max_member_size: 25 << 20,
            max_view_bytes: 16 << 20,
        }
    }
}

/// Decompressed bytes a member may reach before the ratio is checked: a
/// small text file legitimately compresses far better than 100:1.
pub const RATIO_FLOOR: u64 = 1 << 20;

/// Bytes of original text kept before a decoded region, for context rules.
pub const CONTEXT: usize = 48;

/// Shortest run of key characters that makes a decoded region worth a view.
const MIN_TOKEN: usize = 16;

/// Text decodings of `bytes` (not including the raw bytes themselves).
/// `path` selects the structural decoders (`.ipynb`, `.map`).
pub fn views(bytes: &[u8], path: &str, limits: &Limits) -> Vec<View> {
    // Maps use u32 offsets; larger blobs are past any sane size cap.
    if bytes.len() >= u32::MAX as usize || limits.max_depth == 0 {
        return Vec::new();
    }
    let mut out = Vec::new();
    out.extend(utf16::decode(bytes, limits));
    let mut structured = false;
    if has_extension(path, ".ipynb") {
        let cells = notebook::decode(bytes, limits);
        structured = !cells.is_empty();
        out.extend(cells);
    }
    if sourcemap::applies(path, bytes) {
        let sources = sourcemap::decode(bytes, limits);
        structured |= !sources.is_empty();
        out.extend(sources);
    }
    // A notebook's or source map's strings are decoded above and their
    // views get the token decoders below; the raw JSON around them (image
    // outputs, `mappings`) only costs time.
    if !structured {
        token_views(bytes, limits, &mut out);
    }
    // Decode the decoded: a base64 inside a JSON string, inside a base64.
    let mut i = 0;
    while i < out.len() {
        if out[i].chain.len() < limits.max_depth as usize {
            let mut inner = Vec::new();
            token_views(&out[i].bytes, limits, &mut inner);
            let outer = &out[i];
            let nested: Vec<View> = inner
                .into_iter()
                .map(|v| View {
                    map: v.map.compose(&outer.map),
                    chain: outer.chain.iter().chain(&v.chain).copied().collect(),
                    note: outer.note.clone(),
                    bytes: v.bytes,
                })
                .collect();
            out.extend(nested);
        }
        i += 1;
    }
    out
}

/// Bit 7 of each byte of the result: `lo < byte < hi` for that byte of
/// `x`, eight bytes at a time (the classic "has between" bit trick; exact
/// for ASCII bytes, which is all the callers give it).
pub(crate) const fn ascii_between(x: u64, lo: u8, hi: u8) -> u64 {
    const ONES: u64 = u64::MAX / 255;
    let low7 = x & (ONES * 127);
    (ONES * (127 + hi as u64) - low7) & !x & (low7 + ONES * (127 - lo as u64)) & (ONES * 128)
}

/// Whether `path` ends with `extension` (`.map`), in any letter case.
fn has_extension(path: &str, extension: &str) -> bool {
    let (path, extension) = (path.as_bytes(), extension.as_bytes());
    path.len() >= extension.len() && path[path.len() - extension.len()..].eq_ignore_ascii_case(extension)
}

/// The decoders that find encoded tokens anywhere in text.
fn token_views(bytes: &[u8], limits: &Limits, out: &mut Vec<View>) {
    thread_local! {
        /// Lists reused from text to text (a nested call finds them taken
        /// and starts empty ones).
        static MARKS: std::cell::Cell<marks::Marks> = std::cell::Cell::default();
    }
    // One pass finds where each decoder may start.
    let mut marks = MARKS.take();
    marks.refill(bytes);
    out.extend(json_escape::decode(bytes, marks.backslashes.iter(), limits));
    if marks.percent {
        out.extend(url::decode(bytes, limits));
    }
    out.extend(base64::decode(bytes, &marks.runs, limits));
    out.extend(hex::decode(bytes, &marks.runs, limits));
    out.extend(concat::decode(bytes, marks.quotes.iter(), limits));
    if marks.esc {
        out.extend(ansi::decode(bytes, limits));
    }
    MARKS.set(marks);
}

/// Characters of keys and tokens (base64 and base64url included).
pub(crate) fn is_key_byte(b: u8) -> bool {
    KEY_BYTE[b as usize]
}

static KEY_BYTE: [bool; 256] =
    byte_table!(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'+' | b'/' | b'=' | b'.' | b'~'));

/// Characters of the secrets themselves: what a decoded run must consist
/// of to be worth a view (no `.`, `~`, `:`, which join words in prose and
/// URLs).
pub(crate) fn is_secret_byte(b: u8) -> bool {
    SECRET_BYTE[b as usize]
}

static SECRET_BYTE: [bool; 256] =
    byte_table!(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'+' | b'/' | b'='));

/// Decoded bytes that read as text: no NUL, and at least 90% printable
/// characters (ASCII graphic or space, tab, newline, or valid non-control
/// UTF-8).
pub(crate) fn mostly_text(bytes: &[u8]) -> bool {
    if bytes.is_empty() || memchr::memchr(0, bytes).is_some() {
        return false;
    }
    // ASCII controls are bad whatever the rest is: binary (a base64 or hex
    // decoding of something that was not) is rejected here, without UTF-8
    // decoding; pure ASCII is decided here too.
    let controls = bytes.iter().filter(|&&b| b < b' ' && !matches!(b, b'\t' | b'\n' | b'\r') || b == 0x7f).count();
    if controls * 10 > bytes.len() {
        return false;
    }
    if bytes.is_ascii() {
        return true;
    }
    // The other bad characters: C1 controls (`\u{80}` to `\u{9f}`, two
    // bytes each) and invalid sequences. Binary fails on its first few, so
    // stop as soon as the bad part passes a tenth.
    let (limit, mut bad) = (bytes.len() / 10, controls);
    for chunk in bytes.utf8_chunks() {
        let valid = chunk.valid().as_bytes();
        bad += 2 * valid.windows(2).filter(|w| w[0] == 0xc2 && (0x80..0xa0).contains(&w[1])).count();
        bad += chunk.invalid().len();
        if bad > limit {
            return false;
        }
    }
    true
}

/// Start of the context kept before a region at `at`: up to [`CONTEXT`]
/// bytes back, not past `floor` nor before the start of the line.
pub(crate) fn context_start(bytes: &[u8], at: usize, floor: usize) -> usize {
    let lo = at.saturating_sub(CONTEXT).max(floor).min(at);
    match memchr::memrchr(b'\n', bytes.get(lo..at).unwrap_or_default()) {
        Some(nl) => lo + nl + 1,
        None => lo,
    }
}

/// Whether a decoded region holds a run of at least [`MIN_TOKEN`] key
/// characters that an escape produced, or that starts right after one (a
/// key after a literal `\n` is glued to the `n` in the raw text).
#[derive(Debug, Default)]
pub(crate) struct Relevance {
    run: usize,
    touched: bool,
    prev_escaped: bool,
    pub(crate) hit: bool,
}

impl Relevance {
    /// Marks a point where something was removed (an escape sequence): a
    /// run starting right here counts as touched.
    pub(crate) fn mark(&mut self) {
        self.prev_escaped = true;
    }

    pub(crate) fn feed(&mut self, bytes: &[u8], escaped: bool) {
        for &b in bytes {
            if is_secret_byte(b) {
                if self.run == 0 {
                    self.touched = self.prev_escaped;
                }
                self.touched |= escaped;
                self.run += 1;
                self.hit |= self.touched && self.run >= MIN_TOKEN;
            } else {
                self.run = 0;
            }
            self.prev_escaped = escaped;
        }
    }
}

/// Wraps an aggregated view, or nothing when no region was kept.
pub(crate) fn finish(buf: ViewBuf, chain: &'static str) -> Option<View> {
    if buf.len() == 0 {
        return None;
    }
    let (bytes, map) = buf.finish();
    Some(View { bytes, chain: vec![chain], map, note: None })
}

/// A view's size cap as `usize`.
pub(crate) fn cap(limits: &Limits) -> usize {
    usize::try_from(limits.max_view_bytes).unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_detection() {
        assert!(mostly_text(b"user:ghp_abcdefghijklmnop"));
        assert!(mostly_text("naïve café\n".as_bytes()));
        assert!(!mostly_text(b"ab\0cd"));
        assert!(!mostly_text(&[0xff, 0xfe, 0x81, 0x90, 0x12, 0x13, b'a']));
        assert!(!mostly_text(b""));
        // ASCII controls count against, as in the UTF-8 path.
        assert!(mostly_text(b"abcdefghi\x07"));
        assert!(!mostly_text(b"abcdefgh\x07\x7f"));
        assert!(!mostly_text(b"ab\x01\x02"));
    }

    #[test]
    fn text_detection_matches_the_definition() {
        // The definition: at most a tenth of the bytes are in controls
        // (but tab, CR, LF) or invalid UTF-8; no NUL.
        let slow = |bytes: &[u8]| {
            if bytes.is_empty() || bytes.contains(&0) {
                return false;
            }
            let mut bad = 0;
            for chunk in bytes.utf8_chunks() {
                bad += chunk
                    .valid()
                    .chars()
                    .filter(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
                    .map(char::len_utf8)
                    .sum::<usize>();
                bad += chunk.invalid().len();
            }
            bad * 10 <= bytes.len()
        };
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let pieces: [&[u8]; 6] =
            [b"key=sk-", "é".as_bytes(), "\u{85}".as_bytes(), b"\x07", b"\xff\xfe", "日本".as_bytes()];
        for _ in 0..20_000 {
            let mut text = Vec::new();
            while text.len() < 40 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                match state % 4 {
                    0 => text.push((state >> 8) as u8),
                    _ => text.extend_from_slice(pieces[(state >> 16) as usize % pieces.len()]),
                }
            }
            assert_eq!(mostly_text(&text), slow(&text), "{text:?}");
        }
    }

    #[test]
    fn context_stops_at_line_start() {
        let text = b"first line\nKEY: value";
        assert_eq!(context_start(text, 16, 0), 11);
        assert_eq!(context_start(text, 16, 14), 14);
        let long = [b'a'; 100];
        assert_eq!(context_start(&long, 100, 0), 100 - CONTEXT);
    }

    #[test]
    fn relevance_needs_an_escape_in_or_before_a_long_run() {
        let mut r = Relevance::default();
        r.feed(b"sk-ant-api03-abcdefgh", false);
        assert!(!r.hit);
        let mut r = Relevance::default();
        r.feed(b"\n", true);
        r.feed(b"sk-ant-api03-abcdefgh", false);
        assert!(r.hit);
        let mut r = Relevance::default();
        r.feed(b"short", false);
        r.feed(b"-", true);
        r.feed(b"abc ", false);
        assert!(!r.hit);
    }

    /// Per-decoder timings over the files under `DECODE_BENCH` (a file or a
    /// directory; its text files, each decoded on its own as a
    /// scan does, with the file in cache; all but `marks`, `url` and `views`
    /// include a `marks` pass):
    /// `DECODE_BENCH=dir cargo test --release --lib bench_decoders -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn bench_decoders() {
        let Ok(root) = std::env::var("DECODE_BENCH") else { return };
        let mut files = Vec::new();
        let mut total = 0;
        for entry in ignore::WalkBuilder::new(&root).standard_filters(false).build().flatten() {
            let Ok(bytes) = std::fs::read(entry.path()) else { continue };
            if memchr::memchr(0, &bytes).is_some() {
                continue;
            }
            total += bytes.len();
            files.push(bytes);
        }
        println!("{} files, {} MiB", files.len(), total >> 20);
        let limits = Limits::default();
        // Per file, the fastest of 3 runs in a row (the file in cache, as
        // in a scan, where the engine has just read it).
        let time = |name: &str, f: &dyn Fn(&[u8]) -> usize| {
            let (mut total, mut n) = (0.0, 0);
            for b in &files {
                let mut best = f64::MAX;
                for _ in 0..3 {
                    let t = std::time::Instant::now();
                    n += f(b);
                    best = best.min(t.elapsed().as_secs_f64() * 1000.0);
                }
                total += best;
            }
            println!("{name:>12}: {total:7.1} ms, {} bytes out", n / 3);
        };
        let len = |v: Option<View>| v.map_or(0, |v| v.bytes.len());
        let marks = |b: &[u8]| marks::Marks::find(b);
        time("marks", &|b| marks(b).runs.len());
        time("json-string", &|b| len(json_escape::decode(b, marks(b).backslashes.iter(), &limits)));
        time("url", &|b| len(url::decode(b, &limits)));
        time("base64", &|b| len(base64::decode(b, &marks(b).runs, &limits)));
        time("hex", &|b| len(hex::decode(b, &marks(b).runs, &limits)));
        time("concat", &|b| len(concat::decode(b, marks(b).quotes.iter(), &limits)));
        time("utf16", &|b| len(utf16::decode(b, &limits)));
        time("views", &|b| views(b, "x.rs", &limits).len());
    }

    #[test]
    fn plain_source_has_no_views() {
        let src = b"fn main() {\n    let x = 1 + 2;\n    println!(\"{x}\\n\");\n}\n";
        assert!(views(src, "main.rs", &Limits::default()).is_empty());
    }
}
