//! PDF: the streams of a document and the objects around them.
//!
//! A PDF's text, metadata, form values, annotations and attachments sit in
//! `stream ... endstream` objects, mostly deflated (`/FlateDecode`), and a
//! link's URI or the document information in the objects between them.
//! Each stream is a member named after its object (`doc.pdf!/stream-12`;
//! a second stream with the same number, from an incremental update, is
//! `stream-12-2`), inflated when its filter is `FlateDecode` and raw
//! otherwise; images (`/Subtype /Image`, or a JPEG, JPEG 2000, JBIG2 or fax
//! filter), font programs and cross-reference streams are left out. Everything outside the streams (but the `%PDF-`
//! line) is one more member, `doc.pdf!/objects`. Chains are `["pdf"]`.
//!
//! This is not text extraction: a content stream's text is drawn by
//! operators (`(sk-proj-abc) Tj`), and text in a font's own encoding stays
//! as it is. One thing is joined: typesetters draw a line in pieces kerned
//! apart (`[(sk-proj-) -20 (abc)] TJ`), and each such array becomes one
//! string (`(sk-proj-abc) TJ`; a word space where a gap is one), so a key
//! drawn in pieces is one match; lines and columns are those of the
//! stream so rewritten.
//! Streams are found by their keywords, not by `/Length` (which may lie)
//! or the cross-reference table, so a damaged file still yields its
//! streams; each inflates under the ratio cap like a zip member.

use std::collections::HashMap;

use flate2::read::ZlibDecoder;
use memchr::memmem;

use super::archive::{Each, Read1, Tree, ratio_cap, read_member, take_member};

pub(super) fn is_pdf(bytes: &[u8]) -> bool {
    bytes.starts_with(b"%PDF-")
}

/// Dictionary entries of streams that hold no text: image filters, font
/// programs (`/Length1` of TrueType and Type 1 fonts, CFF and OpenType
/// subtypes) and cross-reference streams.
const BINARY_STREAMS: [&[u8]; 9] = [
    b"/DCTDecode",
    b"/JPXDecode",
    b"/JBIG2Decode",
    b"/CCITTFaxDecode",
    b"/Length1",
    b"/Type1C",
    b"/CIDFontType0C",
    b"/OpenType",
    b"/XRef",
];

/// The streams of the PDF in `bytes`, then the text around them.
pub(super) fn members(bytes: &[u8], path: &str, tree: &mut Tree<'_>, each: &mut Each<'_>) -> bool {
    let keyword = memmem::Finder::new(b"stream");
    let end_keyword = memmem::Finder::new(b"endstream");
    let mut objects = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    // The `objects` member leaves out the `%PDF-` line, or it would be
    // opened as a PDF again.
    let first_line = memchr::memchr(b'\n', bytes).map_or(bytes.len(), |nl| nl + 1);
    let (mut pos, mut search, mut count) = (first_line, first_line, 0);
    while let Some(rel) = keyword.find(&bytes[search..]) {
        let at = search + rel;
        search = at + 6;
        // The keyword follows a dictionary and is followed by an end of
        // line; anything else (`endstream`, a word in a string) is text.
        let start = match &bytes[at + 6..] {
            [b'\r', b'\n', ..] => at + 8,
            [b'\n' | b'\r', ..] => at + 7,
            _ => continue,
        };
        if !bytes[pos..at].trim_ascii_end().ends_with(b">>") {
            continue;
        }
        if tree.stopped() || !tree.count_entry(path, &mut count) {
            break;
        }
        let end = end_keyword.find(&bytes[start..]).map_or(bytes.len(), |e| start + e);
        let data = strip_eol(&bytes[start..end]);
        let (number, dict) = object_before(&bytes[pos..at]);
        objects.extend_from_slice(&bytes[pos..start]);
        pos = end;
        search = end;
        let binary = is_image(dict) || BINARY_STREAMS.iter().any(|f| contains(dict, f));
        if binary || data.is_empty() {
            continue;
        }
        let base = match number {
            Some(n) => format!("stream-{n}"),
            None => format!("stream-at-{at}"),
        };
        let seen = seen.entry(base.clone()).or_default();
        *seen += 1;
        let name = if *seen == 1 { base } else { format!("{base}-{seen}") };
        let result = if contains(dict, b"/FlateDecode") {
            let cap = ratio_cap(data.len() as u64, tree.limits);
            read_member(&mut ZlibDecoder::new(data), cap, tree)
        } else {
            read_member(&mut &data[..], u64::MAX, tree)
        };
        let result = match result {
            Read1::Kept { bytes, cut } => Read1::Kept { bytes: join_kerned(bytes), cut },
            other => other,
        };
        if !take_member(result, path, name, "pdf", tree, each) {
            return true;
        }
    }
    objects.extend_from_slice(&bytes[pos..]);
    if !tree.stopped() {
        let result = read_member(&mut &objects[..], u64::MAX, tree);
        take_member(result, path, "objects".to_string(), "pdf", tree, each);
    }
    true
}

