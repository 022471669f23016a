//! leakhound: a secret scanner for AI-provider and cloud API keys.
//!
//! Data flows one way, and the modules follow it:
//!
//! - [`source`]: where bytes come from (filesystem tree, stdin, git history);
//! - [`engine`]: bytes in, matches out (keyword prefilter, regex confirm, filters);
//! - [`detect`]: the engine plus per-blob enrichment: bytes and a path in, findings out;
//! - [`rules`]: the detectors, as data (`rules/*.toml`, embedded);
//! - [`finding`]: the one record every mode produces;
//! - [`scan`]: wires a source to the engine and collects findings and stats;
//! - [`enrich`]: what is added to findings (client-side exposure, git attribution);
//! - [`audit`]: the full-history git audit, end to end;
//! - [`org`]: many repositories: lists, shards, bare clones, merging shard reports;
//! - [`changes`]: what a commit range or the staged changes add;
//! - [`verify`]: asking providers whether found keys still work (`--verify`);
//! - [`report`]: redaction and the renderers (text, json, jsonl);
//! - [`config`]: `.leakhound.toml` (untrusted: it can never redirect a key);
//! - [`cli`]: argument parsing and exit codes.

pub mod cli;
pub mod config;
pub mod decode;
pub mod detect;
pub mod engine;
pub mod enrich;
pub mod finding;
pub mod history;
pub mod hook;
pub mod org;
pub mod outcome;
pub mod report;
pub mod rules;
pub mod scan;
pub mod source;
pub mod verify;
