//! Git history modes: the full audit (every blob of every ref, each scanned
//! once, then attributed to the commit that introduced it), and the changes
//! a commit range or the index adds (CI and pre-commit). They wire the git
//! source to the detector; attribution, which only these need, lives here.

pub mod attribution;
pub mod audit;
pub mod budget;
pub mod changes;
mod tree_walk;

pub use audit::{AuditOptions, audit};
pub use changes::{scan_change, scan_range, scan_staged};
