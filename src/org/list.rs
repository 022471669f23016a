//! The `--repos FILE` list: one repository per line, a local path or a git
//! URL, and the normalized id each line is known by (for sharding, clone
//! folders and the report's display paths).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// One repository from the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoEntry {
    /// The line as given (trimmed), except that a password or token in a
    /// URL is shown as `***`: what findings' `repository` field says.
    pub name: String,
    /// Where the repository is.
    pub location: Location,
    /// The normalized id (see [`normalize_id`]).
    pub id: String,
    /// 1-based line number in the list.
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A path on this machine, audited in place.
    Local(PathBuf),
    /// A URL the system `git` can clone (`https://`, `ssh://`, `git://`,
    /// `file://`, or scp-like `git@host:org/repo.git`), exactly as given
    /// (credentials included: only git sees it).
    Remote(String),
}

/// A parsed list: the repositories, and lines dropped with the reason.
#[derive(Debug, Default)]
pub struct RepoList {
    pub entries: Vec<RepoEntry>,
    /// `line N: ...` for each line that was dropped (a repository listed
    /// twice under two spellings).
    pub warnings: Vec<String>,
}

/// Reads and parses a list file.
pub fn read_repo_list(path: &Path) -> Result<RepoList> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read repository list {}", path.display()))?;
    let list = parse_repo_list(&text);
    if list.entries.is_empty() {
        anyhow::bail!("{} lists no repositories (one path or git URL per line; `#` starts a comment)", path.display());
    }
    Ok(list)
}

/// Parses a list: one repository per line; blank lines and lines whose first
/// non-blank character is `#` are ignored. A repository listed twice (the
/// same normalized id, e.g. its https and ssh URLs) is kept once, with a
/// warning.
pub fn parse_repo_list(text: &str) -> RepoList {
    let mut list = RepoList::default();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let id = normalize_id(line);
        if let Some(first) = seen.get(&id) {
            list.warnings.push(format!(
                "line {}: {} is the repository of line {first}; listed once",
                n + 1,
                redact(line)
            ));
            continue;
        }
        seen.insert(id.clone(), n + 1);
        let location = if is_url(line) { Location::Remote(line.to_string()) } else { Location::Local(line.into()) };
        list.entries.push(RepoEntry { name: redact(line), location, id, line: n + 1 });
    }
    list
}

/// Whether `text` is something git clones rather than a local path. Git's
/// own rule: `scheme://...`, or scp-like `[user@]host:path` (a colon before
/// any slash).
pub fn is_url(text: &str) -> bool {
    if text.contains("://") {
        return true;
    }
    match (text.find(':'), text.find('/')) {
        (Some(colon), Some(slash)) => colon < slash,
        (Some(_), None) => true,
        (None, _) => false,
    }
}

/// The repository's identity, independent of how the line spells it:
///
/// - URLs: `host[:port]/path`, host lowercased, user and password dropped,
///   scheme dropped (`https://github.com/Acme/api.git` and
///   `git@github.com:Acme/api` are both `github.com/Acme/api`);
/// - `file://` URLs: the path (`file:///srv/git/api.git` is `/srv/git/api`);
/// - local paths: as given, without a leading `./`.
///
/// In every case without trailing `/`, `/.git` or `.git`. Paths keep their
/// case (many servers are case-sensitive). Nothing depends on the machine,
/// so every shard of a run computes the same ids.
pub fn normalize_id(text: &str) -> String {
    let text = text.trim();
    let id = if let Some((scheme, rest)) = text.split_once("://") {
        if scheme.eq_ignore_ascii_case("file") {
            // file://host/path: only an empty host or localhost are local.
            let path = rest.strip_prefix("localhost").unwrap_or(rest);
            path.to_string()
        } else {
            let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
            let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
            format!("{}/{}", host.to_ascii_lowercase(), path.trim_start_matches('/'))
        }
    } else if is_url(text) {
        let (authority, path) = text.split_once(':').unwrap_or((text, ""));
        let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
        format!("{}/{}", host.to_ascii_lowercase(), path.trim_start_matches('/'))
    } else {
        let mut path = text;
        while let Some(rest) = path.strip_prefix("./") {
            path = rest;
        }
        path.to_string()
    };
    trim_repo_suffix(&id).to_string()
}

/// Drops trailing `/`, then `/.git` or `.git` (repeatedly: `api.git/`).
fn trim_repo_suffix(mut id: &str) -> &str {
    loop {
        let before = id;
        id = id.trim_end_matches('/');
        id = id.strip_suffix("/.git").or_else(|| id.strip_suffix(".git")).unwrap_or(id);
        if id == before || id.is_empty() {
            return if id.is_empty() { before } else { id };
        }
    }
}

