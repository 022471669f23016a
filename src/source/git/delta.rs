//! Git's delta format: an object stored as instructions against a base
//! object ("copy these bytes of the base", "insert these bytes").
//!
//! gix-pack applies deltas inside its own traversal and readers but does not
//! export the step; the history audit walks packs itself
//! ([`super::pack_walk`]) and needs it. Pure and bounds-checked: a corrupt
//! delta is an error, never a panic or an out-of-bounds read.

/// Why a delta could not be applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Corrupt(pub &'static str);

impl std::fmt::Display for Corrupt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "corrupt delta: {}", self.0)
    }
}

/// The sizes a delta starts with: (base size, result size, where the
/// instructions start).
pub fn sizes(delta: &[u8]) -> Result<(u64, u64, usize), Corrupt> {
    let (base, used) = varint(delta)?;
    let (result, more) = varint(&delta[used..])?;
    Ok((base, result, used + more))
}

fn varint(bytes: &[u8]) -> Result<(u64, usize), Corrupt> {
    let mut value = 0u64;
    for (i, &b) in bytes.iter().enumerate() {
        if i >= 10 {
            break;
        }
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Ok((value, i + 1));
        }
    }
    Err(Corrupt("size is truncated or too long"))
}

/// Applies the delta `instructions` (after [`sizes`]) to `base`, appending
/// the result to `out`, which must end up exactly `result_size` long.
pub fn apply(base: &[u8], instructions: &[u8], result_size: usize, out: &mut Vec<u8>) -> Result<(), Corrupt> {
    out.clear();
    out.try_reserve_exact(result_size).map_err(|_| Corrupt("result too large to hold"))?;
    let mut i = 0;
    while let Some(&cmd) = instructions.get(i) {
        i += 1;
        if cmd & 0x80 != 0 {
            // Copy from the base: offset and size bytes present per bit.
            let mut field = |bits: u8, shift_base: u8| -> Result<usize, Corrupt> {
                let mut value = 0usize;
                for bit in 0..bits {
                    if cmd & (1 << (shift_base + bit)) != 0 {
                        let b = *instructions.get(i).ok_or(Corrupt("copy instruction is truncated"))?;
                        i += 1;
                        value |= usize::from(b) << (8 * bit);
                    }
                }
                Ok(value)
            };
            let offset = field(4, 0)?;
            let size = match field(3, 4)? {
                0 => 0x10000,
                size => size,
            };
            let end =
                offset.checked_add(size).filter(|&end| end <= base.len()).ok_or(Corrupt("copy outside the base"))?;
            if out.len() + size > result_size {
                return Err(Corrupt("result longer than announced"));
            }
            out.extend_from_slice(&base[offset..end]);
        } else if cmd != 0 {
            let size = usize::from(cmd);
            let bytes = instructions.get(i..i + size).ok_or(Corrupt("insert instruction is truncated"))?;
            if out.len() + size > result_size {
                return Err(Corrupt("result longer than announced"));
            }
            out.extend_from_slice(bytes);
            i += size;
        } else {
            return Err(Corrupt("reserved instruction 0"));
        }
    }
    if out.len() != result_size {
        return Err(Corrupt("result shorter than announced"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A delta of `base` → `target` as instructions: copy `base[2..6]`,
    /// insert "XY", copy `base[0..2]`.
    fn delta(base_len: u8, result_len: u8) -> Vec<u8> {
        vec![base_len, result_len, 0x80 | 0x01 | 0x10, 2, 4, 2, b'X', b'Y', 0x80 | 0x10, 2]
    }

    #[test]
    fn copies_and_inserts_as_the_format_says() {
        let base = b"abcdefgh";
        let d = delta(8, 8);
        let (base_size, result_size, start) = sizes(&d).unwrap();
        assert_eq!((base_size, result_size, start), (8, 8, 2));
        let mut out = Vec::new();
        apply(base, &d[start..], result_size as usize, &mut out).unwrap();
        assert_eq!(out, b"cdefXYab");
    }

    #[test]
    fn a_copy_size_of_zero_means_64k() {
        let base = vec![7u8; 0x10000];
        let mut out = Vec::new();
        apply(&base, &[0x80], 0x10000, &mut out).unwrap();
        assert_eq!(out.len(), 0x10000);
    }

    #[test]
    fn corrupt_deltas_are_errors_not_panics() {
        let base = b"abcdefgh";
        let mut out = Vec::new();
        // Copy past the end of the base.
        assert!(apply(base, &[0x80 | 0x01 | 0x10, 6, 4], 4, &mut out).is_err());
        // Truncated copy and insert.
        assert!(apply(base, &[0x80 | 0x01], 4, &mut out).is_err());
        assert!(apply(base, &[5, b'a'], 5, &mut out).is_err());
        // Reserved instruction, wrong announced sizes.
        assert!(apply(base, &[0], 0, &mut out).is_err());
        assert!(apply(base, &[2, b'a', b'b'], 1, &mut out).is_err());
        assert!(apply(base, &[2, b'a', b'b'], 3, &mut out).is_err());
        assert!(sizes(&[0x80, 0x80]).is_err());
        assert!(sizes(&[0xff; 12]).is_err());
        // Every prefix of a good delta fails cleanly or succeeds.
        let d = delta(8, 8);
        for cut in 0..d.len() {
            if let Ok((_, result, start)) = sizes(&d[..cut]) {
                let _ = apply(base, &d[start.min(cut)..cut], result as usize, &mut out);
            }
        }
    }
}
