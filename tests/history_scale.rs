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
fn run_with_peak(args: &[&str]) -> (i32, Value, u64) {
    let exe = assert_cmd::cargo::cargo_bin("leakhound");
    let out = tempfile::NamedTempFile::new().unwrap();
    // Waited for below with wait4, which std's Child cannot do.
    #[allow(clippy::zombie_processes)]
    let child = Command::new(exe).args(args).stdout(out.reopen().unwrap()).stderr(Stdio::null()).spawn().unwrap();
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value for wait4 to fill in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: the pid is our own child, not waited for by anyone else.
    let pid = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    assert_eq!(pid, child.id() as libc::pid_t);
    assert!(libc::WIFEXITED(status), "leakhound did not exit normally: {status}");
    let doc = serde_json::from_slice(&std::fs::read(out.path()).unwrap()).unwrap();
    (libc::WEXITSTATUS(status), doc, usage.ru_maxrss as u64 * 1024)
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
