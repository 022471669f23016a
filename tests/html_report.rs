//! The HTML audit report (`--format html`) on a real repository built with
//! the git CLI, parsed back with an HTML5 parser (`scraper`): the summary's
//! totals, the "rotate first" order, one timeline per key, and that hostile
//! file names, lines, commit messages and ref names stay text: no element,
//! attribute or link they could inject survives parsing.
//!
//! The library test renders through `report::html::write` with statuses set
//! by hand; the CLI tests run the binary, with `--verify` answered by a
//! loopback mock so that the order is decided by real verdicts.

use crate::common;

use crate::common::repo::Repo;

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::PathBuf;
use std::sync::Arc;

use scraper::{ElementRef, Html, Selector};
use serde_json::Value;

use crate::common::key;
use crate::common::mock::{Mock, Reply, Request};
use leakhound::detect::Detector;
use leakhound::finding::{Finding, Verification};
use leakhound::history::{AuditOptions, audit};
use leakhound::outcome::ScanOutcome;
use leakhound::report::{ReportView, html, redact};
use leakhound::rules::RuleSet;
use leakhound::rules::verify_spec::Status;
use leakhound::source::git::GitRepo;

const HOSTILE_FILE: &str = "<img src=x onerror=alert(1)>.js";
const HOSTILE_LINE: &str = "</script><script>alert(1)</script>";
const HOSTILE_REF: &str = "evil/<i>\"'&x";
const HOSTILE_SUMMARY: &str = "add <em>helper</em> & \"more\"";

/// The scratch repository and the four keys planted in it.
struct Fixture {
    repo: Repo,
    path: PathBuf,
    /// Added to `config/settings.py`, then removed (server-side).
    removed: String,
    /// Still in `src/app.js`, an SDK opted into the browser (client-side).
    client: String,
    /// In the file named [`HOSTILE_FILE`], committed on [`HOSTILE_REF`] and merged.
    hostile_name: String,
    /// On the same line as [`HOSTILE_LINE`] in `server/hostile.py`.
    hostile_line: String,
}

impl Fixture {
    fn new() -> Fixture {
        let repo = Repo::with_step(86_400);
        let mut fx = Fixture {
            path: repo.path.clone(),
            repo,
            removed: key("openai-project", 501),
            client: key("anthropic-api", 502),
            hostile_name: key("openai-project", 503),
            hostile_line: key("google", 504),
        };
        fx.commit("README.md", "# app\n", "initial");
        let settings = format!("DEBUG = True\nOPENAI_API_KEY = \"{}\"\n", fx.removed);
        fx.commit("config/settings.py", &settings, "add settings");
        let app = format!(
            "import Anthropic from \"@anthropic-ai/sdk\";\n\
             const client = new Anthropic({{ apiKey: \"{}\", dangerouslyAllowBrowser: true }});\n",
            fx.client
        );
        fx.commit("src/app.js", &app, "chat in the browser");
        fx.commit("config/settings.py", "DEBUG = True\nOPENAI_API_KEY = os.environ['OPENAI_API_KEY']\n", "use env");
        fx.git(&["checkout", "-q", "-b", HOSTILE_REF]);
        let hostile = format!("export const key = \"{}\";\n", fx.hostile_name);
        fx.commit(HOSTILE_FILE, &hostile, HOSTILE_SUMMARY);
        fx.git(&["checkout", "-q", "main"]);
        fx.git(&["merge", "-q", "--no-ff", "-m", "merge helper", HOSTILE_REF]);
        let line = format!("BANNER = \"{HOSTILE_LINE}\"; GOOGLE_API_KEY = \"{}\"\n", fx.hostile_line);
        fx.commit("server/hostile.py", &line, "server config");
        fx
    }

    fn git(&mut self, args: &[&str]) -> String {
        self.repo.git(args)
    }

    fn commit(&mut self, path: &str, text: &str, message: &str) {
        self.repo.commit(path, text, message);
    }

    fn keys(&self) -> [&str; 4] {
        [&self.removed, &self.client, &self.hostile_name, &self.hostile_line]
    }

