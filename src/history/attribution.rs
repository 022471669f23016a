//! Git attribution for the history audit: turns "this blob holds a key" into
//! "this key was introduced at this path by this commit, is (or is not)
//! still in HEAD, and is carried by these refs".
//!
//! Work is proportional to the findings, not to the history: only trees that
//! lead to a matched blob are read by name, and commit metadata is looked up
//! only for introducing commits.

use std::collections::HashMap;

use rayon::prelude::*;

use super::tree_walk::{Leaf, PathId, Runs, TreeWalk};
use crate::detect::Detector;
use crate::enrich::exposure::ContentFacts;
use crate::finding::{Finding, GitInfo};
use crate::source::git::graph::{Graph, IdSet, MISSING};
use crate::source::git::objects::{Id, ObjectTable};
use crate::source::git::{GitRepo, RefTip, to_git2};

/// Findings in one blob, before any path is known (`path` is empty).
pub struct BlobHits {
    pub blob: Id,
    pub findings: Vec<Finding>,
    /// What the blob's content says about where it runs (for exposure).
    pub facts: ContentFacts,
}

pub struct AttributionInput<'a> {
    pub repo: &'a GitRepo,
    /// Applies path-dependent enrichment once a finding's path is known.
    pub detector: &'a Detector,
    pub table: &'a ObjectTable,
    pub graph: &'a Graph,
    pub hits: &'a [BlobHits],
    pub refs: &'a [RefTip],
    /// Also report blobs no ref reaches (`--all-objects`).
    pub all_objects: bool,
    /// Runs the parallel steps (the audit's planned threads).
    pub pool: &'a rayon::ThreadPool,
}

/// One (secret, path) pair being accumulated over the commits that carry it.
struct Pending {
    /// The finding as seen in the first commit (in topological order) that
    /// carries it.
    template: Finding,
    /// The blob `template` was found in.
    blob: Id,
    /// Where in the blob, for a member of an archive blob (`!/inner/path`;
    /// empty otherwise): the blob's findings carry it as their path.
    member: String,
    /// Positions (in topological order) of the commits with the secret at
    /// this path.
    commits: Runs,
    /// (position, blob) wherever the file's version differs from the one
    /// at the previous carrying commit: to report the line and blob of the
    /// introducing commit's version.
    versions: Vec<(u32, Id)>,
}

impl Pending {
    /// The blob at this path in the carrying commit at `pos`.
    fn blob_at(&self, pos: u32) -> Id {
        let i = self.versions.partition_point(|&(p, _)| p <= pos);
        self.versions[i.saturating_sub(1)].1
    }
}

/// The commits of a history in topological order, and each one's position.
struct Order {
    ids: Vec<Id>,
    /// Indexed by object id; `NONE` for objects that are not ordered commits.
    position: Vec<u32>,
}

const NONE: u32 = u32::MAX;

impl Order {
    fn new(ids: Vec<Id>, object_count: usize) -> Order {
        let mut position = vec![NONE; object_count];
        for (i, &id) in ids.iter().enumerate() {
            position[id as usize] = i as u32;
        }
        Order { ids, position }
    }

    fn position(&self, id: Id) -> Option<u32> {
        self.position.get(id as usize).copied().filter(|&p| p != NONE)
    }
}

impl Pending {
    /// The introducing commit: of the commits that carry the secret while
    /// none of their parents do (one per branch that added it
    /// independently), the earliest by committer time. Ties (a cherry-pick
    /// keeps its original's time) go to the commit in HEAD's history, then
    /// to topological order, so same-second commits attribute correctly.
    fn introducing_commit(&self, graph: &Graph, order: &Order, in_head_history: &IdSet) -> Id {
        let positions =
            self.commits.runs().iter().flat_map(|&(start, len)| (start..start + len).map(move |p| (start, p)));
        positions
            .filter_map(|(run_start, pos)| {
                let id = order.ids[pos as usize];
                let commit = graph.commit(id)?;
                // A parent earlier in the same run carries it (the usual
                // case: no search needed).
                let carries = |pp: u32| (run_start..pos).contains(&pp) || self.commits.contains(pp);
                let parent_carries =
                    graph.parents(commit).iter().any(|&p| p != MISSING && order.position(p).is_some_and(carries));
                (!parent_carries).then_some((commit.time, !in_head_history.contains(id), pos, id))
            })
            .min()
            .map_or(order.ids[self.commits.first().unwrap_or(0) as usize], |(_, _, _, id)| id)
    }
}

