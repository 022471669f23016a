//! `--verify`: ask each provider, once per unique secret, whether a found
//! key still works. Requests are declared by the built-in rules
//! (`[rule.verify]`, see `rules::verify_spec`); this module deduplicates,
//! schedules (bounded per provider and overall), retries politely, caches,
//! and writes the result into every finding that holds the secret.
//!
//! A transient failure (timeout, rate limit, 5xx, an answer no verdict
//! covers) is `unknown` with the reason, never `invalid`: users skip
//! rotating keys reported invalid. A live key's `access` (identity,
//! account, scopes, expiry, admin) comes from the same answer, as its rule
//! declares; nothing asks twice.
//!
//! `unknown` is never cached; a cached `invalid` is asked again after an
//! hour (`cache::INVALID_TTL`). GitHub and GitLab checks go to the user's
//! own instance with `--github-api` / `--gitlab-url` (command line only).
//! AWS pairs (`aws.rs`): never for a canary token's account, never for a
//! temporary id without its session token, each candidate secret of the
//! file in turn while the signature (not the key id) is wrong.

pub mod aws;
pub mod cache;
pub mod http;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use anyhow::Result;
use sha2::Digest;

use crate::finding::{Access, Finding, Verification};
use crate::outcome::VerifyStats;
use crate::rules::verify_spec::{self, AWS_STS, Reply, Status, Verdict, VerifySpec};
use crate::rules::{Rule, RuleSet};

use self::cache::Cache;
use self::http::{Answer, Client, EndpointOverride, Failure, Instance};

pub struct VerifyOptions {
    pub timeout: Duration,
    /// Requests in flight per provider.
    pub per_provider: usize,
    /// Requests in flight overall.
    pub overall: usize,
    pub overrides: Vec<EndpointOverride>,
    /// The user's own GitHub Enterprise / GitLab instances (command line
    /// only): those providers' checks go there instead.
    pub instances: Vec<Instance>,
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
            instances: Vec::new(),
            cache: None,
            retries: 2,
        }
    }
}

/// Longest wait honoured from a `Retry-After` header.
const MAX_RETRY_WAIT: Duration = Duration::from_secs(5);

/// Most secret halves tried for one AWS access key id (each is a request).
const MAX_CANDIDATES: usize = 8;

/// One unique secret to check.
struct Job<'r> {
    rule: &'r Rule,
    secret: String,
    /// For two-part credentials checked together (an AWS access key id in
    /// `secret`): the candidate other halves found in the same file, with
    /// their lines, the likeliest first (beside it, then by distance).
    pairs: Vec<(String, usize)>,
    /// A secret third part found nearby (an AWS session token).
    session: Option<String>,
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
        let mut job = match rule.spec.verify.as_ref().and_then(|v| v.pair.as_deref()) {
            Some(pair_rule) => paired_job(findings, i, rule, pair_rule),
            None => single_job(f, rule),
        };
        // A verdict from the user's own instance is not one from the public
        // service: cached apart.
        if let Some(instance) = options.instances.iter().find(|i| i.provider == rule.spec.provider) {
            job.cache_key = format!("{}@{}", job.cache_key, instance.url());
        }
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
            raise_if_live(f, rules);
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

/// A value public by design whose key answered live, with no qualifier
/// (it did what its public use should not allow: list Gemini models),
/// takes the rule's `public.if_live` severity and reason.
pub fn raise_if_live(f: &mut Finding, rules: &RuleSet) {
    let live = f.verification.as_ref().is_some_and(|v| v.status == Status::Live && v.qualifier.is_none());
    let raise = rules.get(&f.rule_id).and_then(|r| r.spec.public.as_ref()).and_then(|p| p.if_live.as_ref());
    if let (true, true, Some(raise)) = (f.public_by_design, live, raise) {
        f.severity = raise.severity;
        f.severity_reason = Some(raise.reason.clone());
    }
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
    Job { rule, secret: f.secret.clone(), pairs: Vec::new(), session: None, companion, cache_key }
}

