//! One pass over a text that marks what the token decoders need.
//!
//! The token decoders run on every text file, and on ordinary source they
//! almost never find anything: their cost is the search for a place to
//! start. Searching separately (a `memchr` for `\\`, another for `%`, one
//! call per quote, a byte-at-a-time search for long runs of key characters)
//! cost a quarter of the whole scan, because source code has a quote every
//! hundred bytes and is mostly key characters in short words, so every step
//! was a call or a mispredicted branch. Here each 64-byte block becomes bit
//! masks in one go (AVX2 where the CPU has it, SSE2 otherwise on x86-64, a
//! table elsewhere): run bytes, quotes, backslashes, percent signs. A few
//! shifts on the run masks of this block and the previous one answer "does
//! a window of [`MIN_RUN`] key characters end here?", almost always no;
//! quote and backslash positions are collected from their masks.

/// Shortest run of key characters the decoders take (base64's minimum;
/// hex wants more).
pub(crate) const MIN_RUN: usize = 24;

/// What the token decoders start from, found in one pass.
#[derive(Debug, Default)]
pub(crate) struct Marks {
    /// Every maximal run of at least [`MIN_RUN`] key characters
    /// (`[A-Za-z0-9+/_-]`), as `(start, end)`, in order (base64, hex).
    pub runs: Vec<(usize, usize)>,
    /// Offsets of every `"`, `'` and `` ` ``, in order (split strings).
    pub quotes: Vec<u32>,
    /// Offsets of every `\`, in order (string escapes).
    pub backslashes: Vec<u32>,
    /// Whether the text has a `%` at all (URL-encoding).
    pub percent: bool,
}

impl Marks {
    /// Marks `bytes` (shorter than 4 GiB: offsets are `u32`).
    #[cfg(test)]
    pub(crate) fn find(bytes: &[u8]) -> Marks {
        let mut marks = Marks::default();
        marks.refill(bytes);
        marks
    }

    /// [`Marks::find`] into this value's lists (cleared first), so a
    /// caller marking many texts reuses their memory.
    pub(crate) fn refill(&mut self, bytes: &[u8]) {
        debug_assert!(bytes.len() < u32::MAX as usize);
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU has AVX2 (checked just above).
                unsafe { find_avx2(bytes, self) }
            } else {
                find_with(bytes, sse2_masks, self)
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        find_with(bytes, table_masks, self)
    }
}

/// Key characters: base64 and base64url alphabets, hex digits among them.
pub(crate) fn is_run_byte(b: u8) -> bool {
    RUN_BYTE[b as usize]
}

static RUN_BYTE: [bool; 256] = byte_table!(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_'));

/// The masks of one 64-byte block: bit `k` describes byte `k`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Block {
    run: u64,
    quote: u64,
    backslash: u64,
    percent: u64,
}

/// [`Block`] byte by byte: the portable version, and the reference.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn table_masks(block: &[u8; 64]) -> Block {
    let mut m = Block::default();
    for (k, &b) in block.iter().enumerate() {
        m.run |= u64::from(RUN_BYTE[b as usize]) << k;
        m.quote |= u64::from(matches!(b, b'"' | b'\'' | b'`')) << k;
        m.backslash |= u64::from(b == b'\\') << k;
        m.percent |= u64::from(b == b'%') << k;
    }
    m
}

/// [`table_masks`] with SSE2, which every x86-64 CPU has.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn sse2_masks(block: &[u8; 64]) -> Block {
    use std::arch::x86_64::*;
    let mut m = Block::default();
    for (k, chunk) in block.chunks_exact(16).enumerate() {
        // SAFETY: SSE2 is part of the x86-64 baseline, and the load reads
        // exactly the 16 bytes of `chunk`.
        let [run, quote, backslash, percent] = unsafe {
            let v = _mm_loadu_si128(chunk.as_ptr().cast());
            // `x <= hi` unsigned, as `min(x, hi) == x` (SSE2 has no
            // unsigned compare).
            let at_most = |x: __m128i, hi: u8| _mm_cmpeq_epi8(_mm_min_epu8(x, _mm_set1_epi8(hi as i8)), x);
            let digit = at_most(_mm_sub_epi8(v, _mm_set1_epi8(b'0' as i8)), 9);
            let lower = _mm_or_si128(v, _mm_set1_epi8(0x20));
            let alpha = at_most(_mm_sub_epi8(lower, _mm_set1_epi8(b'a' as i8)), 25);
            let is = |c: u8| _mm_cmpeq_epi8(v, _mm_set1_epi8(c as i8));
            let special = _mm_or_si128(_mm_or_si128(is(b'+'), is(b'/')), _mm_or_si128(is(b'-'), is(b'_')));
            let quote = _mm_or_si128(_mm_or_si128(is(b'"'), is(b'\'')), is(b'`'));
            [_mm_or_si128(_mm_or_si128(digit, alpha), special), quote, is(b'\\'), is(b'%')]
                .map(|x| u64::from(_mm_movemask_epi8(x) as u16))
        };
        m.run |= run << (16 * k);
        m.quote |= quote << (16 * k);
        m.backslash |= backslash << (16 * k);
        m.percent |= percent << (16 * k);
    }
    m
}

