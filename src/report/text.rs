//! Text output for people. A tree's findings are grouped by file, the worst
//! first (a tree is fixed file by file); history findings by key
//! (`text_keys`: one key is often hundreds of findings, one per path it was
//! ever copied to). Then what was skipped, then a one-line summary. Every
//! string that came from a scanned file, or from a custom rule in a config
//! file a scanned repository may bring, goes through `sanitize`.

use std::io::{self, Write};

use crate::finding::Finding;
use crate::outcome::{Skip, SkipReason, Stats, Unit, unique_keys};
use crate::rules::verify_spec::Status;
use crate::rules::{RuleSet, Severity};

use super::sanitize::for_terminal;
use super::{ReportView, human_bytes, plural, rotation, text_keys};

pub(super) struct Style {
    pub(super) color: bool,
}

impl Style {
    pub(super) fn paint(&self, code: &str, text: &str) -> String {
        if self.color { format!("\x1b[{code}m{text}\x1b[0m") } else { text.to_string() }
    }

    pub(super) fn severity(&self, severity: Severity) -> String {
        let code = match severity {
            Severity::Critical => "1;31",
            Severity::High => "31",
            Severity::Medium => "33",
            Severity::Low | Severity::Warning => "36",
        };
        self.paint(code, severity.as_str())
    }
}

pub fn write(out: &mut dyn Write, view: &ReportView) -> io::Result<()> {
    let (findings, suppressed, rules) = (&view.findings, &view.suppressed, view.rules);
    let style = Style { color: view.color };
    if is_history(view) {
        text_keys::write(out, findings, rules, &style)?;
    } else {
        write_tree(out, findings, rules, &style, view.stats.verification.is_some())?;
    }
    if !suppressed.is_empty() {
        writeln!(out, "{}", style.paint("1", "Suppressed:"))?;
        if is_history(view) {
            write_suppressed_keys(out, suppressed)?;
        } else {
            for f in suppressed {
                writeln!(
                    out,
                    "  {}:{}:{}  {}  {}  ({})",
                    for_terminal(&f.path),
                    f.line,
                    f.column,
                    f.rule_id,
                    for_terminal(&f.secret),
                    f.suppressed_by.as_deref().unwrap_or_default()
                )?;
            }
        }
        writeln!(out)?;
    }
    write_skipped(out, view.skipped, &style)?;
    for note in view.notes {
        writeln!(out, "note: {}", for_terminal(note))?;
    }
    writeln!(out, "{}", summary(view.stats, findings, is_history(view)))
}

/// Findings of git history (an audit, a range, merged shards): grouped by
/// key. A history audit with nothing found is one too (`Unit::Blob`).
fn is_history(view: &ReportView) -> bool {
    view.stats.unit == Unit::Blob || view.findings.iter().chain(&view.suppressed).any(|f| f.git.is_some())
}

/// A tree's findings: what to rotate first after verification, keys served
/// to browsers, then the rest, each grouped by file.
fn write_tree(
    out: &mut dyn Write,
    findings: &[Finding],
    rules: &RuleSet,
    style: &Style,
    verified: bool,
) -> io::Result<()> {
    if verified {
        write_rotation(out, findings, rules, style)?;
    }
    // Keys served to browsers first: anyone can read them in DevTools.
    // (A value public by design is served on purpose: not among them.)
    let (client, other): (Vec<Finding>, Vec<Finding>) =
        findings.iter().cloned().partition(|f| f.client_side && !f.is_public_only());
    if !client.is_empty() {
        writeln!(
            out,
            "{}\n",
            style.paint(
                "1;31",
                &format!(
                    "{} served to browsers: anyone who opens the site can read them in DevTools. \
                     Rotate them, and call the provider from your server instead.",
                    plural(client.len() as u64, "finding")
                )
            )
        )?;
        write_groups(out, &client, style)?;
        if !other.is_empty() {
            writeln!(out, "{}\n", style.paint("1", "Other findings:"))?;
        }
    }
    write_groups(out, &other, style)
}

/// Suppressed history findings, one line per key and reason: its first
/// path and how many more.
fn write_suppressed_keys(out: &mut dyn Write, suppressed: &[Finding]) -> io::Result<()> {
    let mut by_key: std::collections::BTreeMap<(&str, &str), Vec<&Finding>> = std::collections::BTreeMap::new();
    for f in suppressed {
        by_key.entry((f.secret_sha256.as_str(), f.suppressed_by.as_deref().unwrap_or_default())).or_default().push(f);
    }
    for ((_, reason), places) in by_key {
        let f = places[0];
        let more = if places.len() > 1 { format!(" and {} more", places.len() - 1) } else { String::new() };
        writeln!(
            out,
            "  {}  {}  ({reason})  at {}:{}{more}",
            f.rule_id,
            for_terminal(&f.secret),
            for_terminal(&f.path),
            f.line
        )?;
    }
    Ok(())
}

