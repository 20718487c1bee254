"""Vendors in the browser: a manager sees a vendor whose SOC 2 report's period ended 13 months
ago as stale on the vendor list, on its page and on their home to-do list, then adds a bridge
letter from the vendor page and sees it current. The list and the vendor page fit a laptop
and a phone without sideways scrolling and without console (CSP) errors. Screenshots go to
$SCREENSHOT_DIR when set."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tenants.models import Role
from tests.browser.test_monitoring import _fits, _login
from tests.factories import MembershipFactory
from tests.vendors.conftest import PDF, add_doc, make_vendor, months_ago

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_stale_soc2_report_on_the_list_the_page_and_the_todo(browser, live_server, tmp_path):
    manager = MembershipFactory(
        role=Role.COMPLIANCE_MANAGER, user__email="manager@vendors-browser.example.com"
    )
    org = manager.organization
    out = Path(os.environ["SCREENSHOT_DIR"]) if os.environ.get("SCREENSHOT_DIR") else None
    vendors = {}
    for viewport in ("laptop", "phone"):
        vendor = make_vendor(
            manager,
            f"Extraordinarily Long Vendor Name Infrastructure Hosting International {viewport}",
            service="Managed hosting of the production databases and object storage",
            owner=manager,
            criticality="critical",
            is_subprocessor=True,
            website="https://www.an-extraordinarily-long-domain-name-for-a-vendor.example.com/",
            data_kinds=["customer_data", "personal_data", "credentials"],
        )
        add_doc(manager, vendor, "soc2_report", period_end=months_ago(13))
        vendors[viewport] = vendor
    make_vendor(manager, "Small Co", criticality="low")
    letter = tmp_path / "bridge-letter.pdf"
    letter.write_bytes(PDF)
    for viewport, (width, height) in {"laptop": (1366, 900), "phone": (390, 844)}.items():
        vendor = vendors[viewport]
        context, page, problems = _login(
            browser, live_server.url, manager.user.email, width, height
        )
        page.goto(f"/o/{org.slug}/")
        assert f"Collect current documents from {vendor.name}" in page.content()
        page.goto(f"/o/{org.slug}/vendors/")
        assert page.locator(".vendor-row").count() == 3
        assert _fits(page), f"{viewport}: the vendor list scrolls sideways"
        if out is not None:
            page.screenshot(path=str(out / f"vendors-list-{viewport}.png"), full_page=True)
        page.get_by_label("Needs attention").select_option("stale")
        page.get_by_role("button", name="Filter").click()
        page.wait_for_load_state()
        # The laptop round made its vendor current: one stale vendor left for the phone.
        assert page.locator(".vendor-row").count() == (2 if viewport == "laptop" else 1)
        page.get_by_role("link", name=vendor.name).click()
        page.wait_for_load_state()
        assert "Stale" in page.locator(".vendor-document").first.inner_text()
        assert _fits(page), f"{viewport}: the vendor page scrolls sideways"
        page.get_by_label("Kind").select_option("bridge_letter")
        page.locator("input[name=file]").set_input_files(str(letter))
        page.locator("input[name=period_end]").fill(months_ago(1).isoformat())
        page.get_by_role("button", name="Add the document").click()
        page.wait_for_load_state()
        assert "Bridge letter added." in page.content()
        assert "Current" in page.locator(".vendor-status").inner_text()
        assert _fits(page), f"{viewport}: the vendor page scrolls sideways"
        if out is not None:
            page.screenshot(path=str(out / f"vendors-detail-{viewport}.png"), full_page=True)
        assert problems == []
        context.close()
