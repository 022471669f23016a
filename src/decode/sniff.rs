//! What a blob is, from its first bytes: text, a binary worth reading for
//! strings, or media whose bytes are compressed pixels or sound.

/// Bytes inspected for NUL to call a blob binary (as git and ripgrep do).
pub const BINARY_SNIFF_LEN: usize = 8 * 1024;

/// Git's heuristic: a NUL byte in the first 8 KiB means binary. UTF-16
/// text also has NULs but is text (the UTF-16 decoder reads it).
pub fn looks_binary(bytes: &[u8]) -> bool {
    nul_in_head(bytes).1
}

/// Whether the first 8 KiB hold a NUL byte, and whether `bytes` looks
/// binary ([`looks_binary`]), from one pass.
pub fn nul_in_head(bytes: &[u8]) -> (bool, bool) {
    let head = &bytes[..bytes.len().min(BINARY_SNIFF_LEN)];
    let nul = memchr::memchr(0, head).is_some();
    (nul, nul && !looks_utf16(head))
}

/// UTF-16 text: a byte-order mark, or NULs in (almost) every other byte of
/// one parity and (almost) none of the other, as ASCII text in UTF-16 has.
fn looks_utf16(head: &[u8]) -> bool {
    if head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]) {
        return true;
    }
    let pairs = head.len() / 2;
    if pairs < 8 {
        return false;
    }
    let even = head.iter().step_by(2).filter(|&&b| b == 0).count();
    let odd = head.iter().skip(1).step_by(2).filter(|&&b| b == 0).count();
    let (many, few) = (pairs * 7 / 10, pairs / 20);
    (even >= many && odd <= few) || (odd >= many && even <= few)
}

/// Images, fonts, audio and video, by their signatures: their bytes are
/// compressed samples, where no key is stored as text. Returns what the
/// blob is, for the skip's detail.
pub fn media_kind(bytes: &[u8]) -> Option<&'static str> {
    let at = |offset: usize, magic: &[u8]| bytes.get(offset..offset + magic.len()) == Some(magic);
    let kind = if at(0, b"\x89PNG\r\n\x1a\n") {
        "PNG image"
    } else if at(0, b"\xff\xd8\xff") {
        "JPEG image"
    } else if at(0, b"GIF87a") || at(0, b"GIF89a") {
        "GIF image"
    } else if at(0, b"RIFF") && at(8, b"WEBP") {
        "WebP image"
    } else if at(0, b"RIFF") && (at(8, b"WAVE") || at(8, b"AVI ")) {
        "RIFF audio or video"
    } else if at(4, b"ftyp") {
        "MP4/MOV/HEIF media"
    } else if at(0, b"\x00\x00\x01\x00") && bytes.len() > 22 && bytes[4] > 0 && bytes[5] == 0 {
        "icon"
    } else if at(0, b"II*\x00") || at(0, b"MM\x00*") {
        "TIFF image"
    } else if at(0, b"wOFF") || at(0, b"wOF2") || at(0, b"OTTO") || at(0, b"\x00\x01\x00\x00\x00") {
        "font"
    } else if at(0, b"ID3") || at(0, b"OggS") || at(0, b"fLaC") || at(0, b"\x1a\x45\xdf\xa3") {
        "audio or video"
    } else {
        return None;
    };
    Some(kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_binary_and_media() {
        assert!(!looks_binary(b"OPENAI_API_KEY=sk-proj-abc\n"));
        assert!(looks_binary(b"\x7fELF\x02\x01\x01\x00\x00\x00"));
        assert!(!looks_binary(
            &"api_key = 1\nname = value\n".encode_utf16().flat_map(u16::to_le_bytes).collect::<Vec<u8>>()
        ));
        assert_eq!(media_kind(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), Some("PNG image"));
        assert_eq!(media_kind(b"\x00\x00\x00\x20ftypisom"), Some("MP4/MOV/HEIF media"));
        assert_eq!(media_kind(b"\x7fELF\x02\x01\x01\x00"), None);
        assert_eq!(media_kind(b"SQLite format 3\x00"), None);
    }
}
