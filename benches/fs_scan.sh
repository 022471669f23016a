#!/usr/bin/env bash
# benches/fs_scan.sh: leakhound's filesystem scan against ripgrep.
#
# WHAT IT MEASURES
#   The median wall time of
#       leakhound scan --no-ignore --threads N --format json CORPUS
#   divided by the median wall time of
#       rg --no-ignore --hidden -a -c -F -i -j N -f KEYWORDS CORPUS
#   where CORPUS is >= 200 MiB of real source (copies of the crates in
#   ~/.cargo/registry/src, with a few fake keys planted) and KEYWORDS holds
#   every `keywords = [...]` literal of rules/*.toml. The project's target is a
#   ratio <= 1.3 with the full rule set and N = number of cores. Peak RSS of
#   each tool (GNU time's %M) is reported next to the times, and so is a CPU
#   time (user + sys) ratio, which stays meaningful when other work shares the
#   machine and makes wall times noisy (the load average is printed too).
#
#   A second ratio compares leakhound with its decoders (escapes, base64,
#   hex, split strings, ...) to `leakhound --no-decode` on the same tree:
#   what decoding costs on ordinary source (target <= 1.15).
#
#   A third ratio does the same as the first for one 20 MiB single-line minified JS
#   bundle (kept outside the tree, so it does not change the main ratio), to
#   show whether a minified file slows the engine down. Note that rg
#   memory-maps a file named on its command line while leakhound read()s it
#   into a buffer; that difference is part of what this third ratio shows.
#
# WHY THE BASELINE IS FAIR
#   rg searching for the rule keywords is exactly leakhound's first phase: walk
#   the tree, read every file, run one multi-literal search. That is the floor
#   for any keyword-prefiltered scanner; the ratio is what leakhound's extra
#   work costs (regex confirmation on keyword windows, filters, the report).
#   - same literals: extracted from the same rules/*.toml that `cargo build`
#     embeds into the binary just before the run (deduplicated), matched
#     ignoring ASCII case by both (`-i`: leakhound's prefilter does);
#   - same tree, same thread count: `-j N` and `--threads N`, N = nproc;
#   - both skip nothing: rg gets --no-ignore --hidden; leakhound gets
#     --no-ignore and always scans hidden files. Neither follows symlinks,
#     both read binary files whole (`-a`: leakhound scans binaries for
#     keys), and the corpus has no .git
#     directory, no symlink and no file over leakhound's 25M --max-file-size
#     (checked on every run: either would make the tools see different bytes);
#   - both write to /dev/null, both exit 0/1 on success; output is tiny for
#     both (`rg -c` prints per-file counts, leakhound a handful of findings);
#   - the page cache is warm for both (one untimed warm-up run each), and the
#     timed runs alternate between the tools (order flipped every round), so
#     drift in machine load hits both alike. It measures CPU, not the disk.
#
# USAGE
#   benches/fs_scan.sh                 (run from anywhere)
#   RUNS=11 benches/fs_scan.sh         timed runs per tool (default 7)
#   LEAKHOUND_BENCH_DIR=/data/lhb ...  cache dir (default /tmp/leakhound-bench)
#   LEAKHOUND_BASELINE=/path/to/old/leakhound ...  also time that build on the
#                                       same tree, paired with this one (a rule
#                                       set's or a refactor's cost: target <= 1.25x)
#   ARTIFACTS=only ... / ARTIFACTS=0 ...  only the artifact case (binaries and
#                                       compressed data beside source, against
#                                       rg -a -z; see "artifacts" below), or
#                                       without it (default: it runs last)
#   FS_SCAN_TREE=/path/to/tree ...       time on that tree of real projects
#                                       instead (no planted keys; it is not
#                                       copied or changed)
#   CARGO_TARGET_DIR=/path ...           honoured: the binary timed is the one
#                                       `cargo build --release` writes there
#   The corpus is built once under $LEAKHOUND_BENCH_DIR and reused while its
#   marker file (corpus.ready) is present; delete the directory to rebuild.
#   Needs root (or an installed ripgrep) to apt-get install ripgrep / time.

