//! Filters that turn a regex match into a believable secret. They kill the
//! classic false positives of secret scanners: documentation placeholders,
//! redacted examples, and strings too regular to be random keys.
//!
//! Thresholds are chosen so a real random key almost never trips them: a run
//! of 6 equal characters in a 160-character base62 key has probability
//! ~2e-7, and so does an ascending run of 6.

use base64::Engine as _;

use crate::rules::{Rule, SecretEncoding};

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
    if rule.is_excluded(secret)
        || is_placeholder(rule, secret)
        || is_templated(haystack, start, end)
        || rule.is_excluded_by_prefix(before)
        || rule.is_excluded_by_suffix(same_line_after(haystack, end))
        || rule.is_excluded_by_preceding(&haystack[start.saturating_sub(PRECEDING)..start])
        || rule.is_excluded_nearby(haystack, start, end)
        || (rule.is_context_rule() && (names_an_identifier(before) || is_url_username(haystack, start, end)))
    {
        return true;
    }
    let chosen = rule.spec.chosen_password;
    match rule.spec.secret_encoding {
        Some(SecretEncoding::Base64) => {
            let Some(text) = decode_base64_text(secret) else {
                return true;
            };
            // `user:pass` (Basic auth, Docker `auth`, `.npmrc` `_auth`):
            // the password half is what someone chose.
            let password = match memchr::memchr(b':', &text) {
                Some(colon) if chosen && text[..colon].eq_ignore_ascii_case(&text[colon + 1..]) => return true,
                Some(colon) => &text[colon + 1..],
                None => &text[..],
            };
            is_placeholder(rule, &text) || (chosen && is_default_password(password))
        }
        None => chosen && (is_default_password(secret) || repeats_user_name(haystack, start, end)),
    }
}

/// Bytes before a secret that `exclude_preceding` regexes see.
const PRECEDING: usize = 256;

/// Up to 64 bytes after `end`, not crossing a newline.
fn same_line_after(haystack: &[u8], end: usize) -> &[u8] {
    let to = (end + 64).min(haystack.len());
    let line_end = memchr::memchr(b'\n', &haystack[end..to]).map_or(to, |i| end + i);
    &haystack[end..line_end]
}

/// Well-known default and demo passwords, compared after folding case and
/// leetspeak and dropping trailing digits and punctuation (`P@ssw0rd1!`
/// is `password`).
const DEFAULT_PASSWORDS: &[&[u8]] = &[
    b"",
    b"abc",
    b"abcd",
    b"airflow",
    b"app",
    b"bar",
    b"baz",
    b"bitnami",
    b"db",
    b"database",
    b"demo",
    b"dev",
    b"docker",
    b"elastic",
    b"false",
    b"foo",
    b"foobar",
    b"foobared",
    b"grafana",
    b"guest",
    b"harbor",
    b"hunter",
    b"jenkins",
    b"keycloak",
    b"kibana",
    b"local",
    b"localhost",
    b"login",
    b"manager",
    b"mariadb",
    b"master",
    b"minio",
    b"mongo",
    b"mongodb",
    b"mysql",
    b"nexus",
    b"nil",
    b"nimda",
    b"none",
    b"null",
    b"open sesame",
    b"oracle",
    b"pi",
    b"postgres",
    b"postgresql",
    b"prod",
    b"pwd",
    b"qux",
    b"rabbit",
    b"rabbitmq",
    b"raspberry",
    b"redis",
    b"redispw",
    b"root",
    b"sa",
    b"sonar",
    b"super",
    b"superuser",
    b"sys",
    b"system",
    b"tiger",
    b"todo",
    b"toor",
    b"true",
    b"ubuntu",
    b"undefined",
    b"user",
    b"username",
    b"vagrant",
    b"xyz",
];

/// Words that mark a chosen password as a demo value wherever they occur
/// (after the same folding): `mysecretpassword`, `Adm1n2024`, `pass123`,
/// Oracle's `scott/tiger`, RFC 7617's `open sesame`.
const DEFAULT_PASSWORD_WORDS: &[&[u8]] = &[
    b"pass",
    b"secret",
    b"admin",
    b"test",
    b"changeit",
    b"qwerty",
    b"letmein",
    b"welcome",
    b"default",
    b"iloveyou",
    b"tiger",
    b"sesame",
];

