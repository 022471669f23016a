//! Git as a source: the whole history (`packs` decodes every object once,
//! walking each pack's delta forest in `pack_walk` and applying deltas in
//! `delta`; `graph` records commits and trees, `objects` indexes the
//! store), a commit range, and the staged changes (`diff`).
//!
//! `git2` is the repository layer (opening, refs, per-object reads, diffs);
//! `gix-pack` reads pack indexes and entries for the bulk decode. See
//! DESIGN.md for why both.

pub mod delta;
pub mod diff;
pub mod graph;
pub mod memory;
pub mod objects;
pub mod pack_walk;
pub mod packs;
pub mod range;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use gix_hash::ObjectId;

/// An opened repository and the facts about it that reports mention.
pub struct GitRepo {
    pub repo: git2::Repository,
    /// What `git2::Repository::open` accepts, to open more handles.
    pub open_path: PathBuf,
    /// The shared `objects` directory (worktrees share their main repo's).
    pub objects_dir: PathBuf,
    pub shallow: bool,
    pub bare: bool,
}

/// A ref and the object it points to (symbolic refs resolved).
#[derive(Debug, Clone)]
pub struct RefTip {
    pub name: String,
    pub target: ObjectId,
}

impl GitRepo {
    /// Opens the repository at or above `path` (bare repositories and
    /// worktrees included).
    pub fn open(path: &Path) -> Result<GitRepo> {
        let repo = git2::Repository::discover(path).map_err(|e| {
            if e.code() == git2::ErrorCode::NotFound {
                anyhow::anyhow!(
                    "{} is not a git repository (or any parent up to the filesystem root); \
                     use `leakhound scan` for plain directories",
                    path.display()
                )
            } else {
                anyhow::anyhow!("cannot open git repository at {}: {}", path.display(), e.message())
            }
        })?;
        let open_path = repo.path().to_path_buf();
        let objects_dir = repo.commondir().join("objects");
        if !objects_dir.is_dir() {
            bail!("{} has no objects directory: the repository is damaged", repo.commondir().display());
        }
        Ok(GitRepo { shallow: repo.is_shallow(), bare: repo.is_bare(), repo, open_path, objects_dir })
    }

    /// Every ref (branches, tags, remotes, stash, notes) and `HEAD`.
    pub fn refs(&self) -> Result<Vec<RefTip>> {
        let mut tips = Vec::new();
        for reference in self.repo.references().context("cannot list refs")? {
            let Ok(reference) = reference else { continue };
            let Ok(name) = reference.name().map(str::to_string) else {
                continue;
            };
            let resolved = match reference.resolve() {
                Ok(r) => r,
                Err(_) => continue, // dangling symbolic ref
            };
            if let Some(oid) = resolved.target() {
                tips.push(RefTip { name, target: to_gix(oid) });
            }
        }
        if let Some(head) = self.head() {
            tips.push(RefTip { name: "HEAD".into(), target: head });
        }
        Ok(tips)
    }

    /// The commit `HEAD` points to, if any (none in an empty repository).
    pub fn head(&self) -> Option<ObjectId> {
        self.repo.head().ok().and_then(|h| h.target()).map(to_gix)
    }
}

pub fn to_gix(oid: git2::Oid) -> ObjectId {
    ObjectId::try_from(oid.as_bytes()).expect("git2 object ids are SHA-1")
}

pub fn to_git2(oid: &ObjectId) -> git2::Oid {
    git2::Oid::from_bytes(oid.as_bytes()).expect("SHA-1 object id")
}
