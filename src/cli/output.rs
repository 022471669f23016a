//! The end of every run: the report written (atomically when to a file),
//! colour decided, and the exit code chosen. Every exit code leakhound
//! returns is defined here, the interrupt's included.

use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::config::FailOn;
use crate::org;
use crate::outcome::ScanOutcome;
use crate::report::sanitize::for_terminal;
use crate::report::{self, Format, ReportOptions};
use crate::rules::RuleSet;

use super::args::{ColorChoice, OutputArgs};

/// Exit codes are part of the interface: CI steps and hooks branch on them.
pub mod exit {
    /// Nothing found, everything readable.
    pub const CLEAN: u8 = 0;
    /// Findings (as `--fail-on` counts them).
    pub const FINDINGS: u8 = 1;
    /// Bad arguments, or an input that could not be read.
    pub const ERROR: u8 = 2;
    /// Ctrl-C: 128 + SIGINT, as shells report it.
    pub const INTERRUPTED: u8 = 130;
}

/// 2 when something could not be read (the scan is incomplete), else 1 when
/// a finding `--fail-on` counts was found, else 0.
pub fn exit_code(outcome: &ScanOutcome, fail_on: FailOn) -> u8 {
    if outcome.has_errors() {
        exit::ERROR
    } else if outcome.findings.iter().any(|f| fail_on.fails(f)) {
        exit::FINDINGS
    } else {
        exit::CLEAN
    }
}

/// Every input that could not be read (what makes the exit code 2), on
/// stderr, unless the text report on the terminal already lists them: a
/// report written to a file or in a machine format must not hide them.
pub fn errors_to_stderr(outcome: &ScanOutcome, args: &OutputArgs) {
    if args.output.is_none() && args.format == Format::Text {
        return;
    }
    for skip in outcome.skipped.iter().filter(|s| s.reason.is_error()) {
        eprintln!("leakhound: error: {}: {}", for_terminal(&skip.path), for_terminal(&skip.detail));
    }
}

/// Writes the report where `args` says, in its format and colour; with
/// `--sarif FILE`, the same outcome a second time, as SARIF, to FILE: one
/// scan, rendered twice (a CI step's text summary and its code-scanning
/// upload), never a second scan.
///
/// With `quiet_when_clean` (the pre-commit hook's `staged`), a text report
/// to standard output of a run that found nothing and could read
/// everything is not written at all: a hook is silent on success.
pub fn emit(
    outcome: &mut ScanOutcome,
    rules: &RuleSet,
    args: &OutputArgs,
    title: &str,
    quiet_when_clean: bool,
) -> Result<()> {
    if let (Some(report), Some(sarif)) = (&args.output, &args.sarif)
        && same_path(report, sarif)
    {
        bail!("--output and --sarif name the same file ({}): give each report its own", sarif.display());
    }
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
    // JSON keeps a `git --repos` finding's `repository` and `path` apart;
    // every other format shows it at `repository/path` (done once: the
    // SARIF after a JSON report is qualified between the two).
    let qualified_for = |format| !matches!(format, Format::Json | Format::Jsonl);
    if qualified_for(args.format) {
        org::qualify_for_display(outcome);
    }
    let clean = outcome.findings.is_empty()
        && !outcome.has_errors()
        && (outcome.suppressed.is_empty() || !args.show_suppressed);
    let quiet = quiet_when_clean && clean && args.format == Format::Text && args.output.is_none();
    if !quiet {
        write_report(outcome, rules, args.output.as_deref(), &options)?;
    }
    if let Some(path) = &args.sarif {
        if !qualified_for(args.format) {
            org::qualify_for_display(outcome);
        }
        // `report::write` masks every secret in SARIF, --show-secrets or not.
        let sarif = ReportOptions { format: Format::Sarif, color: false, ..options };
        write_atomically(path, |out| report::write(out, outcome, rules, &sarif))?;
    }
    Ok(())
}

/// The report to `path` (atomically), or to standard output.
fn write_report(outcome: &ScanOutcome, rules: &RuleSet, path: Option<&Path>, options: &ReportOptions) -> Result<()> {
    match path {
        Some(path) => write_atomically(path, |out| report::write(out, outcome, rules, options)),
        None => {
            let mut out = BufWriter::new(io::stdout().lock());
            let written = report::write(&mut out, outcome, rules, options).and_then(|()| out.flush());
            // A closed pipe (`leakhound scan | head`) is not an error worth a message.
            if let Err(e) = written
                && e.kind() != io::ErrorKind::BrokenPipe
            {
                return Err(e).context("cannot write to standard output");
            }
            Ok(())
        }
    }
}

/// Whether two report paths name one file (as typed or made absolute).
fn same_path(a: &Path, b: &Path) -> bool {
    a == b || matches!((std::path::absolute(a), std::path::absolute(b)), (Ok(x), Ok(y)) if x == y)
}

/// Writes `path` through a temporary file beside it, renamed into place: a
/// reader (or a CI upload step) never sees a half-written report.
fn write_atomically(path: &Path, write: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let temp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot create a report file in {}", dir.display()))?;
    let mut out = BufWriter::new(temp);
    write(&mut out)
        .and_then(|()| out.flush())
        .with_context(|| format!("cannot write report file {}", path.display()))?;
    let temp = out.into_inner().map_err(|e| e.into_error())?;
    temp.persist(path).with_context(|| format!("cannot write report file {}", path.display()))?;
    Ok(())
}