/// `text` with a URL's credentials hidden: `https://user:TOKEN@host` and
/// `https://TOKEN@host` (GitHub accepts a token as the user name) become
/// `https://user:***@host` and `https://***@host`. An ssh user name (`git@`)
/// is not a secret and stays.
pub fn redact(text: &str) -> String {
    let Some((scheme, rest)) = text.split_once("://") else { return text.to_string() };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else { return text.to_string() };
    let userinfo = &rest[..at];
    let shown = match userinfo.split_once(':') {
        Some((user, _)) => format!("{user}:***"),
        None if scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https") => "***".to_string(),
        None => userinfo.to_string(),
    };
    format!("{scheme}://{shown}{}", &rest[at..])
}

/// Replaces every credential of `url` (as given) found in `text` (git's
/// error messages may repeat the URL) with its redacted form.
pub fn scrub(text: &str, url: &str) -> String {
    let redacted = redact(url);
    if redacted == url { text.to_string() } else { text.replace(url, &redacted) }
}

/// What text, HTML and SARIF reports show for a finding at `path` in
/// `repository` (a list line): `id/path`, e.g. `github.com/acme/api/src/app.py`.
pub fn display_path(repository: &str, path: &str) -> String {
    format!("{}/{path}", normalize_id(repository))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_ignore_spelling() {
        let same = [
            "https://github.com/Acme/api.git",
            "https://GitHub.com/Acme/api",
            "https://github.com/Acme/api/",
            "https://x-access-token:secret@github.com/Acme/api.git",
            "git@github.com:Acme/api.git",
            "ssh://git@github.com/Acme/api",
        ];
        for text in same {
            assert_eq!(normalize_id(text), "github.com/Acme/api", "{text}");
        }
        assert_eq!(normalize_id("file:///srv/git/api.git"), "/srv/git/api");
        assert_eq!(normalize_id("file://localhost/srv/git/api.git/"), "/srv/git/api");
        assert_eq!(normalize_id("./repos/web/"), "repos/web");
        assert_eq!(normalize_id("/home/me/web/.git"), "/home/me/web");
        assert_eq!(normalize_id("https://git.example.com:8443/team/tool.git"), "git.example.com:8443/team/tool");
        assert_ne!(normalize_id("https://github.com/acme/api"), normalize_id("https://github.com/acme/api2"));
    }

    #[test]
    fn urls_and_paths() {
        assert!(is_url("https://github.com/a/b"));
        assert!(is_url("git@github.com:a/b.git"));
        assert!(is_url("file:///tmp/x"));
        assert!(!is_url("/tmp/x"));
        assert!(!is_url("./a:b"));
        assert!(!is_url("repos/api"));
    }

    #[test]
    fn parsing_skips_comments_blanks_and_duplicates() {
        let list = parse_repo_list(
            "# our repos\n\nhttps://github.com/acme/api.git\n  /srv/web  \n   # indented comment\ngit@github.com:acme/api\n",
        );
        assert_eq!(list.entries.len(), 2);
        assert_eq!(list.entries[0].name, "https://github.com/acme/api.git");
        assert_eq!(list.entries[0].line, 3);
        assert_eq!(list.entries[1].location, Location::Local("/srv/web".into()));
        assert_eq!(list.warnings.len(), 1);
        assert!(list.warnings[0].starts_with("line 6:"), "{:?}", list.warnings);
    }

    #[test]
    fn credentials_never_shown() {
        assert_eq!(redact("https://bot:ghp_abc@github.com/a/b"), "https://bot:***@github.com/a/b");
        assert_eq!(redact("https://ghp_abc@github.com/a/b"), "https://***@github.com/a/b");
        assert_eq!(redact("ssh://git@github.com/a/b"), "ssh://git@github.com/a/b");
        assert_eq!(redact("git@github.com:a/b"), "git@github.com:a/b");
        let list = parse_repo_list("https://bot:ghp_abc@github.com/a/b\n");
        assert_eq!(list.entries[0].name, "https://bot:***@github.com/a/b");
        assert_eq!(list.entries[0].location, Location::Remote("https://bot:ghp_abc@github.com/a/b".into()));
        assert_eq!(
            scrub("fatal: https://bot:ghp_abc@github.com/a/b not found", "https://bot:ghp_abc@github.com/a/b"),
            "fatal: https://bot:***@github.com/a/b not found"
        );
    }

    #[test]
    fn display_paths_name_the_repository() {
        assert_eq!(display_path("git@github.com:acme/api.git", "src/app.py"), "github.com/acme/api/src/app.py");
        assert_eq!(display_path("/srv/web", ".env"), "/srv/web/.env");
    }
}
