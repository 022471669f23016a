//! Archives: what ships as one file holding many, opened by content.
//!
//! A `.env` inside a release `.zip`, a key in a `.jar`'s properties, a
//! wheel or `.nupkg` published with credentials, a Chrome extension, an
//! Electron `app.asar`, a layer of a `docker save` image, a PDF's streams:
//! each member is a blob with its own path (`app.zip!/config/.env`,
//! `app.crx!/background.js`, `image.tar!/blobs/sha256/<digest>!/app/.env`).
//! Formats are told apart by their content, never by the name: zip family
//! (a prefix found by the records at the zip's end, [`super::zip_end`]; a
//! zip-family name needs only the end record), CRX2/CRX3 ([`super::crx`]),
//! tar, gzip/bzip2/xz/zstd/lz4 single files and tarballs
//! ([`super::compressed`]), asar ([`super::asar`]) and PDF ([`super::pdf`]).
//! In a zip, the text parts of an Office Open XML document come out as
//! their text, runs of one paragraph joined ([`super::ooxml`]). Archives are untrusted input, so
//! every read is bounded: decompression goes through `take(limit + 1)`
//! (declared sizes are never trusted, not even for allocation), a member
//! past [`Limits::max_member_size`] is cut, one that inflates more than
//! [`Limits::max_ratio`] times its compressed size (once past
//! [`RATIO_FLOOR`]) is dropped, and all members of one archive tree share
//! [`Limits::max_total_out`] through a [`Budget`]. Nesting past
//! [`Limits::max_archive_depth`] is not opened. Each of these pushes a note
//! and keeps what was read so far; nothing panics, and a 42.zip-style
//! tree (16^4 nested 200 MiB bombs) stops in a fraction of a second.

use std::cell::Cell;
use std::io::{self, Cursor, Read};
use std::rc::Rc;

use super::compressed::{self, Codec};
use super::{Limits, Member, RATIO_FLOOR, asar, crx, ooxml, pdf, zip_end};

/// Running totals for one archive tree: the file on disk and everything
/// nested in it share one budget.
#[derive(Debug, Default, Clone)]
pub struct Budget {
    /// Bytes decompressed so far, all levels together.
    pub total_out: u64,
    /// Set once `total_out` reached the limit (noted once, then all stops).
    pub exhausted: bool,
    /// Notes pushed for this tree; past [`MAX_NOTES`] they are dropped.
    noted: usize,
    /// Entries read so far, all levels together (see [`MAX_TREE_ENTRIES`]).
    entries: usize,
}

/// Notes kept per archive tree (a 42.zip would otherwise add thousands).
const MAX_NOTES: usize = 16;

impl Budget {
    fn note(&mut self, notes: &mut Vec<String>, note: String) {
        self.noted += 1;
        if self.noted <= MAX_NOTES {
            notes.push(note);
        } else if self.noted == MAX_NOTES + 1 {
            notes.push("skipped: further notes for this archive tree not shown".to_string());
        }
    }
}

/// Entries read from one archive at most (an archive of a million empty
/// files costs nothing in bytes but a lot in time).
pub(super) const MAX_ENTRIES: usize = 100_000;

/// Entries read from one archive tree at most, all levels together: an
/// image of 10,000 layers of 100,000 empty files each stops here.
const MAX_TREE_ENTRIES: usize = 500_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Zip,
    /// A Chrome extension: a CRX2 or CRX3 header, then a zip.
    Crx,
    Tar,
    /// A compressed stream: a tarball when `tar`, one file otherwise.
    Compressed {
        codec: Codec,
        tar: bool,
    },
    /// An Electron archive.
    Asar,
    Pdf,
}

/// Zip-family extensions: a file with one of these may start with
/// something else (a self-extracting stub, a launcher script) and is still
/// opened when its end holds a zip's end record.
const ZIP_EXTENSIONS: &[&str] = &[
    ".zip", ".jar", ".whl", ".apk", ".aab", ".apks", ".nupkg", ".war", ".ear", ".aar", ".egg", ".xpi", ".crx", ".vsix",
    ".ipa", ".appx", ".msix", ".docx", ".xlsx", ".pptx",
];

