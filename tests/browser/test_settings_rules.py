"""The two settings pages of issue 18 in the browser, at a laptop and a phone width: a manager
changes the risk matrix's thresholds and sees the heat map follow, is refused a shrink with a
link to the risks to rescore, and changes the vendor rules so a SOC 2 report 13 months past
its period counts again. No sideways scrolling, no console (CSP) errors. Screenshots go to
$SCREENSHOT_DIR when set."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from risks import services as risk_services
from tenants.context import org_scope
from tenants.models import Role
from tests.browser.test_monitoring import _fits, _login
from tests.factories import MembershipFactory
from tests.vendors.conftest import add_doc, make_vendor, months_ago
from vendors.rules import rules_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_matrix_settings_and_vendor_rules(browser, live_server):
    manager = MembershipFactory(
        role=Role.COMPLIANCE_MANAGER, user__email="manager@settings-browser.example.com"
    )
    org = manager.organization
    with org_scope(org):
        risk_services.risk_create(
            membership=manager,
            title="Ransomware on the file servers",
            category="security",
            inherent_likelihood=5,
            inherent_impact=3,
        )
        vendor = make_vendor(manager, "Cloudy Hosting", criticality="high", owner=manager)
        add_doc(manager, vendor, "soc2_report", period_end=months_ago(13))
    out = Path(os.environ["SCREENSHOT_DIR"]) if os.environ.get("SCREENSHOT_DIR") else None
    for viewport, (width, height) in {"laptop": (1366, 900), "phone": (390, 844)}.items():
        context, page, problems = _login(
            browser, live_server.url, manager.user.email, width, height
        )
        page.goto(f"/o/{org.slug}/risks/")
        page.get_by_role("link", name="Matrix settings").click()
        page.wait_for_load_state()
        assert _fits(page), f"{viewport}: the matrix settings scroll sideways"
        if out is not None:
            page.screenshot(path=str(out / f"risk-matrix-{viewport}.png"), full_page=True)
        # Shrinking under a risk scored 5: refused, with a link to it.
        page.get_by_label("Size").select_option("4")
        page.get_by_label("Likelihood labels").fill("Rare\nUnlikely\nLikely\nCertain")
        page.get_by_label("Impact labels").fill("Minor\nModerate\nMajor\nSevere")
        page.get_by_role("button", name="Save the matrix").click()
        page.wait_for_load_state()
        assert "1 risk has a likelihood or impact above 4: rescore them first." in page.content()
        assert _fits(page), f"{viewport}: the refusal scrolls sideways"
        if out is not None:
            page.screenshot(path=str(out / f"risk-matrix-refused-{viewport}.png"), full_page=True)
        page.get_by_role("link", name="See the 1 risk to rescore in the register").click()
        page.wait_for_load_state()
        assert "Ransomware on the file servers" in page.content()
        # Thresholds: a 15 is high on the default matrix, critical from 15.
        page.goto(f"/o/{org.slug}/risks/matrix/")
        page.get_by_label("Critical from score").fill("15" if viewport == "laptop" else "16")
        page.get_by_role("button", name="Save the matrix").click()
        page.wait_for_load_state()
        assert "Risk matrix saved" in page.content()
        page.goto(f"/o/{org.slug}/risks/heatmap/")
        level = "Critical" if viewport == "laptop" else "High"
        assert f"Likelihood 5, impact 3 ({level}): 1." in page.content()
        # Vendor rules: the report 13 months past its period counts under a 15-month rule.
        page.goto(f"/o/{org.slug}/vendors/")
        page.get_by_role("link", name="Rules", exact=True).click()
        page.wait_for_load_state()
        assert _fits(page), f"{viewport}: the vendor rules scroll sideways"
        if out is not None:
            page.screenshot(path=str(out / f"vendor-rules-{viewport}.png"), full_page=True)
        months = "15" if viewport == "laptop" else "12"
        page.get_by_label("A SOC 2 report counts for").fill(months)
        page.get_by_label("Review a critical vendor every").fill("40")
        page.get_by_role("button", name="Save the rules").click()
        page.wait_for_load_state()
        assert "at least as often as a high one" in page.content()
        page.get_by_label("Review a critical vendor every").fill("6")
        page.get_by_role("button", name="Save the rules").click()
        page.wait_for_load_state()
        assert "Rules saved" in page.content()
        page.goto(f"/o/{org.slug}/vendors/")
        expected = "Current" if viewport == "laptop" else "Stale"
        assert page.locator(".vendor-status").first.inner_text().startswith(expected)
        # The two refusals answer 400 on purpose; anything else (a CSP error) is a problem.
        assert [p for p in problems if "status of 400" not in p] == []
        context.close()
    with org_scope(org):
        assert rules_for(org).soc2_months == 12
        assert rules_for(org).review_months["critical"] == 6
