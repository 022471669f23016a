//! Line and column numbers for byte offsets. Computed only for matches, so a
//! clean file never pays for counting its newlines.

/// What ends a line: a `\n` byte, or in UTF-16 text a `\n` code unit (two
/// bytes at an even offset; a lone `0x0A` byte is half of some other
/// character, such as `上` U+4E0A).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Newline {
    Byte,
    Utf16Le,
    Utf16Be,
}

/// Converts ascending byte offsets of one buffer to 1-based (line, column),
/// counting newlines incrementally from the previous offset.
pub struct LineIndex<'a> {
    haystack: &'a [u8],
    newline: Newline,
    offset: usize,
    line: usize,
    line_start: usize,
}

impl<'a> LineIndex<'a> {
    pub fn new(haystack: &'a [u8]) -> LineIndex<'a> {
        LineIndex::with_newline(haystack, Newline::Byte)
    }

    /// An index of UTF-16 text (`haystack` is the raw file, BOM included);
    /// columns still count bytes from the line's start.
    pub fn with_newline(haystack: &'a [u8], newline: Newline) -> LineIndex<'a> {
        LineIndex { haystack, newline, offset: 0, line: 1, line_start: 0 }
    }

    /// Where the line after a `0x0A` byte at `at` starts, if that byte ends
    /// a line.
    fn line_after(&self, at: usize) -> Option<usize> {
        let byte = |i: usize| self.haystack.get(i).copied();
        match self.newline {
            Newline::Byte => Some(at + 1),
            Newline::Utf16Le => (at.is_multiple_of(2) && byte(at + 1) == Some(0)).then_some(at + 2),
            Newline::Utf16Be => (!at.is_multiple_of(2) && byte(at - 1) == Some(0)).then_some(at + 1),
        }
    }

    /// `(line, column)` of `offset`, both 1-based; the column counts bytes.
    /// Offsets should be asked in ascending order; a smaller one restarts the
    /// count from the top.
    pub fn locate(&mut self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.haystack.len());
        if offset < self.offset {
            *self = LineIndex::with_newline(self.haystack, self.newline);
        }
        let span = &self.haystack[self.offset..offset];
        if self.newline == Newline::Byte {
            self.line += memchr::memchr_iter(b'\n', span).count();
            if let Some(last) = memchr::memrchr(b'\n', span) {
                self.line_start = self.offset + last + 1;
            }
        } else {
            for at in memchr::memchr_iter(b'\n', span).map(|i| self.offset + i) {
                if let Some(next) = self.line_after(at) {
                    self.line += 1;
                    self.line_start = next;
                }
            }
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

    #[test]
    fn utf16_lines_end_at_newline_units_only() {
        let units = |text: &str, le: bool| -> Vec<u8> {
            let mut out = if le { vec![0xFF, 0xFE] } else { vec![0xFE, 0xFF] };
            for u in text.encode_utf16() {
                out.extend(if le { u.to_le_bytes() } else { u.to_be_bytes() });
            }
            out
        };
        // `上` is 0A 4E in LE, `Ċ` 01 0A in BE: neither ends a line.
        let text = "# 上Ċ\r\nab\ncd";
        for (le, newline) in [(true, Newline::Utf16Le), (false, Newline::Utf16Be)] {
            let bytes = units(text, le);
            let at = |prefix: &str| 2 + 2 * prefix.encode_utf16().count();
            let mut index = LineIndex::with_newline(&bytes, newline);
            assert_eq!(index.locate(at("# ")), (1, 7), "le {le}");
            assert_eq!(index.locate(at("# 上Ċ\r\na")), (2, 3), "le {le}");
            assert_eq!(index.locate(at("# 上Ċ\r\nab\nc")), (3, 3), "le {le}");
        }
    }
}
