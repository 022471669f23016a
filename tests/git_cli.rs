//! End-to-end tests of the git modes (`git`, `git --range`, `staged`,
//! `hook`) on real repositories built with the git CLI in temp dirs.

use crate::common;

use crate::common::repo::Repo;

use std::fs;
use std::path::Path;
use std::process::Command as Std;

use serde_json::Value;

use crate::common::command as leakhound;

fn run_json(args: &[&str], dir: &Path) -> (i32, Value) {
    let out = leakhound().args(args).args(["--format", "json"]).current_dir(dir).output().unwrap();
    let doc = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
    });
    (out.status.code().unwrap(), doc)
}

fn findings(doc: &Value) -> &Vec<Value> {
    doc["findings"].as_array().unwrap()
}

fn key(format: &str, seed: u64) -> String {
    common::key(format, seed)
}

#[test]
fn key_added_then_deleted_is_found_with_its_introducing_commit() {
    let mut repo = Repo::new();
    repo.commit("README.md", "# app\n", "initial");
    let k = key("openai-project", 1);
    let introducing =
        repo.commit("config/settings.py", &format!("DEBUG = True\nOPENAI_API_KEY = \"{k}\"\n"), "add settings");
    repo.commit("config/settings.py", "DEBUG = True\nOPENAI_API_KEY = os.environ['OPENAI_API_KEY']\n", "use env var");
    let (code, doc) = run_json(&["git", "--show-secrets", "."], &repo.path);
    assert_eq!(code, 1);
    let f = &findings(&doc)[0];
    assert_eq!(findings(&doc).len(), 1);
    assert_eq!(f["rule_id"], "openai-project-key");
    assert_eq!(f["secret"], k.as_str());
    assert_eq!(f["path"], "config/settings.py");
    assert_eq!((f["line"].as_u64(), f["column"].as_u64()), (Some(2), Some(19)));
    assert_eq!(f["commit"], introducing.as_str());
    assert_eq!(f["summary"], "add settings");
    assert_eq!(f["author"], "Dev One");
    assert_eq!(f["email"], "dev@example.com");
    assert_eq!(f["in_head"], false);
    assert_eq!(f["commit_count"], 1);
    assert_eq!(f["branches"], serde_json::json!(["refs/heads/main"]));
    let git_date = repo.git(&["show", "-s", "--format=%aI", &introducing]);
    assert_eq!(f["date"].as_str().unwrap(), git_date.replace("+00:00", "Z"));
}

#[test]
fn the_same_key_in_fifty_commits_is_one_finding() {
    let mut repo = Repo::new();
    let k = key("anthropic-api", 2);
    let first = repo.commit("app.env", &format!("ANTHROPIC_API_KEY={k}\nN=0\n"), "add key");
    for n in 1..50 {
        repo.commit("app.env", &format!("ANTHROPIC_API_KEY={k}\nN={n}\n"), &format!("bump {n}"));
    }
    let (_, doc) = run_json(&["git", "."], &repo.path);
    assert_eq!(findings(&doc).len(), 1, "{doc:#}");
    let f = &findings(&doc)[0];
    assert_eq!(f["commit"], first.as_str());
    assert_eq!(f["commit_count"], 50);
    assert_eq!(f["in_head"], true);
    assert_eq!(doc["stats"]["files_scanned"], 50, "each distinct blob scanned once");
}

#[test]
fn renamed_file_reports_each_path_with_its_own_commit() {
    let mut repo = Repo::new();
    let k = key("github-classic", 3);
    let added = repo.commit("old.env", &format!("TOKEN={k}\n"), "add token");
    repo.git(&["mv", "old.env", "new.env"]);
    repo.git(&["commit", "-q", "-m", "rename"]);
    let renamed = repo.git(&["rev-parse", "HEAD"]);
    let (_, doc) = run_json(&["git", "."], &repo.path);
    let got: Vec<(String, String, bool)> = findings(&doc)
        .iter()
        .map(|f| {
            (f["path"].as_str().unwrap().into(), f["commit"].as_str().unwrap().into(), f["in_head"].as_bool().unwrap())
        })
        .collect();
    assert_eq!(got, vec![("new.env".into(), renamed, true), ("old.env".into(), added, false)]);
}

