"""The read-only auditor portal: an auditor sees only the audits they were granted (scope,
readiness, controls, evidence, reports), every download is logged, every write is refused, and
an auditor is kept out of the rest of the organization's pages and of the API."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import resolve
from django.utils import timezone

from controls.models import Audit, Control
from evidence.models import EvidenceItem, EvidenceVersion
from reports.models import (
    AuditorAccess,
    InfoRequest,
    InfoRequestEvidence,
    Report,
    RequestComment,
)
from reports.services import auditor_access_grant, auditor_access_revoke
from reports.urls import portal_urlpatterns
from soc2app.errors import NotPermitted, ValidationFailed
from tenants.models import ActivityEntry, Role
from tests.factories import ControlFactory, control_map, evidence_row
from tests.reports.portal_world import (
    _done_report,
    _portal_urls,
    _request,
    _url,
    build_world,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(org, manager, make_member, make_audit):
    return build_world(org, manager, make_member, make_audit)


def test_auditor_sees_granted_audit_and_downloads_are_logged(world, client_for):
    w = world
    client = client_for(w.auditor)
    home = client.get(_url("portal_home", w.org))
    assert home.status_code == 200
    body = home.content.decode()
    assert "FY25 Type 1" in body and "Secret audit" not in body

    page = client.get(_url("portal_audit", w.org, audit_pk=w.audit.pk)).content.decode()
    assert "CC6.1" in page and "AC-01" in page and "Type 1" in page
    assert "Payments platform" in page and 'class="chart"' in page
    assert _url("portal_report_download", w.org, audit_pk=w.audit.pk, pk=w.report.pk) in page

    control = client.get(_url("portal_control", w.org, audit_pk=w.audit.pk, pk=w.control.pk))
    text = control.content.decode()
    assert control.status_code == 200
    assert "access-review.pdf" in text and w.version.sha256 in text and "CC6.1" in text
    item = client.get(
        _url("portal_evidence_item", w.org, audit_pk=w.audit.pk, pk=w.version.item_id)
    )
    assert item.status_code == 200 and w.version.sha256 in item.content.decode()

    before = ActivityEntry.objects.for_org(w.org).filter(action="download").count()
    download = client.get(
        _url("portal_version_download", w.org, audit_pk=w.audit.pk, pk=w.version.pk)
    )
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"%PDF-1.4 review"
    assert download["Content-Disposition"].startswith("attachment")
    link = client.get(_url("portal_version_download", w.org, audit_pk=w.audit.pk, pk=w.link.pk))
    assert link.status_code == 200 and w.link.url in link.content.decode()
    # Its breadcrumbs stay in the portal (a members' page would send the auditor back).
    crumbs = re.search(r'<p class="breadcrumbs">(.*?)</p>', link.content.decode()).group(1)
    hrefs = re.findall(r'href="([^"]+)"', crumbs)
    assert hrefs and all("/portal/" in href for href in hrefs)
    assert all(client.get(href).status_code == 200 for href in hrefs)
    report = client.get(_url("portal_report_download", w.org, audit_pk=w.audit.pk, pk=w.report.pk))
    assert report.status_code == 200 and b"".join(report.streaming_content) == b"col1,col2\n"

    entries = ActivityEntry.objects.for_org(w.org).filter(action="download")
    assert entries.count() == before + 3
    assert set(entries.values_list("actor_label", flat=True)) == {w.auditor.user.email}
    # The organization sees them in its activity log.
    log = client_for(w.manager).get(_url("activity", w.org)).content.decode()
    assert w.auditor.user.email in log and "download" in log


def test_non_granted_audit_and_out_of_scope_rows_are_404(world, client_for):
    w = world
    client = client_for(w.auditor)
    for url in _portal_urls(w, w.other_audit, w.control, w.version, w.other_report, _request(w)):
        assert client.get(url).status_code == 404, url
    # Inside the granted audit: a control outside its scope, its evidence, another audit's report.
    for url in [
        _url("portal_control", w.org, audit_pk=w.audit.pk, pk=w.unmapped.pk),
        _url("portal_evidence_item", w.org, audit_pk=w.audit.pk, pk=w.hidden_version.item_id),
        _url("portal_version_download", w.org, audit_pk=w.audit.pk, pk=w.hidden_version.pk),
        _url("portal_report_download", w.org, audit_pk=w.audit.pk, pk=w.other_report.pk),
        _url("portal_audit", w.org, audit_pk=99_999_999),
    ]:
        assert client.get(url).status_code == 404, url
    assert not ActivityEntry.objects.for_org(w.org).filter(action="download").exists()


def test_auditor_is_sent_to_the_portal_from_every_other_page(world, client_for):
    w = world
    client = client_for(w.auditor)
    home = _url("portal_home", w.org)
    for url in [
        _url("org_home", w.org),
        _url("control_list", w.org),
        _url("control_detail", w.org, pk=w.control.pk),
        _url("audit_list", w.org),
        _url("audit_detail", w.org, pk=w.audit.pk),
        _url("evidence_overview", w.org),
        _url("evidence_item", w.org, pk=w.version.item_id),
        _url("evidence_download", w.org, pk=w.version.pk),
        _url("report_list", w.org, audit_pk=w.audit.pk),
        _url("report_download", w.org, pk=w.report.pk),
        _url("request_list", w.org, audit_pk=w.audit.pk),
        _url("request_detail", w.org, audit_pk=w.audit.pk, pk=_request(w).pk),
        _url("members", w.org),
        _url("activity", w.org),
    ]:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"] == home, url
    assert not ActivityEntry.objects.for_org(w.org).filter(action="download").exists()


def test_every_post_is_403_and_changes_nothing(world, client_for):
    w = world
    client = client_for(w.auditor)
    info = _request(w)
    counts = (
        InfoRequest.objects.for_org(w.org).count(),
        RequestComment.objects.for_org(w.org).count(),
        InfoRequestEvidence.objects.for_org(w.org).count(),
        Control.objects.for_org(w.org).count(),
        EvidenceVersion.objects.for_org(w.org).count(),
        Report.objects.for_org(w.org).count(),
        AuditorAccess.objects.for_org(w.org).count(),
        Audit.objects.for_org(w.org).count(),
        ActivityEntry.objects.for_org(w.org).count(),
    )
    name = w.audit.name
    posts = [
        (_url("control_create", w.org), {"code": "NEW-1", "title": "New"}),
        (
            _url("evidence_add", w.org, control_pk=w.control.pk),
            {"title": "x", "url": "https://x.test"},
        ),
        (_url("audit_step", w.org, pk=w.audit.pk, step="basics"), {"name": "Renamed"}),
        (_url("report_request", w.org, audit_pk=w.audit.pk), {"kind": "csv"}),
        (
            _url("auditor_access_grant", w.org, audit_pk=w.other_audit.pk),
            {"membership": w.auditor.pk},
        ),
        (
            _url("auditor_access_revoke", w.org, pk=AuditorAccess.objects.for_org(w.org).get().pk),
            {},
        ),
        (_url("request_list", w.org, audit_pk=w.audit.pk), {}),
        (
            _url("request_detail", w.org, audit_pk=w.audit.pk, pk=info.pk),
            {"action": "answer", "versions": [w.version.pk]},
        ),
        (
            _url("request_detail", w.org, audit_pk=w.audit.pk, pk=info.pk),
            {"action": "comment", "body": "through the back door"},
        ),
        (_url("portal_home", w.org), {}),
        # Every portal page but the request, draw and test pages is GET-only.
        *[
            (url, {"action": "comment", "body": "x"})
            for url in _portal_urls(w, w.audit, w.control, w.version, w.report, info)
            if resolve(url).url_name
            not in ("portal_requests", "portal_request", "portal_population", "portal_sample")
        ],
    ]
    for url, data in posts:
        status = client.post(url, data).status_code
        assert status in (403, 405), url
        assert status == 403 or "/portal/" in url, url
    assert client.delete(_url("control_detail", w.org, pk=w.control.pk)).status_code == 403
    assert (
        InfoRequest.objects.for_org(w.org).count(),
        RequestComment.objects.for_org(w.org).count(),
        InfoRequestEvidence.objects.for_org(w.org).count(),
        Control.objects.for_org(w.org).count(),
        EvidenceVersion.objects.for_org(w.org).count(),
        Report.objects.for_org(w.org).count(),
        AuditorAccess.objects.for_org(w.org).count(),
        Audit.objects.for_org(w.org).count(),
        ActivityEntry.objects.for_org(w.org).count(),
    ) == counts
    assert Audit.objects.for_org(w.org).get(pk=w.audit.pk).name == name


def test_expired_or_revoked_auditor_gets_nothing(world, client_for, make_member):
    w = world
    client = client_for(w.auditor)
    info = _request(w)
    access = AuditorAccess.objects.for_org(w.org).get()
    auditor_access_revoke(membership=w.manager, access=access)
    for url in _portal_urls(w, w.audit, w.control, w.version, w.report, info):
        assert client.get(url).status_code == 404, url
    assert "FY25 Type 1" not in client.get(_url("portal_home", w.org)).content.decode()

    expired = make_member(w.org, Role.AUDITOR)
    auditor_access_grant(membership=w.manager, auditor=expired, audit=w.audit)
    expired.expires_at = timezone.now() - dt.timedelta(minutes=1)
    expired.save()
    gone = client_for(expired)
    for url in [
        _url("portal_home", w.org),
        *_portal_urls(w, w.audit, w.control, w.version, w.report, info),
    ]:
        assert gone.get(url).status_code == 404, url
        assert gone.post(url, {"action": "comment", "body": "x"}).status_code == 404, url
    assert not RequestComment.objects.for_org(w.org).exists()


def test_outsider_gets_404_on_every_portal_url(world, client_for, outsider):
    w = world
    client = client_for(outsider)
    for url in [
        _url("portal_home", w.org),
        *_portal_urls(w, w.audit, w.control, w.version, w.report, _request(w)),
    ]:
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"action": "comment", "body": "x"}).status_code == 404, url
    assert not RequestComment.objects.for_org(w.org).exists()


def test_the_matrix_covers_every_portal_url(world):
    """A new portal page must be added to ``_portal_urls`` (and so to every test above)."""
    w = world
    covered = {
        resolve(url).url_name
        for url in _portal_urls(w, w.audit, w.control, w.version, w.report, _request(w))
    }
    assert covered | {"portal_home"} == {p.name for p in portal_urlpatterns}


def test_api_refuses_auditor_sessions(world):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_login(world.auditor.user)
    response = client.get(f"/api/v1/orgs/{world.org.slug}/controls/")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_grant_rules(world, make_member, other_org):
    w = world
    contributor = make_member(w.org, Role.CONTRIBUTOR)
    with pytest.raises(ValidationFailed):
        auditor_access_grant(membership=w.manager, auditor=contributor, audit=w.other_audit)
    with pytest.raises(NotPermitted):
        auditor_access_grant(membership=contributor, auditor=w.auditor, audit=w.other_audit)
    with pytest.raises(NotPermitted):
        auditor_access_grant(membership=w.auditor, auditor=w.auditor, audit=w.other_audit)
    foreign = make_member(other_org, Role.AUDITOR)
    with pytest.raises(Exception) as exc:
        auditor_access_grant(membership=w.manager, auditor=foreign, audit=w.other_audit)
    assert getattr(exc.value, "status", None) == 404
    # Granting twice is one row and one log entry.
    auditor_access_grant(membership=w.manager, auditor=w.auditor, audit=w.audit)
    assert AuditorAccess.objects.for_org(w.org).count() == 1
    assert ActivityEntry.objects.for_org(w.org).filter(action="auditor_access.grant").count() == 1


def test_manager_grants_and_revokes_from_the_audit_dashboard(world, client_for, make_member):
    w = world
    client = client_for(w.manager)
    second = make_member(w.org, Role.AUDITOR)
    page = client.get(_url("audit_detail", w.org, pk=w.other_audit.pk)).content.decode()
    assert "Auditor access" in page and second.user.email in page
    response = client.post(
        _url("auditor_access_grant", w.org, audit_pk=w.other_audit.pk), {"membership": second.pk}
    )
    assert response.status_code == 302
    access = AuditorAccess.objects.for_org(w.org).get(membership=second)
    assert access.audit_id == w.other_audit.pk and access.granted_by_id == w.manager.user_id
    assert "Secret audit" in client_for(second).get(_url("portal_home", w.org)).content.decode()
    # A non-auditor or a bogus id is refused with a message, not an error page.
    bad = client.post(
        _url("auditor_access_grant", w.org, audit_pk=w.other_audit.pk),
        {"membership": w.manager.pk},
    )
    assert bad.status_code == 302
    assert AuditorAccess.objects.for_org(w.org).filter(membership=w.manager).count() == 0
    response = client.post(_url("auditor_access_revoke", w.org, pk=access.pk))
    assert response.status_code == 302
    assert not AuditorAccess.objects.for_org(w.org).filter(pk=access.pk).exists()
    assert (
        client_for(second).get(_url("portal_audit", w.org, audit_pk=w.other_audit.pk)).status_code
        == 404
    )
    contributor = client_for(make_member(w.org, Role.CONTRIBUTOR))
    assert (
        contributor.post(
            _url("auditor_access_grant", w.org, audit_pk=w.other_audit.pk),
            {"membership": second.pk},
        ).status_code
        == 403
    )


def test_portal_audit_page_queries_do_not_grow_with_rows(world, client_for, manager):
    w = world
    client = client_for(w.auditor)
    url = _url("portal_audit", w.org, audit_pk=w.audit.pk)
    client.get(url)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    for i in range(6):
        control = control_map(
            ControlFactory(organization=w.org, owner=manager, code=f"QC-{i}"), "CC6.2", "CC7.1"
        )
        for month in (3, 6):
            evidence_row(control, dt.date(2025, month, 1))
        _done_report(w.audit, payload=f"r{i}".encode())
    with CaptureQueriesContext(connection) as large:
        assert client.get(url).status_code == 200
    assert len(large) == len(small), [q["sql"] for q in large.captured_queries]
    assert len(small) <= 25


def test_portal_control_page_queries_do_not_grow_with_versions(world, client_for):
    w = world
    client = client_for(w.auditor)
    url = _url("portal_control", w.org, audit_pk=w.audit.pk, pk=w.control.pk)
    client.get(url)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    item = EvidenceItem.objects.for_org(w.org).filter(control=w.control).first()
    for month in range(1, 7):
        evidence_row(w.control, dt.date(2025, month, 1), item=item)
        evidence_row(w.control, dt.date(2025, month, 2))
    with CaptureQueriesContext(connection) as large:
        assert client.get(url).status_code == 200
    assert len(large) == len(small)
