//! SQLite databases (chain `sqlite`): the text values of their tables, one
//! per line.
//!
//! A record stores its column values end to end, with their lengths in a
//! header before them, so in the raw bytes a key stored after a value that
//! ends in a letter (`replicate`, then `r8_...`) is glued to it, and a key
//! in a UTF-16 database is glued to its neighbours too. This module reads
//! the table b-tree leaf pages (the cells each page lists, each cell's
//! record header, each text value's length) and writes every text value
//! (UTF-16 decoded when the database is) on its own line, mapped back to its
//! bytes. Only what is on a leaf page is read (the start of a value that
//! overflows to other pages); index pages hold copies and are skipped.
//! Every length comes from the file, so each is checked against the page
//! it claims to be in, and the record headers read in all add up to a few
//! times the file's size at most (cells of a hostile page may overlap): a
//! damaged database yields what is readable, in linear time.

use super::map::ViewBuf;
use super::{Limits, View, cap};

const MAGIC: &[u8] = b"SQLite format 3\0";

/// The b-tree page type of a table's leaf (rows live there).
const TABLE_LEAF: u8 = 13;

/// Whether `bytes` is a SQLite database.
fn is_sqlite(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC) && bytes.len() >= 100
}

/// The text values of the database in `bytes`, or nothing when it is not
/// one or holds no text.
pub fn sqlite_text(bytes: &[u8], limits: &Limits) -> Option<View> {
    if !is_sqlite(bytes) || bytes.len() >= u32::MAX as usize {
        return None;
    }
    let page_size = match u16::from_be_bytes([bytes[16], bytes[17]]) {
        1 => 65_536,
        n if n >= 512 && n.is_power_of_two() => usize::from(n),
        _ => return None,
    };
    // 1: UTF-8, 2: UTF-16LE, 3: UTF-16BE.
    let encoding = bytes[59];
    let budget = cap(limits);
    let mut buf = ViewBuf::default();
    // Serial types read, all records together (legitimate cells do not
    // overlap, so they read each header byte once).
    let mut steps = 4 * bytes.len();
    for (index, page) in bytes.chunks(page_size).enumerate() {
        let header = if index == 0 { 100 } else { 0 };
        if page.get(header) != Some(&TABLE_LEAF) {
            continue;
        }
        let base = index * page_size;
        let cells = page.get(header + 3..header + 5).map_or(0, |c| usize::from(u16::from_be_bytes([c[0], c[1]])));
        for i in 0..cells {
            let at = header + 8 + 2 * i;
            let Some(pointer) = page.get(at..at + 2) else { break };
            let cell = usize::from(u16::from_be_bytes([pointer[0], pointer[1]]));
            if cell < page.len() && record(page, cell, base, encoding, &mut buf, &mut steps).is_none() && steps == 0 {
                return finish(buf);
            }
            if buf.len() >= budget {
                buf.truncate(budget);
                return finish(buf);
            }
        }
    }
    finish(buf)
}

fn finish(buf: ViewBuf) -> Option<View> {
    (buf.len() > 0).then(|| {
        let (bytes, map) = buf.finish();
        View { bytes, chain: vec!["sqlite"], map, note: None }
    })
}

/// A varint at `at` in `bytes` (big-endian groups of 7 bits, at most 9
/// bytes) and where it ends.
fn varint(bytes: &[u8], mut at: usize) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for n in 0..9 {
        let b = *bytes.get(at)?;
        at += 1;
        if n == 8 {
            return Some(((value << 8) | u64::from(b), at));
        }
        value = (value << 7) | u64::from(b & 0x7f);
        if b < 0x80 {
            return Some((value, at));
        }
    }
    None
}

/// Bytes a value of serial type `t` takes in a record's body, and whether
/// it is text.
fn body_size(t: u64) -> (u64, bool) {
    match t {
        0 | 8 | 9 | 10 | 11 => (0, false),
        1..=4 => (t, false),
        5 => (6, false),
        6 | 7 => (8, false),
        _ => ((t - 12) / 2, t % 2 == 1),
    }
}

/// The text values of the table leaf cell at `cell` of `page` (whose first
/// byte is at `base` in the file).
fn record(page: &[u8], cell: usize, base: usize, encoding: u8, buf: &mut ViewBuf, steps: &mut usize) -> Option<()> {
    let (_payload, at) = varint(page, cell)?;
    let (_rowid, start) = varint(page, at)?;
    let (header_len, mut at) = varint(page, start)?;
    let header_end = start.checked_add(usize::try_from(header_len).ok()?)?;
    let mut body = header_end;
    while at < header_end.min(page.len()) {
        *steps = steps.checked_sub(1)?;
        let (serial, next) = varint(page, at)?;
        at = next;
        let (size, text) = body_size(serial);
        let end = body.saturating_add(usize::try_from(size).ok()?);
        if text && size > 0 && body < page.len() {
            value(&page[body..end.min(page.len())], base + body, encoding, buf);
        }
        body = end;
        if body >= page.len() {
            break;
        }
    }
    Some(())
}

