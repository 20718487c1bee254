#!/usr/bin/env python3
"""A stand-in for a Prowler that misbehaves, run as a real process (PROWLER_BIN). What it does
is the name it is called by (the tests link it under that name):

hang: prints a line and sleeps; garbage: prints bytes and a traceback, exits 1; leak: prints
its environment's AWS secret and argv, exits 2; no-output: exits 0 writing nothing; truncated,
not-json: exits 3 writing such a JSON-OCSF file into --output-directory.
"""

import os
import sys
import time
from pathlib import Path

mode = Path(sys.argv[0]).name
args = sys.argv[1:]
out = Path(args[args.index("--output-directory") + 1]) if "--output-directory" in args else None


def write(text: str) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "prowler.ocsf.json").write_text(text)


if mode == "hang":
    print("-> Scanning ec2 service", flush=True)
    time.sleep(600)
elif mode == "garbage":
    sys.stdout.buffer.write(b"\x00\xff\xfe garbage \x1b[31m\n")
    print("Traceback (most recent call last):\nRuntimeError: boom", flush=True)
    sys.exit(1)
elif mode == "leak":
    print("env:", os.environ.get("AWS_SECRET_ACCESS_KEY"), os.environ.get("FIELD_ENCRYPTION_KEYS"),
          os.environ.get("DATABASE_URL"), "argv:", " ".join(args), flush=True)  # fmt: skip
    sys.exit(2)
elif mode == "no-output":
    sys.exit(0)
elif mode == "truncated":
    write('[{"metadata": {"event_code": "s3_bucket_default_encryption"}, "status_code": "PA')
    sys.exit(3)
elif mode == "not-json":
    write("<html>Internal Server Error</html>")
    sys.exit(3)
