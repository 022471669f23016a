//! Long runs of key characters, found 64 bytes at a time.
//!
//! The base64 and hex decoders start from runs of at least 24 key
//! characters (`[A-Za-z0-9+/_-]`), and they run on every text file: in the
//! [core] tree benchmark a byte-at-a-time search for those runs cost a
//! quarter of the whole scan, because source code is mostly key characters
//! in short words, so every probe hit a word and every hit was a
//! mispredicted branch. Here each 64-byte block becomes a bit mask (SSE2 on
//! x86-64, a table elsewhere), and a handful of shifts on the mask and the
//! previous one answer "does a window of `min` key characters end in this
//! block?"; almost every block says no without a single branch per byte.
//! Only the rare block that says yes is walked byte by byte to find the
//! run's exact ends.

/// Shortest run the decoders take (base64's minimum; hex wants more).
pub(crate) const MIN_RUN: usize = 24;

/// Every maximal run of at least [`MIN_RUN`] key characters, as
/// `(start, end)`, in order: found once per text, shared by the decoders.
pub(crate) fn find(bytes: &[u8]) -> Vec<(usize, usize)> {
    let mut runs = Vec::new();
    long_runs(bytes, MIN_RUN, |start, end| runs.push((start, end)));
    runs
}

/// Key characters: base64 and base64url alphabets, hex digits among them.
pub(crate) fn is_run_byte(b: u8) -> bool {
    RUN_BYTE[b as usize]
}

static RUN_BYTE: [bool; 256] = byte_table!(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_'));

/// Bit `k` set when `block[k]` is a run byte: the portable version.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn table_mask(block: &[u8; 64]) -> u64 {
    block.iter().enumerate().fold(0, |m, (k, &b)| m | (u64::from(RUN_BYTE[b as usize]) << k))
}

/// [`table_mask`] with SSE2, which every x86-64 CPU has.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn sse2_mask(block: &[u8; 64]) -> u64 {
    use std::arch::x86_64::*;
    let mut m = 0u64;
    for (k, chunk) in block.chunks_exact(16).enumerate() {
        // SAFETY: SSE2 is part of the x86-64 baseline, and the load reads
        // exactly the 16 bytes of `chunk`.
        let bits = unsafe {
            let v = _mm_loadu_si128(chunk.as_ptr().cast());
            // `x <= hi` unsigned, as `min(x, hi) == x` (SSE2 has no
            // unsigned compare).
            let at_most = |x: __m128i, hi: u8| _mm_cmpeq_epi8(_mm_min_epu8(x, _mm_set1_epi8(hi as i8)), x);
            let digit = at_most(_mm_sub_epi8(v, _mm_set1_epi8(b'0' as i8)), 9);
            let lower = _mm_or_si128(v, _mm_set1_epi8(0x20));
            let alpha = at_most(_mm_sub_epi8(lower, _mm_set1_epi8(b'a' as i8)), 25);
            let is = |c: u8| _mm_cmpeq_epi8(v, _mm_set1_epi8(c as i8));
            let special = _mm_or_si128(_mm_or_si128(is(b'+'), is(b'/')), _mm_or_si128(is(b'-'), is(b'_')));
            _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(digit, alpha), special)) as u16
        };
        m |= u64::from(bits) << (16 * k);
    }
    m
}

/// Nibble tables for a two-lookup membership test: byte `b` is a run byte
/// when `HI[b >> 4] & LO[b & 15] != 0`. Each distinct set of low nibbles
/// (over the high nibbles) gets one bit; RUN_BYTE has five such sets.
const NIBBLE_TABLES: ([u8; 16], [u8; 16]) = {
    let (mut hi, mut lo) = ([0u8; 16], [0u8; 16]);
    let mut sets = [0u16; 8];
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
            assert!(class < 8, "more than 8 distinct nibble sets");
            if class == used {
                sets[class] = set;
                used += 1;
            }
            hi[h] = 1 << class;
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
    (hi, lo)
};

