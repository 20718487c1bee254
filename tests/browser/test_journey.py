"""The readiness journey in a real browser: plan a Type 2 audit, scope it, self-assess,
adopt controls for the gaps, record the CPA firm, and read the dashboard."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from controls.models import Audit, Control, SelfAssessmentAnswer
from tests.factories import PASSWORD, MembershipFactory, OrganizationFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_manager_walks_the_readiness_journey(page, catalog):
    org = OrganizationFactory(name="Initech", slug="initech")
    manager = MembershipFactory(organization=org, role="compliance_manager")
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(manager.user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url("**/o/initech/")

    # 1. Type and dates
    page.get_by_role("link", name="Audits", exact=True).click()
    page.get_by_role("link", name="Plan your first audit").click()
    page.get_by_label("Name").fill("FY27 SOC 2 Type 2")
    page.get_by_label("Type 2 (operating effectiveness over a period)").check()
    start = timezone.localdate().replace(day=1)
    page.get_by_label("Window start (Type 2)").fill(start.isoformat())
    # A window too long first: the message says what is wrong and nothing is saved.
    page.get_by_label("Window end (Type 2)").fill((start + dt.timedelta(days=400)).isoformat())
    page.get_by_role("button", name="Create and continue").click()
    assert page.get_by_text("a SOC 2 Type 2 window is at most 12 months").is_visible()
    page.get_by_label("Window end (Type 2)").fill((start + dt.timedelta(days=180)).isoformat())
    page.get_by_role("button", name="Create and continue").click()

    # 2. Categories and systems
    page.wait_for_url("**/scope/")
    page.get_by_label("Availability").check()
    page.get_by_role("button", name="Save and continue").click()

    # 3. Self-assessment
    page.wait_for_url("**/assessment/")
    page.get_by_label("Answer for CC1.1").select_option("in_place")
    page.get_by_label("Answer for A1.2").select_option("not_in_place")
    page.get_by_label("Notes for A1.2").fill("Restores are not tested yet")
    page.get_by_role("button", name="Save and continue").click()

    # 4. Controls for the open criteria, adopted from the library
    page.wait_for_url("**/controls/")
    # The button counts what it will adopt ("Adopt 23 controls"), kept in step by app.js.
    adopt = page.get_by_role("button", name=re.compile(r"^Adopt \d+ controls?$"))
    count = page.locator("input[name=templates]:checked").count()
    assert count > 0 and adopt.inner_text() == f"Adopt {count} control{'s' if count != 1 else ''}"
    adopt.click()
    assert page.get_by_text("controls adopted.").is_visible()

    # 5. The CPA firm
    page.get_by_role("link", name="Continue to the CPA firm").click()
    page.get_by_label("CPA firm").fill("Example & Partners LLP")
    page.get_by_role("button", name="Save").click()

    # The dashboard: a chart and the criteria, filtered to what is missing.
    page.wait_for_url("**/audits/*/")
    assert page.locator("svg.chart").is_visible()
    assert page.get_by_role("heading", name="Overall readiness").is_visible()
    page.get_by_label("Only what is missing").check()
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**show=open**")
    assert page.locator("#criterion-A1\\.2").is_visible()

    audit = Audit.objects.for_org(org).get()
    assert audit.cpa_firm == "Example & Partners LLP"
    assert SelfAssessmentAnswer.objects.for_org(org).filter(audit=audit).count() == 2
    assert Control.objects.for_org(org).count() > 10