/// A kerning value (thousandths of an em) at or past which a gap in a `TJ`
/// array is a word space rather than kerning.
const WORD_SPACE: f64 = -200.0;

/// `stream` with each `[...] TJ` array's strings joined into one literal
/// string (kerning dropped, a space for a word-sized gap); anything else is
/// kept as it is.
fn join_kerned(stream: Vec<u8>) -> Vec<u8> {
    if !contains(&stream, b"TJ") {
        return stream;
    }
    let mut out = Vec::with_capacity(stream.len());
    let mut copied = 0;
    let mut from = 0;
    while let Some(rel) = memchr::memchr(b'[', &stream[from..]) {
        let open = from + rel;
        match kerned_text(&stream, open + 1) {
            Ok((text, end)) => {
                out.extend_from_slice(&stream[copied..open]);
                out.push(b'(');
                out.extend(text);
                out.push(b')');
                (copied, from) = (end, end);
            }
            // Not a `TJ` array: go on after what was read of it (so the
            // scan stays linear; no array starts inside it).
            Err(stop) => from = stop.max(open + 1),
        }
    }
    out.extend_from_slice(&stream[copied..]);
    out
}

/// The text of the array whose items start at `at`, and where its `TJ`
/// operator ends; or where reading stopped, when it is not a `TJ` array of
/// strings and numbers.
fn kerned_text(s: &[u8], mut at: usize) -> Result<(Vec<u8>, usize), usize> {
    let mut text = Vec::new();
    loop {
        while s.get(at).is_some_and(u8::is_ascii_whitespace) {
            at += 1;
        }
        match s.get(at) {
            Some(b'(') => at = literal(s, at + 1, &mut text).ok_or(s.len())?,
            Some(b'<') => {
                let end = memchr::memchr(b'>', &s[at..]).map(|e| at + e).ok_or(s.len())?;
                let hex: Vec<u8> = s[at + 1..end].iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
                // Bytes of a simple font are characters; a composite font's
                // glyph ids are not text, and are left out.
                let decoded: Option<Vec<u8>> =
                    hex.chunks(2).map(|p| u8::from_str_radix(std::str::from_utf8(p).ok()?, 16).ok()).collect();
                text.extend(decoded.filter(|d| d.iter().all(|b| (0x20..0x7f).contains(b))).unwrap_or_default());
                at = end + 1;
            }
            Some(b'-' | b'+' | b'.' | b'0'..=b'9') => {
                let len = s[at..].iter().take_while(|b| matches!(b, b'-' | b'+' | b'.' | b'0'..=b'9')).count();
                let gap: f64 = std::str::from_utf8(&s[at..at + len]).ok().and_then(|n| n.parse().ok()).ok_or(at)?;
                if gap <= WORD_SPACE && !text.ends_with(b" ") {
                    text.push(b' ');
                }
                at += len;
            }
            Some(b']') => {
                let after = at + 1 + s[at + 1..].iter().take_while(|b| b.is_ascii_whitespace()).count();
                return match s.get(after..after + 2) {
                    Some(b"TJ") => Ok((text, after + 2)),
                    _ => Err(after),
                };
            }
            _ => return Err(at),
        }
    }
}

