//! The only code that sends a secret over the network, built so it can only
//! reach the provider's official host:
//!
//! - HTTPS only, to the URL in a built-in rule; redirects are never followed;
//! - every DNS answer is checked: private, loopback, link-local and other
//!   non-public addresses are refused, so DNS cannot point a key at an
//!   internal service;
//! - the one exception is a `--verify-endpoint` override, which must itself
//!   be a loopback address (tests and local mocks), never anything else;
//! - `--github-api` / `--gitlab-url` (command line only) name the user's own
//!   instance: HTTPS only; its host may resolve to a private network address
//!   (an internal GitHub Enterprise Server), never to loopback, link-local
//!   (cloud metadata) or other special addresses;
//! - a POST without a body says `Content-Length: 0`;
//! - errors never include the request (the secret is in its headers).

use std::collections::BTreeMap;
use std::io::Read;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::time::Duration;

use anyhow::{Result, bail};

/// Largest response body read (a model list is a few dozen KiB; a JSON
/// answer cut short is not parsed, so no verdict and no `access`).
const MAX_BODY: u64 = 256 * 1024;
/// Most response headers kept, and the longest value.
const MAX_HEADERS: usize = 100;
const MAX_HEADER_VALUE: usize = 4096;

/// A replacement for one provider's official scheme, host and port, with an
/// optional path prefix: `openai=http://127.0.0.1:8080/p/openai`.
#[derive(Debug, Clone)]
pub struct EndpointOverride {
    pub provider: String,
    base: url::Url,
}

impl EndpointOverride {
    /// Parses `PROVIDER=URL`; refuses anything but a loopback URL.
    pub fn parse(text: &str) -> Result<EndpointOverride> {
        let Some((provider, url)) = text.split_once('=') else {
            bail!("--verify-endpoint expects PROVIDER=URL, got `{text}`");
        };
        let base = url::Url::parse(url).map_err(|e| anyhow::anyhow!("--verify-endpoint {provider}: bad URL: {e}"))?;
        let loopback = match base.host() {
            Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        };
        if !loopback || !matches!(base.scheme(), "http" | "https") {
            bail!(
                "--verify-endpoint {provider}={url} refused: overrides exist for tests and must point at a loopback \
                 address (127.0.0.0/8, ::1, localhost); keys are otherwise only sent to each provider's official host"
            );
        }
        Ok(EndpointOverride { provider: provider.to_string(), base })
    }

    /// `official` with this override's scheme, host and port, and its path
    /// in front of the official path.
    pub fn apply(&self, official: &url::Url) -> String {
        let prefix = self.base.path().trim_end_matches('/');
        let query = official.query().map(|q| format!("?{q}")).unwrap_or_default();
        format!("{}{prefix}{}{query}", self.base.origin().ascii_serialization(), official.path())
    }
}

/// The user's own instance of a provider (`--github-api`,
/// `--gitlab-url`): its checks go there instead of the public service.
#[derive(Debug, Clone)]
pub struct Instance {
    pub provider: String,
    base: url::Url,
}

impl Instance {
    /// `flag` names the option in messages. HTTPS only, with a host, no
    /// credentials, query or fragment.
    pub fn parse(provider: &str, flag: &str, text: &str) -> Result<Instance> {
        let base = url::Url::parse(text).map_err(|e| anyhow::anyhow!("{flag} {text}: bad URL: {e}"))?;
        if base.scheme() != "https" {
            bail!("{flag} {text} refused: the instance must be an https:// URL (keys are never sent in clear text)");
        }
        if base.host_str().is_none_or(str::is_empty) {
            bail!("{flag} {text}: the URL has no host");
        }
        if !base.username().is_empty()
            || base.password().is_some()
            || base.query().is_some()
            || base.fragment().is_some()
        {
            bail!("{flag} {text}: give the plain base URL, without credentials, query or fragment");
        }
        Ok(Instance { provider: provider.to_string(), base })
    }

    pub fn url(&self) -> &str {
        self.base.as_str()
    }

    pub fn host(&self) -> String {
        self.base.host_str().unwrap_or_default().to_ascii_lowercase()
    }

