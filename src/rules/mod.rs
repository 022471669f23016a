//! Rules are data: TOML files (built-in ones live in `rules/` and are embedded
//! by `build.rs`). This module parses and validates them and nothing else; the
//! engine decides how to run them.
//!
//! Regexes compile lazily, on a rule's first keyword hit (its filters', on its
//! first match), because a pre-commit hook that scans three staged files
//! should not pay to compile ~350 patterns and their ~900 filters it will
//! never run. `RuleSet::compile_all` exists for validation.

mod spec;
pub mod verify_spec;

use std::sync::OnceLock;

use regex::bytes::{Regex, RegexBuilder};

pub use crate::finding::{Confidence, Severity};
pub use spec::{CompanionSpec, ExcludeNear, PublicSpec, Raise, RuleSpec, SecretEncoding};

mod builtin {
    include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));
}

/// Size limit for one compiled regex: big enough for any sane key pattern,
/// small enough that a hostile custom rule fails with a clear error instead
/// of eating memory.
const REGEX_SIZE_LIMIT: usize = 8 * 1024 * 1024;

/// Default bytes after a keyword hit a pattern may reach.
pub const DEFAULT_WINDOW: usize = 512;
/// Bytes before a keyword hit that a prefix rule's pattern may start at (room
/// for a leading boundary and keys whose keyword sits a little inside).
pub const PREFIX_LOOKBEHIND: usize = 64;

#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    #[error("{origin}: invalid TOML: {message}")]
    Toml { origin: String, message: String },
    #[error("{origin}: rule `{id}`: {message}")]
    Invalid { origin: String, id: String, message: String },
    #[error("rule id `{id}` is defined twice ({first} and {second})")]
    Duplicate { id: String, first: String, second: String },
}

/// A validated rule, ready for the engine.
#[derive(Debug, Clone)]
pub struct Rule {
    pub spec: RuleSpec,
    /// Where the rule came from (a file name), for error messages.
    pub origin: String,
    /// Shipped with leakhound (`rules/`), not from a user's or repository's
    /// file: only these may verify or have their rotation page linked.
    pub builtin: bool,
    regex: OnceLock<Regex>,
    /// Compiled on first use, as `regex` is.
    filters: OnceLock<Filters>,
    companion: OnceLock<Option<Regex>>,
    session: OnceLock<Option<Regex>>,
    /// The longest match the pattern allows, when it is bounded (most key
    /// shapes are): a prefix rule's window after a hit need not be longer.
    /// (Computed on first use for built-in rules.)
    max_match_len: OnceLock<Option<usize>>,
}

impl Rule {
    /// A rule checked in full: its patterns are parsed, so a broken one is
    /// an error at load time, not a surprise on the first hit.
    fn new(spec: RuleSpec, origin: &str) -> Result<Rule, RuleError> {
        Rule::checked(spec, origin, true)
    }

    /// A built-in rule (or one derived from it): the test suite parses its
    /// patterns (`builtin_rules_pass_every_load_time_check`), so a run does
    /// not. Parsing 351 rules' patterns twice was 40% of a pre-commit
    /// hook's ~30 ms start.
    fn trusted(spec: RuleSpec, origin: &str) -> Result<Rule, RuleError> {
        Rule::checked(spec, origin, false)
    }

