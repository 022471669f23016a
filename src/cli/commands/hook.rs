//! `leakhound hook install|uninstall`: the git pre-commit hook.

use anyhow::Result;

use crate::hook;
use crate::source::git::GitRepo;

use crate::cli::args::HookCommand;
use crate::cli::output::exit;

pub fn run(command: HookCommand) -> Result<u8> {
    match command {
        HookCommand::Install { force, repo } => {
            let repo = GitRepo::open(&repo)?;
            let path = hook::install(&repo.repo, force)?;
            eprintln!("leakhound: installed pre-commit hook at {}", path.display());
        }
        HookCommand::Uninstall { repo } => {
            let repo = GitRepo::open(&repo)?;
            if hook::uninstall(&repo.repo)? {
                eprintln!("leakhound: removed the pre-commit hook");
            } else {
                eprintln!("leakhound: no pre-commit hook to remove");
            }
        }
    }
    Ok(exit::CLEAN)
}
