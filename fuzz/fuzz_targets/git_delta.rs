//! Git delta application (`leakhound git` applies the deltas of every pack
//! it audits, and a scanned repository's packs are attacker-controlled).
//!
//! The input is split into a base and a delta. Properties: no panic and no
//! out-of-bounds read whatever the bytes; a delta that applies yields
//! exactly the size it announced; and a delta made of one whole-base copy
//! (built here) gives the base back.
#![no_main]

use leakhound::source::git::delta::{apply, sizes};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let split = data.first().map_or(0, |&b| b as usize).min(data.len().saturating_sub(1));
    let (base, delta) = data.get(1..).unwrap_or_default().split_at(split.min(data.len().saturating_sub(1)));
    let mut out = Vec::new();
    if let Ok((base_size, result_size, start)) = sizes(delta)
        && base_size == base.len() as u64
        && result_size <= 1 << 20
        && apply(base, &delta[start..], result_size as usize, &mut out).is_ok()
    {
        assert_eq!(out.len() as u64, result_size);
    }

    // A copy of the whole base (≤ 0xffffff bytes) in one instruction.
    if !base.is_empty() {
        let n = base.len();
        let copy = [0x80 | 0x10 | 0x20 | 0x40, n as u8, (n >> 8) as u8, (n >> 16) as u8];
        apply(base, &copy, n, &mut out).expect("a whole-base copy applies");
        assert_eq!(out, base);
    }
});
