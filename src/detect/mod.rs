//! The detector: the engine plus the enrichment that needs nothing but a
//! blob and its path (client-side exposure). Every mode turns bytes into
//! findings through here, so a finding means the same thing in `scan`,
//! `git` and `staged`.

use std::sync::Arc;

use anyhow::Result;

mod binary;

use crate::decode::{self, sniff};
use crate::engine::{Engine, LineIndex, Match, Newline};
use crate::enrich::exposure::{ContentFacts, ExposureRules};
use crate::enrich::suppress::inline_allows;
use crate::finding::{Companion, Finding, fingerprint, secret_hash, snippet};
use crate::rules::{Rule, RuleSet};

pub struct Detector {
    pub engine: Engine,
    pub exposure: ExposureRules,
    /// Bounds on decoding (text decodings and archives).
    pub limits: decode::Limits,
    /// False with `--no-decode`: only the raw bytes are scanned (no text
    /// decodings, archives not opened).
    pub decode: bool,
    /// What decoding had to leave out (zip bombs, archives nested too
    /// deep), for the report's notes.
    notes: std::sync::Mutex<Vec<String>>,
    /// The rules for binaries (`RuleSet::for_binaries`), built on the first
    /// binary blob: a pre-commit hook on text files never pays for it.
    binary_engine: std::sync::OnceLock<Engine>,
}

impl Detector {
    pub fn new(rules: Arc<RuleSet>) -> Result<Detector> {
        Ok(Detector {
            engine: Engine::new(rules),
            exposure: ExposureRules::builtin()?,
            limits: decode::Limits::default(),
            decode: true,
            notes: std::sync::Mutex::default(),
            binary_engine: std::sync::OnceLock::new(),
        })
    }

    pub fn rules(&self) -> &RuleSet {
        self.engine.rules()
    }

    /// Matches in `bytes` as findings at `path`, not yet enriched (for the
    /// history audit, where the path is only known later): the plain text,
    /// its decoded views (escapes, base64, notebooks, UTF-16, ...), and the
    /// members of an archive, each through the same engine.
    pub fn raw_findings(&self, bytes: &[u8], path: &str) -> Vec<Finding> {
        let mut findings = self.blob_findings(bytes, path);
        drop_named_companions(&mut findings);
        findings
    }

    fn blob_findings(&self, bytes: &[u8], path: &str) -> Vec<Finding> {
        if sniff::looks_binary(bytes) && !self.decode {
            return self.binary_findings(bytes, path);
        }
        if !self.decode {
            return self.matches_as_findings(bytes, path);
        }
        let mut notes = Vec::new();
        let mut findings = Vec::new();
        let is_archive = decode::expand(bytes, path, &self.limits, &mut notes, &mut |member| {
            for mut f in self.text_or_binary_findings(&member.bytes, &format!("{path}!/{}", member.path)) {
                let mut chain: Vec<String> = member.chain.iter().map(|s| s.to_string()).collect();
                chain.append(&mut f.decoded);
                f.decoded = chain;
                findings.push(f);
            }
        });
        if !is_archive {
            findings = self.text_or_binary_findings(bytes, path);
        } else {
            // A zip's prefix (a self-extracting stub, a launcher script) is
            // not a member: it is read here, at its own offsets.
            let prefix = decode::zip_prefix(bytes, path);
            if !prefix.is_empty() {
                findings.extend(self.text_or_binary_findings(prefix, path));
            }
        }
        if !notes.is_empty() {
            self.notes.lock().unwrap_or_else(|e| e.into_inner()).extend(notes);
        }
        findings
    }

    fn text_or_binary_findings(&self, bytes: &[u8], path: &str) -> Vec<Finding> {
        let (nul, binary) = sniff::nul_in_head(bytes);
        if binary {
            return self.binary_findings(bytes, path);
        }
        let findings = self.text_findings(bytes, path);
        // NULs in the pattern of UTF-16 text, but not text (a resource
        // table: UTF-16 strings between binary headers): read as a binary.
        if findings.is_empty() && nul {
            return self.binary_findings(bytes, path);
        }
        findings
    }

