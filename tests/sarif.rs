//! SARIF output validates against the official 2.1.0 schema (a copy is in
//! fixtures/), in every mode, and never carries a full secret.

use crate::common;

use std::fs;
use std::path::Path;
use std::process::Command as Std;

use assert_cmd::Command;
use serde_json::Value;

fn validator() -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(
        &fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/sarif-schema-2.1.0.json")).unwrap(),
    )
    .unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

fn sarif(args: &[&str], dir: &Path) -> Value {
    let out = Command::cargo_bin("leakhound")
        .unwrap()
        .args(args)
        .args(["--format", "sarif", "--show-secrets"])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.code() == Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn assert_valid(doc: &Value) {
    let errors: Vec<String> = validator().iter_errors(doc).map(|e| format!("{e} at {}", e.instance_path())).collect();
    assert!(errors.is_empty(), "SARIF schema errors:\n{}", errors.join("\n"));
}

fn git(dir: &Path, args: &[&str]) {
    let ok = Std::new("git")
        .current_dir(dir)
        .args(["-c", "user.name=a", "-c", "user.email=a@b", "-c", "commit.gpgsign=false"])
        .args(args)
        .status()
        .unwrap()
        .success();
    assert!(ok, "git {args:?}");
}

#[test]
fn the_schema_check_rejects_broken_sarif() {
    let broken = serde_json::json!({ "version": "2.1.0", "runs": [{ "results": [{ "level": "fatal" }] }] });
    assert!(!validator().is_valid(&broken));
}

#[test]
fn every_mode_produces_valid_sarif_without_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let keys = [common::key("openai-project", 1), common::key("github-classic", 2), common::key("groq", 3)];
    git(root, &["init", "-q", "-b", "main"]);
    fs::create_dir(root.join("src")).unwrap();
    fs::write(root.join("src/app.js"), format!("const k = '{}';\n", keys[0])).unwrap();
    fs::write(root.join("weird name[1].env"), format!("T={}\n", keys[1])).unwrap();
    git(root, &["add", "-A"]);
    git(root, &["commit", "-q", "-m", "init"]);
    fs::write(root.join("staged.py"), format!("K = '{}'\n", keys[2])).unwrap();
    git(root, &["add", "staged.py"]);

    for args in [&["scan", "."][..], &["git", "."], &["staged"]] {
        let doc = sarif(args, root);
        assert_valid(&doc);
        let text = doc.to_string();
        for k in &keys {
            assert!(!text.contains(&k[12..k.len() - 4]), "{args:?} leaks a secret");
        }
        let run = &doc["runs"][0];
        assert!(run["tool"]["driver"]["rules"].as_array().unwrap().len() > 40);
        let result = &run["results"][0];
        assert!(result["partialFingerprints"]["leakhound/v1"].as_str().unwrap().len() == 64);
        assert!(result["locations"][0]["physicalLocation"]["region"]["startLine"].as_u64().unwrap() >= 1);
    }
    let doc = sarif(&["scan", "."], root);
    let results = doc["runs"][0]["results"].as_array().unwrap();
    let client = results.iter().find(|r| r["ruleId"] == "openai-project-key").unwrap();
    assert_eq!(client["level"], "error");
    assert_eq!(client["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "src/app.js");
    assert!(client["message"]["text"].as_str().unwrap().contains("served to browsers"));
    let weird = results.iter().find(|r| r["ruleId"] == "github-pat-classic").unwrap();
    assert_eq!(weird["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "weird%20name%5B1%5D.env");
}

#[test]
fn an_incomplete_scan_says_so_in_sarif_invocations() {
    let dir = tempfile::tempdir().unwrap();
    let key = common::key("openai-project", 4);
    fs::write(dir.path().join("ok.env"), format!("OPENAI_API_KEY={key}\n")).unwrap();
    fs::write(dir.path().join("logo.png"), b"\x89PNG\r\n\x1a\n\x00\x00").unwrap();
    let out = common::command().args(["scan", "--format", "sarif", "."]).current_dir(dir.path()).output().unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_valid(&doc);
    let invocation = &doc["runs"][0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], true);
    let notes = invocation["toolExecutionNotifications"].as_array().unwrap();
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0]["level"], "note");
    assert_eq!(notes[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "logo.png");
}

#[cfg(unix)]
#[test]
fn errors_reach_stderr_whatever_the_output_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nonexistent");
    let report = dir.path().join("report.txt");
    let out = common::command().arg("scan").arg(&missing).arg("-o").arg(&report).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("leakhound: error:") && stderr.contains("nonexistent"), "{stderr}");
}

#[test]
fn a_git_object_store_given_to_scan_points_to_leakhound_git() {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q", "--bare", "repo.git"]);
    let out = common::command().args(["scan", "repo.git"]).current_dir(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("leakhound git repo.git"));
}
