//! Offsets in decoded bytes back to offsets in the original blob.
//!
//! A finding in a decoded view must be reported at the line and column of
//! the original file, so every view carries an [`OffsetMap`]. Storing one
//! `u32` per decoded byte would cost four times the view; instead the map is
//! a list of segments, each covering a run of decoded bytes with a linear
//! rule:
//!
//! - `num = den = 1`: byte `j` of the run came from `src + j` (plain text
//!   copied through, ASCII in a JSON string);
//! - `den = 0`: every byte of the run came from the escape or character at
//!   `src` (`\u002d`, `%2D`, one non-ASCII UTF-16 unit);
//! - otherwise `num` decoded bytes per `den` source bytes: byte `j` starts at
//!   `src + j * den / num` (`3/4` for base64, `1/2` for hex and ASCII UTF-16).
//!
//! Ordinary decodings produce few segments (one per escape, one per
//! non-ASCII UTF-16 character), and lookups are a binary search.

/// One run of decoded bytes with a linear mapping (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Seg {
    /// First decoded byte of the run.
    out: u32,
    /// Original offset of that byte.
    src: u32,
    num: u8,
    den: u8,
}

impl Seg {
    fn at(&self, out: u32) -> usize {
        let j = u64::from(out.saturating_sub(self.out));
        let rel = if self.den == 0 { 0 } else { j * u64::from(self.den) / u64::from(self.num.max(1)) };
        (u64::from(self.src) + rel) as usize
    }
}

/// Maps offsets in a view's decoded bytes to offsets in the original blob.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OffsetMap {
    segs: Vec<Seg>,
    len: u32,
}

impl OffsetMap {
    /// The original offset of decoded byte `offset`. Offsets at or past the
    /// end map to the original offset of the last byte (an empty map gives 0).
    pub fn to_original(&self, offset: usize) -> usize {
        if self.segs.is_empty() {
            return 0;
        }
        let last = self.len.saturating_sub(1);
        let out = u32::try_from(offset).unwrap_or(u32::MAX).min(last);
        let i = self.segs.partition_point(|s| s.out <= out).saturating_sub(1);
        self.segs.get(i).map_or(0, |s| s.at(out))
    }

    /// The original range `start..end` of decoded `start..end` (the end is
    /// the byte after the original position of the last decoded byte).
    pub fn range(&self, start: usize, end: usize) -> std::ops::Range<usize> {
        let s = self.to_original(start);
        let e = if end > start { self.to_original(end - 1).saturating_add(1) } else { s };
        s..e.max(s)
    }