/// Nibble tables for a two-lookup classification: for byte `b`, the bits
/// of `HI[b >> 4] & LO[b & 15]` say what it is. Bits 0 to 4 are run bytes:
/// each distinct set of low nibbles (over the high nibbles) of [`RUN_BYTE`]
/// gets one (it has five such sets). Bit 7 is `\\`, bits 6 and 5 the
/// quotes (`"` and `'` share a high nibble, `` ` `` has its own).
const NIBBLE_TABLES: ([u8; 16], [u8; 16]) = {
    let (mut hi, mut lo) = ([0u8; 16], [0u8; 16]);
    let mut sets = [0u16; 5];
    let mut used = 0;
    let mut h = 0;
    while h < 16 {
        let mut set = 0u16;
        let mut l = 0;
        while l < 16 {
            if RUN_BYTE[h * 16 + l] {
                set |= 1 << l;
            }
            l += 1;
        }
        if set != 0 {
            let mut class = 0;
            while class < used && sets[class] != set {
                class += 1;
            }
            assert!(class < RUN_CLASSES.count_ones() as usize, "too many nibble sets for run bytes");
            if class == used {
                sets[class] = set;
                used += 1;
            }
            hi[h] |= 1 << class;
            let mut l = 0;
            while l < 16 {
                if set & (1 << l) != 0 {
                    lo[l] |= 1 << class;
                }
                l += 1;
            }
        }
        h += 1;
    }
    hi[0x5] |= BACKSLASH_CLASS;
    lo[0xC] |= BACKSLASH_CLASS;
    hi[0x2] |= QUOTE_CLASS_2;
    lo[0x2] |= QUOTE_CLASS_2;
    lo[0x7] |= QUOTE_CLASS_2;
    hi[0x6] |= QUOTE_CLASS_6;
    lo[0x0] |= QUOTE_CLASS_6;
    (hi, lo)
};

const RUN_CLASSES: u8 = 0b0001_1111;
const BACKSLASH_CLASS: u8 = 1 << 7;
const QUOTE_CLASS_2: u8 = 1 << 6;
const QUOTE_CLASS_6: u8 = 1 << 5;

/// [`table_masks`] with AVX2: two byte shuffles classify 32 bytes (see
/// [`NIBBLE_TABLES`]); each mask is then a move of one bit per byte.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
fn avx2_masks(block: &[u8; 64]) -> Block {
    use std::arch::x86_64::*;
    let (hi, lo) = &NIBBLE_TABLES;
    // SAFETY: each load reads 16 or 32 bytes inside `hi`, `lo` or `block`.
    let (hi, lo, halves) = unsafe {
        let hi = _mm256_broadcastsi128_si256(_mm_loadu_si128(hi.as_ptr().cast()));
        let lo = _mm256_broadcastsi128_si256(_mm_loadu_si128(lo.as_ptr().cast()));
        let p = block.as_ptr();
        (hi, lo, [_mm256_loadu_si256(p.cast()), _mm256_loadu_si256(p.add(32).cast())])
    };
    let nibble = _mm256_set1_epi8(0x0f);
    let mut m = Block::default();
    for (k, v) in halves.into_iter().enumerate() {
        let bits = |x: __m256i| u64::from(_mm256_movemask_epi8(x) as u32) << (32 * k);
        let low = _mm256_shuffle_epi8(lo, _mm256_and_si256(v, nibble));
        let high = _mm256_shuffle_epi8(hi, _mm256_and_si256(_mm256_srli_epi16(v, 4), nibble));
        let class = _mm256_and_si256(low, high);
        let not_run =
            _mm256_cmpeq_epi8(_mm256_and_si256(class, _mm256_set1_epi8(RUN_CLASSES as i8)), _mm256_setzero_si256());
        m.run |= !bits(not_run) & (u64::from(u32::MAX) << (32 * k));
        // `movemask` takes bit 7 of each byte; shifting 16-bit lanes left
        // by 1 or 2 brings bit 6 or 5 there (the bits shifted in from the
        // byte below land under bit 7).
        m.quote |= bits(_mm256_or_si256(_mm256_slli_epi16(class, 1), _mm256_slli_epi16(class, 2)));
        m.backslash |= bits(class);
        m.percent |= bits(_mm256_cmpeq_epi8(v, _mm256_set1_epi8(b'%' as i8)));
    }
    m
}