    /// The keys in the order the "rotate first" table must list them when
    /// `removed` and `client` are live, `hostile_name` unknown and
    /// `hostile_line` invalid: live client-side, live, unknown, invalid
    /// (path order would be hostile_name, removed, hostile_line, client).
    /// `key` as the report shows it: in full, or `prefix...last4` as the
    /// report layer masks it.
    fn as_shown(&self, key: &str, rules: &RuleSet, in_full: bool) -> String {
        let rule = match key {
            k if k.starts_with("sk-ant-") => "anthropic-api-key",
            k if k.starts_with("AIza") => "google-api-key",
            _ => "openai-project-key",
        };
        let prefix = redact::keyword_prefix_len(key, &rules.get(rule).unwrap().spec.keywords);
        if in_full { key.to_string() } else { redact::mask(key, prefix) }
    }

    fn urgent_first(&self) -> [&str; 4] {
        [&self.client, &self.removed, &self.hostile_name, &self.hostile_line]
    }
}

fn sel(css: &str) -> Selector {
    Selector::parse(css).unwrap()
}

fn text(e: ElementRef) -> String {
    e.text().collect::<String>().split_whitespace().collect::<Vec<_>>().join(" ")
}

/// What the summary must count, taken from the findings the run produced.
struct Expected {
    /// (severity, provider, verification status) of each finding.
    rows: Vec<[String; 3]>,
    files_scanned: u64,
}

impl Expected {
    fn from_findings(findings: &[Finding], files_scanned: u64) -> Expected {
        let rows = findings
            .iter()
            .map(|f| {
                let status = f.verification.as_ref().map_or("unverified", |v| v.status.as_str());
                [f.severity.as_str().to_string(), f.provider.clone(), status.to_string()]
            })
            .collect();
        Expected { rows, files_scanned }
    }

    fn from_json(doc: &Value) -> Expected {
        let rows = doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                let s = |v: &Value| v.as_str().unwrap_or("unverified").to_string();
                [s(&f["severity"]), s(&f["provider"]), s(&f["verification"]["status"])]
            })
            .collect();
        Expected { rows, files_scanned: doc["stats"]["files_scanned"].as_u64().unwrap() }
    }

    /// Findings per value of column `column`.
    fn count(&self, column: usize) -> BTreeMap<String, u64> {
        let mut counts = BTreeMap::new();
        for row in &self.rows {
            *counts.entry(row[column].clone()).or_insert(0) += 1;
        }
        counts
    }

    fn verified(&self) -> bool {
        self.rows.iter().any(|r| r[2] != "unverified")
    }
}

/// `label -> (findings, keys)` from a summary table, zero rows left out.
fn tally(doc: &Html, id: &str) -> BTreeMap<String, (u64, u64)> {
    doc.select(&sel(&format!("#{id} tbody tr")))
        .map(|row| {
            let label = text(row.select(&sel("th")).next().unwrap());
            let cells: Vec<u64> = row.select(&sel("td")).map(|td| text(td).parse().unwrap()).collect();
            (label, (cells[0], cells[1]))
        })
        .filter(|(_, (findings, _))| *findings > 0)
        .collect()
}

