#!/usr/bin/env bash
# The GitHub Action's install step (action.yml): download the release binary
# for the action's own tag, check its SHA-256, and unpack it. Nothing is
# compiled here. Where no binary fits (an OS or CPU with no release build, a
# ref that is no release: a branch, a commit, a local `uses: ./`), it says
# so and the action falls back to `cargo install --locked` (cached).
#
# Environment (action.yml passes the first four from expressions: inside a
# composite action's `run`, github.action_ref is empty, in `env` it is not):
#   ACTION_REF                 github.action_ref: v1.2.3, or a moving v1 / v1.2
#   ACTION_REPOSITORY          github.action_repository (owner/name)
#   ACTION_PATH                github.action_path (the action's source)
#   LEAKHOUND_VERSION          the action's `version` input: a release tag
#                              to use instead of the ref (optional)
#   LEAKHOUND_RELEASE_BASE_URL where releases are (default
#                              https://github.com/OWNER/NAME/releases/download);
#                              https only; file:// only with
#                              LEAKHOUND_ALLOW_FILE_URL=1, for tests
#                              (benches/action_install.sh)
#   RUNNER_OS, RUNNER_ARCH, RUNNER_TEMP   set by the runner (uname and a
#                              temporary directory otherwise)
# Writes to $GITHUB_OUTPUT (standard output when unset):
#   installed=true|false, bin=PATH (the binary, or where cargo install puts
#   it), tag=TAG, target=TRIPLE, cache-key=KEY (for the fallback's cache)
# Exits non-zero only when something is wrong: a download whose checksum
# does not match, a checksum file that does not list the archive, a binary
# that does not run, a base URL that is not https.
set -euo pipefail

say() { printf 'leakhound-action: %s\n' "$*" >&2; }
fail() {
  printf '::error title=leakhound::%s\n' "$*"
  exit 1
}
output() { printf '%s=%s\n' "$1" "$2" >>"${GITHUB_OUTPUT:-/dev/stdout}"; }

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d' ' -f1
  else
    shasum -a 256 "$1" | cut -d' ' -f1
  fi
}

action_path="${ACTION_PATH:-$(cd "$(dirname "$0")/.." && pwd)}"
temp="${RUNNER_TEMP:-$(mktemp -d)}"

# The release build for this runner, named as release.yml names it.
os="${RUNNER_OS:-$(uname -s)}"
arch="${RUNNER_ARCH:-$(uname -m)}"
exe=""
case "$os/$arch" in
  Linux/X64 | Linux/x86_64) target=x86_64-unknown-linux-musl ;;
  Linux/ARM64 | Linux/aarch64 | Linux/arm64) target=aarch64-unknown-linux-musl ;;
  macOS/ARM64 | Darwin/arm64) target=aarch64-apple-darwin ;;
  macOS/X64 | Darwin/x86_64) target=x86_64-apple-darwin ;;
  Windows/X64 | MINGW*/x86_64 | MSYS*/x86_64 | CYGWIN*/x86_64) target=x86_64-pc-windows-msvc exe=.exe ;;
  *) target="" ;;
esac
case "$os" in Windows | MINGW* | MSYS* | CYGWIN*) exe=.exe ;; esac

# The release tag: the version input, else the action's own ref when it is
# a release tag. A moving major or minor tag (v1, v1.2) points at a release
# commit, whose Cargo.toml names that release.
ref="${LEAKHOUND_VERSION:-${ACTION_REF:-}}"
own_version="$(sed -n 's/^version = "\([^"]*\)"$/\1/p' "$action_path/Cargo.toml" | head -n 1)"
tag=""
if [[ "$ref" =~ ^v[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.+-]+)?$ ]]; then
  tag="$ref"
elif [[ "$ref" =~ ^v[0-9]+(\.[0-9]+)?$ && "v$own_version" == "$ref".* ]]; then
  tag="v$own_version"
fi

fallback() {
  printf '::warning title=leakhound::%s: building leakhound from the action source instead (cargo install --locked, cached)\n' "$1"
  # The cache holds a build of exactly these sources (names and contents).
  local digest
  digest="$(cd "$action_path" && find Cargo.toml Cargo.lock build.rs src rules -type f 2>/dev/null | LC_ALL=C sort |
    while IFS= read -r f; do printf '%s\n' "$f"; cat "$f"; done | sha256_of - | cut -c1-16)"
  output installed false
  output bin "$temp/leakhound-cargo/bin/leakhound$exe"
  output tag "${tag:-none}"
  output target "${target:-none}"
  output cache-key "leakhound-cargo-${os}-${arch}-${own_version}-${digest}"
  exit 0
}

[[ -n "$target" ]] || fallback "no release build for $os/$arch"
[[ -n "$tag" ]] || fallback "the action's ref '${ref:-(none)}' is not a release tag"

if [[ -n "${LEAKHOUND_RELEASE_BASE_URL:-}" ]]; then
  base="${LEAKHOUND_RELEASE_BASE_URL%/}"
elif [[ -n "${ACTION_REPOSITORY:-}" ]]; then
  base="${GITHUB_SERVER_URL:-https://github.com}/$ACTION_REPOSITORY/releases/download"
else
  fallback "the action's repository is unknown (a local action)"
fi
case "$base" in
  https://*) proto="=https" ;;
  file://*)
    [[ "${LEAKHOUND_ALLOW_FILE_URL:-}" == 1 ]] || fail "file:// release URLs are for tests (LEAKHOUND_ALLOW_FILE_URL=1)"
    proto="=file"
    ;;
  *) fail "release URL must be https: $base" ;;
esac

dir="$temp/leakhound-release/$tag-$target"
rm -rf "$dir"
mkdir -p "$dir/bin"
archive="leakhound-$target.tar.gz"
sums="leakhound-$target.sha256"
for file in "$archive" "$sums"; do
  if ! curl --fail --silent --show-error --location --proto "$proto" --proto-redir "$proto" \
    --retry 3 --retry-delay 2 --connect-timeout 20 --output "$dir/$file" "$base/$tag/$file"; then
    fallback "no $file in release $tag"
  fi
done

# The checksum file lists the archive (`HASH  NAME`, or `HASH *NAME`).
expected="$(awk -v name="$archive" '{ n = $2; sub(/^\*/, "", n) } n == name { print tolower($1); exit }' "$dir/$sums")"
[[ -n "$expected" ]] || fail "$sums does not list $archive"
actual="$(sha256_of "$dir/$archive")"
[[ "$actual" == "$expected" ]] || fail "SHA-256 mismatch for $archive from $tag: expected $expected, got $actual"

tar -xzf "$dir/$archive" -C "$dir/bin"
bin="$dir/bin/leakhound$exe"
[[ -f "$bin" ]] || fail "$archive holds no leakhound$exe"
chmod +x "$bin"
version="$("$bin" --version)" || fail "the downloaded binary does not run on $os/$arch"
say "$version ($target, from release $tag, SHA-256 checked)"

output installed true
output bin "$bin"
output tag "$tag"
output target "$target"
output cache-key none
