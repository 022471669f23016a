//! Bad and hostile input to `leakhound scan`, one test per class: empty,
//! NUL-heavy and invalid UTF-8 files, very long lines, a 2 GB sparse file,
//! FIFOs and symlink loops, unreadable files and directories, file names
//! with newlines, control characters or invalid UTF-8, files deleted or
//! truncated while the scan runs, huge custom regexes, Ctrl-C, and secrets
//! left at rest in report files.
//!
//! Why: a scanner meets whatever a disk holds, and an attacker may choose
//! some of it. Each class must end without a panic or a hang (every run has
//! a timeout), with a note saying what was skipped and why, the documented
//! exit code (0 clean, 1 findings, 2 something could not be read, 130
//! interrupted), and every finding elsewhere in the tree still reported:
//! each test plants an ordinary key in an ordinary file beside the bad input.
//! Keys are generated at run time (`common::key`), never committed.

use crate::common;

use std::ffi::OsStr;
use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{Run, leakhound};

fn scan(dir: &Path, extra: &[&str]) -> (i32, Value, String) {
    let mut args: Vec<&OsStr> = ["scan", "--format", "json"].iter().map(OsStr::new).collect();
    args.extend(extra.iter().map(OsStr::new));
    args.push(dir.as_os_str());
    let run = leakhound(args, 60);
    (run.code, run.doc, run.stderr)
}

/// The `skipped` entry for `path`, if any.
fn skip_for<'d>(doc: &'d Value, path: &str) -> Option<&'d Value> {
    doc["skipped"].as_array().unwrap().iter().find(|s| s["path"] == path)
}

fn paths(doc: &Value) -> Vec<String> {
    let mut v: Vec<String> =
        doc["findings"].as_array().unwrap().iter().map(|f| f["path"].as_str().unwrap().into()).collect();
    v.sort();
    v
}

#[test]
fn empty_nul_heavy_and_invalid_utf8_files() {
    let dir = tempfile::tempdir().unwrap();
    let k = common::key("openai-project", 1);
    fs::write(dir.path().join("empty.txt"), "").unwrap();
    fs::write(dir.path().join("nul.dat"), vec![0u8; 100_000]).unwrap();
    let mut latin1 = b"caf\xe9 = '".to_vec();
    latin1.extend_from_slice(k.as_bytes());
    latin1.extend_from_slice(b"' \xff\xfe\n");
    fs::write(dir.path().join("latin1.py"), latin1).unwrap();
    let (code, doc, _) = scan(dir.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(paths(&doc), vec!["latin1.py"]);
    // A file of NULs is a binary: scanned for strings (it has none), not skipped.
    assert_eq!(doc["stats"]["skipped"], serde_json::json!({}));
    assert_eq!(doc["stats"]["files_scanned"], 3);
}

#[test]
fn a_very_long_line_is_scanned_whole() {
    let dir = tempfile::tempdir().unwrap();
    let k = common::key("anthropic-api", 2);
    let mut line = "a=1;".repeat(2_000_000);
    line.push_str(&format!("const k=\"{k}\";"));
    line.push_str(&"b=2;".repeat(2_000_000));
    fs::write(dir.path().join("bundle.min.js"), line).unwrap();
    let (code, doc, _) = scan(dir.path(), &[]);
    assert_eq!(code, 1);
    let f = &doc["findings"][0];
    assert_eq!((f["line"].as_u64(), f["column"].as_u64()), (Some(1), Some(8_000_010)));
    assert!(f["snippet"].as_str().unwrap().len() < 200, "the snippet is cut around the key");
}

#[cfg(unix)]
#[test]
fn fifos_symlink_loops_and_links_out_of_the_tree() {
    let outside = tempfile::tempdir().unwrap();
    fs::write(outside.path().join("secret.env"), format!("K={}\n", common::key("github-classic", 3))).unwrap();
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("ok.env"), format!("K={}\n", common::key("openai-project", 4))).unwrap();
    let fifo = dir.path().join("pipe");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    std::os::unix::fs::symlink(outside.path(), dir.path().join("out")).unwrap();
    fs::create_dir(dir.path().join("loop")).unwrap();
    std::os::unix::fs::symlink(dir.path().join("loop"), dir.path().join("loop/again")).unwrap();

    // Default: links are not followed, the FIFO is never opened (no hang).
    let (code, doc, _) = scan(dir.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(paths(&doc), vec!["ok.env"]);
    assert_eq!(doc["stats"]["skipped"]["not-a-file"], 1);

    // --follow: the loop is reported, the outside file is read.
    let (code, doc, _) = scan(dir.path(), &["--follow"]);
    assert_eq!(code, 1);
    assert_eq!(paths(&doc), vec!["ok.env", "out/secret.env"]);
    assert_eq!(doc["stats"]["skipped"]["symlink-loop"], 1);
}

#[test]
fn hostile_file_names_and_content_reach_the_terminal_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let k = common::key("groq", 5);
    let name = if cfg!(unix) { "evil\x1b[31m\rname.env" } else { "evil.env" };
    fs::write(dir.path().join(name), format!("K={k} \x1b]8;;http://x\x07link\x1b]8;;\x07\r\n")).unwrap();
    let out = common::command().args(["scan", "--color", "never"]).arg(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains('\x1b') && !text.contains('\x07') && !text.contains('\r'), "{text:?}");
    // JSON keeps the exact name, escaped by the JSON encoder.
    let (_, doc, _) = scan(dir.path(), &[]);
    assert_eq!(doc["findings"][0]["path"], name);
}