    /// Findings in the text `bytes` and in its decoded views. A view match
    /// the plain scan already has (same rule, secret and line) is dropped.
    fn text_findings(&self, bytes: &[u8], path: &str) -> Vec<Finding> {
        let mut findings = self.matches_as_findings(bytes, path);
        let views = decode::views(bytes, path, &self.limits);
        if views.is_empty() {
            return findings;
        }
        let mut lines = LineIndex::new(bytes);
        let mut utf16_lines = None;
        for view in views {
            for mut f in self.matches_as_findings(&view.bytes, path) {
                // Line and column in the original file, from the view's map;
                // in a UTF-16 file lines end at newline code units.
                let offset = view.map.to_original(f.byte_offset);
                let index = match view.chain.first() {
                    Some(&"utf-16le") => {
                        utf16_lines.get_or_insert_with(|| LineIndex::with_newline(bytes, Newline::Utf16Le))
                    }
                    Some(&"utf-16be") => {
                        utf16_lines.get_or_insert_with(|| LineIndex::with_newline(bytes, Newline::Utf16Be))
                    }
                    _ => &mut lines,
                };
                (f.line, f.column) = index.locate(offset);
                let same =
                    |o: &Finding| o.rule_id == f.rule_id && o.secret_sha256 == f.secret_sha256 && o.line == f.line;
                if let Some(plain) = findings.iter_mut().find(|o| same(o)) {
                    // Found in plain text already. A notebook view still adds
                    // its cell; a source map's view its source's name, so a
                    // key has one path whether or not it was escaped.
                    match (&view.note, view.chain.contains(&"sourcemap")) {
                        (Some(source), true) if plain.path == path => {
                            *plain = plain.at_path(&format!("{path}!/{source}"));
                            plain.decoded = view.chain.iter().map(|s| s.to_string()).collect();
                        }
                        (Some(note), false) if plain.note.is_none() => plain.note = Some(note.clone()),
                        _ => {}
                    }
                    continue;
                }
                // Part of a split or escaped key can match on its own (an
                // open-ended length, a 32-hex tail, the text before an
                // escape): the whole decoded key replaces any plain finding
                // that is a piece of it, inside its span.
                let end = view.map.to_original(f.byte_offset + f.secret.len().max(1) - 1) + 1;
                // A comment on the file's own line(s) the decoded key came
                // from covers it: the view's line is decoded text, where
                // the comment may not be (a base64 value, an escaped string).
                f.inline_allow = f.inline_allow || original_lines_allow(bytes, offset, end, &f.rule_id);
                // A plain match of the whole encoded value (a Docker
                // `auth`, an `.npmrc` `_auth`, a Kubernetes Secret's base64
                // under a `..._KEY:` name) holds what this view decoded: a
                // generic rule's match gives way to the decoded key, a
                // specific rule's match already reports these bytes.
                let covers = |o: &Finding| {
                    o.decoded.is_empty() && o.byte_offset <= offset && end <= o.byte_offset + o.secret.len()
                };
                if findings.iter().any(|o| covers(o) && !self.is_generic(&o.rule_id)) {
                    continue;
                }
                findings.retain(|o| !(covers(o) && self.is_generic(&o.rule_id)));
                findings.retain(|o| {
                    let inside = (offset..end).contains(&o.byte_offset) && o.decoded.is_empty();
                    !(inside && o.secret.len() < f.secret.len() && f.secret.contains(&o.secret))
                });
                f.decoded = view.chain.iter().map(|s| s.to_string()).collect();
                if view.chain.contains(&"sourcemap") {
                    // A source map's embedded source is reported under its
                    // own name: `app.js.map!/src/client.ts`.
                    if let Some(source) = &view.note {
                        f = f.at_path(&format!("{path}!/{source}"));
                        f.decoded = view.chain.iter().map(|s| s.to_string()).collect();
                    }
                } else {
                    f.note = view.note.clone();
                }
                findings.push(f);
            }
        }
        findings
    }

    fn is_generic(&self, rule_id: &str) -> bool {
        self.rules().get(rule_id).is_some_and(|r| r.spec.generic)
    }

    fn matches_as_findings(&self, bytes: &[u8], path: &str) -> Vec<Finding> {
        let matches = self.engine.scan(bytes);
        if matches.is_empty() {
            return Vec::new();
        }
        let mut lines = LineIndex::new(bytes);
        matches.iter().map(|m| finding_from_match(&self.engine, m, bytes, path, &mut lines)).collect()
    }

