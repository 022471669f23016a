//! The command line: argument parsing (clap derive) and dispatch to the
//! modes. Each mode is a few lines that pick a source and a report; the work
//! lives in the library modules.

use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};

use crate::audit::{AuditOptions, audit};
use crate::changes::{scan_range, scan_staged};
use crate::config::Config;
use crate::detect::Detector;
use crate::engine::selftest;
use crate::enrich::suppress::{Baseline, suppress};
use crate::finding::Finding;
use crate::org::{self, Shard};
use crate::report::{self, Format, ReportOptions};
use crate::rules::verify_spec::Status;
use crate::rules::{RuleSet, Severity};
use crate::outcome::ScanOutcome;
use crate::scan::Collector;
use crate::source::git::GitRepo;
use crate::source::{self, fs::WalkOptions};
use crate::verify::{self, VerifyOptions, cache::Cache, http::EndpointOverride};
use crate::{hook, interrupt};

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
    /// Merge shard reports of `git --repos` (JSONL or JSON) into one report:
    /// a key found in several repositories is one rotation item.
    ///
    /// Verification results in the shards are reused; --verify asks only
    /// about keys no shard verified, once each (which needs shards written
    /// with --show-secrets).
    Merge(MergeArgs),
    /// Scan what is staged for the next commit (added lines only); for
    /// pre-commit hooks. Exits 1, with advice, when a key is staged.
    Staged(StagedArgs),
    /// Install or remove the git pre-commit hook that runs `leakhound staged`.
    #[command(subcommand)]
    Hook(HookCommand),
    /// Record current findings (hashes only) so later runs report only new ones.
    #[command(subcommand)]
    Baseline(BaselineCommand),
    /// Print shell completions (bash, zsh, fish, elvish, powershell).
    Completions { shell: clap_complete::Shell },
    /// Print the man page (roff) to standard output.
    Man,
    /// Inspect the built-in rules.
    #[command(subcommand)]
    Rules(RulesCommand),
}

#[derive(Debug, Subcommand)]
enum RulesCommand {
    /// Validate a rules or config file (`[[rule]]` tables, `.leakhound.toml`)
    /// and run each rule's examples and negative examples.
    Check {
        /// The file to check.
        file: PathBuf,
    },
    /// List every rule: id, provider, name.
    List {
        /// `text` (a table) or `json` (one object per line).
        #[arg(long, value_enum, default_value_t = ListFormat::Text)]
        format: ListFormat,
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

    /// Skip files larger than this (bytes, or with a K/M/G suffix; default 25M).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    max_file_size: Option<u64>,

    #[command(flatten)]
    verify: VerifyArgs,

    #[command(flatten)]
    output: OutputArgs,
}

#[derive(Debug, Subcommand)]
enum BaselineCommand {
    /// Scan like `leakhound scan` and write every finding's fingerprint to
    /// the `--output` file (default `.leakhound-baseline.json`).
    Create(ScanArgs),
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
    verify: VerifyArgs,

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

    #[command(flatten)]
    repos: ReposArgs,

    /// Skip blobs larger than this (bytes, or with a K/M/G suffix; default 25M).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    max_file_size: Option<u64>,

    #[command(flatten)]
    verify: VerifyArgs,

    #[command(flatten)]
    output: OutputArgs,
}

/// `git --repos FILE`: many repositories, or one shard of them.
#[derive(Debug, Args)]
#[command(next_help_heading = "Many repositories")]
struct ReposArgs {
    /// Audit every repository listed in FILE instead of REPO: one per line,
    /// a local path or a git URL (cloned bare into --clone-dir); `#` comments
    /// and blank lines are ignored. Each finding names its `repository`.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["repo", "range", "since_commit"])]
    repos: Option<PathBuf>,

    /// Where listed URLs are cloned (bare) and kept: the next run fetches
    /// instead of cloning. Default: .leakhound-clones
    #[arg(long, value_name = "DIR")]
    clone_dir: Option<PathBuf>,

    /// Seconds one `git clone` or `git fetch` may take; a repository that
    /// times out is reported as unreadable. Default: 600
    #[arg(long, value_name = "SECS")]
    clone_timeout: Option<u64>,

