//! Bare clones of listed URLs, kept in a cache folder between runs: the
//! first run clones (`git clone --bare`), later runs fetch every branch and
//! tag (`git fetch --prune`). The system `git` does the network part, so
//! whatever it is configured with (credential helpers, `insteadOf`, proxies,
//! ssh keys) applies; it runs with a timeout and may never prompt.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::list::scrub;

/// Where clones go and how long one git command may take.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// The cache folder (`--clone-dir`); created when missing.
    pub clone_dir: PathBuf,
    /// For one `git clone` or `git fetch` (`--clone-timeout`).
    pub timeout: Duration,
    /// Set (by Ctrl-C) to stop: a running git is ended and no further
    /// repository is started.
    pub cancel: Option<&'static AtomicBool>,
}

impl FetchOptions {
    /// Whether the run was asked to stop.
    pub fn cancelled(&self) -> bool {
        self.cancel.is_some_and(|c| c.load(Ordering::Relaxed))
    }
}

/// A bare clone ready to audit.
#[derive(Debug)]
pub struct Fetched {
    pub path: PathBuf,
    /// `cloned` or `fetched`.
    pub action: &'static str,
    /// Set when the fetch failed and `path` holds an earlier fetch: the
    /// audit goes on with it, and this is reported.
    pub stale: Option<String>,
}

/// The refs a clone keeps up to date: every branch and tag, as on the
/// server (a mirror without pull-request and other hidden refs).
const REFSPECS: [&str; 2] = ["+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"];

/// The folder for repository `id` inside `clone_dir`: a readable slug plus
/// a hash of the id (two ids never share a folder).
pub fn clone_path(clone_dir: &Path, id: &str) -> PathBuf {
    let slug: String = id
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_' { c } else { '_' })
        .collect::<String>()
        .trim_matches(|c| c == '_' || c == '.')
        .chars()
        .take(80)
        .collect();
    let hash = hex::encode(&Sha256::digest(id.as_bytes())[..6]);
    clone_dir.join(format!("{slug}-{hash}.git"))
}