#[test]
fn keys_only_on_an_unmerged_branch_or_a_tag_are_found_and_say_where() {
    let mut repo = Repo::new();
    repo.commit("README.md", "# app\n", "initial");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    let kb = key("groq", 4);
    let on_branch = repo.commit("feature.py", &format!("GROQ = '{kb}'\n"), "wip feature");
    repo.git(&["checkout", "-q", "main"]);
    repo.git(&["checkout", "-q", "--detach"]);
    let kt = key("xai", 5);
    let tagged = repo.commit("release.txt", &format!("xai {kt}\n"), "release build");
    repo.git(&["tag", "-a", "v1.0", "-m", "release"]);
    repo.git(&["checkout", "-q", "main"]);
    let (_, doc) = run_json(&["git", "."], &repo.path);
    let by_path = |p: &str| findings(&doc).iter().find(|f| f["path"] == p).unwrap_or_else(|| panic!("{p}: {doc:#}"));
    assert_eq!(by_path("feature.py")["commit"], on_branch.as_str());
    assert_eq!(by_path("feature.py")["branches"], serde_json::json!(["refs/heads/feature"]));
    assert_eq!(by_path("feature.py")["in_head"], false);
    assert_eq!(by_path("release.txt")["commit"], tagged.as_str());
    assert_eq!(by_path("release.txt")["branches"], serde_json::json!(["refs/tags/v1.0"]));
}

#[test]
fn packed_and_loose_repositories_give_the_same_findings() {
    let mut repo = Repo::new();
    for n in 0..5 {
        repo.commit(&format!("f{n}.env"), &format!("K={}\n", key("stripe-live", n)), &format!("c{n}"));
    }
    repo.commit("f0.env", "K=removed\n", "remove one");
    let (_, loose) = run_json(&["git", "."], &repo.path);
    repo.git(&["gc", "-q", "--aggressive"]);
    assert!(fs::read_dir(repo.path.join(".git/objects/pack")).unwrap().count() > 0);
    let (code, packed) = run_json(&["git", "."], &repo.path);
    assert_eq!(code, 1);
    assert_eq!(findings(&loose).len(), 5);
    assert_eq!(findings(&loose), findings(&packed));
}

/// The pack walk shares delta trees between threads (work stealing): the
/// audit must find the same keys, blobs and commits on 1 thread as on 8,
/// on a history whose file versions form delta chains 20+ deep (each
/// version changes one line of the one before).
#[test]
fn deep_delta_chains_decode_the_same_on_one_thread_and_on_eight() {
    let mut repo = Repo::new();
    let mut lines: Vec<String> = (0..200).map(|m| format!("setting_{m} = {}", m * 7919 % 1000)).collect();
    for n in 0..80u64 {
        let at = (n as usize * 37) % 200;
        lines[at] = if n % 10 == 3 {
            format!("TOKEN_{n}={}", key("stripe-live", 100 + n))
        } else {
            format!("setting_{at} = changed in {n}")
        };
        repo.commit("app/config.env", &(lines.join("\n") + "\n"), &format!("edit {n}"));
        if n % 20 == 0 {
            repo.commit(&format!("lib/part{n}.env"), &format!("K={}\n", key("openai-project", n)), "add part");
        }
    }
    repo.git(&["gc", "-q", "--aggressive"]);
    let idx = fs::read_dir(repo.path.join(".git/objects/pack"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "idx"))
        .unwrap();
    let stats = repo.git(&["verify-pack", "-v", idx.to_str().unwrap()]);
    assert!(stats.contains("chain length = 20:"), "no long delta chains:\n{stats}");
    let (code_one, one) = run_json(&["git", "--threads", "1", "."], &repo.path);
    let (code_eight, eight) = run_json(&["git", "--threads", "8", "."], &repo.path);
    assert_eq!((code_one, code_eight), (1, 1));
    assert_eq!(findings(&one).len(), 8 + 4, "{:#?}", findings(&one));
    assert_eq!(findings(&one), findings(&eight));
    for stat in ["files_scanned", "bytes_scanned", "errors"] {
        assert_eq!(one["stats"][stat], eight["stats"][stat], "{stat}");
    }
    assert_eq!(one["stats"]["errors"], 0);
}

