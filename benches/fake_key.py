"""Writes a fake, well-formed OpenAI project key as a .env line to the file
named on the command line: random each run, shaped to pass leakhound's
placeholder filters (no runs or sequences of three), for CI's and the
benches' end-to-end checks (a scan of it must exit 1).

    python3 benches/fake_key.py PATH
"""

import secrets
import string
import sys

ALPHABET = string.ascii_letters + string.digits + "-_"


def part(n):
    while True:
        s = "".join(secrets.choice(ALPHABET) for _ in range(n))
        b = s.encode()
        if not any(b[i + 1] - b[i] in (-1, 0, 1) and b[i + 2] - b[i + 1] == b[i + 1] - b[i] for i in range(n - 2)):
            return s


if __name__ == "__main__":
    with open(sys.argv[1], "w") as f:
        f.write(f"OPENAI_API_KEY=sk-proj-{part(74)}T3BlbkFJ{part(74)}\n")