set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_DIR=${LEAKHOUND_BENCH_DIR:-/tmp/leakhound-bench}
CORPUS=$BENCH_DIR/corpus
BUNDLE=$BENCH_DIR/minified/bundle.min.js
MARKER=$BENCH_DIR/corpus.ready
PLANTED=$BENCH_DIR/planted.tsv        # file, label, sha256 of each planted key
CORPUS_FORMAT=1                       # bump when the corpus recipe changes
MIN_BYTES=$((200 * 1024 * 1024))      # corpus floor: 200 MiB of file content
BUNDLE_BYTES=$((20 * 1024 * 1024))    # the minified bundle: 20 MiB, one line
RUNS=${RUNS:-7}
THREADS=$(nproc)
REGISTRY_SRC=${CARGO_HOME:-$HOME/.cargo}/registry/src
TARGET_DIR=${CARGO_TARGET_DIR:-target}
[[ $TARGET_DIR == /* ]] || TARGET_DIR=$REPO/$TARGET_DIR
LEAKHOUND=$TARGET_DIR/release/leakhound  # where `cargo build --release` below puts it

die() { echo "fs_scan.sh: error: $*" >&2; exit 1; }
note() { echo "fs_scan.sh: $*" >&2; }

[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive integer, got '$RUNS'"

# ---------------------------------------------------------------- tools ----
ensure_tools() {
    local missing=()
    command -v rg >/dev/null || missing+=(ripgrep)
    [[ -x /usr/bin/time ]] || missing+=(time)
    if ((${#missing[@]})); then
        note "installing ${missing[*]} with apt-get"
        apt-get update -qq >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
    fi
    command -v cargo >/dev/null || export PATH=${CARGO_HOME:-$HOME/.cargo}/bin:$PATH
    command -v cargo >/dev/null || die "cargo not found"
    python3 -c 'import tomllib' 2>/dev/null || die "python3 >= 3.11 (tomllib) is required"
}

# --------------------------------------------------------------- corpus ----
build_corpus() {
    note "building corpus in $CORPUS (one-off; reused while $MARKER exists)"
    rm -rf "$CORPUS" "$BENCH_DIR/minified" "$MARKER" "$PLANTED"
    mkdir -p "$CORPUS" "$BENCH_DIR/minified"
    (cd "$REPO" && cargo fetch --quiet)

    local sources=("$REGISTRY_SRC"/*/)
    [[ -d ${sources[0]} ]] || die "no crate sources under $REGISTRY_SRC (cargo fetch found nothing?)"
    local src_bytes
    src_bytes=$(find "${sources[@]}" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}')
    ((src_bytes > 0)) || die "crate sources under $REGISTRY_SRC are empty"

    local copies=0 bytes=0
    while ((bytes < MIN_BYTES)); do
        mkdir "$CORPUS/copy-$copies"
        cp -a "${sources[@]}" "$CORPUS/copy-$copies/"
        copies=$((copies + 1))
        bytes=$((bytes + src_bytes))
    done
    note "copied $copies x $((src_bytes / 1000000)) MB of crate sources"

    python3 - "$CORPUS" "$BUNDLE" "$BUNDLE_BYTES" "$PLANTED" <<'PY'
"""Plants fake keys in a few corpus files and writes the minified bundle."""
import hashlib, os, random, re, secrets, string, sys, zlib
from collections import Counter

corpus, bundle_path, bundle_bytes, planted_path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
ALNUM = string.ascii_letters + string.digits
URLSAFE = ALNUM + "_-"
B62 = string.digits + string.ascii_uppercase + string.ascii_lowercase

def looks_like_placeholder(s):
    """Mirror of the placeholder filter: no runs like aaaa or abcde / 12345."""
    for i in range(len(s) - 3):
        if len(set(s[i:i + 4])) == 1:
            return True
    for i in range(len(s) - 4):
        steps = {ord(s[j + 1]) - ord(s[j]) for j in range(i, i + 4)}
        if steps in ({1}, {-1}):
            return True
    return False

def rand(alphabet, n):
    while True:
        s = "".join(secrets.choice(alphabet) for _ in range(n))
        if not looks_like_placeholder(s):
            return s

def github_pat():
    body = rand(ALNUM, 30)  # real ghp_ tokens end in a base62 CRC32 of the body
    crc, check = zlib.crc32(body.encode()), ""
    while crc:
        crc, d = divmod(crc, 62)
        check = B62[d] + check
    return "ghp_" + body + check.rjust(6, "0")

def openai_key():
    return "sk-proj-" + rand(URLSAFE, 74) + "T3BlbkFJ" + rand(URLSAFE, 74)

keys = [  # (label, variable name, key)
    ("openai", "OPENAI_API_KEY", openai_key()),
    ("anthropic", "ANTHROPIC_API_KEY", "sk-ant-api03-" + rand(URLSAFE, 93) + "AA"),
    ("github", "GITHUB_TOKEN", github_pat()),
    ("aws", "AWS_ACCESS_KEY_ID", "AKIA" + rand(string.ascii_uppercase + "234567", 16)),
    ("stripe", "STRIPE_SECRET_KEY", "sk_live_" + rand(ALNUM, 99)),
    ("slack", "SLACK_BOT_TOKEN", "xoxb-%s-%s-%s" % (rand(string.digits, 12), rand(string.digits, 13), rand(ALNUM, 24))),
    ("groq", "GROQ_API_KEY", "gsk_" + rand(ALNUM, 52)),
]
LINE = {  # how a leaked key looks in each kind of file
    ".rs": 'pub const {name}: &str = "{key}";\n',
    ".toml": '{lname} = "{key}"\n',
    ".md": "\n    export {name}={key}\n",
}

# Deterministic choice of host files, spread over the copies.
candidates = sorted(
    os.path.join(d, f)
    for d, _, files in os.walk(corpus)
    for f in files
    if os.path.splitext(f)[1] in LINE and not f.startswith(".")
)
rng = random.Random(20240601)
rows = []
for (label, name, key), path in zip(keys, rng.sample(candidates, len(keys))):
    ext = os.path.splitext(path)[1]
    with open(path, "ab") as f:
        f.write(LINE[ext].format(name=name, lname=name.lower(), key=key).encode())
    rows.append((os.path.relpath(path, corpus), label, key))

# ---- the minified bundle: real .js from the corpus if there is enough of it,
# otherwise generated minified-JS-looking text using the corpus's identifiers.
js = []
for d, _, files in sorted(os.walk(corpus)):
    for f in sorted(files):
        if f.endswith(".js"):
            data = open(os.path.join(d, f), "rb").read()
            if b"\0" not in data:
                js.append(re.sub(rb"\s+", b" ", data).strip())
real_js = b";".join(js)
source = "real .js from the corpus"
if len(real_js) < 1 << 20:
    source = "generated minified JS (the corpus has no .js)"
    words = Counter()
    for path in candidates[:4000]:
        if path.endswith(".rs"):
            with open(path, "rb") as f:
                words.update(re.findall(rb"\b[a-z][a-z0-9_]{2,24}\b", f.read()))
    vocab = [re.sub(r"_([a-z0-9])", lambda m: m.group(1).upper(), w.decode()).strip("_")
             for w, _ in words.most_common(6000)]
    vocab = [w for w in vocab if w] or ["value", "render", "state", "props", "update"]
    gen = random.Random(7)
    short = list("etnroiasucldfphmgvybwx") + ["Ae", "Se", "Ne", "Oe", "Te", "je", "ke"]
    v = lambda: gen.choice(short)
    w = lambda: gen.choice(vocab)
    phrase = lambda: " ".join(w() for _ in range(gen.randint(2, 7)))
    def expr(depth=0):
        r = gen.random()
        if depth > 2 or r < 0.25:
            return gen.choice([v(), v() + "." + w(), str(gen.randint(0, 4096)), '"%s"' % phrase(), "!0", "!1", "null"])
        if r < 0.45:
            return "%s.%s(%s)" % (v(), w(), ",".join(expr(depth + 1) for _ in range(gen.randint(0, 3))))
        if r < 0.6:
            return "%s%s%s" % (expr(depth + 1), gen.choice(["&&", "||", "===", "!==", "+", "<", "?%s:" % expr(depth + 2)]), expr(depth + 1))
        if r < 0.75:
            return "{%s}" % ",".join("%s:%s" % (w(), expr(depth + 1)) for _ in range(gen.randint(1, 4)))
        if r < 0.85:
            return "[%s]" % ",".join(expr(depth + 1) for _ in range(gen.randint(1, 5)))
        return "function(%s){return %s}" % (",".join(v() for _ in range(gen.randint(0, 3))), expr(depth + 1))
    def stmt():
        r = gen.random()
        if r < 0.3:
            return "var " + ",".join("%s=%s" % (v(), expr()) for _ in range(gen.randint(1, 3)))
        if r < 0.5:
            return "if(%s)%s;else %s" % (expr(), expr(), expr())
        if r < 0.6:
            return "for(var %s=0;%s<%s.length;%s++)%s[%s]=%s" % ("i", "i", v(), "i", v(), "i", expr())
        if r < 0.75:
            return '%s.prototype.%s=function(%s,%s){if(!this.%s)throw new Error("%s");return this.%s.push(%s),this}' % (
                v().upper(), w(), v(), v(), w(), phrase(), w(), expr())
        return "%s.%s=%s" % (v(), w(), expr())
    parts, size, module = [], 0, 0
    while size < bundle_bytes:
        body = ";".join(stmt() for _ in range(gen.randint(3, 12)))
        chunk = '%d:function(e,t,n){"use strict";%s}' % (module, body)
        parts.append(chunk)
        size += len(chunk) + 1
        module += 1
    real_js = ("!function(){var __modules={" + ",".join(parts) + "}}();").encode()

bundle = (real_js * (bundle_bytes // max(len(real_js), 1) + 1))[:bundle_bytes]
# One leaked key in the middle of the bundle, as a frontend build would inline it.
bundle_key = openai_key()
inline = ('const cfg={apiKey:"%s"};' % bundle_key).encode()
mid = bundle_bytes // 2
bundle = bundle[:mid] + inline + bundle[mid + len(inline):]
assert len(bundle) == bundle_bytes and b"\n" not in bundle
with open(bundle_path, "wb") as f:
    f.write(bundle)
rows.append((os.path.basename(bundle_path) + " (bundle)", "openai", bundle_key))

with open(planted_path, "w") as f:
    for path, label, key in rows:
        f.write("%s\t%s\t%s\n" % (path, label, hashlib.sha256(key.encode()).hexdigest()))
print("fs_scan.sh: planted %d keys; bundle from %s" % (len(rows), source), file=sys.stderr)
PY

    echo "format=$CORPUS_FORMAT copies=$copies" >"$MARKER"
}

ensure_corpus() {
    if [[ -d $CORPUS && -f $BUNDLE && -f $PLANTED ]] && grep -qx "format=$CORPUS_FORMAT .*" "$MARKER" 2>/dev/null; then
        return
    fi
    build_corpus
}

# ------------------------------------------------------------- keywords ----
write_keywords() {  # every rule keyword, deduplicated, one per line
    python3 - "$REPO/rules" "$1" <<'PY'
import glob, os, sys, tomllib
seen = {}
for path in sorted(glob.glob(os.path.join(sys.argv[1], "*.toml"))):
    with open(path, "rb") as f:
        for rule in tomllib.load(f).get("rule", []):
            for kw in rule.get("keywords", []):
                if kw and "\n" not in kw:
                    seen.setdefault(kw, None)
with open(sys.argv[2], "w") as f:
    f.writelines(kw + "\n" for kw in seen)
PY
}

# --------------------------------------------------------------- timing ----
# run_once CMD...: runs CMD with stdout on /dev/null under GNU time; sets
# LAST_NS (wall time, ns), LAST_CPU_MS (user + sys, from bash's `time`) and
# LAST_KB (peak RSS). Exit 0/1 is success for both tools (1 = no match for rg,
# findings for leakhound); anything else aborts.
run_once() {
    local rc=0 t0 t1 TIMEFORMAT='%3U %3S'
    t0=$(date +%s%N)
    { time /usr/bin/time -f %M -o "$WORK/rss" "$@" >/dev/null 2>"$WORK/stderr" || rc=$?; } 2>"$WORK/cpu"
    t1=$(date +%s%N)
    if ((rc > 1)); then
        cat "$WORK/stderr" >&2
        die "exit code $rc from: $*"
    fi
    LAST_NS=$((t1 - t0))
    LAST_CPU_MS=$(awk '{printf "%.0f\n", ($1 + $2) * 1000}' "$WORK/cpu")
    LAST_KB=$(tail -n 1 "$WORK/rss")  # GNU time puts "exited with status 1" above %M
}

median() {  # median of the arguments
    printf '%s\n' "$@" | sort -n | awk '{v[NR] = $1} END {
        if (NR % 2) m = v[(NR + 1) / 2]; else m = (v[NR / 2] + v[NR / 2 + 1]) / 2
        printf "%.0f\n", m }'
}

max() { printf '%s\n' "$@" | sort -n | tail -n 1; }
min() { printf '%s\n' "$@" | sort -n | head -n 1; }

row() {  # row TOOL MEDIAN_NS MIN_NS CPU_MS PEAK_KB
    awk -v t="$1" -v m="$2" -v lo="$3" -v cpu="$4" -v kb="$5" \
        'BEGIN { printf "  %-10s %11.3f %9.3f %13.3f %15.1f\n", t, m / 1e9, lo / 1e9, cpu / 1e3, kb / 1024 }'
}

# bench TITLE GOAL BASE_LABEL: warm-up, then RUNS alternating timed runs of
# the commands in the arrays BASE (the baseline) and LH (leakhound); prints
# one table. Warm-up outputs go to $WORK/{rg,lh}.warm for the sanity lines.
bench() {
    local title=$1 goal=$2 base_label=$3 i
    local rg=("${BASE[@]}") lh=("${LH[@]}")
    local rg_ns=() rg_cpu=() rg_kb=() lh_ns=() lh_cpu=() lh_kb=()

    "${rg[@]}" >"$WORK/rg.warm" 2>"$WORK/rg.warm.err" || (($? == 1)) || die "$base_label warm-up failed: $(cat "$WORK/rg.warm.err")"
    "${lh[@]}" >"$WORK/lh.warm" 2>"$WORK/lh.warm.err" || (($? == 1)) || die "leakhound warm-up failed: $(cat "$WORK/lh.warm.err")"

    for ((i = 0; i < RUNS; i++)); do
        if ((i % 2 == 0)); then
            run_once "${rg[@]}"; rg_ns+=("$LAST_NS"); rg_cpu+=("$LAST_CPU_MS"); rg_kb+=("$LAST_KB")
            run_once "${lh[@]}"; lh_ns+=("$LAST_NS"); lh_cpu+=("$LAST_CPU_MS"); lh_kb+=("$LAST_KB")
        else
            run_once "${lh[@]}"; lh_ns+=("$LAST_NS"); lh_cpu+=("$LAST_CPU_MS"); lh_kb+=("$LAST_KB")
            run_once "${rg[@]}"; rg_ns+=("$LAST_NS"); rg_cpu+=("$LAST_CPU_MS"); rg_kb+=("$LAST_KB")
        fi
    done

    local rg_med lh_med rg_cpu_med lh_cpu_med
    rg_med=$(median "${rg_ns[@]}")
    lh_med=$(median "${lh_ns[@]}")
    rg_cpu_med=$(median "${rg_cpu[@]}")
    lh_cpu_med=$(median "${lh_cpu[@]}")
    echo
    echo "$title"
    printf '  %-10s %11s %9s %13s %15s\n' tool "median (s)" "min (s)" "median cpu (s)" "peak RSS (MiB)"
    row "$base_label" "$rg_med" "$(min "${rg_ns[@]}")" "$rg_cpu_med" "$(max "${rg_kb[@]}")"
    row leakhound "$lh_med" "$(min "${lh_ns[@]}")" "$lh_cpu_med" "$(max "${lh_kb[@]}")"
    awk -v a="$lh_med" -v b="$rg_med" -v ca="$lh_cpu_med" -v cb="$rg_cpu_med" -v n="$RUNS" -v j="$THREADS" -v goal="$goal" -v base="$base_label" \
        'BEGIN { printf "  ratio leakhound/%s: %.2fx  (median wall time, %d runs, %d threads%s)\n", base, a / b, n, j, goal
                 if (cb > 0) printf "  cpu ratio leakhound/%s: %.2fx  (user + sys; steadier than wall time on a busy machine)\n", base, ca / cb }'
}

