//! The declarative verifier a built-in rule may carry (`[rule.verify]`):
//! the schema, and reading an answer with it; `src/verify/` sends the
//! request.
//!
//! One cheap, read-only request and how to read its answer. Adding a
//! provider's check is data, not code.
//!
//! ```toml
//! [rule.verify]
//! method = "GET"
//! url = "https://api.openai.com/v1/models"
//! headers = { Authorization = "Bearer {secret}" }
//! verdicts = [
//!   { status = 200, result = "live" },
//!   { status = 401, result = "invalid" },
//!   { status = 429, json = { pointer = "/error/code", equals = "insufficient_quota" }, result = "live", qualifier = "no-quota" },
//! ]
//! detail = ["/data/0/owned_by"]
//! [rule.verify.access]
//! account = { header = "openai-organization" }
//! ```
//!
//! Verdicts are tried in order; the first whose status (and JSON test, or
//! for XML and text answers body text) match decides. JSON answers are
//! parsed, never searched as text: `"ok": true` and `"ok":true` are the
//! same answer, and a word in an error message cannot pass for a field. An
//! answer no verdict covers is `unknown`, never `invalid`: users skip
//! rotating keys reported invalid.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

pub use crate::finding::Status;
use crate::finding::{Access, Level};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifySpec {
    /// No request is made; the result is `unknown` with this reason
    /// (providers without a free read-only call, refresh tokens).
    #[serde(default)]
    pub unavailable: Option<String>,
    #[serde(default = "default_method")]
    pub method: String,
    #[serde(default)]
    pub url: String,
    /// Header values may contain `{secret}`.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Request body; may contain `{secret}`.
    #[serde(default)]
    pub body: Option<String>,
    /// What the provider answers in: `json` (the default; verdicts test
    /// values at JSON pointers), `xml` or `text` (verdicts test body text).
    #[serde(default)]
    pub answer: AnswerFormat,
    #[serde(default)]
    pub verdicts: Vec<Verdict>,
    /// JSON pointers into the response body whose values go into `detail`
    /// (organization, key label, remaining limit).
    #[serde(default)]
    pub detail: Vec<String>,
    /// What a live key can do, read from the same answer.
    #[serde(default)]
    pub access: Option<AccessSpec>,
    /// A request the generic template cannot express, built in code:
    /// `aws-sts` (SigV4-signed `sts:GetCallerIdentity`, needs `pair`).
    #[serde(default)]
    pub scheme: Option<String>,
    /// For two-part credentials: the rule that finds the other half.
    #[serde(default)]
    pub pair: Option<String>,
}

/// The built-in request schemes.
pub const AWS_STS: &str = "aws-sts";

fn default_method() -> String {
    "GET".into()
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AnswerFormat {
    #[default]
    Json,
    Xml,
    Text,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Verdict {
    pub status: u16,
    /// Text the body must contain: for `xml` and `text` answers only.
    #[serde(default)]
    pub body_contains: Option<String>,
    /// A test on the parsed JSON body: for `json` answers only.
    #[serde(default)]
    pub json: Option<Test>,
    pub result: Status,
    /// `restricted`, `no-quota`, ...; `{host}` is the host that was asked
    /// (`invalid` `on {host}`: a key another instance may still accept).
    #[serde(default)]
    pub qualifier: Option<String>,
    /// The verification's `detail` for this answer: what it means, in
    /// words (why an `unknown` is not a verdict, what else can cause an
    /// `invalid`).
    #[serde(default)]
    pub note: Option<String>,
    /// `aws-sts` only: this answer is about the secret half, not the key
    /// id; try the next candidate secret found nearby before settling.
    #[serde(default)]
    pub next_candidate: bool,
}

/// A test on one value of the answer. Exactly one of `equals`, `one_of`,
/// `contains` and `exists`; where the value is: `pointer` (a JSON pointer,
/// RFC 6901, in which a `*` segment stands for every element of an array or
/// member of an object, and `**` for every value at any depth, for error
/// bodies whose layout the provider does not document), `header` (a response header) or `xml` (the text of
/// every `<Name>` element). With several values (a `*`, a repeated
/// element), one passing is enough.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Test {
    #[serde(default)]
    pub pointer: Option<String>,
    #[serde(default)]
    pub header: Option<String>,
    #[serde(default)]
    pub xml: Option<String>,
    /// The value equals this (numbers compare by value).
    #[serde(default)]
    pub equals: Option<Value>,
    /// The value equals one of these.
    #[serde(default)]
    pub one_of: Option<Vec<Value>>,
    /// The value is text containing this.
    #[serde(default)]
    pub contains: Option<String>,
    /// The value is present (`true`) or absent (`false`).
    #[serde(default)]
    pub exists: Option<bool>,
}

/// Where an `access` field's value is: a bare string is a JSON pointer;
/// a table names a `pointer`, a `header`, an `xml` element, or a fixed
/// `value` (a fact the key's kind settles, such as Stripe's live mode).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Source {
    Pointer(String),
    Where(Place),
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Place {
    #[serde(default)]
    pub pointer: Option<String>,
    #[serde(default)]
    pub header: Option<String>,
    #[serde(default)]
    pub xml: Option<String>,
    #[serde(default)]
    pub value: Option<String>,
}

/// `admin = true` (every key of this kind administers its account) or a
/// test (`{ pointer = "/site_admin", equals = true }`).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum AdminSpec {
    Always(bool),
    When(Test),
}

