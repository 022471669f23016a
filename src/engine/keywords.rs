//! The keyword prefilter: every occurrence of every keyword in a buffer,
//! ASCII case ignored, overlapping occurrences included (what an
//! Aho–Corasick overlapping search reports), in one pass.
//!
//! The automaton is the `aho_corasick` crate's dense DFA
//! ([`aho_corasick::dfa::DFA`]: standard match semantics, byte classes, no
//! prefilter); only the scan loop is ours, stepping the DFA through the
//! crate's [`Automaton`] trait. The crate's own overlapping search is 3 to 4
//! times slower here (2 ns per byte of source text, against 0.55 to 0.6),
//! because with hundreds of keywords the scan is bound by each byte's
//! transition load waiting on the previous one, from a table that no longer
//! fits in cache. Two things make this loop faster:
//!
//! - the DFA is built from the keywords with each byte recoded (`code`):
//!   the keywords' distinct bytes, case folded, become 0, 1, 2 …, and every
//!   byte no keyword contains becomes the next code, and the scan feeds it
//!   each byte so recoded. The crate's byte classes, which split the byte
//!   range around every byte the keywords use, then come to one per
//!   keyword byte plus one (about 60), and a row takes 64 entries where a
//!   build from the keywords as they are (lower case, or
//!   ASCII-case-insensitive) takes 128: half the table;
//! - a long buffer is scanned as [`STREAMS`] parts in lockstep, so the loads
//!   of different parts overlap instead of waiting on each other. Each part
//!   first reads the `longest` keyword's length of bytes before its share,
//!   reporting nothing: after that many bytes a DFA's state no longer
//!   depends on where it started (the state is the longest suffix read that
//!   is a keyword prefix), so every part then reports exactly what one pass
//!   over the whole buffer reports in its share.

use aho_corasick::automaton::{Automaton, StateID};
use aho_corasick::dfa::DFA;
use aho_corasick::{Anchored, MatchKind, StartKind};

/// Parts scanned in lockstep (3 to 4 hide most of the load latency).
const STREAMS: usize = 4;

/// Buffers shorter than this are scanned in one stream: each part's warm-up
/// would cost more than the lockstep saves.
const MIN_LOCKSTEP: usize = 1024;

pub(super) struct Keywords {
    /// Built from the keywords recoded by `code`, and fed bytes so
    /// recoded. Without a prefilter its only special states are match states (and
    /// the dead and fail states, which standard semantics never enter).
    dfa: DFA,
    /// Byte → the byte the DFA reads for it (see the top).
    code: [u8; 256],
    start: StateID,
    longest: usize,
}

impl Keywords {
    /// An automaton for `keywords` (non-empty literals, compared ignoring
    /// ASCII case); a hit names a keyword by its index here.
    pub(super) fn new<K: AsRef<[u8]>>(keywords: &[K]) -> Keywords {
        assert!(keywords.iter().all(|k| !k.as_ref().is_empty()), "keywords are non-empty");
        // Codes 0, 1, 2 … for the keywords' distinct bytes in lower case
        // (at most 230: fits a u8), one code after them for every other
        // byte.
        let mut code = [u8::MAX; 256];
        let mut codes = 0u8;
        for &b in keywords.iter().flat_map(|k| k.as_ref()) {
            let b = usize::from(b.to_ascii_lowercase());
            if code[b] == u8::MAX {
                code[b] = codes;
                codes += 1;
            }
        }
        for c in &mut code {
            if *c == u8::MAX {
                *c = codes;
            }
        }
        for b in b'A'..=b'Z' {
            code[usize::from(b)] = code[usize::from(b.to_ascii_lowercase())];
        }
        let dfa = DFA::builder()
            .match_kind(MatchKind::Standard)
            .start_kind(StartKind::Unanchored)
            .byte_classes(true)
            .prefilter(false)
            .build(keywords.iter().map(|k| k.as_ref().iter().map(|&b| code[usize::from(b)]).collect::<Vec<u8>>()))
            .expect("keyword automaton: builds");
        let start = dfa.start_state(Anchored::No).expect("keyword automaton: unanchored");
        let longest = dfa.max_pattern_len();
        Keywords { code, dfa, start, longest }
    }

    #[inline(always)]
    fn next(&self, state: StateID, byte: u8) -> StateID {
        self.dfa.next_state(Anchored::No, state, self.code[usize::from(byte)])
    }

