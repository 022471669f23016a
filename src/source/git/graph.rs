//! The repository's object graph, recorded compactly while packs are decoded.
//!
//! Every commit and tree passes through the pack traversal anyway, already
//! inflated; recording their edges as they pass (as dense `u32` ids) means
//! reachability and attribution need no second read of the history. Only
//! structure is kept, not names: names are read later, and only for the few
//! trees that lead to a blob with a finding.

use super::objects::Id;

/// Sentinel for a parent that is not in the store (shallow clone boundary).
pub const MISSING: Id = Id::MAX;

#[derive(Debug, Clone, Copy)]
pub struct Commit {
    pub id: Id,
    pub tree: Id,
    parents_start: u32,
    parents_len: u16,
    /// The builder (decode thread) that recorded it.
    shard: u16,
    /// Committer time, seconds since the epoch.
    pub time: i64,
}

/// Edges recorded by one traversal thread; the [`Graph`] keeps every
/// thread's builder as it is (concatenating them would hold the graph twice
/// at the peak).
#[derive(Default)]
pub struct GraphBuilder {
    commits: Vec<Commit>,
    parents: Vec<Id>,
    /// (tree id, start, len) into `children`.
    trees: Vec<(Id, u32, u32)>,
    children: Vec<Id>,
    /// (tag id, target id).
    tags: Vec<(Id, Id)>,
}

impl GraphBuilder {
    pub fn add_commit(&mut self, id: Id, tree: Id, parents: impl IntoIterator<Item = Id>, time: i64) {
        let start = self.parents.len() as u32;
        self.parents.extend(parents);
        let len = (self.parents.len() as u32 - start).min(u16::MAX as u32) as u16;
        self.parents.truncate((start + len as u32) as usize);
        self.commits.push(Commit { id, tree, parents_start: start, parents_len: len, shard: 0, time });
    }

    pub fn add_tree(&mut self, id: Id, children: impl IntoIterator<Item = Id>) {
        let start = self.children.len() as u32;
        self.children.extend(children);
        self.trees.push((id, start, self.children.len() as u32 - start));
    }

    pub fn add_tag(&mut self, id: Id, target: Id) {
        self.tags.push((id, target));
    }

    /// Gives back the slack of the growing arrays (up to half of each).
    pub fn shrink_to_fit(&mut self) {
        self.commits.shrink_to_fit();
        self.parents.shrink_to_fit();
        self.trees.shrink_to_fit();
        self.children.shrink_to_fit();
        self.tags.shrink_to_fit();
    }

    /// Objects recorded: (commits, trees, tree entries).
    pub fn counts(shards: &[GraphBuilder]) -> (usize, usize, usize) {
        let sum = |f: fn(&GraphBuilder) -> usize| shards.iter().map(f).sum::<usize>();
        (sum(|g| g.commits.len()), sum(|g| g.trees.len()), sum(|g| g.children.len()))
    }

    /// The graph of every decode thread's builder; `object_count` is the
    /// size of the object table.
    pub fn build(mut shards: Vec<GraphBuilder>, object_count: usize) -> Graph {
        // Fewer than 2^14 builders (threads × packs); the rest of a shard tag
        // is the object's kind.
        shards.retain(|g| !(g.commits.is_empty() && g.trees.is_empty() && g.tags.is_empty()));
        assert!(shards.len() < 1 << 14, "one graph builder per decode thread");
        let mut tag = vec![0u16; object_count];
        let mut slot = vec![0u32; object_count];
        for (s, shard) in shards.iter_mut().enumerate() {
            for (i, c) in shard.commits.iter_mut().enumerate() {
                c.shard = s as u16;
                tag[c.id as usize] = Kind::Commit.tag(s);
                slot[c.id as usize] = i as u32;
            }
            for (i, t) in shard.trees.iter().enumerate() {
                tag[t.0 as usize] = Kind::Tree.tag(s);
                slot[t.0 as usize] = i as u32;
            }
            for (i, t) in shard.tags.iter().enumerate() {
                tag[t.0 as usize] = Kind::Tag.tag(s);
                slot[t.0 as usize] = i as u32;
            }
        }
        Graph { shards, tag, slot }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Other = 0,
    Commit = 1,
    Tree = 2,
    Tag = 3,
}

impl Kind {
    fn tag(self, shard: usize) -> u16 {
        (self as u16) << 14 | shard as u16
    }
}

static EMPTY: GraphBuilder = GraphBuilder {
    commits: Vec::new(),
    parents: Vec::new(),
    trees: Vec::new(),
    children: Vec::new(),
    tags: Vec::new(),
};

pub struct Graph {
    shards: Vec<GraphBuilder>,
    /// Per object: its kind (top two bits) and the shard that recorded it.
    tag: Vec<u16>,
    /// Per object: its index in its shard's commits, trees or tags.
    slot: Vec<u32>,
}

/// A set of object ids, one bit each.
#[derive(Clone)]
pub struct IdSet(Vec<u64>);

impl IdSet {
    pub fn new(len: usize) -> IdSet {
        IdSet(vec![0; len.div_ceil(64)])
    }
    pub fn insert(&mut self, id: Id) -> bool {
        let (w, b) = (id as usize / 64, id % 64);
        let was = self.0[w] & (1 << b) != 0;
        self.0[w] |= 1 << b;
        !was
    }
    pub fn contains(&self, id: Id) -> bool {
        let (w, b) = (id as usize / 64, id % 64);
        self.0.get(w).is_some_and(|word| word & (1 << b) != 0)
    }
}

impl Graph {
    /// The kind and shard of `id`.
    fn locate(&self, id: Id) -> (Kind, &GraphBuilder, usize) {
        let tag = self.tag.get(id as usize).copied().unwrap_or(0);
        let kind = match tag >> 14 {
            1 => Kind::Commit,
            2 => Kind::Tree,
            3 => Kind::Tag,
            _ => Kind::Other,
        };
        let shard = &self.shards.get((tag & 0x3fff) as usize).unwrap_or(&EMPTY);
        (kind, shard, self.slot.get(id as usize).copied().unwrap_or(0) as usize)
    }

