//! `leakhound hook install|uninstall`: a git pre-commit hook that runs
//! `leakhound staged`. The hook carries a marker line so that uninstall
//! removes only its own hook and install never silently replaces someone
//! else's.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// Identifies a hook written by leakhound.
const MARKER: &str = "# installed by `leakhound hook install`";

/// Where git looks for hooks: `core.hooksPath` if set (relative to the work
/// tree), else `.git/hooks` of the common dir (worktrees share it).
pub fn hooks_dir(repo: &git2::Repository) -> PathBuf {
    let configured = repo.config().ok().and_then(|c| c.get_path("core.hooksPath").ok());
    match configured {
        Some(path) if path.is_absolute() => path,
        Some(path) => repo.workdir().unwrap_or_else(|| repo.path()).join(path),
        None => repo.commondir().join("hooks"),
    }
}

/// The name an existing hook is kept under by `install --force`; the new
/// hook runs it after leakhound, so nothing the team had stops running.
const BACKUP: &str = "pre-commit.leakhound-backup";

fn hook_script(leakhound: &Path) -> String {
    format!(
        "#!/bin/sh\n{MARKER}\n# Blocks commits that add API keys. Bypass once with `git commit --no-verify`.\n\
         if command -v leakhound >/dev/null 2>&1; then leakhound staged || exit $?\n\
         else '{}' staged || exit $?\n\
         fi\n\
         # The hook that was here before (kept by `hook install --force`) runs next.\n\
         previous=\"$(dirname \"$0\")/{BACKUP}\"\n\
         if [ -x \"$previous\" ]; then exec \"$previous\" \"$@\"; fi\n",
        leakhound.display().to_string().replace('\'', "'\\''")
    )
}

/// Writes the pre-commit hook. Refuses to replace a hook leakhound did not
/// write unless `force`, in which case the old one is kept beside it as
/// `pre-commit.leakhound-backup` and run after leakhound. Returns the
/// hook's path.
pub fn install(repo: &git2::Repository, force: bool) -> Result<PathBuf> {
    let dir = hooks_dir(repo);
    fs::create_dir_all(&dir).with_context(|| format!("cannot create hooks directory {}", dir.display()))?;
    let hook = dir.join("pre-commit");
    if let Ok(existing) = fs::read_to_string(&hook)
        && !existing.contains(MARKER)
    {
        if !force {
            bail!(
                "{} already exists and was not written by leakhound; add `leakhound staged` to it yourself, \
                 or rerun with --force (the old hook is kept as pre-commit.leakhound-backup)",
                hook.display()
            );
        }
        fs::rename(&hook, dir.join(BACKUP)).context("cannot back up the existing hook")?;
    }
    let exe = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("leakhound"));
    fs::write(&hook, hook_script(&exe)).with_context(|| format!("cannot write {}", hook.display()))?;
    make_executable(&hook)?;
    Ok(hook)
}

/// Removes the hook if leakhound wrote it. Returns whether it did.
pub fn uninstall(repo: &git2::Repository) -> Result<bool> {
    let hook = hooks_dir(repo).join("pre-commit");
    match fs::read_to_string(&hook) {
        Ok(text) if text.contains(MARKER) => {
            fs::remove_file(&hook).with_context(|| format!("cannot remove {}", hook.display()))?;
            Ok(true)
        }
        Ok(_) => bail!("{} was not written by leakhound; leaving it alone", hook.display()),
        Err(_) => Ok(false),
    }
}

#[cfg(unix)]
fn make_executable(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).context("cannot make the hook executable")
}

#[cfg(not(unix))]
fn make_executable(_: &Path) -> Result<()> {
    Ok(())
}