fn is_tar_header(bytes: &[u8]) -> bool {
    bytes.get(257..262) == Some(b"ustar")
}

fn detect(bytes: &[u8], path: &str) -> Option<Kind> {
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        return Some(Kind::Zip);
    }
    if crx::is_crx(bytes) {
        return Some(Kind::Crx);
    }
    if let Some(codec) = Codec::sniff(bytes) {
        let tar = is_tar_header(&compressed::head(codec, bytes, 512));
        return Some(Kind::Compressed { codec, tar });
    }
    if is_tar_header(bytes) {
        return Some(Kind::Tar);
    }
    if asar::is_asar(bytes) {
        return Some(Kind::Asar);
    }
    if pdf::is_pdf(bytes) {
        return Some(Kind::Pdf);
    }
    // A zip with a prefix (self-extracting, a launcher script before a
    // jar): by its records, whatever the name (a git blob has none); a
    // zip-family name needs only an end record (zip64 too).
    if zip_end::start(bytes).is_some() {
        return Some(Kind::Zip);
    }
    let tail = &bytes[bytes.len().saturating_sub(65_557)..];
    if ZIP_EXTENSIONS.iter().any(|x| super::has_extension(path, x))
        && memchr::memmem::rfind(tail, b"PK\x05\x06").is_some()
    {
        return Some(Kind::Zip);
    }
    None
}

/// The bytes before a zip that has a prefix (a self-extracting program's
/// stub, a launcher script), empty for anything else: opening the zip
/// leaves them out, so the detector scans them as a blob of their own.
pub fn zip_prefix<'b>(bytes: &'b [u8], path: &str) -> &'b [u8] {
    if bytes.starts_with(b"PK") || detect(bytes, path) != Some(Kind::Zip) {
        return &[];
    }
    &bytes[..zip_end::start(bytes).unwrap_or(0)]
}

/// Whether `bytes` (at `path`) is a container [`expand`] opens: sources
/// use it so that a container with NUL bytes is not skipped as binary.
pub fn is_container(bytes: &[u8], path: &str) -> bool {
    detect(bytes, path).is_some()
}

/// What all levels of one archive tree share while it is read.
pub(super) struct Tree<'a> {
    pub(super) limits: &'a Limits,
    budget: &'a mut Budget,
    notes: &'a mut Vec<String>,
}

impl Tree<'_> {
    pub(super) fn note(&mut self, note: String) {
        self.budget.note(self.notes, note);
    }

    /// Whether reading must stop: the tree's bytes are spent, or it has
    /// read [`MAX_TREE_ENTRIES`] entries (noted once).
    pub(super) fn stopped(&self) -> bool {
        self.budget.exhausted
    }

    /// Counts one entry of `path`; false (with a note) when the archive or
    /// the tree has read its last.
    pub(super) fn count_entry(&mut self, path: &str, count: &mut usize) -> bool {
        *count += 1;
        if *count > MAX_ENTRIES {
            self.note(format!("truncated: {path}: more than {MAX_ENTRIES} entries, only the first read"));
            return false;
        }
        self.budget.entries += 1;
        if self.budget.entries > MAX_TREE_ENTRIES {
            self.budget.exhausted = true;
            self.note(format!("truncated: {path}: archive tree has more than {MAX_TREE_ENTRIES} entries"));
            return false;
        }
        true
    }
}

/// The members of the archive in `bytes` (file entries only), or `None`
/// when `bytes` is not an archive. A fresh budget, depth 0: for one level.
/// Use [`expand`] to open nested archives too.
pub fn members(bytes: &[u8], path: &str, limits: &Limits, notes: &mut Vec<String>) -> Option<Vec<Member>> {
    members_in(bytes, path, 0, limits, &mut Budget::default(), notes)
}

