#!/usr/bin/env bash
# Org-scale benchmark: 200 generated repositories (a few commits of real
# Rust source each; 20 of them share one key, others hold their own), audited
#   - as one job:            leakhound git --repos repos.txt
#   - as 2 shards side by side (0/2 and 1/2 at once, as a CI matrix would),
# then merged with `leakhound merge`. Prints median wall times over RUNS runs,
# the merge's share of the scan time, and checks that the union of the shards
# equals the unsharded run (same findings, same count).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${RUNS:-3}"
dir="${LEAKHOUND_BENCH_DIR:-/tmp/leakhound-bench}/org"
bin="${LEAKHOUND:-}"
if [[ -z "$bin" ]]; then cargo build --release --quiet; bin="$PWD/target/release/leakhound"; fi
cargo fetch --quiet
src=$(ls -d ~/.cargo/registry/src/*/ | head -1)

if [[ ! -f "$dir/ready" ]]; then
  rm -rf "$dir"; mkdir -p "$dir/repos"
  python3 - "$dir" "$src" <<'PY'
import os, random, secrets, string, subprocess, sys
root, src = sys.argv[1], sys.argv[2]
random.seed(200)
files = []
for d, _, fs in os.walk(src):
    files += [os.path.join(d, f) for f in fs if f.endswith(".rs")]
files.sort()
alnum = string.ascii_letters + string.digits
def key():
    while True:
        k = "ghp_" + "".join(secrets.choice(alnum) for _ in range(36))
        if not any(k[i] == k[i+1] == k[i+2] for i in range(4, len(k) - 2)):
            return k
shared = key()
env = dict(os.environ, GIT_AUTHOR_NAME="bench", GIT_AUTHOR_EMAIL="bench@example.com",
           GIT_COMMITTER_NAME="bench", GIT_COMMITTER_EMAIL="bench@example.com")
with open(f"{root}/repos.txt", "w") as listing:
    for n in range(200):
        repo = f"{root}/repos/r{n:03d}"
        os.makedirs(repo)
        git = lambda *a: subprocess.run(["git", "-C", repo, *a], check=True, env=env, capture_output=True)
        git("init", "-q", "-b", "main")
        for c in range(3):
            for f in random.sample(files, 5):
                dst = os.path.join(repo, "src", os.path.basename(f))
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                with open(f, "rb") as a, open(dst, "wb") as b:
                    b.write(a.read())
            if c == 1:
                k = shared if n % 10 == 0 else key()
                with open(os.path.join(repo, "config.env"), "w") as e:
                    e.write(f"GITHUB_TOKEN={k}\n")
            git("add", "-A"); git("commit", "-q", "-m", f"commit {c}")
        listing.write(repo + "\n")
PY
  touch "$dir/ready"
fi

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ms() { echo $(( $(date +%s%N) / 1000000 )); }
one=(); two=(); merge=()
for i in $(seq "$RUNS"); do
  s=$(ms); "$bin" git --repos "$dir/repos.txt" --format jsonl -o "$dir/all.jsonl" 2>/dev/null || true; e=$(ms); one+=($((e - s)))
  s=$(ms)
  "$bin" git --repos "$dir/repos.txt" --shard 0/2 --format jsonl -o "$dir/shard-0.jsonl" 2>/dev/null &
  p0=$!
  "$bin" git --repos "$dir/repos.txt" --shard 1/2 --format jsonl -o "$dir/shard-1.jsonl" 2>/dev/null &
  p1=$!
  wait $p0 || true; wait $p1 || true
  e=$(ms); two+=($((e - s)))
  s=$(ms); "$bin" merge "$dir/shard-0.jsonl" "$dir/shard-1.jsonl" --format json -o "$dir/merged.json" 2>/dev/null || true; e=$(ms); merge+=($((e - s)))
done
m1=$(printf '%s\n' "${one[@]}" | median); m2=$(printf '%s\n' "${two[@]}" | median); mm=$(printf '%s\n' "${merge[@]}" | median)
all=$(wc -l < "$dir/all.jsonl"); union=$(cat "$dir/shard-0.jsonl" "$dir/shard-1.jsonl" | wc -l)
same=$(python3 -c "
import json
key = lambda f: (f['repository'], f['path'], f['rule_id'], f['secret_sha256'])
a = sorted(key(json.loads(l)) for l in open('$dir/all.jsonl'))
b = sorted(key(json.loads(l)) for f in ['$dir/shard-0.jsonl', '$dir/shard-1.jsonl'] for l in open(f))
print('yes' if a == b else 'NO')")
items=$(python3 -c "
import json
d = json.load(open('$dir/merged.json'))
print(len({(f['rule_id'], f['secret_sha256']) for f in d['findings']}))")
echo "org-scale benchmark: 200 repositories, $(nproc) cores, $RUNS runs"
echo "  N=1 (one job):                 median ${m1} ms   (${one[*]})"
echo "  N=2 (two shards side by side): median ${m2} ms   (${two[*]})"
echo "  merge of the 2 shards:         median ${mm} ms   = $(awk "BEGIN {printf \"%.1f\", 100*$mm/$m2}")% of the sharded scan"
echo "  findings: unsharded $all, shards together $union, identical: $same; unique keys after merge: $items"
