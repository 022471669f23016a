//! Organisation-scale audits end to end, through the binary: `git --repos`
//! over local paths, a `file://` URL (cloned, then fetched) and a missing
//! path; `--shard` and `--shard-index-env`; `merge` of shard files (one
//! rotation item per key across repositories, verification reused or done
//! once per key, SARIF that validates, and the refusals).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use serde_json::Value;

use crate::common::key;
use crate::common::mock::{Mock, Reply, Request};
use crate::common::repo::Repo;
use leakhound::org::{normalize_id, shard_of};

use crate::common::run_in as leakhound;

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}{}", stdout(out), stderr(out)))
}

/// A repository with one commit holding `files`.
fn repo_with(files: &[(&str, String)]) -> Repo {
    let mut repo = Repo::new();
    for (path, text) in files {
        repo.write(path, text);
    }
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "add configuration"]);
    repo
}

fn env_file(k: &str) -> String {
    format!("OPENAI_API_KEY={k}\n")
}

/// Findings of a JSONL file, by repository.
fn jsonl_by_repository(path: &Path) -> BTreeMap<String, Vec<Value>> {
    let mut by_repo: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for line in fs::read_to_string(path).unwrap().lines().filter(|l| !l.trim().is_empty()) {
        let f: Value = serde_json::from_str(line).unwrap();
        by_repo
            .entry(f["repository"].as_str().expect("every finding names its repository").into())
            .or_default()
            .push(f);
    }
    by_repo
}

use crate::common::sha256 as sha;

fn shard_of_line(line: &str, count: u64) -> u64 {
    shard_of(&normalize_id(line), count)
}

#[test]
fn a_list_of_a_path_a_url_and_a_missing_path() {
    let work = tempfile::tempdir().unwrap();
    let (k1, k2, k3) = (key("openai-project", 1), key("anthropic-api", 2), key("github-classic", 3));
    let local = repo_with(&[(".env", env_file(&k1))]);
    let mut upstream = repo_with(&[("config.py", format!("ANTHROPIC_API_KEY = \"{k2}\"\n"))]);
    let bare = work.path().join("upstream.git");
    upstream.git(&["clone", "-q", "--bare", ".", bare.to_str().unwrap()]);
    let url = format!("file://{}", bare.display());
    let missing = work.path().join("no-such-repo").display().to_string();
    let list = format!("# the estate\n\n{}\n{url}\n   {missing}  \n", local.path.display());
    fs::write(work.path().join("repos.txt"), list).unwrap();
    let args = ["git", "--repos", "repos.txt", "--clone-dir", "clones", "--format", "json", "--show-secrets"];

    let out = leakhound(work.path(), &args);
    assert_eq!(out.status.code(), Some(2), "a missing repository is an error: {}", stderr(&out));
    let doc = json(&out);
    let found: BTreeSet<(String, String, String)> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["repository"].as_str().unwrap().into(),
                f["path"].as_str().unwrap().into(),
                f["secret"].as_str().unwrap().into(),
            )
        })
        .collect();
    let local_line = local.path.display().to_string();
    assert_eq!(
        found,
        BTreeSet::from([
            (local_line.clone(), ".env".to_string(), k1.clone()),
            (url.clone(), "config.py".to_string(), k2.clone()),
        ])
    );
    let skipped = doc["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    assert_eq!(skipped[0]["path"], missing.as_str());
    assert_eq!(skipped[0]["reason"], "unreadable");
    assert!(skipped[0]["detail"].as_str().unwrap().contains("no such file"), "{skipped:?}");
    let log = stderr(&out);
    assert!(log.contains(&format!("[1/3] {local_line}: 1 blob, ")), "{log}");
    assert!(log.contains(&format!("[2/3] {url}: 1 blob, ")) && log.contains("1 finding in"), "{log}");
    assert!(log.contains("(cloned in"), "{log}");
    assert!(log.contains(&format!("[3/3] {missing}: not audited: ")), "{log}");
    let clones: Vec<PathBuf> = fs::read_dir(work.path().join("clones")).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(clones.len(), 1, "{clones:?}");
    assert!(clones[0].join("HEAD").is_file() && !clones[0].join(".git").exists(), "a bare clone");

    // Upstream moves on: the next run fetches into the same clone.
    upstream.write("deploy.sh", &format!("export GITHUB_TOKEN={k3}\n"));
    upstream.git(&["add", "-A"]);
    upstream.git(&["commit", "-q", "-m", "deploy script"]);
    upstream.git(&["push", "-q", bare.to_str().unwrap(), "main"]);
    let out = leakhound(work.path(), &args);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("(fetched in"), "{}", stderr(&out));
    let doc = json(&out);
    let new = doc["findings"].as_array().unwrap().iter().find(|f| f["secret"] == k3.as_str()).expect("fetched commit");
    assert_eq!(new["repository"], url.as_str());
    assert_eq!(new["path"], "deploy.sh");
    assert_eq!(fs::read_dir(work.path().join("clones")).unwrap().count(), 1);

    // Text output says which repository each path is in.
    let out = leakhound(work.path(), &["git", "--repos", "repos.txt", "--clone-dir", "clones", "--color", "never"]);
    let text = stdout(&out);
    assert!(text.contains(&format!("{}/deploy.sh", bare.display().to_string().trim_end_matches(".git"))), "{text}");
    assert!(text.contains(&format!("{local_line}/.env")), "{text}");
}