/// Like [`members`] for an archive nested `depth` levels deep (0: a file on
/// disk), sharing `budget` with the rest of its tree.
pub fn members_in(
    bytes: &[u8],
    path: &str,
    depth: u32,
    limits: &Limits,
    budget: &mut Budget,
    notes: &mut Vec<String>,
) -> Option<Vec<Member>> {
    let mut out = Vec::new();
    let mut tree = Tree { limits, budget, notes };
    match visit(bytes, path, depth, &mut tree, &mut |m, _| out.push(m)) {
        Opened::No => None,
        _ => Some(out),
    }
}

/// Every file in the archive tree of `bytes`, nested archives opened up to
/// [`Limits::max_archive_depth`], handed to `each` one at a time (so memory
/// stays at one member per level). Paths join levels with `!/`, as reports
/// do (`lib/a.jar!/config/.env`); an archive that was opened is not itself
/// handed over, one that could not be (too deep, unreadable) is. Returns
/// false when `bytes` is not an archive.
pub fn expand(
    bytes: &[u8],
    path: &str,
    limits: &Limits,
    notes: &mut Vec<String>,
    each: &mut dyn FnMut(Member),
) -> bool {
    let mut budget = Budget::default();
    let mut tree = Tree { limits, budget: &mut budget, notes };
    expand_in(bytes, path, "", &[], 0, &mut tree, each) != Opened::No
}

fn expand_in(
    bytes: &[u8],
    path: &str,
    prefix: &str,
    chain: &[&'static str],
    depth: u32,
    tree: &mut Tree<'_>,
    each: &mut dyn FnMut(Member),
) -> Opened {
    visit(bytes, path, depth, tree, &mut |m, tree| {
        let inner = if prefix.is_empty() { m.path.clone() } else { format!("{prefix}!/{}", m.path) };
        let shown = format!("{path}!/{}", m.path);
        let mut full: Vec<&'static str> = chain.to_vec();
        full.extend(&m.chain);
        if expand_in(&m.bytes, &shown, &inner, &full, depth + 1, tree, each) != Opened::Yes {
            each(Member { path: inner, bytes: m.bytes, chain: full });
        }
    })
}

#[derive(Debug, PartialEq, Eq)]
enum Opened {
    No,
    Yes,
    /// An archive left closed (too deep, unreadable).
    Skipped,
}

pub(super) type Each<'a> = dyn FnMut(Member, &mut Tree<'_>) + 'a;

fn visit(bytes: &[u8], path: &str, depth: u32, tree: &mut Tree<'_>, each: &mut Each<'_>) -> Opened {
    let Some(kind) = detect(bytes, path) else { return Opened::No };
    let max = tree.limits.max_archive_depth;
    if depth >= max {
        tree.note(format!("skipped: {path}: archive nested deeper than {max} levels"));
        return Opened::Skipped;
    }
    if tree.budget.exhausted {
        return Opened::Skipped;
    }
    let ok = match kind {
        Kind::Zip => zip(bytes, path, "zip", tree, each),
        Kind::Crx => match crx::zip_start(bytes) {
            Ok(at) => zip(&bytes[at..], path, "crx", tree, each),
            Err(why) => {
                tree.note(format!("skipped: {path}: {why}"));
                false
            }
        },
        Kind::Tar => tar(bytes, path, "tar", None, tree, each),
        Kind::Compressed { codec, tar: true } => {
            let cap = ratio_cap(bytes.len() as u64, tree.limits);
            tar(codec.reader(bytes), path, codec.name(true), Some(cap), tree, each)
        }
        Kind::Compressed { codec, tar: false } => single(bytes, codec, path, tree, each),
        Kind::Asar => asar::members(bytes, path, tree, each),
        Kind::Pdf => pdf::members(bytes, path, tree, each),
    };
    if ok { Opened::Yes } else { Opened::Skipped }
}

