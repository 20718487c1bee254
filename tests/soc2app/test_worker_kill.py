"""A worker killed in the middle of a report (SIGKILL: the machine dies, nothing cleans up)
leaves no half state, and the task completes once a worker is back.

Real pieces: Redis broker, PostgreSQL, two worker processes one after the other. Tasks are
acknowledged late, so the killed worker's message stays unacknowledged in Redis and comes
back after the visibility timeout (short here); the new worker may claim the report because
its "running" mark is older than ``REPORT_STALE_AFTER`` (its time limit in production).
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pytest
from django.conf import settings

from reports.bench import seed
from reports.models import Report, ReportStatus
from reports.tasks import generate_report
from tests.workers import celery_worker

FAST_RECOVERY = {"CELERY_VISIBILITY_TIMEOUT": "4", "REPORT_STALE_AFTER": "3"}


def _report(pk: int) -> Report:
    return Report.objects.dangerously_unscoped(reason="test").get(pk=pk)


def _stored_files(media: Path) -> list[Path]:
    return [p for p in (media / "reports").rglob("*") if p.is_file()]


def _wait_for(pk: int, status: str, seconds: float) -> Report:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        report = _report(pk)
        if report.status == status:
            return report
        time.sleep(0.05)
    raise AssertionError(f"report {pk} never became {status}: it is {_report(pk).status}")


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_report_whose_worker_is_killed_completes_once_on_another(catalog, tmp_path):
    # Large enough that the render takes seconds: the kill lands in the middle of it.
    audit, _ = seed(controls=120, versions=1500, slug="worker-kill")
    report = Report.objects.create(organization=audit.organization, audit=audit, kind="pdf")
    media = Path(tmp_path / "var" / "media")

    with celery_worker(tmp_path, "test-kill", log_name="first.log", **FAST_RECOVERY) as first:
        generate_report.apply_async(args=[report.pk], queue=first)
        _wait_for(report.pk, ReportStatus.RUNNING, 60)
        time.sleep(0.5)  # well inside the render (it takes several seconds)
        first.kill()

    # No half state: still marked running, no file, no hash, nothing stored.
    killed = _report(report.pk)
    assert killed.status == ReportStatus.RUNNING and killed.progress < 100
    assert not killed.file and not killed.sha256 and killed.attempts == 1
    assert _stored_files(media) == []

    with celery_worker(
        tmp_path, "test-kill", queue=str(first), log_name="second.log", **FAST_RECOVERY
    ):
        done = _wait_for(report.pk, ReportStatus.DONE, 120)

    assert done.attempts == 2  # claimed once by each worker, produced once
    stored = _stored_files(media)
    assert len(stored) == 1  # one file: the killed worker stored nothing
    assert hashlib.sha256(stored[0].read_bytes()).hexdigest() == done.sha256
    assert stored[0].read_bytes().startswith(b"%PDF") and done.pages > 1
    assert Report.objects.dangerously_unscoped(reason="test").count() == 1
    log = (tmp_path / "second.log").read_text()
    assert "generate_report" in log and "succeeded" in log
    assert settings.CELERY_TASK_ACKS_LATE and settings.CELERY_TASK_REJECT_ON_WORKER_LOST