/// Bit `k` set when a window of `min` run bytes ends at byte `k` of the
/// current block, given the masks of the previous and current blocks.
#[inline(always)]
fn windows_ending(prev: u64, cur: u64, min: usize) -> u64 {
    let mut r = cur;
    let mut len = 1;
    while len < min {
        let step = len.min(min - len);
        r &= r << step;
        len += step;
    }
    // A window that starts in the previous block: its first end is where
    // the previous block's trailing run reaches `min`.
    let first = (min - 1).saturating_sub(prev.leading_ones() as usize);
    if first < cur.trailing_ones() as usize {
        r |= 1 << first;
    }
    r
}

/// How many run bytes `bytes` ends with, 64 at a time.
#[inline(always)]
fn ones_before(bytes: &[u8], masks: impl Fn(&[u8; 64]) -> Block) -> usize {
    let mut count = 0;
    for block in bytes.rchunks(64) {
        let ones = match <&[u8; 64]>::try_from(block) {
            Ok(full) => masks(full).run.leading_ones() as usize,
            Err(_) => block.iter().rev().take_while(|&&b| is_run_byte(b)).count(),
        };
        count += ones;
        if ones < block.len() {
            break;
        }
    }
    count
}

/// How many run bytes `bytes` starts with, 64 at a time.
#[inline(always)]
fn ones_after(bytes: &[u8], masks: impl Fn(&[u8; 64]) -> Block) -> usize {
    let mut count = 0;
    for block in bytes.chunks(64) {
        let ones = match <&[u8; 64]>::try_from(block) {
            Ok(full) => masks(full).run.trailing_ones() as usize,
            Err(_) => block.iter().take_while(|&&b| is_run_byte(b)).count(),
        };
        count += ones;
        if ones < block.len() {
            break;
        }
    }
    count
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn find_avx2(bytes: &[u8], marks: &mut Marks) {
    find_with(bytes, |block| avx2_masks(block), marks)
}

/// Pushes `base + k` for every bit `k` of `bits`. Most blocks have zero,
/// one or two marks, so two are written unconditionally (into reserved
/// space, then counted in): no branch on the count, which would be
/// mispredicted about every other block of source code.
#[inline(always)]
fn push_bits(out: &mut Vec<u32>, mut bits: u64, base: usize) {
    let count = bits.count_ones() as usize;
    if count == 0 {
        return;
    }
    out.reserve(64);
    let len = out.len();
    let spare = out.spare_capacity_mut();
    for slot in &mut spare[..2] {
        // `trailing_zeros` of 0 is 64: a harmless value past the count.
        slot.write((base + bits.trailing_zeros() as usize) as u32);
        bits &= bits.wrapping_sub(1);
    }
    for slot in &mut spare[2..count.max(2)] {
        slot.write((base + bits.trailing_zeros() as usize) as u32);
        bits &= bits - 1;
    }
    // SAFETY: the first `count` spare slots were written just above
    // (`count <= 64 <= spare.len()`).
    unsafe { out.set_len(len + count) };
}

/// [`Marks::find`] with a given block classifier (inlined into each
/// CPU-specific caller, so the classifier inlines too).
#[inline(always)]
fn find_with(bytes: &[u8], masks: impl Fn(&[u8; 64]) -> Block, marks: &mut Marks) {
    marks.runs.clear();
    marks.quotes.clear();
    marks.backslashes.clear();
    let n = bytes.len();
    // Bytes before `done` belong to reported runs (or precede them).
    let (mut done, mut prev, mut base) = (0usize, 0u64, 0usize);
    let mut tail = [0u8; 64];
    let mut percent = 0;
    while base < n {
        let block: &[u8; 64] = match bytes.get(base..base + 64) {
            Some(full) => full.try_into().expect("64 bytes"),
            None => {
                // NUL is none of the marked bytes: padding ends any run.
                tail[..n - base].copy_from_slice(&bytes[base..]);
                &tail
            }
        };
        let m = masks(block);
        push_bits(&mut marks.quotes, m.quote, base);
        push_bits(&mut marks.backslashes, m.backslash, base);
        percent |= m.percent;
        let mut hits = windows_ending(prev, m.run, MIN_RUN);
        prev = m.run;
        while hits != 0 {
            let last = base + hits.trailing_zeros() as usize;
            let first = last + 1 - MIN_RUN;
            if first >= done {
                let start = first - ones_before(&bytes[done..first], &masks);
                let end = last + 1 + ones_after(&bytes[last + 1..], &masks);
                marks.runs.push((start, end));
                done = end;
            }
            // Windows ending at or before `done` are inside the run.
            let skip = (done + 1).saturating_sub(base).min(64);
            hits = if skip == 64 { 0 } else { hits & (u64::MAX << skip) };
        }
        base += 64;
        if done > base {
            // Jump over the rest of a long run: its blocks hold only run
            // bytes (nothing else to mark), and the byte at `done` is not
            // one, so no window after it reaches back past it.
            base = done / 64 * 64;
            prev = 0;
        }
    }
    marks.percent = percent != 0;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plain definition, byte by byte.
    fn reference(bytes: &[u8]) -> Marks {
        let mut m = Marks::default();
        let mut i = 0;
        while i < bytes.len() {
            if !is_run_byte(bytes[i]) {
                i += 1;
                continue;
            }
            let start = i;
            while i < bytes.len() && is_run_byte(bytes[i]) {
                i += 1;
            }
            if i - start >= MIN_RUN {
                m.runs.push((start, i));
            }
        }
        let at = |pred: fn(u8) -> bool| (0..bytes.len()).filter(|&i| pred(bytes[i])).map(|i| i as u32).collect();
        m.quotes = at(|b| matches!(b, b'"' | b'\'' | b'`'));
        m.backslashes = at(|b| b == b'\\');
        m.percent = bytes.contains(&b'%');
        m
    }

    /// Marks by every classifier this CPU has; they must all agree with
    /// the definition.
    fn check(bytes: &[u8], what: &str) {
        let want = reference(bytes);
        let with = |masks: fn(&[u8; 64]) -> Block| {
            // Reused lists must come out the same as fresh ones.
            let mut marks = Marks::find(b"\"'` junk \\ to clear %");
            find_with(bytes, masks, &mut marks);
            marks
        };
        let mut all = vec![("dispatch", Marks::find(bytes)), ("table", with(table_masks))];
        #[cfg(target_arch = "x86_64")]
        all.push(("sse2", with(sse2_masks)));
        for (name, got) in all {
            assert_eq!(got.runs, want.runs, "{name} runs: {what}");
            assert_eq!(got.quotes, want.quotes, "{name} quotes: {what}");
            assert_eq!(got.backslashes, want.backslashes, "{name} backslashes: {what}");
            assert_eq!(got.percent, want.percent, "{name} percent: {what}");
        }
    }

    #[test]
    fn masks_agree_with_the_table() {
        let all: Vec<u8> = (0..=255u8).collect();
        for chunk in all.chunks_exact(64) {
            let block: &[u8; 64] = chunk.try_into().unwrap();
            let want = table_masks(block);
            let (hi, lo) = NIBBLE_TABLES;
            let class = |b: u8| hi[(b >> 4) as usize] & lo[(b & 15) as usize];
            let nibbles =
                |bits: u8| block.iter().enumerate().fold(0u64, |m, (k, &b)| m | (u64::from(class(b) & bits != 0) << k));
            assert_eq!(nibbles(RUN_CLASSES), want.run);
            assert_eq!(nibbles(QUOTE_CLASS_2 | QUOTE_CLASS_6), want.quote);
            assert_eq!(nibbles(BACKSLASH_CLASS), want.backslash);
            #[cfg(target_arch = "x86_64")]
            {
                assert_eq!(sse2_masks(block), want);
                if std::arch::is_x86_feature_detected!("avx2") {
                    // SAFETY: the CPU has AVX2.
                    assert_eq!(unsafe { avx2_masks(block) }, want);
                }
            }
        }
    }

    #[test]
    fn runs_and_marks_match_the_definition() {
        // Runs of every length around the minimum and the block size, at
        // every alignment, with marked bytes around them.
        for len in [0, 1, 22, 23, 24, 25, 63, 64, 65, 127, 128, 129, 200] {
            for shift in [0, 1, 17, 40, 63, 64, 65] {
                let mut text = vec![b' '; shift];
                text.extend(std::iter::repeat_n(b'a', len));
                text.extend_from_slice(b"\"ab_cd' \\");
                text.extend(std::iter::repeat_n(b'Z', len / 2 + 30));
                text.extend(std::iter::repeat_n(b'`', shift % 7));
                check(&text, &format!("len {len} shift {shift}"));
            }
        }
        check(b"", "empty");
        check(b"100%", "a percent sign at the end");
    }

    #[test]
    fn pseudo_random_text_matches_the_definition() {
        // Word lengths from a xorshift generator: many runs near 24.
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut text = Vec::new();
        while text.len() < 200_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let word = (state % 70) as usize;
            text.extend(std::iter::repeat_n(b"aZ9+/-_"[(state >> 8) as usize % 7], word));
            text.push(b" .\n:\0\xff\"'`\\%"[(state >> 16) as usize % 11]);
        }
        check(&text, "pseudo-random");
    }
}
