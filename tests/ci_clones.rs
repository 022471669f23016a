//! `leakhound git --range` in the clones CI systems make, made here through
//! `file://` with `uploadpack.allowFilter`: blob-less and tree-less partial
//! clones (missing objects are fetched through git), shallow clones (a base
//! cut off is a readable error), a new branch's all-zero base, a root
//! commit's `ROOT~1..ROOT`, and `A...B`.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::common;
use crate::common::repo::Repo;

/// An origin with: a root commit holding a key, a commit on main, and a
/// feature branch that adds a second key.
struct Origin {
    repo: Repo,
    root: String,
    root_key: String,
    feature_key: String,
}

fn origin() -> Origin {
    let mut repo = Repo::new();
    let root_key = common::key("github-classic", 81);
    let feature_key = common::key("openai-project", 82);
    let root = repo.commit("config.env", &format!("GITHUB_TOKEN={root_key}\n"), "root");
    for n in 0..3 {
        repo.commit("notes.txt", &format!("note {n}\n"), "note");
    }
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.commit("app/settings.py", &format!("OPENAI_API_KEY = \"{feature_key}\"\n"), "feature: client");
    repo.git(&["checkout", "-q", "main"]);
    repo.commit("notes.txt", "main moved on\n", "main");
    repo.git(&["config", "uploadpack.allowFilter", "true"]);
    repo.git(&["config", "uploadpack.allowAnySHA1InWant", "true"]);
    Origin { repo, root, root_key, feature_key }
}

/// `git clone ARGS file://ORIGIN DIR/name`, checking out the feature branch.
fn clone(origin: &Origin, dir: &Path, name: &str, args: &[&str]) -> std::path::PathBuf {
    let target = dir.join(name);
    let url = format!("file://{}", origin.repo.path.display());
    let out = Command::new("git")
        .args(["clone", "-q", "--branch", "feature"])
        .args(args)
        .arg(&url)
        .arg(&target)
        .output()
        .unwrap();
    assert!(out.status.success(), "git clone {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    target
}

fn range(repo: &Path, range: &str) -> (i32, Value, String) {
    let out = common::command().args(["git", "--format", "json", "--range", range]).arg(repo).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.code().unwrap_or(-1), serde_json::from_slice(&out.stdout).unwrap_or(Value::Null), stderr)
}

fn secrets(doc: &Value) -> Vec<String> {
    doc["findings"]
        .as_array()
        .map_or(Vec::new(), |a| a.iter().map(|f| f["secret_sha256"].as_str().unwrap().to_string()).collect())
}

#[test]
fn partial_clones_fetch_what_the_range_needs() {
    let origin = origin();
    let dir = tempfile::tempdir().unwrap();
    for (name, filter) in [("blobless", "--filter=blob:none"), ("treeless", "--filter=tree:0")] {
        let clone = clone(&origin, dir.path(), name, &[filter, "--no-checkout"]);
        let (code, doc, stderr) = range(&clone, "origin/main..origin/feature");
        assert_eq!(code, 1, "{name}: {stderr}");
        assert_eq!(secrets(&doc), vec![common::sha256(&origin.feature_key)], "{name}");
        assert_eq!(doc["findings"][0]["path"], "app/settings.py");
        assert!(!stderr.contains("class="), "{stderr}");
    }
}

#[test]
fn a_merge_base_range_as_ci_systems_write_it() {
    let origin = origin();
    let dir = tempfile::tempdir().unwrap();
    let clone = clone(&origin, dir.path(), "full", &[]);
    let (code, doc, stderr) = range(&clone, "origin/main...origin/feature");
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(secrets(&doc), vec![common::sha256(&origin.feature_key)]);
}

#[test]
fn a_new_branch_and_a_root_commit_are_scanned_whole() {
    let origin = origin();
    let (code, doc, stderr) = range(&origin.repo.path, &format!("{}..feature", "0".repeat(40)));
    assert_eq!(code, 1, "{stderr}");
    let mut found = secrets(&doc);
    found.sort();
    let mut expected = vec![common::sha256(&origin.root_key), common::sha256(&origin.feature_key)];
    expected.sort();
    assert_eq!(found, expected);
    assert!(doc["notes"][0].as_str().unwrap().contains("no base commit"), "{}", doc["notes"]);

    let (code, doc, stderr) = range(&origin.repo.path, &format!("{0}~1..{0}", origin.root));
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(secrets(&doc), vec![common::sha256(&origin.root_key)]);
}

#[test]
fn shallow_clones_scan_what_is_there_and_say_what_is_missing() {
    let origin = origin();
    let dir = tempfile::tempdir().unwrap();
    let shallow = clone(&origin, dir.path(), "depth1", &["--depth", "1"]);
    let (code, _, stderr) = range(&shallow, "HEAD~3..HEAD");
    assert_eq!(code, 2);
    assert!(stderr.contains("not in this clone") && stderr.contains("fetch-depth: 0"), "{stderr}");
    assert!(!stderr.contains("class="), "{stderr}");

    let deeper = clone(&origin, dir.path(), "depth50", &["--depth", "50", "--no-single-branch"]);
    let (code, doc, stderr) = range(&deeper, "origin/main..origin/feature");
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(secrets(&doc), vec![common::sha256(&origin.feature_key)]);
}
