//! Redaction: the one place secrets are masked before anything is printed.
//! A masked key keeps its public prefix (so a reader knows what kind of key
//! it is) and its last 4 characters (so its owner can tell which key).

use std::collections::HashMap;

use crate::finding::Finding;
use crate::rules::RuleSet;

/// Characters of a companion (an account id, an access key id) shown
/// before the mask: enough to tell which account without the whole id.
const COMPANION_PREFIX: usize = 4;

/// Longest prefix ever shown.
const MAX_PREFIX: usize = 16;
/// Shortest secret of which the last 4 characters are shown; anything
/// shorter is masked completely.
const MIN_LEN_FOR_TAIL: usize = 16;

/// `sk-proj-...a1B2`: the known prefix, then `...`, then the last 4.
/// `prefix` is the part of the secret that is not secret (a rule keyword).
pub fn mask(secret: &str, prefix_len: usize) -> String {
    if let Some(header) = pem_header(secret) {
        // The key's type and a short fingerprint: two keys can be told
        // apart, and nothing of the key itself shows.
        let digest = crate::finding::secret_hash(secret.as_bytes());
        return format!("{header}...sha256:{}", &digest[..12]);
    }
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

/// `-----BEGIN RSA PRIVATE KEY-----` of a PEM block (or a PuTTY key's
/// first line).
fn pem_header(secret: &str) -> Option<&str> {
    let first = secret.lines().next()?;
    (first.starts_with("-----BEGIN ") && first.ends_with("-----") || first.starts_with("PuTTY-User-Key-File-"))
        .then_some(first)
}

/// Length of the longest keyword that starts `secret`.
pub fn keyword_prefix_len(secret: &str, keywords: &[String]) -> usize {
    keywords.iter().filter(|k| secret.starts_with(k.as_str())).map(|k| k.chars().count()).max().unwrap_or(0)
}

/// Masks every occurrence of `secret` in `text`, and a piece of it cut off
/// at either edge of a snippet (`...ab12` / `sk-proj-Qx...`), so no part of
/// the secret longer than the mask itself shows. A multi-line secret (PEM)
/// is matched by its first line.
pub fn mask_in(text: &str, secret: &str, prefix_len: usize) -> String {
    if pem_header(secret).is_some() {
        // A snippet holds a PEM block's first line only: its header, no key.
        return text.to_string();
    }
    let secret = secret.lines().next().unwrap_or_default();
    if secret.is_empty() {
        return text.to_string();
    }
    let mut out = text.replace(secret, &mask(secret, prefix_len));
    // Edge pieces: the snippet starts with the end of the secret, or ends
    // with its start (cut at 80 bytes from another finding on the line).
    const MIN_PIECE: usize = 6;
    let body = out.strip_prefix("...").unwrap_or(&out);
    if let Some(n) = (MIN_PIECE..secret.len())
        .rev()
        .find(|&n| secret.is_char_boundary(secret.len() - n) && body.starts_with(&secret[secret.len() - n..]))
    {
        let start = out.len() - body.len();
        out.replace_range(start..start + n, "*****");
    }
    let body = out.strip_suffix("...").unwrap_or(&out);
    if let Some(n) =
        (MIN_PIECE..secret.len()).rev().find(|&n| secret.is_char_boundary(n) && body.ends_with(&secret[..n]))
    {
        let end = body.len();
        out.replace_range(end - n..end, "*****");
    }
    out
}

/// Copies of `findings` with every secret masked, in the secret itself and
/// in every snippet of its line. Left as they are: names of env variables
/// (not secrets), and secrets that arrived already masked (shards written
/// without `--show-secrets`, read back by `merge`): masking those again
/// would turn `sk-proj-...a1B2` into `*****`.
pub fn masked(findings: &[Finding], rules: &RuleSet) -> Vec<Finding> {
    let prefix_len = |f: &Finding| -> Option<usize> {
        if is_masked(f) {
            return None;
        }
        match rules.get(&f.rule_id) {
            Some(rule) if rule.spec.not_secret => None,
            Some(rule) => Some(keyword_prefix_len(&f.secret, &rule.spec.keywords)),
            // A rule unknown here (merged from another run): no prefix shown.
            None => Some(0),
        }
    };
    // Every secret on a line, so each snippet of that line hides all of
    // them, not only its own finding's.
    let mut by_line: HashMap<(&str, usize), Vec<(&str, usize)>> = HashMap::new();
    for f in findings {
        if let Some(prefix) = prefix_len(f) {
            let line = by_line.entry((f.path.as_str(), f.line)).or_default();
            line.push((f.secret.as_str(), prefix));
            // The public half is shown like a key: its first characters and last four.
            if let Some(c) = &f.companion {
                line.push((c.value.as_str(), COMPANION_PREFIX));
            }
        }
    }
    findings
        .iter()
        .map(|f| {
            let Some(prefix) = prefix_len(f) else { return f.clone() };
            let mut shown = f.clone();
            for &(secret, prefix) in by_line.get(&(f.path.as_str(), f.line)).map_or(&[][..], Vec::as_slice) {
                shown.snippet = mask_in(&shown.snippet, secret, prefix);
            }
            shown.secret = mask(&f.secret, prefix);
            if let Some(c) = shown.companion.as_mut() {
                c.value = mask(&c.value, COMPANION_PREFIX);
            }
            shown
        })
        .collect()
}

/// A secret that is already a mask: not the key its hash names, and shaped
/// as [`mask`] writes.
fn is_masked(f: &Finding) -> bool {
    !f.has_full_secret() && (f.secret == "*****" || f.secret.contains("..."))
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

    #[test]
    fn pem_keys_show_their_type_and_a_short_fingerprint() {
        let a = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAx\n-----END RSA PRIVATE KEY-----";
        let b = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAy\n-----END RSA PRIVATE KEY-----";
        let (ma, mb) = (mask(a, 11), mask(b, 11));
        assert!(ma.starts_with("-----BEGIN RSA PRIVATE KEY-----...sha256:"), "{ma}");
        assert_ne!(ma, mb);
        assert!(!ma.contains("MIIE"));
    }

    #[test]
    fn pieces_at_snippet_edges_are_masked_too() {
        let secret = "sk-proj-Qx7Lm2Vb9Tn4Rk8Wd3"; // leakhound:allow (a test fixture)
        assert_eq!(mask_in("k = 'sk-proj-Qx7Lm2Vb9Tn4Rk8Wd3'", secret, 8), "k = 'sk-proj-...8Wd3'");
        assert_eq!(mask_in("...Vb9Tn4Rk8Wd3' other", secret, 8), "...*****' other");
        assert_eq!(mask_in("other 'sk-proj-Qx7Lm2...", secret, 8), "other '*****...");
    }
}
