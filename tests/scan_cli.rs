//! End-to-end tests of `leakhound scan` through the binary: a fixture tree
//! with every provider's key planted in realistic files plus decoys, exact
//! findings, exit codes, redaction, stdin and the inputs it must skip.

use crate::common;

use std::fs;
use std::path::Path;

use serde_json::Value;

use crate::common::{Planted, expected_rule, render_tree};

use crate::common::command as leakhound;

/// Renders `fixtures/tree` into a temp dir.
fn fixture_tree() -> (tempfile::TempDir, Vec<Planted>) {
    let dir = tempfile::tempdir().unwrap();
    let planted = render_tree(&Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/tree"), dir.path());
    (dir, planted)
}

fn scan_json(args: &[&str], dir: &Path) -> (i32, Value) {
    let out = leakhound().arg("scan").args(args).args(["--format", "json"]).arg(dir).output().unwrap();
    let code = out.status.code().unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("bad JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)));
    (code, doc)
}

type Row = (String, usize, usize, String, String);

fn rows(doc: &Value) -> Vec<Row> {
    let mut rows: Vec<Row> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap() as usize,
                f["column"].as_u64().unwrap() as usize,
                f["rule_id"].as_str().unwrap().to_string(),
                f["secret"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    // The public half of a two-part credential is named by its secret's finding.
    for f in doc["findings"].as_array().unwrap() {
        if let Some(value) = f["companion"]["value"].as_str() {
            rows.push((f["path"].as_str().unwrap().to_string(), 0, 0, "companion".into(), value.to_string()));
        }
    }
    rows.sort();
    rows
}

/// Planted keys that are a two-part credential's public half, with its
/// secret in the same file (the AWS access key id of `scripts/deploy.sh`).
fn is_companion(p: &common::Planted) -> bool {
    p.format == "aws-id"
}

#[test]
fn finds_every_planted_key_exactly_and_no_decoy() {
    let (dir, planted) = fixture_tree();
    let (code, doc) = scan_json(&["--show-secrets"], dir.path());
    let mut expected: Vec<Row> = planted
        .iter()
        .map(|p| match is_companion(p) {
            true => (p.path.clone(), 0, 0, "companion".to_string(), p.key.clone()),
            false => (p.path.clone(), p.line, p.column, expected_rule(&p.format).to_string(), p.key.clone()),
        })
        .collect();
    expected.sort();
    let got = rows(&doc);
    // web/main.js opts the SDK into the browser: one warning besides the keys.
    let warnings: Vec<&Row> = got.iter().filter(|r| r.3 == "generic-browser-sdk-opt-in").collect();
    assert_eq!(warnings.len(), 1, "{got:#?}");
    assert_eq!((warnings[0].0.as_str(), warnings[0].1), ("web/main.js", 1));
    let got: Vec<Row> = got.iter().filter(|r| r.3 != "generic-browser-sdk-opt-in").cloned().collect();
    let missing: Vec<_> = expected.iter().filter(|e| !got.contains(e)).collect();
    let extra: Vec<_> = got.iter().filter(|g| !expected.contains(g)).collect();
    assert!(missing.is_empty() && extra.is_empty(), "missing: {missing:#?}\nextra: {extra:#?}");
    assert_eq!(code, 1);
    assert!(planted.len() >= 33, "the fixture plants every format");
}

#[test]
fn json_finding_has_the_contract_fields() {
    let (dir, planted) = fixture_tree();
    let (_, doc) = scan_json(&[], dir.path());
    let p = planted.iter().find(|p| p.format == "openai-project").unwrap();
    let f = doc["findings"].as_array().unwrap().iter().find(|f| f["rule_id"] == "openai-project-key").unwrap();
    assert_eq!(f["provider"], "openai");
    assert_eq!(f["kind"], "api-key");
    assert_eq!(f["path"], ".env");
    assert_eq!(f["line"], 3);
    assert_eq!(f["column"], 16);
    assert_eq!(f["client_side"], false);
    assert_eq!(f["severity"], "high");
    assert_eq!(f["rotate_url"], "https://platform.openai.com/api-keys");
    let masked = format!("sk-proj-...{}", &p.key[p.key.len() - 4..]);
    assert_eq!(f["secret"], masked.as_str());
    assert_eq!(f["snippet"], format!("OPENAI_API_KEY={masked}").as_str());
    assert_eq!(f["fingerprint"].as_str().unwrap().len(), 64);
    assert_eq!(f["secret_sha256"].as_str().unwrap().len(), 64);
    let stats = &doc["stats"];
    let companions = planted.iter().filter(|p| is_companion(p)).count();
    assert_eq!(stats["findings"].as_u64().unwrap() as usize, planted.len() - companions + 1, "keys plus one warning");
    assert_eq!(stats["errors"], 0);
}

#[test]
fn no_output_format_leaks_a_secret_without_show_secrets() {
    let (dir, planted) = fixture_tree();
    for format in ["text", "json", "jsonl"] {
        let out = leakhound().args(["scan", "--format", format]).arg(dir.path()).output().unwrap();
        assert_eq!(out.status.code(), Some(1));
        let text = String::from_utf8_lossy(&out.stdout);
        for p in &planted {
            // The middle of every key must be absent.
            let middle = &p.key[p.key.len() / 2 - 6..p.key.len() / 2 + 6];
            assert!(!text.contains(middle), "{format} output leaks {} key", p.format);
        }
    }
}

#[test]
fn fingerprints_are_stable_across_runs_and_line_moves() {
    let (dir, _) = fixture_tree();
    let fingerprints = |dir: &Path| -> Vec<String> {
        let (_, doc) = scan_json(&[], dir);
        let mut v: Vec<String> =
            doc["findings"].as_array().unwrap().iter().map(|f| f["fingerprint"].as_str().unwrap().into()).collect();
        v.sort();
        v
    };
    let before = fingerprints(dir.path());
    assert_eq!(before, fingerprints(dir.path()));
    let env = dir.path().join(".env");
    let text = fs::read_to_string(&env).unwrap();
    fs::write(&env, format!("# moved down\n\n{text}")).unwrap();
    assert_eq!(before, fingerprints(dir.path()));
}

#[test]
fn clean_tree_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("main.rs"), "fn main() { println!(\"hi\"); }\n").unwrap();
    let (code, doc) = scan_json(&[], dir.path());
    assert_eq!(code, 0);
    assert_eq!(doc["findings"].as_array().unwrap().len(), 0);
    assert_eq!(doc["stats"]["files_scanned"], 1);
}

#[test]
fn decoys_alone_are_clean() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/tree/decoys");
    let (code, doc) = scan_json(&[], &dir);
    assert_eq!(doc["findings"], Value::Array(vec![]), "decoys reported");
    assert_eq!(code, 0);
}

