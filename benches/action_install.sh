#!/usr/bin/env bash
# The GitHub Action's download-and-run steps, locally, against a file://
# release directory built here: action/install.sh downloads the archive for
# this machine's target, checks its SHA-256 and unpacks it; action/scan.sh
# runs the one `leakhound git --range` that prints text and writes SARIF.
# Prints how long each took, and checks what must be refused:
#   a tampered archive (checksum mismatch: the step fails),
#   a checksum file that does not list the archive (fails),
#   a plain http:// release URL, and file:// without the test switch (fail),
#   a ref that is no release tag, and a tag with no release (fallback to
#   cargo install, with a cache key).
#
#   benches/action_install.sh [BINARY]     (default target/release/leakhound)
#
# The archive is made from BINARY under the name release.yml gives this
# machine's target (on Linux x86_64: x86_64-unknown-linux-musl); CI passes
# the static musl build when it has one. Exits non-zero on any failed check.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
binary="${1:-target/release/leakhound}"
[[ -x "$binary" ]] || { echo "no binary at $binary (cargo build --release first)" >&2; exit 2; }
binary="$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
ms() { date +%s%3N; }
failures=0
check() { # check DESCRIPTION COMMAND... : the command must succeed
  local what="$1"
  shift
  if "$@"; then echo "ok    $what"; else echo "FAIL  $what"; failures=$((failures + 1)); fi
}

version="$(sed -n 's/^version = "\([^"]*\)"$/\1/p' Cargo.toml | head -n 1)"
tag="v$version"
case "$(uname -s)/$(uname -m)" in
  Linux/x86_64) target=x86_64-unknown-linux-musl ;;
  Linux/aarch64) target=aarch64-unknown-linux-musl ;;
  Darwin/arm64) target=aarch64-apple-darwin ;;
  Darwin/x86_64) target=x86_64-apple-darwin ;;
  *) echo "no release target for $(uname -s)/$(uname -m)" >&2; exit 2 ;;
esac

# The release directory, as taiki-e/upload-rust-binary-action lays it out:
# the archive holds the binary and the documents at its top level, and
# leakhound-<target>.sha256 is `sha256sum` of the archive.
release="$work/releases/$tag"
mkdir -p "$release" "$work/stage"
cp "$binary" "$work/stage/leakhound"
cp README.md LICENSE-MIT LICENSE-APACHE "$work/stage/"
(cd "$work/stage" && tar -czf "$release/leakhound-$target.tar.gz" leakhound README.md LICENSE-MIT LICENSE-APACHE)
(cd "$release" && sha256sum "leakhound-$target.tar.gz" >"leakhound-$target.sha256")
echo "release dir: $release ($(du -k "$release/leakhound-$target.tar.gz" | cut -f1) KiB archive)"

# A pull request's commits: a clean base, then a commit that adds a fake key.
repo="$work/repo"
git init -q -b main "$repo"
gitc() { git -C "$repo" -c user.name=ci -c user.email=ci@example.invalid -c commit.gpgsign=false "$@"; }
echo "docs" >"$repo/README.md"
gitc add -A && gitc commit -q -m base
base="$(gitc rev-parse HEAD)"
python3 benches/fake_key.py "$repo/settings.env"
gitc add -A && gitc commit -q -m "add settings"
head="$(gitc rev-parse HEAD)"

install() { # install OUTPUT_FILE [VAR=VALUE...]: action/install.sh as action.yml runs it
  local out="$1"
  shift
  : >"$out"
  env -u GITHUB_ACTIONS RUNNER_TEMP="$work/runner" GITHUB_OUTPUT="$out" ACTION_PATH="$root" \
    ACTION_REPOSITORY=example/leakhound LEAKHOUND_ALLOW_FILE_URL=1 \
    LEAKHOUND_RELEASE_BASE_URL="file://$work/releases" ACTION_REF="$tag" "$@" \
    bash "$root/action/install.sh"
}
refused() { ! install "$@" >/dev/null 2>&1; }
value() { sed -n "s/^$2=//p" "$1" | tail -n 1; }
mkdir -p "$work/runner"

# 1. Download, verify, unpack; then the scan step. Timed.
t0=$(ms)
install "$work/out-install" >/dev/null 2>"$work/install.log"
t1=$(ms)
bin="$(value "$work/out-install" bin)"
check "release $tag installed for $target" test "$(value "$work/out-install" installed)" = true -a -x "$bin"
t2=$(ms)
(cd "$repo" && env LEAKHOUND="$bin" BASE="$base" HEAD_SHA="$head" FAIL_ON=any SARIF=leakhound.sarif \
  GITHUB_OUTPUT="$work/out-scan" GITHUB_STEP_SUMMARY="$work/summary.md" bash "$root/action/scan.sh" >"$work/scan.log" 2>&1) || true
t3=$(ms)
check "the scan exits 1 on the added key" test "$(value "$work/out-scan" exit-code)" = 1
check "the text report is in the log" grep -q "openai-project-key" "$work/scan.log"
check "the SARIF file parses, with one result" python3 -c '
import json, sys
doc = json.load(open(sys.argv[1]))
assert len(doc["runs"][0]["results"]) == 1, doc["runs"][0]["results"]
' "$repo/leakhound.sarif"
check "the step summary has the summary line" grep -q "1 finding" "$work/summary.md"
# ACTION_REF=v1 (a moving major tag) resolves to this release through Cargo.toml.
install "$work/out-major" ACTION_REF="v${version%%.*}" >/dev/null 2>&1 || true
check "a moving tag v${version%%.*} resolves to $tag" test "$(value "$work/out-major" tag)" = "$tag"

# 2. What must be refused.
cp "$release/leakhound-$target.sha256" "$work/good.sha256"
printf '%064d  leakhound-%s.tar.gz\n' 0 "$target" >"$release/leakhound-$target.sha256"
check "a checksum mismatch fails the step" refused "$work/out-bad"
echo "0000  other.tar.gz" >"$release/leakhound-$target.sha256"
check "a checksum file without the archive fails the step" refused "$work/out-bad"
cp "$work/good.sha256" "$release/leakhound-$target.sha256"
check "an http:// release URL is refused" refused "$work/out-bad" LEAKHOUND_RELEASE_BASE_URL=http://127.0.0.1:9/releases
check "file:// without the test switch is refused" refused "$work/out-bad" LEAKHOUND_ALLOW_FILE_URL=

# 3. Where no binary fits: the fallback, with a cache key.
install "$work/out-branch" ACTION_REF=main >/dev/null 2>&1
check "a branch ref falls back to cargo install" test "$(value "$work/out-branch" installed)" = false
check "with a cache key" grep -q '^cache-key=leakhound-cargo-' "$work/out-branch"
install "$work/out-norelease" ACTION_REF=v999.0.0 >/dev/null 2>&1
check "a tag with no release falls back too" test "$(value "$work/out-norelease" installed)" = false

echo "download, verify and unpack: $((t1 - t0)) ms; scan step: $((t3 - t2)) ms; both: $((t1 - t0 + t3 - t2)) ms"
if ((failures > 0)); then
  echo "$failures check(s) failed; install log:" >&2
  cat "$work/install.log" "$work/scan.log" >&2
  exit 1
fi
