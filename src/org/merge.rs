//! `leakhound merge`: shard reports back into one outcome.
//!
//! Shards are JSONL (`--format jsonl`: findings only) or JSON documents
//! (`--format json`: findings, skipped inputs, notes and stats). Every
//! finding keeps its `repository`; the rotation plan groups findings by
//! (rule, secret hash), so a key found in several repositories is one item
//! listing every place. Secrets are full only in shards written with
//! `--show-secrets`; the hash, always present, is what deduplication uses.
//!
//! Verification: results in the shards are reused (and shared by every
//! finding of the same key); verifying at merge time asks once per key
//! still without a verdict, which needs the key itself.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};
use serde_json::Value;

use crate::finding::{Finding, Verification};
use crate::outcome::{ScanOutcome, Skip, SkipReason, Stats, VerifyStats, duration_ms};
use crate::rules::RuleSet;
use crate::rules::verify_spec::Status;
use crate::verify::{self, VerifyOptions, cache};

/// One shard report, read back.
#[derive(Debug, Default)]
pub struct ShardFile {
    /// The file, as named on the command line.
    pub name: String,
    pub findings: Vec<Finding>,
    /// From a JSON document written with `--show-suppressed`.
    pub suppressed: Vec<Finding>,
    /// From a JSON document; JSONL carries findings only.
    pub skipped: Vec<Skip>,
    pub notes: Vec<String>,
    /// From a JSON document.
    pub stats: Option<Stats>,
}

/// Reads a shard report (JSONL or a JSON document).
pub fn read_shard(path: &Path) -> Result<ShardFile> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read shard file {}", path.display()))?;
    parse_shard(&text, &path.display().to_string())
}

/// Parses a shard report named `name` (for messages): a JSON document
/// (`{"findings": [...], ...}`) or JSON Lines, one finding per line (blank
/// lines ignored). An empty file is a shard without findings.
pub fn parse_shard(text: &str, name: &str) -> Result<ShardFile> {
    let mut shard = ShardFile { name: name.to_string(), ..ShardFile::default() };
    if let Ok(Value::Object(doc)) = serde_json::from_str::<Value>(text)
        && doc.get("findings").is_some_and(Value::is_array)
    {
        let list = |key: &str| -> Result<Vec<Finding>> {
            match doc.get(key) {
                Some(v) => serde_json::from_value(v.clone())
                    .with_context(|| format!("{name}: `{key}` does not hold leakhound findings")),
                None => Ok(Vec::new()),
            }
        };
        shard.findings = list("findings")?;
        shard.suppressed = list("suppressed")?;
        shard.skipped = doc.get("skipped").and_then(Value::as_array).map_or_else(Vec::new, |a| {
            a.iter()
                .map(|s| Skip {
                    path: s["path"].as_str().unwrap_or_default().to_string(),
                    reason: reason(s["reason"].as_str().unwrap_or_default()),
                    detail: s["detail"].as_str().unwrap_or_default().to_string(),
                })
                .collect()
        });
        shard.notes = doc
            .get("notes")
            .and_then(Value::as_array)
            .map_or_else(Vec::new, |a| a.iter().filter_map(|n| n.as_str().map(str::to_string)).collect());
        shard.stats = doc.get("stats").map(stats_from);
        return Ok(shard);
    }
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let finding: Finding = serde_json::from_str(line).with_context(|| {
            format!("{name}:{}: not a leakhound finding (shards are written with --format jsonl or json)", n + 1)
        })?;
        shard.findings.push(finding);
    }
    Ok(shard)
}

/// A skip reason by its JSON name; an unknown one counts as unreadable (the
/// conservative reading: the scan may be incomplete).
fn reason(name: &str) -> SkipReason {
    [SkipReason::Binary, SkipReason::Media, SkipReason::TooLarge, SkipReason::NotAFile, SkipReason::SymlinkLoop]
        .into_iter()
        .find(|r| r.as_str() == name)
        .unwrap_or(SkipReason::Unreadable)
}

/// The counters of a JSON document's `stats` that add up across shards.
fn stats_from(v: &Value) -> Stats {
    let n = |key: &str| v[key].as_u64().unwrap_or(0);
    let skipped = v["skipped"]
        .as_object()
        .map(|m| m.iter().map(|(k, c)| (reason(k).as_str(), c.as_u64().unwrap_or(0))).collect())
        .unwrap_or_default();
    Stats {
        files_scanned: n("files_scanned"),
        bytes_scanned: n("bytes_scanned"),
        skipped,
        duration_ms: n("duration_ms"),
        ..Stats::default()
    }
}

