//! Output that tells the risk, at any scale: a history's text report has one
//! bounded block per key however far the key spread; a value public by
//! design is reported low (and raised when verification says it can spend
//! money); an inline allow covers a key found only once decoded; a tree
//! scan counts what ignore files kept out; the pre-commit hook is silent on
//! success.

use std::collections::BTreeSet;
use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::common;
use crate::common::mock::{Mock, Reply, Request};
use crate::common::repo::Repo;

fn run(dir: &Path, args: &[&str]) -> (i32, Value, String, String) {
    let out = common::run_in(dir, args);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let doc = serde_json::from_str(&stdout).unwrap_or(Value::Null);
    (out.status.code().unwrap_or(-1), doc, stdout, String::from_utf8_lossy(&out.stderr).into_owned())
}

/// A history through `git fast-import` (thousands of commits and refs in a
/// second): `spread` on one path through `commits` commits, then copied to
/// `paths` paths by the last commit; `tags` tags on commits along the way.
fn spread_history(dir: &Path, spread: &str, commits: usize, paths: usize, tags: usize) {
    assert!(Command::new("git").args(["init", "-q", "-b", "main"]).current_dir(dir).status().unwrap().success());
    let mut stream = String::new();
    let data = |s: &mut String, text: &str| s.push_str(&format!("data {}\n{text}\n", text.len()));
    for n in 1..=commits {
        let who = if n % 2 == 0 { "Ana Dev <ana@example.com>" } else { "Bo Ops <bo@example.com>" };
        let t = 1_700_000_000 + n * 60;
        stream.push_str(&format!(
            "commit refs/heads/main\nmark :{n}\nauthor {who} {t} +0000\ncommitter {who} {t} +0000\n"
        ));
        data(&mut stream, &format!("change {n}"));
        if n > 1 {
            stream.push_str(&format!("from :{}\n", n - 1));
        }
        stream.push_str("M 100644 inline counter.txt\n");
        data(&mut stream, &format!("{n}\n"));
        if n == 1 {
            stream.push_str("M 100644 inline config/app.env\n");
            data(&mut stream, &format!("OPENAI_API_KEY={spread}\n"));
        }
        if n == commits {
            for p in 0..paths {
                stream.push_str(&format!("M 100644 inline services/svc{p:05}/settings/production.env\n"));
                data(&mut stream, &format!("# service {p}\nOPENAI_API_KEY={spread}\n"));
            }
        }
        stream.push('\n');
    }
    for t in 0..tags {
        stream.push_str(&format!("reset refs/tags/v{}.{}.0\nfrom :{}\n\n", t / 100, t % 100, 1 + t * 7 % commits));
    }
    let mut import =
        Command::new("git").args(["fast-import", "--quiet"]).current_dir(dir).stdin(Stdio::piped()).spawn().unwrap();
    import.stdin.take().unwrap().write_all(stream.as_bytes()).unwrap();
    assert!(import.wait().unwrap().success());
    assert!(Command::new("git").args(["checkout", "-q", "main"]).current_dir(dir).status().unwrap().success());
}

