//! What a change adds: the lines a commit range introduced (CI) and the
//! lines staged for the next commit (pre-commit). Only added lines count, so
//! a key that was already on the base branch is not blamed on a pull
//! request, and a hook does not re-report what is already committed.
//!
//! A change is a [`ChangedText`]: some text of the new version of a file
//! (the whole file, or a hunk with its context) and which of its lines were
//! added. Scanning the surrounding context, not just the added lines, lets
//! context rules see a keyword on a neighbouring unchanged line.

use std::collections::{BTreeSet, HashMap};
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

/// Text of the new version of a file, and the added lines within it.
#[derive(Debug, Default)]
pub struct ChangedText {
    pub path: String,
    pub text: Vec<u8>,
    /// Line number (in the new file) of the first line of `text`.
    pub first_line: usize,
    /// Added line numbers, in new-file numbering.
    pub added: BTreeSet<usize>,
}

/// One commit of a range and what it added.
pub struct CommitChanges {
    pub commit: git2::Oid,
    pub changes: Vec<ChangedText>,
}

/// Binary or oversized files a diff held, reported as skips.
#[derive(Debug, Default)]
pub struct DiffSkips {
    pub binary: Vec<String>,
    pub too_large: Vec<String>,
}

/// The commits of `range` (see [`super::range`] for the forms accepted),
/// oldest first, each with the lines it added. A merge commit counts only
/// lines that are new relative to every parent (a conflict resolution), not
/// the other branch's content.
pub fn range_changes(
    repo: &git2::Repository,
    range: &str,
    max_size: u64,
    skips: &mut DiffSkips,
    notes: &mut Vec<String>,
) -> Result<Vec<CommitChanges>> {
    let resolved = super::range::resolve(repo, range)?;
    notes.extend(resolved.notes.iter().cloned());
    if super::range::is_partial_clone(repo) {
        super::range::prefetch(repo.path(), &resolved)?;
    }
    let readable = |e: git2::Error| anyhow::anyhow!("{} (in the range `{range}`)", e.message());
    let mut walk = repo.revwalk().map_err(readable)?;
    walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::REVERSE).map_err(readable)?;
    walk.push(resolved.tip).map_err(readable)?;
    for hide in &resolved.hide {
        walk.hide(*hide).map_err(readable)?;
    }
    let mut out = Vec::new();
    for oid in walk {
        let oid = oid.map_err(|e| match e.code() {
            git2::ErrorCode::NotFound if repo.is_shallow() => anyhow::anyhow!(
                "the range reaches past this shallow clone's depth: fetch more history (`fetch-depth: 0`)"
            ),
            _ => readable(e),
        })?;
        let commit = repo.find_commit(oid).map_err(readable)?;
        let tree = commit.tree().map_err(readable)?;
        let parent_trees: Vec<git2::Tree> = commit.parents().filter_map(|p| p.tree().ok()).collect();
        let mut per_parent: Vec<HashMap<String, BTreeSet<usize>>> = Vec::new();
        let bases: Vec<Option<&git2::Tree>> =
            if parent_trees.is_empty() { vec![None] } else { parent_trees.iter().map(Some).collect() };
        for base in bases {
            let mut options = git2::DiffOptions::new();
            options.context_lines(0);
            let mut diff = repo.diff_tree_to_tree(base, Some(&tree), Some(&mut options)).map_err(readable)?;
            diff.find_similar(None).map_err(readable)?;
            per_parent.push(added_lines(&diff).map_err(|e| anyhow::anyhow!("{e:#}"))?);
        }
        let added = intersect(per_parent);
        let mut changes = Vec::new();
        for (path, lines) in added {
            let Ok(entry) = tree.get_path(Path::new(&path)) else {
                continue;
            };
            let Ok(blob) = repo.find_blob(entry.id()) else {
                continue;
            };
            if blob.size() as u64 > max_size {
                skips.too_large.push(path);
                continue;
            }
            if blob.is_binary() {
                skips.binary.push(path);
                continue;
            }
            changes.push(ChangedText { path, text: blob.content().to_vec(), first_line: 1, added: lines });
        }
        out.push(CommitChanges { commit: commit.id(), changes });
    }
    Ok(out)
}

/// Added line numbers per new path in `diff`.
fn added_lines(diff: &git2::Diff) -> Result<HashMap<String, BTreeSet<usize>>> {
    let mut added: HashMap<String, BTreeSet<usize>> = HashMap::new();
    diff.foreach(
        &mut |_, _| true,
        None,
        None,
        Some(&mut |delta, _hunk, line| {
            if line.origin() == '+'
                && let (Some(path), Some(n)) = (delta.new_file().path_bytes(), line.new_lineno())
            {
                added.entry(String::from_utf8_lossy(path).into_owned()).or_default().insert(n as usize);
            }
            true
        }),
    )?;
    Ok(added)
}

