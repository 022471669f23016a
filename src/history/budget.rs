//! The history audit's memory budget (`--max-memory`): what the audit will
//! need, estimated from the object store before anything is decoded, and
//! what it gives up to stay under the budget.
//!
//! The memory model (measured on spring-boot's history, 1.35M objects,
//! 80k commits, 979k trees with 8.1M entries; README "Performance"):
//! - the delta forest of the pack being decoded: 20 bytes per object of
//!   that pack (pack order, offsets, children grouped by base), 28 while
//!   it is being built;
//! - the object graph: 24 bytes per commit, 12 per tree and 4 per tree
//!   entry (about 36 bytes per object on real histories), plus 6 bytes per
//!   object to find them;
//! - each decode thread: its buffers (decoded bases along one delta chain,
//!   the blob being scanned and its decoded views), about 24 MiB with
//!   ordinary blobs;
//! - the pack indexes, mapped and resident (28 bytes per object), and a
//!   finer fan-out table over them (about 1 byte per object);
//! - mapped pack data pages: bounded by a watcher that gives them back to
//!   the page cache ([`file_pages_limit`]: at most 96 MiB);
//! - attribution: proportional to the trees on the way to a matched blob.
//!
//! Only threads can be traded: the delta forest and the graph are the floor.
//! When the budget is below the floor the audit still runs, on one thread,
//! and says so.

use super::super::source::git::objects::ObjectTable;

/// Bytes the delta forest keeps per object of the pack being decoded
/// (at its peak, while being built).
const DELTA_FOREST_PER_OBJECT: u64 = 28;
/// Bytes the graph keeps per object of the store (commits, trees, entries).
const GRAPH_PER_OBJECT: u64 = 42;
/// What one decode thread holds with ordinary blobs.
pub const PER_THREAD: u64 = 24 << 20;

/// How the audit runs within its budget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub threads: usize,
    /// The estimated peak with `threads`.
    pub estimate: u64,
    /// What the audit gave up, for the report's notes.
    pub note: Option<String>,
}

/// The estimated floor: the tables that do not shrink with fewer threads,
/// on top of `resident` (what the process holds already).
pub fn floor(table: &ObjectTable, resident: u64, file_pages_limit: u64) -> u64 {
    let largest_pack = table.packs.iter().map(|p| p.index.num_objects() as u64).max().unwrap_or(0);
    let indexes: u64 = table.packs.iter().map(|p| p.index_bytes()).sum();
    let data: u64 = table.packs.iter().map(|p| p.data_bytes()).sum();
    resident
        + indexes
        + file_pages_limit.min(data)
        + DELTA_FOREST_PER_OBJECT * largest_pack
        + GRAPH_PER_OBJECT * table.len() as u64
}

/// Resident pack data pages above this are given back to the page cache:
/// a quarter of the budget, at most 96 MiB. Giving pages back costs time
/// (the walk faults back in what it still needs: at 32 MiB, spring-boot's
/// audit spent ~1 s more in the kernel than at 96).
pub fn file_pages_limit(budget: u64) -> u64 {
    (budget / 4).clamp(4 << 20, 96 << 20)
}

/// The thread count that fits `budget` above `floor`.
pub fn plan(floor: u64, budget: u64, threads: usize) -> Plan {
    let fits = ((budget.saturating_sub(floor)) / PER_THREAD) as usize;
    let chosen = threads.min(fits).max(1);
    let estimate = floor + PER_THREAD * chosen as u64;
    let note = if floor + PER_THREAD > budget {
        Some(format!(
            "memory budget {} is below what this history needs (about {}): ran on 1 thread; \
             raise --max-memory or audit on a larger machine",
            mib(budget),
            mib(floor + PER_THREAD)
        ))
    } else if chosen < threads {
        Some(format!(
            "memory budget {}: ran on {chosen} thread{} instead of {threads} to stay under it",
            mib(budget),
            if chosen == 1 { "" } else { "s" }
        ))
    } else {
        None
    };
    Plan { threads: chosen, estimate, note }
}

/// The default budget: half of the machine's memory, or of the container's
/// limit when it has a lower one (cgroup v2 `memory.max`).
pub fn default_budget() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let physical = unsafe {
        let pages = libc::sysconf(libc::_SC_PHYS_PAGES);
        let size = libc::sysconf(libc::_SC_PAGESIZE);
        (pages.max(0) as u64).saturating_mul(size.max(0) as u64)
    };
    let cgroup = std::fs::read_to_string("/sys/fs/cgroup/memory.max").ok().and_then(|s| s.trim().parse::<u64>().ok());
    let machine = cgroup.map_or(physical, |limit| if physical == 0 { limit } else { limit.min(physical) });
    if machine == 0 { 4 << 30 } else { machine / 2 }
}

pub fn mib(bytes: u64) -> String {
    format!("{} MiB", bytes.div_ceil(1 << 20))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_are_traded_for_memory_down_to_one() {
        let floor = 100 << 20;
        assert_eq!(plan(floor, 1 << 30, 2), Plan { threads: 2, estimate: floor + 2 * PER_THREAD, note: None });
        let one = plan(floor, floor + PER_THREAD + 1, 2);
        assert_eq!(one.threads, 1);
        assert_eq!(one.note.as_deref(), Some("memory budget 125 MiB: ran on 1 thread instead of 2 to stay under it"));
        let below = plan(floor, 50 << 20, 4);
        assert_eq!(below.threads, 1);
        assert!(
            below.note.unwrap().starts_with("memory budget 50 MiB is below what this history needs (about 124 MiB)")
        );
    }

    #[test]
    fn the_default_budget_is_some_of_the_machine() {
        let budget = default_budget();
        assert!(budget >= 16 << 20, "{budget}");
    }
}