/// `[rule.verify.access]`: what a live key can do, from the answer that
/// proved it live (no second request). Scope lists are classified by
/// `admin_scopes`, `write_scopes` and `read_scopes` (a `*` matches any
/// text): any admin scope makes the key `admin`, else any write scope
/// `write`, else a key whose every scope is a read scope (or that has none)
/// `read`; `level` is the kind's level when scopes do not decide.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessSpec {
    #[serde(default)]
    pub identity: Option<Source>,
    #[serde(default)]
    pub account: Option<Source>,
    /// A list (JSON array, or a comma-separated header).
    #[serde(default)]
    pub scopes: Option<Source>,
    #[serde(default)]
    pub expires: Option<Source>,
    #[serde(default)]
    pub admin: Option<AdminSpec>,
    #[serde(default)]
    pub level: Option<Level>,
    #[serde(default)]
    pub admin_scopes: Vec<String>,
    #[serde(default)]
    pub write_scopes: Vec<String>,
    #[serde(default)]
    pub read_scopes: Vec<String>,
    /// Other facts by name (`livemode`, `project`, `role`).
    #[serde(default)]
    pub facts: BTreeMap<String, Source>,
}

/// One answer, as verdicts and `access` read it.
pub struct Reply<'a> {
    pub status: u16,
    pub body: &'a str,
    /// The body parsed, for `json` answers (`None`: not JSON).
    pub json: Option<&'a Value>,
    /// Response headers, names in lowercase.
    pub headers: &'a [(String, String)],
}

impl Reply<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The values at a place: `None` when it is absent.
    fn values(&self, pointer: Option<&str>, header: Option<&str>, xml: Option<&str>) -> Option<Vec<Value>> {
        if let Some(p) = pointer {
            let found: Vec<Value> = resolve(self.json?, p).into_iter().filter(|v| !v.is_null()).cloned().collect();
            return (!found.is_empty()).then_some(found);
        }
        if let Some(h) = header {
            return self.header(h).map(|v| vec![Value::String(v.to_string())]);
        }
        if let Some(tag) = xml {
            let found: Vec<Value> = xml_texts(self.body, tag).into_iter().map(Value::String).collect();
            return (!found.is_empty()).then_some(found);
        }
        None
    }
}

/// Values at a JSON pointer whose `*` segments match every element or
/// member, and `**` segments every value at any depth.
pub fn resolve<'v>(root: &'v Value, pointer: &str) -> Vec<&'v Value> {
    if pointer.is_empty() {
        return vec![root];
    }
    let mut current = vec![root];
    for raw in pointer.trim_start_matches('/').split('/') {
        let segment = raw.replace("~1", "/").replace("~0", "~");
        let mut next = Vec::new();
        for value in current {
            match (value, segment.as_str()) {
                (_, "**") => descendants(value, &mut next),
                (Value::Array(items), "*") => next.extend(items.iter()),
                (Value::Object(members), "*") => next.extend(members.values()),
                (Value::Array(items), index) => next.extend(index.parse::<usize>().ok().and_then(|i| items.get(i))),
                (Value::Object(members), key) => next.extend(members.get(key)),
                _ => {}
            }
        }
        current = next;
    }
    current
}

