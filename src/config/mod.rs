//! `.leakhound.toml`: per-repository settings (found at the scan root, or
//! given with `--config FILE`).
//!
//! The file usually comes from the repository being scanned, so it is
//! untrusted: it may add rules and silence findings, but it can never make
//! leakhound send a key anywhere. A rule's `verify` table is dropped, a rule
//! that reuses a built-in rule's id is ignored, and verification settings
//! (`verify_endpoint` and friends) are ignored, each with a warning.
//! Anything else unknown is an error naming the file and line.
//!
//! ```toml
//! allow_paths = ["tests/fixtures/**", "docs/examples/*.md"]
//! allow_secrets = ["sha256:9f86d0…"]   # one secret, by the SHA-256 a finding reports
//! allow_patterns = ["^sk_test_"]      # secrets matching a regex
//! allow_commits = ["4f2a9c1"]         # what these commits introduced (git modes)
//! baseline = ".leakhound-baseline.json"  # used when --baseline is not given
//! disable_rules = ["generic-bearer-header"]
//! fail_on = "critical"            # any | critical | live | warning
//! max_file_size = "10M"
//! respect_gitignore = true
//!
//! [[rule]]                        # same schema as rules/*.toml
//! id = "acme-internal-token"
//! ...
//! ```

pub mod gitleaks;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::Deserialize;

use crate::finding::{Finding, Severity, Status};
use crate::rules::{RuleSet, RuleSpec};

pub const FILE_NAME: &str = ".leakhound.toml";

/// Keys a repository might use to redirect verification: ignored, warned.
const REFUSED_KEYS: &[&str] = &[
    "verify",
    "verify_endpoint",
    "verify-endpoint",
    "verify_endpoints",
    "endpoints",
    "verifiers",
    "verifier",
    "github_api",
    "github-api",
    "gitlab_url",
    "gitlab-url",
];

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[serde(default)]
    allow_paths: Vec<String>,
    #[serde(default)]
    allow_secrets: Vec<String>,
    #[serde(default)]
    allow_patterns: Vec<String>,
    #[serde(default)]
    allow_commits: Vec<String>,
    #[serde(default)]
    baseline: Option<String>,
    #[serde(default)]
    disable_rules: Vec<String>,
    #[serde(default)]
    fail_on: Option<String>,
    #[serde(default)]
    max_file_size: Option<String>,
    #[serde(default)]
    respect_gitignore: Option<bool>,
    #[serde(default)]
    rule: Vec<RuleSpec>,
}

/// Which findings make the exit code 1 (`--fail-on`, `fail_on`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FailOn {
    /// Every finding except warnings and values public by design that
    /// verification did not raise (`Finding::is_public_only`).
    #[default]
    Any,
    Critical,
    /// Only keys `--verify` found live.
    Live,
    /// Warnings and public values too.
    Warning,
}

impl FailOn {
    /// Every value, by the name users type.
    pub const ALL: [(&'static str, FailOn); 4] =
        [("any", FailOn::Any), ("critical", FailOn::Critical), ("live", FailOn::Live), ("warning", FailOn::Warning)];

    pub fn from_name(name: &str) -> Option<FailOn> {
        FailOn::ALL.iter().find(|(n, _)| *n == name).map(|&(_, f)| f)
    }

    pub fn fails(self, finding: &Finding) -> bool {
        match self {
            FailOn::Any => finding.severity > Severity::Warning && !finding.is_public_only(),
            FailOn::Critical => finding.severity == Severity::Critical,
            FailOn::Live => finding.verification.as_ref().is_some_and(|v| v.status == Status::Live),
            FailOn::Warning => true,
        }
    }
}

/// The line of every `id = "..."` in a config's text.
fn rule_lines(text: &str) -> std::collections::HashMap<String, usize> {
    text.lines()
        .enumerate()
        .filter_map(|(n, line)| {
            let value = line.trim().strip_prefix("id")?.trim_start().strip_prefix('=')?.trim();
            Some((value.trim_matches(|c| c == '"' || c == '\'').to_string(), n + 1))
        })
        .collect()
}

/// A size that could not be read (`--max-file-size`, `max_file_size`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SizeError {
    #[error("`{0}` is not a size: use bytes or a K/M/G suffix")]
    NotASize(String),
    #[error("unknown size unit `{0}`: use K, M or G")]
    UnknownUnit(String),
    #[error("`{0}` is too large")]
    TooLarge(String),
}

/// Parses `1048576`, `512K`, `25M`, `1G` (binary units; `KiB`/`MB` also accepted).
pub fn parse_size(text: &str) -> Result<u64, SizeError> {
    let text = text.trim();
    let digits_end = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(digits_end);
    let number: u64 = number.parse().map_err(|_| SizeError::NotASize(text.into()))?;
    let multiplier: u64 = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "K" | "KB" | "KIB" => 1 << 10,
        "M" | "MB" | "MIB" => 1 << 20,
        "G" | "GB" | "GIB" => 1 << 30,
        other => return Err(SizeError::UnknownUnit(other.into())),
    };
    number.checked_mul(multiplier).ok_or_else(|| SizeError::TooLarge(text.into()))
}

