"""The API of an audit's risk register and vendors: the portal's reads as JSON for auditors on
their granted audits and for the managers (and their keys); nobody else, nothing written;
downloads and exports logged."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from reports.models import AuditorAccess
from reports.services import auditor_access_revoke
from tenants.models import ActivityEntry, Role
from tests.api.conftest import api_for, key_client  # noqa: F401 (fixtures)
from tests.reports.portal_registers_world import (
    ASSESSMENT_PDF,
    FORMULA_TITLE,
    SOC2,
    assessment,
    document,
    risk,
)
from tests.reports.portal_world import world  # noqa: F401 (fixture)
from vendors.models import Vendor

pytestmark = pytest.mark.django_db


def _api(w, tail: str, audit=None) -> str:
    return f"/api/v1/orgs/{w.org.slug}/audits/{(audit or w.audit).pk}/{tail}"


def _endpoints(w) -> list[str]:
    return [
        "risks/",
        f"risks/{w.mitigated_risk.pk}/",
        "risks/export/?format=csv",
        "risk-assessments/",
        f"risk-assessments/{w.assessment.pk}/",
        f"risk-assessments/{w.assessment.pk}/csv/",
        "vendors/",
        f"vendors/{w.vendor.pk}/",
        f"vendors/{w.vendor.pk}/documents/",
        f"vendors/{w.vendor.pk}/documents/{w.soc2.pk}/download/",
        f"vendors/{w.vendor.pk}/reviews/",
        "vendors/export/?format=xlsx",
    ]


def _body(response) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def test_auditors_read_the_register_and_assessments(world, api_for):  # noqa: F811
    w = world
    client = api_for(w.auditor)
    rows = client.get(_api(w, "risks/")).json()["results"]
    assert [r["id"] for r in rows] == [w.mitigated_risk.pk, w.accepted_risk.pk]
    assert rows[0]["controls"] == [w.control.pk] and rows[0]["residual_level"] == "critical"
    assert rows[1]["acceptance_expired"] is True
    only = client.get(_api(w, "risks/?treatment=accept")).json()["results"]
    assert [r["id"] for r in only] == [w.accepted_risk.pk]
    bad = client.get(_api(w, "risks/?level=extreme"))
    assert bad.status_code == 400
    detail = client.get(_api(w, f"risks/{w.accepted_risk.pk}/")).json()
    assert detail["accepted_reason"] == "Documented hand-over"

    listed = client.get(_api(w, "risk-assessments/")).json()["results"]
    assert [a["id"] for a in listed] == [w.rendering.pk, w.assessment.pk]
    assert listed[0]["has_pdf"] is False and listed[1]["pdf_sha256"] == w.assessment.pdf_sha256
    assert client.get(_api(w, f"risk-assessments/{w.rendering.pk}/pdf/")).status_code == 404
    pdf = client.get(_api(w, f"risk-assessments/{w.assessment.pk}/pdf/"))
    assert pdf.status_code == 200 and _body(pdf) == ASSESSMENT_PDF
    head = client.head(_api(w, f"risk-assessments/{w.assessment.pk}/csv/"))
    assert head.status_code == 200
    assert ActivityEntry.objects.for_org(w.org).filter(action="download").count() == 1


def test_auditors_read_vendors_and_download_documents(world, api_for):  # noqa: F811
    w = world
    client = api_for(w.auditor)
    rows = client.get(_api(w, "vendors/")).json()["results"]
    assert {r["name"]: r["document_status"] for r in rows} == {
        "Payments Inc": "stale",
        "Mail Co": "none",
    }
    stale = client.get(_api(w, "vendors/?attention=stale")).json()["results"]
    assert [r["id"] for r in stale] == [w.vendor.pk]
    (doc,) = client.get(_api(w, f"vendors/{w.vendor.pk}/documents/")).json()["results"]
    assert doc["sha256"] == w.soc2.sha256 and doc["status"] == "stale"
    (review,) = client.get(_api(w, f"vendors/{w.vendor.pk}/reviews/")).json()["results"]
    assert review["decision"] == "approve_with_conditions"
    file = client.get(
        _api(w, f"vendors/{w.vendor.pk}/documents/{w.soc2.pk}/download/"),
        HTTP_ACCEPT="application/pdf",
    )
    assert file.status_code == 200 and _body(file) == SOC2
    (entry,) = ActivityEntry.objects.for_org(w.org).filter(action="download")
    assert entry.object_id == str(w.soc2.pk) and entry.actor_label == w.auditor.user.email
    # The document under another vendor, or another organization's: not found.
    wrong = client.get(_api(w, f"vendors/{w.quiet_vendor.pk}/documents/{w.soc2.pk}/download/"))
    assert wrong.status_code == 404 and wrong.json()["code"] == "not_found"


def test_exports_contents_formulas_and_log(world, api_for):  # noqa: F811
    w = world
    client = api_for(w.auditor)
    response = client.get(_api(w, "risks/export/?format=csv&treatment=mitigate"))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    header, *rows = csv.reader(io.StringIO(_body(response).decode("utf-8-sig")))
    assert header[1] == "Title" and header[13] == "Treatment" and len(rows) == 1
    assert rows[0][1] == "'" + FORMULA_TITLE  # neutralised: never run as a formula

    response = client.get(_api(w, "vendors/export/?format=xlsx"))
    book = load_workbook(io.BytesIO(_body(response)))
    values = list(book.active.values)
    header = values[0]
    row = next(r for r in values[1:] if r[1] == "Payments Inc")
    assert row[header.index("Document status")] == "Stale documents"
    assert row[header.index("Last review decision")] == "Approve with conditions"
    assert row[header.index("Review overdue")] == "yes"
    assert client.get(_api(w, "vendors/export/?format=docx")).status_code == 400
    assert ActivityEntry.objects.for_org(w.org).filter(action="export").count() == 2


def test_roles_grants_and_tenants(world, api_for, key_client, make_member, outsider):  # noqa: F811
    w = world
    contributor = api_for(make_member(w.org, Role.CONTRIBUTOR))
    manager = api_for(w.manager)
    auditor = api_for(w.auditor)
    for tail in _endpoints(w):
        assert manager.get(_api(w, tail)).status_code == 200, tail
        assert manager.get(_api(w, tail, w.other_audit)).status_code == 200, tail
        assert key_client(w.org).get(_api(w, tail)).status_code == 200, tail
        assert contributor.get(_api(w, tail)).status_code == 403, tail
        assert key_client(w.org, "read_only").get(_api(w, tail)).status_code == 403, tail
        assert api_for(outsider).get(_api(w, tail)).status_code == 404, tail
        assert key_client(outsider.organization).get(_api(w, tail)).status_code == 404, tail
        assert auditor.get(_api(w, tail, w.other_audit)).status_code == 404, tail
        assert auditor.post(_api(w, tail), {}).status_code == 405, tail
        assert auditor.delete(_api(w, tail)).status_code == 405, tail
    auditor_access_revoke(
        membership=w.manager, access=AuditorAccess.objects.for_org(w.org).get(audit=w.audit)
    )
    for tail in _endpoints(w):
        assert api_for(w.auditor).get(_api(w, tail)).status_code == 404, tail


def test_other_organizations_rows_are_not_found(world, api_for, other_org):  # noqa: F811
    w = world
    client = api_for(w.auditor)
    their_risk = risk(other_org, "Their risk")
    their_assessment = assessment(other_org, w.assessment.performed_on)
    their_vendor = Vendor.objects.create(organization=other_org, name="Theirs")
    their_doc = document(their_vendor, "dpa", b"%PDF-1.4 theirs")
    for tail in (
        f"risks/{their_risk.pk}/",
        f"risk-assessments/{their_assessment.pk}/",
        f"risk-assessments/{their_assessment.pk}/csv/",
        f"vendors/{their_vendor.pk}/",
        f"vendors/{their_vendor.pk}/documents/",
        f"vendors/{their_vendor.pk}/documents/{their_doc.pk}/download/",
        f"vendors/{w.vendor.pk}/documents/{their_doc.pk}/download/",
        "risks/99999999999999999999/",
    ):
        assert client.get(_api(w, tail)).status_code == 404, tail
    assert not ActivityEntry.objects.for_org(w.org).filter(action="download").exists()


def test_list_and_export_queries_do_not_grow(world, api_for):  # noqa: F811
    w = world
    client = api_for(w.auditor)
    tails = [
        "risks/",
        "risks/export/?format=csv",
        "risk-assessments/",
        "vendors/",
        "vendors/export/?format=csv",
    ]

    def counts() -> list[int]:
        found = []
        for tail in tails:
            with CaptureQueriesContext(connection) as captured:
                assert _body(client.get(_api(w, tail)))
            found.append(len(captured))
        return found

    counts()
    small = counts()
    for i in range(30):
        r = risk(w.org, f"Risk {i}", owner=w.manager, treatment="mitigate")
        r.controls.through.objects.create(organization=w.org, risk=r, control=w.control)
        vendor = Vendor.objects.create(organization=w.org, name=f"Vendor {i}", owner=w.manager)
        document(vendor, "questionnaire", b"%PDF-1.4 q")
        assessment(w.org, w.assessment.performed_on)
    assert counts() == small
