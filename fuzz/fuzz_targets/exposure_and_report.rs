//! Findings (with client-side exposure) rendered in every report format.
//! JSON-based outputs must parse back; text output must never carry a raw
//! terminal control byte from the scanned file; nothing may panic.
#![no_main]

use std::sync::{Arc, LazyLock};

use leakhound::detect::Detector;
use leakhound::finding::Finding;
use leakhound::report::{self, Format, ReportOptions};
use leakhound::rules::RuleSet;
use leakhound::outcome::{ScanOutcome, Skip, SkipReason, Stats};
use libfuzzer_sys::fuzz_target;

static DETECTOR: LazyLock<Detector> = LazyLock::new(|| {
    let rules = Arc::new(RuleSet::builtin().expect("built-in rules load"));
    Detector::new(rules).expect("built-in exposure rules load")
});

/// Paths that steer exposure down each of its branches (client bundle,
/// server-only route, env file, front-end source, server source, plain
/// file), plus one whose name holds terminal control bytes: file names are
/// as attacker-controlled as contents.
const PATHS: &[&str] = &[
    "fuzz.txt",
    "dist/assets/app.min.js",
    "pages/api/chat.ts",
    "web/.env.local",
    "src/App.tsx",
    "server/main.py",
    "next.config.js",
    "public/index.html",
    "evil\x1b]0;pwned\x07\r\u{202e}sj.env",
];

const FORMATS: &[Format] = &[Format::Text, Format::Json, Format::Jsonl, Format::Sarif, Format::Html];

fuzz_target!(|input: &[u8]| {
    let Some((&selector, data)) = input.split_first() else {
        return;
    };
    let detector = &*DETECTOR;
    let path = PATHS[usize::from(selector) % PATHS.len()];
    let show_secrets = selector & 0x80 != 0;

    let findings: Vec<Finding> = detector.findings(data, path);
    // Decoding notes name archive members: attacker-controlled text too.
    let notes = detector.take_notes();
    // Without findings or notes the reports depend only on the path and the
    // length: render them for the empty input alone, and spend the time on
    // inputs that reach the renderers with something to show (the HTML
    // renderer re-parses the built-in rules on every call: most of an
    // input's time).
    if findings.is_empty() && notes.is_empty() && !data.is_empty() {
        return;
    }
    // The same findings also as suppressed ones, so that section renders too.
    let suppressed: Vec<Finding> =
        findings.iter().map(|f| Finding { suppressed_by: Some("baseline".to_string()), ..f.clone() }).collect();
    let skipped = vec![Skip { path: path.to_string(), reason: SkipReason::Binary, detail: String::new() }];
    let stats = Stats {
        files_scanned: 1,
        bytes_scanned: data.len() as u64,
        findings: findings.len() as u64,
        ..Stats::default()
    };
    let outcome = ScanOutcome { findings, skipped, stats, notes, suppressed };

    for &format in FORMATS {
        let options = ReportOptions {
            format,
            show_secrets,
            show_suppressed: true,
            color: false,
            html_show_secrets: show_secrets,
            title: path.to_string(),
        };
        let mut out = Vec::new();
        report::write(&mut out, &outcome, detector.rules(), &options).expect("writing to a Vec cannot fail");
        match format {
            Format::Json | Format::Sarif => {
                if let Err(e) = serde_json::from_slice::<serde_json::Value>(&out) {
                    panic!("{format:?} output does not parse: {e}\n{}", String::from_utf8_lossy(&out));
                }
            }
            Format::Jsonl => {
                for line in out.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
                    if let Err(e) = serde_json::from_slice::<serde_json::Value>(line) {
                        panic!("JSONL line does not parse: {e}\n{}", String::from_utf8_lossy(line));
                    }
                }
            }
            Format::Text => {
                for (i, &b) in out.iter().enumerate() {
                    assert!(
                        !matches!(b, 0x1b | 0x07 | b'\r'),
                        "raw control byte {b:#04x} at {i} in text output:\n{}",
                        String::from_utf8_lossy(&out).escape_debug()
                    );
                }
                // And no C1 controls or bidi overrides once decoded (what
                // report::sanitize promises).
                let text = String::from_utf8_lossy(&out);
                if let Some(c) = text
                    .chars()
                    .find(|&c| matches!(c, '\u{80}'..='\u{9f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'))
                {
                    panic!("control character {:?} in text output:\n{}", c, text.escape_debug());
                }
            }
            Format::Html => {}
        }
    }
});
