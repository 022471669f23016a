//! Source maps (chain `sourcemap`, note = the original source's name).
//!
//! A `.js.map` shipped next to a bundle often embeds every original file in
//! `sourcesContent`, as JSON strings: one line per file, every newline and
//! quote escaped. A key in `src/client.ts` is then served to anyone who
//! opens the map, but a regex on the map sees `\"sk-…\"` glued into a
//! megabyte-long line. Each `sourcesContent[i]` becomes its own unescaped
//! view noted with `sources[i]` (indexed maps with `sections[].map` too), so
//! a finding names the original file while its line and column stay those of
//! the `.map` itself.

use memchr::memmem;

use super::json::{Step, walk};
use super::json_escape::{Stop, unescape};
use super::map::ViewBuf;
use super::{Limits, Relevance, View, cap};

/// A `.map` file (or any path ending in `.map`) that embeds sources.
pub(crate) fn applies(path: &str, bytes: &[u8]) -> bool {
    super::has_extension(path, ".map")
        && bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
        && memmem::find(bytes, b"\"sourcesContent\"").is_some()
}

/// (parent object path, index, raw string range) of an array entry.
type Entry = (Vec<Step>, usize, usize, usize);

pub(crate) fn decode(bytes: &[u8], limits: &Limits) -> Vec<View> {
    let mut sources: Vec<Entry> = Vec::new();
    let mut contents: Vec<Entry> = Vec::new();
    walk(bytes, &mut |path, start, end| {
        let [parent @ .., key, Step::Index(i)] = path else { return };
        if key.is(bytes, "sources") {
            sources.push((parent.to_vec(), *i, start, end));
        } else if key.is(bytes, "sourcesContent") {
            contents.push((parent.to_vec(), *i, start, end));
        }
    });
    let cap = cap(limits);
    let mut views = Vec::new();
    for (parent, i, start, end) in contents {
        let note = sources.iter().find(|(p, j, ..)| *j == i && *p == parent).map_or_else(
            || format!("sources[{i}]"),
            |&(_, _, s, e)| {
                let mut name = ViewBuf::default();
                unescape(bytes, s, e, Stop::Never, &mut name, &mut Relevance::default());
                String::from_utf8_lossy(&name.bytes).into_owned()
            },
        );
        let mut buf = ViewBuf::default();
        unescape(bytes, start, end.min(start.saturating_add(cap)), Stop::Never, &mut buf, &mut Relevance::default());
        if buf.len() == 0 {
            continue;
        }
        let (b, map) = buf.finish();
        views.push(View { bytes: b, chain: vec!["sourcemap"], map, note: Some(note) });
    }
    views
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "sk-ant-api03-Zq8Lm2Xv9Tb4Nc7Rk1Wp5Ys3Hd6Fg0Jx";

    #[test]
    fn each_source_is_a_view_named_after_it() {
        let text = format!(
            r#"{{"version":3,"file":"app.js","sources":["webpack:\/\/app\/src\/client.ts","src/util.ts"],"sourcesContent":["import x from \"y\";\nconst key = \"{KEY}\";\n",null],"mappings":"AAAA"}}"#
        );
        assert!(applies("dist/app.js.map", text.as_bytes()));
        assert!(!applies("dist/app.js", text.as_bytes()));
        let views = decode(text.as_bytes(), &Limits::default());
        assert_eq!(views.len(), 1);
        let v = &views[0];
        assert_eq!(v.chain, ["sourcemap"]);
        assert_eq!(v.note.as_deref(), Some("webpack://app/src/client.ts"));
        let s = String::from_utf8(v.bytes.clone()).unwrap();
        assert_eq!(s, format!("import x from \"y\";\nconst key = \"{KEY}\";\n"));
        let k = s.find("sk-").unwrap();
        assert_eq!(v.map.to_original(k), text.find("sk-").unwrap());
    }

    #[test]
    fn indexed_maps_pair_sources_per_section() {
        let text = r#"{"version":3,"sections":[
            {"offset":{"line":0,"column":0},"map":{"sources":["a.js"],"sourcesContent":["let a = 1;"]}},
            {"offset":{"line":9,"column":0},"map":{"sourcesContent":["let b = 2;"],"sources":["b.js"]}}]}"#;
        let views = decode(text.as_bytes(), &Limits::default());
        let got: Vec<(&str, &[u8])> = views.iter().map(|v| (v.note.as_deref().unwrap(), v.bytes.as_slice())).collect();
        assert_eq!(got, [("a.js", &b"let a = 1;"[..]), ("b.js", &b"let b = 2;"[..])]);
    }
}
