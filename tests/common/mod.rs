//! Test support: well-formed fake keys, generated deterministically, and
//! fixture trees whose `{{key:FORMAT}}` markers are replaced by such keys.
//!
//! Generating keys (instead of committing hundreds of literals) keeps the
//! fixtures readable and lets each test know exactly which key it planted,
//! where, and which rule must report it.

pub mod archive;
pub mod mock;
pub mod repo;

use std::ffi::OsStr;
use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use serde_json::Value;

/// A small deterministic PRNG (xorshift64*): fixtures must be the same on
/// every run so a failure is reproducible.
pub struct Rng(u64);

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const URLSAFE: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const LOWER_HEX: &[u8] = b"0123456789abcdef";
const LOWER_ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
const LETTERS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const BASE32_UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const BASE64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// `len` characters from `alphabet`, re-drawn until free of the runs and
    /// words the placeholder filter rejects (a real key has none either).
    pub fn string(&mut self, alphabet: &[u8], len: usize) -> String {
        loop {
            let s: String =
                (0..len).map(|_| alphabet[(self.next() % alphabet.len() as u64) as usize] as char).collect();
            if !looks_like_placeholder(&s) {
                return s;
            }
        }
    }
}

impl Rng {
    /// Like [`Rng::string`], with at least one digit, lower and upper case letter.
    pub fn mixed(&mut self, alphabet: &[u8], len: usize) -> String {
        loop {
            let s = self.string(alphabet, len);
            let b = s.as_bytes();
            if b.iter().any(u8::is_ascii_digit)
                && b.iter().any(u8::is_ascii_lowercase)
                && b.iter().any(u8::is_ascii_uppercase)
            {
                return s;
            }
        }
    }
}

fn looks_like_placeholder(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    let bytes = s.as_bytes();
    ["xxxx", "your", "example", "sample", "dummy", "insert", "replace", "redacted", "changeme", "placeholder"]
        .iter()
        .any(|w| lower.contains(w))
        || bytes.windows(3).any(|w| w[0] == w[1] && w[1] == w[2])
        || bytes.windows(3).any(|w| w[0].wrapping_add(1) == w[1] && w[1].wrapping_add(1) == w[2])
        || bytes.windows(3).any(|w| w[1].wrapping_add(1) == w[0] && w[2].wrapping_add(1) == w[1])
}

