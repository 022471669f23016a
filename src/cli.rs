//! The command line: argument parsing (clap derive) and dispatch to the
//! modes. Each mode is a few lines that pick a source and a report; the work
//! lives in the library modules.

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::audit::{AuditOptions, audit};
use crate::changes::{scan_range, scan_staged};
use crate::detect::Detector;
use crate::hook;
use crate::report::{self, Format, ReportOptions};
use crate::rules::{RuleSet, Severity};
use crate::scan::{Collector, ScanOutcome};
use crate::source::git::GitRepo;
use crate::source::{self, fs::WalkOptions};

/// Exit codes are part of the interface: CI steps and hooks branch on them.
pub mod exit {
    pub const CLEAN: u8 = 0;
    pub const FINDINGS: u8 = 1;
    pub const ERROR: u8 = 2;
}

#[derive(Debug, Parser)]
#[command(
    name = "leakhound",
    version,
    about = "Find leaked AI-provider and cloud API keys in files and git history.",
    long_about = "Find leaked AI-provider and cloud API keys (OpenAI, Anthropic, Google, Groq, \
Mistral, AWS, GitHub, Stripe, ...) in files and git history.\n\n\
Exit codes: 0 = no findings, 1 = findings, 2 = error (including files that could not be read; \
findings are still reported).",
    after_help = "Examples:\n  leakhound scan .                    scan the current tree\n  \
leakhound scan --format json src    machine-readable report\n  \
leakhound git .                     audit the whole git history\n  \
leakhound git --range origin/main..HEAD   only what a pull request adds\n  \
leakhound hook install              block commits that add keys\n  \
cat config.env | leakhound scan -    scan standard input\n  \
leakhound rules list                what is detected"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Scan files and directories (`-` reads standard input).
    Scan(ScanArgs),
    /// Audit a git repository's whole history (every blob reachable from any
    /// ref, each scanned once), attributing each key to the commit that
    /// introduced it.
    Git(GitArgs),
    /// Scan what is staged for the next commit (added lines only); for
    /// pre-commit hooks. Exits 1, with advice, when a key is staged.
    Staged(StagedArgs),
    /// Install or remove the git pre-commit hook that runs `leakhound staged`.
    #[command(subcommand)]
    Hook(HookCommand),
    /// Inspect the built-in rules.
    #[command(subcommand)]
    Rules(RulesCommand),
}

#[derive(Debug, Subcommand)]
enum RulesCommand {
    /// List every rule: id, provider, name.
    List {
        /// `text` (a table) or `json`.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

#[derive(Debug, Args)]
struct ScanArgs {
    /// Files or directories to scan; `-` reads standard input. Default: `.`.
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,

    /// Scan files that .gitignore/.ignore would exclude.
    #[arg(long)]
    no_ignore: bool,

    /// Follow symbolic links (loops are detected and reported).
    #[arg(long, short = 'L')]
    follow: bool,

    /// Skip files larger than this (bytes, or with a K/M/G suffix).
    #[arg(long, value_name = "SIZE", default_value = "25M", value_parser = parse_size)]
    max_file_size: u64,

    #[command(flatten)]
    output: OutputArgs,
}

#[derive(Debug, Subcommand)]
enum HookCommand {
    /// Write `.git/hooks/pre-commit` (honours core.hooksPath).
    Install {
        /// Replace a hook leakhound did not write (it is kept as pre-commit.leakhound-backup).
        #[arg(long)]
        force: bool,
        /// The repository.
        #[arg(long, default_value = ".")]
        repo: PathBuf,
    },
    /// Remove the hook, only if leakhound wrote it.
    Uninstall {
        /// The repository.
        #[arg(long, default_value = ".")]
        repo: PathBuf,
    },
}

#[derive(Debug, Args)]
struct StagedArgs {
    /// The repository (default: the one containing the current directory).
    #[arg(long, default_value = ".")]
    repo: PathBuf,

    #[command(flatten)]
    output: OutputArgs,
}

#[derive(Debug, Args)]
struct GitArgs {
    /// The repository (a work tree, a `.git` directory or a bare repository).
    #[arg(value_name = "REPO", default_value = ".")]
    repo: PathBuf,

    /// Also scan objects no ref reaches (dropped stashes, rewritten history
    /// not yet garbage-collected).
    #[arg(long, conflicts_with_all = ["range", "since_commit"])]
    all_objects: bool,

    /// Scan only the lines the commits BASE..HEAD added (for CI on a pull
    /// request): keys already on BASE are not reported.
    #[arg(long, value_name = "BASE..HEAD", conflicts_with = "since_commit")]
    range: Option<String>,

    /// Same as `--range SHA..HEAD`.
    #[arg(long, value_name = "SHA")]
    since_commit: Option<String>,

    /// Skip blobs larger than this (bytes, or with a K/M/G suffix).
    #[arg(long, value_name = "SIZE", default_value = "25M", value_parser = parse_size)]
    max_file_size: u64,

    #[command(flatten)]
    output: OutputArgs,
}

/// How and where results are written; shared by every scanning mode.
#[derive(Debug, Args)]
struct OutputArgs {
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Text)]
    format: Format,

