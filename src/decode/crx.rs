//! Chrome extensions (`.crx`): a header, then a zip.
//!
//! CRX3: `Cr24`, version 3 (u32 LE), the length of a protobuf header (u32
//! LE), the header, the zip. CRX2: `Cr24`, version 2, the length of the
//! public key and of the signature (u32 LE each), both, the zip. The
//! lengths are the extension author's word: one that points past the end
//! of the file (or not at a zip) ends with a note.

/// Whether `bytes` starts with a CRX2 or CRX3 header.
pub(super) fn is_crx(bytes: &[u8]) -> bool {
    bytes.starts_with(b"Cr24") && matches!(bytes.get(4..8), Some([2 | 3, 0, 0, 0]))
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u64> {
    Some(u64::from(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?)))
}

/// Where the zip starts, or why it cannot be found.
pub(super) fn zip_start(bytes: &[u8]) -> Result<usize, String> {
    let version = bytes[4];
    let len = bytes.len();
    let (fixed, lengths) = match version {
        3 => (12, u32_at(bytes, 8).map(|h| (h, 0))),
        _ => (16, u32_at(bytes, 8).zip(u32_at(bytes, 12))),
    };
    let Some((a, b)) = lengths else {
        return Err(format!("CRX{version} header cut short ({len} bytes)"));
    };
    let header = a + b;
    let start = fixed + header;
    if start > len as u64 {
        return Err(format!(
            "CRX{version} header of {header} bytes runs past the end of the file ({len} bytes); not opened"
        ));
    }
    let start = start as usize;
    let rest = &bytes[start..];
    if !(rest.starts_with(b"PK\x03\x04") || rest.starts_with(b"PK\x05\x06")) {
        return Err(format!("CRX{version}: no zip after the {header}-byte header"));
    }
    Ok(start)
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::decode::test_archives::crx3;

    #[test]
    fn crx3_and_crx2_headers() {
        let zip = b"PK\x03\x04rest of a zip";
        let c3 = crx3(zip, 40, 40);
        assert!(is_crx(&c3));
        assert_eq!(zip_start(&c3), Ok(52));
        let mut c2 = b"Cr24".to_vec();
        for v in [2u32, 5, 7] {
            c2.extend(v.to_le_bytes());
        }
        c2.extend([1u8; 12]);
        c2.extend(zip);
        assert!(is_crx(&c2));
        assert_eq!(zip_start(&c2), Ok(28));
        assert!(!is_crx(b"Cr24\x04\x00\x00\x00"));
        assert!(!is_crx(b"Cr24 is a word in this text"));
    }

    #[test]
    fn lying_headers_are_errors() {
        let zip = b"PK\x03\x04rest of a zip";
        let err = zip_start(&crx3(zip, 40, u32::MAX)).unwrap_err();
        assert!(err.contains("runs past the end of the file"), "{err}");
        let err = zip_start(&crx3(zip, 40, 30)).unwrap_err();
        assert!(err.contains("no zip after"), "{err}");
        let mut c2 = b"Cr24".to_vec();
        for v in [2u32, u32::MAX, u32::MAX] {
            c2.extend(v.to_le_bytes());
        }
        assert!(zip_start(&c2).unwrap_err().contains("past the end"));
        assert!(zip_start(b"Cr24\x03\x00\x00\x00\x01").unwrap_err().contains("cut short"));
    }
}
