//! `--verify`: ask each provider, once per unique secret, whether a found
//! key still works. Requests are declared by the built-in rules
//! (`[rule.verify]`, see `rules::verify_spec`); this module deduplicates,
//! schedules (bounded per provider and overall), retries politely, caches,
//! and writes the result into every finding that holds the secret.
//!
//! A transient failure (timeout, rate limit, 5xx, an answer no verdict
//! covers) is `unknown` with the reason, never `invalid`: users skip
//! rotating keys reported invalid.

pub mod aws;
pub mod cache;
pub mod http;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use anyhow::Result;
use sha2::Digest;

use crate::finding::{Finding, Verification};
use crate::outcome::VerifyStats;
use crate::rules::verify_spec::{self, AWS_STS, Status, VerifySpec};
use crate::rules::{Rule, RuleSet};

use self::cache::Cache;
use self::http::{Client, EndpointOverride, Failure};

pub struct VerifyOptions {
    pub timeout: Duration,
    /// Requests in flight per provider.
    pub per_provider: usize,
    /// Requests in flight overall.
    pub overall: usize,
    pub overrides: Vec<EndpointOverride>,
    pub cache: Option<Cache>,
    /// Retries after a 429 or 5xx (each waits for `Retry-After`, capped).
    pub retries: u32,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            timeout: Duration::from_secs(5),
            per_provider: 4,
            overall: 32,
            overrides: Vec::new(),
            cache: None,
            retries: 2,
        }
    }
}

/// Longest wait honoured from a `Retry-After` header.
const MAX_RETRY_WAIT: Duration = Duration::from_secs(5);

/// One unique secret to check.
struct Job<'r> {
    rule: &'r Rule,
    secret: String,
    /// The other half of a two-part credential (an AWS secret access key
    /// for an access key id), when the rule's check needs one.
    pair: Option<String>,
    /// The public half found beside the secret, for rules whose check
    /// needs it (`{companion}`, `{basic:companion:secret}`).
    companion: Option<String>,
    cache_key: String,
}

/// Verifies every unique (rule, secret) in `findings` and fills in their
/// `verification`.
pub fn verify(findings: &mut [Finding], rules: &RuleSet, options: &mut VerifyOptions) -> Result<VerifyStats> {
    let mut jobs: BTreeMap<String, Job> = BTreeMap::new();
    let mut job_of: Vec<Option<String>> = Vec::with_capacity(findings.len());
    for (i, f) in findings.iter().enumerate() {
        let Some(rule) = rules.get(&f.rule_id).filter(|r| !r.spec.not_secret) else {
            job_of.push(None);
            continue;
        };
        let job = match rule.spec.verify.as_ref().and_then(|v| v.pair.as_deref()) {
            Some(pair_rule) => paired_job(findings, i, rule, pair_rule),
            None => single_job(f, rule),
        };
        job_of.push(Some(job.cache_key.clone()));
        jobs.entry(job.cache_key.clone()).or_insert(job);
    }
    let now = time::OffsetDateTime::now_utc();
    let mut results: HashMap<String, Verification> = HashMap::new();
    let mut stats = VerifyStats { unique_secrets: jobs.len() as u64, ..VerifyStats::default() };
    let mut pending: Vec<Job> = Vec::new();
    for (key, job) in jobs {
        match options.cache.as_ref().and_then(|c| c.get(&key, now.unix_timestamp())) {
            Some(cached) => {
                stats.from_cache += 1;
                results.insert(key, cached);
            }
            None => pending.push(job),
        }
    }
    let requests = AtomicU64::new(0);
    let fresh = run_jobs(pending, options, &requests);
    stats.requests = requests.into_inner();
    for (key, result) in fresh {
        if let Some(cache) = options.cache.as_mut() {
            cache.put(key.clone(), &result, now.unix_timestamp());
        }
        results.insert(key, result);
    }
    if let Some(cache) = &options.cache {
        cache.save()?;
    }
    for (f, key) in findings.iter_mut().zip(&job_of) {
        if let Some(result) = key.as_ref().and_then(|k| results.get(k)) {
            f.verification = Some(result.clone());
        }
    }
    for result in results.values() {
        match result.status {
            Status::Live => stats.live += 1,
            Status::Invalid => stats.invalid += 1,
            Status::Unknown => stats.unknown += 1,
        }
    }
    Ok(stats)
}

/// The job for one secret (with its companion, when the check uses it: the
/// same key beside two different account ids is two checks).
fn single_job<'r>(f: &Finding, rule: &'r Rule) -> Job<'r> {
    let companion = match &f.companion {
        Some(c) if rule.spec.verify.as_ref().is_some_and(|v| v.uses_companion()) => Some(c.value.clone()),
        _ => None,
    };
    let cache_key = match &companion {
        Some(c) => cache::key(&f.rule_id, &hex::encode(sha2::Sha256::digest(format!("{}:{c}", f.secret_sha256)))),
        None => cache::key(&f.rule_id, &f.secret_sha256),
    };
    Job { rule, secret: f.secret.clone(), pair: None, companion, cache_key }
}