    /// Write the report to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,

    /// Print secrets in full instead of `prefix...last4`.
    #[arg(long)]
    show_secrets: bool,

    /// Colour in text output (`auto`: only on a terminal, and never when
    /// NO_COLOR is set).
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,

    /// Which findings make the exit code 1: `any` (every finding except
    /// warnings), `critical` (only critical ones), `warning` (warnings too).
    #[arg(long, value_enum, default_value_t = FailOn::Any)]
    fail_on: FailOn,

    /// Worker threads (default: number of CPUs).
    #[arg(long, short = 'j', value_name = "N")]
    threads: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FailOn {
    Any,
    Critical,
    Warning,
}

impl FailOn {
    fn fails(self, severity: Severity) -> bool {
        match self {
            FailOn::Any => severity > Severity::Warning,
            FailOn::Critical => severity == Severity::Critical,
            FailOn::Warning => true,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// Parses `1048576`, `512K`, `25M`, `1G` (binary units; `KiB`/`MB` also accepted).
fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let digits_end = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(digits_end);
    let number: u64 = number.parse().map_err(|_| format!("`{text}` is not a size: use bytes or a K/M/G suffix"))?;
    let multiplier: u64 = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "K" | "KB" | "KIB" => 1 << 10,
        "M" | "MB" | "MIB" => 1 << 20,
        "G" | "GB" | "GIB" => 1 << 30,
        other => return Err(format!("unknown size unit `{other}`: use K, M or G")),
    };
    number.checked_mul(multiplier).ok_or_else(|| format!("`{text}` is too large"))
}

/// Parses arguments, runs the command, and maps the outcome to an exit code.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
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
        Command::Scan(args) => scan(args),
        Command::Git(args) => git(args),
        Command::Staged(args) => staged(args),
        Command::Hook(HookCommand::Install { force, repo }) => {
            let repo = GitRepo::open(&repo)?;
            let path = hook::install(&repo.repo, force)?;
            eprintln!("leakhound: installed pre-commit hook at {}", path.display());
            Ok(exit::CLEAN)
        }
        Command::Hook(HookCommand::Uninstall { repo }) => {
            let repo = GitRepo::open(&repo)?;
            if hook::uninstall(&repo.repo)? {
                eprintln!("leakhound: removed the pre-commit hook");
            } else {
                eprintln!("leakhound: no pre-commit hook to remove");
            }
            Ok(exit::CLEAN)
        }
        Command::Rules(RulesCommand::List { format }) => list_rules(format),
    }
}

fn load_rules() -> Result<Arc<RuleSet>> {
    Ok(Arc::new(RuleSet::builtin().context("built-in rules failed to load (a bug: please report it)")?))
}

fn scan(args: ScanArgs) -> Result<u8> {
    let threads = thread_count(args.output.threads);
    let detector = Detector::new(load_rules()?)?;
    let collector = Collector::new(&detector);
    let paths = if args.paths.is_empty() { vec![PathBuf::from(".")] } else { args.paths };
    let (stdin, files): (Vec<PathBuf>, Vec<PathBuf>) = paths.into_iter().partition(|p| p.as_os_str() == "-");
    if !stdin.is_empty() {
        source::stdin::read(args.max_file_size, &collector);
    }
    let options = WalkOptions {
        respect_ignore_files: !args.no_ignore,
        follow_symlinks: args.follow,
        max_file_size: args.max_file_size,
        threads,
    };
    source::fs::walk(&files, &options, &collector);
    let outcome = collector.finish();
    emit(&outcome, detector.rules(), &args.output)?;
    Ok(exit_code(&outcome, args.output.fail_on))
}

