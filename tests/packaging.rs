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
    let action = std::fs::read_to_string(format!("{root}/action.yml")).unwrap();
    assert!(action.contains("leakhound\" git --range") || action.contains("leakhound/bin/leakhound\" git --range"));
    assert!(action.contains("--format sarif") && action.contains("upload-sarif"));
    let hooks = std::fs::read_to_string(format!("{root}/.pre-commit-hooks.yaml")).unwrap();
    assert!(hooks.contains("id: leakhound") && hooks.contains("entry: leakhound staged"));
    // The subcommands they call exist.
    for args in [&["git", "--help"][..], &["staged", "--help"]] {
        common::command().args(args).assert().success();
    }
}
