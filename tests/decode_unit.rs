//! Decoders (`leakhound::decode`) end to end: each text decoding makes a key
//! the raw scan misses visible to the real engine, at the original file's
//! line; archives yield their members under zip-bomb limits that finish
//! quickly with a note; no input makes a decoder panic.
//!
//! Keys are generated at run time (random-looking, right shapes) so no
//! fixture file carries anything that looks like a live key.

use std::io::Write;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use flate2::Compression;
use flate2::write::GzEncoder;

use crate::common::archive::{raw_zip, zeros_deflate, zip_of};
use leakhound::decode::{self, Limits, Member, View};
use leakhound::engine::{Engine, LineIndex};
use leakhound::rules::RuleSet;

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| Engine::new(Arc::new(RuleSet::builtin().unwrap())))
}

/// `n` pseudo-random characters from `alphabet` (an LCG: deterministic).
fn random(seed: u64, n: usize, alphabet: &[u8]) -> String {
    let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            alphabet[((x >> 33) % alphabet.len() as u64) as usize] as char
        })
        .collect()
}

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

fn anthropic(seed: u64) -> String {
    format!("sk-ant-api03-{}-{}AA", random(seed, 60, ALNUM), random(seed + 1, 32, ALNUM))
}

fn github(seed: u64) -> String {
    format!("ghp_{}", random(seed, 36, ALNUM))
}

/// A finding in a view: rule, secret, chain, note and the 1-based line of
/// the original blob.
#[derive(Debug)]
struct Hit {
    rule: String,
    secret: String,
    chain: Vec<&'static str>,
    note: Option<String>,
    line: usize,
}

fn view_hits(views: &[View], original: &[u8]) -> Vec<Hit> {
    let mut hits = Vec::new();
    for v in views {
        for m in engine().scan(&v.bytes) {
            let at = v.map.to_original(m.start);
            hits.push(Hit {
                rule: engine().rule(m.rule).spec.id.clone(),
                secret: String::from_utf8_lossy(&v.bytes[m.start..m.end]).into_owned(),
                chain: v.chain.clone(),
                note: v.note.clone(),
                line: LineIndex::new(original).locate(at).0,
            });
        }
    }
    hits
}

fn hits(text: &[u8], path: &str) -> Vec<Hit> {
    view_hits(&decode::views(text, path, &Limits::default()), text)
}

fn raw_secrets(text: &[u8]) -> Vec<String> {
    engine().scan(text).iter().map(|m| String::from_utf8_lossy(&text[m.start..m.end]).into_owned()).collect()
}

/// The one hit for `secret`, asserting the raw scan misses it.
fn only_decoded<'a>(hits: &'a [Hit], text: &[u8], secret: &str) -> &'a Hit {
    assert!(!raw_secrets(text).contains(&secret.to_string()), "the raw scan already finds it");
    let found: Vec<&Hit> = hits.iter().filter(|h| h.secret == secret).collect();
    assert!(!found.is_empty(), "not found in views: {hits:?}");
    found[0]
}

#[test]
fn json_unicode_escapes() {
    let key = anthropic(1);
    let text = format!("{{\n  \"name\": \"demo\",\n  \"key\": \"{}\"\n}}\n", key.replace('-', "\\u002d"));
    let h = hits(text.as_bytes(), "config.json");
    let h = only_decoded(&h, text.as_bytes(), &key);
    assert_eq!((h.rule.as_str(), h.chain.as_slice(), h.line), ("anthropic-api-key", &["json-string"][..], 3));
}

#[test]
fn notebook_cells_keep_the_notebook_line() {
    let key = anthropic(2);
    let escaped = key.replace('-', "\\u002d");
    let text = format!(
        "{{\n \"cells\": [\n  {{\"cell_type\": \"markdown\", \"source\": [\"# Setup\"]}},\n  {{\n   \"cell_type\": \"code\",\n   \"outputs\": [],\n   \"source\": [\n    \"import os\\n\",\n    \"KEY = \\\"{escaped}\\\"\\n\"\n   ]\n  }}\n ],\n \"nbformat\": 4\n}}\n"
    );
    let h = hits(text.as_bytes(), "analysis/demo.ipynb");
    let h = only_decoded(&h, text.as_bytes(), &key);
    assert_eq!((h.chain.as_slice(), h.note.as_deref(), h.line), (&["notebook"][..], Some("cell 2"), 9));
}