    /// The decoding notes gathered so far (each returned once).
    pub fn take_notes(&self) -> Vec<String> {
        std::mem::take(&mut *self.notes.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Findings in one part of a file too large to read whole, with
    /// exposure applied: the raw bytes only (text or binary), no decoding.
    /// Lines count from the part's start.
    pub fn part_findings(&self, bytes: &[u8], path: &str) -> Vec<Finding> {
        let mut findings = if sniff::looks_binary(bytes) {
            self.binary_findings(bytes, path)
        } else {
            self.matches_as_findings(bytes, path)
        };
        drop_named_companions(&mut findings);
        self.with_exposure(findings, bytes)
    }

    /// Findings in `bytes` at `path`, with exposure applied.
    pub fn findings(&self, bytes: &[u8], path: &str) -> Vec<Finding> {
        self.with_exposure(self.raw_findings(bytes, path), bytes)
    }

    /// Applies exposure to the findings of `bytes` (its content facts read
    /// once, only when there is something to apply them to).
    fn with_exposure(&self, mut findings: Vec<Finding>, bytes: &[u8]) -> Vec<Finding> {
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

/// Whether a line of `bytes` that `start..end` touches carries an inline
/// allow covering `rule_id`.
fn original_lines_allow(bytes: &[u8], start: usize, end: usize, rule_id: &str) -> bool {
    let (start, end) = (start.min(bytes.len()), end.min(bytes.len()).max(start.min(bytes.len())));
    let first = memchr::memrchr(b'\n', &bytes[..start]).map_or(0, |i| i + 1);
    let last = memchr::memchr(b'\n', &bytes[end..]).map_or(bytes.len(), |i| end + i);
    bytes[first..last].split(|&b| b == b'\n').any(|line| inline_allows(line, rule_id))
}

/// A two-part credential is one finding: a match that another finding of
/// the same file names as its companion (an AWS access key id beside its
/// secret) is left out; the secret's finding names it.
fn drop_named_companions(findings: &mut Vec<Finding>) {
    let named: Vec<(String, String)> =
        findings.iter().filter_map(|f| Some((f.path.clone(), f.companion.as_ref()?.value.clone()))).collect();
    if !named.is_empty() {
        findings.retain(|f| !named.iter().any(|(path, value)| *path == f.path && *value == f.secret));
    }
}

/// Bytes before a hardcoded header that the request's URL may be in, and
/// after it (a `curl -H ... URL`); a statement's end (`;`, a blank line)
/// ends the search sooner.
const CALL_BEFORE: usize = 600;
const CALL_AFTER: usize = 300;

/// The host of the request a hardcoded header at `start..end` belongs to,
/// when that host is a known provider's (`hosts = [...]` in its rule), and
/// that provider's rule. The URL nearest to the header within the same
/// call decides; a nearer URL to an unknown host means no provider.
fn request_host<'r>(rules: &'r RuleSet, haystack: &[u8], start: usize, end: usize) -> Option<(String, &'r Rule)> {
    static URL: std::sync::OnceLock<regex::bytes::Regex> = std::sync::OnceLock::new();
    let url = URL.get_or_init(|| regex::bytes::Regex::new(r"(?i-u)https?://([a-z0-9.-]+)").expect("static regex"));
    // A statement ends at `;` or a blank line.
    let ends = |i: usize| {
        haystack[i] == b';'
            || (haystack[i] == b'\n' && matches!(haystack.get(i + 1..), Some([b'\n', ..] | [b'\r', b'\n', ..])))
    };
    let lo = (start.saturating_sub(CALL_BEFORE)..start)
        .rev()
        .find(|&i| ends(i))
        .map_or(start.saturating_sub(CALL_BEFORE), |i| i + 1);
    let limit = end.saturating_add(CALL_AFTER).min(haystack.len());
    let hi = (end..limit).find(|&i| ends(i)).unwrap_or(limit);
    let nearest = url
        .captures_iter(&haystack[lo..hi])
        .filter_map(|c| {
            let whole = c.get(0)?;
            let (s, e) = (lo + whole.start(), lo + whole.end());
            let distance = if e <= start {
                start - e
            } else if s >= end {
                s - end
            } else {
                return None;
            };
            Some((distance, c.get(1)?.as_bytes()))
        })
        .min_by_key(|(distance, _)| *distance)?;
    let host = String::from_utf8_lossy(nearest.1).trim_end_matches('.').to_ascii_lowercase();
    let rule = rules.rule_for_host(&host)?;
    Some((host, rule))
}

/// Builds a finding for `m`, found by `engine` in `haystack` at `path`. A
/// generic hardcoded header whose request goes to a known provider's host
/// is that provider's key.
fn finding_from_match(engine: &Engine, m: &Match, haystack: &[u8], path: &str, lines: &mut LineIndex) -> Finding {
    let matched = engine.rule(m.rule);
    let attributed = match matched.spec.generic && m.header.is_some() {
        true => request_host(engine.rules(), haystack, m.start, m.end),
        false => None,
    };
    let rule = attributed.as_ref().map_or(matched, |(_, r)| *r);
    let secret_bytes = &haystack[m.start..m.end];
    let secret = String::from_utf8_lossy(secret_bytes).into_owned();
    let secret_sha256 = secret_hash(secret_bytes);
    let (line, column) = lines.locate(m.start);
    let public = rule.public_match(haystack, m.start, m.end);
    Finding {
        rule_id: rule.spec.id.clone(),
        provider: rule.spec.provider.clone(),
        name: rule.spec.name.clone(),
        kind: rule.spec.kind.clone(),
        fingerprint: fingerprint(&rule.spec.id, &secret_sha256, path),
        secret_sha256,
        secret,
        repository: None,
        path: path.to_string(),
        line,
        column,
        snippet: snippet(lines.line_bytes(m.start), column - 1, m.end - m.start),
        client_side: false,
        exposure: None,
        decoded: Vec::new(),
        note: None,
        companion: rule.spec.companion.as_ref().and_then(|c| {
            let value = rule.find_companion(haystack, m.start, m.end)?;
            Some(Companion { name: c.name.clone(), value: String::from_utf8_lossy(value).into_owned() })
        }),
        header: m.header.map(|(s, e)| String::from_utf8_lossy(&haystack[s..e]).into_owned()),
        request_host: attributed.as_ref().map(|(host, _)| host.clone()),
        session: rule.find_session(haystack, m.start, m.end).map(|value| String::from_utf8_lossy(value).into_owned()),
        severity: public.map_or(rule.spec.severity, |p| p.severity),
        severity_reason: public.map(|p| p.reason.clone()),
        public_by_design: public.is_some(),
        confidence: m.confidence,
        rotate_url: rule.spec.rotate_url.clone(),
        suppressed_by: None,
        inline_allow: inline_allows(lines.line_bytes(m.start), &rule.spec.id)
            || inline_allows(lines.line_bytes(m.start), &matched.spec.id),
        byte_offset: m.start,
        verification: None,
        git: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule_ids(findings: &[Finding]) -> Vec<&str> {
        findings.iter().map(|f| f.rule_id.as_str()).collect()
    }

    #[test]
    fn an_encoded_value_is_reported_once() {
        let detector = Detector::new(Arc::new(RuleSet::builtin().unwrap())).unwrap();
        // A kubeconfig key: the specific rule's match of the base64 stands,
        // the PEM decoded from it is not reported again.
        let kubeconfig = b"current-context: prod\nusers:\n- name: admin\n  user:\n    client-key-data: LS0tLS1CRUdJTiBFQyBQUklWQVRFIEtFWS0tLS0tCmZYYndHakR6cTZxZkdWSCs0ejJPa0oxbTZuZUZESXBXb0d1N3dQS0VnM1dmU3JId0ZoN3dyUGJod2VxcUNtd0EKZDhCdkVVeWxuK3p6WmhCSlFmamRzME9QZVpwYm5ueCt4VGRrcVUwZWRaUXVyVU1UK2lnYURESHhRUWVENnNIOFE3ZFRFQ2MxUU4vWWdZRlE5Q1drdjRvcDBNK3lYVE1xUkE9PQotLS0tLUVORCBFQyBQUklWQVRFIEtFWS0tLS0tCg==\n"; // leakhound:allow (a test fixture)
        assert_eq!(rule_ids(&detector.raw_findings(kubeconfig, "config")), ["kubernetes-kubeconfig-client-key"]);
        // A Docker auth whose password is a GitHub token: the generic
        // rule's match of the base64 gives way to the decoded token.
        let docker = b"{\"auths\": {\"ghcr.io\": {\"auth\": \"b2N0b2NhdDpnaHBfRVJwc1RkbXUxMUxwZjRPekpsQ050SlBPT0NWTkdWd2xIOHJP\"}}}\n"; // leakhound:allow (a test fixture)
        assert_eq!(rule_ids(&detector.raw_findings(docker, "config.json")), ["github-pat-classic"]);
    }

    /// What decoding costs next to the plain scan, per file, in memory (no
    /// I/O), the two alternating file by file so that drift in machine
    /// load hits both alike: over the files under `DECODE_COST` (the
    /// `benches/fs_scan.sh` corpus, say),
    /// `DECODE_COST=dir cargo test --release --lib decode_cost -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn decode_cost() {
        let Ok(root) = std::env::var("DECODE_COST") else { return };
        let mut files = Vec::new();
        for entry in ignore::WalkBuilder::new(&root).standard_filters(false).build().flatten() {
            let Ok(bytes) = std::fs::read(entry.path()) else { continue };
            if memchr::memchr(0, &bytes[..bytes.len().min(8192)]).is_none() {
                files.push((entry.path().display().to_string(), bytes));
            }
        }
        let mut plain = Detector::new(Arc::new(RuleSet::builtin().unwrap())).unwrap();
        plain.decode = false;
        let decoding = Detector::new(Arc::new(RuleSet::builtin().unwrap())).unwrap();
        let median = |v: &mut Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let rounds = std::env::var("DECODE_COST_ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(7);
        let (mut on, mut off, mut views) = (vec![0.0; rounds], vec![0.0; rounds], vec![0.0; rounds]);
        // Each mode over all files in turn, as separate scans would run
        // (each in its own steady state of caches), the order alternating.
        // With `DECODE_COST_READ` set, each file is read again inside the
        // timing, into one reused buffer, as a scan does.
        let read = std::env::var_os("DECODE_COST_READ").is_some();
        let buffer = std::cell::RefCell::new(Vec::new());
        let pass = |f: &dyn Fn(&[u8], &str)| {
            let mut total = 0.0;
            for (path, bytes) in &files {
                if read {
                    let t = std::time::Instant::now();
                    let mut buffer = buffer.borrow_mut();
                    buffer.clear();
                    let mut file = std::fs::File::open(path).unwrap();
                    std::io::Read::read_to_end(&mut file, &mut buffer).unwrap();
                    f(&buffer, path);
                    total += t.elapsed().as_secs_f64();
                    continue;
                }
                // Bring the file into cache first, as reading it does.
                std::hint::black_box(bytes.iter().fold(0u8, |a, &b| a ^ b));
                let t = std::time::Instant::now();
                f(bytes, path);
                total += t.elapsed().as_secs_f64();
            }
            total
        };
        let with_decoders = |b: &[u8], p: &str| drop(std::hint::black_box(decoding.findings(b, p)));
        let without = |b: &[u8], p: &str| drop(std::hint::black_box(plain.findings(b, p)));
        let views_only = |b: &[u8], p: &str| drop(std::hint::black_box(decode::views(b, p, &decoding.limits)));
        for round in 0..rounds {
            if round % 2 == 0 {
                on[round] = pass(&with_decoders);
                off[round] = pass(&without);
            } else {
                off[round] = pass(&without);
                on[round] = pass(&with_decoders);
            }
            views[round] = pass(&views_only);
        }
        // Each round's own ratio: drift between rounds cancels out.
        let mut ratios: Vec<f64> = on.iter().zip(&off).map(|(a, b)| a / b).collect();
        let least = |v: &[f64]| v.iter().copied().fold(f64::MAX, f64::min);
        let (least_on, least_off, least_views) = (least(&on), least(&off), least(&views));
        let (ratio, views) = (median(&mut ratios), median(&mut views));
        let (on, off) = (median(&mut on), median(&mut off));
        let total: usize = files.iter().map(|(_, b)| b.len()).sum();
        println!(
            "{} files, {} MB: decoders on {:.1} ms, off {:.1} ms, ratio {ratio:.3} (median of rounds); views alone {:.1} ms",
            files.len(),
            total >> 20,
            on * 1e3,
            off * 1e3,
            views * 1e3
        );
        println!(
            "fastest rounds: on {:.1} ms, off {:.1} ms, ratio {:.3}; views alone {:.1} ms",
            least_on * 1e3,
            least_off * 1e3,
            least_on / least_off,
            least_views * 1e3
        );
    }
}
