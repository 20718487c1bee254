"""The risk register and the vendors in the auditor portal: a granted auditor reads the
register (heat map, filters, a risk with its scores, acceptance and controls), the risk
assessments and their files, the vendors with their document status and reviews, and downloads
a vendor's documents; every download and export is logged; nobody else is served these pages.
(The other audit, a revoked or expired grant, an outsider and every POST are covered for these
URLs too by the matrix in ``test_portal.py``, through ``portal_world._portal_urls``.)"""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from reports.models import AuditorAccess
from risks.models import RiskMatrix
from tenants.models import ActivityEntry, Role
from tests.reports.portal_registers_world import (
    ASSESSMENT_CSV,
    ASSESSMENT_PDF,
    FORMULA_TITLE,
    SOC2,
    assessment,
    document,
    register_urls,
    risk,
)
from tests.reports.portal_world import world  # noqa: F401 (fixture)
from vendors.models import Vendor

pytestmark = pytest.mark.django_db


def _url(w, name: str, audit=None, **kwargs) -> str:
    audit_pk = (audit or w.audit).pk
    return reverse(name, kwargs={"org_slug": w.org.slug, "audit_pk": audit_pk, **kwargs})


def _main(page: str) -> str:
    """The page's content (the header's sign-out form aside)."""
    return page.split("<main", 1)[1]


def _body(response) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def test_the_audit_page_links_the_registers_for_auditors_and_managers(
    world,  # noqa: F811
    client_for,
    make_member,
):
    w = world
    links = (_url(w, "portal_risks"), _url(w, "portal_vendors"))
    for who in (w.auditor, w.manager):
        page = client_for(who).get(_url(w, "portal_audit")).content.decode()
        assert all(link in page for link in links)
    contributor = make_member(w.org, Role.CONTRIBUTOR)
    page = client_for(contributor).get(_url(w, "portal_audit")).content.decode()
    assert not any(link in page for link in links)


def test_the_register_shows_scores_heat_map_and_filters(world, client_for):  # noqa: F811
    w = world
    client = client_for(w.auditor)
    page = client.get(_url(w, "portal_risks")).content.decode()
    assert page.count('class="risk-row"') == 2
    assert "Key person departure" in page and "Acceptance expired" in page
    assert "Critical · 16" in page and "Medium · 6" in page  # 4×4 inherent, 2×3 residual
    assert page.count("<svg viewBox") == 2 and "Residual risk heat map" in page
    assert 'method="post"' not in _main(page)  # read-only: no form writes anything
    only = client.get(_url(w, "portal_risks") + "?treatment=accept").content.decode()
    assert only.count('class="risk-row"') == 1 and "Key person departure" in only
    level = client.get(_url(w, "portal_risks") + "?level=critical").content.decode()
    assert level.count('class="risk-row"') == 1 and "Key person departure" not in level
    # Reading writes nothing: not even the default matrix.
    assert not RiskMatrix.objects.for_org(w.org).exists()


def test_a_risk_shows_its_treatment_acceptance_and_controls(world, client_for):  # noqa: F811
    w = world
    client = client_for(w.auditor)
    accepted = client.get(_url(w, "portal_risk", pk=w.accepted_risk.pk)).content.decode()
    assert "Documented hand-over" in accepted and "Acceptance expired" in accepted
    assert w.manager.user.email in accepted
    mitigated = client.get(_url(w, "portal_risk", pk=w.mitigated_risk.pk)).content.decode()
    assert _url(w, "portal_control", pk=w.control.pk) in mitigated and "AC-01" in mitigated
    assert "likelihood 4 (Likely) × impact 4 (Major)" in mitigated
    for bad in (99_999_999, w.accepted_risk.pk + 10_000):
        assert client.get(_url(w, "portal_risk", pk=bad)).status_code == 404


def test_assessments_list_and_files_are_logged_downloads(world, client_for):  # noqa: F811
    w = world
    client = client_for(w.auditor)
    page = client.get(_url(w, "portal_risk_assessments")).content.decode()
    assert page.count('class="assessment-row"') == 2 and "PDF being rendered" in page
    assert "Residual: medium 1, critical 1" in page and "Acceptances expired: 1" in page
    assert w.assessment.csv_sha256[:12] in page
    for kind, data, content_type in (
        ("csv", ASSESSMENT_CSV, "text/csv"),
        ("pdf", ASSESSMENT_PDF, "application/pdf"),
    ):
        url = _url(w, "portal_risk_assessment_file", pk=w.assessment.pk, kind=kind)
        response = client.get(url)
        assert response.status_code == 200 and _body(response) == data
        assert response["Content-Type"] == content_type
        assert response["Content-Disposition"].startswith("attachment")
        assert response["X-Content-Type-Options"] == "nosniff"
    entries = ActivityEntry.objects.for_org(w.org).filter(action="download")
    assert entries.count() == 2
    assert {e.changes["sha256"][1] for e in entries} == {
        w.assessment.csv_sha256,
        w.assessment.pdf_sha256,
    }
    assert all(e.actor_label == w.auditor.user.email for e in entries)
    # A PDF still rendering, a kind that is not a file, another id: not found, not logged.
    for pk, kind in ((w.rendering.pk, "pdf"), (w.assessment.pk, "rows"), (99_999_999, "csv")):
        url = _url(w, "portal_risk_assessment_file", pk=pk, kind=kind)
        assert client.get(url).status_code == 404
    assert entries.count() == 2


