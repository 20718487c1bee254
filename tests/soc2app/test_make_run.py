"""`make run`'s script starts the app on the embedded default and stops cleanly on Ctrl-C:
the server and the Celery worker gone, no shell error, nothing a newcomer cannot act on."""

from __future__ import annotations

import os
import pty
import select
import shutil
import signal
import socket
import time
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
BASH = shutil.which("bash") or "/bin/bash"

pytestmark = [
    pytest.mark.skipif(
        settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3",
        reason="make run is the embedded default's command; run once, in the SQLite stage",
    ),
    pytest.mark.slow,  # migrates, seeds and starts the server and a worker
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _read_until(fd: int, needle: bytes, timeout: float) -> bytes:
    out = b""
    end = time.monotonic() + timeout
    while time.monotonic() < end and needle not in out:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                out += os.read(fd, 65536)
            except OSError:
                break
    return out


def _left_in_session(session: int) -> list[str]:
    """Processes still alive in the terminal session the run started (zombies are gone)."""
    left = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # pid (comm) state ppid pgrp session ...: comm may hold spaces, split after it.
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if int(fields[3]) == session and fields[0] != "Z":
            left.append(cmdline)
    return left


def test_make_run_starts_and_stops_cleanly_on_ctrl_c(tmp_path):
    port = _free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_", "CELERY_", "DJANGO_ALLOW_ASYNC"))
    }
    env.update(
        PORT=str(port),
        DATABASE_URL=f"sqlite:///{tmp_path / 'run.sqlite3'}",
        CELERY_BROKER_URL=f"filesystem://{tmp_path}",
        NO_COLOR="1",
    )
    script = ROOT / "scripts" / "dev.sh"
    pid, fd = pty.fork()
    if pid == 0:  # the child: what a terminal running `make run` would do
        os.chdir(ROOT)
        os.execve(BASH, [BASH, str(script), "run"], env)  # noqa: S606
    try:
        started = _read_until(fd, b"Quit the server with", 240)
        assert b"Quit the server with" in started, started.decode(errors="replace")[-2000:]
        assert f"http://127.0.0.1:{port}/".encode() in started
        assert b"manager@acme.example.com" in started
        os.write(fd, b"\x03")  # Ctrl-C at the terminal: SIGINT to the foreground group
        stopped = _read_until(fd, b"Stopped.", 60)
        _, status = os.waitpid(pid, 0)
    finally:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    text_out = (started + stopped).decode(errors="replace")
    assert "Stopped." in text_out
    assert os.waitstatus_to_exitcode(status) == 0, text_out[-2000:]
    for noise in ("unbound variable", "Error 1", "Traceback", "WARNING: This is a development"):
        assert noise not in text_out
    # pty.fork made the child a session leader: the server and the worker were in its session.
    deadline = time.monotonic() + 15
    while _left_in_session(pid) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _left_in_session(pid) == []