    pub fn commit(&self, id: Id) -> Option<&Commit> {
        match self.locate(id) {
            (Kind::Commit, shard, slot) => Some(&shard.commits[slot]),
            _ => None,
        }
    }

    pub fn commits(&self) -> impl Iterator<Item = &Commit> {
        self.shards.iter().flat_map(|s| &s.commits)
    }

    pub fn parents(&self, commit: &Commit) -> &[Id] {
        let start = commit.parents_start as usize;
        &self.shards[commit.shard as usize].parents[start..start + commit.parents_len as usize]
    }

    /// Follows annotated tags to the object they finally name.
    pub fn peel(&self, mut id: Id) -> Id {
        for _ in 0..32 {
            match self.locate(id) {
                (Kind::Tag, shard, slot) => id = shard.tags[slot].1,
                _ => break,
            }
        }
        id
    }

    /// Commits reachable from `tips` (tags are peeled; parents missing from
    /// a shallow clone end the walk).
    pub fn reachable_commits(&self, tips: &[Id]) -> IdSet {
        let mut seen = IdSet::new(self.tag.len());
        let mut stack: Vec<Id> = tips.iter().map(|&t| self.peel(t)).collect();
        while let Some(id) = stack.pop() {
            let Some(commit) = self.commit(id) else {
                continue;
            };
            if seen.insert(id) {
                stack.extend(self.parents(commit).iter().copied().filter(|&p| p != MISSING));
            }
        }
        seen
    }

    /// Every tree from which some object in `targets` can be reached, plus
    /// the targets themselves. One pass per level of nesting.
    pub fn ancestors_of(&self, targets: &IdSet) -> IdSet {
        let mut marked = targets.clone();
        loop {
            let mut changed = false;
            for shard in &self.shards {
                for &(tree, s, l) in &shard.trees {
                    if !marked.contains(tree)
                        && shard.children[s as usize..(s + l) as usize].iter().any(|&c| marked.contains(c))
                    {
                        marked.insert(tree);
                        changed = true;
                    }
                }
            }
            if !changed {
                return marked;
            }
        }
    }

    /// The trees in `set`.
    pub fn trees_in(&self, set: &IdSet) -> Vec<Id> {
        self.shards.iter().flat_map(|s| &s.trees).map(|&(tree, _, _)| tree).filter(|&t| set.contains(t)).collect()
    }

    /// Reachable commits, parents before children (Kahn's algorithm), so a
    /// property can be propagated from ancestors to descendants in one pass.
    pub fn topological(&self, reachable: &IdSet) -> Vec<Id> {
        // Sorted, so the order (and what is attributed to which version)
        // does not depend on how decode threads shared the work.
        let mut ids: Vec<Id> = self.commits().map(|c| c.id).filter(|&id| reachable.contains(id)).collect();
        ids.sort_unstable();
        let mut pending_parents: std::collections::HashMap<Id, usize> = ids
            .iter()
            .map(|&id| {
                let c = self.commit(id).expect("commit");
                (id, self.parents(c).iter().filter(|&&p| p != MISSING && reachable.contains(p)).count())
            })
            .collect();
        let mut children_of: std::collections::HashMap<Id, Vec<Id>> = std::collections::HashMap::new();
        for &id in &ids {
            for &p in self.parents(self.commit(id).expect("commit")) {
                if p != MISSING && reachable.contains(p) {
                    children_of.entry(p).or_default().push(id);
                }
            }
        }
        let mut ready: Vec<Id> = ids.iter().copied().filter(|id| pending_parents[id] == 0).collect();
        let mut order = Vec::with_capacity(ids.len());
        while let Some(id) = ready.pop() {
            order.push(id);
            for &child in children_of.get(&id).map(Vec::as_slice).unwrap_or(&[]) {
                let n = pending_parents.get_mut(&child).expect("child counted");
                *n -= 1;
                if *n == 0 {
                    ready.push(child);
                }
            }
        }
        order
    }
}
