//! The detection engine: bytes in, matches out. Pure and synchronous, no I/O.
//!
//! Scanning is two-phase so that clean bytes cost one pass of a multi-literal
//! searcher and nothing else:
//!
//! 1. one Aho–Corasick pass over every rule's keywords finds candidate offsets;
//! 2. only the rules whose keywords hit run their regex, and only on a window
//!    around the hits (windows of one rule are merged, so a dense file runs
//!    each regex over each byte at most once).
//!
//! Then the filters in [`filters`] drop placeholders, low-entropy strings and
//! excluded values, and overlapping matches of different rules are resolved
//! to the most specific one.

mod filters;
mod keywords;
mod lines;
pub mod selftest;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::rules::{Confidence, Rule, RuleSet};

use keywords::Keywords;

pub use lines::{LineIndex, Newline};

/// One confirmed secret in a buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    /// Index of the rule in the engine's [`RuleSet`].
    pub rule: usize,
    /// Byte range of the secret in the scanned buffer.
    pub start: usize,
    pub end: usize,
    pub confidence: Confidence,
    /// Byte range of the HTTP header name the secret is sent in, when a
    /// header rule matched it (group `header` of its pattern).
    pub header: Option<(usize, usize)>,
    /// Context rules: how far the nearest context word is (see
    /// `context_distance`); 0 for prefix rules.
    pub context_distance: usize,
}

/// A compiled rule set. Cheap to share between threads (`Sync`); build once
/// per run.
pub struct Engine {
    rules: Arc<RuleSet>,
    keywords: Keywords,
    /// For each keyword (its index in `keywords`), the rules that listed it.
    keyword_rules: Vec<Vec<usize>>,
}

/// One regex match inside a window: byte ranges of the whole match, the
/// secret, and the header name if the pattern captures one.
struct Found {
    whole: (usize, usize),
    secret: (usize, usize),
    header: Option<(usize, usize)>,
}

/// What the rules' regexes confirmed in one buffer: the matches, and the
/// spans a provider rule recognised and turned down.
#[derive(Default)]
struct Confirmed {
    matches: Vec<Match>,
    vetoes: Vec<(usize, usize)>,
}

/// A keyword occurrence, as a byte range.
#[derive(Debug, Clone, Copy)]
struct Hit {
    start: usize,
    end: usize,
}

impl Engine {
    pub fn new(rules: Arc<RuleSet>) -> Engine {
        // Keywords match ASCII-case-insensitively: context words then need
        // no case variants (`mistral`, `MISTRAL_API_KEY`, `Mistral(`), and a
        // DFA costs the same per byte either way. Prefix rules lose nothing:
        // their regexes confirm the exact case.
        let mut literals: Vec<String> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut keyword_rules: Vec<Vec<usize>> = Vec::new();
        for (rule_index, rule) in rules.rules().iter().enumerate() {
            for keyword in &rule.spec.keywords {
                let folded = keyword.to_ascii_lowercase();
                let i = *index.entry(folded).or_insert_with_key(|folded| {
                    literals.push(folded.clone());
                    keyword_rules.push(Vec::new());
                    literals.len() - 1
                });
                if !keyword_rules[i].contains(&rule_index) {
                    keyword_rules[i].push(rule_index);
                }
            }
        }
        let keywords = Keywords::new(&literals);
        Engine { rules, keywords, keyword_rules }
    }

    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    pub fn rule(&self, index: usize) -> &Rule {
        &self.rules.rules()[index]
    }

    /// Finds every secret in `haystack`, sorted by position, at most one
    /// match per byte range.
    pub fn scan(&self, haystack: &[u8]) -> Vec<Match> {
        let mut hits_by_rule: Vec<(usize, Hit)> = Vec::new();
        self.keywords.find(haystack, |keyword, start, end| {
            for &rule in &self.keyword_rules[keyword] {
                hits_by_rule.push((rule, Hit { start, end }));
            }
        });
        if hits_by_rule.is_empty() {
            return Vec::new();
        }
        // Hits come in no particular order; one rule's keywords never hit
        // twice with the same span, so this order is total.
        hits_by_rule.sort_unstable_by_key(|&(rule, hit)| (rule, hit.start, hit.end));

        let mut confirmed = Confirmed::default();
        for group in hits_by_rule.chunk_by(|a, b| a.0 == b.0) {
            let rule_index = group[0].0;
            let hits: Vec<Hit> = group.iter().map(|&(_, h)| h).collect();
            self.confirm(rule_index, &hits, haystack, &mut confirmed);
        }
        let Confirmed { mut matches, vetoes } = confirmed;
        if !vetoes.is_empty() {
            // A provider rule that knows this value's format and turned it
            // down (public by design, a placeholder) decides for it: a
            // generic rule does not report it as some password instead.
            let rules = self.rules.rules();
            matches.retain(|m| !rules[m.rule].spec.generic || !vetoes.iter().any(|&(s, e)| s < m.end && m.start < e));
        }
        resolve_overlaps(&self.rules, matches)
    }

