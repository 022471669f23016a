//! Text output for history findings (`leakhound git`, `merge`): one block
//! per unique key, not one per (key, path). A key committed once and copied
//! around is hundreds of findings in JSON (every path, its commit and its
//! refs); a person needs to know what the key is, where it sits now, since
//! when, how far it spread, whether it works, and how to rotate it. Each
//! block is bounded whatever the history: a few paths then "and N more",
//! counts instead of lists, long strings clipped. JSON keeps every detail.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::finding::Finding;
use crate::rules::RuleSet;

use super::plural;
use super::rotation::{self, RotationItem};
use super::sanitize::for_terminal;
use super::text::{Style, status_word};

/// Paths listed per key before "and N more".
const PATHS_SHOWN: usize = 3;
/// Ref names listed per key before "and N more".
const REFS_SHOWN: usize = 3;

/// Every key of `findings`, the keys to rotate first (most urgent first),
/// then the rest (values public by design, references that are not keys).
pub fn write(out: &mut dyn Write, findings: &[Finding], rules: &RuleSet, style: &Style) -> io::Result<()> {
    let items = rotation::by_key(findings);
    let (rotate, other): (Vec<&RotationItem>, Vec<&RotationItem>) =
        items.iter().partition(|item| rotation::to_rotate(item.first()));
    let mut n = 0;
    if !rotate.is_empty() {
        let heading = "Rotate now (live keys first; one block per key, every place and commit in --format json):";
        writeln!(out, "{}\n", style.paint("1", heading))?;
        for item in rotate {
            n += 1;
            write_block(out, n, item, rules, style)?;
        }
    }
    if !other.is_empty() {
        writeln!(out, "{}\n", style.paint("1", "Not to rotate (public by design, or not a key):"))?;
        for item in other {
            n += 1;
            write_block(out, n, item, rules, style)?;
        }
    }
    Ok(())
}

fn write_block(out: &mut dyn Write, n: usize, item: &RotationItem, rules: &RuleSet, style: &Style) -> io::Result<()> {
    let f = item.first();
    let client = if item.client_side() { format!(" {}", style.paint("1;31", "[CLIENT-SIDE]")) } else { String::new() };
    // Provider, name and rotation link of a custom rule come from a
    // `.leakhound.toml`, which a scanned repository may bring: untrusted.
    // Unverified, what a value not to rotate is says more than "unverified".
    let status = match (&f.verification, f.public_by_design, rotation::to_rotate(f)) {
        (None, true, false) => "PUBLIC".to_string(),
        (None, false, false) => "NOT A KEY".to_string(),
        _ => status_word(f, style),
    };
    writeln!(out, "  {n}. {status}{client}  {}  {}", clip(&f.provider, 40), for_terminal(&f.secret))?;
    let severity = item.places.iter().map(|p| p.severity).max().unwrap_or(f.severity);
    writeln!(out, "     {} · {} · {}", style.severity(severity), clip(&f.rule_id, 60), clip(&f.name, 80))?;
    if let Some(reason) = &f.severity_reason {
        writeln!(out, "     {}", clip(reason, 200))?;
    }
    write_places(out, item)?;
    writeln!(out, "     {}", style.paint("2", &for_terminal(&f.snippet)))?;
    write_history(out, item)?;
    if let Some(c) = item.places.iter().find_map(|p| p.companion.as_ref()) {
        writeln!(out, "     with its {} {}", clip(&c.name, 40), clip(&c.value, 60))?;
    }
    if let Some(header) = item.places.iter().find_map(|p| p.header.as_ref()) {
        writeln!(out, "     hardcoded in the {} header", clip(header, 60))?;
    }
    let exposed = item.places.iter().copied().find(|p| p.client_side).unwrap_or(f);
    if let Some(exposure) = &exposed.exposure {
        let label = if exposed.client_side { style.paint("1;31", "CLIENT-SIDE") } else { "server-side".into() };
        writeln!(out, "     {label}: {}", clip(exposure, 160))?;
    }
    if let Some(v) = &f.verification {
        let qualifier = v.qualifier.as_deref().map(|q| format!(" ({})", clip(q, 40))).unwrap_or_default();
        let detail = v.detail.as_deref().map(|d| format!(": {}", clip(d, 200))).unwrap_or_default();
        writeln!(out, "     verification: {}{qualifier}{detail}", v.status.as_str())?;
        if let Some(access) = &v.access {
            writeln!(out, "     access: {}", clip(&access.summary(), 200))?;
        }
    }
    if let Some(host) = &f.request_host {
        writeln!(out, "     its request goes to {}", clip(host, 80))?;
    }
    if f.is_public_only() {
        writeln!(out, "     its settings: {}", clip(&f.rotate_url, 160))?;
    } else {
        let steps = rules.get(&f.rule_id).and_then(|r| r.spec.rotate_steps.clone()).unwrap_or_default();
        writeln!(out, "     rotate: {} {}", clip(&f.rotate_url, 160), clip(&steps, 300))?;
    }
    writeln!(out)
}

