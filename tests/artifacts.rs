//! Keys in what ships, end to end: containers opened by their content (a
//! Chrome extension, an Electron `app.asar`, bzip2/xz/zstd/lz4 files and
//! tarballs, `docker save` and OCI images and their layers, PDF streams,
//! Office documents, zip-family files with a prefix, jars in a war) through
//! the real binary (`leakhound scan --format json`). For each planted key:
//! the rule, the `path` (`ext.crx!/background.js`, levels joined by `!/`),
//! the line and column inside the member, and the `decoded` chain (the
//! container formats, outermost first). Hostile inputs (bombs, a lying
//! CRX header, a truncated asar, an image of 10,000 layers) finish quickly
//! with a note in the report, and keep what could be read.

use std::fs;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::archive::{
    asar_of, bzip2, crx2, crx3, gzip, lz4, pdf_of, tar_of, xz, zip_of, zlib, zstd, zstd_zeros,
};
use crate::common::{self, Run};

const RULE: &str = "openai-project-key";

fn openai(seed: u64) -> String {
    common::key("openai-project", seed)
}

/// A `.env` with the key on line 2, column 16.
fn env(key: &str) -> Vec<u8> {
    format!("# settings\nOPENAI_API_KEY={key}\n").into_bytes()
}

/// Runs `leakhound scan --format json --show-secrets EXTRA... DIR` over a
/// fresh directory holding `files` (a 120 s hang guard).
fn scan(files: &[(&str, &[u8])], extra: &[&str]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    for (rel, bytes) in files {
        let target = dir.path().join(rel);
        fs::create_dir_all(target.parent().unwrap()).unwrap();
        fs::write(target, bytes).unwrap();
    }
    let mut args = vec!["scan", "--format", "json", "--show-secrets"];
    args.extend(extra);
    args.push(dir.path().to_str().unwrap());
    let run = common::leakhound(&args, 120);
    assert!(run.doc.is_object(), "no JSON report: {}", run.stderr);
    run
}

/// Where a finding is: path, line, column, decoded chain.
type Place = (String, u64, u64, Vec<String>);

fn place(path: &str, (line, column): (u64, u64), decoded: &[&str]) -> Place {
    (path.to_string(), line, column, decoded.iter().map(|s| s.to_string()).collect())
}

/// 1-based line and byte column of `needle` in `text`.
fn locate(text: &[u8], needle: &str) -> (u64, u64) {
    let at = text.windows(needle.len()).position(|w| w == needle.as_bytes()).expect("needle in text");
    let line = text[..at].iter().filter(|&&b| b == b'\n').count() + 1;
    let start = text[..at].iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    (line as u64, (at - start + 1) as u64)
}

fn findings(run: &Run) -> &[Value] {
    run.doc["findings"].as_array().expect("findings array")
}

/// The one finding of `key` (rule checked), as a [`Place`].
fn found(run: &Run, key: &str) -> Place {
    let all: Vec<&Value> = findings(run).iter().filter(|f| f["secret"] == key).collect();
    assert_eq!(all.len(), 1, "one finding of {key} expected in:\n{}", summary(run));
    let f = all[0];
    assert_eq!(f["rule_id"], RULE);
    let decoded = f["decoded"].as_array().map_or(Vec::new(), |a| a.iter().map(|s| s.as_str().unwrap()).collect());
    place(f["path"].as_str().unwrap(), (f["line"].as_u64().unwrap(), f["column"].as_u64().unwrap()), &decoded)
}

fn notes(run: &Run) -> Vec<String> {
    run.doc["notes"].as_array().map_or(Vec::new(), |a| a.iter().map(|n| n.as_str().unwrap().to_string()).collect())
}

fn summary(run: &Run) -> String {
    let mut lines: Vec<String> = findings(run)
        .iter()
        .map(|f| format!("{} {}:{}:{} decoded={}", f["rule_id"], f["path"], f["line"], f["column"], f["decoded"]))
        .collect();
    lines.push(format!("notes: {:?}", notes(run)));
    lines.join("\n")
}

fn assert_only(run: &Run, n: usize) {
    assert_eq!(findings(run).len(), n, "{}", summary(run));
    assert_eq!(run.code, 1, "findings: exit code 1\n{}", summary(run));
}