#[test]
fn range_mode_reports_only_what_the_range_added() {
    let mut repo = Repo::new();
    let old = key("openai-project", 6);
    repo.commit("settings.py", &format!("KEY = \"{old}\"\n"), "old key on main");
    repo.git(&["checkout", "-q", "-b", "pr"]);
    let new = key("anthropic-api", 7);
    repo.commit("notes.md", "just docs\n", "docs");
    let adding = repo.commit("settings.py", &format!("KEY = \"{old}\"\nOTHER = \"{new}\"\n"), "add another key");
    let (code, doc) = run_json(&["git", "--range", "main..pr", "--show-secrets", "."], &repo.path);
    assert_eq!(code, 1);
    assert_eq!(findings(&doc).len(), 1, "{doc:#}");
    let f = &findings(&doc)[0];
    assert_eq!(f["secret"], new.as_str());
    assert_eq!(f["line"], 2);
    assert_eq!(f["commit"], adding.as_str());
    assert_eq!(f["in_head"], true);
    // --since-commit is the same range.
    let main = repo.git(&["rev-parse", "main"]);
    let (_, since) = run_json(&["git", "--since-commit", &main, "--show-secrets", "."], &repo.path);
    assert_eq!(findings(&since), findings(&doc));
    // Nothing added: clean.
    let (code, _) = run_json(&["git", "--range", "pr..pr", "."], &repo.path);
    assert_eq!(code, 0);
}

#[test]
fn merging_main_into_a_branch_does_not_blame_mains_keys_on_it() {
    let mut repo = Repo::new();
    repo.commit("a.txt", "base\n", "base");
    repo.git(&["checkout", "-q", "-b", "pr"]);
    repo.commit("b.txt", "pr work\n", "pr work");
    repo.git(&["checkout", "-q", "main"]);
    repo.commit("main.env", &format!("K={}\n", key("github-classic", 8)), "key lands on main");
    repo.git(&["checkout", "-q", "pr"]);
    repo.git(&["merge", "-q", "--no-edit", "main"]);
    let (code, doc) = run_json(&["git", "--range", "main..pr", "."], &repo.path);
    assert_eq!((code, findings(&doc).len()), (0, 0), "{doc:#}");
}

#[test]
fn staged_scans_only_the_index_and_only_added_lines() {
    let mut repo = Repo::new();
    let committed = key("openai-project", 9);
    repo.commit("app.py", &format!("A = \"{committed}\"\n"), "existing key");
    let staged = key("anthropic-api", 10);
    let unstaged = key("groq", 11);
    repo.write("app.py", &format!("A = \"{committed}\"\nB = \"{staged}\"\n"));
    repo.git(&["add", "app.py"]);
    // A later, unstaged edit is not part of the commit.
    repo.write("app.py", &format!("A = \"{committed}\"\nB = \"{staged}\"\nC = \"{unstaged}\"\n"));
    let new_file = key("github-classic", 12);
    repo.write("docs/new file.md", &format!("token: {new_file}\n"));
    repo.git(&["add", "docs/new file.md"]);
    let out =
        leakhound().args(["staged", "--format", "json", "--show-secrets"]).current_dir(&repo.path).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let got: Vec<(String, u64, String)> = findings(&doc)
        .iter()
        .map(|f| {
            (f["path"].as_str().unwrap().into(), f["line"].as_u64().unwrap(), f["secret"].as_str().unwrap().into())
        })
        .collect();
    assert_eq!(got, vec![("app.py".into(), 2, staged), ("docs/new file.md".into(), 1, new_file)]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("git restore --staged") && stderr.contains("rotate"), "{stderr}");
    // After committing, nothing is staged: clean.
    repo.git(&["commit", "-q", "-m", "oops"]);
    leakhound().arg("staged").current_dir(&repo.path).assert().code(0);
}