pub fn attribute(input: &AttributionInput) -> Vec<Finding> {
    let AttributionInput { repo, detector, table, graph, hits, refs, all_objects, pool } = *input;
    if hits.is_empty() {
        return Vec::new();
    }
    let mut targets = IdSet::new(table.len());
    let hits_by_blob: HashMap<Id, &BlobHits> = hits
        .iter()
        .map(|h| {
            targets.insert(h.blob);
            (h.blob, h)
        })
        .collect();
    let relevant = graph.ancestors_of(&targets);
    let tip_ids: Vec<Id> = refs.iter().filter_map(|r| table.id(&r.target)).collect();
    let reachable = graph.reachable_commits(&tip_ids);

    // Parents before children; with `--all-objects`, unreachable commits
    // (in no particular order) after them.
    let mut ids = graph.topological(&reachable);
    if all_objects {
        let mut unreachable: Vec<Id> = graph.commits().map(|c| c.id).filter(|&id| !reachable.contains(id)).collect();
        unreachable.sort_unstable();
        ids.extend(unreachable);
    }
    let order = Order::new(ids, table.len());

    let mut walk = TreeWalk::new(repo, table, &relevant);
    walk.prefetch(graph.trees_in(&relevant), pool);
    let mut pending: Vec<Pending> = Vec::new();
    // (rule, secret hash, path) → index in `pending`.
    let mut pending_index: HashMap<(&str, &str, PathId, &str), u32> = HashMap::new();
    // Per leaf (a matched blob at a path): the pending entries a commit
    // holding it carries; `None` until the leaf is first seen.
    let mut leaf_pending: Vec<Option<Vec<u32>>> = Vec::new();
    let mut attributed_blobs = IdSet::new(table.len());
    let mut leaves: Vec<Leaf> = Vec::new();
    for (pos, &commit) in order.ids.iter().enumerate() {
        let tree = graph.commit(commit).expect("ordered ids are commits").tree;
        leaves.clear();
        walk.walk(tree, &mut |leaf| leaves.push(leaf));
        leaf_pending.resize(walk.leaf_count(), None);
        for &leaf in &leaves {
            let indices = leaf_pending[leaf as usize].get_or_insert_with(|| {
                let (path, blob) = walk.leaf(leaf);
                attributed_blobs.insert(blob);
                let findings = hits_by_blob.get(&blob).map_or(&[][..], |h| &h.findings);
                findings
                    .iter()
                    .map(|finding| {
                        let key =
                            (finding.rule_id.as_str(), finding.secret_sha256.as_str(), path, finding.path.as_str());
                        *pending_index.entry(key).or_insert_with(|| {
                            pending.push(Pending {
                                template: finding.at_path(&format!("{}{}", walk.paths.text(path), finding.path)),
                                blob,
                                member: finding.path.clone(),
                                commits: Runs::default(),
                                versions: Vec::new(),
                            });
                            pending.len() as u32 - 1
                        })
                    })
                    .collect()
            });
            let blob = walk.leaf(leaf).1;
            for &i in indices.iter() {
                let p = &mut pending[i as usize];
                p.commits.push(pos as u32);
                if p.versions.last().is_none_or(|&(_, last)| last != blob) {
                    p.versions.push((pos as u32, blob));
                }
            }
        }
    }

    let mut in_head = vec![false; pending.len()];
    if let Some(head) = repo.head().and_then(|h| table.id(&h)).and_then(|id| graph.commit(id)) {
        walk.walk(head.tree, &mut |leaf| {
            for &i in leaf_pending.get(leaf as usize).and_then(Option::as_ref).map_or(&[][..], Vec::as_slice) {
                in_head[i as usize] = true;
            }
        });
    }
    drop(walk);
    let carried_by = refs_carrying(graph, table, refs, &order, &pending);
    let head_history = graph.reachable_commits(&repo.head().and_then(|h| table.id(&h)).into_iter().collect::<Vec<_>>());
    let key_commits = commits_per_secret(&pending);

    let introducing: Vec<Id> =
        pool.install(|| pending.par_iter().map(|p| p.introducing_commit(graph, &order, &head_history)).collect());
    let mut findings: Vec<Finding> = pending
        .into_iter()
        .zip(carried_by)
        .zip(in_head)
        .zip(introducing)
        .filter_map(|(((p, branches), in_head), introducing)| {
            // Line, column and blob as in the introducing commit's version.
            let blob = order.position(introducing).map_or(p.blob, |pos| p.blob_at(pos));
            let same = |f: &&Finding| {
                f.rule_id == p.template.rule_id && f.secret_sha256 == p.template.secret_sha256 && f.path == p.member
            };
            let mut finding = match hits_by_blob[&blob].findings.iter().find(same) {
                Some(f) if blob != p.blob => f.at_path(&p.template.path),
                _ => p.template,
            };
            if !detector.enrich(&mut finding, hits_by_blob[&blob].facts) {
                return None;
            }
            let mut info = commit_info(&repo.repo, &table.oid(introducing));
            info.blob = table.oid(blob).to_string();
            info.in_head = in_head;
            info.commit_count = p.commits.count();
            info.key_commit_count = key_commits.get(finding.secret_sha256.as_str()).copied().unwrap_or_default();
            info.branches = branches;
            finding.git = Some(info);
            Some(finding)
        })
        .collect();

    if all_objects {
        // Blobs no tree names at all (dangling `git add` leftovers, stashed
        // then dropped content): report them under their object id.
        for hit in hits.iter().filter(|h| !attributed_blobs.contains(h.blob)) {
            let oid = table.oid(hit.blob).to_string();
            for f in &hit.findings {
                let mut finding = f.at_path(&format!("<unreachable blob {oid}>{}", f.path));
                finding.git = Some(GitInfo { blob: oid.clone(), ..GitInfo::default() });
                if detector.enrich(&mut finding, hit.facts) {
                    findings.push(finding);
                }
            }
        }
    }
    findings
}