/// A well-formed fake key of `format`, different for each `seed`.
/// Panics on an unknown format: a typo in a fixture must fail loudly.
pub fn key(format: &str, seed: u64) -> String {
    let mut r = Rng::new(seed ^ fxhash(format));
    let openai_long =
        |r: &mut Rng, prefix: &str| format!("{prefix}{}T3BlbkFJ{}", r.string(URLSAFE, 74), r.string(URLSAFE, 74));
    match format {
        "openai-legacy" => format!("sk-{}T3BlbkFJ{}", r.string(ALNUM, 20), r.string(ALNUM, 20)),
        "openai-project" => openai_long(&mut r, "sk-proj-"),
        "openai-svcacct" => openai_long(&mut r, "sk-svcacct-"),
        "openai-admin" => openai_long(&mut r, "sk-admin-"),
        "openai-none" => openai_long(&mut r, "sk-None-"),
        "anthropic-api" => format!("sk-ant-api03-{}AA", r.string(URLSAFE, 93)),
        "anthropic-admin" => format!("sk-ant-admin01-{}AA", r.string(URLSAFE, 93)),
        "anthropic-oauth" => format!("sk-ant-oat01-{}AA", r.string(URLSAFE, 93)),
        "anthropic-refresh" => format!("sk-ant-ort01-{}AA", r.string(URLSAFE, 93)),
        "google" => format!("AIzaSy{}", r.string(URLSAFE, 33)),
        "groq" => format!("gsk_{}WGdyb3FY{}", r.string(ALNUM, 20), r.string(ALNUM, 24)),
        // Prefix-less rules drop single-case or digit-free values (they look
        // like identifiers); ~0.4% of real keys are, so fixtures avoid them.
        "mistral" => r.mixed(ALNUM, 32),
        "together" => format!("tgp_v1_{}", r.string(URLSAFE, 43)),
        "together-hex" => r.string(LOWER_HEX, 64),
        "xai" => format!("xai-{}", r.string(ALNUM, 80)),
        "openrouter" => format!("sk-or-v1-{}", r.string(LOWER_HEX, 64)),
        "huggingface" => format!("hf_{}", r.string(LETTERS, 34)),
        "replicate" => format!("r8_{}", r.string(ALNUM, 37)),
        "perplexity" => format!("pplx-{}", r.string(ALNUM, 48)),
        "deepseek" => format!("sk-{}", r.string(LOWER_HEX, 32)),
        "cohere" => r.mixed(ALNUM, 40),
        "fireworks" => format!("fw_{}", r.string(ALNUM, 24)),
        "cerebras" => format!("csk-{}", r.string(LOWER_ALNUM, 48)),
        "elevenlabs" => format!("sk_{}", r.string(LOWER_HEX, 48)),
        "azure-openai" => r.string(LOWER_HEX, 32),
        "bedrock" => format!("ABSK{}", r.string(BASE64, 120).replace(['+', '/'], "Q")),
        "aws-id" => format!("AKIA{}", r.string(BASE32_UPPER, 16)),
        "aws-secret" => r.string(BASE64, 40),
        "aws-temp-id" => format!("ASIA{}", r.string(BASE32_UPPER, 16)),
        "aws-session" => format!("IQoJb3JpZ2luX2Vj{}", r.string(BASE64, 300)),
        "gitlab" => format!("glpat-{}", r.string(URLSAFE, 20)),
        "sendgrid" => format!("SG.{}.{}", r.string(URLSAFE, 22), r.string(URLSAFE, 43)),
        "huggingface-org" => format!("api_org_{}", r.string(LETTERS, 34)),
        // For a hardcoded header no provider's pattern claims: dashes, 48 long.
        "header-token" => format!("{}-{}-{}", r.string(ALNUM, 16), r.string(ALNUM, 16), r.string(ALNUM, 14)),
        "github-classic" => format!("ghp_{}", r.string(ALNUM, 36)),
        "github-fine" => format!("github_pat_{}_{}", r.string(ALNUM, 22), r.string(ALNUM, 59)),
        "stripe-live" => format!("sk_live_{}", r.string(ALNUM, 99)),
        "slack-bot" => {
            format!("xoxb-{}-{}-{}", r.string(b"123456789", 12), r.string(b"123456789", 13), r.string(ALNUM, 24))
        }
        "generic-token" => r.string(ALNUM, 40),
        "pem-rsa" => {
            let body: Vec<String> = (0..12).map(|_| r.string(BASE64, 64)).collect();
            format!("-----BEGIN RSA PRIVATE KEY-----\n{}\n-----END RSA PRIVATE KEY-----", body.join("\n"))
        }
        other => panic!("unknown key format `{other}` in a fixture"),
    }
}

fn fxhash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3))
}

/// A key planted in a rendered fixture tree.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Planted {
    pub path: String,
    pub line: usize,
    pub column: usize,
    pub format: String,
    pub key: String,
}

/// Copies the fixture tree `from` into `to`, replacing each `{{key:FORMAT}}`
/// (or `{{key:FORMAT:SEED}}`, to plant the same key twice) with a generated
/// key, and returns where every key landed.
pub fn render_tree(from: &Path, to: &Path) -> Vec<Planted> {
    let mut planted = Vec::new();
    render_dir(from, to, from, &mut planted);
    planted.sort();
    planted
}

fn render_dir(dir: &Path, to: &Path, root: &Path, planted: &mut Vec<Planted>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let relative = path.strip_prefix(root).unwrap();
        let target = to.join(relative);
        if path.is_dir() {
            fs::create_dir_all(&target).unwrap();
            render_dir(&path, to, root, planted);
            continue;
        }
        let text = fs::read_to_string(&path).unwrap();
        let rel = relative.to_string_lossy().replace('\\', "/");
        let rendered = render_text(&text, &rel, planted);
        fs::create_dir_all(target.parent().unwrap()).unwrap();
        fs::write(&target, rendered).unwrap();
    }
}

