//! The flag groups every scanning mode shares (verification, output) and
//! their value parsers.

use std::path::PathBuf;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, ValueEnum};

use crate::config::FailOn;
use crate::report::Format;
use crate::verify::http::{EndpointOverride, Instance};

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

    /// How long cached results stay valid, in hours (an `invalid` is asked
    /// again after at most one hour; `unknown` is never cached).
    #[arg(long, value_name = "HOURS", default_value_t = 24)]
    pub verify_cache_ttl: u64,

    /// Check GitHub tokens against your GitHub Enterprise Server instead of
    /// github.com: its REST API base, `https://ghe.example.com/api/v3`.
    /// HTTPS only; command line only (never from a config file).
    #[arg(long, value_name = "URL", value_parser = parse_github_api)]
    pub github_api: Option<Instance>,

    /// Check GitLab tokens against your GitLab instance instead of
    /// gitlab.com: `https://gitlab.example.com`. HTTPS only; command line
    /// only (never from a config file).
    #[arg(long, value_name = "URL", value_parser = parse_gitlab_url)]
    pub gitlab_url: Option<Instance>,
}

impl VerifyArgs {
    /// The instances named on the command line.
    pub fn instances(&self) -> Vec<Instance> {
        self.github_api.iter().chain(self.gitlab_url.iter()).cloned().collect()
    }

    /// The report's notes on where tokens were checked.
    pub fn instance_notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if let Some(i) = &self.github_api {
            notes.push(format!(
                "GitHub tokens were checked against {} (--github-api), not github.com: `invalid` means invalid there",
                i.url()
            ));
        }
        if let Some(i) = &self.gitlab_url {
            notes.push(format!(
                "GitLab tokens were checked against {} (--gitlab-url), not gitlab.com: `invalid` means invalid there",
                i.url()
            ));
        }
        notes
    }
}

fn parse_endpoint(text: &str) -> Result<EndpointOverride, String> {
    EndpointOverride::parse(text).map_err(|e| e.to_string())
}

fn parse_github_api(text: &str) -> Result<Instance, String> {
    Instance::parse("github", "--github-api", text).map_err(|e| e.to_string())
}

fn parse_gitlab_url(text: &str) -> Result<Instance, String> {
    Instance::parse("gitlab", "--gitlab-url", text).map_err(|e| e.to_string())
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

    /// Also write the same results as SARIF to FILE (secrets always
    /// masked), whatever `--format` prints: one scan, two reports (a CI
    /// step's text summary and its code-scanning upload).
    #[arg(long, value_name = "FILE")]
    pub sarif: Option<PathBuf>,

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
pub enum ColorChoice {
    Auto,
    Always,
    Never,
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