# Sanity lines from the warm-up outputs: what each tool saw.
summarize_warmup() {
    python3 - "$WORK/rg.warm" "$WORK/lh.warm" "$PLANTED" "$1" <<'PY'
import collections, json, sys
rg_out, lh_out, planted_path, scope = sys.argv[1:]
lines = files = 0
for row in open(rg_out, errors="replace"):
    row = row.rstrip("\n")
    if row:
        head, _, count = row.rpartition(":")
        lines += int(count if head else row)
        files += 1
doc = json.load(open(lh_out))
st = doc["stats"]
rules = collections.Counter(f["rule_id"] for f in doc["findings"])
planted = [r.split("\t") for r in open(planted_path).read().splitlines()]
if scope == "tree":
    planted = [p for p in planted if not p[0].endswith("(bundle)")]
else:
    planted = [p for p in planted if p[0].endswith("(bundle)")]
found = {f["secret_sha256"] for f in doc["findings"]}
hit = [p[1] for p in planted if p[2] in found]
miss = [p[1] for p in planted if p[2] not in found]
skipped = ", ".join("%s %d" % kv for kv in sorted(st["skipped"].items())) or "none"
print("  rg: keyword literals on %d lines in %d files" % (lines, files))
print("  leakhound: %d files, %.1f MB scanned (skipped: %s); %d findings%s"
      % (st["files_scanned"], st["bytes_scanned"] / 1e6, skipped, st["findings"],
         " (" + ", ".join("%s %d" % kv for kv in rules.most_common()) + ")" if rules else ""))
print("  planted keys found: %d/%d%s" % (len(hit), len(planted),
      ("; missed: " + ", ".join(miss)) if miss else ""))
PY
}

