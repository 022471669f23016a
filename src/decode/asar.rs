//! Electron's `app.asar`: the app's source, shipped inside the installer.
//!
//! Layout (Chromium pickles): u32 LE 4 (the size of the next field), u32
//! LE the header's size `H`, then the header pickle: u32 LE its payload
//! size, u32 LE the JSON's length, the JSON. File data starts at `8 + H`.
//! The JSON is a tree: `{"files": {"main.js": {"offset": "0", "size": 12},
//! "lib": {"files": {...}}}}`; offsets are strings (JavaScript numbers
//! lose precision past 2^53), relative to the start of the data. Entries
//! marked `unpacked` live beside the archive (`app.asar.unpacked/`, which
//! a scan of the tree reads) and symlinks (`link`) have no data here.
//!
//! An offset or size past the end of the file (a truncated download, a
//! hostile header) yields what is there, with one note for the archive.

use serde_json::{Map, Value};

use super::archive::{Each, MAX_ENTRIES, Tree, read_member, take_member};

/// The start of an asar: the size pickle and a JSON header that opens with
/// its `files` tree.
pub(super) fn is_asar(bytes: &[u8]) -> bool {
    bytes.starts_with(&[4, 0, 0, 0]) && bytes.get(16..24) == Some(b"{\"files\"")
}

fn u32_at(bytes: &[u8], at: usize) -> usize {
    bytes.get(at..at + 4).map_or(0, |b| u32::from_le_bytes(b.try_into().unwrap_or_default()) as usize)
}

/// The files of the asar in `bytes`; false when its header is unreadable.
pub(super) fn members(bytes: &[u8], path: &str, tree: &mut Tree<'_>, each: &mut Each<'_>) -> bool {
    let header_size = u32_at(bytes, 4);
    let json_len = u32_at(bytes, 12);
    let Some(json) = bytes.get(16..16usize.saturating_add(json_len)) else {
        tree.note(format!(
            "skipped: {path}: asar header of {json_len} bytes runs past the end of the file ({} bytes)",
            bytes.len()
        ));
        return false;
    };
    let root: Value = match serde_json::from_slice(json) {
        Ok(v) => v,
        Err(e) => {
            tree.note(format!("skipped: {path}: unreadable asar header: {e}"));
            return false;
        }
    };
    let data = bytes.get(8usize.saturating_add(header_size)..).unwrap_or_default();
    let mut files = Vec::new();
    if let Some(top) = root.get("files").and_then(Value::as_object) {
        list(top, String::new(), &mut files);
    }
    let (mut count, mut short) = (0, 0);
    for (name, offset, size) in files {
        if tree.stopped() || !tree.count_entry(path, &mut count) {
            break;
        }
        let start = usize::try_from(offset).unwrap_or(usize::MAX).min(data.len());
        let end = usize::try_from(offset.saturating_add(size)).unwrap_or(usize::MAX).min(data.len());
        if (end - start) as u64 != size {
            short += 1;
            if start == end {
                continue;
            }
        }
        let result = read_member(&mut &data[start..end], u64::MAX, tree);
        if !take_member(result, path, name, "asar", tree, each) {
            break;
        }
    }
    if short > 0 {
        tree.note(format!(
            "truncated: {path}: {short} asar entries point past the end of the file data ({} bytes); read what is there",
            data.len()
        ));
    }
    true
}

