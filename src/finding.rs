//! The `Finding`: the one record every mode produces and every renderer
//! prints. Its JSON field names are a public interface (see README), so
//! fields are only ever added, never renamed.
//!
//! A leaf: the vocabulary every layer shares (severity, confidence, the
//! verdict of a verification) lives here and imports nothing of the crate.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Bytes of the matched line kept on each side of the secret in `snippet`;
/// minified bundles have lines of megabytes.
const SNIPPET_CONTEXT: usize = 80;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Finding {
    pub rule_id: String,
    pub provider: String,
    /// Human name of the rule.
    pub name: String,
    pub kind: String,
    /// The secret; redacted by the report layer unless `--show-secrets`.
    pub secret: String,
    /// SHA-256 of the secret (hex): identifies a key across files and runs
    /// without revealing it.
    pub secret_sha256: String,
    /// Stable identity for baselines: rule id + secret hash + path.
    pub fingerprint: String,
    /// The repository, as listed in `git --repos FILE` (org-scale audits
    /// and `merge` only).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub repository: Option<String>,
    /// Path relative to the scanned root (`-` for stdin).
    pub path: String,
    /// 1-based line and byte column of the secret's first byte.
    pub line: usize,
    pub column: usize,
    /// The matched line, cut to the neighbourhood of the secret.
    pub snippet: String,
    pub client_side: bool,
    /// Why the key is (or is not) served to browsers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exposure: Option<String>,
    /// How the secret was found when it was not plain text, outermost
    /// first: `["zip", "base64"]`, `["notebook"]`, `["utf-16le"]`.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub decoded: Vec<String>,
    /// Where inside the file, when a line number is not enough: a
    /// notebook's `cell 3`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub note: Option<String>,
    /// The public half of a two-part credential found beside the secret
    /// (a Twilio account SID next to its auth token): one finding names both.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub companion: Option<Companion>,
    /// The HTTP header the secret is hardcoded in (`Authorization`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
    /// For a hardcoded header whose request goes to a known provider's host
    /// in the same call: that host, which made the token that provider's.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub request_host: Option<String>,
    /// A secret third part found beside the key and needed to verify it (an
    /// AWS session token for a temporary `ASIA` key). Never written out:
    /// only sent, with the key, to the provider's official host.
    #[serde(skip)]
    pub session: Option<String>,
    pub severity: Severity,
    /// Why `severity` is not the rule's usual one: a value public by design
    /// (a Firebase web config's key), or one verification raised again.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub severity_reason: Option<String>,
    /// The value is meant to be public (the rule's `[rule.public]` matched):
    /// restrict it, no need to rotate it, unless verification raised it.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub public_by_design: bool,
    pub confidence: Confidence,
    pub rotate_url: String,
    /// Why the finding is suppressed (`inline-allow`, `allow-paths`,
    /// `baseline`); only present in the `suppressed` list.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppressed_by: Option<String>,
    /// The line carries a `leakhound:allow` comment covering this rule.
    #[serde(skip)]
    pub inline_allow: bool,
    /// Byte offset of the secret in the buffer that was scanned (a decoded
    /// view maps it back to the file).
    #[serde(skip)]
    pub byte_offset: usize,
    /// Whether the provider still accepts the secret (`--verify` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verification: Option<Verification>,
    /// Where in git history the secret was introduced (git modes only).
    #[serde(flatten)]
    pub git: Option<GitInfo>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Live,
    Invalid,
    Unknown,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Live => "live",
            Status::Invalid => "invalid",
            Status::Unknown => "unknown",
        }
    }
}

/// The public half of a two-part credential. It is not a secret on its own
/// (an account id, a public key), so it is shown as found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Companion {
    /// What it is, in words (`account SID`).
    pub name: String,
    pub value: String,
}