/// "Rotate now": one line per unique secret, live ones first.
fn write_rotation(out: &mut dyn Write, findings: &[Finding], rules: &RuleSet, style: &Style) -> io::Result<()> {
    let items = rotation::plan(findings);
    if items.is_empty() {
        return Ok(());
    }
    writeln!(out, "{}", style.paint("1", "Rotate now (live keys first):"))?;
    for (n, item) in items.iter().enumerate() {
        let f = item.first();
        let status = status_word(f, style);
        let client =
            if item.client_side() { format!(" {}", style.paint("1;31", "[CLIENT-SIDE]")) } else { String::new() };
        // Provider, name and rotation link of a custom rule come from a
        // `.leakhound.toml`, which a scanned repository may bring: untrusted.
        writeln!(out, "  {}. {status}{client}  {}  {}", n + 1, for_terminal(&f.provider), for_terminal(&f.secret))?;
        for place in item.places.iter().take(5) {
            let commit = place.git.as_ref().map(|g| format!(" (commit {})", &g.commit[..g.commit.len().min(10)]));
            writeln!(out, "     at {}:{}{}", for_terminal(&place.path), place.line, commit.unwrap_or_default())?;
        }
        if item.places.len() > 5 {
            writeln!(out, "     and {} more places", item.places.len() - 5)?;
        }
        if let Some(detail) = f.verification.as_ref().and_then(|v| v.detail.as_ref()) {
            writeln!(out, "     {}", for_terminal(detail))?;
        }
        if let Some(access) = f.verification.as_ref().and_then(|v| v.access.as_ref()) {
            writeln!(out, "     access: {}", for_terminal(&access.summary()))?;
        }
        let steps = rules.get(&f.rule_id).and_then(|r| r.spec.rotate_steps.clone()).unwrap_or_default();
        writeln!(out, "     rotate: {} {}", for_terminal(&f.rotate_url), for_terminal(&steps))?;
    }
    writeln!(out)
}

/// `LIVE (restricted)`, `INVALID`, `UNVERIFIED`: a key's verification, as
/// rotation lists show it.
pub(super) fn status_word(f: &Finding, style: &Style) -> String {
    match &f.verification {
        Some(v) => {
            let text = match &v.qualifier {
                Some(q) => format!("{} ({})", v.status.as_str().to_uppercase(), for_terminal(q)),
                None => v.status.as_str().to_uppercase(),
            };
            let code = match v.status {
                Status::Live => "1;31",
                Status::Unknown => "33",
                Status::Invalid => "2",
            };
            style.paint(code, &text)
        }
        None => "UNVERIFIED".into(),
    }
}

/// Findings grouped by file, the files with the most severe findings first.
fn write_groups(out: &mut dyn Write, findings: &[Finding], style: &Style) -> io::Result<()> {
    let mut worst: std::collections::HashMap<&str, Severity> = std::collections::HashMap::new();
    for f in findings {
        let w = worst.entry(f.path.as_str()).or_insert(f.severity);
        *w = (*w).max(f.severity);
    }
    let mut ordered: Vec<&Finding> = findings.iter().collect();
    ordered.sort_by(|a, b| {
        (std::cmp::Reverse(worst[a.path.as_str()]), &a.path, a.line, a.column).cmp(&(
            std::cmp::Reverse(worst[b.path.as_str()]),
            &b.path,
            b.line,
            b.column,
        ))
    });
    for group in ordered.chunk_by(|a, b| a.path == b.path) {
        writeln!(out, "{}", style.paint("1", &for_terminal(&group[0].path)))?;
        for f in group {
            writeln!(
                out,
                "  {}:{}  {}  {}  {} ({})",
                f.line,
                f.column,
                style.severity(f.severity),
                f.rule_id,
                for_terminal(&f.secret),
                for_terminal(&f.name),
            )?;
            writeln!(out, "      {}", style.paint("2", &for_terminal(&f.snippet)))?;
            if let Some(reason) = &f.severity_reason {
                writeln!(out, "      {}: {}", f.severity.as_str(), for_terminal(reason))?;
            }
            if let Some(companion) = &f.companion {
                writeln!(out, "      with its {} {}", for_terminal(&companion.name), for_terminal(&companion.value))?;
            }
            if let Some(header) = &f.header {
                writeln!(out, "      hardcoded in the {} header", for_terminal(header))?;
            }
            if let Some(exposure) = &f.exposure {
                let label = if f.client_side { style.paint("1;31", "CLIENT-SIDE") } else { "server-side".into() };
                writeln!(out, "      {label}: {}", for_terminal(exposure))?;
            }
            if let Some(v) = &f.verification {
                let qualifier = v.qualifier.as_deref().map(|q| format!(" ({q})")).unwrap_or_default();
                let detail = v.detail.as_deref().map(|d| format!(": {}", for_terminal(d))).unwrap_or_default();
                writeln!(out, "      verification: {}{qualifier}{detail}", v.status.as_str())?;
                if let Some(access) = &v.access {
                    writeln!(out, "      access: {}", for_terminal(&access.summary()))?;
                }
            }
            if let Some(host) = &f.request_host {
                writeln!(out, "      {}'s key: its request goes to {}", for_terminal(&f.provider), for_terminal(host))?;
            }
            if f.is_public_only() {
                writeln!(out, "      its settings: {}", for_terminal(&f.rotate_url))?;
            } else {
                writeln!(out, "      rotate: {}", for_terminal(&f.rotate_url))?;
            }
        }
        writeln!(out)?;
    }
    Ok(())
}

