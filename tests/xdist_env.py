"""Parallel runs (pytest-xdist, ``-n 2``): what each worker process keeps to itself.

pytest-django gives each worker its own test database (``test_<name>_gw0``, ``_gw1``...).
Everything else the suite shares through the environment is made per worker here, in the
worker's environment *before* it loads Django's settings: the Redis databases of the broker
and the cache (``cache.clear()`` between tests empties a whole database), the Celery queues,
the row-level security test roles (roles belong to the server, not to a database) and
``VAR_DIR`` (the file-system broker and mail folders of the embedded default). Servers the
tests start already listen on free ports, and their files go to ``tmp_path``.

Worker ``gwK`` moves every Redis database number by ``K`` times the span the two URLs use
(broker 0 and cache 1: worker 1 gets 2 and 3); worker 0 keeps the configured names; a server
with more than Redis' default 16 databases says so in ``REDIS_DATABASES``.

The order of the tests (the same in every worker, as xdist requires): tests marked ``slow``
first within pytest-django's groups, so the last tests handed out are short ones. Under
``--dist loadgroup`` (CI), the tests of each module in ``GROUPED_MODULES`` go to one worker
together (their module-scoped fixture is costly), the others one by one as workers free up.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

import pytest

# Redis' default ``databases``; a server configured with more (``databases 64``) says so here.
REDIS_DATABASES = int(os.environ.get("REDIS_DATABASES", "16"))
# Modules whose module-scoped fixture costs seconds to minutes (the one Prowler run, the PDF
# layout renders, the OpenAPI schema): set up once, on one worker, not once per worker that
# happens to get one of their tests. (xdist's own ``xdist_group`` marker renames node ids in a
# way pytest 9 ignores, hence this list, read by the scheduler on the controller.)
GROUPED_MODULES = frozenset(
    {
        "tests/monitoring/test_prowler_aws.py",
        "tests/reports/test_pdf_layout.py",
        "tests/api/test_schema.py",
    }
)
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


def _database_group(item: pytest.Item) -> int:
    """pytest-django's order: database tests (0), transactional ones (1), the rest (2)."""
    marker = item.get_closest_marker("django_db")
    fixtures = set(getattr(item, "fixturenames", ()))
    if (marker and (marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences"))) or (
        fixtures & {"transactional_db", "live_server"}
    ):
        return 1
    return 0 if marker or "db" in fixtures else 2


@pytest.hookimpl(trylast=True)  # after pytest-django has put transactional tests after the rest
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked ``slow`` (a real worker, a browser sweep, ``make run``: many seconds each)
    start first in their database group, and those with no database first of all: under xdist
    a long test started near the end keeps one worker busy while the others have finished."""

    def key(item: pytest.Item) -> tuple[int, int]:
        slow = item.get_closest_marker("slow") is not None
        group = _database_group(item)
        return (-1 if slow and group == 2 else group, 0 if slow else 1)

    items.sort(key=key)  # stable: pytest-django's and the modules' order otherwise


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):  # noqa: ANN001, ANN201
    """``--dist loadgroup``: xdist's scheduler, grouping the tests of ``GROUPED_MODULES``."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadGroupScheduling

    class ModuleGroups(LoadGroupScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return module if module in GROUPED_MODULES else super()._split_scope(nodeid)

    return ModuleGroups(config, log)