    /// Audit only shard K of N, K counting from 0 (`0/4` to `3/4`). A
    /// repository's shard is a hash of its normalized URL or path: the
    /// shards are disjoint, cover the list, and adding a repository moves
    /// no other.
    #[arg(long, value_name = "K/N", value_parser = parse_shard, conflicts_with = "shard_index_env")]
    shard: Option<Shard>,

    /// Read the shard index K (counting from 0) from environment variable
    /// VAR, e.g. JOB_COMPLETION_INDEX in a Kubernetes Indexed Job. Needs
    /// --shard-count.
    #[arg(long, value_name = "VAR", requires = "shard_count")]
    shard_index_env: Option<String>,

    /// The number of shards N, with --shard-index-env.
    #[arg(long, value_name = "N", requires = "shard_index_env")]
    shard_count: Option<u64>,
}

fn parse_shard(text: &str) -> Result<Shard, String> {
    Shard::parse(text)
}

#[derive(Debug, Args)]
struct MergeArgs {
    /// Shard reports written by `leakhound git --repos ... --format jsonl`
    /// (or `--format json`).
    #[arg(value_name = "SHARD", required = true)]
    shards: Vec<PathBuf>,

    #[command(flatten)]
    verify: VerifyArgs,

    #[command(flatten)]
    output: OutputArgs,
}

/// Live verification; shared by every scanning mode.
#[derive(Debug, Args)]
struct VerifyArgs {
    /// Ask each provider, once per unique key, whether the key still works
    /// (one cheap read-only request to the provider's official HTTPS host).
    /// Without this flag leakhound makes no network request at all.
    #[arg(long)]
    verify: bool,

    /// For tests: send PROVIDER's checks to a loopback URL instead
    /// (`openai=http://127.0.0.1:8080/p`). Repeatable; anything but a
    /// loopback address is refused.
    #[arg(long, value_name = "PROVIDER=URL", value_parser = parse_endpoint)]
    verify_endpoint: Vec<EndpointOverride>,

    /// Seconds before one verification request gives up.
    #[arg(long, value_name = "SECS", default_value_t = 5.0)]
    verify_timeout: f64,

    /// Requests in flight per provider.
    #[arg(long, value_name = "N", default_value_t = 4)]
    verify_concurrency: usize,

    /// Reuse results stored in FILE (keyed by a hash of each key, never the
    /// key) and store new ones there.
    #[arg(long, value_name = "FILE")]
    verify_cache: Option<PathBuf>,

    /// How long cached results stay valid, in hours.
    #[arg(long, value_name = "HOURS", default_value_t = 24)]
    verify_cache_ttl: u64,
}

fn parse_endpoint(text: &str) -> Result<EndpointOverride, String> {
    EndpointOverride::parse(text).map_err(|e| e.to_string())
}

/// Options shared by every scanning mode: the report and the exit code.
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

    /// With `--format html`: secrets in full in the HTML report too (only
    /// together with `--show-secrets`: an HTML report is a file that gets
    /// shared).
    #[arg(long, requires = "show_secrets")]
    html_show_secrets: bool,

    /// Colour in text output (`auto`: only on a terminal, and never when
    /// NO_COLOR is set).
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,

    /// Which findings make the exit code 1: `any` (every finding except
    /// warnings), `critical` (only critical ones), `live` (only keys
    /// `--verify` found live), `warning` (warnings too).
    #[arg(long, value_enum)]
    fail_on: Option<FailOn>,

    /// Suppress the findings recorded in this baseline file (made by
    /// `leakhound baseline create`); anything new still fails the run.
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,

    /// Also list suppressed findings (inline allow, allow_paths, baseline).
    #[arg(long)]
    show_suppressed: bool,

    /// Settings file (default: `.leakhound.toml` at the scanned root, if any).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,

    /// Worker threads (default: number of CPUs).
    #[arg(long, short = 'j', value_name = "N")]
    threads: Option<usize>,