/// The job for half of a two-part credential (an AWS access key id and its
/// secret access key): the id (the half whose rule id sorts first) with
/// the candidate secrets of the same file, the likeliest first: those
/// naming the id as their companion, then the others by distance in lines
/// from it. The id is the secret finding's companion, else the nearest id
/// finding of the file. Every finding of the pair gets the same job, so
/// the pair is checked once. A session token found beside either half
/// goes with them. Without an id, a job that reports why.
fn paired_job<'r>(findings: &[Finding], i: usize, rule: &'r Rule, pair_rule: &str) -> Job<'r> {
    let f = &findings[i];
    let in_file: Vec<&Finding> = findings.iter().filter(|o| o.path == f.path && o.repository == f.repository).collect();
    let f_is_id = rule.spec.id.as_str() < pair_rule;
    let (id, id_rule, secret_rule) = if f_is_id {
        (f.secret.clone(), rule.spec.id.as_str(), pair_rule)
    } else {
        let named = f.companion.as_ref().map(|c| c.value.clone());
        let nearest =
            || in_file.iter().filter(|o| o.rule_id == pair_rule).min_by_key(|o| (o.line.abs_diff(f.line), o.line));
        let Some(id) = named.or_else(|| nearest().map(|o| o.secret.clone())) else { return single_job(f, rule) };
        (id, pair_rule, rule.spec.id.as_str())
    };
    let names_id = |o: &Finding| o.companion.as_ref().is_some_and(|c| c.value == id);
    let mut secrets: Vec<&Finding> = in_file.iter().copied().filter(|o| o.rule_id == secret_rule).collect();
    // Where the id is: its own finding, else the first secret naming it.
    let id_line = in_file
        .iter()
        .find(|o| o.rule_id == id_rule && o.secret == id)
        .or_else(|| secrets.iter().filter(|o| names_id(o)).min_by_key(|o| o.line))
        .map_or(f.line, |o| o.line);
    secrets.sort_by_key(|o| (!names_id(o), o.line.abs_diff(id_line), o.line));
    let mut pairs: Vec<(String, usize)> = Vec::new();
    for o in &secrets {
        if pairs.len() < MAX_CANDIDATES && !pairs.iter().any(|(s, _)| *s == o.secret) {
            pairs.push((o.secret.clone(), o.line));
        }
    }
    let session = f.session.clone().or_else(|| {
        let halves = in_file.iter().filter(|o| o.rule_id == secret_rule || o.secret == id);
        halves.filter(|o| o.session.is_some()).min_by_key(|o| o.line.abs_diff(id_line)).and_then(|o| o.session.clone())
    });
    let mut parts = vec![crate::finding::secret_hash(id.as_bytes())];
    parts.extend(pairs.iter().map(|(p, _)| crate::finding::secret_hash(p.as_bytes())));
    parts.extend(session.iter().map(|s| format!("session:{}", crate::finding::secret_hash(s.as_bytes()))));
    let pair_hash = hex::encode(sha2::Sha256::digest(parts.join(":")));
    Job {
        rule,
        secret: id,
        pairs,
        session,
        companion: None,
        cache_key: cache::key(&format!("{id_rule}+{secret_rule}"), &pair_hash),
    }
}

