"""A render whose process is killed (the kernel's out-of-memory killer) is noticed at once: a
killed render-pool child fails the report with a reason that says so, and a killed Celery
worker child's report is taken over by the redelivered task at once (or failed after
``MAX_ATTEMPTS``), not left "running" until ``REPORT_STALE_AFTER``."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading

import pytest
from django.utils import timezone

from reports.bench import seed
from reports.models import Report, ReportStatus
from reports.rendering.errors import RenderFailed
from reports.rendering.pdf import asset_dir
from reports.rendering.pool import Job, Pool
from reports.services import MAX_ATTEMPTS, report_generate
from reports.tasks import generate_report
from tests.workers import celery_worker, wait_for


def _report(pk: int) -> Report:
    return Report.objects.dangerously_unscoped(reason="test").get(pk=pk)


@pytest.mark.slow
@pytest.mark.backend_free  # render processes only, no database: CI runs it once
def test_a_killed_render_worker_fails_the_render_with_its_reason(tmp_path, settings):
    settings.REPORT_TASK_TIME_LIMIT = 600  # the wait a lost worker must not cost
    rows = "".join(f"<tr><td>{i}</td><td>row {i}</td></tr>" for i in range(20_000))
    jobs = []
    for n in range(2):
        html = tmp_path / f"{n}.html"
        html.write_text(f"<table>{rows}</table>", encoding="utf-8")
        jobs.append(Job(str(n), html, tmp_path / f"{n}.pdf"))
    with Pool(2, asset_dir()) as pool:
        victim = pool.procs[0]
        # Killed as the out-of-memory killer does, while it lays out its part.
        threading.Timer(2.0, victim.send_signal, [signal.SIGKILL]).start()
        with pytest.raises(RenderFailed) as failed:
            pool.run(jobs)
    assert victim.returncode == -signal.SIGKILL
    assert "killed (SIGKILL), most likely for lack of memory" in str(failed.value)


def _dead_tag() -> str:
    process = subprocess.Popen([sys.executable, "-c", "pass"])  # noqa: S603
    process.wait()
    return f"{os.uname().nodename}:{process.pid}"


@pytest.mark.django_db
def test_a_report_whose_process_died_is_taken_over_or_failed_at_once(
    populated, make_audit, settings
):
    audit = make_audit(populated.org)
    rows = Report.objects.for_org(populated.org)
    now = timezone.now() - dt.timedelta(seconds=5)  # far from REPORT_STALE_AFTER
    lost = rows.create(organization=populated.org, audit=audit, kind="csv")
    rows.filter(pk=lost.pk).update(
        status=ReportStatus.RUNNING, started_at=now, attempts=1, claimed_by=_dead_tag()
    )
    doomed = rows.create(organization=populated.org, audit=audit, kind="csv")
    rows.filter(pk=doomed.pk).update(
        status=ReportStatus.RUNNING, started_at=now, attempts=MAX_ATTEMPTS, claimed_by=_dead_tag()
    )
    live = rows.create(organization=populated.org, audit=audit, kind="csv")
    rows.filter(pk=live.pk).update(
        status=ReportStatus.RUNNING,
        started_at=now,
        attempts=1,
        claimed_by=f"{os.uname().nodename}:{os.getpid()}",  # this process: alive
    )

    taken = report_generate(report_id=lost.pk)
    assert taken.status == ReportStatus.DONE and taken.attempts == 2
    failed = report_generate(report_id=doomed.pk)
    assert failed.status == ReportStatus.FAILED
    assert failed.error.startswith(f"The worker stopped {MAX_ATTEMPTS} times")
    left = report_generate(report_id=live.pk)
    assert left.status == ReportStatus.RUNNING and left.attempts == 1


@pytest.mark.slow
@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_killed_worker_child_is_replaced_and_the_report_produced_at_once(catalog, tmp_path):
    """A prefork worker whose child is SIGKILLed mid-render: Celery hands the message back
    (``reject_on_worker_lost``) and the next child produces the report, though its claim is
    seconds old (``REPORT_STALE_AFTER`` stays at its default: a quarter of an hour)."""
    audit, _ = seed(controls=120, versions=1500, slug="child-kill")
    report = Report.objects.create(organization=audit.organization, audit=audit, kind="pdf")

    with celery_worker(tmp_path, "test-child-kill", pool="prefork") as queue:
        generate_report.apply_async(args=[report.pk], queue=queue)
        running = wait_for(
            lambda: (r := _report(report.pk)).status == ReportStatus.RUNNING and r.claimed_by and r,
            90,
            "the render to start",
        )
        child = int(running.claimed_by.rpartition(":")[2])
        assert child != queue.process.pid  # the pool's child, not the worker itself
        os.kill(child, signal.SIGKILL)
        done = wait_for(
            lambda: (r := _report(report.pk)).status == ReportStatus.DONE and r, 120, "the report"
        )

    assert done.attempts == 2 and done.claimed_by != running.claimed_by
    assert done.sha256 and done.pages > 1
