"""The image builds: the Dockerfile's collectstatic step runs with production settings (the
Dockerfile's ``ENV``), so it must give every setting production requires a build-only value."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _build_env() -> dict[str, str]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    env: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("ENV "):
            env.update(part.split("=", 1) for part in shlex.split(line[4:]))
        if line.startswith("RUN ") and "collectstatic" in line:
            words = shlex.split(line[4:])
            env.update(word.split("=", 1) for word in words if re.match(r"[A-Z_]+=", word))
    return env


def test_collectstatic_of_the_image_build_runs_with_production_settings(tmp_path):
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), **_build_env()}
    assert env["APP_ENV"] == "production"
    done = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "--dry-run"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
