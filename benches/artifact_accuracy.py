"""Accuracy of leakhound on built artifacts (issue #17): recall, precision
and client-side verdicts on 22 files made the way they are made in real
projects (gcc, rustc, javac, py_compile, sqlite3, jar, zip) or written byte by byte
to their format's specification (Android resources.arsc and binary XML, a
.dex, a .wasm data segment, an Electron asar, a CRX3, a binary plist, an OCI
image from `docker save`, PDF content streams, a Word document), with fake
keys of providers leakhound knows planted in them, and decoys beside them:
placeholder keys, random blobs, images, and real binaries and packages
copied from this machine (which hold no key: any finding there is false).

    python3 benches/artifact_accuracy.py [--leakhound PATH] [--keep DIR]

Scores (each key is random, so a finding is a planted key or a false one):
  recall     planted keys found, each in its own artifact   (target >= 0.95)
  precision  findings that are planted keys                  (target >= 0.99)
  client     findings of planted keys whose client_side is what the artifact
             is: mobile and desktop apps, browser and editor extensions and
             web bundles are client-side; server binaries, wheels, jars,
             server images and documents are not         (target >= 0.97)
Needs gcc and python3 (its sqlite3 module); javac, jar and rustc are used
when present. Each run plants new random keys.
"""

import argparse
import glob
import gzip
import hashlib
import io
import json
import lzma
import os
import random
import secrets
import shutil
import sqlite3
import string
import struct
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
import zipfile
import zlib

ALNUM = string.ascii_letters + string.digits
URLSAFE = ALNUM + "-_"
B62 = string.digits + string.ascii_uppercase + string.ascii_lowercase


def placeholder_like(s):
    """Mirror of leakhound's placeholder filter: runs like aaaa or abcde."""
    for i in range(len(s) - 3):
        if len(set(s[i:i + 4])) == 1:
            return True
    for i in range(len(s) - 4):
        if {ord(s[j + 1]) - ord(s[j]) for j in range(i, i + 4)} in ({1}, {-1}):
            return True
    return False


def rand(alphabet, n):
    while True:
        s = "".join(secrets.choice(alphabet) for _ in range(n))
        # Mixed like real keys (prefix-less rules drop single-case values).
        mixed = all(any(f(c) for c in s) for f in (str.isdigit, str.isupper) if any(f(c) for c in alphabet))
        if mixed and not placeholder_like(s):
            return s


def github_classic():
    body = rand(ALNUM, 30)
    crc, check = zlib.crc32(body.encode()), ""
    while crc:
        crc, d = divmod(crc, 62)
        check = B62[d] + check
    return "ghp_" + body + check.rjust(6, "0")


KEYS = {
    "openai": lambda: "sk-proj-" + rand(URLSAFE, 74) + "T3BlbkFJ" + rand(URLSAFE, 74),
    "anthropic": lambda: "sk-ant-api03-" + rand(URLSAFE, 93) + "AA",
    "github": github_classic,
    "github-fine": lambda: "github_pat_" + rand(ALNUM, 22) + "_" + rand(ALNUM, 59),
    "stripe": lambda: "sk_live_" + rand(ALNUM, 99),
    "slack": lambda: "xoxb-%s-%s-%s" % (rand("123456789", 12), rand("123456789", 13), rand(ALNUM, 24)),
    "groq": lambda: "gsk_" + rand(ALNUM, 20) + "WGdyb3FY" + rand(ALNUM, 24),
    "google": lambda: "AIzaSy" + rand(URLSAFE, 33),
    "huggingface": lambda: "hf_" + rand(string.ascii_letters, 34),
    "gitlab": lambda: "glpat-" + rand(URLSAFE, 20),
    "sendgrid": lambda: "SG." + rand(URLSAFE, 22) + "." + rand(URLSAFE, 43),
    "xai": lambda: "xai-" + rand(ALNUM, 80),
    "openrouter": lambda: "sk-or-v1-" + "".join(secrets.choice("0123456789abcdef") for _ in range(64)),
    "replicate": lambda: "r8_" + rand(ALNUM, 37),
    "perplexity": lambda: "pplx-" + rand(ALNUM, 48),
    "aws": lambda: "AKIA" + rand(string.ascii_uppercase + "234567", 16),
}

