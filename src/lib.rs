//! leakhound: a secret scanner for AI-provider and cloud API keys.
//!
//! Data flows one way, and the modules follow it (`ARCHITECTURE.md` draws it):
//!
//! - [`rules`]: the detectors, as data (`rules/*.toml`, embedded), loaded and validated;
//! - [`source`]: where bytes come from (filesystem tree, stdin, git packs and diffs); knows no rules;
//! - [`engine`]: bytes in, matches out (keyword prefilter, regex confirm, filters);
//! - [`decode`]: text decoders (escapes, base64, hex, UTF-16, notebooks, source maps) and containers opened by content (archives, compressed files, CRX, asar, PDF, Office text);
//! - [`detect`]: the engine and decoders on one blob and its path: findings out;
//! - [`finding`]: the one record every mode produces (a leaf);
//! - [`outcome`]: what a run produced: findings, skips, stats, notes;
//! - [`enrich`]: client-side exposure and suppression;
//! - [`verify`]: asking providers whether found keys still work (`--verify`);
//! - [`report`]: masking (once) and the renderers (text, json, jsonl, sarif, html);
//! - [`config`]: `.leakhound.toml` (untrusted: it can never redirect a key);
//! - [`hook`]: the pre-commit hook file.
//!
//! The modes, and the command that runs each:
//!
//! - `leakhound scan` → [`scan`] (a tree or stdin through the detector);
//! - `leakhound git` → [`history::audit`] (whole history, with [`history::attribution`]);
//! - `leakhound git --range`, `leakhound staged` → [`history::changes`];
//! - `leakhound git --repos`, `leakhound merge` → [`org`];
//! - `leakhound baseline`, `hook`, `rules` and the flags → [`cli`] (one file per command).

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
