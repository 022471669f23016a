//! The detector: the engine plus the enrichment that needs nothing but a
//! blob and its path (client-side exposure). Every mode turns bytes into
//! findings through here, so a finding means the same thing in `scan`,
//! `git` and `staged`.

use std::sync::Arc;

use anyhow::Result;

use crate::engine::{Engine, LineIndex};
use crate::enrich::exposure::{ContentFacts, ExposureRules};
use crate::finding::Finding;
use crate::rules::RuleSet;

pub struct Detector {
    pub engine: Engine,
    pub exposure: ExposureRules,
}

impl Detector {
    pub fn new(rules: Arc<RuleSet>) -> Result<Detector> {
        Ok(Detector { engine: Engine::new(rules), exposure: ExposureRules::builtin()? })
    }

    pub fn rules(&self) -> &RuleSet {
        self.engine.rules()
    }

    /// Matches in `bytes` as findings at `path`, not yet enriched (for the
    /// history audit, where the path is only known later).
    pub fn raw_findings(&self, bytes: &[u8], path: &str) -> Vec<Finding> {
        let matches = self.engine.scan(bytes);
        if matches.is_empty() {
            return Vec::new();
        }
        let mut lines = LineIndex::new(bytes);
        matches.iter().map(|m| Finding::from_match(&self.engine, m, bytes, path, &mut lines)).collect()
    }

    /// Findings in `bytes` at `path`, with exposure applied.
    pub fn findings(&self, bytes: &[u8], path: &str) -> Vec<Finding> {
        let mut findings = self.raw_findings(bytes, path);
        if !findings.is_empty() {
            let facts = self.exposure.facts(bytes);
            findings.retain_mut(|f| self.enrich(f, facts));
        }
        findings
    }

    /// Applies exposure to a finding whose path is final; false when the
    /// finding should be dropped (a client-only rule outside client code).
    pub fn enrich(&self, finding: &mut Finding, facts: ContentFacts) -> bool {
        let client_only = self.rules().get(&finding.rule_id).is_some_and(|r| r.spec.client_only);
        self.exposure.apply(finding, facts, client_only)
    }
}
