//! `--verify` against a mock of the providers on loopback: verdicts, retries,
//! timeouts, redirects, deduplication, and the safety rules (no network
//! without `--verify`, overrides only to loopback, a repository's config
//! cannot add or redirect a verification).

use crate::common;

use std::collections::HashMap;
use std::fs;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use assert_cmd::Command;
use serde_json::Value;

use crate::common::key;
use crate::common::mock::{Mock, Reply, Request};

/// What the mock does for one key.
#[derive(Clone, Copy, Debug)]
enum Behaviour {
    Live,
    Invalid,
    NoQuota,
    RateLimitedOnce,
    Unavailable,
    Hang,
    Redirect,
    Restricted,
}

/// Plays OpenAI (`/openai/v1/models`), Anthropic (`/anthropic/v1/models`)
/// and Google (`/google/v1beta/models`) with their real auth headers and
/// error bodies; any other path is a 404 the tests treat as a leak.
fn provider_mock(behaviours: HashMap<String, Behaviour>) -> Mock {
    let seen: Mutex<HashMap<String, usize>> = Mutex::new(HashMap::new());
    Mock::start(move |req: &Request| {
        let secret = match req.path.as_str() {
            "/openai/v1/models" => req.header("authorization").and_then(|a| a.strip_prefix("Bearer ")),
            "/anthropic/v1/models" if req.header("anthropic-version") == Some("2023-06-01") => req.header("x-api-key"),
            "/google/v1beta/models" => req.header("x-goog-api-key"),
            _ => return Reply::new(404, r#"{"error":"unexpected path"}"#),
        };
        let secret = secret.unwrap_or_default().to_string();
        let count = {
            let mut seen = seen.lock().unwrap();
            let n = seen.entry(secret.clone()).or_insert(0);
            *n += 1;
            *n
        };
        let google = req.path.starts_with("/google");
        match behaviours.get(&secret).copied() {
            Some(Behaviour::Live) => {
                Reply::new(200, r#"{"object":"list","data":[{"id":"gpt-4o","owned_by":"acme-org"}]}"#)
            }
            Some(Behaviour::NoQuota) => Reply::new(
                429,
                r#"{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}}"#,
            ),
            Some(Behaviour::RateLimitedOnce) if count == 1 => {
                Reply::new(429, r#"{"error":{"type":"requests","code":"rate_limit_exceeded"}}"#)
                    .header("Retry-After", "0")
            }
            Some(Behaviour::RateLimitedOnce) => Reply::new(200, r#"{"data":[]}"#),
            Some(Behaviour::Unavailable) => Reply::new(503, r#"{"error":"overloaded"}"#),
            Some(Behaviour::Hang) => Reply::new(200, "{}").delay(Duration::from_secs(3)),
            Some(Behaviour::Redirect) => Reply::new(302, "").header("Location", "http://198.51.100.7/steal"),
            Some(Behaviour::Restricted) => Reply::new(
                403,
                r#"{"error":{"code":403,"message":"Requests from referer <empty> are blocked.","status":"PERMISSION_DENIED","details":[{"reason":"API_KEY_HTTP_REFERRER_BLOCKED"}]}}"#,
            ),
            Some(Behaviour::Invalid) | None if google => Reply::new(
                400,
                r#"{"error":{"code":400,"message":"API key not valid.","status":"INVALID_ARGUMENT","details":[{"reason":"API_KEY_INVALID"}]}}"#,
            ),
            Some(Behaviour::Invalid) | None => {
                Reply::new(401, r#"{"error":{"type":"authentication_error","message":"invalid x-api-key"}}"#)
            }
        }
    })
}

fn endpoints(mock: &Mock) -> Vec<String> {
    ["openai", "anthropic", "google"]
        .iter()
        .flat_map(|p| ["--verify-endpoint".to_string(), format!("{p}={}", mock.url(&format!("/{p}")))])
        .collect()
}

fn run(dir: &Path, args: &[String]) -> (i32, Value, String) {
    let out = Command::cargo_bin("leakhound")
        .unwrap()
        .args(["scan", "--format", "json"])
        .args(args)
        .arg(dir)
        .output()
        .unwrap();
    let doc = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code().unwrap(), doc, String::from_utf8_lossy(&out.stderr).into_owned())
}

fn verdict(doc: &Value, path: &str) -> (String, Option<String>) {
    let f = doc["findings"].as_array().unwrap().iter().find(|f| f["path"] == path).unwrap();
    let v = &f["verification"];
    (v["status"].as_str().unwrap().to_string(), v["qualifier"].as_str().map(str::to_string))
}

#[test]
fn verdicts_for_each_kind_of_answer() {
    let cases = [
        ("live.env", "openai-project", Behaviour::Live, "live", None),
        ("invalid.env", "openai-project", Behaviour::Invalid, "invalid", None),
        ("noquota.env", "openai-project", Behaviour::NoQuota, "live", Some("no-quota")),
        ("retried.env", "anthropic-api", Behaviour::RateLimitedOnce, "live", None),
        ("down.env", "anthropic-api", Behaviour::Unavailable, "unknown", None),
        ("hang.env", "openai-project", Behaviour::Hang, "unknown", None),
        ("redirect.env", "anthropic-api", Behaviour::Redirect, "unknown", None),
        ("referrer.env", "google", Behaviour::Restricted, "live", Some("restricted")),
        ("badgoogle.env", "google", Behaviour::Invalid, "invalid", None),
    ];
    let dir = tempfile::tempdir().unwrap();
    let mut behaviours = HashMap::new();
    for (n, (file, format, behaviour, ..)) in cases.iter().enumerate() {
        let k = key(format, 100 + n as u64);
        fs::write(dir.path().join(file), format!("KEY={k}\n")).unwrap();
        behaviours.insert(k, *behaviour);
    }
    let mock = provider_mock(behaviours);
    let mut args = vec!["--verify".to_string(), "--verify-timeout".into(), "1".into()];
    args.extend(endpoints(&mock));
    let (code, doc, stderr) = run(dir.path(), &args);
    assert_eq!(code, 1, "{stderr}");
    for (file, _, _, status, qualifier) in cases {
        assert_eq!(verdict(&doc, file), (status.to_string(), qualifier.map(str::to_string)), "{file}");
    }
    let requests = mock.requests();
    assert!(requests.iter().all(|r| r.path != "/steal"), "redirect was followed");
    assert!(requests.iter().all(|r| !r.path.contains("unexpected")));
    // Retried once after the 429; the 503 retried twice more; all others once.
    assert_eq!(requests.len(), cases.len() + 1 + 2, "{:?}", requests.iter().map(|r| &r.path).collect::<Vec<_>>());
    let hang = doc["findings"].as_array().unwrap().iter().find(|f| f["path"] == "hang.env").unwrap();
    assert!(hang["verification"]["detail"].as_str().unwrap().contains("timed out"));
    // Secrets never appear in the reasons.
    for f in doc["findings"].as_array().unwrap() {
        let detail = f["verification"]["detail"].as_str().unwrap_or_default();
        assert!(!detail.contains("sk-") && !detail.contains("AIza"), "{detail}");
    }
    assert_eq!(doc["stats"]["verification"]["unique_secrets"], cases.len());
}

#[test]
fn the_same_key_in_twenty_places_is_checked_once() {
    let dir = tempfile::tempdir().unwrap();
    let k = key("openai-project", 7);
    for n in 0..20 {
        fs::write(dir.path().join(format!("f{n}.py")), format!("KEY = \"{k}\"\n")).unwrap();
    }
    let mock = provider_mock(HashMap::from([(k.clone(), Behaviour::Live)]));
    let mut args = vec!["--verify".to_string()];
    args.extend(endpoints(&mock));
    let (_, doc, _) = run(dir.path(), &args);
    assert_eq!(mock.requests().len(), 1);
    let findings = doc["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 20);
    assert!(findings.iter().all(|f| f["verification"]["status"] == "live"));
    assert_eq!(findings[0]["verification"]["detail"], "owned_by=acme-org");
}

#[test]
fn no_request_without_verify() {
    let dir = tempfile::tempdir().unwrap();
    let k = key("openai-project", 8);
    fs::write(dir.path().join("a.env"), format!("K={k}\n")).unwrap();
    let mock = provider_mock(HashMap::from([(k, Behaviour::Live)]));
    let (code, doc, _) = run(dir.path(), &endpoints(&mock));
    assert_eq!(code, 1);
    assert!(doc["findings"][0].get("verification").is_none());
    assert_eq!(mock.requests().len(), 0);
}

#[test]
fn non_loopback_endpoints_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    for bad in ["openai=https://api.evil.example/", "openai=http://10.1.2.3:8080", "openai=http://169.254.169.254/"] {
        let (code, _, stderr) = run(dir.path(), &["--verify".into(), "--verify-endpoint".into(), bad.into()]);
        assert_eq!(code, 2, "{bad}");
        assert!(stderr.contains("loopback"), "{stderr}");
    }
}

#[test]
fn a_repository_config_cannot_add_or_redirect_verification() {
    let dir = tempfile::tempdir().unwrap();
    let k = key("openai-project", 9);
    let custom = key("github-classic", 10).replace("ghp_", "acme_");
    let counter = std::sync::Arc::new(AtomicUsize::new(0));
    let hits = std::sync::Arc::clone(&counter);
    let evil = Mock::start(move |_| {
        hits.fetch_add(1, Ordering::SeqCst);
        Reply::new(200, "{}")
    });
    fs::write(
        dir.path().join(".leakhound.toml"),
        format!(
            r#"verify_endpoint = "openai={evil}"

[[rule]]
id = "acme-token"
provider = "acme"
name = "ACME token"
pattern = '''(?P<secret>acme_[A-Za-z0-9]{{36}})'''
keywords = ["acme_"]
rotate_url = "https://acme.example/tokens"
[rule.verify]
url = "https://api.acme.example/check"
headers = {{ Authorization = "Bearer {{secret}}" }}
verdicts = [{{ status = 200, result = "live" }}]
"#,
            evil = evil.url("/steal")
        ),
    )
    .unwrap();
    fs::write(dir.path().join("keys.env"), format!("A={k}\nB={custom}\n")).unwrap();
    let mock = provider_mock(HashMap::from([(k, Behaviour::Live)]));
    let mut args = vec!["--verify".to_string()];
    args.extend(endpoints(&mock));
    let (code, doc, stderr) = run(dir.path(), &args);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("verify_endpoint") && stderr.contains("ignored"), "{stderr}");
    assert!(stderr.contains("acme-token") && stderr.contains("only built-in rules may verify"), "{stderr}");
    assert_eq!(counter.load(Ordering::SeqCst), 0, "a key went to the config's endpoint");
    let acme = doc["findings"].as_array().unwrap().iter().find(|f| f["rule_id"] == "acme-token").unwrap();
    assert_eq!(acme["verification"]["status"], "unknown");
    assert_eq!(acme["verification"]["detail"], "no safe verification");
    assert_eq!(mock.requests().len(), 1, "only the OpenAI key, to the OpenAI mock");
}

#[test]
fn fail_on_live_and_the_rotation_report() {
    let dir = tempfile::tempdir().unwrap();
    let live = key("openai-project", 11);
    let dead = key("anthropic-api", 12);
    fs::create_dir(dir.path().join("src")).unwrap();
    fs::write(dir.path().join("server.py"), format!("K = '{dead}'\n")).unwrap();
    fs::write(dir.path().join("src/app.js"), format!("const k = '{live}';\n")).unwrap();
    let mock = provider_mock(HashMap::from([(live.clone(), Behaviour::Live), (dead.clone(), Behaviour::Invalid)]));
    let mut args = vec!["--verify".to_string(), "--fail-on".into(), "live".into(), "--format".into(), "text".into()];
    args.extend(endpoints(&mock));
    let out = common::command().arg("scan").args(&args).arg(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    let rotate = text.find("Rotate now").expect("rotation section");
    let live_at = text.find("1. LIVE [CLIENT-SIDE]  openai").expect("live client-side key first");
    let dead_at = text.find("2. INVALID  anthropic").expect("invalid key last");
    assert!(rotate < live_at && live_at < dead_at, "{text}");
    assert!(text.contains("at src/app.js:1"), "{text}");

    // With the live key gone, --fail-on live passes even though a key remains.
    fs::remove_file(dir.path().join("src/app.js")).unwrap();
    let out = common::command().arg("scan").args(&args).arg(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn the_cache_answers_without_asking_again() {
    let dir = tempfile::tempdir().unwrap();
    let k = key("openai-project", 13);
    fs::write(dir.path().join("a.env"), format!("K={k}\n")).unwrap();
    let cache = dir.path().join("cache.json");
    let mock = provider_mock(HashMap::from([(k.clone(), Behaviour::Live)]));
    let mut args = vec!["--verify".to_string(), "--verify-cache".into(), cache.display().to_string()];
    args.extend(endpoints(&mock));
    let scan_dir = dir.path().join("scan");
    fs::create_dir(&scan_dir).unwrap();
    fs::rename(dir.path().join("a.env"), scan_dir.join("a.env")).unwrap();
    let (_, first, _) = run(&scan_dir, &args);
    let (_, second, _) = run(&scan_dir, &args);
    assert_eq!(mock.requests().len(), 1);
    assert_eq!(first["findings"][0]["verification"], second["findings"][0]["verification"]);
    assert_eq!(second["stats"]["verification"]["from_cache"], 1);
    let stored = fs::read_to_string(&cache).unwrap();
    assert!(!stored.contains(&k), "the cache holds the secret");
}

#[test]
fn aws_key_pairs_are_checked_with_a_signed_sts_call() {
    let dir = tempfile::tempdir().unwrap();
    let (live_id, live_secret) = (key("aws-id", 30), key("aws-secret", 31));
    let (dead_id, dead_secret) = (key("aws-id", 32), key("aws-secret", 33));
    let lonely = key("aws-id", 34);
    fs::write(
        dir.path().join("credentials"),
        format!(
            "[default]\naws_access_key_id = {live_id}\naws_secret_access_key = {live_secret}\n\n\
             [old]\naws_access_key_id = {dead_id}\naws_secret_access_key = {dead_secret}\n"
        ),
    )
    .unwrap();
    fs::write(dir.path().join("ids.txt"), format!("id only: {lonely}\n")).unwrap();
    let live = live_id.clone();
    let mock = Mock::start(move |req: &Request| {
        let auth = req.header("authorization").unwrap_or_default();
        let signed = auth.starts_with("AWS4-HMAC-SHA256 Credential=")
            && auth.contains("/us-east-1/sts/aws4_request")
            && auth.contains("SignedHeaders=content-type;host;x-amz-date")
            && req.header("x-amz-date").is_some();
        if req.path != "/aws/"
            || req.method != "POST"
            || req.body != "Action=GetCallerIdentity&Version=2011-06-15"
            || !signed
        {
            return Reply::new(400, "<Error><Code>BadRequest</Code></Error>");
        }
        if auth.contains(&format!("Credential={live}/")) {
            Reply::new(
                200,
                "<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/ci</Arn></GetCallerIdentityResult></GetCallerIdentityResponse>",
            )
        } else {
            Reply::new(403, "<ErrorResponse><Error><Code>InvalidClientTokenId</Code></Error></ErrorResponse>")
        }
    });
    let args = vec!["--verify".to_string(), "--verify-endpoint".into(), format!("aws={}", mock.url("/aws"))];
    let (_, doc, stderr) = run(dir.path(), &args);
    let status = |secret: &str| {
        let f = doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            // An access key id beside its secret is named (masked) by the secret's finding.
            .find(|f| {
                let masked = format!("{}...{}", &secret[..4], &secret[secret.len() - 4..]);
                f["secret_sha256"] == sha(secret) || f["companion"]["value"] == masked.as_str()
            })
            .unwrap_or_else(|| panic!("{stderr}"));
        (
            f["verification"]["status"].as_str().unwrap().to_string(),
            f["verification"]["detail"].as_str().unwrap_or_default().to_string(),
        )
    };
    assert_eq!(status(&live_id), ("live".into(), "arn:aws:iam::123456789012:user/ci".into()));
    assert_eq!(status(&live_secret).0, "live", "both halves share the verdict");
    assert_eq!(status(&dead_id).0, "invalid");
    assert!(status(&lonely).1.contains("other half"), "{:?}", status(&lonely));
    assert_eq!(mock.requests().len(), 2, "one signed request per pair");
}

use crate::common::sha256 as sha;
