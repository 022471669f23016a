//! Untrusted TOML: a repository's custom rules file and `.leakhound.toml`.
//! Either may be rejected with an error; neither may panic, hang or blow up
//! memory (patterns are compiled with a size limit).
#![no_main]

use std::path::Path;
use std::sync::Arc;

use leakhound::config::Config;
use leakhound::engine::Engine;
use leakhound::rules::RuleSet;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let mut rules = RuleSet::default();
    if rules.add_untrusted_toml("fuzz.toml", text).is_ok() && !rules.is_empty() {
        // Rules that were accepted must also build an engine and scan.
        let engine = Engine::new(Arc::new(rules));
        let _ = engine.scan(text.as_bytes());
    }

    if let Ok(mut config) = Config::parse(text, Path::new("fuzz.toml")) {
        let _ = config.allows("src/main.rs");
        let _ = config.allows("fuzz.toml");
        let mut rules = RuleSet::default();
        let _ = config.apply_to_rules(&mut rules);
    }
});
