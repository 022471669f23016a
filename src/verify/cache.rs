//! `--verify-cache FILE`: verification results keyed by rule id and the
//! SHA-256 of the secret (never the secret), so re-running an audit does not
//! ask providers again. Entries older than the TTL are ignored. `unknown`
//! is never cached (the next run should try again; an entry a
//! hand-edited or older file holds is ignored), and an `invalid` is asked
//! again once it is older than [`INVALID_TTL`] (one hour, or the TTL if
//! shorter): a key wrongly reported invalid must not stay so for a day.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::finding::Verification;
use crate::rules::verify_spec::Status;

#[derive(Default, Serialize, Deserialize)]
struct CacheFile {
    version: u32,
    /// `rule_id:secret_sha256` → result and when it was stored.
    entries: BTreeMap<String, Entry>,
}

#[derive(Clone, Serialize, Deserialize)]
struct Entry {
    stored_unix: i64,
    result: Verification,
}

pub struct Cache {
    path: PathBuf,
    file: CacheFile,
    ttl: Duration,
}

/// How long a cached `invalid` stands before the key is asked about again.
pub const INVALID_TTL: Duration = Duration::from_secs(3600);

pub fn key(rule_id: &str, secret_sha256: &str) -> String {
    format!("{rule_id}:{secret_sha256}")
}

impl Cache {
    /// Loads `path` if it exists; a missing file is an empty cache, a
    /// corrupt one an error (it may be a path typo pointing at a real file).
    pub fn open(path: &Path, ttl: Duration) -> Result<Cache> {
        let file = match fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text)
                .with_context(|| format!("{} is not a leakhound verification cache", path.display()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => CacheFile { version: 1, ..CacheFile::default() },
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        Ok(Cache { path: path.to_path_buf(), file, ttl })
    }

    pub fn get(&self, key: &str, now_unix: i64) -> Option<Verification> {
        let entry = self.file.entries.get(key)?;
        let ttl = match entry.result.status {
            Status::Unknown => return None,
            Status::Invalid => self.ttl.min(INVALID_TTL),
            Status::Live => self.ttl,
        };
        let age = now_unix.saturating_sub(entry.stored_unix);
        (age >= 0 && (age as u64) < ttl.as_secs()).then(|| entry.result.clone())
    }

    pub fn put(&mut self, key: String, result: &Verification, now_unix: i64) {
        if result.status != Status::Unknown {
            self.file.entries.insert(key, Entry { stored_unix: now_unix, result: result.clone() });
        }
    }

    pub fn save(&self) -> Result<()> {
        let text = serde_json::to_string_pretty(&self.file)?;
        fs::write(&self.path, text).with_context(|| format!("cannot write {}", self.path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(status: Status) -> Verification {
        Verification {
            status,
            qualifier: None,
            detail: None,
            http_status: Some(200),
            checked_at: "2026-01-01T00:00:00Z".into(),
            access: None,
        }
    }

    #[test]
    fn unknown_is_never_cached_and_invalid_expires_sooner() {
        let dir = tempfile::tempdir().unwrap();
        let mut cache = Cache::open(&dir.path().join("c.json"), Duration::from_secs(24 * 3600)).unwrap();
        cache.put("live".into(), &result(Status::Live), 0);
        cache.put("invalid".into(), &result(Status::Invalid), 0);
        cache.put("unknown".into(), &result(Status::Unknown), 0);
        assert!(cache.get("unknown", 1).is_none());
        // An unknown a file holds anyway (an older version, an edit) is not an answer.
        cache.file.entries.insert("forced".into(), Entry { stored_unix: 0, result: result(Status::Unknown) });
        assert!(cache.get("forced", 1).is_none());
        assert!(cache.get("invalid", 3599).is_some());
        assert!(cache.get("invalid", 3600).is_none(), "re-checked after an hour");
        assert!(cache.get("live", 3600).is_some());
        assert!(cache.get("live", 24 * 3600).is_none());
    }
}
