"""Reports nobody is working on are sent again by the beat sweep: queued too long (the broker
was down at request time) or "running" with a worker long gone; others are left alone."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid

import pytest
from django.utils import timezone
from kombu.exceptions import OperationalError

from reports import services
from reports.models import Report, ReportStatus
from reports.services import BROKER_DOWN, MAX_ATTEMPTS, NEVER_STARTED, reports_redispatch
from reports.tasks import redispatch_reports
from tenants.models import ActivityEntry
from tests.workers import celery_worker, wait_for


@pytest.fixture
def audit(populated, make_audit):
    return make_audit(populated.org, type2=True)


def _report(populated, audit, *, status: str, age: dt.timedelta, **fields) -> Report:
    at = timezone.now() - age
    report = Report.objects.create(
        organization=populated.org,
        audit=audit,
        kind="csv",
        status=status,
        started_at=at if status == ReportStatus.RUNNING else None,
        **fields,
    )
    Report.objects.for_org(populated.org).filter(pk=report.pk).update(created_at=at)
    return report


def test_stuck_reports_are_produced_and_the_others_left_alone(populated, audit, eager_celery):
    lost = _report(populated, audit, status=ReportStatus.QUEUED, age=dt.timedelta(minutes=30))
    broker_down = _report(
        populated, audit, status=ReportStatus.QUEUED, age=dt.timedelta(hours=2), error=BROKER_DOWN
    )
    abandoned = _report(populated, audit, status=ReportStatus.RUNNING, age=dt.timedelta(hours=2))
    just_queued = _report(populated, audit, status=ReportStatus.QUEUED, age=dt.timedelta(minutes=1))
    working = _report(populated, audit, status=ReportStatus.RUNNING, age=dt.timedelta(minutes=1))
    failed = _report(populated, audit, status=ReportStatus.FAILED, age=dt.timedelta(hours=3))

    sent = reports_redispatch()

    assert sorted(sent) == sorted([lost.pk, broker_down.pk, abandoned.pk])
    rows = {r.pk: r for r in Report.objects.for_org(populated.org)}
    for pk in sent:  # the eager task ran: each is done, with its file and hash
        assert rows[pk].status == ReportStatus.DONE and rows[pk].sha256 and rows[pk].error == ""
    assert rows[just_queued.pk].status == ReportStatus.QUEUED
    assert rows[working.pk].status == ReportStatus.RUNNING  # its worker may still be at it
    assert rows[failed.pk].status == ReportStatus.FAILED  # failures wait for a person's Retry
    # Nothing left to send: a second sweep sends nothing and changes nothing.
    assert reports_redispatch() == [] and redispatch_reports() == 0


def test_a_broker_still_down_leaves_them_queued_for_the_next_sweep(populated, audit, monkeypatch):
    from reports import tasks

    def unreachable(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.generate_report, "delay", unreachable)
    stuck = _report(populated, audit, status=ReportStatus.QUEUED, age=dt.timedelta(hours=1))
    assert reports_redispatch() == []
    stuck.refresh_from_db()
    assert stuck.status == ReportStatus.QUEUED and stuck.error == BROKER_DOWN


def test_the_sweep_is_scheduled(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["redispatch-reports"]
    assert entry["task"] == "reports.tasks.redispatch_reports"


def _failures(populated) -> list[tuple[int, str]]:
    entries = ActivityEntry.objects.for_org(populated.org).filter(action="report.failed")
    return sorted((int(e.object_id), e.actor_label) for e in entries)


def test_reports_stuck_too_long_fail_with_a_reason_instead(populated, audit, eager_celery):
    forgotten = _report(populated, audit, status=ReportStatus.QUEUED, age=dt.timedelta(days=2))
    crashing = _report(populated, audit, status=ReportStatus.RUNNING, age=dt.timedelta(hours=2))
    Report.objects.for_org(populated.org).filter(pk=crashing.pk).update(attempts=MAX_ATTEMPTS)
    once_more = _report(populated, audit, status=ReportStatus.RUNNING, age=dt.timedelta(hours=2))
    Report.objects.for_org(populated.org).filter(pk=once_more.pk).update(attempts=MAX_ATTEMPTS - 1)

    assert reports_redispatch() == [once_more.pk]

    rows = {r.pk: r for r in Report.objects.for_org(populated.org)}
    assert rows[forgotten.pk].status == ReportStatus.FAILED
    assert rows[forgotten.pk].error == NEVER_STARTED
    assert rows[crashing.pk].status == ReportStatus.FAILED
    assert rows[crashing.pk].error.startswith(f"The worker stopped {MAX_ATTEMPTS} times")
    assert rows[once_more.pk].status == ReportStatus.DONE
    assert rows[once_more.pk].attempts == MAX_ATTEMPTS
    # Logged in the organization's activity, by the sweep; a second sweep logs nothing more.
    expected = sorted([(forgotten.pk, "report sweep"), (crashing.pk, "report sweep")])
    assert _failures(populated) == expected
    assert reports_redispatch() == [] and _failures(populated) == expected


def test_a_redelivered_task_does_not_claim_a_report_that_keeps_killing_workers(populated, audit):
    crashing = _report(populated, audit, status=ReportStatus.RUNNING, age=dt.timedelta(hours=2))
    Report.objects.for_org(populated.org).filter(pk=crashing.pk).update(attempts=MAX_ATTEMPTS)

    report = services.report_generate(report_id=crashing.pk)

    assert report.status == ReportStatus.RUNNING and report.attempts == MAX_ATTEMPTS
    assert not report.file  # left for the sweep to fail with its reason


def test_a_worker_that_lost_its_claim_keeps_nothing(populated, audit, monkeypatch, tmp_path):
    """A worker past ``REPORT_STALE_AFTER`` (its time limit should stop it first) whose report
    another worker claimed: its finished file is dropped, the row is the other worker's."""
    from reports import build

    report = _report(populated, audit, status=ReportStatus.QUEUED, age=dt.timedelta(0))
    real_build = build.build_report

    def slow_build(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        built = real_build(*args, **kwargs)
        # Meanwhile the row went stale and a second worker claimed it.
        Report.objects.for_org(populated.org).filter(pk=report.pk).update(
            started_at=timezone.now() - dt.timedelta(hours=1)
        )
        assert services._claim(report.pk, report.organization_id) is not None
        return built

    monkeypatch.setattr(build, "build_report", slow_build)
    result = services.report_generate(report_id=report.pk)

    assert result.status == ReportStatus.RUNNING and result.attempts == 2
    assert not result.file and not result.sha256
    stored = [p for p in (tmp_path / "media" / "reports").rglob("*") if p.is_file()]
    assert stored == []  # the first worker's file was removed again
    done = ActivityEntry.objects.for_org(populated.org).filter(action="report.done")
    assert not done.exists()


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_sweep_on_a_real_worker_produces_each_stuck_report_once(populated, audit, tmp_path):
    """The states the sweep exists for, with no message left anywhere: requested while Redis
    was down, and "running" on a worker that died while Redis lost its unacknowledged message
    (a restart without persistence). The beat task, run by a real worker on Redis, sends
    them to that worker, which produces each once; a second sweep sends nothing."""
    broker_down = _report(
        populated,
        audit,
        status=ReportStatus.QUEUED,
        age=dt.timedelta(minutes=30),
        error=BROKER_DOWN,
    )
    abandoned = _report(populated, audit, status=ReportStatus.RUNNING, age=dt.timedelta(hours=2))
    Report.objects.for_org(populated.org).filter(pk=abandoned.pk).update(attempts=1, progress=40)
    queue = f"test-sweep-{uuid.uuid4().hex[:12]}"
    log = tmp_path / "worker.log"
    rows = Report.objects.for_org(populated.org)

    def sweeps_done() -> int:
        return log.read_text().count("redispatch_reports[") // 2  # received + succeeded

    with celery_worker(tmp_path, "test-sweep", queue=queue, CELERY_TASK_DEFAULT_QUEUE=queue):
        redispatch_reports.apply_async(queue=queue)
        wait_for(lambda: rows.filter(status=ReportStatus.DONE).count() == 2, 90, "both reports")
        wait_for(lambda: sweeps_done() == 1, 30, "the first sweep")
        redispatch_reports.apply_async(queue=queue)
        wait_for(lambda: sweeps_done() == 2, 30, "the second sweep")

    text = log.read_text()
    assert text.count("reports.tasks.generate_report[") == 4  # 2 received, 2 succeeded
    stored = [p for p in (tmp_path / "var" / "media" / "reports").rglob("*") if p.is_file()]
    by_hash = {hashlib.sha256(p.read_bytes()).hexdigest() for p in stored}
    done = {r.pk: r for r in rows}
    assert len(stored) == 2 and by_hash == {done[broker_down.pk].sha256, done[abandoned.pk].sha256}
    assert done[broker_down.pk].attempts == 1 and done[broker_down.pk].error == ""
    assert done[abandoned.pk].attempts == 2
