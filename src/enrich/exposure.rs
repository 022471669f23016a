//! Client-side exposure: is this key served to every visitor's browser?
//!
//! The decision rules are data (`rules/exposure/client-side.toml`, where
//! their order is documented); this module only applies them. A file's
//! content is consulted for a few markers (`dangerouslyAllowBrowser: true`,
//! `"use server"`), computed once per file that has findings.

use std::collections::HashSet;

use anyhow::{Context, Result};
use globset::{Glob, GlobSet, GlobSetBuilder};
use regex::bytes::{Regex, RegexBuilder};
use serde::Deserialize;

use crate::finding::Finding;
use crate::rules::Severity;

/// Bytes at the start of a file searched for server markers.
const MARKER_SCAN_LEN: usize = 64 * 1024;

const BUILTIN: &str = include_str!("../../rules/exposure/client-side.toml");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Spec {
    browser_opt_in: Vec<String>,
    docs: DocsSpec,
    client: ClientSpec,
    server: ServerSpec,
    shipped: ShippedSpec,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DocsSpec {
    extensions: Vec<String>,
}

/// Package kinds by extension, each with words for the reason.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ShippedSpec {
    client: std::collections::BTreeMap<String, String>,
    server: std::collections::BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClientSpec {
    extensions: Vec<String>,
    paths: Vec<String>,
    always_paths: Vec<String>,
    public_env_prefixes: Vec<String>,
    env_files: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ServerSpec {
    paths: Vec<String>,
    markers: Vec<String>,
    extensions: Vec<String>,
}

pub struct ExposureRules {
    browser_opt_in: Vec<Regex>,
    client_extensions: HashSet<String>,
    client_paths: GlobSet,
    always_paths: GlobSet,
    public_env_prefixes: Vec<String>,
    env_files: GlobSet,
    server_paths: GlobSet,
    server_markers: Vec<Regex>,
    server_extensions: HashSet<String>,
    doc_extensions: HashSet<String>,
    shipped: ShippedSpec,
}

/// What a file's content says about where it runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ContentFacts {
    pub browser_opt_in: bool,
    pub server_marker: bool,
}

/// The verdict for one finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exposure {
    pub client_side: bool,
    pub reason: String,
}

impl ExposureRules {
    pub fn builtin() -> Result<ExposureRules> {
        Self::from_toml(BUILTIN).context("rules/exposure/client-side.toml")
    }

    pub fn from_toml(text: &str) -> Result<ExposureRules> {
        let spec: Spec = toml::from_str(text)?;
        let regexes = |list: &[String]| -> Result<Vec<Regex>> {
            list.iter().map(|p| Ok(RegexBuilder::new(p).multi_line(true).unicode(false).build()?)).collect()
        };
        let lower = |list: &[String]| list.iter().map(|e| e.to_ascii_lowercase()).collect();
        Ok(ExposureRules {
            browser_opt_in: regexes(&spec.browser_opt_in)?,
            client_extensions: lower(&spec.client.extensions),
            client_paths: globs(&spec.client.paths)?,
            always_paths: globs(&spec.client.always_paths)?,
            public_env_prefixes: spec.client.public_env_prefixes,
            env_files: globs(&spec.client.env_files)?,
            server_paths: globs(&spec.server.paths)?,
            server_markers: regexes(&spec.server.markers)?,
            server_extensions: lower(&spec.server.extensions),
            doc_extensions: lower(&spec.docs.extensions),
            shipped: spec.shipped,
        })
    }

    pub fn facts(&self, content: &[u8]) -> ContentFacts {
        // Server markers (`"use server"`, imports of server frameworks) sit
        // at the top of a file; looking only there keeps a 20 MB minified
        // bundle from costing several extra passes. The browser opt-in can
        // be anywhere (bundles inline the SDK call) and has a literal
        // prefix, so the regex engine's prefilter makes the full pass cheap.
        let head = &content[..content.len().min(MARKER_SCAN_LEN)];
        ContentFacts {
            browser_opt_in: self.browser_opt_in.iter().any(|r| r.is_match(content)),
            server_marker: self.server_markers.iter().any(|r| r.is_match(head)),
        }
    }

    /// Classifies a secret at `path` whose line is `line`.
    pub fn classify(&self, path: &str, facts: ContentFacts, line: &str) -> Exposure {
        let client = |reason: String| Exposure { client_side: true, reason };
        let server = |reason: String| Exposure { client_side: false, reason };
        // Inside a package users install, the package decides: its own
        // members' paths say nothing about who can read them.
        if let Some((container, _)) = path.split_once("!/") {
            let name = container.rsplit('/').next().unwrap_or(container);
            let extension = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
            if let Some(what) = self.shipped.client.get(&extension) {
                return client(format!("shipped inside {what} {name}: anyone who installs it can unpack it"));
            }
            if let Some(what) = self.shipped.server.get(&extension) {
                return server(format!("inside {what} {name}, which runs on a server"));
            }
        }
        // Other archive members and stdin have no meaningful location.
        let path = path.rsplit("!/").next().unwrap_or(path);
        let extension = path.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
        if self.doc_extensions.contains(&extension) {
            return server(format!("documentation (.{extension}), not code that ships"));
        }
        if facts.browser_opt_in && !self.server_extensions.contains(&extension) {
            return client(
                "this file opts an AI SDK into the browser (dangerouslyAllowBrowser / direct browser access): \
                 its key is sent from every visitor's browser"
                    .into(),
            );
        }
        if self.always_paths.is_match(path) {
            return client("values in this file are inlined into the client bundle at build time".into());
        }
        if self.server_paths.is_match(path) {
            return server(format!("server-only location ({path})"));
        }

        if self.client_paths.is_match(path) {
            return client("build output or bundle served to browsers".into());
        }
        if facts.server_marker {
            return server(
                "the file marks itself as server code (\"use server\", a server framework or Node-only module)".into(),
            );
        }
        if self.env_files.is_match(path) {
            return match env_variable(line) {
                Some(name) if self.public_prefix(name).is_some() => client(format!(
                    "{name} has the public prefix {}: bundlers inline it into client code",
                    self.public_prefix(name).unwrap_or_default()
                )),
                Some(name) => server(format!("server-only environment variable {name} (no public prefix)")),
                None => server("environment file entry without a public prefix".into()),
            };
        }

        if self.client_extensions.contains(&extension) {
            return client(format!("front-end source (.{extension}) is bundled for the browser"));
        }
        if self.server_extensions.contains(&extension) {
            return server(format!(".{extension} source runs on a server"));
        }
        server("not shipped to browsers".into())
    }