    /// Scan only the raw bytes: no decoding of escapes, URL-encoding,
    /// base64, hex, notebooks, UTF-16, source maps or split strings, and
    /// archives are not opened. Faster; misses keys hidden by an encoding.
    #[arg(long)]
    no_decode: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ListFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FailOn {
    Any,
    Critical,
    Live,
    Warning,
}

impl FailOn {
    fn fails(self, finding: &Finding) -> bool {
        match self {
            FailOn::Any => finding.severity > Severity::Warning,
            FailOn::Critical => finding.severity == Severity::Critical,
            FailOn::Live => finding.verification.as_ref().is_some_and(|v| v.status == Status::Live),
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
        Command::Scan(args) => scan(args),
        Command::Git(args) => git(args),
        Command::Merge(args) => merge(args),
        Command::Staged(args) => staged(args),
        Command::Baseline(BaselineCommand::Create(args)) => create_baseline(args),
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
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "leakhound", &mut io::stdout());
            Ok(exit::CLEAN)
        }
        Command::Man => {
            clap_mangen::Man::new(Cli::command()).render(&mut io::stdout())?;
            Ok(exit::CLEAN)
        }
        Command::Rules(RulesCommand::Check { file }) => check_rules(&file),
    }
}

fn load_rules() -> Result<RuleSet> {
    RuleSet::builtin().context("built-in rules failed to load (a bug: please report it)")
}

/// What every scanning mode sets up the same way: the configuration, the
/// rules and detector, and the settings both flags and config decide
/// (flags win).
struct Session {
    detector: Detector,
    config: Config,
    fail_on: FailOn,
    max_file_size: u64,
    respect_ignore_files: bool,
    /// What was scanned, for the HTML report's heading.
    title: String,
}

impl Session {
    fn start(root: &Path, output: &OutputArgs, max_file_size: Option<u64>) -> Result<Session> {
        let mut config = Config::load(output.config.as_deref(), root)?;
        let mut rules = load_rules()?;
        config.apply_to_rules(&mut rules)?;
        for warning in &config.warnings {
            eprintln!("leakhound: warning: {warning}");
        }
        let config_fail_on = match config.fail_on.as_deref() {
            Some(text) => Some(FailOn::from_str(text, true).map_err(anyhow::Error::msg)?),
            None => None,
        };
        let config_size = match config.max_file_size.as_deref() {
            Some(text) => Some(parse_size(text).map_err(|e| anyhow::anyhow!("config max_file_size: {e}"))?),
            None => None,
        };
        let mut detector = Detector::new(Arc::new(rules))?;
        detector.decode = !output.no_decode;
        Ok(Session {
            detector,
            fail_on: output.fail_on.or(config_fail_on).unwrap_or(FailOn::Any),
            max_file_size: max_file_size.or(config_size).unwrap_or(DEFAULT_MAX_FILE_SIZE),
            respect_ignore_files: config.respect_gitignore.unwrap_or(true),
            title: root.canonicalize().unwrap_or_else(|_| root.to_path_buf()).display().to_string(),
            config,
        })
    }

    /// Applies suppression, verifies, writes the report, and returns the
    /// exit code.
    fn finish(self, mut outcome: ScanOutcome, verify: &VerifyArgs, output: &OutputArgs) -> Result<u8> {
        let baseline = output.baseline.as_deref().map(Baseline::load).transpose()?;
        let (suppressed, by_reason) = suppress(&mut outcome.findings, &self.config, baseline.as_ref());
        outcome.stats.suppressed = suppressed.len() as u64;
        outcome.stats.suppressed_by = by_reason;
        outcome.stats.findings = outcome.findings.len() as u64;
        outcome.suppressed = suppressed;
        outcome.notes.extend(self.config.warnings.iter().cloned());
        outcome.notes.extend(self.detector.take_notes());
        if interrupt::requested() {
            outcome.notes.push("interrupted (Ctrl-C): the scan stopped early and these results are partial".into());
        }
        verify_findings(&mut outcome, self.detector.rules(), verify)?;
        org::qualify_for_display(&mut outcome, output.format);
        emit(&outcome, self.detector.rules(), output, &self.title)?;
        if interrupt::requested() {
            return Ok(interrupt::EXIT_CODE);
        }
        Ok(exit_code(&outcome, self.fail_on))
    }
}