    /// Calls `hit(keyword, start, end)` for every occurrence in
    /// `haystack`, in no particular order.
    pub(super) fn find(&self, haystack: &[u8], mut hit: impl FnMut(usize, usize, usize)) {
        let dfa = &self.dfa;
        let mut report = |state: StateID, end: usize| {
            if dfa.is_match(state) {
                for i in 0..dfa.match_len(state) {
                    let k = dfa.match_pattern(state, i);
                    hit(k.as_usize(), end - dfa.pattern_len(k), end);
                }
            }
        };
        let len = haystack.len();
        if len < MIN_LOCKSTEP.max(2 * STREAMS * self.longest) {
            let mut state = self.start;
            for (i, &b) in haystack.iter().enumerate() {
                state = self.next(state, b);
                if dfa.is_special(state) {
                    report(state, i + 1);
                }
            }
            return;
        }
        // Part j reports the matches that end in its share, bytes
        // `share[j]..share[j] + chunk` (the last part also the rest), after
        // a warm-up on the `longest` bytes before it (see the top).
        let chunk = len / STREAMS;
        let share: [usize; STREAMS] = std::array::from_fn(|j| j * chunk);
        let mut state = [self.start; STREAMS];
        for j in 1..STREAMS {
            for &b in &haystack[share[j] - self.longest..share[j]] {
                state[j] = self.next(state[j], b);
            }
        }
        // The hot loop steps every part until one reaches a special (match)
        // state, and makes no call: that keeps the states in registers.
        let part: [&[u8]; STREAMS] = std::array::from_fn(|j| &haystack[share[j]..][..chunk]);
        let mut i = 0;
        while i < chunk {
            while i < chunk {
                let mut special = false;
                for j in 0..STREAMS {
                    state[j] = self.next(state[j], part[j][i]);
                    special |= dfa.is_special(state[j]);
                }
                i += 1;
                if special {
                    break;
                }
            }
            for j in 0..STREAMS {
                if dfa.is_special(state[j]) {
                    report(state[j], share[j] + i);
                }
            }
        }
        let mut last = state[STREAMS - 1];
        for (at, &b) in haystack.iter().enumerate().skip(STREAMS * chunk) {
            last = self.next(last, b);
            if dfa.is_special(last) {
                report(last, at + 1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use aho_corasick::{AhoCorasickBuilder, MatchKind};
    use proptest::prelude::*;

    use super::*;

    /// (keyword, start, end) of each hit.
    type Hits = Vec<(usize, usize, usize)>;

    /// Every hit, sorted, from both automata.
    fn both(keywords: &[&str], haystack: &[u8]) -> (Hits, Hits) {
        let mut ours = Vec::new();
        Keywords::new(keywords).find(haystack, |k, s, e| ours.push((k, s, e)));
        ours.sort_unstable();
        let reference = AhoCorasickBuilder::new()
            .match_kind(MatchKind::Standard)
            .ascii_case_insensitive(true)
            .build(keywords)
            .unwrap();
        let mut theirs: Vec<_> =
            reference.find_overlapping_iter(haystack).map(|m| (m.pattern().as_usize(), m.start(), m.end())).collect();
        theirs.sort_unstable();
        (ours, theirs)
    }

    #[test]
    fn overlapping_and_nested_keywords_across_part_boundaries() {
        let keywords = ["token", "token:", "ken", "oken:x", "sk_", "sk_live_", "Pass", "a", "éé"];
        let unit = "xx TOKEN:xyz sk_live_sk_ token passé sk_ ab\n".repeat(120).into_bytes();
        for len in [0, 1, 5, 44, 1023, 1024, 2000, unit.len() - 3, unit.len()] {
            let (ours, theirs) = both(&keywords, &unit[..len]);
            assert_eq!(ours, theirs, "length {len}");
        }
    }

    proptest! {
        #[test]
        fn same_hits_as_aho_corasick(
            keywords in proptest::collection::vec("[a-dA-D:_]{1,6}", 1..12),
            haystack in proptest::collection::vec(proptest::sample::select(b"abcdABCD:_ x".to_vec()), 0..6000),
        ) {
            let keywords: Vec<&str> = keywords.iter().map(String::as_str).collect();
            let (ours, theirs) = both(&keywords, &haystack);
            prop_assert_eq!(ours, theirs);
        }
    }

    /// The builtin rules' keywords, as `Engine::new` gives them.
    fn builtin_keywords() -> Vec<String> {
        let rules = crate::rules::RuleSet::builtin().unwrap();
        let mut literals: Vec<String> = Vec::new();
        for rule in rules.rules() {
            for keyword in &rule.spec.keywords {
                let folded = keyword.to_ascii_lowercase();
                if !literals.contains(&folded) {
                    literals.push(folded);
                }
            }
        }
        literals
    }

    /// The text files (no NUL in their first 8 KiB) under `dir`, up to
    /// `budget` bytes in all.
    fn text_files(dir: &std::path::Path, budget: &mut usize, out: &mut Vec<Vec<u8>>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        let mut paths: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        paths.sort();
        for path in paths {
            if *budget == 0 {
                return;
            }
            let Ok(meta) = std::fs::symlink_metadata(&path) else { continue };
            if meta.is_dir() {
                text_files(&path, budget, out);
            } else if meta.is_file() && (meta.len() as usize) <= *budget {
                let Ok(bytes) = std::fs::read(&path) else { continue };
                if !bytes[..bytes.len().min(8192)].contains(&0) {
                    *budget -= bytes.len();
                    out.push(bytes);
                }
            }
        }
    }

    /// ns per byte of the keyword pass over a tree's text files held in
    /// memory, the builtin keywords, median of 11 rounds:
    /// `LEAKHOUND_BENCH_TREE=/work/corpus/real cargo test --release --lib
    /// keyword_scan_speed -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn keyword_scan_speed() {
        let tree = std::env::var("LEAKHOUND_BENCH_TREE").unwrap_or_else(|_| "/work/corpus/real".into());
        let mut files = Vec::new();
        text_files(std::path::Path::new(&tree), &mut (128 << 20), &mut files);
        let bytes: usize = files.iter().map(Vec::len).sum();
        assert!(bytes > 0, "no text files under {tree}");
        let keywords = builtin_keywords();
        let automaton = Keywords::new(&keywords);
        let mut rounds: Vec<f64> = (0..11)
            .map(|_| {
                let mut hits = 0usize;
                let time = std::time::Instant::now();
                for file in &files {
                    automaton.find(file, |_, _, _| hits += 1);
                }
                let ns = time.elapsed().as_nanos() as f64 / bytes as f64;
                std::hint::black_box(hits);
                ns
            })
            .collect();
        rounds.sort_by(f64::total_cmp);
        println!(
            "{} keywords, {} files, {bytes} bytes: {:.3} ns/byte (median; best {:.3}, worst {:.3})",
            keywords.len(),
            files.len(),
            rounds[5],
            rounds[0],
            rounds[10]
        );
    }
}