/// Everything a report of the fixture must satisfy, shown secrets or not.
fn check_report(page: &str, fx: &Fixture, rules: &RuleSet, expected: &Expected, secrets_shown: bool) {
    let doc = Html::parse_document(page);
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert_eq!(doc.select(&sel("html[lang=en]")).count(), 1);
    assert_eq!(doc.select(&sel("meta[charset=utf-8]")).count(), 1);

    // Nothing active and nothing fetched: no element a hostile string could
    // have injected, no event handler, no resource URL, and the only links
    // leaving the page are built-in rules' https rotation pages.
    for tag in ["script", "img", "iframe", "object", "embed", "link", "base", "form", "em", "i", "video", "audio"] {
        assert_eq!(doc.select(&sel(tag)).count(), 0, "a <{tag}> element in the report");
    }
    let rotation_pages: Vec<&str> = rules.rules().iter().map(|r| r.spec.rotate_url.as_str()).collect();
    let mut rotation_links = 0;
    for e in doc.select(&sel("*")) {
        for (name, value) in e.value().attrs() {
            assert!(!name.starts_with("on"), "event handler {name}={value}");
            assert!(
                !["src", "srcset", "action", "formaction", "xlink:href", "style"].contains(&name),
                "{name}={value}"
            );
            if name == "href" && !value.starts_with('#') {
                assert!(value.starts_with("https://") && rotation_pages.contains(&value), "external href {value}");
                assert!(e.ancestors().filter_map(ElementRef::wrap).any(|a| a.value().id() == Some("rotate-first")));
                rotation_links += 1;
            }
        }
    }
    for style in doc.select(&sel("style")) {
        let css = text(style);
        assert!(!css.contains("url(") && !css.contains("@import"), "CSS fetches something");
    }
    assert_eq!(rotation_links, 4, "one rotation link per key");

    // Hostile names and lines are text.
    let all = text(doc.root_element());
    for hostile in [HOSTILE_FILE, HOSTILE_LINE, HOSTILE_REF, HOSTILE_SUMMARY] {
        assert!(all.contains(hostile), "`{hostile}` not shown as text");
    }

    // Full secrets only when asked.
    for k in fx.keys() {
        assert_eq!(page.contains(k), secrets_shown, "full secret {k} shown: {}", page.contains(k));
    }

    // Summary totals.
    for (column, id) in ["totals-severity", "totals-provider", "totals-status"].into_iter().enumerate() {
        let findings: BTreeMap<String, u64> = tally(&doc, id).into_iter().map(|(k, (n, _))| (k, n)).collect();
        assert_eq!(findings, expected.count(column), "{id}");
    }
    let keys: u64 = tally(&doc, "totals-status").values().map(|(_, keys)| keys).sum();
    assert_eq!(keys, 4, "unique keys");
    assert_eq!(tally(&doc, "totals-provider")["openai"].1, 2);
    let stats: HashMap<String, String> = doc
        .select(&sel("#scan-stats tr"))
        .map(|r| (text(r.select(&sel("th")).next().unwrap()), text(r.select(&sel("td")).next().unwrap())))
        .collect();
    assert_eq!(stats["Files or blobs scanned"], expected.files_scanned.to_string());
    assert_eq!(stats["Findings"], expected.rows.len().to_string());
    assert_eq!(stats["Unique keys"], "4");
    let title = text(doc.select(&sel("header .target")).next().unwrap());
    assert!(title.contains("repo"), "{title}");

    // The rotate-first table: one row per key, in the expected order, with
    // its status in words and whether HEAD still holds it.
    let rows: Vec<ElementRef> = doc.select(&sel("#rotate-first tbody tr")).collect();
    let shown: Vec<String> = rows.iter().map(|r| text(r.select(&sel("td.key")).next().unwrap())).collect();
    let want: Vec<String> = fx.urgent_first().iter().map(|k| fx.as_shown(k, rules, secrets_shown)).collect();
    if expected.verified() {
        assert_eq!(shown, want, "rotate-first order");
        let cells = |i: usize| -> Vec<String> { rows[i].select(&sel("td")).map(text).collect() };
        assert!(cells(0)[5].starts_with("live") && cells(0)[2].contains("served to browsers"), "{:?}", cells(0));
        assert!(cells(1)[5].starts_with("live") && !cells(1)[2].contains("served to browsers"));
        assert!(cells(2)[5].starts_with("unknown"), "{:?}", cells(2));
        assert!(cells(3)[5].starts_with("invalid"), "{:?}", cells(3));
        assert_eq!(cells(1)[4], "no", "the removed key is not in HEAD");
        assert!(cells(2)[2].contains(HOSTILE_FILE));
        for i in [0, 2, 3] {
            assert_eq!(cells(i)[4], "yes");
        }
    } else {
        let (mut sorted, mut want) = (shown.clone(), want);
        sorted.sort();
        want.sort();
        assert_eq!(sorted, want);
        assert!(rows.iter().all(|r| text(r.select(&sel("td .badge")).last().unwrap()) == "unverified"));
    }

    // One timeline per key with git history, each titled, in table order.
    let svgs: Vec<ElementRef> = doc.select(&sel("svg.timeline")).collect();
    assert_eq!(svgs.len(), 4);
    for (svg, k) in svgs.iter().zip(&shown) {
        let title = text(svg.select(&sel("title")).next().expect("an SVG <title>"));
        assert!(title.contains(k.as_str()), "{title}");
        let words = text(*svg);
        let removed = *k == fx.as_shown(&fx.removed, rules, secrets_shown);
        assert_eq!(words.contains("removed from HEAD"), removed, "{words}");
        assert_eq!(words.contains("still in HEAD"), !removed, "{words}");
        assert!(words.contains("commit"), "{words}");
    }
    let merged = svgs.iter().map(|s| text(*s)).find(|t| t.contains(HOSTILE_REF)).expect("the hostile ref is drawn");
    assert!(merged.contains("refs/heads/main"), "{merged}");

    // Per-file groups: the hostile file name is a heading's text, the hostile
    // line a snippet's text, and the client-side file explains itself.
    let headings: Vec<String> = doc.select(&sel("#files h3")).map(text).collect();
    assert!(headings.iter().any(|h| h.starts_with(HOSTILE_FILE)), "{headings:?}");
    assert!(headings[0].starts_with("src/app.js") || headings[0].starts_with(HOSTILE_FILE), "client files first");
    let snippets: Vec<String> = doc.select(&sel("#files pre code")).map(text).collect();
    assert!(snippets.iter().any(|s| s.contains(HOSTILE_LINE)), "{snippets:?}");
    assert!(all.contains("Served to browsers: anyone who opens the site can read this key"));
}

