#!/usr/bin/env python3
"""Deterministic `git fast-import` streams for benches/git_history.sh.

    git_history_gen.py history --registry DIR --lock Cargo.lock --planted OUT.json \
        [--seed N] [--min-commits N] [--min-bytes N]  > stream
        A long, branchy history of successive edits of real crate sources,
        with fake keys planted along the way (listed in OUT.json).
    git_history_gen.py staged --registry DIR --lock Cargo.lock [--files N]  > stream
        One commit holding N small files cut from the same sources.
    git_history_gen.py stage-edits --registry DIR --lock Cargo.lock --worktree DIR [--count N]
        Modifies / adds N files in a work tree of the `staged` repository,
        one of them with a fake key; prints the paths (for `git add`).

Everything comes from one seeded `random.Random` and sorted listings, so
the same Cargo.lock (hence the same crate sources) gives the same stream,
byte for byte, and so the same commit ids.
"""

import argparse
import hashlib
import json
import os
import random
import re
import string
import sys
import tomllib
from collections import Counter, deque

TEXT_EXT = {".rs", ".c", ".h", ".md", ".toml", ".yml", ".yaml", ".txt", ".sh", ".in", ".cmake", ".json", ".py"}
PLANT_HOST_EXT = (".rs", ".toml", ".md", ".c", ".h")
MIN_FILE, MAX_FILE = 200, 256 * 1024
SAFE_PATH = re.compile(r"^[A-Za-z0-9_./+@-]+$")
IDENT = re.compile(rb"[A-Za-z_][A-Za-z0-9_]{2,}")


# ------------------------------------------------------------------ corpus --
class Crate:
    def __init__(self, name, repo_dir, files):
        self.name = name
        self.dir = repo_dir          # e.g. crates/regex-syntax
        self.files = files           # [(relpath, lines tuple)], sorted


def load_corpus(registry_dirs, lock_path):
    with open(lock_path, "rb") as f:
        lock = tomllib.load(f)
    pkgs = sorted(
        (p["name"], p["version"])
        for p in lock.get("package", [])
        if p.get("source", "").startswith("registry+")
    )
    dup = Counter(name for name, _ in pkgs)
    crates = []
    for name, version in pkgs:
        src = next(
            (os.path.join(r, f"{name}-{version}") for r in registry_dirs
             if os.path.isdir(os.path.join(r, f"{name}-{version}"))),
            None,
        )
        if src is None:
            sys.exit(f"git_history_gen.py: {name}-{version} is not under {registry_dirs} (run cargo fetch)")
        repo_dir = f"crates/{name}" if dup[name] == 1 else f"crates/{name}-{version}"
        files = []
        for dirpath, dirnames, filenames in os.walk(src):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d != "target")
            for fn in sorted(filenames):
                if os.path.splitext(fn)[1] not in TEXT_EXT or fn.startswith("."):
                    continue
                full = os.path.join(dirpath, fn)
                rel = os.path.relpath(full, src).replace(os.sep, "/")
                if not SAFE_PATH.match(rel) or os.path.islink(full):
                    continue
                size = os.path.getsize(full)
                if not MIN_FILE <= size <= MAX_FILE:
                    continue
                with open(full, "rb") as f:
                    data = f.read()
                if b"\0" in data:
                    continue
                files.append((rel, tuple(data.splitlines(keepends=True))))
        if files:
            crates.append(Crate(name, repo_dir, files))
    if not crates:
        sys.exit("git_history_gen.py: no usable crate sources found")
    return crates


def ext_of(path):
    return os.path.splitext(path)[1]


def crate_of(path):
    parts = path.split("/", 2)
    return parts[0] + "/" + parts[1] if parts[0] == "crates" and len(parts) == 3 else ""


# -------------------------------------------------------------------- keys --
ALNUM = string.ascii_letters + string.digits
URLSAFE = ALNUM + "_-"
B32 = string.ascii_uppercase + "234567"
# The scanner's placeholder words (src/engine/filters.rs), plus a few more.
BAD_WORDS = ("xxxx", "your", "placeholder", "redacted", "dummy", "changeme", "insert", "example",
             "sample", "replace", "secret_key", "api_key", "apikey", "token_", "test", "fake")


def key_body(rng, alphabet, n):
    """n random characters with no run of 3 equal or 3 sequential ones and
    no placeholder-looking word."""
    while True:
        out = []
        while len(out) < n:
            c = rng.choice(alphabet)
            if len(out) >= 2:
                a, b = ord(out[-2]), ord(out[-1])
                d = ord(c)
                if a == b == d or (b - a == 1 and d - b == 1) or (a - b == 1 and b - d == 1):
                    continue
            out.append(c)
        s = "".join(out)
        low = s.lower()
        if not any(w in low for w in BAD_WORDS):
            return s


