//! What the user typed: the clap definitions, one per flag, and the value
//! parsers that reject a bad value before anything runs. Nothing here reads
//! a file or builds what a run needs; `settings` does that.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::config::parse_size;
use crate::org::{Shard, ShardError};

pub use super::flags::{ColorChoice, OutputArgs, VerifyArgs};

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
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan files and directories (`-` reads standard input).
    Scan(ScanArgs),
    /// Audit a git repository's whole history (every blob reachable from any
    /// ref, each scanned once), attributing each key to the commit that
    /// introduced it.
    Git(Box<GitArgs>),
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
    /// Print the man page (roff) to standard output: leakhound's, or one
    /// subcommand's (`leakhound man git`).
    Man {
        /// A subcommand (`scan`, `git`, `staged`, `merge`, `baseline`, `hook`, `rules`).
        subcommand: Option<String>,
    },
    /// Inspect the built-in rules.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// gitleaks' commands, answered with leakhound's.
    #[command(hide = true)]
    Detect(GitleaksArgs),
    #[command(hide = true)]
    Dir(GitleaksArgs),
    #[command(hide = true)]
    Protect(GitleaksArgs),
}

/// Whatever followed a gitleaks command name.
#[derive(Debug, Args)]
pub struct GitleaksArgs {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub rest: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Validate a rules or config file (`[[rule]]` tables, `.leakhound.toml`)
    /// and run each rule's examples and negative examples.
    Check {
        /// The file to check.
        file: PathBuf,
    },
    /// Translate a gitleaks config (`.gitleaks.toml`: custom rules and
    /// allowlists) into a `.leakhound.toml`; what cannot be translated is
    /// listed in it as comments.
    ImportGitleaks {
        /// The gitleaks config.
        file: PathBuf,
        /// Write here instead of standard output.
        #[arg(long, short = 'o', value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// List every rule: id, provider, name.
    List {
        /// `text` (a table) or `json` (one object per line).
        #[arg(long, value_enum, default_value_t = ListFormat::Text)]
        format: ListFormat,
    },
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Files or directories to scan; `-` reads standard input. Default: `.`.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Scan files that .gitignore/.ignore would exclude.
    #[arg(long)]
    pub no_ignore: bool,

    /// Follow symbolic links (loops are detected and reported).
    #[arg(long, short = 'L')]
    pub follow: bool,

    /// Files larger than this are read in parts, for keys in plain text
    /// only (bytes, or with a K/M/G suffix; default 25M).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_file_size: Option<u64>,

    #[command(flatten)]
    pub verify: VerifyArgs,

    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Subcommand)]
pub enum BaselineCommand {
    /// Scan like `leakhound scan` and write every finding's fingerprint to
    /// the `--output` file (default `.leakhound-baseline.json`).
    Create(ScanArgs),
}

#[derive(Debug, Subcommand)]
pub enum HookCommand {
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
pub struct StagedArgs {
    /// The repository (default: the one containing the current directory).
    #[arg(long, default_value = ".")]
    pub repo: PathBuf,

