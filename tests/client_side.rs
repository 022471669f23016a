//! Client-side exposure over a fixture web app (Vite/React, Next.js, a built
//! bundle and its source map, env files, a Python and an Express server):
//! every finding's `client_side`, `exposure`, `kind` and `header`.

use crate::common;

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

fn scan(args: &[&str]) -> (i32, Vec<Value>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    common::render_tree(&Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/webapp"), dir.path());
    let out = Command::cargo_bin("leakhound")
        .unwrap()
        .args(["scan", "--format", "json"])
        .args(args)
        .arg(dir.path())
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    (out.status.code().unwrap(), doc["findings"].as_array().unwrap().clone(), dir)
}

/// (path, rule id, client_side, kind, header, words the exposure must contain)
type Expected = (&'static str, &'static str, bool, &'static str, Option<&'static str>, &'static str);

fn expected() -> Vec<Expected> {
    vec![
        (
            "express-server/routes/voice.js",
            "elevenlabs-api-key",
            false,
            "hardcoded-header",
            Some("xi-api-key"),
            "server",
        ),
        ("express-server/server.js", "perplexity-api-key", false, "api-key", None, "server code"),
        (
            "next-app/.env.local",
            "groq-api-key",
            true,
            "api-key",
            None,
            "NEXT_PUBLIC_GROQ_API_KEY has the public prefix",
        ),
        (
            "next-app/.env.local",
            "groq-api-key",
            false,
            "api-key",
            None,
            "server-only environment variable GROQ_API_KEY",
        ),
        (
            "next-app/app/chat/route.ts",
            "xai-api-key",
            false,
            "hardcoded-header",
            Some("Authorization"),
            "server-only location",
        ),
        ("next-app/app/lib/actions.ts", "replicate-api-token", false, "api-key", None, "server code"),
        (
            "next-app/components/Chat.tsx",
            "anthropic-api-key",
            true,
            "client-side-header",
            Some("x-api-key"),
            "front-end source (.tsx)",
        ),
        ("next-app/next.config.js", "openrouter-api-key", true, "api-key", None, "inlined into the client bundle"),
        ("next-app/pages/api/chat.ts", "anthropic-api-key", false, "api-key", None, "server-only location"),
        ("server-py/app.py", "generic-bearer-header", false, "hardcoded-header", Some("Authorization"), ".py source"),
        ("server-py/app.py", "openai-project-key", false, "hardcoded-header", Some("Authorization"), ".py source"),
        (
            "vite-app/.env",
            "anthropic-api-key",
            true,
            "api-key",
            None,
            "VITE_ANTHROPIC_API_KEY has the public prefix VITE_",
        ),
        ("vite-app/.env", "openai-service-account-key", false, "api-key", None, "server-only environment variable"),
        ("vite-app/.env.local", "mistral-api-key", true, "api-key", None, "VITE_MISTRAL_API_KEY has the public prefix"),
        ("vite-app/dist/assets/index-3f9a2c.js", "openai-project-key", true, "api-key", None, "build output"),
        // A source map's embedded source is reported under that source's
        // name (as written in the map's `sources`).
        (
            "vite-app/dist/assets/index-3f9a2c.js.map!/../../src/client.ts",
            "together-api-key",
            true,
            "api-key",
            None,
            "front-end source (.ts) is bundled for the browser",
        ),
        (
            "vite-app/src/App.tsx",
            "generic-browser-sdk-opt-in",
            true,
            "client-exposed-key-reference",
            None,
            "opts an AI SDK into the browser",
        ),
        ("vite-app/src/App.tsx", "openai-project-key", true, "api-key", None, "opts an AI SDK into the browser"),
        (
            "vite-app/src/api.ts",
            "groq-api-key",
            true,
            "client-side-header",
            Some("Authorization"),
            "front-end source (.ts)",
        ),
        (
            "vite-app/src/lib/gemini.js",
            "google-api-key",
            true,
            "client-side-header",
            Some("x-goog-api-key"),
            "front-end source (.js)",
        ),
        (
            "vite-app/src/useKey.ts",
            "generic-public-env-key-reference",
            true,
            "client-exposed-key-reference",
            None,
            "front-end source",
        ),
    ]
}

#[test]
fn every_finding_is_classified_as_expected() {
    let (code, findings, _dir) = scan(&[]);
    assert_eq!(code, 1);
    let mut got: Vec<Expected> = Vec::new();
    let mut problems = Vec::new();
    for f in &findings {
        let path = f["path"].as_str().unwrap();
        let rule = f["rule_id"].as_str().unwrap();
        let client = f["client_side"].as_bool().unwrap();
        let exposure = f["exposure"].as_str().unwrap_or_default();
        let row = expected().into_iter().find(|e| e.0 == path && e.1 == rule && e.2 == client);
        match row {
            Some(e) => {
                if f["kind"] != e.3 || f["header"].as_str() != e.4 || !exposure.contains(e.5) {
                    problems.push(format!(
                        "{path} {rule}: kind {} header {} exposure {exposure:?}",
                        f["kind"], f["header"]
                    ));
                }
                got.push(e);
            }
            None => problems.push(format!("unexpected: {path} {rule} client_side={client} ({exposure})")),
        }
    }
    for e in expected() {
        if !got.contains(&e) {
            problems.push(format!("missing: {e:?}"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn client_side_keys_are_critical_and_listed_first_in_text() {
    let (_, findings, dir) = scan(&[]);
    for f in &findings {
        let expected = match (f["client_side"].as_bool().unwrap(), f["kind"].as_str().unwrap()) {
            (_, "client-exposed-key-reference") => "warning",
            (true, _) => "critical",
            (false, _) => return assert_ne!(f["severity"], "warning"),
        };
        assert_eq!(f["severity"], expected, "{f:#}");
    }
    let out = common::command().args(["scan", "--color", "never"]).arg(dir.path()).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let served = text.find("served to browsers").expect("a client-side section");
    let other = text.find("Other findings:").expect("then the rest");
    assert!(served < other);
    assert!(text[..other].contains("vite-app/src/api.ts") && text[other..].contains("server-py/app.py"), "{text}");
}

#[test]
fn warnings_fail_the_run_only_with_fail_on_warning() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir(&src).unwrap();
    std::fs::write(src.join("main.ts"), "const key = import.meta.env.VITE_OPENAI_API_KEY;\n").unwrap();
    let run =
        |extra: &[&str]| common::command().arg("scan").args(extra).arg(dir.path()).output().unwrap().status.code();
    assert_eq!(run(&[]), Some(0));
    assert_eq!(run(&["--fail-on", "warning"]), Some(1));
    // The same reference in server code is not a finding at all.
    std::fs::rename(src.join("main.ts"), dir.path().join("main.py")).unwrap();
    assert_eq!(run(&["--fail-on", "warning"]), Some(0));
}

#[test]
fn fail_on_critical_ignores_server_side_keys() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("settings.py"), format!("KEY = '{}'\n", common::key("openai-project", 1))).unwrap();
    let run =
        |extra: &[&str]| common::command().arg("scan").args(extra).arg(dir.path()).output().unwrap().status.code();
    assert_eq!(run(&[]), Some(1));
    assert_eq!(run(&["--fail-on", "critical"]), Some(0));
    std::fs::write(dir.path().join("app.js"), format!("const k = '{}';\n", common::key("openai-project", 2))).unwrap();
    assert_eq!(run(&["--fail-on", "critical"]), Some(1));
}

#[test]
fn references_alone_are_not_key_findings() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("client.ts"),
        "fetch(u, { headers: { Authorization: `Bearer ${process.env.TOKEN}`, 'x-api-key': process.env.ANTHROPIC_API_KEY } });\n\
         requests.get(u, headers={'Authorization': f'Bearer {os.environ[\"TOKEN\"]}'})\n",
    )
    .unwrap();
    let out = common::command().args(["scan", "--format", "json"]).arg(dir.path()).output().unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["findings"], serde_json::json!([]));
    assert_eq!(out.status.code(), Some(0));
}
