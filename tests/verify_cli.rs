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
            // An access key id beside its secret is named by the secret's
            // finding (and masked there like a key: `AKIA...7B7J`).
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

// ---------------------------------------------------------------------------
// Verdicts a responder can act on: parsed JSON, qualifiers, what a live key
// can do (`verification.access`), AWS pairs, instances, attribution by host.
// ---------------------------------------------------------------------------

/// `--verify` with PROVIDER's checks sent to `mock` under `/PROVIDER`.
fn verify_args(mock: &Mock, providers: &[&str]) -> Vec<String> {
    let mut args = vec!["--verify".to_string(), "--verify-timeout".into(), "2".into()];
    for p in providers {
        args.extend(["--verify-endpoint".to_string(), format!("{p}={}", mock.url(&format!("/{p}")))]);
    }
    args
}

use crate::common::finding_at as finding;

fn bearer(req: &Request) -> String {
    req.header("authorization").and_then(|a| a.strip_prefix("Bearer ")).unwrap_or_default().to_string()
}

#[test]
fn slack_answers_are_read_as_json_with_what_the_token_can_do() {
    let dir = tempfile::tempdir().unwrap();
    let names = ["spaced.env", "admin.env", "revoked.env", "allowlist.env", "limited.env"];
    let tokens: Vec<String> = (0..names.len() as u64).map(|n| key("slack-bot", 300 + n)).collect();
    for (name, token) in names.iter().zip(&tokens) {
        fs::write(dir.path().join(name), format!("SLACK_BOT_TOKEN={token}\n")).unwrap();
    }
    let t = tokens.clone();
    let mock = Mock::start(move |req: &Request| {
        if req.path != "/slack/api/auth.test" || req.method != "POST" {
            return Reply::new(404, r#"{"ok":false,"error":"unknown_method"}"#);
        }
        let token = bearer(req);
        if token == t[0] {
            // Pretty-printed, as a proxy or another client library may return it.
            Reply::new(200, "{\n  \"ok\": true,\n  \"team\": \"Acme\",\n  \"user\": \"deploy-bot\"\n}")
                .header("x-oauth-scopes", "chat:write,channels:read")
        } else if token == t[1] {
            Reply::new(200, r#"{"ok":true,"team":"Acme Grid","user":"org-bot","is_enterprise_install":true}"#)
                .header("x-oauth-scopes", "channels:read")
        } else if token == t[2] {
            Reply::new(200, r#"{ "ok": false, "error": "token_revoked" }"#)
        } else if token == t[3] {
            Reply::new(200, r#"{"ok":false,"error":"invalid_auth"}"#)
        } else {
            Reply::new(200, r#"{"ok":false,"error":"ratelimited","warning":"\"ok\":true"}"#)
        }
    });
    let (code, doc, stderr) = run(dir.path(), &verify_args(&mock, &["slack"]));
    assert_eq!(code, 1, "{stderr}");
    let live = &finding(&doc, "spaced.env")["verification"];
    assert_eq!(live["status"], "live", "{live:#}");
    assert_eq!(live["access"]["identity"], "deploy-bot");
    assert_eq!(live["access"]["account"], "Acme");
    assert_eq!(live["access"]["scopes"], serde_json::json!(["chat:write", "channels:read"]));
    assert_eq!(live["access"]["level"], "write");
    let admin = &finding(&doc, "admin.env")["verification"];
    assert_eq!((admin["access"]["level"].as_str(), admin["access"]["admin"].as_bool()), (Some("admin"), Some(true)));
    assert_eq!(verdict(&doc, "revoked.env"), ("invalid".into(), None));
    let allowlist = &finding(&doc, "allowlist.env")["verification"];
    assert_eq!(allowlist["status"], "invalid");
    assert!(allowlist["detail"].as_str().unwrap().contains("IP allowlist"), "{allowlist:#}");
    // A quoted `"ok":true` inside another field is not the `ok` field.
    assert_eq!(verdict(&doc, "limited.env").0, "unknown");
    let requests = mock.requests();
    assert_eq!(requests.len(), names.len());
    for r in &requests {
        assert_eq!(r.header("content-length"), Some("0"), "an empty POST says so: {:?}", r.headers);
        assert!(r.body.is_empty());
    }
}

#[test]
fn github_scopes_expiry_and_an_invalid_that_only_holds_on_github_com() {
    let dir = tempfile::tempdir().unwrap();
    let admin = key("github-classic", 400);
    let writer = key("github-classic", 401);
    let reader = key("github-classic", 402);
    let fine = key("github-fine", 403);
    let dead = key("github-classic", 404);
    for (name, token) in [("admin", &admin), ("writer", &writer), ("reader", &reader), ("fine", &fine), ("dead", &dead)]
    {
        fs::write(dir.path().join(format!("{name}.env")), format!("GITHUB_TOKEN={token}\n")).unwrap();
    }
    let (a, w, r, f) = (admin.clone(), writer.clone(), reader.clone(), fine.clone());
    let mock = Mock::start(move |req: &Request| {
        if req.path != "/github/user" || req.header("x-github-api-version").is_none() {
            return Reply::new(404, r#"{"message":"Not Found"}"#);
        }
        let token = bearer(req);
        let user = |login: &str| Reply::new(200, &format!(r#"{{"login":"{login}","site_admin":false}}"#));
        if token == a {
            user("octo-admin")
                .header("X-OAuth-Scopes", "repo, admin:org")
                .header("github-authentication-token-expiration", "2026-09-01 00:00:00 UTC")
        } else if token == w {
            user("octo-writer").header("X-OAuth-Scopes", "repo, read:org")
        } else if token == r {
            user("octo-reader").header("X-OAuth-Scopes", "read:user, user:email")
        } else if token == f {
            user("octo-fine")
        } else {
            Reply::new(401, r#"{"message":"Bad credentials","status":"401"}"#)
        }
    });
    let (_, doc, stderr) = run(dir.path(), &verify_args(&mock, &["github"]));
    let access = |path: &str| finding(&doc, path)["verification"]["access"].clone();
    assert_eq!(access("admin.env")["scopes"], serde_json::json!(["repo", "admin:org"]), "{stderr}");
    assert_eq!(access("admin.env")["expires"], "2026-09-01 00:00:00 UTC");
    assert_eq!(access("admin.env")["level"], "admin");
    assert_eq!(access("admin.env")["identity"], "octo-admin");
    assert_eq!(access("writer.env")["level"], "write");
    assert_eq!(access("reader.env")["level"], "read");
    assert_eq!(access("fine.env")["identity"], "octo-fine");
    assert!(access("fine.env").get("level").is_none(), "fine-grained tokens send no scopes");
    let dead_v = &finding(&doc, "dead.env")["verification"];
    assert_eq!((dead_v["status"].as_str(), dead_v["qualifier"].as_str()), (Some("invalid"), Some("on api.github.com")));
    assert!(dead_v["detail"].as_str().unwrap().contains("--github-api"), "{dead_v:#}");

    // The rotation plan: admin, write, not told, read-only, then the invalid one.
    let mut args = verify_args(&mock, &["github"]);
    args.extend(["--format".to_string(), "text".into()]);
    let out = common::command().arg("scan").args(&args).arg(dir.path()).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let at = |needle: &str| text.find(needle).unwrap_or_else(|| panic!("{needle} not in:\n{text}"));
    let order = [
        at("at admin.env:1"),
        at("at writer.env:1"),
        at("at fine.env:1"),
        at("at reader.env:1"),
        at("INVALID (on api.github.com)"),
    ];
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{text}");
    assert!(
        text.contains("access: admin · identity octo-admin · scopes repo, admin:org · expires 2026-09-01"),
        "{text}"
    );
}

#[test]
fn a_github_enterprise_or_gitlab_instance_is_asked_instead_and_only_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let gh = key("github-classic", 410);
    let gl = key("gitlab", 411);
    fs::write(dir.path().join("tokens.env"), format!("GH={gh}\n")).unwrap();
    fs::write(dir.path().join("gitlab.env"), format!("GL={gl}\n")).unwrap();
    let mock = Mock::start(|req: &Request| match req.path.as_str() {
        "/gh/api/v3/user" => Reply::new(401, r#"{"message":"Bad credentials"}"#),
        "/gl/api/v4/personal_access_tokens/self" => {
            Reply::new(200, r#"{"name":"ci","scopes":["read_api"],"user_id":7,"expires_at":null}"#)
        }
        _ => Reply::new(404, "{}"),
    });
    let args: Vec<String> = [
        "--verify",
        "--github-api",
        "https://ghe.example.test/api/v3",
        "--gitlab-url",
        "https://gitlab.example.test",
        "--verify-endpoint",
        &format!("github={}", mock.url("/gh")),
        "--verify-endpoint",
        &format!("gitlab={}", mock.url("/gl")),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let (_, doc, stderr) = run(dir.path(), &args);
    let paths: Vec<String> = mock.requests().iter().map(|r| r.path.clone()).collect();
    assert!(paths.contains(&"/gh/api/v3/user".to_string()), "{paths:?} {stderr}");
    let v = &finding(&doc, "tokens.env")["verification"];
    assert_eq!((v["status"].as_str(), v["qualifier"].as_str()), (Some("invalid"), Some("on ghe.example.test")));
    let gl_v = &finding(&doc, "gitlab.env")["verification"];
    assert_eq!(gl_v["status"], "live");
    assert_eq!(gl_v["access"]["level"], "read");
    let notes = doc["notes"].as_array().unwrap();
    assert!(
        notes.iter().any(|n| n.as_str().unwrap().contains("https://ghe.example.test/api/v3 (--github-api)")),
        "{notes:?}"
    );
    assert!(notes.iter().any(|n| n.as_str().unwrap().contains("--gitlab-url")), "{notes:?}");

    // HTTPS only.
    let (code, _, stderr) =
        run(dir.path(), &["--verify".into(), "--github-api".into(), "http://ghe.example.test".into()]);
    assert_eq!(code, 2);
    assert!(stderr.contains("https://"), "{stderr}");
    // A repository's config cannot point tokens at an instance.
    fs::write(dir.path().join(".leakhound.toml"), "github_api = \"https://ghe.evil.example/api/v3\"\n").unwrap();
    let before = mock.requests().len();
    let args: Vec<String> = vec![
        "--verify".into(),
        "--verify-endpoint".into(),
        format!("github={}", mock.url("/github")),
        "--verify-endpoint".into(),
        format!("gitlab={}", mock.url("/gitlab")),
    ];
    let (_, doc, stderr) = run(dir.path(), &args);
    assert!(stderr.contains("github_api") && stderr.contains("ignored"), "{stderr}");
    let asked: Vec<String> = mock.requests()[before..].iter().map(|r| r.path.clone()).collect();
    assert!(asked.contains(&"/github/user".to_string()), "{asked:?}");
    assert!(doc["notes"].as_array().unwrap().iter().all(|n| !n.as_str().unwrap().contains("(--github-api)")));
}

#[test]
fn gitlab_names_why_a_token_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("live.env", "live", None, Some("write")),
        ("revoked.env", "invalid", None, None),
        ("expired.env", "invalid", None, None),
        ("unknown-here.env", "invalid", Some("on gitlab.com"), None),
        ("bare401.env", "unknown", None, None),
        ("scope.env", "live", Some("restricted"), None),
        ("blocked.env", "live", Some("restricted"), None),
    ];
    let tokens: Vec<String> = (0..cases.len() as u64).map(|n| key("gitlab", 420 + n)).collect();
    for ((file, ..), token) in cases.iter().zip(&tokens) {
        fs::write(dir.path().join(file), format!("GITLAB_TOKEN={token}\n")).unwrap();
    }
    let t = tokens.clone();
    let mock = Mock::start(move |req: &Request| {
        if req.path != "/gitlab/api/v4/personal_access_tokens/self" {
            return Reply::new(404, "{}");
        }
        let token = req.header("private-token").unwrap_or_default();
        let n = t.iter().position(|k| k == token).unwrap_or(usize::MAX);
        match n {
            0 => Reply::new(
                200,
                r#"{"id":1,"name":"deploy","revoked":false,"scopes":["api","read_user"],"user_id":42,"active":true,"expires_at":"2026-12-31"}"#,
            ),
            1 => Reply::new(
                401,
                r#"{"error":"invalid_token","error_description":"Token was revoked. You have to re-authorize from the user."}"#,
            ),
            2 => Reply::new(
                401,
                r#"{"error":"invalid_token","error_description":"Token is expired. You can either do re-authorization or token refresh."}"#,
            ),
            3 => Reply::new(401, r#"{"error":"invalid_token","error_description":"Bad Access Token."}"#),
            4 => Reply::new(401, r#"{"message":"401 Unauthorized"}"#),
            5 => Reply::new(
                403,
                r#"{"error":"insufficient_scope","error_description":"The request requires higher privileges than provided by the access token.","scope":"api read_api"}"#,
            ),
            _ => Reply::new(403, r#"{"message":"403 Forbidden - Your account has been blocked."}"#),
        }
    });
    let (_, doc, stderr) = run(dir.path(), &verify_args(&mock, &["gitlab"]));
    for (file, status, qualifier, level) in cases {
        let v = &finding(&doc, file)["verification"];
        assert_eq!(v["status"].as_str(), Some(status), "{file}: {v:#} {stderr}");
        assert_eq!(v["qualifier"].as_str(), qualifier, "{file}: {v:#}");
        assert_eq!(v["access"]["level"].as_str(), level, "{file}: {v:#}");
    }
    let live = &finding(&doc, "live.env")["verification"]["access"];
    assert_eq!(live["scopes"], serde_json::json!(["api", "read_user"]));
    assert_eq!(live["expires"], "2026-12-31");
    assert!(finding(&doc, "bare401.env")["verification"]["detail"].as_str().unwrap().contains("--gitlab-url"));
}

#[test]
fn sendgrid_scopes_and_perplexity_says_why_401_is_no_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let (full, restricted) = (key("sendgrid", 430), key("sendgrid", 431));
    let pplx = key("perplexity", 432);
    fs::write(dir.path().join("full.env"), format!("SENDGRID_API_KEY={full}\n")).unwrap();
    fs::write(dir.path().join("restricted.env"), format!("SENDGRID_API_KEY={restricted}\n")).unwrap();
    fs::write(dir.path().join("pplx.env"), format!("PERPLEXITY_API_KEY={pplx}\n")).unwrap();
    let f = full.clone();
    let mock = Mock::start(move |req: &Request| match req.path.as_str() {
        "/sendgrid/v3/scopes" if bearer(req) == f => {
            Reply::new(200, r#"{"scopes": ["mail.send", "api_keys.create", "api_keys.read", "stats.read"]}"#)
        }
        "/sendgrid/v3/scopes" => Reply::new(403, r#"{"errors":[{"field":null,"message":"access forbidden"}]}"#),
        "/perplexity/v1/async/sonar" => Reply::new(401, r#"{"error":{"message":"Invalid API key"}}"#),
        _ => Reply::new(404, "{}"),
    });
    let (_, doc, stderr) = run(dir.path(), &verify_args(&mock, &["sendgrid", "perplexity"]));
    let full_v = &finding(&doc, "full.env")["verification"];
    assert_eq!(full_v["status"], "live", "{stderr}");
    assert_eq!(full_v["access"]["scopes"].as_array().unwrap().len(), 4);
    assert_eq!(full_v["access"]["level"], "admin", "a key that can create keys administers the account");
    assert_eq!(verdict(&doc, "restricted.env"), ("live".into(), Some("restricted".into())));
    let p = &finding(&doc, "pplx.env")["verification"];
    assert_eq!(p["status"], "unknown");
    assert!(p["detail"].as_str().unwrap().contains("without credit"), "{p:#}");
}

#[test]
fn access_of_stripe_openai_anthropic_and_hugging_face_keys() {
    let dir = tempfile::tempdir().unwrap();
    let stripe = key("stripe-live", 440);
    let project = key("openai-project", 441);
    let openai_admin = key("openai-admin", 442);
    let anthropic_admin = key("anthropic-admin", 443);
    let (hf_write, hf_read) = (key("huggingface", 444), key("huggingface", 445));
    for (file, k) in [
        ("stripe.env", &stripe),
        ("project.env", &project),
        ("openai-admin.env", &openai_admin),
        ("anthropic-admin.env", &anthropic_admin),
        ("hf-write.env", &hf_write),
        ("hf-read.env", &hf_read),
    ] {
        fs::write(dir.path().join(file), format!("KEY={k}\n")).unwrap();
    }
    let hw = hf_write.clone();
    let mock = Mock::start(move |req: &Request| match req.path.as_str() {
        "/stripe/v1/account" => Reply::new(
            200,
            r#"{"id":"acct_1Acme","object":"account","charges_enabled":true,"settings":{"dashboard":{"display_name":"Acme Inc"}}}"#,
        ),
        "/openai/v1/models" => Reply::new(200, r#"{"object":"list","data":[]}"#)
            .header("openai-organization", "acme-org")
            .header("openai-project", "proj_abc123"),
        "/openai/v1/organization/admin_api_keys?limit=1" => {
            Reply::new(200, r#"{"object":"list","data":[]}"#).header("openai-organization", "acme-org")
        }
        "/anthropic/v1/organizations/me" => {
            Reply::new(200, r#"{"id":"org-uuid-1","type":"organization","name":"Acme Research"}"#)
        }
        "/huggingface/api/whoami-v2" => {
            let role = if bearer(req) == hw { "write" } else { "read" };
            Reply::new(
                200,
                &format!(
                    r#"{{"type":"user","name":"hf-user","orgs":[{{"name":"acme"}},{{"name":"lab"}}],"auth":{{"type":"access_token","accessToken":{{"displayName":"ci","role":"{role}"}}}}}}"#
                ),
            )
        }
        _ => Reply::new(404, "{}"),
    });
    let (_, doc, stderr) = run(dir.path(), &verify_args(&mock, &["stripe", "openai", "anthropic", "huggingface"]));
    let access = |path: &str| finding(&doc, path)["verification"]["access"].clone();
    let s = access("stripe.env");
    assert_eq!((s["account"].as_str(), s["identity"].as_str()), (Some("acct_1Acme"), Some("Acme Inc")), "{stderr}");
    assert_eq!(s["facts"]["livemode"], "true");
    assert_eq!(s["level"], "admin", "a live secret key can do anything on the account");
    let p = access("project.env");
    assert_eq!((p["account"].as_str(), p["facts"]["project"].as_str()), (Some("acme-org"), Some("proj_abc123")));
    assert!(p.get("level").is_none());
    assert_eq!(
        (access("openai-admin.env")["admin"].as_bool(), access("openai-admin.env")["level"].as_str()),
        (Some(true), Some("admin"))
    );
    let a = access("anthropic-admin.env");
    assert_eq!((a["account"].as_str(), a["level"].as_str()), (Some("Acme Research"), Some("admin")));
    let hw = access("hf-write.env");
    assert_eq!(
        (hw["identity"].as_str(), hw["account"].as_str(), hw["level"].as_str()),
        (Some("hf-user"), Some("acme, lab"), Some("write"))
    );
    assert_eq!(access("hf-read.env")["level"], "read");

    // SARIF and HTML show it too.
    for (format, needle) in [("sarif", "\"access\""), ("html", "Access: admin")] {
        let mut args = verify_args(&mock, &["stripe", "openai", "anthropic", "huggingface"]);
        args.extend(["--format".to_string(), format.into()]);
        let out = common::command().arg("scan").args(&args).arg(dir.path()).output().unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains(needle), "{format}: {needle} missing");
        assert!(text.contains("acct_1Acme"), "{format}");
    }
}

#[test]
fn aws_temporary_keys_canaries_and_signatures_that_do_not_match() {
    let dir = tempfile::tempdir().unwrap();
    let temp_id = key("aws-temp-id", 450);
    let session = key("aws-session", 451);
    let lone_temp = key("aws-temp-id", 452);
    // Account 052310077262 (Thinkst Canarytokens), as the id encodes it.
    let canary = "AKIAAYLPMN5HAAJDIVTY".to_string();
    let (two, nomatch, skew, root) = (key("aws-id", 453), key("aws-id", 454), key("aws-id", 455), key("aws-id", 456));
    let s = |n: u64| key("aws-secret", 460 + n);
    let files = [
        (
            "temp.env",
            format!("AWS_ACCESS_KEY_ID={temp_id}\nAWS_SECRET_ACCESS_KEY={}\nAWS_SESSION_TOKEN={session}\n", s(0)),
        ),
        ("temp-alone.env", format!("AWS_ACCESS_KEY_ID={lone_temp}\nAWS_SECRET_ACCESS_KEY={}\n", s(1))),
        ("canary.env", format!("aws_access_key_id = {canary}\naws_secret_access_key = {}\n", s(2))),
        (
            "two.env",
            format!(
                "aws_access_key_id = {two}\naws_secret_access_key = {}\n# the rotated secret:\naws_secret_access_key = {}\n",
                s(3),
                s(4)
            ),
        ),
        ("nomatch.env", format!("aws_access_key_id = {nomatch}\naws_secret_access_key = {}\n", s(5))),
        ("skew.env", format!("aws_access_key_id = {skew}\naws_secret_access_key = {}\n", s(6))),
        ("root.env", format!("aws_access_key_id = {root}\naws_secret_access_key = {}\n", s(7))),
    ];
    for (name, text) in &files {
        fs::write(dir.path().join(name), text).unwrap();
    }
    let (t_id, t_session, two_id, nm, sk, rt) =
        (temp_id.clone(), session.clone(), two.clone(), nomatch.clone(), skew.clone(), root.clone());
    let tries = std::sync::Arc::new(AtomicUsize::new(0));
    let two_tries = std::sync::Arc::clone(&tries);
    let mock = Mock::start(move |req: &Request| {
        let auth = req.header("authorization").unwrap_or_default();
        let id = auth.split("Credential=").nth(1).and_then(|c| c.split('/').next()).unwrap_or_default();
        let ok = |arn: &str| {
            Reply::new(
                200,
                &format!(
                    "<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>{arn}</Arn><UserId>AIDA</UserId><Account>123456789012</Account></GetCallerIdentityResult></GetCallerIdentityResponse>"
                ),
            )
        };
        let mismatch = |message: &str| {
            Reply::new(
                403,
                &format!(
                    "<ErrorResponse><Error><Type>Sender</Type><Code>SignatureDoesNotMatch</Code><Message>{message}</Message></Error></ErrorResponse>"
                ),
            )
        };
        if id == t_id {
            let signed = auth.contains("SignedHeaders=content-type;host;x-amz-date;x-amz-security-token");
            if signed && req.header("x-amz-security-token") == Some(t_session.as_str()) {
                return ok("arn:aws:sts::123456789012:assumed-role/deploy/ci");
            }
            return Reply::new(403, "<ErrorResponse><Error><Code>InvalidClientTokenId</Code></Error></ErrorResponse>");
        }
        if id == two_id {
            return match two_tries.fetch_add(1, Ordering::SeqCst) {
                0 => mismatch("The request signature we calculated does not match the signature you provided."),
                _ => ok("arn:aws:iam::123456789012:user/ci"),
            };
        }
        if id == nm {
            return mismatch("The request signature we calculated does not match the signature you provided.");
        }
        if id == sk {
            return mismatch(
                "Signature expired: 20200101T000000Z is now earlier than 20260101T000000Z (20260101T001500Z - 15 min.)",
            );
        }
        if id == rt {
            return ok("arn:aws:iam::123456789012:root");
        }
        Reply::new(400, "<Error><Code>BadRequest</Code></Error>")
    });
    let (_, doc, stderr) = run(dir.path(), &verify_args(&mock, &["aws"]));
    let v = |path: &str| finding(&doc, path)["verification"].clone();
    let temp = v("temp.env");
    assert_eq!(temp["status"], "live", "{temp:#} {stderr}");
    assert_eq!(temp["access"]["identity"], "arn:aws:sts::123456789012:assumed-role/deploy/ci");
    assert_eq!(temp["access"]["account"], "123456789012");
    assert!(!doc.to_string().contains(&session), "the session token is never written out");
    let alone = v("temp-alone.env");
    assert_eq!(alone["status"], "unknown");
    assert!(alone["detail"].as_str().unwrap().contains("session token"), "{alone:#}");
    let c = v("canary.env");
    assert_eq!(c["status"], "unknown");
    assert_eq!(c["detail"], "canary token; calling it alerts its owner");
    let t = v("two.env");
    assert_eq!(t["status"], "live", "{t:#}");
    assert!(t["detail"].as_str().unwrap().contains("line 4"), "{t:#}");
    let n = v("nomatch.env");
    assert_eq!(n["status"], "unknown", "a signature that does not match is never invalid");
    assert!(n["detail"].as_str().unwrap().contains("no secret access key found beside it"), "{n:#}");
    let k = v("skew.env");
    assert_eq!(k["status"], "unknown");
    assert!(k["detail"].as_str().unwrap().contains("clock skew"), "{k:#}");
    let r = v("root.env");
    assert_eq!((r["access"]["level"].as_str(), r["access"]["admin"].as_bool()), (Some("admin"), Some(true)));

    let requests = mock.requests();
    let asked =
        |id: &str| requests.iter().filter(|r| r.header("authorization").unwrap_or_default().contains(id)).count();
    assert_eq!(asked(&canary), 0, "a canary token is never called");
    assert_eq!(asked(&lone_temp), 0, "a temporary id is never sent without its session token");
    assert_eq!(asked(&temp_id), 1);
    assert_eq!(asked(&two), 2, "the second secret after the first did not sign; both findings share the check");
    assert_eq!(asked(&nomatch), 1);
    assert_eq!(asked(&skew), 1, "clock skew: no other secret is tried");
}

#[test]
fn a_hardcoded_header_is_the_key_of_the_provider_its_request_goes_to() {
    let dir = tempfile::tempdir().unwrap();
    let (together, cohere, unknown, lookalike) =
        (key("header-token", 470), key("header-token", 471), key("header-token", 472), key("header-token", 473));
    fs::write(
        dir.path().join("client.js"),
        format!(
            "const r = await fetch(\"https://api.together.xyz/v1/chat/completions\", {{\n  method: \"POST\",\n  headers: {{ Authorization: \"Bearer {together}\" }},\n}});\n"
        ),
    )
    .unwrap();
    fs::write(
        dir.path().join("call.sh"),
        format!("curl https://api.cohere.com/v2/chat -H \"Authorization: Bearer {cohere}\" -d @body.json\n"),
    )
    .unwrap();
    fs::write(
        dir.path().join("other.js"),
        format!("fetch(\"https://api.unknown-vendor.example/v1\", {{ headers: {{ Authorization: \"Bearer {unknown}\" }} }});\n"),
    )
    .unwrap();
    fs::write(
        dir.path().join("lookalike.js"),
        format!("fetch(\"https://api.together.xyz.evil.example/v1\", {{ headers: {{ Authorization: \"Bearer {lookalike}\" }} }});\n"),
    )
    .unwrap();
    let (t, c) = (together.clone(), cohere.clone());
    let mock = Mock::start(move |req: &Request| match req.path.as_str() {
        "/together/v1/models" if bearer(req) == t => Reply::new(200, r#"{"data":[]}"#),
        "/cohere/v1/check-api-key" if bearer(req) == c => {
            Reply::new(200, r#"{ "valid": true, "organization_id": "org-1" }"#)
        }
        _ => Reply::new(401, r#"{"message":"invalid"}"#),
    });
    let (_, doc, stderr) = run(dir.path(), &verify_args(&mock, &["together", "cohere"]));
    let js = finding(&doc, "client.js");
    assert_eq!(
        (js["rule_id"].as_str(), js["provider"].as_str()),
        (Some("together-api-key"), Some("together")),
        "{stderr}"
    );
    assert_eq!(js["request_host"], "api.together.xyz");
    assert_eq!(js["header"], "Authorization");
    assert_eq!(js["verification"]["status"], "live");
    assert_eq!(js["rotate_url"], "https://api.together.ai/settings/api-keys");
    let sh = finding(&doc, "call.sh");
    assert_eq!((sh["rule_id"].as_str(), sh["request_host"].as_str()), (Some("cohere-api-key"), Some("api.cohere.com")));
    assert_eq!(sh["verification"]["status"], "live");
    for path in ["other.js", "lookalike.js"] {
        let f = finding(&doc, path);
        assert_eq!(f["rule_id"], "generic-bearer-header", "{path}");
        assert_eq!(f["verification"]["status"], "unknown", "{path}");
    }
    let requests = mock.requests();
    assert_eq!(requests.len(), 2, "{:?}", requests.iter().map(|r| &r.path).collect::<Vec<_>>());
    // Masked everywhere.
    let out = doc.to_string();
    for k in [&together, &cohere, &unknown, &lookalike] {
        assert!(!out.contains(k.as_str()));
    }
}

#[test]
fn unknown_is_never_cached_and_an_old_invalid_is_asked_again() {
    let dir = tempfile::tempdir().unwrap();
    let scan_dir = dir.path().join("scan");
    fs::create_dir(&scan_dir).unwrap();
    let (down, dead) = (key("openai-project", 480), key("openai-project", 481));
    fs::write(scan_dir.join("down.env"), format!("K={down}\n")).unwrap();
    fs::write(scan_dir.join("dead.env"), format!("K={dead}\n")).unwrap();
    let cache = dir.path().join("cache.json");
    let two_hours_ago = time::OffsetDateTime::now_utc().unix_timestamp() - 7200;
    fs::write(
        &cache,
        serde_json::json!({
            "version": 1,
            "entries": {
                format!("openai-project-key:{}", sha(&dead)): {
                    "stored_unix": two_hours_ago,
                    "result": { "status": "invalid", "checked_at": "2026-01-01T00:00:00Z" }
                }
            }
        })
        .to_string(),
    )
    .unwrap();
    let mock = provider_mock(HashMap::from([(down.clone(), Behaviour::Unavailable), (dead.clone(), Behaviour::Live)]));
    let mut args = vec!["--verify".to_string(), "--verify-cache".into(), cache.display().to_string()];
    args.extend(endpoints(&mock));
    let (_, first, _) = run(&scan_dir, &args);
    assert_eq!(verdict(&first, "dead.env").0, "live", "an invalid older than an hour is asked again");
    assert_eq!(verdict(&first, "down.env").0, "unknown");
    let after_first = mock.requests().len();
    let (_, second, _) = run(&scan_dir, &args);
    assert_eq!(second["stats"]["verification"]["from_cache"], 1, "only the live result was kept");
    assert!(mock.requests().len() > after_first, "the unknown key is asked again");
}
