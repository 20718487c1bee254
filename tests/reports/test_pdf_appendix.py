"""The readiness PDF's appendices (``reports.appendix``): the risk register (heat maps, counts per
level, the highest residual risks, the last assessment) and the vendor list, only when the
organization has risks or vendors; laid out in one pass and in parts (the two ways the app
renders), with no table row split across pages and nothing wider than the page."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
from dataclasses import dataclass

import pytest

from reports.content import ReportContent, report_content
from reports.rendering.parallel import render_parallel
from reports.rendering.pdf import render_single
from risks.matrix import matrix_for
from risks.models import Risk, RiskAssessment
from tenants.context import org_scope
from tenants.models import Role
from tests.reports.conftest import TODAY
from tests.reports.pdf_pages import Page, read_pages
from tests.reports.test_pdf_layout import EMAILS, _body, _first_column_x, _headings
from vendors.models import Vendor, VendorDocument, VendorReview

pytestmark = [pytest.mark.django_db, pytest.mark.backend_free]

VENDOR = re.compile(r"^VEN-\d{3}$")
PAGE_WIDTH = 595.28  # A4, points
RIGHT_EDGE = PAGE_WIDTH - 15 / 25.4 * 72  # the right margin is 15 mm


def add_risks(org, owners, n: int = 30) -> list[Risk]:
    matrix_for(org)
    risks = []
    for i in range(n):
        li, im = 1 + i % 5, 1 + (i * 3) % 5
        accepted = i % 7 == 3
        risks.append(
            Risk(
                organization=org,
                title=f"Risk number {i:02d} of the payments platform",
                category="security" if i % 2 else "vendor",
                owner=owners[i % len(owners)] if i % 6 else None,
                inherent_likelihood=li,
                inherent_impact=im,
                inherent_score=li * im,
                residual_likelihood=max(1, li - 1),
                residual_impact=im,
                residual_score=max(1, li - 1) * im,
                treatment="accept" if accepted else "mitigate",
                accepted_reason="Low exposure" if accepted else "",
                accepted_until=TODAY - dt.timedelta(days=5) if accepted else None,
                next_review_date=TODAY + dt.timedelta(days=30 * (i % 4) - 20),
            )
        )
    return Risk.objects.bulk_create(risks)


def add_vendors(org, owner, n: int = 70) -> list[Vendor]:
    vendors = Vendor.objects.bulk_create(
        Vendor(
            organization=org,
            name=f"VEN-{i:03d} Cloud services of a long vendor name {i}",
            criticality=["low", "medium", "high", "critical"][i % 4],
            is_subprocessor=i % 3 == 0,
            owner=owner,
            next_review_date=TODAY + dt.timedelta(days=40 * (i % 5) - 60),
        )
        for i in range(n)
    )
    docs = []
    for i, vendor in enumerate(vendors):
        if i % 4 == 3 and i % 8 == 3:
            continue  # a critical vendor without a SOC 2 report
        period_end = TODAY - dt.timedelta(days=100 + 60 * (i % 6))
        docs.append(
            VendorDocument(
                organization=org,
                vendor=vendor,
                kind="soc2_report",
                file=f"vendors/{org.pk}/x{i}",
                file_name="soc2.pdf",
                content_type="application/pdf",
                size=1,
                sha256="a" * 64,
                period_end=period_end,
            )
        )
    VendorDocument.objects.bulk_create(docs)
    VendorReview.objects.bulk_create(
        VendorReview(
            organization=org,
            vendor=v,
            reviewed_on=TODAY - dt.timedelta(days=200),
            residual_risk="low",
            decision="approve",
            next_review_date=TODAY + dt.timedelta(days=165),
        )
        for v in vendors[::2]
    )
    return vendors


@dataclass
class Rendered:
    content: ReportContent
    pages: list[Page]
    path: str


@pytest.fixture(scope="module")
def rendered() -> dict[str, Rendered]:
    return {}


@pytest.fixture(params=["single", "parallel"])
def report(request, rendered, org, make_member, make_audit, tmp_path, settings) -> Rendered:
    if request.param not in rendered:
        owners = [make_member(org, Role.COMPLIANCE_MANAGER, user__email=e) for e in EMAILS]
        add_risks(org, owners)
        add_vendors(org, owners[1])
        RiskAssessment.objects.create(
            organization=org,
            performed_on=TODAY - dt.timedelta(days=400),
            next_due=TODAY - dt.timedelta(days=35),
            status="ready",
        )
        audit = make_audit(org, name="FY25 Type 1")
        out = tmp_path / f"appendix-{request.param}.pdf"
        with org_scope(org):
            content = report_content(audit, today=TODAY)
            if request.param == "parallel":
                settings.REPORT_PDF_CHUNK_ROWS = 25  # the vendor list in several parts
                settings.REPORT_PDF_WORKERS = 2
                render_parallel(content, out)
            else:
                render_single(content, out)
        keep = os.environ.get("SCREENSHOT_DIR")
        if keep:  # for looking at the pages (pdftoppm -png)
            os.makedirs(keep, exist_ok=True)
            shutil.copy(out, os.path.join(keep, out.name))
        rendered[request.param] = Rendered(content, read_pages(out.read_bytes()), str(out))
    return rendered[request.param]


def _appendix(pages: list[Page], title: str) -> list[Page]:
    out, current = [], None
    for page in pages[2:]:
        for heading in _headings(page):
            current = heading.replace(" (continued)", "")
        if current == title:
            out.append(page)
    return out


def test_risk_register_appendix(report):
    pages = _appendix(report.pages, "Appendix: Risk register")
    assert pages, "no risk register appendix"
    text = re.sub(r"\s+", " ", "\n".join(p.text for p in pages))
    risks = report.content.risks
    assert "30 risks in the register" in text and "5×5 matrix" in text
    assert "The last risk assessment was run on" in text and "(overdue)" in text
    assert "Inherent risk" in text and "Residual risk" in text
    # The counts per level add up to the register, inherent and residual.
    assert sum(i for _, _, i, _ in risks.levels) == 30 == sum(r for *_, r in risks.levels)
    assert "Highest residual risks (20 of 30)" in text
    for line in risks.top:  # a title wraps in its column: its first line
        assert " ".join(line.title.split()[:5]) in text, line.title
    assert "Acceptance" in text and "expired" in text and "No owner" in text
    # The heat map cells are drawn in the level colours.
    fills = {r.fill for p in pages for r in p.rects}
    assert {"#cdeccf", "#fbe7a1", "#f8c08a"} <= fills
    # The highest residual score is listed first.
    assert risks.top[0].residual == max(line.residual for line in risks.top)


def test_vendor_appendix_rows_are_whole_and_fit(report):
    pages = _appendix(report.pages, "Appendix: Vendors")
    assert len(pages) >= 2, "the vendor list should span pages for this test to bite"
    for page in pages:
        first = _body(page)[0]
        assert VENDOR.match(first.text), (page.number, first.text)
        assert abs(first.x0 - _first_column_x(page)) < 1, page.number
    text = "\n".join(p.text for p in pages)
    names = [line.name for line in report.content.vendors.lines]
    assert len(names) == 70
    for name in names:
        assert name.split()[0] in text
    for label in ("SOC 2 report missing", "Stale documents", "Documents current", "Never"):
        assert label in text, label
    assert "overdue" in text and "ops-lead@" not in text  # owners are not in the list


def test_appendix_pages_fit_the_page(report):
    for title in ("Appendix: Risk register", "Appendix: Vendors"):
        for page in _appendix(report.pages, title):
            wide = [w.text for w in page.words if w.x1 > RIGHT_EDGE + 1]
            assert not wide, (title, page.number, wide)


def test_contents_list_the_appendices(report):
    contents = report.pages[1].text
    assert "Appendix: Risk register" in contents and "Appendix: Vendors" in contents


def test_pdftotext_reads_the_appendices(report):
    tool = shutil.which("pdftotext")
    if tool is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    text = subprocess.run(  # noqa: S603 (our own file, a fixed tool)
        [tool, "-layout", report.path, "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Appendix: Risk register" in text and "Appendix: Vendors" in text
    assert "VEN-069" in text and "Risk number" in text


def test_no_appendix_without_risks_or_vendors(org, manager, make_audit, tmp_path):
    audit = make_audit(org, name="Plain")
    out = tmp_path / "plain.pdf"
    with org_scope(org):
        content = report_content(audit, today=TODAY)
        render_single(content, out)
    assert content.risks is None and content.vendors is None
    text = "\n".join(p.text for p in read_pages(out.read_bytes()))
    assert "Appendix" not in text


def test_only_the_vendor_appendix(org, manager, make_audit, tmp_path, other_org, make_member):
    """Vendors but no risks: the vendor appendix alone; another organization's risks never
    appear."""
    add_vendors(org, manager, n=3)
    add_risks(other_org, [make_member(other_org)], n=4)
    audit = make_audit(org, name="Vendors only")
    out = tmp_path / "vendors.pdf"
    with org_scope(org):
        content = report_content(audit, today=TODAY)
        render_single(content, out)
    text = "\n".join(p.text for p in read_pages(out.read_bytes()))
    assert "Appendix: Vendors" in text and "Appendix: Risk register" not in text
    assert "Risk number" not in text


@pytest.mark.parametrize("size", [3, 30])
def test_the_appendices_cost_a_constant_number_of_queries(org, make_member, size):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from reports.appendix import risk_appendix, vendor_appendix

    owner = make_member(org, Role.COMPLIANCE_MANAGER)
    add_risks(org, [owner], n=size)
    add_vendors(org, owner, n=size)
    with org_scope(org), CaptureQueriesContext(connection) as ctx:
        risks, vendors = risk_appendix(org, TODAY), vendor_appendix(org, TODAY)
    assert risks.total == size and len(vendors.lines) == size
    # Risks: the count, the matrix, the heat counts, the top risks with owners, the latest
    # assessment; vendors: the organization's vendor rules, the list's aggregate, the last
    # reviews.
    assert len(ctx.captured_queries) == 8, [q["sql"] for q in ctx.captured_queries]