/// `value` and every value inside it, at any depth.
fn descendants<'v>(value: &'v Value, out: &mut Vec<&'v Value>) {
    out.push(value);
    match value {
        Value::Array(items) => items.iter().for_each(|v| descendants(v, out)),
        Value::Object(members) => members.values().for_each(|v| descendants(v, out)),
        _ => {}
    }
}

/// The text of every `<tag>...</tag>` in `body` (AWS's XML answers).
fn xml_texts(body: &str, tag: &str) -> Vec<String> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    let mut out = Vec::new();
    let mut rest = body;
    while let Some(start) = rest.find(&open) {
        let after = &rest[start + open.len()..];
        let Some(end) = after.find(&close) else { break };
        out.push(after[..end].trim().to_string());
        rest = &after[end + close.len()..];
    }
    out
}

/// Text of a value: a string as it is, anything else as JSON.
fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// JSON equality, numbers by value (`190` equals `190.0`).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

impl Test {
    fn place_count(&self) -> usize {
        [self.pointer.is_some(), self.header.is_some(), self.xml.is_some()].iter().filter(|&&b| b).count()
    }

    fn check_count(&self) -> usize {
        [self.equals.is_some(), self.one_of.is_some(), self.contains.is_some(), self.exists.is_some()]
            .iter()
            .filter(|&&b| b)
            .count()
    }

    fn validate(&self, what: &str) -> Result<(), String> {
        if self.place_count() != 1 {
            return Err(format!("{what}: name exactly one of `pointer`, `header`, `xml`"));
        }
        if self.check_count() != 1 {
            return Err(format!("{what}: give exactly one of `equals`, `one_of`, `contains`, `exists`"));
        }
        if let Some(p) = &self.pointer {
            check_pointer(p, what)?;
        }
        Ok(())
    }

    pub fn passes(&self, reply: &Reply) -> bool {
        let values = reply.values(self.pointer.as_deref(), self.header.as_deref(), self.xml.as_deref());
        if let Some(wanted) = self.exists {
            return values.is_some() == wanted;
        }
        values.unwrap_or_default().iter().any(|v| {
            if let Some(want) = &self.equals {
                return same(v, want);
            }
            if let Some(choices) = &self.one_of {
                return choices.iter().any(|c| same(v, c));
            }
            if let Some(needle) = &self.contains {
                return v.as_str().is_some_and(|s| s.contains(needle.as_str()));
            }
            false
        })
    }
}

fn check_pointer(pointer: &str, what: &str) -> Result<(), String> {
    if pointer.is_empty() || pointer.starts_with('/') {
        Ok(())
    } else {
        Err(format!("{what}: `{pointer}` is not a JSON pointer (it starts with `/`)"))
    }
}

impl Source {
    fn place(&self) -> Place {
        match self {
            Source::Pointer(p) => Place { pointer: Some(p.clone()), ..Place::default() },
            Source::Where(place) => place.clone(),
        }
    }

    fn validate(&self, what: &str, answer: AnswerFormat) -> Result<(), String> {
        let place = self.place();
        let count = [place.pointer.is_some(), place.header.is_some(), place.xml.is_some(), place.value.is_some()]
            .iter()
            .filter(|&&b| b)
            .count();
        if count != 1 {
            return Err(format!("{what}: name exactly one of `pointer`, `header`, `xml`, `value`"));
        }
        if let Some(p) = &place.pointer {
            check_pointer(p, what)?;
            if answer != AnswerFormat::Json {
                return Err(format!("{what}: a JSON pointer needs `answer = \"json\"`"));
            }
        }
        if place.xml.is_some() && answer != AnswerFormat::Xml {
            return Err(format!("{what}: an `xml` element needs `answer = \"xml\"`"));
        }
        Ok(())
    }

