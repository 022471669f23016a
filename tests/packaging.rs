//! What integrations rely on: shell completions, the man page, the GitHub
//! Action and the pre-commit framework hook definition.

use crate::common;

#[test]
fn completions_for_bash_zsh_and_fish_name_every_subcommand() {
    for shell in ["bash", "zsh", "fish"] {
        let out = common::command().args(["completions", shell]).output().unwrap();
        assert!(out.status.success(), "{shell}");
        let text = String::from_utf8(out.stdout).unwrap();
        for word in ["scan", "git", "staged", "baseline", "verify-timeout", "fail-on"] {
            assert!(text.contains(word), "{shell} completions lack {word}");
        }
    }
}

#[test]
fn man_page_renders() {
    let out = common::command().arg("man").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with(".ie") && text.contains(".TH leakhound 1"));
    let out = common::command().args(["man", "git"]).output().unwrap();
    assert!(String::from_utf8(out.stdout).unwrap().contains(".TH leakhound-git 1"));
    common::command().args(["man", "nope"]).assert().code(2);
}

#[test]
fn the_action_and_the_pre_commit_hook_call_real_commands() {
    let root = env!("CARGO_MANIFEST_DIR");
    let read = |path: &str| std::fs::read_to_string(format!("{root}/{path}")).unwrap();
    // The action downloads (action/install.sh), then one scan writes the
    // text to the log and SARIF for the upload (action/scan.sh).
    let action = read("action.yml");
    assert!(action.contains("action/install.sh") && action.contains("action/scan.sh"));
    assert!(action.contains("github.action_ref") && action.contains("upload-sarif"));
    assert!(action.contains("cargo install --locked") && action.contains("actions/cache@"));
    let scan = read("action/scan.sh");
    assert!(scan.contains("\"$LEAKHOUND\" git --range") && scan.contains("--sarif"));
    let hooks = read(".pre-commit-hooks.yaml");
    assert!(hooks.contains("id: leakhound") && hooks.contains("entry: leakhound staged"));
    assert!(hooks.contains("language: python"), "pre-commit installs the wheel pyproject.toml builds");
    let pyproject = read("pyproject.toml");
    assert!(pyproject.contains("bindings = \"bin\"") && pyproject.contains("build-backend = \"maturin\""));
    // The subcommands and flags they call exist.
    for args in [&["git", "--help"][..], &["staged", "--help"]] {
        common::command().args(args).assert().success();
    }
    let help = common::command().args(["git", "--help"]).output().unwrap();
    assert!(String::from_utf8_lossy(&help.stdout).contains("--sarif <FILE>"));
}
