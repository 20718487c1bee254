"""API throughput: a list of 50 controls (3 criteria each) under gunicorn (2 workers), by wrk.

Needs PostgreSQL (gunicorn's workers connect to the benchmark database) and Debian's `wrk`;
the section is skipped with a note when either is missing.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from django.db import connection

from controls.models import Control, ControlCriterion
from criteria.models import Criterion
from soc2app.bench.common import Results
from tenants.apikeys import api_key_create
from tenants.models import Membership, Organization, Role

ROOT = Path(__file__).resolve().parents[2]


def _cpu_seconds(names: tuple[str, ...], pids: set[int] | None = None) -> float:
    """CPU time (user + system) so far of the running processes with one of ``names`` (or
    with one of ``pids``), from /proc; 0 where there is no /proc."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue  # ended meanwhile
        name = text[text.index("(") + 1 : text.rindex(")")]
        fields = text[text.rindex(")") + 2 :].split()
        if name in names or (pids is not None and int(stat.parent.name) in pids):
            total += int(fields[11]) + int(fields[12])  # utime, stime (clock ticks)
    return total / os.sysconf("SC_CLK_TCK")


def _workers(server: subprocess.Popen) -> set[int]:
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children")
    try:
        return {int(pid) for pid in children.read_text().split()}
    except OSError:
        return set()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _seed() -> tuple[str, str]:
    from django.contrib.auth import get_user_model

    org = Organization.objects.create(name="Bench API", slug="bench-api")
    user = get_user_model().objects.create_user(
        username="api@bench.invalid", email="api@bench.invalid"
    )
    admin = Membership(organization=org, user=user, role=Role.ADMIN)
    admin.save()
    Control.objects.bulk_create(
        [
            Control(
                organization=org,
                code=f"API-{i:03d}",
                title=f"Control {i}",
                control_type="technical",
                frequency="monthly",
                status="implemented",
                owner=admin,
            )
            for i in range(50)
        ]
    )
    # Three criteria each, as adopted library controls typically have.
    criteria = list(Criterion.objects.order_by("position").values_list("pk", flat=True)[:30])
    ControlCriterion.objects.bulk_create(
        [
            ControlCriterion(organization=org, control=control, criterion_id=criteria[(i + k) % 30])
            for i, control in enumerate(Control.objects.for_org(org).order_by("code"))
            for k in range(3)
        ]
    )
    _, key = api_key_create(membership=admin, name="bench", role="read_only")
    return org.slug, key


def run(results: Results, *, scale: float = 1.0) -> None:
    wrk = shutil.which("wrk")
    if connection.vendor != "postgresql" or wrk is None:
        results.add("api", "list 50 controls under gunicorn", "skipped", "needs PostgreSQL and wrk")
        return
    slug, key = _seed()
    settings = connection.settings_dict
    url = (
        f"postgres://{settings['USER']}:{settings['PASSWORD'] or ''}@{settings['HOST'] or '127.0.0.1'}"
        f":{settings['PORT'] or 5432}/{settings['NAME']}"
    )
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "API_KEY_RATE": "1000000/minute",
        "DB_CONN_MAX_AGE": "60",
        "ALLOWED_HOSTS": "127.0.0.1",
        "DEBUG": "false",
    }
    server = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "gunicorn",
            "soc2app.wsgi:application",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    path = f"http://127.0.0.1:{port}/api/v1/orgs/{slug}/controls/?page_size=50"
    try:
        request = urllib.request.Request(path, headers={"Authorization": f"Bearer {key}"})  # noqa: S310
        for _ in range(60):
            try:
                with urllib.request.urlopen(request, timeout=2) as response:  # noqa: S310
                    assert response.status == 200
                break
            except OSError:
                time.sleep(0.5)
        seconds = max(3, int(10 * min(scale, 1)))
        workers = _workers(server)
        before = (_cpu_seconds((), workers), _cpu_seconds(("postgres",)))
        out = subprocess.run(  # noqa: S603
            [wrk, "-t2", "-c16", f"-d{seconds}s", "-H", f"Authorization: Bearer {key}", path],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        after = (_cpu_seconds((), workers), _cpu_seconds(("postgres",)))
    finally:
        server.terminate()
        server.wait(timeout=10)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    done = re.search(r"(\d+) requests in", out)
    latency = re.search(r"Latency\s+([\d.]+\w+)", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    results.add(
        "api",
        "GET 50 controls, gunicorn 2 workers, wrk 16 connections",
        f"{float(rate.group(1)):.0f} req/s" if rate else "?",
        f"mean latency {latency.group(1) if latency else '?'}; target >= 300 req/s"
        + (f"; {errors.group(1)} non-2xx" if errors else ""),
    )
    requests = int(done.group(1)) if done else 0
    if requests and after[0] > before[0]:
        # CPU per request: steadier than requests/second on a shared machine.
        app, database = (after[i] - before[i] for i in (0, 1))
        results.add(
            "api",
            "  CPU per request: gunicorn workers",
            f"{app * 1000 / requests:.2f} ms",
            f"PostgreSQL {database * 1000 / requests:.2f} ms; 2 cores allow at most "
            f"{2000 / ((app + database) * 1000 / requests):.0f} req/s for both",
        )