    /// Runs one rule's regex on the merged windows around its hits.
    fn confirm(&self, rule_index: usize, hits: &[Hit], haystack: &[u8], out: &mut Confirmed) {
        let rule = self.rule(rule_index);
        let (before, after) = (rule.lookbehind(), rule.lookahead());
        let mut windows: Vec<(usize, usize)> = Vec::new();
        for hit in hits {
            let start = hit.start.saturating_sub(before);
            let end = (hit.end + after).min(haystack.len());
            match windows.last_mut() {
                Some(last) if start <= last.1 => last.1 = last.1.max(end),
                _ => windows.push((start, end)),
            }
        }
        // A window that grew past its neighbour may report a secret twice;
        // `resolve_overlaps` drops the copy.
        for (start, end) in windows {
            self.confirm_window(rule_index, hits, haystack, start, end, out);
        }
    }

    fn confirm_window(
        &self,
        rule_index: usize,
        hits: &[Hit],
        haystack: &[u8],
        start: usize,
        mut end: usize,
        out: &mut Confirmed,
    ) {
        let rule = self.rule(rule_index);
        let regex = rule.regex();
        // A key that runs past the window would be cut short (or missed);
        // grow the window and retry a few times before accepting the cut.
        let mut grow = 0;
        let found = loop {
            let mut found = Vec::new();
            let mut at = start;
            let mut touches_end = false;
            while at <= end {
                let Some(caps) = regex.captures_at(&haystack[..end], at) else {
                    break;
                };
                let whole = caps.get(0).expect("group 0 always matches");
                let secret = caps.name("secret").unwrap_or(whole);
                touches_end |= whole.end() == end && end < haystack.len();
                let header = caps.name("header").map(|h| (h.start(), h.end()));
                found.push(Found {
                    whole: (whole.start(), whole.end()),
                    secret: (secret.start(), secret.end()),
                    header,
                });
                // Resume right after the secret, not after the whole match,
                // so a trailing boundary byte can lead the next key.
                at = if secret.end() > at { secret.end() } else { whole.end().max(at + 1) };
            }
            if touches_end && grow < 4 {
                grow += 1;
                end = (end + rule.lookahead() * 4 * grow).min(haystack.len());
                continue;
            }
            break found;
        };
        for Found { whole, secret: (s, e), header } in found {
            let Some(context_distance) = anchor_distance(rule, hits, haystack, whole, (s, e)) else {
                continue;
            };
            let secret = &haystack[s..e];
            if filters::rejects(rule, secret, haystack, s, e) {
                if !rule.spec.generic && !rule.is_context_rule() {
                    out.vetoes.push((s, e));
                }
                continue;
            }
            out.matches.push(Match {
                rule: rule_index,
                start: s,
                end: e,
                confidence: rule.confidence_for(secret),
                header,
                context_distance,
            });
        }
    }
}

/// Prefix rules: the match must contain a keyword hit (a key's prefix, or
/// the `Bearer ` before a header's token); the distance is 0. Context rules:
/// a hit within `within` bytes of the secret; the distance ranks the nearest
/// such word, so when two context rules claim the same 32 hex characters the
/// one named on the secret's own line, before it, wins.
fn anchor_distance(
    rule: &Rule,
    hits: &[Hit],
    haystack: &[u8],
    whole: (usize, usize),
    secret: (usize, usize),
) -> Option<usize> {
    let Some(context) = &rule.spec.context else {
        let first = hits.partition_point(|h| h.start < whole.0);
        return hits[first..].iter().take_while(|h| h.start < whole.1).any(|h| h.end <= whole.1).then_some(0);
    };
    let (lo, hi) = (secret.0.saturating_sub(context.within), secret.1 + context.within);
    let first = hits.partition_point(|h| h.start < lo);
    hits[first..]
        .iter()
        .take_while(|h| h.start < hi)
        .filter(|h| h.end <= hi)
        .map(|h| {
            let (gap, after) = if h.end <= secret.0 {
                (h.end..secret.0, false)
            } else if h.start >= secret.1 {
                (secret.1..h.start, true)
            } else {
                (0..0, false)
            };
            let other_line = memchr::memchr(b'\n', &haystack[gap.clone()]).is_some();
            (usize::from(other_line) << 40) | (usize::from(after) << 39) | gap.len()
        })
        .min()
}

/// Keeps one match per byte range. Where matches of different rules
/// overlap, a specific rule beats a generic one, then the longer secret wins
/// (a `sk-proj-…` key beats a context match inside it), then the non-context
/// rule, then the rule loaded first. A generic header rule that loses to a
/// specific match lends it its header.
fn resolve_overlaps(rules: &RuleSet, mut matches: Vec<Match>) -> Vec<Match> {
    let rank = |m: &Match| {
        let rule = &rules.rules()[m.rule];
        (rule.spec.generic, std::cmp::Reverse(m.end - m.start), rule.is_context_rule(), m.context_distance, m.rule)
    };
    matches.sort_by_key(|m| (rank(m), m.start));
    // Kept ranges never overlap each other, so the neighbour with the
    // greatest start below a candidate's end is the only one to check.
    let mut kept: BTreeMap<usize, Match> = BTreeMap::new();
    for m in matches {
        let overlapping = kept.range_mut(..m.end).next_back().filter(|(_, k)| k.end > m.start);
        match overlapping {
            Some((_, k)) => {
                if k.header.is_none() && rules.rules()[m.rule].spec.generic {
                    k.header = m.header;
                }
            }
            None => {
                kept.insert(m.start, m);
            }
        }
    }
    kept.into_values().collect()
}