const DEFAULT_MAX_FILE_SIZE: u64 = 25 << 20;

fn scan(args: ScanArgs) -> Result<u8> {
    let (session, outcome) = scan_paths(&args)?;
    session.finish(outcome, &args.verify, &args.output)
}

/// The filesystem/stdin scan shared by `scan` and `baseline create`.
fn scan_paths(args: &ScanArgs) -> Result<(Session, ScanOutcome)> {
    let paths = if args.paths.is_empty() { vec![PathBuf::from(".")] } else { args.paths.clone() };
    let root = paths.iter().find(|p| p.as_os_str() != "-").cloned().unwrap_or_else(|| PathBuf::from("."));
    let mut session = Session::start(&root, &args.output, args.max_file_size)?;
    let shown = |p: &PathBuf| {
        if p.as_os_str() == "-" {
            "standard input".into()
        } else {
            p.canonicalize().unwrap_or_else(|_| p.clone()).display().to_string()
        }
    };
    session.title = paths.iter().map(shown).collect::<Vec<String>>().join(", ");
    let collector = Collector::new(&session.detector);
    let (stdin, files): (Vec<PathBuf>, Vec<PathBuf>) = paths.into_iter().partition(|p| p.as_os_str() == "-");
    if !stdin.is_empty() {
        source::stdin::read(session.max_file_size, &collector);
    }
    let options = WalkOptions {
        respect_ignore_files: !args.no_ignore && session.respect_ignore_files,
        follow_symlinks: args.follow,
        max_file_size: session.max_file_size,
        threads: thread_count(args.output.threads),
    };
    source::fs::walk(&files, &options, &collector);
    let outcome = collector.finish();
    Ok((session, outcome))
}

/// Where a repository's `.leakhound.toml` lives: its work tree, or the
/// repository directory itself when bare.
fn repo_root(repo: &GitRepo) -> PathBuf {
    repo.repo.workdir().map_or_else(|| repo.open_path.clone(), Path::to_path_buf)
}

fn git(args: GitArgs) -> Result<u8> {
    if let Some(list) = args.repos.repos.clone() {
        return git_repos(&list, args);
    }
    let r = &args.repos;
    if r.clone_dir.is_some() || r.clone_timeout.is_some() || r.shard.is_some() || r.shard_index_env.is_some() {
        anyhow::bail!("--clone-dir, --clone-timeout, --shard and --shard-index-env go with --repos FILE");
    }
    let repo = GitRepo::open(&args.repo)?;
    let mut session = Session::start(&repo_root(&repo), &args.output, args.max_file_size)?;
    let range = args.range.or(args.since_commit);
    session.title = match &range {
        Some(range) => format!("commits {range} of {}", session.title),
        None => format!("git history of {}", session.title),
    };
    let outcome = match range {
        Some(range) => scan_range(&repo, &session.detector, &range, session.max_file_size)?,
        None => {
            let options = AuditOptions {
                all_objects: args.all_objects,
                max_blob_size: session.max_file_size,
                threads: thread_count(args.output.threads),
                progress: io::stderr().is_terminal(),
            };
            audit(&repo, &session.detector, &options)?
        }
    };
    session.finish(outcome, &args.verify, &args.output)
}