#[test]
fn shards_cover_the_list_once_and_adding_a_repository_moves_no_other() {
    let work = tempfile::tempdir().unwrap();
    let repos: Vec<Repo> = (0..6).map(|n| repo_with(&[(".env", env_file(&key("openai-project", 100 + n)))])).collect();
    let lines: Vec<String> = repos.iter().map(|r| r.path.display().to_string()).collect();
    let run_shards = |list: &[String]| -> Vec<BTreeSet<String>> {
        fs::write(work.path().join("repos.txt"), list.join("\n") + "\n").unwrap();
        (0..2)
            .map(|k| {
                let (shard, file) = (format!("{k}/2"), format!("shard-{k}.jsonl"));
                let out = leakhound(
                    work.path(),
                    &["git", "--repos", "repos.txt", "--shard", &shard, "--format", "jsonl", "-o", &file],
                );
                let by_repo = jsonl_by_repository(&work.path().join(&file));
                assert!(
                    out.status.code() == Some(1) || (by_repo.is_empty() && out.status.code() == Some(0)),
                    "{}",
                    stderr(&out)
                );
                by_repo.into_keys().collect()
            })
            .collect()
    };

    let before = run_shards(&lines[..5]);
    assert!(before[0].is_disjoint(&before[1]));
    let all: BTreeSet<String> = before.iter().flatten().cloned().collect();
    assert_eq!(all, lines[..5].iter().cloned().collect::<BTreeSet<_>>(), "every repository in exactly one shard");
    for (k, shard) in before.iter().enumerate() {
        assert!(shard.iter().all(|line| shard_of_line(line, 2) == k as u64), "the documented hash decides");
    }

    let after = run_shards(&lines);
    for k in 0..2 {
        assert!(before[k].is_subset(&after[k]), "adding a repository moved another");
    }
    assert_eq!(after[0].len() + after[1].len(), 6);

    // The index from the environment (Kubernetes Indexed Jobs) picks the same slice.
    let out = Command::cargo_bin("leakhound")
        .unwrap()
        .args(["git", "--repos", "repos.txt", "--shard-index-env", "JOB_COMPLETION_INDEX", "--shard-count", "2"])
        .args(["--format", "jsonl", "-o", "from-env.jsonl"])
        .env("JOB_COMPLETION_INDEX", "1")
        .current_dir(work.path())
        .output()
        .unwrap();
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", stderr(&out));
    let from_env: BTreeSet<String> = jsonl_by_repository(&work.path().join("from-env.jsonl")).into_keys().collect();
    assert_eq!(from_env, after[1]);

    let out = leakhound(work.path(), &["git", "--repos", "repos.txt", "--shard", "2/2"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("count from 0"), "{}", stderr(&out));
    let out = leakhound(work.path(), &["git", "--shard", "0/2", "."]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--repos"), "{}", stderr(&out));
}

/// Plays OpenAI's model list: `live` keys get 200, others 401.
fn openai_mock(live: &[String]) -> Mock {
    let live: Vec<String> = live.to_vec();
    Mock::start(move |req: &Request| {
        let secret = req.header("authorization").and_then(|a| a.strip_prefix("Bearer ")).unwrap_or_default();
        match req.path.as_str() {
            "/openai/v1/models" if live.iter().any(|k| k == secret) => {
                Reply::new(200, r#"{"object":"list","data":[{"id":"gpt-4o","owned_by":"acme-org"}]}"#)
            }
            "/openai/v1/models" => {
                Reply::new(401, r#"{"error":{"message":"Incorrect API key provided","code":"invalid_api_key"}}"#)
            }
            _ => Reply::new(404, "{}"),
        }
    })
}

/// An estate of three repositories in which one key (`shared`) sits in two
/// repositories that land in different shards, and another key in a third.
struct Estate {
    work: tempfile::TempDir,
    _repos: Vec<Repo>,
    shared: String,
    other: String,
    /// The list lines of the two repositories holding `shared`.
    x: String,
    y: String,
}

impl Estate {
    fn new() -> Estate {
        let work = tempfile::tempdir().unwrap();
        let (shared, other) = (key("openai-project", 200), key("openai-project", 201));
        let rx = repo_with(&[(".env", env_file(&shared))]);
        let ry = repo_with(&[("src/settings.py", format!("OPENAI_API_KEY = \"{shared}\"\n"))]);
        let rz = repo_with(&[("deploy/.env", env_file(&other))]);
        let x = rx.path.display().to_string();
        // List y through a symlink whose name puts it in the other shard.
        let y = (0..64)
            .map(|n| work.path().join(format!("y{n}")).display().to_string())
            .find(|line| shard_of_line(line, 2) != shard_of_line(&x, 2))
            .unwrap();
        std::os::unix::fs::symlink(&ry.path, &y).unwrap();
        let list = format!("{x}\n{y}\n{}\n", rz.path.display());
        fs::write(work.path().join("repos.txt"), list).unwrap();
        Estate { work, _repos: vec![rx, ry, rz], shared, other, x, y }
    }

    fn dir(&self) -> &Path {
        self.work.path()
    }

    /// Runs both shards with `extra` flags; returns the shard files' names.
    fn shards(&self, extra: &[&str]) -> [String; 2] {
        ["0", "1"].map(|k| {
            let file = format!("shard-{k}.jsonl");
            let shard = format!("{k}/2");
            let mut args = vec!["git", "--repos", "repos.txt", "--shard", &shard, "--format", "jsonl", "-o", &file];
            args.extend(extra);
            let out = leakhound(self.dir(), &args);
            assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
            file
        })
    }
}

fn endpoint(mock: &Mock) -> String {
    format!("openai={}", mock.url("/openai"))
}

/// The "Rotate now" items of a text report: (headline, places).
fn rotation_items(text: &str) -> Vec<(String, Vec<String>)> {
    let section = text.split("Rotate now").nth(1).expect("a Rotate now section");
    let mut items: Vec<(String, Vec<String>)> = Vec::new();
    // Blocks are indented and apart by blank lines; the section ends at the
    // next line that is not indented.
    for line in section.lines().skip(1).take_while(|l| l.is_empty() || l.starts_with(' ')) {
        let trimmed = line.trim();
        if trimmed.chars().next().is_some_and(|c| c.is_ascii_digit()) {
            items.push((trimmed.to_string(), Vec::new()));
        } else if let Some(place) = trimmed.strip_prefix("at ") {
            items.last_mut().unwrap().1.push(place.to_string());
        }
    }
    items
}

#[test]
fn merge_reuses_shard_verification_and_makes_one_rotation_item_per_key() {
    let estate = Estate::new();
    let mock = openai_mock(std::slice::from_ref(&estate.shared));
    let endpoint = endpoint(&mock);
    let [s0, s1] = estate.shards(&["--verify", "--verify-endpoint", &endpoint]);
    let asked_by_shards = mock.requests().len();
    assert_eq!(asked_by_shards, 3, "once per key in each shard: the shared key in both, the other in one");

    let out = leakhound(estate.dir(), &["merge", &s0, &s1, "--color", "never"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    let items = rotation_items(&text);
    assert_eq!(items.len(), 2, "{text}");
    assert!(items[0].0.starts_with("1. LIVE") && items[1].0.starts_with("2. INVALID"), "{items:?}");
    let places: BTreeSet<&str> = items[0].1.iter().map(|p| p.split(" (commit").next().unwrap()).collect();
    assert_eq!(
        places,
        BTreeSet::from([format!("{}/.env:1", estate.x).as_str(), &format!("{}/src/settings.py:1", estate.y)])
    );
    assert!(!text.contains(&estate.shared), "secrets stay masked");
    assert_eq!(mock.requests().len(), asked_by_shards, "merge asks nobody");

    // JSON keeps repository-relative paths, with the repository beside them.
    let doc = json(&leakhound(estate.dir(), &["merge", &s0, &s1, "--format", "json"]));
    let findings = doc["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 3);
    let shared: Vec<&Value> = findings.iter().filter(|f| f["secret_sha256"] == sha(&estate.shared).as_str()).collect();
    assert_eq!(shared.len(), 2);
    let repos: BTreeSet<&str> = shared.iter().map(|f| f["repository"].as_str().unwrap()).collect();
    assert_eq!(repos, BTreeSet::from([estate.x.as_str(), estate.y.as_str()]));
    assert!(shared.iter().all(|f| f["verification"]["status"] == "live"));
    assert_eq!(doc["stats"]["verification"]["unique_secrets"], 2);
    assert_eq!(doc["stats"]["verification"]["requests"], 0);

    // --verify with every key already verified in a shard: nothing to ask,
    // so masked shards are fine.
    let out = leakhound(estate.dir(), &["merge", &s0, &s1, "--verify", "--verify-endpoint", &endpoint, "-f", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(json(&out)["stats"]["verification"]["requests"], 0);
    assert_eq!(mock.requests().len(), asked_by_shards);
}

#[test]
fn merge_verify_asks_once_per_key_however_many_repositories_hold_it() {
    let estate = Estate::new();
    let mock = openai_mock(std::slice::from_ref(&estate.shared));
    let [s0, s1] = estate.shards(&["--show-secrets"]);
    let endpoint = endpoint(&mock);
    let out =
        leakhound(estate.dir(), &["merge", &s0, &s1, "--verify", "--verify-endpoint", &endpoint, "--color", "never"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let asked: Vec<String> = mock
        .requests()
        .iter()
        .map(|r| r.header("authorization").unwrap_or_default().trim_start_matches("Bearer ").to_string())
        .collect();
    assert_eq!(asked.len(), 2, "two keys, two requests: {asked:?}");
    assert!(asked.contains(&estate.shared) && asked.contains(&estate.other));
    let text = stdout(&out);
    assert!(!text.contains(&estate.shared), "the report masks what the shards held in full");
    let items = rotation_items(&text);
    assert_eq!(items.len(), 2, "{text}");
    assert_eq!(items[0].1.len(), 2, "the live key lists both repositories: {items:?}");
    assert!(items[0].0.contains("sk-proj-...") && items[0].0.ends_with(&estate.shared[estate.shared.len() - 4..]));
}

#[test]
fn merge_verify_on_masked_shards_is_refused() {
    let estate = Estate::new();
    let mock = openai_mock(&[]);
    let [s0, s1] = estate.shards(&[]);
    let out = leakhound(estate.dir(), &["merge", &s0, &s1, "--verify", "--verify-endpoint", &endpoint(&mock)]);
    assert_eq!(out.status.code(), Some(2));
    let message = stderr(&out);
    assert!(message.contains("merge --verify needs the keys themselves"), "{message}");
    assert!(message.contains("--show-secrets") && message.contains(&s0) && message.contains(&s1), "{message}");
    assert!(stdout(&out).is_empty(), "no report");
    assert!(mock.requests().is_empty());
}

#[test]
fn merged_sarif_validates_and_names_each_repository() {
    let estate = Estate::new();
    let [s0, s1] = estate.shards(&["--show-secrets"]);
    let out = leakhound(estate.dir(), &["merge", &s0, &s1, "--format", "sarif"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let doc = json(&out);
    let schema: Value = serde_json::from_str(
        &fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/sarif-schema-2.1.0.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(&doc).map(|e| format!("{e} at {}", e.instance_path())).collect();
    assert!(errors.is_empty(), "SARIF schema errors:\n{}", errors.join("\n"));
    let text = doc.to_string();
    for k in [&estate.shared, &estate.other] {
        assert!(!text.contains(&k[12..k.len() - 4]), "SARIF leaks a secret");
    }
    let results = doc["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    let uris: BTreeSet<&str> = results
        .iter()
        .map(|r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].as_str().unwrap())
        .collect();
    assert!(uris.contains(format!("{}/.env", estate.x).as_str()), "{uris:?}");
    assert!(uris.contains(format!("{}/src/settings.py", estate.y).as_str()), "{uris:?}");
    let prints: BTreeSet<&str> =
        results.iter().map(|r| r["partialFingerprints"]["leakhound/v1"].as_str().unwrap()).collect();
    assert_eq!(prints.len(), 3, "one alert per repository and file");
}

#[test]
fn a_shard_file_that_is_not_a_report_is_an_error_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("bad.jsonl"), "\n{\"rule_id\": \"x\"}\n").unwrap();
    let out = leakhound(dir.path(), &["merge", "bad.jsonl"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("bad.jsonl:2: not a leakhound finding"), "{}", stderr(&out));
    let out = leakhound(dir.path(), &["merge", "missing.jsonl"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("missing.jsonl"), "{}", stderr(&out));
}
