"""Anonymising in the browser: a manager on a phone opens a leaver past retention from the
"past retention" page, sees the confirmation refuse an unticked box, ticks it and anonymises;
the roster then shows the new label. Every page fits a laptop and a phone without sideways
scrolling and without console (CSP) errors. Screenshots go to $SCREENSHOT_DIR when set."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from people.models import Person
from tenants.models import Role
from tests.browser.test_monitoring import _fits, _login
from tests.factories import MembershipFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_manager_anonymises_a_leaver_past_retention(browser, live_server):
    manager = MembershipFactory(
        role=Role.COMPLIANCE_MANAGER, user__email="manager@anonymise.example.com"
    )
    org = manager.organization
    out = Path(os.environ["SCREENSHOT_DIR"]) if os.environ.get("SCREENSHOT_DIR") else None
    people = [
        Person.objects.create(
            organization=org,
            full_name=f"Margarethe Leaver-Longname {i}",
            email=f"margarethe.leaver.longname.{i}@a-rather-long-domain.example.com",
            title="Senior Infrastructure Engineer",
            department="Engineering",
            start_date=dt.date(2017, 1, 2),
            end_date=dt.date(2019, 6, 28),
        )
        for i in range(2)
    ]
    for viewport, (width, height) in {"laptop": (1366, 900), "phone": (390, 844)}.items():
        person = people[0] if viewport == "laptop" else people[1]
        context, page, problems = _login(
            browser, live_server.url, manager.user.email, width, height
        )
        page.goto(f"/o/{org.slug}/people/")
        page.get_by_role("link", name="Review and anonymise").click()
        page.wait_for_load_state()
        assert person.full_name in page.content()
        assert _fits(page), f"{viewport}: the past-retention page scrolls sideways"
        if out is not None:
            page.screenshot(path=str(out / f"people-past-retention-{viewport}.png"), full_page=True)
        page.get_by_role("link", name=person.full_name).click()
        page.wait_for_load_state()
        assert _fits(page), f"{viewport}: the person's page scrolls sideways"
        page.get_by_role("button", name="Anonymise this person").click()
        page.wait_for_load_state()
        assert "Tick the box to confirm" in page.content()
        page.get_by_label("I understand").check()
        page.get_by_role("button", name="Anonymise this person").click()
        page.wait_for_load_state()
        label = f"Former person #{person.pk}"
        assert f"Anonymised: this entry is now {label}." in page.content()
        assert _fits(page), f"{viewport}: the anonymised person's page scrolls sideways"
        if out is not None:
            page.screenshot(path=str(out / f"people-anonymised-{viewport}.png"), full_page=True)
        page.goto(f"/o/{org.slug}/people/")
        assert label in page.content() and person.full_name not in page.content()
        assert _fits(page)
        assert problems == []
        context.close()
    assert Person.objects.for_org(org).filter(anonymised_at__isnull=False).count() == 2