/// Brings the bare clone of `url` (normalized id `id`) up to date: fetches
/// when the clone folder exists, clones otherwise. A failed clone is an
/// error with git's message (credentials in it masked); a failed fetch of
/// an existing clone is not (the earlier copy is returned, marked stale).
pub fn clone_or_fetch(url: &str, id: &str, options: &FetchOptions) -> Result<Fetched, String> {
    let target = clone_path(&options.clone_dir, id);
    if target.join("HEAD").is_file() {
        let mut args = vec!["fetch", "--prune", "--quiet", "--no-write-fetch-head", "--", url];
        args.extend(REFSPECS);
        let stale = run_git(&args, Some(&target), options)
            .err()
            .map(|e| format!("git fetch failed, audited the copy fetched earlier: {}", scrub(&e, url)));
        return Ok(Fetched { path: target, action: "fetched", stale });
    }
    std::fs::create_dir_all(&options.clone_dir)
        .map_err(|e| format!("cannot create clone folder {}: {e}", options.clone_dir.display()))?;
    // Clone beside the target and rename: an interrupted clone never looks
    // like a finished one to the next run.
    let partial = target.with_extension(format!("partial-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&partial);
    let partial_arg = partial.to_string_lossy().into_owned();
    let cloned = run_git(&["clone", "--bare", "--quiet", "--", url, &partial_arg], None, options).and_then(|()| {
        // A bare clone has no fetch refspec; record ours for anyone who runs
        // `git fetch` in it by hand.
        run_git(&["config", "remote.origin.fetch", REFSPECS[0]], Some(&partial), options)?;
        run_git(&["config", "--add", "remote.origin.fetch", REFSPECS[1]], Some(&partial), options)
    });
    if let Err(e) = cloned {
        let _ = std::fs::remove_dir_all(&partial);
        return Err(format!("git clone failed: {}", scrub(&e, url)));
    }
    if let Err(e) = std::fs::rename(&partial, &target) {
        let _ = std::fs::remove_dir_all(&partial);
        // Another run finished the same clone first: use it.
        if !target.join("HEAD").is_file() {
            return Err(format!("cannot move the clone to {}: {e}", target.display()));
        }
    }
    Ok(Fetched { path: target, action: "cloned", stale: None })
}

/// Runs the system `git` with `args` (in `dir`), without prompting for
/// anything, ending it and everything it started (remote helpers,
/// `index-pack`, ssh) after `options.timeout` or when `options.cancel` is
/// set. The error is git's last lines of stderr, or what went wrong
/// starting, waiting for or stopping it.
pub fn run_git(args: &[&str], dir: Option<&Path>, options: &FetchOptions) -> Result<(), String> {
    let timeout = options.timeout;
    let mut command = Command::new("git");
    if let Some(dir) = dir {
        command.arg("-C").arg(dir);
    }
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        // Never ask for a user name or password on the terminal...
        .env("GIT_TERMINAL_PROMPT", "0")
        // ...nor in Git Credential Manager's windows.
        .env("GCM_INTERACTIVE", "never");
    if std::env::var_os("GIT_SSH_COMMAND").is_none() && std::env::var_os("GIT_SSH").is_none() {
        // ssh asks for passphrases and unknown host keys on /dev/tty.
        command.env("GIT_SSH_COMMAND", "ssh -o BatchMode=yes");
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        // Its own process group, so a timeout can end git's children too.
        command.process_group(0);
    }
    let mut child = command.spawn().map_err(|e| format!("cannot run git: {e}"))?;
    let mut stderr = child.stderr.take();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(stderr) = stderr.as_mut() {
            let _ = stderr.read_to_string(&mut text);
        }
        text
    });
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Ok(status),
            Ok(None) if started.elapsed() >= timeout => {
                kill_group(&mut child);
                let _ = child.wait();
                break Err(format!("timed out after {} s", timeout.as_secs_f64()));
            }
            Ok(None) if options.cancelled() => {
                kill_group(&mut child);
                let _ = child.wait();
                break Err("interrupted".to_string());
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => {
                kill_group(&mut child);
                let _ = child.wait();
                break Err(format!("cannot wait for git: {e}"));
            }
        }
    };
    // After a kill, a grandchild may still hold stderr open; do not wait
    // for it.
    let message = if status.is_ok() { reader.join().unwrap_or_default() } else { String::new() };
    let status = status?;
    if status.success() {
        return Ok(());
    }
    let lines: Vec<&str> = message.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    let tail = lines[lines.len().saturating_sub(3)..].join(" / ");
    Err(if tail.is_empty() { format!("git exited with {status}") } else { tail })
}

fn kill_group(child: &mut std::process::Child) {
    #[cfg(unix)]
    if let Ok(pid) = i32::try_from(child.id()) {
        // SAFETY: kill(2) with a negative pid signals the process group we
        // created for this child; it touches no memory.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
        return;
    }
    let _ = child.kill();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clone_folders_are_distinct_and_readable() {
        let dir = Path::new("/c");
        let a = clone_path(dir, "github.com/acme/api");
        assert!(a.to_string_lossy().starts_with("/c/github.com_acme_api-"), "{}", a.display());
        assert!(a.to_string_lossy().ends_with(".git"));
        assert_ne!(a, clone_path(dir, "github.com/acme_api"));
        assert_eq!(clone_path(dir, "/srv/../etc").parent(), Some(dir));
    }

    #[test]
    fn a_server_that_never_answers_times_out() {
        // Accepted by the kernel (backlog), never answered: git waits for
        // the ref advertisement forever.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("git://{}/repo.git", listener.local_addr().unwrap());
        let dir = tempfile::tempdir().unwrap();
        let started = Instant::now();
        let options = FetchOptions { clone_dir: dir.path().into(), timeout: Duration::from_millis(500), cancel: None };
        let error = clone_or_fetch(&url, "hang", &options).unwrap_err();
        assert!(error.contains("timed out"), "{error}");
        assert!(started.elapsed() < Duration::from_secs(10));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "the partial clone is removed");
        drop(listener);
    }

    #[test]
    fn a_cancelled_run_stops_git() {
        static STOP: AtomicBool = AtomicBool::new(true);
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("git://{}/repo.git", listener.local_addr().unwrap());
        let dir = tempfile::tempdir().unwrap();
        let options =
            FetchOptions { clone_dir: dir.path().into(), timeout: Duration::from_secs(60), cancel: Some(&STOP) };
        assert!(clone_or_fetch(&url, "stop", &options).unwrap_err().contains("interrupted"));
    }
}
