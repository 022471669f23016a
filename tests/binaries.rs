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
    // A length prefix that is a letter before it, the next string glued after it.
    let mut bytes = b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00".to_vec();
    bytes.extend(b"\x00G");
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