    /// The values found, as text (`None`: absent).
    fn texts(&self, reply: &Reply) -> Option<Vec<String>> {
        let place = self.place();
        if let Some(v) = place.value {
            return Some(vec![v]);
        }
        let values = reply.values(place.pointer.as_deref(), place.header.as_deref(), place.xml.as_deref())?;
        let mut out = Vec::new();
        for v in &values {
            match v {
                Value::Array(items) => out.extend(items.iter().filter(|i| !i.is_null()).map(text)),
                other => out.push(text(other)),
            }
        }
        Some(out)
    }

    /// One value for people: several are joined with `, `.
    fn one(&self, reply: &Reply) -> Option<String> {
        let texts = self.texts(reply)?;
        let joined = texts.into_iter().filter(|t| !t.trim().is_empty()).collect::<Vec<_>>().join(", ");
        (!joined.is_empty()).then(|| clip(&joined))
    }
}

/// Longest value kept from an answer.
const MAX_VALUE: usize = 200;
/// Most scopes kept from an answer.
const MAX_SCOPES: usize = 500;

fn clip(text: &str) -> String {
    let text = text.trim();
    if text.chars().count() <= MAX_VALUE {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(MAX_VALUE).collect();
    cut.push('…');
    cut
}

/// `*` matches any text (`write:*`, `*.read`, `admin`).
pub fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(i) => rest = &rest[i + middle.len()..],
            None => return false,
        }
    }
    true
}

impl AccessSpec {
    fn validate(&self, answer: AnswerFormat) -> Result<(), String> {
        let named = [
            ("identity", &self.identity),
            ("account", &self.account),
            ("scopes", &self.scopes),
            ("expires", &self.expires),
        ];
        for (name, source) in named {
            if let Some(s) = source {
                s.validate(&format!("verify.access.{name}"), answer)?;
            }
        }
        for (name, source) in &self.facts {
            source.validate(&format!("verify.access.facts.{name}"), answer)?;
        }
        if let Some(AdminSpec::When(test)) = &self.admin {
            test.validate("verify.access.admin")?;
        }
        let lists = !(self.admin_scopes.is_empty() && self.write_scopes.is_empty() && self.read_scopes.is_empty());
        if lists && self.scopes.is_none() {
            return Err("verify.access: scope lists need `scopes`".into());
        }
        Ok(())
    }

    /// What the answer tells about the key; `None` when it tells nothing.
    pub fn read(&self, reply: &Reply) -> Option<Access> {
        let mut access = Access {
            identity: self.identity.as_ref().and_then(|s| s.one(reply)),
            account: self.account.as_ref().and_then(|s| s.one(reply)),
            expires: self.expires.as_ref().and_then(|s| s.one(reply)),
            ..Access::default()
        };
        let scopes: Option<Vec<String>> = self.scopes.as_ref().and_then(|s| s.texts(reply)).map(|texts| {
            let mut list: Vec<String> = Vec::new();
            for t in texts.iter().flat_map(|t| t.split(',')) {
                let t = clip(t);
                if !t.is_empty() && !list.contains(&t) && list.len() < MAX_SCOPES {
                    list.push(t);
                }
            }
            list
        });
        for (name, source) in &self.facts {
            if let Some(value) = source.one(reply) {
                access.facts.insert(name.clone(), value);
            }
        }
        let admin = match &self.admin {
            Some(AdminSpec::Always(b)) => *b,
            Some(AdminSpec::When(test)) => test.passes(reply),
            None => false,
        };
        access.level = if admin { Some(Level::Admin) } else { self.classify(scopes.as_deref()).or(self.level) };
        access.admin = access.level == Some(Level::Admin);
        access.scopes = scopes.unwrap_or_default();
        (!access.is_empty()).then_some(access)
    }

    /// The level a scope list grants; `None` when the lists cannot tell.
    fn classify(&self, scopes: Option<&[String]>) -> Option<Level> {
        let scopes = scopes?;
        let any = |patterns: &[String]| scopes.iter().any(|s| patterns.iter().any(|p| glob(p, s)));
        if any(&self.admin_scopes) {
            return Some(Level::Admin);
        }
        if any(&self.write_scopes) {
            return Some(Level::Write);
        }
        let all_read = scopes.iter().all(|s| self.read_scopes.iter().any(|p| glob(p, s)));
        all_read.then_some(Level::Read)
    }
}

