//! Single-stream compression: gzip, bzip2, xz, zstd and lz4, told apart by
//! their magic bytes (never the file name), each read through a streaming
//! decoder in pure Rust. A compressed tar (`.tar.gz`, `.tar.bz2`,
//! `.tar.xz`, `.tar.zst`, `.tar.lz4`, or a layer blob with no extension at
//! all) is recognised by a tar header in its first 512 decompressed bytes;
//! anything else is one member named after the file without its extension.
//!
//! The decoders only ever produce what the caller reads, and callers read
//! through `take(limit + 1)` and the ratio cap ([`super::archive`]), so a
//! few KB that would inflate to GBs cost a few MB of work. Their memory
//! follows the output, not what a header claims: xz grows its dictionary
//! as data arrives, zstd's window is capped at 128 MiB (ruzstd's default),
//! lz4 blocks are at most 4 MiB and bzip2 blocks 900 KB.

use std::io::{self, Read};

use bzip2::read::MultiBzDecoder;
use flate2::read::MultiGzDecoder;
use ruzstd::decoding::{FrameDecoder, StreamingDecoder};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Codec {
    Gz,
    Bz2,
    Xz,
    Zstd,
    Lz4,
}

/// zstd's frame magic, little-endian `0xFD2FB528`.
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// A zstd skippable frame: magic `0x184D2A5?`, then a u32 length.
fn skippable_zstd(bytes: &[u8]) -> Option<usize> {
    let magic = u32::from_le_bytes(bytes.get(..4)?.try_into().ok()?);
    if magic & 0xffff_fff0 != 0x184d_2a50 {
        return None;
    }
    let len = u32::from_le_bytes(bytes.get(4..8)?.try_into().ok()?);
    Some(8usize.saturating_add(len as usize))
}

impl Codec {
    /// The codec whose magic bytes start `bytes`.
    pub(super) fn sniff(bytes: &[u8]) -> Option<Codec> {
        let head = |magic: &[u8]| bytes.starts_with(magic);
        if head(&[0x1f, 0x8b]) {
            return Some(Codec::Gz);
        }
        // `BZh` and a block size digit, then a block's magic (the digits of
        // pi) or the end of stream (those of sqrt(pi)): an empty stream.
        if bytes.len() >= 10
            && head(b"BZh")
            && (b'1'..=b'9').contains(&bytes[3])
            && (bytes[4..10] == *b"1AY&SY" || bytes[4..10] == [0x17, 0x72, 0x45, 0x38, 0x50, 0x90])
        {
            return Some(Codec::Bz2);
        }
        if head(&[0xfd, b'7', b'z', b'X', b'Z', 0x00]) {
            return Some(Codec::Xz);
        }
        if head(&ZSTD_MAGIC) {
            return Some(Codec::Zstd);
        }
        // LZ4 frame format, and the legacy format `lz4 -l` still writes.
        if head(&[0x04, 0x22, 0x4d, 0x18]) || head(&[0x02, 0x21, 0x4c, 0x18]) {
            return Some(Codec::Lz4);
        }
        None
    }