    fn checked(spec: RuleSpec, origin: &str, parse_patterns: bool) -> Result<Rule, RuleError> {
        let invalid = |message: String| RuleError::Invalid { origin: origin.to_string(), id: spec.id.clone(), message };
        if spec.id.is_empty() || !spec.id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
            return Err(invalid("id must be non-empty kebab-case (a-z, 0-9, -)".into()));
        }
        if spec.keywords.is_empty() || spec.keywords.iter().any(|k| k.is_empty()) {
            return Err(invalid("needs at least one non-empty keyword".into()));
        }
        let max_match_len = OnceLock::new();
        if parse_patterns {
            let len = parse_pattern(&spec.pattern).map_err(|e| invalid(format!("invalid pattern: {e}")))?;
            let _ = max_match_len.set(len);
            if let Some(c) = &spec.companion {
                parse_pattern(&c.pattern).map_err(|e| invalid(format!("invalid `companion.pattern`: {e}")))?;
            }
            if let Some(c) = &spec.session {
                parse_pattern(&c.pattern).map_err(|e| invalid(format!("invalid `session.pattern`: {e}")))?;
            }
            for (field, pattern) in filter_patterns(&spec) {
                parse_pattern(pattern).map_err(|e| invalid(format!("invalid `{field}` regex: {e}")))?;
            }
        }
        if let Some(verify) = &spec.verify {
            verify.validate().map_err(&invalid)?;
        }
        for host in &spec.hosts {
            let plain = !host.is_empty()
                && host.contains('.')
                && host.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-');
            if !plain {
                return Err(invalid(format!("`hosts`: `{host}` is not a lowercase host name")));
            }
        }
        if !spec.hosts.is_empty() && spec.verify.as_ref().is_none_or(|v| v.unavailable.is_some()) {
            return Err(invalid("`hosts` needs a `[rule.verify]` check".into()));
        }
        if spec.companion.is_none() && spec.verify.as_ref().is_some_and(|v| v.uses_companion()) {
            return Err(invalid("verify uses the companion, but the rule has no `[rule.companion]`".into()));
        }
        match &spec.public {
            Some(p) if p.before.is_empty() && p.near.as_ref().is_none_or(|n| n.words.is_empty()) => {
                return Err(invalid("`public` needs `before` or `near` words".into()));
            }
            Some(p) if p.near.as_ref().is_some_and(|n| n.words.iter().any(String::is_empty)) => {
                return Err(invalid("`public.near` has an empty word".into()));
            }
            _ => {}
        }
        Ok(Rule {
            spec,
            origin: origin.to_string(),
            builtin: false,
            regex: OnceLock::new(),
            filters: OnceLock::new(),
            companion: OnceLock::new(),
            session: OnceLock::new(),
            max_match_len,
        })
    }

    /// The compiled pattern. Compiles on first use; the pattern was already
    /// parsed at load time, so only the size limit can fail here, and
    /// `RuleSet::compile_all` checks that for every rule up front.
    pub fn regex(&self) -> &Regex {
        self.regex.get_or_init(|| {
            build_regex(&self.spec.pattern).unwrap_or_else(|_| {
                // Unreachable for rules that passed `compile_all`; a regex that
                // can never match keeps the scan going rather than panicking.
                Regex::new(r"[^\x00-\xff]").expect("static regex")
            })
        })
    }

    /// The compiled filter regexes; compiled on first use, like `regex`
    /// (parsed at load time; a filter that cannot compile never matches).
    fn filters(&self) -> &Filters {
        self.filters.get_or_init(|| {
            let compile = |list: &[String]| list.iter().filter_map(|p| build_regex(p).ok()).collect();
            Filters {
                exclude: compile(&self.spec.exclude),
                exclude_before: compile(&self.spec.exclude_before),
                exclude_after: compile(&self.spec.exclude_after),
                exclude_preceding: compile(&self.spec.exclude_preceding),
                confident_if: compile(&self.spec.confident_if),
                public_before: self.spec.public.as_ref().map_or_else(Vec::new, |p| compile(&p.before)),
            }
        })
    }

    pub fn is_context_rule(&self) -> bool {
        self.spec.context.is_some()
    }

    /// Bytes before a keyword hit where the pattern may start.
    pub fn lookbehind(&self) -> usize {
        match &self.spec.context {
            Some(c) => c.within,
            None => PREFIX_LOOKBEHIND,
        }
    }

    /// Bytes after a keyword hit where the pattern may end.
    pub fn lookahead(&self) -> usize {
        let window = self.spec.window.unwrap_or(DEFAULT_WINDOW);
        match &self.spec.context {
            Some(c) => window.max(c.within),
            // A key of at most N bytes ends within N bytes of its keyword:
            // a frequent short prefix (`re_`, `sk_`) then costs a regex run
            // over a few dozen bytes per hit, not over 512.
            None => self.max_match_len().map_or(window, |n| window.min(n + 1)),
        }
    }

    /// The longest match the pattern allows, when it is bounded.
    fn max_match_len(&self) -> Option<usize> {
        *self.max_match_len.get_or_init(|| parse_pattern(&self.spec.pattern).ok().flatten())
    }

    pub fn is_excluded(&self, secret: &[u8]) -> bool {
        self.filters().exclude.iter().any(|r| r.is_match(secret))
    }

    /// Whether a word of `exclude_near` sits within its distance of the
    /// secret at `start..end`.
    pub fn is_excluded_nearby(&self, haystack: &[u8], start: usize, end: usize) -> bool {
        self.spec.exclude_near.as_ref().is_some_and(|near| word_nearby(near, haystack, start, end))
    }

    /// `[rule.public]`, when the secret at `start..end` of `haystack` is a
    /// value public by design.
    pub fn public_match(&self, haystack: &[u8], start: usize, end: usize) -> Option<&PublicSpec> {
        let public = self.spec.public.as_ref()?;
        let from = start.saturating_sub(64);
        let before = &haystack[memchr::memrchr(b'\n', &haystack[from..start]).map_or(from, |i| from + i + 1)..start];
        let marked = self.filters().public_before.iter().any(|r| r.is_match(before))
            || public.near.as_ref().is_some_and(|near| word_nearby(near, haystack, start, end));
        marked.then_some(public)
    }

    /// Whether the text just before a secret (same line) rules it out.
    pub fn is_excluded_by_prefix(&self, before: &[u8]) -> bool {
        self.filters().exclude_before.iter().any(|r| r.is_match(before))
    }

    /// The public half of a two-part credential nearest to the secret at
    /// `start..end` of `haystack`, within the rule's `companion.within`.
    pub fn find_companion<'h>(&self, haystack: &'h [u8], start: usize, end: usize) -> Option<&'h [u8]> {
        let spec = self.spec.companion.as_ref()?;
        let regex = self.companion.get_or_init(|| build_regex(&spec.pattern).ok()).as_ref()?;
        nearest(regex, spec, haystack, start, end)
    }

    /// The secret third part (`[rule.session]`) nearest to the secret.
    pub fn find_session<'h>(&self, haystack: &'h [u8], start: usize, end: usize) -> Option<&'h [u8]> {
        let spec = self.spec.session.as_ref()?;
        let regex = self.session.get_or_init(|| build_regex(&spec.pattern).ok()).as_ref()?;
        nearest(regex, spec, haystack, start, end)
    }

    /// Whether the text just after a secret (same line) rules it out.
    pub fn is_excluded_by_suffix(&self, after: &[u8]) -> bool {
        self.filters().exclude_after.iter().any(|r| r.is_match(after))
    }

    /// Whether the text before a secret (up to 256 bytes, across lines)
    /// rules it out.
    pub fn is_excluded_by_preceding(&self, preceding: &[u8]) -> bool {
        self.filters().exclude_preceding.iter().any(|r| r.is_match(preceding))
    }

    pub fn confidence_for(&self, secret: &[u8]) -> Confidence {
        if self.filters().confident_if.iter().any(|r| r.is_match(secret)) {
            Confidence::High
        } else {
            self.spec.confidence
        }
    }
}