/// [`table_mask`] with AVX2: two byte shuffles per 32 bytes.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
fn avx2_mask(block: &[u8; 64]) -> u64 {
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
    let mut m = 0u64;
    for (k, v) in halves.into_iter().enumerate() {
        let low = _mm256_shuffle_epi8(lo, _mm256_and_si256(v, nibble));
        let high = _mm256_shuffle_epi8(hi, _mm256_and_si256(_mm256_srli_epi16(v, 4), nibble));
        let none = _mm256_cmpeq_epi8(_mm256_and_si256(low, high), _mm256_setzero_si256());
        m |= u64::from(!(_mm256_movemask_epi8(none) as u32)) << (32 * k);
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
fn ones_before(bytes: &[u8], mask: impl Fn(&[u8; 64]) -> u64) -> usize {
    let mut count = 0;
    for block in bytes.rchunks(64) {
        let ones = match <&[u8; 64]>::try_from(block) {
            Ok(full) => mask(full).leading_ones() as usize,
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
fn ones_after(bytes: &[u8], mask: impl Fn(&[u8; 64]) -> u64) -> usize {
    let mut count = 0;
    for block in bytes.chunks(64) {
        let ones = match <&[u8; 64]>::try_from(block) {
            Ok(full) => mask(full).trailing_ones() as usize,
            Err(_) => block.iter().take_while(|&&b| is_run_byte(b)).count(),
        };
        count += ones;
        if ones < block.len() {
            break;
        }
    }
    count
}

/// Calls `f(start, end)` for every maximal run of [`is_run_byte`] bytes at
/// least `min` long (`1 <= min <= 64`), in order.
pub(crate) fn long_runs(bytes: &[u8], min: usize, f: impl FnMut(usize, usize)) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2 (checked just above).
            unsafe { long_runs_avx2(bytes, min, f) }
        } else {
            long_runs_with(bytes, min, f, sse2_mask)
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    long_runs_with(bytes, min, f, table_mask)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn long_runs_avx2(bytes: &[u8], min: usize, f: impl FnMut(usize, usize)) {
    long_runs_with(bytes, min, f, |block| avx2_mask(block))
}

/// [`long_runs`] with a given block classifier (inlined into each
/// CPU-specific caller, so the classifier inlines too).
#[inline(always)]
fn long_runs_with(bytes: &[u8], min: usize, mut f: impl FnMut(usize, usize), mask: impl Fn(&[u8; 64]) -> u64) {
    let min = min.clamp(1, 64);
    let n = bytes.len();
    // Bytes before `done` belong to reported runs (or precede them).
    let (mut done, mut prev, mut base) = (0usize, 0u64, 0usize);
    let mut tail = [0u8; 64];
    while base < n {
        let block: &[u8; 64] = match bytes.get(base..base + 64) {
            Some(full) => full.try_into().expect("64 bytes"),
            None => {
                // NUL is no run byte: padding ends any run at the end.
                tail[..n - base].copy_from_slice(&bytes[base..]);
                &tail
            }
        };
        let cur = mask(block);
        let mut hits = windows_ending(prev, cur, min);
        prev = cur;
        while hits != 0 {
            let last = base + hits.trailing_zeros() as usize;
            let first = last + 1 - min;
            if first >= done {
                let start = first - ones_before(&bytes[done..first], &mask);
                let end = last + 1 + ones_after(&bytes[last + 1..], &mask);
                f(start, end);
                done = end;
            }
            // Windows ending at or before `done` are inside the run.
            let skip = (done + 1).saturating_sub(base).min(64);
            hits = if skip == 64 { 0 } else { hits & (u64::MAX << skip) };
        }
        base += 64;
        if done > base {
            // Jump over the rest of a long run; the byte at `done` is not a
            // run byte, so no window after it reaches back past it.
            base = done / 64 * 64;
            prev = 0;
        }
    }
}

/// Calls `f(i)` for every quote (`"`, `'`, `` ` ``) in `bytes`, in order,
/// until it returns true; returns whether one did. Source code has a quote
/// every hundred bytes or so, and a `memchr3` call per quote costs more
/// than the search: this tests 32 bytes at a time and walks the bits.
pub(crate) fn any_quote(bytes: &[u8], f: impl FnMut(usize) -> bool) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2 (checked just above).
            return unsafe { any_quote_avx2(bytes, f) };
        }
    }
    any_quote_portable(bytes, f)
}

fn any_quote_portable(bytes: &[u8], mut f: impl FnMut(usize) -> bool) -> bool {
    memchr::memchr3_iter(b'"', b'\'', b'`', bytes).any(&mut f)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn any_quote_avx2(bytes: &[u8], mut f: impl FnMut(usize) -> bool) -> bool {
    use std::arch::x86_64::*;
    let quote = |c: u8| _mm256_set1_epi8(c as i8);
    let (dq, sq, bt) = (quote(b'"'), quote(b'\''), quote(b'`'));
    let mut base = 0;
    while base + 32 <= bytes.len() {
        // SAFETY: reads the 32 bytes at `base`, inside `bytes`.
        let v = unsafe { _mm256_loadu_si256(bytes.as_ptr().add(base).cast()) };
        let hits = _mm256_or_si256(
            _mm256_or_si256(_mm256_cmpeq_epi8(v, dq), _mm256_cmpeq_epi8(v, sq)),
            _mm256_cmpeq_epi8(v, bt),
        );
        let mut bits = _mm256_movemask_epi8(hits) as u32;
        while bits != 0 {
            if f(base + bits.trailing_zeros() as usize) {
                return true;
            }
            bits &= bits - 1;
        }
        base += 32;
    }
    any_quote_portable(&bytes[base..], |i| f(base + i))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plain definition, byte by byte.
    fn reference(bytes: &[u8], min: usize) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
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
            if i - start >= min {
                out.push((start, i));
            }
        }
        out
    }

    /// Runs by every classifier this CPU has; they must agree.
    fn runs(bytes: &[u8], min: usize) -> Vec<(usize, usize)> {
        let mut got = Vec::new();
        long_runs(bytes, min, |s, e| got.push((s, e)));
        let mut portable = Vec::new();
        long_runs_with(bytes, min, |s, e| portable.push((s, e)), table_mask);
        assert_eq!(got, portable);
        got
    }

    #[test]
    fn masks_agree_with_the_table() {
        let all: Vec<u8> = (0..=255u8).collect();
        for chunk in all.chunks_exact(64) {
            let block: &[u8; 64] = chunk.try_into().unwrap();
            let (hi, lo) = NIBBLE_TABLES;
            let nibbles = block
                .iter()
                .enumerate()
                .fold(0u64, |m, (k, &b)| m | (u64::from(hi[(b >> 4) as usize] & lo[(b & 15) as usize] != 0) << k));
            assert_eq!(nibbles, table_mask(block));
            #[cfg(target_arch = "x86_64")]
            {
                assert_eq!(sse2_mask(block), table_mask(block));
                if std::arch::is_x86_feature_detected!("avx2") {
                    // SAFETY: the CPU has AVX2.
                    assert_eq!(unsafe { avx2_mask(block) }, table_mask(block));
                }
            }
        }
    }

    #[test]
    fn quotes_are_found_in_order() {
        let text: Vec<u8> = (0..300).map(|i| if i % 7 == 0 { b"\"'`"[i % 3] } else { b'x' }).collect();
        let want: Vec<usize> = (0..300).filter(|i| i % 7 == 0).collect();
        let mut got = Vec::new();
        assert!(!any_quote(&text, |i| {
            got.push(i);
            false
        }));
        assert_eq!(got, want);
        assert!(any_quote(&text, |i| i == 14));
        assert!(!any_quote(b"", |_| true));
    }

    #[test]
    fn runs_match_the_definition() {
        // Runs of every length around the block size and the minimum, at
        // every alignment.
        for min in [1, 2, 23, 24, 40, 63, 64] {
            for len in [0, 1, 22, 23, 24, 25, 63, 64, 65, 127, 128, 129, 200] {
                for shift in [0, 1, 17, 40, 63, 64, 65] {
                    let mut text = vec![b' '; shift];
                    text.extend(std::iter::repeat_n(b'a', len));
                    text.extend_from_slice(b" ab_cd ");
                    text.extend(std::iter::repeat_n(b'Z', len / 2 + 30));
                    text.extend(std::iter::repeat_n(b'.', shift % 7));
                    assert_eq!(runs(&text, min), reference(&text, min), "min {min} len {len} shift {shift}");
                }
            }
        }
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
            text.push(b" .\n:\0\xff"[(state >> 16) as usize % 6]);
        }
        for min in [1, 8, 24, 40, 64] {
            assert_eq!(runs(&text, min), reference(&text, min), "min {min}");
        }
    }
}