/// Where the key is: paths still holding it at HEAD first, then by path.
fn write_places(out: &mut dyn Write, item: &RotationItem) -> io::Result<()> {
    let mut places: Vec<&Finding> = item.places.clone();
    places.sort_by(|a, b| (!in_head(a), &a.path, a.line).cmp(&(!in_head(b), &b.path, b.line)));
    let mut paths: BTreeSet<&str> = BTreeSet::new();
    for place in places {
        if paths.insert(&place.path) && paths.len() <= PATHS_SHOWN {
            writeln!(out, "     at {}:{}", clip(&place.path, 160), place.line)?;
        }
    }
    if paths.len() > PATHS_SHOWN {
        let more = paths.len() - PATHS_SHOWN;
        writeln!(out, "     and {more} more {}", if more == 1 { "path" } else { "paths" })?;
    }
    Ok(())
}

/// The key's history: its first commit, whether HEAD still has it, how
/// many commits carry it, and which refs.
fn write_history(out: &mut dyn Write, item: &RotationItem) -> io::Result<()> {
    let with_git: Vec<&Finding> = item.places.iter().copied().filter(|p| p.git.is_some()).collect();
    let Some(first) = with_git.iter().min_by_key(|p| introduced_at(p)) else { return Ok(()) };
    let git = first.git.as_ref().expect("filtered on git");
    if !git.commit.is_empty() {
        writeln!(
            out,
            "     introduced {} in {} by {} <{}>: {}",
            clip(&git.date, 40),
            &git.commit[..git.commit.len().min(10)],
            clip(&git.author, 60),
            clip(&git.email, 60),
            clip(&git.summary, 72)
        )?;
    }
    let paths: BTreeSet<&str> = with_git.iter().map(|p| p.path.as_str()).collect();
    let head: BTreeSet<&str> = with_git.iter().filter(|p| in_head(p)).map(|p| p.path.as_str()).collect();
    let where_now = match (head.len(), paths.len()) {
        (0, _) => "removed from HEAD (still in history)".to_string(),
        (_, 1) => "STILL IN HEAD".to_string(),
        (h, n) => format!("STILL IN HEAD at {h} of {n} paths"),
    };
    let refs: BTreeSet<&str> =
        with_git.iter().flat_map(|p| p.git.as_ref().map_or(&[][..], |g| &g.branches[..])).map(String::as_str).collect();
    // A range scan names no refs: nothing to say then.
    let refs = if refs.is_empty() { String::new() } else { format!(" · {}", refs_words(&refs)) };
    writeln!(out, "     {where_now} · in {}{refs}", plural(commits(&with_git), "commit"))
}

fn in_head(f: &Finding) -> bool {
    f.git.as_ref().is_some_and(|g| g.in_head)
}

/// When the finding's commit was authored (unparsable dates last), then
/// its id, so the order never depends on the input's.
fn introduced_at(f: &Finding) -> (OffsetDateTime, String) {
    let git = f.git.as_ref();
    let date = git.and_then(|g| OffsetDateTime::parse(&g.date, &Rfc3339).ok()).unwrap_or(OffsetDateTime::now_utc());
    (date, git.map(|g| g.commit.clone()).unwrap_or_default())
}