# Decoys: what a scanner must not report.
DECOYS = [
    "sk-proj-" + "x" * 48,
    "AKIAIOSFODNN7EXAMPLE",
    "ghp_" + "0" * 36,
    "sk-ant-api03-your-api-key-here",
    "sk_live_" + "X" * 24,
    "YOUR_GOOGLE_API_KEY",
]


class Corpus:
    def __init__(self, root):
        self.root = root
        self.planted = []  # (artifact, provider, key, client_side)
        self.artifacts = {}  # artifact path -> (client_side, what)

    def key(self, artifact, provider):
        k = KEYS[provider]()
        self.planted.append((artifact, provider, k, self.artifacts[artifact][0]))
        return k

    def artifact(self, path, client, what):
        self.artifacts[path] = (client, what)
        return path

    def write(self, path, data):
        full = os.path.join(self.root, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as f:
            f.write(data)


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, **kw)


def gcc(source, out, shared=False):
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, "main.c")
        with open(src, "w") as f:
            f.write(source)
        run(["gcc", "-O2", "-w"] + (["-shared", "-fPIC"] if shared else []) + ["-o", out, src])
        with open(out, "rb") as f:
            return f.read()


def c_program(literal, array, extra=""):
    """A C program with a key in a string literal and one in a static char
    array (no terminator: the next object's bytes follow it), a placeholder
    and a documentation example beside them."""
    chars = ",".join("'%s'" % c for c in array)
    return """#include <stdio.h>
static const char *API_KEY = "%s";
static const char SIGNING_KEY[] = {%s};
static const char *PLACEHOLDER = "%s";
static const char *DOCS = "%s";
%s
int main(int argc, char **argv) {
    if (argc > 7) { puts(API_KEY); fwrite(SIGNING_KEY, 1, sizeof SIGNING_KEY, stdout); puts(PLACEHOLDER); puts(DOCS); }
    return 0;
}
""" % (literal, chars, DECOYS[0], DECOYS[1], extra)


def zip_bytes(entries, method=zipfile.ZIP_DEFLATED):
    f = io.BytesIO()
    with zipfile.ZipFile(f, "w", method) as z:
        for name, data in entries:
            z.writestr(name, data)
    return f.getvalue()


def string_pool(strings, utf8=False):
    """An Android ResStringPool chunk (UTF-16 unless utf8)."""
    data, offsets = b"", []
    for s in strings:
        offsets.append(len(data))
        if utf8:
            b = s.encode()
            data += bytes([len(s), len(b)]) + b + b"\0"
        else:
            data += struct.pack("<H", len(s)) + s.encode("utf-16-le") + b"\0\0"
    data += b"\0" * (-len(data) % 4)
    header = 28
    start = header + 4 * len(strings)
    size = start + len(data)
    flags = 0x100 if utf8 else 0
    return struct.pack("<HHIIIIII", 0x0001, header, size, len(strings), 0, flags, start, 0) + \
        b"".join(struct.pack("<I", o) for o in offsets) + data


def arsc(strings):
    pool = string_pool(strings)
    return struct.pack("<HHII", 0x0002, 12, 12 + len(pool), 1) + pool


def binary_xml(strings):
    pool = string_pool(strings)
    return struct.pack("<HHI", 0x0003, 8, 8 + len(pool)) + pool


def dex(strings):
    """A .dex with a string section: header, string ids, string data
    (uleb128 length, MUTF-8, NUL)."""
    header = bytearray(0x70)
    header[0:8] = b"dex\n035\0"
    ids_off = 0x70
    data_off = ids_off + 4 * len(strings)
    data, ids = b"", b""
    for s in strings:
        ids += struct.pack("<I", data_off + len(data))
        n, uleb = len(s), b""
        while True:
            byte, n = n & 0x7F, n >> 7
            uleb += bytes([byte | (0x80 if n else 0)])
            if not n:
                break
        data += uleb + s.encode() + b"\0"
    struct.pack_into("<I", header, 0x20, 0x70 + len(ids) + len(data))
    struct.pack_into("<I", header, 0x28, 0x12345678)
    struct.pack_into("<II", header, 0x38, len(strings), ids_off)
    return bytes(header) + ids + data


