//! Which matched blobs a commit's tree holds, and at which paths, for every
//! commit of a history, in memory proportional to the distinct trees on the
//! way to a match (not to commits × paths).
//!
//! Each relevant tree is read once and kept as its relevant entries; a
//! commit is then a walk of those nodes. Paths are interned: a path is a
//! number, its text stored once. The walk for one commit costs one step per
//! relevant entry, with no string built and no hash computed after the
//! first time a tree is seen at a given path (the usual case: a directory
//! version sits at one path).
//!
//! (An earlier version kept, per tree, the flattened list of `(path, blob)`
//! below it: with many matched files that is commits × paths strings, and
//! it took 1 GB on a 80k-commit history.)

use std::collections::HashMap;

use crate::source::git::GitRepo;
use crate::source::git::graph::IdSet;
use crate::source::git::objects::{Id, ObjectTable, PackReader};
use crate::source::git::{to_git2, to_gix};

/// An interned path (relative to the repository root).
pub type PathId = u32;
/// The path of the root tree itself (the empty path).
pub const ROOT: PathId = 0;

/// Every path seen, each stored once.
pub struct Paths {
    text: Vec<Box<str>>,
    /// (parent path, entry name) → path.
    children: HashMap<(PathId, NameId), PathId>,
    names: Names,
}

type NameId = u32;

#[derive(Default)]
struct Names {
    text: Vec<Box<str>>,
    ids: HashMap<Box<[u8]>, NameId>,
}

impl Names {
    fn intern(&mut self, name: &[u8]) -> NameId {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = self.text.len() as NameId;
        self.text.push(String::from_utf8_lossy(name).into());
        self.ids.insert(name.into(), id);
        id
    }
}

impl Paths {
    fn new() -> Paths {
        Paths { text: vec!["".into()], children: HashMap::new(), names: Names::default() }
    }

    pub fn text(&self, path: PathId) -> &str {
        &self.text[path as usize]
    }

    fn child(&mut self, parent: PathId, name: NameId) -> PathId {
        if let Some(&id) = self.children.get(&(parent, name)) {
            return id;
        }
        let name_text = &self.names.text[name as usize];
        let text = if parent == ROOT {
            name_text.clone()
        } else {
            format!("{}/{}", self.text[parent as usize], name_text).into()
        };
        let id = self.text.len() as PathId;
        self.text.push(text);
        self.children.insert((parent, name), id);
        id
    }
}

/// A relevant tree: its entries that lead to a matched blob, as a range of
/// [`TreeWalk::entries`] (one flat list for all trees: two lists per tree
/// took 10 MiB more on spring-boot's 318k relevant trees, 36 MiB more on a
/// generated 1M-object history).
#[derive(Clone, Copy)]
struct Node {
    start: u32,
    len: u32,
    /// The prefix the node's slots were resolved for (`UNRESOLVED`: none yet).
    prefix: PathId,
}

#[derive(Clone, Copy)]
struct Entry {
    name: NameId,
    child: Id,
    is_tree: bool,
}

const UNRESOLVED: u32 = u32::MAX;

/// A matched blob at a path: what a walk reports, numbered densely so the
/// caller can keep what it derives per leaf in a `Vec`.
pub type Leaf = u32;

/// Reads relevant trees on demand and walks them.
pub struct TreeWalk<'a> {
    repo: &'a GitRepo,
    table: &'a ObjectTable,
    relevant: &'a IdSet,
    packs: PackReader<'a>,
    buffer: Vec<u8>,
    nodes: Vec<Node>,
    entries: Vec<Entry>,
    /// Per entry, for its node's prefix: a subtree's path, or a blob's leaf.
    slots: Vec<u32>,
    /// Object id → index in `nodes` (`UNRESOLVED`: not read yet).
    node_of: Vec<u32>,
    leaves: Vec<(PathId, Id)>,
    leaf_of: HashMap<(PathId, Id), Leaf>,
    stack: Vec<(u32, PathId)>,
    pub paths: Paths,
}

