//! The declarative verifier a built-in rule may carry (`[rule.verify]`):
//! the schema only; `src/verify/` sends the request.
//!
//! one cheap, read-only request and how to read its answer. Adding a
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
//!   { status = 429, body_contains = "insufficient_quota", result = "live", qualifier = "no-quota" },
//! ]
//! detail = ["/data/0/owned_by"]
//! ```
//!
//! Verdicts are tried in order; the first whose status (and body text, when
//! given) match decides. An answer no verdict covers is `unknown`, never
//! `invalid`: users skip rotating keys reported invalid.

use std::collections::BTreeMap;

use serde::Deserialize;

pub use crate::finding::Status;

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
    #[serde(default)]
    pub verdicts: Vec<Verdict>,
    /// JSON pointers into the response body whose values go into `detail`
    /// (organization, key label, remaining limit).
    #[serde(default)]
    pub detail: Vec<String>,
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

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Verdict {
    pub status: u16,
    #[serde(default)]
    pub body_contains: Option<String>,
    pub result: Status,
    #[serde(default)]
    pub qualifier: Option<String>,
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

    /// The first verdict matching `status` and `body`.
    pub fn verdict(&self, status: u16, body: &str) -> Option<&Verdict> {
        self.verdicts
            .iter()
            .find(|v| v.status == status && v.body_contains.as_deref().is_none_or(|needle| body.contains(needle)))
    }

    /// Values of the `detail` pointers found in a JSON body, as `k=v` text.
    pub fn details(&self, body: &str) -> Option<String> {
        if self.detail.is_empty() {
            return None;
        }
        let json: serde_json::Value = serde_json::from_str(body).ok()?;
        let parts: Vec<String> = self
            .detail
            .iter()
            .filter_map(|pointer| {
                let value = json.pointer(pointer)?;
                let name = pointer.rsplit('/').next().unwrap_or(pointer);
                let text = match value {
                    serde_json::Value::String(s) => s.clone(),
                    serde_json::Value::Null => return None,
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
            verdicts: vec![Verdict { status: 200, body_contains: None, result: Status::Live, qualifier: None }],
            detail: vec![],
            scheme: None,
            pair: None,
        };
        assert!(spec("https://api.example.com/v1/{companion}/me").validate().is_ok());
        assert!(spec("https://{companion}/api/v1/users/me").validate().is_err());
        assert!(spec("https://api-{companion}.example.com/v1").validate().is_err());
        assert!(!spec("https://api.example.com/v1").uses_companion());
    }
}