#[test]
fn a_hostile_config_cannot_write_raw_to_the_terminal() {
    // `.leakhound.toml` is read from the scanned root: a cloned repository
    // brings its own, and its custom rule's provider, name and link are printed.
    let dir = tempfile::tempdir().unwrap();
    let config = r#"[[rule]]
id = "acme-token"
provider = "acme\u001b[2J"
name = "ACME \u001b]0;pwned\u0007 token\r"
pattern = '''(?:^|[^A-Za-z0-9_])(?P<secret>acme_[A-Za-z0-9]{32})(?:[^A-Za-z0-9_]|$)'''
keywords = ["acme_"]
rotate_url = "https://x.example/\u001b[31m\r"
"#;
    fs::write(dir.path().join(".leakhound.toml"), config).unwrap();
    fs::write(dir.path().join("acme.env"), "T=acme_Qx7Lm2Vb9Tn4Rk8Wd3Zp6Hs1Jc5Fy0Gu\n").unwrap();
    fs::write(dir.path().join("ok.env"), format!("K={}\n", common::key("openai-project", 57))).unwrap();
    let run = leakhound([OsStr::new("scan"), OsStr::new("--color"), OsStr::new("never"), dir.path().as_os_str()], 60);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let text = String::from_utf8(run.stdout).unwrap();
    assert!(text.contains("acme.env") && text.contains("ok.env"), "{text}");
    assert!(text.contains(r"ACME \x1b]0;pwned\x07 token\x0d"), "{text}");
    let control = text.chars().find(|&c| c.is_control() && c != '\n' && c != '\t');
    assert_eq!(control, None, "{text:?}");
}

#[test]
fn a_huge_custom_regex_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join(".leakhound.toml"),
        "[[rule]]\nid = \"huge-rule\"\nprovider = \"x\"\nname = \"n\"\npattern = '''(?:[a-z]{1000}){1000}'''\n\
         keywords = [\"x\"]\nrotate_url = \"https://x\"\n",
    )
    .unwrap();
    let (code, _, stderr) = scan(dir.path(), &[]);
    assert_eq!(code, 2);
    assert!(stderr.contains("huge-rule") && stderr.contains("size limit"), "{stderr}");
}

/// `leakhound scan --format json EXTRA PATHS`.
fn scan_run(extra: &[&str], paths: &[&Path], timeout_secs: u64) -> Run {
    let mut args: Vec<&OsStr> = ["scan", "--format", "json"].iter().map(OsStr::new).collect();
    args.extend(extra.iter().map(OsStr::new));
    args.extend(paths.iter().map(|p| p.as_os_str()));
    leakhound(args, timeout_secs)
}

