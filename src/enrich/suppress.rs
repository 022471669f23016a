//! Suppression: findings a team has decided not to see again. Three
//! mechanisms, applied after detection so every mode honours them alike:
//!
//! - an inline `leakhound:allow` comment on the finding's line (any comment
//!   syntax; `leakhound:allow RULE_ID ...` limits it to those rules);
//! - the config's `allow_paths` globs;
//! - a baseline file of fingerprints (`leakhound baseline create`), so a
//!   team can adopt leakhound without drowning in old findings and still
//!   fail on anything new. Baselines hold hashes only, never secrets.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::finding::Finding;

const ALLOW_MARKER: &[u8] = b"leakhound:allow";

/// Whether `line` carries a `leakhound:allow` comment covering `rule_id`.
pub fn inline_allows(line: &[u8], rule_id: &str) -> bool {
    let Some(at) = memchr::memmem::find(line, ALLOW_MARKER) else { return false };
    let rest = &line[at + ALLOW_MARKER.len()..];
    // Rule ids follow, separated by spaces or commas; anything else ends them.
    let ids: Vec<&[u8]> = rest
        .split(|&b| b == b' ' || b == b',' || b == b'\t')
        .skip_while(|w| w.is_empty())
        .take_while(|w| !w.is_empty() && w.iter().all(|&b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'))
        .collect();
    ids.is_empty() || ids.contains(&rule_id.as_bytes())
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Baseline {
    pub version: u32,
    pub created: String,
    pub entries: Vec<BaselineEntry>,
}

/// One recorded finding: enough to recognise it, nothing to reveal it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct BaselineEntry {
    pub fingerprint: String,
    pub rule_id: String,
    pub path: String,
}

impl Baseline {
    pub fn from_findings(findings: &[Finding]) -> Baseline {
        let entries: BTreeSet<BaselineEntry> = findings
            .iter()
            .map(|f| BaselineEntry {
                fingerprint: f.fingerprint.clone(),
                rule_id: f.rule_id.clone(),
                path: f.path.clone(),
            })
            .collect();
        let created =
            time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
        Baseline { version: 1, created, entries: entries.into_iter().collect() }
    }

    pub fn load(path: &Path) -> Result<Baseline> {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read baseline {}", path.display()))?;
        let mut baseline: Baseline =
            serde_json::from_str(&text).with_context(|| format!("{} is not a leakhound baseline", path.display()))?;
        baseline.entries.sort();
        Ok(baseline)
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self)?;
        std::fs::write(path, text + "\n").with_context(|| format!("cannot write baseline {}", path.display()))
    }

    fn contains(&self, fingerprint: &str) -> bool {
        // Entries are sorted (by fingerprint first) on creation and load.
        self.entries.binary_search_by(|e| e.fingerprint.as_str().cmp(fingerprint)).is_ok()
    }
}

/// Moves suppressed findings out of `findings`, marking why; returns them
/// and the count per reason.
pub fn suppress(
    findings: &mut Vec<Finding>,
    config: &Config,
    baseline: Option<&Baseline>,
) -> (Vec<Finding>, BTreeMap<&'static str, u64>) {
    let mut suppressed = Vec::new();
    let mut counts = BTreeMap::new();
    findings.retain(|f| {
        let reason = if f.inline_allow {
            Some("inline-allow")
        } else if config.allows(&f.path) {
            Some("allow-paths")
        } else if baseline.is_some_and(|b| b.contains(&f.fingerprint)) {
            Some("baseline")
        } else {
            None
        };
        match reason {
            Some(r) => {
                let mut f = f.clone();
                f.suppressed_by = Some(r.to_string());
                suppressed.push(f);
                *counts.entry(r).or_insert(0) += 1;
                false
            }
            None => true,
        }
    });
    (suppressed, counts)
}

#[cfg(test)]
mod tests {
    use super::inline_allows;

    #[test]
    fn allow_comments_in_any_syntax() {
        for line in [
            "KEY=abc # leakhound:allow",
            "const k = 'abc'; // leakhound:allow",
            "k = 'abc' -- leakhound:allow openai-project-key",
            "<!-- leakhound:allow openai-project-key, github-pat-classic -->",
            "/* leakhound:allow */ k = 1",
        ] {
            assert!(inline_allows(line.as_bytes(), "openai-project-key"), "{line}");
        }
        assert!(!inline_allows(b"k = 1 # leakhound:allow github-pat-classic", "openai-project-key"));
        assert!(!inline_allows(b"k = 1 # allow", "openai-project-key"));
    }
}