/// Every skip except binary files is listed (those are only counted: a
/// tree of images would drown the report).
fn write_skipped(out: &mut dyn Write, skipped: &[Skip], style: &Style) -> io::Result<()> {
    let listed: Vec<_> =
        skipped.iter().filter(|s| !matches!(s.reason, SkipReason::Binary | SkipReason::Media)).collect();
    for skip in &listed {
        let label = if skip.reason.is_error() { style.paint("31", "error") } else { "skipped".to_string() };
        writeln!(
            out,
            "{label}: {} ({}: {})",
            for_terminal(&skip.path),
            skip.reason.as_str(),
            for_terminal(&skip.detail)
        )?;
    }
    if !listed.is_empty() {
        writeln!(out)?;
    }
    Ok(())
}

/// One line: findings, unique keys (always for history, where one key is
/// often many findings), severities, files, what was scanned, suppressed,
/// skipped and kept out by ignore files.
fn summary(stats: &Stats, findings: &[Finding], history: bool) -> String {
    let files: std::collections::BTreeSet<&str> = findings.iter().map(|f| f.path.as_str()).collect();
    let mut by_severity: Vec<(Severity, usize)> = Vec::new();
    for severity in [Severity::Critical, Severity::High, Severity::Medium, Severity::Low, Severity::Warning] {
        let n = findings.iter().filter(|f| f.severity == severity).count();
        if n > 0 {
            by_severity.push((severity, n));
        }
    }
    let severities = if by_severity.is_empty() {
        String::new()
    } else {
        let parts: Vec<String> = by_severity.iter().map(|(s, n)| format!("{n} {}", s.as_str())).collect();
        format!(" ({})", parts.join(", "))
    };
    let keys = unique_keys(findings);
    let unique = if keys < findings.len() as u64 || (history && keys > 0) {
        format!(" of {}", plural(keys, "unique key"))
    } else {
        String::new()
    };
    let mut line = format!(
        "{}{unique}{severities} in {} · scanned {}, {} in {} ms",
        plural(findings.len() as u64, "finding"),
        plural(files.len() as u64, "file"),
        plural(stats.files_scanned, stats.unit.as_str()),
        human_bytes(stats.bytes_scanned),
        stats.duration_ms
    );
    if stats.suppressed > 0 {
        let parts: Vec<String> = stats.suppressed_by.iter().map(|(reason, n)| format!("{n} {reason}")).collect();
        line.push_str(&format!(" · suppressed {} ({})", stats.suppressed, parts.join(", ")));
    }
    let skipped: u64 = stats.skipped.values().sum();
    if skipped > 0 {
        let parts: Vec<String> = stats.skipped.iter().map(|(reason, n)| format!("{n} {reason}")).collect();
        line.push_str(&format!(" · skipped {skipped} ({})", parts.join(", ")));
    }
    if let Some(excluded) = stats.excluded_by_ignore_files.filter(|e| e.files + e.directories > 0) {
        let mut parts = Vec::new();
        if excluded.files > 0 {
            parts.push(plural(excluded.files, "file"));
        }
        if excluded.directories > 0 {
            parts.push(if excluded.directories == 1 {
                "1 directory".to_string()
            } else {
                format!("{} directories", excluded.directories)
            });
        }
        line.push_str(&format!(" · {} excluded by ignore files (--no-ignore to scan them)", parts.join(" and ")));
    }
    line
}