def bplist(pairs):
    """A binary property list: one dict of ASCII strings."""
    objects = [None] + [k for k, _ in pairs] + [v for _, v in pairs]
    n = len(pairs)
    body, offsets = b"", []
    for i, o in enumerate(objects):
        offsets.append(8 + len(body))
        if i == 0:
            body += bytes([0xD0 | n]) + bytes(range(1, n + 1)) + bytes(range(n + 1, 2 * n + 1))
        else:
            b = o.encode()
            body += (bytes([0x50 | len(b)]) if len(b) < 15 else bytes([0x5F, 0x10, len(b)])) + b
    table = 8 + len(body)
    trailer = b"\0" * 6 + bytes([1, 1]) + struct.pack(">QQQ", len(objects), 0, table)
    return b"bplist00" + body + bytes(offsets) + trailer


def leb128(n):
    """Unsigned LEB128: WebAssembly's sizes and protobuf's varints alike."""
    out = b""
    while True:
        byte, n = n & 0x7F, n >> 7
        out += bytes([byte | (0x80 if n else 0)])
        if not n:
            return out


def wasm(data):
    """A WebAssembly module: one memory, one active data segment at 1024."""
    leb = leb128
    section = lambda sid, payload: bytes([sid]) + leb(len(payload)) + payload
    memory = section(5, b"\x01\x00\x01")
    segment = b"\x00\x41" + leb(1024) + b"\x0b" + leb(len(data)) + data
    return b"\0asm\x01\0\0\0" + memory + section(11, b"\x01" + segment)


def asar(files):
    root, data = {"files": {}}, b""
    for path, body in files:
        node = root
        parts = path.split("/")
        for d in parts[:-1]:
            node = node["files"].setdefault(d, {"files": {}})
        node["files"][parts[-1]] = {"size": len(body), "offset": str(len(data))}
        data += body
    j = json.dumps(root).encode()
    padded = (len(j) + 3) // 4 * 4
    return struct.pack("<IIII", 4, padded + 8, padded + 4, len(j)) + j + b"\0" * (padded - len(j)) + data


def crx3(zip_data):
    """CRX3: magic, version, header length, a CrxFileHeader protobuf (an
    RSA proof: public key and signature; the signed header data), the zip."""
    field = lambda num, payload: leb128((num << 3) | 2) + leb128(len(payload)) + payload
    proof = field(1, os.urandom(294)) + field(2, os.urandom(256))
    header = field(2, proof) + field(10000, field(1, os.urandom(16)))
    return b"Cr24" + struct.pack("<II", 3, len(header)) + header + zip_data


def tar_bytes(entries, gz=False):
    f = io.BytesIO()
    with tarfile.open(fileobj=f, mode="w:gz" if gz else "w", format=tarfile.PAX_FORMAT) as t:
        for name, data in entries:
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 1700000000, 0o644
            t.addfile(info, io.BytesIO(data))
    return f.getvalue()


def pdf(objects):
    out = b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n"
    offsets = []
    for i, (d, stream) in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + d.encode() + b"\n"
        if stream is not None:
            out += b"stream\n" + stream + b"\nendstream\n"
        out += b"endobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return out


def png(n):
    raw = os.urandom(n)
    chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 64, 64, 8, 2, 0, 0, 0)) + \
        chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def sqlite_db(path, rows, utf16=False):
    if os.path.exists(path):
        os.remove(path)
    db = sqlite3.connect(path)
    if utf16:
        db.execute("PRAGMA encoding = 'UTF-16le'")
    db.execute("CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT)")
    db.executemany("INSERT INTO settings VALUES (?, ?)", rows)
    db.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT, token TEXT)")
    db.executemany("INSERT INTO users (email, token) VALUES (?, ?)",
                   [("user%d@example.com" % i, secrets.token_hex(16)) for i in range(200)])
    db.commit()
    db.close()
    with open(path, "rb") as f:
        return f.read()


