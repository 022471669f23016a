//! Damaged and hostile git repositories for `leakhound git`: a pack file
//! with a corrupt entry, a truncated pack, the same objects in two packs,
//! and a repository with 100,000 refs. (A shallow clone, a corrupt loose
//! object, submodules and LFS pointers are in `git_cli.rs`.)
//!
//! Why: a history audit meets repositories as they are on disk, damaged by
//! a full disk, a crash mid-`gc` or a bad copy, and sometimes built to
//! break tools. Each case must end without a panic or a hang (every run has
//! a timeout), name what could not be read, exit 2 when some object was
//! unreadable (1 or 0 when everything was), and still report every key in
//! the objects that are intact. Keys are generated at run time.

use crate::common;

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};

use crate::common::repo::Repo;
use crate::common::{Run, leakhound};
use serde_json::Value;

/// `leakhound git --format json --show-secrets REPO`, killed (failing the
/// test) after `timeout_secs`; its stdout must be a JSON report.
fn audit(repo: &Path, timeout_secs: u64) -> Run {
    let args =
        [OsStr::new("git"), OsStr::new("--format"), OsStr::new("json"), OsStr::new("--show-secrets"), repo.as_os_str()];
    let run = leakhound(args, timeout_secs);
    assert!(!run.doc.is_null(), "not a JSON report: {}{}", String::from_utf8_lossy(&run.stdout), run.stderr);
    run
}

/// The secrets reported, sorted.
fn secrets(doc: &Value) -> Vec<String> {
    let mut v: Vec<String> =
        doc["findings"].as_array().unwrap().iter().map(|f| f["secret"].as_str().unwrap().to_string()).collect();
    v.sort();
    v
}

/// Paths of the `skipped` entries that are errors.
fn unreadable(doc: &Value) -> Vec<String> {
    doc["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["reason"] == "unreadable")
        .map(|s| s["path"].as_str().unwrap().to_string())
        .collect()
}

/// Whether `skipped` lists `pack` as unreadable, with a reason (matched by
/// file name: the report's path may be spelled differently, e.g. resolved).
fn names_pack(doc: &Value, pack: &Path) -> bool {
    let name = pack.file_name().unwrap().to_str().unwrap();
    doc["skipped"].as_array().unwrap().iter().any(|s| {
        s["reason"] == "unreadable"
            && s["path"].as_str().unwrap().ends_with(name)
            && !s["detail"].as_str().unwrap().is_empty()
    })
}

/// A key and the blob that holds it.
struct Planted {
    key: String,
    blob: String,
}

/// Eight commits, each adding a file with its own key and its own padding
/// (so git stores every blob whole, not as a delta of another), packed by
/// `git gc`; then one more commit, whose objects stay loose: its tree names
/// every file, so the packed blobs keep their paths even if every packed
/// tree is lost.
fn packed_history() -> (Repo, Vec<Planted>, Planted) {
    let mut repo = Repo::new();
    let mut packed = Vec::new();
    for n in 0..8u64 {
        let key = common::key("openai-project", 100 + n);
        let mut rng = common::Rng::new(n);
        let padding: String =
            (0..60).map(|j| format!("setting_{n}_{j} = {}\n", rng.string(b"0123456789abcdef", 32))).collect();
        let file = format!("service{n}.env");
        repo.commit(&file, &format!("OPENAI_API_KEY={key}\n{padding}"), &format!("service {n}"));
        packed.push(Planted { key, blob: repo.git(&["rev-parse", &format!("HEAD:{file}")]) });
    }
    repo.git(&["gc", "-q"]);
    let key = common::key("anthropic-api", 200);
    repo.commit("late.env", &format!("ANTHROPIC_API_KEY={key}\n"), "after the gc");
    let blob = repo.git(&["rev-parse", "HEAD:late.env"]);
    let loose = repo.path.join(".git/objects").join(&blob[..2]).join(&blob[2..]);
    assert!(loose.exists(), "the last commit's objects are loose");
    (repo, packed, Planted { key, blob })
}

/// The repository's one pack file and its index.
fn the_pack(repo: &Repo) -> (PathBuf, PathBuf) {
    let dir = repo.path.join(".git/objects/pack");
    let packs: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension() == Some("pack".as_ref()))
        .collect();
    assert_eq!(packs.len(), 1, "{packs:?}");
    let pack = packs[0].clone();
    (pack.clone(), pack.with_extension("idx"))
}

