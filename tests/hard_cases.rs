//! Hard cases, end to end: keys hidden behind encodings, text encodings,
//! bundles, archives and string concatenation must be found by the real
//! binary (`leakhound scan --format json`), each at the right place.
//!
//! `tests/decode_unit.rs` proves each decoder on its own; this file proves
//! the whole path a user sees: the walk, the decoders, the archive opener,
//! the mapping back to the original file, deduplication against the raw
//! scan, and the JSON report. For every planted key it asserts the exact
//! `rule_id`, `path`, `line`, `column` (1-based, counting bytes of the file
//! on disk, as the README documents), the `decoded` chain and the `note`,
//! that no other finding appears, and the exit code. `--no-decode` must make
//! every decoded-only key disappear again.
//!
//! Keys are generated at run time ([`common::key`]), so no fixture carries
//! anything that looks like a live key. Every fixture is built in a fresh
//! temporary directory; archives are built in memory with the `zip`, `tar`
//! and `flate2` crates, and the zip bomb from one compressed MiB repeated,
//! so building it costs nothing.

use crate::common;

use crate::common::archive::{gzip, raw_zip, tar_of, zeros_deflate, zip_of};

use std::fs;
use std::path::Path;
use std::time::Duration;

use assert_cmd::Command;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD as B64, URL_SAFE_NO_PAD as B64URL};
use serde_json::Value;
use tempfile::TempDir;

// ---- keys ----

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// `sk-ant-api03-` + 93 + `AA`: 108 bytes, rule `anthropic-api-key`.
fn anthropic(seed: u64) -> String {
    common::key("anthropic-api", seed)
}

/// `ghp_` + 36: rule `github-pat-classic`.
fn github(seed: u64) -> String {
    common::key("github-classic", seed)
}

/// `npm_` + 36 (the checksum is not checked): rule `npm-access-token`.
fn npm(seed: u64) -> String {
    format!("npm_{}", common::Rng::new(seed).string(ALNUM, 36))
}

/// `glpat-` + 20: rule `gitlab-pat`.
fn gitlab(seed: u64) -> String {
    format!("glpat-{}", common::Rng::new(seed).string(ALNUM, 20))
}

/// A 40-character AWS secret access key holding at least one `/` (so a
/// JSON encoder that escapes slashes hides it).
fn aws_secret_with_slash(mut seed: u64) -> String {
    loop {
        let k = common::key("aws-secret", seed);
        if k.contains('/') {
            return k;
        }
        seed += 1000;
    }
}

// ---- fixture trees ----

/// A temporary directory to plant files in.
struct Tree(TempDir);

impl Tree {
    fn new() -> Tree {
        Tree(tempfile::tempdir().unwrap())
    }

    fn path(&self) -> &Path {
        self.0.path()
    }

    /// Writes `bytes` at the relative path `rel`, creating directories.
    fn write(&self, rel: &str, bytes: impl AsRef<[u8]>) -> &Tree {
        let target = self.path().join(rel);
        fs::create_dir_all(target.parent().unwrap()).unwrap();
        fs::write(target, bytes).unwrap();
        self
    }
}

/// `lines` joined with `\n`, plus a final newline: line N of the file is
/// `lines[N - 1]`.
fn text(lines: &[&str]) -> String {
    let mut s = lines.join("\n");
    s.push('\n');
    s
}

/// 1-based line and byte column of the first occurrence of `needle` in
/// `haystack` (plain string search: independent of leakhound).
fn locate(haystack: &[u8], needle: &str) -> (u64, u64) {
    let at = haystack
        .windows(needle.len())
        .position(|w| w == needle.as_bytes())
        .unwrap_or_else(|| panic!("fixture does not contain {needle:?}"));
    let before = &haystack[..at];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    (line as u64, (at - line_start + 1) as u64)
}

// ---- running the binary ----

/// The JSON report of one `leakhound scan` run, with its exit code.
struct Report {
    code: i32,
    doc: Value,
}

/// Runs `leakhound scan --format json --show-secrets EXTRA... DIR` (60 s
/// hang guard, not a performance assertion).
fn scan(dir: &Path, extra: &[&str]) -> Report {
    let out = Command::cargo_bin("leakhound")
        .unwrap()
        .args(["scan", "--format", "json", "--show-secrets"])
        .args(extra)
        .arg(dir)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "bad JSON ({e}); status {:?}\nstdout: {}\nstderr: {}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    Report { code: out.status.code().unwrap_or(-1), doc }
}

/// The fields of a finding this file asserts.
#[derive(Debug, PartialEq, Eq)]
struct Found {
    rule_id: String,
    path: String,
    line: u64,
    column: u64,
    decoded: Vec<String>,
    note: Option<String>,
}

/// The expected finding: `decoded` outermost first (`[]` for plain text).
fn at(rule_id: &str, path: &str, (line, column): (u64, u64), decoded: &[&str], note: Option<&str>) -> Found {
    Found {
        rule_id: rule_id.into(),
        path: path.into(),
        line,
        column,
        decoded: decoded.iter().map(|s| s.to_string()).collect(),
        note: note.map(str::to_string),
    }
}

impl Report {
    fn findings(&self) -> &[Value] {
        self.doc["findings"].as_array().expect("findings array")
    }

    /// The one finding of `secret` (panics, listing every finding, when
    /// there is none or more than one).
    fn of(&self, secret: &str) -> Found {
        let all: Vec<&Value> = self.findings().iter().filter(|f| f["secret"] == secret).collect();
        assert_eq!(all.len(), 1, "expected one finding of {secret}:\n{}", self.summary());
        let f = all[0];
        Found {
            rule_id: f["rule_id"].as_str().unwrap().into(),
            path: f["path"].as_str().unwrap().into(),
            line: f["line"].as_u64().unwrap(),
            column: f["column"].as_u64().unwrap(),
            decoded: f
                .get("decoded")
                .and_then(Value::as_array)
                .map(|a| a.iter().map(|s| s.as_str().unwrap().to_string()).collect())
                .unwrap_or_default(),
            note: f.get("note").and_then(Value::as_str).map(str::to_string),
        }
    }