/// Commits carrying the key, per repository: the audit's count at any path
/// (`key_commit_count`), else the largest per-path count or the number of
/// introducing commits, whichever is larger (a range scan, old shards).
fn commits(places: &[&Finding]) -> u64 {
    let mut by_repo: BTreeMap<Option<&str>, (u64, BTreeSet<&str>)> = BTreeMap::new();
    for place in places {
        let Some(git) = &place.git else { continue };
        let (count, introducing) = by_repo.entry(place.repository.as_deref()).or_default();
        *count = (*count).max(git.key_commit_count).max(git.commit_count);
        introducing.insert(git.commit.as_str());
    }
    by_repo.values().map(|(count, introducing)| (*count).max(introducing.len() as u64)).sum()
}

/// `in 1700 refs: refs/heads/main, refs/heads/dev, refs/tags/v1.0 and 1697
/// more`: branches first (main or master before the others), then remotes,
/// then tags and the rest.
fn refs_words(refs: &BTreeSet<&str>) -> String {
    let rank = |r: &str| match r {
        "refs/heads/main" | "refs/heads/master" => 0,
        r if r.starts_with("refs/heads/") => 1,
        r if r.starts_with("refs/remotes/") => 2,
        r if r.starts_with("refs/tags/") => 3,
        _ => 4,
    };
    let mut ordered: Vec<&str> = refs.iter().copied().collect();
    ordered.sort_by_key(|r| (rank(r), *r));
    let shown: Vec<String> = ordered.iter().take(REFS_SHOWN).map(|r| clip(r, 80)).collect();
    let more = refs.len().saturating_sub(REFS_SHOWN);
    let more = if more > 0 { format!(" and {more} more") } else { String::new() };
    format!("in {}: {}{more}", plural(refs.len() as u64, "ref"), shown.join(", "))
}

/// `value` made safe for a terminal, and cut to `max` characters: one key's
/// block stays small whatever a repository's paths and messages hold.
fn clip(value: &str, max: usize) -> String {
    let safe = for_terminal(value);
    if safe.chars().count() <= max {
        return safe;
    }
    let mut cut: String = safe.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A finding of one key at `path`, in git history.
    fn finding(path: &str, n: u64) -> Finding {
        let long = "x".repeat(500);
        serde_json::from_value(serde_json::json!({
            "rule_id": "openai-project-key", "provider": "openai", "name": "OpenAI project API key",
            "kind": "api-key", "secret": "sk-proj-...WXYZ", "secret_sha256": "ab", "fingerprint": "f",
            "path": path, "line": 1, "column": 1, "snippet": "K=sk-proj-...WXYZ", "client_side": false,
            "severity": "high", "confidence": "high", "rotate_url": "https://platform.openai.com/api-keys",
            "commit": format!("{n:040x}"), "author": long, "email": long, "summary": long,
            "date": format!("2024-01-01T00:{:02}:00Z", n % 60), "in_head": n.is_multiple_of(2), "commit_count": n,
            "key_commit_count": 5000, "branches": (0..n % 50).map(|b| format!("refs/tags/{long}{b}")).collect::<Vec<_>>(),
            "blob": "b",
        }))
        .unwrap()
    }

    #[test]
    fn a_block_stays_small_whatever_the_key_spread_to() {
        let long = "d/".repeat(300);
        let findings: Vec<Finding> = (1..3000).map(|n| finding(&format!("{long}{n}.env"), n)).collect();
        let rules = RuleSet::builtin().unwrap();
        let mut out = Vec::new();
        write(&mut out, &findings, &rules, &Style { color: false }).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.len() < 2048, "{} bytes:\n{text}", text.len());
        assert!(text.contains("and 2996 more paths") && text.contains("in 5000 commits"), "{text}");
        assert!(text.contains("STILL IN HEAD at 1499 of 2999 paths") && text.contains("in 49 refs"), "{text}");
    }
}