/// `git --repos FILE`: every listed repository (or one shard of them)
/// audited into one report whose findings name their `repository`.
fn git_repos(list_file: &Path, args: GitArgs) -> Result<u8> {
    let list = org::read_repo_list(list_file)?;
    for warning in &list.warnings {
        eprintln!("leakhound: warning: {}: {warning}", list_file.display());
    }
    let shard = match (args.repos.shard, &args.repos.shard_index_env, args.repos.shard_count) {
        (Some(shard), _, _) => Some(shard),
        (None, Some(var), Some(count)) => Some(Shard::from_env(var, count).map_err(anyhow::Error::msg)?),
        _ => None,
    };
    let entries = match shard {
        Some(shard) => org::select(&list.entries, shard),
        None => list.entries.clone(),
    };
    // Settings come from --config or ./.leakhound.toml, not from each repository.
    let mut session = Session::start(Path::new("."), &args.output, args.max_file_size)?;
    let of_shard = shard.map(|s| format!(" (shard {s})")).unwrap_or_default();
    session.title = format!(
        "git history of {} of the {} repositories listed in {}{of_shard}",
        entries.len(),
        list.entries.len(),
        list_file.display()
    );
    eprintln!("leakhound: auditing the {}", session.title);
    let options = AuditOptions {
        all_objects: args.all_objects,
        max_blob_size: session.max_file_size,
        threads: thread_count(args.output.threads),
        progress: io::stderr().is_terminal(),
    };
    let fetch = org::FetchOptions {
        clone_dir: args.repos.clone_dir.clone().unwrap_or_else(|| PathBuf::from(".leakhound-clones")),
        timeout: Duration::from_secs(args.repos.clone_timeout.unwrap_or(600).max(1)),
        cancel: Some(crate::interrupt::flag()),
    };
    let outcome = org::audit_repos(&entries, &session.detector, &options, &fetch, &org::stderr_progress);
    session.finish(outcome, &args.verify, &args.output)
}

/// `merge SHARD...`: shard reports into one report. Verification results in
/// the shards are reused; `--verify` asks only about keys without a verdict,
/// once each, and needs them in full.
fn merge(mut args: MergeArgs) -> Result<u8> {
    let mut session = Session::start(Path::new("."), &args.output, None)?;
    let shards = args.shards.iter().map(|p| org::read_shard(p)).collect::<Result<Vec<_>>>()?;
    let names: Vec<String> = args.shards.iter().map(|p| p.display().to_string()).collect();
    session.title = format!("shard reports {}", names.join(", "));
    let rules = session.detector.rules();
    if args.verify.verify {
        org::check_verifiable(&shards, rules)?;
    }
    let mut outcome = org::merge(shards);
    if args.verify.verify {
        let mut options = verify_options(&args.verify)?;
        outcome.stats.verification = Some(org::verify_unverified(&mut outcome.findings, rules, &mut options)?);
    }
    // Secrets that arrived masked must not be masked twice: mask the others
    // here, then let the report show every secret as it now is.
    let output = &mut args.output;
    org::mask_for_report(&mut outcome, rules, output.format, output.show_secrets, output.html_show_secrets);
    (output.show_secrets, output.html_show_secrets) = (true, true);
    let verify = VerifyArgs { verify: false, ..args.verify };
    session.finish(outcome, &verify, &args.output)
}

fn staged(args: StagedArgs) -> Result<u8> {
    let repo = GitRepo::open(&args.repo)?;
    let Some(work_tree) = repo.repo.workdir() else {
        anyhow::bail!("{} is a bare repository: it has nothing staged", repo.open_path.display());
    };
    let mut session = Session::start(work_tree, &args.output, None)?;
    session.title = format!("staged changes in {}", session.title);
    let outcome = scan_staged(work_tree, &session.detector)?;
    let code = session.finish(outcome, &args.verify, &args.output)?;
    if code == exit::FINDINGS {
        eprintln!(
            "\nleakhound: this commit would add the secrets above. Remove each from the file and `git add` it again \
             (or `git restore --staged <file>` to unstage it). If a key was ever pushed or shared, rotate it: \
             the rotate link is above. To commit anyway: git commit --no-verify"
        );
    }
    Ok(code)
}

fn create_baseline(mut args: ScanArgs) -> Result<u8> {
    let target = args.output.output.take().unwrap_or_else(|| PathBuf::from(".leakhound-baseline.json"));
    let (_, outcome) = scan_paths(&args)?;
    Baseline::from_findings(&outcome.findings).save(&target)?;
    eprintln!("leakhound: recorded {} findings in {} (hashes only)", outcome.findings.len(), target.display());
    Ok(if outcome.has_errors() { exit::ERROR } else { exit::CLEAN })
}