/// The outcome of one verification request. JSON names are public.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Verification {
    /// `live`, `invalid` or `unknown`.
    pub status: Status,
    /// For live keys: `restricted` (an IP/referrer/region/scope rule blocked
    /// an otherwise valid key) or `no-quota`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub qualifier: Option<String>,
    /// What the response revealed (organization, key label, limits), or why
    /// the status is `unknown`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub detail: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub http_status: Option<u16>,
    /// When the provider was asked, RFC 3339 (UTC).
    pub checked_at: String,
    /// For live keys: what the key can do, as the same answer told it
    /// (identity, account, scopes, expiry, admin).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub access: Option<Access>,
}

/// How much a live key can do, most powerful first (the order rotation
/// plans use).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Administers an account or organisation (admin scopes, an admin key,
    /// root credentials, an org-wide install).
    Admin,
    /// Can change things (write scopes).
    Write,
    /// Read-only.
    Read,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Admin => "admin",
            Level::Write => "write",
            Level::Read => "read",
        }
    }
}

/// What a live key can do, from the verification answer itself (body
/// fields and headers the rule names). JSON names are public.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Access {
    /// Who the key acts as: a user login, a bot, an ARN, a key's name.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub identity: Option<String>,
    /// The account, organisation, workspace or team it belongs to.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub account: Option<String>,
    /// Scopes or permissions the provider reported.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub scopes: Vec<String>,
    /// When the key expires, as the provider wrote it.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub expires: Option<String>,
    /// Admin or owner rights (also `level: "admin"`).
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub admin: bool,
    /// `admin`, `write` or `read`, when the scopes or the key's kind tell.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub level: Option<Level>,
    /// Other facts the provider states (`livemode`, `project`, `role`).
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty", default)]
    pub facts: std::collections::BTreeMap<String, String>,
}

impl Access {
    pub fn is_empty(&self) -> bool {
        *self == Access::default()
    }

    /// One line for people: `admin · identity octocat · account acme ·
    /// scopes repo, admin:org · expires 2026-01-01`.
    pub fn summary(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        if let Some(level) = self.level {
            parts.push(level.as_str().to_string());
        }
        if let Some(identity) = &self.identity {
            parts.push(format!("identity {identity}"));
        }
        if let Some(account) = &self.account {
            parts.push(format!("account {account}"));
        }
        if !self.scopes.is_empty() {
            const SHOWN: usize = 8;
            let mut scopes = self.scopes.iter().take(SHOWN).cloned().collect::<Vec<_>>().join(", ");
            if self.scopes.len() > SHOWN {
                scopes.push_str(&format!(" (+{} more)", self.scopes.len() - SHOWN));
            }
            parts.push(format!("scopes {scopes}"));
        }
        if let Some(expires) = &self.expires {
            parts.push(format!("expires {expires}"));
        }
        for (name, value) in &self.facts {
            parts.push(format!("{name} {value}"));
        }
        parts.join(" · ")
    }
}

/// Git attribution: the commit that introduced a secret at its path, and how
/// far it spread. JSON names are part of the public interface.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct GitInfo {
    /// The introducing commit (full hex id).
    pub commit: String,
    pub author: String,
    pub email: String,
    /// Author date of the introducing commit, RFC 3339.
    pub date: String,
    /// First line of the introducing commit's message.
    pub summary: String,
    /// Whether the file at `path` still holds the secret at HEAD.
    pub in_head: bool,
    /// How many commits have the secret at this path.
    pub commit_count: u64,
    /// How many commits have the secret at any path (history audits; 0
    /// when not counted).
    #[serde(skip_serializing_if = "is_zero", default)]
    pub key_commit_count: u64,
    /// Refs (branches, tags, remotes, stash) whose history holds it.
    pub branches: Vec<String>,
    /// Blob id of the file version the line/column refer to.
    pub blob: String,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Finding {
    /// A value public by design that nothing showed to be more (no live
    /// verdict raised it): reported, but neither to rotate nor to fail on.
    pub fn is_public_only(&self) -> bool {
        self.public_by_design && self.severity <= Severity::Low
    }

    /// Whether `secret` is the key itself rather than a masked form of it
    /// (a shard report read back): its hash is `secret_sha256`.
    pub fn has_full_secret(&self) -> bool {
        secret_hash(self.secret.as_bytes()) == self.secret_sha256
    }

    /// The same finding at another path (fingerprint recomputed).
    pub fn at_path(&self, path: &str) -> Finding {
        Finding {
            path: path.to_string(),
            fingerprint: fingerprint(&self.rule_id, &self.secret_sha256, path),
            ..self.clone()
        }
    }
}