#[test]
fn a_key_in_thousands_of_commits_paths_and_refs_is_one_bounded_text_block() {
    let dir = tempfile::tempdir().unwrap();
    let spread = common::key("openai-project", 301);
    spread_history(dir.path(), &spread, 2000, 1500, 1200);
    // A second key, once, so the summary counts two.
    let mut f = fs::OpenOptions::new().append(true).open(dir.path().join("counter.txt")).unwrap();
    writeln!(f, "GITHUB_TOKEN={}", common::key("github-classic", 302)).unwrap();
    let git =
        |args: &[&str]| assert!(Command::new("git").args(args).current_dir(dir.path()).status().unwrap().success());
    git(&["-c", "user.name=Dev", "-c", "user.email=dev@example.com", "commit", "-qam", "token"]);

    let (code, doc, _, stderr) = run(dir.path(), &["git", "--format", "json", "."]);
    assert_eq!(code, 1, "{stderr}");
    let findings = doc["findings"].as_array().unwrap();
    let keys: BTreeSet<&str> = findings.iter().map(|f| f["secret_sha256"].as_str().unwrap()).collect();
    assert_eq!((findings.len(), keys.len()), (1502, 2), "one finding per (key, path); JSON keeps them all");
    assert_eq!(doc["stats"]["unique_keys"], 2);
    let app = common::finding_at(&doc, "config/app.env");
    assert_eq!((app["commit_count"].as_u64(), app["key_commit_count"].as_u64()), (Some(2001), Some(2001)));
    assert_eq!(app["branches"].as_array().unwrap().len(), 1201);

    let (_, _, text, _) = run(dir.path(), &["git", "--color", "never", "."]);
    let summary = text.lines().last().unwrap();
    assert!(summary.starts_with("1502 findings of 2 unique keys"), "{summary}");
    let block = text.split("\n\n").find(|b| b.contains("sk-proj-")).unwrap();
    assert!(block.len() < 2048, "{} bytes:\n{block}", block.len());
    assert!(text.len() < 2 * 2048 + 512, "{} bytes of text for 2 keys:\n{text}", text.len());
    for expected in [
        "at config/app.env:1",
        "and 1498 more paths",
        "introduced 2023-11-14T22:14:20Z in ",
        "STILL IN HEAD at 1501 of 1501 paths · in 2001 commits · in 1201 refs: refs/heads/main, refs/tags/v0.0.0",
        "and 1198 more",
        "rotate: https://platform.openai.com/api-keys",
    ] {
        assert!(block.contains(expected), "{expected:?} not in:\n{block}");
    }
    assert!(!text.contains(&spread), "masked");
}

/// Plays the Gemini models list: 200 for `live`, the referrer block for
/// any other key.
fn gemini(live: &str) -> Mock {
    let live = live.to_string();
    Mock::start(move |req: &Request| match req.header("x-goog-api-key") {
        Some(k) if k == live && req.path == "/google/v1beta/models" => Reply::new(200, r#"{"models":[]}"#),
        _ => Reply::new(
            403,
            r#"{"error":{"code":403,"status":"PERMISSION_DENIED","details":[{"reason":"API_KEY_HTTP_REFERRER_BLOCKED"}]}}"#,
        ),
    })
}

#[test]
fn a_firebase_web_config_key_is_low_unless_it_can_call_gemini() {
    let dir = tempfile::tempdir().unwrap();
    let (web, open) = (common::key("google", 311), common::key("google", 312));
    let config = |key: &str| {
        format!("const firebaseConfig = {{\n  apiKey: \"{key}\",\n  authDomain: \"acme.firebaseapp.com\",\n}};\n")
    };
    fs::write(dir.path().join("web.js"), config(&web)).unwrap();
    let (code, doc, _, stderr) = run(dir.path(), &["scan", "--format", "json", "."]);
    assert_eq!(code, 0, "a low public value does not fail the default --fail-on: {stderr}");
    let f = common::finding_at(&doc, "web.js");
    assert_eq!((f["severity"].as_str(), f["public_by_design"].as_bool()), (Some("low"), Some(true)));
    assert_eq!(f["severity_reason"], "public by design: Firebase web config; restrict it by HTTP referrer and API");
    assert_eq!(run(dir.path(), &["scan", "--fail-on", "warning", "."]).0, 1);

    // A second config whose key lists Gemini models: critical, to rotate.
    fs::write(dir.path().join("open.js"), config(&open)).unwrap();
    let mock = gemini(&open);
    let endpoint = format!("google={}", mock.url("/google"));
    let verify = ["scan", "--verify", "--verify-endpoint", &endpoint, "--color", "never"];
    let (code, doc, _, stderr) = run(dir.path(), &[&verify[..], &["--format", "json", "."]].concat());
    assert_eq!(code, 1, "{stderr}");
    let raised = common::finding_at(&doc, "open.js");
    assert_eq!(raised["severity"], "critical");
    assert!(raised["severity_reason"].as_str().unwrap().contains("can call the Gemini API"), "{raised:#}");
    let restricted = common::finding_at(&doc, "web.js");
    assert_eq!(
        (restricted["severity"].as_str(), restricted["verification"]["qualifier"].as_str()),
        (Some("low"), Some("restricted"))
    );
    let (_, _, text, _) = run(dir.path(), &[&verify[..], &["."]].concat());
    let rotate = text.split("Rotate now").nth(1).unwrap().split("\n\n").next().unwrap();
    assert!(rotate.contains("at open.js:2") && !rotate.contains("web.js"), "only the raised key is to rotate:\n{text}");
    assert!(text.contains("low: public by design"), "{text}");
}

#[test]
fn an_allow_comment_covers_a_key_found_only_once_decoded() {
    let dir = tempfile::tempdir().unwrap();
    let token = common::key("github-classic", 321);
    let auth = base64(&format!("octocat:{token}"));
    let docker = |tail: &str| format!("{{\"auths\": {{\"ghcr.io\": {{\"auth\": \"{auth}\"}}}}}}{tail}\n");
    fs::write(dir.path().join("config.json"), docker("")).unwrap();
    let (code, doc, _, _) = run(dir.path(), &["scan", "--format", "json", "."]);
    assert_eq!(code, 1);
    assert_eq!(common::finding_at(&doc, "config.json")["decoded"][0], "base64");

    fs::write(dir.path().join("config.json"), docker(" // leakhound:allow (a sample)")).unwrap();
    let (code, doc, _, stderr) = run(dir.path(), &["scan", "--format", "json", "."]);
    assert_eq!((code, doc["stats"]["suppressed_by"]["inline-allow"].as_u64()), (0, Some(1)), "{stderr}");
    // gitleaks' marker too, on the line of a JSON-escaped key.
    let escaped = token.replacen("ghp_", "ghp\\u005f", 1);
    fs::write(dir.path().join("config.json"), format!("{{\"token\": \"{escaped}\"}} # gitleaks:allow\n")).unwrap();
    let (code, doc, _, _) = run(dir.path(), &["scan", "--format", "json", "--show-suppressed", "."]);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(doc["suppressed"][0]["decoded"][0], "json-string");
}

fn base64(text: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in text.as_bytes().chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, &b)| n | (b as u32) << (16 - 8 * i));
        for i in 0..4 {
            out.push(if i <= chunk.len() { ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char } else { '=' });
        }
    }
    out
}

