"""A real Celery worker process for tests: the test database, the configured Redis broker and
a queue of its own, so no other worker can take the messages a test sends."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection


def database_url() -> str:
    """The URL of the database this test runs on (pytest-django's ``test_<name>``)."""
    db = connection.settings_dict
    credentials = quote(db["USER"] or "")
    if db.get("PASSWORD"):
        credentials += ":" + quote(db["PASSWORD"])
    host = db.get("HOST") or "127.0.0.1"
    return f"postgres://{credentials}@{host}:{db.get('PORT') or 5432}/{db['NAME']}"


@contextmanager
def celery_worker(tmp_path: Path, prefix: str, **extra_env: str) -> Iterator[str]:
    """Run a solo-pool worker on a fresh queue while the block runs; yields the queue name.
    Its log is ``tmp_path / "worker.log"``."""
    queue = f"{prefix}-{uuid.uuid4().hex[:12]}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "VAR_DIR": str(tmp_path / "var"),
        "DJANGO_SETTINGS_MODULE": "soc2app.settings",
        **extra_env,
    }
    command = [
        sys.executable, "-m", "celery", "-A", "soc2app", "worker", "--pool=solo",
        "--queues", queue, "--without-gossip", "--without-mingle", "--without-heartbeat",
        "--loglevel", "INFO", "--hostname", f"{queue}@%h",
    ]  # fmt: skip
    with (tmp_path / "worker.log").open("w") as log:
        process = subprocess.Popen(  # noqa: S603
            command, cwd=Path(settings.BASE_DIR), env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            yield queue
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
