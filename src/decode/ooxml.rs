//! Office Open XML (DOCX, XLSX, PPTX): the text a reader sees.
//!
//! These documents are zips of XML, and Word splits a paragraph into runs
//! wherever formatting, spell checking or an edit session changes:
//! `<w:p><w:r><w:t>sk-proj-abc</w:t></w:r><w:r><w:t>def</w:t></w:r></w:p>`
//! holds the key `sk-proj-abcdef` that no regex over the XML sees. For the
//! parts that hold a document's text (Word's body, headers, footers,
//! notes and comments; Excel's shared strings, sheets and comments;
//! PowerPoint's slides and notes) the zip opener emits, instead of the raw
//! XML, its text: the content of the text elements (`t`, `delText`,
//! `instrText`, a cell's value `v` and formula `f`) with tags dropped and
//! entities decoded, one line per paragraph (`p`), shared string (`si`)
//! or row, cells separated by tabs. The member is named after the part
//! with `#text` appended (`report.docx!/word/document.xml#text`), its chain
//! ends in `ooxml`, and lines and columns are those of that text.
//!
//! The text is never longer than the XML; one linear pass, no tree built.

/// The text of `xml` when `name` is a text part of an Office document.
pub(super) fn text_part(name: &str, xml: &[u8]) -> Option<Vec<u8>> {
    is_text_part(name).then(|| text(xml))
}

/// Word, Excel and PowerPoint parts that hold what a reader sees.
fn is_text_part(name: &str) -> bool {
    let Some(stem) = name.strip_suffix(".xml") else { return false };
    let numbered = |prefix: &str| stem.strip_prefix(prefix).is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()));
    matches!(stem, "word/document" | "word/footnotes" | "word/endnotes" | "word/comments" | "xl/sharedStrings")
        || numbered("word/header")
        || numbered("word/footer")
        || numbered("xl/worksheets/sheet")
        || numbered("xl/comments")
        || numbered("ppt/slides/slide")
        || numbered("ppt/notesSlides/notesSlide")
        || numbered("ppt/comments/comment")
}

/// Elements whose character data is text.
fn is_text_element(local: &[u8]) -> bool {
    matches!(local, b"t" | b"delText" | b"instrText" | b"v" | b"f")
}

/// The text of an OOXML part (see the module documentation).
pub(super) fn text(xml: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(xml.len() / 4);
    let mut in_text = 0usize;
    let mut i = 0;
    while i < xml.len() {
        let Some(lt) = memchr::memchr(b'<', &xml[i..]).map(|p| i + p) else {
            if in_text > 0 {
                unescape(&xml[i..], &mut out);
            }
            break;
        };
        if in_text > 0 {
            unescape(&xml[i..lt], &mut out);
        }
        let rest = &xml[lt..];
        // Comments, CDATA, declarations and processing instructions.
        if let Some(body) = rest.strip_prefix(b"<![CDATA[") {
            let end = memchr::memmem::find(body, b"]]>").unwrap_or(body.len());
            if in_text > 0 {
                out.extend_from_slice(&body[..end]);
            }
            i = lt + 9 + end + 3;
            continue;
        }
        if rest.starts_with(b"<!--") {
            i = lt + memchr::memmem::find(rest, b"-->").map_or(rest.len(), |e| e + 3);
            continue;
        }
        let Some(gt) = memchr::memchr(b'>', rest) else { break };
        i = lt + gt + 1;
        let tag = &rest[1..gt];
        if tag.first().is_some_and(|&b| b == b'?' || b == b'!') {
            continue;
        }
        let closing = tag.first() == Some(&b'/');
        let empty = tag.last() == Some(&b'/');
        let name = tag[usize::from(closing)..].split(|b| b.is_ascii_whitespace() || *b == b'/').next().unwrap_or(b"");
        let local = name.rsplit(|&b| b == b':').next().unwrap_or(name);
        if is_text_element(local) {
            if closing {
                in_text = in_text.saturating_sub(1);
            } else if !empty {
                in_text += 1;
            }
            continue;
        }
        match (local, closing || empty) {
            (b"p" | b"si" | b"row" | b"tr", true) | (b"br" | b"cr", _) => newline(&mut out),
            (b"c" | b"tc", true) | (b"tab", _) if out.last().is_some_and(|&b| b != b'\n') => out.push(b'\t'),
            _ => {}
        }
    }
    newline(&mut out);
    out
}