#[test]
fn a_2_gb_sparse_file_is_skipped_by_its_size_without_being_read() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("ok.env"), format!("K={}\n", common::key("openai-project", 40))).unwrap();
    // 2 GiB of apparent size and no disk blocks: costs nothing to make.
    let huge = dir.path().join("huge.log");
    fs::File::create(&huge).unwrap().set_len(2 << 30).unwrap();

    let run = scan_run(&[], &[dir.path()], 30);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(paths(&run.doc), vec!["ok.env"]);
    let skip = skip_for(&run.doc, "huge.log").expect("the sparse file is listed in `skipped`");
    assert_eq!(skip["reason"], "too-large");
    assert!(skip["detail"].as_str().unwrap().contains("2147483648 bytes"), "{skip}");
    assert_eq!(run.doc["stats"]["skipped"]["too-large"], 1);
    assert_eq!(run.doc["stats"]["errors"], 0, "a size skip is not an error");
    // Decided from its metadata: not one byte of it is scanned, and reading
    // even the 25 MiB cap of it in a debug build would take far longer.
    assert!(run.doc["stats"]["bytes_scanned"].as_u64().unwrap() < 1024, "{}", run.doc["stats"]);
    assert!(run.elapsed < Duration::from_secs(10), "took {:?}", run.elapsed);

    // Named on the command line, it is the same skip (a different code path).
    let run = scan_run(&[], &[&huge, &dir.path().join("ok.env")], 30);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(run.doc["stats"]["skipped"]["too-large"], 1);
    assert!(run.elapsed < Duration::from_secs(10), "took {:?}", run.elapsed);
}

#[test]
fn a_100_mb_line_with_the_key_at_its_very_end() {
    let dir = tempfile::tempdir().unwrap();
    let ok = common::key("openai-project", 41);
    fs::write(dir.path().join("ok.env"), format!("K={ok}\n")).unwrap();
    // One line of minified code, no newline anywhere, the key its last bytes.
    let k = common::key("anthropic-api", 42);
    const CHUNK: &[u8] = b"function f(a,b){return a.map(function(c){return c*b+1})};var x=[1,2,3];";
    let size = 100 << 20;
    let mut line = Vec::with_capacity(size + 200);
    while line.len() + CHUNK.len() <= size {
        line.extend_from_slice(CHUNK);
    }
    let column = line.len() + "const k=\"".len() + 1;
    line.extend_from_slice(format!("const k=\"{k}\"").as_bytes());
    fs::write(dir.path().join("bundle.min.js"), &line).unwrap();
    drop(line);

    // Measured on two cores: 7-15 s in a debug build, with the load (2.4 s
    // with dependencies built optimized), 0.35 s in release.
    let run = scan_run(&["--max-file-size", "200M", "--show-secrets"], &[dir.path()], 60);
    eprintln!("a {} MiB line scanned in {:?}", size >> 20, run.elapsed);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let findings = run.doc["findings"].as_array().unwrap();
    let f = findings.iter().find(|f| f["path"] == "bundle.min.js").expect("the key at the end of the line");
    assert_eq!(f["secret"], k.as_str());
    assert_eq!((f["line"].as_u64(), f["column"].as_u64()), (Some(1), Some(column as u64)));
    assert!(f["snippet"].as_str().unwrap().len() < 300, "the snippet is cut around the key");
    assert!(findings.iter().any(|f| f["path"] == "ok.env" && f["secret"] == ok.as_str()), "{}", run.doc);
    assert!(run.doc["stats"]["bytes_scanned"].as_u64().unwrap() > size as u64);
}

