"""The Type 2 dashboard of the demo organization in a real browser, wide and narrow: the plain
figures beside the score and the Exceptions list with the recorded deviation; on a phone the
list scrolls inside its card instead of widening the page. Set SCREENSHOT_DIR to keep the
screenshots (1366 and 390 px wide)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from controls.models import Audit
from tenants.management.commands.seed_demo import DEMO_PASSWORD
from tenants.models import Organization

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [1366, 390])
def test_type2_dashboard_shows_exceptions_with_the_management_response(page, catalog, width):
    call_command("seed_demo", "--org", "demo-co")
    org = Organization.objects.get(slug="demo-co")
    audit = Audit.objects.for_org(org).get(audit_type="type2")
    page.set_viewport_size({"width": width, "height": 900})
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill("manager@demo-co.example.com")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_load_state()

    page.goto(f"/o/{org.slug}/audits/{audit.pk}/")

    expect(page.locator("#plain-figures")).to_contain_text("Controls implemented")
    expect(page.locator("#plain-figures")).to_contain_text("Periods evidenced")
    exceptions = page.locator("#exceptions")
    expect(exceptions.get_by_role("heading", name="Exceptions")).to_be_visible()
    expect(exceptions).to_contain_text("no deputy had been named")
    expect(exceptions.get_by_role("link", name="Record a deviation").first).to_be_visible()
    folder = os.environ.get("SCREENSHOT_DIR")
    if folder:
        page.screenshot(path=str(Path(folder) / f"dashboard-{width}.png"), full_page=True)
        exceptions.screenshot(path=str(Path(folder) / f"exceptions-{width}.png"))
    # The page itself never scrolls sideways; wide tables scroll in their card.
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