/// A loaded configuration.
#[derive(Debug, Default)]
pub struct Config {
    pub path: Option<PathBuf>,
    allow: Option<GlobSet>,
    pub allow_paths: Vec<String>,
    /// SHA-256 (hex) of secrets allowed anywhere.
    allow_secrets: Vec<String>,
    allow_patterns: Vec<regex::Regex>,
    allow_commits: Vec<String>,
    /// The baseline file, resolved against the config file's folder.
    pub baseline: Option<PathBuf>,
    pub disable_rules: Vec<String>,
    pub fail_on: Option<FailOn>,
    pub max_file_size: Option<u64>,
    pub respect_gitignore: Option<bool>,
    rules: Vec<RuleSpec>,
    /// Line of each custom rule's `id = "..."`, for error messages.
    rule_lines: std::collections::HashMap<String, usize>,
    /// Things ignored on purpose, to print.
    pub warnings: Vec<String>,
}

impl Config {
    /// `explicit` if given (must exist), else `.leakhound.toml` in `root`
    /// if present, else the defaults.
    pub fn load(explicit: Option<&Path>, root: &Path) -> Result<Config> {
        let path = match explicit {
            Some(p) => p.to_path_buf(),
            None => {
                let dir = if root.is_dir() { root } else { root.parent().unwrap_or(Path::new(".")) };
                let candidate = dir.join(FILE_NAME);
                if !candidate.is_file() {
                    return Ok(Config::default());
                }
                candidate
            }
        };
        let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read config {}", path.display()))?;
        Config::parse(&text, &path)
    }

