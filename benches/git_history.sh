#!/usr/bin/env bash
# benches/git_history.sh: leakhound's whole-history git audit against git's
# own object dump, plus the pre-commit (`staged`) mode against `git diff`.
#
# WHAT IT MEASURES
#   1. History audit. Median wall time and peak RSS (GNU time's %M) of
#          leakhound git --threads N --format json REPO > /dev/null
#      against
#          git -C REPO cat-file --batch-all-objects --batch > /dev/null
#      on a generated repository with >= 20,000 commits and >= 1 GiB of
#      distinct blob content (successive edits of real crate sources on
#      main + 5 feature branches, merges, renames, tags), repacked with
#      `git repack -adf --window=50 --depth=50` so it has real delta chains.
#      Targets: time ratio <= 0.60x, peak-RSS ratio <= 0.75x.
#   2. Correctness on the same repository: ~20 fake but well-formed keys are
#      planted across its history (removed later, still at HEAD, only on an
#      unmerged branch, only in a tag, added by a merge commit, ...); every
#      one must be reported at its path with the right introducing commit.
#      The script exits 1 when one is missed.
#   3. Staged mode (skipped while `leakhound staged --help` fails). Median
#      wall time and peak RSS of `leakhound staged` (text output) against
#      `git diff --cached`, both run inside a work tree of 50,000 committed
#      small files with 10 files modified/added and staged (one new file holds
#      a fake key, so leakhound exits 1). Target: time ratio <= 3x.
#
# WHY THE BASELINES ARE FAIR
#   - `git cat-file --batch-all-objects --batch` is git's own fastest way to
#     materialise every object of a repository: it inflates and resolves the
#     delta chain of each of the ~270k objects and writes them all out. That
#     is the floor of the work a history scanner has to do before it scans a
#     single byte; leakhound does all of it too (plus parsing trees and
#     commits, scanning every blob and attributing findings), so the ratio
#     is what its decode strategy (a delta-tree traversal that inflates each
#     base once, on N threads) and its scanning cost together buy or lose.
#     cat-file is single-threaded and works in object-id order with git's
#     delta-base cache; leakhound gets N = nproc threads - the targets (well
#     under 1x) are set with that in mind.
#   - Same repository, one pack, no loose objects, page cache warm for both
#     (one untimed warm-up run each); both write to /dev/null (cat-file's
#     output is ~1.3 GB of raw object data, writes to /dev/null are free);
#     timed runs alternate, the order flipping every round, so drift in
#     machine load hits both alike.
#   - `git diff --cached` reads the index and HEAD's tree and prints the
#     staged patch: exactly the input `leakhound staged` needs (it then scans
#     the added lines). Both run in the same directory through the same
#     `env -C DIR` wrapper, both to /dev/null.
#
# USAGE
#   benches/git_history.sh              (from anywhere; needs python3 >= 3.11, git, GNU time)
#   benches/git_history.sh --large      the large case instead: histories of 0.5M and 1M
#                                       objects (and LARGE_REPO=PATH, a real one), with the
#                                       audit's memory by phase; see benches/git_history_large.sh
#   RUNS=9 benches/git_history.sh       timed runs per tool (default 5)
#   LEAKHOUND_BENCH_DIR=/data/lhb ...   cache dir (default /tmp/leakhound-bench)
#   LEAKHOUND=/path/to/bin ...          benchmark that binary and skip `cargo build`
#   The repositories are built once (history: 70-95 s on 2 cores, see the
#   "generated in" line; staged: 10-25 s) under $LEAKHOUND_BENCH_DIR and
#   reused while their marker files (history.ready, staged.ready) are
#   present; delete them (or the directory) to rebuild. The generator,
#   benches/git_history_gen.py, is deterministic (seeded RNG, sorted
#   listings): the same Cargo.lock gives the same commit ids. Its sources are
#   the crates that Cargo.lock names (a copy is kept as history.Cargo.lock),
#   so a rebuild after dependency changes gives a somewhat different repo.
#   The planted keys are listed, with their introducing commits, in
#   $LEAKHOUND_BENCH_DIR/history.planted.json.

set -euo pipefail

