//! A way over from gitleaks: its `.gitleaks.toml` translated into a
//! `.leakhound.toml` (custom rules and allowlists). What cannot be
//! translated is listed in the output as a comment, never dropped silently.

use std::fmt::Write as _;

use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
struct GitleaksConfig {
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    rules: Vec<GitleaksRule>,
    #[serde(default)]
    allowlist: Option<Allowlist>,
    #[serde(default)]
    allowlists: Vec<Allowlist>,
    #[serde(default)]
    extend: Option<toml::Value>,
}

#[derive(Debug, Default, Deserialize)]
struct GitleaksRule {
    id: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    regex: Option<String>,
    #[serde(default, rename = "secretGroup")]
    secret_group: Option<usize>,
    #[serde(default)]
    entropy: Option<f64>,
    #[serde(default)]
    keywords: Vec<String>,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    allowlist: Option<Allowlist>,
    #[serde(default)]
    allowlists: Vec<Allowlist>,
}

#[derive(Debug, Default, Deserialize)]
struct Allowlist {
    #[serde(default)]
    regexes: Vec<String>,
    #[serde(default)]
    paths: Vec<String>,
    #[serde(default)]
    stopwords: Vec<String>,
    #[serde(default)]
    commits: Vec<String>,
    #[serde(default, rename = "regexTarget")]
    regex_target: Option<String>,
}

/// The `.leakhound.toml` text for the gitleaks config `text`.
pub fn translate(text: &str) -> Result<String, String> {
    let config: GitleaksConfig = toml::from_str(text).map_err(|e| format!("not a gitleaks config: {e}"))?;
    let mut out = String::new();
    let mut skipped: Vec<String> = Vec::new();
    let _ = writeln!(
        out,
        "# Translated from a gitleaks config{} by `leakhound rules import-gitleaks`.\n\
         # Check it with `leakhound rules check .leakhound.toml`.",
        config.title.as_deref().map(|t| format!(" ({t})")).unwrap_or_default()
    );
    if config.extend.is_some() {
        skipped.push(
            "[extend]: leakhound's built-in rules already cover gitleaks' default rules; only this file's own \
             rules were translated"
                .into(),
        );
    }
    let globals: Vec<&Allowlist> = config.allowlist.iter().chain(&config.allowlists).collect();
    let mut patterns: Vec<String> = Vec::new();
    let mut commits: Vec<String> = Vec::new();
    for list in &globals {
        for r in &list.regexes {
            if list.regex_target.as_deref().is_some_and(|t| t != "secret" && t != "match") {
                skipped.push(format!(
                    "global allowlist regex `{r}` targets the {}",
                    list.regex_target.as_deref().unwrap_or("line")
                ));
            } else {
                patterns.push(r.clone());
            }
        }
        patterns.extend(list.stopwords.iter().map(|w| regex::escape(w)));
        commits.extend(list.commits.iter().cloned());
        for p in &list.paths {
            skipped.push(format!(
                "global allowlist path regex `{p}`: leakhound's allow_paths are globs; write the glob by hand"
            ));
        }
    }
    if !patterns.is_empty() {
        let _ = writeln!(out, "allow_patterns = {}", toml_list(&patterns));
    }
    if !commits.is_empty() {
        let _ = writeln!(out, "allow_commits = {}", toml_list(&commits));
    }
    for rule in &config.rules {
        match translate_rule(rule) {
            Ok(text) => out.push_str(&text),
            Err(why) => skipped.push(format!("rule `{}`: {why}", rule.id)),
        }
    }
    if !skipped.is_empty() {
        out.push_str("\n# Not translated (decide by hand):\n");
        for s in &skipped {
            let _ = writeln!(out, "#   - {}", s.replace('\n', " "));
        }
    }
    Ok(out)
}

