#!/usr/bin/env bash
# benches/git_history_large.sh: the history audit on histories of a million
# objects and more: wall time and peak memory against git's own object dump,
# the audit's memory by phase, its growth per million objects, how it scales
# from one thread to all, and what the decoders cost. Run through
# `benches/git_history.sh --large`, or directly.
#
# WHAT IT MEASURES, on each history
#   - wall and CPU (medians of RUNS rounds, the four commands in turn in
#     each round) and peak RSS (GNU time's %M, max over the runs) of
#         leakhound git --threads N --format json REPO
#     against  git -C REPO cat-file --batch-all-objects --batch
#     Targets: wall <= 0.5x, peak <= 0.75x cat-file's peak.
#   - the same audit with --threads 1: two threads >= 1.6x faster than one;
#   - the same audit with --no-decode: decoders on <= 1.15x;
#   - one run with LEAKHOUND_MEMORY_PHASES=1: time and peak of each phase
#     (open, decode, graph, attribution) and the history's shape.
#   - planted keys: every one found (the script exits 1 otherwise).
#   With two generated histories (0.5M and 1M objects) it also prints the
#   peak's growth per additional million objects.
#
# WHICH HISTORIES
#   Generated with benches/large_history_gen.py and `git fast-import`
#   (deterministic; ~13 objects per commit, 40 keys planted), kept under
#   $LEAKHOUND_BENCH_DIR. LARGE_REPO=/path/to/repo adds a real history (for
#   example a mirror of spring-boot: 1.35M objects, 80k commits).
#
# USAGE
#   benches/git_history_large.sh            (RUNS=3 by default)
#   RUNS=5 LARGE_REPO=~/mirrors/spring-boot.git benches/git_history_large.sh
#   LEAKHOUND=/path/to/bin ...               benchmark that build, no cargo build
#   SIZES="500000 1000000" ...               generated sizes (objects)

set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_DIR=${LEAKHOUND_BENCH_DIR:-/tmp/leakhound-bench}
RUNS=${RUNS:-3}
SIZES=${SIZES:-"500000 1000000"}
THREADS=$(nproc)
GEN=$REPO/benches/large_history_gen.py

die() { echo "git_history_large.sh: error: $*" >&2; exit 2; }
note() { echo "git_history_large.sh: $*" >&2; }
[[ -x /usr/bin/time ]] || die "GNU time (/usr/bin/time) is required (apt-get install time)"

if [[ -z ${LEAKHOUND:-} ]]; then
    LEAKHOUND=$REPO/target/release/leakhound
    note "building leakhound (cargo build --release)"
    (cd "$REPO" && cargo build --release --quiet) || die "cargo build --release failed"
fi

generate() {  # generate OBJECTS: prints the repository path
    local objects=$1 dir=$BENCH_DIR/large-$1.git
    if [[ ! -f $dir.ready ]]; then
        note "generating $dir (one-off; reused while $dir.ready exists)"
        rm -rf "$dir"
        git init -q --bare -b main "$dir"
        python3 "$GEN" --objects "$objects" --planted "$dir.planted.json" |
            git -C "$dir" fast-import --quiet --export-marks="$dir.marks"
        touch "$dir.ready"
    fi
    echo "$dir"
}

# run_once CMD...: sets LAST_S (wall seconds), LAST_CPU (user + system
# seconds) and LAST_KB (peak RSS).
run_once() {
    local rc=0
    /usr/bin/time -o "$BENCH_DIR/large.time" -f '%e %U %S %M' "$@" >/dev/null 2>/dev/null || rc=$?
    ((rc <= 1)) || die "$* exited with $rc"
    local user sys
    read -r LAST_S user sys LAST_KB < <(tail -n 1 "$BENCH_DIR/large.time")
    LAST_CPU=$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')
}