/// Replaces the markers in one file's text, recording each planted key.
pub fn render_text(text: &str, path: &str, planted: &mut Vec<Planted>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut counter = 0u64;
    while let Some(at) = rest.find("{{key:") {
        out.push_str(&rest[..at]);
        let end = rest[at..].find("}}").expect("unterminated {{key:...}} marker") + at;
        let spec = &rest[at + 6..end];
        let (format, seed) = match spec.split_once(':') {
            Some((f, s)) => (f, s.parse::<u64>().expect("marker seed must be a number")),
            None => {
                counter += 1;
                (spec, fxhash(path) ^ counter)
            }
        };
        let key = key(format, seed);
        let line = out.matches('\n').count() + 1;
        let column = out.len() - out.rfind('\n').map_or(0, |i| i + 1) + 1;
        planted.push(Planted { path: path.to_string(), line, column, format: format.to_string(), key: key.clone() });
        out.push_str(&key);
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    out
}

/// The rule that must report a key of `format`.
pub fn expected_rule(format: &str) -> &'static str {
    match format {
        "openai-legacy" => "openai-legacy-key",
        "openai-project" => "openai-project-key",
        "openai-svcacct" => "openai-service-account-key",
        "openai-admin" => "openai-admin-key",
        "openai-none" => "openai-user-key",
        "anthropic-api" => "anthropic-api-key",
        "anthropic-admin" => "anthropic-admin-key",
        "anthropic-oauth" => "anthropic-oauth-access-token",
        "anthropic-refresh" => "anthropic-oauth-refresh-token",
        "google" => "google-api-key",
        "groq" => "groq-api-key",
        "mistral" => "mistral-api-key",
        "together" => "together-api-key",
        "together-hex" => "together-legacy-api-key",
        "xai" => "xai-api-key",
        "openrouter" => "openrouter-api-key",
        "huggingface" => "huggingface-access-token",
        "replicate" => "replicate-api-token",
        "perplexity" => "perplexity-api-key",
        "deepseek" => "deepseek-api-key",
        "cohere" => "cohere-api-key",
        "fireworks" => "fireworks-api-key",
        "cerebras" => "cerebras-api-key",
        "elevenlabs" => "elevenlabs-api-key",
        "azure-openai" => "azure-openai-api-key",
        "bedrock" => "aws-bedrock-api-key",
        "aws-id" => "aws-access-key-id",
        "aws-secret" => "aws-secret-access-key",
        "aws-temp-id" => "aws-access-key-id",
        "gitlab" => "gitlab-pat",
        "sendgrid" => "sendgrid-api-key",
        "huggingface-org" => "huggingface-org-token",
        "github-classic" => "github-pat-classic",
        "github-fine" => "github-pat-fine-grained",
        "stripe-live" => "stripe-live-secret-key",
        "slack-bot" => "slack-bot-token",
        "pem-rsa" => "private-key-pem",
        "generic-token" => "generic-bearer-header",
        other => panic!("no expected rule for format `{other}`"),
    }
}

/// One finished run of the binary.
pub struct Run {
    pub code: i32,
    /// The JSON report on stdout, or `Null` when stdout is not JSON.
    pub doc: Value,
    pub stdout: Vec<u8>,
    pub stderr: String,
    pub elapsed: Duration,
}

/// The binary under test, ready for arguments.
pub fn command() -> Command {
    Command::cargo_bin("leakhound").unwrap()
}

/// Runs `leakhound ARGS` in `dir`.
pub fn run_in(dir: &Path, args: &[&str]) -> std::process::Output {
    command().args(args).current_dir(dir).output().unwrap()
}

/// Runs `leakhound ARGS`; a run longer than `timeout_secs` is killed and
/// fails the test (a hang guard), and so does a panic.
pub fn leakhound<I, S>(args: I, timeout_secs: u64) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let started = Instant::now();
    let out = command().args(args).timeout(Duration::from_secs(timeout_secs)).output().unwrap();
    let elapsed = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(elapsed < Duration::from_secs(timeout_secs), "killed after {timeout_secs} s (a hang?): {stderr}");
    let code = out.status.code().unwrap_or(-1);
    assert!(!stderr.contains("panicked") && code != 101, "leakhound panicked: {stderr}");
    let doc = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    Run { code, doc, stdout: out.stdout, stderr, elapsed }
}

/// SHA-256 of `text`, hex: what a finding's `secret_sha256` holds.
pub fn sha256(text: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(text.as_bytes()))
}

/// The finding of a JSON report at `path` (the first one), or a panic that
/// shows the report.
pub fn finding_at<'a>(doc: &'a Value, path: &str) -> &'a Value {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == path)
        .unwrap_or_else(|| panic!("no finding in {path}: {doc:#}"))
}
