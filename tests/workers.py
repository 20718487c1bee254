"""A real Celery worker process for tests: the test database, the configured Redis broker and
a queue of its own, so no other worker can take the messages a test sends."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote

from django.conf import settings
from django.db import connection


def database_url(*, system: bool = False) -> str:
    """The URL of the database this test runs on (pytest-django's ``test_<name>``), as the
    application's role under ``tests.rls_app_role`` (the worker's tasks meet row-level
    security, as in production); ``system``: as the test system role (``tests.system_role``),
    the worker's ``DATABASE_SYSTEM_URL``."""
    from tests import rls_app_role, system_role

    db = connection.settings_dict
    user, password = db["USER"], db.get("PASSWORD")
    if system:
        user, password = system_role.ROLE, system_role.PASSWORD
    elif rls_app_role.active():
        user, password = rls_app_role.ROLE, rls_app_role.PASSWORD
    credentials = quote(user or "")
    if password:
        credentials += ":" + quote(password)
    host = db.get("HOST") or "127.0.0.1"
    return f"postgres://{credentials}@{host}:{db.get('PORT') or 5432}/{db['NAME']}"


T = TypeVar("T")


def wait_for(condition: Callable[[], T], seconds: float, what: str) -> T:
    """Poll ``condition`` until it returns something true (returned), or fail naming ``what``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


class WorkerHandle(str):
    """The queue name (a ``str``, what most tests need) and the worker's process."""

    process: subprocess.Popen

    def __new__(cls, queue: str, process: subprocess.Popen) -> WorkerHandle:
        handle = super().__new__(cls, queue)
        handle.process = process
        return handle

    def kill(self) -> None:
        """SIGKILL the worker and every process it started (a machine dying, not a stop)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=20)


@contextmanager
def celery_worker(
    tmp_path: Path,
    prefix: str,
    *,
    queue: str | None = None,
    log_name: str = "worker.log",
    pool: str = "solo",
    **extra_env: str,
) -> Iterator[WorkerHandle]:
    """Run a solo-pool (or ``pool``, one process) worker on a fresh queue (or ``queue``) while
    the block runs; yields its handle, a ``str`` of the queue name. Its log is
    ``tmp_path / log_name``. Reports are routed to that queue too unless ``extra_env`` names a
    ``CELERY_REPORTS_QUEUE`` (a report worker apart)."""
    queue = queue or f"{prefix}-{uuid.uuid4().hex[:12]}"
    env = {
        **os.environ,
        "CELERY_REPORTS_QUEUE": queue,
        "DATABASE_URL": database_url(),
        # System jobs on a second connection as a BYPASSRLS role, as in production.
        **(
            {"DATABASE_SYSTEM_URL": database_url(system=True)}
            if connection.vendor == "postgresql"
            else {}
        ),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "VAR_DIR": str(tmp_path / "var"),
        "DJANGO_SETTINGS_MODULE": "soc2app.settings",
        **extra_env,
    }
    command = [
        sys.executable, "-m", "celery", "-A", "soc2app", "worker", f"--pool={pool}", "-c", "1",
        "--queues", queue, "--without-gossip", "--without-mingle", "--without-heartbeat",
        "--loglevel", "INFO", "--hostname", f"{queue}@%h",
    ]  # fmt: skip
    with (tmp_path / log_name).open("w") as log:
        process = subprocess.Popen(  # noqa: S603
            command,
            cwd=Path(settings.BASE_DIR),
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: ``kill_worker`` takes children too
        )
        try:
            yield WorkerHandle(queue, process)
        finally:
            stop_process(process)


def stop_process(process: subprocess.Popen) -> None:
    """Stop a process the test started: politely, then for good after 20 seconds."""
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