#[test]
fn the_summary_counts_what_ignore_files_kept_out() {
    let repo = Repo::new();
    repo.write(".gitignore", "node_modules/\n*.log\n");
    repo.write(".ignore", "build/\n");
    repo.write("src/main.py", "print('hi')\n");
    repo.write("debug.log", "x\n");
    repo.write("sub/trace.log", "x\n");
    repo.write("node_modules/lib/index.js", "x\n");
    repo.write("build/out.txt", "x\n");
    let dir = repo.path.clone();
    let (code, doc, _, _) = run(&dir, &["scan", "--format", "json", "."]);
    assert_eq!(code, 0);
    assert_eq!(doc["stats"]["excluded_by_ignore_files"], serde_json::json!({"files": 2, "directories": 2}));
    let (_, _, text, _) = run(&dir, &["scan", "--color", "never", "."]);
    assert!(text.contains("· 2 files and 2 directories excluded by ignore files (--no-ignore to scan them)"), "{text}");
    let (_, doc, _, _) = run(&dir, &["scan", "--no-ignore", "--format", "json", "."]);
    assert!(doc["stats"].get("excluded_by_ignore_files").is_none(), "{doc:#}");
    assert_eq!(doc["stats"]["files_scanned"], 7);
}

#[test]
fn the_pre_commit_hook_is_silent_on_success() {
    let mut repo = Repo::new();
    repo.commit("README.md", "hello\n", "first");
    repo.write("app.py", "print('clean')\n");
    repo.git(&["add", "app.py"]);
    let dir = repo.path.clone();
    let (code, _, stdout, stderr) = run(&dir, &["staged"]);
    assert_eq!((code, stdout.as_str(), stderr.as_str()), (0, "", ""));
    // A machine format still says what it scanned.
    assert_eq!(run(&dir, &["staged", "--format", "json"]).1["stats"]["files_scanned"], 1);
    repo.write("app.py", &format!("KEY = '{}'\n", common::key("openai-project", 331)));
    repo.git(&["add", "app.py"]);
    let (code, _, stdout, stderr) = run(&dir, &["staged", "--color", "never"]);
    assert_eq!(code, 1);
    assert!(stdout.contains("app.py") && stdout.contains("1 finding"), "{stdout}");
    assert!(stderr.contains("this commit would add"), "{stderr}");
}