/// One outcome from the shards:
///
/// - findings, suppressed findings, skipped inputs and notes of every shard;
///   a finding present twice (overlapping shard files) is kept once;
/// - verification results shared by every finding of the same key (the
///   newest verdict wins, a verdict beats `unknown`), and `stats.verification`
///   summarising them when any shard verified;
/// - stats summed (JSON shards only; JSONL shards carry none), the duration
///   being the shards' total plus the merge.
pub fn merge(shards: Vec<ShardFile>) -> ScanOutcome {
    let started = Instant::now();
    let mut outcome = ScanOutcome::default();
    let (files, jsonl) = (shards.len(), shards.iter().filter(|s| s.stats.is_none()).count());
    let mut seen_notes = HashSet::new();
    for shard in shards {
        outcome.findings.extend(shard.findings);
        outcome.suppressed.extend(shard.suppressed);
        outcome.skipped.extend(shard.skipped);
        outcome.notes.extend(shard.notes.into_iter().filter(|n| seen_notes.insert(n.clone())));
        if let Some(stats) = shard.stats {
            let into = &mut outcome.stats;
            into.files_scanned += stats.files_scanned;
            into.bytes_scanned += stats.bytes_scanned;
            into.duration_ms += stats.duration_ms;
            for (reason, n) in stats.skipped {
                *into.skipped.entry(reason).or_insert(0) += n;
            }
        }
    }
    let duplicates = dedup(&mut outcome.findings);
    dedup(&mut outcome.suppressed);
    propagate_verification(&mut outcome.findings);
    outcome.stats.verification = verification_summary(&outcome.findings);
    outcome.findings.sort_by(super::by_place);
    outcome.stats.findings = outcome.findings.len() as u64;
    outcome.stats.errors = outcome.skipped.iter().filter(|s| s.reason.is_error()).count() as u64;
    outcome.stats.duration_ms += duration_ms(started.elapsed());
    let mut note = format!("merged {files} shard file{}", if files == 1 { "" } else { "s" });
    if duplicates > 0 {
        note.push_str(&format!("; {duplicates} findings present in more than one were kept once"));
    }
    if jsonl > 0 {
        note.push_str(&format!(
            "; {jsonl} of them JSONL, which carries findings only: their scan statistics and skipped inputs \
             are in each shard's own log (write shards with --format json to carry them)"
        ));
    }
    outcome.notes.push(note);
    outcome
}

/// What makes two findings the same: repository, rule, secret hash, path,
/// line, column and introducing commit.
type Place = (Option<String>, String, String, String, usize, usize, Option<String>);

/// Drops findings present twice (same repository, rule, secret, path,
/// position and commit), keeping a copy that holds the key in full when
/// there is one; returns how many were dropped.
pub fn dedup(findings: &mut Vec<Finding>) -> usize {
    let before = findings.len();
    let mut kept: Vec<Finding> = Vec::with_capacity(findings.len());
    let mut index: HashMap<Place, usize> = HashMap::new();
    for f in findings.drain(..) {
        let id: Place = (
            f.repository.clone(),
            f.rule_id.clone(),
            f.secret_sha256.clone(),
            f.path.clone(),
            f.line,
            f.column,
            f.git.as_ref().map(|g| g.commit.clone()),
        );
        match index.get(&id) {
            Some(&i) => {
                if !kept[i].has_full_secret() && f.has_full_secret() {
                    kept[i] = Finding { verification: kept[i].verification.take().or(f.verification.clone()), ..f };
                }
            }
            None => {
                index.insert(id, kept.len());
                kept.push(f);
            }
        }
    }
    *findings = kept;
    before - findings.len()
}

/// The key verification results are shared by (as in the verify cache).
fn key(f: &Finding) -> String {
    cache::key(&f.rule_id, &f.secret_sha256)
}

fn is_verdict(v: &Verification) -> bool {
    matches!(v.status, Status::Live | Status::Invalid)
}

/// Gives every finding of a key the best result any finding of that key
/// has: the newest verdict (`live`/`invalid`), else the newest `unknown`.
/// Returns how many findings got a result they did not have.
pub fn propagate_verification(findings: &mut [Finding]) -> usize {
    let mut best: HashMap<String, Verification> = HashMap::new();
    for f in findings.iter() {
        let Some(v) = &f.verification else { continue };
        let better = match best.get(&key(f)) {
            None => true,
            Some(old) => (is_verdict(v), &v.checked_at) > (is_verdict(old), &old.checked_at),
        };
        if better {
            best.insert(key(f), v.clone());
        }
    }
    let mut filled = 0;
    for f in findings.iter_mut() {
        if let Some(v) = best.get(&key(f)) {
            filled += usize::from(f.verification.is_none());
            f.verification = Some(v.clone());
        }
    }
    filled
}

