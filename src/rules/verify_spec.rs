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
        if !self.headers.values().any(|v| v.contains("{secret}"))
            && !self.body.as_deref().unwrap_or_default().contains("{secret}")
            && !self.url.contains("{secret}")
        {
            return Err("verify sends no `{secret}`: put it in a header, the body or the URL".into());
        }
        Ok(())
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