impl<'a> TreeWalk<'a> {
    /// `relevant`: the matched blobs and every tree that leads to one.
    pub fn new(repo: &'a GitRepo, table: &'a ObjectTable, relevant: &'a IdSet) -> TreeWalk<'a> {
        TreeWalk {
            repo,
            table,
            relevant,
            packs: PackReader::new(table),
            buffer: Vec::new(),
            nodes: Vec::new(),
            entries: Vec::new(),
            slots: Vec::new(),
            node_of: vec![UNRESOLVED; table.len()],
            leaves: Vec::new(),
            leaf_of: HashMap::new(),
            stack: Vec::new(),
            paths: Paths::new(),
        }
    }

    /// Reads `trees` ahead of the walk, on all threads, in pack order
    /// (walked one by one, in the order commits reach them, they took 0.93 s
    /// of one thread on 318k relevant trees of a 1.35M-object history).
    /// Trees not in a pack are left to be read when first walked.
    pub fn prefetch(&mut self, mut trees: Vec<Id>, pool: &rayon::ThreadPool) {
        use rayon::prelude::*;
        let (table, relevant) = (self.table, self.relevant);
        trees.retain(|&t| self.node_of[t as usize] == UNRESOLVED);
        let mut located: Vec<((usize, u64), Id)> =
            trees.into_iter().filter_map(|t| table.location(t).map(|at| (at, t))).collect();
        pool.install(|| located.par_sort_unstable());
        // In waves, so what is read but not yet interned stays small; each
        // task reads a contiguous run of the pack.
        for wave in located.chunks(PREFETCH_WAVE) {
            let per_task = wave.len().div_ceil(pool.current_num_threads() * 4).max(256);
            let read: Vec<RawEntries> = pool.install(|| {
                wave.par_chunks(per_task)
                    .map(|run| {
                        let mut reader = PackReader::with_cache(table, PREFETCH_CACHE);
                        let (mut buffer, mut raw) = (Vec::new(), RawEntries::default());
                        for &(_, tree) in run {
                            if reader.read(tree, &mut buffer) == Some(gix_object::Kind::Tree) {
                                raw.add_tree(tree, &buffer, table, relevant);
                            }
                        }
                        raw
                    })
                    .collect()
            });
            for raw in &read {
                self.add_nodes(raw);
            }
        }
    }

    /// Makes a node of each tree in `raw`, interning its entries' names.
    fn add_nodes(&mut self, raw: &RawEntries) {
        let mut from = 0;
        for &(tree, to) in &raw.trees {
            let names = &mut self.paths.names;
            let start = self.entries.len();
            self.entries.extend(raw.entries[from..to as usize].iter().map(|&(name, child, is_tree)| Entry {
                name: names.intern(raw.name(name)),
                child,
                is_tree,
            }));
            from = to as usize;
            self.node_of[tree as usize] = self.add_node(start);
        }
    }

    /// The path and blob of `leaf`.
    pub fn leaf(&self, leaf: Leaf) -> (PathId, Id) {
        self.leaves[leaf as usize]
    }

    /// How many leaves there are so far.
    pub fn leaf_count(&self) -> usize {
        self.leaves.len()
    }

    /// Calls `visit(leaf)` for every matched blob under the root tree `tree`.
    /// After a tree's first visit at a path, a walk costs one step per
    /// relevant entry: no hashing, no allocation.
    pub fn walk(&mut self, tree: Id, visit: &mut dyn FnMut(Leaf)) {
        if !self.relevant.contains(tree) {
            return;
        }
        let root = self.node(tree);
        self.stack.push((root, ROOT));
        while let Some((node, prefix)) = self.stack.pop() {
            let n = self.nodes[node as usize];
            if n.prefix != prefix {
                self.resolve(node, prefix);
            }
            let range = n.start as usize..(n.start + n.len) as usize;
            for (entry, &slot) in self.entries[range.clone()].iter().zip(&self.slots[range]) {
                if entry.is_tree {
                    self.stack.push((self.node_of[entry.child as usize], slot));
                } else {
                    visit(slot);
                }
            }
        }
    }

    /// The node of `tree`, read on first use.
    fn node(&mut self, tree: Id) -> u32 {
        if self.node_of[tree as usize] == UNRESOLVED {
            // Packed trees are read through the decode's own pack maps;
            // loose ones through libgit2.
            if self.packs.read(tree, &mut self.buffer) == Some(gix_object::Kind::Tree) {
                let mut raw = RawEntries::default();
                raw.add_tree(tree, &self.buffer, self.table, self.relevant);
                self.add_nodes(&raw);
            } else {
                let start = self.entries.len();
                self.add_loose_entries(tree);
                self.node_of[tree as usize] = self.add_node(start);
            }
        }
        self.node_of[tree as usize]
    }

    /// A node for the entries from `start` to the end of `entries`.
    fn add_node(&mut self, start: usize) -> u32 {
        self.slots.resize(self.entries.len(), UNRESOLVED);
        let len = (self.entries.len() - start) as u32;
        self.nodes.push(Node { start: start as u32, len, prefix: UNRESOLVED });
        self.nodes.len() as u32 - 1
    }

    /// Gives `node`'s entries their paths (subtrees) and leaves (blobs)
    /// under `prefix`, reading subtrees not seen yet.
    fn resolve(&mut self, node: u32, prefix: PathId) {
        let Node { start, len, .. } = self.nodes[node as usize];
        // Indexed, not iterated: reading a subtree appends to `entries`.
        for i in start as usize..(start + len) as usize {
            let entry = self.entries[i];
            let path = self.paths.child(prefix, entry.name);
            self.slots[i] = if entry.is_tree {
                self.node(entry.child);
                path
            } else {
                let next = self.leaves.len() as Leaf;
                let leaf = *self.leaf_of.entry((path, entry.child)).or_insert(next);
                if leaf == next {
                    self.leaves.push((path, entry.child));
                }
                leaf
            };
        }
        self.nodes[node as usize].prefix = prefix;
    }

    /// Appends the entries of the loose tree `tree` that lead to a matched
    /// blob to `entries`.
    fn add_loose_entries(&mut self, tree: Id) {
        let Ok(git_tree) = self.repo.repo.find_tree(to_git2(&self.table.oid(tree))) else {
            return;
        };
        for entry in git_tree.iter() {
            let kind = entry.kind();
            if (kind == Some(git2::ObjectType::Tree) || kind == Some(git2::ObjectType::Blob))
                && let Some(child) = self.table.id(&to_gix(entry.id())).filter(|&c| self.relevant.contains(c))
            {
                let name = self.paths.names.intern(entry.name_bytes());
                self.entries.push(Entry { name, child, is_tree: kind == Some(git2::ObjectType::Tree) });
            }
        }
    }
}

/// Trees' relevant entries as read, before their names are interned.
#[derive(Default)]
struct RawEntries {
    /// Every entry name, one after the other.
    names: Vec<u8>,
    /// (name as a range of `names`, object, is a tree).
    entries: Vec<((u32, u32), Id, bool)>,
    /// Each tree read and where its entries end in `entries`.
    trees: Vec<(Id, u32)>,
}

/// Trees read ahead per wave (see [`TreeWalk::prefetch`]).
const PREFETCH_WAVE: usize = 1 << 15;
/// Each prefetch reader's delta-base cache: measured as fast as 8 or 64 MiB
/// (trees are read in pack order; few bases repeat).
const PREFETCH_CACHE: usize = 2 << 20;

impl RawEntries {
    /// Adds the entries of the tree `data` whose object is in `relevant`.
    fn add_tree(&mut self, tree: Id, data: &[u8], table: &ObjectTable, relevant: &IdSet) {
        for entry in gix_object::TreeRefIter::from_bytes(data, gix_hash::Kind::Sha1).flatten() {
            if let Some(child) =
                (!entry.mode.is_commit()).then(|| table.id(entry.oid)).flatten().filter(|&c| relevant.contains(c))
            {
                let start = self.names.len() as u32;
                self.names.extend_from_slice(entry.filename);
                self.entries.push(((start, self.names.len() as u32), child, entry.mode.is_tree()));
            }
        }
        self.trees.push((tree, self.entries.len() as u32));
    }