/// Lines added relative to every parent.
fn intersect(mut per_parent: Vec<HashMap<String, BTreeSet<usize>>>) -> Vec<(String, BTreeSet<usize>)> {
    let mut result = per_parent.pop().unwrap_or_default();
    for other in per_parent {
        result.retain(|path, lines| {
            let Some(theirs) = other.get(path) else {
                return false;
            };
            lines.retain(|l| theirs.contains(l));
            !lines.is_empty()
        });
    }
    let mut result: Vec<_> = result.into_iter().collect();
    result.sort();
    result
}

/// The staged changes (index against HEAD), as hunks with 3 lines of
/// context. Asks `git diff --cached` rather than reading the index with
/// libgit2: for a pre-commit hook on a large repository, git's own index
/// reader and its cached stat data are several times faster (measured in
/// `benches/git_history.sh`).
pub fn staged_changes(work_tree: &Path, skips: &mut DiffSkips) -> Result<Vec<ChangedText>> {
    let mut child = Command::new("git")
        .current_dir(work_tree)
        .args([
            "-c",
            "core.quotePath=false",
            "diff",
            "--cached",
            "--no-color",
            "--no-ext-diff",
            "--no-textconv",
            "--diff-filter=ACMRTU",
            "-U3",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("`leakhound staged` runs `git diff --cached`: is git installed and on PATH?")?;
    let mut patch = Vec::new();
    child.stdout.take().expect("piped").read_to_end(&mut patch)?;
    let output = child.wait_with_output()?;
    if !output.status.success() {
        bail!("git diff --cached failed: {}", String::from_utf8_lossy(&output.stderr).trim());
    }
    Ok(parse_unified(&patch, skips))
}

/// Parses `git diff` output into hunks of new-file text.
pub fn parse_unified(patch: &[u8], skips: &mut DiffSkips) -> Vec<ChangedText> {
    let mut out: Vec<ChangedText> = Vec::new();
    let mut path: Option<String> = None;
    let mut current: Option<ChangedText> = None;
    let mut next_line: usize = 0;
    // Lines still expected in the current hunk (old side, new side): inside
    // a hunk, `+++ x` is an added line `++ x`, not a file header.
    let mut left = (0usize, 0usize);
    for line in patch.split(|&b| b == b'\n') {
        if left != (0, 0) {
            let Some(hunk) = current.as_mut() else {
                left = (0, 0);
                continue;
            };
            match line.first() {
                Some(b'+') => {
                    hunk.added.insert(next_line);
                    push_line(hunk, &line[1..]);
                    next_line = next_line.saturating_add(1);
                    left.1 = left.1.saturating_sub(1);
                }
                Some(b' ') => {
                    push_line(hunk, &line[1..]);
                    next_line = next_line.saturating_add(1);
                    left = (left.0.saturating_sub(1), left.1.saturating_sub(1));
                }
                Some(b'-') => left.0 = left.0.saturating_sub(1),
                Some(b'\\') => {}   // "\ No newline at end of file"
                _ => left = (0, 0), // a malformed hunk ends here
            }
            continue;
        }
        if line.starts_with(b"diff --git ") {
            out.extend(current.take());
            path = None;
        } else if let Some(rest) = line.strip_prefix(b"+++ ") {
            // git ends the name with a tab when it contains a space.
            let rest = rest.strip_suffix(b"\t").unwrap_or(rest);
            path = (rest != b"/dev/null").then(|| unquote(rest).trim_start_matches("b/").to_string());
        } else if line.starts_with(b"Binary files ") {
            if let Some(p) = binary_path(line) {
                skips.binary.push(p);
            }
        } else if line.starts_with(b"@@ ") {
            out.extend(current.take());
            if let (Some(p), Some(hunk)) = (&path, parse_hunk_header(line)) {
                let first_line = hunk.new_start.max(1);
                current = Some(ChangedText { path: p.clone(), first_line, ..ChangedText::default() });
                next_line = first_line;
                left = (hunk.old_count, hunk.new_count);
            }
        }
    }
    out.extend(current);
    out.retain(|c| !c.added.is_empty());
    out
}

fn push_line(hunk: &mut ChangedText, line: &[u8]) {
    hunk.text.extend_from_slice(line);
    hunk.text.push(b'\n');
}

/// The numbers of a hunk header `@@ -a,b +c,d @@` (a missing count is 1).
struct HunkHeader {
    old_count: usize,
    new_start: usize,
    new_count: usize,
}

fn parse_hunk_header(line: &[u8]) -> Option<HunkHeader> {
    let text = std::str::from_utf8(line).ok()?;
    let range = |sign: char| -> Option<(usize, usize)> {
        let part = text.split(' ').find(|p| p.starts_with(sign))?;
        let mut numbers = part[1..].split(',');
        let start = numbers.next()?.parse().ok()?;
        let count = numbers.next().map_or(Some(1), |c| c.parse().ok())?;
        Some((start, count))
    };
    let (_, old_count) = range('-')?;
    let (new_start, new_count) = range('+')?;
    Some(HunkHeader { old_count, new_start, new_count })
}

/// `Binary files a/x and b/y differ` → `y`.
fn binary_path(line: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(line);
    let new = text.strip_prefix("Binary files ")?.rsplit_once(" and ")?.1.strip_suffix(" differ")?;
    (new != "/dev/null").then(|| unquote(new.as_bytes()).trim_start_matches("b/").to_string())
}

/// Undoes git's C-style quoting of unusual paths (`"b/tab\there"`).
fn unquote(raw: &[u8]) -> String {
    let Some(inner) = raw.strip_prefix(b"\"").and_then(|r| r.strip_suffix(b"\"")) else {
        return String::from_utf8_lossy(raw).into_owned();
    };
    let mut bytes = Vec::with_capacity(inner.len());
    let mut i = 0;
    while i < inner.len() {
        if inner[i] == b'\\' && i + 1 < inner.len() {
            i += 1;
            match inner[i] {
                b'n' => bytes.push(b'\n'),
                b't' => bytes.push(b'\t'),
                b'r' => bytes.push(b'\r'),
                b'a' => bytes.push(7),
                b'b' => bytes.push(8),
                b'f' => bytes.push(12),
                b'v' => bytes.push(11),
                d @ b'0'..=b'7' if i + 2 < inner.len() => {
                    let octal = [d, inner[i + 1], inner[i + 2]];
                    let value = std::str::from_utf8(&octal).ok().and_then(|o| u8::from_str_radix(o, 8).ok());
                    bytes.push(value.unwrap_or(d));
                    i += 2;
                }
                other => bytes.push(other),
            }
        } else {
            bytes.push(inner[i]);
        }
        i += 1;
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_added_line_that_looks_like_a_header_stays_in_its_hunk() {
        let patch = b"diff --git a/a b/a\n--- a/a\n+++ b/a\n@@ -0,0 +1,2 @@\n+++ TOKEN=x\n+--- y\n";
        let changes = parse_unified(patch, &mut DiffSkips::default());
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].path, "a");
        assert_eq!(changes[0].text, b"++ TOKEN=x\n--- y\n");
        assert_eq!(changes[0].added.iter().copied().collect::<Vec<_>>(), vec![1, 2]);
    }

    #[test]
    fn absurd_hunk_numbers_do_not_overflow() {
        let max = format!("diff --git a/a b/a\n+++ b/a\n@@ -1 +{} @@\n+x\n+y\n@@ -1 +0,0 @@\n-z\n", usize::MAX);
        let changes = parse_unified(max.as_bytes(), &mut DiffSkips::default());
        assert!(!changes[0].added.is_empty());
    }

    #[test]
    fn parses_hunks_added_lines_and_quoted_paths() {
        let patch = b"diff --git a/a.txt b/a.txt\n--- a/a.txt\n+++ b/a.txt\n@@ -1,2 +1,3 @@\n one\n+two\n three\n\
diff --git \"a/t\\tb\" \"b/t\\tb\"\nnew file mode 100644\n--- /dev/null\n+++ \"b/t\\tb\"\n@@ -0,0 +1 @@\n+x\n\
diff --git a/img.png b/img.png\nBinary files /dev/null and b/img.png differ\n";
        let mut skips = DiffSkips::default();
        let changes = parse_unified(patch, &mut skips);
        assert_eq!(changes.len(), 2);
        assert_eq!(changes[0].path, "a.txt");
        assert_eq!(changes[0].text, b"one\ntwo\nthree\n");
        assert_eq!(changes[0].added.iter().copied().collect::<Vec<_>>(), vec![2]);
        assert_eq!(changes[1].path, "t\tb");
        assert_eq!(changes[1].first_line, 1);
        assert_eq!(skips.binary, vec!["img.png"]);
    }

    #[test]
    fn unquotes_octal_escapes() {
        assert_eq!(unquote(b"\"b/caf\\303\\251\""), "b/caf\u{e9}");
        assert_eq!(unquote(b"plain"), "plain");
    }
}
