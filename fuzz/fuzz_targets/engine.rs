//! Arbitrary bytes through the engine and the detector: no panic, and the
//! engine's documented contract on its matches holds.
#![no_main]

use std::sync::{Arc, LazyLock};

use leakhound::detect::Detector;
use leakhound::rules::RuleSet;
use libfuzzer_sys::fuzz_target;

static DETECTOR: LazyLock<Detector> = LazyLock::new(|| {
    let rules = Arc::new(RuleSet::builtin().expect("built-in rules load"));
    Detector::new(rules).expect("built-in exposure rules load")
});

fuzz_target!(|data: &[u8]| {
    let detector = &*DETECTOR;

    // The engine alone: matches sorted by position, in bounds, never
    // overlapping ("at most one match per byte range").
    let matches = detector.engine.scan(data);
    let mut last_end = 0;
    for m in &matches {
        assert!(m.start < m.end, "empty or inverted match {m:?}");
        assert!(m.end <= data.len(), "match past the end of the input: {m:?}");
        assert!(m.start >= last_end, "overlapping or unsorted matches: {matches:?}");
        assert!(m.rule < detector.rules().len());
        if let Some((s, e)) = m.header {
            assert!(s <= e && e <= data.len(), "header range out of bounds: {m:?}");
        }
        last_end = m.end;
    }

    // The detector builds a Finding for each match (line index, snippet,
    // fingerprint, inline allow), scans the decoded views and archive
    // members the same way, and applies exposure.
    let findings = detector.findings(data, "fuzz.txt");
    let lines = data.iter().filter(|&&b| b == b'\n').count() + 1;
    for f in &findings {
        assert!(f.line >= 1 && f.column >= 1, "0-based location in {f:?}");
        assert!(detector.rules().get(&f.rule_id).is_some());
        assert!(f.path.starts_with("fuzz.txt"), "finding moved to {:?}", f.path);
        if !f.path.contains("!/") {
            // In the file itself (plain or decoded): a line of the file.
            assert!(f.line <= lines, "line {} of a {lines}-line input: {f:?}", f.line);
        }
    }
    // Decoding notes (archives too deep, bombs) pile up in the shared
    // detector otherwise.
    let _ = detector.take_notes();
});