/// CRX3 and CRX2 extensions, one named `.bin` (opened by content), one
/// inside a release zip.
#[test]
fn chrome_extensions_crx3_and_crx2() {
    let keys: Vec<String> = (1..=4).map(openai).collect();
    let js = |k: &str| format!("// service worker\nconst OPENAI_API_KEY = \"{k}\";\n").into_bytes();
    let ext = |k: &str| zip_of(&[("manifest.json", br#"{"manifest_version":3}"#), ("background.js", &js(k))]);
    let crx = crx3(&ext(&keys[0]), 531, 531);
    let legacy = crx2(&zip_of(&[("js/config.js", &js(&keys[1]))]));
    let renamed = crx3(&ext(&keys[2]), 16, 16);
    let release = zip_of(&[("store/ext.crx", &crx3(&ext(&keys[3]), 64, 64))]);
    let run =
        scan(&[("ext.crx", &crx), ("legacy.crx", &legacy), ("download.bin", &renamed), ("release.zip", &release)], &[]);
    assert_eq!(found(&run, &keys[0]), place("ext.crx!/background.js", (2, 25), &["crx"]));
    assert_eq!(found(&run, &keys[1]), place("legacy.crx!/js/config.js", (2, 25), &["crx"]));
    assert_eq!(found(&run, &keys[2]), place("download.bin!/background.js", (2, 25), &["crx"]));
    assert_eq!(found(&run, &keys[3]), place("release.zip!/store/ext.crx!/background.js", (2, 25), &["zip", "crx"]));
    assert!(notes(&run).is_empty(), "{:?}", notes(&run));
    assert_only(&run, 4);
}

/// Zip-family files behind a self-extracting stub (with NUL bytes: not
/// skipped as binary), and a jar inside a war.
#[test]
fn zip_family_with_a_prefix_and_nested_jars() {
    let exts = [".aab", ".crx", ".vsix", ".xpi", ".ipa", ".nupkg", ".egg"];
    let keys: Vec<String> = (11..=18).map(openai).collect();
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for (ext, key) in exts.iter().zip(&keys) {
        let mut sfx = b"#!/bin/sh\nexec unzip \"$0\"\nMZ\x90\x00\x03\x00\x00\x00\x04\x00".to_vec();
        sfx.extend([0u8; 500]);
        sfx.extend(zip_of(&[("config/.env", &env(key))]));
        files.push((format!("dist/app{ext}"), sfx));
    }
    let jar = zip_of(&[("config.properties", format!("openai.api-key={}\n", keys[7]).as_bytes())]);
    let war = zip_of(&[("WEB-INF/web.xml", b"<web-app/>"), ("WEB-INF/lib/x.jar", &jar)]);
    files.push(("app.war".to_string(), war));
    let refs: Vec<(&str, &[u8])> = files.iter().map(|(p, b)| (p.as_str(), b.as_slice())).collect();
    let run = scan(&refs, &[]);
    for (ext, key) in exts.iter().zip(&keys) {
        assert_eq!(found(&run, key), place(&format!("dist/app{ext}!/config/.env"), (2, 16), &["zip"]));
    }
    assert_eq!(found(&run, &keys[7]), place("app.war!/WEB-INF/lib/x.jar!/config.properties", (1, 16), &["zip", "zip"]));
    assert!(notes(&run).is_empty(), "{:?}", notes(&run));
    assert_only(&run, 8);
}

/// A self-extracting program (a compiled stub, then a zip) opens whatever
/// its name: the records at the zip's end agree. A key in the stub is found
/// at the file's own path, at its byte offset; the installer is a Windows
/// program, so both are client-side.
#[test]
fn a_self_extracting_program_opens_by_content() {
    let (in_zip, in_stub) = (openai(19), openai(20));
    let mut stub = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff".to_vec();
    stub.extend([0u8; 300]);
    let offset = stub.len();
    stub.extend(in_stub.as_bytes());
    stub.extend([0u8; 40]);
    let setup = [&stub[..], &zip_of(&[("config/app.env", &env(&in_zip))])].concat();
    let run = scan(&[("release/acme-setup.exe", &setup), ("release/acme-setup.bin", &setup)], &[]);
    for name in ["acme-setup.exe", "acme-setup.bin"] {
        let f = findings(&run).iter().find(|f| f["path"] == format!("release/{name}!/config/app.env")).unwrap();
        assert_eq!((f["secret"].as_str(), f["line"].as_u64()), (Some(in_zip.as_str()), Some(2)), "{name}");
        let f = findings(&run).iter().find(|f| f["path"] == format!("release/{name}")).unwrap();
        assert_eq!((f["secret"].as_str(), f["column"].as_u64()), (Some(in_stub.as_str()), Some(offset as u64 + 1)));
        assert_eq!(f["decoded"], serde_json::json!(["binary"]));
    }
    let client: Vec<(&str, bool)> =
        findings(&run).iter().map(|f| (f["path"].as_str().unwrap(), f["client_side"].as_bool().unwrap())).collect();
    assert!(client.iter().all(|(p, c)| *c == p.contains(".exe")), "{client:?}");
    assert!(notes(&run).is_empty(), "{:?}", notes(&run));
    assert_only(&run, 4);
}

#[test]
fn electron_asar() {
    let key = openai(21);
    let main = format!("const {{ app }} = require(\"electron\");\n\nconst OPENAI_API_KEY = \"{key}\";\n");
    let asar = asar_of(&[
        ("package.json", br#"{"name":"app","main":"dist/main.js"}"#),
        ("dist/main.js", main.as_bytes()),
        ("dist/assets/logo.svg", b"<svg/>"),
    ]);
    let run = scan(&[("resources/app.asar", &asar)], &[]);
    assert_eq!(found(&run, &key), place("resources/app.asar!/dist/main.js", (3, 25), &["asar"]));
    assert!(notes(&run).is_empty(), "{:?}", notes(&run));
    assert_only(&run, 1);
}

/// Tarballs and single files of each codec, by content: a `.tar.zst`
/// renamed to `.dat` still opens.
#[test]
fn bzip2_xz_zstd_lz4_files_and_tarballs() {
    type Pack = fn(&[u8]) -> Vec<u8>;
    let codecs: [(&str, Pack); 4] = [("bz2", bzip2), ("xz", xz), ("zst", zstd), ("lz4", lz4)];
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut want = Vec::new();
    for (i, (ext, pack)) in codecs.iter().enumerate() {
        let (tar_key, log_key) = (openai(30 + i as u64), openai(40 + i as u64));
        let tar = tar_of(&[("app/readme.md", b"# app\n"), ("app/.env", &env(&tar_key))]);
        files.push((format!("backup.tar.{ext}"), pack(&tar)));
        want.push((tar_key, place(&format!("backup.tar.{ext}!/app/.env"), (2, 16), &[&format!("tar.{ext}")])));
        let log = format!("boot\nready\nOPENAI_API_KEY={log_key}\n");
        files.push((format!("logs/app.log.{ext}"), pack(log.as_bytes())));
        want.push((log_key, place(&format!("logs/app.log.{ext}!/app.log"), (3, 16), &[ext])));
    }
    let renamed = openai(50);
    files.push(("cache/layer.dat".into(), zstd(&tar_of(&[("srv/.env", &env(&renamed))]))));
    want.push((renamed, place("cache/layer.dat!/srv/.env", (2, 16), &["tar.zst"])));
    let refs: Vec<(&str, &[u8])> = files.iter().map(|(p, b)| (p.as_str(), b.as_slice())).collect();
    let run = scan(&refs, &[]);
    for (key, at) in &want {
        assert_eq!(&found(&run, key), at);
    }
    assert!(notes(&run).is_empty(), "{:?}", notes(&run));
    assert_only(&run, want.len());
}

/// A `docker save` image in the OCI layout (Docker 25+): layers under
/// `blobs/sha256/<digest>` with no extension, plain, gzip'd and zstd'd,
/// each opened by content; a key deleted by a later layer's whiteout is
/// still reported in its own layer; a jar in a layer is opened, and a jar
/// in that jar (image, layer, jar, jar: the depth limit is 4); a key in the image config's
/// `Env` is reported in the config blob. And the older `<id>/layer.tar`
/// layout.
#[test]
fn docker_save_and_oci_images() {
    let keys: Vec<String> = (61..=66).map(openai).collect();
    let digest = |n: u64| format!("blobs/sha256/{n:064x}");
    let sdk = zip_of(&[("com/acme/Sdk.class", &[b"\xca\xfe\xba\xbe\x00\x01".as_slice(), keys[5].as_bytes()].concat())]);
    let jar = zip_of(&[
        ("application.properties", format!("openai.api-key={}\n", keys[2]).as_bytes()),
        ("BOOT-INF/lib/sdk.jar", &sdk),
    ]);
    let l1 = tar_of(&[("app/.env", &env(&keys[0])), ("app/main.py", b"print(1)\n")]);
    let l2 = gzip(&tar_of(&[("app/.wh..env", b""), ("app/new.env", &env(&keys[1]))]));
    let l3 = zstd(&tar_of(&[("srv/app.jar", &jar)]));
    let config =
        format!(r#"{{"architecture":"amd64","config":{{"Env":["PATH=/usr/bin","OPENAI_API_KEY={}"]}}}}"#, keys[3]);
    let (d1, d2, d3, dc) = (digest(1), digest(2), digest(3), digest(4));
    let image = tar_of(&[
        ("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#),
        ("index.json", br#"{"schemaVersion":2,"manifests":[]}"#),
        (&dc, config.as_bytes()),
        (&d1, &l1),
        (&d2, &l2),
        (&d3, &l3),
    ]);
    let old = tar_of(&[("manifest.json", b"[]"), ("5f3a/layer.tar", &tar_of(&[("app/.env", &env(&keys[4]))]))]);
    let run = scan(&[("image.tar", &image), ("old/image.tar", &old)], &[]);
    assert_eq!(found(&run, &keys[0]), place(&format!("image.tar!/{d1}!/app/.env"), (2, 16), &["tar", "tar"]));
    assert_eq!(found(&run, &keys[1]), place(&format!("image.tar!/{d2}!/app/new.env"), (2, 16), &["tar", "tar.gz"]));
    assert_eq!(
        found(&run, &keys[2]),
        place(&format!("image.tar!/{d3}!/srv/app.jar!/application.properties"), (1, 16), &["tar", "tar.zst", "zip"])
    );
    let at = locate(config.as_bytes(), &keys[3]);
    assert_eq!(found(&run, &keys[3]), place(&format!("image.tar!/{dc}"), at, &["tar"]));
    assert_eq!(found(&run, &keys[4]), place("old/image.tar!/5f3a/layer.tar!/app/.env", (2, 16), &["tar", "tar"]));
    // Image, layer, fat jar, library jar: the fourth level is opened.
    assert_eq!(
        found(&run, &keys[5]),
        place(
            &format!("image.tar!/{d3}!/srv/app.jar!/BOOT-INF/lib/sdk.jar!/com/acme/Sdk.class"),
            (1, 7),
            &["tar", "tar.zst", "zip", "zip", "binary"]
        )
    );
    assert!(notes(&run).is_empty(), "{:?}", notes(&run));
    assert_only(&run, 6);
}

/// A PDF: a deflated content stream and a raw stream are members named
/// after their objects; the document information around them is
/// `objects`. A key a typesetter drew in kerned pieces (a `TJ` array) is
/// one string in its stream.
#[test]
fn pdf_streams_and_objects() {
    let keys: Vec<String> = (71..=74).map(openai).collect();
    let pieces: Vec<String> =
        keys[3].as_bytes().chunks(9).map(|p| format!("({})", String::from_utf8_lossy(p))).collect();
    let content = format!(
        "BT\n/F1 12 Tf 72 712 Td\n(OPENAI_API_KEY={}) Tj\nET\nBT [(Backup:) -333 {}] TJ ET\n",
        keys[0],
        pieces.join(" -12 ")
    );
    let packed = zlib(content.as_bytes());
    let raw = format!("% form data\nOPENAI_API_KEY={}\n", keys[1]);
    let flate = format!("<< /Length {} /Filter /FlateDecode >>", packed.len());
    let raw_dict = format!("<< /Length {} >>", raw.len());
    let info = format!("<< /Title (Deploy notes) /Subject (OPENAI_API_KEY={}) >>", keys[2]);
    let pdf = pdf_of(&[
        ("<< /Type /Catalog /Pages 2 0 R >>", None),
        ("<< /Type /Pages /Kids [3 0 R] /Count 1 >>", None),
        ("<< /Type /Page /Parent 2 0 R /Contents 4 0 R >>", None),
        (&flate, Some(&packed)),
        (&raw_dict, Some(raw.as_bytes())),
        (&info, None),
    ]);
    let run = scan(&[("docs/deploy.pdf", &pdf)], &[]);
    assert_eq!(found(&run, &keys[0]), place("docs/deploy.pdf!/stream-4", (3, 17), &["pdf"]));
    assert_eq!(found(&run, &keys[1]), place("docs/deploy.pdf!/stream-5", (2, 16), &["pdf"]));
    let (path, _, _, decoded) = found(&run, &keys[2]);
    assert_eq!((path.as_str(), decoded), ("docs/deploy.pdf!/objects", vec!["pdf".to_string()]));
    // `BT (Backup: sk-proj-...) TJ`: the array became one string.
    assert_eq!(found(&run, &keys[3]), place("docs/deploy.pdf!/stream-4", (5, 13), &["pdf"]));
    assert!(notes(&run).is_empty(), "{:?}", notes(&run));
    assert_only(&run, 4);
}

/// Word, Excel and PowerPoint: a key split over two runs of one paragraph
/// (shared string, slide paragraph) is found in the part's `#text` member.
#[test]
fn office_documents_join_runs() {
    let keys: Vec<String> = (81..=84).map(openai).collect();
    let runs = |k: &str, p: &str, t: &str| {
        format!(
            "<{p}:r><{p}:t>OPENAI_API_KEY={}</{t}></{p}:r><{p}:r><{p}:rPr/><{p}:t>{}</{t}></{p}:r>",
            &k[..30],
            &k[30..]
        )
    };
    let document = format!(
        r#"<?xml version="1.0"?><w:document xmlns:w="w"><w:body><w:p><w:r><w:t>Deploy notes</w:t></w:r></w:p><w:p>{}</w:p></w:body></w:document>"#,
        runs(&keys[0], "w", "w:t")
    );
    let header = format!(r#"<w:hdr><w:p>{}</w:p></w:hdr>"#, runs(&keys[1], "w", "w:t"));
    let docx = zip_of(&[
        ("[Content_Types].xml", b"<Types/>"),
        ("word/document.xml", document.as_bytes()),
        ("word/header1.xml", header.as_bytes()),
    ]);
    let shared = format!(
        r#"<sst count="2"><si><t>name</t></si><si><r><t>OPENAI_API_KEY={}</t></r><r><t>{}</t></r></si></sst>"#,
        &keys[2][..40],
        &keys[2][40..]
    );
    let xlsx = zip_of(&[("xl/sharedStrings.xml", shared.as_bytes()), ("xl/worksheets/sheet1.xml", b"<worksheet/>")]);
    let slide = format!(
        r#"<p:sld><p:cSld><p:spTree><p:sp><p:txBody><a:p>{}</a:p></p:txBody></p:sp></p:spTree></p:cSld></p:sld>"#,
        runs(&keys[3], "a", "a:t")
    );
    let pptx = zip_of(&[("ppt/slides/slide1.xml", slide.as_bytes())]);
    let run = scan(&[("report.docx", &docx), ("book.xlsx", &xlsx), ("deck.pptx", &pptx)], &[]);
    let ooxml = ["zip", "ooxml"];
    assert_eq!(found(&run, &keys[0]), place("report.docx!/word/document.xml#text", (2, 16), &ooxml));
    assert_eq!(found(&run, &keys[1]), place("report.docx!/word/header1.xml#text", (1, 16), &ooxml));
    assert_eq!(found(&run, &keys[2]), place("book.xlsx!/xl/sharedStrings.xml#text", (2, 16), &ooxml));
    assert_eq!(found(&run, &keys[3]), place("deck.pptx!/ppt/slides/slide1.xml#text", (1, 16), &ooxml));
    assert_only(&run, 4);
}

/// Bombs and lies: an xz bomb (1 GiB of zeros in 512 streams), a zstd bomb
/// (4 GiB in 128 KiB), a zstd tarball whose stream turns into a bomb, a
/// CRX whose header length points past the end, an asar cut short. Each
/// ends with a note; what could be read is scanned; the key beside them is
/// reported; the run is quick (the timeout is only a hang guard).
#[test]
fn hostile_containers_finish_quickly_with_notes() {
    let (beside, in_asar, in_tar) = (openai(91), openai(92), openai(93));
    let xz_bomb = xz(&vec![0u8; 2 << 20]).repeat(512);
    let zstd_bomb = zstd_zeros(4096);
    let lying = crx3(&zip_of(&[("background.js", b"x")]), 32, 0x7fff_fff0);
    let a_js = format!("const k = \"{in_asar}\";\n");
    let asar = asar_of(&[("a.js", a_js.as_bytes()), ("b.js", &[b'x'; 400])]);
    let truncated = &asar[..asar.len() - 100];
    // File data starts after the header: a.js, then b.js.
    let data_left = truncated.len() - (asar.len() - a_js.len() - 400);
    // A tar whose second member claims 1 GiB, its data zeros in RLE blocks.
    let mut tar = tar_of(&[("a.env", &env(&in_tar))]);
    tar.truncate(1024);
    let mut big = tar::Header::new_ustar();
    big.set_path("big.bin").unwrap();
    big.set_size(1 << 30);
    big.set_cksum();
    tar.extend(big.as_bytes());
    let mut tar_bomb = zstd(&tar);
    tar_bomb.extend(zstd_zeros(1024));
    let started = Instant::now();
    let run = scan(
        &[
            ("image.tar.zst", &tar_bomb),
            ("zeros.xz", &xz_bomb),
            ("zeros.zst", &zstd_bomb),
            ("ext.crx", &lying),
            ("app.asar", truncated),
            (".env", &env(&beside)),
        ],
        &[],
    );
    assert!(started.elapsed() < Duration::from_secs(60), "{:?}", started.elapsed());
    assert_eq!(found(&run, &beside), place(".env", (2, 16), &[]));
    assert_eq!(found(&run, &in_asar), place("app.asar!/a.js", (1, 12), &["asar"]));
    assert_eq!(found(&run, &in_tar), place("image.tar.zst!/a.env", (2, 16), &["tar.zst"]));
    assert_only(&run, 3);
    let mut notes = notes(&run);
    notes.sort();
    let (xz_cap, zstd_cap) = (xz_bomb.len() as u64 * 100, zstd_bomb.len() as u64 * 100);
    let tar_cap = tar_bomb.len() as u64 * 100;
    assert_eq!(
        notes,
        [
            format!(
                "skipped: ext.crx: CRX3 header of 2147483632 bytes runs past the end of the file ({} bytes); not opened",
                lying.len()
            ),
            format!("skipped: image.tar.zst: exceeds {tar_cap} bytes decompressed (zip bomb protection)"),
            format!("skipped: zeros.xz!/zeros: exceeds {xz_cap} bytes decompressed (zip bomb protection)"),
            format!("skipped: zeros.zst!/zeros: exceeds {zstd_cap} bytes decompressed (zip bomb protection)"),
            format!(
                "truncated: app.asar: 1 asar entries point past the end of the file data ({data_left} bytes); read what is there"
            ),
        ]
    );
}

/// An image of 10,000 tiny layers (the key in the last one): every layer
/// opened, no note, in bounded time.
#[test]
fn ten_thousand_layer_image_finishes() {
    let key = openai(95);
    let plain = tar_of(&[("etc/hostname", b"box\n")]);
    let last = tar_of(&[("etc/app.env", &env(&key))]);
    let names: Vec<String> = (0..10_000u64).map(|i| format!("blobs/sha256/{i:064x}")).collect();
    let entries: Vec<(&str, &[u8])> =
        names.iter().enumerate().map(|(i, n)| (n.as_str(), if i == 9_999 { &last[..] } else { &plain[..] })).collect();
    let image = tar_of(&entries);
    let started = Instant::now();
    let run = scan(&[("image.tar", &image)], &["--max-file-size", "64M"]);
    let path = format!("image.tar!/{}!/etc/app.env", names[9_999]);
    assert_eq!(found(&run, &key), place(&path, (2, 16), &["tar", "tar"]));
    assert!(notes(&run).is_empty(), "{:?}", notes(&run));
    assert_only(&run, 1);
    assert!(started.elapsed() < Duration::from_secs(60), "{:?}", started.elapsed());
}