    /// A reader of the decompressed stream. All the streams of a
    /// multi-stream file (`pigz`, `pbzip2`, `xz -T`, `zstd` of appended
    /// frames) are read one after the other.
    pub(super) fn reader(self, bytes: &[u8]) -> Box<dyn Read + '_> {
        match self {
            Codec::Gz => Box::new(MultiGzDecoder::new(bytes)),
            Codec::Bz2 => Box::new(MultiBzDecoder::new(bytes)),
            Codec::Xz => Box::new(lzma_rust2::XzReader::new(bytes, true)),
            Codec::Zstd => Box::new(ZstdFrames { rest: bytes, frame: None, frames: 0 }),
            Codec::Lz4 => Box::new(Lz4Frames { frame: lz4_flex::frame::FrameDecoder::new(bytes), frames: 0 }),
        }
    }

    /// The name in a member's chain for a single file (`gz`) or a tarball
    /// (`tar.gz`).
    pub(super) fn name(self, tar: bool) -> &'static str {
        match (self, tar) {
            (Codec::Gz, false) => "gz",
            (Codec::Bz2, false) => "bz2",
            (Codec::Xz, false) => "xz",
            (Codec::Zstd, false) => "zst",
            (Codec::Lz4, false) => "lz4",
            (Codec::Gz, true) => "tar.gz",
            (Codec::Bz2, true) => "tar.bz2",
            (Codec::Xz, true) => "tar.xz",
            (Codec::Zstd, true) => "tar.zst",
            (Codec::Lz4, true) => "tar.lz4",
        }
    }

    /// The extensions a file of this codec usually has.
    fn extensions(self) -> &'static [&'static str] {
        match self {
            Codec::Gz => &[".gz", ".gzip", ".z"],
            Codec::Bz2 => &[".bz2", ".bz"],
            Codec::Xz => &[".xz"],
            Codec::Zstd => &[".zst", ".zstd"],
            Codec::Lz4 => &[".lz4"],
        }
    }

    /// The one member of a compressed file at `path`: the file's name
    /// without the extension (`app.log.gz` gives `app.log`), or with a
    /// suffix that says what was done (`blob` gives `blob.unxz`).
    pub(super) fn member_name(self, path: &str) -> String {
        let base = path.rsplit(['/', '!']).next().unwrap_or(path);
        let lower = base.to_ascii_lowercase();
        match self.extensions().iter().find(|x| lower.ends_with(*x)) {
            Some(x) if base.len() > x.len() => base[..base.len() - x.len()].to_string(),
            _ => {
                let verb = match self {
                    Codec::Gz => "gunzip",
                    Codec::Bz2 => "bunzip2",
                    Codec::Xz => "unxz",
                    Codec::Zstd => "unzstd",
                    Codec::Lz4 => "unlz4",
                };
                format!("{base}.{verb}")
            }
        }
    }
}

/// The first `n` decompressed bytes of `bytes` (fewer when the stream is
/// shorter or broken).
pub(super) fn head(codec: Codec, bytes: &[u8], n: u64) -> Vec<u8> {
    let mut head = Vec::new();
    let _ = codec.reader(bytes).take(n).read_to_end(&mut head);
    head
}

/// zstd frames one after the other (ruzstd's streaming decoder reads one),
/// skippable frames skipped. Bytes after the last frame that are not a
/// frame are an error, after what came before was read.
struct ZstdFrames<'a> {
    rest: &'a [u8],
    frame: Option<StreamingDecoder<&'a [u8], FrameDecoder>>,
    frames: usize,
}

/// Frames read from one zstd or lz4 file at most: each costs a decoder
/// set-up, and a file of empty frames would otherwise spin through
/// millions.
const MAX_FRAMES: usize = 10_000;

impl Read for ZstdFrames<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if let Some(frame) = &mut self.frame {
                let n = frame.read(buf)?;
                if n > 0 {
                    return Ok(n);
                }
                self.rest = *frame.get_ref();
                self.frame = None;
            }
            while let Some(skip) = skippable_zstd(self.rest) {
                self.rest = self.rest.get(skip..).unwrap_or_default();
            }
            if self.rest.is_empty() {
                return Ok(0);
            }
            self.frames += 1;
            if self.frames > MAX_FRAMES {
                return Err(io::Error::other(format!("more than {MAX_FRAMES} zstd frames")));
            }
            let frame = StreamingDecoder::new(self.rest).map_err(io::Error::other)?;
            self.frame = Some(frame);
        }
    }
}

/// lz4 frames one after the other (lz4_flex's decoder stops after each).
struct Lz4Frames<'a> {
    frame: lz4_flex::frame::FrameDecoder<&'a [u8]>,
    frames: usize,
}

