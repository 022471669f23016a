#!/usr/bin/env bash
# Fuzz leakhound with cargo-fuzz / libFuzzer.
#
#   fuzz/run.sh [SECONDS] [TARGET...]   fuzz each target (all by default) for
#                                       SECONDS (default 60) under ASan
#   fuzz/run.sh --smoke                 CI: only type-check the fuzz crate on
#                                       stable (no sanitizer, no libFuzzer C++
#                                       build, nothing run)
#
# cargo-fuzz needs nightly-only rustc flags (-Zsanitizer, coverage passes);
# RUSTC_BOOTSTRAP=1 lets the stable toolchain accept them.
#
# Seeds live in fuzz/corpus/<target>/ (and a dictionary of the tokens that
# matter in fuzz/dicts/<target>.dict) and are only read; what libFuzzer finds
# on top goes to fuzz/work/corpus/<target>/ (git-ignored), and its log to
# fuzz/work/logs/<target>.log. Inputs that crash are written by libFuzzer to
# fuzz/artifacts/<target>/; minimise one with
#   RUSTC_BOOTSTRAP=1 cargo fuzz tmin <target> fuzz/artifacts/<target>/crash-...
# and keep it as fuzz/regressions/<target>/<name>: every run replays those
# first.
#
# Environment: FUZZ_TIMEOUT (seconds one input may take before libFuzzer
# calls it a hang, default 10), FUZZ_ARGS (more libFuzzer flags).
set -euo pipefail

fuzz_dir="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$fuzz_dir")"
cd "$root"

if [[ "${1:-}" == "--smoke" ]]; then
    echo "== cargo check (fuzz targets, stable, no sanitizer, libFuzzer not built)"
    if ! cargo check --locked --manifest-path fuzz/Cargo.toml --bins --no-default-features; then
        echo "fuzz/run.sh --smoke failed. If cargo said the lock file needs updating (a dependency" >&2
        echo "was added to Cargo.toml), run: cargo check --manifest-path fuzz/Cargo.toml && git add fuzz/Cargo.lock" >&2
        exit 1
    fi
    exit 0
fi

seconds=60
if [[ $# -gt 0 && "$1" =~ ^[0-9]+$ ]]; then
    seconds="$1"
    shift
fi

export RUSTC_BOOTSTRAP=1
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "== installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi

if [[ $# -gt 0 ]]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo fuzz list)
fi

echo "== cargo fuzz build (${targets[*]})"
for target in "${targets[@]}"; do
    cargo fuzz build "$target"
done

mkdir -p fuzz/work/logs
failed=()
for target in "${targets[@]}"; do
    regressions="fuzz/regressions/$target"
    if [[ -d "$regressions" ]] && [[ -n "$(ls -A "$regressions")" ]]; then
        echo "== $target: replaying $regressions"
        if ! cargo fuzz run "$target" "$regressions"/* -- -rss_limit_mb=2048 >"fuzz/work/logs/$target.regressions.log" 2>&1; then
            echo "!! $target: a regression input still fails (fuzz/work/logs/$target.regressions.log)"
            failed+=("$target (regression)")
        fi
    fi

    echo "== $target: fuzzing for ${seconds}s"
    work="fuzz/work/corpus/$target"
    seeds="fuzz/corpus/$target"
    mkdir -p "$work" "$seeds"
    log="fuzz/work/logs/$target.log"
    dict=()
    if [[ -f "fuzz/dicts/$target.dict" ]]; then
        dict=(-dict="fuzz/dicts/$target.dict")
    fi
    # The first corpus directory is where libFuzzer writes new inputs.
    # shellcheck disable=SC2086
    if cargo fuzz run "$target" "$work" "$seeds" -- \
        -max_total_time="$seconds" -rss_limit_mb=2048 -timeout="${FUZZ_TIMEOUT:-10}" \
        -print_final_stats=1 "${dict[@]}" ${FUZZ_ARGS:-} >"$log" 2>&1; then
        status=ok
    else
        status=FAILED
        failed+=("$target")
    fi
    # The closing coverage line and the final stats.
    grep -E '^#[0-9]+[[:space:]]+DONE|^Done [0-9]+ runs|^stat::number_of_executed_units|^stat::peak_rss_mb' "$log" || true
    if [[ "$status" != ok ]]; then
        grep -E 'panicked at|ERROR: (libFuzzer|AddressSanitizer)|SUMMARY|Test unit written to' "$log" || tail -n 40 "$log"
    fi
    echo "-- $target: $status (log: $log)"
done

if [[ ${#failed[@]} -gt 0 ]]; then
    echo "fuzzing found failures in: ${failed[*]}" >&2
    exit 1
fi
echo "fuzzing: ${#targets[@]} targets, ${seconds}s each, no failures"
