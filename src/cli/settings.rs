//! What a run needs, built from what the user typed and what the
//! configuration file says (flags win): the rules and detector, the size
//! cap, the failure policy. Then, once a mode has its outcome, the steps
//! every mode shares: suppression, verification, the report, the exit code.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};

use crate::config::{Config, FailOn};
use crate::detect::Detector;
use crate::enrich::suppress::{Baseline, GitleaksIgnore, suppress};
use crate::outcome::ScanOutcome;
use crate::rules::RuleSet;
use crate::verify::{self, VerifyOptions, cache::Cache};

use super::args::{OutputArgs, VerifyArgs};
use super::interrupt;
use super::output::{self, exit};

/// Blobs and files larger than this are skipped unless the user says otherwise.
const DEFAULT_MAX_FILE_SIZE: u64 = 25 << 20;

/// What every scanning mode sets up the same way.
pub struct Session {
    pub detector: Detector,
    config: Config,
    /// A `.gitleaksignore` at the scanned root, honoured as gitleaks does.
    gitleaks_ignore: Option<GitleaksIgnore>,
    fail_on: FailOn,
    pub max_file_size: u64,
    pub respect_ignore_files: bool,
    /// What was scanned, for the report's heading.
    pub title: String,
    /// No text report when nothing was found (`staged`: a pre-commit hook
    /// is silent on success).
    pub quiet_when_clean: bool,
}

impl Session {
    /// Loads the configuration (`--config`, else `.leakhound.toml` in
    /// `root`) and the rules, and settles what flags and config both set.
    pub fn start(root: &Path, output: &OutputArgs, max_file_size: Option<u64>) -> Result<Session> {
        let mut config = Config::load(output.config.as_deref(), root)?;
        let mut rules = load_rules()?;
        config.apply_to_rules(&mut rules)?;
        for warning in &config.warnings {
            eprintln!("leakhound: warning: {warning}");
        }
        let mut detector = Detector::new(Arc::new(rules))?;
        detector.decode = !output.no_decode;
        Ok(Session {
            detector,
            fail_on: output.fail_on.or(config.fail_on).unwrap_or_default(),
            max_file_size: max_file_size.or(config.max_file_size).unwrap_or(DEFAULT_MAX_FILE_SIZE),
            respect_ignore_files: config.respect_gitignore.unwrap_or(true),
            title: root.canonicalize().unwrap_or_else(|_| root.to_path_buf()).display().to_string(),
            quiet_when_clean: false,
            gitleaks_ignore: GitleaksIgnore::load(if root.is_dir() { root } else { root.parent().unwrap_or(root) }),
            config,
        })
    }

    /// Applies suppression, verifies, writes the report, and returns the
    /// exit code.
    pub fn finish(self, mut outcome: ScanOutcome, verify: &VerifyArgs, output: &OutputArgs) -> Result<u8> {
        // The flag wins over the config's `baseline`.
        let baseline_path = output.baseline.as_deref().or(self.config.baseline.as_deref());
        let baseline = baseline_path.map(Baseline::load).transpose()?;
        let (suppressed, by_reason) =
            suppress(&mut outcome.findings, &self.config, baseline.as_ref(), self.gitleaks_ignore.as_ref());
        outcome.stats.suppressed = suppressed.len() as u64;
        outcome.stats.suppressed_by = by_reason;
        outcome.count_findings();
        outcome.suppressed = suppressed;
        outcome.notes.extend(self.config.warnings.iter().cloned());
        outcome.notes.extend(self.detector.take_notes());
        if interrupt::requested() {
            outcome.notes.push("interrupted (Ctrl-C): the scan stopped early and these results are partial".into());
        }
        if verify.verify {
            outcome.notes.extend(verify.instance_notes());
            let mut options = verify_options(verify)?;
            outcome.stats.verification =
                Some(verify::verify(&mut outcome.findings, self.detector.rules(), &mut options)?);
        }
        output::emit(&mut outcome, self.detector.rules(), output, &self.title, self.quiet_when_clean)?;
        output::errors_to_stderr(&outcome, output);
        if interrupt::requested() {
            return Ok(exit::INTERRUPTED);
        }
        Ok(output::exit_code(&outcome, self.fail_on))
    }
}

/// The rules built into the binary.
pub fn load_rules() -> Result<RuleSet> {
    RuleSet::builtin().context("built-in rules failed to load (a bug: please report it)")
}

/// Worker threads: as asked, else one per CPU.
pub fn thread_count(requested: Option<usize>) -> usize {
    requested.filter(|&n| n > 0).unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// The verification settings the flags ask for.
pub fn verify_options(args: &VerifyArgs) -> Result<VerifyOptions> {
    Ok(VerifyOptions {
        timeout: Duration::from_secs_f64(args.verify_timeout.max(0.001)),
        per_provider: args.verify_concurrency.max(1),
        overrides: args.verify_endpoint.clone(),
        instances: args.instances(),
        cache: match &args.verify_cache {
            Some(path) => Some(Cache::open(path, Duration::from_secs(args.verify_cache_ttl * 3600))?),
            None => None,
        },
        ..VerifyOptions::default()
    })
}