if [[ ${1:-} == --large ]]; then
    exec "$(dirname "${BASH_SOURCE[0]}")/git_history_large.sh"
fi

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_DIR=${LEAKHOUND_BENCH_DIR:-/tmp/leakhound-bench}
HIST=$BENCH_DIR/history.git
HIST_MARKER=$BENCH_DIR/history.ready
PLANTED=$BENCH_DIR/history.planted.json
STAGED=$BENCH_DIR/staged-repo
STAGED_MARKER=$BENCH_DIR/staged.ready
HIST_FORMAT=1                      # bump when the history recipe changes
STAGED_FORMAT=1                    # bump when the staged recipe changes
MIN_COMMITS=20000
MIN_BYTES=$((1 << 30))             # distinct blob bytes: 1 GiB
STAGED_FILES=50000
STAGED_CHANGES=10
SEED=20240917
RUNS=${RUNS:-5}
THREADS=$(nproc)
GEN=$REPO/benches/git_history_gen.py
REGISTRY_SRC=${CARGO_HOME:-$HOME/.cargo}/registry/src

die() { echo "git_history.sh: error: $*" >&2; exit 2; }
note() { echo "git_history.sh: $*" >&2; }

[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive integer, got '$RUNS'"

# ---------------------------------------------------------------- tools ----
ensure_tools() {
    if [[ ! -x /usr/bin/time ]]; then
        note "installing GNU time with apt-get"
        apt-get update -qq >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >&2
    fi
    command -v cargo >/dev/null || export PATH=${CARGO_HOME:-$HOME/.cargo}/bin:$PATH
    command -v cargo >/dev/null || die "cargo not found"
    command -v git >/dev/null || die "git not found"
    python3 -c 'import tomllib' 2>/dev/null || die "python3 >= 3.11 (tomllib) is required"
    env -C / true 2>/dev/null || die "env -C (coreutils >= 8.28) is required"
}

registry_dirs() {  # --registry DIR for every registry source dir
    local d
    for d in "$REGISTRY_SRC"/*/; do
        [[ -d $d ]] && printf -- '--registry\n%s\n' "${d%/}"
    done
}

secs_since() { awk -v a="$1" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }'; }

# ------------------------------------------------------- history repo ----
build_history() {
    note "building the history repository in $HIST (one-off; reused while $HIST_MARKER exists)"
    local t_all t0 tmp regs
    t_all=$(date +%s%N)
    rm -rf "$HIST" "$HIST_MARKER" "$PLANTED" "$HIST.tmp"
    (cd "$REPO" && cargo fetch --quiet)
    mapfile -t regs < <(registry_dirs)
    ((${#regs[@]})) || die "no crate sources under $REGISTRY_SRC (cargo fetch found nothing?)"
    cp "$REPO/Cargo.lock" "$BENCH_DIR/history.Cargo.lock"  # the lock is pinned for the whole build

    tmp=$HIST.tmp
    git init -q --bare -b main "$tmp"
    git -C "$tmp" config gc.auto 0
    git -C "$tmp" config core.logAllRefUpdates false

    t0=$(date +%s%N)
    PYTHONHASHSEED=0 python3 "$GEN" history "${regs[@]}" --lock "$BENCH_DIR/history.Cargo.lock" \
        --seed "$SEED" --min-commits "$MIN_COMMITS" --min-bytes "$MIN_BYTES" --planted "$PLANTED.raw" |
        git -C "$tmp" fast-import --quiet --active-branches=16 --export-marks="$BENCH_DIR/history.marks"
    local t_import; t_import=$(secs_since "$t0")

    # Refs that only existed to build objects (the tagged hotfix's branch).
    python3 -c 'import json, sys; print("\n".join(json.load(open(sys.argv[1]))["drop_refs"]))' "$PLANTED.raw" |
        while read -r ref; do [[ -z $ref ]] || git -C "$tmp" update-ref -d "$ref"; done

    # Marks -> commit ids in the planted list.
    python3 - "$PLANTED.raw" "$BENCH_DIR/history.marks" "$PLANTED" <<'PY'
import json, sys
raw, marks_path, out = sys.argv[1:]
marks = dict(line.split() for line in open(marks_path))
doc = json.load(open(raw))
for rec in doc["planted"]:
    rec["commit"] = marks[":%d" % rec["mark"]]
    rec["removed_commit"] = marks[":%d" % rec["removed_mark"]] if rec["removed_mark"] else None
json.dump(doc, open(out, "w"), indent=1)
PY
    rm -f "$PLANTED.raw" "$BENCH_DIR/history.marks"

    t0=$(date +%s%N)
    git -C "$tmp" repack -q -adf --window=50 --depth=50 --threads="$THREADS"
    git -C "$tmp" prune-packed
    local t_repack; t_repack=$(secs_since "$t0")
    local loose; loose=$(git -C "$tmp" count-objects | cut -d ' ' -f 1)
    ((loose == 0)) || die "$loose loose objects left after repack"
    (($(ls "$tmp"/objects/pack/*.pack | wc -l) == 1)) || die "expected exactly one pack after repack"

    mv "$tmp" "$HIST"
    local t_total; t_total=$(secs_since "$t_all")
    note "history generated in ${t_total} s (generator + fast-import ${t_import} s, repack ${t_repack} s)"
    printf 'format=%s\nlock_sha256=%s\ngen_seconds=%s\nimport_seconds=%s\nrepack_seconds=%s\n' \
        "$HIST_FORMAT" "$(sha256sum "$BENCH_DIR/history.Cargo.lock" | cut -d ' ' -f 1)" \
        "$t_total" "$t_import" "$t_repack" >"$HIST_MARKER"
}

ensure_history() {
    if [[ -d $HIST && -f $PLANTED ]] && grep -qx "format=$HIST_FORMAT" "$HIST_MARKER" 2>/dev/null; then
        note "reusing $HIST (delete $HIST_MARKER to rebuild)"
        return
    fi
    build_history
}

marker_value() { sed -n "s/^$2=//p" "$1"; }

history_facts() {  # sets COMMITS BLOBS BLOB_BYTES OBJECTS PACK_BYTES REFS
    COMMITS=$(git -C "$HIST" rev-list --all --count)
    read -r BLOBS BLOB_BYTES OBJECTS < <(git -C "$HIST" cat-file --batch-all-objects \
        --batch-check='%(objecttype) %(objectsize)' |
        awk '$1 == "blob" { n++; s += $2 } { o++ } END { printf "%d %d %d\n", n, s, o }')
    PACK_BYTES=$(stat -c %s "$HIST"/objects/pack/*.pack | awk '{ s += $1 } END { print s }')
    REFS=$(git -C "$HIST" for-each-ref | awk '{ split($3, p, "/"); n[p[2]]++ } END { printf "%d branches, %d tags", n["heads"], n["tags"] }')
    ((COMMITS >= MIN_COMMITS)) || die "history has $COMMITS commits, fewer than $MIN_COMMITS"
    ((BLOB_BYTES >= MIN_BYTES)) || die "history has $BLOB_BYTES distinct blob bytes, fewer than $MIN_BYTES"
}

# -------------------------------------------------------- staged repo ----
build_staged() {
    note "building the staged repository in $STAGED (one-off; reused while $STAGED_MARKER exists)"
    local tmp=$STAGED.tmp regs t0
    t0=$(date +%s%N)
    rm -rf "$STAGED" "$STAGED_MARKER" "$tmp"
    (cd "$REPO" && cargo fetch --quiet)
    mapfile -t regs < <(registry_dirs)
    git init -q -b main "$tmp"
    git -C "$tmp" config gc.auto 0
    git -C "$tmp" config core.logAllRefUpdates false
    PYTHONHASHSEED=0 python3 "$GEN" staged "${regs[@]}" --lock "$REPO/Cargo.lock" --seed "$SEED" \
        --files "$STAGED_FILES" | git -C "$tmp" fast-import --quiet
    git -C "$tmp" reset -q --hard main
    PYTHONHASHSEED=0 python3 "$GEN" stage-edits "${regs[@]}" --lock "$REPO/Cargo.lock" --seed "$SEED" \
        --worktree "$tmp" --count "$STAGED_CHANGES" >"$BENCH_DIR/staged.paths"
    git -C "$tmp" add --pathspec-from-file="$BENCH_DIR/staged.paths"
    mv "$tmp" "$STAGED"
    note "staged repository generated in $(secs_since "$t0") s"
    echo "format=$STAGED_FORMAT" >"$STAGED_MARKER"
}

ensure_staged() {
    if [[ -d $STAGED/.git ]] && grep -qx "format=$STAGED_FORMAT" "$STAGED_MARKER" 2>/dev/null &&
        ! git -C "$STAGED" diff --cached --quiet; then
        note "reusing $STAGED (delete $STAGED_MARKER to rebuild)"
        return
    fi
    build_staged
}

# --------------------------------------------------------------- timing ----
# run_once CMD...: runs CMD with stdout on /dev/null under GNU time; sets
# LAST_NS (wall, ns), LAST_CPU_MS (user + sys) and LAST_KB (peak RSS).
# Exit 0 and 1 are success (1 = findings for leakhound); anything else aborts.
run_once() {
    local rc=0 t0 t1 user sys
    t0=$(date +%s%N)
    /usr/bin/time -f '%U %S %M' -o "$WORK/time" "$@" >/dev/null 2>"$WORK/stderr" || rc=$?
    t1=$(date +%s%N)
    if ((rc > 1)); then
        cat "$WORK/stderr" >&2
        die "exit code $rc from: $*"
    fi
    LAST_NS=$((t1 - t0))
    read -r user sys LAST_KB < <(tail -n 1 "$WORK/time")  # GNU time puts "exited with status 1" above
    LAST_CPU_MS=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.0f", (u + s) * 1000 }')
}

median() {
    printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END {
        if (NR % 2) m = v[(NR + 1) / 2]; else m = (v[NR / 2] + v[NR / 2 + 1]) / 2
        printf "%.0f\n", m }'
}
max() { printf '%s\n' "$@" | sort -n | tail -n 1; }

# bench PREFIX -- BASELINE... -- CANDIDATE...: RUNS alternating timed runs
# (after one untimed warm-up each); sets PREFIX_{B,C}_{NS,CPU,KB} (median
# wall ns, median cpu ms, max peak RSS KiB).
bench() {
    local prefix=$1 i
    shift 2
    local base=() cand=()
    while [[ $1 != -- ]]; do base+=("$1"); shift; done
    shift
    cand=("$@")
    local b_ns=() b_cpu=() b_kb=() c_ns=() c_cpu=() c_kb=()
    run_once "${base[@]}"
    run_once "${cand[@]}"
    for ((i = 0; i < RUNS; i++)); do
        if ((i % 2 == 0)); then
            run_once "${base[@]}"; b_ns+=("$LAST_NS"); b_cpu+=("$LAST_CPU_MS"); b_kb+=("$LAST_KB")
            run_once "${cand[@]}"; c_ns+=("$LAST_NS"); c_cpu+=("$LAST_CPU_MS"); c_kb+=("$LAST_KB")
        else
            run_once "${cand[@]}"; c_ns+=("$LAST_NS"); c_cpu+=("$LAST_CPU_MS"); c_kb+=("$LAST_KB")
            run_once "${base[@]}"; b_ns+=("$LAST_NS"); b_cpu+=("$LAST_CPU_MS"); b_kb+=("$LAST_KB")
        fi
    done
    printf -v "${prefix}_B_NS" '%s' "$(median "${b_ns[@]}")"
    printf -v "${prefix}_B_CPU" '%s' "$(median "${b_cpu[@]}")"
    printf -v "${prefix}_B_KB" '%s' "$(max "${b_kb[@]}")"
    printf -v "${prefix}_C_NS" '%s' "$(median "${c_ns[@]}")"
    printf -v "${prefix}_C_CPU" '%s' "$(median "${c_cpu[@]}")"
    printf -v "${prefix}_C_KB" '%s' "$(max "${c_kb[@]}")"
}

# ------------------------------------------------------- correctness ----
check_planted() {  # check_planted LEAKHOUND_JSON: prints lines; last line "FOUND n m"
    python3 - "$PLANTED" "$1" <<'PY'
import collections, json, sys
planted = json.load(open(sys.argv[1]))["planted"]
doc = json.load(open(sys.argv[2]))
findings = doc["findings"]
by_key = collections.defaultdict(list)
for f in findings:
    by_key[(f["secret_sha256"], f["path"])].append(f)
found = head_ok = refs_ok = refs_n = 0
problems = []
for p in planted:
    fs = by_key.get((p["secret_sha256"], p["path"]), [])
    label = "%s key at %s (%s, %s)" % (p["kind"], p["path"], p["how"], p["branch"])
    if not fs:
        other = [f["path"] for f in findings if f["secret_sha256"] == p["secret_sha256"]]
        problems.append("MISSED %s%s" % (label, "; reported at " + ", ".join(other) if other else ""))
        continue
    f = next((f for f in fs if f.get("commit") == p["commit"]), None)
    if f is None:
        problems.append("WRONG COMMIT %s: reported %s, introduced by %s"
                        % (label, ", ".join(x.get("commit", "?")[:12] for x in fs), p["commit"][:12]))
        continue
    found += 1
    if f.get("in_head") == p["in_head"]:
        head_ok += 1
    else:
        problems.append("in_head %s, expected %s: %s" % (f.get("in_head"), p["in_head"], label))
    if p.get("only_ref"):
        refs_n += 1
        if f.get("branches") == [p["only_ref"]]:
            refs_ok += 1
        else:
            problems.append("refs %s, expected only %s: %s" % (f.get("branches"), p["only_ref"], label))
keys = {(p["secret_sha256"], p["path"]) for p in planted}
extra = [f for f in findings if (f["secret_sha256"], f["path"]) not in keys]
st = doc["stats"]
print("  leakhound: %d blobs, %.1f MB scanned, %d findings (%d planted + %d from the crate sources), %d errors"
      % (st["files_scanned"], st["bytes_scanned"] / 1e6, len(findings), len(findings) - len(extra), len(extra),
         st.get("errors", 0)))
print("  planted keys found with the right introducing commit: %d/%d; in_head right: %d/%d; "
      "tag-only / unmerged-only keys carried by just their ref: %d/%d" % (found, len(planted), head_ok, found, refs_ok, refs_n))
for line in problems:
    print("    " + line)
print("FOUND %d %d %d" % (found, len(planted), len(problems)))
PY
}

# ----------------------------------------------------------------- main ----
ensure_tools
mkdir -p "$BENCH_DIR"
WORK=$(mktemp -d "$BENCH_DIR/run.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

if [[ -n ${LEAKHOUND:-} ]]; then
    [[ -x $LEAKHOUND ]] || die "LEAKHOUND=$LEAKHOUND is not executable"
else
    LEAKHOUND=$REPO/target/release/leakhound
    note "building leakhound (cargo build --release)"
    (cd "$REPO" && cargo build --release --quiet) || die "cargo build --release failed (someone mid-edit? retry in a minute)"
fi

ensure_history
history_facts
echo "leakhound git-history benchmark ($("$LEAKHOUND" --version 2>/dev/null || echo leakhound), $(git --version))"
echo "  machine : $THREADS cores ($(uname -m)), load average $(cut -d ' ' -f 1-3 /proc/loadavg); --threads $THREADS; $RUNS timed runs each, alternating, after a warm-up"
awk -v c="$COMMITS" -v n="$BLOBS" -v b="$BLOB_BYTES" -v o="$OBJECTS" -v p="$PACK_BYTES" -v r="$REFS" -v h="$HIST" \
    'BEGIN { printf "  history : %s: %d commits, %d objects, %d distinct blobs = %.2f GB (%.2f GiB), pack %.1f MB; %s\n",
             h, c, o, n, b / 1e9, b / 1073741824, p / 1e6, r }'
echo "  generated in $(marker_value "$HIST_MARKER" gen_seconds) s (generator + fast-import $(marker_value "$HIST_MARKER" import_seconds) s, repack -adf --window=50 --depth=50 $(marker_value "$HIST_MARKER" repack_seconds) s)"

# Correctness first, on its own run (its output is kept).
rc=0
"$LEAKHOUND" git --threads "$THREADS" --format json "$HIST" >"$WORK/lh.json" 2>"$WORK/lh.err" || rc=$?
((rc <= 1)) || { cat "$WORK/lh.err" >&2; die "leakhound git exited $rc"; }
check_planted "$WORK/lh.json" >"$WORK/check.txt"
read -r _ FOUND PLANTED_N PROBLEMS < <(tail -n 1 "$WORK/check.txt")
echo
echo "correctness (planted list: $PLANTED)"
sed '$d' "$WORK/check.txt"

note "timing the history audit ($RUNS runs each)"
bench H -- git -C "$HIST" cat-file --batch-all-objects --batch \
    -- "$LEAKHOUND" git --threads "$THREADS" --format json "$HIST"

STAGED_STATUS=skipped
if "$LEAKHOUND" staged --help >/dev/null 2>&1; then
    ensure_staged
    staged_n=$(git -C "$STAGED" diff --cached --name-only | wc -l)
    tracked_n=$(git -C "$STAGED" ls-files | wc -l)
    note "timing the staged scan ($RUNS runs each)"
    bench S -- env -C "$STAGED" git diff --cached \
        -- env -C "$STAGED" "$LEAKHOUND" staged
    STAGED_STATUS=done
fi

# --------------------------------------------------------------- report ----
verdict() {  # verdict RATIO TARGET
    awk -v r="$1" -v t="$2" 'BEGIN { print (r <= t ? "ok" : "MISSED") }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
line() {  # line NAME NS CPU_MS KB
    awk -v n="$1" -v t="$2" -v c="$3" -v k="$4" \
        'BEGIN { printf "  %-44s %10.3f %10.2f %12.1f\n", n, t / 1e9, c / 1e3, k / 1024 }'
}

h_t=$(ratio "$H_C_NS" "$H_B_NS")
h_m=$(ratio "$H_C_KB" "$H_B_KB")
echo
echo "results (median of $RUNS runs; peak RSS = max over the runs; cpu = user + sys, steadier than wall on a busy machine)"
printf '  %-44s %10s %10s %12s\n' "" "wall (s)" "cpu (s)" "peak RSS MiB"
line "git cat-file --batch-all-objects --batch" "$H_B_NS" "$H_B_CPU" "$H_B_KB"
line "leakhound git --threads $THREADS --format json" "$H_C_NS" "$H_C_CPU" "$H_C_KB"
printf '  %-44s %10s %10s %12s\n' "ratio leakhound/cat-file" "${h_t}x" "$(ratio "$H_C_CPU" "$H_B_CPU")x" "${h_m}x"
printf '  %-44s %10s %23s\n' "target" "<= 0.60x" "<= 0.75x"
printf '  %-44s %10s %23s\n' "" "$(verdict "$h_t" 0.60)" "$(verdict "$h_m" 0.75)"
echo "  planted keys found (path + introducing commit): $FOUND/$PLANTED_N$( ((PROBLEMS == 0)) || echo "  ($PROBLEMS problems, listed above)")"
if [[ $STAGED_STATUS == done ]]; then
    s_t=$(ratio "$S_C_NS" "$S_B_NS")
    s_m=$(ratio "$S_C_KB" "$S_B_KB")
    echo
    echo "  staged: $tracked_n tracked files, $staged_n staged changes ($STAGED)"
    line "git diff --cached" "$S_B_NS" "$S_B_CPU" "$S_B_KB"
    line "leakhound staged" "$S_C_NS" "$S_C_CPU" "$S_C_KB"
    printf '  %-44s %10s %10s %12s\n' "ratio leakhound/git diff" "${s_t}x" "" "${s_m}x"
    printf '  %-44s %10s %23s\n' "target" "<= 3x $(verdict "$s_t" 3)" ""
else
    echo
    echo "  staged: skipped (\`$LEAKHOUND staged --help\` failed: the subcommand does not exist yet)"
fi
load1=$(cut -d ' ' -f 1 /proc/loadavg)
echo
echo "load average after the runs: $(cut -d ' ' -f 1-3 /proc/loadavg)$(awk -v l="$load1" -v n="$THREADS" \
    'BEGIN { if (l > n) print " (above the core count: other work shared the CPUs, so wall times are noisy)" }')"
((FOUND == PLANTED_N)) || exit 1
exit 0
