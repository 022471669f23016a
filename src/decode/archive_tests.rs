//! Tests of the container opener as a whole ([`super::archive`]): formats
//! told by content, nesting, images and their layers, bombs.

use std::time::Instant;

use super::super::compressed::Codec;
use super::super::compressed::tests::compress;
use super::super::test_archives::{crx3, tar_of, zip_of, zstd_zeros};
use super::super::{Limits, Member};
use super::{MAX_ENTRIES, expand, is_container, zip_prefix};

fn open(bytes: &[u8], path: &str, limits: &Limits) -> (Vec<Member>, Vec<String>) {
    let mut notes = Vec::new();
    let mut out = Vec::new();
    let opened = expand(bytes, path, limits, &mut notes, &mut |m| out.push(m));
    assert!(opened, "{path} not opened");
    (out, notes)
}

fn paths(members: &[Member]) -> Vec<(&str, Vec<&str>)> {
    members.iter().map(|m| (m.path.as_str(), m.chain.clone())).collect()
}

#[test]
fn zip_with_a_prefix_opens_by_content() {
    let zip = zip_of(&[("config/.env", b"KEY=value\n")]);
    // A launcher script and a binary stub (NULs) before the zip.
    let mut sfx = b"#!/bin/sh\nexec java -jar \"$0\" \"$@\"\nMZ\x90\x00\x03\x00\x00\x00".to_vec();
    sfx.extend(vec![0u8; 300]);
    sfx.extend(&zip);
    // Any name, or none (a git blob): the records at the end agree.
    for ext in [".aab", ".crx", ".vsix", ".xpi", ".ipa", ".nupkg", ".egg", ".jar", ".apk", ".whl", ".bin", ""] {
        let path = format!("dist/app{ext}");
        assert!(is_container(&sfx, &path), "{path}");
        let (members, notes) = open(&sfx, &path, &Limits::default());
        assert_eq!(paths(&members), [("config/.env", vec!["zip"])], "{path}");
        assert!(notes.is_empty(), "{notes:?}");
    }
    assert_eq!(zip_prefix(&sfx, ""), &sfx[..sfx.len() - zip.len()]);
    assert!(zip_prefix(&zip, "").is_empty());
    // Records that disagree (the central directory's offset points past
    // the first local header): a zip-family name still opens it.
    let end = sfx.len() - 22;
    sfx[end + 16] = sfx[end + 16].wrapping_add(1);
    assert!(is_container(&sfx, "dist/app.jar"));
    assert!(!is_container(&sfx, "dist/app.bin"));
    assert!(!is_container(&sfx, ""));
}

#[test]
fn nested_jars_in_a_war() {
    let jar = zip_of(&[("config.properties", b"db.password=hunter2\n"), ("META-INF/MANIFEST.MF", b"x")]);
    let war = zip_of(&[("WEB-INF/web.xml", b"<web-app/>"), ("WEB-INF/lib/x.jar", &jar)]);
    let (members, notes) = open(&war, "app.war", &Limits::default());
    assert!(notes.is_empty(), "{notes:?}");
    let got = paths(&members);
    assert!(got.contains(&("WEB-INF/lib/x.jar!/config.properties", vec!["zip", "zip"])), "{got:?}");
    assert!(got.contains(&("WEB-INF/web.xml", vec!["zip"])), "{got:?}");
}

#[test]
fn crx_opens_and_a_lying_header_is_a_note() {
    let zip = zip_of(&[("manifest.json", b"{}"), ("background.js", b"const key = 1;\n")]);
    let crx = crx3(&zip, 64, 64);
    let (members, notes) = open(&crx, "ext.crx", &Limits::default());
    assert!(notes.is_empty(), "{notes:?}");
    assert_eq!(paths(&members)[1], ("background.js", vec!["crx"]));
    // Nested: a CRX inside a zip keeps both formats in its chain.
    let outer = zip_of(&[("store/ext.crx", &crx)]);
    let (members, _) = open(&outer, "release.zip", &Limits::default());
    assert_eq!(paths(&members)[1], ("store/ext.crx!/background.js", vec!["zip", "crx"]));

    let lying = crx3(&zip, 64, 0x7fff_ffff);
    let t = Instant::now();
    let (members, notes) = open(&lying, "ext.crx", &Limits::default());
    assert!(members.is_empty());
    assert_eq!(
        notes,
        [format!(
            "skipped: ext.crx: CRX3 header of 2147483647 bytes runs past the end of the file ({} bytes); not opened",
            lying.len()
        )]
    );
    assert!(t.elapsed().as_secs() < 5);
}

