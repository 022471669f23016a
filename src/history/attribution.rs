//! Git attribution for the history audit: turns "this blob holds a key" into
//! "this key was introduced at this path by this commit, is (or is not)
//! still in HEAD, and is carried by these refs".
//!
//! Work is proportional to the findings, not to the history: only trees that
//! lead to a matched blob are read by name, and commit metadata is looked up
//! only for introducing commits.

use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

use crate::detect::Detector;
use crate::enrich::exposure::ContentFacts;
use crate::finding::{Finding, GitInfo};
use crate::source::git::graph::{Graph, IdSet, MISSING};
use crate::source::git::objects::{Id, ObjectTable, PackReader};
use crate::source::git::{GitRepo, RefTip, to_git2, to_gix};

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
}

/// One (secret, path) pair being accumulated over the commits that carry it.
struct Pending {
    /// The finding as seen in the first commit (in topological order) that
    /// carries it; its line and column are from that version of the file.
    template: Finding,
    /// The blob `template` was found in, and its path.
    blob: Id,
    blob_path: String,
    /// Every commit with the secret at this path, in topological order.
    commits: Vec<Id>,
}

impl Pending {
    /// The introducing commit: of the commits that carry the secret while
    /// none of their parents do (one per branch that added it
    /// independently), the earliest by committer time; topological order
    /// breaks ties, so same-second commits attribute correctly.
    fn introducing_commit(&self, graph: &Graph) -> Id {
        let carrying: std::collections::HashSet<Id> = self.commits.iter().copied().collect();
        let carries = |id: Id| carrying.contains(&id);
        self.commits
            .iter()
            .enumerate()
            .filter_map(|(pos, &id)| {
                let commit = graph.commit(id)?;
                let parent_carries = graph.parents(commit).iter().any(|&p| p != MISSING && carries(p));
                (!parent_carries).then_some((commit.time, pos, id))
            })
            .min()
            .map_or(self.commits[0], |(_, _, id)| id)
    }
}

type PathList = Rc<Vec<(String, Id)>>;