    /// `official` on this instance: its origin, with the instance's path
    /// (`/api/v3`) in place of the public API's (`https://api.github.com/user`
    /// becomes `https://ghe.example.com/api/v3/user`; GitLab's
    /// `https://gitlab.com/api/v4/...` keeps its `/api/v4` under the
    /// instance's path).
    pub fn apply(&self, official: &url::Url) -> Option<url::Url> {
        let prefix = self.base.path().trim_end_matches('/');
        let query = official.query().map(|q| format!("?{q}")).unwrap_or_default();
        url::Url::parse(&format!("{}{prefix}{}{query}", self.base.origin().ascii_serialization(), official.path())).ok()
    }
}

/// A response: status, headers and (the start of) the body.
pub struct Answer {
    pub status: u16,
    pub body: String,
    /// Names in lowercase.
    pub headers: Vec<(String, String)>,
    pub retry_after: Option<Duration>,
}

/// Why no answer came back; never contains the secret.
#[derive(Debug)]
pub enum Failure {
    Timeout,
    Connection(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Timeout => write!(f, "timed out"),
            Failure::Connection(why) => write!(f, "{why}"),
        }
    }
}

pub struct Client {
    agent: ureq::Agent,
}

impl Client {
    /// `allow_loopback`: the overrides' hosts may resolve to loopback.
    /// `instances`: hosts the user named on the command line, which may
    /// resolve to private network addresses.
    pub fn new(timeout: Duration, allow_loopback: bool, instances: Vec<String>) -> Client {
        let agent = ureq::AgentBuilder::new()
            .timeout(timeout)
            .redirects(0)
            .user_agent(concat!("leakhound/", env!("CARGO_PKG_VERSION"), " (secret verification)"))
            .resolver(move |addr: &str| -> std::io::Result<Vec<SocketAddr>> {
                let host = addr.rsplit_once(':').map_or(addr, |(h, _)| h).trim_matches(['[', ']']);
                let instance = instances.iter().any(|i| i.eq_ignore_ascii_case(host));
                let resolved: Vec<SocketAddr> = addr.to_socket_addrs()?.collect();
                let allowed: Vec<SocketAddr> = resolved
                    .into_iter()
                    .filter(|a| {
                        is_public(a.ip())
                            || (allow_loopback && a.ip().is_loopback())
                            || (instance && is_private_network(a.ip()))
                    })
                    .collect();
                if allowed.is_empty() {
                    return Err(std::io::Error::other("refused: the host resolves only to non-public addresses"));
                }
                Ok(allowed)
            })
            .build();
        Client { agent }
    }

    /// Sends one request. `url` is either an official `https://` URL or an
    /// already-vetted loopback override.
    pub fn send(
        &self,
        method: &str,
        url: &str,
        headers: &BTreeMap<String, String>,
        body: Option<&str>,
    ) -> Result<Answer, Failure> {
        let mut request = self.agent.request(method, url);
        for (name, value) in headers {
            request = request.set(name, value);
        }
        let result = match body {
            Some(b) => request.send_string(b),
            // An empty POST still says how long its body is: some
            // providers answer 411 Length Required without it.
            None if method == "POST" => request.set("Content-Length", "0").call(),
            None => request.call(),
        };
        let response = match result {
            Ok(r) | Err(ureq::Error::Status(_, r)) => r,
            Err(ureq::Error::Transport(t)) => return Err(describe(&t)),
        };
        let status = response.status();
        let retry_after =
            response.header("retry-after").and_then(|v| v.trim().parse::<u64>().ok()).map(Duration::from_secs);
        let headers: Vec<(String, String)> = response
            .headers_names()
            .into_iter()
            .take(MAX_HEADERS)
            .map(|name| {
                let value: String = response.all(&name).join(", ").chars().take(MAX_HEADER_VALUE).collect();
                (name.to_ascii_lowercase(), value)
            })
            .collect();
        let mut body = String::new();
        let _ = response.into_reader().take(MAX_BODY).read_to_string(&mut body);
        Ok(Answer { status, body, headers, retry_after })
    }
}

