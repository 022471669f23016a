//! Decodes every object in the store once and dispatches it: blobs to an
//! [`ObjectSink`] (the audit scans them; this module knows nothing of
//! rules or findings), commits, trees and tags to the graph.
//!
//! Packs are decoded by a delta-tree walk ([`pack_walk`]): each delta base
//! inflated once, in parallel. Reading blobs one by one by id
//! re-resolves delta chains and measured ~2.8× slower on a real history (see
//! DESIGN.md). Loose objects, few in a packed repository but all of them in
//! a fresh one, go through `git2`.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use gix_hash::ObjectId;
use gix_object::Kind;
use rayon::prelude::*;

use super::graph::{GraphBuilder, MISSING};
use super::objects::{Id, ObjectTable, PackReader};
use super::pack_walk;
use crate::decode::sniff::media_kind;

/// Receives every text blob the decode reads, once each, from many threads
/// at once; `blob` is its id in the [`ObjectTable`].
pub trait ObjectSink: Sync {
    fn blob(&self, blob: Id, bytes: &[u8]);
}

#[derive(Debug, Default, Clone, Copy)]
pub struct DecodeCounts {
    pub blobs_scanned: u64,
    pub bytes_scanned: u64,
    pub blobs_media: u64,
    pub blobs_too_large: u64,
    pub lfs_pointers: u64,
    pub submodules: u64,
}

/// Everything one decode of the store produced.
pub struct Decoded {
    /// The graph as each decode thread recorded it ([`GraphBuilder::build`]).
    pub graph: Vec<GraphBuilder>,
    pub counts: DecodeCounts,
    /// Ids that were decoded (to tell referenced-but-unreadable objects).
    pub decoded: Vec<AtomicU64>,
    /// Object ids referenced by trees or commits but absent from the store.
    pub absent: Vec<ObjectId>,
    /// Objects or packs that failed to decode: (what, why).
    pub failures: Vec<(String, String)>,
}

pub struct DecodeOptions<'p> {
    pub max_blob_size: u64,
    /// Resident pack pages above this are given back (see
    /// [`ObjectTable::with_bounded_pages`]).
    pub file_pages_limit: u64,
    pub threads: usize,
    /// Counters a progress display may read while the decode runs.
    pub progress: Option<&'p DecodeProgress>,
    /// Set (by a Ctrl-C handler) to stop early with what was decoded.
    pub cancel: Option<&'p AtomicBool>,
}

/// Objects and bytes decoded so far.
#[derive(Debug, Default)]
pub struct DecodeProgress {
    pub objects: AtomicU64,
    pub bytes: AtomicU64,
}

/// What the per-thread workers share.
struct Shared<'a> {
    table: &'a ObjectTable,
    sink: &'a dyn ObjectSink,
    options: &'a DecodeOptions<'a>,
    decoded: Vec<AtomicU64>,
    merged: Mutex<Local>,
}

/// How often (in decoded bytes) a worker checks the resident pack pages
/// itself, on top of the watcher thread, which a loaded machine may not
/// schedule in time.
const CHECK_PAGES_EVERY: u64 = 16 << 20;

/// One worker's results, merged into `Shared::merged` when it is dropped.
#[derive(Default)]
struct Local {
    graph: GraphBuilder,
    /// In the merged result only: every worker's graph.
    graphs: Vec<GraphBuilder>,
    counts: DecodeCounts,
    absent: Vec<ObjectId>,
    /// Bytes this worker decoded since it last checked the resident pack
    /// pages (a local count: no shared atomic on the per-object path).
    since_check: u64,
}

struct Worker<'s, 'a> {
    shared: &'s Shared<'a>,
    local: Local,
    children: Vec<Id>,
}

impl<'s, 'a> Worker<'s, 'a> {
    fn new(shared: &'s Shared<'a>) -> Self {
        Worker { shared, local: Local::default(), children: Vec::new() }
    }
}

impl Drop for Worker<'_, '_> {
    fn drop(&mut self) {
        let mut local = std::mem::take(&mut self.local);
        local.graph.shrink_to_fit();
        let mut merged = self.shared.merged.lock().unwrap_or_else(|e| e.into_inner());
        merged.graphs.push(local.graph);
        merged.absent.extend(local.absent);
        let (m, l) = (&mut merged.counts, local.counts);
        m.blobs_scanned += l.blobs_scanned;
        m.bytes_scanned += l.bytes_scanned;
        m.blobs_media += l.blobs_media;
        m.blobs_too_large += l.blobs_too_large;
        m.lfs_pointers += l.lfs_pointers;
        m.submodules += l.submodules;
    }
}