/// The job for half of a two-part credential: paired with the nearest
/// finding of `pair_rule` in the same file (by line), ordered so both halves
/// produce the same job; without a partner, a job that reports why.
fn paired_job<'r>(findings: &[Finding], i: usize, rule: &'r Rule, pair_rule: &str) -> Job<'r> {
    let f = &findings[i];
    let partner = findings
        .iter()
        .filter(|o| o.rule_id == pair_rule && o.path == f.path && o.repository == f.repository)
        .min_by_key(|o| (o.line.abs_diff(f.line), o.line));
    let Some(partner) = partner else {
        // The other half named as this finding's companion (one finding
        // for the pair): ordered as the rules' ids would order them.
        let Some(other) = &f.companion else { return single_job(f, rule) };
        let other_hash = crate::finding::secret_hash(other.value.as_bytes());
        let ((first, first_hash), (second, second_hash)) = if pair_rule < rule.spec.id.as_str() {
            ((&other.value, &other_hash), (&f.secret, &f.secret_sha256))
        } else {
            ((&f.secret, &f.secret_sha256), (&other.value, &other_hash))
        };
        let (first_rule, second_rule) = if pair_rule < rule.spec.id.as_str() {
            (pair_rule, rule.spec.id.as_str())
        } else {
            (rule.spec.id.as_str(), pair_rule)
        };
        let pair_hash = hex::encode(sha2::Sha256::digest(format!("{first_hash}:{second_hash}")));
        return Job {
            rule,
            secret: first.clone(),
            pair: Some(second.clone()),
            companion: None,
            cache_key: cache::key(&format!("{first_rule}+{second_rule}"), &pair_hash),
        };
    };
    // The half whose rule names the other as `pair` in the same way comes
    // first; sorting by rule id makes both halves agree.
    let (first, second) = if f.rule_id < partner.rule_id { (f, partner) } else { (partner, f) };
    let pair_hash = hex::encode(sha2::Sha256::digest(format!("{}:{}", first.secret_sha256, second.secret_sha256)));
    Job {
        rule,
        secret: first.secret.clone(),
        pair: Some(second.secret.clone()),
        companion: None,
        cache_key: cache::key(&format!("{}+{}", first.rule_id, second.rule_id), &pair_hash),
    }
}

/// Runs the jobs with at most `per_provider` requests in flight for one
/// provider and `overall` in all.
fn run_jobs(jobs: Vec<Job>, options: &VerifyOptions, requests: &AtomicU64) -> Vec<(String, Verification)> {
    let client = Client::new(options.timeout, !options.overrides.is_empty());
    let mut queues: BTreeMap<&str, VecDeque<Job>> = BTreeMap::new();
    for job in jobs {
        queues.entry(job.rule.spec.provider.as_str()).or_default().push_back(job);
    }
    let slots = Semaphore::new(options.overall.max(1));
    let results = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for (_, queue) in queues {
            let workers = options.per_provider.max(1).min(queue.len());
            let queue = std::sync::Arc::new(Mutex::new(queue));
            for _ in 0..workers {
                let queue = std::sync::Arc::clone(&queue);
                let (client, slots, results) = (&client, &slots, &results);
                scope.spawn(move || {
                    loop {
                        let Some(job) = queue.lock().unwrap_or_else(|e| e.into_inner()).pop_front() else { break };
                        let result = {
                            let _slot = slots.acquire();
                            check(client, &job, options, requests)
                        };
                        results.lock().unwrap_or_else(|e| e.into_inner()).push((job.cache_key, result));
                    }
                });
            }
        }
    });
    results.into_inner().unwrap_or_else(|e| e.into_inner())
}

