"""A report whose database connection is lost mid-render (a database restart, a fail-over) is
produced again, never left "running"; and Retry takes back a report whose claim went stale.

Real pieces: a Celery worker on Redis, PostgreSQL, and the worker's backend terminated by
``pg_terminate_backend`` while the PDF renders (what a restart does to every connection).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import psycopg2
import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from reports.bench import seed
from reports.models import Report, ReportStatus
from reports.tasks import generate_report
from tenants.models import ActivityEntry
from tests.workers import celery_worker, wait_for


def _report(pk: int) -> Report:
    return Report.objects.dangerously_unscoped(reason="test").get(pk=pk)


def _terminate_other_backends() -> int:
    """What a database restart does to the worker: its connection dies under it. Done as the
    superuser the tests are set up with, sparing the test's own connection."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        mine = cursor.fetchone()[0]
    db = connection.settings_dict
    admin = psycopg2.connect(
        dbname=db["NAME"],
        user=db["USER"],
        password=db.get("PASSWORD") or None,
        host=db.get("HOST") or "127.0.0.1",
        port=db.get("PORT") or 5432,
    )
    try:
        admin.autocommit = True
        with admin.cursor() as cursor:
            cursor.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid NOT IN (%s, pg_backend_pid())",
                [mine],
            )
            return cursor.fetchone()[0]
    finally:
        admin.close()


@pytest.mark.slow
@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_report_whose_database_connection_dies_mid_render_is_produced_again(catalog, tmp_path):
    audit, _ = seed(controls=120, versions=1500, slug="db-lost")
    report = Report.objects.create(organization=audit.organization, audit=audit, kind="pdf")
    media = Path(tmp_path / "var" / "media")

    with celery_worker(tmp_path, "test-db-lost") as queue:
        generate_report.apply_async(args=[report.pk], queue=queue)
        # The parts are being laid out: the next progress update meets the dead connection.
        wait_for(lambda: _report(report.pk).progress >= 20, 90, "the render to be under way")
        assert _terminate_other_backends() >= 1
        done = wait_for(
            lambda: (
                (r := _report(report.pk)).status in (ReportStatus.DONE, ReportStatus.FAILED) and r
            ),
            120,
            "the report to finish",
        )

    log = (tmp_path / "worker.log").read_text()
    assert "database connection lost" in log and "Retry in" in log
    # Produced again under the same claim (one more attempt), not failed, not left running.
    assert done.status == ReportStatus.DONE and done.error == ""
    assert done.attempts == 2
    stored = [p for p in (media / "reports").rglob("*") if p.is_file()]
    assert len(stored) == 1
    assert hashlib.sha256(stored[0].read_bytes()).hexdigest() == done.sha256
    entries = ActivityEntry.objects.dangerously_unscoped(reason="test").filter(
        object_type="reports.report", object_id=str(report.pk)
    )
    assert sorted(entries.values_list("action", flat=True)) == ["report.done"]


@pytest.mark.django_db
def test_retry_takes_back_a_report_whose_claim_went_stale(
    populated, make_audit, client_for, eager_celery, django_capture_on_commit_callbacks, settings
):
    audit = make_audit(populated.org)
    rows = Report.objects.for_org(populated.org)
    long_ago = timezone.now() - dt.timedelta(seconds=settings.REPORT_STALE_AFTER + 60)
    stale = rows.create(
        organization=populated.org, audit=audit, kind="csv", status=ReportStatus.RUNNING
    )
    rows.filter(pk=stale.pk).update(started_at=long_ago, attempts=1, progress=40)
    working = rows.create(
        organization=populated.org, audit=audit, kind="csv", status=ReportStatus.RUNNING
    )
    rows.filter(pk=working.pk).update(started_at=timezone.now(), attempts=1)
    client = client_for(populated.manager)

    page = client.get(
        reverse("report_list", kwargs={"org_slug": populated.org.slug, "audit_pk": audit.pk})
    )
    assert page.content.decode().count(">Retry</button>") == 1  # the stale one only

    def retry(report: Report) -> int:
        url = reverse("report_retry", kwargs={"org_slug": populated.org.slug, "pk": report.pk})
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url).status_code

    assert retry(working) == 409  # its worker may still be at it
    assert retry(stale) == 302
    stale.refresh_from_db()
    working.refresh_from_db()
    assert stale.status == ReportStatus.DONE and stale.attempts == 2 and stale.sha256
    assert working.status == ReportStatus.RUNNING
