#!/usr/bin/env python3
"""Hard-slice recall/precision benchmark for leakhound.

What it measures
----------------
The "hard slice" of secret detection: keys hidden where a line-by-line regex
over the raw bytes misses them (or where a naive decoder would drown in
noise). The script builds a fresh corpus in a temporary directory, scans it
with ``target/release/leakhound scan --format json --no-ignore`` (and again
with ``--no-decode`` for comparison), and prints:

* recall: planted keys found, i.e. some finding's ``secret_sha256`` equals
  the SHA-256 of the planted key (a PEM block written with CRLF line ends
  also counts when its secret keeps the ``\\r\\n``; the summary says how
  many keys were found only that way).
  A key found only by a rule other than the one ``tests/common/mod.rs``
  ``expected_rule`` names is counted separately as "wrong rule" (and not
  in recall);
* recall per hiding form (notebook source/output, ``\\u002d`` JSON escapes,
  ``%2D`` query strings, base64 in Kubernetes Secrets and Docker
  ``config.json``, base64url, hex, UTF-16 LE/BE, CRLF, UTF-8 BOM, a
  >= 200 KB one-line minified bundle, source-map ``sourcesContent``, zip /
  jar / tar.gz / gz / zip-in-tar.gz-in-zip, keys split across string
  literals in JS, Python and Go) and per key format;
* precision: findings whose ``secret_sha256`` is a planted key's, over all
  findings whose severity is not ``warning``. The corpus also holds decoys
  that must not be reported (base64 PNG/JPEG data URIs, SRI and
  package-lock ``integrity`` hashes, random base64 blobs, sha1/sha256 hex
  digests, UUIDs and trace ids near provider names, base64 of lorem ipsum,
  minified JS without keys, notebooks with image outputs, a zip of binary
  files, and obvious placeholders in the same encodings). Every false
  positive is listed with its rule, path and decoding chain.

Keys are fake but well formed: ``key()`` below is a line-for-line port of
``key(format, seed)`` in ``tests/common/mod.rs`` (same xorshift64* PRNG,
alphabets, lengths and placeholder filter, so ``key(f, s)`` here equals the
Rust helper's), and ``EXPECTED_RULE`` is its ``expected_rule``. A key that
the engine's own filters would reject anyway (entropy floor, runs of 6,
strided runs, repeated blocks) or that its rule's ``exclude`` list drops by
design (e.g. a digit-free ``fw_`` Fireworks key, ~1.5% of the generator's
output) is re-drawn and counted in the header, so a miss is a decoding or
context miss, not a filter decision. Context-keyword rules (mistral,
cohere, deepseek, together legacy, azure-openai, aws-secret) get their
context word from realistic variable names (``MISTRAL_API_KEY``, ...).

Everything is deterministic for a given ``--seed``.

How to run
----------
    python3 benches/hard_slice.py                 # 300 keys, seed 1
    python3 benches/hard_slice.py --keys 850 --seed 7   # every (form, format) pair once
    python3 benches/hard_slice.py --keep /tmp/hs  # keep corpus + manifest
    python3 benches/hard_slice.py --misses        # list every missed key

The release binary is built with ``cargo build --release`` when
``target/release/leakhound`` is missing (``--bin`` picks another binary).
The corpus is written to ``DIR/corpus`` and the list of planted keys to
``DIR/manifest.json`` (outside the scanned tree). Python 3 standard library
only; runs in a few seconds; always exits 0 unless the scanner cannot run.
"""

import argparse
import base64
import gzip
import hashlib
import io
import json
import math
import os
import random
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
import zlib

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# --------------------------------------------------------------------------
# Key generation: a port of tests/common/mod.rs
# --------------------------------------------------------------------------

M64 = (1 << 64) - 1
ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
URLSAFE = ALNUM + "-_"
LOWER_HEX = "0123456789abcdef"
LOWER_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
BASE32_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
BASE64 = ALNUM + "+/"

_TEST_PLACEHOLDER_WORDS = ["xxxx", "your", "example", "sample", "dummy", "insert", "replace", "redacted",
                           "changeme", "placeholder"]


def looks_like_placeholder(s):
    """`looks_like_placeholder` of tests/common/mod.rs: placeholder words, 3
    equal characters in a row, 3-character ascending/descending runs."""
    lower = s.lower()
    if any(w in lower for w in _TEST_PLACEHOLDER_WORDS):
        return True
    b = s.encode()
    for i in range(len(b) - 2):
        x, y, z = b[i], b[i + 1], b[i + 2]
        if x == y == z:
            return True
        if (x + 1) & 0xFF == y and (y + 1) & 0xFF == z:
            return True
        if (y + 1) & 0xFF == x and (z + 1) & 0xFF == y:
            return True
    return False


class KeyRng:
    """xorshift64*, exactly as `Rng` in tests/common/mod.rs."""

    def __init__(self, seed):
        self.s = ((seed * 0x9E3779B97F4A7C15) & M64) | 1

    def next(self):
        x = self.s
        x ^= x >> 12
        x ^= (x << 25) & M64
        x ^= x >> 27
        self.s = x
        return (x * 0x2545F4914F6CDD1D) & M64

    def string(self, alphabet, n):
        while True:
            s = "".join(alphabet[self.next() % len(alphabet)] for _ in range(n))
            if not looks_like_placeholder(s):
                return s

    def mixed(self, alphabet, n):
        while True:
            s = self.string(alphabet, n)
            if any(c.isdigit() for c in s) and any(c.islower() for c in s) and any(c.isupper() for c in s):
                return s


def fxhash(s):
    h = 0xCBF29CE484222325
    for b in s.encode():
        h = ((h ^ b) * 0x100000001B3) & M64
    return h


