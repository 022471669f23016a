#!/usr/bin/env bash
# benches/text_per_key.sh: how big the history text report is per unique key,
# and whether its summary counts the keys the JSON report holds.
#
#   benches/text_per_key.sh [REPO]
#
# Without REPO, builds a history where keys spread as they do in real ones
# (3 keys, each copied to a new path every few commits: 3000 commits, 1500
# paths, 200 branches and 1500 tags; git fast-import, a few seconds). Prints
# the text report's bytes, bytes per unique key, the largest key block, and
# the unique-key counts of the text summary, of `stats.unique_keys` and of
# distinct `secret_sha256` in the JSON findings. Target: under 2 KB per key,
# all three counts equal. Uses target/release/leakhound (LEAKHOUND= to pick
# another binary).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${LEAKHOUND:-$root/target/release/leakhound}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
repo=${1:-}
if [ -z "$repo" ]; then
  repo=$work/history
  git init -q -b main "$repo"
  python3 - <<'PY' | git -C "$repo" fast-import --quiet
import random, string, sys
r = random.Random(7)
def rnd(alphabet, n):
    while True:
        s = "".join(r.choice(alphabet) for _ in range(n))
        if not any(s[i] == s[i + 1] == s[i + 2] for i in range(n - 2)):
            return s
alnum = string.ascii_letters + string.digits
keys = [("OPENAI_API_KEY", "sk-proj-" + rnd(alnum + "-_", 74) + "T3BlbkFJ" + rnd(alnum + "-_", 74)),
        ("GITHUB_TOKEN", "ghp_" + rnd(alnum, 36)),
        ("ANTHROPIC_API_KEY", "sk-ant-api03-" + rnd(alnum + "-_", 93) + "AA")]
out = []
def data(text):
    out.append(f"data {len(text.encode())}\n{text}\n")
commits = 3000
for i in range(commits):
    t, who = 1_600_000_000 + 600 * i, ["Ana Dev <ana@example.com>", "Bo Ops <bo@example.com>"][i % 2]
    out.append(f"commit refs/heads/main\nmark :{i + 1}\nauthor {who} {t} +0000\ncommitter {who} {t} +0000\n")
    data(f"change {i}")
    if i:
        out.append(f"from :{i}\n")
    out.append("M 100644 inline counter.txt\n")
    data(f"{i}\n")
    if i % 2 == 0:
        name, key = keys[i % 3]
        out.append(f"M 100644 inline services/svc{i:05d}/config/{name.lower()}.env\n")
        data(f"# service {i}\n{name}={key}\n")
    out.append("\n")
for b in range(200):
    out.append(f"reset refs/heads/feature/topic-{b:04d}\nfrom :{r.randint(1, commits)}\n\n")
for t in range(1500):
    out.append(f"reset refs/tags/v{t // 100}.{t % 100}.0\nfrom :{r.randint(1, commits)}\n\n")
sys.stdout.write("".join(out))
PY
fi
"$bin" git "$repo" --color never > "$work/report.txt" || [ $? -eq 1 ]
"$bin" git "$repo" --format json > "$work/report.json" || [ $? -eq 1 ]
python3 - "$work/report.txt" "$work/report.json" <<'PY'
import json, re, sys
text = open(sys.argv[1], "rb").read().decode()
doc = json.load(open(sys.argv[2]))
keys = len({f["secret_sha256"] for f in doc["findings"]})
summary = text.strip().splitlines()[-1]
m = re.search(r"of (\d+) unique keys?", summary)
blocks = [b for b in text.split("\n\n") if re.match(r"\s+\d+\. ", b)]
size = len(text.encode())
print(f"findings {len(doc['findings'])}, unique keys: text summary {m.group(1) if m else 0}, "
      f"stats.unique_keys {doc['stats']['unique_keys']}, JSON findings {keys}")
print(f"text {size} B, {size // max(keys, 1)} B per key, largest key block "
      f"{max((len(b.encode()) for b in blocks), default=0)} B")
PY
