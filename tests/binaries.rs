//! Binaries and shipped apps through the binary: a key compiled into a
//! program, a `.class`, a UTF-16 resource table or an Android app is found
//! whatever bytes surround it, reported at its byte offset, and an app's
//! key is client-side. Media files are skipped by signature.

use std::fs;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::common;
use crate::common::archive::zip_of;

fn scan(dir: &Path) -> (i32, Value) {
    let out = common::command().args(["scan", "--format", "json"]).arg(dir).output().unwrap();
    (out.status.code().unwrap_or(-1), serde_json::from_slice(&out.stdout).unwrap())
}

use crate::common::finding_at as finding;

fn utf16le(text: &str) -> Vec<u8> {
    text.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

#[test]
fn a_key_packed_between_other_bytes_is_found_at_its_offset() {
    let dir = tempfile::tempdir().unwrap();
    let key = common::key("github-classic", 71);
    // A length prefix that is a letter ('C': 67, the key and the URL glued
    // after it, one string), the next string glued after it.
    let mut bytes = b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00".to_vec();
    bytes.extend(b"\x00C");
    let offset = bytes.len();
    bytes.extend(key.as_bytes());
    bytes.extend(b"https://api.github.com/user\x00\x01\x02");
    fs::write(dir.path().join("tool"), &bytes).unwrap();
    let (code, doc) = scan(dir.path());
    assert_eq!(code, 1);
    let f = finding(&doc, "tool");
    assert_eq!(f["rule_id"], "github-pat-classic");
    assert_eq!(f["secret_sha256"], common::sha256(&key));
    assert_eq!((f["line"].as_u64(), f["column"].as_u64()), (Some(1), Some(offset as u64 + 1)));
    assert_eq!(f["decoded"], serde_json::json!(["binary"]));
    assert_eq!(doc["stats"]["files_scanned"], 1);
}

#[test]
fn utf16_strings_in_a_resource_table_are_found() {
    let dir = tempfile::tempdir().unwrap();
    let key = common::key("anthropic-api", 72);
    let mut bytes = vec![0x02, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x01, 0x00];
    bytes.extend((key.len() as u16).to_le_bytes());
    let offset = bytes.len();
    bytes.extend(utf16le(&key));
    bytes.extend([0x00, 0x00, 0x7f, 0x00, 0x03]);
    fs::write(dir.path().join("resources.arsc"), &bytes).unwrap();
    let (_, doc) = scan(dir.path());
    let f = finding(&doc, "resources.arsc");
    assert_eq!(f["secret_sha256"], common::sha256(&key));
    assert_eq!(f["column"].as_u64(), Some(offset as u64 + 1));
    assert_eq!(f["decoded"], serde_json::json!(["utf-16-strings"]));
}

#[test]
fn a_program_compiled_with_the_system_compiler() {
    let Ok(cc) = Command::new("cc").arg("--version").output() else {
        eprintln!("no C compiler: skipped");
        return;
    };
    assert!(cc.status.success());
    let dir = tempfile::tempdir().unwrap();
    let key = common::key("openai-project", 73);
    let source = dir.path().join("main.c");
    fs::write(
        &source,
        format!("#include <stdio.h>\nstatic const char *KEY = \"{key}\";\nint main(void) {{ puts(KEY); return 0; }}\n"),
    )
    .unwrap();
    let out_dir = dir.path().join("bin");
    fs::create_dir(&out_dir).unwrap();
    let status = Command::new("cc").arg("-O2").arg("-o").arg(out_dir.join("client")).arg(&source).status().unwrap();
    assert!(status.success());
    let (code, doc) = scan(&out_dir);
    assert_eq!(code, 1);
    assert_eq!(finding(&doc, "client")["secret_sha256"], common::sha256(&key));
}

#[test]
fn a_key_inside_an_android_app_is_client_side() {
    let dir = tempfile::tempdir().unwrap();
    let key = common::key("openai-project", 74);
    let mut dex = b"dex\n035\x00".to_vec();
    dex.extend([0x00; 24]);
    dex.push(key.len() as u8); // a length prefix
    dex.extend(key.as_bytes());
    dex.push(0);
    let placeholder = b"sk-proj-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\x00";
    let apk = zip_of(&[
        ("classes.dex", &dex),
        ("res/raw/defaults.bin", placeholder),
        ("AndroidManifest.xml", b"\x03\x00\x08\x00"),
    ]);
    fs::write(dir.path().join("app-release.apk"), apk).unwrap();
    let (code, doc) = scan(dir.path());
    assert_eq!(code, 1);
    let findings = doc["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "the placeholder is not a key: {doc}");
    let f = &findings[0];
    assert_eq!(f["path"], "app-release.apk!/classes.dex");
    assert_eq!(f["client_side"], true);
    assert_eq!(f["severity"], "critical");
    assert_eq!(f["exposure"], "shipped inside the Android app app-release.apk: anyone who installs it can unpack it");
}

#[test]
fn a_key_in_a_server_jar_stays_server_side() {
    let dir = tempfile::tempdir().unwrap();
    let key = common::key("anthropic-api", 75);
    let class = [b"\xca\xfe\xba\xbe\x00\x00\x00\x34\x01\x00".as_slice(), &[key.len() as u8], key.as_bytes()].concat();
    let jar = zip_of(&[("com/acme/Client.class", &class), ("static/app.js", format!("k='{key}'").as_bytes())]);
    fs::write(dir.path().join("service.jar"), jar).unwrap();
    let (_, doc) = scan(dir.path());
    for f in doc["findings"].as_array().unwrap() {
        assert_eq!(f["client_side"], false, "{f}");
    }
    assert_eq!(doc["findings"].as_array().unwrap().len(), 2);
}

#[test]
fn media_is_skipped_by_its_signature() {
    let dir = tempfile::tempdir().unwrap();
    let key = common::key("openai-project", 76);
    fs::write(dir.path().join("logo.dat"), [b"\x89PNG\r\n\x1a\n".as_slice(), key.as_bytes()].concat()).unwrap();
    let (code, doc) = scan(dir.path());
    assert_eq!(code, 0);
    assert_eq!(doc["stats"]["skipped"]["media"], 1);
    assert_eq!(doc["skipped"][0]["detail"], "PNG image");
}

/// Programs and apps users install are client-side by where they are (a
/// Windows program, a macOS app bundle, a web bundle's WebAssembly, Android
/// code); a server's program is not.
#[test]
fn installed_programs_are_client_side_and_servers_are_not() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("release/windows/Acme.exe", true),
        ("desktop/Acme.app/Contents/MacOS/Acme", true),
        ("web/dist/assets/app_bg.wasm", true),
        ("app/build/intermediates/dex/release/classes.dex", true),
        ("server/bin/api-server", false),
        ("vendor/lib/libacme.so", false),
    ];
    for (i, (path, _)) in cases.iter().enumerate() {
        let key = common::key("openai-project", 80 + i as u64);
        let bytes = [b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00".as_slice(), key.as_bytes(), b"\x00\x01"].concat();
        let target = dir.path().join(path);
        fs::create_dir_all(target.parent().unwrap()).unwrap();
        fs::write(target, bytes).unwrap();
    }
    let (code, doc) = scan(dir.path());
    assert_eq!(code, 1);
    for (path, client) in cases {
        let f = finding(&doc, path);
        assert_eq!(f["client_side"], client, "{path}: {}", f["exposure"]);
    }
    assert_eq!(doc["findings"].as_array().unwrap().len(), cases.len());
}

/// Rust and Go store strings end to end: a key whose next string is a URL
/// is reported without the URL's scheme, which an open-ended pattern would
/// otherwise read as more of the key.
#[test]
fn a_key_packed_against_a_url_ends_where_the_url_starts() {
    let dir = tempfile::tempdir().unwrap();
    let key = common::key("openai-project", 90);
    let bytes =
        [b"\x7fELF\x02\x01\x01\x00\x00\x00".as_slice(), key.as_bytes(), b"https://api.openai.com/v1gpt4o\x00"].concat();
    fs::write(dir.path().join("server"), bytes).unwrap();
    let (_, doc) = scan(dir.path());
    assert_eq!(finding(&doc, "server")["secret_sha256"], common::sha256(&key));
}

/// SQLite databases in UTF-8 and UTF-16 (built with the sqlite3 shell when
/// there is one): a record stores its values end to end, so a key right
/// after a value ending in a letter is glued to it; each value is read on
/// its own.
#[test]
fn sqlite_databases_in_utf8_and_utf16() {
    if Command::new("sqlite3").arg("--version").output().is_err() {
        eprintln!("no sqlite3: skipped");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for (i, encoding) in ["UTF-8", "UTF-16le"].iter().enumerate() {
        let (key, glued) = (common::key("anthropic-api", 91 + i as u64), common::key("huggingface", 93 + i as u64));
        let sql = format!(
            "PRAGMA encoding = '{encoding}';\nCREATE TABLE settings (name TEXT, value TEXT);\n\
             INSERT INTO settings VALUES ('anthropic', '{key}');\nINSERT INTO settings VALUES ('token', '{glued}');\n"
        );
        let db = dir.path().join(format!("cache-{i}.db"));
        let mut child = Command::new("sqlite3").arg(&db).stdin(std::process::Stdio::piped()).spawn().unwrap();
        std::io::Write::write_all(child.stdin.as_mut().unwrap(), sql.as_bytes()).unwrap();
        assert!(child.wait().unwrap().success());
    }
    let (code, doc) = scan(dir.path());
    assert_eq!(code, 1);
    let mut got: Vec<(String, String, String)> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["path"].as_str().unwrap().into(), f["rule_id"].as_str().unwrap().into(), f["decoded"].to_string()))
        .collect();
    got.sort();
    let want = [
        ("cache-0.db", "anthropic-api-key", r#"["binary"]"#),
        ("cache-0.db", "huggingface-access-token", r#"["sqlite"]"#),
        ("cache-1.db", "anthropic-api-key", r#"["utf-16-strings"]"#),
        ("cache-1.db", "huggingface-access-token", r#"["sqlite"]"#),
    ];
    let want: Vec<(String, String, String)> =
        want.iter().map(|(p, r, d)| (p.to_string(), r.to_string(), d.to_string())).collect();
    assert_eq!(got, want, "{doc:#}");
}

/// A binary over `--max-file-size` is read in parts; one newline in its
/// header (and none after) must not hold the parts at the start: the scan
/// ends, and the key near the end is found at its byte offset.
#[test]
fn a_large_binary_with_one_newline_is_read_in_parts() {
    let dir = tempfile::tempdir().unwrap();
    let key = common::key("openai-project", 92);
    let mut bytes = b"\x7fELF\x02\x01\x01\x00\n".to_vec();
    let mut state = 0x2545_f491u32;
    bytes.extend((0..20 << 20).map(|_| {
        state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        match (state >> 16) as u8 {
            b'\n' => 0,
            b => b,
        }
    }));
    bytes.push(0);
    let at = bytes.len();
    bytes.extend(key.as_bytes());
    bytes.push(0);
    fs::write(dir.path().join("big.bin"), &bytes).unwrap();
    let run =
        common::leakhound(["scan", "--format", "json", "--max-file-size", "1M", dir.path().to_str().unwrap()], 120);
    let f = finding(&run.doc, "big.bin");
    assert_eq!(f["secret_sha256"], common::sha256(&key));
    // Line 2 starts after the newline at byte 8.
    assert_eq!((f["line"].as_u64(), f["column"].as_u64()), (Some(2), Some((at - 9 + 1) as u64)));
    assert_eq!(run.doc["stats"]["files_scanned"], 1);
    assert_eq!(run.doc["notes"].as_array().map(Vec::len), Some(1), "one note for the file: {}", run.doc["notes"]);
}
