//! The history audit in bounded memory (`--max-memory`), on a history that
//! used to cost commits × matched paths: many files holding keys, carried
//! by thousands of commits. The peak is the child's own, from `wait4`.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::common;

const FILES_WITH_KEYS: usize = 200;
const COMMITS: usize = 4000;

/// A bare repository written with `git fast-import`: the first commit adds
/// FILES_WITH_KEYS files, each with its own key, in nested directories;
/// every later commit edits one other file, so each commit has its own root
/// tree while all the keys stay.
fn many_keys_many_commits(dir: &Path) -> Vec<String> {
    let status = Command::new("git").args(["init", "-q", "--bare", "-b", "main"]).arg(dir).status().unwrap();
    assert!(status.success());
    let keys: Vec<String> = (0..FILES_WITH_KEYS).map(|i| common::key("anthropic-api", 9_000 + i as u64)).collect();
    let mut stream = Vec::new();
    let commit = |stream: &mut Vec<u8>, n: usize, files: &[(String, String)]| {
        let message = format!("commit {n}");
        write!(stream, "commit refs/heads/main\ncommitter Dev <dev@example.com> {} +0000\n", 1_700_000_000 + n)
            .unwrap();
        write!(stream, "data {}\n{message}\n", message.len()).unwrap();
        for (path, content) in files {
            write!(stream, "M 100644 inline {path}\ndata {}\n{content}\n", content.len()).unwrap();
        }
    };
    let first: Vec<(String, String)> = keys
        .iter()
        .enumerate()
        .map(|(i, key)| (format!("svc{}/config/m{i}/settings.py", i % 10), format!("ANTHROPIC_API_KEY = \"{key}\"\n")))
        .collect();
    commit(&mut stream, 0, &first);
    for n in 1..COMMITS {
        commit(&mut stream, n, &[(format!("src/part{}/notes.txt", n % 50), format!("revision {n}\n"))]);
    }
    let mut import =
        Command::new("git").args(["fast-import", "--quiet"]).current_dir(dir).stdin(Stdio::piped()).spawn().unwrap();
    import.stdin.take().unwrap().write_all(&stream).unwrap();
    assert!(import.wait().unwrap().success());
    keys
}

/// Runs leakhound and returns (exit code, JSON report, peak RSS in bytes).
///
/// The peak is `ru_maxrss` from `wait4` on the leakhound process. Linux keeps
/// the largest of a process's peaks across `exec`, so a child forked from
/// this test binary (tens of MB while the suite runs in parallel) would
/// report at least that. The child is therefore started from a fresh, small
/// copy of this binary that runs only [`spawn_and_measure`].
fn run_with_peak(args: &[&str]) -> (i32, Value, u64) {
    let report = tempfile::NamedTempFile::new().unwrap();
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["history_scale::spawn_and_measure", "--exact", "--ignored", "--nocapture", "--test-threads=1"])
        .env(ARGS_VAR, args.join("\u{1f}"))
        .env(REPORT_VAR, report.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line =
        stdout.lines().find_map(|l| l.split_once("MEASURED ").map(|(_, m)| m)).unwrap_or_else(|| panic!("{stdout}"));
    let (code, peak) = line.split_once(' ').unwrap();
    let doc = serde_json::from_slice(&std::fs::read(report.path()).unwrap()).unwrap();
    (code.parse().unwrap(), doc, peak.parse().unwrap())
}

const ARGS_VAR: &str = "LEAKHOUND_TEST_MEASURE_ARGS";
const REPORT_VAR: &str = "LEAKHOUND_TEST_MEASURE_REPORT";

/// Not a test of its own: [`run_with_peak`] runs it in a fresh process.
/// Runs leakhound with the arguments in `ARGS_VAR` (stdout to `REPORT_VAR`)
/// and prints `MEASURED <exit code> <peak RSS bytes>`.
#[test]
#[ignore = "run by run_with_peak in a fresh process"]
fn spawn_and_measure() {
    let (Some(args), Some(report)) = (std::env::var_os(ARGS_VAR), std::env::var_os(REPORT_VAR)) else {
        panic!("run by run_with_peak, which sets {ARGS_VAR} and {REPORT_VAR}");
    };
    let args: Vec<String> = args.to_str().unwrap().split('\u{1f}').map(String::from).collect();
    let exe = assert_cmd::cargo::cargo_bin("leakhound");
    let stdout = std::fs::File::create(report).unwrap();
    // Waited for below with wait4, which std's Child cannot do.
    #[allow(clippy::zombie_processes)]
    let child = Command::new(exe).args(&args).stdout(stdout).stderr(Stdio::null()).spawn().unwrap();
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value for wait4 to fill in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: the pid is our own child, not waited for by anyone else.
    let pid = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    assert_eq!(pid, child.id() as libc::pid_t);
    assert!(libc::WIFEXITED(status), "leakhound did not exit normally: {status}");
    println!("MEASURED {} {}", libc::WEXITSTATUS(status), usage.ru_maxrss as u64 * 1024);
}

fn notes(doc: &Value) -> Vec<&str> {
    doc["notes"].as_array().map(|n| n.iter().filter_map(Value::as_str).collect()).unwrap_or_default()
}

#[test]
fn max_memory_is_honoured_and_every_key_is_attributed() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("history.git");
    let keys = many_keys_many_commits(&repo);
    let repo = repo.to_str().unwrap();

    // Before attribution was bounded this history took 106 MB (release
    // build); now about 30 MB plus a decode thread.
    let budget: u64 = 64 << 20;
    let (code, doc, peak) = run_with_peak(&["git", "--threads", "2", "--max-memory", "64M", "--format", "json", repo]);
    assert_eq!(code, 1, "{doc:#}");
    assert!(peak <= budget, "peak {} MiB over the 64 MiB budget", peak >> 20);
    assert_eq!(notes(&doc), ["memory budget 64 MiB: ran on 1 thread instead of 2 to stay under it"]);
    let findings = doc["findings"].as_array().unwrap();
    assert_eq!(findings.len(), FILES_WITH_KEYS);
    for (i, key) in keys.iter().enumerate() {
        let path = format!("svc{}/config/m{i}/settings.py", i % 10);
        let finding = common::finding_at(&doc, &path);
        assert_eq!(finding["secret_sha256"], common::sha256(key));
        assert_eq!(finding["commit_count"], COMMITS as u64, "{path}");
        assert_eq!(finding["in_head"], true);
        assert_eq!(finding["summary"], "commit 0");
    }

    // A budget below what the history needs: it still runs (on one thread),
    // finds the same keys, and says so.
    let (code, low, _) = run_with_peak(&["git", "--threads", "2", "--max-memory", "1M", "--format", "json", repo]);
    assert_eq!(code, 1);
    assert_eq!(low["findings"].as_array().unwrap().len(), FILES_WITH_KEYS);
    assert!(
        notes(&low).iter().any(|n| n.starts_with("memory budget 1 MiB is below what this history needs")),
        "{:?}",
        notes(&low)
    );
}
