//! The command line. `args` and `flags` hold what the user can type (one
//! definition per flag, values checked as typed), `settings` turns it and the configuration into what a run
//! needs, `commands/` has one file per subcommand, and `output` writes the
//! report and picks the exit code. This file only dispatches.

mod args;
mod commands;
mod flags;
mod interrupt;
mod output;
mod settings;

use std::io;
use std::process::ExitCode;

use anyhow::Result;
use clap::{CommandFactory, Parser};

pub use args::Cli;
use args::Command;
pub use output::exit;

/// Parses arguments, runs the command, and maps the outcome to an exit code.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    interrupt::install();
    match dispatch(cli) {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("leakhound: error: {error:#}");
            ExitCode::from(exit::ERROR)
        }
    }
}

fn dispatch(cli: Cli) -> Result<u8> {
    match cli.command {
        Command::Scan(args) => commands::scan::run(args),
        Command::Git(args) => commands::git::run(*args),
        Command::Merge(args) => commands::merge::run(args),
        Command::Staged(args) => commands::staged::run(args),
        Command::Baseline(command) => commands::baseline::run(command),
        Command::Hook(command) => commands::hook::run(command),
        Command::Rules(command) => commands::rules::run(command),
        Command::Detect(_) => {
            commands::rules::from_gitleaks("detect", "leakhound git .  (history) or leakhound scan .  (files)")
        }
        Command::Dir(_) => commands::rules::from_gitleaks("dir", "leakhound scan PATH"),
        Command::Protect(_) => {
            commands::rules::from_gitleaks("protect", "leakhound staged  (and `leakhound hook install`)")
        }
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "leakhound", &mut io::stdout());
            Ok(exit::CLEAN)
        }
        Command::Man { subcommand } => {
            let cli = Cli::command();
            let page = match subcommand {
                None => cli,
                Some(name) => {
                    let found = cli.find_subcommand(&name).cloned();
                    let Some(sub) = found else {
                        anyhow::bail!("no subcommand `{name}`: see `leakhound --help` for the list");
                    };
                    // Process-lifetime text: clap names are &'static.
                    sub.name(&*Box::leak(format!("leakhound-{name}").into_boxed_str()))
                }
            };
            clap_mangen::Man::new(page).render(&mut io::stdout())?;
            Ok(exit::CLEAN)
        }
    }
}
