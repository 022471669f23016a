//! Ctrl-C: the first one asks the scan to stop and report what it found so
//! far (exit code 130); a second one ends the process at once. Sources are
//! handed the [`flag`] in their options and poll it between files and
//! objects; nothing below the command line reads it on its own.

use std::sync::atomic::{AtomicBool, Ordering};

use super::output::exit;

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Installs the handler; harmless if one is already installed.
pub fn install() {
    let _ = ctrlc::set_handler(|| {
        if INTERRUPTED.swap(true, Ordering::SeqCst) {
            std::process::exit(i32::from(exit::INTERRUPTED));
        }
        eprintln!("\nleakhound: interrupted: finishing with what was found so far (Ctrl-C again to quit now)");
    });
}

/// Whether the user asked to stop.
pub fn requested() -> bool {
    INTERRUPTED.load(Ordering::Relaxed)
}

/// The flag itself, for the sources and libraries that poll it.
pub fn flag() -> &'static AtomicBool {
    &INTERRUPTED
}
