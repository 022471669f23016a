//! Living with a scanner for years: every way to silence a known finding
//! (a history report as baseline, the config's baseline in the hook, allow
//! lists by secret, pattern and commit), and the way over from gitleaks
//! (`gitleaks:allow`, `.gitleaksignore`, `.gitleaks.toml` import, its
//! command names).

use std::fs;
use std::path::Path;

use serde_json::Value;

use crate::common;
use crate::common::repo::Repo;

fn run(dir: &Path, args: &[&str]) -> (i32, Value, String) {
    let out = common::run_in(dir, args);
    let doc = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code().unwrap_or(-1), doc, String::from_utf8_lossy(&out.stderr).into_owned())
}

fn count(doc: &Value) -> usize {
    doc["findings"].as_array().map_or(0, Vec::len)
}

#[test]
fn a_history_audit_is_a_baseline_and_the_hook_honours_the_configs() {
    let mut repo = Repo::new();
    let old = common::key("github-classic", 91);
    repo.commit("old.env", &format!("GITHUB_TOKEN={old}\n"), "old key");
    repo.commit("old.env", "GITHUB_TOKEN=\n", "removed");
    let dir = repo.path.clone();
    let (code, _, _) = run(&dir, &["git", "--format", "json", "-o", "audit.json", "."]);
    assert_eq!(code, 1);
    fs::rename(dir.join("audit.json"), dir.join(".leakhound-baseline.json")).unwrap();
    fs::write(dir.join(".leakhound.toml"), "baseline = \".leakhound-baseline.json\"\n").unwrap();
    let (code, doc, stderr) = run(&dir, &["git", "--format", "json", "."]);
    assert_eq!((code, count(&doc)), (0, 0), "{stderr}");
    assert_eq!(doc["stats"]["suppressed_by"]["baseline"], 1);

    // The pre-commit hook runs `leakhound staged`, which reads the same config.
    repo.write("old.env", &format!("GITHUB_TOKEN={old}\n"));
    repo.git(&["add", "old.env"]);
    let (code, _, stderr) = run(&dir, &["staged", "--format", "json"]);
    assert_eq!(code, 0, "a baselined key does not block a commit: {stderr}");
    let new = common::key("github-classic", 92);
    repo.write("new.env", &format!("GITHUB_TOKEN={new}\n"));
    repo.git(&["add", "new.env"]);
    let (code, doc, stderr) = run(&dir, &["staged", "--format", "json"]);
    assert_eq!((code, count(&doc)), (1, 1));
    assert!(stderr.contains("allow_secrets"), "the block message says how to allow: {stderr}");
}

#[test]
fn allow_lists_by_secret_pattern_and_commit() {
    let mut repo = Repo::new();
    let (a, b, c) = (common::key("openai-project", 93), common::key("anthropic-api", 94), common::key("groq", 95));
    repo.commit("a.env", &format!("OPENAI_API_KEY={a}\n"), "a");
    let commit_b = repo.commit("b.env", &format!("ANTHROPIC_API_KEY={b}\n"), "b");
    repo.commit("c.env", &format!("GROQ_API_KEY={c}\n"), "c");
    let dir = repo.path.clone();
    let config = format!(
        "allow_secrets = [\"sha256:{}\"]\nallow_commits = [\"{}\"]\nallow_patterns = [\"^gsk_\"]\n",
        common::sha256(&a),
        &commit_b[..10]
    );
    fs::write(dir.join(".leakhound.toml"), config).unwrap();
    let (code, doc, stderr) = run(&dir, &["git", "--format", "json", "--show-suppressed", "."]);
    assert_eq!((code, count(&doc)), (0, 0), "{stderr}");
    let by = &doc["stats"]["suppressed_by"];
    assert_eq!((&by["allow-secrets"], &by["allow-commits"], &by["allow-patterns"]), (&1.into(), &1.into(), &1.into()));
    // A secret itself is refused in the config: it would be a leak of its own.
    fs::write(dir.join(".leakhound.toml"), format!("allow_secrets = [\"{a}\"]\n")).unwrap();
    let (code, _, stderr) = run(&dir, &["scan", "."]);
    assert_eq!(code, 2);
    assert!(stderr.contains("never belongs in this file") && !stderr.contains(&a[10..30]), "{stderr}");
}