fn audit_fixture(fx: &Fixture) -> (ScanOutcome, Detector) {
    let detector = Detector::new(Arc::new(RuleSet::builtin().unwrap())).unwrap();
    let repo = GitRepo::open(&fx.path).unwrap();
    let options = AuditOptions {
        all_objects: false,
        max_blob_size: 25 << 20,
        threads: 2,
        max_memory: None,
        progress: false,
        cancel: None,
    };
    (audit(&repo, &detector, &options).unwrap(), detector)
}

fn verdict(status: Status) -> Verification {
    Verification {
        status,
        qualifier: None,
        detail: Some("org <b>acme</b> & 'co'".into()),
        http_status: Some(200),
        checked_at: "2024-01-01T00:00:00Z".into(),
        access: None,
    }
}

#[test]
fn library_renders_masked_findings_in_rotation_order() {
    let fx = Fixture::new();
    let (mut outcome, detector) = audit_fixture(&fx);
    let rules = detector.rules();
    let status: HashMap<&str, Status> = HashMap::from([
        (fx.removed.as_str(), Status::Live),
        (fx.client.as_str(), Status::Live),
        (fx.hostile_name.as_str(), Status::Unknown),
        (fx.hostile_line.as_str(), Status::Invalid),
    ]);
    for f in &mut outcome.findings {
        f.verification = status.get(f.secret.as_str()).map(|s| verdict(*s));
    }
    let found: Vec<&str> = outcome.findings.iter().map(|f| f.secret.as_str()).collect();
    for k in fx.keys() {
        assert!(found.contains(&k), "{k} not found: {found:?}");
    }
    let expected = Expected::from_findings(&outcome.findings, outcome.stats.files_scanned);

    let mut page = Vec::new();
    let title = format!("git history of {}", fx.path.display());
    html::write(&mut page, &ReportView::new(&outcome, redact::masked(&outcome.findings, rules), rules, &title))
        .unwrap();
    let page = String::from_utf8(page).unwrap();
    check_report(&page, &fx, rules, &expected, false);
    let doc = Html::parse_document(&page);
    assert_eq!(doc.select(&sel("b")).count(), 0, "verification detail rendered as markup");
    assert!(text(doc.root_element()).contains("org <b>acme</b> & 'co'"));

    // A rule a repository's config added cannot plant a link, even https.
    let mut custom = redact::masked(&outcome.findings, rules);
    let mut planted = custom[0].clone();
    (planted.rule_id, planted.secret_sha256) = ("acme-token".into(), "0".repeat(64));
    planted.rotate_url = "https://evil.example/rotate".into();
    custom.push(planted);
    let mut page = Vec::new();
    html::write(&mut page, &ReportView::new(&outcome, custom, rules, &title)).unwrap();
    let doc = Html::parse_document(std::str::from_utf8(&page).unwrap());
    assert!(doc.select(&sel("a[href*='evil.example']")).next().is_none());
    assert!(text(doc.select(&sel("#rotate-first")).next().unwrap()).contains("https://evil.example/rotate"));

    // The caller decides: unmasked findings are shown as given.
    let mut page = Vec::new();
    html::write(&mut page, &ReportView::new(&outcome, outcome.findings.clone(), rules, &title)).unwrap();
    check_report(&String::from_utf8(page).unwrap(), &fx, rules, &expected, true);
}