def build(c, work):
    """Writes every artifact under c.root; `work` is scratch space."""
    exe = lambda name: os.path.join(work, name)

    # 1-3: compiled C programs (a server, a Windows program, a macOS app).
    a = c.artifact("server/bin/api-server", False, "gcc -O2 server binary")
    c.write(a, gcc(c_program(c.key(a, "openai"), c.key(a, "anthropic")), exe("server")))
    a = c.artifact("release/windows/Acme.exe", True, "gcc -O2 desktop program (.exe)")
    c.write(a, gcc(c_program(c.key(a, "stripe"), c.key(a, "github")), exe("win")))
    a = c.artifact("desktop/Acme.app/Contents/MacOS/Acme", True, "gcc -O2 program in a macOS app bundle")
    c.write(a, gcc(c_program(c.key(a, "groq"), c.key(a, "gitlab")), exe("mac")))

    # 4: a .pyc from py_compile.
    a = c.artifact("backend/__pycache__/settings.cpython-311.pyc", False, "python3 -m py_compile")
    src = exe("settings.py")
    with open(src, "w") as f:
        f.write('HF_TOKEN = "%s"\nSENDGRID_KEY = "%s"\nEXAMPLE = "%s"\nDEBUG = False\n'
                % (c.key(a, "huggingface"), c.key(a, "sendgrid"), DECOYS[0]))
    run([sys.executable, "-m", "py_compile", src])
    c.write(a, open(glob.glob(os.path.join(work, "__pycache__", "settings.*.pyc"))[0], "rb").read())

    # 5 and 11: javac classes, and a Spring Boot style jar with a jar inside.
    have_java = shutil.which("javac") and shutil.which("jar")
    if have_java:
        a = c.artifact("build/classes/java/main/com/acme/Billing.class", False, "javac class")
        jdir = exe("java")
        os.makedirs(jdir + "/com/acme", exist_ok=True)
        with open(jdir + "/com/acme/Billing.java", "w") as f:
            f.write('package com.acme;\npublic class Billing {\n  static final String KEY = "%s";\n'
                    '  static final String DOCS = "%s";\n'
                    '  public static void main(String[] a) { System.out.println(KEY.length() + DOCS.length()); }\n}\n'
                    % (c.key(a, "stripe"), DECOYS[2]))
        run(["javac", "-d", jdir + "/out", jdir + "/com/acme/Billing.java"])
        c.write(a, open(jdir + "/out/com/acme/Billing.class", "rb").read())

        a = c.artifact("services/billing/target/billing.jar", False, "fat jar (jar tool) with a jar inside")
        sdk_key = c.key(a, "github-fine")
        with open(jdir + "/com/acme/Sdk.java", "w") as f:
            f.write('package com.acme;\npublic class Sdk {\n  public static String token() { return "%s"; }\n}\n'
                    % sdk_key)
        run(["javac", "-d", jdir + "/sdk", jdir + "/com/acme/Sdk.java"])
        run(["jar", "cf", jdir + "/acme-sdk.jar", "-C", jdir + "/sdk", "."])
        boot = jdir + "/boot"
        os.makedirs(boot + "/BOOT-INF/classes", exist_ok=True)
        os.makedirs(boot + "/BOOT-INF/lib", exist_ok=True)
        with open(boot + "/BOOT-INF/classes/application.properties", "w") as f:
            f.write("server.port=8080\nstripe.api-key=%s\n" % c.key(a, "stripe"))
        shutil.copy(jdir + "/acme-sdk.jar", boot + "/BOOT-INF/lib/acme-sdk.jar")
        run(["jar", "cf", jdir + "/billing.jar", "-C", boot, "."])
        c.write(a, open(jdir + "/billing.jar", "rb").read())

    # A Rust server: its strings stored end to end, the key's next string
    # an API's base URL.
    if shutil.which("rustc"):
        a = c.artifact("server/target/release/acme-server", False, "rustc -O server binary")
        src = exe("server.rs")
        with open(src, "w") as f:
            f.write('struct Api { key: &\'static str, base: &\'static str, model: &\'static str }\n'
                    'fn main() {\n    let args: Vec<String> = std::env::args().collect();\n'
                    '    let api = Api { key: "%s", base: "https://api.openai.com/v1", model: "gpt4omini" };\n'
                    '    if args.len() > 7 { println!("{} {} {}", api.key, api.base, api.model); }\n}\n'
                    % c.key(a, "openai"))
        run(["rustc", "-O", "-o", exe("acme-server"), src])
        c.write(a, open(exe("acme-server"), "rb").read())

    # 6: a UTF-8 SQLite database.
    a = c.artifact("data/dev.sqlite3", False, "SQLite database (UTF-8)")
    c.write(a, sqlite_db(exe("dev.sqlite3"), [("slack_bot", c.key(a, "slack")), ("openrouter", c.key(a, "openrouter")),
                                                ("example", DECOYS[1])]))

    # 7: an Android app: resources.arsc and binary XML (UTF-16 pools), a
    # .dex, a native library, a UTF-16 SQLite asset, an icon.
    a = c.artifact("mobile/app/build/outputs/apk/release/app-release.apk", True, "Android app")
    so = gcc('static const char *K = "%s";\nconst char *key(void) { return K; }\n' % c.key(a, "perplexity"),
             exe("libnative.so"), shared=True)
    apk = zip_bytes([
        ("AndroidManifest.xml", binary_xml(["manifest", "package", "com.acme.app", "android.permission.INTERNET",
                                            "YOUR_API_KEY_HERE"])),
        ("classes.dex", dex(["<init>", "Lcom/acme/Api;", c.key(a, "openai"), "https://api.openai.com/v1"])),
        ("resources.arsc", arsc(["Acme", "https://api.acme.com", c.key(a, "google"), c.key(a, "gitlab"),
                                 DECOYS[3], DECOYS[5]])),
        ("lib/arm64-v8a/libnative.so", so),
        ("assets/cache.db", sqlite_db(exe("cache.db"), [("replicate", c.key(a, "replicate"))], utf16=True)),
        ("res/mipmap-hdpi/ic_launcher.png", png(4000)),
        ("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\r\n"),
    ])
    c.write(a, apk)

    # 8: a web bundle's WebAssembly module.
    a = c.artifact("web/dist/assets/app_bg.wasm", True, "WebAssembly data segment in a web bundle")
    c.write(a, wasm(b"\0config\0" + c.key(a, "xai").encode() + b"\0https://api.x.ai/v1\0" + os.urandom(200)))

    # 9: an Electron app.
    a = c.artifact("release/linux-unpacked/resources/app.asar", True, "Electron asar")
    main = 'const { app } = require("electron");\nconst ANTHROPIC_API_KEY = "%s";\n' % c.key(a, "anthropic")
    c.write(a, asar([("package.json", b'{"name":"acme","main":"dist/main.js"}'), ("dist/main.js", main.encode()),
                     ("node_modules/left-pad/index.js", b"module.exports = (s, n) => s.padStart(n);\n"),
                     ("dist/icon.png", png(1000))]))

    # 10: a `docker save` image (OCI layout) whose later layer deletes a key.
    a = c.artifact("deploy/api-image.tar", False, "docker save image, key deleted by a later layer")
    env = "OPENAI_API_KEY=%s\nAWS_ACCESS_KEY_ID=%s\n" % (c.key(a, "openai"), c.key(a, "aws"))
    l1 = tar_bytes([("app/.env", env.encode()), ("app/main.py", b"print('hi')\n")])
    l2 = tar_bytes([("app/.wh..env", b""), ("app/VERSION", b"2\n")], gz=True)
    # A third layer holds a fat jar with a jar inside (image, layer, jar, jar).
    layers = [l1, l2]
    if have_java:
        sdk_key = c.key(a, "github-fine")
        with open(jdir + "/com/acme/Sdk.java", "w") as f:
            f.write('package com.acme;\npublic class Sdk {\n  public static String token() { return "%s"; }\n}\n'
                    % sdk_key)
        shutil.rmtree(jdir + "/sdk")
        run(["javac", "-d", jdir + "/sdk", jdir + "/com/acme/Sdk.java"])
        run(["jar", "cf", boot + "/BOOT-INF/lib/acme-sdk.jar", "-C", jdir + "/sdk", "."])
        run(["jar", "cf", jdir + "/app.jar", "-C", boot, "."])
        layers.append(tar_bytes([("app/app.jar", open(jdir + "/app.jar", "rb").read())], gz=True))
    config = json.dumps({"architecture": "amd64", "config": {"Env": ["PATH=/usr/bin", "GROQ_API_KEY=%s"
                                                                       % c.key(a, "groq")]}}).encode()
    digest = lambda b: "blobs/sha256/" + hashlib.sha256(b).hexdigest()
    manifest = json.dumps({"schemaVersion": 2, "config": {"digest": digest(config)[13:]},
                           "layers": [{"digest": digest(layer)[13:]} for layer in layers]}).encode()
    c.write(a, tar_bytes([("oci-layout", b'{"imageLayoutVersion":"1.0.0"}'),
                          ("index.json", b'{"schemaVersion":2,"manifests":[]}'),
                          (digest(manifest), manifest), (digest(config), config)]
                         + [(digest(layer), layer) for layer in layers] + [("manifest.json", b"[]")]))

    # 12: a Python wheel.
    a = c.artifact("dist/acme_client-1.0-py3-none-any.whl", False, "Python wheel")
    c.write(a, zip_bytes([("acme_client/__init__.py", b"from .config import *\n"),
                          ("acme_client/config.py", ('GROQ_API_KEY = "%s"\n' % c.key(a, "groq")).encode()),
                          ("acme_client-1.0.dist-info/METADATA", b"Metadata-Version: 2.1\nName: acme-client\n"),
                          ("acme_client-1.0.dist-info/RECORD", b"")]))

    # 13-14: a VS Code extension and a Chrome extension.
    a = c.artifact("extensions/acme-vscode.vsix", True, "VS Code extension")
    c.write(a, zip_bytes([("[Content_Types].xml", b"<Types/>"), ("extension.vsixmanifest", b"<PackageManifest/>"),
                          ("extension/package.json", b'{"name":"acme"}'),
                          ("extension/out/extension.js", ('const key = "%s";\n' % c.key(a, "openai")).encode())]))
    a = c.artifact("extensions/acme-chrome.crx", True, "Chrome extension (CRX3)")
    c.write(a, crx3(zip_bytes([("manifest.json", b'{"manifest_version":3,"name":"acme"}'),
                               ("background.js", ('const HF = "%s";\n' % c.key(a, "huggingface")).encode())])))

    # 15: a PDF: a deflated content stream drawing a key (Tj), another drawn
    # in kerned pieces as typesetters write it (TJ), and document info.
    a = c.artifact("docs/runbook.pdf", False, "PDF (FlateDecode content stream)")
    k1, k2, k3 = c.key(a, "gitlab"), c.key(a, "sendgrid"), c.key(a, "slack")
    pieces = [k2[i:i + 7] for i in range(0, len(k2), 7)]
    tj = " ".join("(%s) %d" % (p, -random.randint(5, 40)) for p in pieces[:-1]) + " (%s)" % pieces[-1]
    content = ("BT /F1 11 Tf 72 720 Td (Deploy token: %s) Tj ET\nBT /F1 11 Tf 72 700 Td [(SendGrid: ) -250 %s] TJ ET\n"
               % (k1, tj)).encode()
    packed = zlib.compress(content)
    c.write(a, pdf([("<< /Type /Catalog /Pages 2 0 R >>", None), ("<< /Type /Pages /Kids [3 0 R] /Count 1 >>", None),
                    ("<< /Type /Page /Parent 2 0 R /Contents 4 0 R >>", None),
                    ("<< /Length %d /Filter /FlateDecode >>" % len(packed), packed),
                    ("<< /Title (Runbook) /Keywords (slack %s) >>" % k3, None)]))

    # 16: a Word document with a key split over runs (a spelling mark and
    # an edit session between them).
    a = c.artifact("docs/onboarding.docx", False, "Word document, key split across runs")
    k = c.key(a, "anthropic")
    body = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document xmlns:w="http://schemas.openxmlformats'
            '.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>Welcome</w:t></w:r></w:p><w:p><w:r><w:t xml:space='
            '"preserve">API key: %s</w:t></w:r><w:proofErr w:type="spellStart"/><w:r w:rsidR="00A1B2C3"><w:rPr><w:b/>'
            '</w:rPr><w:t>%s</w:t></w:r><w:proofErr w:type="spellEnd"/><w:r><w:t>%s</w:t></w:r></w:p></w:body>'
            '</w:document>' % (k[:20], k[20:61], k[61:]))
    c.write(a, zip_bytes([("[Content_Types].xml", b"<Types/>"), ("word/document.xml", body.encode()),
                          ("docProps/app.xml", b"<Properties/>")]))

    # 17: an iOS app: a binary plist and the program.
    a = c.artifact("ios/build/Acme.ipa", True, "iOS app")
    plist = bplist([("CFBundleIdentifier", "com.acme.app"), ("GoogleAPIKey", c.key(a, "google")),
                    ("PlaceholderKey", DECOYS[5])])
    prog = gcc(c_program(c.key(a, "openai"), c.key(a, "github")), exe("ios"))
    c.write(a, zip_bytes([("Payload/Acme.app/Info.plist", plist), ("Payload/Acme.app/Acme", prog)]))

    # 18: a self-extracting installer: a program, then a zip.
    a = c.artifact("release/acme-setup.exe", True, "self-extracting installer (program + zip)")
    stub = gcc(c_program("stub", "stub"), exe("stub"))
    c.write(a, stub + zip_bytes([("config/app.env", ("SLACK_BOT_TOKEN=%s\n" % c.key(a, "slack")).encode())]))

    # 19: a precompressed web bundle (gzip_static).
    a = c.artifact("web/dist/assets/index-4f2a.js.gz", True, "gzip'd JS bundle")
    c.write(a, gzip.compress(('!function(){var c={apiKey:"%s"};window.cfg=c}();' % c.key(a, "google")).encode()))

    # 20: a firmware update tarball (xz) with a device config.
    a = c.artifact("firmware/update-2.1.tar.xz", False, "xz tarball")
    c.write(a, lzma.compress(tar_bytes([("etc/device.conf", ("cloud_token = %s\n" % c.key(a, "github")).encode()),
                                        ("bin/agent", os.urandom(3000))])))

    # 21: a shared library shipped to servers.
    a = c.artifact("vendor/lib/libacme.so", False, "gcc shared library")
    c.write(a, gcc('static const char *K = "%s";\nconst char *key(void) { return K; }\n' % c.key(a, "replicate"),
                   exe("libacme.so"), shared=True))

    # Decoys: placeholders only, random bytes, images, real binaries and
    # packages of this machine.
    c.write("decoys/placeholders.bin", b"\0".join(d.encode() for d in DECOYS) + os.urandom(100))
    c.write("decoys/blob.bin", os.urandom(1 << 20))
    c.write("decoys/noise.dat", bytes(random.Random(7).getrandbits(8) for _ in range(300000)))
    c.write("decoys/logo.png", png(20000))
    c.write("decoys/photo.jpg", b"\xff\xd8\xff\xe0\0\x10JFIF\0" + os.urandom(50000))
    real = ["/usr/bin/git", "/usr/bin/python3", "/usr/bin/ssh", "/usr/bin/gpg", "/usr/bin/perl"]
    real += sorted(glob.glob("/usr/lib/x86_64-linux-gnu/libcrypto.so*"))[:1]
    real += sorted(glob.glob("/usr/lib/x86_64-linux-gnu/libcurl*.so*"))[:1]
    # Ones whose strings hold key prefixes inside words: Unicode character
    # names (AKIA), LLVM opcode names (r8_), Polish UI text in a jar (cio).
    real += sorted(glob.glob("/usr/lib/x86_64-linux-gnu/libunistring.so*"))[:1]
    real += ["/usr/bin/llvm-exegesis"]
    real += sorted(glob.glob("/usr/lib/google-cloud-sdk/**/*servlet.jsp.jstl-2*.jar", recursive=True))[:1]
    real += sorted(glob.glob("/usr/share/java/*.jar"))[:3]
    real += sorted(glob.glob(os.path.join(sysconfig.get_paths()["stdlib"], "ensurepip", "_bundled", "*.whl")))[:1]
    real += sorted(glob.glob(os.path.join(sysconfig.get_paths()["stdlib"], "json", "__pycache__", "*.pyc")))[:3]
    for p in map(os.path.realpath, real):
        if os.path.isfile(p) and os.path.getsize(p) < 25 << 20:
            c.write("decoys/real/" + os.path.basename(p), open(p, "rb").read())


