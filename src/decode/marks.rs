//! One pass over a text that marks what the token decoders need.
//!
//! The token decoders run on every text file, and on ordinary source they
//! almost never find anything: their cost is the search for a place to
//! start. Searching separately (a `memchr` for `\`, another for `%`, one
//! call per quote, a byte-at-a-time search for long runs of key characters)
//! cost a quarter of the whole scan, because source code has a quote every
//! hundred bytes and is mostly key characters in short words, so every step
//! was a call or a mispredicted branch. Here each 64-byte block becomes bit
//! masks in one go (AVX-512 or AVX2 where the CPU has it, SSE2 otherwise on
//! x86-64, a table elsewhere), stored whole, one word per block: no branch
//! per block, and as little work per block as can be, since every cycle
//! spent on a block costs about 1% of the whole scan. Long runs are then
//! found from the stored run words alone: a run of [`MIN_RUN`] bytes covers
//! two whole aligned groups of 8 bytes side by side, which eight words at a
//! time rule out almost everywhere.

use std::mem::MaybeUninit;

/// Shortest run of key characters the decoders take: the base64 of the
/// shortest key any rule takes (20 characters, an AWS access key id) is
/// 27 characters before its padding (hex wants more). Source code is full
/// of shorter identifiers, which each cost the decoders a look.
pub(crate) const MIN_RUN: usize = 27;

/// What the token decoders start from, found in one pass.
#[derive(Debug, Default)]
pub(crate) struct Marks {
    /// Every maximal run of at least [`MIN_RUN`] key characters
    /// (`[A-Za-z0-9+/_-]`), as `(start, end)`, in order (base64, hex).
    pub runs: Vec<(usize, usize)>,
    /// Every `"`, `'` and `` ` `` right after a key character
    /// ([`super::is_key_byte`]) and not right before a run byte other than
    /// `+`, nor before a [`CLOSERS`] byte: where a literal may close and be
    /// joined to the next (split strings; see `concat::may_join_at`).
    pub quotes: Bitmap,
    /// Every `\` (string escapes).
    pub backslashes: Bitmap,
    /// Whether the text has a `%` at all (URL-encoding).
    pub percent: bool,
    /// Whether the text has an `ESC` byte at all (terminal colours).
    pub esc: bool,
    /// Run bytes, one word per block (scratch for finding `runs`).
    run_words: Vec<u64>,
}

/// Where one kind of byte is in a text: the mask of each 64-byte block
/// that has one, with the block's number. Every block's mask is written
/// and only a non-empty one is kept (by counting it in, not by a branch),
/// so a reader goes from one mark to the next without looking at empty
/// blocks, and the marking pass never mispredicts on them.
#[derive(Debug, Default)]
pub(crate) struct Bitmap {
    blocks: Vec<(usize, u64)>,
}

impl Bitmap {
    /// Offsets of the set bits, in order.
    pub(crate) fn iter(&self) -> Positions<'_> {
        Positions { blocks: self.blocks.iter(), base: 0, bits: 0 }
    }
}

/// The offsets of a [`Bitmap`]'s set bits.
pub(crate) struct Positions<'a> {
    blocks: std::slice::Iter<'a, (usize, u64)>,
    /// Offset of the current block.
    base: usize,
    /// The current block's bits not yet returned.
    bits: u64,
}

impl Iterator for Positions<'_> {
    type Item = usize;

    #[inline]
    fn next(&mut self) -> Option<usize> {
        if self.bits == 0 {
            let &(block, bits) = self.blocks.next()?;
            (self.base, self.bits) = (block * 64, bits);
        }
        let bit = self.bits.trailing_zeros() as usize;
        self.bits &= self.bits - 1;
        Some(self.base + bit)
    }
}

/// Room for `blocks` words in `words` (emptied), to fill in whole before
/// [`filled`]: zeroing them first would cost as much as a third of the
/// marking pass.
fn room<T>(words: &mut Vec<T>, blocks: usize) -> &mut [MaybeUninit<T>] {
    words.clear();
    words.reserve(blocks);
    &mut words.spare_capacity_mut()[..blocks]
}