    /// Asserts exactly `expected` findings (after checking each with `of`)
    /// and exit code 1.
    fn assert_only(&self, expected: usize) {
        assert_eq!(self.findings().len(), expected, "{}", self.summary());
        assert_eq!(self.code, 1, "findings exist: exit code 1\n{}", self.summary());
    }

    fn notes(&self) -> Vec<String> {
        self.doc["notes"].as_array().unwrap().iter().map(|n| n.as_str().unwrap().to_string()).collect()
    }

    /// One line per finding, for failure messages.
    fn summary(&self) -> String {
        let mut lines: Vec<String> = self
            .findings()
            .iter()
            .map(|f| {
                format!(
                    "{} {}:{}:{} decoded={} note={} secret={}",
                    f["rule_id"], f["path"], f["line"], f["column"], f["decoded"], f["note"], f["secret"]
                )
            })
            .collect();
        lines.push(format!("notes: {}", self.doc["notes"]));
        lines.push(format!("exit code: {}", self.code));
        lines.join("\n")
    }
}

// ---- 1. Jupyter notebooks ----

/// A notebook as Jupyter writes it (indent 1): a markdown cell, a code cell
/// whose source holds a plain key and a `\u002d`-escaped one, and a code
/// cell whose outputs hold a printed `os.environ` and a traceback (with
/// IPython's ANSI colour codes) whose message holds a URL with a token.
/// Returns the notebook and its four keys.
fn notebook() -> (String, [String; 4]) {
    let plain = anthropic(101);
    let escaped = anthropic(102);
    let environ = common::key("openai-project", 103);
    let traceback = github(104);
    let esc = escaped.replace('-', "\\u002d");
    let nb = text(&[
        "{",
        " \"cells\": [",
        "  {",
        "   \"cell_type\": \"markdown\",",
        "   \"metadata\": {},",
        "   \"source\": [\"# Demo\\n\", \"Calls the API.\"]",
        "  },",
        "  {",
        "   \"cell_type\": \"code\",",
        "   \"execution_count\": 1,",
        "   \"metadata\": {},",
        "   \"outputs\": [],",
        "   \"source\": [",
        "    \"import anthropic\\n\",",
        &format!("    \"client = anthropic.Anthropic(api_key=\\\"{plain}\\\")\\n\","),
        &format!("    \"backup = \\\"{esc}\\\"\\n\""),
        "   ]",
        "  },",
        "  {",
        "   \"cell_type\": \"code\",",
        "   \"execution_count\": 2,",
        "   \"metadata\": {},",
        "   \"outputs\": [",
        "    {",
        "     \"name\": \"stdout\",",
        "     \"output_type\": \"stream\",",
        "     \"text\": [",
        &format!("      \"environ({{'HOME': '/home/jovyan', 'OPENAI_API_KEY': '{environ}', 'PATH': '/usr/bin'}})\\n\""),
        "     ]",
        "    },",
        "    {",
        "     \"ename\": \"HTTPError\",",
        "     \"evalue\": \"401 Client Error\",",
        "     \"output_type\": \"error\",",
        "     \"traceback\": [",
        "      \"\\u001b[0;31mHTTPError\\u001b[0m Traceback (most recent call last)\",",
        &format!(
            "      \"\\u001b[0;31mHTTPError\\u001b[0m: 401 Client Error: Unauthorized for url: \
             https://api.github.com/user?access_token={traceback}\""
        ),
        "     ]",
        "    }",
        "   ],",
        "   \"source\": [\"import os\\n\", \"print(os.environ)\"]",
        "  }",
        " ],",
        " \"metadata\": {\"kernelspec\": {\"name\": \"python3\"}},",
        " \"nbformat\": 4,",
        " \"nbformat_minor\": 5",
        "}",
    ]);
    (nb, [plain, escaped, environ, traceback])
}

/// Each key is reported at the notebook's own line and column with its cell
/// (1-based, markdown cells counted). A key the raw scan already sees keeps
/// `decoded = []` and still gets its cell; the `\u002d`-escaped one is
/// found only through the notebook view.
#[test]
fn notebook_source_and_outputs_keep_the_notebook_line_and_cell() {
    let (nb, [plain, escaped, environ, traceback]) = notebook();
    let tree = Tree::new();
    tree.write("analysis/demo.ipynb", &nb);
    let r = scan(tree.path(), &[]);
    let path = "analysis/demo.ipynb";
    let b = nb.as_bytes();
    assert_eq!(locate(b, &plain), (15, 45));
    assert_eq!(r.of(&plain), at("anthropic-api-key", path, locate(b, &plain), &[], Some("cell 2")));
    let esc = escaped.replace('-', "\\u002d");
    assert_eq!(locate(b, &esc).0, 16);
    assert_eq!(r.of(&escaped), at("anthropic-api-key", path, locate(b, &esc), &["notebook"], Some("cell 2")));
    assert_eq!(locate(b, &environ).0, 28);
    assert_eq!(r.of(&environ), at("openai-project-key", path, locate(b, &environ), &[], Some("cell 3")));
    assert_eq!(locate(b, &traceback).0, 37);
    // The token follows `?access_token=` in the traceback's last line.
    assert_eq!(r.of(&traceback), at("github-pat-classic", path, locate(b, &traceback), &[], Some("cell 3")));
    r.assert_only(4);
}