def score(c, doc):
    """Findings of planted keys (by hash, or by an AWS pair's companion),
    false findings, the planted keys found in their own artifact, and the
    findings whose client_side is right."""
    sha = lambda k: hashlib.sha256(k.encode()).hexdigest()
    planted = {sha(k): (art, prov, k, client) for art, prov, k, client in c.planted}
    of = lambda f: planted.get(f["secret_sha256"]) or planted.get(sha((f.get("companion") or {}).get("value", "")))
    true = [f for f in doc["findings"] if of(f)]
    false = [f for f in doc["findings"] if not of(f)]
    found = {of(f)[2] for f in true if f["path"] == of(f)[0] or f["path"].startswith(of(f)[0] + "!/")}
    wrong = [(f, of(f)[3]) for f in true if f["client_side"] != of(f)[3]]
    return true, false, found, wrong


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(repo, "target"))
    ap.add_argument("--leakhound", default=os.path.join(target, "release", "leakhound"))
    ap.add_argument("--keep", help="build the corpus in this directory and keep it")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="lh-artifacts-")
    root = args.keep or os.path.join(tmp, "corpus")
    if args.keep and os.path.exists(root):
        shutil.rmtree(root)
    os.makedirs(root)
    c = Corpus(root)
    build(c, tmp)
    with open(os.path.join(tmp, "planted.json"), "w") as f:
        json.dump(c.planted, f)
    out = subprocess.run([args.leakhound, "scan", "--format", "json", "--show-secrets", "--no-ignore", root],
                         capture_output=True)
    if out.returncode not in (0, 1):
        sys.exit("leakhound failed: %s" % out.stderr.decode())
    doc = json.loads(out.stdout)
    true, false, found, wrong = score(c, doc)
    print("%-56s %-6s %s" % ("artifact", "client", "keys planted (MISSED: not found in it)"))
    for art, (client, what) in c.artifacts.items():
        keys = " ".join(p + ("" if k in found else " MISSED") for a, p, k, _ in c.planted if a == art)
        print("%-56s %-6s %s" % (art, "yes" if client else "no", keys))
    for f in false:
        print("false positive: %s %s %s" % (f["path"], f["rule_id"], f["secret"][:24]))
    for f, want in wrong:
        print("client_side %s, want %s: %s (%s)" % (f["client_side"], want, f["path"], f["exposure"]))
    n, total = len(c.planted), len(doc["findings"])
    print("\n%d artifacts, %d planted keys, %d findings (%d of planted keys)" % (len(c.artifacts), n, total, len(true)))
    print("recall    %.3f  (%d/%d; target >= 0.95)" % (len(found) / n, len(found), n))
    print("precision %.3f  (%d/%d; target >= 0.99)" % (len(true) / max(total, 1), len(true), total))
    right = len(true) - len(wrong)
    print("client    %.3f  (%d/%d right; target >= 0.97)" % (right / max(len(true), 1), right, len(true)))
    if doc.get("notes"):
        print("notes: %s" % doc["notes"])
    if not args.keep:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