def key(fmt, seed):
    """A well-formed fake key of `fmt` (same as the Rust `key(fmt, seed)`)."""
    r = KeyRng((seed ^ fxhash(fmt)) & M64)

    def openai_long(prefix):
        a = r.string(URLSAFE, 74)
        return f"{prefix}{a}T3BlbkFJ{r.string(URLSAFE, 74)}"

    if fmt == "openai-legacy":
        a = r.string(ALNUM, 20)
        return f"sk-{a}T3BlbkFJ{r.string(ALNUM, 20)}"
    if fmt == "openai-project":
        return openai_long("sk-proj-")
    if fmt == "openai-svcacct":
        return openai_long("sk-svcacct-")
    if fmt == "openai-admin":
        return openai_long("sk-admin-")
    if fmt == "openai-none":
        return openai_long("sk-None-")
    if fmt == "anthropic-api":
        return f"sk-ant-api03-{r.string(URLSAFE, 93)}AA"
    if fmt == "anthropic-admin":
        return f"sk-ant-admin01-{r.string(URLSAFE, 93)}AA"
    if fmt == "anthropic-oauth":
        return f"sk-ant-oat01-{r.string(URLSAFE, 93)}AA"
    if fmt == "anthropic-refresh":
        return f"sk-ant-ort01-{r.string(URLSAFE, 93)}AA"
    if fmt == "google":
        return f"AIzaSy{r.string(URLSAFE, 33)}"
    if fmt == "groq":
        a = r.string(ALNUM, 20)
        return f"gsk_{a}WGdyb3FY{r.string(ALNUM, 24)}"
    if fmt == "mistral":
        return r.mixed(ALNUM, 32)
    if fmt == "together":
        return f"tgp_v1_{r.string(URLSAFE, 43)}"
    if fmt == "together-hex":
        return r.string(LOWER_HEX, 64)
    if fmt == "xai":
        return f"xai-{r.string(ALNUM, 80)}"
    if fmt == "openrouter":
        return f"sk-or-v1-{r.string(LOWER_HEX, 64)}"
    if fmt == "huggingface":
        return f"hf_{r.string(LETTERS, 34)}"
    if fmt == "replicate":
        return f"r8_{r.string(ALNUM, 37)}"
    if fmt == "perplexity":
        return f"pplx-{r.string(ALNUM, 48)}"
    if fmt == "deepseek":
        return f"sk-{r.string(LOWER_HEX, 32)}"
    if fmt == "cohere":
        return r.mixed(ALNUM, 40)
    if fmt == "fireworks":
        return f"fw_{r.string(ALNUM, 24)}"
    if fmt == "cerebras":
        return f"csk-{r.string(LOWER_ALNUM, 48)}"
    if fmt == "elevenlabs":
        return f"sk_{r.string(LOWER_HEX, 48)}"
    if fmt == "azure-openai":
        return r.string(LOWER_HEX, 32)
    if fmt == "bedrock":
        return "ABSK" + r.string(BASE64, 120).replace("+", "Q").replace("/", "Q")
    if fmt == "aws-id":
        return f"AKIA{r.string(BASE32_UPPER, 16)}"
    if fmt == "aws-secret":
        return r.string(BASE64, 40)
    if fmt == "github-classic":
        return f"ghp_{r.string(ALNUM, 36)}"
    if fmt == "github-fine":
        a = r.string(ALNUM, 22)
        return f"github_pat_{a}_{r.string(ALNUM, 59)}"
    if fmt == "stripe-live":
        return f"sk_live_{r.string(ALNUM, 99)}"
    if fmt == "slack-bot":
        a = r.string("123456789", 12)
        b = r.string("123456789", 13)
        return f"xoxb-{a}-{b}-{r.string(ALNUM, 24)}"
    if fmt == "generic-token":
        return r.string(ALNUM, 40)
    if fmt == "pem-rsa":
        body = [r.string(BASE64, 64) for _ in range(12)]
        return "-----BEGIN RSA PRIVATE KEY-----\n" + "\n".join(body) + "\n-----END RSA PRIVATE KEY-----"
    raise ValueError(f"unknown key format `{fmt}`")


EXPECTED_RULE = {
    "openai-legacy": "openai-legacy-key",
    "openai-project": "openai-project-key",
    "openai-svcacct": "openai-service-account-key",
    "openai-admin": "openai-admin-key",
    "openai-none": "openai-user-key",
    "anthropic-api": "anthropic-api-key",
    "anthropic-admin": "anthropic-admin-key",
    "anthropic-oauth": "anthropic-oauth-access-token",
    "anthropic-refresh": "anthropic-oauth-refresh-token",
    "google": "google-api-key",
    "groq": "groq-api-key",
    "mistral": "mistral-api-key",
    "together": "together-api-key",
    "together-hex": "together-legacy-api-key",
    "xai": "xai-api-key",
    "openrouter": "openrouter-api-key",
    "huggingface": "huggingface-access-token",
    "replicate": "replicate-api-token",
    "perplexity": "perplexity-api-key",
    "deepseek": "deepseek-api-key",
    "cohere": "cohere-api-key",
    "fireworks": "fireworks-api-key",
    "cerebras": "cerebras-api-key",
    "elevenlabs": "elevenlabs-api-key",
    "azure-openai": "azure-openai-api-key",
    "bedrock": "aws-bedrock-api-key",
    "aws-id": "aws-access-key-id",
    "aws-secret": "aws-secret-access-key",
    "github-classic": "github-pat-classic",
    "github-fine": "github-pat-fine-grained",
    "stripe-live": "stripe-live-secret-key",
    "slack-bot": "slack-bot-token",
    "pem-rsa": "private-key-pem",
    "generic-token": "generic-bearer-header",
}
FORMATS = list(EXPECTED_RULE)

# Per format: variable name (gives context rules their keyword), provider
# word for code, the rule's literal keyword prefix (the engine checks the
# body after it) and the rule's min_entropy (rules/*.toml).
META = {
    "openai-legacy": ("OPENAI_API_KEY", "openai", "", 3.5),
    "openai-project": ("OPENAI_API_KEY", "openai", "sk-proj-", 3.5),
    "openai-svcacct": ("OPENAI_API_KEY", "openai", "sk-svcacct-", 3.5),
    "openai-admin": ("OPENAI_ADMIN_KEY", "openai", "sk-admin-", 3.5),
    "openai-none": ("OPENAI_API_KEY", "openai", "sk-None-", 3.5),
    "anthropic-api": ("ANTHROPIC_API_KEY", "anthropic", "sk-ant-api03-", 3.5),
    "anthropic-admin": ("ANTHROPIC_ADMIN_KEY", "anthropic", "sk-ant-admin01-", 3.5),
    "anthropic-oauth": ("CLAUDE_CODE_OAUTH_TOKEN", "anthropic", "sk-ant-oat01-", 3.5),
    "anthropic-refresh": ("ANTHROPIC_REFRESH_TOKEN", "anthropic", "sk-ant-ort01-", 3.5),
    "google": ("GEMINI_API_KEY", "gemini", "AIza", 3.5),
    "groq": ("GROQ_API_KEY", "groq", "gsk_", 3.5),
    "mistral": ("MISTRAL_API_KEY", "mistral", "", 3.5),
    "together": ("TOGETHER_API_KEY", "together", "tgp_v1_", 3.5),
    "together-hex": ("TOGETHER_API_KEY", "together", "", 3.3),
    "xai": ("XAI_API_KEY", "xai", "xai-", 3.5),
    "openrouter": ("OPENROUTER_API_KEY", "openrouter", "sk-or-v1-", 3.0),
    "huggingface": ("HF_TOKEN", "huggingface", "hf_", 3.5),
    "replicate": ("REPLICATE_API_TOKEN", "replicate", "r8_", 3.5),
    "perplexity": ("PERPLEXITY_API_KEY", "perplexity", "pplx-", 3.5),
    "deepseek": ("DEEPSEEK_API_KEY", "deepseek", "", 3.0),
    "cohere": ("COHERE_API_KEY", "cohere", "", 3.5),
    "fireworks": ("FIREWORKS_API_KEY", "fireworks", "fw_", 3.3),
    "cerebras": ("CEREBRAS_API_KEY", "cerebras", "csk-", 3.3),
    "elevenlabs": ("ELEVENLABS_API_KEY", "elevenlabs", "sk_", 3.0),
    "azure-openai": ("AZURE_OPENAI_API_KEY", "azure-openai", "", 3.0),
    "bedrock": ("AWS_BEARER_TOKEN_BEDROCK", "bedrock", "ABSK", 4.0),
    "aws-id": ("AWS_ACCESS_KEY_ID", "aws", "AKIA", 3.0),
    "aws-secret": ("AWS_SECRET_ACCESS_KEY", "aws", "", 4.0),
    "github-classic": ("GITHUB_TOKEN", "github", "ghp_", 3.5),
    "github-fine": ("GITHUB_TOKEN", "github", "github_pat_", 3.5),
    "stripe-live": ("STRIPE_SECRET_KEY", "stripe", "sk_live_", 3.5),
    "slack-bot": ("SLACK_BOT_TOKEN", "slack", "xoxb-", 3.5),
    "pem-rsa": ("PRIVATE_KEY", "rsa", "", None),
    "generic-token": ("API_TOKEN", "internal", "", 3.5),
}

# The engine's placeholder filter (src/engine/filters.rs), to re-draw the
# rare generated key that no scanner should report anyway.
_ENGINE_WORDS = ["xxxx", "your", "placeholder", "redacted", "dummy", "changeme", "insert", "example", "sample",
                 "replace", "secret_key", "api_key", "apikey", "token_", "****", "...."]


