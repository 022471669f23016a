//! A scratch git repository driven through the git CLI, with a fixed author
//! and dates that advance by a fixed step per git command, so "first
//! commit" and dates in reports are deterministic.

use std::fs;
use std::path::PathBuf;
use std::process::Command;

pub struct Repo {
    _dir: tempfile::TempDir,
    pub path: PathBuf,
    clock: u64,
    step: u64,
}

impl Repo {
    /// A new repository on branch `main`; dates advance one minute per
    /// git command.
    pub fn new() -> Repo {
        Repo::with_step(60)
    }

    /// Dates advance `step` seconds per git command.
    pub fn with_step(step: u64) -> Repo {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("repo");
        fs::create_dir(&path).unwrap();
        let mut repo = Repo { _dir: dir, path, clock: 1_700_000_000, step };
        repo.git(&["init", "-q", "-b", "main"]);
        repo
    }

    /// Runs git in the repository; panics with git's stderr on failure.
    pub fn git(&mut self, args: &[&str]) -> String {
        self.clock += self.step;
        let date = format!("{} +0000", self.clock);
        let out = Command::new("git")
            .current_dir(&self.path)
            .args(["-c", "user.name=Dev One", "-c", "user.email=dev@example.com", "-c", "commit.gpgsign=false"])
            .args(args)
            // The environment beats `-c user.*`, and CI sets an identity there.
            .envs([("GIT_AUTHOR_NAME", "Dev One"), ("GIT_COMMITTER_NAME", "Dev One")])
            .envs([("GIT_AUTHOR_EMAIL", "dev@example.com"), ("GIT_COMMITTER_EMAIL", "dev@example.com")])
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date)
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }

    pub fn write(&self, path: &str, text: &str) {
        let full = self.path.join(path);
        fs::create_dir_all(full.parent().unwrap()).unwrap();
        fs::write(full, text).unwrap();
    }

    /// Writes, stages everything and commits; returns the commit id.
    pub fn commit(&mut self, path: &str, text: &str, message: &str) -> String {
        self.write(path, text);
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", message]);
        self.git(&["rev-parse", "HEAD"])
    }
}
