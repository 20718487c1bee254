"""Reports nobody is working on are sent again by the beat sweep: queued too long (the broker
was down at request time) or "running" with a worker long gone; others are left alone."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from kombu.exceptions import OperationalError

from reports.models import Report, ReportStatus
from reports.services import BROKER_DOWN, reports_redispatch
from reports.tasks import redispatch_reports


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