fn translate_rule(rule: &GitleaksRule) -> Result<String, String> {
    let Some(regex) = &rule.regex else {
        return Err("has no `regex` (a path-only rule); leakhound rules match content".into());
    };
    if rule.keywords.is_empty() {
        return Err(
            "has no `keywords`: leakhound needs at least one literal for its prefilter; add one and retry".into()
        );
    }
    let pattern = match rule.secret_group {
        Some(n) if n > 0 => name_group(regex, n).ok_or(format!("its regex has no capture group {n}"))?,
        _ => regex.clone(),
    };
    let id: String =
        rule.id.to_ascii_lowercase().chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
    let mut text = String::new();
    let _ = writeln!(text, "\n[[rule]]");
    let _ = writeln!(text, "id = \"custom-{}\"", id.trim_matches('-'));
    let _ = writeln!(text, "provider = \"custom\"");
    let _ = writeln!(text, "name = {}", toml_string(rule.description.as_deref().unwrap_or(&rule.id)));
    let _ = writeln!(text, "pattern = {}", toml_string(&pattern));
    let _ = writeln!(text, "keywords = {}", toml_list(&rule.keywords));
    if let Some(entropy) = rule.entropy {
        let _ = writeln!(text, "min_entropy = {entropy}");
    }
    let lists: Vec<&Allowlist> = rule.allowlist.iter().chain(&rule.allowlists).collect();
    let mut exclude: Vec<String> = Vec::new();
    for list in &lists {
        exclude.extend(list.regexes.iter().cloned());
        exclude.extend(list.stopwords.iter().map(|w| regex::escape(w)));
    }
    if !exclude.is_empty() {
        let _ = writeln!(text, "exclude = {}", toml_list(&exclude));
    }
    if rule.path.is_some() || lists.iter().any(|l| !l.paths.is_empty() || !l.commits.is_empty()) {
        let _ = writeln!(text, "# gitleaks also limited this rule by path or commit: use allow_paths / allow_commits");
    }
    let _ = writeln!(text, "rotate_url = \"\"");
    Ok(text)
}

/// `regex` with its `n`th capturing group named `secret`.
fn name_group(regex: &str, n: usize) -> Option<String> {
    let bytes = regex.as_bytes();
    let (mut count, mut i, mut in_class) = (0, 0, false);
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 1,
            b'[' if !in_class => in_class = true,
            b']' if in_class => in_class = false,
            b'(' if !in_class => {
                let rest = &regex[i + 1..];
                let capturing = !rest.starts_with('?') || rest.starts_with("?P<") || rest.starts_with("?<");
                if capturing {
                    count += 1;
                    if count == n {
                        let body_start = if rest.starts_with("?P<") || rest.starts_with("?<") {
                            i + 1 + rest.find('>')? + 1
                        } else {
                            i + 1
                        };
                        return Some(format!("{}(?P<secret>{}", &regex[..i], &regex[body_start..]));
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

fn toml_list(items: &[String]) -> String {
    toml::Value::Array(items.iter().map(|s| toml::Value::String(s.clone())).collect()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_allowlists_and_what_is_left_out() {
        let text = r#"
title = "acme"
[extend]
useDefault = true
[[rules]]
id = "acme-internal-token"
description = "Acme internal token"
regex = '''acme_(?:live|test)_([a-z0-9]{32})'''
secretGroup = 1
entropy = 3.5
keywords = ["acme_live_", "acme_test_"]
[rules.allowlist]
stopwords = ["acme_test_00000000"]
[[rules]]
id = "no-keywords"
regex = '''zz[0-9]{8}'''
[allowlist]
regexes = ['''^EXAMPLE''']
paths = ['''(?:^|/)vendor/''']
commits = ["4f2a9c1d"]
"#;
        let out = translate(text).unwrap();
        assert!(out.contains("id = \"custom-acme-internal-token\""), "{out}");
        assert!(out.contains(r#"pattern = "acme_(?:live|test)_(?P<secret>[a-z0-9]{32})""#), "{out}");
        assert!(out.contains("allow_patterns = [\"^EXAMPLE\"]"), "{out}");
        assert!(out.contains("allow_commits = [\"4f2a9c1d\"]"), "{out}");
        assert!(out.contains("rule `no-keywords`: has no `keywords`"), "{out}");
        assert!(out.contains("vendor/"), "the path regex is listed: {out}");
        let config = crate::config::Config::parse(&out, std::path::Path::new(".leakhound.toml")).unwrap();
        assert_eq!(config.allow_paths.len(), 0);
    }

    #[test]
    fn named_groups() {
        assert_eq!(name_group("a(b)(c)", 2).as_deref(), Some("a(b)(?P<secret>c)"));
        assert_eq!(name_group("(?:x)(?P<k>y)", 1).as_deref(), Some("(?:x)(?P<secret>y)"));
        assert_eq!(name_group("[(]a", 1), None);
    }
}