#[cfg(unix)]
#[test]
fn unreadable_files_and_directories_exit_2_naming_the_path() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("ok.env"), format!("K={}\n", common::key("openai-project", 43))).unwrap();
    let locked_file = dir.path().join("locked.env");
    fs::write(&locked_file, format!("K={}\n", common::key("github-classic", 44))).unwrap();
    let locked_dir = dir.path().join("locked-dir");
    fs::create_dir(&locked_dir).unwrap();
    fs::write(locked_dir.join("inner.env"), format!("K={}\n", common::key("groq", 45))).unwrap();
    let set_mode = |path: &Path, mode: u32| fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
    set_mode(&locked_file, 0o000);
    set_mode(&locked_dir, 0o000);
    // Root (and any process with CAP_DAC_OVERRIDE; CI often runs as root)
    // reads through mode 000, and so would leakhound: ask the system.
    let denied = fs::File::open(&locked_file).is_err();

    let run = scan_run(&[], &[dir.path()], 60);
    let text = leakhound([OsStr::new("scan"), OsStr::new("--color"), OsStr::new("never"), dir.path().as_os_str()], 60);
    // Restored before any assertion, so the temp dir can always be removed.
    set_mode(&locked_file, 0o644);
    set_mode(&locked_dir, 0o755);

    if !denied {
        // SAFETY: geteuid has no preconditions and cannot fail.
        let euid = unsafe { libc::geteuid() };
        eprintln!(
            "unreadable_files_and_directories_exit_2_naming_the_path: NOT CHECKED: mode 000 does not deny \
             reads to this process (euid {euid}{}), so nothing is unreadable here. Run the tests as an \
             ordinary user to check exit code 2 and the notes.",
            if euid == 0 { ", root" } else { ", with CAP_DAC_OVERRIDE" }
        );
        // What does hold: everything was read, and nothing was lost.
        assert_eq!(run.code, 1, "{}", run.stderr);
        assert_eq!(paths(&run.doc), vec!["locked-dir/inner.env", "locked.env", "ok.env"]);
        return;
    }
    assert_eq!(run.code, 2, "an unreadable input makes the scan incomplete: {}", run.stderr);
    assert_eq!(paths(&run.doc), vec!["ok.env"], "the readable key is still reported");
    for path in ["locked.env", "locked-dir"] {
        let skip = skip_for(&run.doc, path).unwrap_or_else(|| panic!("{path} not in skipped: {}", run.doc));
        assert_eq!(skip["reason"], "unreadable");
        assert!(skip["detail"].as_str().unwrap().contains("Permission denied"), "{skip}");
    }
    assert_eq!(run.doc["stats"]["errors"], 2);
    assert_eq!(text.code, 2);
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(text.contains("error: locked.env (unreadable: Permission denied"), "{text}");
    assert!(text.contains("error: locked-dir (unreadable: "), "{text}");
}