const LFS_POINTER_PREFIX: &[u8] = b"version https://git-lfs.github.com/spec/v1";

impl Shared<'_> {
    /// Marks `id` decoded; false if it already was.
    fn mark_decoded(&self, id: Id) -> bool {
        let word = &self.decoded[id as usize / 64];
        word.fetch_or(1 << (id % 64), Ordering::Relaxed) & (1 << (id % 64)) == 0
    }

    fn is_decoded(&self, id: Id) -> bool {
        self.decoded[id as usize / 64].load(Ordering::Relaxed) & (1 << (id % 64)) != 0
    }
}

impl Worker<'_, '_> {
    fn process(&mut self, id: Id, kind: Kind, data: &[u8]) {
        if !self.shared.mark_decoded(id) {
            return; // already seen in another pack
        }
        self.local.since_check += data.len() as u64;
        if self.local.since_check >= CHECK_PAGES_EVERY {
            self.local.since_check = 0;
            self.shared.table.bound_pages(self.shared.options.file_pages_limit);
        }
        if let Some(progress) = self.shared.options.progress {
            progress.objects.fetch_add(1, Ordering::Relaxed);
            progress.bytes.fetch_add(data.len() as u64, Ordering::Relaxed);
        }
        match kind {
            Kind::Blob => self.blob(id, data),
            Kind::Tree => self.tree(id, data),
            Kind::Commit => self.commit(id, data),
            Kind::Tag => {
                if let Ok(target) = gix_object::TagRefIter::from_bytes(data, gix_hash::Kind::Sha1).target_id()
                    && let Some(t) = self.resolve(&target)
                {
                    self.local.graph.add_tag(id, t);
                }
            }
        }
    }

    fn resolve(&mut self, oid: &ObjectId) -> Option<Id> {
        let id = self.shared.table.id(oid);
        if id.is_none() {
            self.local.absent.push(*oid);
        }
        id
    }

    fn blob(&mut self, id: Id, data: &[u8]) {
        let counts = &mut self.local.counts;
        if data.len() as u64 > self.shared.options.max_blob_size {
            counts.blobs_too_large += 1;
            return;
        }
        if data.starts_with(LFS_POINTER_PREFIX) {
            counts.lfs_pointers += 1;
            return;
        }
        if media_kind(data).is_some() {
            counts.blobs_media += 1;
            return;
        }
        counts.blobs_scanned += 1;
        counts.bytes_scanned += data.len() as u64;
        self.shared.sink.blob(id, data);
    }

    fn tree(&mut self, id: Id, data: &[u8]) {
        self.children.clear();
        for entry in gix_object::TreeRefIter::from_bytes(data, gix_hash::Kind::Sha1).flatten() {
            if entry.mode.is_commit() {
                self.local.counts.submodules += 1;
                continue;
            }
            let oid = entry.oid.to_owned();
            if let Some(child) = self.resolve(&oid) {
                self.children.push(child);
            }
        }
        let children = std::mem::take(&mut self.children);
        self.local.graph.add_tree(id, children.iter().copied());
        self.children = children;
    }