/// A Windows-saved notebook (CRLF) with a key split over two source lines
/// by Python's implicit concatenation: decoded twice (notebook, then
/// concat), reported at the first piece.
#[test]
fn notebook_with_crlf_and_a_split_key() {
    let key = anthropic(111);
    let (a, b) = key.split_at(40);
    let nb = [
        "{",
        " \"cells\": [",
        "  {",
        "   \"cell_type\": \"code\",",
        "   \"outputs\": [],",
        "   \"source\": [",
        &format!("    \"KEY = (\\\"{a}\\\"\\n\","),
        &format!("    \"       \\\"{b}\\\")\\n\""),
        "   ]",
        "  }",
        " ],",
        " \"nbformat\": 4",
        "}",
        "",
    ]
    .join("\r\n");
    let tree = Tree::new();
    tree.write("win.ipynb", &nb);
    let r = scan(tree.path(), &[]);
    assert_eq!(locate(nb.as_bytes(), a), (7, 15));
    assert_eq!(r.of(&key), at("anthropic-api-key", "win.ipynb", (7, 15), &["notebook", "concat"], Some("cell 1")));
    r.assert_only(1);
}

/// IPython colours the source line of a traceback token by token, so a
/// string literal's content sits between `\u001b[38;5;124m` and
/// `\u001b[39m`, glued to the `m`, where no rule sees a boundary; the same
/// hides a key printed in colour in a CI log. The `ansi` decoding removes
/// the sequences (in the notebook's view, where the escape is a real ESC,
/// and in the raw log).
#[test]
fn keys_glued_to_ansi_colour_codes() {
    let (nb_key, log_key) = (github(121), github(122));
    let nb = text(&[
        "{",
        " \"cells\": [",
        "  {",
        "   \"cell_type\": \"code\",",
        "   \"outputs\": [",
        "    {",
        "     \"ename\": \"HTTPError\",",
        "     \"evalue\": \"401 Client Error\",",
        "     \"output_type\": \"error\",",
        "     \"traceback\": [",
        "      \"\\u001b[0;31mHTTPError\\u001b[0m Traceback (most recent call last)\",",
        &format!(
            "      \"----> 1 r = get(url, auth=(\\u001b[38;5;124m\\\"\\u001b[39m\\u001b[38;5;124m{nb_key}\\u001b[39m\\u001b[38;5;124m\\\"\\u001b[39m))\""
        ),
        "     ]",
        "    }",
        "   ],",
        "   \"source\": [\"r = get(url, auth=(token))\"]",
        "  }",
        " ],",
        " \"nbformat\": 4",
        "}",
    ]);
    let log = format!("Run ./deploy.sh\n\x1b[32mtoken: \x1b[1m{log_key}\x1b[0m\n");
    let tree = Tree::new();
    tree.write("debug.ipynb", &nb).write("ci.log", &log);
    let r = scan(tree.path(), &[]);
    let nb_at = locate(nb.as_bytes(), &nb_key);
    assert_eq!(r.of(&nb_key), at("github-pat-classic", "debug.ipynb", nb_at, &["notebook", "ansi"], Some("cell 1")));
    let log_at = locate(log.as_bytes(), &log_key);
    assert_eq!(r.of(&log_key), at("github-pat-classic", "ci.log", log_at, &["ansi"], None));
}

// ---- 2. Escapes, URL encoding, base64, hex, credential files ----

/// JSON/JS escapes: `\u002d` for every dash, and `\/` (PHP's
/// `json_encode`) inside an AWS secret; the finding points at the escaped
/// key's first byte.
#[test]
fn json_and_js_escapes() {
    let dashes = anthropic(201);
    let aws = aws_secret_with_slash(202);
    let config =
        text(&["{", "  \"name\": \"demo\",", &format!("  \"key\": \"{}\"", dashes.replace('-', "\\u002d")), "}"]);
    let dump =
        text(&["{\"region\":\"us-east-1\",", &format!("\"AWS_SECRET_ACCESS_KEY\":\"{}\"}}", aws.replace('/', "\\/"))]);
    // An escaped key deep in a one-line bundle keeps its exact column.
    let bundled = anthropic(203);
    let pre = format!("!function(e){{{}const c=new Anthropic({{apiKey:\"", "var a=1;".repeat(5000));
    let bundle = format!("{pre}{}\"}});{}}}();", bundled.replace('-', "\\u002d"), "b=2;".repeat(3000));
    let tree = Tree::new();
    tree.write("config.json", &config).write("dump.json", &dump).write("dist/app.min.js", &bundle);
    let r = scan(tree.path(), &[]);
    assert_eq!(r.of(&dashes), at("anthropic-api-key", "config.json", (3, 11), &["json-string"], None));
    assert_eq!(r.of(&aws), at("aws-secret-access-key", "dump.json", (2, 26), &["json-string"], None));
    let column = pre.len() as u64 + 1;
    assert_eq!(column, 40_045);
    assert_eq!(r.of(&bundled), at("anthropic-api-key", "dist/app.min.js", (1, column), &["json-string"], None));
    r.assert_only(3);
}

/// A `%2D`-encoded key in a logged query string.
#[test]
fn url_encoded_query_string() {
    let key = anthropic(211);
    let log = text(&["GET /health 200", &format!("GET /v1/proxy?target=api&key={}&v=2 200", key.replace('-', "%2D"))]);
    let tree = Tree::new();
    tree.write("logs/access.log", &log);
    let r = scan(tree.path(), &[]);
    // `GET /v1/proxy?target=api&key=` is 29 bytes.
    assert_eq!(r.of(&key), at("anthropic-api-key", "logs/access.log", (2, 30), &["url"], None));
    r.assert_only(1);
}

