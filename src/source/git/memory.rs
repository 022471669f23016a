//! What the process holds in memory, read from the kernel, so the history
//! audit can keep to a budget (`--max-memory`) and say where its peak is.
//!
//! Linux only (`/proc/self/status`); elsewhere every reading is `None` and
//! the audit runs without a budget check. Resident memory is split in two
//! because they behave differently: anonymous memory (tables, decoded
//! objects) is what the audit allocates, while file pages (the mapped packs)
//! are clean page cache that [`drop_file_pages`] can give back at any time.

/// One reading of the process's resident memory, in bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    /// Anonymous memory: the heap and thread stacks.
    pub anon: u64,
    /// Mapped file pages (packs and pack indexes) currently resident.
    pub file: u64,
    /// The peak resident size since the process started or the last
    /// [`reset_peak`].
    pub peak: u64,
}

impl Usage {
    pub fn resident(&self) -> u64 {
        self.anon + self.file
    }
}

/// The current reading, or `None` where the kernel does not say.
pub fn usage() -> Option<Usage> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| -> Option<u64> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        let kib: u64 = line[name.len()..].trim().trim_end_matches("kB").trim().parse().ok()?;
        Some(kib * 1024)
    };
    Some(Usage { anon: field("RssAnon:")?, file: field("RssFile:")?, peak: field("VmHWM:")? })
}

/// Starts a new peak (`VmHWM`) from the current size, so a phase's own
/// peak can be read at its end. Does nothing where unsupported.
pub fn reset_peak() {
    // "5" resets the peak resident size (proc(5), /proc/pid/clear_refs).
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Tells the kernel this process no longer needs the resident pages of a
/// read-only file mapping: they stay in the page cache, leave this process's
/// resident set, and fault back in (cheaply, from the cache) if read again.
///
/// # Safety
/// `range` must lie inside a live, read-only, file-backed mapping (a pack
/// or index map): for such a mapping the advice cannot change its content.
pub unsafe fn drop_file_pages(range: &[u8]) {
    #[cfg(target_os = "linux")]
    {
        let page = 4096usize;
        let start = range.as_ptr() as usize;
        let aligned = start & !(page - 1);
        let len = range.len() + (start - aligned);
        // SAFETY: the caller guarantees a read-only file-backed mapping;
        // MADV_DONTNEED on it only drops page-table entries.
        unsafe {
            libc::madvise(aligned as *mut libc::c_void, len, libc::MADV_DONTNEED);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = range;
}

/// One phase of a run: its name, how long it took, and the memory reading
/// at its end (whose `peak` is the phase's own peak).
#[derive(Debug, Clone)]
pub struct Phase {
    pub name: &'static str,
    pub duration: std::time::Duration,
    pub usage: Usage,
}

/// The phases of a run, in order.
#[derive(Debug, Clone)]
pub struct PhaseLog {
    pub phases: Vec<Phase>,
    started: std::time::Instant,
}

impl PhaseLog {
    /// Starts measuring: the first phase's peak counts from here.
    pub fn start() -> PhaseLog {
        reset_peak();
        PhaseLog { phases: Vec::new(), started: std::time::Instant::now() }
    }

    /// Ends the phase `name`: records its peak, then starts the next one.
    pub fn end(&mut self, name: &'static str) {
        let now = std::time::Instant::now();
        self.phases.push(Phase { name, duration: now - self.started, usage: usage().unwrap_or_default() });
        self.started = now;
        reset_peak();
    }

    /// One line per phase: its time, peak, and anonymous and file memory at
    /// its end.
    pub fn describe(&self) -> String {
        self.phases
            .iter()
            .map(|p| {
                let u = p.usage;
                format!(
                    "memory {:12} {:>7.2} s  peak {:>6} MiB  anon {:>6} MiB  file {:>6} MiB\n",
                    p.name,
                    p.duration.as_secs_f64(),
                    u.peak >> 20,
                    u.anon >> 20,
                    u.file >> 20
                )
            })
            .collect()
    }

    /// The largest peak of any phase.
    pub fn peak(&self) -> u64 {
        self.phases.iter().map(|p| p.usage.peak).max().unwrap_or(0)
    }
}