median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
max() { printf '%s\n' "$@" | sort -g | tail -n 1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

# measure_all NAME=CMD...: one warm-up each, then RUNS rounds in which every
# command runs once, in turn (a shared machine's drift then falls on all of
# them alike, not on whichever ran in a slow minute); sets NAME_S, NAME_CPU
# (medians) and NAME_KB (max).
measure_all() {
    local -A s=() cpu=() kb=()
    local entry name i
    for entry in "$@"; do eval "run_once ${entry#*=}"; done
    for ((i = 0; i < RUNS; i++)); do
        for entry in "$@"; do
            name=${entry%%=*}
            eval "run_once ${entry#*=}"
            s[$name]+=" $LAST_S"; cpu[$name]+=" $LAST_CPU"; kb[$name]+=" $LAST_KB"
        done
    done
    for entry in "$@"; do
        name=${entry%%=*}
        # shellcheck disable=SC2086
        printf -v "${name}_S" '%s' "$(median ${s[$name]})"
        # shellcheck disable=SC2086
        printf -v "${name}_CPU" '%s' "$(median ${cpu[$name]})"
        # shellcheck disable=SC2086
        printf -v "${name}_KB" '%s' "$(max ${kb[$name]})"
    done
}

check_planted() {  # check_planted PLANTED_JSON REPORT_JSON
    python3 - "$1" "$2" <<'PY'
import hashlib, json, sys
planted = json.load(open(sys.argv[1]))["planted"]
found = {(f["path"], f["secret_sha256"]) for f in json.load(open(sys.argv[2]))["findings"]}
missed = [p["path"] for p in planted if (p["path"], hashlib.sha256(p["key"].encode()).hexdigest()) not in found]
print("  planted keys found: %d/%d%s" % (len(planted) - len(missed), len(planted), "; MISSED " + ", ".join(missed[:5]) if missed else ""))
sys.exit(1 if missed else 0)
PY
}

declare -A PEAK_KB
status=0
bench_repo() {  # bench_repo LABEL REPO [PLANTED_JSON]
    local label=$1 repo=$2 planted=${3:-}
    local objects; objects=$(git -C "$repo" count-objects -v | awk '/in-pack/ { print $2 }')
    echo "== $label: $objects objects, $(git -C "$repo" rev-list --all --count) commits, packs $(du -sh "$repo/objects/pack" | cut -f 1)"
    local report=$BENCH_DIR/large-report.json
    LEAKHOUND_MEMORY_PHASES=1 "$LEAKHOUND" git --threads "$THREADS" --format json "$repo" >"$report" 2>"$report.phases" || true
    sed 's/^/  /' "$report.phases"
    if [[ -n $planted ]]; then check_planted "$planted" "$report" || status=1; fi
    local q; q=$(printf '%q' "$repo")
    local lh; lh=$(printf '%q' "$LEAKHOUND")
    measure_all "CAT=git -C $q cat-file --batch-all-objects --batch" \
        "LH=$lh git --threads $THREADS --format json $q" \
        "ONE=$lh git --threads 1 --format json $q" \
        "RAW=$lh git --no-decode --threads $THREADS --format json $q"
    printf '  %-36s %9s %9s %12s\n' "" "wall (s)" "CPU (s)" "peak (MiB)"
    printf '  %-36s %9s %9s %12s\n' "git cat-file --batch-all-objects" "$CAT_S" "$CAT_CPU" "$((CAT_KB / 1024))"
    printf '  %-36s %9s %9s %12s\n' "leakhound git --threads $THREADS" "$LH_S" "$LH_CPU" "$((LH_KB / 1024))"
    printf '  %-36s %9s %9s %12s\n' "leakhound git --threads 1" "$ONE_S" "$ONE_CPU" "$((ONE_KB / 1024))"
    printf '  %-36s %9s %9s %12s\n' "leakhound git --no-decode" "$RAW_S" "$RAW_CPU" "$((RAW_KB / 1024))"
    echo "  wall / cat-file: $(ratio "$LH_S" "$CAT_S")x (target <= 0.5)   peak / cat-file: $(ratio "$LH_KB" "$CAT_KB")x (target <= 0.75)"
    echo "  1 thread / $THREADS threads: $(ratio "$ONE_S" "$LH_S")x (target >= 1.6)   decoders on / --no-decode: $(ratio "$LH_S" "$RAW_S")x wall, $(ratio "$LH_CPU" "$RAW_CPU")x CPU (target <= 1.15)"
    PEAK_KB[$objects]=$LH_KB
}

mkdir -p "$BENCH_DIR"
echo "leakhound large-history benchmark ($("$LEAKHOUND" --version)), $THREADS cores, load $(cut -d ' ' -f 1-3 /proc/loadavg), $RUNS runs each"
for size in $SIZES; do
    dir=$(generate "$size")
    bench_repo "generated ($size)" "$dir" "$dir.planted.json"
done
if [[ -n ${LARGE_REPO:-} ]]; then
    bench_repo "$(basename "$LARGE_REPO")" "$LARGE_REPO"
fi
if ((${#PEAK_KB[@]} >= 2)); then
    mapfile -t sizes < <(printf '%s\n' "${!PEAK_KB[@]}" | sort -n)
    small=${sizes[0]} large=${sizes[-1]}
    awk -v a="$small" -v b="$large" -v pa="${PEAK_KB[$small]}" -v pb="${PEAK_KB[$large]}" 'BEGIN {
        printf "peak growth: %.0f MiB per additional million objects (%d -> %d objects: %d -> %d MiB)\n",
            (pb - pa) / 1024 / ((b - a) / 1e6), a, b, pa / 1024, pb / 1024 }'
fi
exit "$status"