/// base64 of a whole `.env` line, base64url (no padding, `-`/`_` in the
/// token), hex, and base64 inside a JSON string with escaped slashes.
/// A decoded key maps to the encoded character holding its first bit.
#[test]
fn base64_base64url_and_hex() {
    let env_line = anthropic(221);
    let urlsafe = anthropic(222);
    let hexed = anthropic(223);
    let nested = anthropic(224);
    let values = text(&["# helm values", &format!("env: {}", B64.encode(format!("ANTHROPIC_API_KEY={env_line}\n")))]);
    // `???>>>` encodes to `_`, `-` in base64url: only that alphabet decodes it.
    let token = B64URL.encode(format!("???>>>\nANTHROPIC_API_KEY={urlsafe}\n"));
    assert!(token.contains('_') && token.contains('-') && !token.contains('='), "{token}");
    let callback = text(&["state=ok", &format!("token={token}")]);
    let settings = text(&["[secrets]", &format!("anthropic_hex = \"{}\"", hex::encode(&hexed))]);
    let b64 = B64.encode(format!("URL=https://api/???\nANTHROPIC_API_KEY={nested}\n"));
    assert!(b64.contains('/'));
    let php = text(&[&format!("{{\"env\":\"{}\"}}", b64.replace('/', "\\/"))]);
    let tree = Tree::new();
    tree.write("values.yaml", &values)
        .write("callback.txt", &callback)
        .write("settings.toml", &settings)
        .write("dump.json", &php);
    let r = scan(tree.path(), &[]);
    // `env: ` (5) + `ANTHROPIC_API_KEY=` (18 bytes = 24 base64 characters).
    assert_eq!(r.of(&env_line), at("anthropic-api-key", "values.yaml", (2, 30), &["base64"], None));
    // `token=` (6) + 25 bytes: the key's first byte is the 2nd of a group
    // of three, starting at base64 character 8 * 4 + 1 = 33.
    assert_eq!(r.of(&urlsafe), at("anthropic-api-key", "callback.txt", (2, 40), &["base64"], None));
    // `anthropic_hex = "` (17): the first hex digit.
    assert_eq!(r.of(&hexed), at("anthropic-api-key", "settings.toml", (2, 18), &["hex"], None));
    // `{"env":"` (8) + 38 bytes (base64 character 12 * 4 + 2 = 50), plus
    // one byte for each `\/` before it.
    let column = 8 + 50 + b64[..50].matches('/').count() as u64 + 1;
    assert_eq!(r.of(&nested), at("anthropic-api-key", "dump.json", (1, column), &["json-string", "base64"], None));
    r.assert_only(4);
}

/// Kubernetes `Secret` (base64 `data:`), Docker `config.json` (`auth` is
/// base64 of `user:token`), `.npmrc` `_auth` (base64 of `user:token`) next
/// to a plain `_authToken`.
#[test]
fn kubernetes_docker_and_npm_credentials() {
    let k8s = anthropic(231);
    let docker = github(232);
    let npm_auth = npm(233);
    let npm_token = npm(234);
    let secret = text(&[
        "apiVersion: v1",
        "kind: Secret",
        "metadata:",
        "  name: llm",
        "type: Opaque",
        "data:",
        &format!("  ANTHROPIC_API_KEY: {}", B64.encode(&k8s)),
    ]);
    let config = text(&[
        "{",
        "  \"auths\": {",
        "    \"ghcr.io\": {",
        &format!("      \"auth\": \"{}\"", B64.encode(format!("octocat:{docker}"))),
        "    }",
        "  }",
        "}",
    ]);
    let npmrc = text(&[
        "registry=https://registry.npmjs.org/",
        &format!("_auth={}", B64.encode(format!("ci-bot:{npm_auth}"))),
        &format!("//registry.npmjs.org/:_authToken={npm_token}"),
    ]);
    let tree = Tree::new();
    tree.write("k8s/secret.yaml", &secret).write(".docker/config.json", &config).write(".npmrc", &npmrc);
    let r = scan(tree.path(), &[]);
    // `  ANTHROPIC_API_KEY: ` is 21 bytes; the value is the key alone.
    assert_eq!(r.of(&k8s), at("anthropic-api-key", "k8s/secret.yaml", (7, 22), &["base64"], None));
    // `      "auth": "` (15) + `octocat:` (8 bytes: 3rd of a group, char 10).
    assert_eq!(r.of(&docker), at("github-pat-classic", ".docker/config.json", (4, 26), &["base64"], None));
    // `_auth=` (6) + `ci-bot:` (7 bytes: 2nd of a group, char 9).
    assert_eq!(r.of(&npm_auth), at("npm-access-token", ".npmrc", (2, 16), &["base64"], None));
    // Plain text: no decoding involved.
    assert_eq!(r.of(&npm_token), at("npm-access-token", ".npmrc", (3, 34), &[], None));
    r.assert_only(4);
}

/// `.git-credentials`, `.netrc` and `.pypirc` hold credentials in plain
/// text: the raw scan finds them, so `decoded` is empty (no decoder is
/// involved, and none should add a duplicate). `.pypirc` here holds a GitLab
/// token (GitLab's PyPI registry); leakhound has no rule for PyPI's own
/// `pypi-` tokens, so those are not a decoding matter.
#[test]
fn credential_files_are_found_by_the_raw_scan() {
    let cred = github(241);
    let netrc = github(242);
    let pypirc = gitlab(243);
    let tree = Tree::new();
    tree.write(".git-credentials", format!("https://octocat:{cred}@github.com\n"))
        .write(".netrc", text(&["machine github.com", "  login octocat", &format!("  password {netrc}")]))
        .write(
            ".pypirc",
            text(&[
                "[distutils]",
                "index-servers = gitlab",
                "",
                "[gitlab]",
                "repository = https://gitlab.example.com/api/v4/projects/1/packages/pypi",
                "username = __token__",
                &format!("password = {pypirc}"),
            ]),
        );
    let r = scan(tree.path(), &[]);
    assert_eq!(r.of(&cred), at("github-pat-classic", ".git-credentials", (1, 17), &[], None));
    assert_eq!(r.of(&netrc), at("github-pat-classic", ".netrc", (3, 12), &[], None));
    assert_eq!(r.of(&pypirc), at("gitlab-pat", ".pypirc", (7, 12), &[], None));
    r.assert_only(3);
}

// ---- 3. Text encodings ----

/// A PowerShell transcript: the key on line 3, after 26 characters.
fn transcript(key: &str) -> String {
    format!("# PowerShell transcript\r\n\r\n$env:ANTHROPIC_API_KEY = \"{key}\"\r\n")
}