    #[command(flatten)]
    pub verify: VerifyArgs,

    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct GitArgs {
    /// The repository (a work tree, a `.git` directory or a bare repository).
    #[arg(value_name = "REPO", default_value = ".")]
    pub repo: PathBuf,

    /// Also scan objects no ref reaches (dropped stashes, rewritten history
    /// not yet garbage-collected).
    #[arg(long, conflicts_with_all = ["range", "since_commit"])]
    pub all_objects: bool,

    /// Scan only the lines the commits BASE..HEAD added (for CI on a pull
    /// request): keys already on BASE are not reported.
    #[arg(long, value_name = "BASE..HEAD", conflicts_with = "since_commit")]
    pub range: Option<String>,

    /// Same as `--range SHA..HEAD`.
    #[arg(long, value_name = "SHA")]
    pub since_commit: Option<String>,

    /// History audit: report only keys introduced on or after DATE
    /// (`2026-01-31` or RFC 3339).
    #[arg(long, value_name = "DATE", value_parser = parse_date, conflicts_with_all = ["range", "since_commit"])]
    pub since: Option<time::OffsetDateTime>,

    /// History audit: report only keys in the history of REF (a branch or
    /// tag name, or a full ref); repeatable.
    #[arg(long, value_name = "REF", conflicts_with_all = ["range", "since_commit"])]
    pub branch: Vec<String>,

    #[command(flatten)]
    pub repos: ReposArgs,

    /// Skip blobs larger than this (bytes, or with a K/M/G suffix; default 25M).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_file_size: Option<u64>,

    /// History audit: the memory the audit may use (K/M/G suffix; default:
    /// half of the machine's or container's memory). It runs on fewer
    /// threads to stay under it, and says so in the notes.
    #[arg(long, value_name = "SIZE", value_parser = parse_size, conflicts_with_all = ["range", "since_commit"])]
    pub max_memory: Option<u64>,

    #[command(flatten)]
    pub verify: VerifyArgs,

    #[command(flatten)]
    pub output: OutputArgs,
}

/// `git --repos FILE`: many repositories, or one shard of them.
#[derive(Debug, Args)]
#[command(next_help_heading = "Many repositories")]
pub struct ReposArgs {
    /// Audit every repository listed in FILE instead of REPO: one per line,
    /// a local path or a git URL (cloned bare into --clone-dir); `#` comments
    /// and blank lines are ignored. Each finding names its `repository`.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["repo", "range", "since_commit"])]
    pub repos: Option<PathBuf>,

    /// Where listed URLs are cloned (bare) and kept: the next run fetches
    /// instead of cloning. Default: .leakhound-clones
    #[arg(long, value_name = "DIR")]
    pub clone_dir: Option<PathBuf>,

    /// Seconds one `git clone` or `git fetch` may take; a repository that
    /// times out is reported as unreadable. Default: 600
    #[arg(long, value_name = "SECS")]
    pub clone_timeout: Option<u64>,

    /// Audit only shard K of N, K counting from 0 (`0/4` to `3/4`). A
    /// repository's shard is a hash of its normalized URL or path: the
    /// shards are disjoint, cover the list, and adding a repository moves
    /// no other.
    #[arg(long, value_name = "K/N", value_parser = parse_shard, conflicts_with = "shard_index_env")]
    pub shard: Option<Shard>,

    /// Read the shard index K (counting from 0) from environment variable
    /// VAR, e.g. JOB_COMPLETION_INDEX in a Kubernetes Indexed Job. Needs
    /// --shard-count.
    #[arg(long, value_name = "VAR", requires = "shard_count")]
    pub shard_index_env: Option<String>,

    /// The number of shards N, with --shard-index-env.
    #[arg(long, value_name = "N", requires = "shard_index_env")]
    pub shard_count: Option<u64>,
}

fn parse_shard(text: &str) -> Result<Shard, ShardError> {
    Shard::parse(text)
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Shard reports written by `leakhound git --repos ... --format jsonl`
    /// (or `--format json`).
    #[arg(value_name = "SHARD", required = true)]
    pub shards: Vec<PathBuf>,

    #[command(flatten)]
    pub verify: VerifyArgs,

    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Text,
    Json,
}

/// `2026-01-31` (midnight UTC) or an RFC 3339 time.
fn parse_date(text: &str) -> Result<time::OffsetDateTime, String> {
    use time::format_description::well_known::Rfc3339;
    if let Ok(t) = time::OffsetDateTime::parse(text, &Rfc3339) {
        return Ok(t);
    }
    let bad = || format!("`{text}` is not a date: use 2026-01-31 or an RFC 3339 time");
    let mut parts = text.splitn(3, '-').map(|p| p.parse::<i32>().ok());
    let (Some(Some(year)), Some(Some(month)), Some(Some(day))) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad());
    };
    let month = time::Month::try_from(u8::try_from(month).map_err(|_| bad())?).map_err(|_| bad())?;
    let day = u8::try_from(day).map_err(|_| bad())?;
    time::Date::from_calendar_date(year, month, day).map(|d| d.midnight().assume_utc()).map_err(|_| bad())
}
