"""Reports through the API: a manager key requests one (202, queued), polls it and downloads
the file whose SHA-256 the report states; read-only roles read but request nothing; other
organizations' reports and audits are 404; a broker outage leaves the report queued with a
message, never a 500."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest
from django.utils.crypto import get_random_string
from kombu.exceptions import OperationalError
from rest_framework.test import APIClient

from reports.models import Report, ReportKind, ReportStatus
from reports.services import BROKER_DOWN
from tenants.models import ActivityEntry, Role
from tests.api.conftest import org_url
from tests.reports.conftest import eager_celery, populated  # noqa: F401  (fixtures)

AS_OF = dt.date(2025, 6, 30)


@pytest.fixture
def audit(org, make_audit):
    return make_audit(org, as_of=AS_OF)


def _reports_url(org, audit) -> str:
    return org_url(org, f"audits/{audit.pk}/reports/")


def _queued(org, audit, kind: str = ReportKind.CSV) -> Report:
    """A report row nobody has sent to a worker (as if the broker had not answered yet)."""
    return Report.objects.create(organization=org, audit=audit, kind=kind, requested_by_label="t")


def _error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["detail"] and body["code"]
    if code:
        assert body["code"] == code, body
    return body


@pytest.mark.parametrize("kind", [ReportKind.CSV, ReportKind.PDF, ReportKind.OSCAL])
def test_a_manager_key_requests_polls_and_downloads_a_report(
    org,
    populated,  # noqa: F811
    audit,
    key_for,
    eager_celery,  # noqa: F811
    django_capture_on_commit_callbacks,
    kind,
):
    client = key_for(org, "compliance_manager")
    with django_capture_on_commit_callbacks(execute=True):  # the task runs after commit
        requested = client.post(_reports_url(org, audit), {"kind": kind})
    assert requested.status_code == 202, requested.json()
    body = requested.json()
    assert body["status"] == "queued" and body["kind"] == kind and body["audit"] == audit.pk
    assert body["download_url"] is None and body["requested_by"].startswith("API key test-key-")
    assert requested["Location"].endswith(org_url(org, f"reports/{body['id']}/"))

    polled = client.get(requested["Location"]).json()
    assert polled["status"] == "done" and polled["progress"] == 100 and polled["error"] == ""
    assert len(polled["sha256"]) == 64 and polled["size"] > 0
    assert (polled["pages"] or 0) > 0 if kind == ReportKind.PDF else polled["pages"] is None

    downloaded = client.get(polled["download_url"])
    assert downloaded.status_code == 200
    data = b"".join(downloaded.streaming_content)
    assert hashlib.sha256(data).hexdigest() == polled["sha256"] and len(data) == polled["size"]
    assert downloaded["Content-Type"] == polled["content_type"]
    assert downloaded["Content-Disposition"].startswith("attachment; filename=")
    assert downloaded["X-Content-Type-Options"] == "nosniff"
    assert downloaded["Cache-Control"] == "private, no-store"
    if kind == ReportKind.PDF:
        assert data.startswith(b"%PDF")
    if kind == ReportKind.OSCAL:
        assert downloaded["Content-Type"] == "application/json"
        assert json.loads(data)["assessment-results"]["results"][0]["findings"]

    listed = client.get(_reports_url(org, audit)).json()
    assert listed["count"] == 1 and listed["results"][0] == polled
    entries = ActivityEntry.objects.for_org(org).filter(object_type="reports.report")
    by_action = dict(entries.values_list("action", "actor_label"))
    assert set(by_action) == {"report.request", "report.done", "download"}
    assert by_action["download"].startswith("API key test-key-")


def test_a_file_is_only_there_once_the_report_is_done(org, audit, key_for):
    client = key_for(org, "compliance_manager")
    report = _queued(org, audit)
    url = org_url(org, f"reports/{report.pk}/")
    assert client.get(url).json()["status"] == "queued"
    # Whatever the client accepts: the error is JSON, the status says what to do.
    for accept in ("application/json", "application/pdf", "*/*"):
        body = _error(client.get(f"{url}download/", HTTP_ACCEPT=accept), 409, "not_ready")
        assert "poll" in body["detail"]
    Report.objects.for_org(org).filter(pk=report.pk).update(status="running", progress=40)
    assert "40%" in _error(client.get(f"{url}download/"), 409)["detail"]
    Report.objects.for_org(org).filter(pk=report.pk).update(status="failed", error="Disk full.")
    detail = _error(client.get(f"{url}download/"), 409)["detail"]
    assert "Disk full." in detail and "retry" in detail
    assert not ActivityEntry.objects.for_org(org).filter(action="download").exists()


def test_a_failed_report_is_queued_again_and_a_finished_one_is_not(
    org,
    populated,  # noqa: F811
    audit,
    key_for,
    eager_celery,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    client = key_for(org, "compliance_manager")
    report = _queued(org, audit)
    Report.objects.for_org(org).filter(pk=report.pk).update(status="failed", error="Disk full.")
    with django_capture_on_commit_callbacks(execute=True):
        retried = client.post(org_url(org, f"reports/{report.pk}/retry/"))
    assert retried.status_code == 202 and retried.json()["status"] == "queued"
    assert client.get(retried["Location"]).json()["status"] == "done"
    _error(client.post(org_url(org, f"reports/{report.pk}/retry/")), 409, "conflict")


def test_a_missing_file_is_a_404_with_a_message(org, audit, key_for):
    report = _queued(org, audit)
    Report.objects.for_org(org).filter(pk=report.pk).update(
        status="done", file="reports/gone", sha256="0" * 64
    )
    body = _error(
        key_for(org, "read_only").get(org_url(org, f"reports/{report.pk}/download/")), 404
    )
    assert "missing" in body["detail"]


@pytest.mark.django_db(transaction=True)
def test_a_broker_outage_leaves_the_report_queued_with_a_message(
    org,
    catalog,
    make_audit,
    key_for,
    monkeypatch,
    eager_celery,  # noqa: F811
):
    """Outside a test transaction the task is sent when the request's write commits: the
    response already says the queue was unreachable."""
    from reports import tasks

    audit = make_audit(org, as_of=AS_OF)
    real_delay = tasks.generate_report.delay

    def unreachable(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.generate_report, "delay", unreachable)
    client = key_for(org, "compliance_manager")
    requested = client.post(_reports_url(org, audit), {"kind": "csv"})
    assert requested.status_code == 202, requested.content
    body = requested.json()
    assert body["status"] == "queued" and body["error"] == BROKER_DOWN
    assert client.get(requested["Location"]).json()["error"] == BROKER_DOWN
    # The queue is back: a retry (or the beat sweep) produces it.
    monkeypatch.setattr(tasks.generate_report, "delay", real_delay)
    retried = client.post(org_url(org, f"reports/{body['id']}/retry/"))
    assert retried.status_code == 202 and retried.json()["status"] == "done"


@pytest.mark.parametrize("role", ["read_only", "contributor"])
def test_roles_below_manager_read_reports_but_request_none(org, audit, key_for, role):
    client = key_for(org, role)
    report = _queued(org, audit)
    _error(client.post(_reports_url(org, audit), {"kind": "csv"}), 403, "permission_denied")
    # Refused before the body is read: a bad body is still a 403.
    _error(client.post(_reports_url(org, audit), {"kind": "exe"}), 403)
    _error(client.post(org_url(org, f"reports/{report.pk}/retry/")), 403)
    assert client.get(_reports_url(org, audit)).json()["count"] == 1
    assert client.get(org_url(org, f"reports/{report.pk}/")).status_code == 200
    assert Report.objects.for_org(org).count() == 1


def test_sessions_follow_roles_and_need_csrf(org, audit, make_member):
    manager = APIClient(enforce_csrf_checks=True)
    manager.force_login(make_member(org, Role.COMPLIANCE_MANAGER).user)
    url = _reports_url(org, audit)
    assert manager.get(url).status_code == 200
    _error(manager.post(url, {"kind": "csv"}, format="json"), 403, "permission_denied")
    token = get_random_string(32)  # 32 characters, as Django's cookie holds
    manager.cookies["csrftoken"] = token
    posted = manager.post(url, {"kind": "csv"}, format="json", HTTP_X_CSRFTOKEN=token)
    assert posted.status_code == 202, posted.content
    report = Report.objects.for_org(org).get()
    assert report.requested_by_label and not report.requested_by_label.startswith("API key")

    for role in (Role.CONTRIBUTOR, Role.AUDITOR):
        client = APIClient()
        client.force_login(make_member(org, role).user)
        _error(client.post(url, {"kind": "csv"}, format="json"), 403)
    auditor = APIClient()
    auditor.force_login(make_member(org, Role.AUDITOR).user)
    # Auditors read finished reports in the auditor portal, not through the API.
    for path in (
        url,
        org_url(org, f"reports/{report.pk}/"),
        org_url(org, f"reports/{report.pk}/download/"),
    ):
        _error(auditor.get(path), 403)
    assert Report.objects.for_org(org).count() == 1


def test_other_organizations_reports_and_audits_are_404(org, other_org, audit, make_audit, key_for):
    theirs = _queued(other_org, make_audit(other_org, as_of=AS_OF), kind=ReportKind.PDF)
    Report.objects.for_org(other_org).filter(pk=theirs.pk).update(
        status="failed", error="Disk full."
    )
    client = key_for(org, "admin")
    for method, path in [
        ("get", f"reports/{theirs.pk}/"),
        ("get", f"reports/{theirs.pk}/download/"),
        ("post", f"reports/{theirs.pk}/retry/"),
        ("get", f"audits/{theirs.audit_id}/reports/"),
        ("post", f"audits/{theirs.audit_id}/reports/"),
    ]:
        response = getattr(client, method)(org_url(org, path), {"kind": "csv"})
        _error(response, 404, "not_found")
    # This organization's key on the other organization's address: no such organization.
    _error(client.get(org_url(other_org, f"reports/{theirs.pk}/")), 404)
    _error(client.post(_reports_url(other_org, theirs.audit), {"kind": "csv"}), 404)
    for bad in ("0", "abc", str(10**30), "-1", "0.5"):
        _error(client.get(org_url(org, f"reports/{bad}/")), 404)
        _error(client.get(org_url(org, f"audits/{bad}/reports/")), 404)
        # A path no route takes is the API's JSON 404 for writes too (no CSRF page).
        _error(client.post(org_url(org, f"audits/{bad}/reports/"), {"kind": "csv"}), 404)
        _error(client.post(org_url(org, f"reports/{bad}/retry/")), 404)
    theirs.refresh_from_db()
    assert theirs.status == ReportStatus.FAILED
    assert Report.objects.for_org(org).count() == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "exe"}, "kind"),
        ({"kind": ""}, "kind"),
        ({"kind": ["pdf"]}, "kind"),
        ({"kind": None}, "kind"),
        ({}, "kind"),
        ({"kind": "pdf", "format": "a4"}, "format"),
        ([], None),
        ("pdf", None),
    ],
)
def test_bad_requests_are_400_and_queue_nothing(org, audit, key_for, body, field):
    response = key_for(org, "compliance_manager").post(_reports_url(org, audit), body)
    error = _error(response, 400)
    if field:
        assert field in error["errors"], error
    assert not Report.objects.for_org(org).exists()


def test_malformed_and_non_json_bodies_are_4xx(org, audit, key_for):
    client = key_for(org, "compliance_manager")
    url = _reports_url(org, audit)
    _error(client.post(url, data='{"kind": "pdf"', content_type="application/json"), 400)
    _error(client.post(url, data="kind=pdf", content_type="application/x-www-form-urlencoded"), 415)
    assert not Report.objects.for_org(org).exists()


@pytest.mark.parametrize("rows", [1, 30])
def test_list_queries_do_not_grow(org, audit, key_for, rows, django_assert_num_queries):
    for _ in range(rows):
        _queued(org, audit)
    client = key_for(org, "read_only")
    client.get(_reports_url(org, audit))  # warm: the key's last use is recorded once
    # key (with its organization), audit, the page with its count
    with django_assert_num_queries(3):
        response = client.get(_reports_url(org, audit), {"page_size": 50})
    assert response.json()["count"] == rows and len(response.json()["results"]) == rows