impl VerifySpec {
    /// Checks the spec is usable; the message names what is wrong.
    pub fn validate(&self) -> Result<(), String> {
        if self.unavailable.is_some() {
            return Ok(());
        }
        if !self.url.starts_with("https://") {
            return Err(format!("verify.url must be https:// (got `{}`)", self.url));
        }
        if url::Url::parse(&self.url).map_or(true, |u| u.host_str().is_none()) {
            return Err(format!("verify.url `{}` is not a valid URL", self.url));
        }
        if !matches!(self.method.as_str(), "GET" | "POST" | "HEAD") {
            return Err(format!("verify.method must be GET, POST or HEAD (got `{}`)", self.method));
        }
        if !self.verdicts.iter().any(|v| v.result == Status::Live) {
            return Err("verify.verdicts needs at least one `live` verdict".into());
        }
        for (n, v) in self.verdicts.iter().enumerate() {
            let what = format!("verify.verdicts[{n}] (status {})", v.status);
            match self.answer {
                AnswerFormat::Json if v.body_contains.is_some() => {
                    return Err(format!(
                        "{what}: `body_contains` reads text; this answer is JSON: test a value with \
                         `json = {{ pointer = \"/...\", equals = ... }}` (or declare `answer = \"xml\"`/`\"text\"`)"
                    ));
                }
                AnswerFormat::Xml | AnswerFormat::Text if v.json.is_some() => {
                    return Err(format!("{what}: `json` needs `answer = \"json\"`"));
                }
                _ => {}
            }
            if let Some(test) = &v.json {
                if test.pointer.is_none() {
                    return Err(format!("{what}: `json` needs a `pointer`"));
                }
                test.validate(&format!("{what}.json"))?;
            }
            if v.next_candidate && self.scheme.as_deref() != Some(AWS_STS) {
                return Err(format!("{what}: `next_candidate` is for the aws-sts scheme"));
            }
            if let Some(q) = &v.qualifier
                && q.replace("{host}", "").contains('{')
            {
                return Err(format!("{what}: a qualifier may only hold `{{host}}`"));
            }
        }
        for pointer in &self.detail {
            check_pointer(pointer, "verify.detail")?;
        }
        if !self.detail.is_empty() && self.answer != AnswerFormat::Json {
            return Err("verify.detail holds JSON pointers: it needs `answer = \"json\"`".into());
        }
        if let Some(access) = &self.access {
            access.validate(self.answer)?;
        }
        match self.scheme.as_deref() {
            None => {}
            Some(AWS_STS) if self.pair.is_some() => return Ok(()),
            Some(AWS_STS) => return Err("verify.scheme aws-sts needs `pair` (the other half's rule id)".into()),
            Some(other) => return Err(format!("unknown verify.scheme `{other}` (known: aws-sts)")),
        }
        let authority = self.url["https://".len()..].split(['/', '?', '#']).next().unwrap_or_default();
        if authority.contains('{') {
            return Err(format!(
                "verify.url `{}`: the host must be fixed (a scanned file must never choose where a key is sent)",
                self.url
            ));
        }
        let sends_secret = self.templates().any(|t| {
            placeholders(t).any(|p| {
                matches!(
                    p,
                    Placeholder::Secret | Placeholder::Basic(Part::Secret, _) | Placeholder::Basic(_, Part::Secret)
                )
            })
        });
        if !sends_secret {
            return Err("verify sends no `{secret}`: put it in a header, the body or the URL".into());
        }
        Ok(())
    }

    /// Whether a template names the rule's companion (the public half).
    pub fn uses_companion(&self) -> bool {
        self.templates().any(|t| {
            placeholders(t).any(|p| {
                matches!(
                    p,
                    Placeholder::Companion
                        | Placeholder::Basic(Part::Companion, _)
                        | Placeholder::Basic(_, Part::Companion)
                )
            })
        })
    }