    /// Number of decoded bytes the map covers.
    pub fn len(&self) -> usize {
        self.len as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of segments (a measure of the map's memory, for tests).
    pub fn segments(&self) -> usize {
        self.segs.len()
    }

    /// End (exclusive) of segment `i`, in decoded bytes.
    fn seg_end(&self, i: usize) -> u32 {
        self.segs.get(i + 1).map_or(self.len, |s| s.out)
    }

    /// `self` maps a view decoded from `outer`'s bytes into `outer`'s
    /// coordinates; the result maps straight into the original blob.
    pub(crate) fn compose(&self, outer: &OffsetMap) -> OffsetMap {
        let mut b = MapBuilder::default();
        for (i, seg) in self.segs.iter().enumerate() {
            let len = self.seg_end(i).saturating_sub(seg.out);
            if len == 0 {
                continue;
            }
            if seg.den == 0 {
                b.push(outer.to_original(seg.src as usize), len as usize, 1, 0);
                continue;
            }
            let first = seg.src as usize;
            let last = seg.at(seg.out + len - 1);
            let oi = outer.segs.partition_point(|s| (s.out as usize) <= first).saturating_sub(1);
            // A run that stays inside one copied or one point segment of
            // `outer` composes to one segment; anything else goes per byte.
            let direct = outer.segs.get(oi).copied().filter(|o| {
                let o_end = outer.seg_end(oi) as usize;
                o.num == 1 && o.den <= 1 && first >= o.out as usize && last < o_end
            });
            match direct {
                Some(o) if o.den == 1 => {
                    let src = (o.src as usize).saturating_add(first - o.out as usize);
                    b.push(src, len as usize, seg.num, seg.den);
                }
                Some(o) => b.push(o.src as usize, len as usize, 1, 0),
                None => {
                    for j in 0..len {
                        b.push(outer.to_original(seg.at(seg.out + j)), 1, 1, 1);
                    }
                }
            }
        }
        b.finish()
    }
}

/// Builds an [`OffsetMap`] run by run, merging runs that continue the
/// previous one.
#[derive(Debug, Default)]
pub(crate) struct MapBuilder {
    segs: Vec<Seg>,
    out: u32,
}

impl MapBuilder {
    /// `len` decoded bytes from `src`, `num` bytes per `den` source bytes
    /// (`den = 0`: all from `src`). Views are bounded well below 4 GiB;
    /// anything past that is silently clamped.
    pub(crate) fn push(&mut self, src: usize, len: usize, num: u8, den: u8) {
        let Ok(len) = u32::try_from(len) else { return };
        if len == 0 {
            return;
        }
        let src = u32::try_from(src).unwrap_or(u32::MAX);
        let num = num.max(1);
        if let Some(last) = self.segs.last() {
            let same_rule = last.num == num && last.den == den;
            let rel = self.out.saturating_sub(last.out);
            if same_rule && rel % u32::from(num) == 0 && last.at(self.out) == src as usize {
                self.out = self.out.saturating_add(len);
                return;
            }
        }
        self.segs.push(Seg { out: self.out, src, num, den });
        self.out = self.out.saturating_add(len);
    }

    pub(crate) fn finish(self) -> OffsetMap {
        OffsetMap { segs: self.segs, len: self.out }
    }
}

/// Decoded bytes and their map, kept in step.
#[derive(Debug, Default)]
pub(crate) struct ViewBuf {
    pub(crate) bytes: Vec<u8>,
    pub(crate) map: MapBuilder,
}

impl ViewBuf {
    /// Bytes copied from `src..src + bytes.len()` unchanged.
    pub(crate) fn copy(&mut self, bytes: &[u8], src: usize) {
        self.bytes.extend_from_slice(bytes);
        self.map.push(src, bytes.len(), 1, 1);
    }

    /// Bytes that all came from the token at `src`.
    pub(crate) fn point(&mut self, bytes: &[u8], src: usize) {
        self.bytes.extend_from_slice(bytes);
        self.map.push(src, bytes.len(), 1, 0);
    }

    /// Bytes decoded at `num` per `den` source bytes from `src`.
    pub(crate) fn ratio(&mut self, bytes: &[u8], src: usize, num: u8, den: u8) {
        self.bytes.extend_from_slice(bytes);
        self.map.push(src, bytes.len(), num, den);
    }

    pub(crate) fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Drops everything after the first `len` bytes (a rejected candidate).
    pub(crate) fn truncate(&mut self, len: usize) {
        if len >= self.bytes.len() {
            return;
        }
        self.bytes.truncate(len);
        let len = len as u32;
        while self.map.segs.last().is_some_and(|s| s.out >= len) {
            self.map.segs.pop();
        }
        self.map.out = len;
    }

    pub(crate) fn finish(self) -> (Vec<u8>, OffsetMap) {
        (self.bytes, self.map.finish())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_runs_merge() {
        let mut v = ViewBuf::default();
        v.copy(b"abc", 10);
        v.copy(b"def", 13);
        v.point(b"-", 16);
        v.copy(b"gh", 22);
        let (bytes, map) = v.finish();
        assert_eq!(bytes, b"abcdef-gh");
        assert_eq!(map.segments(), 3);
        let got: Vec<usize> = (0..bytes.len()).map(|i| map.to_original(i)).collect();
        assert_eq!(got, [10, 11, 12, 13, 14, 15, 16, 22, 23]);
        assert_eq!(map.to_original(99), 23);
        assert_eq!(map.range(0, 9), 10..24);
    }

    #[test]
    fn ratios_map_to_token_starts() {
        let mut v = ViewBuf::default();
        v.ratio(b"abcdef", 100, 3, 4);
        v.ratio(b"xy", 200, 1, 2);
        let (_, map) = v.finish();
        let got: Vec<usize> = (0..8).map(|i| map.to_original(i)).collect();
        assert_eq!(got, [100, 101, 102, 104, 105, 106, 200, 202]);
    }

    #[test]
    fn compose_shifts_and_falls_back() {
        // outer: view bytes 0..10 from original 50.., 10 from a point at 7.
        let mut o = ViewBuf::default();
        o.copy(b"0123456789", 50);
        o.point(b"z", 7);
        let (_, outer) = o.finish();
        let mut i = ViewBuf::default();
        i.ratio(b"abc", 2, 3, 4); // from outer 2..6
        i.point(b"q", 10); // from outer's point
        i.copy(b"rs", 8); // crosses into the point segment: per byte
        let (_, inner) = i.finish();
        let c = inner.compose(&outer);
        let got: Vec<usize> = (0..6).map(|k| c.to_original(k)).collect();
        assert_eq!(got, [52, 53, 54, 7, 58, 59]);
    }

    #[test]
    fn truncate_keeps_map_in_step() {
        let mut v = ViewBuf::default();
        v.copy(b"abc", 0);
        v.point(b"xyz", 9);
        v.truncate(3);
        v.copy(b"d", 3);
        let (bytes, map) = v.finish();
        assert_eq!(bytes, b"abcd");
        assert_eq!(map.segments(), 1);
        assert_eq!(map.to_original(3), 3);
    }

    #[test]
    fn empty_map_is_harmless() {
        let m = OffsetMap::default();
        assert_eq!(m.to_original(5), 0);
        assert!(m.is_empty());
    }
}