# ------------------------------------------------------------ artifacts ----
# The artifact case (issue #17): a tree of real source that also holds what
# ships and what tests carry: the corpus's first copy (hard links: "text/",
# source with the few fixtures and images crates carry, as in the main case),
# and under "bin/" real compressed data and compiled code from this machine:
# crates from ~/.cargo/registry/cache (gzip'd tarballs, named .tar.gz so
# that rg -z opens them too), man pages (.gz), one real text file compressed
# with xz, zstd, bzip2 and lz4, jars, wheels and zips found on the machine,
# ELF programs and shared libraries, Rust .rlib archives, and a copy of
# part of Python's standard library with its `python3 -m compileall` output.
# Files over 25 MiB are left out (leakhound's --max-file-size).
#
# What each tool reads there (printed per part, from bytes.tsv):
#   rg -a -z  reads every file whole, and a file whose NAME ends in .gz,
#             .tgz, .bz2, .tbz2, .xz, .txz, .lz4, .lzma, .zst, .zstd, .br or .Z
#             decompressed by an external program (gzip -d, xz -d, ...; one
#             process per file). It does not open zip, jar, whl: their
#             compressed bytes are searched as they are.
#   leakhound reads every file whole (media skipped by signature), and opens
#             containers by content: a gzip/bzip2/xz/zstd/lz4 stream
#             decompressed (a tarball's members), a zip's members (nested
#             jars too, up to 4 levels), each member cut at 25 MiB.
# Targets: leakhound <= 1.0x rg -a -z wall on the whole tree; decoders on
# <= 1.1x --no-decode on text/; peak RSS <= 300 MiB.
ART=$BENCH_DIR/artifacts
ART_MARKER=$ART/artifacts.ready
ART_FORMAT=2                          # bump when the recipe changes