/// Decompressed bytes allowed for `compressed` bytes of input.
pub(super) fn ratio_cap(compressed: u64, limits: &Limits) -> u64 {
    compressed.saturating_mul(limits.max_ratio).max(RATIO_FLOOR)
}

/// How reading one member ended.
pub(super) enum Read1 {
    /// The whole member (or its first `max_member_size` bytes: `cut`).
    Kept { bytes: Vec<u8>, cut: bool },
    /// Dropped: inflated past its ratio or the tree's total.
    Bomb { limit: u64, total: bool },
    /// A read error, after `bytes` (kept when there are any: a truncated
    /// stream still shows what it held).
    Failed { bytes: Vec<u8>, error: io::Error },
}

/// Reads one member through `take`, charging the tree's budget.
pub(super) fn read_member(r: &mut dyn Read, ratio_limit: u64, tree: &mut Tree<'_>) -> Read1 {
    let (limits, budget) = (tree.limits, &mut *tree.budget);
    let left = limits.max_total_out.saturating_sub(budget.total_out);
    let limit = limits.max_member_size.min(left).min(ratio_limit);
    let mut bytes = Vec::new();
    let res = r.take(limit.saturating_add(1)).read_to_end(&mut bytes);
    budget.total_out = budget.total_out.saturating_add(bytes.len() as u64);
    if let Err(error) = res {
        bytes.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        return Read1::Failed { bytes, error };
    }
    if (bytes.len() as u64) <= limit {
        return Read1::Kept { bytes, cut: false };
    }
    if limit == left {
        budget.exhausted = true;
        return Read1::Bomb { limit: limits.max_total_out, total: true };
    }
    if limit == ratio_limit && ratio_limit < limits.max_member_size {
        return Read1::Bomb { limit, total: false };
    }
    bytes.truncate(limit as usize);
    Read1::Kept { bytes, cut: true }
}

/// Records the outcome of reading `name`; false when the tree must stop.
pub(super) fn take_member(
    result: Read1,
    path: &str,
    name: String,
    chain: &'static str,
    tree: &mut Tree<'_>,
    each: &mut Each<'_>,
) -> bool {
    match result {
        Read1::Kept { bytes, cut } => {
            if cut {
                let cut = tree.limits.max_member_size;
                tree.note(format!(
                    "truncated: {path}!/{name}: exceeds {cut} bytes decompressed; scanned the first {cut}"
                ));
            }
            each(Member { path: name, bytes, chain: vec![chain] }, tree);
            true
        }
        Read1::Bomb { limit, total } => {
            let what = if total { format!("{path}: archive") } else { format!("{path}!/{name}") };
            tree.note(format!("skipped: {what}: exceeds {limit} bytes decompressed (zip bomb protection)"));
            !total
        }
        Read1::Failed { bytes, error } if !bytes.is_empty() => {
            let n = bytes.len();
            tree.note(format!("truncated: {path}!/{name}: unreadable after {n} bytes: {error}"));
            each(Member { path: name, bytes, chain: vec![chain] }, tree);
            true
        }
        Read1::Failed { error, .. } => {
            tree.note(format!("skipped: {path}!/{name}: unreadable: {error}"));
            true
        }
    }
}

