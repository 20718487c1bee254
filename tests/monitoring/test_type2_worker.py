"""Issue 16's Type 2 "Done when" through a real Celery worker: earlier days of the window were
filled by daily runs (recorded through ``results_ingest`` with their day), today's runs are
started through ``runs.run_start`` and worked by a worker process (Redis broker, PostgreSQL
under row-level security, the fake collector registered by ``MONITORING_EXTRA_COLLECTORS``).
A passing run covers this week; a failing one makes this week an exception, named."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from controls.periods import PeriodStatus
from controls.readiness import audit_readiness
from controls.readiness_types import ExceptionKind
from evidence.models import EvidenceKind, EvidenceVersion
from monitoring import runs
from monitoring.collectors import RawOutput
from monitoring.models import CheckRun, Connection, ConnectionKind, RunSource, RunStatus
from monitoring.services import CheckSpec, ResultSpec, connection_create, results_ingest
from soc2app.celery import app as celery_app
from tenants.activity import Actor
from tests.factories import ControlFactory, control_map
from tests.monitoring.collectors_fake import FAKE, GOOD
from tests.workers import celery_worker, wait_for

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

# What the fake collector runs (tests/monitoring/collectors_fake.py), for the earlier days.
MFA = CheckSpec(key="fake-mfa", title="Users have MFA", severity="high", criteria=("CC6.1",))


def _finished(pk: int) -> CheckRun | None:
    run = CheckRun.objects.dangerously_unscoped(reason="test").get(pk=pk)
    return run if run.status in (RunStatus.SUCCEEDED, RunStatus.FAILED) else None


def _run_in_worker(admin, connection: Connection, mode: str) -> CheckRun:
    Connection.objects.for_org(connection.organization_id).filter(pk=connection.pk).update(
        config={"account": "acme", "mode": mode}
    )
    connection.refresh_from_db()
    started = runs.run_start(principal=admin, connection=connection).run
    done = wait_for(lambda: _finished(started.pk), 90, f"the {mode} run")
    assert done.status == RunStatus.SUCCEEDED, done.failure_reason
    return done


def test_daily_runs_fill_the_window_and_today_s_failing_run_makes_this_week_an_exception(
    org, admin, catalog, make_audit, settings, tmp_path
):
    settings.MONITORING_EXTRA_COLLECTORS = [FAKE]
    today = timezone.localdate()
    start = today - dt.timedelta(days=20)  # three weekly periods, the last ending today
    long_ago = timezone.now() - dt.timedelta(days=400)
    control = control_map(
        ControlFactory(
            organization=org,
            owner=admin,
            code="AC-01",
            frequency="weekly",
            operation="automatic",
            control_type="technical",
            created_at=long_ago,
        ),
        "CC6.1",
    )
    connection = connection_create(
        membership=admin,
        kind=ConnectionKind.GITHUB,
        name="Fake GitHub",
        credentials=GOOD,
        config={"account": "acme", "mode": "pass"},
    )
    for n in range(20):  # the daily runs before today, all passing
        day = start + dt.timedelta(days=n)
        results_ingest(
            organization=org,
            connection=connection,
            batch=[(MFA, [ResultSpec(resource=f"user-{i}", status="pass") for i in range(2)])],
            source=RunSource.SCHEDULED,
            actor=Actor.system("schedule"),
            now=timezone.make_aware(dt.datetime.combine(day, dt.time(6))),
            output=RawOutput(content=f'{{"day": "{day}"}}'.encode(), name="run.json"),
        )
    audit = make_audit(org, window=(start, today))
    default_queue = celery_app.conf.task_default_queue
    env = {"MONITORING_EXTRA_COLLECTORS": FAKE}
    try:
        with celery_worker(tmp_path, "test-type2", **env) as queue:
            celery_app.conf.task_default_queue = queue
            _run_in_worker(admin, connection, "pass")
            statuses = [s for _, s in audit_readiness(audit).controls[control.pk].periods]
            assert statuses == [PeriodStatus.COVERED] * 3
            failed_run = _run_in_worker(admin, connection, "fail")
    finally:
        celery_app.conf.task_default_queue = default_queue

    # No upload anywhere: every version is the runs' own, accepted under the rule.
    versions = EvidenceVersion.objects.for_org(org)
    assert versions.count() == 22 and not versions.exclude(kind=EvidenceKind.SYSTEM).exists()
    latest = versions.order_by("-number").first()
    assert latest.review_state == "accepted" and latest.data["run"]["id"] == failed_run.pk

    readiness = audit_readiness(audit)
    periods = readiness.controls[control.pk].periods
    assert [s for _, s in periods] == [
        PeriodStatus.COVERED,
        PeriodStatus.COVERED,
        PeriodStatus.FAILED,
    ]
    [exception] = readiness.exceptions
    assert (exception.control, exception.period, exception.kind) == (
        control,
        periods[2][0],
        ExceptionKind.TEST_FAILED,
    )
    assert "Users have MFA" in exception.detail and "user-1" in exception.detail