/// A default or demo password (see [`DEFAULT_PASSWORDS`]).
fn is_default_password(password: &[u8]) -> bool {
    let trimmed_len =
        password.len() - password.iter().rev().take_while(|b| b.is_ascii_digit() || b.is_ascii_punctuation()).count();
    let folded: Vec<u8> = password[..trimmed_len]
        .iter()
        .map(|b| match b.to_ascii_lowercase() {
            b'0' => b'o',
            b'1' | b'!' => b'i',
            b'3' => b'e',
            b'4' | b'@' => b'a',
            b'5' | b'$' => b's',
            b'7' => b't',
            c => c,
        })
        .collect();
    DEFAULT_PASSWORDS.contains(&folded.as_slice())
        || DEFAULT_PASSWORD_WORDS.iter().any(|w| folded.windows(w.len()).any(|x| x == *w))
}

/// `root:root`, `guest:guest@`: the password repeats the user name right
/// before it.
fn repeats_user_name(haystack: &[u8], start: usize, end: usize) -> bool {
    let len = end - start;
    start > len
        && haystack[start - 1] == b':'
        && haystack[start - len - 1..start - 1].eq_ignore_ascii_case(&haystack[start..end])
        && (start == len + 1 || !haystack[start - len - 2].is_ascii_alphanumeric())
}

/// Base64 (standard or URL-safe, padding optional) that decodes to
/// printable ASCII text; `None` otherwise.
fn decode_base64_text(secret: &[u8]) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
    let body = secret.strip_suffix(b"==").or_else(|| secret.strip_suffix(b"=")).unwrap_or(secret);
    let text = STANDARD_NO_PAD.decode(body).or_else(|_| URL_SAFE_NO_PAD.decode(body)).ok()?;
    (!text.is_empty() && text.iter().all(|b| (0x20..0x7f).contains(b))).then_some(text)
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

