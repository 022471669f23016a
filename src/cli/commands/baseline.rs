//! `leakhound baseline create`: record today's findings (hashes only) so
//! later runs report only new ones.

use std::path::PathBuf;

use anyhow::Result;

use crate::enrich::suppress::Baseline;

use crate::cli::args::{BaselineCommand, ScanArgs};
use crate::cli::output::exit;

pub fn run(command: BaselineCommand) -> Result<u8> {
    match command {
        BaselineCommand::Create(args) => create(args),
    }
}

fn create(mut args: ScanArgs) -> Result<u8> {
    let target = args.output.output.take().unwrap_or_else(|| PathBuf::from(".leakhound-baseline.json"));
    let (_, outcome) = super::scan::scan_paths(&args)?;
    Baseline::from_findings(&outcome.findings).save(&target)?;
    eprintln!("leakhound: recorded {} findings in {} (hashes only)", outcome.findings.len(), target.display());
    Ok(if outcome.has_errors() { exit::ERROR } else { exit::CLEAN })
}