KINDS = {
    # kind: (rule id, variable name, generator)
    "openai": ("openai-project-key", "OPENAI_API_KEY",
               lambda r: "sk-proj-" + key_body(r, URLSAFE, 74) + "T3BlbkFJ" + key_body(r, URLSAFE, 74)),
    "anthropic": ("anthropic-api-key", "ANTHROPIC_API_KEY",
                  lambda r: "sk-ant-api03-" + key_body(r, URLSAFE, 93) + "AA"),
    "github": ("github-pat-classic", "GITHUB_TOKEN", lambda r: "ghp_" + key_body(r, ALNUM, 36)),
    "aws": ("aws-access-key-id", "AWS_ACCESS_KEY_ID", lambda r: "AKIA" + aws_body(r)),
}


def aws_body(rng):
    while True:
        s = key_body(rng, B32, 16)
        if any(c in "234567" for c in s):
            return s


def key_line(kind, ext, key):
    var = KINDS[kind][1]
    if ext == ".rs":
        return f'const {var}: &str = "{key}";\n'
    if ext == ".toml":
        return f'{var.lower()} = "{key}"\n'
    if ext == ".md":
        return f"    export {var}={key}\n"
    if ext in (".c", ".h"):
        return f'#define {var} "{key}"\n'
    if ext in (".yml", ".yaml"):
        return f"    {var.lower()}: {key}\n"
    if ext == ".json":
        return f'  "{var.lower()}": "{key}",\n'
    if ext == ".sh":
        return f"export {var}={key}\n"
    return f"{var}={key}\n"


def plant_file_content(kind, path, key):
    ext = ext_of(path)
    line = key_line(kind, ext, key)
    if ext in (".yml", ".yaml"):
        head = "replicaCount: 2\nimage:\n  repository: registry.local/app\n  tag: stable\nenv:\n"
        return head + line + "    log_level: info\n"
    if ext == ".json":
        return '{\n  "endpoint": "https://api.internal.local/v1",\n  "timeout_ms": 2500,\n' + line + '  "retries": 3\n}\n'
    if ext == ".sh":
        return "#!/bin/sh\nset -eu\n# bootstrap a local environment\n" + line + 'exec cargo run --release -- "$@"\n'
    if ext == ".toml":
        return "[service]\nname = \"gateway\"\nport = 8443\n\n[credentials]\n" + line
    return "# local development settings\nDATABASE_URL=postgres://app:app@localhost:5432/app\nLOG_LEVEL=debug\n" + line


# ---------------------------------------------------------------- history --
AUTHORS = [
    ("Ada Kowalski", "ada@corp.invalid", "+0100"), ("Bruno Alves", "bruno@corp.invalid", "-0300"),
    ("Chen Wei", "chen.wei@corp.invalid", "+0800"), ("Dana Okafor", "dana@corp.invalid", "+0000"),
    ("Emil Larsen", "emil@corp.invalid", "+0200"), ("Farah Haddad", "farah@corp.invalid", "+0400"),
    ("Gus Moreno", "gus@corp.invalid", "-0500"), ("Hina Sato", "hina@corp.invalid", "+0900"),
    ("Ivan Petrov", "ivan@corp.invalid", "+0300"), ("Jo Nguyen", "jo@corp.invalid", "-0800"),
    ("Kiran Rao", "kiran@corp.invalid", "+0530"), ("Lena Fischer", "lena@corp.invalid", "+0100"),
]
VERBS = ["fix", "refactor", "tidy", "simplify", "document", "speed up", "clean up", "rework",
         "handle edge case in", "add tests for", "rename items in", "inline helpers in", "reorder",
         "split", "deduplicate code in", "update"]
BODIES = ["", "", "", "The old code path is kept behind the same interface.\n",
          "Found while profiling the nightly run.\n", "Follow-up to review comments.\n",
          "No functional change intended.\n", "This also fixes a flaky test on CI.\n"]


class Branch:
    def __init__(self, ref, files, crate_files, start_from=None):
        self.ref = ref
        self.files = files              # path -> (mark, lines)
        self.crate_files = crate_files  # crate dir -> [paths] (edit candidates)
        self.tip = start_from
        self.needs_from = start_from is not None
        self.recent = deque(maxlen=40)
        self.own = 0                    # commits made on this branch
        self.events = []                # [(trigger, seq, event)]

    def fork(self, ref):
        return Branch(ref, dict(self.files), {c: list(p) for c, p in self.crate_files.items()}, self.tip)


