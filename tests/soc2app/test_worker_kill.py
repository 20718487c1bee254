"""A worker killed in the middle of a report or of the freshness check (SIGKILL: the machine
dies, nothing cleans up) leaves no half state, and the task completes once a worker is back.

Real pieces: Redis broker, PostgreSQL, two worker processes one after the other. Tasks are
acknowledged late, so the killed worker's message stays unacknowledged in Redis and comes
back after the visibility timeout (short here); the new worker may claim the report because
its "running" mark is older than ``REPORT_STALE_AFTER`` (its time limit in production). The
freshness scan commits batch by batch and claims digests only after the scan, so the rerun
finishes the batches left and tells each owner once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from celery.backends.redis import RedisBackend
from celery.result import AsyncResult
from django.conf import settings
from django.test import override_settings
from django.utils import timezone

from evidence import bench
from evidence.freshness import freshness_check
from evidence.tasks import check_freshness
from reports.bench import seed
from reports.models import Report, ReportStatus
from reports.sweeps import reports_sweep_leftovers
from reports.tasks import generate_report
from soc2app.celery import app as celery_app
from tenants import rls
from tenants.models import ActivityEntry, Organization
from tests.factories import MembershipFactory
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


@pytest.mark.slow
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
    # Nor could it remove its render folders: the leftovers sweep does, its processes gone.
    render = tmp_path / "var" / "render"
    left = sorted(p.name for p in render.iterdir())
    assert left and all(name.startswith("report-") for name in left)
    with override_settings(REPORT_TMP_DIR=str(render)):
        assert sorted(reports_sweep_leftovers(older_than=0)["folders"]) == left
    assert list(render.iterdir()) == []

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


# --- the freshness check ---------------------------------------------------------------------

# Latest versions whose stored state is not what today's date makes it (the scan's target).
_WRONG_STATE = """
    SELECT count(*) FILTER (WHERE freshness <> target),
           count(*) FILTER (WHERE freshness <> target AND freshness <> 'fresh'),
           count(*) FILTER (WHERE target <> 'fresh'),
           count(*) FILTER (WHERE freshness <> 'fresh')
    FROM (SELECT freshness, CASE WHEN valid_until < %(today)s THEN 'stale'
                                 WHEN valid_until < %(soon)s THEN 'expiring'
                                 ELSE 'fresh' END AS target
          FROM evidence_evidenceversion WHERE is_latest) AS v
"""


@dataclass
class Scan:
    wrong: int  # latest versions not (yet) in their right state
    misplaced: int  # ... in a state that is neither right nor the seeded "fresh": corruption
    target: int  # versions the complete scan moves out of "fresh"
    moved: int  # versions moved so far


def _scan_state() -> Scan:
    today = timezone.localdate()
    soon = today + dt.timedelta(days=settings.EVIDENCE_EXPIRING_DAYS)
    with rls.system("test: read every organization's states") as system, system.cursor() as cursor:
        cursor.execute(_WRONG_STATE, {"today": today, "soon": soon})
        return Scan(*cursor.fetchone())


def _digest_entries() -> list[int]:
    entries = ActivityEntry.objects.dangerously_unscoped(reason="test").filter(action="notify")
    return sorted(entries.values_list("organization_id", flat=True))


def _messages(mail_dir: Path) -> list[str]:
    """The recipients of every e-mail the workers wrote (one file per connection)."""
    text = "".join(p.read_text() for p in sorted(mail_dir.glob("*.log")))
    return sorted(line[4:] for line in text.splitlines() if line.startswith("To: "))


@pytest.mark.slow
@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_freshness_check_whose_worker_is_killed_completes_once_on_another(tmp_path):
    # Three organizations with 1,000 latest versions each, all stored as "fresh" while about
    # half are stale or expiring; one compliance manager each receives the digest.
    bench.seed(orgs=3, versions=6_000)
    orgs = list(Organization.objects.filter(slug__startswith=bench.PREFIX).order_by("pk"))
    managers = sorted(MembershipFactory(organization=o).user.email for o in orgs)
    before = _scan_state()
    assert before.moved == 0 and before.target > 1_000
    mail_dir = tmp_path / "mail"
    env = {
        **FAST_RECOVERY,
        "CELERY_RESULT_BACKEND": settings.CELERY_BROKER_URL,
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
    }

    # Batches of 3 rows (each its own transaction): the scan takes seconds, and its progress
    # is visible in the table while it runs.
    slow = {**env, "EVIDENCE_FRESHNESS_BATCH": "3"}
    with celery_worker(tmp_path, "test-kill-fresh", log_name="first.log", **slow) as first:
        sent = check_freshness.apply_async(kwargs={}, queue=first)
        deadline = time.monotonic() + 60
        while _scan_state().moved < before.target // 10:
            assert time.monotonic() < deadline, "the freshness scan never started"
            time.sleep(0.05)
        first.kill()

    # Killed in the middle of the scan: the batches done are right, the rest untouched, and
    # nobody was told anything yet (digests follow the scan).
    killed = _scan_state()
    assert 0 < killed.moved < before.target
    assert killed.misplaced == 0
    assert _digest_entries() == [] and _messages(mail_dir) == []

    # The message comes back to the next worker (default batches: it finishes well inside the
    # visibility timeout, so it is not handed out a third time).
    with celery_worker(tmp_path, "test-kill-fresh", queue=str(first), log_name="second.log", **env):
        backend = RedisBackend(app=celery_app, url=settings.CELERY_BROKER_URL)
        try:
            result = AsyncResult(sent.id, app=celery_app, backend=backend).get(timeout=120)
        finally:
            backend.client.close()

    after = _scan_state()
    assert after.wrong == 0 and after.moved == before.target
    # The rerun moved exactly what the killed one had not: nothing twice, nothing missed.
    assert result["changed"] == before.target - killed.moved
    assert result["digests"] == len(orgs)
    # Each manager told once, each organization's digest logged once.
    assert _messages(mail_dir) == managers
    assert _digest_entries() == [o.pk for o in orgs]
    # And a later run (beat tomorrow, or a third delivery) changes and sends nothing.
    again = freshness_check()
    assert again.changed == 0 and again.digests == 0
    assert _messages(mail_dir) == managers
