//! Filters that turn a regex match into a believable secret. They kill the
//! classic false positives of secret scanners: documentation placeholders,
//! redacted examples, and strings too regular to be random keys.
//!
//! Thresholds are chosen so a real random key almost never trips them: a run
//! of 6 equal characters in a 160-character base62 key has probability
//! ~2e-7, and so does an ascending run of 6.

use crate::rules::Rule;

/// Case-insensitive substrings that mark a value as a placeholder.
const PLACEHOLDER_WORDS: &[&[u8]] = &[
    b"xxxx",
    b"your",
    b"placeholder",
    b"redacted",
    b"dummy",
    b"changeme",
    b"insert",
    b"example",
    b"sample",
    b"replace",
    b"secret_key",
    b"api_key",
    b"apikey",
    b"token_",
    b"****",
    b"....",
    "…".as_bytes(),
];

/// Length of a same-character or sequential run that marks a fake value.
const MAX_RUN: usize = 6;

/// True when the match at `haystack[start..end]` should not be reported.
pub fn rejects(rule: &Rule, secret: &[u8], haystack: &[u8], start: usize, end: usize) -> bool {
    if rule.spec.not_secret {
        // A variable name, not a secret: randomness and placeholder words
        // say nothing about it.
        return rule.is_excluded(secret);
    }
    if let Some(floor) = rule.spec.min_entropy
        && shannon_entropy(secret) < floor
    {
        return true;
    }
    let before = same_line_before(haystack, start);
    rule.is_excluded(secret)
        || is_placeholder(rule, secret)
        || is_templated(haystack, start, end)
        || rule.is_excluded_by_prefix(before)
        || rule.is_excluded_nearby(haystack, start, end)
        || (rule.is_context_rule() && (names_an_identifier(before) || is_url_username(haystack, start, end)))
}

/// Words a name ends with when its value identifies something rather than
/// granting access: a prefix-less rule's 32 hex next to `POSTMARK_MESSAGE_ID=`
/// or `WANDB_RUN_COMMIT=` is an id or a hash, whatever provider is named.
const IDENTIFIER_NAMES: &[&[u8]] = &[
    b"id",
    b"ids",
    b"uuid",
    b"guid",
    b"commit",
    b"sha",
    b"sha1",
    b"sha256",
    b"hash",
    b"digest",
    b"checksum",
    b"etag",
    b"revision",
    b"nonce",
    b"salt",
    b"fingerprint",
    b"version",
];

/// Whether the text before a value ends with `NAME=`, `NAME: "`, `"name": "`
/// (any quoting) whose last word is in [`IDENTIFIER_NAMES`].
fn names_an_identifier(before: &[u8]) -> bool {
    let trimmed = before.trim_ascii_end();
    let trimmed =
        trimmed.strip_suffix(b"\"").or_else(|| trimmed.strip_suffix(b"'")).unwrap_or(trimmed).trim_ascii_end();
    let Some(name) = trimmed.strip_suffix(b"=").or_else(|| trimmed.strip_suffix(b":")) else { return false };
    let name = without_type_annotation(name.trim_ascii_end());
    let name = name.strip_suffix(b"\"").or_else(|| name.strip_suffix(b"'")).unwrap_or(name);
    // The last word of the name, split at `_`, `-`, `.` and case changes.
    let mut start = name.len();
    while start > 0 {
        let b = name[start - 1];
        if !b.is_ascii_alphanumeric() {
            break;
        }
        start -= 1;
        if b.is_ascii_uppercase() && start > 0 && name[start - 1].is_ascii_lowercase() {
            break;
        }
    }
    let word = &name[start..];
    !word.is_empty() && IDENTIFIER_NAMES.iter().any(|w| word.eq_ignore_ascii_case(w))
}

/// `wandbRunCommit: string` (TypeScript, Kotlin, Python hints) is the name
/// `wandbRunCommit`.
fn without_type_annotation(name: &[u8]) -> &[u8] {
    let Some(colon) = memchr::memrchr(b':', name) else { return name };
    let (head, ty) = (name[..colon].trim_ascii_end(), name[colon + 1..].trim_ascii());
    let is_type = !ty.is_empty() && ty.iter().all(|b| b.is_ascii_alphanumeric() || b"_<>[].|&?".contains(b));
    if is_type && head.last().is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_') { head } else { name }
}