/// A `.reg` export: the key on line 4, after 21 characters.
fn reg_export(key: &str) -> String {
    format!(
        "Windows Registry Editor Version 5.00\r\n\r\n[HKEY_CURRENT_USER\\Environment]\r\n\"ANTHROPIC_API_KEY\"=\"{key}\"\r\n"
    )
}

fn utf16le(s: &str, bom: bool) -> Vec<u8> {
    let mut out = if bom { vec![0xFF, 0xFE] } else { Vec::new() };
    out.extend(s.encode_utf16().flat_map(u16::to_le_bytes));
    out
}

fn utf16be(s: &str) -> Vec<u8> {
    let mut out = vec![0xFE, 0xFF];
    out.extend(s.encode_utf16().flat_map(u16::to_be_bytes));
    out
}

/// UTF-16LE with and without a BOM and UTF-16BE with one are decoded, at
/// the right line. Columns count bytes of the file, so a character is two:
/// on line 1 after a BOM, `KEY=` puts the key at byte 2 + 8 + 1; on line
/// 3 of the BE transcript at 26 * 2 + 1. (UTF-16LE columns past line 1 are
/// in `utf16le_columns_past_line_1`.)
#[test]
fn utf16_files_are_decoded() {
    let (le, be, nobom, first) = (anthropic(301), anthropic(302), anthropic(303), anthropic(304));
    let tree = Tree::new();
    tree.write("le-bom.txt", utf16le(&transcript(&le), true))
        .write("be-bom.txt", utf16be(&transcript(&be)))
        .write("env.reg", utf16le(&reg_export(&nobom), false))
        .write("first-line.txt", utf16le(&format!("KEY={first}\r\n"), true));
    let r = scan(tree.path(), &[]);
    assert_eq!(r.of(&be), at("anthropic-api-key", "be-bom.txt", (3, 53), &["utf-16be"], None));
    assert_eq!(r.of(&first), at("anthropic-api-key", "first-line.txt", (1, 11), &["utf-16le"], None));
    for (key, path, line) in [(&le, "le-bom.txt", 3), (&nobom, "env.reg", 4)] {
        let f = r.of(key);
        assert_eq!(f, at("anthropic-api-key", path, (line, f.column), &["utf-16le"], None));
    }
    r.assert_only(4);
}

/// In UTF-16LE a newline is `0A 00`: a line starts after both bytes, so
/// columns past line 1 match BE's (whose newline is `00 0A`) for the same
/// text (a regression: they were one byte late).
#[test]
fn utf16le_columns_past_line_1() {
    let (le, nobom) = (anthropic(311), anthropic(312));
    let tree = Tree::new();
    tree.write("le-bom.txt", utf16le(&transcript(&le), true)).write("env.reg", utf16le(&reg_export(&nobom), false));
    let r = scan(tree.path(), &[]);
    assert_eq!(r.of(&le), at("anthropic-api-key", "le-bom.txt", (3, 26 * 2 + 1), &["utf-16le"], None));
    assert_eq!(r.of(&nobom), at("anthropic-api-key", "env.reg", (4, 21 * 2 + 1), &["utf-16le"], None));
}

/// Lines of a UTF-16 file end at newline code units, not at `0x0A` bytes,
/// which are also half of many characters: `上` (U+4E0A, everyday Chinese)
/// is `0A 4E` in LE, `Ċ` (U+010A) is `01 0A` in BE. The key is on line 2
/// of both files (a regression: each such character added a line).
#[test]
fn utf16_lines_count_newline_units_not_0a_bytes() {
    let (le, be) = (anthropic(321), anthropic(322));
    let tree = Tree::new();
    tree.write("zh-le.txt", utf16le(&format!("# 上传配置\r\nANTHROPIC_API_KEY={le}\r\n"), true))
        .write("mt-be.txt", utf16be(&format!("# Ċ\r\nANTHROPIC_API_KEY={be}\r\n")));
    let r = scan(tree.path(), &[]);
    // `ANTHROPIC_API_KEY=` is 18 characters: 36 bytes.
    assert_eq!(r.of(&le), at("anthropic-api-key", "zh-le.txt", (2, 37), &["utf-16le"], None));
    assert_eq!(r.of(&be), at("anthropic-api-key", "mt-be.txt", (2, 37), &["utf-16be"], None));
}

/// CRLF files count one line per `\r\n`, in plain text, in a decoded view
/// and in a concatenation across lines; the `\r` never reaches a column.
#[test]
fn crlf_lines_and_columns() {
    let (plain, b64, split) = (anthropic(331), anthropic(332), anthropic(333));
    let tree = Tree::new();
    tree.write("crlf.env", format!("# a\r\n# b\r\n\r\nANTHROPIC_API_KEY={plain}\r\nX=1\r\n"))
        .write(
            "crlf.yaml",
            format!("a: 1\r\nb: 2\r\n\r\nsecret: {}\r\n", B64.encode(format!("ANTHROPIC_API_KEY={b64}"))),
        )
        .write("crlf.js", format!("const a = 1;\r\nconst key = \"{}\" +\r\n  \"{}\";\r\n", &split[..13], &split[13..]));
    let r = scan(tree.path(), &[]);
    assert_eq!(r.of(&plain), at("anthropic-api-key", "crlf.env", (4, 19), &[], None));
    // `secret: ` (8) + 18 bytes = 24 base64 characters.
    assert_eq!(r.of(&b64), at("anthropic-api-key", "crlf.yaml", (4, 33), &["base64"], None));
    assert_eq!(r.of(&split), at("anthropic-api-key", "crlf.js", (2, 14), &["concat"], None));
    r.assert_only(3);
}