#[cfg(unix)]
#[test]
fn names_with_a_newline_or_invalid_utf8_are_escaped_and_lose_no_finding() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    // Same rule, line and column in every file. The two invalid names show
    // as the same lossy path, and each still has its own key.
    let files: [(&[u8], String, &str); 4] = [
        (b"new\nline.env", common::key("openai-project", 46), "new\nline.env"),
        (b"bad\xff.env", common::key("openai-project", 47), "bad\u{fffd}.env"),
        (b"bad\xfe.env", common::key("openai-project", 48), "bad\u{fffd}.env"),
        (b"ok.env", common::key("openai-project", 49), "ok.env"),
    ];
    for (name, k, _) in &files {
        fs::write(dir.path().join(OsStr::from_bytes(name)), format!("K={k}\n")).unwrap();
    }

    let run = scan_run(&["--show-secrets"], &[dir.path()], 60);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let mut got: Vec<(String, String)> = run.doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["path"].as_str().unwrap().into(), f["secret"].as_str().unwrap().into()))
        .collect();
    got.sort();
    let mut want: Vec<(String, String)> = files.iter().map(|(_, k, shown)| (shown.to_string(), k.clone())).collect();
    want.sort();
    assert_eq!(got, want, "one finding per file, none merged away");
    // JSON: valid UTF-8, the newline escaped inside its string.
    let raw = String::from_utf8(run.stdout).expect("JSON output is UTF-8 even for non-UTF-8 names");
    assert!(raw.contains(r#""path": "new\nline.env""#), "{raw}");
    assert!(!raw.contains("new\nline"));

    // Text: the newline is a visible escape; no raw control character from a name.
    let text = leakhound([OsStr::new("scan"), OsStr::new("--color"), OsStr::new("never"), dir.path().as_os_str()], 60);
    assert_eq!(text.code, 1, "{}", text.stderr);
    let text = String::from_utf8(text.stdout).expect("text output is UTF-8");
    assert!(text.contains("new\\x0aline.env") && !text.contains("new\nline"), "{text}");
    assert!(text.contains("bad\u{fffd}.env"), "{text}");
    let control = text.chars().find(|&c| c.is_control() && c != '\n' && c != '\t');
    assert_eq!(control, None, "{text:?}");
}

#[test]
fn files_deleted_or_truncated_between_the_walk_and_the_read() {
    use std::sync::{Arc, Mutex};

    use leakhound::detect::Detector;
    use leakhound::outcome::{Skip, SkipReason};
    use leakhound::rules::RuleSet;
    use leakhound::scan::Collector;
    use leakhound::source::BlobSink;
    use leakhound::source::fs::{WalkOptions, walk};

    const VANISH: [&str; 2] = ["vanish-1.txt", "vanish-2.txt"];
    const SHRINK: [&str; 2] = ["shrink-1.env", "shrink-2.env"];
    const KEPT: &str = "# settings\n"; // what a truncated file keeps

    /// Forwards to the collector; on the first file it is handed, deletes
    /// or truncates every other victim. The walk lists a directory whole
    /// before it reads any file in it, so each of those is now gone or
    /// shorter between being listed and being read: the race, made
    /// deterministic.
    struct Meddler<'d> {
        inner: Collector<'d>,
        dir: std::path::PathBuf,
        first: Mutex<Option<String>>,
    }
    impl BlobSink for Meddler<'_> {
        fn blob(&self, path: &str, bytes: &[u8]) {
            let mut first = self.first.lock().unwrap();
            if first.is_none() {
                *first = Some(path.to_string());
                for name in VANISH.iter().filter(|&&n| n != path) {
                    fs::remove_file(self.dir.join(name)).unwrap();
                }
                for name in SHRINK.iter().filter(|&&n| n != path) {
                    let file = fs::OpenOptions::new().write(true).open(self.dir.join(name)).unwrap();
                    file.set_len(KEPT.len() as u64).unwrap();
                }
            }
            drop(first);
            self.inner.blob(path, bytes);
        }
        fn part(&self, path: &str, bytes: &[u8], start: leakhound::source::PartStart) {
            self.inner.part(path, bytes, start);
        }
        fn skipped(&self, skip: Skip) {
            self.inner.skipped(skip);
        }
    }

    let dir = tempfile::tempdir().unwrap();
    let stable = common::key("openai-project", 50);
    fs::write(dir.path().join("stable.env"), format!("K={stable}\n")).unwrap();
    for name in VANISH {
        fs::write(dir.path().join(name), "nothing to see\n").unwrap();
    }
    let shrinking: Vec<String> = (0..SHRINK.len()).map(|n| common::key("anthropic-api", 51 + n as u64)).collect();
    for (name, k) in SHRINK.iter().zip(&shrinking) {
        fs::write(dir.path().join(name), format!("{KEPT}K={k}\n")).unwrap();
    }

    let detector = Detector::new(Arc::new(RuleSet::builtin().unwrap())).unwrap();
    let meddler = Meddler { inner: Collector::new(&detector), dir: dir.path().to_path_buf(), first: Mutex::default() };
    // One thread: the first file handed over is read before any other.
    let options = WalkOptions {
        respect_ignore_files: true,
        follow_symlinks: false,
        max_file_size: 1 << 20,
        threads: 1,
        cancel: None,
    };
    walk(&[dir.path().to_path_buf()], &options, &meddler);
    let first = meddler.first.lock().unwrap().clone().expect("some file was read");
    let outcome = meddler.inner.finish();

    let found = |path: &str| outcome.findings.iter().filter(|f| f.path == path).count();
    assert!(outcome.findings.iter().any(|f| f.path == "stable.env" && f.secret == stable), "{outcome:#?}");
    for name in VANISH.iter().filter(|&&n| n != first) {
        let skip = outcome.skipped.iter().find(|s| s.path == *name).unwrap_or_else(|| panic!("{name}: {outcome:#?}"));
        assert_eq!(skip.reason, SkipReason::Unreadable);
        assert!(skip.detail.contains("vanished during the scan"), "{skip:?}");
    }
    for (name, k) in SHRINK.iter().zip(&shrinking) {
        if *name == first {
            assert!(outcome.findings.iter().any(|f| f.path == *name && f.secret == *k), "{outcome:#?}");
        } else {
            // Read as it now is: shorter, its key gone, and that is no error.
            assert_eq!(found(name), 0, "{outcome:#?}");
            assert!(outcome.skipped.iter().all(|s| s.path != *name), "{outcome:#?}");
        }
    }
    // A vanished file means the scan is incomplete: exit code 2.
    assert!(outcome.has_errors());
    assert_eq!(outcome.count_skipped(SkipReason::Unreadable), VANISH.iter().filter(|&&n| n != first).count());
    assert_eq!(
        outcome.stats.files_scanned,
        1 + SHRINK.len() as u64 + VANISH.iter().filter(|&&n| n == first).count() as u64
    );
}