/// One object in a pack, as `git verify-pack -v` lists it.
struct Entry {
    oid: String,
    offset: u64,
    size_in_pack: u64,
    /// The object it is a delta of, if it is one.
    base: Option<String>,
}

fn pack_entries(repo: &mut Repo, idx: &Path) -> Vec<Entry> {
    let listing = repo.git(&["verify-pack", "-v", idx.to_str().unwrap()]);
    listing
        .lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            (f.len() >= 5 && f[0].len() == 40 && ["commit", "tree", "blob", "tag"].contains(&f[1])).then(|| Entry {
                oid: f[0].to_string(),
                size_in_pack: f[3].parse().unwrap(),
                offset: f[4].parse().unwrap(),
                base: f.get(6).map(|b| b.to_string()),
            })
        })
        .collect()
}

/// Makes a file of git's (read-only) object store writable.
fn writable(path: &Path) {
    let mut perms = fs::metadata(path).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    fs::set_permissions(path, perms).unwrap();
}

#[test]
fn a_corrupt_pack_entry_loses_that_object_and_nothing_else() {
    let (mut repo, packed, loose) = packed_history();
    let (pack, idx) = the_pack(&repo);
    let entries = pack_entries(&mut repo, &idx);
    let middle = fs::metadata(&pack).unwrap().len() / 2;
    // The key blob nearest the middle of the pack that is stored whole and
    // that no delta is based on: damaging it damages nothing else.
    let (victim, entry) = packed
        .iter()
        .filter_map(|p| {
            let e = entries.iter().find(|e| e.oid == p.blob)?;
            let standalone = e.base.is_none() && entries.iter().all(|d| d.base.as_deref() != Some(p.blob.as_str()));
            standalone.then_some((p, e))
        })
        .min_by_key(|(_, e)| e.offset.abs_diff(middle))
        .expect("git stored some key blob whole");
    // Scramble the start of its zlib stream (after the entry's size varint):
    // the zlib header check makes that damage always detectable. (Damage
    // deeper in a deflate stream can inflate without an error: then the
    // object is scanned as damaged, and the audit cannot know.)
    writable(&pack);
    let mut bytes = fs::read(&pack).unwrap();
    let mut start = entry.offset as usize;
    while bytes[start] & 0x80 != 0 {
        start += 1;
    }
    start += 1;
    assert!(start + 16 < (entry.offset + entry.size_in_pack) as usize);
    for b in &mut bytes[start..start + 16] {
        *b ^= 0xff;
    }
    fs::write(&pack, bytes).unwrap();

    let run = audit(&repo.path, 60);
    assert_eq!(run.code, 2, "an unreadable object makes the audit incomplete: {}", run.stderr);
    let mut want: Vec<String> = packed.iter().filter(|p| p.blob != victim.blob).map(|p| p.key.clone()).collect();
    want.push(loose.key.clone());
    want.sort();
    assert_eq!(secrets(&run.doc), want, "every key but the damaged blob's");
    let errors = unreadable(&run.doc);
    assert!(names_pack(&run.doc, &pack), "the pack is named, with what is wrong: {errors:?}");
    assert!(errors.contains(&format!("object {}", victim.blob)), "the object is named: {errors:?}");
    assert_eq!(errors.len(), 2, "nothing else is unreadable: {errors:?}");
}

#[test]
fn a_truncated_pack_keeps_every_object_before_the_cut() {
    let (mut repo, packed, loose) = packed_history();
    let (pack, idx) = the_pack(&repo);
    let entries = pack_entries(&mut repo, &idx);
    let entry_of = |p: &Planted| entries.iter().find(|e| e.oid == p.blob).unwrap();
    // Cut through the middle of the middle key blob (in pack order).
    let mut by_offset: Vec<&Planted> = packed.iter().collect();
    by_offset.sort_by_key(|p| entry_of(p).offset);
    let cut_at = entry_of(by_offset[by_offset.len() / 2]);
    let cut = cut_at.offset + cut_at.size_in_pack / 2;
    writable(&pack);
    fs::OpenOptions::new().write(true).open(&pack).unwrap().set_len(cut).unwrap();

    let run = audit(&repo.path, 60);
    assert_eq!(run.code, 2, "{}", run.stderr);
    // Every key blob wholly before the cut (and its delta base, if any) is
    // read; the loose commit's tree gives each its path.
    let intact = |e: &Entry| e.offset + e.size_in_pack <= cut;
    let mut want: Vec<String> = packed
        .iter()
        .filter(|p| {
            let e = entry_of(p);
            intact(e) && e.base.as_ref().is_none_or(|b| entries.iter().any(|d| d.oid == *b && intact(d)))
        })
        .map(|p| p.key.clone())
        .collect();
    assert!(!want.is_empty() && want.len() < packed.len(), "the cut goes through the keys");
    want.push(loose.key.clone());
    want.sort();
    assert_eq!(secrets(&run.doc), want);
    let errors = unreadable(&run.doc);
    assert!(names_pack(&run.doc, &pack), "the pack is named, with what is wrong: {errors:?}");
    for p in packed.iter().filter(|p| !intact(entry_of(p))) {
        assert!(errors.contains(&format!("object {}", p.blob)), "{} is named: {errors:?}", p.blob);
    }
}