/// A UTF-8 BOM is three bytes of the file, and columns count bytes (README:
/// "the column counts bytes"), so a key right after the BOM is at column 4
/// and the BOM shifts every column of line 1 by three. (An editor that
/// hides the BOM shows these keys three characters earlier.)
#[test]
fn utf8_bom_counts_in_line_1_columns() {
    let (start, after, escaped, line2) = (anthropic(341), anthropic(342), anthropic(343), anthropic(344));
    let bom = |s: String| [&b"\xEF\xBB\xBF"[..], s.as_bytes()].concat();
    let tree = Tree::new();
    tree.write("start.env", bom(format!("{start}\n")))
        .write("after.env", bom(format!("ANTHROPIC_API_KEY={after}\n")))
        .write("escaped.json", bom(format!("{{\"key\":\"{}\"}}\n", escaped.replace('-', "\\u002d"))))
        .write("line2.env", bom(format!("# config\nANTHROPIC_API_KEY={line2}\n")));
    let r = scan(tree.path(), &[]);
    assert_eq!(r.of(&start), at("anthropic-api-key", "start.env", (1, 4), &[], None));
    assert_eq!(r.of(&after), at("anthropic-api-key", "after.env", (1, 3 + 18 + 1), &[], None));
    assert_eq!(r.of(&escaped), at("anthropic-api-key", "escaped.json", (1, 3 + 8 + 1), &["json-string"], None));
    assert_eq!(r.of(&line2), at("anthropic-api-key", "line2.env", (2, 19), &[], None));
    r.assert_only(4);
}

// ---- 4. Bundles ----

/// A plain key deep in a 40 KB one-line bundle: line 1, byte column.
#[test]
fn minified_bundle_line_1_exact_column() {
    let key = anthropic(401);
    let pre = format!("!function(e){{{}const c=new Anthropic({{apiKey:\"", "var a=1;".repeat(5000));
    let bundle = format!("{pre}{key}\"}});{}}}();", "b=2;".repeat(3000));
    let tree = Tree::new();
    tree.write("dist/app.min.js", &bundle);
    let r = scan(tree.path(), &[]);
    assert_eq!(r.of(&key), at("anthropic-api-key", "dist/app.min.js", (1, pre.len() as u64 + 1), &[], None));
    r.assert_only(1);
}

/// A source map with `sources` / `sourcesContent`, as bundlers write it
/// (`JSON.stringify`: quotes become `\"`, newlines `\n`).
fn source_map(sources: &[(&str, &str)]) -> String {
    let names: Vec<&str> = sources.iter().map(|s| s.0).collect();
    let contents: Vec<&str> = sources.iter().map(|s| s.1).collect();
    serde_json::json!({
        "version": 3,
        "file": "app.js",
        "sources": names,
        "sourcesContent": contents,
        "names": [],
        "mappings": "AAAA;AACA",
    })
    .to_string()
}

/// A key the raw scan cannot see in the map (a JS `\u002d` escape in the
/// source, escaped again by the map's JSON) is reported under the
/// embedded source's name, at the `.map`'s own line and column.
#[test]
fn source_map_escaped_key_is_reported_under_its_source() {
    let key = anthropic(411);
    let source = format!(
        "import Anthropic from \"@anthropic-ai/sdk\";\nexport const client = new Anthropic({{ apiKey: \"{}\" }});\n",
        key.replace('-', "\\u002d")
    );
    let map = source_map(&[("src/util.ts", "export const x = 1;\n"), ("src/client.ts", &source)]);
    let tree = Tree::new();
    tree.write("dist/app.js.map", &map);
    let r = scan(tree.path(), &[]);
    // In the map's JSON the key's first byte follows `apiKey: \"`.
    let column = locate(map.as_bytes(), "sk\\\\u002dant").1;
    assert_eq!(
        r.of(&key),
        at("anthropic-api-key", "dist/app.js.map!/src/client.ts", (1, column), &["sourcemap", "json-string"], None)
    );
    r.assert_only(1);
}

/// A key written plainly in the original source (the usual case) is seen
/// by the raw scan of the map too, between `\"`s; it is still reported at
/// the source it came from, as the same key escaped is (previous test), so
/// the path (and with it the fingerprint and baselines) does not depend on
/// how the key happened to be written.
#[test]
fn source_map_plain_key_is_reported_under_its_source() {
    let key = anthropic(421);
    let source = format!("export const client = new Anthropic({{ apiKey: \"{key}\" }});\n");
    let map = source_map(&[("src/client.ts", &source)]);
    let tree = Tree::new();
    tree.write("dist/app.js.map", &map);
    let r = scan(tree.path(), &[]);
    let column = locate(map.as_bytes(), &key).1;
    assert_eq!(
        r.of(&key),
        at("anthropic-api-key", "dist/app.js.map!/src/client.ts", (1, column), &["sourcemap"], None)
    );
    r.assert_only(1);
}

// ---- 5. Archives ----

/// A `.env` with the key on line 2 after `ANTHROPIC_API_KEY=` (column 19).
fn env(key: &str) -> Vec<u8> {
    format!("# config\nANTHROPIC_API_KEY={key}\n").into_bytes()
}