/// Starts `leakhound ARGS`, sends it SIGINT at each of `signals` (counted
/// from the start), and waits for it to end, at most 60 s. Returns its exit
/// code, stdout and stderr. The first signal must find it still running
/// (else the scan was too short to test anything); a later one may come
/// after the first has already ended it, and is then not sent.
#[cfg(unix)]
fn interrupted(args: &[std::ffi::OsString], signals: &[Duration]) -> (Option<i32>, Vec<u8>, String) {
    use std::io::Read;
    use std::process::Stdio;
    let started = Instant::now();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_leakhound"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            pipe.read_to_end(&mut bytes).unwrap();
            bytes
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    // A SIGINT before the handler is installed would kill it outright: on
    // Linux, wait until the kernel says SIGINT is caught (on a loaded
    // machine start-up can take a while).
    let status_file = format!("/proc/{}/status", child.id());
    let catches_sigint = || {
        let Ok(status) = fs::read_to_string(&status_file) else { return true };
        let Some(mask) = status.lines().find_map(|l| l.strip_prefix("SigCgt:")) else { return true };
        u64::from_str_radix(mask.trim(), 16).is_ok_and(|m| m & (1 << (libc::SIGINT - 1)) != 0)
    };
    while !catches_sigint() && started.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(5));
    }
    for (n, &at) in signals.iter().enumerate() {
        std::thread::sleep(at.saturating_sub(started.elapsed()));
        if let Some(status) = child.try_wait().unwrap() {
            assert!(n > 0, "the scan ended ({status}) before Ctrl-C at {at:?}: the generated tree is too small");
            break;
        }
        // SAFETY: plain kill(2) on our own child, which is not reaped yet
        // (so its pid cannot have been reused).
        assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) }, 0);
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("still running 60 s after Ctrl-C");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stderr = String::from_utf8_lossy(&stderr.join().unwrap()).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    (status.code(), stdout.join().unwrap(), stderr)
}

/// When the Ctrl-C test presses Ctrl-C, and how many files its tree has
/// (of ~135 KB of keyword-dense code each), so that the key press always
/// lands mid-scan. Measured with two threads on two cores: the debug tree
/// (40 MB) takes ~4.5 s, 15 times the 300 ms; a release build is several
/// times faster again, so there the tree is larger (80 MB, under a second)
/// and Ctrl-C comes at 50 ms (after the handler is installed: the helper
/// waits for that). If the scan gets much faster, make the tree larger.
#[cfg(unix)]
const CTRL_C_AT_MS_AND_FILES: (u64, usize) = if cfg!(debug_assertions) { (300, 300) } else { (50, 600) };