build_artifacts() {
    note "building the artifact tree in $ART (one-off; reused while $ART_MARKER exists)"
    rm -rf "$ART"
    mkdir -p "$ART/tree/text" "$ART/tree/bin"
    cp -al "$BENCH_DIR/corpus/copy-0" "$ART/tree/text/" 2>/dev/null || cp -a "$BENCH_DIR/corpus/copy-0" "$ART/tree/text/"
    python3 - "$ART/tree/bin" "${CARGO_HOME:-$HOME/.cargo}/registry/cache" "$TARGET_DIR/release/deps" <<'PY'
"""Copies real binaries and compressed data into the artifact tree."""
import glob, os, shutil, subprocess, sys, sysconfig

out, crate_cache, rlib_dir = sys.argv[1:]
MAX = 25 << 20

def take(paths, dest, budget, rename=None):
    """Copies files (sorted, deduplicated by name) until `budget` bytes."""
    os.makedirs(dest, exist_ok=True)
    used, seen = 0, set()
    for p in sorted(paths):
        name = rename(os.path.basename(p)) if rename else os.path.basename(p)
        size = os.path.getsize(p)
        if name in seen or size > MAX or not os.path.isfile(p) or os.path.islink(p):
            continue
        if used + size > budget:
            continue
        shutil.copyfile(p, os.path.join(dest, name))
        seen.add(name)
        used += size
    return used

def magic(p, m):
    with open(p, "rb") as f:
        return f.read(len(m)) == m

take(glob.glob(crate_cache + "/*/*.crate"), out + "/crates", 12 << 20, lambda n: n[: -len(".crate")] + ".tar.gz")
take(glob.glob("/usr/share/man/man1/*.gz"), out + "/man", 512 << 10)
elf = [p for d in ("/usr/bin", "/usr/sbin") for p in glob.glob(d + "/*")
       if os.path.isfile(p) and not os.path.islink(p) and magic(p, b"\x7fELF")]
take(elf, out + "/elf/bin", 48 << 20)
libs = [p for p in glob.glob("/usr/lib/x86_64-linux-gnu/*.so*") if not os.path.islink(p) and magic(p, b"\x7fELF")]
take(libs, out + "/elf/lib", 24 << 20)
take([p for p in glob.glob(rlib_dir + "/lib*.rlib") if "leakhound" not in p], out + "/rlib", 24 << 20)
zips = [p for p in glob.glob("/usr/share/java/*.jar") + glob.glob("/usr/lib/google-cloud-sdk/**/*.jar", recursive=True)
        + glob.glob("/root/.pyenv/versions/*/lib/python3*/ensurepip/_bundled/*.whl")
        + glob.glob("/usr/lib/google-cloud-sdk/**/*.zip", recursive=True) if not os.path.islink(p)]
take(zips, out + "/zip", 40 << 20)
# One real text (the apt package list, else the largest man pages joined),
# 8 MiB of it compressed by each codec's own tool.
lists = sorted(glob.glob("/var/lib/apt/lists/*Packages*"))
text = b""
for p in lists:
    if p.endswith(".lz4"):
        text = subprocess.run(["lz4", "-dc", p], capture_output=True).stdout
    elif not os.path.splitext(p)[1]:
        text = open(p, "rb").read()
    if len(text) >= 8 << 20:
        break
if len(text) < 8 << 20:
    for p in sorted(glob.glob("/usr/share/man/man*/*.gz")):
        text += subprocess.run(["gzip", "-dc", p], capture_output=True).stdout
        if len(text) >= 8 << 20:
            break
text = text[: 8 << 20]
os.makedirs(out + "/data", exist_ok=True)
for ext, cmd in (("xz", ["xz", "-c"]), ("zst", ["zstd", "-q", "-c"]), ("bz2", ["bzip2", "-c"]), ("lz4", ["lz4", "-c"])):
    with open("%s/data/packages.%s" % (out, ext), "wb") as f:
        f.write(subprocess.run(cmd, input=text, capture_output=True, check=True).stdout)
# Python sources and their compiled .pyc.
stdlib = sysconfig.get_paths()["stdlib"] + "/"
for pkg in ("asyncio", "email", "http", "json", "xml", "concurrent", "logging", "unittest", "importlib", "urllib"):
    if os.path.isdir(stdlib + pkg):
        shutil.copytree(stdlib + pkg, out + "/python/" + pkg, ignore=shutil.ignore_patterns("__pycache__", "test*"))
subprocess.run([sys.executable, "-m", "compileall", "-q", out + "/python"], check=True)
PY
    artifact_bytes "$ART/tree" >"$ART/bytes.tsv"
    echo "format=$ART_FORMAT" >"$ART_MARKER"
}

