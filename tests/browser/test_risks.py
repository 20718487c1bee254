"""The risk register in the browser: a manager adopts a library risk, scores it on the form,
and sees the register and the heat map. Both fit a laptop (1366 px) and a phone (390 px)
without sideways scrolling and without console (CSP) errors. Screenshots go to
$SCREENSHOT_DIR when set."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from risks import services
from risks.models import Risk
from tenants.context import org_scope
from tenants.models import Role
from tests.browser.test_monitoring import _fits, _login
from tests.factories import ControlFactory, MembershipFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_manager_adopts_scores_and_reads_the_heat_map(browser, live_server):
    manager = MembershipFactory(
        role=Role.COMPLIANCE_MANAGER, user__email="manager@risks.example.com"
    )
    org = manager.organization
    with org_scope(org):
        ControlFactory(organization=org, code="IAM-03", title="Multi-factor authentication")
        for key in ("ransomware", "vendor-breach", "insider-fraud", "significant-business-change"):
            services.risk_adopt(membership=manager, key=key)
    out = Path(os.environ["SCREENSHOT_DIR"]) if os.environ.get("SCREENSHOT_DIR") else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    for viewport, (width, height) in {"laptop": (1366, 900), "phone": (390, 844)}.items():
        context, page, problems = _login(
            browser, live_server.url, manager.user.email, width, height
        )
        if viewport == "laptop":
            page.goto(f"/o/{org.slug}/risks/library/")
            row = page.get_by_role("row").filter(has_text="Account takeover of a staff account")
            row.get_by_role("button", name="Adopt").click()
            page.wait_for_load_state()
            assert "was added" in page.content()
            page.get_by_label("Residual likelihood").select_option("2")
            page.get_by_role("button", name="Save").click()
            page.wait_for_load_state()
            assert "Risk saved." in page.content()
        page.goto(f"/o/{org.slug}/risks/")
        assert "Account takeover of a staff account" in page.content()
        assert _fits(page), f"{viewport}: the register scrolls sideways"
        if out is not None:
            page.screenshot(path=str(out / f"risks-register-{viewport}.png"), full_page=True)
        page.get_by_role("link", name="Heat map").first.click()
        page.wait_for_load_state()
        assert page.locator("svg[role=img]").count() == 2
        assert _fits(page), f"{viewport}: the heat map scrolls sideways"
        if out is not None:
            page.screenshot(path=str(out / f"risks-heatmap-{viewport}.png"), full_page=True)
        assert problems == []
        context.close()
    with org_scope(org):
        risk = Risk.objects.get(library_key="account-takeover")
    assert (risk.treatment, risk.residual_score) == ("mitigate", 8)
