"""The auditor portal's risk register and vendors in a real browser, at a laptop's and a
phone's width: an auditor reads the register and its heat map, opens a risk, goes to the
vendors, opens one and downloads its SOC 2 report; no page scrolls sideways and nothing breaks
the Content-Security-Policy (console errors). Screenshots go to $SCREENSHOT_DIR when set."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser.sessions import VIEWPORTS, signed_in_page
from tests.browser.test_pages_fit import OVERFLOW_JS
from tests.factories import PASSWORD
from tests.reports.conftest import make_audit  # noqa: F401  (fixture)
from tests.reports.portal_registers_world import SOC2, document, register_urls, risk
from tests.reports.portal_world import build_world
from vendors.models import Vendor, VendorReview

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LONG = "Supercalifragilisticexpialidociouslylongvendorname" * 2


def _shots() -> Path | None:
    directory = os.environ.get("SCREENSHOT_DIR")
    if not directory:
        return None
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    return out


def test_an_auditor_reads_the_register_and_a_vendors_documents(
    browser,
    live_server,
    org,
    manager,
    make_member,
    make_audit,  # noqa: F811
):
    w = build_world(org, manager, make_member, make_audit)
    risk(org, f"Risk {LONG}", owner=manager, description=LONG)
    long_vendor = Vendor.objects.create(
        organization=org, name=f"Vendor {LONG}", service=LONG, criticality="high"
    )
    document(long_vendor, "dpa", b"%PDF-1.4 dpa")
    VendorReview.objects.create(
        organization=org,
        vendor=long_vendor,
        reviewed_on=w.review.reviewed_on,
        residual_risk="low",
        decision="approve",
        notes=LONG,
        next_review_date=w.review.next_review_date,
    )
    out = _shots()
    problems: list[str] = []
    for name, viewport in VIEWPORTS.items():
        context, page = signed_in_page(
            browser,
            live_server.url,
            w.auditor.user.email,
            viewport=viewport,
            problems=problems,
            password=PASSWORD,
        )
        page.goto(register_urls(w, w.audit)[0].replace("/risks/", "/"))
        page.get_by_role("link", name="Risk register").click()
        page.wait_for_load_state("load")
        assert page.locator("figure.heatmap svg").count() == 2
        assert page.locator(".risk-row").count() == 3
        page.get_by_label("Treatment").select_option("accept")
        page.get_by_role("button", name="Filter").click()
        page.wait_for_load_state("load")
        assert page.locator(".risk-row").count() == 1
        page.get_by_role("link", name="Key person departure").click()
        assert page.get_by_text("Acceptance expired").count() >= 1
        page.get_by_role("link", name="Risk register").click()
        page.get_by_role("link", name="Risk assessments").click()
        assert page.locator(".assessment-row").count() == 2

        page.goto(register_urls(w, w.audit)[4])  # the vendors
        assert page.locator(".vendor-row").count() == 3
        page.get_by_role("link", name="Payments Inc").click()
        page.wait_for_load_state("load")
        assert page.locator(".vendor-document").count() == 1
        with page.expect_download() as download:
            page.get_by_role("link", name="soc2_report.pdf").click()
        assert Path(download.value.path()).read_bytes() == SOC2

        for url in register_urls(w, w.audit):
            if "/documents/" in url or url.endswith(("/csv/", "/pdf/")):
                continue  # downloads, not pages
            for extra in [None, long_vendor.pk] if url.endswith("/vendors/") else [None]:
                target = url if extra is None else f"{url}{extra}/"
                response = page.goto(target)
                assert response is not None and response.status == 200, target
                page.wait_for_load_state("load")
                result = page.evaluate(OVERFLOW_JS)
                assert result["fits"], (name, target, result)
                if out is not None:
                    label = target.rstrip("/").split(f"/audits/{w.audit.pk}/", 1)[1]
                    page.screenshot(
                        path=str(out / f"portal-{label.replace('/', '-')}-{name}.png"),
                        full_page=True,
                    )
        context.close()
    assert problems == []


def test_a_manager_exports_the_filtered_register_from_its_menu(
    browser,
    live_server,
    org,
    manager,
    make_member,
    make_audit,  # noqa: F811
):
    build_world(org, manager, make_member, make_audit)
    out = _shots()
    problems: list[str] = []
    for name, viewport in VIEWPORTS.items():
        context, page = signed_in_page(
            browser,
            live_server.url,
            manager.user.email,
            viewport=viewport,
            problems=problems,
            password=PASSWORD,
        )
        for list_name in ("risks", "vendors"):
            page.goto(f"/o/{org.slug}/{list_name}/")
            if list_name == "risks":
                page.get_by_label("Treatment").select_option("accept")
                page.get_by_role("button", name="Filter").click()
                page.wait_for_load_state("load")
            page.locator(".export-menu summary").click()
            link = page.get_by_role("link", name="CSV (spreadsheet text)")
            assert link.is_visible()
            box = link.bounding_box()  # the whole menu on screen, not cut off at an edge
            assert box["x"] >= 0 and box["x"] + box["width"] <= viewport[0], (name, box)
            result = page.evaluate(OVERFLOW_JS)
            assert result["fits"], (name, list_name, result)
            if out is not None:
                page.screenshot(path=str(out / f"{list_name}-export-menu-{name}.png"))
            with page.expect_download() as download:
                link.click()
            text = Path(download.value.path()).read_text(encoding="utf-8-sig")
            if list_name == "risks":  # the filter shown: only the accepted risk
                assert "Key person departure" in text and "HYPERLINK" not in text
            else:
                assert "Payments Inc" in text and "Mail Co" in text
        context.close()
    assert problems == []