/// Reads a literal string's bytes (escapes decoded, balanced parentheses
/// kept) from `at`, just after its `(`, into `text`; returns the offset
/// after its `)`, or `None` when it is not closed.
fn literal(s: &[u8], mut at: usize, text: &mut Vec<u8>) -> Option<usize> {
    let mut depth = 0usize;
    while let Some(&b) = s.get(at) {
        at += 1;
        match b {
            b'\\' => {
                let Some(&e) = s.get(at) else { break };
                at += 1;
                match e {
                    b'n' => text.push(b'\n'),
                    b'r' => text.push(b'\r'),
                    b't' => text.push(b'\t'),
                    b'0'..=b'7' => {
                        let digits = 1 + s[at..].iter().take(2).take_while(|d| matches!(d, b'0'..=b'7')).count();
                        let octal = std::str::from_utf8(&s[at - 1..at - 1 + digits]).ok()?;
                        text.push(u8::from_str_radix(octal, 8).unwrap_or(0));
                        at += digits - 1;
                    }
                    b'\r' | b'\n' => {}
                    other => text.push(other),
                }
            }
            b'(' => {
                depth += 1;
                text.push(b);
            }
            b')' if depth == 0 => return Some(at),
            b')' => {
                depth -= 1;
                text.push(b);
            }
            _ => text.push(b),
        }
    }
    None
}

/// Whether a stream dictionary says `/Subtype /Image` (not a `/ImageB` in
/// a form's resources).
fn is_image(dict: &[u8]) -> bool {
    memmem::find_iter(dict, b"/Subtype").any(|at| {
        let value = dict[at + 8..].trim_ascii_start();
        value.starts_with(b"/Image") && !value.get(6).is_some_and(u8::is_ascii_alphanumeric)
    })
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    memmem::find(haystack, needle).is_some()
}

/// A stream's data without the end of line before `endstream`.
fn strip_eol(data: &[u8]) -> &[u8] {
    let data = data.strip_suffix(b"\n").unwrap_or(data);
    data.strip_suffix(b"\r").unwrap_or(data)
}

/// The object number and dictionary of the stream whose keyword ends
/// `before` (the text since the previous stream): the last `N G obj`.
fn object_before(before: &[u8]) -> (Option<u64>, &[u8]) {
    let mut end = before.len();
    while let Some(at) = memmem::rfind(&before[..end], b"obj") {
        end = at;
        let head = before[..at].trim_ascii_end();
        let (head, generation) = trailing_number(head);
        let (_, number) = trailing_number(head.trim_ascii_end());
        if let (Some(_), Some(n)) = (generation, number) {
            return (Some(n), &before[at + 3..]);
        }
    }
    (None, before)
}

/// `text` without its trailing digits, and their value.
fn trailing_number(text: &[u8]) -> (&[u8], Option<u64>) {
    let digits = text.iter().rev().take_while(|b| b.is_ascii_digit()).count();
    let (head, tail) = text.split_at(text.len() - digits);
    (head, std::str::from_utf8(tail).ok().and_then(|s| s.parse().ok()))
}

#[cfg(test)]
pub(super) mod tests {
    use std::io::Write;

    use super::*;
    use crate::decode::test_archives::pdf_of;
    use crate::decode::{Limits, expand};

    fn deflate(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn open(bytes: &[u8], limits: &Limits) -> (Vec<(String, Vec<u8>)>, Vec<String>) {
        let mut notes = Vec::new();
        let mut out = Vec::new();
        assert!(expand(bytes, "doc.pdf", limits, &mut notes, &mut |m| {
            assert_eq!(m.chain, ["pdf"]);
            out.push((m.path, m.bytes));
        }));
        (out, notes)
    }

    #[test]
    fn streams_inflated_raw_and_images_skipped() {
        let text = b"BT /F1 12 Tf (OPENAI_API_KEY=sk-proj-abc) Tj ET";
        let packed = deflate(text);
        let bytes = pdf_of(&[
            ("<< /Type /Catalog /Pages 2 0 R >>", None),
            (&format!("<< /Length {} /Filter /FlateDecode >>", packed.len()), Some(&packed)),
            ("<< /Length 9 >>", Some(b"raw stuff")),
            ("<< /Subtype /Image /Filter /FlateDecode /Length 3 >>", Some(&deflate(b"pixels"))),
            ("<< /Filter /DCTDecode /Length 4 >>", Some(b"\xff\xd8\xff\xe0")),
            ("<< /Length1 4 /Filter /FlateDecode >>", Some(&deflate(b"\x00\x01\x00\x00glyf"))),
            ("<< /Type /XRef /W [1 2 1] >>", Some(b"\x01\x00\x0f\x00")),
            ("<< /URI (https://example.com/?token=abc) >>", None),
        ]);
        assert!(is_pdf(&bytes));
        let (members, notes) = open(&bytes, &Limits::default());
        assert!(notes.is_empty(), "{notes:?}");
        let names: Vec<&str> = members.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["stream-2", "stream-3", "objects"]);
        assert!(members.iter().all(|(_, b)| !b.contains(&0)), "{members:?}");
        assert_eq!(members[0].1, text);
        assert_eq!(members[1].1, b"raw stuff");
        let objects = String::from_utf8_lossy(&members[2].1);
        assert!(objects.contains("/Type /Catalog") && objects.contains("token=abc"), "{objects}");
        assert!(!objects.contains("OPENAI") && !objects.contains("raw stuff"), "{objects}");
    }