#[test]
fn percent_encoded_query_string() {
    let key = anthropic(3);
    let text = format!("GET /ok\nGET /v1/proxy?target=api&key={}&v=2 HTTP/1.1\n", key.replace('-', "%2D"));
    let h = hits(text.as_bytes(), "access.log");
    let h = only_decoded(&h, text.as_bytes(), &key);
    assert_eq!((h.chain.as_slice(), h.line), (&["url"][..], 2));
}

#[test]
fn kubernetes_secret_and_docker_auth() {
    let key = anthropic(4);
    let text = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: llm\ntype: Opaque\ndata:\n  ANTHROPIC_API_KEY: {}\n",
        B64.encode(&key)
    );
    let h = hits(text.as_bytes(), "k8s/secret.yaml");
    let h = only_decoded(&h, text.as_bytes(), &key);
    assert_eq!((h.chain.as_slice(), h.line), (&["base64"][..], 7));

    let token = github(5);
    let auth = B64.encode(format!("octocat:{token}"));
    let text = format!("{{\n  \"auths\": {{\n    \"ghcr.io\": {{\n      \"auth\": \"{auth}\"\n    }}\n  }}\n}}\n");
    let h = hits(text.as_bytes(), ".docker/config.json");
    let h = only_decoded(&h, text.as_bytes(), &token);
    assert!(h.rule.starts_with("github"), "{h:?}");
    assert_eq!(h.line, 4);
}

#[test]
fn nested_decodings_compose_chain_and_map() {
    // base64 inside base64.
    let key = anthropic(6);
    let inner = B64.encode(format!("ANTHROPIC_API_KEY={key}\n"));
    let text = format!("# values\nblob: {}\n", B64.encode(format!("KEY_B64={inner}\n")));
    let h = hits(text.as_bytes(), "values.yaml");
    let h = only_decoded(&h, text.as_bytes(), &key);
    assert_eq!((h.chain.as_slice(), h.line), (&["base64", "base64"][..], 2));

    // base64 inside a JSON string whose slashes are escaped (PHP's
    // json_encode); `?` makes base64 emit `/`.
    let key = anthropic(7);
    let enc = B64.encode(format!("URL=https://api/???\nANTHROPIC_API_KEY={key}\n"));
    assert!(enc.contains('/'));
    let text = format!("{{\"env\":\"{}\"}}\n", enc.replace('/', "\\/"));
    let views = decode::views(text.as_bytes(), "dump.json", &Limits::default());
    let h = view_hits(&views, text.as_bytes());
    let h = only_decoded(&h, text.as_bytes(), &key);
    assert_eq!(h.chain, ["json-string", "base64"]);
    // The composed map still lands inside the encoded token.
    let v = views.iter().find(|v| v.chain == ["json-string", "base64"]).unwrap();
    let k = v.bytes.windows(key.len()).position(|w| w == key.as_bytes()).unwrap();
    let at = v.map.to_original(k);
    assert!(at >= text.find("\":\"").unwrap() + 3 && at < text.len() - 3, "{at}");
}

#[test]
fn credentials_urls_are_left_to_the_raw_scan() {
    let token = github(7);
    let text = format!("https://octocat:{token}@github.com\n");
    assert!(decode::views(text.as_bytes(), ".git-credentials", &Limits::default()).is_empty());
    assert_eq!(raw_secrets(text.as_bytes()), [token]);
    let netrc = format!("machine github.com\n  login octocat\n  password {}\n", github(8));
    assert!(decode::views(netrc.as_bytes(), ".netrc", &Limits::default()).is_empty());
}

#[test]
fn hex_encoded_key() {
    let key = anthropic(9);
    let text = format!("[secrets]\nanthropic_hex = \"{}\"\n", hex::encode(&key));
    let h = hits(text.as_bytes(), "settings.toml");
    let h = only_decoded(&h, text.as_bytes(), &key);
    assert_eq!((h.chain.as_slice(), h.line), (&["hex"][..], 2));
}

