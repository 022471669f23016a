//! Archives: zip family, tar, tar.gz and gz members as new blobs.
//!
//! A `.env` inside a release `.zip`, a key in a `.jar`'s properties, a
//! wheel or `.nupkg` published with credentials: each member is a blob with
//! its own path (`app.zip!/config/.env`). Archives are untrusted input, so
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

use flate2::read::MultiGzDecoder;

use super::{Limits, Member, RATIO_FLOOR};

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
const MAX_ENTRIES: usize = 100_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Zip,
    Tar,
    TarGz,
    Gz,
}

const ZIP_EXTENSIONS: &[&str] =
    &[".zip", ".jar", ".whl", ".apk", ".nupkg", ".war", ".ear", ".aar", ".egg", ".xpi", ".vsix", ".ipa"];

fn is_tar_header(bytes: &[u8]) -> bool {
    bytes.get(257..262) == Some(b"ustar")
}

fn detect(bytes: &[u8], path: &str) -> Option<Kind> {
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        return Some(Kind::Zip);
    }
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut head = Vec::new();
        let _ = MultiGzDecoder::new(bytes).take(512).read_to_end(&mut head);
        return Some(if is_tar_header(&head) { Kind::TarGz } else { Kind::Gz });
    }
    if is_tar_header(bytes) {
        return Some(Kind::Tar);
    }
    // A zip with a prefix (self-extracting, a launcher script before a jar).
    let tail = &bytes[bytes.len().saturating_sub(65_557)..];
    if ZIP_EXTENSIONS.iter().any(|x| super::has_extension(path, x))
        && memchr::memmem::rfind(tail, b"PK\x05\x06").is_some()
    {
        return Some(Kind::Zip);
    }
    None
}

/// What all levels of one archive tree share while it is read.
struct Tree<'a> {
    limits: &'a Limits,
    budget: &'a mut Budget,
    notes: &'a mut Vec<String>,
}

impl Tree<'_> {
    fn note(&mut self, note: String) {
        self.budget.note(self.notes, note);
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

type Each<'a> = dyn FnMut(Member, &mut Tree<'_>) + 'a;

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
        Kind::Zip => zip(bytes, path, tree, each),
        Kind::Tar => tar(bytes, path, "tar", None, tree, each),
        Kind::TarGz => {
            let cap = ratio_cap(bytes.len() as u64, tree.limits);
            tar(MultiGzDecoder::new(bytes), path, "tar.gz", Some(cap), tree, each)
        }
        Kind::Gz => gz(bytes, path, tree, each),
    };
    if ok { Opened::Yes } else { Opened::Skipped }
}

fn ratio_cap(compressed: u64, limits: &Limits) -> u64 {
    compressed.saturating_mul(limits.max_ratio).max(RATIO_FLOOR)
}

/// How reading one member ended.
enum Read1 {
    /// The whole member (or its first `max_member_size` bytes: `cut`).
    Kept {
        bytes: Vec<u8>,
        cut: bool,
    },
    /// Dropped: inflated past its ratio or the tree's total.
    Bomb {
        limit: u64,
        total: bool,
    },
    Failed(io::Error),
}

/// Reads one member through `take`, charging `budget`.
fn read_member(r: &mut dyn Read, ratio_limit: u64, tree: &mut Tree<'_>) -> Read1 {
    let (limits, budget) = (tree.limits, &mut *tree.budget);
    let left = limits.max_total_out.saturating_sub(budget.total_out);
    let limit = limits.max_member_size.min(left).min(ratio_limit);
    let mut bytes = Vec::new();
    let res = r.take(limit.saturating_add(1)).read_to_end(&mut bytes);
    budget.total_out = budget.total_out.saturating_add(bytes.len() as u64);
    if let Err(e) = res {
        return Read1::Failed(e);
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
fn take_member(
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
        Read1::Failed(e) => {
            tree.note(format!("skipped: {path}!/{name}: unreadable: {e}"));
            true
        }
    }
}

fn zip(bytes: &[u8], path: &str, tree: &mut Tree<'_>, each: &mut Each<'_>) -> bool {
    let mut archive = match zip::ZipArchive::new(Cursor::new(bytes)) {
        Ok(a) => a,
        Err(e) => {
            tree.note(format!("skipped: {path}: unreadable zip archive: {e}"));
            return false;
        }
    };
    if archive.len() > MAX_ENTRIES {
        tree.note(format!("truncated: {path}: {} entries, only the first {MAX_ENTRIES} read", archive.len()));
    }
    for i in 0..archive.len().min(MAX_ENTRIES) {
        if tree.budget.exhausted {
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
        if !take_member(result, path, name, "zip", tree, each) {
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
        count += 1;
        if count > MAX_ENTRIES {
            tree.note(format!("truncated: {path}: more than {MAX_ENTRIES} entries, only the first read"));
            break;
        }
        if tree.budget.exhausted {
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

fn gz(bytes: &[u8], path: &str, tree: &mut Tree<'_>, each: &mut Each<'_>) -> bool {
    let base = path.rsplit(['/', '!']).next().unwrap_or(path);
    let lower = base.to_ascii_lowercase();
    let name = match [".gz", ".gzip", ".z"].iter().find(|x| lower.ends_with(*x)) {
        Some(x) if base.len() > x.len() => base[..base.len() - x.len()].to_string(),
        _ => format!("{base}.gunzip"),
    };
    let ratio_limit = ratio_cap(bytes.len() as u64, tree.limits);
    let result = read_member(&mut MultiGzDecoder::new(bytes), ratio_limit, tree);
    take_member(result, path, name, "gz", tree, each);
    true
}
