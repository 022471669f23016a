//! Line and column numbers for byte offsets. Computed only for matches, so a
//! clean file never pays for counting its newlines.

/// Converts ascending byte offsets of one buffer to 1-based (line, column),
/// counting newlines incrementally from the previous offset.
pub struct LineIndex<'a> {
    haystack: &'a [u8],
    offset: usize,
    line: usize,
    line_start: usize,
}

impl<'a> LineIndex<'a> {
    pub fn new(haystack: &'a [u8]) -> LineIndex<'a> {
        LineIndex { haystack, offset: 0, line: 1, line_start: 0 }
    }

    /// `(line, column)` of `offset`, both 1-based; the column counts bytes.
    /// Offsets should be asked in ascending order; a smaller one restarts the
    /// count from the top.
    pub fn locate(&mut self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.haystack.len());
        if offset < self.offset {
            *self = LineIndex::new(self.haystack);
        }
        let span = &self.haystack[self.offset..offset];
        self.line += memchr::memchr_iter(b'\n', span).count();
        if let Some(last) = memchr::memrchr(b'\n', span) {
            self.line_start = self.offset + last + 1;
        }
        self.offset = offset;
        (self.line, offset - self.line_start + 1)
    }

    /// The full line containing `offset`, without its line terminator.
    pub fn line_bytes(&self, offset: usize) -> &'a [u8] {
        let start = memchr::memrchr(b'\n', &self.haystack[..offset]).map_or(0, |i| i + 1);
        let end = memchr::memchr(b'\n', &self.haystack[offset..]).map_or(self.haystack.len(), |i| offset + i);
        let line = &self.haystack[start..end];
        line.strip_suffix(b"\r").unwrap_or(line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns() {
        let text = b"ab\ncd\r\nefg";
        let mut index = LineIndex::new(text);
        assert_eq!(index.locate(0), (1, 1));
        assert_eq!(index.locate(4), (2, 2));
        assert_eq!(index.locate(8), (3, 2));
        assert_eq!(index.locate(1), (1, 2));
        assert_eq!(index.line_bytes(4), b"cd");
        assert_eq!(index.line_bytes(9), b"efg");
    }
}
