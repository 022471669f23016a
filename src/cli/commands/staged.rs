//! `leakhound staged`: what the next commit would add, for pre-commit hooks.

use anyhow::Result;

use crate::history::changes::scan_staged;
use crate::source::git::GitRepo;

use crate::cli::args::StagedArgs;
use crate::cli::output::exit;
use crate::cli::settings::Session;

pub fn run(args: StagedArgs) -> Result<u8> {
    let repo = GitRepo::open(&args.repo)?;
    let Some(work_tree) = repo.repo.workdir() else {
        anyhow::bail!("{} is a bare repository: it has nothing staged", repo.open_path.display());
    };
    let mut session = Session::start(work_tree, &args.output, None)?;
    session.title = format!("staged changes in {}", session.title);
    // Run by the pre-commit hook on every commit: silent unless it blocks.
    session.quiet_when_clean = true;
    let outcome = scan_staged(work_tree, &session.detector)?;
    let code = session.finish(outcome, &args.verify, &args.output)?;
    if code == exit::FINDINGS {
        eprintln!(
            "\nleakhound: this commit would add the secrets above. Remove each from the file and `git add` it again \
             (or `git restore --staged <file>` to unstage it). If a key was ever pushed or shared, rotate it: \
             the rotate link is above.\n\
             If it is not a secret (a test fixture, a public id): add `leakhound:allow` in a comment on its line, \
             or its `sha256:<secret_sha256>` to `allow_secrets` in .leakhound.toml, or record it in the baseline \
             that .leakhound.toml's `baseline` names. To commit anyway once: git commit --no-verify"
        );
    }
    Ok(code)
}