    /// The URL, header values and body: every text a request is built from.
    fn templates(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.url.as_str()).chain(self.headers.values().map(String::as_str)).chain(self.body.as_deref())
    }

    /// The body parsed, for a JSON answer.
    pub fn parse(&self, body: &str) -> Option<Value> {
        if self.answer != AnswerFormat::Json {
            return None;
        }
        serde_json::from_str(body).ok()
    }

    /// The first verdict matching the answer.
    pub fn verdict(&self, reply: &Reply) -> Option<&Verdict> {
        self.verdicts.iter().find(|v| {
            v.status == reply.status
                && v.body_contains.as_deref().is_none_or(|needle| reply.body.contains(needle))
                && v.json.as_ref().is_none_or(|test| test.passes(reply))
        })
    }

    /// Values of the `detail` pointers found in a JSON body, as `k=v` text.
    pub fn details(&self, json: Option<&Value>) -> Option<String> {
        if self.detail.is_empty() {
            return None;
        }
        let json = json?;
        let parts: Vec<String> = self
            .detail
            .iter()
            .filter_map(|pointer| {
                let value = json.pointer(pointer)?;
                let name = pointer.rsplit('/').next().unwrap_or(pointer);
                let text = match value {
                    Value::String(s) => s.clone(),
                    Value::Null => return None,
                    other => other.to_string(),
                };
                Some(format!("{name}={}", text.chars().take(80).collect::<String>()))
            })
            .collect();
        (!parts.is_empty()).then(|| parts.join(", "))
    }
}

/// A part of HTTP Basic credentials in `{basic:USER:PASSWORD}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part<'t> {
    Secret,
    Companion,
    /// A fixed word (`api` in Mailgun's `api:KEY`), or nothing.
    Literal(&'t str),
}

/// What a `{...}` in a template stands for. Any other braces (a JSON body,
/// a GraphQL query) are literal text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Placeholder<'t> {
    Secret,
    Companion,
    /// Base64 of `USER:PASSWORD`, for an `Authorization: Basic` header.
    Basic(Part<'t>, Part<'t>),
}

/// Splits `template` into literal text and placeholders, in order.
fn pieces(template: &str) -> Vec<Result<Placeholder<'_>, &str>> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}').map(|c| open + c) else { break };
        match placeholder(&rest[open + 1..close]) {
            Some(p) => {
                out.push(Err(&rest[..open]));
                out.push(Ok(p));
                rest = &rest[close + 1..];
            }
            None => {
                out.push(Err(&rest[..open + 1]));
                rest = &rest[open + 1..];
            }
        }
    }
    out.push(Err(rest));
    out
}

fn placeholders(template: &str) -> impl Iterator<Item = Placeholder<'_>> {
    pieces(template).into_iter().filter_map(Result::ok)
}

fn part(word: &str) -> Option<Part<'_>> {
    match word {
        "secret" => Some(Part::Secret),
        "companion" => Some(Part::Companion),
        w if w.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') => Some(Part::Literal(w)),
        _ => None,
    }
}

fn placeholder(inside: &str) -> Option<Placeholder<'_>> {
    match inside {
        "secret" => Some(Placeholder::Secret),
        "companion" => Some(Placeholder::Companion),
        _ => {
            let (user, password) = inside.strip_prefix("basic:")?.split_once(':')?;
            Some(Placeholder::Basic(part(user)?, part(password)?))
        }
    }
}