# artifact_bytes TREE: per part of TREE (text, bin/<kind>), the files, the
# bytes on disk, and the bytes each tool reads (see above), tab-separated.
artifact_bytes() {
    python3 - "$1" <<'PY'
import bz2, collections, gzip, io, lzma, os, subprocess, sys, tarfile, zipfile

root = sys.argv[1]
RG_Z = {".gz": "gz", ".tgz": "gz", ".bz2": "bz2", ".tbz2": "bz2", ".xz": "xz", ".txz": "xz", ".lzma": "xz",
        ".lz4": "lz4", ".zst": "zst", ".zstd": "zst"}
CAP, DEPTH = 25 << 20, 4
MEDIA = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"wOFF", b"wOF2", b"OggS", b"fLaC", b"ID3")

def inflate(kind, data):
    try:
        if kind == "gz":
            return gzip.decompress(data)
        if kind == "bz2":
            return bz2.decompress(data)
        if kind == "xz":
            return lzma.decompress(data)
        tool = {"zst": ["zstd", "-dcq"], "lz4": ["lz4", "-dc"]}[kind]
        return subprocess.run(tool, input=data, capture_output=True).stdout
    except Exception:
        return data

def codec(data):
    for m, k in ((b"\x1f\x8b", "gz"), (b"BZh", "bz2"), (b"\xfd7zXZ\x00", "xz"), (b"\x28\xb5\x2f\xfd", "zst"),
                 (b"\x04\x22\x4d\x18", "lz4")):
        if data.startswith(m):
            return k
    return None

