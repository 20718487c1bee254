"""The auditor portal's people-and-policies pages in a real browser, at a laptop's and a
phone's width: full of long names, hashes and user agents, no page scrolls sideways, and
nothing breaks the Content-Security-Policy (console errors)."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.browser.sessions import VIEWPORTS, signed_in_page
from tests.browser.test_pages_fit import OVERFLOW_JS
from tests.factories import PASSWORD
from tests.reports.conftest import make_audit  # noqa: F401  (fixture)
from tests.reports.portal_people_world import leaver_sample, offboarding, people_urls, person
from tests.reports.portal_world import build_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LONG = "Supercalifragilisticexpialidociouslylongdepartmentname" * 2


def test_the_people_pages_fit_and_keep_the_csp(
    browser,
    live_server,
    org,
    manager,
    make_member,
    make_audit,  # noqa: F811
):
    w = build_world(org, manager, make_member, make_audit)
    leaver = person(org, f"Leaver {LONG}", end_date=dt.date(2025, 5, 1))
    offboarding(leaver, [(f"Revoke {LONG}", 1, 3), ("Return the laptop", 2, None)])
    leaver_sample(w.audit, w.control, [leaver])
    problems: list[str] = []
    for viewport in VIEWPORTS.values():
        context, page = signed_in_page(
            browser,
            live_server.url,
            w.auditor.user.email,
            viewport=viewport,
            problems=problems,
            password=PASSWORD,
        )
        for url in people_urls(w, w.audit):
            if url.endswith(("/pdf/", f"/certificates/{w.completion.pk}/")):
                continue  # downloads, not pages
            response = page.goto(url)
            assert response is not None and response.status == 200, url
            assert page.url.endswith(url.split("/o/", 1)[1]), page.url  # signed in, not bounced
            page.wait_for_load_state("load")
            result = page.evaluate(OVERFLOW_JS)
            assert result["fits"], (viewport, url, result)
        page.goto(people_urls(w, w.audit)[-1])
        assert page.locator(".checklist-step.late").count() == 2
        context.close()
    assert problems == []