fn git(args: GitArgs) -> Result<u8> {
    let repo = GitRepo::open(&args.repo)?;
    let detector = Detector::new(load_rules()?)?;
    let range = args.range.or(args.since_commit);
    if let Some(range) = range {
        let outcome = scan_range(&repo, &detector, &range, args.max_file_size)?;
        emit(&outcome, detector.rules(), &args.output)?;
        return Ok(exit_code(&outcome, args.output.fail_on));
    }
    let options = AuditOptions {
        all_objects: args.all_objects,
        max_blob_size: args.max_file_size,
        threads: thread_count(args.output.threads),
        progress: io::stderr().is_terminal(),
    };
    let outcome = audit(&repo, &detector, &options)?;
    emit(&outcome, detector.rules(), &args.output)?;
    Ok(exit_code(&outcome, args.output.fail_on))
}

fn staged(args: StagedArgs) -> Result<u8> {
    let repo = GitRepo::open(&args.repo)?;
    let Some(work_tree) = repo.repo.workdir() else {
        anyhow::bail!("{} is a bare repository: it has nothing staged", repo.open_path.display());
    };
    let detector = Detector::new(load_rules()?)?;
    let outcome = scan_staged(work_tree, &detector)?;
    emit(&outcome, detector.rules(), &args.output)?;
    let code = exit_code(&outcome, args.output.fail_on);
    if code == exit::FINDINGS {
        eprintln!(
            "\nleakhound: this commit would add {} secret(s). Remove each from the file and `git add` it again \
             (or `git restore --staged <file>` to unstage it). If a key was ever pushed or shared, rotate it: \
             the rotate link is above. To commit anyway: git commit --no-verify",
            outcome.findings.len()
        );
    }
    Ok(code)
}

fn thread_count(requested: Option<usize>) -> usize {
    requested.filter(|&n| n > 0).unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// 2 when something could not be read (the scan is incomplete), else 1 when
/// a finding `--fail-on` counts was found, else 0.
fn exit_code(outcome: &ScanOutcome, fail_on: FailOn) -> u8 {
    if outcome.has_errors() {
        exit::ERROR
    } else if outcome.findings.iter().any(|f| fail_on.fails(f.severity)) {
        exit::FINDINGS
    } else {
        exit::CLEAN
    }
}

fn emit(outcome: &ScanOutcome, rules: &RuleSet, args: &OutputArgs) -> Result<()> {
    let to_terminal = args.output.is_none() && io::stdout().is_terminal();
    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => to_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
    };
    let options = ReportOptions { format: args.format, show_secrets: args.show_secrets, color };
    match &args.output {
        Some(path) => {
            let file = File::create(path).with_context(|| format!("cannot create report file {}", path.display()))?;
            let mut out = BufWriter::new(file);
            report::write(&mut out, outcome, rules, &options)?;
            out.flush().with_context(|| format!("cannot write report file {}", path.display()))?;
        }
        None => {
            let mut out = BufWriter::new(io::stdout().lock());
            let written = report::write(&mut out, outcome, rules, &options).and_then(|()| out.flush());
            // A closed pipe (`leakhound scan | head`) is not an error worth a message.
            if let Err(e) = written
                && e.kind() != io::ErrorKind::BrokenPipe
            {
                return Err(e).context("cannot write to standard output");
            }
        }
    }
    Ok(())
}

fn list_rules(format: Format) -> Result<u8> {
    let rules = load_rules()?;
    let mut out = BufWriter::new(io::stdout().lock());
    match format {
        Format::Text => {
            let width = rules.rules().iter().map(|r| r.spec.id.len()).max().unwrap_or(0);
            let pwidth = rules.rules().iter().map(|r| r.spec.provider.len()).max().unwrap_or(0);
            for rule in rules.rules() {
                writeln!(out, "{:width$}  {:pwidth$}  {}", rule.spec.id, rule.spec.provider, rule.spec.name)?;
            }
        }
        Format::Json | Format::Jsonl => {
            for rule in rules.rules() {
                let row = serde_json::json!({
                    "id": rule.spec.id,
                    "provider": rule.spec.provider,
                    "name": rule.spec.name,
                    "kind": rule.spec.kind,
                    "severity": rule.spec.severity,
                    "rotate_url": rule.spec.rotate_url,
                });
                writeln!(out, "{row}")?;
            }
        }
    }
    out.flush()?;
    Ok(exit::CLEAN)
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("100"), Ok(100));
        assert_eq!(parse_size("25M"), Ok(25 << 20));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_size("4kb"), Ok(4096));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("5T").is_err());
    }
}