    #[test]
    fn repeated_numbers_and_missing_endstream() {
        let mut bytes = pdf_of(&[("<< >>", Some(b"one"))]);
        bytes.extend(b"1 0 obj\n<< /Length 3 >>\nstream\nnew\nendstream\nendobj\n2 0 obj <<>> stream\ncut off");
        let (members, _) = open(&bytes, &Limits::default());
        let got: Vec<(&str, &[u8])> = members.iter().map(|(n, b)| (n.as_str(), b.as_slice())).collect();
        assert_eq!(got[..3], [("stream-1", &b"one"[..]), ("stream-1-2", b"new"), ("stream-2", b"cut off")]);
    }

    #[test]
    fn flate_bomb_and_broken_flate() {
        let bomb = deflate(&vec![0u8; 8 << 20]);
        let broken = deflate(b"a key before the damage: sk-proj-abc\n".repeat(20).as_slice());
        let broken = &broken[..broken.len() / 2];
        let bytes =
            pdf_of(&[("<< /Filter /FlateDecode >>", Some(&bomb)), ("<< /Filter /FlateDecode >>", Some(broken))]);
        let t = std::time::Instant::now();
        let (members, notes) = open(&bytes, &Limits::default());
        assert!(t.elapsed().as_secs() < 20);
        assert!(notes[0].starts_with("skipped: doc.pdf!/stream-1: exceeds"), "{notes:?}");
        assert!(notes[1].starts_with("truncated: doc.pdf!/stream-2: unreadable after"), "{notes:?}");
        assert_eq!(members[0].0, "stream-2");
        assert!(members[0].1.starts_with(b"a key before the damage"));
    }

    #[test]
    fn kerned_text_arrays_are_joined() {
        let stream = b"BT /F1 9 Tf [(sk-proj-) -20 (Qx7L) 15.5 (m2\\)x)] TJ ET\n\
            [(Deploy) -333 (notes:) -250 <41424344> 12 <0102>]TJ\n\
            [1 0 0 1 72 700] cm [(no) 5 (operator)] Tf [(a\\050b\\\\c)]TJ [(cut";
        let joined = join_kerned(stream.to_vec());
        assert_eq!(
            String::from_utf8_lossy(&joined),
            "BT /F1 9 Tf (sk-proj-Qx7Lm2)x) ET\n(Deploy notes: ABCD)\n\
             [1 0 0 1 72 700] cm [(no) 5 (operator)] Tf (a(b\\c) [(cut"
        );
        assert_eq!(join_kerned(b"no arrays (TJ)".to_vec()), b"no arrays (TJ)");
        // Unclosed strings and arrays in a row stay linear.
        let hostile = b"[(".repeat(100_000);
        let t = std::time::Instant::now();
        assert_eq!(join_kerned([&hostile[..], b"TJ"].concat()).len(), hostile.len() + 2);
        assert!(t.elapsed().as_secs() < 5);
    }

    #[test]
    fn image_subtype() {
        assert!(is_image(b"<< /Subtype /Image /Width 2 >>"));
        assert!(is_image(b"<</Subtype/Image>>"));
        assert!(!is_image(b"<< /Subtype /Form /Resources << /ProcSet [/PDF /ImageB] >> >>"));
        assert!(!is_image(b"<< /Subtype /ImageB >>"));
    }

    #[test]
    fn object_numbers() {
        assert_eq!(object_before(b"endobj\n12 0 obj\n<< /L 1 >>\n").0, Some(12));
        assert_eq!(object_before(b"12 0 obj<</Type/ObjStm>>").0, Some(12));
        assert_eq!(object_before(b"<< /Subtype /obj >>").0, None);
        let bytes = pdf_of(&[("<< /Filter /FlateDecode >>", Some(&deflate(b"data")))]);
        for cut in 0..bytes.len() {
            expand(&bytes[..cut], "doc.pdf", &Limits::default(), &mut Vec::new(), &mut |_| {});
        }
    }
}