/// Whether a word of `near` (case-insensitive) sits within its distance of
/// `start..end`.
fn word_nearby(near: &ExcludeNear, haystack: &[u8], start: usize, end: usize) -> bool {
    let around = &haystack[start.saturating_sub(near.within)..end.saturating_add(near.within).min(haystack.len())];
    near.words.iter().any(|w| around.windows(w.len()).any(|x| x.eq_ignore_ascii_case(w.as_bytes())))
}

/// A rule's filter regexes (see [`RuleSpec`]), compiled.
#[derive(Debug, Clone)]
struct Filters {
    exclude: Vec<Regex>,
    exclude_before: Vec<Regex>,
    exclude_after: Vec<Regex>,
    exclude_preceding: Vec<Regex>,
    confident_if: Vec<Regex>,
    /// `public.before`.
    public_before: Vec<Regex>,
}

/// Every filter regex of `spec`, with the name of its field.
fn filter_patterns(spec: &RuleSpec) -> impl Iterator<Item = (&'static str, &str)> {
    let lists: [(&'static str, &[String]); 6] = [
        ("exclude", &spec.exclude),
        ("confident_if", &spec.confident_if),
        ("exclude_before", &spec.exclude_before),
        ("exclude_after", &spec.exclude_after),
        ("exclude_preceding", &spec.exclude_preceding),
        ("public.before", spec.public.as_ref().map_or(&[][..], |p| &p.before)),
    ];
    lists.into_iter().flat_map(|(field, list)| list.iter().map(move |p| (field, p.as_str())))
}

/// The match of `regex` (its group `value`, or all of it) nearest to
/// `start..end` within `spec.within` bytes, never overlapping it.
fn nearest<'h>(regex: &Regex, spec: &CompanionSpec, haystack: &'h [u8], start: usize, end: usize) -> Option<&'h [u8]> {
    let from = start.saturating_sub(spec.within);
    let to = end.saturating_add(spec.within).min(haystack.len());
    let window = &haystack[from..to];
    let (secret_start, secret_end) = (start - from, end - from);
    regex
        .captures_iter(window)
        .filter_map(|c| c.name("value").or_else(|| c.get(0)))
        // Never the secret itself, nor a piece of it.
        .filter(|m| m.end() <= secret_start || m.start() >= secret_end)
        .min_by_key(|m| if m.end() <= secret_start { secret_start - m.end() } else { m.start() - secret_end })
        .map(|m| m.as_bytes())
}

