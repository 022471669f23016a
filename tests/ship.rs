//! What shipping relies on: `--sarif FILE` writes SARIF beside whatever
//! `--format` prints, from the same scan (the GitHub Action's one run gives
//! the log its text and code scanning its SARIF), always masked, with the
//! exit codes unchanged.

use std::fs;
use std::path::Path;

use serde_json::Value;

use crate::common::repo::Repo;
use crate::common::{key, run_in};

fn sarif_results(path: &Path) -> Vec<Value> {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let doc: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("SARIF does not parse: {e}\n{text}"));
    assert_eq!(doc["version"], "2.1.0");
    doc["runs"][0]["results"].as_array().expect("a results array").clone()
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn sarif_beside_the_text_report_from_one_scan() {
    let dir = tempfile::tempdir().unwrap();
    let k = key("openai-project", 7);
    fs::write(dir.path().join(".env"), format!("OPENAI_API_KEY={k}\n")).unwrap();

    let out = run_in(dir.path(), &["scan", "--color", "never", "--show-secrets", "--sarif", "out/leaks.sarif", "."]);
    // out/ does not exist: nothing is written and the run is an error.
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    fs::create_dir(dir.path().join("out")).unwrap();

    let out = run_in(dir.path(), &["scan", "--color", "never", "--show-secrets", "--sarif", "out/leaks.sarif", "."]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let text = stdout(&out);
    // The text report, on stdout, as without --sarif (secrets as asked).
    assert!(text.contains("openai-project-key") && text.contains(".env"), "{text}");
    assert!(text.contains(&k), "--show-secrets applies to the text report");
    assert!(text.lines().last().unwrap().starts_with("1 finding"), "{text}");
    // The SARIF file: the same finding, masked whatever --show-secrets says.
    let sarif = dir.path().join("out/leaks.sarif");
    let results = sarif_results(&sarif);
    assert_eq!(results.len(), 1);
    assert_eq!(results[0]["ruleId"], "openai-project-key");
    assert_eq!(results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], ".env");
    assert!(!fs::read_to_string(&sarif).unwrap().contains(&k), "SARIF must never carry a full secret");
    // Written atomically: no temporary file is left beside it.
    let names: Vec<_> = fs::read_dir(dir.path().join("out")).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names, ["leaks.sarif"]);
}

#[test]
fn sarif_with_every_format_and_with_output() {
    let dir = tempfile::tempdir().unwrap();
    let k = key("anthropic-api", 8);
    fs::write(dir.path().join("config.py"), format!("ANTHROPIC_API_KEY = \"{k}\"\n")).unwrap();
    for format in ["text", "json", "jsonl", "sarif", "html"] {
        let sarif = format!("{format}.sarif");
        let out = run_in(dir.path(), &["scan", "--format", format, "--sarif", &sarif, "config.py"]);
        assert_eq!(out.status.code(), Some(1), "{format}: {}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(sarif_results(&dir.path().join(&sarif)).len(), 1, "{format}");
        let printed = stdout(&out);
        match format {
            "json" => {
                assert_eq!(serde_json::from_str::<Value>(&printed).unwrap()["findings"].as_array().unwrap().len(), 1)
            }
            "jsonl" => assert_eq!(printed.lines().count(), 1),
            "sarif" => assert_eq!(
                serde_json::from_str::<Value>(&printed).unwrap()["runs"][0]["results"][0]["ruleId"],
                "anthropic-api-key"
            ),
            "html" => assert!(printed.starts_with("<!DOCTYPE html>"), "{format}"),
            _ => assert!(printed.contains("anthropic-api-key"), "{printed}"),
        }
    }
    // --output and --sarif together: two files, nothing on stdout.
    let out = run_in(dir.path(), &["scan", "--format", "json", "-o", "report.json", "--sarif", "report.sarif", "."]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let report: Value = serde_json::from_str(&fs::read_to_string(dir.path().join("report.json")).unwrap()).unwrap();
    assert_eq!(report["findings"][0]["rule_id"], "anthropic-api-key");
    assert_eq!(sarif_results(&dir.path().join("report.sarif")).len(), 1);
    // One file for both reports is refused before anything is written.
    let out = run_in(dir.path(), &["scan", "-o", "same.out", "--sarif", "./same.out", "."]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--sarif"));
    assert!(!dir.path().join("same.out").exists());
}

#[test]
fn exit_codes_are_the_same_with_sarif() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("clean")).unwrap();
    fs::write(dir.path().join("clean/README.md"), "nothing to see\n").unwrap();
    fs::create_dir(dir.path().join("leaky")).unwrap();
    fs::write(dir.path().join("leaky/.env"), format!("GROQ_API_KEY={}\n", key("groq", 9))).unwrap();
    let cases: [(&[&str], i32); 4] = [
        (&["scan", "clean"], 0),
        (&["scan", "leaky"], 1),
        (&["scan", "--fail-on", "live", "leaky"], 0),
        (&["scan", "no-such-path"], 2),
    ];
    for (args, code) in cases {
        let plain = run_in(dir.path(), args);
        assert_eq!(plain.status.code(), Some(code), "{args:?}");
        let with_sarif = run_in(dir.path(), &[args, &["--sarif", "run.sarif"][..]].concat());
        assert_eq!(with_sarif.status.code(), Some(code), "{args:?} --sarif");
        assert_eq!(stdout(&plain).lines().count(), stdout(&with_sarif).lines().count(), "{args:?}");
        let results = sarif_results(&dir.path().join("run.sarif"));
        assert_eq!(results.len(), usize::from(args.contains(&"leaky")), "{args:?}");
        fs::remove_file(dir.path().join("run.sarif")).unwrap();
    }
}

#[test]
fn the_action_scan_a_range_to_text_and_sarif() {
    let mut repo = Repo::new();
    let base = repo.commit("README.md", "docs\n", "start");
    let k = key("github-classic", 10);
    let head = repo.commit("deploy.sh", &format!("export GITHUB_TOKEN={k}\n"), "add deploy");
    let range = format!("{base}..{head}");
    let args = ["git", "--range", &range, "--fail-on", "any", "--color", "never", "--sarif", "leakhound.sarif", "."];
    let out = run_in(&repo.path, &args);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout(&out).contains("deploy.sh"), "{}", stdout(&out));
    let results = sarif_results(&repo.path.join("leakhound.sarif"));
    assert_eq!(results.len(), 1);
    assert_eq!(results[0]["ruleId"], "github-pat-classic");
    // A range that adds nothing: exit 0, and an empty SARIF for the upload.
    let out = run_in(&repo.path, &["git", "--range", &format!("{base}..{base}"), "--sarif", "empty.sarif", "."]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(sarif_results(&repo.path.join("empty.sarif")).is_empty());
}

#[test]
fn many_repositories_json_keeps_the_repository_apart_sarif_shows_it_in_the_path() {
    let work = tempfile::tempdir().unwrap();
    let mut repo = Repo::new();
    repo.commit(".env", &format!("OPENAI_API_KEY={}\n", key("openai-project", 11)), "configure");
    fs::write(work.path().join("repos.txt"), format!("{}\n", repo.path.display())).unwrap();
    let args = ["git", "--repos", "repos.txt", "--format", "jsonl", "--sarif", "org.sarif"];
    let out = run_in(work.path(), &args);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let line: Value = serde_json::from_str(stdout(&out).lines().next().unwrap()).unwrap();
    assert_eq!(line["path"], ".env");
    let results = sarif_results(&work.path().join("org.sarif"));
    let uri = results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].as_str().unwrap();
    assert!(uri.ends_with("/.env") && uri != ".env", "{uri}");
}