#[test]
fn compressed_files_and_tarballs_by_content() {
    let tar = tar_of(&[("app/readme.md", b"hello\n"), ("app/.env", b"KEY=value\n")]);
    for codec in [Codec::Gz, Codec::Bz2, Codec::Xz, Codec::Zstd, Codec::Lz4] {
        // A tarball with no extension at all (an image layer's blob).
        let packed = compress(codec, &tar);
        assert!(is_container(&packed, ""));
        let (members, notes) = open(&packed, "blobs/sha256/0123abcd", &Limits::default());
        assert!(notes.is_empty(), "{codec:?}: {notes:?}");
        assert_eq!(paths(&members)[1], ("app/.env", vec![codec.name(true)]), "{codec:?}");
        assert_eq!(members[1].bytes, b"KEY=value\n");
        // One compressed file.
        let packed = compress(codec, b"boot\nKEY=value\n");
        let (members, _) = open(&packed, "logs/app.log.bin", &Limits::default());
        assert_eq!(paths(&members), [(codec.member_name("logs/app.log.bin").as_str(), vec![codec.name(false)])]);
        assert_eq!(members[0].bytes, b"boot\nKEY=value\n");
    }
}

#[test]
fn truncated_compressed_file_keeps_what_was_read() {
    // Hard to compress, so that the xz stream has many LZMA2 chunks (each
    // decoded whole: a chunk cut short yields nothing).
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let text: Vec<u8> = (0..20_000)
        .flat_map(|i| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            format!("line {i} KEY={state:016x}{:016x}\n", state.rotate_left(17)).into_bytes()
        })
        .collect();
    let packed = compress(Codec::Xz, &text);
    let (members, notes) = open(&packed[..packed.len() * 2 / 3], "app.log.xz", &Limits::default());
    assert_eq!(members.len(), 1, "{notes:?}");
    assert!(!members[0].bytes.is_empty() && text.starts_with(&members[0].bytes));
    assert!(notes[0].starts_with("truncated: app.log.xz!/app.log: unreadable after "), "{notes:?}");
}

#[test]
fn bombs_stop_quickly_with_a_note() {
    // 4 GiB of zeros in 128 KiB of zstd.
    let zstd = zstd_zeros(4096);
    // 1 GiB of zeros as 512 xz (bzip2) streams of 2 MiB each (cheap to
    // build in a debug build too).
    let xz = compress(Codec::Xz, &vec![0u8; 2 << 20]).repeat(512);
    let bz2 = compress(Codec::Bz2, &vec![0u8; 2 << 20]).repeat(512);
    for (bomb, path) in [(&zstd, "zeros.zst"), (&xz, "zeros.xz"), (&bz2, "zeros.bz2")] {
        let t = Instant::now();
        let (members, notes) = open(bomb, path, &Limits::default());
        assert!(members.is_empty(), "{path}");
        let limit = (bomb.len() as u64 * 100).max(1 << 20);
        assert_eq!(
            notes,
            [format!("skipped: {path}!/zeros: exceeds {limit} bytes decompressed (zip bomb protection)")]
        );
        // A hang guard (well under a second in a release build).
        assert!(t.elapsed().as_secs() < 20, "{path}: {:?}", t.elapsed());
    }
    // As a tarball: the stream is cut at its cap, the tar read so far kept.
    let mut tar = tar_of(&[("a.txt", b"first\n")]);
    tar.truncate(1024);
    let mut big = tar::Header::new_ustar();
    big.set_path("big.bin").unwrap();
    big.set_size(1 << 30);
    big.set_cksum();
    tar.extend(big.as_bytes());
    let mut zst = compress(Codec::Zstd, &tar);
    zst.extend(zstd_zeros(1024));
    let (members, notes) = open(&zst, "image.tar.zst", &Limits::default());
    assert_eq!(paths(&members), [("a.txt", vec!["tar.zst"])]);
    assert!(notes.iter().any(|n| n.contains("(zip bomb protection)")), "{notes:?}");
}