/// The members of a zip (`chain` is `zip`, or `crx` for the zip in a
/// Chrome extension). An Office document's text parts come out as their
/// text instead (`word/document.xml#text`, chain `[zip, ooxml]`).
fn zip(bytes: &[u8], path: &str, chain: &'static str, tree: &mut Tree<'_>, each: &mut Each<'_>) -> bool {
    let mut archive = match zip::ZipArchive::new(Cursor::new(bytes)) {
        Ok(a) => a,
        Err(e) => {
            tree.note(format!("skipped: {path}: unreadable {chain} archive: {e}"));
            return false;
        }
    };
    if archive.len() > MAX_ENTRIES {
        tree.note(format!("truncated: {path}: {} entries, only the first {MAX_ENTRIES} read", archive.len()));
    }
    let each = &mut |m: Member, tree: &mut Tree<'_>| match ooxml::text_part(&m.path, &m.bytes) {
        Some(text) => {
            let chain = vec![m.chain[0], "ooxml"];
            each(Member { path: format!("{}#text", m.path), bytes: text, chain }, tree)
        }
        None => each(m, tree),
    };
    let mut count = 0;
    for i in 0..archive.len().min(MAX_ENTRIES) {
        if tree.stopped() || !tree.count_entry(path, &mut count) {
            break;
        }
        let mut file = match archive.by_index(i) {
            Ok(f) => f,
            Err(e) => {
                tree.note(format!("skipped: {path}: entry {i}: {e}"));
                continue;
            }
        };
        if !file.is_file() {
            continue;
        }
        let name = String::from_utf8_lossy(file.name_raw()).into_owned();
        // Compressed data cannot be larger than the archive holding it.
        let ratio_limit = ratio_cap(file.compressed_size().min(bytes.len() as u64), tree.limits);
        let result = read_member(&mut file, ratio_limit, tree);
        drop(file);
        if !take_member(result, path, name, chain, tree, each) {
            break;
        }
    }
    true
}

/// A reader that stops (EOF) after `left` bytes and says so in `hit`.
struct Capped<R> {
    inner: R,
    left: u64,
    hit: Rc<Cell<bool>>,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            if !buf.is_empty() {
                self.hit.set(true);
            }
            return Ok(0);
        }
        let n = buf.len().min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let got = self.inner.read(&mut buf[..n])?;
        self.left -= got as u64;
        Ok(got)
    }
}

/// Tar members from `reader`; `cap` bounds the whole decompressed stream
/// (headers and skipped data included) for `tar.gz`.
fn tar<R: Read>(
    reader: R,
    path: &str,
    chain: &'static str,
    cap: Option<u64>,
    tree: &mut Tree<'_>,
    each: &mut Each<'_>,
) -> bool {
    let left = tree.limits.max_total_out.saturating_sub(tree.budget.total_out);
    let stream_cap = cap.unwrap_or(u64::MAX).min(left);
    let hit = Rc::new(Cell::new(false));
    let mut archive = tar::Archive::new(Capped { inner: reader, left: stream_cap, hit: Rc::clone(&hit) });
    let mut count = 0;
    let entries = match archive.entries() {
        Ok(e) => e,
        Err(e) => {
            tree.note(format!("skipped: {path}: unreadable {chain} archive: {e}"));
            return false;
        }
    };
    for entry in entries {
        let mut entry = match entry {
            Ok(e) => e,
            Err(e) => {
                tree.note(format!("skipped: {path}: {chain} archive ends early: {e}"));
                break;
            }
        };
        if tree.stopped() || !tree.count_entry(path, &mut count) {
            break;
        }
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let result = read_member(&mut entry, u64::MAX, tree);
        if hit.get() {
            // The stream hit its cap inside this member: drop the member.
            break;
        }
        if !take_member(result, path, name, chain, tree, each) {
            break;
        }
    }
    if hit.get() {
        let what = if stream_cap == left { tree.limits.max_total_out } else { stream_cap };
        tree.budget.exhausted |= stream_cap == left;
        tree.note(format!("skipped: {path}: exceeds {what} bytes decompressed (zip bomb protection)"));
    }
    true
}

/// A compressed file that is not a tarball: one member, named after the
/// file without its extension.
fn single(bytes: &[u8], codec: Codec, path: &str, tree: &mut Tree<'_>, each: &mut Each<'_>) -> bool {
    let name = codec.member_name(path);
    let ratio_limit = ratio_cap(bytes.len() as u64, tree.limits);
    let result = read_member(&mut codec.reader(bytes), ratio_limit, tree);
    take_member(result, path, name, codec.name(false), tree, each);
    true
}

#[cfg(test)]
#[path = "archive_tests.rs"]
mod tests;
