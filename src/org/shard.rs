//! Sharding a repository list over N workers: repository `id` belongs to
//! shard `sha256(id) mod N`. The assignment depends only on the id and N,
//! so every worker computes the same split without talking to the others,
//! the shards are disjoint and cover the list, and adding or removing a
//! repository moves no other repository (changing N does).

use std::fmt;

use sha2::{Digest, Sha256};

use super::list::RepoEntry;

/// Shard `index` of `count`; `index` counts from 0 (Kubernetes'
/// `JOB_COMPLETION_INDEX` does too).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

/// Why a shard could not be chosen; each message says what to type instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShardError {
    #[error("the shard count must be at least 1")]
    NoShards,
    #[error("shard index {index} is out of range for {count} shards: indexes count from 0 (0 to {})", count - 1)]
    OutOfRange { index: u64, count: u64 },
    #[error("`{0}` is not K/N (for example 0/4)")]
    NotKOfN(String),
    #[error("`{0}`: the shard index K must be a number")]
    IndexNotANumber(String),
    #[error("`{0}`: the shard count N must be a number")]
    CountNotANumber(String),
    #[error("environment variable {0} (the shard index) is not set")]
    EnvUnset(String),
    #[error("environment variable {var} is `{value}`, not a shard index (0, 1, ...)")]
    EnvNotAnIndex { var: String, value: String },
}

impl Shard {
    /// Checks `0 <= index < count`.
    pub fn new(index: u64, count: u64) -> Result<Shard, ShardError> {
        if count == 0 {
            return Err(ShardError::NoShards);
        }
        if index >= count {
            return Err(ShardError::OutOfRange { index, count });
        }
        Ok(Shard { index, count })
    }

    /// Parses `K/N` (`0/4` is the first of four shards).
    pub fn parse(text: &str) -> Result<Shard, ShardError> {
        let (k, n) = text.trim().split_once('/').ok_or_else(|| ShardError::NotKOfN(text.into()))?;
        let k = k.trim().parse::<u64>().map_err(|_| ShardError::IndexNotANumber(text.into()))?;
        let n = n.trim().parse::<u64>().map_err(|_| ShardError::CountNotANumber(text.into()))?;
        Shard::new(k, n)
    }

    /// Shard K of `count`, K read from environment variable `var` (for
    /// example `JOB_COMPLETION_INDEX` in a Kubernetes Indexed Job).
    pub fn from_env(var: &str, count: u64) -> Result<Shard, ShardError> {
        let value = std::env::var(var).map_err(|_| ShardError::EnvUnset(var.into()))?;
        let index = value
            .trim()
            .parse::<u64>()
            .map_err(|_| ShardError::EnvNotAnIndex { var: var.into(), value: value.clone() })?;
        Shard::new(index, count)
    }

    /// Whether the repository with normalized id `id` belongs here.
    pub fn holds(&self, id: &str) -> bool {
        shard_of(id, self.count) == self.index
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// The shard (0-based) of `count` that repository `id` belongs to: the first
/// 8 bytes of SHA-256(id), big-endian, modulo `count`.
pub fn shard_of(id: &str, count: u64) -> u64 {
    let digest = Sha256::digest(id.as_bytes());
    let mut head = [0u8; 8];
    head.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(head) % count.max(1)
}

/// The entries of `shard`, in list order.
pub fn select(entries: &[RepoEntry], shard: Shard) -> Vec<RepoEntry> {
    entries.iter().filter(|e| shard.holds(&e.id)).cloned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::org::list::parse_repo_list;

    #[test]
    fn parsing() {
        assert_eq!(Shard::parse("0/4"), Ok(Shard { index: 0, count: 4 }));
        assert_eq!(Shard::parse(" 3 / 4 "), Ok(Shard { index: 3, count: 4 }));
        assert!(Shard::parse("4/4").unwrap_err().to_string().contains("count from 0"));
        assert!(Shard::parse("1/0").is_err());
        assert!(Shard::parse("1").is_err());
        assert!(Shard::parse("a/2").is_err());
        assert_eq!(Shard::new(1, 2).unwrap().to_string(), "1/2");
    }

    #[test]
    fn shards_partition_the_list_and_adding_moves_nothing() {
        let text: String = (0..200).map(|n| format!("https://github.com/acme/repo-{n}.git\n")).collect();
        let list = parse_repo_list(&text);
        let count = 5;
        let shards: Vec<Vec<RepoEntry>> =
            (0..count).map(|k| select(&list.entries, Shard::new(k, count).unwrap())).collect();
        assert_eq!(shards.iter().map(Vec::len).sum::<usize>(), 200);
        for s in &shards {
            assert!(s.len() > 20, "a shard of {} out of 200 is badly unbalanced", s.len());
        }
        let more = parse_repo_list(&format!("{text}https://github.com/acme/new-one\n"));
        for (k, before) in shards.iter().enumerate() {
            let after = select(&more.entries, Shard::new(k as u64, count).unwrap());
            assert!(before.iter().all(|e| after.contains(e)));
        }
    }

    #[test]
    fn the_hash_is_fixed() {
        // A change here re-shards every organisation's list: do not.
        assert_eq!(shard_of("github.com/acme/api", 1 << 32), 0x96b9_3562);
        assert_eq!(shard_of("github.com/acme/api", 7), 0xe1dc_aa34_96b9_3562 % 7);
    }
}