def test_vendors_show_status_reviews_and_documents_download(world, client_for):  # noqa: F811
    w = world
    client = client_for(w.auditor)
    page = client.get(_url(w, "portal_vendors")).content.decode()
    assert page.count('class="vendor-row"') == 2 and "Stale" in page
    assert "Approve with conditions" in page and "Not reviewed" in page
    stale = client.get(_url(w, "portal_vendors") + "?attention=stale").content.decode()
    assert stale.count('class="vendor-row"') == 1 and "Mail Co" not in stale

    detail = client.get(_url(w, "portal_vendor", pk=w.vendor.pk)).content.decode()
    assert "Bridge letter requested" in detail and w.soc2.sha256 in detail
    assert "<form" not in _main(detail)
    url = _url(w, "portal_vendor_document", pk=w.vendor.pk, doc_pk=w.soc2.pk)
    response = client.get(url)
    assert response.status_code == 200 and _body(response) == SOC2
    assert response["Content-Security-Policy"].startswith("default-src 'none'")
    (entry,) = ActivityEntry.objects.for_org(w.org).filter(action="download")
    assert entry.object_id == str(w.soc2.pk) and entry.changes["sha256"][1] == w.soc2.sha256


def test_a_document_is_found_only_under_its_own_vendor(world, client_for, other_org, manager):  # noqa: F811
    w = world
    client = client_for(w.auditor)
    other = Vendor.objects.create(organization=other_org, name="Elsewhere")
    foreign = document(other, "dpa", b"%PDF-1.4 foreign")
    for pk, doc_pk in (
        (w.quiet_vendor.pk, w.soc2.pk),  # right document, wrong vendor
        (other.pk, foreign.pk),  # another organization's
        (w.vendor.pk, foreign.pk),
        (w.vendor.pk, 99_999_999_999_999_999_999),
    ):
        url = _url(w, "portal_vendor_document", pk=pk, doc_pk=doc_pk)
        assert client.get(url).status_code == 404, (pk, doc_pk)
    assert client.get(_url(w, "portal_vendor", pk=other.pk)).status_code == 404
    assert not ActivityEntry.objects.for_org(w.org).filter(action="download").exists()


def test_other_organizations_rows_are_not_found(world, client_for, other_org):  # noqa: F811
    w = world
    client = client_for(w.auditor)
    foreign_risk = risk(other_org, "Their risk")
    foreign_assessment = assessment(other_org, w.assessment.performed_on)
    for url in (
        _url(w, "portal_risk", pk=foreign_risk.pk),
        _url(w, "portal_risk_assessment_file", pk=foreign_assessment.pk, kind="csv"),
    ):
        assert client.get(url).status_code == 404, url
    assert "Their risk" not in client.get(_url(w, "portal_risks")).content.decode()


def test_contributors_get_not_found_and_managers_preview(world, client_for, make_member):  # noqa: F811
    w = world
    contributor = client_for(make_member(w.org, Role.CONTRIBUTOR))
    manager = client_for(w.manager)
    for url in register_urls(w, w.audit):
        assert contributor.get(url).status_code == 404, url
        assert manager.get(url).status_code == 200, url
    # A manager previews any audit, granted or not.
    assert manager.get(_url(w, "portal_risks", w.other_audit)).status_code == 200
    # Auditors of an audit that was revoked see nothing.
    AuditorAccess.objects.for_org(w.org).filter(audit=w.audit).delete()
    auditor = client_for(w.auditor)
    for url in register_urls(w, w.audit):
        assert auditor.get(url).status_code == 404, url


def _rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(_body(response).decode("utf-8-sig"))))


def test_portal_exports_follow_the_filters_and_are_logged(world, client_for):  # noqa: F811
    w = world
    client = client_for(w.auditor)
    response = client.get(_url(w, "portal_risks") + "?treatment=mitigate&format=csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    header, *rows = _rows(response)
    assert header[:4] == ["ID", "Title", "Category", "Owner"] and len(rows) == 1
    assert rows[0][1] == "'" + FORMULA_TITLE and rows[0][14] == "AC-01"

    response = client.get(_url(w, "portal_vendors") + "?format=xlsx")
    assert response["Content-Disposition"].endswith('.xlsx"')
    sheet = load_workbook(io.BytesIO(_body(response))).active
    values = list(sheet.values)
    assert values[0][1] == "Vendor" and {r[1] for r in values[1:]} == {"Payments Inc", "Mail Co"}
    entries = ActivityEntry.objects.for_org(w.org).filter(action="export")
    assert sorted(e.changes["format"][1] for e in entries) == ["csv", "xlsx"]
    assert {e.object_repr for e in entries} == {
        f"Risk register ({w.audit.name})",
        f"Vendors ({w.audit.name})",
    }


def test_portal_pages_queries_do_not_grow(world, client_for, django_assert_max_num_queries):  # noqa: F811
    w = world
    client = client_for(w.auditor)
    pages = [
        _url(w, "portal_risks"),
        _url(w, "portal_risks") + "?format=csv",
        _url(w, "portal_risk_assessments"),
        _url(w, "portal_vendors"),
        _url(w, "portal_vendors") + "?format=xlsx",
        _url(w, "portal_vendor", pk=w.vendor.pk),
    ]

    def counts() -> list[int]:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        found = []
        for url in pages:
            with CaptureQueriesContext(connection) as captured:
                _body(client.get(url))
            found.append(len(captured))
        return found

    counts()  # the first request of a session reads a little more
    small = counts()
    for i in range(30):
        r = risk(w.org, f"Risk {i}", owner=w.manager, treatment="mitigate")
        r.controls.through.objects.create(organization=w.org, risk=r, control=w.control)
        vendor = Vendor.objects.create(organization=w.org, name=f"Vendor {i}", owner=w.manager)
        document(vendor, "questionnaire", b"%PDF-1.4 q")
        document(w.vendor, "certificate", b"%PDF-1.4 c")
        assessment(w.org, w.assessment.performed_on)
    assert counts() == small