/// Runs in both halves of an interleaving (`A1B2C3D4E5F6`: `ABCDEF` and
/// `123456`; `x1x2x3x4x5x6`). Both, because one stride's run happens by
/// chance next to a fixed infix: OpenAI's `T3BlbkFJ` gives `l k J`, and a
/// random key continuing with `I h G` would have been dropped (~1 key in
/// 30,000).
fn has_strided_run(body: &[u8]) -> bool {
    (0..2).all(|offset| {
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
        assert!(has_strided_run(b"x1x2x3x4x5x6x7"));
        // One stride's run alone is chance (a real OpenAI key's infix).
        assert!(!has_strided_run(b"T3BlbkFJ1IUhyG2GiKu8Wjf"));
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
        assert!(!is_url_username(b"token=c92256c36acaa3288b112483b5dd388c", 6, 38)); // leakhound:allow (a test fixture)
    }

    #[test]
    fn default_passwords_fold_case_leetspeak_and_trailing_digits() {
        for weak in [
            &b"password"[..],
            b"P@ssw0rd1!",
            b"changeit",
            b"s3cr3t",
            b"mysecretpassword",
            b"Admin2024",
            b"postgres",
            b"root",
            b"foobared",
            b"hunter2",
            b"12345",
            b"Tiger",
        ] {
            assert!(is_default_password(weak), "{}", String::from_utf8_lossy(weak));
        }
        for strong in [&b"Xk9mP2vL8q"[..], b"rruH4cfBQ07l", b"r8z8uN^0HXbj", b"fv3WMEX7=JOIyJ1l"] {
            assert!(!is_default_password(strong), "{}", String::from_utf8_lossy(strong));
        }
    }

    #[test]
    fn password_repeating_its_user_name() {
        let hay = b"redis://guest:guest@host amqp://bob:Guest@h x:y";
        assert!(repeats_user_name(hay, 14, 19));
        assert!(!repeats_user_name(hay, 35, 40));
        assert!(!repeats_user_name(hay, 47, 48));
        assert!(repeats_user_name(b"ab:ab", 3, 5));
        assert!(!repeats_user_name(b"xab:ab", 4, 6));
    }

    #[test]
    fn base64_text_decoding() {
        assert_eq!(decode_base64_text(b"dXNlcjpwYXNz").as_deref(), Some(&b"user:pass"[..]));
        assert_eq!(decode_base64_text(b"YWRtaW46YWRtaW4=").as_deref(), Some(&b"admin:admin"[..]));
        assert_eq!(
            decode_base64_text(b"Y2ktYm90Omo0YjBIbV9lfkxecUxzcFpzQTVT").as_deref(),
            Some(&b"ci-bot:j4b0Hm_e~L^qLspZsA5S"[..])
        );
        assert_eq!(decode_base64_text(b"_-8"), None);
        assert_eq!(decode_base64_text(b"AAEC"), None);
        assert_eq!(decode_base64_text(b"not base64!"), None);
    }

    fn rule_from(toml: &str) -> Rule {
        let mut set = crate::rules::RuleSet::default();
        set.add_toml("test.toml", toml).expect("test rule loads");
        set.rules()[0].clone()
    }

    const RULE_HEAD: &str = "[[rule]]\nid = \"t\"\nprovider = \"t\"\nname = \"t\"\ngeneric = true\npattern = 'x'\nkeywords = [\"x\"]\nrotate_url = \"https://a\"\n";

    fn rejected(rule: &Rule, hay: &[u8], secret: &[u8]) -> bool {
        let start = hay.windows(secret.len()).rposition(|w| w == secret).expect("secret in haystack");
        rejects(rule, secret, hay, start, start + secret.len())
    }

    #[test]
    fn chosen_password_kinds_drop_defaults_and_user_name_repeats() {
        let password = rule_from(&format!("{RULE_HEAD}kind = \"password\"\nchosen_password = true\n"));
        assert!(rejected(&password, b"password: changeit", b"changeit"));
        assert!(rejected(&password, b"amqp://admin1:admin1@mq", b"admin1"));
        assert!(rejected(&password, b"redis://bob:bob@cache", b"bob"));
        assert!(!rejected(&password, b"DB_PASSWORD=rruH4cfBQ07l", b"rruH4cfBQ07l")); // leakhound:allow (a test fixture)
        let key = rule_from(&format!("{RULE_HEAD}kind = \"api-key\"\n"));
        assert!(!rejected(&key, b"token: root", b"root"));
        let secret = rule_from(&format!("{RULE_HEAD}kind = \"generic-secret\"\nchosen_password = true\n"));
        assert!(rejected(&secret, b"JWT_SECRET=s3cr3t-p4ssw0rd", b"s3cr3t-p4ssw0rd"));
    }

    #[test]
    fn exclude_after_sees_the_rest_of_the_line() {
        let rule = rule_from(&format!("{RULE_HEAD}exclude_after = ['^@localhost']\n"));
        assert!(rejected(&rule, b"mysql://u:rruH4cfBQ07l@localhost/db", b"rruH4cfBQ07l")); // leakhound:allow (a test fixture)
        assert!(!rejected(&rule, b"mysql://u:rruH4cfBQ07l@db.corp.io/x\n@localhost", b"rruH4cfBQ07l")); // leakhound:allow (a test fixture)
        assert_eq!(same_line_after(b"ab\ncd", 1), b"b");
    }

    #[test]
    fn exclude_preceding_crosses_lines() {
        let rule = rule_from(&format!("{RULE_HEAD}exclude_preceding = ['(?m)^mixpanel:']\n"));
        assert!(rejected(
            &rule,
            b"mixpanel:\n  token: 2de83b84756bdb02a4bea6930ab3ef8b", // leakhound:allow (a test fixture)
            b"2de83b84756bdb02a4bea6930ab3ef8b"
        ));
        assert!(!rejected(
            &rule,
            b"datadog:\n  token: 2de83b84756bdb02a4bea6930ab3ef8b", // leakhound:allow (a test fixture)
            b"2de83b84756bdb02a4bea6930ab3ef8b"                     // leakhound:allow (a test fixture)
        ));
    }

    #[test]
    fn base64_secrets_are_judged_decoded() {
        let rule = rule_from(&format!(
            "{RULE_HEAD}kind = \"basic-auth\"\nchosen_password = true\nsecret_encoding = \"base64\"\n"
        ));
        // deploy:Au99lLwl21mgUlpj
        assert!(!rejected(&rule, b"Basic ZGVwbG95OkF1OTlsTHdsMjFtZ1VscGo=", b"ZGVwbG95OkF1OTlsTHdsMjFtZ1VscGo="));
        // user:password, guest:guest, Aladdin:open sesame (RFC 7617), binary
        assert!(rejected(&rule, b"Basic dXNlcjpwYXNzd29yZA==", b"dXNlcjpwYXNzd29yZA=="));
        assert!(rejected(&rule, b"Basic Z3Vlc3Q6Z3Vlc3Q=", b"Z3Vlc3Q6Z3Vlc3Q="));
        assert!(rejected(&rule, b"Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==", b"QWxhZGRpbjpvcGVuIHNlc2FtZQ=="));
        assert!(rejected(&rule, b"Basic AAECAwQFBgcI", b"AAECAwQFBgcI"));
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
