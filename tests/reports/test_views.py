"""Report pages: request, generate (the real Celery task, run eagerly), status, retry and
download; the permission matrix (manager, contributor, auditor, outsider)."""

from __future__ import annotations

import hashlib

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from kombu.exceptions import OperationalError

from reports.models import Report, ReportStatus
from reports.services import BROKER_DOWN
from tenants.models import ActivityEntry, Role

pytestmark = pytest.mark.django_db


def _url(name, org, **kwargs):
    return reverse(name, kwargs={"org_slug": org.slug, **kwargs})


@pytest.fixture
def audit(populated, make_audit):
    return make_audit(populated.org, name="FY25 readiness")


def _request(client, org, audit, kind, capture):
    with capture(execute=True):
        return client.post(_url("report_request", org, audit_pk=audit.pk), {"kind": kind})


def test_manager_generates_and_downloads_a_csv(
    populated, audit, client_for, eager_celery, django_capture_on_commit_callbacks
):
    client = client_for(populated.manager)
    response = _request(client, populated.org, audit, "csv", django_capture_on_commit_callbacks)
    assert response.status_code == 302
    report = Report.objects.for_org(populated.org).get()
    assert report.status == ReportStatus.DONE and report.progress == 100
    assert report.attempts == 1 and report.catalog_version and report.data_as_of
    assert report.file.name.startswith(f"reports/{populated.org.pk}/")
    response = client.get(_url("report_download", populated.org, pk=report.pk))
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    assert hashlib.sha256(body).hexdigest() == report.sha256 and len(body) == report.size
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith('attachment; filename="fy25-readiness-csv')
    actions = list(
        ActivityEntry.objects.for_org(populated.org)
        .filter(object_type="reports.report")
        .values_list("action", flat=True)
    )
    assert sorted(actions) == ["download", "report.done", "report.request"]
    page = client.get(_url("report_list", populated.org, audit_pk=audit.pk))
    assert report.sha256[:16] in page.content.decode()


def test_generation_is_idempotent(
    populated, audit, eager_celery, django_capture_on_commit_callbacks
):
    from reports.services import report_generate, report_request

    with django_capture_on_commit_callbacks(execute=True):
        report = report_request(membership=populated.manager, audit=audit, kind="xlsx")
    first = Report.objects.for_org(populated.org).get(pk=report.pk)
    again = report_generate(report_id=report.pk)  # a redelivered task message
    assert again.status == ReportStatus.DONE and again.attempts == 1
    assert again.file.name == first.file.name
    assert report_generate(report_id=10**9) is None


def test_failure_is_recorded_and_retry_works(
    populated, audit, client_for, eager_celery, django_capture_on_commit_callbacks
):
    """The evidence package needs the files: one missing from storage fails the report with
    its reason; once it is back, Retry produces the package."""
    from reports.content import report_content
    from tenants.context import org_scope

    with org_scope(populated.org):
        row = next(r for r in report_content(audit).evidence if r.kind == "file")
    saved = default_storage.open(row.storage_name, "rb").read()
    default_storage.delete(row.storage_name)
    client = client_for(populated.manager)
    _request(client, populated.org, audit, "package", django_capture_on_commit_callbacks)
    report = Report.objects.for_org(populated.org).get()
    assert report.status == ReportStatus.FAILED
    assert "FileNotFoundError" in report.error and not report.file
    page = client.get(_url("report_list", populated.org, audit_pk=audit.pk)).content.decode()
    assert "Failed" in page and "Retry" in page

    with default_storage.open(row.storage_name, "wb") as handle:
        handle.write(saved)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_url("report_retry", populated.org, pk=report.pk))
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.status == ReportStatus.DONE and report.attempts == 2 and report.error == ""
    # A finished report has nothing to retry.
    assert client.post(_url("report_retry", populated.org, pk=report.pk)).status_code == 409


def test_broker_down_leaves_the_report_queued_with_a_message(
    populated, audit, client_for, monkeypatch, django_capture_on_commit_callbacks
):
    from reports import tasks

    def unreachable(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.generate_report, "delay", unreachable)
    client = client_for(populated.manager)
    response = _request(client, populated.org, audit, "pdf", django_capture_on_commit_callbacks)
    assert response.status_code == 302
    report = Report.objects.for_org(populated.org).get()
    assert report.status == ReportStatus.QUEUED and report.error == BROKER_DOWN
    status = client.get(_url("report_status", populated.org, pk=report.pk)).content.decode()
    assert "could not be reached" in status and "Retry" in status
    assert 'hx-trigger="every 3s"' in status  # still polled until it finishes