#[test]
fn objects_in_two_packs_are_not_reported_unreadable() {
    let (mut repo, packed, loose) = packed_history();
    // A second pack repeating part of the first (as fetches and incremental
    // repacks leave behind): every object is still readable.
    let tip = repo.git(&["rev-parse", "HEAD~3"]);
    let mut child = std::process::Command::new("git")
        .current_dir(&repo.path)
        .args(["pack-objects", "-q", "--revs", ".git/objects/pack/extra"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), format!("{tip}\n").as_bytes()).unwrap();
    assert!(child.wait().unwrap().success());
    let packs = fs::read_dir(repo.path.join(".git/objects/pack"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension() == Some("pack".as_ref()))
        .count();
    assert_eq!(packs, 2);
    repo.git(&["fsck", "--no-progress"]);

    let run = audit(&repo.path, 60);
    assert_eq!(run.doc["skipped"], serde_json::json!([]), "a healthy repository has nothing unreadable");
    assert_eq!(run.code, 1, "{}", run.stderr);
    let mut want: Vec<String> = packed.iter().map(|p| p.key.clone()).chain([loose.key.clone()]).collect();
    want.sort();
    assert_eq!(secrets(&run.doc), want);
}

#[test]
fn a_hundred_thousand_refs_one_finding_carried_by_the_right_half() {
    let mut repo = Repo::new();
    let before = repo.commit("README.md", "# app\n", "initial");
    let key = common::key("openai-project", 300);
    let with_key = repo.commit("app.env", &format!("OPENAI_API_KEY={key}\n"), "add the key");
    // 50,000 branches at the commit with the key and 50,000 tags at the one
    // before it, written as packed-refs directly (`git update-ref --stdin`
    // takes ~10 s for 100k loose refs).
    const HALF: usize = 50_000;
    let mut refs: Vec<(String, &str)> = (0..HALF)
        .map(|n| (format!("refs/heads/feature/b{n:05}"), with_key.as_str()))
        .chain((0..HALF).map(|n| (format!("refs/tags/old/t{n:05}"), before.as_str())))
        .collect();
    refs.sort();
    let mut packed_refs = String::from("# pack-refs with: peeled fully-peeled sorted \n");
    for (name, target) in &refs {
        packed_refs.push_str(&format!("{target} {name}\n"));
    }
    fs::write(repo.path.join(".git/packed-refs"), packed_refs).unwrap();
    assert_eq!(
        repo.git(&["rev-parse", "refs/heads/feature/b49999", "refs/tags/old/t00000"]),
        format!("{with_key}\n{before}")
    );

    let run = audit(&repo.path, 120);
    eprintln!("leakhound git with {} refs: {:?}", 2 * HALF + 1, run.elapsed);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let findings = run.doc["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "one key, one path: one finding");
    let f = &findings[0];
    assert_eq!(f["secret"], key.as_str());
    assert_eq!(f["commit"], with_key.as_str());
    assert_eq!(f["commit_count"], 1);
    // `branches`: every ref whose history holds the key, each once: main
    // and the 50,000 branches, none of the tags that predate it, not HEAD.
    let mut branches: Vec<&str> = f["branches"].as_array().unwrap().iter().map(|b| b.as_str().unwrap()).collect();
    assert_eq!(branches.len(), HALF + 1);
    assert!(branches.contains(&"refs/heads/main"));
    assert!(branches.iter().all(|b| b.starts_with("refs/heads/")), "no tag predating the key, no HEAD");
    branches.sort_unstable();
    branches.dedup();
    assert_eq!(branches.len(), HALF + 1, "each ref once");
    assert_eq!(run.doc["skipped"], serde_json::json!([]));
}