/// The files under `dir` as (path, offset, size), depth first, in the
/// header's order. The JSON parser's recursion limit bounds the depth;
/// [`MAX_ENTRIES`] bounds the count.
fn list(dir: &Map<String, Value>, prefix: String, out: &mut Vec<(String, u64, u64)>) {
    let mut stack = vec![(dir, prefix)];
    while let Some((dir, prefix)) = stack.pop() {
        for (name, entry) in dir {
            if out.len() > MAX_ENTRIES {
                return;
            }
            let full = if prefix.is_empty() { name.clone() } else { format!("{prefix}/{name}") };
            if let Some(sub) = entry.get("files").and_then(Value::as_object) {
                stack.push((sub, full));
                continue;
            }
            if entry.get("unpacked").and_then(Value::as_bool) == Some(true) || entry.get("link").is_some() {
                continue;
            }
            let offset = match entry.get("offset") {
                Some(Value::String(s)) => s.parse::<u64>().ok(),
                Some(v) => v.as_u64(),
                None => None,
            };
            if let (Some(offset), Some(size)) = (offset, entry.get("size").and_then(Value::as_u64)) {
                out.push((full, offset, size));
            }
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::decode::test_archives::asar_of;
    use crate::decode::{Limits, expand};

    fn open(bytes: &[u8]) -> (Vec<(String, Vec<u8>)>, Vec<String>) {
        let mut notes = Vec::new();
        let mut out = Vec::new();
        let opened = expand(bytes, "app.asar", &Limits::default(), &mut notes, &mut |m| {
            assert_eq!(m.chain, ["asar"]);
            out.push((m.path, m.bytes));
        });
        assert!(opened);
        (out, notes)
    }

    #[test]
    fn files_and_directories() {
        let bytes = asar_of(&[("package.json", b"{}"), ("dist/main.js", b"const k = 1;\n"), ("dist/a/b.txt", b"b")]);
        assert!(is_asar(&bytes));
        let (mut files, notes) = open(&bytes);
        files.sort();
        assert!(notes.is_empty(), "{notes:?}");
        let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["dist/a/b.txt", "dist/main.js", "package.json"]);
        assert_eq!(files[1].1, b"const k = 1;\n");
    }

    #[test]
    fn unpacked_and_links_are_skipped() {
        let header =
            br#"{"files":{"a.js":{"size":4,"offset":"0"},"n.node":{"size":9,"unpacked":true},"l":{"link":"a.js"}}}"#;
        let mut fresh = Vec::new();
        fresh.extend(4u32.to_le_bytes());
        let padded = header.len().div_ceil(4) * 4;
        fresh.extend(((padded + 8) as u32).to_le_bytes());
        fresh.extend(((padded + 4) as u32).to_le_bytes());
        fresh.extend((header.len() as u32).to_le_bytes());
        fresh.extend(header);
        fresh.resize(16 + padded, 0);
        fresh.extend(b"aaaa");
        let (files, notes) = open(&fresh);
        assert_eq!(files, [("a.js".to_string(), b"aaaa".to_vec())]);
        assert!(notes.is_empty(), "{notes:?}");
    }

    #[test]
    fn truncated_asar_keeps_what_is_there() {
        let bytes = asar_of(&[("a.txt", b"first file\n"), ("b.txt", b"second file\n")]);
        let cut = &bytes[..bytes.len() - 5];
        let (files, notes) = open(cut);
        assert_eq!(files[0], ("a.txt".to_string(), b"first file\n".to_vec()));
        assert_eq!(files[1], ("b.txt".to_string(), b"second ".to_vec()));
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(notes[0].starts_with("truncated: app.asar: 1 asar entries point past the end"), "{notes:?}");
        // Cut inside the header: a note, nothing read, no panic.
        let (files, notes) = open(&bytes[..30]);
        assert!(files.is_empty());
        assert!(notes[0].contains("asar header of"), "{notes:?}");
        for cut in 0..bytes.len() {
            let mut notes = Vec::new();
            expand(&bytes[..cut], "app.asar", &Limits::default(), &mut notes, &mut |_| {});
        }
    }

    #[test]
    fn hostile_offsets_and_sizes() {
        let header = br#"{"files":{"a":{"size":18446744073709551615,"offset":"18446744073709551615"},"b":{"size":3,"offset":"-1"},"c":{"size":100000000,"offset":"0"}}}"#;
        let mut bytes = Vec::new();
        bytes.extend(4u32.to_le_bytes());
        bytes.extend(((header.len() + 8) as u32).to_le_bytes());
        bytes.extend(((header.len() + 4) as u32).to_le_bytes());
        bytes.extend((header.len() as u32).to_le_bytes());
        bytes.extend(header);
        bytes.extend(b"xyz");
        let (files, notes) = open(&bytes);
        assert_eq!(files, [("c".to_string(), b"xyz".to_vec())]);
        assert!(notes[0].contains("2 asar entries point past the end"), "{notes:?}");
    }
}