def _has_run(body, n=6):
    same = up = down = 1
    for a, b in zip(body, body[1:]):
        same = same + 1 if a == b else 1
        fa, fb = a.lower(), b.lower()
        up = up + 1 if b.isalnum() and b.isascii() and ord(fa) + 1 == ord(fb) else 1
        down = down + 1 if b.isalnum() and b.isascii() and ord(fb) + 1 == ord(fa) else 1
        if max(same, up, down) >= n:
            return True
    return False


def _entropy(s):
    counts = {}
    for c in s:
        counts[c] = counts.get(c, 0) + 1
    return -sum(c / len(s) * math.log2(c / len(s)) for c in counts.values())


# Each rule's `exclude` regexes (rules/*.toml) for the generated shapes.
RULE_EXCLUDES = {
    "fireworks": [r"^fw_[A-Za-z]+$", r"^fw_[a-z0-9]+$", r"^fw_[A-Z0-9]+$"],
    "replicate": [r"^r8_[a-z0-9_-]+$", r"^r8_[A-Z0-9_-]+$"],
    "huggingface": [r"^hf_[a-z]*(?:[A-Z][a-z]*){0,5}$", r"^hf_[A-Z]*(?:[a-z][A-Z]*){0,5}$"],
    "mistral": [r"^[0-9a-f]{32}$", r"^[0-9A-F]{32}$", r"^[A-Za-z]{32}$", r"^[a-z0-9]{32}$", r"^[A-Z0-9]{32}$"],
    "cohere": [r"^[0-9a-f]{40}$", r"^[0-9A-F]{40}$", r"^[A-Za-z]{40}$", r"^[a-z0-9]{40}$", r"^[A-Z0-9]{40}$"],
    "aws-secret": [r"EXAMPLE", r"^[0-9a-f]{40}$"],
    "aws-id": [r"EXAMPLE"],
}


def rule_excludes(fmt, k):
    """Whether the rule's own `exclude` list drops this key."""
    return any(re.search(x, k) for x in RULE_EXCLUDES.get(fmt, []))


def engine_rejects(fmt, k):
    """Whether the engine's placeholder/entropy filters drop this key."""
    _, _, prefix, min_entropy = META[fmt]
    if fmt == "pem-rsa":
        return False
    if min_entropy is not None and _entropy(k) < min_entropy:
        return True
    body = k[len(prefix):] if prefix and k.startswith(prefix) else k
    lower = body.lower()
    for w in _ENGINE_WORDS:
        if len(w) > 5 or not w.isalpha():
            if w in lower:
                return True
        else:
            for i in range(len(lower) - len(w) + 1):
                if lower[i:i + len(w)] == w and (i == 0 or body[i - 1] in "-_. /"):
                    return True
    if _has_run(body):
        return True
    if len(body) <= 200:
        if _has_run(body[0::2]) or _has_run(body[1::2]):
            return True
        if len(body) >= 32:
            blocks = [body[i:i + 16] for i in range(len(body) - 15)]
            if len(set(blocks)) != len(blocks):
                return True
    return False


def sha(s):
    return hashlib.sha256(s.encode()).hexdigest()


# --------------------------------------------------------------------------
# Filler text
# --------------------------------------------------------------------------

WORDS = ("the of and to in is for on with as by at from that this be are it or an was we can will data model "
         "user request response client server config value default error retry timeout cache token stream "
         "batch prompt result output input embed vector index query search chart table plot render layout "
         "button modal header footer route page state store effect hook theme color size width height").split()
LOREM = ("Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore "
         "et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut "
         "aliquip ex ea commodo consequat. Duis aute irure dolor in reprehenderit in voluptate velit esse cillum "
         "dolore eu fugiat nulla pariatur. Excepteur sint occaecat cupidatat non proident, sunt in culpa qui "
         "officia deserunt mollit anim id est laborum.")


def words(rng, n):
    return " ".join(rng.choice(WORDS) for _ in range(n))


def ident(rng):
    return rng.choice("abcdefghijklmnopqrstuvwxyz") + rng.choice(["", "", "e", "t", "n", "r", "i", "o"]) + \
        rng.choice(["", "", "", "A", "B", "C", "D", "E", "1", "2"])


def minified_chunk(rng):
    a, b, c, d = ident(rng), ident(rng), ident(rng), ident(rng)
    w, w2 = rng.choice(WORDS), rng.choice(WORDS)
    return rng.choice([
        f"function {a}({b},{c}){{return {b}.{w}({c})}}",
        f"var {a}={b}.{w}||{{}};",
        f"{a}.prototype.{w}=function({b}){{this.{w2}={b};return this}};",
        f'const {a}="{words(rng, rng.randint(1, 6))}";',
        f"if({a}&&{a}.{w}){{{b}({a},{rng.randint(0, 999)})}}else{{{c}=null}}",
        f"{a}=[{rng.randint(0, 99)},{rng.randint(0, 9999)},{rng.randint(0, 9)}];",
        f'{a}.addEventListener("{w}",function({b}){{{b}.preventDefault();{c}.{w2}({b}.target)}});',
        f"let {a}=new Map;for(const[{b},{c}]of Object.entries({d})){a}.set({b},{c});",
        f'{a}=fetch("/api/{w}/{w2}",{{method:"POST",body:JSON.stringify({{{b}:{c}}})}}).then(({d})=>{d}.json());',
        f'{a}.className="{w}-{w2} {w}--{rng.choice(WORDS)}";',
        f"{a}=Math.max({b},{c}*{rng.randint(2, 64)})|0;",
        f'try{{{a}=JSON.parse({b})}}catch({c}){{console.warn("{words(rng, 3)}",{c})}}',
    ])


def minified_bundle(rng, min_bytes, inject=None, at=0.75):
    """One line of minified-looking JS of at least `min_bytes`, with
    `inject` placed at about fraction `at` of it."""
    parts, size, injected = ['"use strict";'], 13, inject is None
    while size < min_bytes or not injected:
        if not injected and size >= min_bytes * at:
            parts.append(inject)
            size += len(inject)
            injected = True
            continue
        c = minified_chunk(rng)
        parts.append(c)
        size += len(c)
    return "".join(parts) + "\n//# sourceMappingURL=" + "index.js.map\n"


def random_b64(rng, n):
    return base64.b64encode(rng.randbytes(n)).decode()


def fake_png(rng, n):
    body = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + rng.randbytes(13) + zlib.compress(rng.randbytes(n), 0)
    return body


def fake_jpeg(rng, n):
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01" + rng.randbytes(n) + b"\xff\xd9"


def uuid4(rng):
    h = rng.randbytes(16).hex()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{rng.choice('89ab')}{h[17:20]}-{h[20:32]}"


# --------------------------------------------------------------------------
# How a key is written in one kind of text
# --------------------------------------------------------------------------

def env_line(fmt, k):
    name = META[fmt][0]
    if fmt == "generic-token":
        return f"API_AUTH_HEADER=Authorization: Bearer {k}"
    if fmt == "pem-rsa":
        return k
    return f"{name}={k}"


def py_lines(fmt, k):
    name = META[fmt][0]
    if fmt == "generic-token":
        return ['import requests', '', f'headers = {{"Authorization": "Bearer {k}"}}',
                'resp = requests.get("https://internal.example.com/v1/items", headers=headers)']
    if fmt == "pem-rsa":
        return ['PRIVATE_KEY = """' + k.split("\n")[0]] + k.split("\n")[1:-1] + [k.split("\n")[-1] + '"""']
    return ["import os", "", f'os.environ["{name}"] = "{k}"']


