#!/usr/bin/env python3
"""Writes a `git fast-import` stream for a large synthetic history.

Used by benches/git_history_large.sh. The shape follows what makes real
large histories expensive for a history scanner: many small commits deep in
a wide directory tree (so each commit makes several new trees), files edited
many times (long delta chains), and keys that stay in HEAD for most of the
history (so attribution has many commits x paths to carry).

    large_history_gen.py --objects 1000000 --seed 7 --planted planted.json | git fast-import

Deterministic for a given seed. Objects per commit: about 4 blobs, 8 trees
and the commit itself, so --objects / 13 commits are written.
"""

import argparse
import json
import random
import string
import sys

WORDS = ("alpha beta gamma delta config service handler request response cache index token "
         "session client server module package build deploy report metric event queue").split()
KEY_ALPHABET = string.ascii_letters + string.digits + "-_"


def fake_key(rng):
    # Anthropic's shape: a prefix, 93 URL-safe characters, then "AA".
    return "sk-ant-api03-" + "".join(rng.choice(KEY_ALPHABET) for _ in range(93)) + "AA"


def text(rng, lines):
    return "".join("%s %s = %d\n" % (rng.choice(WORDS), rng.choice(WORDS), rng.randrange(10**6)) for _ in range(lines))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--objects", type=int, required=True)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--planted", required=True, help="where to write the planted keys (JSON)")
    args = ap.parse_args()

    rng = random.Random(args.seed)
    commits = max(100, args.objects // 13)
    dirs = ["mod%03d/pkg%02d" % (a, b) for a in range(120) for b in range(20)]
    contents = {}
    out = sys.stdout.buffer
    planted = []
    every = max(1, commits // 40)
    when = 1_600_000_000

    def data(payload):
        raw = payload.encode()
        out.write(b"data %d\n" % len(raw))
        out.write(raw)
        out.write(b"\n")

    for n in range(commits):
        when += rng.randrange(30, 3600)
        out.write(b"commit refs/heads/main\n")
        out.write(b"mark :%d\n" % (n + 1))
        out.write(b"committer Dev <dev@example.com> %d +0000\n" % when)
        data("change %d" % n)
        for _ in range(4):
            path = "%s/file%02d.txt" % (rng.choice(dirs), rng.randrange(12))
            old = contents.get(path)
            if old is None or rng.random() < 0.1:
                new = text(rng, rng.randrange(20, 60))
            else:
                lines = old.splitlines(keepends=True)
                lines[rng.randrange(len(lines))] = text(rng, 1)
                new = "".join(lines)
            contents[path] = new
            out.write(b"M 100644 inline %s\n" % path.encode())
            data(new)
        if n % every == every // 2:
            key = fake_key(rng)
            path = "%s/settings_%d.py" % (rng.choice(dirs), n)
            out.write(b"M 100644 inline %s\n" % path.encode())
            data('ANTHROPIC_API_KEY = "%s"\n' % key)
            planted.append({"path": path, "mark": n + 1, "key": key})
    with open(args.planted, "w") as f:
        json.dump({"commits": commits, "planted": planted}, f, indent=1)


if __name__ == "__main__":
    main()