/// `scheme://VALUE@host`: the user name of a URL (a Sentry DSN's public
/// key), not a password.
fn is_url_username(haystack: &[u8], start: usize, end: usize) -> bool {
    haystack[..start].ends_with(b"://") && haystack.get(end) == Some(&b'@')
}

/// Up to 64 bytes before `start`, not crossing a newline.
fn same_line_before(haystack: &[u8], start: usize) -> &[u8] {
    let from = start.saturating_sub(64);
    let line_start = memchr::memrchr(b'\n', &haystack[from..start]).map_or(from, |i| from + i + 1);
    &haystack[line_start..start]
}

/// Shannon entropy in bits per byte.
pub fn shannon_entropy(bytes: &[u8]) -> f64 {
    if bytes.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in bytes {
        counts[b as usize] += 1;
    }
    let len = bytes.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / len;
            -p * p.log2()
        })
        .sum()
}

/// Placeholder words, long runs of one character, and sequential runs,
/// looked for in the part of the secret after the rule's literal prefix (a
/// prefix such as `sk-proj-` is not evidence of anything).
fn is_placeholder(rule: &Rule, secret: &[u8]) -> bool {
    let body = strip_keyword_prefix(rule, secret);
    if rule.spec.kind == "private-key" {
        // A PEM body is base64 with fixed header words; only obvious
        // elisions count.
        return contains_ci(body, b"....") || contains_ci(body, "…".as_bytes()) || contains_ci(body, b"xxxxxxxx");
    }
    if PLACEHOLDER_WORDS.iter().any(|w| has_placeholder_word(body, w)) {
        return true;
    }
    !rule.spec.structured
        && (has_run(body)
            || (body.len() <= MAX_FIXTURE_CHECK_LEN && (has_strided_run(body) || has_repeated_block(body))))
}

/// Fixture-shape checks apply to secrets up to this length; longer random
/// tokens (Bedrock, Slack config tokens) would trip them by chance.
const MAX_FIXTURE_CHECK_LEN: usize = 200;

/// An ascending or descending run in every other byte (`A1B2C3D4E5F6`).
fn has_strided_run(body: &[u8]) -> bool {
    (0..2).any(|offset| {
        let every_other: Vec<u8> = body.iter().skip(offset).step_by(2).copied().collect();
        has_run(&every_other)
    })
}

/// A 16-byte block that occurs twice: fixtures built by pasting a pattern.
fn has_repeated_block(body: &[u8]) -> bool {
    const BLOCK: usize = 16;
    if body.len() < 2 * BLOCK {
        return false;
    }
    let mut seen = std::collections::HashSet::new();
    body.windows(BLOCK).any(|w| !seen.insert(w))
}

/// Words of up to 5 letters occur by chance in long random tokens (`your`
/// in 500 random base62 characters: ~5e-4), so they count only at the
/// start of the body or after a separator, where placeholders put them
/// (`your-key-here`, `sk-..._xxxx`); longer words count anywhere.
fn has_placeholder_word(body: &[u8], word: &[u8]) -> bool {
    if word.len() > 5 || !word.iter().all(u8::is_ascii_alphabetic) {
        return contains_ci(body, word);
    }
    body.windows(word.len()).enumerate().any(|(i, w)| {
        w.eq_ignore_ascii_case(word) && (i == 0 || matches!(body[i - 1], b'-' | b'_' | b'.' | b' ' | b'/'))
    })
}

/// The secret minus the longest keyword it starts with.
pub fn strip_keyword_prefix<'a>(rule: &Rule, secret: &'a [u8]) -> &'a [u8] {
    let prefix_len =
        rule.spec.keywords.iter().filter(|k| secret.starts_with(k.as_bytes())).map(|k| k.len()).max().unwrap_or(0);
    &secret[prefix_len..]
}

fn contains_ci(haystack: &[u8], needle: &[u8]) -> bool {
    needle.len() <= haystack.len() && haystack.windows(needle.len()).any(|w| w.eq_ignore_ascii_case(needle))
}