pub fn attribute(input: &AttributionInput) -> Vec<Finding> {
    let AttributionInput { repo, detector, table, graph, hits, refs, all_objects } = *input;
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
    let mut order = graph.topological(&reachable);
    if all_objects {
        order.extend(graph.commits().iter().map(|c| c.id).filter(|&id| !reachable.contains(id)));
    }
    let position: HashMap<Id, usize> = order.iter().enumerate().map(|(i, &id)| (id, i)).collect();

    let mut names = TreeNames {
        repo,
        table,
        relevant: &relevant,
        packs: PackReader::new(table),
        buffer: Vec::new(),
        memo: HashMap::new(),
    };
    let mut pending: BTreeMap<(String, String, String), Pending> = BTreeMap::new();
    let mut attributed_blobs = IdSet::new(table.len());
    for &commit in &order {
        let tree = graph.commit(commit).expect("ordered ids are commits").tree;
        if !relevant.contains(tree) {
            continue;
        }
        for (path, blob) in names.paths_under(tree).iter() {
            attributed_blobs.insert(*blob);
            for finding in hits_by_blob.get(blob).map_or(&[][..], |h| &h.findings) {
                // A member of an archive blob keeps its place in it: the
                // blob's findings have paths `!/inner/path` (or none).
                let full = format!("{path}{}", finding.path);
                pending
                    .entry((finding.rule_id.clone(), finding.secret_sha256.clone(), full.clone()))
                    .or_insert_with(|| Pending {
                        template: finding.at_path(&full),
                        blob_path: path.clone(),
                        blob: *blob,
                        commits: Vec::new(),
                    })
                    .commits
                    .push(commit);
            }
        }
    }

    let head_paths: Vec<(String, Id)> = repo
        .head()
        .and_then(|h| table.id(&h))
        .and_then(|id| graph.commit(id))
        .map(|c| names.paths_under(c.tree).as_ref().clone())
        .unwrap_or_default();
    let carried_by = refs_carrying(graph, table, refs, &order, &position, &pending);

    let mut findings: Vec<Finding> = pending
        .into_values()
        .zip(carried_by)
        .filter_map(|(p, branches)| {
            let introducing = p.introducing_commit(graph);
            let mut finding = p.template;
            let member = finding.path.get(p.blob_path.len()..).unwrap_or_default().to_string();
            if !detector.enrich(&mut finding, hits_by_blob[&p.blob].facts) {
                return None;
            }
            let in_head = head_paths.iter().any(|(path, blob)| {
                *path == p.blob_path
                    && hits_by_blob[blob]
                        .findings
                        .iter()
                        .any(|f| f.secret_sha256 == finding.secret_sha256 && f.path == member)
            });
            let mut info = commit_info(&repo.repo, &table.oid(introducing));
            info.blob = table.oid(p.blob).to_string();
            info.in_head = in_head;
            info.commit_count = p.commits.len() as u64;
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

/// Reads tree entries by name, only for trees on the way to a matched blob.
struct TreeNames<'a> {
    repo: &'a GitRepo,
    table: &'a ObjectTable,
    relevant: &'a IdSet,
    packs: PackReader<'a>,
    buffer: Vec<u8>,
    memo: HashMap<Id, PathList>,
}

impl TreeNames<'_> {
    /// Every (path, blob) under `tree` where the blob is a matched one.
    fn paths_under(&mut self, tree: Id) -> PathList {
        if let Some(list) = self.memo.get(&tree) {
            return Rc::clone(list);
        }
        let mut list = Vec::new();
        for (name, child, is_tree) in self.relevant_entries(tree) {
            if is_tree {
                for (sub, blob) in self.paths_under(child).iter() {
                    list.push((format!("{name}/{sub}"), *blob));
                }
            } else {
                list.push((name, child));
            }
        }
        let list = Rc::new(list);
        self.memo.insert(tree, Rc::clone(&list));
        list
    }

    /// (name, id, is a tree) of the entries of `tree` that lead to a
    /// matched blob. Packed trees are read through the decode's own pack
    /// maps; loose ones through libgit2.
    fn relevant_entries(&mut self, tree: Id) -> Vec<(String, Id, bool)> {
        let mut entries = Vec::new();
        if self.packs.read(tree, &mut self.buffer) == Some(gix_object::Kind::Tree) {
            for entry in gix_object::TreeRefIter::from_bytes(&self.buffer, gix_hash::Kind::Sha1).flatten() {
                if entry.mode.is_commit() {
                    continue;
                }
                if let Some(child) = self.table.id(entry.oid).filter(|&c| self.relevant.contains(c)) {
                    let name = String::from_utf8_lossy(entry.filename).into_owned();
                    entries.push((name, child, entry.mode.is_tree()));
                }
            }
        } else if let Ok(git_tree) = self.repo.repo.find_tree(to_git2(&self.table.oid(tree))) {
            for entry in git_tree.iter() {
                let Some(child) = self.table.id(&to_gix(entry.id())).filter(|&c| self.relevant.contains(c)) else {
                    continue;
                };
                let kind = entry.kind();
                if kind == Some(git2::ObjectType::Tree) || kind == Some(git2::ObjectType::Blob) {
                    let name = String::from_utf8_lossy(entry.name_bytes()).into_owned();
                    entries.push((name, child, kind == Some(git2::ObjectType::Tree)));
                }
            }
        }
        entries
    }
}

/// For each pending finding (in map order), the refs whose history holds
/// one of its commits: carried bits flow from parents to children in
/// topological order, then each ref reads its tip's bits.
fn refs_carrying(
    graph: &Graph,
    table: &ObjectTable,
    refs: &[RefTip],
    order: &[Id],
    position: &HashMap<Id, usize>,
    pending: &BTreeMap<(String, String, String), Pending>,
) -> Vec<Vec<String>> {
    let words = pending.len().div_ceil(64).max(1);
    let mut bits = vec![0u64; order.len() * words];
    for (k, p) in pending.values().enumerate() {
        for c in &p.commits {
            if let Some(&i) = position.get(c) {
                bits[i * words + k / 64] |= 1 << (k % 64);
            }
        }
    }
    for (i, &id) in order.iter().enumerate() {
        let commit = graph.commit(id).expect("ordered ids are commits");
        for &parent in graph.parents(commit) {
            if parent == MISSING {
                continue;
            }
            if let Some(&pi) = position.get(&parent) {
                for w in 0..words {
                    bits[i * words + w] |= bits[pi * words + w];
                }
            }
        }
    }
    let mut carried: Vec<Vec<String>> = vec![Vec::new(); pending.len()];
    for tip in refs.iter().filter(|r| r.name != "HEAD") {
        let Some(&i) = table.id(&tip.target).map(|id| graph.peel(id)).and_then(|id| position.get(&id)) else {
            continue;
        };
        for (k, list) in carried.iter_mut().enumerate() {
            if bits[i * words + k / 64] & (1 << (k % 64)) != 0 {
                list.push(tip.name.clone());
            }
        }
    }
    carried
}

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
