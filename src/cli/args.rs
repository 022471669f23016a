//! What the user typed: the clap definitions, one per flag, and the value
//! parsers that reject a bad value before anything runs. Nothing here reads
//! a file or builds what a run needs; `settings` does that.

use std::path::PathBuf;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::config::{FailOn, parse_size};
use crate::org::Shard;
use crate::report::Format;
use crate::verify::http::EndpointOverride;

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
pub enum RulesCommand {
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

    /// Skip files larger than this (bytes, or with a K/M/G suffix; default 25M).
    #[arg(long, value_name = "SIZE", value_parser = size)]
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

    #[command(flatten)]
    pub repos: ReposArgs,

    /// Skip blobs larger than this (bytes, or with a K/M/G suffix; default 25M).
    #[arg(long, value_name = "SIZE", value_parser = size)]
    pub max_file_size: Option<u64>,

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

fn parse_shard(text: &str) -> Result<Shard, String> {
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

/// Live verification; shared by every scanning mode.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Ask each provider, once per unique key, whether the key still works
    /// (one cheap read-only request to the provider's official HTTPS host).
    /// Without this flag leakhound makes no network request at all.
    #[arg(long)]
    pub verify: bool,

    /// For tests: send PROVIDER's checks to a loopback URL instead
    /// (`openai=http://127.0.0.1:8080/p`). Repeatable; anything but a
    /// loopback address is refused.
    #[arg(long, value_name = "PROVIDER=URL", value_parser = parse_endpoint)]
    pub verify_endpoint: Vec<EndpointOverride>,

    /// Seconds before one verification request gives up.
    #[arg(long, value_name = "SECS", default_value_t = 5.0)]
    pub verify_timeout: f64,

    /// Requests in flight per provider.
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub verify_concurrency: usize,

    /// Reuse results stored in FILE (keyed by a hash of each key, never the
    /// key) and store new ones there.
    #[arg(long, value_name = "FILE")]
    pub verify_cache: Option<PathBuf>,

    /// How long cached results stay valid, in hours.
    #[arg(long, value_name = "HOURS", default_value_t = 24)]
    pub verify_cache_ttl: u64,
}

fn parse_endpoint(text: &str) -> Result<EndpointOverride, String> {
    EndpointOverride::parse(text).map_err(|e| e.to_string())
}

/// Options shared by every scanning mode: the report and the exit code.
#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Output format.
    #[arg(long, short = 'f', default_value = "text", value_parser = format_parser())]
    pub format: Format,

    /// Write the report to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Print secrets in full instead of `prefix...last4`.
    #[arg(long)]
    pub show_secrets: bool,

    /// With `--format html`: secrets in full in the HTML report too (only
    /// together with `--show-secrets`: an HTML report is a file that gets
    /// shared).
    #[arg(long, requires = "show_secrets")]
    pub html_show_secrets: bool,

    /// Colour in text output (`auto`: only on a terminal, and never when
    /// NO_COLOR is set).
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Which findings make the exit code 1: `any` (every finding except
    /// warnings), `critical` (only critical ones), `live` (only keys
    /// `--verify` found live), `warning` (warnings too).
    #[arg(long, value_parser = fail_on_parser())]
    pub fail_on: Option<FailOn>,

    /// Suppress the findings recorded in this baseline file (made by
    /// `leakhound baseline create`); anything new still fails the run.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,

    /// Also list suppressed findings (inline allow, allow_paths, baseline).
    #[arg(long)]
    pub show_suppressed: bool,

    /// Settings file (default: `.leakhound.toml` at the scanned root, if any).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Worker threads (default: number of CPUs).
    #[arg(long, short = 'j', value_name = "N")]
    pub threads: Option<usize>,

    /// Scan only the raw bytes: no decoding of escapes, URL-encoding,
    /// base64, hex, notebooks, UTF-16, source maps or split strings, and
    /// archives are not opened. Faster; misses keys hidden by an encoding.
    #[arg(long)]
    pub no_decode: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// `--max-file-size`: bytes, or with a K/M/G suffix.
fn size(text: &str) -> Result<u64, String> {
    parse_size(text)
}

/// `--format`: the report formats, listed in `--help`.
fn format_parser() -> impl TypedValueParser<Value = Format> {
    let names = Format::ALL.map(|(name, _)| name);
    PossibleValuesParser::new(names).map(|name| Format::from_name(&name).expect("a listed format"))
}

/// `--fail-on`: listed in `--help`.
fn fail_on_parser() -> impl TypedValueParser<Value = FailOn> {
    let names = FailOn::ALL.map(|(name, _)| name);
    PossibleValuesParser::new(names).map(|name| FailOn::from_name(&name).expect("a listed value"))
}
