//! Ctrl-C: the first one asks the scan to stop and report what it found so
//! far (exit code 130); a second one ends the process at once. Sources poll
//! [`requested`] between files and objects.

use std::sync::atomic::{AtomicBool, Ordering};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Exit code after an interruption (128 + SIGINT), as shells report it.
pub const EXIT_CODE: u8 = 130;

/// Installs the handler; harmless if one is already installed.
pub fn install() {
    let _ = ctrlc::set_handler(|| {
        if INTERRUPTED.swap(true, Ordering::SeqCst) {
            std::process::exit(i32::from(EXIT_CODE));
        }
        eprintln!("\nleakhound: interrupted: finishing with what was found so far (Ctrl-C again to quit now)");
    });
}

/// Whether the user asked to stop.
pub fn requested() -> bool {
    INTERRUPTED.load(Ordering::Relaxed)
}

/// The flag itself, for libraries that poll an `AtomicBool` (gix-pack).
pub fn flag() -> &'static AtomicBool {
    &INTERRUPTED
}