/// Takes in the `blocks` words written into [`room`].
///
/// # Safety
///
/// Every one of the first `blocks` spare slots of `words` was written.
unsafe fn filled<T>(words: &mut Vec<T>, blocks: usize) {
    // SAFETY: the caller wrote them; `room` reserved them.
    unsafe { words.set_len(blocks) }
}

impl Marks {
    /// Marks `bytes`.
    #[cfg(test)]
    pub(crate) fn find(bytes: &[u8]) -> Marks {
        let mut marks = Marks::default();
        marks.refill(bytes);
        marks
    }

    /// [`Marks::find`] into this value's lists (cleared first), so a
    /// caller marking many texts reuses their memory.
    pub(crate) fn refill(&mut self, bytes: &[u8]) {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512bw") {
                // SAFETY: the CPU has AVX-512BW (checked just above).
                unsafe { find_avx512(bytes, self) }
            } else if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU has AVX2 (checked just above).
                unsafe { find_avx2(bytes, self) }
            } else {
                find_with(bytes, sse2_masks, whole_groups8, self)
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        find_with(bytes, table_masks, whole_groups8, self)
    }
}

/// Key characters: base64 and base64url alphabets, hex digits among them.
#[cfg(test)]
fn is_run_byte(b: u8) -> bool {
    RUN_BYTE[b as usize]
}

static RUN_BYTE: [bool; 256] = byte_table!(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_'));

const ESC: u8 = 0x1b;

/// The bytes [`super::is_key_byte`] adds to the run bytes.
const KEY_EXTRA: [u8; 3] = [b'.', b'=', b'~'];

/// Bytes that most often follow a closing quote in code, and end any join.
const CLOSERS: [u8; 3] = [b')', b',', b';'];

/// The masks of one 64-byte block: bit `k` describes byte `k`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Block {
    run: u64,
    /// `.`, `=` and `~`: with `run`, the key characters.
    key_extra: u64,
    plus: u64,
    /// [`CLOSERS`].
    closer: u64,
    quote: u64,
    backslash: u64,
    percent: u64,
    esc: u64,
}

/// [`Block`] byte by byte: the portable version, and the reference.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn table_masks(block: &[u8; 64]) -> Block {
    let mut m = Block::default();
    for (k, &b) in block.iter().enumerate() {
        m.run |= u64::from(RUN_BYTE[b as usize]) << k;
        m.key_extra |= u64::from(KEY_EXTRA.contains(&b)) << k;
        m.plus |= u64::from(b == b'+') << k;
        m.closer |= u64::from(CLOSERS.contains(&b)) << k;
        m.quote |= u64::from(matches!(b, b'"' | b'\'' | b'`')) << k;
        m.backslash |= u64::from(b == b'\\') << k;
        m.percent |= u64::from(b == b'%') << k;
        m.esc |= u64::from(b == ESC) << k;
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
        let [run, key_extra, plus, closer, quote, backslash, percent, esc] = unsafe {
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
            let run = _mm_or_si128(_mm_or_si128(digit, alpha), special);
            let [dot, equals, tilde] = KEY_EXTRA.map(is);
            let key_extra = _mm_or_si128(_mm_or_si128(dot, equals), tilde);
            let [paren, comma, semicolon] = CLOSERS.map(is);
            let closer = _mm_or_si128(_mm_or_si128(paren, comma), semicolon);
            [run, key_extra, is(b'+'), closer, quote, is(b'\\'), is(b'%'), is(ESC)]
                .map(|x| u64::from(_mm_movemask_epi8(x) as u16))
        };
        m.run |= run << (16 * k);
        m.key_extra |= key_extra << (16 * k);
        m.plus |= plus << (16 * k);
        m.closer |= closer << (16 * k);
        m.quote |= quote << (16 * k);
        m.backslash |= backslash << (16 * k);
        m.percent |= percent << (16 * k);
        m.esc |= esc << (16 * k);
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
        let is = |c: u8| _mm256_cmpeq_epi8(v, _mm256_set1_epi8(c as i8));
        let low = _mm256_shuffle_epi8(lo, _mm256_and_si256(v, nibble));
        let high = _mm256_shuffle_epi8(hi, _mm256_and_si256(_mm256_srli_epi16(v, 4), nibble));
        let class = _mm256_and_si256(low, high);
        let not_run =
            _mm256_cmpeq_epi8(_mm256_and_si256(class, _mm256_set1_epi8(RUN_CLASSES as i8)), _mm256_setzero_si256());
        m.run |= !bits(not_run) & (u64::from(u32::MAX) << (32 * k));
        let [dot, equals, tilde] = KEY_EXTRA.map(is);
        m.key_extra |= bits(_mm256_or_si256(_mm256_or_si256(dot, equals), tilde));
        m.plus |= bits(is(b'+'));
        let [paren, comma, semicolon] = CLOSERS.map(is);
        m.closer |= bits(_mm256_or_si256(_mm256_or_si256(paren, comma), semicolon));
        // `movemask` takes bit 7 of each byte; shifting 16-bit lanes left
        // by 1 or 2 brings bit 6 or 5 there (the bits shifted in from the
        // byte below land under bit 7).
        m.quote |= bits(_mm256_or_si256(_mm256_slli_epi16(class, 1), _mm256_slli_epi16(class, 2)));
        m.backslash |= bits(class);
        m.percent |= bits(is(b'%'));
        m.esc |= bits(is(ESC));
    }
    m
}

