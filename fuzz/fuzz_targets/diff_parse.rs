//! `git diff` output parsing (`leakhound staged` reads it from git; file
//! names and contents in it are attacker-controlled), then what `staged`
//! does with each hunk: scan it and keep the findings on added lines.
//!
//! Two properties per input: the input as a whole diff (no panic, hunks
//! consistent), and the input as the content of a new file, wrapped in the
//! diff git would print for it (every line comes back, as added, in one
//! hunk at the right path: file content must not be able to steer the
//! parser).
#![no_main]

use std::sync::{Arc, LazyLock};

use leakhound::history::scan_change;
use leakhound::detect::Detector;
use leakhound::rules::RuleSet;
use leakhound::source::git::diff::{DiffSkips, parse_unified};
use libfuzzer_sys::fuzz_target;

static DETECTOR: LazyLock<Detector> = LazyLock::new(|| {
    let rules = Arc::new(RuleSet::builtin().expect("built-in rules load"));
    Detector::new(rules).expect("built-in exposure rules load")
});

fuzz_target!(|data: &[u8]| {
    let mut skips = DiffSkips::default();
    let changes = parse_unified(data, &mut skips);
    for c in &changes {
        assert!(!c.added.is_empty(), "a hunk without added lines is kept: {c:?}");
        // Every added line lies inside the hunk's text, in new-file numbering.
        let lines = c.text.iter().filter(|&&b| b == b'\n').count();
        assert!(c.text.is_empty() || c.text.ends_with(b"\n"));
        let first = *c.added.first().unwrap();
        let last = *c.added.last().unwrap();
        assert!(first >= c.first_line, "added line {first} before the hunk start {}", c.first_line);
        assert!(last - c.first_line < lines, "added line {last} past the hunk's {lines} lines from {}", c.first_line);

        for finding in scan_change(&DETECTOR, c) {
            assert!(c.added.contains(&finding.line));
        }
    }

    new_file_round_trip(data);
});

/// `data` as a new file `f`: `git diff --cached` prints every line with a
/// `+` in one hunk; the parser must give back exactly those lines.
fn new_file_round_trip(data: &[u8]) {
    if data.is_empty() {
        return;
    }
    let body = data.strip_suffix(b"\n").unwrap_or(data);
    let lines: Vec<&[u8]> = body.split(|&b| b == b'\n').collect();
    let mut patch = format!(
        "diff --git a/f b/f\nnew file mode 100644\nindex 0000000..1234567\n--- /dev/null\n+++ b/f\n@@ -0,0 +1,{} @@\n",
        lines.len()
    )
    .into_bytes();
    for line in &lines {
        patch.push(b'+');
        patch.extend_from_slice(line);
        patch.push(b'\n');
    }
    if !data.ends_with(b"\n") {
        patch.extend_from_slice(b"\\ No newline at end of file\n");
    }
    let mut skips = DiffSkips::default();
    let changes = parse_unified(&patch, &mut skips);
    let expected_text: Vec<u8> = lines.iter().flat_map(|l| l.iter().copied().chain([b'\n'])).collect();
    let summary: Vec<(&str, usize, usize)> =
        changes.iter().map(|c| (c.path.as_str(), c.first_line, c.added.len())).collect();
    assert!(
        changes.len() == 1
            && changes[0].path == "f"
            && changes[0].first_line == 1
            && changes[0].added.len() == lines.len()
            && changes[0].added.last() == Some(&lines.len())
            && changes[0].text == expected_text,
        "a new file of {} lines came back as (path, first line, added lines) {summary:?}\npatch:\n{}",
        lines.len(),
        String::from_utf8_lossy(&patch).escape_debug()
    );
    assert!(skips.binary.is_empty() && skips.too_large.is_empty());
}