/// Writes the Ctrl-C test's tree; returns its file count.
#[cfg(unix)]
fn slow_tree(root: &Path) -> usize {
    const FILES: usize = CTRL_C_AT_MS_AND_FILES.1;
    fs::create_dir_all(root).unwrap();
    for i in 0..FILES {
        let mut text = String::with_capacity(140_000);
        for j in 0..1500 {
            let n = (i * 7919 + j * 104_729) % 100_000_000;
            text.push_str(&format!(
                "const token_{i}_{j} = process.env.API_KEY_{j} || \"sk-proj-{n:08}\"; // ghp_ AKIA x-api-key\n"
            ));
        }
        fs::write(root.join(format!("f{i:04}.js")), text).unwrap();
    }
    FILES
}

#[cfg(unix)]
#[test]
fn ctrl_c_reports_partial_results_and_never_a_half_written_file() {
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("tree");
    let files = slow_tree(&tree);
    fs::write(tree.join("ok.env"), format!("K={}\n", common::key("openai-project", 53))).unwrap();
    let out = dir.path().join("out");
    fs::create_dir(&out).unwrap();
    // Two threads: as slow on a 64-core runner as here, and still parallel.
    let args = |extra: &[&OsStr]| -> Vec<std::ffi::OsString> {
        let mut args: Vec<std::ffi::OsString> = ["scan", "--threads", "2", "--format", "json"].map(Into::into).to_vec();
        args.extend(extra.iter().map(|&a| a.to_owned()));
        args.push(tree.clone().into_os_string());
        args
    };
    let is_partial =
        |doc: &Value| doc["notes"].as_array().unwrap().iter().any(|n| n.as_str().unwrap().contains("partial"));
    let ctrl_c = Duration::from_millis(CTRL_C_AT_MS_AND_FILES.0);

    // To stdout: exit 130 and a whole JSON report that says it is partial.
    let (code, stdout, stderr) = interrupted(&args(&[]), &[ctrl_c]);
    let doc: Value = serde_json::from_slice(&stdout)
        .unwrap_or_else(|e| panic!("not a JSON report ({e}): {}{stderr}", String::from_utf8_lossy(&stdout)));
    assert!(is_partial(&doc), "no partial note: did the scan finish before Ctrl-C? {doc}");
    assert_eq!(code, Some(130), "{stderr}");
    assert!(doc["findings"].is_array());
    let scanned = doc["stats"]["files_scanned"].as_u64().unwrap();
    assert!(scanned < files as u64, "it stopped early: {scanned} of {files} files");
    assert!(stderr.contains("interrupted"), "{stderr}");

    // To --output FILE: the report is complete and in place, and nothing
    // else (no temporary file) is left beside it.
    let report = out.join("report.json");
    let (code, stdout, stderr) = interrupted(&args(&[OsStr::new("--output"), report.as_os_str()]), &[ctrl_c]);
    assert_eq!(code, Some(130), "{stderr}");
    assert!(stdout.is_empty());
    let doc: Value = serde_json::from_slice(&fs::read(&report).unwrap()).expect("a complete JSON report");
    assert!(is_partial(&doc), "{doc}");
    assert_eq!(fs::read_dir(&out).unwrap().count(), 1, "only the report is left in {}", out.display());

    // A second Ctrl-C quits at once: the report is then absent or complete,
    // never half-written.
    let quit = out.join("quit.json");
    let (code, _, stderr) =
        interrupted(&args(&[OsStr::new("--output"), quit.as_os_str()]), &[ctrl_c, ctrl_c + Duration::from_millis(5)]);
    assert_eq!(code, Some(130), "{stderr}");
    if quit.exists() {
        let doc: Value = serde_json::from_slice(&fs::read(&quit).unwrap()).expect("a complete JSON report");
        assert!(is_partial(&doc), "{doc}");
    }
}