/// Runs the jobs with at most `per_provider` requests in flight for one
/// provider and `overall` in all.
fn run_jobs(jobs: Vec<Job>, options: &VerifyOptions, requests: &AtomicU64) -> Vec<(String, Verification)> {
    let instance_hosts = options.instances.iter().map(Instance::host).collect();
    let client = Client::new(options.timeout, !options.overrides.is_empty(), instance_hosts);
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

/// Where a check goes: the URL to send to, and the host it stands for (the
/// official or the user's instance host, even when a loopback override
/// receives it), which `{host}` in a qualifier names.
struct Target {
    url: String,
    host: String,
}

/// Verifies one secret: builds the request from the rule, sends it (with
/// retries on 429/5xx), reads the verdict.
fn check(client: &Client, job: &Job, options: &VerifyOptions, requests: &AtomicU64) -> Verification {
    let base = Verification {
        status: Status::Unknown,
        qualifier: None,
        detail: None,
        http_status: None,
        checked_at: now_rfc3339(),
        access: None,
    };
    let unknown = |detail: &str| Verification { detail: Some(detail.to_string()), ..base.clone() };
    let Some(spec) = &job.rule.spec.verify else {
        return unknown("no safe verification");
    };
    if let Some(reason) = &spec.unavailable {
        return unknown(reason);
    }
    if spec.uses_companion() && job.companion.is_none() {
        let name = job.rule.spec.companion.as_ref().map_or("other half", |c| c.name.as_str());
        return unknown(&format!("not verified: the {name} was not found near the key"));
    }
    let companion = job.companion.as_deref();
    let Some(target) = request_target(spec, &job.rule.spec.provider, options, &job.secret, companion) else {
        return unknown("the rule's verification URL is invalid");
    };
    let result = if spec.scheme.as_deref() == Some(AWS_STS) {
        check_aws(client, job, spec, &target, options, requests, &base)
    } else {
        let as_is = |text: &str| text.to_string();
        let fill = |template: &str| verify_spec::fill(template, &job.secret, companion, &as_is).unwrap_or_default();
        let headers: BTreeMap<String, String> = spec.headers.iter().map(|(k, v)| (k.clone(), fill(v))).collect();
        let body = spec.body.as_deref().map(fill);
        match exchange(client, spec, &spec.method, &target.url, &headers, body.as_deref(), options, requests, &base) {
            Outcome::Settled(v) => v,
            Outcome::Verdict(verdict, answer) => settle(spec, verdict, &answer, &target, &base),
        }
    };
    scrub(result, job)
}

/// The AWS pair check: never for a canary token's account, never for a
/// temporary id without its session token; each candidate secret in turn
/// while AWS says the signature (not the key id) is wrong.
fn check_aws(
    client: &Client,
    job: &Job,
    spec: &VerifySpec,
    target: &Target,
    options: &VerifyOptions,
    requests: &AtomicU64,
    base: &Verification,
) -> Verification {
    let unknown = |detail: &str| Verification { detail: Some(detail.to_string()), ..base.clone() };
    if aws::is_canary(&job.secret) {
        return Verification {
            qualifier: Some("canary".into()),
            ..unknown("canary token; calling it alerts its owner")
        };
    }
    if job.pairs.is_empty() {
        return unknown("not verified: the other half of the key pair is not in the same file");
    }
    if aws::is_temporary(&job.secret) && job.session.is_none() {
        return unknown(
            "not verified: a temporary (ASIA) access key id is checked only together with its session token \
             (aws_session_token, AWS_SESSION_TOKEN), and none was found nearby",
        );
    }
    let mut last = None;
    for (n, (candidate, line)) in job.pairs.iter().enumerate() {
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
        let headers: BTreeMap<String, String> =
            aws::sts_headers(&job.secret, candidate, job.session.as_deref(), &amz_date).into_iter().collect();
        match exchange(client, spec, "POST", &target.url, &headers, Some(aws::STS_BODY), options, requests, base) {
            Outcome::Settled(v) => return v,
            Outcome::Verdict(verdict, answer) => {
                let mut v = settle(spec, verdict, &answer, target, base);
                if verdict.next_candidate {
                    let tried = n + 1;
                    let note = v.detail.take().unwrap_or_else(|| "the signature did not match".into());
                    v.detail = Some(format!(
                        "{note} (tried {tried} secret access key{} found nearby)",
                        if tried == 1 { "" } else { "s" }
                    ));
                    last = Some(v);
                    continue;
                }
                if v.status == Status::Live {
                    v.detail = v.detail.or_else(|| aws::arn(&answer.body).map(str::to_string));
                    if n > 0 {
                        let matched = format!("signed with the secret access key on line {line}");
                        v.detail = Some(v.detail.map_or(matched.clone(), |d| format!("{d} ({matched})")));
                    }
                }
                return v;
            }
        }
    }
    last.unwrap_or_else(|| unknown("not verified"))
}

/// What one exchange (with its retries) came to.
enum Outcome<'s> {
    /// A verdict of the rule matched this answer.
    Verdict(&'s Verdict, Answer),
    /// No verdict: a failure, or an answer none covers (`unknown`).
    Settled(Verification),
}

/// Sends one request, retrying 429 and 5xx answers no verdict covers.
#[allow(clippy::too_many_arguments)]
fn exchange<'s>(
    client: &Client,
    spec: &'s VerifySpec,
    method: &str,
    url: &str,
    headers: &BTreeMap<String, String>,
    body: Option<&str>,
    options: &VerifyOptions,
    requests: &AtomicU64,
    base: &Verification,
) -> Outcome<'s> {
    let unknown = |detail: String, http_status: Option<u16>| {
        Outcome::Settled(Verification { detail: Some(detail), http_status, ..base.clone() })
    };
    let mut attempt = 0;
    loop {
        requests.fetch_add(1, Ordering::Relaxed);
        let answer = match client.send(method, url, headers, body) {
            Ok(a) => a,
            Err(Failure::Timeout) => return unknown(format!("timed out after {:?}", options.timeout), None),
            Err(failure) => return unknown(failure.to_string(), None),
        };
        let json = spec.parse(&answer.body);
        let reply = Reply { status: answer.status, body: &answer.body, json: json.as_ref(), headers: &answer.headers };
        if let Some(verdict) = spec.verdict(&reply) {
            return Outcome::Verdict(verdict, answer);
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

/// The verification a verdict gives: its status and qualifier (`{host}`
/// filled in), its note or a default detail, and for live keys what the
/// answer tells about their access.
fn settle(spec: &VerifySpec, verdict: &Verdict, answer: &Answer, target: &Target, base: &Verification) -> Verification {
    let json = spec.parse(&answer.body);
    let reply = Reply { status: answer.status, body: &answer.body, json: json.as_ref(), headers: &answer.headers };
    let with_host = |text: &str| text.replace("{host}", &target.host);
    let note = verdict.note.as_deref().map(with_host);
    let detail = match verdict.result {
        Status::Live => match (note, spec.details(json.as_ref())) {
            (Some(n), Some(d)) => Some(format!("{n}; {d}")),
            (n, d) => n.or(d),
        },
        Status::Invalid => {
            Some(note.unwrap_or_else(|| format!("the provider rejected the key (HTTP {})", answer.status)))
        }
        Status::Unknown => Some(note.unwrap_or_else(|| format!("HTTP {}: not a verdict on the key", answer.status))),
    };
    let access: Option<Access> = match verdict.result {
        Status::Live => spec.access.as_ref().and_then(|a| a.read(&reply)),
        _ => None,
    };
    Verification {
        status: verdict.result,
        qualifier: verdict.qualifier.as_deref().map(with_host),
        detail,
        http_status: Some(answer.status),
        access,
        ..base.clone()
    }
}

/// A provider may echo what it was sent: no part of the job's secrets
/// stays in what is reported.
fn scrub(mut v: Verification, job: &Job) -> Verification {
    let secrets: Vec<&str> = std::iter::once(job.secret.as_str())
        .chain(job.pairs.iter().map(|(p, _)| p.as_str()))
        .chain(job.session.as_deref())
        .filter(|s| s.len() >= 8)
        .collect();
    let clean = |text: &mut String| {
        for s in &secrets {
            if text.contains(s) {
                *text = text.replace(s, "*****");
            }
        }
    };
    if let Some(d) = v.detail.as_mut() {
        clean(d);
    }
    if let Some(a) = v.access.as_mut() {
        for field in [&mut a.identity, &mut a.account, &mut a.expires].into_iter().flatten() {
            clean(field);
        }
        a.scopes.iter_mut().for_each(&clean);
        a.facts.values_mut().for_each(&clean);
    }
    v
}

/// The official URL (with `{secret}` and `{companion}` filled in, for the
/// few providers that take them in the path or query; the host is fixed by
/// `VerifySpec::validate`), moved to the user's own instance
/// (`--github-api`, `--gitlab-url`) for that provider, then to its loopback
/// override if any.
fn request_target(
    spec: &VerifySpec,
    provider: &str,
    options: &VerifyOptions,
    secret: &str,
    companion: Option<&str>,
) -> Option<Target> {
    let official = url::Url::parse(&verify_spec::fill(&spec.url, secret, companion, &url_encode)?).ok()?;
    if official.scheme() != "https" {
        return None;
    }
    let (url, host) = match options.instances.iter().find(|i| i.provider == provider) {
        Some(instance) => (instance.apply(&official)?, instance.host()),
        None => {
            let host = official.host_str()?.to_ascii_lowercase();
            (official, host)
        }
    };
    let url = match options.overrides.iter().find(|o| o.provider == provider) {
        Some(o) => o.apply(&url),
        None => url.to_string(),
    };
    Some(Target { url, host })
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
