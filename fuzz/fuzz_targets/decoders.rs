//! The decoders on arbitrary bytes: text views (JSON/URL escapes, base64,
//! hex, concatenation, UTF-16, notebooks, source maps), a binary's UTF-16
//! strings, a SQLite database's values, and containers (zip
//! family, CRX, tar, gzip/bzip2/xz/zstd/lz4 files and tarballs, asar, PDF,
//! Office text parts). Nothing may panic; every view maps back into the
//! blob; container output stays within its limits, and `expand` opens
//! exactly what `is_container` (which sources use) says is one.
#![no_main]

use leakhound::decode::{self, Limits};
use libfuzzer_sys::fuzz_target;

/// Paths that switch on the path-selected decoders (notebooks, source maps,
/// zip-family extensions for prefixed archives). Containers are told by
/// content; their usual names are here for the seeds' sake. New paths go
/// at the end: a seed's first byte picks one.
const PATHS: &[&str] = &[
    "blob.txt",
    "analysis.ipynb",
    "app.js.map",
    "bundle.min.js",
    "release.zip",
    "lib.jar",
    "backup.tar.gz",
    "reg.reg",
    "ext.crx",
    "resources/app.asar",
    "doc.pdf",
    "report.docx",
    "image.tar",
    "blobs/sha256/0123abcd",
    "app.ipa",
    "",
];

fuzz_target!(|input: &[u8]| {
    let Some((&selector, data)) = input.split_first() else {
        return;
    };
    let path = PATHS[usize::from(selector & 0x7f) % PATHS.len()];
    // The default limits, or small ones so that every cap is reached with
    // small inputs.
    let limits = if selector & 0x80 == 0 {
        Limits::default()
    } else {
        Limits {
            max_depth: 3,
            max_archive_depth: 2,
            max_total_out: 64 << 10,
            max_ratio: 10,
            max_member_size: 4 << 10,
            max_view_bytes: 512,
        }
    };

    for view in decode::views(data, path, &limits) {
        assert_eq!(view.map.len(), view.bytes.len(), "map and bytes out of step, chain {:?}", view.chain);
        assert!(!view.chain.is_empty() && view.chain.len() <= limits.max_depth as usize, "chain {:?}", view.chain);
        // Every decoded byte maps into the blob; the `\n` a decoder puts
        // after a region maps to the offset right after it, which is the
        // blob's length when the region ends the file.
        for i in 0..view.bytes.len() {
            let o = view.map.to_original(i);
            assert!(
                o < data.len() || (o == data.len() && view.bytes[i] == b'\n'),
                "decoded byte {i} of {:?} maps to {o}, past the {}-byte blob\nview: {:?}\nblob: {:?}",
                view.chain,
                data.len(),
                String::from_utf8_lossy(&view.bytes),
                String::from_utf8_lossy(data)
            );
        }
        let n = view.bytes.len();
        let separator_at_end = n > 0 && view.bytes[n - 1] == b'\n' && view.map.to_original(n - 1) == data.len();
        let r = view.map.range(0, n);
        assert!(
            r.start <= r.end && r.end <= data.len() + usize::from(separator_at_end),
            "range {r:?} of {:?} past the blob",
            view.chain
        );
    }

    // A binary's UTF-16 strings: every character maps to an even-sized
    // step inside the blob.
    let _ = decode::sniff::looks_binary(data);
    let _ = decode::sniff::media_kind(data);
    if let Some(view) = decode::utf16_strings(data, &limits) {
        assert_eq!(view.map.len(), view.bytes.len());
        for i in 0..view.bytes.len() {
            let o = view.map.to_original(i);
            assert!(o < data.len() || (o == data.len() && view.bytes[i] == b'\n'), "utf-16 string byte {i} maps to {o}");
            if view.bytes[i] != b'\n' {
                assert_eq!((data[o], data.get(o + 1)), (view.bytes[i], Some(&0)), "not the character it maps to");
            }
        }
    }

    // A SQLite database's text values: every byte maps inside the blob.
    if let Some(view) = decode::sqlite_text(data, &limits) {
        assert_eq!(view.map.len(), view.bytes.len());
        assert!(view.bytes.len() <= limits.max_view_bytes as usize, "sqlite view past its cap");
        for i in 0..view.bytes.len() {
            let o = view.map.to_original(i);
            assert!(o < data.len(), "sqlite value byte {i} maps to {o}");
        }
    }
    // A zip's prefix is a prefix of the blob, and only of a container.
    let prefix = decode::zip_prefix(data, path);
    assert!(prefix.len() <= data.len() && (prefix.is_empty() || decode::is_container(data, path)));

    let mut notes = Vec::new();
    let mut total = 0u64;
    let opened = decode::expand(data, path, &limits, &mut notes, &mut |member| {
        assert!(member.bytes.len() as u64 <= limits.max_member_size, "member {} not cut", member.path);
        assert!(!member.chain.is_empty());
        // One format per level, and `ooxml` after a zip's text part.
        let levels = member.chain.iter().filter(|&&c| c != "ooxml").count();
        assert!(levels <= limits.max_archive_depth as usize, "chain {:?} too deep", member.chain);
        total += member.bytes.len() as u64;
    });
    assert_eq!(opened, decode::is_container(data, path), "expand and is_container disagree");
    assert!(total <= limits.max_total_out, "{total} bytes out of one archive tree");
    if !opened {
        assert_eq!(total, 0);
    }

    if let Some(members) = decode::members(data, path, &limits, &mut notes) {
        let total: u64 = members.iter().map(|m| m.bytes.len() as u64).sum();
        assert!(total <= limits.max_total_out, "{total} bytes out of one archive");
    }
});
