"""A Type 2 window filled by daily runs alone, and a failing week as an exception for that week
(issue 16's "Done when"), on PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from controls.charts import exception_rows
from controls.periods import PeriodStatus
from controls.readiness import audit_readiness
from controls.readiness_types import ExceptionKind
from evidence.models import EvidenceKind, EvidenceVersion
from monitoring.collectors import RawOutput
from monitoring.models import RunSource
from monitoring.services import CheckSpec, ResultSpec, results_ingest
from tenants.activity import Actor
from tests.factories import ControlFactory, control_map

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

BACKUPS = CheckSpec(
    key="backups", title="Databases are backed up", severity="high", controls=("OPS-01",)
)
S3 = CheckSpec(
    key="s3-encryption", title="S3 buckets are encrypted", severity="high", controls=("AC-01",)
)


def test_daily_runs_fill_the_window_and_a_failing_week_is_an_exception(
    org, manager, connection, make_audit, client_for
):
    start = timezone.localdate() - dt.timedelta(days=40)
    end = start + dt.timedelta(days=27)  # four weeks, all ended
    long_ago = timezone.now() - dt.timedelta(days=400)
    backups, access = (
        control_map(
            ControlFactory(
                organization=org,
                owner=manager,
                code=code,
                frequency="weekly",
                operation="automatic",
                control_type="technical",
                created_at=long_ago,
            ),
            ref,
        )
        for code, ref in (("OPS-01", "CC7.2"), ("AC-01", "CC6.1"))
    )
    failing_days = {start + dt.timedelta(days=n) for n in (14, 15, 16)}  # in the third week
    for n in range(28):
        day = start + dt.timedelta(days=n)
        s3 = "fail" if day in failing_days else "pass"
        results_ingest(
            organization=org,
            connection=connection,
            batch=[
                (BACKUPS, [ResultSpec(resource="db-main", status="pass")]),
                (S3, [ResultSpec(resource="arn:aws:s3:::logs", status=s3)]),
            ],
            source=RunSource.SCHEDULED,
            actor=Actor.system("schedule"),
            now=timezone.make_aware(dt.datetime.combine(day, dt.time(6))),
            output=RawOutput(content=f'{{"day": "{day}"}}'.encode(), name="run.json"),
        )
    versions = EvidenceVersion.objects.for_org(org)
    # No manual upload: one accepted system-generated version per control and day.
    assert versions.filter(kind=EvidenceKind.SYSTEM, review_state="accepted").count() == 56
    assert versions.count() == 56

    audit = make_audit(org, window=(start, end))
    readiness = audit_readiness(audit)
    covered = readiness.controls[backups.pk]
    assert [s for _, s in covered.periods] == [PeriodStatus.COVERED] * 4
    assert covered.operating and covered.exceptions == []
    assert covered.reviewers == ["Integration: CI security tests"]

    failing = readiness.controls[access.pk]
    third = failing.periods[2][0]
    assert [s for _, s in failing.periods] == [
        PeriodStatus.COVERED,
        PeriodStatus.COVERED,
        PeriodStatus.FAILED,
        PeriodStatus.COVERED,
    ]
    assert not failing.operating
    assert "automated tests failed in 1 period" in failing.note
    [exception] = readiness.exceptions
    assert (exception.control, exception.period, exception.kind) == (
        access,
        third,
        ExceptionKind.TEST_FAILED,
    )
    first = min(failing_days)
    days = ", ".join(f"{d:%d %b %Y}" for d in sorted(failing_days))
    assert exception.detail == (
        f"AC-01's automated tests failed on {days}: Test 'S3 buckets are encrypted' failing on "
        f"1 resource since {first.day} {first:%b %Y} (arn:aws:s3:::logs)"
    )
    # The exceptions list (dashboard, PDF, portal) has that week, named.
    [row] = exception_rows(readiness)
    assert (row["control"], row["start"], row["end"]) == (access, third.start, third.end)
    assert row["detail"] == exception.detail
    body = client_for(manager).get(reverse("audit_detail", args=[org.slug, audit.pk]))
    html = body.content.decode()
    listed = html[html.index('id="exceptions"') :]
    assert "AC-01&#x27;s automated tests failed on" in listed
    assert "arn:aws:s3:::logs" in listed
    # The test passes again: what is failing now is no longer named in the reasons.
    assert failing.failing_tests == []