    pub fn parse(text: &str, path: &Path) -> Result<Config> {
        let origin = path.display().to_string();
        let mut warnings = Vec::new();
        let mut table: toml::Table = toml::from_str(text).map_err(|e| anyhow::anyhow!("{origin}: {e}"))?;
        for key in REFUSED_KEYS {
            if table.remove(*key).is_some() {
                warnings
                    .push(format!("{origin}: `{key}` ignored: verification targets cannot be set from a config file"));
            }
        }
        // Re-parse the original text for line numbers in errors, unless a
        // refused key had to be removed first.
        let raw: Raw = if warnings.is_empty() {
            toml::from_str(text).map_err(|e| anyhow::anyhow!("{origin}: {e}"))?
        } else {
            Raw::deserialize(toml::Value::Table(table)).map_err(|e| anyhow::anyhow!("{origin}: {e}"))?
        };
        let fail_on = match raw.fail_on.as_deref() {
            None => None,
            Some(text) => Some(FailOn::from_name(text).ok_or_else(|| {
                anyhow::anyhow!("{origin}: fail_on must be one of any, critical, live, warning (got `{text}`)")
            })?),
        };
        let max_file_size = match raw.max_file_size.as_deref() {
            None => None,
            Some(text) => Some(parse_size(text).map_err(|e| anyhow::anyhow!("config max_file_size: {e}"))?),
        };
        let mut builder = GlobSetBuilder::new();
        for glob in &raw.allow_paths {
            builder.add(Glob::new(glob).with_context(|| format!("{origin}: invalid allow_paths glob `{glob}`"))?);
        }
        let mut allow_secrets = Vec::new();
        for entry in &raw.allow_secrets {
            let hex = entry.strip_prefix("sha256:").unwrap_or(entry).to_ascii_lowercase();
            if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                // The entry is not echoed: it may be the secret itself.
                anyhow::bail!(
                    "{origin}: allow_secrets entries are `sha256:` and the 64 hex digits of a finding's `secret_sha256` \
                     (a secret itself never belongs in this file); entry {} is {} characters that are not that",
                    allow_secrets.len() + 1,
                    entry.chars().count()
                );
            }
            allow_secrets.push(hex);
        }
        let allow_patterns = raw
            .allow_patterns
            .iter()
            .map(|p| regex::Regex::new(p).with_context(|| format!("{origin}: invalid allow_patterns regex `{p}`")))
            .collect::<Result<Vec<_>>>()?;
        let base_dir = path.parent().unwrap_or(Path::new("."));
        Ok(Config {
            path: Some(path.to_path_buf()),
            allow: Some(builder.build()?),
            allow_secrets,
            allow_patterns,
            allow_commits: raw.allow_commits.iter().map(|c| c.trim().to_ascii_lowercase()).collect(),
            baseline: raw.baseline.map(|b| base_dir.join(b)),
            allow_paths: raw.allow_paths,
            disable_rules: raw.disable_rules,
            fail_on,
            max_file_size,
            respect_gitignore: raw.respect_gitignore,
            rule_lines: rule_lines(text),
            rules: raw.rule,
            warnings,
        })
    }

    /// Applies `disable_rules` and adds the custom rules to `rules`. Custom
    /// rules never verify and never replace a built-in rule.
    pub fn apply_to_rules(&mut self, rules: &mut RuleSet) -> Result<()> {
        let origin = self.path.as_ref().map_or_else(|| FILE_NAME.to_string(), |p| p.display().to_string());
        for id in &self.disable_rules {
            if rules.get(id).is_none() && !self.rules.iter().any(|r| &r.id == id) {
                self.warnings.push(format!("{origin}: disable_rules names unknown rule `{id}`"));
            }
        }
        let mut custom = Vec::new();
        for spec in std::mem::take(&mut self.rules) {
            if rules.get(&spec.id).is_some() {
                self.warnings.push(format!(
                    "{origin}: rule `{}` ignored: it would redefine a built-in rule (disable it and use a new id)",
                    spec.id
                ));
            } else {
                custom.push(spec);
            }
        }
        let warnings = rules.add_untrusted(&origin, custom).map_err(|e| match &e {
            // Point at the rule in the file: a config may hold dozens.
            crate::rules::RuleError::Invalid { id, .. } => match self.rule_lines.get(id) {
                Some(line) => anyhow::anyhow!("{e} (the rule at line {line})"),
                None => e.into(),
            },
            _ => e.into(),
        })?;
        self.warnings.extend(warnings);
        let disabled = &self.disable_rules;
        rules.retain(|r| !disabled.contains(&r.spec.id));
        Ok(())
    }

    /// Whether findings at `path` are silenced by `allow_paths`.
    pub fn allows(&self, path: &str) -> bool {
        self.allow.as_ref().is_some_and(|set| set.is_match(path))
    }

    /// Which allow list silences `finding`, if one does: `allow-secrets`,
    /// `allow-patterns` or `allow-commits`.
    pub fn allows_finding(&self, finding: &Finding) -> Option<&'static str> {
        if self.allow_secrets.contains(&finding.secret_sha256) {
            Some("allow-secrets")
        } else if self.allow_patterns.iter().any(|r| r.is_match(&finding.secret)) {
            Some("allow-patterns")
        } else if finding.git.as_ref().is_some_and(|g| {
            let commit = g.commit.to_ascii_lowercase();
            self.allow_commits.iter().any(|c| c.len() >= 7 && commit.starts_with(c.as_str()))
        }) {
            Some("allow-commits")
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("100"), Ok(100));
        assert_eq!(parse_size("25M"), Ok(25 << 20));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_size("4kb"), Ok(4096));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("5T").is_err());
    }
}