#[test]
fn gitleaks_allow_comments_and_gitleaksignore() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, c) = (common::key("openai-project", 96), common::key("github-classic", 97), common::key("groq", 98));
    fs::write(dir.path().join("app.py"), format!("KEY = \"{a}\"  # gitleaks:allow\nTOKEN = \"{b}\"\n")).unwrap();
    fs::write(dir.path().join("other.py"), format!("GROQ = \"{c}\"\n")).unwrap();
    fs::write(dir.path().join(".gitleaksignore"), "# known\napp.py:github-pat:2\n").unwrap();
    let (code, doc, _) = run(dir.path(), &["scan", "--format", "json", "."]);
    assert_eq!(code, 1);
    let paths: Vec<&str> = doc["findings"].as_array().unwrap().iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert_eq!(paths, vec!["other.py"]);
    let by = &doc["stats"]["suppressed_by"];
    assert_eq!((&by["inline-allow"], &by["gitleaksignore"]), (&1.into(), &1.into()));
}

#[test]
fn a_gitleaks_config_is_imported_and_its_commands_answered() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join(".gitleaks.toml"),
        "[[rules]]\nid = \"acme-token\"\ndescription = \"Acme token\"\nregex = '''acme_([a-z0-9]{32})'''\n\
         secretGroup = 1\nkeywords = [\"acme_\"]\n\n[[rules]]\nid = \"bare\"\nregex = '''x{3}'''\n",
    )
    .unwrap();
    let (code, _, stderr) = run(dir.path(), &["rules", "import-gitleaks", ".gitleaks.toml", "-o", ".leakhound.toml"]);
    assert_eq!(code, 0, "{stderr}");
    let imported = fs::read_to_string(dir.path().join(".leakhound.toml")).unwrap();
    assert!(imported.contains("rule `bare`: has no `keywords`"), "{imported}");
    fs::write(dir.path().join("svc.env"), "ACME=acme_4f9c2e7a1b8d3f6e0a5c9b2d7e4f1a8c\n").unwrap();
    let (code, doc, stderr) = run(dir.path(), &["scan", "--format", "json", "."]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(doc["findings"][0]["rule_id"], "custom-acme-token");
    assert_eq!(doc["findings"][0]["path"], "svc.env");

    let (code, _, stderr) = run(dir.path(), &["detect", "--source", ".", "-v"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("leakhound git ."), "{stderr}");
}

#[test]
fn a_history_is_narrowed_by_date_and_branch() {
    // Dates advance a day per git command from 2023-11-14.
    let mut repo = Repo::with_step(86_400);
    let (old, new, side) =
        (common::key("openai-project", 99), common::key("github-classic", 100), common::key("groq", 101));
    repo.commit("old.env", &format!("OPENAI_API_KEY={old}\n"), "old");
    for n in 0..10 {
        repo.commit("log.txt", &format!("{n}\n"), "tick");
    }
    repo.commit("new.env", &format!("GITHUB_TOKEN={new}\n"), "new");
    repo.git(&["checkout", "-q", "-b", "side"]);
    repo.commit("side.env", &format!("GROQ_API_KEY={side}\n"), "side");
    repo.git(&["checkout", "-q", "main"]);
    let dir = repo.path.clone();
    let hashes = |doc: &Value| -> Vec<String> {
        let mut h: Vec<String> =
            doc["findings"].as_array().unwrap().iter().map(|f| f["secret_sha256"].as_str().unwrap().into()).collect();
        h.sort();
        h
    };
    let (_, doc, stderr) = run(&dir, &["git", "--format", "json", "--since", "2023-11-20", "."]);
    let mut expected = vec![common::sha256(&new), common::sha256(&side)];
    expected.sort();
    assert_eq!(hashes(&doc), expected, "{stderr}");
    assert!(
        doc["notes"].as_array().unwrap().iter().any(|n| n.as_str().unwrap().contains("introduced since 2023-11-20"))
    );
    let (_, doc, _) = run(&dir, &["git", "--format", "json", "--branch", "side", "--since", "2023-11-20", "."]);
    let (_, all, _) = run(&dir, &["git", "--format", "json", "--branch", "main", "."]);
    assert!(hashes(&doc).contains(&common::sha256(&side)));
    assert!(!hashes(&all).contains(&common::sha256(&side)), "the side branch's key is not in main's history");
    let (code, _, stderr) = run(&dir, &["git", "--since", "last tuesday", "."]);
    assert_eq!(code, 2);
    assert!(stderr.contains("is not a date"), "{stderr}");
}
