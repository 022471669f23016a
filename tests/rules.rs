//! Every built-in rule proves itself on its own examples: each example
//! matches (alone and in the full set), no negative example matches.

use std::collections::BTreeSet;
use std::sync::Arc;

use leakhound::engine::selftest::check_examples;
use leakhound::rules::RuleSet;

fn builtin() -> Arc<RuleSet> {
    Arc::new(RuleSet::builtin().expect("built-in rules load"))
}

#[test]
fn builtin_rules_compile() {
    builtin().compile_all().expect("every pattern compiles");
}

#[test]
fn every_example_matches_and_no_negative_does() {
    let failures = check_examples(&builtin());
    let report: Vec<String> = failures.iter().map(|f| format!("{}: {}", f.rule_id, f.message)).collect();
    assert!(report.is_empty(), "{} example failures:\n{}", report.len(), report.join("\n"));
}

#[test]
fn every_rule_has_two_examples_of_each_kind_and_a_rotation_link() {
    for rule in builtin().rules() {
        let spec = &rule.spec;
        assert!(spec.examples.len() >= 2, "{} needs at least 2 examples", spec.id);
        assert!(spec.negative_examples.len() >= 2, "{} needs at least 2 negative examples", spec.id);
        assert!(spec.rotate_url.starts_with("https://"), "{} rotate_url must be https", spec.id);
        assert!(spec.id.starts_with(&spec.provider), "{} must start with its provider id {}", spec.id, spec.provider);
    }
}

#[test]
fn every_provider_the_issue_promises_is_covered() {
    let providers: BTreeSet<String> = builtin().rules().iter().map(|r| r.spec.provider.clone()).collect();
    for expected in [
        "openai",
        "anthropic",
        "google",
        "mistral",
        "together",
        "groq",
        "xai",
        "openrouter",
        "huggingface",
        "replicate",
        "perplexity",
        "deepseek",
        "cohere",
        "fireworks",
        "cerebras",
        "elevenlabs",
        "azure-openai",
        "aws",
        "github",
        "stripe",
        "slack",
        "private-key",
    ] {
        assert!(providers.contains(expected), "no rule for provider {expected}");
    }
}

#[test]
fn every_provider_is_listed_in_the_readme() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let section = readme.split("## What it detects").nth(1).expect("README has a `## What it detects` section");
    let section = section.split("\n## ").next().unwrap();
    let missing: BTreeSet<String> = builtin()
        .rules()
        .iter()
        .map(|r| r.spec.provider.clone())
        .filter(|p| !section.contains(&format!("| `{p}` |")))
        .collect();
    assert!(missing.is_empty(), "providers missing from the README's table: {missing:?}");
}

#[test]
fn every_check_is_in_the_readmes_verification_table() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let section = readme.split("### Checks by provider").nth(1).expect("README has a `### Checks by provider` section");
    let section = section.split("</details>").next().unwrap();
    let rules = builtin();
    let missing: Vec<&str> = rules
        .rules()
        .iter()
        .filter(|r| r.spec.verify.as_ref().is_some_and(|v| v.unavailable.is_none()))
        .map(|r| r.spec.id.as_str())
        .filter(|id| !section.contains(&format!("`{id}`")))
        .collect();
    assert!(missing.is_empty(), "checks missing from the README's verification table: {missing:?}");
}