fn parse(origin: &str, text: &str) -> Result<Vec<RuleSpec>, RuleError> {
    let file: spec::RuleFile =
        toml::from_str(text).map_err(|e| RuleError::Toml { origin: origin.to_string(), message: e.to_string() })?;
    Ok(file.rule)
}

/// The `(?P<secret>...)` group of `pattern`, parentheses and all: where the
/// key itself is described, without what must surround it.
fn secret_group(pattern: &str) -> Option<&str> {
    let start = pattern.find("(?P<secret>")?;
    let bytes = pattern.as_bytes();
    let (mut depth, mut i, mut in_class) = (0usize, start, false);
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 1,
            b'[' if !in_class => in_class = true,
            b']' if in_class => in_class = false,
            b'(' if !in_class => depth += 1,
            b')' if !in_class => {
                depth -= 1;
                if depth == 0 {
                    return Some(&pattern[start..=i]);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Checks a pattern's syntax without compiling it (cheap, at load time).
/// Also gives the longest match the pattern allows, when it is bounded.
fn parse_pattern(pattern: &str) -> Result<Option<usize>, String> {
    regex_syntax::ParserBuilder::new()
        .unicode(false)
        .utf8(false)
        .build()
        .parse(pattern)
        .map(|hir| hir.properties().maximum_len())
        .map_err(|e| e.to_string())
}

fn build_regex(pattern: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(pattern).unicode(false).size_limit(REGEX_SIZE_LIMIT).build()
}

/// Every rule in force for a run.
#[derive(Debug, Default)]
pub struct RuleSet {
    rules: Vec<Rule>,
}

impl RuleSet {
    /// The rules embedded in the binary.
    pub fn builtin() -> Result<RuleSet, RuleError> {
        let mut set = RuleSet::default();
        for (name, text) in builtin::BUILTIN_RULE_FILES {
            for spec in parse(name, text)? {
                let mut rule = Rule::trusted(spec, name)?;
                rule.builtin = true;
                set.add(rule)?;
            }
        }
        Ok(set)
    }

    /// Parses one rules file (`[[rule]]` tables) and adds its rules, as
    /// trusted as built-in ones (they may verify), every pattern checked.
    pub fn add_toml(&mut self, origin: &str, text: &str) -> Result<(), RuleError> {
        for spec in parse(origin, text)? {
            let mut rule = Rule::new(spec, origin)?;
            rule.builtin = true;
            self.add(rule)?;
        }
        Ok(())
    }

    /// Adds rules from a user's or a repository's file. They can never send
    /// a secret anywhere: a `verify` table is dropped, and the returned
    /// warnings say so. Their patterns are compiled now, so a broken or
    /// oversized regex is an error here rather than a silent non-match.
    pub fn add_untrusted(&mut self, origin: &str, specs: Vec<RuleSpec>) -> Result<Vec<String>, RuleError> {
        let mut warnings = Vec::new();
        for mut spec in specs {
            if let Some(verify) = spec.verify.take() {
                let problem = verify.validate().err().map(|e| format!(" (and it is invalid: {e})")).unwrap_or_default();
                warnings.push(format!(
                    "{origin}: rule `{}` has a `verify` table: ignored (only built-in rules may verify){problem}",
                    spec.id
                ));
            }
            if !std::mem::take(&mut spec.hosts).is_empty() {
                warnings.push(format!(
                    "{origin}: rule `{}` has `hosts`: ignored (only built-in rules may claim a provider's hosts)",
                    spec.id
                ));
            }
            let rule = Rule::new(spec, origin)?;
            RuleSet { rules: vec![rule.clone()] }.compile_all()?;
            self.add(rule)?;
        }
        Ok(warnings)
    }

    /// [`RuleSet::add_untrusted`] for a file of `[[rule]]` tables.
    pub fn add_untrusted_toml(&mut self, origin: &str, text: &str) -> Result<Vec<String>, RuleError> {
        self.add_untrusted(origin, parse(origin, text)?)
    }

    fn add(&mut self, rule: Rule) -> Result<(), RuleError> {
        for host in &rule.spec.hosts {
            if let Some(other) = self.rule_for_host(host) {
                return Err(RuleError::Invalid {
                    origin: rule.origin.clone(),
                    id: rule.spec.id.clone(),
                    message: format!("host `{host}` is already claimed by `{}`", other.spec.id),
                });
            }
        }
        if let Some(existing) = self.get(&rule.spec.id) {
            return Err(RuleError::Duplicate {
                id: rule.spec.id.clone(),
                first: existing.origin.clone(),
                second: rule.origin.clone(),
            });
        }
        self.rules.push(rule);
        Ok(())
    }

    /// Compiles every pattern now (validation, `rules check`, tests).
    pub fn compile_all(&self) -> Result<(), RuleError> {
        for rule in &self.rules {
            let companion = rule.spec.companion.as_ref().map(|c| c.pattern.as_str());
            let session = rule.spec.session.as_ref().map(|c| c.pattern.as_str());
            for pattern in std::iter::once(rule.spec.pattern.as_str()).chain(companion).chain(session) {
                build_regex(pattern).map_err(|e| RuleError::Invalid {
                    origin: rule.origin.clone(),
                    id: rule.spec.id.clone(),
                    message: format!("pattern does not compile: {e}"),
                })?;
            }
            for (field, pattern) in filter_patterns(&rule.spec) {
                build_regex(pattern).map_err(|e| RuleError::Invalid {
                    origin: rule.origin.clone(),
                    id: rule.spec.id.clone(),
                    message: format!("invalid `{field}` regex: {e}"),
                })?;
            }
        }
        Ok(())
    }

    /// The built-in rule whose provider serves `host` (`hosts = [...]`).
    pub fn rule_for_host(&self, host: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.builtin && r.spec.hosts.iter().any(|h| h.eq_ignore_ascii_case(host)))
    }

    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.spec.id == id)
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Keeps only the rules `keep` accepts (config `disable`, self-tests).
    pub fn retain(&mut self, mut keep: impl FnMut(&Rule) -> bool) {
        self.rules.retain(|r| keep(r));
    }

    /// The rules that can run on a binary's bytes, each reduced to its
    /// secret group: prefix rules only (a prefix-less key among a binary's
    /// random bytes is noise), and without the boundaries around the
    /// secret, because in a binary the byte before a key is often a length
    /// prefix that happens to be a letter, and the byte after it the first
    /// of the next string packed against it.
    pub fn for_binaries(&self) -> RuleSet {
        let rules = self
            .rules
            .iter()
            .filter(|r| !r.is_context_rule() && !r.spec.generic && !r.spec.not_secret && !r.spec.client_only)
            .filter_map(|r| {
                let mut spec = r.spec.clone();
                spec.pattern = secret_group(&r.spec.pattern)?.to_string();
                let mut rule =
                    if r.builtin { Rule::trusted(spec, &r.origin) } else { Rule::new(spec, &r.origin) }.ok()?;
                rule.builtin = r.builtin;
                Some(rule)
            })
            .collect();
        RuleSet { rules }
    }

    /// A new set holding copies of the rules `keep` accepts.
    pub fn subset(&self, mut keep: impl FnMut(&Rule) -> bool) -> RuleSet {
        RuleSet { rules: self.rules.iter().filter(|r| keep(r)).cloned().collect() }
    }
}

#[cfg(test)]
mod tests {
    use super::secret_group;

    /// What a run skips for built-in rules (`Rule::trusted`), checked here:
    /// every pattern parses, and so does the secret group binaries use.
    #[test]
    fn builtin_rules_pass_every_load_time_check() {
        let mut checked = 0;
        for (name, text) in super::builtin::BUILTIN_RULE_FILES {
            for spec in super::parse(name, text).unwrap() {
                let binary = secret_group(&spec.pattern).map(str::to_string);
                let rule = super::Rule::new(spec.clone(), name).unwrap_or_else(|e| panic!("{e}"));
                assert_eq!(rule.max_match_len.get().copied(), Some(super::parse_pattern(&spec.pattern).unwrap()));
                if let Some(pattern) = binary {
                    super::parse_pattern(&pattern).unwrap_or_else(|e| panic!("{name} {}: secret group: {e}", spec.id));
                }
                checked += 1;
            }
        }
        assert!(checked > 300, "{checked}");
    }

    #[test]
    fn a_broken_filter_regex_is_an_error_at_load_time() {
        let rule = |filter: &str| {
            format!(
                "[[rule]]\nid='x-y'\nprovider='x'\nname='n'\npattern='a'\nkeywords=['a']\nrotate_url='https://e'\n{filter}\n"
            )
        };
        let err = super::RuleSet::default().add_toml("mine.toml", &rule("exclude_before = ['(']")).unwrap_err();
        assert!(err.to_string().contains("invalid `exclude_before` regex"), "{err}");
        assert!(super::RuleSet::default().add_toml("mine.toml", &rule("exclude = ['b$']")).is_ok());
    }

    #[test]
    fn the_secret_group_without_its_boundaries() {
        let p = r"(?:^|[^A-Za-z0-9_-]|\\[nrt])(?P<secret>sk-(?:proj|svcacct)-[A-Za-z0-9_()-]{20,}T3BlbkFJ)(?:[^A-Za-z0-9_-]|$)";
        assert_eq!(secret_group(p), Some(r"(?P<secret>sk-(?:proj|svcacct)-[A-Za-z0-9_()-]{20,}T3BlbkFJ)"));
        assert_eq!(secret_group(r"(?P<secret>a\)b)c"), Some(r"(?P<secret>a\)b)"));
        assert_eq!(secret_group("no group"), None);
    }
}