/// Fills a template's placeholders: `{secret}`, `{companion}` (each passed
/// through `escape`, which URL-encodes them in a URL), and `{basic:U:P}`.
/// `None` when it names a companion that was not found.
pub fn fill(template: &str, secret: &str, companion: Option<&str>, escape: &dyn Fn(&str) -> String) -> Option<String> {
    use base64::Engine as _;
    let value = |part: Part| -> Option<String> {
        Some(match part {
            Part::Secret => secret.to_string(),
            Part::Companion => companion?.to_string(),
            Part::Literal(word) => word.to_string(),
        })
    };
    let mut out = String::with_capacity(template.len() + secret.len());
    for piece in pieces(template) {
        match piece {
            Err(text) => out.push_str(text),
            Ok(Placeholder::Secret) => out.push_str(&escape(secret)),
            Ok(Placeholder::Companion) => out.push_str(&escape(companion?)),
            Ok(Placeholder::Basic(user, password)) => {
                let pair = format!("{}:{}", value(user)?, value(password)?);
                out.push_str(&base64::engine::general_purpose::STANDARD.encode(pair));
            }
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_fill_secret_companion_and_basic_credentials() {
        let id = |s: &str| s.to_string();
        assert_eq!(fill("Bearer {secret}", "k", None, &id).as_deref(), Some("Bearer k"));
        // base64("AC1:tok"), base64("api:tok"), base64(":tok")
        assert_eq!(
            fill("Basic {basic:companion:secret}", "tok", Some("AC1"), &id).as_deref(),
            Some("Basic QUMxOnRvaw==")
        );
        assert_eq!(fill("Basic {basic:api:secret}", "tok", None, &id).as_deref(), Some("Basic YXBpOnRvaw=="));
        assert_eq!(fill("Basic {basic::secret}", "tok", None, &id).as_deref(), Some("Basic OnRvaw=="));
        assert_eq!(fill("{companion}", "tok", None, &id), None);
        // Braces that are not placeholders stay as they are.
        let body = r#"{"query":"{ viewer { id } }","k":"{secret}"}"#;
        assert_eq!(fill(body, "tok", None, &id).as_deref(), Some(r#"{"query":"{ viewer { id } }","k":"tok"}"#));
    }

    #[test]
    fn the_host_is_never_a_placeholder() {
        let spec = |url: &str| VerifySpec {
            unavailable: None,
            method: "GET".into(),
            url: url.into(),
            headers: BTreeMap::from([("Authorization".to_string(), "Bearer {secret}".to_string())]),
            body: None,
            answer: AnswerFormat::Json,
            verdicts: vec![Verdict {
                status: 200,
                body_contains: None,
                json: None,
                result: Status::Live,
                qualifier: None,
                note: None,
                next_candidate: false,
            }],
            detail: vec![],
            access: None,
            scheme: None,
            pair: None,
        };
        assert!(spec("https://api.example.com/v1/{companion}/me").validate().is_ok());
        assert!(spec("https://{companion}/api/v1/users/me").validate().is_err());
        assert!(spec("https://api-{companion}.example.com/v1").validate().is_err());
        assert!(!spec("https://api.example.com/v1").uses_companion());
    }

    fn spec(toml_text: &str) -> VerifySpec {
        #[derive(Deserialize)]
        struct Wrap {
            verify: VerifySpec,
        }
        let w: Wrap = toml::from_str(toml_text).unwrap();
        w.verify.validate().unwrap();
        w.verify
    }

    fn reply<'a>(status: u16, body: &'a str, json: Option<&'a Value>, headers: &'a [(String, String)]) -> Reply<'a> {
        Reply { status, body, json, headers }
    }

    const SLACK: &str = r#"
[verify]
method = "POST"
url = "https://slack.com/api/auth.test"
headers = { Authorization = "Bearer {secret}" }
verdicts = [
  { status = 200, json = { pointer = "/ok", equals = true }, result = "live" },
  { status = 200, json = { pointer = "/error", one_of = ["token_revoked", "token_expired"] }, result = "invalid" },
  { status = 200, json = { pointer = "/error", equals = "invalid_auth" }, result = "invalid", note = "or an IP allowlist" },
]
[verify.access]
identity = "/user"
account = "/team"
scopes = { header = "x-oauth-scopes" }
admin_scopes = ["admin", "admin.*"]
write_scopes = ["*:write", "*:write.*"]
read_scopes = ["*:read"]
"#;

    #[test]
    fn json_verdicts_read_values_not_text() {
        let s = spec(SLACK);
        for body in [r#"{"ok":true,"team":"Acme","user":"bot"}"#, "{\n  \"ok\": true,\n  \"team\": \"Acme\"\n}"] {
            let json = s.parse(body);
            let v = s.verdict(&reply(200, body, json.as_ref(), &[])).expect(body);
            assert_eq!(v.result, Status::Live, "{body}");
        }
        // A word in another field is not the field.
        let body = r#"{"ok":false,"error":"invalid_auth","warning":"\"ok\":true"}"#;
        let json = s.parse(body);
        let v = s.verdict(&reply(200, body, json.as_ref(), &[])).unwrap();
        assert_eq!((v.result, v.note.as_deref()), (Status::Invalid, Some("or an IP allowlist")));
        let body = r#"{"ok": false, "error": "token_revoked"}"#;
        let json = s.parse(body);
        assert_eq!(s.verdict(&reply(200, body, json.as_ref(), &[])).unwrap().result, Status::Invalid);
        let body = r#"{"ok":false,"error":"ratelimited"}"#;
        let json = s.parse(body);
        assert!(s.verdict(&reply(200, body, json.as_ref(), &[])).is_none());
        assert!(s.verdict(&reply(200, "not json", None, &[])).is_none());
    }

    #[test]
    fn access_from_body_and_headers() {
        let s = spec(SLACK);
        let access = s.access.as_ref().unwrap();
        let body = r#"{"ok":true,"team":"Acme","user":"deploy-bot"}"#;
        let json = s.parse(body);
        let headers = vec![("x-oauth-scopes".to_string(), "chat:write,channels:read".to_string())];
        let got = access.read(&reply(200, body, json.as_ref(), &headers)).unwrap();
        assert_eq!(got.identity.as_deref(), Some("deploy-bot"));
        assert_eq!(got.account.as_deref(), Some("Acme"));
        assert_eq!(got.scopes, ["chat:write", "channels:read"]);
        assert_eq!((got.level, got.admin), (Some(Level::Write), false));
        let headers = vec![("X-OAuth-Scopes".to_string(), "channels:read, users:read".to_string())];
        assert_eq!(access.read(&reply(200, body, json.as_ref(), &headers)).unwrap().level, Some(Level::Read));
        let headers = vec![("x-oauth-scopes".to_string(), "admin,chat:write".to_string())];
        let got = access.read(&reply(200, body, json.as_ref(), &headers)).unwrap();
        assert_eq!((got.level, got.admin), (Some(Level::Admin), true));
        // Scopes the lists do not know: no level.
        let headers = vec![("x-oauth-scopes".to_string(), "commands".to_string())];
        assert_eq!(access.read(&reply(200, body, json.as_ref(), &headers)).unwrap().level, None);
    }

    #[test]
    fn pointers_with_wildcards_and_numbers() {
        let json: Value = serde_json::from_str(
            r#"{"error":{"code":190,"details":[{"@type":"x"},{"reason":"API_KEY_INVALID"}]},"orgs":[{"name":"a"},{"name":"b"}]}"#,
        )
        .unwrap();
        let r = reply(400, "", Some(&json), &[]);
        let test = |t: &str| toml::from_str::<Test>(t).unwrap().passes(&r);
        assert!(test(
            r#"pointer = "/error/details/*/reason"
equals = "API_KEY_INVALID""#
        ));
        assert!(test(
            r#"pointer = "/error/code"
equals = 190"#
        ));
        assert!(test(
            r#"pointer = "/**"
contains = "KEY_INV""#
        ));
        assert!(!test(
            r#"pointer = "/error/missing"
exists = true"#
        ));
        assert!(test(
            r#"pointer = "/error/missing"
exists = false"#
        ));
        let names = Source::Pointer("/orgs/*/name".into());
        assert_eq!(names.one(&r).as_deref(), Some("a, b"));
        assert!(glob("write:*", "write:packages") && glob("*.read", "mail.read") && !glob("*.read", "mail.send"));
        assert!(glob("chat:write*", "chat:write.public") && glob("admin", "admin") && !glob("admin", "admin.users"));
    }

    #[test]
    fn body_text_only_for_non_json_answers() {
        let bad = r#"
[verify]
url = "https://api.example.com/v1"
headers = { Authorization = "Bearer {secret}" }
verdicts = [{ status = 200, body_contains = '"ok":true', result = "live" }]
"#;
        #[derive(Deserialize)]
        struct Wrap {
            verify: VerifySpec,
        }
        let w: Wrap = toml::from_str(bad).unwrap();
        assert!(w.verify.validate().unwrap_err().contains("JSON"));
        let xml = bad.replace("verdicts", "answer = \"xml\"\nverdicts");
        let w: Wrap = toml::from_str(&xml).unwrap();
        assert!(w.verify.validate().is_ok());
    }
}