#[test]
fn hook_install_refuses_a_foreign_hook_and_uninstall_removes_only_its_own() {
    let mut repo = Repo::new();
    repo.commit("README.md", "# app\n", "initial");
    let hook = repo.path.join(".git/hooks/pre-commit");
    fs::create_dir_all(hook.parent().unwrap()).unwrap();
    fs::write(&hook, "#!/bin/sh\necho mine\n").unwrap();
    leakhound().args(["hook", "install"]).current_dir(&repo.path).assert().code(2);
    assert_eq!(fs::read_to_string(&hook).unwrap(), "#!/bin/sh\necho mine\n");
    leakhound().args(["hook", "uninstall"]).current_dir(&repo.path).assert().code(2);
    leakhound().args(["hook", "install", "--force"]).current_dir(&repo.path).assert().success();
    assert!(fs::read_to_string(&hook).unwrap().contains("leakhound staged"));
    assert_eq!(
        fs::read_to_string(repo.path.join(".git/hooks/pre-commit.leakhound-backup")).unwrap(),
        "#!/bin/sh\necho mine\n"
    );

    // The old hook still runs, after leakhound, on a clean commit.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let backup = repo.path.join(".git/hooks/pre-commit.leakhound-backup");
        fs::set_permissions(backup, fs::Permissions::from_mode(0o755)).unwrap();
        repo.write("clean.txt", "nothing secret\n");
        repo.git(&["add", "clean.txt"]);
        let clean = Std::new("git")
            .current_dir(&repo.path)
            .args(["-c", "user.name=a", "-c", "user.email=a@b", "commit", "-q", "-m", "clean"])
            .output()
            .unwrap();
        assert!(clean.status.success() && String::from_utf8_lossy(&clean.stderr).contains("mine"), "{clean:?}");
    }
    // The installed hook blocks a commit that adds a key.
    repo.write("leak.env", &format!("K={}\n", key("openai-project", 13)));
    repo.git(&["add", "leak.env"]);
    let blocked = Std::new("git")
        .current_dir(&repo.path)
        .args(["-c", "user.name=a", "-c", "user.email=a@b", "commit", "-q", "-m", "leak"])
        .output()
        .unwrap();
    assert!(!blocked.status.success(), "the hook let a key through");

    leakhound().args(["hook", "uninstall"]).current_dir(&repo.path).assert().success();
    assert!(!hook.exists());
}

#[test]
fn hook_install_honours_core_hooks_path() {
    let mut repo = Repo::new();
    repo.git(&["config", "core.hooksPath", ".githooks"]);
    leakhound().args(["hook", "install"]).current_dir(&repo.path).assert().success();
    assert!(repo.path.join(".githooks/pre-commit").exists());
}

#[test]
fn shallow_and_bare_clones_are_scanned_and_shallow_is_noted() {
    let mut repo = Repo::new();
    let old = key("github-classic", 14);
    repo.commit("old.env", &format!("K={old}\n"), "old");
    repo.commit("old.env", "K=gone\n", "remove");
    let current = key("openai-project", 15);
    repo.commit("new.env", &format!("K={current}\n"), "new");
    let url = format!("file://{}", repo.path.display());
    let parent = repo.path.parent().unwrap().to_path_buf();

    let shallow = parent.join("shallow");
    assert!(Std::new("git").args(["clone", "-q", "--depth", "1", &url]).arg(&shallow).status().unwrap().success());
    let (code, doc) = run_json(&["git", "."], &shallow);
    assert_eq!(code, 1);
    assert_eq!(findings(&doc).len(), 1);
    assert_eq!(findings(&doc)[0]["path"], "new.env");
    assert!(doc["notes"][0].as_str().unwrap().contains("shallow"), "{doc:#}");

    let bare = parent.join("bare.git");
    assert!(Std::new("git").args(["clone", "-q", "--bare", &url]).arg(&bare).status().unwrap().success());
    let (code, doc) = run_json(&["git", "."], &bare);
    assert_eq!(code, 1);
    assert_eq!(findings(&doc).len(), 2);
}