/// [`table_masks`] with AVX-512BW: the same shuffles as [`avx2_masks`] on
/// all 64 bytes at once, each mask a single test into a mask register.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512bw")]
#[inline]
fn avx512_masks(block: &[u8; 64]) -> Block {
    use std::arch::x86_64::*;
    let (hi, lo) = &NIBBLE_TABLES;
    // SAFETY: each load reads 16 or 64 bytes inside `hi`, `lo` or `block`.
    let (hi, lo, v) = unsafe {
        (
            _mm512_broadcast_i32x4(_mm_loadu_si128(hi.as_ptr().cast())),
            _mm512_broadcast_i32x4(_mm_loadu_si128(lo.as_ptr().cast())),
            _mm512_loadu_si512(block.as_ptr().cast()),
        )
    };
    let nibble = _mm512_set1_epi8(0x0f);
    let low = _mm512_shuffle_epi8(lo, _mm512_and_si512(v, nibble));
    let high = _mm512_shuffle_epi8(hi, _mm512_and_si512(_mm512_srli_epi16(v, 4), nibble));
    let class = _mm512_and_si512(low, high);
    let test = |bits: u8| _mm512_test_epi8_mask(class, _mm512_set1_epi8(bits as i8));
    let is = |c: u8| _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(c as i8));
    let [dot, equals, tilde] = KEY_EXTRA.map(is);
    Block {
        run: test(RUN_CLASSES),
        key_extra: dot | equals | tilde,
        plus: is(b'+'),
        closer: CLOSERS.map(is).into_iter().fold(0, |all, m| all | m),
        quote: test(QUOTE_CLASS_2 | QUOTE_CLASS_6),
        backslash: _mm512_movepi8_mask(class),
        percent: is(b'%'),
        esc: is(ESC),
    }
}

