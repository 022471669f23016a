//! Standard input as a source (`leakhound scan -`), for editors and pipes.

use super::{BlobSink, looks_binary, read_capped};
use crate::outcome::{Skip, SkipReason};

/// The path findings from stdin report.
pub const STDIN_PATH: &str = "-";

pub fn read(max_size: u64, sink: &dyn BlobSink) {
    let mut buffer = Vec::new();
    let skip = |reason, detail: String| Skip { path: STDIN_PATH.into(), reason, detail };
    match read_capped(std::io::stdin().lock(), max_size, &mut buffer) {
        Err(e) => sink.skipped(skip(SkipReason::Unreadable, e.to_string())),
        Ok(false) => sink.skipped(skip(SkipReason::TooLarge, format!("more than {max_size} bytes (--max-file-size)"))),
        Ok(true) if looks_binary(&buffer, STDIN_PATH) => {
            sink.skipped(skip(SkipReason::Binary, "NUL byte in the first 8 KiB".into()))
        }
        Ok(true) => sink.blob(STDIN_PATH, &buffer),
    }
}