#[test]
fn a_corrupt_object_is_reported_and_the_rest_still_found() {
    let mut repo = Repo::new();
    let k1 = key("openai-project", 16);
    repo.commit("good.env", &format!("K={k1}\n"), "good");
    repo.commit("bad.env", &format!("K={}\n", key("anthropic-api", 17)), "bad");
    let blob = repo.git(&["rev-parse", "HEAD:bad.env"]);
    let object = repo.path.join(".git/objects").join(&blob[..2]).join(&blob[2..]);
    let mut perms = fs::metadata(&object).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    fs::set_permissions(&object, perms).unwrap();
    fs::write(&object, b"this is not zlib").unwrap();
    let (code, doc) = run_json(&["git", "."], &repo.path);
    assert_eq!(code, 2);
    assert_eq!(findings(&doc).len(), 1);
    assert_eq!(findings(&doc)[0]["path"], "good.env");
    let skipped = doc["skipped"].as_array().unwrap();
    assert!(
        skipped.iter().any(|s| s["path"].as_str().unwrap().contains(&blob) && s["reason"] == "unreadable"),
        "{doc:#}"
    );
}

#[test]
fn all_objects_adds_blobs_no_ref_reaches() {
    let mut repo = Repo::new();
    repo.commit("README.md", "# app\n", "initial");
    let k = key("huggingface", 18);
    repo.write("scratch.txt", &format!("hf {k}\n"));
    let blob = repo.git(&["hash-object", "-w", "scratch.txt"]);
    fs::remove_file(repo.path.join("scratch.txt")).unwrap();
    let (code, _) = run_json(&["git", "."], &repo.path);
    assert_eq!(code, 0);
    let (code, doc) = run_json(&["git", "--all-objects", "."], &repo.path);
    assert_eq!(code, 1);
    assert_eq!(findings(&doc)[0]["blob"], blob.as_str());
}

#[test]
fn not_a_repository_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = leakhound().args(["git", "."]).current_dir(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a git repository"));
}

#[test]
fn empty_repository_is_clean_with_a_note() {
    let repo = Repo::new();
    let (code, doc) = run_json(&["git", "."], &repo.path);
    assert_eq!(code, 0);
    assert!(doc["notes"].to_string().contains("no commits"), "{doc:#}");
}

#[test]
fn worktrees_submodules_lfs_pointers_and_huge_blobs() {
    let mut repo = Repo::new();
    let k = key("openai-project", 20);
    repo.commit("app.env", &format!("K={k}\n"), "key");
    // An LFS pointer and a blob over the size cap.
    repo.commit(
        "model.bin",
        "version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 12345\n",
        "lfs pointer",
    );
    repo.commit("big.txt", &format!("{}\nK={}\n", "x".repeat(3000), key("github-classic", 21)), "big file");
    // A submodule entry (a gitlink), added without cloning anything.
    let head = repo.git(&["rev-parse", "HEAD"]);
    repo.git(&["update-index", "--add", "--cacheinfo", &format!("160000,{head},vendor/lib")]);
    repo.git(&["commit", "-q", "-m", "submodule"]);
    // A linked worktree is the same repository.
    let wt = repo.path.parent().unwrap().join("wt");
    repo.git(&["worktree", "add", "-q", wt.to_str().unwrap()]);

    let (code, doc) = run_json(&["git", "--max-file-size", "2K", "."], &wt);
    assert_eq!(code, 1);
    let paths: Vec<&str> = findings(&doc).iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert_eq!(paths, vec!["app.env"], "big.txt is over the cap");
    let notes = doc["notes"].to_string();
    assert!(notes.contains("submodule") && notes.contains("LFS"), "{notes}");
    assert_eq!(doc["stats"]["skipped"]["too-large"], 1);
}

#[cfg(unix)]
#[test]
fn non_utf8_paths_are_reported_readably() {
    use std::os::unix::ffi::OsStrExt;
    let mut repo = Repo::new();
    let name = std::ffi::OsStr::from_bytes(b"caf\xe9.env");
    fs::write(repo.path.join(name), format!("K={}\n", key("openai-project", 22))).unwrap();
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "latin-1 name"]);
    let (code, doc) = run_json(&["git", "."], &repo.path);
    assert_eq!(code, 1);
    assert_eq!(findings(&doc)[0]["path"], "caf\u{fffd}.env");
}