    fn commit(&mut self, id: Id, data: &[u8]) {
        use gix_object::commit::ref_iter::Token;
        let mut tree = None;
        let mut parents = Vec::new();
        let mut time = 0;
        for token in gix_object::CommitRefIter::from_bytes(data, gix_hash::Kind::Sha1) {
            match token {
                Ok(Token::Tree { id }) => tree = Some(id),
                // A parent outside the store is a shallow boundary, not an error.
                Ok(Token::Parent { id }) => parents.push(self.shared.table.id(&id).unwrap_or(MISSING)),
                Ok(Token::Committer { signature }) => {
                    time = signature.seconds();
                    break;
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
        if let Some(tree) = tree.and_then(|t| self.resolve(&t)) {
            self.local.graph.add_commit(id, tree, parents, time);
        }
    }
}

/// Decodes every pack and loose object in `table`, handing text blobs to
/// `sink`. `open_repo` opens a fresh `git2` handle (one per thread: libgit2
/// handles are not `Sync`).
pub fn decode_all(
    table: &ObjectTable,
    sink: &dyn ObjectSink,
    options: &DecodeOptions<'_>,
    open_repo: &(dyn Fn() -> Result<git2::Repository, git2::Error> + Sync),
) -> Decoded {
    let shared = Shared {
        table,
        sink,
        options,
        decoded: (0..table.len().div_ceil(64)).map(|_| AtomicU64::new(0)).collect(),
        merged: Mutex::default(),
    };
    let mut failures = Vec::new();
    let never = AtomicBool::new(false);
    let interrupt = options.cancel.unwrap_or(&never);
    table.with_bounded_pages(options.file_pages_limit, || {
        for pack in &table.packs {
            if interrupt.load(Ordering::Relaxed) {
                break;
            }
            let result = traverse_pack(pack, &shared, options.threads, interrupt);
            // A traversal stopped by Ctrl-C is not a damaged pack.
            if let Err(e) = result
                && !interrupt.load(Ordering::Relaxed)
            {
                failures.push((pack.data.path().display().to_string(), e));
                salvage_pack(pack, &shared, interrupt);
            }
        }
    });
    decode_loose(table, &shared, open_repo, &mut failures);
    let local = shared.merged.into_inner().unwrap_or_else(|e| e.into_inner());
    Decoded { graph: local.graphs, counts: local.counts, decoded: shared.decoded, absent: local.absent, failures }
}

/// Decodes one pack through [`pack_walk`]: the first entry it could not
/// decode, if any (its deltas are not decoded either).
fn traverse_pack(
    pack: &super::objects::Pack,
    shared: &Shared<'_>,
    threads: usize,
    interrupt: &AtomicBool,
) -> Result<(), String> {
    let forest = pack_walk::Forest::new(pack)?;
    // With several packs, an object may be in more than one: it is
    // processed from the first that holds it (its id is that pack's), so
    // only a pack after the first may hold copies to skip.
    let may_hold_copies = pack.base > 0;
    let failed = pack_walk::walk(
        pack,
        &forest,
        threads,
        interrupt,
        || Worker::new(shared),
        |worker, i, kind, data| {
            let id = pack.base + i;
            if may_hold_copies && worker.shared.table.id(pack.index.oid_at_index(i)) != Some(id) {
                worker.shared.mark_decoded(id); // done: not an unreadable object
            } else {
                worker.process(id, kind, data);
            }
        },
    );
    match failed {
        Some(e) => Err(e),
        None if forest.broken > 0 => {
            Err(format!("{} entries have an unreadable header or a base outside the pack", forest.broken))
        }
        None => Ok(()),
    }
}

/// After a pack traversal stopped at an entry it could not inflate (a
/// corrupt or truncated pack): reads every object of the pack not decoded
/// yet on its own, so a damaged entry loses itself and the deltas based on
/// it, not every object the traversal had not reached.
fn salvage_pack(pack: &super::objects::Pack, shared: &Shared<'_>, interrupt: &AtomicBool) {
    let end = pack.base + pack.index.num_objects();
    let pending: Vec<Id> = (pack.base..end).filter(|&id| !shared.is_decoded(id)).collect();
    pending.par_iter().for_each_init(
        || (PackReader::new(shared.table), Worker::new(shared), Vec::new()),
        |(reader, worker, buffer), &id| {
            if interrupt.load(Ordering::Relaxed) {
                return;
            }
            let oid = pack.index.oid_at_index(id - pack.base);
            if shared.table.id(oid) != Some(id) {
                shared.mark_decoded(id); // a copy of an object an earlier pack holds
            } else if let Some(kind) = reader.read(id, buffer) {
                worker.process(id, kind, buffer);
            }
        },
    );
}

fn decode_loose(
    table: &ObjectTable,
    shared: &Shared<'_>,
    open_repo: &(dyn Fn() -> Result<git2::Repository, git2::Error> + Sync),
    failures: &mut Vec<(String, String)>,
) {
    let loose: Vec<(Id, ObjectId)> = table.loose_objects().map(|(id, oid)| (id, *oid)).collect();
    let problems: Vec<(String, String)> = loose
        .par_iter()
        .map_init(
            || (open_repo().ok(), Worker::new(shared)),
            |(repo, worker), (id, oid)| {
                let Some(repo) = repo else {
                    return Some((oid.to_string(), "cannot open the repository".to_string()));
                };
                let read = repo.odb().and_then(|odb| {
                    git2::Oid::from_bytes(oid.as_bytes()).and_then(|o| odb.read(o)).map(|obj| {
                        let kind = match obj.kind() {
                            git2::ObjectType::Blob => Some(Kind::Blob),
                            git2::ObjectType::Tree => Some(Kind::Tree),
                            git2::ObjectType::Commit => Some(Kind::Commit),
                            git2::ObjectType::Tag => Some(Kind::Tag),
                            _ => None,
                        };
                        if let Some(kind) = kind {
                            worker.process(*id, kind, obj.data());
                        }
                    })
                });
                read.err().map(|e| (format!("object {oid}"), e.message().to_string()))
            },
        )
        .flatten()
        .collect();
    failures.extend(problems);
}