/// SHA-256 (hex) of a secret as it would be written with `\n` line ends:
/// a multi-line secret (a PEM private key) is the same key, with the same
/// hash, in a CRLF file and an LF one.
pub fn secret_hash(secret: &[u8]) -> String {
    if memchr::memchr(b'\r', secret).is_none() {
        return hex::encode(Sha256::digest(secret));
    }
    let mut hasher = Sha256::new();
    for (k, line) in secret.split(|&b| b == b'\n').enumerate() {
        if k > 0 {
            hasher.update(b"\n");
        }
        hasher.update(line.strip_suffix(b"\r").unwrap_or(line));
    }
    hex::encode(hasher.finalize())
}

/// `sha256(rule_id \0 secret_sha256 \0 path)`, hex. Line numbers are left
/// out on purpose: they move when unrelated lines change.
pub fn fingerprint(rule_id: &str, secret_sha256: &str, path: &str) -> String {
    let mut hasher = Sha256::new();
    for part in [rule_id, secret_sha256, path] {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    hex::encode(hasher.finalize())
}

/// The part of `line` around the secret at `col..col + len`, lossily decoded.
/// A multi-line secret (a PEM block) keeps only its first line.
pub fn snippet(line: &[u8], col: usize, len: usize) -> String {
    let start = floor_char_boundary(line, col.saturating_sub(SNIPPET_CONTEXT));
    let end = floor_char_boundary(line, (col + len + SNIPPET_CONTEXT).min(line.len()));
    let mut text = String::new();
    if start > 0 {
        text.push_str("...");
    }
    text.push_str(String::from_utf8_lossy(&line[start..end]).trim());
    if end < line.len() {
        text.push_str("...");
    }
    text
}

/// Moves `i` back to the start of a UTF-8 sequence so a cut never splits a
/// character (a lossy decode would show a replacement character).
fn floor_char_boundary(bytes: &[u8], mut i: usize) -> usize {
    while i > 0 && i < bytes.len() && (bytes[i] & 0b1100_0000) == 0b1000_0000 {
        i -= 1;
    }
    i
}

/// How urgent a finding is. Ordered from least to most severe so that
/// `max()` picks the worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Low,
    Medium,
    #[default]
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// How sure the rule is that a match is a real key of that provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Low,
    Medium,
    #[default]
    High,
}

impl Confidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crlf_and_lf_secrets_hash_alike() {
        let lf = b"-----BEGIN RSA PRIVATE KEY-----\nMIIEab\ncd==\n-----END RSA PRIVATE KEY-----";
        let crlf = b"-----BEGIN RSA PRIVATE KEY-----\r\nMIIEab\r\ncd==\r\n-----END RSA PRIVATE KEY-----";
        assert_eq!(secret_hash(crlf), secret_hash(lf));
        assert_eq!(secret_hash(lf), hex::encode(Sha256::digest(lf)));
        assert_ne!(secret_hash(b"a\rb"), secret_hash(b"ab"));
    }

    #[test]
    fn fingerprint_ignores_line_but_not_path() {
        let a = fingerprint("r", "h", "a.py");
        assert_eq!(a, fingerprint("r", "h", "a.py"));
        assert_ne!(a, fingerprint("r", "h", "b.py"));
        assert_ne!(a, fingerprint("r2", "h", "a.py"));
    }

    #[test]
    fn snippet_cuts_long_lines() {
        let line = format!("{}KEY{}", "a".repeat(200), "b".repeat(200));
        let s = snippet(line.as_bytes(), 200, 3);
        assert!(s.starts_with("...") && s.ends_with("..."));
        assert!(s.contains("KEY"));
        assert_eq!(s.len(), 3 + 80 + 3 + 80 + 3);
    }
}