/// Every archive format: members are reported as `archive!/member`, at the
/// member's own line, with the archive format(s) first in `decoded`; a
/// text decoding inside a member follows (`["zip", "base64"]`).
#[test]
fn archives_of_every_format() {
    let keys: Vec<String> = (501..=509).map(anthropic).collect();
    let tree = Tree::new();
    tree.write("release.zip", zip_of(&[("README.md", b"hello\n"), ("config/.env", &env(&keys[0]))]))
        .write(
            "lib/app.jar",
            zip_of(&[
                ("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\n"),
                ("application.properties", format!("anthropic.api-key={}\n", keys[1]).as_bytes()),
            ]),
        )
        .write(
            "dist/pkg-1.0-py3-none-any.whl",
            zip_of(&[("pkg/__init__.py", b""), ("pkg/settings.py", format!("API_KEY = \"{}\"\n", keys[2]).as_bytes())]),
        )
        .write("backup.tar", tar_of(&[("app/.env", &env(&keys[3]))]))
        .write("backup.tar.gz", gzip(&tar_of(&[("app/.env", &env(&keys[4]))])))
        .write("site.tgz", gzip(&tar_of(&[("site/readme.md", b"# site\n"), ("site/.env", &env(&keys[5]))])))
        .write("logs/app.log.gz", gzip(format!("boot\nANTHROPIC_API_KEY={}\n", keys[6]).as_bytes()))
        .write(
            "chart.zip",
            zip_of(&[(
                "templates/secret.yaml",
                format!("kind: Secret\ndata:\n  ANTHROPIC_API_KEY: {}\n", B64.encode(&keys[7])).as_bytes(),
            )]),
        )
        .write("win.zip", zip_of(&[("transcript.txt", &utf16le(&transcript(&keys[8]), true))]));
    let r = scan(tree.path(), &[]);
    let rule = "anthropic-api-key";
    assert_eq!(r.of(&keys[0]), at(rule, "release.zip!/config/.env", (2, 19), &["zip"], None));
    assert_eq!(r.of(&keys[1]), at(rule, "lib/app.jar!/application.properties", (1, 19), &["zip"], None));
    assert_eq!(r.of(&keys[2]), at(rule, "dist/pkg-1.0-py3-none-any.whl!/pkg/settings.py", (1, 12), &["zip"], None));
    assert_eq!(r.of(&keys[3]), at(rule, "backup.tar!/app/.env", (2, 19), &["tar"], None));
    assert_eq!(r.of(&keys[4]), at(rule, "backup.tar.gz!/app/.env", (2, 19), &["tar.gz"], None));
    assert_eq!(r.of(&keys[5]), at(rule, "site.tgz!/site/.env", (2, 19), &["tar.gz"], None));
    // A lone `.gz` member is named after the file without `.gz`.
    assert_eq!(r.of(&keys[6]), at(rule, "logs/app.log.gz!/app.log", (2, 19), &["gz"], None));
    assert_eq!(r.of(&keys[7]), at(rule, "chart.zip!/templates/secret.yaml", (3, 22), &["zip", "base64"], None));
    assert_eq!(r.of(&keys[8]), at(rule, "win.zip!/transcript.txt", (3, 26 * 2 + 1), &["zip", "utf-16le"], None));
    assert!(r.notes().is_empty(), "{:?}", r.notes());
    r.assert_only(9);
}

/// A jar in a zip in a tar.gz in a zip: four levels, all opened (the
/// default limit is 4), the path joining them with `!/`, the chain listing
/// all four. A fifth level is left closed, with a note, and its key is not
/// reported.
#[test]
fn archives_nested_four_deep_and_no_deeper() {
    let key = anthropic(511);
    let jar = zip_of(&[("dir/.env", &env(&key))]);
    let inner = zip_of(&[("lib/sdk.jar", &jar)]);
    let middle = gzip(&tar_of(&[("inner.zip", &inner)]));
    let outer = zip_of(&[("inner.tar.gz", &middle)]);
    let too_deep = anthropic(512);
    let mut deep = zip_of(&[(".env", &env(&too_deep))]);
    for level in (2..=5).rev() {
        deep = zip_of(&[(&format!("l{level}.zip"), &deep)]);
    }
    let tree = Tree::new();
    tree.write("outer.zip", outer).write("deep.zip", deep);
    let r = scan(tree.path(), &[]);
    let path = "outer.zip!/inner.tar.gz!/inner.zip!/lib/sdk.jar!/dir/.env";
    assert_eq!(r.of(&key), at("anthropic-api-key", path, (2, 19), &["zip", "tar.gz", "zip", "zip"], None));
    r.assert_only(1);
    assert_eq!(r.notes(), ["skipped: deep.zip!/l2.zip!/l3.zip!/l4.zip!/l5.zip: archive nested deeper than 4 levels"]);
}

/// Bombs: a zip whose 200 MiB member of zeros is deflated to ~200 KiB
/// (ratio ~1000:1), and a `.gz` of the same 200 MiB (200 gzip members of
/// one MiB each). Each is dropped once it inflates past 100 times its
/// compressed size, with a note in the JSON report's `notes`; the key in
/// the file next to them is still reported. The 60 s timeout of [`scan`] is
/// a hang guard only (the scan takes about a second in a debug build).
#[test]
fn zip_bomb_is_skipped_with_a_note_and_other_files_still_scanned() {
    let key = anthropic(521);
    let data = zeros_deflate(200);
    let zip_bomb = raw_zip("logs/debug.log", &data, 200 << 20);
    let gz_bomb = gzip(&vec![0u8; 1 << 20]).repeat(200);
    let tree = Tree::new();
    tree.write("bomb.zip", &zip_bomb).write("zeros.log.gz", &gz_bomb).write(".env", env(&key));
    let r = scan(tree.path(), &[]);
    assert_eq!(r.of(&key), at("anthropic-api-key", ".env", (2, 19), &[], None));
    r.assert_only(1);
    let (zip_limit, gz_limit) = (data.len() as u64 * 100, gz_bomb.len() as u64 * 100);
    let mut notes = r.notes();
    notes.sort();
    assert_eq!(
        notes,
        [
            format!("skipped: bomb.zip!/logs/debug.log: exceeds {zip_limit} bytes decompressed (zip bomb protection)"),
            format!("skipped: zeros.log.gz!/zeros.log: exceeds {gz_limit} bytes decompressed (zip bomb protection)"),
        ]
    );
}

// ---- 6. Keys split across string literals ----

