//! SARIF 2.1.0 for code-scanning platforms (GitHub code scanning and
//! others): one run, every rule in `tool.driver.rules` with its rotation
//! help, one result per finding with a physical location and a
//! `partialFingerprints` entry stable across runs. Secrets are always
//! masked here, even with `--show-secrets`: SARIF files are uploaded and
//! kept by third parties.

use std::collections::HashMap;
use std::io::{self, Write};

use serde_json::{Value, json};

use crate::finding::Finding;
use crate::rules::Severity;

use super::ReportView;

/// `error` blocks a merge in most code-scanning setups; keep it for keys.
fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Warning => "note",
    }
}

pub fn write(out: &mut dyn Write, view: &ReportView) -> io::Result<()> {
    let (findings, rules) = (&view.findings, view.rules);
    let index: HashMap<&str, usize> = rules.rules().iter().enumerate().map(|(i, r)| (r.spec.id.as_str(), i)).collect();
    let driver_rules: Vec<Value> = rules
        .rules()
        .iter()
        .map(|r| {
            let s = &r.spec;
            let steps = s.rotate_steps.clone().unwrap_or_else(|| "Revoke the key and issue a new one.".into());
            json!({
                "id": s.id,
                "name": pascal_case(&s.id),
                "shortDescription": { "text": s.name },
                "fullDescription": { "text": format!("{} ({} {})", s.name, s.provider, s.kind) },
                "help": {
                    "text": format!("{steps} Rotate at {}.", s.rotate_url),
                    "markdown": format!("{steps}\n\nRotate at [{0}]({0}).", s.rotate_url),
                },
                "helpUri": s.rotate_url,
                "defaultConfiguration": { "level": level(s.severity) },
                "properties": {
                    "tags": ["security", "secret", s.provider],
                    "precision": s.confidence.as_str(),
                    "security-severity": security_severity(s.severity),
                },
            })
        })
        .collect();
    let results: Vec<Value> = findings.iter().map(|f| result(f, &index)).collect();
    let mut driver = json!({
        "name": "leakhound",
        "semanticVersion": env!("CARGO_PKG_VERSION"),
        "rules": driver_rules,
    });
    // The project's home, when Cargo.toml names one (an invented URL would
    // send code-scanning users nowhere).
    if !env!("CARGO_PKG_REPOSITORY").is_empty() {
        driver["informationUri"] = json!(env!("CARGO_PKG_REPOSITORY"));
    }
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": driver },
            "invocations": [invocation(view)],
            "columnKind": "utf16CodeUnits",
            "results": results,
        }],
    });
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

fn result(f: &Finding, index: &HashMap<&str, usize>) -> Value {
    // `report::write` masked the secret already, whatever --show-secrets says.
    let mut message = format!("{} {} found", f.name, f.secret);
    if f.client_side {
        message.push_str(" in code served to browsers");
    }
    if let Some(reason) = &f.severity_reason {
        message.push_str(&format!("; {reason}"));
    }
    if let Some(v) = &f.verification {
        message.push_str(&format!("; verification: {}", v.status.as_str()));
        if let Some(q) = &v.qualifier {
            message.push_str(&format!(" ({q})"));
        }
        if let Some(access) = &v.access {
            message.push_str(&format!("; access: {}", access.summary()));
        }
    }
    message.push('.');
    let mut properties = json!({
        "provider": f.provider,
        "kind": f.kind,
        "severity": f.severity,
        "client_side": f.client_side,
        "secret_sha256": f.secret_sha256,
    });
    if let Some(v) = &f.verification {
        properties["verification"] = json!(v.status.as_str());
        if let Some(access) = &v.access {
            properties["access"] = json!(access);
        }
    }
    if let Some(host) = &f.request_host {
        properties["request_host"] = json!(host);
    }
    if let Some(reason) = &f.severity_reason {
        properties["severity_reason"] = json!(reason);
    }
    if let Some(git) = &f.git {
        properties["commit"] = json!(git.commit);
        properties["in_head"] = json!(git.in_head);
    }
    let mut result = json!({
        "ruleId": f.rule_id,
        "level": level(f.severity),
        "message": { "text": message },
        "locations": [{ "physicalLocation": {
            "artifactLocation": { "uri": uri(&f.path) },
            "region": { "startLine": f.line, "startColumn": f.column },
        }}],
        "partialFingerprints": { "leakhound/v1": f.fingerprint },
        "properties": properties,
    });
    if let Some(&i) = index.get(f.rule_id.as_str()) {
        result["ruleIndex"] = json!(i);
    }
    result
}

/// Whether the run read everything it should have, with one notification
/// per input it skipped (an error when it could not be read) and per note:
/// a code-scanning platform then shows that a scan was incomplete.
fn invocation(view: &ReportView) -> Value {
    let mut notifications: Vec<Value> = view
        .skipped
        .iter()
        .map(|skip| {
            json!({
                "level": if skip.reason.is_error() { "error" } else { "note" },
                "message": { "text": format!("skipped ({}): {}", skip.reason.as_str(), skip.detail) },
                "locations": [{ "physicalLocation": { "artifactLocation": { "uri": uri(&skip.path) } } }],
            })
        })
        .collect();
    notifications.extend(view.notes.iter().map(|note| json!({ "level": "note", "message": { "text": note } })));
    json!({
        "executionSuccessful": view.stats.errors == 0,
        "toolExecutionNotifications": notifications,
    })
}

/// A relative URI reference for a path (`%`-escaping what URIs forbid).
fn uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn pascal_case(id: &str) -> String {
    id.split('-').filter(|w| !w.is_empty()).map(|w| w[..1].to_ascii_uppercase() + &w[1..]).collect()
}

/// GitHub's `security-severity` scale (0.0–10.0).
fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Warning => "2.0",
    }
}