/// Counts by status over the unique keys that carry a result, or `None`
/// when none does. `requests` and `from_cache` are 0: nothing was asked.
pub fn verification_summary(findings: &[Finding]) -> Option<VerifyStats> {
    let mut by_key: BTreeMap<String, Status> = BTreeMap::new();
    for f in findings {
        if let Some(v) = &f.verification {
            by_key.insert(key(f), v.status);
        }
    }
    if by_key.is_empty() {
        return None;
    }
    let mut stats = VerifyStats { unique_secrets: by_key.len() as u64, ..VerifyStats::default() };
    for status in by_key.values() {
        match status {
            Status::Live => stats.live += 1,
            Status::Invalid => stats.invalid += 1,
            Status::Unknown => stats.unknown += 1,
        }
    }
    Some(stats)
}

/// Whether the rule of `f` is one `--verify` checks (built in, a secret).
fn verifiable(f: &Finding, rules: &RuleSet) -> bool {
    rules.get(&f.rule_id).is_some_and(|r| !r.spec.not_secret)
}

/// Refuses `merge --verify` when a key that no shard verified appears only
/// masked (every shard holding it was written without `--show-secrets`):
/// the provider cannot be asked about `sk-proj-...a1B2`. Keys verified in a
/// shard need nothing (their result is reused).
pub fn check_verifiable(shards: &[ShardFile], rules: &RuleSet) -> Result<()> {
    #[derive(Default)]
    struct Key {
        full: bool,
        verified: bool,
        masked_in: BTreeSet<String>,
    }
    let mut keys: BTreeMap<String, Key> = BTreeMap::new();
    for shard in shards {
        for f in shard.findings.iter().filter(|f| verifiable(f, rules)) {
            let k = keys.entry(key(f)).or_default();
            k.verified |= f.verification.is_some();
            if f.has_full_secret() {
                k.full = true;
            } else {
                k.masked_in.insert(shard.name.clone());
            }
        }
    }
    let missing: Vec<&Key> = keys.values().filter(|k| !k.verified && !k.full).collect();
    if missing.is_empty() {
        return Ok(());
    }
    let files: BTreeSet<&str> = missing.iter().flat_map(|k| k.masked_in.iter().map(String::as_str)).collect();
    Err(refusal(missing.len(), &files.into_iter().collect::<Vec<_>>().join(", ")))
}

/// Why `merge --verify` cannot go on, and what to do instead.
fn refusal(keys: usize, files: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "merge --verify needs the keys themselves, and {keys} key{} no shard verified {} only masked, in {files}: \
         those shards were written without --show-secrets. Either verify in the shards (`leakhound git --repos \
         ... --verify`; merge reuses their results), or write the shards with --show-secrets (and keep those \
         files private), or merge without --verify.",
        if keys == 1 { "" } else { "s" },
        if keys == 1 { "appears" } else { "appear" },
    )
}

