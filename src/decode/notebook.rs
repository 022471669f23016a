//! Jupyter notebooks (chain `notebook`, note `cell N`).
//!
//! A notebook is JSON: each cell's code is an array of JSON strings, each
//! output's text another. Keys typed into a cell are escaped (`\"`, `\n`,
//! sometimes `\u002d`), printed keys sit in outputs, and a key split over
//! source lines spans two strings. For each cell this decoder joins the
//! unescaped `source` (or nbformat 3 `input`) and the text of its outputs
//! (`text`, textual `data` mime types, `traceback`, `evalue`) into one view
//! noted `cell N` (1-based, in file order), mapped byte by byte to the
//! notebook's own offsets so a finding keeps the file's real line. Images
//! and widget state are not decoded.

use super::json::{Step, walk};
use super::json_escape::{Stop, unescape};
use super::map::ViewBuf;
use super::{Limits, Relevance, View, cap};

/// The field of a cell a string belongs to, if it is one we decode.
fn field(bytes: &[u8], rest: &[Step]) -> Option<usize> {
    // `rest` is the path after `cells/N`; returns its length minus a trailing
    // array index (strings of one field share it).
    let len = match rest.last() {
        Some(Step::Index(_)) => rest.len() - 1,
        _ => rest.len(),
    };
    let head = &rest[..len];
    let textual = |mime: &[u8]| mime.starts_with(b"text/") || mime == b"application/json";
    let wanted = match head {
        [k] => k.is(bytes, "source") || k.is(bytes, "input"),
        [o, Step::Index(_), k] => {
            o.is(bytes, "outputs") && (k.is(bytes, "text") || k.is(bytes, "traceback") || k.is(bytes, "evalue"))
        }
        [o, Step::Index(_), d, mime] => {
            o.is(bytes, "outputs") && d.is(bytes, "data") && mime.key(bytes).is_some_and(textual)
        }
        _ => false,
    };
    wanted.then_some(len)
}

/// Turns the text gathered for cell `cell` into a view.
fn flush(buf: &mut ViewBuf, cell: Option<usize>, views: &mut Vec<View>) {
    let done = std::mem::take(buf);
    if let (Some(n), true) = (cell, done.len() > 0) {
        let (bytes, map) = done.finish();
        views.push(View { bytes, chain: vec!["notebook"], map, note: Some(format!("cell {}", n + 1)) });
    }
}

pub(crate) fn decode(bytes: &[u8], limits: &Limits) -> Vec<View> {
    let mut views = Vec::new();
    let mut cell: Option<usize> = None;
    let mut buf = ViewBuf::default();
    // The field (path after `cells/N`, minus a trailing index) of the
    // previous string: a new field starts on a new line.
    let mut last_field: Option<Vec<Step>> = None;
    let cap = cap(limits);
    let mut total = 0usize;
    walk(bytes, &mut |path, start, end| {
        let Some(at) = path.iter().position(|s| s.is(bytes, "cells")) else { return };
        let Some(&Step::Index(n)) = path.get(at + 1) else { return };
        let rest = &path[at + 2..];
        let Some(len) = field(bytes, rest) else { return };
        if cell != Some(n) {
            flush(&mut buf, cell, &mut views);
            cell = Some(n);
            last_field = None;
        }
        if buf.len() >= cap || total >= cap.saturating_mul(4) {
            return;
        }
        let this_field = rest[..len].to_vec();
        if last_field.as_ref().is_some_and(|f| *f != this_field) && buf.bytes.last() != Some(&b'\n') {
            buf.point(b"\n", start);
        }
        last_field = Some(this_field);
        let before = buf.len();
        unescape(bytes, start, end, Stop::Never, &mut buf, &mut Relevance::default());
        total += buf.len() - before;
    });
    flush(&mut buf, cell, &mut views);
    views
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "sk-ant-api03-Zq8Lm2Xv9Tb4Nc7Rk1Wp5Ys3Hd6Fg0Jx";

    fn notebook() -> String {
        format!(
            r##"{{
 "cells": [
  {{
   "cell_type": "markdown",
   "metadata": {{}},
   "source": ["# Demo\n", "Setup"]
  }},
  {{
   "cell_type": "code",
   "execution_count": 1,
   "metadata": {{}},
   "outputs": [
    {{"name": "stdout", "output_type": "stream", "text": ["using key {KEY}\n"]}},
    {{"output_type": "execute_result", "data": {{"image/png": "iVBORw0KGgo=", "text/plain": ["'ok'"]}}}}
   ],
   "source": [
    "import anthropic\n",
    "client = anthropic.Anthropic(api_key=\"sk-ant-api03\u002d{tail}\")"
   ]
  }}
 ],
 "metadata": {{"kernelspec": {{"name": "python3"}}}},
 "nbformat": 4,
 "nbformat_minor": 5
}}
"##,
            tail = &KEY[13..]
        )
    }

    #[test]
    fn cells_join_sources_and_outputs() {
        let text = notebook();
        let views = decode(text.as_bytes(), &Limits::default());
        assert_eq!(views.len(), 2);
        assert_eq!(views[0].note.as_deref(), Some("cell 1"));
        assert_eq!(views[0].bytes, b"# Demo\nSetup");
        let v = &views[1];
        assert_eq!((v.chain.as_slice(), v.note.as_deref()), (&["notebook"][..], Some("cell 2")));
        let s = String::from_utf8(v.bytes.clone()).unwrap();
        assert_eq!(
            s,
            format!("using key {KEY}\n'ok'\nimport anthropic\nclient = anthropic.Anthropic(api_key=\"{KEY}\")")
        );
        // The key in the source maps to the notebook's own line.
        let k = s.rfind("sk-ant").unwrap();
        let at = v.map.to_original(k);
        assert_eq!(&text[at..at + 12], "sk-ant-api03");
        let line = text[..at].matches('\n').count() + 1;
        assert_eq!(line, 18);
        assert_eq!(v.map.to_original(k + 12), text.find(r"\u002d").unwrap());
        // The key in the output, too.
        let k = s.find("sk-ant").unwrap();
        assert_eq!(v.map.to_original(k), text.find(&format!("key {KEY}")).unwrap() + 4);
    }

    #[test]
    fn nbformat3_string_source_and_broken_json() {
        let text = r#"{"worksheets": [{"cells": [{"input": "x = 1\ny = 2", "outputs": []}]}]}"#;
        let views = decode(text.as_bytes(), &Limits::default());
        assert_eq!(views.len(), 1);
        assert_eq!(views[0].bytes, b"x = 1\ny = 2");
        let truncated = &notebook()[..400];
        let _ = decode(truncated.as_bytes(), &Limits::default());
        assert!(decode(b"not json", &Limits::default()).is_empty());
    }
}