use crate::common::run_in as leakhound;

fn html_of(out: &std::process::Output) -> String {
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout.clone()).unwrap()
}

#[test]
fn cli_html_report_is_masked_unless_both_flags_are_given() {
    let fx = Fixture::new();
    let rules = RuleSet::builtin().unwrap();
    let json = leakhound(&fx.path, &["git", "--format", "json", "."]);
    let expected = Expected::from_json(&serde_json::from_slice(&json.stdout).unwrap());

    let page = html_of(&leakhound(&fx.path, &["git", "--format", "html", "."]));
    check_report(&page, &fx, &rules, &expected, false);
    let page = html_of(&leakhound(&fx.path, &["git", "--format", "html", "--show-secrets", "."]));
    check_report(&page, &fx, &rules, &expected, false);
    let args = ["git", "--format", "html", "--show-secrets", "--html-show-secrets", "."];
    check_report(&html_of(&leakhound(&fx.path, &args)), &fx, &rules, &expected, true);

    // `--html-show-secrets` alone is refused rather than silently ignored.
    let alone = leakhound(&fx.path, &["git", "--format", "html", "--html-show-secrets", "."]);
    assert_eq!(alone.status.code(), Some(2));
    assert!(alone.stdout.is_empty());

    // `--output` writes the same page to a file.
    let file = fx.path.join("report.html");
    let written = leakhound(&fx.path, &["git", "--format", "html", "-o", file.to_str().unwrap(), "."]);
    assert_eq!(written.status.code(), Some(1));
    check_report(&fs::read_to_string(&file).unwrap(), &fx, &rules, &expected, false);
}

#[test]
fn cli_rotate_first_order_follows_verification() {
    let fx = Fixture::new();
    let rules = RuleSet::builtin().unwrap();
    let verdicts: HashMap<String, u16> = HashMap::from([
        (fx.removed.clone(), 200),
        (fx.client.clone(), 200),
        (fx.hostile_name.clone(), 503),
        (fx.hostile_line.clone(), 400),
    ]);
    let mock = Mock::start(move |req: &Request| {
        let secret = match req.path.as_str() {
            "/openai/v1/models" => req.header("authorization").and_then(|a| a.strip_prefix("Bearer ")),
            "/anthropic/v1/models" => req.header("x-api-key"),
            "/google/v1beta/models" => req.header("x-goog-api-key"),
            _ => None,
        };
        match secret.and_then(|s| verdicts.get(s)) {
            Some(200) => Reply::new(200, r#"{"data":[{"id":"m","owned_by":"acme-org"}]}"#),
            Some(503) => Reply::new(503, r#"{"error":"overloaded"}"#),
            Some(400) => Reply::new(400, r#"{"error":{"code":400,"details":[{"reason":"API_KEY_INVALID"}]}}"#),
            _ => Reply::new(404, r#"{"error":"unexpected"}"#),
        }
    });
    let mut args: Vec<String> =
        ["git", "--format", "html", "--verify", "--verify-timeout", "2"].map(String::from).into();
    for provider in ["openai", "anthropic", "google"] {
        args.push("--verify-endpoint".into());
        args.push(format!("{provider}={}", mock.url(&format!("/{provider}"))));
    }
    let json_args: Vec<String> = args.iter().map(|a| if a == "html" { "json".into() } else { a.clone() }).collect();
    let json = common::command().args(&json_args).arg(".").current_dir(&fx.path).output();
    let expected = Expected::from_json(&serde_json::from_slice(&json.unwrap().stdout).unwrap());
    assert!(expected.rows.iter().any(|r| r[2] == "live"), "the mock was not asked");

    let out = common::command().args(&args).arg(".").current_dir(&fx.path).output().unwrap();
    check_report(&html_of(&out), &fx, &rules, &expected, false);
    assert!(mock.requests().iter().all(|r| r.path.ends_with("/models")), "unexpected request");
}