def test_bad_kind_is_a_400_not_a_500(populated, audit, client_for):
    client = client_for(populated.manager)
    response = client.post(
        _url("report_request", populated.org, audit_pk=audit.pk), {"kind": "exe"}
    )
    assert response.status_code == 400
    assert "Choose a report type" in response.content.decode()
    assert not Report.objects.for_org(populated.org).exists()


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.CONTRIBUTOR])
def test_read_only_roles_cannot_request_or_retry(populated, audit, client_for, make_member, role):
    member = make_member(populated.org, role)
    report = Report.objects.create(
        organization=populated.org, audit=audit, kind="csv", status="failed", error="x"
    )
    client = client_for(member)
    # Auditors are kept in the auditor portal: other pages send them there (GET) or 403.
    expected = 302 if role == Role.AUDITOR else 200
    assert client.get(_url("report_list", populated.org, audit_pk=audit.pk)).status_code == expected
    assert (
        client.post(
            _url("report_request", populated.org, audit_pk=audit.pk), {"kind": "csv"}
        ).status_code
        == 403
    )
    assert client.post(_url("report_retry", populated.org, pk=report.pk)).status_code == 403
    assert Report.objects.for_org(populated.org).count() == 1
    report.refresh_from_db()
    assert report.status == ReportStatus.FAILED


def test_outsider_and_other_orgs_reports_are_404(
    populated, audit, client_for, outsider, other_org, make_audit
):
    report = Report.objects.create(organization=populated.org, audit=audit, kind="csv")
    client = client_for(outsider)
    org = populated.org
    for method, url in [
        ("get", _url("report_list", org, audit_pk=audit.pk)),
        ("post", _url("report_request", org, audit_pk=audit.pk)),
        ("get", _url("report_status", org, pk=report.pk)),
        ("post", _url("report_retry", org, pk=report.pk)),
        ("get", _url("report_download", org, pk=report.pk)),
    ]:
        assert getattr(client, method)(url).status_code == 404, url
    # Through the outsider's own organization, this organization's rows are not found either.
    theirs = other_org
    for method, url in [
        ("get", _url("report_list", theirs, audit_pk=audit.pk)),
        ("post", _url("report_request", theirs, audit_pk=audit.pk)),
        ("get", _url("report_status", theirs, pk=report.pk)),
        ("post", _url("report_retry", theirs, pk=report.pk)),
        ("get", _url("report_download", theirs, pk=report.pk)),
        ("get", _url("report_status", theirs, pk=99999999999999999999)),
    ]:
        assert getattr(client, method)(url).status_code == 404, url


def test_download_of_an_unfinished_report_is_404(populated, audit, client_for):
    report = Report.objects.create(organization=populated.org, audit=audit, kind="pdf")
    client = client_for(populated.manager)
    assert client.get(_url("report_download", populated.org, pk=report.pk)).status_code == 404


def test_list_query_count_does_not_grow(populated, audit, client_for, django_assert_num_queries):
    client = client_for(populated.manager)
    url = _url("report_list", populated.org, audit_pk=audit.pk)
    Report.objects.create(organization=populated.org, audit=audit, kind="csv")
    client.get(url)
    # session, user, membership (with its organization), the audit, the reports, and the
    # memberships of the organization switcher in the page header
    with django_assert_num_queries(6):
        assert client.get(url).status_code == 200
    for kind in ("pdf", "xlsx", "package"):
        Report.objects.create(organization=populated.org, audit=audit, kind=kind, status="failed")
    with django_assert_num_queries(6):
        assert client.get(url).status_code == 200


def test_a_finished_report_is_announced_to_subscribed_webhooks_once(
    populated, audit, eager_celery, settings, django_capture_on_commit_callbacks
):
    from reports.services import report_generate, report_request
    from tenants.models import Role, WebhookDelivery
    from tenants.webhooks.services import webhook_endpoint_create
    from tests.factories import MembershipFactory

    settings.WEBHOOK_ALLOW_PRIVATE = True
    admin = MembershipFactory(organization=populated.org, role=Role.ADMIN)
    webhook_endpoint_create(
        membership=admin, url="http://127.0.0.1:9/hook", events=["report.ready"]
    )
    settings.CELERY_TASK_ALWAYS_EAGER = False  # record the delivery; do not try to send it
    with django_capture_on_commit_callbacks(execute=False):
        report = report_request(membership=populated.manager, audit=audit, kind="csv")
    report_generate(report_id=report.pk)
    report_generate(report_id=report.pk)  # a redelivered task message announces nothing new
    deliveries = list(WebhookDelivery.objects.for_org(populated.org))
    assert [d.event for d in deliveries] == ["report.ready"]
    assert deliveries[0].payload["report"] == report.pk
