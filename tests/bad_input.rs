//! Bad and hostile input: every class is handled without a panic or hang,
//! with a clear note, the right exit code, and every other finding kept.

mod common;

use std::fs;
use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

fn scan(dir: &Path, extra: &[&str]) -> (i32, Value, String) {
    let out = Command::cargo_bin("leakhound")
        .unwrap()
        .args(["scan", "--format", "json"])
        .args(extra)
        .arg(dir)
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    let doc = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code().unwrap_or(-1), doc, String::from_utf8_lossy(&out.stderr).into_owned())
}

fn paths(doc: &Value) -> Vec<String> {
    let mut v: Vec<String> =
        doc["findings"].as_array().unwrap().iter().map(|f| f["path"].as_str().unwrap().into()).collect();
    v.sort();
    v
}

#[test]
fn empty_nul_heavy_and_invalid_utf8_files() {
    let dir = tempfile::tempdir().unwrap();
    let k = common::key("openai-project", 1);
    fs::write(dir.path().join("empty.txt"), "").unwrap();
    fs::write(dir.path().join("nul.dat"), vec![0u8; 100_000]).unwrap();
    let mut latin1 = b"caf\xe9 = '".to_vec();
    latin1.extend_from_slice(k.as_bytes());
    latin1.extend_from_slice(b"' \xff\xfe\n");
    fs::write(dir.path().join("latin1.py"), latin1).unwrap();
    let (code, doc, _) = scan(dir.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(paths(&doc), vec!["latin1.py"]);
    assert_eq!(doc["stats"]["skipped"]["binary"], 1);
    assert_eq!(doc["stats"]["files_scanned"], 2);
}

#[test]
fn a_very_long_line_is_scanned_whole() {
    let dir = tempfile::tempdir().unwrap();
    let k = common::key("anthropic-api", 2);
    let mut line = "a=1;".repeat(2_000_000);
    line.push_str(&format!("const k=\"{k}\";"));
    line.push_str(&"b=2;".repeat(2_000_000));
    fs::write(dir.path().join("bundle.min.js"), line).unwrap();
    let (code, doc, _) = scan(dir.path(), &[]);
    assert_eq!(code, 1);
    let f = &doc["findings"][0];
    assert_eq!((f["line"].as_u64(), f["column"].as_u64()), (Some(1), Some(8_000_010)));
    assert!(f["snippet"].as_str().unwrap().len() < 200, "the snippet is cut around the key");
}

#[cfg(unix)]
#[test]
fn fifos_symlink_loops_and_links_out_of_the_tree() {
    let outside = tempfile::tempdir().unwrap();
    fs::write(outside.path().join("secret.env"), format!("K={}\n", common::key("github-classic", 3))).unwrap();
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("ok.env"), format!("K={}\n", common::key("openai-project", 4))).unwrap();
    let fifo = dir.path().join("pipe");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    std::os::unix::fs::symlink(outside.path(), dir.path().join("out")).unwrap();
    fs::create_dir(dir.path().join("loop")).unwrap();
    std::os::unix::fs::symlink(dir.path().join("loop"), dir.path().join("loop/again")).unwrap();

    // Default: links are not followed, the FIFO is never opened (no hang).
    let (code, doc, _) = scan(dir.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(paths(&doc), vec!["ok.env"]);
    assert_eq!(doc["stats"]["skipped"]["not-a-file"], 1);

    // --follow: the loop is reported, the outside file is read.
    let (code, doc, _) = scan(dir.path(), &["--follow"]);
    assert_eq!(code, 1);
    assert_eq!(paths(&doc), vec!["ok.env", "out/secret.env"]);
    assert_eq!(doc["stats"]["skipped"]["symlink-loop"], 1);
}

#[test]
fn hostile_file_names_and_content_reach_the_terminal_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let k = common::key("groq", 5);
    let name = if cfg!(unix) { "evil\x1b[31m\rname.env" } else { "evil.env" };
    fs::write(dir.path().join(name), format!("K={k} \x1b]8;;http://x\x07link\x1b]8;;\x07\r\n")).unwrap();
    let out =
        Command::cargo_bin("leakhound").unwrap().args(["scan", "--color", "never"]).arg(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains('\x1b') && !text.contains('\x07') && !text.contains('\r'), "{text:?}");
    // JSON keeps the exact name, escaped by the JSON encoder.
    let (_, doc, _) = scan(dir.path(), &[]);
    assert_eq!(doc["findings"][0]["path"], name);
}

#[test]
fn a_huge_custom_regex_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join(".leakhound.toml"),
        "[[rule]]\nid = \"huge-rule\"\nprovider = \"x\"\nname = \"n\"\npattern = '''(?:[a-z]{1000}){1000}'''\n\
         keywords = [\"x\"]\nrotate_url = \"https://x\"\n",
    )
    .unwrap();
    let (code, _, stderr) = scan(dir.path(), &[]);
    assert_eq!(code, 2);
    assert!(stderr.contains("huge-rule") && stderr.contains("size limit"), "{stderr}");
}
