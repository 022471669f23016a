//! Redaction: the one place secrets are masked before anything is printed.
//! A masked key keeps its public prefix (so a reader knows what kind of key
//! it is) and its last 4 characters (so its owner can tell which key).

use crate::finding::Finding;

/// Longest prefix ever shown.
const MAX_PREFIX: usize = 16;
/// Shortest secret of which the last 4 characters are shown; anything
/// shorter is masked completely.
const MIN_LEN_FOR_TAIL: usize = 16;

/// `sk-proj-...a1B2`: the known prefix, then `...`, then the last 4.
/// `prefix` is the part of the secret that is not secret (a rule keyword).
pub fn mask(secret: &str, prefix_len: usize) -> String {
    let chars: Vec<char> = secret.chars().collect();
    if chars.len() < MIN_LEN_FOR_TAIL {
        return "*****".to_string();
    }
    // The prefix never reaches into the last 12 characters, so at least 8
    // characters stay hidden between prefix and tail.
    let prefix_len = prefix_len.min(MAX_PREFIX).min(chars.len() - 12);
    let head: String = chars[..prefix_len].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}...{tail}")
}

/// Length of the longest keyword that starts `secret`.
pub fn keyword_prefix_len(secret: &str, keywords: &[String]) -> usize {
    keywords.iter().filter(|k| secret.starts_with(k.as_str())).map(|k| k.chars().count()).max().unwrap_or(0)
}

/// Masks the secret in a finding's `secret` and `snippet`.
pub fn redact(finding: &mut Finding, prefix_len: usize) {
    let masked = mask(&finding.secret, prefix_len);
    // A multi-line secret (PEM) shows only its first line in the snippet.
    let first_line = finding.secret.lines().next().unwrap_or_default();
    if !first_line.is_empty() {
        finding.snippet = finding.snippet.replace(first_line, &masked);
    }
    finding.secret = masked;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_keep_prefix_and_tail() {
        assert_eq!(mask("sk-proj-abcdefghijklmnopWXYZ", 8), "sk-proj-...WXYZ");
        assert_eq!(mask("0123456789abcdef0123", 0), "...0123");
        assert_eq!(mask("short", 0), "*****");
        // A long keyword prefix on a short secret cannot expose the middle.
        assert_eq!(mask("abcdefghijklmnop", 16), "abcd...mnop");
    }
}
