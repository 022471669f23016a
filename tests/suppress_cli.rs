//! Adopting leakhound on an existing codebase: baselines, inline allow
//! comments, `.leakhound.toml` (allow_paths, disabled and custom rules,
//! errors with line numbers) and `rules check`.

use crate::common;

use std::fs;
use std::path::Path;

use serde_json::Value;

use crate::common::key;

use crate::common::command as leakhound;

fn scan(dir: &Path, extra: &[&str]) -> (i32, Value, String) {
    let out = leakhound().args(["scan", "--format", "json"]).args(extra).arg(dir).output().unwrap();
    let doc = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code().unwrap(), doc, String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn baseline_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("tree");
    fs::create_dir(&tree).unwrap();
    fs::write(tree.join("old.env"), format!("A={}\nB={}\n", key("openai-project", 1), key("github-classic", 2)))
        .unwrap();
    let baseline = dir.path().join("baseline.json");
    leakhound().args(["baseline", "create", "-o"]).arg(&baseline).arg(&tree).assert().code(0);
    let stored = fs::read_to_string(&baseline).unwrap();
    assert!(!stored.contains(&key("openai-project", 1)[10..]), "the baseline holds a secret");
    assert_eq!(serde_json::from_str::<Value>(&stored).unwrap()["entries"].as_array().unwrap().len(), 2);

    let b = baseline.display().to_string();
    let (code, doc, _) = scan(&tree, &["--baseline", &b]);
    assert_eq!(code, 0);
    assert_eq!(doc["findings"], serde_json::json!([]));
    assert_eq!(doc["stats"]["suppressed"], 2);
    assert_eq!(doc["stats"]["suppressed_by"]["baseline"], 2);

    // A new key still fails the run; the old ones stay quiet, even moved down.
    let text = fs::read_to_string(tree.join("old.env")).unwrap();
    fs::write(tree.join("old.env"), format!("# moved\n{text}")).unwrap();
    fs::write(tree.join("new.py"), format!("K = '{}'\n", key("anthropic-api", 3))).unwrap();
    let (code, doc, _) = scan(&tree, &["--baseline", &b]);
    assert_eq!(code, 1);
    let findings = doc["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0]["path"], "new.py");

    // --show-suppressed lists the others with the reason.
    let (_, doc, _) = scan(&tree, &["--baseline", &b, "--show-suppressed"]);
    let suppressed = doc["suppressed"].as_array().unwrap();
    assert_eq!(suppressed.len(), 2);
    assert!(suppressed.iter().all(|f| f["suppressed_by"] == "baseline"));
}

#[test]
fn inline_allow_comments_in_five_syntaxes() {
    let dir = tempfile::tempdir().unwrap();
    let files = [
        ("a.py", format!("K = '{}'  # leakhound:allow\n", key("openai-project", 4))),
        ("b.js", format!("const k = '{}'; // leakhound:allow openai-project-key\n", key("openai-project", 5))),
        ("c.sql", format!("SELECT '{}'; -- leakhound:allow\n", key("openai-project", 6))),
        ("d.html", format!("<p>{}</p> <!-- leakhound:allow -->\n", key("openai-project", 7))),
        ("e.c", format!("char *k = \"{}\"; /* leakhound:allow */\n", key("openai-project", 8))),
        // Allowing another rule does not allow this one.
        ("f.rb", format!("k = '{}' # leakhound:allow github-pat-classic\n", key("openai-project", 9))),
    ];
    for (name, text) in &files {
        fs::write(dir.path().join(name), text).unwrap();
    }
    let (code, doc, _) = scan(dir.path(), &[]);
    assert_eq!(code, 1);
    let paths: Vec<&str> = doc["findings"].as_array().unwrap().iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert_eq!(paths, vec!["f.rb"]);
    assert_eq!(doc["stats"]["suppressed_by"]["inline-allow"], 5);
}

#[test]
fn config_allow_paths_disable_rules_and_custom_rules() {
    let dir = tempfile::tempdir().unwrap();
    let custom =
        format!("acme_{}", common::Rng::new(1).mixed(b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789", 32));
    fs::write(
        dir.path().join(".leakhound.toml"),
        format!(
            r#"allow_paths = ["tests/fixtures/**"]
disable_rules = ["github-pat-classic"]

[[rule]]
id = "acme-token"
provider = "acme"
name = "ACME internal token"
pattern = '''(?:^|[^A-Za-z0-9_])(?P<secret>acme_[A-Za-z0-9]{{32}})(?:[^A-Za-z0-9_]|$)'''
keywords = ["acme_"]
min_entropy = 3.0
rotate_url = "https://acme.example/tokens"
examples = ["ACME_TOKEN={custom}"]  # leakhound:allow (a rule's own example)
negative_examples = ["ACME_TOKEN=acme_short"]
"#
        ),
    )
    .unwrap();
    fs::create_dir_all(dir.path().join("tests/fixtures")).unwrap();
    fs::write(dir.path().join("tests/fixtures/keys.env"), format!("K={}\n", key("openai-project", 10))).unwrap();
    fs::write(dir.path().join("ci.env"), format!("GH={}\nACME={custom}\n", key("github-classic", 11))).unwrap();
    let (code, doc, stderr) = scan(dir.path(), &[]);
    assert_eq!(code, 1, "{stderr}");
    let rules: Vec<&str> = doc["findings"].as_array().unwrap().iter().map(|f| f["rule_id"].as_str().unwrap()).collect();
    assert_eq!(rules, vec!["acme-token"]);
    assert_eq!(doc["stats"]["suppressed_by"]["allow-paths"], 1);
    assert_eq!(doc["stats"]["suppressed_by"]["inline-allow"], 1);

    leakhound().args(["rules", "check"]).arg(dir.path().join(".leakhound.toml")).assert().code(0);
}

#[test]
fn config_errors_name_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join(".leakhound.toml"), "allow_paths = []\n\nmax_file_sise = \"1M\"\n").unwrap();
    let (code, _, stderr) = scan(dir.path(), &[]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains(".leakhound.toml") && stderr.contains("line 3") && stderr.contains("max_file_sise"),
        "{stderr}"
    );

    fs::write(
        dir.path().join(".leakhound.toml"),
        "[[rule]]\nid = \"bad-rule\"\nprovider = \"x\"\nname = \"n\"\npattern = '''(unclosed'''\nkeywords = [\"x\"]\nrotate_url = \"https://x\"\n",
    )
    .unwrap();
    let (code, _, stderr) = scan(dir.path(), &[]);
    assert_eq!(code, 2);
    assert!(stderr.contains("bad-rule") && stderr.contains("invalid pattern"), "{stderr}");
    assert!(stderr.contains("the rule at line 2"), "the error points at the rule: {stderr}");
}

#[test]
fn rules_check_reports_failing_examples() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("rules.toml");
    fs::write(
        &file,
        "[[rule]]\nid = \"acme-token\"\nprovider = \"acme\"\nname = \"n\"\npattern = '''(?P<secret>acme_[a-z]{8})'''\n\
         keywords = [\"acme_\"]\nrotate_url = \"https://x\"\nexamples = [\"acme_TOOSHORT\"]\n",
    )
    .unwrap();
    let out = leakhound().args(["rules", "check"]).arg(&file).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("example does not match"));
}
