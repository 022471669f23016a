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
//! operators (`(sk-proj-abc) Tj`), and a string split by kerning
//! (`[(sk-proj-) -20 (abc)] TJ`) or in a font's own encoding is not joined.
//! Streams are found by their keywords, not by `/Length` (which may lie)
//! or the cross-reference table, so a damaged file still yields its
//! streams; each inflates under the ratio cap like a zip member.

use std::collections::HashMap;

use flate2::read::ZlibDecoder;
use memchr::memmem;

use super::archive::{Each, Tree, ratio_cap, read_member, take_member};

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