def lh(data, depth):
    """Bytes leakhound scans for a blob: members of what it opens."""
    if depth < DEPTH:
        if data[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
            try:
                z = zipfile.ZipFile(io.BytesIO(data))
                return sum(lh(z.read(i)[:CAP], depth + 1) for i in z.infolist() if not i.is_dir())
            except Exception:
                return len(data)
        k = codec(data)
        if k:
            return lh_stream(inflate(k, data), depth)
        if data[257:262] == b"ustar":
            return lh_stream(data, depth)
    return len(data)

def lh_stream(data, depth):
    if data[257:262] == b"ustar":
        try:
            t = tarfile.open(fileobj=io.BytesIO(data))
            return sum(lh(t.extractfile(m).read()[:CAP], depth + 1) for m in t.getmembers() if m.isfile())
        except Exception:
            return len(data)
    return len(data[:CAP])

parts = collections.defaultdict(lambda: [0, 0, 0, 0])
for d, _, files in os.walk(root):
    for f in files:
        p = os.path.join(d, f)
        rel = os.path.relpath(p, root).split(os.sep)
        part = rel[0] if rel[0] != "bin" else "bin/" + rel[1]
        data = open(p, "rb").read()
        kind = next((k for x, k in RG_Z.items() if f.endswith(x)), None)
        row = parts[part]
        row[0] += 1
        row[1] += len(data)
        row[2] += len(inflate(kind, data)) if kind else len(data)
        row[3] += 0 if data.startswith(MEDIA) else lh(data, 0)
for part in sorted(parts):
    print(part, *parts[part], sep="\t")
PY
}

ensure_artifacts() {
    [[ -d $ART/tree && -f $ART/bytes.tsv ]] && grep -qx "format=$ART_FORMAT" "$ART_MARKER" 2>/dev/null && return
    build_artifacts
}

artifact_case() {
    ensure_artifacts
    local odd
    odd=$(find "$ART/tree" \( -name .git -o -type l -o -size +25M \) -print -quit)
    [[ -z $odd ]] || die "$odd: .git dirs, symlinks and files over 25M make the tools scan different bytes; delete $ART to rebuild"
    echo
    echo "artifact tree: $ART/tree (source, binaries, compressed data); bytes read by each tool (MB):"
    awk -F '\t' 'BEGIN { printf "  %-14s %7s %10s %12s %16s\n", "part", "files", "on disk", "rg -a -z", "leakhound" }
        { printf "  %-14s %7d %10.1f %12.1f %16.1f\n", $1, $2, $3 / 1e6, $4 / 1e6, $5 / 1e6
          n += $2; d += $3; r += $4; l += $5 }
        END { printf "  %-14s %7d %10.1f %12.1f %16.1f\n", "total", n, d / 1e6, r / 1e6, l / 1e6 }' "$ART/bytes.tsv"
    # rg exits 2 when a decompressor fails on a file (zstd refuses a 256 MiB
    # window without --long=28): that file is unread, the search goes on.
    printf '#!/bin/sh\nrg "$@"; rc=$?\n[ "$rc" -eq 2 ] && exit 1\nexit "$rc"\n' >"$WORK/rg-z"
    chmod +x "$WORK/rg-z"
    local rg_z=("$WORK/rg-z" --no-ignore --hidden -a -z -c -F -i -j "$THREADS" -f "$KEYWORDS")
    LH=("$LEAKHOUND" scan --no-ignore --threads "$THREADS" --format json "$ART/tree")
    BASE=("${rg_z[@]}" "$ART/tree")
    bench "artifact tree, whole (baseline: rg -a -z)" "; target <= 1.0x" rg-z
    summarize_warmup tree
    sed -n 's|^\(/.*\): *$|  rg -z could not decompress (not searched): \1|p' "$WORK/rg.warm.err"
    LH=("$LEAKHOUND" scan --no-ignore --threads "$THREADS" --format json "$ART/tree/bin")
    BASE=("${rg_z[@]}" "$ART/tree/bin")
    bench "artifact tree, bin/ only (baseline: rg -a -z)" "" rg-z
    LH=("$LEAKHOUND" scan --no-ignore --threads "$THREADS" --format json "$ART/tree/text")
    BASE=("${LH[@]}" --no-decode)
    bench "artifact tree, text/ only: decoders on vs off (baseline: leakhound --no-decode)" "; target <= 1.1x" no-decode
}

