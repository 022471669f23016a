//! The rotation plan: one item per unique secret, most urgent first, with
//! every place it was found. Text output opens with it when `--verify` ran,
//! and is made of it for history findings (`by_key`); other renderers
//! (HTML) reuse the same order.
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

/// Whether a finding is a key to rotate: not a warning that names no
/// secret (`client-exposed-key-reference`), not a value public by design.
pub fn to_rotate(f: &Finding) -> bool {
    f.kind != "client-exposed-key-reference" && !f.is_public_only()
}

/// Groups the keys to rotate by secret, most urgent first.
pub fn plan(findings: &[Finding]) -> Vec<RotationItem<'_>> {
    let mut by_secret: BTreeMap<(&str, &str), Vec<&Finding>> = BTreeMap::new();
    for f in findings.iter().filter(|f| to_rotate(f)) {
        by_secret.entry((f.rule_id.as_str(), f.secret_sha256.as_str())).or_default().push(f);
    }
    sorted(by_secret.into_values().collect())
}

/// Every finding grouped by secret alone (a unique key, as the summary
/// counts them), in the plan's order; the keys to rotate first.
pub fn by_key(findings: &[Finding]) -> Vec<RotationItem<'_>> {
    let mut by_secret: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for f in findings {
        by_secret.entry(f.secret_sha256.as_str()).or_default().push(f);
    }
    let mut groups: Vec<Vec<&Finding>> = by_secret.into_values().collect();
    for places in &mut groups {
        // A place of a key to rotate first, so the item's headline is one.
        places.sort_by_key(|f| !to_rotate(f));
    }
    let mut items = sorted(groups);
    items.sort_by_key(|item| !item.places.iter().any(|f| to_rotate(f)));
    items
}

fn sorted(groups: Vec<Vec<&Finding>>) -> Vec<RotationItem<'_>> {
    let mut items: Vec<RotationItem> = groups.into_iter().map(|places| RotationItem { places }).collect();
    items.sort_by_key(|item| (item.urgency(), item.first().path.clone(), item.first().line));
    items
}
