//! Property tests: the engine finds a key wherever it sits, redaction never
//! shows more than the prefix and the last 4 characters, fingerprints do
//! not move when lines do.

use crate::common;

use std::sync::Arc;

use leakhound::detect::Detector;
use leakhound::report::redact;
use leakhound::rules::RuleSet;
use proptest::prelude::*;

fn detector() -> &'static Detector {
    static DETECTOR: std::sync::OnceLock<Detector> = std::sync::OnceLock::new();
    DETECTOR.get_or_init(|| Detector::new(Arc::new(RuleSet::builtin().unwrap())).unwrap())
}

/// Bytes that end a token on either side of a key.
const SEPARATORS: &[u8] = b" \n\t\"'=:,;()[]{}";

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn a_key_is_found_at_its_line_and_column_among_arbitrary_bytes(
        before in proptest::collection::vec(any::<u8>(), 0..400),
        after in proptest::collection::vec(any::<u8>(), 0..400),
        left in proptest::sample::select(SEPARATORS),
        right in proptest::sample::select(SEPARATORS),
        seed in any::<u64>(),
    ) {
        // `${KEY}` and `{{KEY}}` are template slots, never reported.
        let slot = left == b'{' && right == b'}' && (before.ends_with(b"$") || before.ends_with(b"{") && after.starts_with(b"}"));
        prop_assume!(!slot);
        let key = common::key("anthropic-api", seed);
        let mut hay = before.clone();
        hay.push(left);
        let start = hay.len();
        hay.extend_from_slice(key.as_bytes());
        hay.push(right);
        hay.extend_from_slice(&after);
        let findings = detector().findings(&hay, "blob.txt");
        let found = findings.iter().find(|f| f.secret == key);
        prop_assert!(found.is_some(), "key not found among {} findings", findings.len());
        let f = found.unwrap();
        let line = hay[..start].iter().filter(|&&b| b == b'\n').count() + 1;
        let line_start = hay[..start].iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        prop_assert_eq!((f.line, f.column), (line, start - line_start + 1));
        prop_assert_eq!(&f.rule_id, "anthropic-api-key");
    }

    #[test]
    fn masking_shows_at_most_the_prefix_and_the_last_four(secret in "[ -~]{0,200}", prefix in 0usize..40) {
        let masked = redact::mask(&secret, prefix);
        if secret.chars().count() < 16 {
            prop_assert_eq!(masked, "*****");
        } else {
            // `head...tail`, where head may itself contain dots.
            let (head, rest) = masked.split_at(masked.len() - 7);
            prop_assert_eq!(&rest[..3], "...");
            prop_assert!(secret.ends_with(&rest[3..]));
            prop_assert!(secret.starts_with(head) && head.len() <= 16 && head.len() + 12 <= secret.len());
        }
    }

    #[test]
    fn fingerprints_do_not_move_with_lines(
        lines_before in proptest::collection::vec("[a-z ]{0,40}", 0..30),
        seed in any::<u64>(),
    ) {
        let key = common::key("openai-project", seed);
        let moved = format!("{}OPENAI_API_KEY={key}\n", lines_before.iter().map(|l| format!("{l}\n")).collect::<String>());
        let plain = format!("OPENAI_API_KEY={key}\n");
        let a = detector().findings(plain.as_bytes(), "app.env");
        let b = detector().findings(moved.as_bytes(), "app.env");
        prop_assert_eq!(a.len(), 1);
        prop_assert_eq!(b.len(), 1);
        prop_assert_eq!(&a[0].fingerprint, &b[0].fingerprint);
        prop_assert_eq!(b[0].line, lines_before.len() + 1);
    }
}

/// The case `fingerprints_do_not_move_with_lines` once drew: an OpenAI
/// project key whose random characters after the `T3BlbkFJ` infix continued
/// a descending run every other byte (`l k J` + `I h G`), which the
/// fixture-shape filter took for a pasted pattern.
#[test]
fn a_key_continuing_its_infix_in_a_strided_run_is_reported() {
    let key = common::key("openai-project", 8084375499139744496);
    assert!(key.contains("T3BlbkFJ1IUhyG"), "{key}");
    let found = detector().findings(format!("OPENAI_API_KEY={key}\n").as_bytes(), "app.env");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].rule_id, "openai-project-key");
}