/// `merge --verify`: asks the providers about each key that has no verdict
/// yet (none, or only `unknown`), once per key however many repositories
/// hold it, using a finding that holds the key in full; keys already
/// verified in a shard are not asked again. Every finding of a key gets the
/// result. Returns the summary over all keys with `requests` and
/// `from_cache` of this run. Fails like [`check_verifiable`] when a key
/// with no result at all is only masked; a key whose shards said `unknown`
/// and that is only masked keeps `unknown`.
pub fn verify_unverified(
    findings: &mut [Finding],
    rules: &RuleSet,
    options: &mut VerifyOptions,
) -> Result<VerifyStats> {
    propagate_verification(findings);
    let decided: HashSet<String> =
        findings.iter().filter(|f| f.verification.as_ref().is_some_and(is_verdict)).map(key).collect();
    let pending: Vec<&Finding> =
        findings.iter().filter(|f| verifiable(f, rules) && !decided.contains(&key(f))).collect();
    let with_full: HashSet<String> = pending.iter().filter(|f| f.has_full_secret()).map(|f| key(f)).collect();
    let blind: BTreeSet<String> =
        pending.iter().filter(|f| f.verification.is_none() && !with_full.contains(&key(f))).map(|f| key(f)).collect();
    if !blind.is_empty() {
        return Err(refusal(blind.len(), "the shard files"));
    }
    // The verifier pairs two-part credentials (an AWS key id and its secret)
    // within a file: a pending half goes with the other halves in its file.
    let pair_rule =
        |rule_id: &str| rules.get(rule_id).and_then(|r| r.spec.verify.as_ref()).and_then(|v| v.pair.clone());
    let pending_keys: HashSet<String> = pending.iter().map(|f| key(f)).collect();
    let partners: HashSet<(Option<&str>, &str, String)> = pending
        .iter()
        .filter_map(|f| Some((f.repository.as_deref(), f.path.as_str(), pair_rule(&f.rule_id)?)))
        .collect();
    let mut asked: Vec<Finding> = findings
        .iter()
        .filter(|f| f.has_full_secret())
        .filter(|f| {
            pending_keys.contains(&key(f))
                || partners.contains(&(f.repository.as_deref(), f.path.as_str(), f.rule_id.clone()))
        })
        .map(|f| Finding { verification: None, ..f.clone() })
        .collect();
    let run = verify::verify(&mut asked, rules, options)?;
    let results: HashMap<String, Verification> = asked
        .into_iter()
        .filter(|f| pending_keys.contains(&key(f)))
        .filter_map(|f| Some((key(&f), f.verification?)))
        .collect();
    for f in findings.iter_mut() {
        if let Some(v) = results.get(&key(f)) {
            f.verification = Some(v.clone());
        }
        verify::raise_if_live(f, rules);
    }
    let mut stats = verification_summary(findings).unwrap_or_default();
    stats.requests = run.requests;
    stats.from_cache = run.from_cache;
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(repo: &str, secret: &str, status: Option<(Status, &str)>) -> Finding {
        let line = serde_json::json!({
            "rule_id": "openai-project-key", "provider": "openai", "name": "OpenAI project key", "kind": "api-key",
            "secret": secret, "secret_sha256": crate::finding::secret_hash(b"sk-proj-full"),
            "fingerprint": "f", "path": "a.py", "line": 1, "column": 1, "snippet": "k", "client_side": false,
            "severity": "critical", "confidence": "high", "rotate_url": "https://x", "repository": repo,
        });
        let mut f: Finding = serde_json::from_value(line).unwrap();
        f.verification = status.map(|(status, at)| Verification {
            status,
            qualifier: None,
            detail: None,
            http_status: None,
            checked_at: at.into(),
            access: None,
        });
        f
    }

    #[test]
    fn full_and_masked_secrets_are_told_apart() {
        assert!(finding("a", "sk-proj-full", None).has_full_secret());
        assert!(!finding("a", "sk-proj-...full", None).has_full_secret());
    }

    #[test]
    fn jsonl_and_json_shards_parse() {
        let f = finding("a", "x", None);
        let line = serde_json::to_string(&f).unwrap();
        let jsonl = parse_shard(&format!("{line}\n\n{line}\n"), "s.jsonl").unwrap();
        assert_eq!(jsonl.findings.len(), 2);
        assert!(jsonl.stats.is_none());
        assert_eq!(jsonl.findings[0].repository.as_deref(), Some("a"));
        let doc = format!(
            r#"{{"findings": [{line}], "stats": {{"files_scanned": 3, "bytes_scanned": 10, "skipped": {{"unreadable": 1}}, "duration_ms": 5}},
                "skipped": [{{"path": "r", "reason": "unreadable", "detail": "gone"}}], "notes": ["shallow"]}}"#
        );
        let json = parse_shard(&doc, "s.json").unwrap();
        assert_eq!((json.findings.len(), json.skipped.len(), json.notes.len()), (1, 1, 1));
        assert_eq!(json.skipped[0].reason, SkipReason::Unreadable);
        assert_eq!(json.stats.as_ref().unwrap().files_scanned, 3);
        assert!(parse_shard("", "empty").unwrap().findings.is_empty());
        let bad = parse_shard(&format!("{line}\nnot json\n"), "s.jsonl").unwrap_err();
        assert!(format!("{bad:#}").starts_with("s.jsonl:2: "), "{bad:#}");
    }

    #[test]
    fn merge_dedups_and_shares_verdicts() {
        let a = ShardFile {
            name: "a".into(),
            findings: vec![
                finding("repo-a", "x", Some((Status::Unknown, "2026-01-02T00:00:00Z"))),
                finding("repo-b", "x", None),
            ],
            ..ShardFile::default()
        };
        let b = ShardFile {
            name: "b".into(),
            findings: vec![
                finding("repo-c", "x", Some((Status::Live, "2026-01-01T00:00:00Z"))),
                finding("repo-b", "x", None),
            ],
            ..ShardFile::default()
        };
        let outcome = merge(vec![a, b]);
        assert_eq!(outcome.findings.len(), 3, "repo-b's finding is in both shard files");
        assert!(outcome.findings.iter().all(|f| f.verification.as_ref().unwrap().status == Status::Live));
        let stats = outcome.stats.verification.unwrap();
        assert_eq!((stats.unique_secrets, stats.live, stats.requests), (1, 1, 0));
        assert!(outcome.notes.last().unwrap().contains("kept once"));
    }

    #[test]
    fn a_duplicate_holding_the_key_in_full_is_the_one_kept() {
        let mut findings = vec![finding("r", "sk-proj-...full", None), finding("r", "sk-proj-full", None)];
        assert_eq!(dedup(&mut findings), 1);
        assert_eq!(findings[0].secret, "sk-proj-full");
    }
}