/// For each secret, how many commits carry it at any path (a key copied to
/// many paths is in far fewer commits than the sum of its paths' counts).
fn commits_per_secret(pending: &[Pending]) -> HashMap<String, u64> {
    let mut by_secret: HashMap<&str, Runs> = HashMap::new();
    for p in pending {
        let union = by_secret.entry(p.template.secret_sha256.as_str()).or_default();
        *union = union.union(&p.commits);
    }
    by_secret.into_iter().map(|(secret, runs)| (secret.to_string(), runs.count())).collect()
}

/// For each pending finding, the refs whose history holds one of its
/// commits: carried bits flow from parents to children in topological
/// order, then each ref reads its tip's bits. Done for a group of pending
/// findings at a time, so the bit matrix stays within [`CARRY_BITS_BUDGET`]
/// however many commits and findings there are.
fn refs_carrying(
    graph: &Graph,
    table: &ObjectTable,
    refs: &[RefTip],
    order: &Order,
    pending: &[Pending],
) -> Vec<Vec<String>> {
    let mut carried: Vec<Vec<String>> = vec![Vec::new(); pending.len()];
    let tips: Vec<(&str, u32)> = refs
        .iter()
        .filter(|r| r.name != "HEAD")
        .filter_map(|r| {
            table.id(&r.target).map(|id| graph.peel(id)).and_then(|id| order.position(id)).map(|p| (r.name.as_str(), p))
        })
        .collect();
    if tips.is_empty() || pending.is_empty() {
        return carried;
    }
    let commits = order.ids.len().max(1);
    let words = (CARRY_BITS_BUDGET / 8 / commits).clamp(1, pending.len().div_ceil(64));
    for (group, chunk) in pending.chunks(words * 64).enumerate() {
        let mut bits = vec![0u64; commits * words];
        for (k, p) in chunk.iter().enumerate() {
            for pos in p.commits.iter() {
                bits[pos as usize * words + k / 64] |= 1 << (k % 64);
            }
        }
        for (i, &id) in order.ids.iter().enumerate() {
            let commit = graph.commit(id).expect("ordered ids are commits");
            for &parent in graph.parents(commit) {
                if let Some(pi) = (parent != MISSING).then(|| order.position(parent)).flatten() {
                    for w in 0..words {
                        bits[i * words + w] |= bits[pi as usize * words + w];
                    }
                }
            }
        }
        for &(name, tip) in &tips {
            for k in 0..chunk.len() {
                if bits[tip as usize * words + k / 64] & (1 << (k % 64)) != 0 {
                    carried[group * words * 64 + k].push(name.to_string());
                }
            }
        }
    }
    carried
}

/// The most the carried-by bit matrix may take at once (bytes).
const CARRY_BITS_BUDGET: usize = 16 << 20;

/// Author, date and summary of `oid`, as far as the repository can tell.
pub fn commit_info(repo: &git2::Repository, oid: &gix_hash::ObjectId) -> GitInfo {
    let mut info = GitInfo { commit: oid.to_string(), ..GitInfo::default() };
    if let Ok(c) = repo.find_commit(to_git2(oid)) {
        let author = c.author();
        info.author = String::from_utf8_lossy(author.name_bytes()).into_owned();
        info.email = String::from_utf8_lossy(author.email_bytes()).into_owned();
        info.date = format_date(author.when().seconds(), author.when().offset_minutes());
        info.summary = c.summary_bytes().map(|s| String::from_utf8_lossy(s).into_owned()).unwrap_or_default();
    }
    info
}

/// RFC 3339 with the author's own offset, e.g. `2024-03-01T12:00:00+01:00`.
pub fn format_date(seconds: i64, offset_minutes: i32) -> String {
    let offset = time::UtcOffset::from_whole_seconds(offset_minutes * 60).unwrap_or(time::UtcOffset::UTC);
    time::OffsetDateTime::from_unix_timestamp(seconds)
        .map(|t| t.to_offset(offset))
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}