#[test]
fn utf16_with_and_without_bom() {
    let key = anthropic(10);
    let text = format!("# PowerShell transcript\r\n\r\n$env:ANTHROPIC_API_KEY = \"{key}\"\r\n");
    let units: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let mut with_bom = vec![0xFF, 0xFE];
    with_bom.extend(&units);
    for (bytes, chain) in [(with_bom, "utf-16le"), (units, "utf-16le")] {
        let h = hits(&bytes, "transcript.txt");
        let h = only_decoded(&h, &bytes, &key);
        assert_eq!((h.chain.as_slice(), h.line), (&[chain][..], 3));
    }
    let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
    let h = hits(&be, "transcript.txt");
    assert_eq!(only_decoded(&h, &be, &key).chain, ["utf-16be"]);
}

#[test]
fn source_map_sources_content() {
    let key = anthropic(11);
    // Escaped in the map's JSON (the source itself has a plain key), then
    // escaped in the source's own string literal (two decodings).
    let json_level = format!("const client = new Anthropic({{ apiKey: \\\"{}\\\" }});\\n", key.replace('-', "\\u002d"));
    let js_level = serde_json::to_string(&format!("const k = \"{}\";\n", key.replace('-', "\\u002d"))).unwrap();
    let text = format!(
        "{{\"version\":3,\"file\":\"main.js\",\"sources\":[\"src/client.ts\",\"src/k.js\"],\n\"sourcesContent\":[\"{json_level}\",{js_level}],\"mappings\":\"AAAA\"}}"
    );
    let h = hits(text.as_bytes(), "dist/main.js.map");
    assert!(!raw_secrets(text.as_bytes()).contains(&key));
    let got: Vec<(&[&str], Option<&str>, usize)> =
        h.iter().filter(|h| h.secret == key).map(|h| (h.chain.as_slice(), h.note.as_deref(), h.line)).collect();
    assert_eq!(
        got,
        [(&["sourcemap"][..], Some("src/client.ts"), 2), (&["sourcemap", "json-string"][..], Some("src/k.js"), 2)]
    );
}

#[test]
fn keys_split_across_literals() {
    let key = anthropic(12);
    let (a, b) = key.split_at(40);
    for (text, line) in [
        (format!("import anthropic\n\nKEY = (\"{a}\"\n       \"{b}\")\n"), 3),
        (format!("const k =\n  \"{a}\" +\n  \"{b}\";\n"), 2),
        (format!("package main\nvar key = \"{a}\" + \"{b}\"\n"), 2),
    ] {
        let h = hits(text.as_bytes(), "src/app");
        let h = only_decoded(&h, text.as_bytes(), &key);
        assert_eq!((h.chain.as_slice(), h.line), (&["concat"][..], line), "{text}");
    }
}

#[test]
fn ordinary_files_give_no_views() {
    let src =
        "use std::fmt;\n\nfn main() {\n    let s = format!(\"{}\\n\", 42);\n    println!(\"100% done\\t{s}\");\n}\n";
    assert!(decode::views(src.as_bytes(), "src/main.rs", &Limits::default()).is_empty());
    let lock = "[[package]]\nname = \"memchr\"\nchecksum = \"78ca9ab1a0babb1e29d9c8b1a1f1b1c1d1e1f10111213141516171819aabbccd\"\n";
    assert!(decode::views(lock.as_bytes(), "Cargo.lock", &Limits::default()).is_empty());
}

// ---- archives ----

fn expand_all(bytes: &[u8], path: &str, limits: &Limits) -> (Vec<Member>, Vec<String>) {
    let mut out = Vec::new();
    let mut notes = Vec::new();
    decode::expand(bytes, path, limits, &mut notes, &mut |m| out.push(m));
    (out, notes)
}