/// JS `+` across two lines, Python implicit concatenation in parentheses,
/// Go `+` at the end of a line: one finding each (chain `concat`), at the
/// first piece's line and column.
#[test]
fn keys_split_across_string_literals() {
    let (js, py, go) = (anthropic(601), anthropic(602), anthropic(603));
    let js_file = text(&[
        "import Anthropic from \"@anthropic-ai/sdk\";",
        &format!("const key = \"{}\" +", &js[..13]),
        &format!("  \"{}\";", &js[13..]),
    ]);
    let py_file =
        text(&["import anthropic", "", &format!("KEY = (\"{}\"", &py[..40]), &format!("       \"{}\")", &py[40..])]);
    let go_file =
        text(&["package main", "", &format!("var key = \"{}\" +", &go[..50]), &format!("\t\"{}\"", &go[50..])]);
    let tree = Tree::new();
    tree.write("src/client.js", &js_file).write("src/client.py", &py_file).write("src/client.go", &go_file);
    let r = scan(tree.path(), &[]);
    assert_eq!(r.of(&js), at("anthropic-api-key", "src/client.js", (2, 14), &["concat"], None));
    assert_eq!(r.of(&py), at("anthropic-api-key", "src/client.py", (3, 9), &["concat"], None));
    assert_eq!(r.of(&go), at("anthropic-api-key", "src/client.go", (3, 12), &["concat"], None));
    r.assert_only(3);
}

/// Regressions from the hard-slice benchmark (`benches/hard_slice.py`): a
/// context rule's key split with its first piece alone on a line (the
/// name on the line above is its context); a key split so that its first
/// piece alone matches a rule with an open-ended length (only the joined key
/// is reported); a hex key behind `0x` (the decoded key must not be glued
/// to the `x`).
#[test]
fn split_keys_keep_their_context_and_drop_their_fragments() {
    let mistral = common::key("mistral", 611);
    let oauth = common::key("anthropic-oauth", 612);
    let hexed = github(613);
    let py = text(&[
        "MISTRAL_API_KEY = (",
        &format!("    \"{}\"", &mistral[..16]),
        &format!("    \"{}\"", &mistral[16..]),
        ")",
    ]);
    let go = text(&[
        "package config",
        "",
        &format!("var token = \"{}\" +", &oauth[..80]),
        &format!("\t\"{}\"", &oauth[80..]),
    ]);
    let env = format!("GITHUB_TOKEN_HEX=0x{}\n", hex::encode(&hexed));
    let tree = Tree::new();
    tree.write("settings.py", &py).write("keys.go", &go).write(".env.hex", &env);
    let r = scan(tree.path(), &[]);
    assert_eq!(r.of(&mistral), at("mistral-api-key", "settings.py", (2, 6), &["concat"], None));
    assert_eq!(r.of(&oauth), at("anthropic-oauth-access-token", "keys.go", (3, 14), &["concat"], None));
    assert_eq!(r.of(&hexed), at("github-pat-classic", ".env.hex", (1, 20), &["hex"], None));
    r.assert_only(3);
}

// ---- 7. --no-decode ----

/// A tree where every key is visible only through a decoding or an archive:
/// all found by default (one finding each, with its chain), none with
/// `--no-decode`, which then exits 0.
#[test]
fn no_decode_hides_every_decoded_only_key() {
    let keys: Vec<String> = (701..=710).map(anthropic).collect();
    let js_split = format!("const k = \"{}\" +\n  \"{}\";\n", &keys[5][..13], &keys[5][13..]);
    let map_source = format!("const k = \"{}\";\n", keys[9].replace('-', "\\u002d"));
    let tree = Tree::new();
    tree.write("config.json", format!("{{\"key\": \"{}\"}}\n", keys[0].replace('-', "\\u002d")))
        .write("access.log", format!("GET /?key={} 200\n", keys[1].replace('-', "%2D")))
        .write("values.yaml", format!("env: {}\n", B64.encode(format!("ANTHROPIC_API_KEY={}\n", keys[2]))))
        .write("settings.toml", format!("hex = \"{}\"\n", hex::encode(&keys[3])))
        .write("env.reg", utf16le(&reg_export(&keys[4]), false))
        .write("client.js", js_split)
        .write("release.zip", zip_of(&[(".env", &env(&keys[6]))]))
        .write("backup.tgz", gzip(&tar_of(&[("app/.env", &env(&keys[7]))])))
        .write("app.log.gz", gzip(&env(&keys[8])))
        .write("dist/app.js.map", source_map(&[("src/k.ts", &map_source)]));
    let expected: [(&str, &[&str]); 10] = [
        ("config.json", &["json-string"]),
        ("access.log", &["url"]),
        ("values.yaml", &["base64"]),
        ("settings.toml", &["hex"]),
        ("env.reg", &["utf-16le"]),
        ("client.js", &["concat"]),
        ("release.zip!/.env", &["zip"]),
        ("backup.tgz!/app/.env", &["tar.gz"]),
        ("app.log.gz!/app.log", &["gz"]),
        ("dist/app.js.map!/src/k.ts", &["sourcemap", "json-string"]),
    ];
    let r = scan(tree.path(), &[]);
    for (key, (path, chain)) in keys.iter().zip(expected) {
        let f = r.of(key);
        assert_eq!(f, at("anthropic-api-key", path, (f.line, f.column), chain, None));
    }
    r.assert_only(keys.len());

    let off = scan(tree.path(), &["--no-decode"]);
    assert_eq!(off.findings().len(), 0, "{}", off.summary());
    assert_eq!(off.code, 0, "no findings: exit code 0\n{}", off.summary());
}

/// `--no-decode` in a notebook: keys in plain JSON strings are still found
/// by the raw scan (without a cell note, which comes from the notebook
/// decoder); the `\u002d`-escaped one is not.
#[test]
fn no_decode_keeps_plain_keys_without_cells() {
    let (nb, [plain, escaped, environ, traceback]) = notebook();
    let tree = Tree::new();
    tree.write("demo.ipynb", &nb);
    let r = scan(tree.path(), &["--no-decode"]);
    let b = nb.as_bytes();
    assert_eq!(r.of(&plain), at("anthropic-api-key", "demo.ipynb", locate(b, &plain), &[], None));
    assert_eq!(r.of(&environ), at("openai-project-key", "demo.ipynb", locate(b, &environ), &[], None));
    assert_eq!(r.of(&traceback), at("github-pat-classic", "demo.ipynb", locate(b, &traceback), &[], None));
    assert!(r.findings().iter().all(|f| f["secret"] != escaped.as_str()), "{}", r.summary());
    r.assert_only(3);
}