    fn public_prefix(&self, name: &str) -> Option<&str> {
        self.public_env_prefixes.iter().find(|p| name.starts_with(p.as_str())).map(String::as_str)
    }

    /// Applies the verdict to `finding`: sets `client_side` and `exposure`,
    /// raises a client-side key to critical, and names header findings
    /// after where they are. Returns false for a finding that only matters
    /// in client code (a public-env reference) but is not in client code.
    pub fn apply(&self, finding: &mut Finding, facts: ContentFacts, client_only: bool) -> bool {
        let verdict = self.classify(&finding.path, facts, &finding.snippet);
        if client_only && !verdict.client_side {
            return false;
        }
        finding.client_side = verdict.client_side;
        finding.exposure = Some(verdict.reason);
        if finding.header.is_some() || finding.kind == HARDCODED_HEADER {
            finding.kind = if verdict.client_side { CLIENT_SIDE_HEADER } else { HARDCODED_HEADER }.into();
        }
        // A value public by design (a Firebase web config) is meant to be
        // served: that is no reason to raise it.
        if verdict.client_side && finding.severity != Severity::Warning && !finding.public_by_design {
            finding.severity = Severity::Critical;
        }
        true
    }
}

pub const HARDCODED_HEADER: &str = "hardcoded-header";
pub const CLIENT_SIDE_HEADER: &str = "client-side-header";

fn globs(patterns: &[String]) -> Result<GlobSet> {
    let mut builder = GlobSetBuilder::new();
    for p in patterns {
        builder.add(Glob::new(p).with_context(|| format!("invalid glob `{p}`"))?);
    }
    Ok(builder.build()?)
}

/// `NAME` of an env-file line `NAME=value` (also `export NAME=value`).
fn env_variable(line: &str) -> Option<&str> {
    let line = line.trim_start();
    let line = line.strip_prefix("export ").unwrap_or(line).trim_start();
    let end = line.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))?;
    let rest = line[end..].trim_start();
    (end > 0 && (rest.starts_with('=') || rest.starts_with(':'))).then(|| &line[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(path: &str, content: &str, line: &str) -> bool {
        let rules = ExposureRules::builtin().unwrap();
        rules.classify(path, rules.facts(content.as_bytes()), line).client_side
    }

    #[test]
    fn the_package_decides_for_its_members() {
        assert!(verdict("dist/app-release.apk!/classes.dex", "", ""));
        assert!(verdict("release/app.asar!/src/server/db.js", "", ""));
        assert!(verdict("ext.crx!/background.js", "", ""));
        assert!(!verdict("lib/service.jar!/static/app.js", "", ""));
        assert!(!verdict("pkg.whl!/pkg/static/index.js", "", ""), "the wheel wins over a bundle-looking path");
        let rules = ExposureRules::builtin().unwrap();
        let why = rules.classify("out/app-release.apk!/res/raw/config.json", ContentFacts::default(), "").reason;
        assert_eq!(why, "shipped inside the Android app app-release.apk: anyone who installs it can unpack it");
    }

    #[test]
    fn classification_order() {
        assert!(verdict("src/App.tsx", "", "const k = 'x'"));
        assert!(!verdict("pages/api/chat.ts", "", "const k = 'x'"));
        assert!(!verdict("app/api/chat/route.ts", "", "const k = 'x'"));
        assert!(!verdict("src/actions.ts", "'use server'\nexport async function f() {}", ""));
        assert!(verdict("pages/api/chat.ts", "new OpenAI({ dangerouslyAllowBrowser: true })", ""));
        assert!(verdict(".env.local", "", "NEXT_PUBLIC_OPENAI_KEY=sk"));
        assert!(!verdict(".env", "", "OPENAI_API_KEY=sk"));
        assert!(verdict("dist/assets/index-4f2a.js", "", ""));
        assert!(verdict("web/dist/app.js.map", "", ""));
        assert!(!verdict("server.js", "const express = require('express')", ""));
        assert!(!verdict("app/main.py", "", ""));
        assert!(verdict("next.config.js", "", ""));
        assert!(!verdict("config/settings.yaml", "", ""));
    }

    #[test]
    fn env_variable_names() {
        assert_eq!(env_variable("export VITE_KEY=abc"), Some("VITE_KEY"));
        assert_eq!(env_variable("  KEY : abc"), Some("KEY"));
        assert_eq!(env_variable("# comment"), None);
    }
}