#[test]
fn zip_members_and_nesting() {
    let key = anthropic(13);
    let env = format!("ANTHROPIC_API_KEY={key}\n");
    let inner = zip_of(&[("secrets.txt", env.as_bytes())]);
    let outer = zip_of(&[("config/.env", env.as_bytes()), ("lib/inner.jar", &inner)]);
    let mut notes = Vec::new();
    let members = decode::members(&outer, "release.zip", &Limits::default(), &mut notes).unwrap();
    let names: Vec<&str> = members.iter().map(|m| m.path.as_str()).collect();
    assert_eq!(names, ["config/.env", "lib/inner.jar"]);
    assert_eq!(members[0].bytes, env.as_bytes());
    assert_eq!(members[0].chain, ["zip"]);

    let (all, notes) = expand_all(&outer, "release.zip", &Limits::default());
    assert!(notes.is_empty(), "{notes:?}");
    let got: Vec<(&str, &[&str])> = all.iter().map(|m| (m.path.as_str(), m.chain.as_slice())).collect();
    assert_eq!(got, [("config/.env", &["zip"][..]), ("lib/inner.jar!/secrets.txt", &["zip", "zip"][..])]);
    assert_eq!(raw_secrets(&all[1].bytes), [key]);
    assert!(decode::members(b"just text", "a.txt", &Limits::default(), &mut Vec::new()).is_none());
}

#[test]
fn fifth_level_is_not_opened() {
    let l5 = zip_of(&[("deep.txt", b"level 5")]);
    let l4 = zip_of(&[("l5.zip", &l5), ("four.txt", b"level 4")]);
    let l3 = zip_of(&[("l4.zip", &l4)]);
    let l2 = zip_of(&[("l3.zip", &l3)]);
    let l1 = zip_of(&[("l2.zip", &l2)]);
    let (all, notes) = expand_all(&l1, "l1.zip", &Limits::default());
    let got: Vec<&str> = all.iter().map(|m| m.path.as_str()).collect();
    assert_eq!(got, ["l2.zip!/l3.zip!/l4.zip!/l5.zip", "l2.zip!/l3.zip!/l4.zip!/four.txt"]);
    assert_eq!(notes, ["skipped: l1.zip!/l2.zip!/l3.zip!/l4.zip!/l5.zip: archive nested deeper than 4 levels"]);
}

#[test]
fn tar_tar_gz_and_gz() {
    let key = anthropic(14);
    let mut builder = tar::Builder::new(Vec::new());
    for (name, body) in [("app/.env", format!("KEY={key}\n")), ("app/readme.md", "hello\n".to_string())] {
        let mut header = tar::Header::new_gnu();
        header.set_size(body.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append_data(&mut header, name, body.as_bytes()).unwrap();
    }
    let tar_bytes = builder.into_inner().unwrap();
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    gz.write_all(&tar_bytes).unwrap();
    let tgz = gz.finish().unwrap();
    for (bytes, path, chain) in [(&tar_bytes, "backup.tar", "tar"), (&tgz, "backup.tgz", "tar.gz")] {
        let mut notes = Vec::new();
        let m = decode::members(bytes, path, &Limits::default(), &mut notes).unwrap();
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(m.len(), 2);
        assert_eq!((m[0].path.as_str(), m[0].chain.as_slice()), ("app/.env", &[chain][..]));
        assert_eq!(raw_secrets(&m[0].bytes), std::slice::from_ref(&key));
    }
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    gz.write_all(format!("KEY={key}\n").as_bytes()).unwrap();
    let m = decode::members(&gz.finish().unwrap(), "logs/app.log.gz", &Limits::default(), &mut Vec::new()).unwrap();
    assert_eq!((m[0].path.as_str(), m[0].chain.as_slice()), ("app.log", &["gz"][..]));
}

#[test]
fn zip_bomb_stops_quickly_with_a_note() {
    let bomb = raw_zip("zeros.bin", &zeros_deflate(200), 200 << 20);
    let t = Instant::now();
    let (all, notes) = expand_all(&bomb, "bomb.zip", &Limits::default());
    assert!(all.is_empty());
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(
        notes[0].starts_with("skipped: bomb.zip!/zeros.bin: exceeds ")
            && notes[0].ends_with("bytes decompressed (zip bomb protection)")
    );
    assert!(t.elapsed().as_secs() < 10);

    // A gzip bomb (members of one compressed MiB of zeros, repeated).
    let mut gz = GzEncoder::new(Vec::new(), Compression::best());
    gz.write_all(&vec![0u8; 1 << 20]).unwrap();
    let bomb = gz.finish().unwrap().repeat(200);
    let (all, notes) = expand_all(&bomb, "zeros.gz", &Limits::default());
    assert!(all.is_empty());
    assert!(notes[0].contains("(zip bomb protection)"), "{notes:?}");
}

#[test]
fn nested_bomb_42_style_is_bounded() {
    // 4 levels of 16 copies over a bomb: 16^4 bombs of 200 MiB on paper.
    let mut level = raw_zip("0.bin", &zeros_deflate(200), 200 << 20);
    for depth in 1..=4 {
        let name = format!("l{depth}.zip");
        let names: Vec<String> = (0..16).map(|i| format!("{i}-{name}")).collect();
        let entries: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), level.as_slice())).collect();
        level = zip_of(&entries);
    }
    let t = Instant::now();
    let limits = Limits { max_archive_depth: 10, max_total_out: 64 << 20, ..Limits::default() };
    let (all, notes) = expand_all(&level, "42.zip", &limits);
    assert!(all.is_empty());
    assert!(notes.iter().any(|n| n.contains("(zip bomb protection)")), "{notes:?}");
    assert!(notes.last().unwrap().contains("archive: exceeds 67108864 bytes decompressed"), "{notes:?}");
    assert!(t.elapsed().as_secs() < 20);

    // With the default depth, the bombs are never reached; notes are capped.
    let (_, notes) = expand_all(&level, "42.zip", &Limits::default());
    assert!(notes.len() <= 17, "{}", notes.len());
    assert!(notes[0].contains("nested deeper than 4 levels"), "{notes:?}");
    assert!(notes.last().unwrap().contains("further notes"), "{notes:?}");
}