/// A transport error in words, without the URL's query or any header.
fn describe(error: &ureq::Transport) -> Failure {
    let text = error.to_string().to_ascii_lowercase();
    if text.contains("timed out") || text.contains("timeout") || text.contains("would block") {
        return Failure::Timeout;
    }
    let kind = match error.kind() {
        ureq::ErrorKind::Dns => "DNS lookup failed",
        ureq::ErrorKind::ConnectionFailed => "connection failed",
        ureq::ErrorKind::TooManyRedirects => "redirect not followed",
        ureq::ErrorKind::InsecureRequestHttpsOnly => "refused: not HTTPS",
        ureq::ErrorKind::Io => "connection error",
        _ => "request failed",
    };
    let why = error.message().map(|m| format!("{kind}: {m}")).unwrap_or_else(|| kind.to_string());
    Failure::Connection(why)
}

/// Private network addresses (RFC 1918, CGNAT, IPv6 unique local): where
/// a user's own instance may live. Never loopback, link-local or metadata.
pub fn is_private_network(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_private() || (a == 100 && (64..128).contains(&b))
        }
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_private_network(IpAddr::V4(v4)),
            None => (v6.segments()[0] & 0xfe00) == 0xfc00,
        },
    }
}

/// Public unicast addresses only: not private, loopback, link-local,
/// unspecified, documentation, benchmarking, CGNAT, multicast or broadcast.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b)) // CGNAT
                || (a == 198 && (b == 18 || b == 19)) // benchmarking
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local
                || (first & 0xffc0) == 0xfe80 // link local
                || first == 0x2001 && v6.segments()[1] == 0x0db8) // documentation
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_pass() {
        for ip in ["10.0.0.1", "172.16.5.4", "192.168.1.1", "127.0.0.1", "169.254.169.254", "100.64.0.1", "0.0.0.0"] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["::1", "fe80::1", "fd00::1", "::ffff:10.0.0.1"] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        assert!(is_public("104.18.7.192".parse().unwrap()));
        assert!(is_public("2606:4700::6810:7c0".parse().unwrap()));
    }

    #[test]
    fn instances_are_https_and_keep_their_path() {
        let gh = Instance::parse("github", "--github-api", "https://ghe.example.com/api/v3").unwrap();
        let official = url::Url::parse("https://api.github.com/user").unwrap();
        assert_eq!(gh.apply(&official).unwrap().as_str(), "https://ghe.example.com/api/v3/user");
        let gl = Instance::parse("gitlab", "--gitlab-url", "https://gitlab.example.com/").unwrap();
        let official = url::Url::parse("https://gitlab.com/api/v4/personal_access_tokens/self").unwrap();
        assert_eq!(
            gl.apply(&official).unwrap().as_str(),
            "https://gitlab.example.com/api/v4/personal_access_tokens/self"
        );
        for bad in ["http://ghe.example.com/api/v3", "https://u:p@ghe.example.com", "ghe.example.com", "https://x/?a=1"]
        {
            assert!(Instance::parse("github", "--github-api", bad).is_err(), "{bad}");
        }
        assert!(is_private_network("10.1.2.3".parse().unwrap()));
        assert!(is_private_network("fd00::5".parse().unwrap()));
        for ip in ["127.0.0.1", "169.254.169.254", "8.8.8.8", "::1", "fe80::1"] {
            assert!(!is_private_network(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn overrides_must_be_loopback_and_keep_the_official_path() {
        let o = EndpointOverride::parse("openai=http://127.0.0.1:8080/p/openai").unwrap();
        let official = url::Url::parse("https://api.openai.com/v1/models?limit=1").unwrap();
        assert_eq!(o.apply(&official), "http://127.0.0.1:8080/p/openai/v1/models?limit=1");
        assert!(EndpointOverride::parse("openai=http://localhost:9/").is_ok());
        assert!(EndpointOverride::parse("openai=http://[::1]:9/").is_ok());
        for bad in ["openai=https://evil.example.com", "openai=http://10.0.0.5:80", "openai", "openai=ftp://127.0.0.1"]
        {
            assert!(EndpointOverride::parse(bad).is_err(), "{bad}");
        }
    }
}
