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
/// gitleaks' inline marker, honoured for teams coming from it (it names no rules).
const GITLEAKS_MARKER: &[u8] = b"gitleaks:allow";

/// Whether `line` carries a `leakhound:allow` comment covering `rule_id`,
/// or a `gitleaks:allow` comment.
pub fn inline_allows(line: &[u8], rule_id: &str) -> bool {
    if memchr::memmem::find(line, GITLEAKS_MARKER).is_some() {
        return true;
    }
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

    /// Reads a baseline file, or a report leakhound wrote (`--format json`
    /// or `jsonl`, from any mode, a history audit's included): its findings'
    /// fingerprints are the baseline.
    pub fn load(path: &Path) -> Result<Baseline> {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read baseline {}", path.display()))?;
        let mut baseline = match serde_json::from_str::<Baseline>(&text) {
            Ok(b) => b,
            Err(_) => Baseline::from_findings(&report_findings(&text).with_context(|| {
                format!(
                    "{} is neither a leakhound baseline nor a JSON/JSONL report \
                     (make one with `leakhound baseline create` or `--format json -o FILE`)",
                    path.display()
                )
            })?),
        };
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

/// The findings of a JSON report (`{"findings": [...]}`) or JSON Lines.
fn report_findings(text: &str) -> Result<Vec<Finding>> {
    #[derive(Deserialize)]
    struct Report {
        findings: Vec<Finding>,
    }
    if let Ok(report) = serde_json::from_str::<Report>(text) {
        return Ok(report.findings);
    }
    text.lines().filter(|l| !l.trim().is_empty()).map(|l| Ok(serde_json::from_str::<Finding>(l)?)).collect()
}

/// `.gitleaksignore`: gitleaks' fingerprints, `COMMIT:FILE:RULE:LINE` (history)
/// or `FILE:RULE:LINE` (a tree). leakhound's rule ids differ from gitleaks', so
/// an entry matches a finding on its file and line (and commit, when given).
#[derive(Debug, Default)]
pub struct GitleaksIgnore {
    entries: Vec<(Option<String>, String, usize)>,
}

impl GitleaksIgnore {
    pub const FILE_NAME: &'static str = ".gitleaksignore";

    pub fn parse(text: &str) -> GitleaksIgnore {
        let entries = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .filter_map(|l| {
                let (rest, line) = l.rsplit_once(':')?;
                let line: usize = line.parse().ok()?;
                let (rest, _rule) = rest.rsplit_once(':')?;
                // A 40-hex commit id first, then the file (which may hold `:`).
                match rest.split_once(':') {
                    Some((commit, file)) if commit.len() == 40 && commit.bytes().all(|b| b.is_ascii_hexdigit()) => {
                        Some((Some(commit.to_ascii_lowercase()), file.to_string(), line))
                    }
                    _ => Some((None, rest.to_string(), line)),
                }
            })
            .collect();
        GitleaksIgnore { entries }
    }

    /// `.gitleaksignore` in `root`, if there is one.
    pub fn load(root: &Path) -> Option<GitleaksIgnore> {
        std::fs::read_to_string(root.join(Self::FILE_NAME)).ok().map(|t| GitleaksIgnore::parse(&t))
    }

    fn matches(&self, f: &Finding) -> bool {
        self.entries.iter().any(|(commit, file, line)| {
            *file == f.path
                && *line == f.line
                && commit.as_ref().is_none_or(|c| f.git.as_ref().is_some_and(|g| g.commit.eq_ignore_ascii_case(c)))
        })
    }
}

/// Moves suppressed findings out of `findings`, marking why; returns them
/// and the count per reason.
pub fn suppress(
    findings: &mut Vec<Finding>,
    config: &Config,
    baseline: Option<&Baseline>,
    gitleaks: Option<&GitleaksIgnore>,
) -> (Vec<Finding>, BTreeMap<&'static str, u64>) {
    let mut suppressed = Vec::new();
    let mut counts = BTreeMap::new();
    findings.retain(|f| {
        let reason = if f.inline_allow {
            Some("inline-allow")
        } else if config.allows(&f.path) {
            Some("allow-paths")
        } else if let Some(list) = config.allows_finding(f) {
            Some(list)
        } else if baseline.is_some_and(|b| b.contains(&f.fingerprint)) {
            Some("baseline")
        } else if gitleaks.is_some_and(|g| g.matches(f)) {
            Some("gitleaksignore")
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
