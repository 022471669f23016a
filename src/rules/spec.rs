//! The on-disk rule schema (see `rules/README.md`). Unknown fields are an
//! error so that a typo such as `min_entrpy` cannot silently disable a filter.

use serde::Deserialize;

use crate::finding::{Confidence, Severity};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RuleFile {
    #[serde(default)]
    pub rule: Vec<RuleSpec>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    pub id: String,
    pub provider: String,
    pub name: String,
    #[serde(default = "default_kind")]
    pub kind: String,
    #[serde(default)]
    pub severity: Severity,
    #[serde(default)]
    pub confidence: Confidence,
    pub pattern: String,
    pub keywords: Vec<String>,
    #[serde(default)]
    pub min_entropy: Option<f64>,
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Regexes run on the text just before the secret (same line, at most
    /// 64 bytes): a match drops it (`sha256=`, `trace_id=` before 32 hex).
    #[serde(default)]
    pub exclude_before: Vec<String>,
    /// Regexes run on the text just after the secret (same line, at most
    /// 64 bytes): a match drops it (`@localhost` after a URI's password).
    #[serde(default)]
    pub exclude_after: Vec<String>,
    /// Regexes run on up to 256 bytes before the secret, across lines: a
    /// match drops it (a YAML parent key such as `mixpanel:` above a bare
    /// `token:`; the `- name: ...` line above a Kubernetes `value:`).
    #[serde(default)]
    pub exclude_preceding: Vec<String>,
    /// How the secret is encoded: with `base64`, a secret that does not
    /// decode to printable text is dropped, and the placeholder and
    /// default-password filters judge the decoded text (`user:pass`).
    #[serde(default)]
    pub secret_encoding: Option<SecretEncoding>,
    #[serde(default)]
    pub confident_if: Vec<String>,
    /// Words (case-insensitive) that, within `within` bytes on either side
    /// of the secret, mark it as a public value: a Firebase web config's
    /// `apiKey` sits next to `authDomain` and `firebaseapp.com`.
    #[serde(default)]
    pub exclude_near: Option<ExcludeNear>,
    /// Where a match is a value public by design (a Firebase web config's
    /// `apiKey`): it is reported at a lower severity, with the reason,
    /// rather than dropped, so its owner restricts it.
    #[serde(default)]
    pub public: Option<PublicSpec>,
    #[serde(default)]
    pub context: Option<Context>,
    #[serde(default)]
    pub window: Option<usize>,
    /// A catch-all rule (say, any bearer token in an auth header): it loses
    /// to a provider rule matching the same text, and lends it the header
    /// its pattern captured (group `header`).
    #[serde(default)]
    pub generic: bool,
    /// The secret carries structure (base64 of JSON, zero-padded fields):
    /// runs of one character and repeated blocks are normal in it, so only
    /// placeholder words mark a fake.
    #[serde(default)]
    pub structured: bool,
    /// The secret is a password someone picked (a config password, a
    /// URI's): default and demo passwords, and one equal to its user name,
    /// are not reported.
    #[serde(default)]
    pub chosen_password: bool,
    /// Report only when the file ships to browsers (exposure enrichment).
    #[serde(default)]
    pub client_only: bool,
    /// The match names something (an env variable) rather than being a
    /// secret: it is never masked.
    #[serde(default)]
    pub not_secret: bool,
    pub rotate_url: String,
    #[serde(default)]
    pub rotate_steps: Option<String>,
    /// The public half of a two-part credential (a Twilio account SID
    /// beside its auth token): never a finding alone, named in the secret's.
    #[serde(default)]
    pub companion: Option<CompanionSpec>,
    /// A secret third part of the credential, found beside the key and
    /// needed to verify it (an AWS session token): never a finding, never
    /// written out, only sent with the key to its provider.
    #[serde(default)]
    pub session: Option<CompanionSpec>,
    /// API hosts of this provider (built-in rules only). A generic
    /// hardcoded header whose request goes to one of them in the same call
    /// (`fetch("https://api.together.xyz/...", {headers: ...})`) is reported
    /// as this rule's key, verified with its check and rotated its way.
    #[serde(default)]
    pub hosts: Vec<String>,
    /// How to check a found secret with its provider (built-in rules only).
    #[serde(default)]
    pub verify: Option<super::verify_spec::VerifySpec>,
    #[serde(default)]
    pub examples: Vec<String>,
    #[serde(default)]
    pub negative_examples: Vec<String>,
}

fn default_kind() -> String {
    "api-key".to_string()
}

/// For prefix-less keys: the rule's keywords are context words that must
/// appear within `within` bytes of the secret.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Context {
    pub within: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExcludeNear {
    pub words: Vec<String>,
    pub within: usize,
}

/// `[rule.public]`: matches whose surroundings say the value is public by
/// design. Either test marks a match.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublicSpec {
    /// What the value is and what to do about it, shown with the finding.
    pub reason: String,
    /// The severity such a match is reported at.
    #[serde(default = "low")]
    pub severity: Severity,
    /// Regexes run on the text just before the secret (same line, at most
    /// 64 bytes), as `exclude_before` (`FIREBASE_API_KEY=`).
    #[serde(default)]
    pub before: Vec<String>,
    /// Words within a distance of the secret, as `exclude_near`
    /// (`authDomain` in the same config object).
    #[serde(default)]
    pub near: Option<ExcludeNear>,
    /// A live verdict (without a qualifier such as `restricted`) means the
    /// key does more than its public use: it is raised to this.
    #[serde(default)]
    pub if_live: Option<Raise>,
}

fn low() -> Severity {
    Severity::Low
}

/// A severity and the reason for it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Raise {
    pub severity: Severity,
    pub reason: String,
}

/// An encoding the filters undo before judging a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SecretEncoding {
    /// Standard or URL-safe base64, padded or not (HTTP Basic credentials,
    /// Docker `auth`, `.npmrc` `_auth`).
    Base64,
}

/// Where to look for the public half of a two-part credential.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompanionSpec {
    /// What the half is, in words (`account SID`, `public key`).
    pub name: String,
    /// Regex for the half; its group `value`, or the whole match.
    pub pattern: String,
    /// Bytes on either side of the secret to look in.
    #[serde(default = "default_companion_within")]
    pub within: usize,
}

fn default_companion_within() -> usize {
    400
}