#[test]
fn stdin_is_scanned_as_dash() {
    let key = common::key("anthropic-api", 7);
    let out = leakhound()
        .args(["scan", "-", "--format", "jsonl", "--show-secrets"])
        .write_stdin(format!("hello\nANTHROPIC_API_KEY={key}\n"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let line: Value = serde_json::from_slice(out.stdout.split(|&b| b == b'\n').next().unwrap()).unwrap();
    assert_eq!(line["path"], "-");
    assert_eq!(line["line"], 2);
    assert_eq!(line["column"], 19);
    assert_eq!(line["secret"], key.as_str());
    assert_eq!(line["rule_id"], "anthropic-api-key");
}

#[test]
fn binaries_are_scanned_and_oversize_files_read_in_parts() {
    let dir = tempfile::tempdir().unwrap();
    let key = common::key("openai-project", 1);
    let mut binary = b"\x7fELF\x00\x00\x01".to_vec();
    binary.extend_from_slice(key.as_bytes());
    fs::write(dir.path().join("app.bin"), binary).unwrap();
    fs::write(dir.path().join("big.txt"), format!("{}\n{key}\n", "a".repeat(2048))).unwrap();
    fs::write(dir.path().join("ok.env"), format!("K={key}\n")).unwrap();
    let (code, doc) = scan_json(&["--max-file-size", "1K"], dir.path());
    assert_eq!(code, 1);
    let findings = doc["findings"].as_array().unwrap();
    let places: Vec<(&str, u64)> =
        findings.iter().map(|f| (f["path"].as_str().unwrap(), f["line"].as_u64().unwrap())).collect();
    assert_eq!(places, vec![("app.bin", 1), ("big.txt", 2), ("ok.env", 1)]);
    assert_eq!(findings[0]["column"], 8, "a binary's column counts bytes");
    assert_eq!(doc["stats"]["skipped"], serde_json::json!({}));
    assert_eq!(doc["stats"]["files_scanned"], 3);
    assert!(doc["notes"][0].as_str().unwrap().starts_with("big.txt: larger than --max-file-size"), "{}", doc["notes"]);
}

#[cfg(unix)]
#[test]
fn unreadable_file_is_reported_and_exit_is_2_with_findings_kept() {
    use std::os::unix::fs::PermissionsExt;
    if unsafe_is_root() {
        // root reads anything: make the file unreadable another way (a
        // dangling directory entry is not possible), so exercise a path
        // that vanishes instead.
        let dir = tempfile::tempdir().unwrap();
        let key = common::key("openai-project", 2);
        fs::write(dir.path().join("a.env"), format!("K={key}\n")).unwrap();
        let out = leakhound()
            .args(["scan", "--format", "json"])
            .arg(dir.path())
            .arg(dir.path().join("does-not-exist.txt"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(doc["findings"].as_array().unwrap().len(), 1);
        assert_eq!(doc["stats"]["errors"], 1);
        assert_eq!(doc["skipped"][0]["reason"], "unreadable");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("secret.env");
    fs::write(&secret, "nothing").unwrap();
    fs::set_permissions(&secret, fs::Permissions::from_mode(0o000)).unwrap();
    let key = common::key("openai-project", 2);
    fs::write(dir.path().join("a.env"), format!("K={key}\n")).unwrap();
    let (code, doc) = scan_json(&[], dir.path());
    assert_eq!(code, 2);
    assert_eq!(doc["findings"].as_array().unwrap().len(), 1);
    assert_eq!(doc["skipped"][0]["path"], "secret.env");
    assert_eq!(doc["skipped"][0]["reason"], "unreadable");
}

fn unsafe_is_root() -> bool {
    std::process::Command::new("id").arg("-u").output().map(|o| o.stdout.starts_with(b"0")).unwrap_or(false)
}

#[test]
fn gitignore_is_honoured_unless_no_ignore_and_git_dir_never_scanned() {
    let dir = tempfile::tempdir().unwrap();
    let key = common::key("github-classic", 3);
    fs::write(dir.path().join(".gitignore"), "build/\n").unwrap();
    fs::create_dir_all(dir.path().join("build")).unwrap();
    fs::write(dir.path().join("build/out.js"), format!("t='{key}'\n")).unwrap();
    fs::create_dir_all(dir.path().join(".git")).unwrap();
    fs::write(dir.path().join(".git/config"), format!("token = {key}\n")).unwrap();
    let (code, doc) = scan_json(&[], dir.path());
    assert_eq!((code, doc["findings"].as_array().unwrap().len()), (0, 0));
    let (code, doc) = scan_json(&["--no-ignore"], dir.path());
    assert_eq!(code, 1);
    let paths: Vec<&str> = doc["findings"].as_array().unwrap().iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert_eq!(paths, vec!["build/out.js"]);
}

#[test]
fn text_output_groups_by_file_strips_control_characters_and_summarises() {
    let dir = tempfile::tempdir().unwrap();
    let key = common::key("groq", 4);
    fs::write(dir.path().join("evil.py"), format!("k = '{key}' # \x1b]0;owned\x07\x1b[2J\n")).unwrap();
    let out = leakhound().args(["scan", "--color", "never"]).arg(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains('\x1b') && !text.contains('\x07'), "raw control characters in: {text:?}");
    assert!(text.contains("\\x1b]0;owned\\x07"), "{text}");
    assert!(text.starts_with("evil.py\n  1:6  high  groq-api-key  gsk_..."), "{text}");
    assert!(text.contains("1 finding (1 high) in 1 file · scanned 1 file"), "{text}");
}

#[test]
fn rules_list_names_every_rule() {
    let out = leakhound().args(["rules", "list", "--format", "json"]).output().unwrap();
    assert!(out.status.success());
    let ids: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["id"].as_str().unwrap().to_string())
        .collect();
    assert!(ids.contains(&"openai-project-key".to_string()));
    assert!(ids.contains(&"anthropic-api-key".to_string()));
    assert!(ids.len() >= 40);
}

#[test]
fn usage_errors_exit_2() {
    leakhound().args(["scan", "--format", "xml"]).assert().code(2);
    leakhound().args(["scan", "--max-file-size", "huge"]).assert().code(2);
}