/// Adds one text value (at `src` in the file) and a newline.
fn value(text: &[u8], src: usize, encoding: u8, buf: &mut ViewBuf) {
    match encoding {
        2 | 3 => {
            // UTF-16: ASCII characters as themselves, anything else as `?`.
            let le = encoding == 2;
            for (k, unit) in text.chunks_exact(2).enumerate() {
                let (lo, hi) = if le { (unit[0], unit[1]) } else { (unit[1], unit[0]) };
                let c = if hi == 0 && lo.is_ascii() { lo } else { b'?' };
                buf.ratio(&[c], src + 2 * k, 1, 2);
            }
        }
        _ => buf.copy(text, src),
    }
    buf.point(b"\n", src + text.len().saturating_sub(1));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A one-page database (512-byte pages) whose table leaf holds `rows`,
    /// each a record of text values.
    fn database(rows: &[&[&str]], encoding: u8) -> Vec<u8> {
        let mut db = vec![0u8; 512];
        db[..16].copy_from_slice(MAGIC);
        db[16..18].copy_from_slice(&512u16.to_be_bytes());
        db[59] = encoding;
        db[100] = TABLE_LEAF;
        db[103..105].copy_from_slice(&(rows.len() as u16).to_be_bytes());
        let mut end = 512;
        for (i, row) in rows.iter().enumerate() {
            let values: Vec<Vec<u8>> = row
                .iter()
                .map(|v| match encoding {
                    2 => v.encode_utf16().flat_map(u16::to_le_bytes).collect(),
                    _ => v.as_bytes().to_vec(),
                })
                .collect();
            let serials: Vec<u8> = values.iter().map(|v| (v.len() * 2 + 13) as u8).collect();
            let mut record = vec![(serials.len() + 1) as u8];
            record.extend(&serials);
            values.iter().for_each(|v| record.extend(v));
            let mut cell = vec![record.len() as u8, i as u8 + 1];
            cell.extend(record);
            end -= cell.len();
            db[end..end + cell.len()].copy_from_slice(&cell);
            db[108 + 2 * i..110 + 2 * i].copy_from_slice(&(end as u16).to_be_bytes());
        }
        db
    }

    #[test]
    fn each_text_value_on_its_own_line() {
        let db = database(&[&["replicate", "r8_Qx7Lm2Vb9Tn4Rk8Wd3"], &["name", "ok"]], 1);
        let view = sqlite_text(&db, &Limits::default()).unwrap();
        let text = String::from_utf8(view.bytes.clone()).unwrap();
        // Cells are listed in the order of the pointer array.
        assert_eq!(text, "replicate\nr8_Qx7Lm2Vb9Tn4Rk8Wd3\nname\nok\n");
        let at = text.find("r8_").unwrap();
        let raw = db.windows(3).position(|w| w == b"r8_").unwrap();
        assert_eq!(view.map.to_original(at), raw);
    }

    #[test]
    fn utf16_values_are_decoded() {
        let db = database(&[&["anthropic", "sk-ant-api03-Qx7Lm2"]], 2);
        let view = sqlite_text(&db, &Limits::default()).unwrap();
        assert_eq!(view.bytes, b"anthropic\nsk-ant-api03-Qx7Lm2\n");
        let raw = db.windows(4).position(|w| w == b"s\0k\0").unwrap();
        assert_eq!(view.map.to_original(10), raw);
        assert_eq!(view.map.to_original(12), raw + 4);
    }

    #[test]
    fn overlapping_cells_stay_linear() {
        // A 64 KiB page whose 32,000 cell pointers all point at one record
        // header of 60,000 serial types.
        let mut db = vec![0u8; 65_536];
        db[..16].copy_from_slice(MAGIC);
        db[16..18].copy_from_slice(&1u16.to_be_bytes());
        db[100] = TABLE_LEAF;
        db[103..105].copy_from_slice(&32_000u16.to_be_bytes());
        for i in 0..32_000 {
            db[108 + 2 * i..110 + 2 * i].copy_from_slice(&64_000u16.to_be_bytes());
        }
        db[64_000..64_005].copy_from_slice(&[0x05, 0x01, 0x83, 0xff, 0x7f]);
        let t = std::time::Instant::now();
        let _ = sqlite_text(&db, &Limits::default());
        assert!(t.elapsed().as_secs() < 5, "{:?}", t.elapsed());
    }

    #[test]
    fn damaged_databases_yield_what_is_readable() {
        let db = database(&[&["replicate", "r8_Qx7Lm2Vb9Tn4Rk8Wd3"]], 1);
        assert!(sqlite_text(b"SQLite format 3\0short", &Limits::default()).is_none());
        assert!(sqlite_text(b"not a database at all", &Limits::default()).is_none());
        for cut in 0..db.len() {
            let _ = sqlite_text(&db[..cut], &Limits::default());
        }
        let mut state = 0x9e37_79b9u32;
        for _ in 0..2_000 {
            let mut bad = db.clone();
            for _ in 0..4 {
                state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                let at = 100 + (state as usize >> 8) % 412;
                bad[at] = (state >> 24) as u8;
            }
            let _ = sqlite_text(&bad, &Limits::default());
        }
    }
}
