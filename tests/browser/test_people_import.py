"""The roster import in the browser: a manager opens People from the sidebar, uploads a file
with a bad row and sees it named (row, column) with nothing saved, uploads the corrected file,
previews what it adds and confirms; both pages fit a laptop and a phone without sideways
scrolling and without console (CSP) errors. Screenshots go to $SCREENSHOT_DIR when set."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from people.models import Person
from tenants.models import Role
from tests.browser.test_monitoring import _fits, _login
from tests.factories import MembershipFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HEADER = "full_name,email,title,department,manager_email,employment_type,start_date,end_date"
GOOD = [
    "Maya Chen,maya@example.com,Chief Executive Officer,Operations,,employee,2019-03-01,",
    "Daniel Okafor,daniel@example.com,Head of Engineering,Engineering,maya@example.com,employee,2019-06-03,",
    "Tom Becker,tom@example.com,Software Engineer,Engineering,daniel@example.com,contractor,2021-04-12,2024-05-31",
]


def test_a_manager_previews_and_imports_a_roster(browser, live_server, tmp_path):
    manager = MembershipFactory(
        role=Role.COMPLIANCE_MANAGER, user__email="manager@people.example.com"
    )
    org = manager.organization
    out = Path(os.environ["SCREENSHOT_DIR"]) if os.environ.get("SCREENSHOT_DIR") else None
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join([HEADER, *GOOD[:2], GOOD[2].replace("2024-05-31", "31/05/2024")]))
    good = tmp_path / "roster.csv"
    good.write_text("\ufeff" + "\n".join([HEADER, *GOOD]) + "\n")
    for viewport, (width, height) in {"laptop": (1366, 900), "phone": (390, 844)}.items():
        context, page, problems = _login(
            browser, live_server.url, manager.user.email, width, height
        )
        if viewport == "laptop":
            page.goto(f"/o/{org.slug}/")
            page.locator("nav.sidebar").get_by_role("link", name="People").click()
            page.get_by_role("link", name="Import a CSV", exact=True).click()
        else:
            page.goto(f"/o/{org.slug}/people/import/")
        page.set_input_files("#id_file", str(bad))
        page.get_by_role("button", name="Preview").click()
        page.wait_for_load_state()
        assert page.locator(".import-error").count() == 1
        assert "row" in page.content().lower() and "end_date" in page.content()
        assert _fits(page), f"{viewport}: the preview with errors scrolls sideways"
        if out is not None:
            page.screenshot(path=str(out / f"people-import-errors-{viewport}.png"), full_page=True)
        assert Person.objects.for_org(org).count() == (0 if viewport == "laptop" else 3)
        page.goto(f"/o/{org.slug}/people/import/")
        page.set_input_files("#id_file", str(good))
        page.get_by_role("button", name="Preview").click()
        page.wait_for_load_state()
        expected = "To add (3)" if viewport == "laptop" else "To update (1)"
        assert expected in page.content()
        assert _fits(page), f"{viewport}: the preview scrolls sideways"
        if out is not None:
            page.screenshot(path=str(out / f"people-import-preview-{viewport}.png"), full_page=True)
        if viewport == "phone":  # the second run changes Tom's department
            context.close()
            break
        page.get_by_role("button", name="Import").click()
        page.wait_for_load_state()
        assert "3 added" in page.content()
        assert _fits(page)
        if out is not None:
            page.screenshot(path=str(out / f"people-roster-{viewport}.png"), full_page=True)
        # The preview of a refused file answers 400 on purpose; nothing else may complain.
        assert [p for p in problems if "status of 400" not in p] == []
        context.close()
        good.write_text(
            good.read_text().replace("Software Engineer,Engineering", "Software Engineer,Platform")
        )
    assert Person.objects.for_org(org).count() == 3