fn thread_count(requested: Option<usize>) -> usize {
    requested.filter(|&n| n > 0).unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// 2 when something could not be read (the scan is incomplete), else 1 when
/// a finding `--fail-on` counts was found, else 0.
fn exit_code(outcome: &ScanOutcome, fail_on: FailOn) -> u8 {
    if outcome.has_errors() {
        exit::ERROR
    } else if outcome.findings.iter().any(|f| fail_on.fails(f)) {
        exit::FINDINGS
    } else {
        exit::CLEAN
    }
}

/// Runs `--verify` on the outcome's findings, if asked.
fn verify_findings(outcome: &mut ScanOutcome, rules: &RuleSet, args: &VerifyArgs) -> Result<()> {
    if !args.verify {
        return Ok(());
    }
    let mut options = verify_options(args)?;
    outcome.stats.verification = Some(verify::verify(&mut outcome.findings, rules, &mut options)?);
    Ok(())
}

/// The verification settings the flags ask for.
fn verify_options(args: &VerifyArgs) -> Result<VerifyOptions> {
    Ok(VerifyOptions {
        timeout: Duration::from_secs_f64(args.verify_timeout.max(0.001)),
        per_provider: args.verify_concurrency.max(1),
        overrides: args.verify_endpoint.clone(),
        cache: match &args.verify_cache {
            Some(path) => Some(Cache::open(path, Duration::from_secs(args.verify_cache_ttl * 3600))?),
            None => None,
        },
        ..VerifyOptions::default()
    })
}

fn emit(outcome: &ScanOutcome, rules: &RuleSet, args: &OutputArgs, title: &str) -> Result<()> {
    let to_terminal = args.output.is_none() && io::stdout().is_terminal();
    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => to_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
    };
    let options = ReportOptions {
        format: args.format,
        show_secrets: args.show_secrets,
        show_suppressed: args.show_suppressed,
        color,
        html_show_secrets: args.html_show_secrets,
        title: title.to_string(),
    };
    match &args.output {
        Some(path) => {
            // Written beside the target and renamed into place: a reader (or a
            // CI upload step) never sees a half-written report.
            let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
            let temp = tempfile::NamedTempFile::new_in(dir)
                .with_context(|| format!("cannot create a report file in {}", dir.display()))?;
            let mut out = BufWriter::new(temp);
            report::write(&mut out, outcome, rules, &options)
                .and_then(|()| out.flush())
                .with_context(|| format!("cannot write report file {}", path.display()))?;
            let temp = out.into_inner().map_err(|e| e.into_error())?;
            temp.persist(path).with_context(|| format!("cannot write report file {}", path.display()))?;
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

fn check_rules(file: &Path) -> Result<u8> {
    let mut config = Config::load(Some(file), Path::new("."))?;
    let mut rules = load_rules()?;
    let builtin: Vec<String> = rules.rules().iter().map(|r| r.spec.id.clone()).collect();
    config.apply_to_rules(&mut rules)?;
    for warning in &config.warnings {
        eprintln!("leakhound: warning: {warning}");
    }
    let custom = Arc::new(rules.subset(|r| !builtin.contains(&r.spec.id)));
    let failures = selftest::check_examples(&custom);
    for f in &failures {
        eprintln!("leakhound: {}: {}: {}", file.display(), f.rule_id, f.message);
    }
    println!("{}: {} rule(s), {} example problem(s)", file.display(), custom.len(), failures.len());
    Ok(if failures.is_empty() { exit::CLEAN } else { exit::ERROR })
}

fn list_rules(format: ListFormat) -> Result<u8> {
    let rules = load_rules()?;
    let mut out = BufWriter::new(io::stdout().lock());
    match format {
        ListFormat::Text => {
            let width = rules.rules().iter().map(|r| r.spec.id.len()).max().unwrap_or(0);
            let pwidth = rules.rules().iter().map(|r| r.spec.provider.len()).max().unwrap_or(0);
            for rule in rules.rules() {
                writeln!(out, "{:width$}  {:pwidth$}  {}", rule.spec.id, rule.spec.provider, rule.spec.name)?;
            }
        }
        ListFormat::Json => {
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
