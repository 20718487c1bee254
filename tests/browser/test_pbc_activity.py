"""Answering a request for information and reading the activity log, at a laptop and a phone
width, on the demo data: screenshots (kept in $SCREENSHOT_DIR when set, for a person to look
at), no horizontal scrolling, no console error (CSP included), and the evidence search
refreshing in place with htmx while the typed note stays."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.core.management import call_command

from reports.models import InfoRequest, RequestStatus
from tenants.models import Organization
from tests.browser.sessions import VIEWPORTS, signed_in_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _signed_in(browser, live_server, width, height, problems):
    context, page = signed_in_page(
        browser,
        live_server.url,
        "manager@acme.example.com",
        viewport=(width, height),
        problems=problems,
    )
    page.wait_for_url("**/o/acme/")
    return context, page


def _fits(page, what: str) -> None:
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), (
        f"{what} is {scroll}px wide"
    )


def test_answer_page_and_activity_log_fit_and_search_in_place(
    browser, live_server, catalog, tmp_path
):
    call_command("seed_demo")
    org = Organization.objects.get(slug="acme")
    info = (
        InfoRequest.objects.for_org(org)
        .exclude(status=RequestStatus.ACCEPTED)
        .select_related("audit")
        .order_by("number")
        .first()
    )
    detail = f"/o/acme/reports/audits/{info.audit_id}/requests/{info.pk}/"
    out = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    for name, (width, height) in VIEWPORTS.items():
        context, page = _signed_in(browser, live_server, width, height, problems)
        page.goto(detail)
        page.wait_for_load_state("networkidle")
        assert page.locator("#evidence-picker").is_visible()
        page.screenshot(path=str(out / f"pbc-answer-{name}.png"), full_page=True)
        _fits(page, f"the answer page at {width}px")

        # htmx: typing narrows the list in place; ticking moves the version to "chosen"; the
        # note typed before is still there (no reload).
        page.get_by_label("Note to the auditor").fill("Typed before searching.")
        first = page.locator(".matches .pick-title").first.inner_text()
        page.get_by_label("Search").fill(first[:12])
        page.wait_for_timeout(600)
        page.wait_for_load_state("networkidle")
        assert page.locator(".matches .pick").count() >= 1
        page.locator(".matches input[name=versions]").first.check()
        # Another search: the ticked one is listed as chosen, and stays ticked.
        page.get_by_label("Search").fill(first[:6])
        page.wait_for_selector(".chosen input[name=versions]:checked")
        assert page.locator(".chosen input[name=versions]:checked").count() == 1
        assert page.get_by_label("Note to the auditor").input_value() == "Typed before searching."
        page.locator("details.new-evidence summary").click()
        page.screenshot(path=str(out / f"pbc-answer-chosen-{name}.png"), full_page=True)
        _fits(page, f"the answer page with a choice at {width}px")

        page.goto("/o/acme/activity/")
        page.wait_for_load_state("networkidle")
        assert page.locator(".activity-table").is_visible()
        assert "reports.inforequest" not in page.locator("main").inner_text()
        page.screenshot(path=str(out / f"activity-{name}.png"), full_page=True)
        _fits(page, f"the activity log at {width}px")

        page.goto("/o/acme/")
        page.wait_for_load_state("networkidle")
        assert page.locator(".activity-brief li").count() == 5
        page.locator(".activity-brief").screenshot(path=str(out / f"home-activity-{name}.png"))
        _fits(page, f"the home at {width}px")
        context.close()
    assert problems == []
