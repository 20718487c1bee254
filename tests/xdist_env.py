"""Parallel runs (pytest-xdist, ``-n 2``): what each worker process keeps to itself.

pytest-django gives each worker its own test database (``test_<name>_gw0``, ``_gw1``...).
Everything else the suite shares through the environment is made per worker here, in the
worker's environment *before* it loads Django's settings: the Redis databases of the broker
and the cache (``cache.clear()`` between tests empties a whole database), the Celery queues,
the row-level security test roles (roles belong to the server, not to a database) and
``VAR_DIR`` (the file-system broker and mail folders of the embedded default). Servers the
tests start already listen on free ports, and their files go to ``tmp_path``.

Worker ``gwK`` moves every Redis database number by ``K`` times the span the two URLs use
(broker 0 and cache 1: worker 1 gets 2 and 3); worker 0 keeps the configured names.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

import pytest

REDIS_DATABASES = 16  # Redis' default ``databases``
_REDIS_DB = re.compile(r"^(rediss?://[^/]*)/(\d+)(.*)$")
ROOT = Path(__file__).resolve().parent.parent


def _redis_db(url: str) -> int | None:
    match = _REDIS_DB.match(url)
    return int(match.group(2)) if match else (0 if url.startswith("redis") else None)


def worker_env(worker: str, environ: Mapping[str, str]) -> dict[str, str]:
    """The variables worker ``worker`` (``gw0``, ``gw1``...) sets on top of ``environ``."""
    index = int(worker.removeprefix("gw"))
    urls = {
        name: environ[name]
        for name in ("CELERY_BROKER_URL", "REDIS_URL")
        if _redis_db(environ.get(name, "")) is not None
    }
    env: dict[str, str] = {}
    numbers = [_redis_db(url) for url in urls.values()]
    if numbers:
        low, high = min(numbers), max(numbers)
        shift = index * (high - low + 1)
        if high + shift >= REDIS_DATABASES:
            raise pytest.UsageError(
                f"xdist worker {worker} would need Redis database {high + shift}: use fewer "
                f"workers or lower database numbers in {', '.join(urls)}"
            )
        for name, url in urls.items():
            match = _REDIS_DB.match(url)
            base, rest = (match.group(1), match.group(3)) if match else (url.rstrip("/"), "")
            env[name] = f"{base}/{_redis_db(url) + shift}{rest}"
    env["CELERY_TASK_DEFAULT_QUEUE"] = (
        f"{environ.get('CELERY_TASK_DEFAULT_QUEUE', 'celery')}-{worker}"
    )
    env["CELERY_REPORTS_QUEUE"] = f"{environ.get('CELERY_REPORTS_QUEUE', 'reports')}-{worker}"
    app_role = environ.get("RLS_APP_ROLE_NAME", "soc2_app_test")
    env["RLS_APP_ROLE_NAME"] = f"{app_role}_{worker}"
    if "RLS_SYSTEM_ROLE_NAME" in environ:
        env["RLS_SYSTEM_ROLE_NAME"] = f"{environ['RLS_SYSTEM_ROLE_NAME']}_{worker}"
    env["VAR_DIR"] = str(Path(environ.get("VAR_DIR") or ROOT / "var") / f"xdist-{worker}")
    return env


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:  # noqa: ANN001
    """On the controller, before the worker runs pytest: set its environment (the settings it
    is about to load read it)."""
    env = worker_env(node.workerinput["workerid"], os.environ)
    channel = node.gateway.remote_exec(f"import os\nos.environ.update({env!r})")
    channel.waitclose()