def js_assign(fmt, k):
    """A minified JS object literal holding the key."""
    prov = META[fmt][1]
    if fmt == "generic-token":
        return f'{ident(random.Random(k))}=fetch("https://internal.example.com/v1/items",' \
               f'{{headers:{{Authorization:"Bearer {k}"}}}});'
    if fmt == "aws-secret":
        return f'const Aw={{region:"us-east-1",credentials:{{accessKeyId:"AKIA2E0A8F3B244C9986",' \
               f'secretAccessKey:"{k}"}}}};'
    if fmt == "azure-openai":
        return f'const Az=new AzureOpenAI({{endpoint:"https://contoso.openai.azure.com",apiKey:"{k}",' \
               f'apiVersion:"2024-06-01"}});'
    if fmt == "aws-id":
        return f'const Aw={{region:"us-east-1",credentials:{{accessKeyId:"{k}"}}}};'
    return f'const Cf={{provider:"{prov}",apiKey:"{k}",timeout:3e4}};'


# --------------------------------------------------------------------------
# The hiding forms
# --------------------------------------------------------------------------

NO_PEM_GENERIC = [f for f in FORMATS if f not in ("pem-rsa", "generic-token")]
NO_PEM = [f for f in FORMATS if f != "pem-rsa"]
ALL = list(FORMATS)
# Keys that may hold `-`, `_`, `/` or `+` (escapable characters).
ESCAPABLE = [f for f in NO_PEM_GENERIC
             if f not in ("mistral", "cohere", "azure-openai", "together-hex", "aws-id", "bedrock")]
DOCKER = ["github-classic", "github-fine", "replicate", "huggingface"]


def _nb(cells):
    return json.dumps({
        "cells": cells,
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                     "language_info": {"name": "python", "version": "3.11.4"}},
        "nbformat": 4, "nbformat_minor": 5}, indent=1) + "\n"


def _src(lines):
    return [line + "\n" for line in lines[:-1]] + [lines[-1]]


def _code(rng, n, lines, outputs=()):
    return {"cell_type": "code", "execution_count": n, "id": rng.randbytes(4).hex(), "metadata": {},
            "outputs": list(outputs), "source": _src(lines)}


def _md(rng, text):
    return {"cell_type": "markdown", "id": rng.randbytes(4).hex(), "metadata": {}, "source": _src(text.split("\n"))}


def _stream(text):
    return {"name": "stdout", "output_type": "stream", "text": _src(text.split("\n"))}


def form_nb_source(rng, fmt, k):
    cells = [
        _md(rng, f"# {words(rng, 4).title()}\n\nExploring {META[fmt][1]} {words(rng, 6)}."),
        _code(rng, 1, ["import os", "import json", "import pandas as pd"]),
        _code(rng, 2, py_lines(fmt, k)),
        _code(rng, 3, ["df = pd.DataFrame({'a': [1, 2, 3]})", "print(df.describe())"],
              [_stream("              a\ncount  3.000000\nmean   2.000000")]),
    ]
    return {"notebooks/explore.ipynb": _nb(cells)}


def form_nb_output(rng, fmt, k):
    if fmt in ("pem-rsa", "generic-token") or rng.random() < 0.5:
        src = ['print(open("secrets/id_rsa").read())'] if fmt == "pem-rsa" else ["!cat .env"]
        out = k if fmt == "pem-rsa" else f"APP_ENV=dev\n{env_line(fmt, k)}\nLOG_LEVEL=debug"
        cell = _code(rng, 2, src, [_stream(out)])
    else:
        name = META[fmt][0]
        src, shown = [f'os.environ["{name}"]'], f"'{k}'"
        cell = _code(rng, 2, src, [{"data": {"text/plain": [shown]}, "execution_count": 2, "metadata": {},
                                    "output_type": "execute_result"}])
    cells = [_md(rng, f"## {words(rng, 3)}"), _code(rng, 1, ["import os"]), cell,
             _code(rng, 3, [f"# {words(rng, 5)}", "x = 1"])]
    return {"analysis/debug.ipynb": _nb(cells)}


def _json_escape_key(k):
    out = []
    for c in k:
        out.append({"-": "\\u002d", "/": "\\/", "+": "\\u002b", "_": "\\u005f", "\n": "\\n"}.get(c, c))
    return "".join(out)


def form_json_escape(rng, fmt, k):
    name = META[fmt][0]
    doc = {"name": "svc-" + rng.choice(WORDS), "version": f"1.{rng.randint(0, 9)}.{rng.randint(0, 30)}",
           "endpoints": {"base": "https://api.example.com/v1/", "health": "/healthz"},
           "env": {"APP_ENV": "production", name: "@@KEY@@", "LOG_LEVEL": "info"}}
    text = json.dumps(doc, indent=2).replace("/", "\\/")
    return {"config/runtime.json": text.replace("@@KEY@@", _json_escape_key(k)) + "\n"}


def _pct(k):
    return "".join("%{:02X}".format(ord(c)) if c in "-_/+=" else c for c in k)


def form_url(rng, fmt, k):
    name = META[fmt][0].lower()
    lines = []
    for i in range(6):
        ip = f"10.0.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
        if i == 3:
            path = f"/v1/{rng.choice(WORDS)}?q={rng.choice(WORDS)}&{name}={_pct(k)}&lang=en"
        else:
            path = f"/v1/{rng.choice(WORDS)}?q={rng.choice(WORDS)}+{rng.choice(WORDS)}&page={rng.randint(1, 9)}"
        lines.append(f'{ip} - - [12/Mar/2025:10:{i:02d}:17 +0000] "GET {path} HTTP/1.1" 200 {rng.randint(200, 9000)}')
    return {"logs/access.log": "\n".join(lines) + "\n"}


def form_k8s_value(rng, fmt, k):
    b64 = lambda s: base64.b64encode(s.encode()).decode()  # noqa: E731
    if fmt == "pem-rsa":
        cert = "-----BEGIN CERTIFICATE-----\n" + "\n".join(random_b64(rng, 48) for _ in range(10)) + \
               "\n-----END CERTIFICATE-----\n"
        body = f"type: kubernetes.io/tls\ndata:\n  tls.crt: {b64(cert)}\n  tls.key: {b64(k + chr(10))}\n"
    else:
        name = META[fmt][0]
        body = (f"type: Opaque\ndata:\n  DATABASE_URL: {b64('postgres://app:' + rng.randbytes(6).hex() + '@db:5432/app')}\n"
                f"  {name}: {b64(k)}\n  LOG_LEVEL: {b64('info')}\n")
    return {"k8s/secret.yaml": f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: app-secrets\n"
                               f"  namespace: {rng.choice(WORDS)}\n" + body}


def form_k8s_env(rng, fmt, k):
    env = f"APP_ENV=production\nPORT=8080\n{env_line(fmt, k)}\nLOG_LEVEL=info\n"
    b64env = base64.b64encode(env.encode()).decode()
    return {"deploy/secret-env.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: app-env\ntype: Opaque\n"
                                      f"data:\n  .env: {b64env}\n"}


def form_docker(rng, fmt, k):
    registry = {"github-classic": "ghcr.io", "github-fine": "ghcr.io", "replicate": "r8.im",
                "huggingface": "registry.hf.space"}[fmt]
    user = rng.choice(["octocat", "deploy-bot", "ci", "mlops"])
    auth = base64.b64encode(f"{user}:{k}".encode()).decode()
    other = base64.b64encode(f"{user}:{rng.randbytes(12).hex()}".encode()).decode()
    cfg = {"auths": {"https://index.docker.io/v1/": {"auth": other}, registry: {"auth": auth}},
           "HttpHeaders": {"User-Agent": "Docker-Client/24.0.7 (linux)"}}
    return {".docker/config.json": json.dumps(cfg, indent="\t") + "\n"}


