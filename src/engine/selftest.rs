//! Runs every rule against its own `examples` and `negative_examples`. Used by
//! the test suite for the built-in rules and by users for their own rules.
//!
//! Each example is checked twice: against the rule alone (does the pattern
//! do what its author meant?) and against the whole set (does another rule's
//! overlapping match hide it?).

use std::sync::Arc;

use crate::rules::RuleSet;

use super::Engine;

/// One example that did not behave; the message says which and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExampleFailure {
    pub rule_id: String,
    pub message: String,
}

pub fn check_examples(rules: &Arc<RuleSet>) -> Vec<ExampleFailure> {
    let whole = Engine::new(Arc::clone(rules));
    let mut failures = Vec::new();
    for rule in rules.rules() {
        let id = &rule.spec.id;
        let alone = Engine::new(Arc::new(rules.subset(|r| r.spec.id == *id)));
        let mut fail = |message: String| failures.push(ExampleFailure { rule_id: id.clone(), message });
        if rule.spec.examples.is_empty() {
            fail("has no examples".into());
        }
        for example in &rule.spec.examples {
            if alone.scan(example.as_bytes()).is_empty() {
                fail(format!("example does not match: {example:?}"));
            } else if !matched_ids(&whole, example).any(|m| m == id) {
                let others: Vec<&str> = matched_ids(&whole, example).collect();
                fail(format!("example is taken by other rules {others:?}: {example:?}"));
            }
        }
        for negative in &rule.spec.negative_examples {
            let found = alone.scan(negative.as_bytes());
            if let Some(m) = found.first() {
                let secret = String::from_utf8_lossy(&negative.as_bytes()[m.start..m.end]);
                fail(format!("negative example matches ({secret:?}): {negative:?}"));
            }
        }
    }
    failures
}

fn matched_ids<'a>(engine: &'a Engine, text: &str) -> impl Iterator<Item = &'a str> {
    engine.scan(text.as_bytes()).into_iter().map(move |m| engine.rule(m.rule).spec.id.as_str())
}