/// A run of `MAX_RUN` equal bytes, or of bytes each one above (or below) the
/// last, such as `aaaaaa`, `abcdef`, `654321`.
fn has_run(body: &[u8]) -> bool {
    let (mut same, mut up, mut down) = (1, 1, 1);
    for pair in body.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        same = if a == b { same + 1 } else { 1 };
        // Case-folded, so `aBcDeF` counts as a run too.
        let (fa, fb) = (a.to_ascii_lowercase(), b.to_ascii_lowercase());
        up = if b.is_ascii_alphanumeric() && fa.wrapping_add(1) == fb { up + 1 } else { 1 };
        down = if b.is_ascii_alphanumeric() && fb.wrapping_add(1) == fa { down + 1 } else { 1 };
        if same >= MAX_RUN || up >= MAX_RUN || down >= MAX_RUN {
            return true;
        }
    }
    false
}

/// A value wrapped as a template slot: `<...>`, `{{...}}`, `${...}`.
fn is_templated(haystack: &[u8], start: usize, end: usize) -> bool {
    let before = &haystack[start.saturating_sub(2)..start];
    let after = &haystack[end..(end + 2).min(haystack.len())];
    (before.ends_with(b"<") && after.starts_with(b">"))
        || (before.ends_with(b"{{") && after.starts_with(b"}}"))
        || (before.ends_with(b"${") && after.starts_with(b"}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entropy_of_uniform_and_constant() {
        assert_eq!(shannon_entropy(b"aaaa"), 0.0);
        assert!((shannon_entropy(b"abcd") - 2.0).abs() < 1e-9);
    }

    #[test]
    fn runs() {
        assert!(has_run(b"k9aaaaaaz"));
        assert!(has_run(b"x0123456y"));
        assert!(has_run(b"qfedcbaq"));
        assert!(!has_run(b"k9Q2mZ7pL4"));
        assert!(has_run(b"xaBcDeFy"));
        assert!(has_strided_run(b"A1B2C3D4E5F6G7"));
        assert!(has_repeated_block(b"0123abcdQWERzxcv0123abcdQWERzxcv"));
        assert!(!has_repeated_block(b"k9Q2mZ7pL4vB8nX3k9Q2mZ7pL4vB8nY"));
    }

    #[test]
    fn short_placeholder_words_need_a_boundary() {
        assert!(has_placeholder_word(b"your-key-here", b"your"));
        assert!(has_placeholder_word(b"abc_YOUR_KEY", b"your"));
        assert!(!has_placeholder_word(b"q8ZyourLmW4xT9", b"your"));
        assert!(has_placeholder_word(b"q8ZplaceholderW4", b"placeholder"));
    }

    #[test]
    fn identifier_names() {
        assert!(names_an_identifier(b"POSTMARK_MESSAGE_ID="));
        assert!(names_an_identifier(b"WANDB_RUN_COMMIT: \""));
        assert!(names_an_identifier(b"  \"requestId\": \""));
        assert!(names_an_identifier(b"trace-id = '"));
        assert!(names_an_identifier(b"export const wandbRunCommit: string = \""));
        assert!(!names_an_identifier(b"export const wandbApiKey: string = \""));
        assert!(!names_an_identifier(b"POSTMARK_SERVER_TOKEN="));
        assert!(!names_an_identifier(b"DEEPGRAM_API_KEY="));
        assert!(!names_an_identifier(b"valid="));
        assert!(!names_an_identifier(b"curl -H 'Authorization: Bearer "));
    }

    #[test]
    fn url_user_names() {
        let dsn = b"https://c92256c36acaa3288b112483b5dd388c@o837702.ingest.sentry.io/1";
        assert!(is_url_username(dsn, 8, 40));
        assert!(!is_url_username(b"token=c92256c36acaa3288b112483b5dd388c", 6, 38));
    }

    #[test]
    fn templated_values() {
        let hay = b"key=<abc> v=${abc} w={{abc}}";
        assert!(is_templated(hay, 5, 8));
        assert!(is_templated(hay, 14, 17));
        assert!(is_templated(hay, 23, 26));
        assert!(!is_templated(b"key=abc", 4, 7));
    }
}