/// Verifies one secret: builds the request from the rule, sends it (with
/// retries on 429/5xx), reads the verdict.
fn check(client: &Client, job: &Job, options: &VerifyOptions, requests: &AtomicU64) -> Verification {
    let checked_at = now_rfc3339();
    let unknown = |detail: String, http_status: Option<u16>| Verification {
        status: Status::Unknown,
        qualifier: None,
        detail: Some(detail),
        http_status,
        checked_at: checked_at.clone(),
    };
    let Some(spec) = &job.rule.spec.verify else {
        return unknown("no safe verification".into(), None);
    };
    if let Some(reason) = &spec.unavailable {
        return unknown(reason.clone(), None);
    }
    if spec.uses_companion() && job.companion.is_none() {
        let name = job.rule.spec.companion.as_ref().map_or("other half", |c| c.name.as_str());
        return unknown(format!("not verified: the {name} was not found near the key"), None);
    }
    let companion = job.companion.as_deref();
    let Some(url) = request_url(spec, &job.rule.spec.provider, &options.overrides, &job.secret, companion) else {
        return unknown("the rule's verification URL is invalid".into(), None);
    };
    let (headers, body): (BTreeMap<String, String>, Option<String>) = match spec.scheme.as_deref() {
        Some(AWS_STS) => {
            let Some(pair) = &job.pair else {
                return unknown("not verified: the other half of the key pair is not in the same file".into(), None);
            };
            // Halves are ordered by rule id: the access key id sorts first.
            let now = time::OffsetDateTime::now_utc();
            let amz_date = format!(
                "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
                now.year(),
                u8::from(now.month()),
                now.day(),
                now.hour(),
                now.minute(),
                now.second()
            );
            (aws::sts_headers(&job.secret, pair, &amz_date).into_iter().collect(), Some(aws::STS_BODY.to_string()))
        }
        _ => {
            let as_is = |text: &str| text.to_string();
            let fill = |template: &str| verify_spec::fill(template, &job.secret, companion, &as_is).unwrap_or_default();
            (spec.headers.iter().map(|(k, v)| (k.clone(), fill(v))).collect(), spec.body.as_deref().map(fill))
        }
    };
    let method = if spec.scheme.as_deref() == Some(AWS_STS) { "POST" } else { spec.method.as_str() };
    let mut attempt = 0;
    loop {
        requests.fetch_add(1, Ordering::Relaxed);
        let answer = match client.send(method, &url, &headers, body.as_deref()) {
            Ok(a) => a,
            Err(Failure::Timeout) => return unknown(format!("timed out after {:?}", options.timeout), None),
            Err(failure) => return unknown(failure.to_string(), None),
        };
        if let Some(verdict) = spec.verdict(answer.status, &answer.body) {
            let detail = match verdict.result {
                Status::Live if spec.scheme.as_deref() == Some(AWS_STS) => aws::arn(&answer.body).map(str::to_string),
                Status::Live => spec.details(&answer.body),
                Status::Invalid => Some(format!("the provider rejected the key (HTTP {})", answer.status)),
                Status::Unknown => Some(format!("HTTP {}: not a verdict on the key", answer.status)),
            };
            return Verification {
                status: verdict.result,
                qualifier: verdict.qualifier.clone(),
                detail,
                http_status: Some(answer.status),
                checked_at,
            };
        }
        let transient = answer.status == 429 || answer.status >= 500;
        if transient && attempt < options.retries {
            attempt += 1;
            let backoff = Duration::from_millis(250 << attempt);
            std::thread::sleep(answer.retry_after.unwrap_or(backoff).min(MAX_RETRY_WAIT));
            continue;
        }
        let why = match answer.status {
            429 => "rate limited".to_string(),
            300..=399 => "redirect not followed".to_string(),
            s if s >= 500 => "provider error".to_string(),
            _ => "unexpected answer".to_string(),
        };
        return unknown(format!("{why} (HTTP {})", answer.status), Some(answer.status));
    }
}

/// The official URL (with `{secret}` and `{companion}` filled in, for the
/// few providers that take them in the path or query; the host is fixed by
/// `VerifySpec::validate`), or its loopback override.
fn request_url(
    spec: &VerifySpec,
    provider: &str,
    overrides: &[EndpointOverride],
    secret: &str,
    companion: Option<&str>,
) -> Option<String> {
    let official = url::Url::parse(&verify_spec::fill(&spec.url, secret, companion, &url_encode)?).ok()?;
    if official.scheme() != "https" {
        return None;
    }
    Some(match overrides.iter().find(|o| o.provider == provider) {
        Some(o) => o.apply(&official),
        None => official.to_string(),
    })
}

/// Percent-encodes all but RFC 3986's unreserved characters and `:` (a
/// Telegram bot token `123:AA...` goes into the path as it is).
fn url_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~:".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

/// A counting semaphore (std has none).
struct Semaphore {
    free: Mutex<usize>,
    freed: Condvar,
}

struct Permit<'a>(&'a Semaphore);

impl Semaphore {
    fn new(n: usize) -> Semaphore {
        Semaphore { free: Mutex::new(n), freed: Condvar::new() }
    }

    fn acquire(&self) -> Permit<'_> {
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        while *free == 0 {
            free = self.freed.wait(free).unwrap_or_else(|e| e.into_inner());
        }
        *free -= 1;
        Permit(self)
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        *self.0.free.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        self.0.freed.notify_one();
    }
}
