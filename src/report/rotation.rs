//! The rotation plan: one item per unique secret, most urgent first, with
//! every place it was found. Text output opens with it when `--verify` ran;
//! other renderers (HTML) reuse the same order.
//!
//! Order: live keys served to browsers, other live keys, keys whose status
//! is unknown (they may still work), then invalid ones; within a group,
//! higher severity first.

use std::collections::BTreeMap;

use crate::finding::Finding;
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

    fn urgency(&self) -> (u8, std::cmp::Reverse<crate::rules::Severity>) {
        let group = match (self.status(), self.client_side()) {
            (Some(Status::Live), true) => 0,
            (Some(Status::Live), false) => 1,
            (Some(Status::Unknown) | None, true) => 2,
            (Some(Status::Unknown) | None, false) => 3,
            (Some(Status::Invalid), _) => 4,
        };
        let severity = self.places.iter().map(|f| f.severity).max().unwrap_or_default();
        (group, std::cmp::Reverse(severity))
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