/// [`whole_groups8`] with AVX-512BW: a byte compare on eight words.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512bw")]
#[inline]
fn avx512_whole_groups8(words: &[u64; 8], ones: u8) -> u64 {
    use std::arch::x86_64::*;
    // SAFETY: the load reads the 64 bytes of `words`.
    let v = unsafe { _mm512_loadu_si512(words.as_ptr().cast()) };
    _mm512_cmpeq_epi8_mask(_mm512_or_si512(v, _mm512_set1_epi8(ones as i8)), _mm512_set1_epi8(-1))
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn find_avx2(bytes: &[u8], marks: &mut Marks) {
    find_with(bytes, |block| avx2_masks(block), whole_groups8, marks)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512bw")]
fn find_avx512(bytes: &[u8], marks: &mut Marks) {
    find_with(bytes, |block| avx512_masks(block), |words, ones| avx512_whole_groups8(words, ones), marks)
}

/// [`Marks::find`] with given classifiers (inlined into each CPU-specific
/// caller, so the classifiers inline too).
#[inline(always)]
fn find_with(
    bytes: &[u8],
    masks: impl Fn(&[u8; 64]) -> Block,
    groups: impl Fn(&[u64; 8], u8) -> u64,
    marks: &mut Marks,
) {
    let blocks = bytes.len().div_ceil(64);
    let runs = room(&mut marks.run_words, blocks);
    let quotes = room(&mut marks.quotes.blocks, blocks);
    let backslashes = room(&mut marks.backslashes.blocks, blocks);
    // Non-empty blocks kept so far in `quotes` and `backslashes`.
    let (mut quote_blocks, mut backslash_blocks) = (0, 0);
    // Whether any block has a `%`, an `ESC`.
    let (mut percent, mut esc) = (0, 0);
    // Whether the byte before the block is a key character (bit 0).
    let mut key_before = 0;
    let mut mark = |k: usize, m: Block, run: &mut MaybeUninit<u64>| {
        let key = m.run | m.key_extra;
        // A run byte other than `+`, or a closer, right after a quote: no
        // join there.
        let no_join = ((m.run & !m.plus) | m.closer) >> 1;
        let quote = m.quote & (key << 1 | key_before) & !no_join;
        run.write(m.run);
        quotes[quote_blocks].write((k, quote));
        quote_blocks += usize::from(quote != 0);
        backslashes[backslash_blocks].write((k, m.backslash));
        backslash_blocks += usize::from(m.backslash != 0);
        key_before = key >> 63;
        percent |= m.percent;
        esc |= m.esc;
    };
    let mut chunks = bytes.chunks_exact(64);
    let mut words = runs.iter_mut().enumerate();
    for (chunk, (k, run)) in (&mut chunks).zip(&mut words) {
        mark(k, masks(chunk.try_into().expect("64 bytes")), run);
    }
    if let Some((k, run)) = words.next() {
        // NUL is none of the marked bytes: padding ends any run.
        let mut tail = [0u8; 64];
        tail[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
        mark(k, masks(&tail), run);
    }
    // SAFETY: the loop and the tail wrote all `blocks` run words, and each
    // block counted in `quote_blocks` or `backslash_blocks` was written
    // at that count just before.
    unsafe {
        filled(&mut marks.run_words, blocks);
        filled(&mut marks.quotes.blocks, quote_blocks);
        filled(&mut marks.backslashes.blocks, backslash_blocks);
    }
    marks.percent = percent != 0;
    marks.esc = esc != 0;
    find_runs(&marks.run_words, groups, &mut marks.runs);
}

/// Bit `8w + g` of the result: byte `g` of `words[w]`, with the bits of
/// `ones` set, is all ones (with `ones` 0: the group of 8 text bytes
/// `64w + 8g..` is all run bytes).
#[inline(always)]
fn whole_groups8(words: &[u64; 8], ones: u8) -> u64 {
    const LOW7: u64 = u64::MAX / 255 * 0x7f;
    words.iter().enumerate().fold(0, |all, (w, &word)| {
        let zeros = !(word | (u64::from(ones) * (u64::MAX / 255)));
        // Bit 7 of each byte: the byte of `zeros` is zero (no carry
        // crosses a byte); then those eight bits gathered in the top byte.
        let whole = !(((zeros & LOW7) + LOW7) | zeros | LOW7);
        all | ((whole >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56) << (8 * w)
    })
}

/// The maximal runs of at least [`MIN_RUN`] set bits in `words`, as bit
/// (byte) offsets. Only the first place of each run is looked at bit by
/// bit: two whole bytes side by side (groups of 8 text bytes, from
/// `groups`, see [`whole_groups8`]), where the run reaches on far enough
/// on either side. The first such pair of a run is never skipped: the
/// group before it is not whole, so when the group after it is not whole
/// either, the run has `MIN_RUN - 16` more bytes in those two, at least 6
/// in one of them.
#[inline(always)]
fn find_runs(words: &[u64], groups: impl Fn(&[u64; 8], u8) -> u64, runs: &mut Vec<(usize, usize)>) {
    const { assert!(MIN_RUN >= 23 && MIN_RUN < 31 && MIN_RUN - 16 > 2 * 5) };
    runs.clear();
    // Bit offsets before `done` belong to runs already looked at.
    let mut done = 0;
    // The previous eight words' groups: whole, and whole or ending in six
    // run bytes (bits 62 and 63 matter).
    let (mut whole_before, mut ending_before) = (0, 0);
    for (c, chunk) in words.chunks(8).enumerate() {
        let mut eight = [0; 8];
        let eight = match <&[u64; 8]>::try_from(chunk) {
            Ok(full) => full,
            Err(_) => {
                eight[..chunk.len()].copy_from_slice(chunk);
                &eight
            }
        };
        // Bit order is text order, across words and chunks. Groups that
        // end in six run bytes have their top six bits set; groups that
        // start with six, their low six.
        let whole = groups(eight, 0);
        let ending = whole | groups(eight, 0b11);
        let starting = whole | groups(eight, 0b1100_0000);
        let pairs = whole & (whole << 1 | whole_before >> 63);
        // The group two before a pair, and the one after (not known yet
        // for the last: kept).
        let reach = (ending << 2 | ending_before >> 62) | (starting >> 1 | 1 << 63);
        let mut places = pairs & reach;
        (whole_before, ending_before) = (whole, ending);
        while places != 0 {
            // A run byte: the first of the later whole group.
            let at = c * 512 + 8 * places.trailing_zeros() as usize;
            places &= places - 1;
            if at < done {
                continue;
            }
            let (start, end) = (run_start(words, at), run_end(words, at));
            // Kept only if long enough, without a branch on it (about
            // half the places are shorter runs).
            runs.push((start, end));
            runs.truncate(runs.len() - usize::from(end - start < MIN_RUN));
            done = end;
        }
    }
}

/// First bit of the run of set bits through bit `at` (which is set). The
/// word of `at` and the one before are looked at together, without a
/// branch on where the run starts (most runs are shorter than a word, and
/// half of them cross into the word before).
#[inline(always)]
fn run_start(words: &[u64], at: usize) -> usize {
    let (k, bit) = (at / 64, at % 64);
    let before = words.get(k.wrapping_sub(1)).copied().unwrap_or(0);
    let window = u128::from(words[k]) << 64 | u128::from(before);
    let ones = (window << (63 - bit)).leading_ones() as usize;
    if ones <= 64 + bit {
        return at + 1 - ones;
    }
    // The whole word before too: go on a word at a time.
    let mut start = (k - 1) * 64;
    for word in words[..k - 1].iter().rev() {
        let ones = word.leading_ones() as usize;
        start -= ones;
        if ones < 64 {
            break;
        }
    }
    start
}

/// The bit after the run of set bits through bit `at` (which is set), the
/// same way as [`run_start`].
#[inline(always)]
fn run_end(words: &[u64], at: usize) -> usize {
    let (k, bit) = (at / 64, at % 64);
    let after = words.get(k + 1).copied().unwrap_or(0);
    let window = u128::from(after) << 64 | u128::from(words[k]);
    let ones = (window >> bit).trailing_ones() as usize;
    if ones < 128 - bit {
        return at + ones;
    }
    let mut end = (k + 2) * 64;
    for word in words.iter().skip(k + 2) {
        let ones = word.trailing_ones() as usize;
        end += ones;
        if ones < 64 {
            break;
        }
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What [`Marks`] holds, as plain lists.
    #[derive(Debug, PartialEq)]
    struct Plain {
        runs: Vec<(usize, usize)>,
        quotes: Vec<usize>,
        backslashes: Vec<usize>,
        percent: bool,
        esc: bool,
    }

    impl Plain {
        fn of(marks: &Marks) -> Plain {
            Plain {
                runs: marks.runs.clone(),
                quotes: marks.quotes.iter().collect(),
                backslashes: marks.backslashes.iter().collect(),
                percent: marks.percent,
                esc: marks.esc,
            }
        }
    }

    /// Maximal runs of bytes `pred` holds for, at least `min` long.
    fn runs_of(bytes: &[u8], min: usize, pred: fn(u8) -> bool) -> Vec<(usize, usize)> {
        let mut runs = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if !pred(bytes[i]) {
                i += 1;
                continue;
            }
            let start = i;
            while i < bytes.len() && pred(bytes[i]) {
                i += 1;
            }
            if i - start >= min {
                runs.push((start, i));
            }
        }
        runs
    }

    /// The plain definition, byte by byte.
    fn reference(bytes: &[u8]) -> Plain {
        let at = |pred: &dyn Fn(u8) -> bool| (0..bytes.len()).filter(|&i| pred(bytes[i])).collect();
        Plain {
            runs: runs_of(bytes, MIN_RUN, is_run_byte),
            quotes: (0..bytes.len())
                .filter(|&i| {
                    matches!(bytes[i], b'"' | b'\'' | b'`') && i > 0 && super::super::is_key_byte(bytes[i - 1])
                })
                .filter(|&i| {
                    i % 64 == 63
                        || !bytes.get(i + 1).is_some_and(|&b| (is_run_byte(b) && b != b'+') || CLOSERS.contains(&b))
                })
                .collect(),
            backslashes: at(&|b| b == b'\\'),
            percent: bytes.contains(&b'%'),
            esc: bytes.contains(&ESC),
        }
    }

    /// Marks by every classifier this CPU has; they must all agree with
    /// the definition.
    fn check(bytes: &[u8], what: &str) {
        let want = reference(bytes);
        let with = |masks: fn(&[u8; 64]) -> Block| {
            // Reused lists must come out the same as fresh ones.
            let mut marks =
                Marks::find(b"a\"'` junk \\ to clear % and a run of twenty-four: abcdefghijklmnopqrstuvwxyz");
            find_with(bytes, masks, whole_groups8, &mut marks);
            Plain::of(&marks)
        };
        let mut all = vec![("dispatch", Plain::of(&Marks::find(bytes))), ("table", with(table_masks))];
        #[cfg(target_arch = "x86_64")]
        {
            all.push(("sse2", with(sse2_masks)));
            if std::arch::is_x86_feature_detected!("avx2") {
                let mut marks = Marks::default();
                // SAFETY: the CPU has AVX2.
                unsafe { find_avx2(bytes, &mut marks) };
                all.push(("avx2", Plain::of(&marks)));
            }
        }
        for (name, got) in all {
            assert_eq!(got, want, "{name}: {what}");
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
                if std::arch::is_x86_feature_detected!("avx512bw") {
                    // SAFETY: the CPU has AVX-512BW.
                    assert_eq!(unsafe { avx512_masks(block) }, want);
                }
            }
        }
    }

    #[test]
    fn whole_groups_agree() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..10_000 {
            let mut words = [0u64; 8];
            for word in &mut words {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                // Mostly-set bytes, so whole ones are common.
                *word = state | (state >> 3) | (state << 5);
            }
            for ones in [0, 0b11, 0b1100_0000] {
                let want =
                    (0..64).fold(0u64, |m, i| m | u64::from((words[i / 8] >> (8 * (i % 8))) as u8 | ones == 0xff) << i);
                assert_eq!(whole_groups8(&words, ones), want);
                #[cfg(target_arch = "x86_64")]
                if std::arch::is_x86_feature_detected!("avx512bw") {
                    // SAFETY: the CPU has AVX-512BW.
                    assert_eq!(unsafe { avx512_whole_groups8(&words, ones) }, want);
                }
            }
        }
    }

    #[test]
    fn runs_and_marks_match_the_definition() {
        // Runs of every length around the minimum and the block size, at
        // every alignment, with marked bytes around them.
        for len in [0, 1, 15, 16, 17, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 63, 64, 65, 127, 128, 129, 200, 1000] {
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
            text.extend(std::iter::repeat_n(b"aZ9+/-_uxF"[(state >> 8) as usize % 10], word));
            text.push(b" .\n:\0\xff\"'`\\%=~),;"[(state >> 16) as usize % 16]);
        }
        check(&text, "pseudo-random");
    }
}