#[test]
fn member_size_cap_cuts_with_a_note() {
    let big = vec![b'a'; 3 << 20];
    let z = zip_of(&[("big.txt", &big)]);
    let limits = Limits { max_member_size: 1 << 20, max_ratio: 10_000, ..Limits::default() };
    let mut notes = Vec::new();
    let m = decode::members(&z, "big.zip", &limits, &mut notes).unwrap();
    assert_eq!(m[0].bytes.len(), 1 << 20);
    assert!(notes[0].starts_with("truncated: big.zip!/big.txt: exceeds 1048576 bytes"), "{notes:?}");
}

// ---- robustness ----

#[test]
fn no_input_makes_a_decoder_panic() {
    let key = anthropic(15);
    let env = format!("KEY={key}\n");
    let z = zip_of(&[("a.env", env.as_bytes()), ("b.zip", &zip_of(&[("c", b"c")]))]);
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    gz.write_all(&z).unwrap();
    let samples: Vec<Vec<u8>> = vec![
        z.clone(),
        gz.finish().unwrap(),
        format!("{{\"cells\":[{{\"source\":[\"\\u00\",\"\\ud800\",\"{key}\\\"]}}]}}").into_bytes(),
        B64.encode(format!("{}\\u{}%", B64.encode(&env), "0".repeat(30))).into_bytes(),
        [0xFF, 0xFE, 0x00, 0xD8, b'\n', 0].to_vec(),
    ];
    let mut seed = 99u64;
    for s in &samples {
        for cut in (0..s.len()).step_by((s.len() / 64).max(1)) {
            for path in ["x.ipynb", "x.js.map", "x.zip", "x.tgz", "x.gz", "x"] {
                let mut bytes = s[..cut].to_vec();
                // Flip a few bytes, deterministically.
                for _ in 0..3 {
                    seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
                    if !bytes.is_empty() {
                        let i = (seed >> 33) as usize % bytes.len();
                        bytes[i] ^= (seed >> 20) as u8;
                    }
                }
                for v in decode::views(&bytes, path, &Limits::default()) {
                    assert_eq!(v.map.len(), v.bytes.len());
                    assert!((0..v.bytes.len()).all(|i| v.map.to_original(i) <= bytes.len()));
                }
                let _ = expand_all(&bytes, path, &Limits::default());
            }
        }
    }
}