# ----------------------------------------------------------------- main ----
ensure_tools
mkdir -p "$BENCH_DIR"
WORK=$(mktemp -d "$BENCH_DIR/run.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
KEYWORDS=$WORK/keywords.txt

note "building leakhound (cargo build --release)"
(cd "$REPO" && cargo build --release --quiet)
if [[ -n ${FS_SCAN_TREE:-} ]]; then
    [[ -d $FS_SCAN_TREE ]] || die "FS_SCAN_TREE=$FS_SCAN_TREE is not a directory"
    ensure_corpus  # for the bundle
    CORPUS=$FS_SCAN_TREE
    : >"$WORK/planted.none"
    PLANTED=$WORK/planted.none
else
    ensure_corpus
fi
odd=$(find "$CORPUS" \( -name .git -o -type l -o -size +25M \) -print -quit)
[[ -z $odd || -n ${FS_SCAN_TREE:-} ]] || die "$odd: .git dirs, symlinks and files over 25M make the tools scan different bytes; delete $BENCH_DIR to rebuild"
write_keywords "$KEYWORDS"

rule_count=$("$LEAKHOUND" rules list --format json | grep -c . || true)
keyword_count=$(grep -c . "$KEYWORDS" || true)
((keyword_count > 0)) || die "no keywords found in $REPO/rules/*.toml"
corpus_bytes=$(find "$CORPUS" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}')
corpus_files=$(find "$CORPUS" -type f | wc -l)

echo "leakhound fs-scan benchmark ($("$LEAKHOUND" --version), $(rg --version | head -n 1))"
echo "  machine : $THREADS cores ($(uname -m)), load average $(cut -d ' ' -f 1-3 /proc/loadavg); threads = $THREADS for both tools; $RUNS timed runs each"
echo "  rules   : $rule_count rules, $keyword_count distinct keyword literals"
what="$(sed -n 's/.*copies=//p' "$MARKER") copies of the cargo registry sources"
[[ -z ${FS_SCAN_TREE:-} ]] || what="FS_SCAN_TREE: real projects, as they are"
awk -v b="$corpus_bytes" -v f="$corpus_files" -v p="$CORPUS" -v c="$what" \
    'BEGIN { printf "  corpus  : %s: %.1f MB (%.1f MiB), %d files (%s)\n", p, b / 1e6, b / 1048576, f, c }'

if [[ ${ARTIFACTS:-1} == only ]]; then
    artifact_case
    exit 0
fi

LH=("$LEAKHOUND" scan --no-ignore --threads "$THREADS" --format json "$CORPUS")
BASE=(rg --no-ignore --hidden -a -c -F -i -j "$THREADS" -f "$KEYWORDS" "$CORPUS")
bench "source tree ($((corpus_bytes / 1000000)) MB, $corpus_files files)" "; target <= 1.15x" rg
summarize_warmup tree

if [[ -n ${LEAKHOUND_BASELINE:-} ]]; then
    [[ -x $LEAKHOUND_BASELINE ]] || die "LEAKHOUND_BASELINE=$LEAKHOUND_BASELINE is not executable"
    echo "  baseline: $LEAKHOUND_BASELINE: $("$LEAKHOUND_BASELINE" rules list --format json | grep -c . || true) rules"
    BASE=("$LEAKHOUND_BASELINE" scan --no-ignore --threads "$THREADS" --format json "$CORPUS")
    bench "this build vs the baseline build (same tree)" "; target <= 1.25x" baseline
fi

# The cost of the decoders ([hard-cases]) on ordinary source: the same scan
# with decoding off is the baseline.
BASE=("${LH[@]}" --no-decode)
bench "decoders on vs off (same tree; baseline: leakhound --no-decode)" "; target <= 1.15x" no-decode

LH=("$LEAKHOUND" scan --no-ignore --threads "$THREADS" --format json "$BUNDLE")
BASE=(rg --no-ignore --hidden -a -c -F -i -j "$THREADS" -f "$KEYWORDS" "$BUNDLE")
bench "minified bundle ($(($(stat -c %s "$BUNDLE") / 1048576)) MiB, one line: $BUNDLE)" "" rg
summarize_warmup bundle

[[ ${ARTIFACTS:-1} == 0 ]] || artifact_case

echo
load1=$(cut -d ' ' -f 1 /proc/loadavg)
echo "load average after the runs: $(cut -d ' ' -f 1-3 /proc/loadavg)$(awk -v l="$load1" -v n="$THREADS" \
    'BEGIN { if (l > n) print " (above the core count: other work shared the CPUs, so wall times are noisy)" }')"
exit 0