#[test]
fn report_files_hold_no_full_secret_unless_asked() {
    let src = tempfile::tempdir().unwrap();
    let keys = [common::key("openai-project", 54), common::key("anthropic-api", 55), common::key("github-classic", 56)];
    fs::write(src.path().join("app.env"), format!("OPENAI_API_KEY={}\nANTHROPIC_API_KEY={}\n", keys[0], keys[1]))
        .unwrap();
    fs::write(src.path().join("deploy.sh"), format!("curl -H 'Authorization: token {}' x\n", keys[2])).unwrap();
    let out = tempfile::tempdir().unwrap();
    let write = |extra: &[&str], file: &str| -> Run {
        let target = out.path().join(file);
        let mut args: Vec<&OsStr> = vec![OsStr::new("scan"), OsStr::new("--output"), target.as_os_str()];
        args.extend(extra.iter().map(OsStr::new));
        args.push(src.path().as_os_str());
        let run = leakhound(args, 60);
        assert_eq!(run.code, 1, "{}", run.stderr);
        run
    };
    // Any 12 characters of a key's hidden middle give too much of it away.
    let leaks = |bytes: &[u8], k: &str| {
        let middle = &k.as_bytes()[k.len() / 2 - 6..k.len() / 2 + 6];
        bytes.windows(middle.len()).any(|w| w == middle)
    };

    let mut console = Vec::new();
    for (extra, file) in [
        (&[][..], "report.txt"),
        (&["--format", "json"][..], "r.json"),
        (&["--format", "jsonl"][..], "r.jsonl"),
        (&["--format", "sarif"][..], "r.sarif"),
        (&["--format", "html"][..], "r.html"),
    ] {
        let run = write(extra, file);
        console.extend(run.stdout);
        console.extend(run.stderr.into_bytes());
    }
    let mut written = Vec::new();
    let mut stack = vec![out.path().to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                written.push(path);
            }
        }
    }
    assert_eq!(written.len(), 5, "{written:?}");
    for path in &written {
        let bytes = fs::read(path).unwrap();
        for k in &keys {
            assert!(!leaks(&bytes, k), "{} holds a secret", path.display());
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{} is readable by others", path.display());
        }
    }
    for k in &keys {
        assert!(!leaks(&console, k), "stdout or stderr holds a secret");
    }

    // The check can fail: asked to, the report holds the secrets in full.
    for (extra, file) in
        [(&["--show-secrets"][..], "shown.txt"), (&["--show-secrets", "--format", "json"][..], "shown.json")]
    {
        write(extra, file);
        let bytes = fs::read(out.path().join(file)).unwrap();
        for k in &keys {
            assert!(bytes.windows(k.len()).any(|w| w == k.as_bytes()), "{file} lacks a secret it was asked to show");
        }
    }
}

#[test]
fn a_60_mb_log_over_the_size_limit_is_read_in_parts_and_its_last_key_found() {
    let dir = tempfile::tempdir().unwrap();
    let key = common::key("anthropic-api", 58);
    let log = dir.path().join("app.log");
    let mut text = String::with_capacity(61 << 20);
    let mut n = 0;
    while text.len() < 60 << 20 {
        text.push_str(&format!("2026-12-06T10:00:00Z INFO request {n} served in 12 ms\n"));
        n += 1;
    }
    text.push_str(&format!("2026-12-06T10:00:01Z DEBUG anthropic client ready, key={key}\n"));
    fs::write(&log, &text).unwrap();
    let run = scan_run(&["--max-file-size", "25M"], &[dir.path()], 120);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let f = &run.doc["findings"][0];
    assert_eq!(f["path"], "app.log");
    assert_eq!(f["line"].as_u64(), Some(n as u64 + 1), "the line counts across parts");
    assert_eq!(run.doc["findings"].as_array().unwrap().len(), 1, "parts overlap without double reports");
    assert_eq!(run.doc["stats"]["bytes_scanned"].as_u64(), Some(text.len() as u64), "overlaps are counted once");
}
