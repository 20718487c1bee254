"""The Celery settings that make a killed worker's task come back (see test_worker_kill.py):
read from the environment, and refused in production when they would duplicate running tasks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Settings read by a subprocess from the environment it is given: the test run's database and
# broker change nothing here (``backend_free``: CI runs it once, in the PostgreSQL stage).
pytestmark = pytest.mark.backend_free
PROD = {
    "APP_ENV": "production",
    "SECRET_KEY": "k" * 20 + "-production-secret-for-the-celery-check-0123456789",
    "ALLOWED_HOSTS": "soc2.example.com",
    "DEBUG": "false",
    "ACTIVITY_LOG_KEYS": "aaaaaaaa-activity-log-key-for-the-celery-check-0123456789",
    # A Fernet key (32 bytes, url-safe base64): production requires one.
    "FIELD_ENCRYPTION_KEYS": "MDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDA=",
}
PRINT = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    "from reports.tasks import generate_report; from evidence.tasks import check_freshness; "
    "print(json.dumps({'options': s.CELERY_BROKER_TRANSPORT_OPTIONS, "
    "'late': [t.acks_late and t.reject_on_worker_lost "
    "for t in (generate_report, check_freshness)]}))"
)


def _settings(**env: str) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if k not in PROD}
    full_env.update(DJANGO_SETTINGS_MODULE="soc2app.settings", **env)
    return subprocess.run(  # noqa: S603
        [sys.executable, "-c", PRINT],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_redis_visibility_timeout_comes_from_the_environment():
    result = _settings(CELERY_BROKER_URL="redis://127.0.0.1:6379/9", CELERY_VISIBILITY_TIMEOUT="8")
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert printed["options"]["visibility_timeout"] == 8
    # A short timeout is only useful if workers look for lost messages as often.
    assert printed["options"]["unacked_restore_interval"] <= 2
    assert printed["late"] == [True, True]


def test_production_refuses_a_visibility_timeout_shorter_than_a_task():
    result = _settings(
        **PROD,
        CELERY_BROKER_URL="redis://127.0.0.1:6379/9",
        CELERY_VISIBILITY_TIMEOUT="600",
        CELERY_TASK_TIME_LIMIT="1800",
    )
    assert result.returncode != 0
    assert "CELERY_VISIBILITY_TIMEOUT must be longer than CELERY_TASK_TIME_LIMIT" in result.stderr
    ok = _settings(**PROD, CELERY_BROKER_URL="redis://127.0.0.1:6379/9")
    assert ok.returncode == 0, ok.stderr
