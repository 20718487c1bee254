"""The vendor import in the browser: a manager opens "Import vendors" from the vendor list,
uploads a file with one bad row and sees it named (row, column) with nothing saved, uploads the
corrected file, sees which vendors are new and which are updated (with the fields that change)
and confirms. The preview fits a laptop and a phone without sideways scrolling and without
console (CSP) errors. Screenshots go to $SCREENSHOT_DIR when set."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tenants.models import Role
from tests.browser.test_monitoring import _fits, _login
from tests.factories import MembershipFactory
from tests.vendors.conftest import make_vendor
from vendors.models import Vendor

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HEADER = (
    "name,service,website,owner,criticality,data_touched,access,contract_start,contract_end,"
    "subprocessor,notes"
)


def _rows(owner: str, suffix: str) -> list[str]:
    return [
        f"Extraordinarily Long Vendor Name Infrastructure Hosting International {suffix},"
        "Managed hosting of the production databases and object storage,"
        f"https://www.an-extraordinarily-long-domain-name-for-a-vendor.example.com/,{owner},"
        "critical,customer_data;personal_data;credentials,Production accounts,2025-01-01,"
        "2027-12-31,yes,Signed DPA and SOC 2 Type 2 on file",
        "Small Co,Office supplies,,,high,,,,,no,",  # an update: criticality low -> high
        f"Payroll Partners {suffix},Payroll,,,medium,personal_data;financial,,2025-03-01,,yes,",
    ]


def test_a_manager_fixes_a_bad_row_and_imports_vendors(browser, live_server, tmp_path):
    manager = MembershipFactory(
        role=Role.COMPLIANCE_MANAGER, user__email="manager@vendor-import.example.com"
    )
    org = manager.organization
    make_vendor(manager, "Small Co", criticality="low")
    out = Path(os.environ["SCREENSHOT_DIR"]) if os.environ.get("SCREENSHOT_DIR") else None
    for viewport, (width, height) in {"laptop": (1366, 900), "phone": (390, 844)}.items():
        rows = _rows(manager.user.email, viewport)
        bad = tmp_path / f"bad-{viewport}.csv"
        bad.write_text(
            "\n".join([HEADER, rows[0], rows[1], rows[2].replace("2025-03-01", "1/3/25")])
        )
        good = tmp_path / f"vendors-{viewport}.csv"
        good.write_text("\ufeff" + "\n".join([HEADER, *rows]) + "\n")
        context, page, problems = _login(
            browser, live_server.url, manager.user.email, width, height
        )
        page.goto(f"/o/{org.slug}/vendors/")
        page.get_by_role("link", name="Import vendors").click()
        page.set_input_files("#id_file", str(bad))
        page.get_by_role("button", name="Preview").click()
        page.wait_for_load_state()
        assert page.locator(".import-error").count() == 1
        error = page.locator(".import-error").inner_text()
        assert "4" in error and "contract_start" in error and "YYYY-MM-DD" in error
        assert _fits(page), f"{viewport}: the preview with errors scrolls sideways"
        if out is not None:
            page.screenshot(path=str(out / f"vendor-import-errors-{viewport}.png"), full_page=True)
        before = Vendor.objects.for_org(org).count()
        page.get_by_role("link", name="Upload a corrected file").click()
        page.set_input_files("#id_file", str(good))
        page.get_by_role("button", name="Preview").click()
        page.wait_for_load_state()
        assert page.locator(".import-row").count() == 3
        assert page.locator(".import-new-count").inner_text() == "2"
        if viewport == "laptop":
            assert page.locator(".import-update-count").inner_text() == "1"
            assert "criticality: low → high" in page.content()
        assert _fits(page), f"{viewport}: the preview scrolls sideways"
        if out is not None:
            page.screenshot(path=str(out / f"vendor-import-preview-{viewport}.png"), full_page=True)
        assert Vendor.objects.for_org(org).count() == before  # nothing saved yet
        page.get_by_role("button", name="Import").click()
        page.wait_for_load_state()
        assert "2 added" in page.content() and page.locator(".vendor-row").count() == before + 2
        # The preview of a refused file answers 400 on purpose; nothing else may complain.
        assert [p for p in problems if "status of 400" not in p] == []
        context.close()
    small = Vendor.objects.for_org(org).get(name="Small Co")
    assert small.criticality == "high" and Vendor.objects.for_org(org).count() == 5
