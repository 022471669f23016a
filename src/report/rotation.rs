//! The rotation plan: one item per unique secret, most urgent first, with
//! every place it was found. Text output opens with it when `--verify` ran;
//! other renderers (HTML) reuse the same order.
//!
//! Order: live keys first, by what they can do (`verification.access`):
//! admin or organisation-wide keys, then keys with write scopes, then keys
//! whose access the provider did not tell, then read-only keys; among
//! equals, keys served to browsers first. Then keys whose status is unknown
//! (they may still work), keys invalid only on the host asked (`on
//! github.com`: another instance may accept them), then invalid ones;
//! within a group, higher severity first.

use std::collections::BTreeMap;

use crate::finding::{Finding, Level};
use crate::rules::verify_spec::Status;

/// One secret to rotate and where it is.
pub struct RotationItem<'a> {
    /// Findings holding this secret (same rule, same secret hash).
    pub places: Vec<&'a Finding>,
}

impl<'a> RotationItem<'a> {
    pub fn first(&self) -> &'a Finding {
        self.places[0]
    }

    pub fn status(&self) -> Option<Status> {
        self.first().verification.as_ref().map(|v| v.status)
    }

    pub fn client_side(&self) -> bool {
        self.places.iter().any(|f| f.client_side)
    }

    /// What the key can do, when it is live and the provider said.
    pub fn level(&self) -> Option<Level> {
        self.first().verification.as_ref().and_then(|v| v.access.as_ref()).and_then(|a| a.level)
    }

    fn urgency(&self) -> (u8, u8, bool, std::cmp::Reverse<crate::rules::Severity>) {
        let qualified = self.first().verification.as_ref().is_some_and(|v| v.qualifier.is_some());
        let group = match self.status() {
            Some(Status::Live) => 0,
            Some(Status::Unknown) | None => 1,
            Some(Status::Invalid) if qualified => 2,
            Some(Status::Invalid) => 3,
        };
        let level = match (self.status(), self.level()) {
            (Some(Status::Live), Some(Level::Admin)) => 0,
            (Some(Status::Live), Some(Level::Write)) => 1,
            (Some(Status::Live), None) => 2,
            (Some(Status::Live), Some(Level::Read)) => 3,
            _ => 0,
        };
        let severity = self.places.iter().map(|f| f.severity).max().unwrap_or_default();
        (group, level, !self.client_side(), std::cmp::Reverse(severity))
    }
}

/// Groups findings by secret, most urgent first. Findings that are not
/// secrets (`client-exposed-key-reference` warnings) are left out.
pub fn plan(findings: &[Finding]) -> Vec<RotationItem<'_>> {
    let mut by_secret: BTreeMap<(&str, &str), Vec<&Finding>> = BTreeMap::new();
    for f in findings.iter().filter(|f| f.kind != "client-exposed-key-reference") {
        by_secret.entry((f.rule_id.as_str(), f.secret_sha256.as_str())).or_default().push(f);
    }
    let mut items: Vec<RotationItem> = by_secret.into_values().map(|places| RotationItem { places }).collect();
    items.sort_by_key(|item| (item.urgency(), item.first().path.clone(), item.first().line));
    items
}