class Feature:
    def __init__(self, name, start, own_commits, merge_every, n_crates):
        self.name, self.start, self.own_commits = name, start, own_commits
        self.merge_every, self.n_crates = merge_every, n_crates
        self.branch = None
        self.crates = []
        self.done = False
        self.merge_plant = None


class History:
    def __init__(self, args, out):
        self.rng = random.Random(args.seed)
        self.keyrng = random.Random(args.seed * 7919 + 1)
        self.out = out
        self.min_commits, self.min_bytes = args.min_commits, args.min_bytes
        self.mark = 0
        self.blob_marks = {}
        self.distinct_bytes = 0
        self.commits = 0
        self.step = 0
        self.time = 1546333200  # 2019-01-01 09:00 UTC
        self.protected = set()
        self.planted = []
        self.kind_cycle = 0
        self.drop_refs = []
        self.crates = load_corpus(args.registry, args.lock)
        self.by_dir = {c.dir: c for c in self.crates}
        self.pending = {}  # crate dir -> [(relpath, lines)] not yet added
        self.donors = {}
        for c in self.crates:
            for rel, lines in c.files:
                if lines:
                    self.donors.setdefault(ext_of(rel), []).append(lines)
        self.all_donors = [l for ext in sorted(self.donors) for l in self.donors[ext]]

    # -- stream primitives --
    def w(self, s):
        self.out.write(s.encode() if isinstance(s, str) else s)

    def next_mark(self):
        self.mark += 1
        return self.mark

    def blob(self, lines):
        data = b"".join(lines)
        oid = hashlib.sha1(b"blob %d\0" % len(data) + data).digest()
        mark = self.blob_marks.get(oid)
        if mark is None:
            mark = self.next_mark()
            self.blob_marks[oid] = mark
            self.distinct_bytes += len(data)
            self.w(b"blob\nmark :%d\ndata %d\n" % (mark, len(data)))
            self.w(data)
            self.w(b"\n")
        return mark

    def data(self, text):
        b = text.encode()
        self.w(b"data %d\n" % len(b))
        self.w(b)
        self.w(b"\n")

    def ident(self, who=None):
        name, email, tz = who or self.rng.choice(AUTHORS)
        return f"{name} <{email}> {self.time} {tz}"

    def commit(self, br, changes, msg, merge=None):
        """changes: ordered dict path -> lines (None = delete). Applies them
        to br and writes the commit; returns its mark."""
        for path, lines in changes.items():
            if lines is None:
                self.remove_path(br, path)
            else:
                self.set_path(br, path, lines, self.blob(lines))
        self.time += self.rng.randint(120, 4 * 3600)
        mark = self.next_mark()
        ident = self.ident()
        self.w(f"commit {br.ref}\nmark :{mark}\nauthor {ident}\ncommitter {ident}\n")
        self.data(msg)
        if br.needs_from:
            self.w(f"from :{br.tip}\n")
            br.needs_from = False
        if merge is not None:
            self.w(f"merge :{merge}\n")
        for path in changes:
            if path in br.files:
                self.w(f"M 100644 :{br.files[path][0]} {path}\n")
            else:
                self.w(f"D {path}\n")
        self.w("\n")
        br.tip = mark
        br.own += 1
        self.commits += 1
        return mark

    def set_path(self, br, path, lines, mark):
        crate = crate_of(path)
        if path not in br.files and crate:
            br.crate_files.setdefault(crate, []).append(path)
        br.files[path] = (mark, lines)

    def remove_path(self, br, path):
        if path not in br.files:
            return
        del br.files[path]
        crate = crate_of(path)
        if crate:
            lst = br.crate_files[crate]
            lst.remove(path)

    # -- edits --
    def donor_for(self, path):
        pool = self.donors.get(ext_of(path)) or self.all_donors
        return self.rng.choice(pool)

    def edit_lines(self, path, lines):
        rng = self.rng
        lines = list(lines)
        for _ in range(rng.choice((1, 1, 1, 2, 2, 3))):
            n = len(lines)
            op = rng.random()
            if op < 0.42 or n < 15:  # insert a few lines of real source
                k = rng.randint(1, 8)
                src = lines if (n > 2 * k and rng.random() < 0.4) else self.donor_for(path)
                s = rng.randrange(max(1, len(src) - k + 1))
                chunk = [l if l.endswith(b"\n") else l + b"\n" for l in src[s:s + k]]
                pos = rng.randint(0, n)
                lines[pos:pos] = chunk
            elif op < 0.72:  # delete a few lines
                k = min(rng.randint(1, 6), n - 12)
                pos = rng.randrange(n - k + 1)
                del lines[pos:pos + k]
            else:  # modify a few lines
                for _ in range(rng.randint(1, 3)):
                    i = rng.randrange(n)
                    ids = IDENT.findall(lines[i])
                    other = IDENT.findall(lines[rng.randrange(n)])
                    if ids and other:
                        lines[i] = lines[i].replace(rng.choice(ids), rng.choice(other), 1)
                    else:
                        d = self.donor_for(path)
                        l = d[rng.randrange(len(d))]
                        lines[i] = l if l.endswith(b"\n") else l + b"\n"
        return tuple(lines)

    def allowed_crates(self, br):
        if br is self.main:
            owned = {c for f in self.features if f.branch is not None and not f.done for c in f.crates}
            return [c for c in self.main.crate_files if c not in owned and self.main.crate_files[c]]
        feat = self.feature_of[br.ref]
        return [c for c in feat.crates if br.crate_files.get(c)]

    def pick_file(self, br, exts=None):
        rng = self.rng
        crates = self.allowed_crates(br)
        if not crates:
            return None
        if exts is None and br.recent and rng.random() < 0.45:
            p = rng.choice(br.recent)
            if p in br.files and p not in self.protected and crate_of(p) in crates:
                return p
        weights = [len(br.crate_files[c]) for c in crates]
        best = None
        for _ in range(60):
            c = rng.choices(crates, weights)[0]
            p = rng.choice(br.crate_files[c])
            if p in self.protected or (exts and ext_of(p) not in exts):
                continue
            best = p
            size = sum(map(len, br.files[p][1]))
            if rng.random() < min(1.0, (size / self.size_pivot) ** 0.6):
                return p
        return best

    def random_changes(self, br):
        """A normal commit's worth of edits on br (plus rare add/delete/rename)."""
        rng = self.rng
        changes = {}
        for _ in range(rng.choice(self.files_per_commit)):
            p = self.pick_file(br)
            if p is None:
                break
            base = changes.get(p) or br.files[p][1]
            changes[p] = self.edit_lines(p, base)
            br.recent.append(p)
        r = rng.random()
        crates = self.allowed_crates(br)
        if r < 0.04 and crates:  # add a file of the crate not in the repo yet
            c = rng.choice(crates)
            if self.pending.get(c):
                rel, lines = self.pending[c].pop(rng.randrange(len(self.pending[c])))
                path = f"{c}/{rel}"
                if path not in br.files:
                    changes[path] = lines
        elif r < 0.055:  # delete a file
            p = self.pick_file(br)
            if p is not None and p not in changes and len(br.crate_files[crate_of(p)]) > 5:
                changes[p] = None
        elif r < 0.07:  # rename a file (content unchanged or lightly edited)
            p = self.pick_file(br)
            if p is not None and p not in changes:
                d, fn = os.path.split(p)
                stem, ext = os.path.splitext(fn)
                new = f"{d}/{stem}_{rng.choice(['impl', 'old', 'v2', 'inner', 'compat', 'util'])}{ext}"
                if new not in br.files:
                    lines = br.files[p][1]
                    changes[p] = None
                    changes[new] = self.edit_lines(new, lines) if rng.random() < 0.3 else lines
        return changes

    def message(self, changes):
        paths = [p for p in changes if changes[p] is not None] or list(changes)
        if not paths:
            return "chore: bump\n"
        p = paths[0]
        crate = crate_of(p)
        scope = self.by_dir[crate].name if crate in self.by_dir else p.split("/")[0]
        msg = f"{scope}: {self.rng.choice(VERBS)} {os.path.basename(p)}\n"
        body = self.rng.choice(BODIES)
        return msg + ("\n" + body if body else "")

    # -- keys --
    def new_key(self, kind=None):
        if kind is None:
            kind = ["openai", "anthropic", "github", "aws"][self.kind_cycle % 4]
            self.kind_cycle += 1
        return kind, KINDS[kind][2](self.keyrng)

    def record(self, kind, key, path, br, how, mark_holder):
        rec = {"kind": kind, "rule_id": KINDS[kind][0], "path": path, "branch": br.ref,
               "how": how, "key": key, "secret_sha256": hashlib.sha256(key.encode()).hexdigest(),
               "mark": None, "removed_mark": None, "only_ref": None}
        feat = self.feature_of.get(br.ref)
        if feat is not None and not feat.merged:
            rec["only_ref"] = br.ref  # an unmerged branch: no other ref carries it
        self.planted.append(rec)
        mark_holder.append(rec)
        return rec

    def run_event(self, br, ev, changes, recs, removed):
        """Applies a plant/removal event to `changes` (for br's next commit)."""
        typ = ev["type"]
        if typ == "plant_line":
            p = None
            for _ in range(100):
                p = self.pick_file(br, exts=PLANT_HOST_EXT)
                if p is not None and not (p in changes and changes[p] is None):
                    break
            if p is None:
                sys.exit(f"git_history_gen.py: no file to plant a key in on {br.ref}")
            kind, key = self.new_key()
            base = list(changes.get(p) or br.files[p][1])
            base.insert(self.rng.randint(0, len(base)), key_line(kind, ext_of(p), key).encode())
            changes[p] = tuple(base)
            self.protected.add(p)
            rec = self.record(kind, key, p, br, "line in existing file", recs)
            if ev.get("remove_after"):
                self.schedule(br, br.own + ev["remove_after"], {"type": "remove_line", "rec": rec})
            return f"{kind} key into {p}"
        if typ == "plant_file":
            kind, key = self.new_key()
            p = ev["path"]
            changes[p] = tuple(plant_file_content(kind, p, key).encode().splitlines(keepends=True))
            self.protected.add(p)
            rec = self.record(kind, key, p, br, "new file", recs)
            if ev.get("remove_after"):
                self.schedule(br, br.own + ev["remove_after"], {"type": "delete_file", "rec": rec})
            return f"{kind} key in new {p}"
        if typ == "remove_line":
            rec = ev["rec"]
            p, key = rec["path"], rec["key"].encode()
            base = changes.get(p) or br.files[p][1]
            changes[p] = tuple(l for l in base if key not in l)
            removed.append(rec)
            return f"removed key line from {p}"
        if typ == "delete_file":
            rec = ev["rec"]
            changes[rec["path"]] = None
            removed.append(rec)
            return f"deleted {rec['path']}"
        raise ValueError(typ)

    def schedule(self, br, trigger, ev):
        self.seq += 1
        br.events.append((trigger, self.seq, ev))
        br.events.sort(key=lambda t: (t[0], t[1]))

    def commit_on(self, br, trigger_now):
        changes = self.random_changes(br)
        recs, removed = [], []
        while br.events and br.events[0][0] <= trigger_now:
            _, _, ev = br.events.pop(0)
            self.run_event(br, ev, changes, recs, removed)
        msg = self.message(changes)
        if recs:
            msg = msg.splitlines()[0] + "\n\nAlso wire up credentials for local testing.\n"
        elif removed:
            msg = "Remove leaked credentials\n"
        mark = self.commit(br, changes, msg)
        for rec in recs:
            rec["mark"] = mark
        for rec in removed:
            rec["removed_mark"] = mark
        return mark

    # -- the whole history --
    def run(self):
        rng = self.rng
        N = self.min_commits
        self.seq = 0
        # Tuning: new-blob bytes per commit ~ files_per_commit * size of an
        # edited file; aim for min_bytes at about min_commits.
        self.files_per_commit = (1, 1, 2, 2, 2, 3, 3, 4, 5, 6)
        self.size_pivot = 16 * 1024

        # Initial import: ~60% of the crates, ~70% of each one's files.
        crates = list(self.crates)
        imported = sorted(rng.sample(crates, max(1, int(len(crates) * 0.6))), key=lambda c: c.dir)
        later = [c for c in crates if c not in imported]
        rng.shuffle(later)
        self.main = Branch("refs/heads/main", {}, {})
        self.feature_of = {}
        self.features = []
        changes = {}
        for c in imported:
            files = list(c.files)
            keep = set(rng.sample(range(len(files)), max(1, int(len(files) * 0.7))))
            self.pending[c.dir] = [f for i, f in enumerate(files) if i not in keep]
            for i in sorted(keep):
                changes[f"{c.dir}/{files[i][0]}"] = files[i][1]
        for c in later:
            self.pending[c.dir] = []
        recs = []
        kind, key = self.new_key("aws")
        changes["config/legacy.ini"] = tuple(
            ("[aws]\nregion = eu-central-1\n" + key_line(kind, ".ini", key).replace("AWS_ACCESS_KEY_ID=", "aws_access_key_id = "))
            .encode().splitlines(keepends=True))
        self.protected.add("config/legacy.ini")
        self.record(kind, key, "config/legacy.ini", self.main, "initial import", recs)
        changes[".gitignore"] = (b"/target\n", b"*.swp\n")
        changes["README.md"] = (b"# monorepo\n", b"\n", b"Vendored and patched crates.\n")
        mark = self.commit(self.main, changes, "Initial import\n")
        for r in recs:
            r["mark"] = mark

        # Plants on main, at a fraction of N (global step); removals are in
        # main's own commits after the plant.
        main_events = [
            (0.02, {"type": "plant_line", "remove_after": 150}),
            (0.10, {"type": "plant_file", "path": ".env"}),
            (0.18, {"type": "plant_line", "remove_after": 4000}),
            (0.25, {"type": "plant_file", "path": "tmp/debug_creds.json", "remove_after": 30}),
            (0.33, {"type": "plant_line"}),
            (0.40, {"type": "plant_line"}),
            (0.47, {"type": "plant_file", "path": "deploy/values.yaml"}),
            (0.52, {"type": "plant_line", "remove_after": 2000}),
            (0.60, {"type": "plant_file", "path": "scripts/bootstrap.sh", "remove_after": 900}),
            (0.70, {"type": "plant_line"}),
            (0.75, {"type": "plant_file", "path": "config/prod.toml"}),
            (0.85, {"type": "plant_line", "remove_after": 500}),
            (0.90, {"type": "plant_line"}),
        ]
        main_plants = sorted((int(f * N), i, ev) for i, (f, ev) in enumerate(main_events))
        tag_only_at = int(0.65 * N)
        tag_every = max(1, N // 14)

        specs = [  # name, start (fraction of N), own commits, merge every, crates, plants (own index)
            ("feature/parser-rewrite", 0.05, 2400, 600, 3, [(350, {"type": "plant_line", "remove_after": 500})]),
            ("wip/legacy-api", 0.15, 250, None, 2, []),
            ("feature/async-runtime", 0.30, 2000, 500, 3, [(300, {"type": "plant_file", "path": None})]),
            ("feature/telemetry", 0.55, 1200, None, 2, [(200, {"type": "plant_line"})]),
            ("experiment/zero-copy", 0.78, 700, None, 2, [(300, {"type": "plant_line"})]),
        ]
        pending_features = []
        for name, start, own, every, ncrates, plants in specs:
            f = Feature(name, int(start * N), own, every, ncrates)
            f.plants = plants
            f.merged = name.startswith("feature/")
            self.features.append(f)
            pending_features.append(f)
        self.features[3].merge_plant = "config/ci.env"  # a key added by the merge commit itself

        tag_no = 0
        while True:
            self.step += 1
            active = [f for f in self.features if f.branch is not None and not f.done]
            # Start features whose time has come.
            for f in list(pending_features):
                if self.step >= f.start:
                    pending_features.remove(f)
                    self.start_feature(f)
                    active.append(f)
            # Which branch commits now.
            if active and rng.random() < 0.4:
                f = rng.choice(active)
                self.feature_commit(f)
            else:
                while main_plants and main_plants[0][0] <= self.step:
                    _, _, ev = main_plants.pop(0)
                    self.schedule(self.main, self.main.own, ev)
                if self.step % 997 == 0 and later:
                    self.import_crate(later.pop())
                else:
                    self.commit_on(self.main, self.main.own)
                if self.step >= tag_only_at and tag_only_at > 0:
                    self.tag_only_commit()
                    tag_only_at = -1
                if self.step // tag_every > tag_no:
                    tag_no = self.step // tag_every
                    self.release_tag(tag_no)
            done = (self.commits >= N and self.distinct_bytes >= self.min_bytes and not main_plants
                    and not self.main.events and not pending_features and tag_only_at < 0
                    and all(not f.branch.events for f in self.features))
            if done:
                break
            if self.step > 20 * N:
                sys.exit("git_history_gen.py: history does not reach --min-bytes; raise files per commit")
        for f in self.features:
            if f.branch is not None and not f.done:
                self.finish_feature(f, final_merge=f.merged)
        self.release_tag(tag_no + 1)
        self.out.flush()

    def start_feature(self, f):
        rng = self.rng
        owned = {c for g in self.features if g.branch is not None and not g.done for c in g.crates}
        prot = {crate_of(p) for p in self.protected}
        cands = [c for c in self.main.crate_files
                 if c not in owned and c not in prot and len(self.main.crate_files[c]) >= 8]
        f.crates = sorted(rng.sample(cands, min(f.n_crates, len(cands))))
        f.branch = self.main.fork(f"refs/heads/{f.name}")
        self.feature_of[f.branch.ref] = f
        for trigger, ev in f.plants:
            if ev["type"] == "plant_file" and ev["path"] is None:
                ev = dict(ev, path=f"{f.crates[0]}/config/dev.env")
            self.schedule(f.branch, trigger, ev)

    def feature_commit(self, f):
        br = f.branch
        self.commit_on(br, br.own)
        if f.merged and f.merge_every and br.own % f.merge_every == 0 and br.own < f.own_commits:
            self.merge_feature(f)
        if br.own >= f.own_commits and not br.events:
            self.finish_feature(f, final_merge=f.merged)

    def merge_feature(self, f, extra=None):
        br, main = f.branch, self.main
        changes = {}
        for c in f.crates:
            prefix = c + "/"
            paths = sorted({p for p in main.files if p.startswith(prefix)} |
                           {p for p in br.files if p.startswith(prefix)})
            for p in paths:
                mine, theirs = main.files.get(p), br.files.get(p)
                if theirs is None:
                    changes[p] = None
                elif mine is None or mine[0] != theirs[0]:
                    changes[p] = theirs[1]
        recs = []
        if extra:
            kind, key = self.new_key()
            changes[extra] = tuple(plant_file_content(kind, extra, key).encode().splitlines(keepends=True))
            self.protected.add(extra)
            self.record(kind, key, extra, main, "added by a merge commit", recs)
        name = br.ref[len("refs/heads/"):]
        mark = self.commit(main, changes, f"Merge branch '{name}'\n", merge=br.tip)
        for r in recs:
            r["mark"] = mark
        for c in f.crates:  # same candidate order as the feature from now on
            main.crate_files[c] = [p for p in br.crate_files.get(c, [])]

    def finish_feature(self, f, final_merge):
        if final_merge:
            self.merge_feature(f, extra=f.merge_plant)
        f.done = True

    def import_crate(self, c):
        files = list(c.files)
        keep = set(self.rng.sample(range(len(files)), max(1, int(len(files) * 0.8))))
        self.pending[c.dir] = [x for i, x in enumerate(files) if i not in keep]
        changes = {f"{c.dir}/{files[i][0]}": files[i][1] for i in sorted(keep)}
        self.commit(self.main, changes, f"Vendor {c.name}\n")

    def tag_only_commit(self):
        """A hotfix commit reachable only from an annotated tag (its branch
        is deleted after the import: see drop_refs)."""
        ref = "refs/heads/hotfix/1.4.1"
        br = self.main.fork(ref)
        changes = {}
        p = None
        for _ in range(100):
            p = self.pick_file(self.main, exts=(".rs",))
            if p is not None:
                break
        kind, key = self.new_key()
        base = list(br.files[p][1])
        base.insert(self.rng.randint(0, len(base)), key_line(kind, ".rs", key).encode())
        changes[p] = tuple(base)
        recs = []
        self.record(kind, key, p, br, "only in an annotated tag", recs)
        mark = self.commit(br, changes, "Hotfix: use the partner account for 1.4.1\n")
        recs[0]["mark"] = mark
        recs[0]["branch"] = recs[0]["only_ref"] = "refs/tags/v1.4.1"
        self.time += 60
        self.w(f"tag v1.4.1\nfrom :{mark}\ntagger {self.ident(AUTHORS[3])}\n")
        self.data("Release 1.4.1 (hotfix)\n")
        self.drop_refs.append(ref)

    def release_tag(self, n):
        name = f"v1.{n}.0" if n <= 12 else f"v2.{n - 13}.0"
        if n % 2:
            self.time += 60
            self.w(f"tag {name}\nfrom :{self.main.tip}\ntagger {self.ident()}\n")
            self.data(f"Release {name}\n")
        else:
            self.w(f"reset refs/tags/{name}\nfrom :{self.main.tip}\n\n")

    def summary(self):
        head = self.main.files
        for rec in self.planted:
            cur = head.get(rec["path"])
            rec["in_head"] = bool(cur) and any(rec["key"].encode() in l for l in cur[1])
        return {
            "commits": self.commits,
            "distinct_blob_bytes": self.distinct_bytes,
            "distinct_blobs": len(self.blob_marks),
            "drop_refs": self.drop_refs,
            "features": [{"ref": f"refs/heads/{f.name}", "merged": f.merged, "crates": f.crates}
                         for f in self.features],
            "planted": self.planted,
        }


def cmd_history(args):
    out = open(sys.stdout.fileno(), "wb", buffering=1 << 20, closefd=False)
    h = History(args, out)
    h.run()
    out.flush()
    summary = h.summary()
    with open(args.planted, "w") as f:
        json.dump(summary, f, indent=1)
    print(f"git_history_gen.py: {h.commits} commits, {len(h.blob_marks)} distinct blobs, "
          f"{h.distinct_bytes} distinct blob bytes, {len(h.planted)} keys planted", file=sys.stderr)


# ----------------------------------------------------------------- staged --
def cmd_staged(args):
    rng = random.Random(args.seed)
    crates = load_corpus(args.registry, args.lock)
    pool = [(ext_of(rel), lines) for c in crates for rel, lines in c.files if ext_of(rel) in (".rs", ".md", ".toml", ".c", ".h")]
    out = open(sys.stdout.fileno(), "wb", buffering=1 << 20, closefd=False)
    entries = []
    mark = 0
    seen = {}
    for i in range(args.files):
        ext, lines = pool[i % len(pool)]
        k = rng.randint(15, 80)
        s = rng.randrange(max(1, len(lines) - k + 1))
        data = b"".join(l if l.endswith(b"\n") else l + b"\n" for l in lines[s:s + k]) or b"\n"
        path = f"src/m{i // 1000:02d}/s{(i // 50) % 20:02d}/f{i:05d}{ext}"
        oid = hashlib.sha1(data).digest()
        if oid not in seen:
            mark += 1
            seen[oid] = mark
            out.write(b"blob\nmark :%d\ndata %d\n%s\n" % (mark, len(data), data))
        entries.append((path, seen[oid]))
    out.write(b"commit refs/heads/main\nmark :%d\n" % (mark + 1))
    ident = b"Ada Kowalski <ada@corp.invalid> 1700000000 +0100"
    out.write(b"author %s\ncommitter %s\ndata 15\nImport sources\n\n" % (ident, ident))
    for path, m in entries:
        out.write(b"M 100644 :%d %s\n" % (m, path.encode()))
    out.write(b"\n")
    out.flush()


def cmd_stage_edits(args):
    """Modifies count-2 tracked files and adds 2 new ones (one with a key)."""
    rng = random.Random(args.seed + 1)
    keyrng = random.Random(args.seed + 2)
    tracked = []
    for dirpath, dirnames, filenames in os.walk(args.worktree):
        dirnames[:] = sorted(d for d in dirnames if d != ".git")
        tracked += [os.path.join(dirpath, f) for f in sorted(filenames)]
    tracked.sort()
    crates = load_corpus(args.registry, args.lock)
    donors = [lines for c in crates for rel, lines in c.files if rel.endswith(".rs")]
    touched = []
    for path in rng.sample(tracked, args.count - 2):
        with open(path, "rb") as f:
            lines = f.read().splitlines(keepends=True)
        d = rng.choice(donors)
        pos = rng.randint(0, len(lines))
        lines[pos:pos] = [l if l.endswith(b"\n") else l + b"\n" for l in d[:rng.randint(3, 12)]]
        if len(lines) > 10:
            i = rng.randrange(len(lines) - 3)
            del lines[i:i + 2]
        with open(path, "wb") as f:
            f.write(b"".join(lines))
        touched.append(path)
    new_dir = os.path.join(args.worktree, "src", "new")
    os.makedirs(new_dir, exist_ok=True)
    p1 = os.path.join(new_dir, "client.rs")
    with open(p1, "wb") as f:
        f.write(b"".join(rng.choice(donors)[:60]))
    key = KINDS["openai"][2](keyrng)
    p2 = os.path.join(new_dir, "settings.rs")
    with open(p2, "w") as f:
        f.write("//! Settings for the local client.\n\n" + key_line("openai", ".rs", key)
                + "pub const TIMEOUT_MS: u64 = 2500;\n")
    touched += [p1, p2]
    for p in touched:
        print(os.path.relpath(p, args.worktree))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("history", "staged", "stage-edits"):
        p = sub.add_parser(name)
        p.add_argument("--registry", action="append", required=True, help="a ~/.cargo/registry/src/* dir (repeatable)")
        p.add_argument("--lock", required=True, help="Cargo.lock naming the crates to use")
        p.add_argument("--seed", type=int, default=20240917)
        if name == "history":
            p.add_argument("--planted", required=True)
            p.add_argument("--min-commits", type=int, default=20000)
            p.add_argument("--min-bytes", type=int, default=1 << 30)
        elif name == "staged":
            p.add_argument("--files", type=int, default=50000)
        else:
            p.add_argument("--worktree", required=True)
            p.add_argument("--count", type=int, default=10)
    args = ap.parse_args()
    {"history": cmd_history, "staged": cmd_staged, "stage-edits": cmd_stage_edits}[args.cmd](args)


if __name__ == "__main__":
    main()
