"""Which process owns a render, and its temporary folders.

A render killed outright (SIGKILL, an out-of-memory kill, a lost machine) cannot remove its
folder, nor release its report's claim. Both carry the owner's tag ``<host>:<pid>``: a folder
is ``report-<host>:<pid>-<random>`` under ``REPORT_TMP_DIR`` (``sweep_folders``, run by the
leftovers sweep in ``reports.sweeps``, removes those whose owner is gone), and a claim records
it in ``Report.claimed_by`` (a redelivered task takes over a claim whose process is gone).
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import time
from pathlib import Path

from django.conf import settings

PREFIX = "report-"


def process_tag() -> str:
    """This process, as ``<host>:<pid>``."""
    return f"{socket.gethostname()}:{os.getpid()}"


def process_gone(tag: str) -> bool | None:
    """Whether the process ``tag`` is gone: None when that cannot be known here (another
    machine's process, an empty or malformed tag)."""
    host, _, pid = tag.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return None
    try:
        os.kill(int(pid), 0)  # signal 0: only asks whether it exists
    except ProcessLookupError:
        return True
    except PermissionError:  # another user's process: alive
        return False
    return False


def scratch_folder() -> tempfile.TemporaryDirectory:
    """A temporary folder for one render, removed when the ``with`` block ends."""
    root = Path(settings.REPORT_TMP_DIR)
    root.mkdir(parents=True, exist_ok=True)
    return tempfile.TemporaryDirectory(prefix=f"{PREFIX}{process_tag()}-", dir=root)


def _owner_gone(name: str) -> bool:
    # Another machine's folder (a shared volume) is judged by its age alone: no render runs
    # longer than its time limit, which the sweep's threshold exceeds.
    tag = name[len(PREFIX) :].rpartition("-")[0]
    return process_gone(tag) is not False


def sweep_folders(*, older_than: float) -> list[str]:
    """Remove render folders last changed more than ``older_than`` seconds ago whose owner
    process is gone; returns their names."""
    root = Path(settings.REPORT_TMP_DIR)
    if not root.is_dir():
        return []
    cutoff = time.time() - older_than
    removed = []
    for folder in root.iterdir():
        if not folder.name.startswith(PREFIX) or not folder.is_dir():
            continue
        try:
            if folder.stat().st_mtime > cutoff or not _owner_gone(folder.name):
                continue
        except FileNotFoundError:  # its owner just finished
            continue
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder.name)
    return removed
