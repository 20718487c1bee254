"""The risk register and the vendor list as CSV and XLSX from the managers' pages and the API:
the filters shown, every column, formula-looking text neutralised, a workbook that opens, the
same number of queries for 5 rows and for 300 (the 2,000-row scale is `make bench`'s); managers only, their organization only."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from controls.models import System
from risks import exports as risk_exports
from risks import services as risk_services
from tenants.models import Role
from tests.api.conftest import api_for, key_client  # noqa: F401 (fixtures)
from tests.factories import ControlFactory
from tests.reports.export_rows import bulk_risks, bulk_vendors
from vendors import exports as vendor_exports
from vendors import services as vendor_services
from vendors.models import Vendor, VendorReview

pytestmark = pytest.mark.django_db

FORMULA = '=HYPERLINK("http://evil.test","x")'


def _body(response) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def _csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(_body(response).decode("utf-8-sig"))))


def _page(org, name: str) -> str:
    return reverse(name, kwargs={"org_slug": org.slug})


def _api(org, tail: str) -> str:
    return f"/api/v1/orgs/{org.slug}/{tail}"


@pytest.fixture
def register(org, manager):
    control = ControlFactory(organization=org, code="IAM-03", title="MFA")
    system = System.objects.create(organization=org, name="Production")
    mitigated = risk_services.risk_create(
        membership=manager,
        title=FORMULA,
        category="security",
        owner=manager.pk,
        inherent_likelihood=4,
        inherent_impact=5,
        residual_likelihood=2,
        residual_impact=2,
        treatment="mitigate",
        controls=[control.pk],
        systems=[system.pk],
    )
    accepted = risk_services.risk_create(
        membership=manager,
        title="Key person departure",
        category="people",
        inherent_likelihood=2,
        inherent_impact=3,
        treatment="accept",
        accepted_reason="+cmd|' /C calc'!A0",
        accepted_until=timezone.localdate() + dt.timedelta(days=90),
    )
    return mitigated, accepted


def test_register_csv_has_every_column_and_neutralises_formulas(org, manager, client_for, register):
    mitigated, accepted = register
    response = client_for(manager).get(_page(org, "risks") + "?format=csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment")
    assert response["Content-Disposition"].endswith('.csv"')
    header, *rows = _csv(response)
    assert header == risk_exports.HEADER
    # Highest residual score first: the accepted risk (6) before the mitigated one (4).
    second, first = (dict(zip(header, row, strict=True)) for row in rows)
    assert first["Title"] == "'" + FORMULA and first["Owner"] == manager.user.email
    assert first["Inherent score"] == "20" and first["Inherent level"] == "Critical"
    assert first["Residual score"] == "4" and first["Residual level"] == "Low"
    assert first["Controls"] == "IAM-03" and first["Systems"] == "Production"
    assert first["Treatment"] == "Mitigate" and first["Acceptance expired"] == "no"
    assert second["Acceptance reason"] == "'+cmd|' /C calc'!A0"
    assert second["Accepted by"] == manager.user.email
    assert second["Accepted until"] == accepted.accepted_until.isoformat()


def test_register_export_honours_the_filters_and_xlsx_opens(org, manager, client_for, register):
    client = client_for(manager)
    only = _csv(client.get(_page(org, "risks") + "?treatment=accept&format=csv"))
    assert [r[1] for r in only[1:]] == ["Key person departure"]
    response = client.get(_page(org, "risks") + "?level=low&format=xlsx")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(_body(response)))["Risk register"]
    values = list(sheet.values)
    assert list(values[0]) == risk_exports.HEADER and len(values) == 2
    assert values[1][1] == FORMULA  # exact text, stored as a string, never a formula
    cell = sheet.cell(row=2, column=2)
    assert cell.data_type == "s" and sheet.freeze_panes == "A2"
    # The Export menu carries the page's filters.
    page = client.get(_page(org, "risks") + "?treatment=accept&page=1").content.decode()
    assert "?treatment=accept&amp;format=xlsx" in page


def test_vendor_export_has_status_last_and_next_review(org, manager, client_for):
    today = timezone.localdate()
    vendor = vendor_services.vendor_create(
        membership=manager, name="@SUM(A1:A9)", criticality="critical", owner=manager
    )
    VendorReview.objects.create(
        organization=org,
        vendor=vendor,
        reviewed_on=today - dt.timedelta(days=20),
        residual_risk="high",
        decision="approve_with_conditions",
        next_review_date=today + dt.timedelta(days=345),
    )
    Vendor.objects.create(organization=org, name="Quiet", criticality="low")
    client = client_for(manager)
    header, *rows = _csv(client.get(_page(org, "vendors") + "?format=csv"))
    assert header == vendor_exports.HEADER and len(rows) == 2
    row = dict(zip(header, rows[0], strict=True))
    assert row["Vendor"] == "'@SUM(A1:A9)" and row["Document status"] == "SOC 2 report missing"
    assert row["Last review"] == (today - dt.timedelta(days=20)).isoformat()
    assert row["Last review decision"] == "Approve with conditions"
    assert row["Last review residual risk"] == "High"
    assert row["SOC 2 report status"] == "none held"
    quiet = dict(zip(header, rows[1], strict=True))
    assert quiet["Last review"] == "" and quiet["Document status"] == "No documents"
    response = client.get(_page(org, "vendors") + "?criticality=low&format=xlsx")
    values = list(load_workbook(io.BytesIO(_body(response))).active.values)
    assert [r[1] for r in values[1:]] == ["Quiet"]


def test_api_exports_follow_the_filters_and_refuse_a_bad_format(
    org,
    manager,
    api_for,  # noqa: F811
    key_client,  # noqa: F811
    register,
):
    client = api_for(manager)
    response = client.get(_api(org, "risks/export/?format=csv&treatment=accept"))
    assert response.status_code == 200 and [r[1] for r in _csv(response)[1:]] == [
        "Key person departure"
    ]
    assert client.get(_api(org, "risks/export/")).status_code == 200  # CSV by default
    xlsx = key_client(org).get(_api(org, "vendors/export/?format=xlsx"))
    assert xlsx.status_code == 200 and load_workbook(io.BytesIO(_body(xlsx)))
    for tail in ("risks/export/?format=pdf", "vendors/export/?format=docx"):
        bad = client.get(_api(org, tail))
        assert bad.status_code == 400 and bad.json()["code"] == "invalid", tail
    assert client.get(_api(org, "risks/export/?level=extreme")).status_code == 400


def test_exports_are_for_managers_of_the_organization(
    org,
    other_org,
    manager,
    make_member,
    client_for,
    api_for,  # noqa: F811
    key_client,  # noqa: F811
    outsider,
    register,
):
    theirs = make_member(other_org, Role.COMPLIANCE_MANAGER)
    risk_services.risk_create(
        membership=theirs,
        title="Their secret risk",
        category="security",
        inherent_likelihood=1,
        inherent_impact=1,
    )
    contributor = make_member(org, Role.CONTRIBUTOR)
    for name in ("risks", "vendors"):
        assert client_for(contributor).get(_page(org, name) + "?format=csv").status_code == 403
        assert client_for(outsider).get(_page(org, name) + "?format=csv").status_code == 404
        tail = f"{name}/export/?format=csv"
        assert api_for(contributor).get(_api(org, tail)).status_code == 403
        assert key_client(org, "read_only").get(_api(org, tail)).status_code == 403
        assert api_for(outsider).get(_api(org, tail)).status_code == 404
    mine = _body(client_for(manager).get(_page(org, "risks") + "?format=csv")).decode()
    assert "Their secret risk" not in mine


@pytest.mark.parametrize("kind", ["risks", "vendors"])
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_exports_run_in_constant_queries(
    org,
    manager,
    client_for,
    api_for,  # noqa: F811
    kind,
    fmt,
):
    controls = [ControlFactory(organization=org) for _ in range(2)]
    systems = [System.objects.create(organization=org, name=f"S{i}") for i in range(2)]
    fill = {
        "risks": lambda n, start: bulk_risks(
            org, manager, n, controls=controls, systems=systems, start=start
        ),
        "vendors": lambda n, start: bulk_vendors(org, manager, n, start=start),
    }[kind]
    urls = [_page(org, kind) + f"?format={fmt}", _api(org, f"{kind}/export/?format={fmt}")]
    page, api = client_for(manager), api_for(manager)
    counts = []
    for total, start in ((5, 0), (295, 5)):
        fill(total, start)
        found = []
        for client, url in zip((page, api), urls, strict=True):
            client.get(url)  # warm: the session's first-request bookkeeping
            with CaptureQueriesContext(connection) as queries:
                response = client.get(url)
                body = _body(response)
            assert response.status_code == 200 and body
            found.append(len(queries))
        counts.append(found)
    assert counts[0] == counts[1], counts
    assert max(counts[1]) <= 12, counts
    if fmt == "csv":
        lines = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    else:
        lines = list(load_workbook(io.BytesIO(body)).active.values)
    assert len(lines) == 301