/// `docker save` (Docker 25+: OCI layout) and the older layout: every
/// layer opened by content, whatever its compression; a file deleted by a
/// later layer's whiteout still reported in its own layer; a jar in a
/// layer opened too (image 0, layer 1, jar 2: inside the depth limit).
#[test]
fn image_layers_open_by_content() {
    let jar = zip_of(&[("application.properties", b"api.key=abc\n")]);
    let l1 = tar_of(&[("app/.env", b"KEY=one\n"), ("app/lib/app.jar", &jar)]);
    let l2 = compress(Codec::Gz, &tar_of(&[("app/.wh..env", b""), ("etc/motd", b"hi\n")]));
    let l3 = compress(Codec::Zstd, &tar_of(&[("srv/config.yml", b"token: two\n")]));
    let manifest = br#"{"schemaVersion":2,"layers":[]}"#;
    let oci = tar_of(&[
        ("index.json", manifest),
        ("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#),
        ("blobs/sha256/1111", &l1),
        ("blobs/sha256/2222", &l2),
        ("blobs/sha256/3333", &l3),
    ]);
    let (members, notes) = open(&oci, "image.tar", &Limits::default());
    assert!(notes.is_empty(), "{notes:?}");
    let got = paths(&members);
    for want in [
        ("blobs/sha256/1111!/app/.env", vec!["tar", "tar"]),
        ("blobs/sha256/1111!/app/lib/app.jar!/application.properties", vec!["tar", "tar", "zip"]),
        ("blobs/sha256/2222!/app/.wh..env", vec!["tar", "tar.gz"]),
        ("blobs/sha256/3333!/srv/config.yml", vec!["tar", "tar.zst"]),
        ("index.json", vec!["tar"]),
    ] {
        assert!(got.contains(&(want.0, want.1.clone())), "{want:?} not in {got:?}");
    }
    // The older layout, and the whole image gzip'd.
    let old = compress(Codec::Gz, &tar_of(&[("manifest.json", manifest), ("abc/layer.tar", &l1)]));
    let (members, _) = open(&old, "image.tgz", &Limits::default());
    assert!(paths(&members).contains(&("abc/layer.tar!/app/.env", vec!["tar.gz", "tar"])));
}

#[test]
fn ten_thousand_layers_finish_quickly() {
    let layer = tar_of(&[("etc/hostname", b"box\n")]);
    let names: Vec<String> = (0..10_000).map(|i| format!("blobs/sha256/{i:064x}")).collect();
    let entries: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), layer.as_slice())).collect();
    let image = tar_of(&entries);
    let t = Instant::now();
    let (members, notes) = open(&image, "image.tar", &Limits::default());
    assert_eq!(members.len(), 10_000);
    assert!(notes.is_empty(), "{notes:?}");
    // A hang guard (a fraction of a second in a release build).
    assert!(t.elapsed().as_secs() < 30, "{:?}", t.elapsed());
}

#[test]
fn entries_past_the_cap_are_noted() {
    let names: Vec<String> = (0..=MAX_ENTRIES).map(|i| format!("{i}")).collect();
    let entries: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b""[..])).collect();
    let t = Instant::now();
    let (members, notes) = open(&tar_of(&entries), "many.tar", &Limits::default());
    assert_eq!(members.len(), MAX_ENTRIES);
    assert_eq!(notes, [format!("truncated: many.tar: more than {MAX_ENTRIES} entries, only the first read")]);
    assert!(t.elapsed().as_secs() < 30, "{:?}", t.elapsed());
}

#[test]
fn office_documents_give_their_text() {
    let body = r#"<w:document><w:body><w:p><w:r><w:t>OPENAI_API_KEY=sk-proj-abc</w:t></w:r><w:r><w:t>def</w:t></w:r></w:p></w:body></w:document>"#;
    let docx = zip_of(&[
        ("[Content_Types].xml", b"<Types/>"),
        ("word/document.xml", body.as_bytes()),
        ("word/styles.xml", b"<w:styles/>"),
    ]);
    let (members, _) = open(&docx, "report.docx", &Limits::default());
    let got = paths(&members);
    assert_eq!(got[1], ("word/document.xml#text", vec!["zip", "ooxml"]));
    assert_eq!(members[1].bytes, b"OPENAI_API_KEY=sk-proj-abcdef\n");
    assert_eq!(got[2], ("word/styles.xml", vec!["zip"]));
}
