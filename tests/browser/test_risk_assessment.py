"""Issue 18 end to end in the browser: a manager adds two risks from the library, scores them,
links a control (mitigate), runs the risk assessment and sees CC3.2 met on the audit's
readiness page with the assessment as evidence on the control; then adds a vendor with a SOC 2
report whose period ended 13 months ago and sees it stale on the vendor list and in their
to-do list on the home page. The assessment pages fit a laptop (1366 px) and a phone (390 px)
without sideways scrolling or console (CSP) errors. Screenshots go to $SCREENSHOT_DIR."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from django.utils import timezone

from controls.models import Audit, AuditCategory, AuditType
from criteria.models import Category
from risks.models import RiskAssessment
from tenants.context import org_scope
from tenants.models import Role
from tests.browser.test_monitoring import _fits, _login
from tests.factories import ControlFactory, MembershipFactory, control_map
from tests.vendors.conftest import PDF, months_ago

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.slow]

VENDOR = "Cloudy Hosting"


def _type1_audit(org, catalog) -> Audit:
    audit = Audit(
        organization=org,
        framework=catalog,
        name="SOC 2 Type 1",
        audit_type=AuditType.TYPE1,
        as_of_date=timezone.localdate(),
        status="readiness",
    )
    audit.save()
    for category in Category.objects.filter(framework=catalog, always_in_scope=True):
        AuditCategory(organization=org, audit=audit, category=category).save()
    return audit


def _adopt_and_score(page, slug: str, title: str, residual: str, control: str) -> None:
    page.goto(f"/o/{slug}/risks/library/")
    page.get_by_role("row").filter(has_text=title).get_by_role("button", name="Adopt").click()
    page.wait_for_load_state()
    assert "was added" in page.content()
    page.get_by_label("Inherent likelihood").select_option("4")
    page.get_by_label("Inherent impact").select_option("4")
    page.get_by_label("Residual likelihood").select_option(residual)
    page.get_by_label("Residual impact").select_option("3")
    page.get_by_label("Treatment").select_option("mitigate")
    page.get_by_label("Controls").select_option(label=control)
    page.get_by_role("button", name="Save").click()
    page.wait_for_load_state()
    assert "Risk saved." in page.content()


def _shot(page, out: Path | None, name: str) -> None:
    if out is not None:
        page.screenshot(path=str(out / f"{name}.png"), full_page=True)


def test_a_manager_runs_the_assessment_and_meets_cc32_then_a_stale_vendor(
    browser, live_server, catalog, tmp_path
):
    manager = MembershipFactory(
        role=Role.COMPLIANCE_MANAGER, user__email="manager@assess.example.com"
    )
    org, slug = manager.organization, manager.organization.slug
    with org_scope(org):
        control = control_map(
            ControlFactory(organization=org, code="RISK-02", title="Annual risk assessment"),
            "CC3.2",
            "CC3.1",
        )
        audit = _type1_audit(org, catalog)
    out = Path(os.environ["SCREENSHOT_DIR"]) if os.environ.get("SCREENSHOT_DIR") else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    report = tmp_path / "soc2-report.pdf"
    report.write_bytes(PDF)

    context, page, problems = _login(browser, live_server.url, manager.user.email)
    criterion = page.locator('[id="criterion-CC3.2"] .badge').first
    page.goto(f"/o/{slug}/audits/{audit.pk}/")
    assert criterion.text_content().strip() != "Met"

    label = "RISK-02 Annual risk assessment"
    _adopt_and_score(page, slug, "Ransomware", "2", label)
    _adopt_and_score(page, slug, "Account takeover of a staff account", "1", label)
    page.goto(f"/o/{slug}/risks/")
    assert page.locator(".assessment-due").get_by_text("Overdue").is_visible()
    page.get_by_role("link", name="Run the risk assessment").click()
    page.wait_for_load_state()
    assert "2 risks" in page.content() and "RISK-02" in page.content()
    page.get_by_label("Notes").fill("Yearly assessment with the founders.")
    page.get_by_role("button", name="Run the assessment").click()
    page.wait_for_load_state()
    assert "Risk assessment recorded" in page.content()
    assert page.locator(".frozen-risk").count() == 2
    assert re.search(r"[0-9a-f]{64}", page.locator(".assessment-files").inner_text())

    page.goto(f"/o/{slug}/audits/{audit.pk}/")
    assert criterion.text_content().strip() == "Met"
    _shot(page, out, "risk-assessment-readiness-laptop")
    page.goto(f"/o/{slug}/controls/{control.pk}/")
    evidence = page.get_by_role("row").filter(has_text="Risk assessment")
    assert "System" in evidence.inner_text()  # system-generated, accepted when written
    evidence.get_by_role("link", name="Risk assessment").click()
    page.wait_for_load_state()
    assert "Risks: assessment recorded by the app" in page.content()

    # A vendor whose SOC 2 report's period ended 13 months ago.
    page.goto(f"/o/{slug}/vendors/new/")
    page.get_by_label("Name").fill(VENDOR)
    page.get_by_label("Owner").select_option(label=manager.user.email)
    page.get_by_label("Criticality").select_option("high")
    page.get_by_role("button", name="Add the vendor").click()
    page.wait_for_load_state()
    page.get_by_label("Kind").select_option("soc2_report")
    page.locator("input[name=file]").set_input_files(str(report))
    page.locator("input[name=period_end]").fill(months_ago(13).isoformat())
    page.get_by_role("button", name="Add the document").click()
    page.wait_for_load_state()
    page.goto(f"/o/{slug}/vendors/")
    row = page.locator(".vendor-row").filter(has_text=VENDOR)
    assert "Stale" in row.inner_text()
    page.goto(f"/o/{slug}/")
    assert f"Collect current documents from {VENDOR}" in page.content()
    assert "Run the periodic risk assessment" not in page.content()
    assert problems == []
    context.close()

    # The new pages on a laptop and on a phone.
    with org_scope(org):
        done = RiskAssessment.objects.for_org(org).get()
    pages = {
        "risk-assessments": f"/o/{slug}/risks/assessments/",
        "risk-assessment-run": f"/o/{slug}/risks/assessments/run/",
        "risk-assessment-detail": f"/o/{slug}/risks/assessments/{done.pk}/",
    }
    for viewport, (width, height) in {"laptop": (1366, 900), "phone": (390, 844)}.items():
        context, page, problems = _login(
            browser, live_server.url, manager.user.email, width, height
        )
        for name, path in pages.items():
            page.goto(path)
            assert _fits(page), f"{name}: scrolls sideways ({viewport})"
            _shot(page, out, f"{name}-{viewport}")
        assert problems == []
        context.close()
