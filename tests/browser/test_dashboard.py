"""The readiness dashboard of the demo's Type 2 audit in a real browser, at a laptop and a
phone width: the score, the plain figures and the next actions lead; the criteria come grouped
by status; opening a control's coverage row loads its periods (static/js/app.js, no inline
script: the CSP would refuse it). Screenshots go to $SCREENSHOT_DIR when set."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from controls.history import readiness_snapshots_take_all
from controls.models import Audit
from tenants.models import Organization
from tests.browser.sessions import VIEWPORTS, signed_in_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.slow
def test_type2_dashboard_triage_fits_and_loads_coverage(browser, live_server, catalog, tmp_path):
    call_command("seed_demo")
    readiness_snapshots_take_all()  # the daily snapshot the audits list reads
    org = Organization.objects.get(slug="acme")
    audit = Audit.objects.for_org(org).get(audit_type="type2")
    out = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    for name, (width, height) in VIEWPORTS.items():
        context, page = signed_in_page(
            browser,
            live_server.url,
            "manager@acme.example.com",
            viewport=(width, height),
            problems=problems,
        )
        page.wait_for_url("**/o/acme/")
        page.goto(f"/o/acme/audits/{audit.pk}/")

        expect(page.locator("#plain-figures")).to_contain_text("Controls implemented")
        expect(page.locator("#plain-figures")).to_contain_text("Periods evidenced")
        actions = page.locator("#next-actions .todo-item")
        assert actions.count() >= 1
        # Each action links to where it is done and names an owner (or says nobody owns it).
        first = actions.first
        assert first.get_by_role("link").get_attribute("href").startswith("/o/acme/")
        expect(page.locator("#criteria .criteria-group").first).to_be_visible()
        page.screenshot(path=str(out / f"dashboard-type2-{name}.png"), full_page=True)

        row = page.locator("#coverage details[data-control]").first
        row.locator("summary").click()
        detail = row.locator(".coverage-periods")
        expect(detail).to_be_visible()
        assert detail.locator(".period, .run").count() >= 1
        row.screenshot(path=str(out / f"dashboard-coverage-{name}.png"))

        _assert_fits(page, f"the Type 2 dashboard at {width}px")
        # The Type 1 dashboard and the audits list (with each audit's readiness) fit too.
        type1 = Audit.objects.for_org(org).get(audit_type="type1")
        page.goto(f"/o/acme/audits/{type1.pk}/")
        expect(page.locator("#next-actions")).to_be_visible()
        page.screenshot(path=str(out / f"dashboard-type1-{name}.png"), full_page=True)
        _assert_fits(page, f"the Type 1 dashboard at {width}px")
        page.goto("/o/acme/audits/")
        expect(page.locator("td[data-label=Readiness] strong").first).to_contain_text("%")
        page.screenshot(path=str(out / f"audit-list-{name}.png"), full_page=True)
        _assert_fits(page, f"the audits list at {width}px")
        context.close()
    assert problems == []


def _assert_fits(page, what: str) -> None:
    fits = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert fits, f"{what} is {scroll}px wide"