impl Read for Lz4Frames<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let n = self.frame.read(buf)?;
            if n > 0 || buf.is_empty() || self.frame.get_ref().is_empty() {
                return Ok(n);
            }
            // Each frame takes at least its 7-byte header from the input.
            self.frames += 1;
            if self.frames > MAX_FRAMES {
                return Err(io::Error::other(format!("more than {MAX_FRAMES} lz4 frames")));
            }
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use std::io::Write;

    use super::*;

    pub(crate) fn compress(codec: Codec, data: &[u8]) -> Vec<u8> {
        match codec {
            Codec::Gz => {
                let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
                e.write_all(data).unwrap();
                e.finish().unwrap()
            }
            Codec::Bz2 => {
                let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
                e.write_all(data).unwrap();
                e.finish().unwrap()
            }
            Codec::Xz => {
                let mut w = lzma_rust2::XzWriter::new(Vec::new(), lzma_rust2::XzOptions::with_preset(6)).unwrap();
                w.write_all(data).unwrap();
                w.finish().unwrap()
            }
            Codec::Zstd => ruzstd::encoding::compress_to_vec(data, ruzstd::encoding::CompressionLevel::Fastest),
            Codec::Lz4 => {
                let mut e = lz4_flex::frame::FrameEncoder::new(Vec::new());
                e.write_all(data).unwrap();
                e.finish().unwrap()
            }
        }
    }

    const ALL: [Codec; 5] = [Codec::Gz, Codec::Bz2, Codec::Xz, Codec::Zstd, Codec::Lz4];

    #[test]
    fn every_codec_round_trips_and_is_sniffed() {
        let data = b"OPENAI_API_KEY=sk-proj-not-a-real-one\n".repeat(50); // leakhound:allow (a test fixture)
        for codec in ALL {
            let packed = compress(codec, &data);
            assert_eq!(Codec::sniff(&packed), Some(codec));
            let mut out = Vec::new();
            codec.reader(&packed).read_to_end(&mut out).unwrap();
            assert_eq!(out, data, "{codec:?}");
            // Two streams back to back are read as one.
            let twice = packed.repeat(2);
            let mut out = Vec::new();
            codec.reader(&twice).read_to_end(&mut out).unwrap();
            assert_eq!(out.len(), 2 * data.len(), "{codec:?}");
        }
    }

    #[test]
    fn text_is_not_sniffed() {
        for text in [&b"BZh9 is not bzip2"[..], b"", b"\x28\xb5", b"plain text\n", b"BZh91AY&S"] {
            assert_eq!(Codec::sniff(text), None, "{text:?}");
        }
    }

    #[test]
    fn member_names() {
        assert_eq!(Codec::Xz.member_name("dump.sql.xz"), "dump.sql");
        assert_eq!(Codec::Zstd.member_name("a/b!/x.ZST"), "x");
        assert_eq!(Codec::Bz2.member_name("blobs/sha256/abc"), "abc.bunzip2");
        assert_eq!(Codec::Lz4.member_name(".lz4"), ".lz4.unlz4");
    }

    #[test]
    fn zstd_skippable_frames_and_trailing_junk() {
        let packed = compress(Codec::Zstd, b"hello");
        let mut with_skip = vec![0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 1, 2, 3];
        with_skip.extend(&packed);
        let mut out = Vec::new();
        Codec::Zstd.reader(&with_skip).read_to_end(&mut out).unwrap();
        assert_eq!(out, b"hello");
        let mut junk = packed.clone();
        junk.extend(b"junk");
        let mut out = Vec::new();
        assert!(Codec::Zstd.reader(&junk).read_to_end(&mut out).is_err());
        assert_eq!(out, b"hello");
    }

    #[test]
    fn truncated_streams_error_without_panic() {
        let data: Vec<u8> = (0..20_000u32).flat_map(|i| i.to_le_bytes()).collect();
        for codec in ALL {
            let packed = compress(codec, &data);
            for cut in [1, packed.len() / 3, packed.len() - 1] {
                let mut out = Vec::new();
                let _ = codec.reader(&packed[..cut]).read_to_end(&mut out);
                assert!(out.len() <= data.len());
            }
        }
    }
}