    fn name(&self, (start, end): (u32, u32)) -> &[u8] {
        &self.names[start as usize..end as usize]
    }
}

/// A set of positions (in a history's topological order), added in
/// increasing order and stored as runs: a key carried by 50,000 consecutive
/// commits is one run, not 50,000 ids.
#[derive(Debug, Default, Clone)]
pub struct Runs(Vec<(u32, u32)>);

impl Runs {
    /// Adds `pos`, which must be ≥ every position added before.
    pub fn push(&mut self, pos: u32) {
        match self.0.last_mut() {
            Some((start, len)) if *start + *len == pos => *len += 1,
            Some((start, len)) if *start + *len > pos => {} // already there
            _ => self.0.push((pos, 1)),
        }
    }

    pub fn contains(&self, pos: u32) -> bool {
        let i = self.0.partition_point(|&(start, _)| start <= pos);
        i > 0 && {
            let (start, len) = self.0[i - 1];
            pos < start + len
        }
    }

    /// How many positions the set holds.
    pub fn count(&self) -> u64 {
        self.0.iter().map(|&(_, len)| len as u64).sum()
    }

    /// The positions in either set.
    pub fn union(&self, other: &Runs) -> Runs {
        let mut all: Vec<(u32, u32)> = self.0.iter().chain(&other.0).copied().collect();
        all.sort_unstable();
        let mut merged: Vec<(u32, u32)> = Vec::with_capacity(all.len());
        for (start, len) in all {
            match merged.last_mut() {
                Some((s, l)) if start <= *s + *l => *l = (*l).max(start + len - *s),
                _ => merged.push((start, len)),
            }
        }
        Runs(merged)
    }

    /// The runs: (first position, length).
    pub fn runs(&self) -> &[(u32, u32)] {
        &self.0
    }

    pub fn first(&self) -> Option<u32> {
        self.0.first().map(|&(start, _)| start)
    }

    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        self.0.iter().flat_map(|&(start, len)| start..start + len)
    }
}

#[cfg(test)]
mod tests {
    use super::Runs;

    #[test]
    fn runs_merge_consecutive_positions_and_answer_membership() {
        let mut runs = Runs::default();
        for pos in [3, 4, 5, 5, 9, 10, 20] {
            runs.push(pos);
        }
        assert_eq!(runs.0, vec![(3, 3), (9, 2), (20, 1)]);
        assert_eq!(runs.count(), 6);
        assert_eq!(runs.iter().collect::<Vec<_>>(), vec![3, 4, 5, 9, 10, 20]);
        let mut other = Runs::default();
        for pos in [1, 2, 5, 6, 7, 30] {
            other.push(pos);
        }
        assert_eq!(runs.union(&other).0, vec![(1, 7), (9, 2), (20, 1), (30, 1)]);
        for (pos, inside) in [(2, false), (3, true), (5, true), (6, false), (10, true), (11, false), (20, true)] {
            assert_eq!(runs.contains(pos), inside, "{pos}");
        }
    }
}