#[test]
fn text_summary_counts_blobs_in_a_history_audit() {
    let mut repo = Repo::new();
    repo.commit("a.txt", "one\n", "first");
    repo.commit("a.txt", "two\n", "second");
    let out = leakhound().args(["git", "--color", "never", "."]).current_dir(&repo.path).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    // Two distinct versions of a.txt: two blobs, not "files".
    assert!(text.contains("scanned 2 blobs, 8 B"), "{text}");
}

/// Zips behind a prefix (a self-extracting stub, a CRX header) are opened
/// in history as in a tree, though a blob has no name when it is scanned:
/// each member keeps its place in the file (`dist/app.vsix!/config/.env`),
/// a key in a stub is found at the file's own path, and the keys of a file
/// a later commit deleted are still found.
#[test]
fn zips_with_a_prefix_are_opened_in_history() {
    use crate::common::archive::{crx3, zip_of};
    let mut repo = Repo::new();
    repo.commit("README.md", "# app\n", "initial");
    let keys: Vec<String> = (31..=34).map(|s| key("openai-project", s)).collect();
    let env = |k: &str| format!("# settings\nOPENAI_API_KEY={k}\n");
    let mut stub = b"#!/bin/sh\nexec unzip \"$0\"\n\x7fELF\x02\x01\x01\x00".to_vec();
    stub.extend([0u8; 64]);
    stub.extend(keys[3].as_bytes());
    stub.push(0);
    let sfx = |k: &str| [&stub[..], &zip_of(&[("config/.env", env(k).as_bytes())])].concat();
    let js = format!("const OPENAI_API_KEY = \"{}\";\n", keys[2]);
    fs::create_dir_all(repo.path.join("dist")).unwrap();
    fs::write(repo.path.join("dist/app.vsix"), sfx(&keys[0])).unwrap();
    fs::write(repo.path.join("dist/installer.bin"), sfx(&keys[1])).unwrap();
    fs::write(repo.path.join("dist/download.dat"), crx3(&zip_of(&[("background.js", js.as_bytes())]), 64, 64)).unwrap();
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "ship"]);
    let shipped = repo.git(&["rev-parse", "HEAD"]);
    repo.git(&["rm", "-q", "dist/installer.bin"]);
    repo.git(&["commit", "-q", "-m", "drop the installer"]);
    let (code, doc) = run_json(&["git", "--show-secrets", "."], &repo.path);
    assert_eq!(code, 1);
    let mut got: Vec<(String, String, bool, String)> = findings(&doc)
        .iter()
        .map(|f| {
            let key = keys.iter().position(|k| f["secret"] == k.as_str()).map_or("?".into(), |i| i.to_string());
            (f["path"].as_str().unwrap().to_string(), key, f["in_head"].as_bool().unwrap(), f["decoded"].to_string())
        })
        .collect();
    got.sort();
    let want = [
        ("dist/app.vsix", "3", true, r#"["binary"]"#),
        ("dist/app.vsix!/config/.env", "0", true, r#"["zip"]"#),
        ("dist/download.dat!/background.js", "2", true, r#"["crx"]"#),
        ("dist/installer.bin", "3", false, r#"["binary"]"#),
        ("dist/installer.bin!/config/.env", "1", false, r#"["zip"]"#),
    ];
    let want: Vec<(String, String, bool, String)> =
        want.iter().map(|(p, k, h, d)| (p.to_string(), k.to_string(), *h, d.to_string())).collect();
    assert_eq!(got, want, "{doc:#}");
    for f in findings(&doc) {
        assert_eq!(f["commit"], shipped.as_str());
    }
    let f = common::finding_at(&doc, "dist/app.vsix!/config/.env");
    assert_eq!((f["line"].as_u64(), f["column"].as_u64()), (Some(2), Some(16)));
}
