//! leakhound: a secret scanner for AI-provider and cloud API keys.
//!
//! Data flows one way, and the modules follow it:
//!
//! - [`source`]: where bytes come from (filesystem tree, stdin);
//! - [`engine`]: bytes in, matches out (keyword prefilter, regex confirm, filters);
//! - [`rules`]: the detectors, as data (`rules/*.toml`, embedded);
//! - [`finding`]: the one record every mode produces;
//! - [`scan`]: wires a source to the engine and collects findings and stats;
//! - [`report`]: redaction and the renderers (text, json, jsonl);
//! - [`cli`]: argument parsing and exit codes.

pub mod cli;
pub mod engine;
pub mod finding;
pub mod report;
pub mod rules;
pub mod scan;
pub mod source;