def form_base64url(rng, fmt, k):
    name = META[fmt][0]
    # ASCII text encodes to `-`/`_` only where a `>`, `?` or `~` ends a
    # 3-byte group: vary the session id's length until the `?` of `next`
    # does, so the payload really is base64url (not plain base64).
    for _ in range(1000):
        sid = rng.randbytes(rng.randint(4, 9)).hex()
        if fmt == "generic-token":
            payload = {"sid": sid, "next": "/settings?tab=keys", "headers": {"Authorization": f"Bearer {k}"}}
        else:
            payload = {"sid": sid, "next": "/settings?tab=keys", "provider": META[fmt][1], name: k, "exp": 1767225600}
        enc = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")
        if "-" in enc or "_" in enc:
            break
    return {"captures/session.har.txt": f"GET /dashboard HTTP/1.1\nHost: app.example.com\n"
                                        f"Cookie: theme=dark; session={enc}; _ga=GA1.2.{rng.randint(10**8, 10**9)}\n"}


def form_hex_0x(rng, fmt, k):
    name = META[fmt][0]
    return {"conf/obfuscated.ini": f"[service]\nname = {rng.choice(WORDS)}\n\n[secrets]\n"
                                   f"{name.lower()}_hex = 0x{k.encode().hex()}\nretries = 3\n"}


def form_hex_bare(rng, fmt, k):
    name = META[fmt][0]
    return {"conf/vault-export.json": json.dumps({"version": 2, "encoding": "hex",
                                                   "secrets": {name: k.encode().hex()}}, indent=2) + "\n"}


def _ps1(rng, fmt, k):
    name = META[fmt][0]
    if fmt == "pem-rsa":
        return k.replace("\n", "\r\n") + "\r\n"
    if fmt == "generic-token":
        value = f'$headers = @{{ "Authorization" = "Bearer {k}" }}'
    else:
        value = f'$env:{name} = "{k}"'
    return f"# setup script generated {rng.randint(2019, 2025)}\r\nSet-StrictMode -Version Latest\r\n{value}\r\n" \
           f"Write-Host \"{words(rng, 4)}\"\r\n"


def form_utf16le_bom(rng, fmt, k):
    return {"scripts/setup.ps1": b"\xff\xfe" + _ps1(rng, fmt, k).encode("utf-16-le")}


def form_utf16be_bom(rng, fmt, k):
    return {"scripts/setup-be.ps1": b"\xfe\xff" + _ps1(rng, fmt, k).encode("utf-16-be")}


def form_utf16le_nobom(rng, fmt, k):
    return {"dump/env-output.txt": _ps1(rng, fmt, k).encode("utf-16-le")}


def form_crlf(rng, fmt, k):
    if fmt == "pem-rsa":
        return {"keys/deploy_rsa": k.replace("\n", "\r\n") + "\r\n"}
    text = f"@echo off\r\nREM {words(rng, 5)}\r\nset {env_line(fmt, k)}\r\ncall run.bat\r\n"
    return {"win/start.bat": text.encode()}


def form_utf8_bom(rng, fmt, k):
    first = rng.random() < 0.5
    body = f"{env_line(fmt, k)}\nAPP_ENV=dev\n" if first else f"APP_ENV=dev\n{env_line(fmt, k)}\n"
    return {"config/app.env": b"\xef\xbb\xbf" + body.encode()}


def form_minified(rng, fmt, k):
    name = f"dist/assets/index-{rng.randbytes(4).hex()}.js"
    return {name: minified_bundle(rng, 200_000 + rng.randint(0, 60_000), js_assign(fmt, k), at=rng.uniform(0.5, 0.95))}


def form_sourcemap(rng, fmt, k):
    name = META[fmt][0]
    if fmt == "generic-token":
        line = f'export const headers = {{ Authorization: "Bearer {k}" }};'
    else:
        line = f'export const {name} = "{k}";'
    srcs = [f"import {{ api }} from './api';\n\n{line}\nexport default {{ api }};\n",
            "export function api(path: string) {\n  return fetch(`/api/${path}`);\n}\n"]
    smap = {"version": 3, "file": "index.js", "sources": ["../src/config.ts", "../src/api.ts"],
            "sourcesContent": srcs, "names": ["api", name],
            "mappings": ";".join("AAAA,SAAS,EAAE" for _ in range(40))}
    return {f"dist/assets/index-{rng.randbytes(4).hex()}.js.map": json.dumps(smap)}