fn newline(out: &mut Vec<u8>) {
    while out.last() == Some(&b'\t') {
        out.pop();
    }
    if out.last().is_some_and(|&b| b != b'\n') {
        out.push(b'\n');
    }
}

/// Appends `text` with XML's entities and character references decoded
/// (an unknown or broken one is kept as it is).
fn unescape(text: &[u8], out: &mut Vec<u8>) {
    let mut i = 0;
    while let Some(amp) = memchr::memchr(b'&', &text[i..]).map(|p| i + p) {
        out.extend_from_slice(&text[i..amp]);
        let rest = &text[amp + 1..];
        let end = rest.iter().take(12).position(|&b| b == b';');
        let decoded = end.and_then(|e| entity(&rest[..e]).map(|c| (c, e)));
        match decoded {
            Some((c, e)) => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                i = amp + 1 + e + 1;
            }
            None => {
                out.push(b'&');
                i = amp + 1;
            }
        }
    }
    out.extend_from_slice(&text[i..]);
}

fn entity(name: &[u8]) -> Option<char> {
    Some(match name {
        b"amp" => '&',
        b"lt" => '<',
        b"gt" => '>',
        b"quot" => '"',
        b"apos" => '\'',
        _ => {
            let num = name.strip_prefix(b"#")?;
            let s = std::str::from_utf8(num).ok()?;
            let n = match s.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => s.parse().ok()?,
            };
            char::from_u32(n)?
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_of(xml: &str) -> String {
        String::from_utf8(text(xml.as_bytes())).unwrap()
    }

    #[test]
    fn runs_of_one_paragraph_are_joined() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>
  <w:p><w:pPr><w:pStyle w:val="Title"/></w:pPr><w:r><w:t>Config</w:t></w:r></w:p>
  <w:p w:rsidR="00A1"><w:r><w:t xml:space="preserve">key: sk-proj-abc</w:t></w:r><w:proofErr w:type="spellStart"/>
    <w:r><w:rPr><w:b/></w:rPr><w:t>def</w:t></w:r><w:r><w:tab/><w:t>&amp; more &#x41;&#66;</w:t></w:r></w:p>
  <w:p/>
  <w:p><w:r><w:t>last</w:t></w:r><w:r><w:br/><w:t>line</w:t></w:r></w:p>
</w:body></w:document>"#;
        assert_eq!(text_of(xml), "Config\nkey: sk-proj-abcdef\t& more AB\nlast\nline\n");
    }

    #[test]
    fn sheets_slides_and_shared_strings() {
        let shared = r#"<sst><si><t>plain</t></si><si><r><t>sk-</t></r><r><rPr/><t>split</t></r></si></sst>"#;
        assert_eq!(text_of(shared), "plain\nsk-split\n");
        let sheet = r#"<worksheet><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="inlineStr"><is><t>inline</t></is></c></row><row><c><f>CONCAT("a","b")</f><v>ab</v></c></row></sheetData></worksheet>"#;
        assert_eq!(text_of(sheet), "0\tinline\nCONCAT(\"a\",\"b\")ab\n");
        let slide = r#"<p:sld><p:cSld><p:spTree><p:sp><p:txBody><a:p><a:r><a:t>ghp_abc</a:t></a:r><a:r><a:t>def</a:t></a:r></a:p></p:txBody></p:sp></p:spTree></p:cSld></p:sld>"#;
        assert_eq!(text_of(slide), "ghp_abcdef\n");
    }

    #[test]
    fn cdata_comments_and_broken_input() {
        assert_eq!(text_of("<w:p><w:t><![CDATA[a<b]]></w:t><!-- <w:t>no</w:t> --><w:t>c</w:t></w:p>"), "a<bc\n");
        assert_eq!(text_of("<w:t>&bogus; &#xFFFFFFFF; &"), "&bogus; &#xFFFFFFFF; &\n");
        for cut in ["<w:t", "<![CDATA[x", "<!--", "</", "<>", "<w:t>x</w:t", "&#", ""] {
            let _ = text(cut.as_bytes());
        }
    }

    #[test]
    fn which_parts() {
        for yes in ["word/document.xml", "word/header2.xml", "word/footer.xml", "xl/worksheets/sheet12.xml"] {
            assert!(is_text_part(yes), "{yes}");
        }
        for no in ["word/styles.xml", "xl/worksheets/_rels/sheet1.xml.rels", "docProps/app.xml", "word/headerx.xml"] {
            assert!(!is_text_part(no), "{no}");
        }
        assert!(text_part("ppt/slides/slide3.xml", b"<a:t>x</a:t>").is_some());
    }
}
