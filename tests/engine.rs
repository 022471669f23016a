//! Engine behaviour on small, hand-made rule sets: windows, boundaries,
//! context rules, overlaps and filters, independent of the shipped rules.

use std::sync::Arc;

use leakhound::engine::{Engine, LineIndex};
use leakhound::rules::RuleSet;

const RULES: &str = r#"
[[rule]]
id = "demo-key"
provider = "demo"
name = "Demo key"
pattern = '''(?:^|[^A-Za-z0-9_-])(?P<secret>dk-[A-Za-z0-9]{24})(?:[^A-Za-z0-9_-]|$)'''
keywords = ["dk-"]
min_entropy = 3.0
rotate_url = "https://example.invalid/rotate"

[[rule]]
id = "demo-long-key"
provider = "demo"
name = "Demo long key"
pattern = '''(?:^|[^A-Za-z0-9_-])(?P<secret>dk-long-[A-Za-z0-9]{30,2000})(?:[^A-Za-z0-9_-]|$)'''
keywords = ["dk-long-"]
rotate_url = "https://example.invalid/rotate"

[[rule]]
id = "demo-context"
provider = "demo"
name = "Demo context key"
pattern = '''(?:^|[^A-Za-z0-9])(?P<secret>[A-Za-z0-9]{32})(?:[^A-Za-z0-9]|$)'''
keywords = ["demo", "DEMO"]
context = { within = 40 }
min_entropy = 3.5
rotate_url = "https://example.invalid/rotate"
"#;

fn engine() -> Engine {
    let mut rules = RuleSet::default();
    rules.add_toml("inline", RULES).unwrap();
    rules.compile_all().unwrap();
    Engine::new(Arc::new(rules))
}

/// (rule id, secret) pairs found in `text`.
fn found(engine: &Engine, text: &str) -> Vec<(String, String)> {
    engine
        .scan(text.as_bytes())
        .iter()
        .map(|m| (engine.rule(m.rule).spec.id.clone(), text[m.start..m.end].to_string()))
        .collect()
}

const K1: &str = "dk-q8Zr2LmW4xT9vB7nK3pJ6hYc";
const K2: &str = "dk-T5gH1sD8fR3eW6qZ0xC4vB2n";
const CTX: &str = "h7Kq2Vn9Lr4Tz8Wc1Xm6Pb3Yd5Fs0Gj2";

#[test]
fn finds_a_key_with_line_and_column() {
    let e = engine();
    let text = format!("line one\n  TOKEN = \"{K1}\"\n");
    let matches = e.scan(text.as_bytes());
    assert_eq!(matches.len(), 1);
    let mut lines = LineIndex::new(text.as_bytes());
    assert_eq!(lines.locate(matches[0].start), (2, 12));
}

#[test]
fn keys_at_buffer_edges_and_adjacent_keys() {
    let e = engine();
    assert_eq!(found(&e, K1), vec![("demo-key".into(), K1.into())]);
    // Two keys separated by one byte: the shared boundary byte must serve both.
    let both = found(&e, &format!("{K1},{K2}"));
    assert_eq!(both.len(), 2, "{both:?}");
    assert_eq!(both[1].1, K2);
}

#[test]
fn boundaries_reject_longer_tokens() {
    let e = engine();
    assert!(found(&e, &format!("{K1}Z")).is_empty());
    assert!(found(&e, &format!("x{K1}")).is_empty());
}

#[test]
fn context_rule_needs_its_word_nearby() {
    let e = engine();
    assert_eq!(found(&e, &format!("DEMO_API_KEY={CTX}")), vec![("demo-context".into(), CTX.into())]);
    let far = format!("DEMO_API_KEY=1\n{}\nother={CTX}", "#".repeat(100));
    assert!(found(&e, &far).is_empty());
    assert!(found(&e, &format!("other={CTX}")).is_empty());
}

#[test]
fn placeholders_and_low_entropy_are_dropped() {
    let e = engine();
    for fake in [
        "dk-xxxxxxxxxxxxxxxxxxxxxxxx",
        "dk-YOURKEYGOESHEREq8Zr2LmWa",
        "dk-abcdefghijklmnopqrstuvwx",
        "dk-a1a1a1a1a1a1a1a1a1a1a1a1",
    ] {
        assert!(found(&e, fake).is_empty(), "{fake} should be filtered");
    }
    assert!(found(&e, &format!("<{K1}>")).is_empty(), "template slot");
}

#[test]
fn a_key_longer_than_the_window_is_found_whole() {
    let e = engine();
    let body: String = (0..1500).map(|i| (b'a' + ((i * 7 + i / 13) % 26) as u8) as char).collect();
    let key = format!("dk-long-{body}");
    let got = found(&e, &format!("x = \"{key}\""));
    assert_eq!(got, vec![("demo-long-key".into(), key)]);
}

#[test]
fn overlapping_rules_keep_the_longest_secret() {
    let e = engine();
    // `dk-long-…` also contains text the context rule could take.
    let key = "dk-long-h7Kq2Vn9Lr4Tz8Wc1Xm6Pb3Yd5Fs0Gj2";
    assert_eq!(found(&e, &format!("demo {key}")), vec![("demo-long-key".into(), key.into())]);
}

#[test]
fn the_same_key_many_times_is_found_each_time() {
    let e = engine();
    let text: String = (0..1000).map(|_| format!("k={K1}\n")).collect();
    assert_eq!(e.scan(text.as_bytes()).len(), 1000);
}

#[test]
fn invalid_utf8_around_a_key_is_fine() {
    let e = engine();
    let mut bytes = vec![0xff, 0xfe, b'='];
    bytes.extend_from_slice(K1.as_bytes());
    bytes.extend_from_slice(&[0xc3, 0x28]);
    assert_eq!(e.scan(&bytes).len(), 1);
}

#[test]
fn bad_rules_are_clear_errors() {
    let mut rules = RuleSet::default();
    let err = rules
        .add_toml(
            "mine.toml",
            "[[rule]]\nid='x-y'\nprovider='x'\nname='n'\npattern='('\nkeywords=['a']\nrotate_url='https://e'\n",
        )
        .unwrap_err()
        .to_string();
    assert!(err.contains("mine.toml") && err.contains("x-y") && err.contains("invalid pattern"), "{err}");
    let err = RuleSet::default()
        .add_toml(
            "mine.toml",
            "[[rule]]\nid='x'\nprovider='x'\nname='n'\npattern='a'\nkeywords=['a']\nrotate_url='u'\nmin_entrpy=3\n",
        )
        .unwrap_err()
        .to_string();
    assert!(err.contains("min_entrpy"), "{err}");
}