def _zip(files):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for path, data in files.items():
            info = zipfile.ZipInfo(path, date_time=(2024, 5, 1, 12, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
    return buf.getvalue()


def _targz(files):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as t:
        for path, data in files.items():
            data = data.encode() if isinstance(data, str) else data
            info = tarfile.TarInfo(path)
            info.size, info.mtime, info.mode = len(data), 1714564800, 0o644
            t.addfile(info, io.BytesIO(data))
    return gzip.compress(raw.getvalue(), mtime=0)


def _app_files(rng, fmt, k):
    if fmt == "pem-rsa":
        return {"app/README.md": f"# {words(rng, 3)}\n", "app/keys/id_rsa": k + "\n",
                "app/main.py": "print('hello')\n"}
    return {"app/README.md": f"# {words(rng, 3)}\n\n{words(rng, 20)}\n", "app/.env": env_line(fmt, k) + "\n",
            "app/main.py": "import os\nprint(os.environ.get('APP_ENV'))\n"}


def form_zip(rng, fmt, k):
    return {f"releases/app-{rng.randint(1, 9)}.{rng.randint(0, 20)}.zip": _zip(_app_files(rng, fmt, k))}


def form_jar(rng, fmt, k):
    prov = META[fmt][1]
    if fmt == "pem-rsa":
        props = {"BOOT-INF/classes/keys/signing.pem": k + "\n"}
    else:
        line = f"http.headers.Authorization=Bearer {k}" if fmt == "generic-token" else \
            f"{prov}.{META[fmt][0].lower().replace('_', '-')}={k}"
        props = {"BOOT-INF/classes/application.properties": f"server.port=8080\n{line}\nlogging.level.root=INFO\n"}
    files = {"META-INF/MANIFEST.MF": "Manifest-Version: 1.0\nMain-Class: com.example.App\n",
             "BOOT-INF/classes/com/example/App.class": b"\xca\xfe\xba\xbe\x00\x00\x00\x37" + rng.randbytes(900)}
    files.update(props)
    return {f"libs/service-{rng.randint(1, 5)}.{rng.randint(0, 9)}.jar": _zip(files)}


def form_targz(rng, fmt, k):
    return {"backups/srv-backup.tar.gz": _targz(_app_files(rng, fmt, k))}


def form_gz(rng, fmt, k):
    text = f"# restored from backup\nAPP_ENV=staging\n{env_line(fmt, k)}\n"
    return {"backups/prod.env.gz": gzip.compress(text.encode(), mtime=0)}


def form_nested(rng, fmt, k):
    inner = _zip(_app_files(rng, fmt, k))
    mid = _targz({"payload/creds.zip": inner, "payload/VERSION": "3.1.4\n"})
    return {"artifacts/dist.zip": _zip({"bundle/payload.tar.gz": mid, "bundle/README.txt": "build artifact\n"})}


def _split(rng, k):
    at = rng.randint(8, len(k) - 8)
    return k[:at], k[at:]


def form_concat_js(rng, fmt, k):
    a, b = _split(rng, k)
    name = META[fmt][0]
    return {"src/client.js": f"import {{ createClient }} from './sdk.js';\n\n"
                             f"const {name} = \"{a}\" +\n  \"{b}\";\n\nexport const client = createClient({name});\n"}


def form_concat_py(rng, fmt, k):
    a, b = _split(rng, k)
    name = META[fmt][0]
    return {"app/settings.py": f"import os\n\n{name} = (\n    \"{a}\"\n    \"{b}\"\n)\nDEBUG = False\n"}


def form_concat_go(rng, fmt, k):
    a, b = _split(rng, k)
    name = META[fmt][0].title().replace("_", "")
    return {"internal/config/keys.go": f"package config\n\n// {name} is used by the worker.\n"
                                       f"const {name} = \"{a}\" +\n\t\"{b}\"\n"}


FORMS = [
    ("nb-source", form_nb_source, ALL),
    ("nb-output", form_nb_output, ALL),
    ("json-\\u002d", form_json_escape, ESCAPABLE + ["pem-rsa"]),
    ("url-%2D", form_url, ESCAPABLE),
    ("k8s-b64-value", form_k8s_value, NO_PEM_GENERIC + ["pem-rsa"]),
    ("k8s-b64-env", form_k8s_env, NO_PEM),
    ("docker-auth", form_docker, DOCKER),
    ("base64url", form_base64url, NO_PEM),
    ("hex-0x", form_hex_0x, NO_PEM_GENERIC),
    ("hex-bare", form_hex_bare, NO_PEM_GENERIC),
    ("utf16le-bom", form_utf16le_bom, ALL),
    ("utf16be-bom", form_utf16be_bom, ALL),
    ("utf16le-nobom", form_utf16le_nobom, ALL),
    ("crlf", form_crlf, ALL),
    ("utf8-bom", form_utf8_bom, ALL),
    ("minified-js", form_minified, NO_PEM),
    ("sourcemap", form_sourcemap, NO_PEM),
    ("zip", form_zip, ALL),
    ("jar", form_jar, ALL),
    ("tar.gz", form_targz, ALL),
    ("gz", form_gz, ALL),
    ("zip>tgz>zip", form_nested, ALL),
    ("concat-js", form_concat_js, NO_PEM_GENERIC),
    ("concat-py", form_concat_py, NO_PEM_GENERIC),
    ("concat-go", form_concat_go, NO_PEM_GENERIC),
]


def key_ok_for(form, k):
    if form in ("json-\\u002d", "url-%2D"):
        return any(c in k for c in "-_/+")
    return True


# --------------------------------------------------------------------------
# Decoys: nothing here may be reported
# --------------------------------------------------------------------------

PLACEHOLDERS = [
    "sk-proj-xxxxxxxxxxxxxxxxxxxxxxxxT3BlbkFJxxxxxxxxxxxxxxxxxxxxxxxx",
    "YOUR_API_KEY_HERE",
    "sk-ant-api03-" + "x" * 93 + "AA",
    "ghp_" + "x" * 36,
    "sk-proj-your-openai-key-here",
    "AKIAIOSFODNN7EXAMPLE",
    "hf_" + "X" * 34,
    "<your-mistral-api-key>",
]


def decoys(rng):
    files = {}
    b64 = lambda b: base64.b64encode(b).decode()  # noqa: E731
    # Data URIs and SRI hashes in a page.
    imgs = []
    for i in range(12):
        if i % 2:
            imgs.append(f'<img alt="{rng.choice(WORDS)}" src="data:image/png;base64,{b64(fake_png(rng, rng.randint(300, 6000)))}">')
        else:
            imgs.append(f'<img src="data:image/jpeg;base64,{b64(fake_jpeg(rng, rng.randint(300, 6000)))}">')
    sri = [f'<script src="https://cdn.example.com/{rng.choice(WORDS)}.min.js" '
           f'integrity="sha384-{b64(rng.randbytes(48))}" crossorigin="anonymous"></script>' for _ in range(20)]
    files["decoys/site/index.html"] = "<!doctype html>\n<html><head>\n" + "\n".join(sri) + \
        "\n</head><body>\n" + "\n".join(imgs) + "\n</body></html>\n"
    files["decoys/site/style.css"] = "\n".join(
        f".icon-{rng.choice(WORDS)}{{background:url(data:image/png;base64,{b64(fake_png(rng, 900))})}}"
        for _ in range(10)) + "\n"
    # package-lock integrity fields, AI SDK names included.
    pkgs = {"": {"name": "web", "version": "1.0.0"}}
    names = ["openai", "@anthropic-ai/sdk", "@mistralai/mistralai", "cohere-ai", "together-ai", "groq-sdk",
             "@azure/openai", "@aws-sdk/client-bedrock-runtime", "replicate", "@huggingface/inference"]
    names += [f"{rng.choice(WORDS)}-{rng.choice(WORDS)}" for _ in range(250)]
    for n in names:
        v = f"{rng.randint(0, 9)}.{rng.randint(0, 30)}.{rng.randint(0, 30)}"
        pkgs[f"node_modules/{n}"] = {"version": v, "resolved": f"https://registry.npmjs.org/{n}/-/{n.split('/')[-1]}-{v}.tgz",
                                     "integrity": f"sha512-{b64(rng.randbytes(64))}", "license": "MIT"}
    files["decoys/web/package-lock.json"] = json.dumps({"name": "web", "lockfileVersion": 3, "packages": pkgs},
                                                       indent=2) + "\n"
    # Random base64 blobs of random bytes.
    files["decoys/k8s/keystore-secret.yaml"] = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: keystore\ndata:\n" + \
        "".join(f"  {rng.choice(WORDS)}-{i}.bin: {b64(rng.randbytes(rng.randint(24, 3000)))}\n" for i in range(30))
    # Hex digests in text, also next to provider names.
    req = "".join(f"{p}=={rng.randint(0, 3)}.{rng.randint(0, 40)}.{rng.randint(0, 9)} \\\n"
                  f"    --hash=sha256:{rng.randbytes(32).hex()} \\\n    --hash=sha256:{rng.randbytes(32).hex()}\n"
                  for p in ["openai", "anthropic", "mistralai", "cohere", "together", "groq", "elevenlabs",
                            "deepseek", "azure-ai-openai", "boto3", "requests", "numpy"])
    files["decoys/py/requirements.txt"] = req
    log = "".join(f"commit {rng.randbytes(20).hex()}\nAuthor: Dev <dev@example.com>\n\n    bump "
                  f"{rng.choice(['mistral', 'cohere', 'together', 'deepseek', 'elevenlabs'])} client\n\n"
                  for _ in range(40))
    log += "".join(f"{rng.randbytes(32).hex()}  dist/{rng.choice(WORDS)}.tar.gz\n" for _ in range(20))
    log += "".join(f"sha1sum: {rng.randbytes(20).hex()}  azure-openai-{i}.whl\n" for i in range(10))
    files["decoys/ci/history.txt"] = log
    # UUIDs and trace ids in JSON logs next to provider names.
    lines = []
    for _ in range(300):
        p = rng.choice(["mistral", "cohere", "together", "azure-openai", "deepseek", "elevenlabs", "openai"])
        lines.append(json.dumps({"ts": "2025-03-12T10:00:00Z", "provider": p, "request_id": uuid4(rng),
                                 "trace_id": rng.randbytes(16).hex(), "span_id": rng.randbytes(8).hex(),
                                 "latency_ms": rng.randint(40, 9000)}))
    files["decoys/logs/llm-gateway.jsonl"] = "\n".join(lines) + "\n"
    # base64 of lorem ipsum.
    files["decoys/k8s/configmap.yaml"] = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: docs\ndata:\n" + \
        "".join(f"  page{i}.txt: {b64(((LOREM + ' ') * rng.randint(1, 4)).encode())}\n" for i in range(8))
    # Minified JS without keys.
    files["decoys/dist/assets/vendor-0a1b2c3d.js"] = minified_bundle(rng, 260_000)
    # Notebook with image outputs.
    img_out = {"data": {"image/png": b64(fake_png(rng, 20000)), "text/plain": ["<Figure size 640x480 with 1 Axes>"]},
               "metadata": {}, "output_type": "display_data"}
    files["decoys/notebooks/plots.ipynb"] = _nb([
        _md(rng, "# Plots"), _code(rng, 1, ["import matplotlib.pyplot as plt", "plt.plot([1, 2, 3])"], [img_out]),
        _code(rng, 2, ["plt.hist(data)"], [img_out, _stream(words(rng, 12))])])
    # Zip of binary files.
    files["decoys/assets/images.zip"] = _zip({f"img/{i}.png": fake_png(rng, 4000) for i in range(8)} |
                                             {"bin/blob.dat": rng.randbytes(20000)})
    # Placeholders in the same encodings.
    ph = PLACEHOLDERS
    files["decoys/placeholders/secret.yaml"] = "apiVersion: v1\nkind: Secret\ndata:\n" + "".join(
        f"  OPENAI_API_KEY_{i}: {b64(p.encode())}\n" for i, p in enumerate(ph))
    files["decoys/placeholders/env-b64.yaml"] = "data:\n  .env: " + b64(
        "".join(f"OPENAI_API_KEY={p}\n" for p in ph).encode()) + "\n"
    files["decoys/placeholders/links.txt"] = "".join(f"https://api.example.com/v1?api_key={_pct(p)}\n" for p in ph)
    files["decoys/placeholders/config.json"] = "{\n" + ",\n".join(
        f'  "OPENAI_API_KEY_{i}": "{_json_escape_key(p)}"' for i, p in enumerate(ph)) + "\n}\n"
    files["decoys/placeholders/setup.ps1"] = b"\xff\xfe" + "".join(
        f'$env:OPENAI_API_KEY = "{p}"\r\n' for p in ph).encode("utf-16-le")
    files["decoys/placeholders/demo.ipynb"] = _nb([_code(rng, 1, [f'os.environ["OPENAI_API_KEY"] = "{p}"' for p in ph])])
    files["decoys/placeholders/hex.ini"] = "".join(f"openai_api_key_hex = 0x{p.encode().hex()}\n" for p in ph)
    files["decoys/placeholders/examples.zip"] = _zip({".env.example": "".join(f"OPENAI_API_KEY={p}\n" for p in ph)})
    files["decoys/placeholders/.docker/config.json"] = json.dumps({"auths": {
        f"registry{i}.example.com": {"auth": b64(f"ci:{p}".encode())} for i, p in enumerate(ph)}}, indent="\t")
    files["decoys/placeholders/cookies.txt"] = "".join(
        "Cookie: session=" + base64.urlsafe_b64encode(json.dumps({"OPENAI_API_KEY": p}).encode()).decode().rstrip("=")
        + "\n" for p in ph)
    files["decoys/placeholders/examples.tar.gz"] = _targz({"app/.env.example": "".join(
        f"OPENAI_API_KEY={p}\n" for p in ph)})
    files["decoys/placeholders/.env.gz"] = gzip.compress("".join(f"OPENAI_API_KEY={p}\n" for p in ph).encode(), mtime=0)
    files["decoys/placeholders/concat.js"] = "".join(
        f'const K{i} = "{p[:len(p) // 2]}" +\n  "{p[len(p) // 2:]}";\n' for i, p in enumerate(ph))
    files["decoys/placeholders/bundle.min.js"] = minified_bundle(
        rng, 200_000, "".join(f'const P{i}={{apiKey:"{p}"}};' for i, p in enumerate(ph)))
    return files


# --------------------------------------------------------------------------
# Corpus, scan, metrics
# --------------------------------------------------------------------------

def build_corpus(root, n_keys, seed):
    rng = random.Random(seed)
    planted, redrawn = [], {"engine filter": 0, "rule exclude": 0, "no escapable char": 0}
    # Each form gets its formats in a seeded order, cycled: formats spread
    # evenly over forms and forms evenly over keys.
    order = {name: rng.sample(fmts, len(fmts)) for name, _, fmts in FORMS}
    for i in range(n_keys):
        form, fn, _ = FORMS[i % len(FORMS)]
        fmts = order[form]
        fmt = fmts[(i // len(FORMS)) % len(fmts)]
        kseed = (seed * 1_000_003 + i) & M64
        k = key(fmt, kseed)
        while True:
            if engine_rejects(fmt, k):
                redrawn["engine filter"] += 1
            elif rule_excludes(fmt, k):
                redrawn["rule exclude"] += 1
            elif not key_ok_for(form, k):
                redrawn["no escapable char"] += 1
            else:
                break
            if sum(redrawn.values()) > 100 * n_keys:
                raise RuntimeError(f"cannot draw a usable {fmt} key for form {form}")
            kseed = (kseed + 0x1000_0000) & M64
            k = key(fmt, kseed)
        frng = random.Random(f"{seed}/{i}")
        files = fn(frng, fmt, k)
        base = f"{form.replace('%', 'pct').replace(chr(92), '').replace('>', '-')}/k{i:04d}-{fmt}"
        paths = []
        for rel, data in files.items():
            path = os.path.join(root, base, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as f:
                f.write(data.encode() if isinstance(data, str) else data)
            paths.append(f"{base}/{rel}")
        hashes = {sha(k): "exact"}
        if "\n" in k:
            hashes[sha(k.replace("\n", "\r\n"))] = "variant"
        planted.append({"i": i, "form": form, "format": fmt, "key": k, "seed": kseed, "paths": paths,
                        "expected_rule": EXPECTED_RULE[fmt], "hashes": hashes})
    for rel, data in decoys(rng).items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
    return planted, redrawn


def find_binary(explicit):
    if explicit:
        return explicit
    binary = os.path.join(REPO, "target", "release", "leakhound")
    if not os.path.exists(binary):
        print("building target/release/leakhound ...", file=sys.stderr)
        subprocess.run(["cargo", "build", "--release"], cwd=REPO, check=True)
    return binary


def scan(binary, corpus, extra):
    t = time.monotonic()
    p = subprocess.run([binary, "scan", "--format", "json", "--no-ignore", *extra, corpus],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    elapsed = time.monotonic() - t
    if p.returncode not in (0, 1):
        print(f"leakhound exited {p.returncode}:\n{p.stderr.decode(errors='replace')[:2000]}", file=sys.stderr)
    try:
        report = json.loads(p.stdout)
    except json.JSONDecodeError:
        sys.exit(f"leakhound did not print JSON (exit {p.returncode}): {p.stderr.decode(errors='replace')[:2000]}")
    return report, elapsed


def evaluate(planted, report):
    findings = report.get("findings", [])
    by_hash = {}
    for f in findings:
        by_hash.setdefault(f.get("secret_sha256"), []).append(f)
    owner = {}
    for p in planted:
        for h in p["hashes"]:
            owner[h] = p
    res = {}
    for p in planted:
        hits = [(f, kind) for h, kind in p["hashes"].items() for f in by_hash.get(h, [])]
        rules = {f["rule_id"] for f, _ in hits}
        if p["expected_rule"] in rules:
            status = "found"
        elif hits:
            status = "wrong-rule"
        else:
            status = "missed"
        variant = bool(hits) and all(kind == "variant" for _, kind in hits)
        res[p["i"]] = {"status": status, "rules": sorted(rules), "variant": variant,
                       "chains": sorted({"/".join(f.get("decoded") or ["plain"]) for f, _ in hits})}
    scored = [f for f in findings if f.get("severity") != "warning"]
    tp = [f for f in scored if f.get("secret_sha256") in owner]
    fps = [f for f in scored if f.get("secret_sha256") not in owner]
    return res, scored, tp, fps, findings


def pct(a, b):
    return f"{100.0 * a / b:5.1f}%" if b else "   n/a"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=1, help="corpus seed (default 1)")
    ap.add_argument("--keys", type=int, default=300, help="planted keys (default 300)")
    ap.add_argument("--keep", metavar="DIR", help="write the corpus to DIR/corpus and the manifest to DIR/manifest.json")
    ap.add_argument("--bin", metavar="PATH", help="leakhound binary (default target/release/leakhound, built if missing)")
    ap.add_argument("--misses", action="store_true", help="list every missed key (default: the first 40)")
    args = ap.parse_args()

    binary = find_binary(args.bin)
    tmp = None
    if args.keep:
        outdir = os.path.abspath(args.keep)
        corpus = os.path.join(outdir, "corpus")
        if os.path.exists(corpus):
            shutil.rmtree(corpus)
        os.makedirs(corpus)
    else:
        tmp = tempfile.mkdtemp(prefix="leakhound-hard-slice-")
        outdir, corpus = tmp, os.path.join(tmp, "corpus")
        os.makedirs(corpus)
    try:
        t0 = time.monotonic()
        planted, redrawn = build_corpus(corpus, args.keys, args.seed)
        gen_time = time.monotonic() - t0
        nbytes = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(corpus) for f in fs)
        nfiles = sum(len(fs) for _, _, fs in os.walk(corpus))
        if args.keep:
            with open(os.path.join(outdir, "manifest.json"), "w") as f:
                json.dump([{k: v for k, v in p.items() if k != "hashes"} | {"sha256": sha(p["key"])}
                           for p in planted], f, indent=1)
        rep_d, t_d = scan(binary, corpus, [])
        rep_n, t_n = scan(binary, corpus, ["--no-decode"])
        res_d, scored_d, tp_d, fps_d, _ = evaluate(planted, rep_d)
        res_n, scored_n, tp_n, fps_n, _ = evaluate(planted, rep_n)

        print(f"leakhound hard slice · seed {args.seed} · {len(planted)} keys in {len(FORMS)} forms, "
              f"{len(FORMATS)} formats · corpus {nfiles} files, {nbytes / 2**20:.1f} MiB "
              f"(generated in {gen_time:.1f} s)")
        print("keys re-drawn: " + (", ".join(f"{n} ({why})" for why, n in redrawn.items() if n) or "none"))
        pairs = len({(p["form"], p["format"]) for p in planted})
        eligible = sum(len(f) for _, _, f in FORMS)
        print(f"(form, format) pairs covered: {pairs}/{eligible} (--keys {len(FORMS) * max(len(f) for _, _, f in FORMS)}"
              f" covers all) · scan {t_d:.2f} s (decode) / {t_n:.2f} s (--no-decode)")
        st = rep_d.get("stats", {})
        print(f"scanned {st.get('files_scanned')} files, {st.get('bytes_scanned', 0) / 2**20:.1f} MiB; skipped "
              f"{sum(st.get('skipped', {}).values())}; errors {st.get('errors')}\n")

        def table(title, keyf, names):
            print(f"{title:<18} {'keys':>4} {'found':>5} {'wrong':>5} {'miss':>4} {'recall':>7} {'no-decode':>9}"
                  f"  {'decoded chains (found)'}")
            for name in names:
                ps = [p for p in planted if keyf(p) == name]
                if not ps:
                    continue
                f = sum(res_d[p["i"]]["status"] == "found" for p in ps)
                w = sum(res_d[p["i"]]["status"] == "wrong-rule" for p in ps)
                fn = sum(res_n[p["i"]]["status"] == "found" for p in ps)
                chains = {}
                for p in ps:
                    for c in res_d[p["i"]]["chains"]:
                        chains[c] = chains.get(c, 0) + 1
                cs = ", ".join(f"{c}×{n}" if n > 1 else c for c, n in sorted(chains.items(), key=lambda x: -x[1]))
                print(f"{name:<18} {len(ps):>4} {f:>5} {w:>5} {len(ps) - f - w:>4} {pct(f, len(ps)):>7} "
                      f"{pct(fn, len(ps)):>9}  {cs[:70]}")
            print()

        table("form", lambda p: p["form"], [f[0] for f in FORMS])
        table("format", lambda p: p["format"], FORMATS)

        n = len(planted)
        found_d = sum(r["status"] == "found" for r in res_d.values())
        wrong_d = sum(r["status"] == "wrong-rule" for r in res_d.values())
        found_n = sum(r["status"] == "found" for r in res_n.values())
        wrong_n = sum(r["status"] == "wrong-rule" for r in res_n.values())
        variant_d = sum(r["variant"] and r["status"] != "missed" for r in res_d.values())
        print(f"{'':<24} {'decode':>22} {'--no-decode':>22}")
        print(f"{'recall (right rule)':<24} {found_d:>5}/{n:<5} {pct(found_d, n):>9} {found_n:>5}/{n:<5} "
              f"{pct(found_n, n):>9}")
        print(f"{'found, wrong rule':<24} {wrong_d:>16} {wrong_n:>22}")
        print(f"{'precision':<24} {len(tp_d):>5}/{len(scored_d):<5} {pct(len(tp_d), len(scored_d)):>9} "
              f"{len(tp_n):>5}/{len(scored_n):<5} {pct(len(tp_n), len(scored_n)):>9}")
        print(f"{'false positives':<24} {len(fps_d):>16} {len(fps_n):>22}")
        if variant_d:
            print(f"(recall counts {variant_d} keys found only with CRLF line ends in the secret)")
        for tag, fps in (("decode", fps_d), ("--no-decode", fps_n)):
            if fps:
                print(f"\nfalse positives ({tag}):")
                for f in sorted(fps, key=lambda f: (f["path"], f.get("line", 0))):
                    chain = "/".join(f.get("decoded") or ["plain"])
                    note = f" ({f['note']})" if f.get("note") else ""
                    print(f"  {f['rule_id']:<28} {f['path']}:{f.get('line')}{note}  [{chain}]  {f.get('secret')}")
        wrong = [p for p in planted if res_d[p["i"]]["status"] == "wrong-rule"]
        if wrong:
            print("\nfound with the wrong rule (decode):")
            for p in wrong:
                print(f"  {p['form']:<14} {p['format']:<18} expected {p['expected_rule']}, "
                      f"got {', '.join(res_d[p['i']]['rules'])}  {p['paths'][0]}")
        missed = [p for p in planted if res_d[p["i"]]["status"] == "missed"]
        if missed:
            print(f"\nmissed (decode): {len(missed)}")
            for p in missed[: None if args.misses else 40]:
                print(f"  {p['form']:<14} {p['format']:<18} {p['paths'][0]}")
            if not args.misses and len(missed) > 40:
                print(f"  ... {len(missed) - 40} more (--misses lists all)")
        if args.keep:
            print(f"\ncorpus kept in {corpus}; manifest in {os.path.join(outdir, 'manifest.json')}")
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
