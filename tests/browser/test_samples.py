"""The Type 2 sampling journey in a real browser: a manager uploads a population of 60 new
hires; the auditor draws a sample of 5 in the portal (with a reason: the suggestion is 6);
the manager answers each item's request with evidence; the auditor marks one exception, which
the manager then sees in the audit dashboard's Exceptions list and finds in the Type 2 PDF's
exceptions section. Each
page is looked at 1366 and 390 px wide, with no sideways scroll (screenshots are written to
``SCREENSHOT_DIR`` when it is set)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from reports.content import report_content
from reports.models import InfoRequest, Population, Sample, SampleItem
from reports.rendering.pdf import render_single
from reports.services import auditor_access_grant
from tenants.context import org_scope
from tenants.models import ActivityEntry, Role
from tests.browser.test_auditor import _sign_in, _sign_out
from tests.factories import ControlFactory, MembershipFactory, control_map, evidence_row
from tests.reports.conftest import hires_csv, make_audit, pdf_text  # noqa: F401  (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _look(page, name: str) -> None:
    """No sideways scroll at either width; a screenshot of each when asked for."""
    folder = os.environ.get("SCREENSHOT_DIR")
    for width in (1366, 390):
        page.set_viewport_size({"width": width, "height": 900})
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, (name, width, overflow)
        if folder:
            page.screenshot(path=str(Path(folder) / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1366, "height": 900})


@pytest.mark.slow
def test_the_sampling_journey(page, catalog, make_audit, tmp_path):  # noqa: F811
    manager = MembershipFactory(role=Role.COMPLIANCE_MANAGER)
    org = manager.organization
    auditor = MembershipFactory(
        organization=org, role=Role.AUDITOR, expires_at=timezone.now() + dt.timedelta(days=30)
    )
    audit = make_audit(org, type2=True, name="FY25 Type 2")
    control = control_map(
        ControlFactory(organization=org, owner=manager, code="HR-01", title="Onboarding"),
        "CC1.4",
    )
    evidence_row(control, dt.date(2025, 3, 1))
    auditor_access_grant(membership=manager, auditor=auditor, audit=audit)
    population_file = tmp_path / "new-hires.csv"
    population_file.write_bytes(hires_csv(60))

    # The manager uploads the population from the audit's dashboard.
    _sign_in(page, manager.user.email)
    page.goto(f"/o/{org.slug}/audits/{audit.pk}/")
    page.get_by_role("link", name="Populations and samples").click()
    expect(page.get_by_text("No population yet.")).to_be_visible()
    _look(page, "populations-empty")
    page.get_by_label("CSV file", exact=True).set_input_files(str(population_file))
    page.get_by_role("button", name="Store population").click()
    expect(page.get_by_text("Population v1 of HR-01 stored: 60 items.")).to_be_visible()
    population = Population.objects.for_org(org).get()
    expect(page.get_by_text(population.sha256)).to_be_visible()
    _sign_out(page)

    # The auditor draws 5 in the portal: the suggestion is 6, so a reason is asked for.
    _sign_in(page, auditor.user.email)
    page.get_by_role("link", name="FY25 Type 2").click()
    page.get_by_role("link", name="Populations and samples").click()
    _look(page, "portal-populations")
    page.get_by_role("link", name="HR-01 Onboarding").click()
    expect(page.get_by_text("Suggested size for 60 occurrences: 6")).to_be_visible()
    _look(page, "portal-population")
    page.get_by_label("Sample size").fill("5")
    page.get_by_role("button", name="Draw sample").click()
    expect(page.get_by_text("The suggested size is 6: say why this sample has 5")).to_be_visible()
    page.get_by_label("Why this size").fill("Low-risk control; no exceptions last year.")
    page.get_by_role("button", name="Draw sample").click()
    expect(page.get_by_text("Sample 1 drawn: 5 items.")).to_be_visible()
    sample = Sample.objects.for_org(org).get()
    items = list(SampleItem.objects.for_org(org).filter(sample=sample).order_by("rank"))
    assert sample.size == 5 and len(items) == 5
    _look(page, "portal-sample")
    _sign_out(page)

    # The manager answers each item's request with evidence.
    _sign_in(page, manager.user.email)
    for item in items:
        info = InfoRequest.objects.for_org(org).get(pk=item.request_id)
        page.goto(f"/o/{org.slug}/reports/audits/{audit.pk}/requests/{info.pk}/")
        page.get_by_label("HR-01", exact=False).first.check()
        page.get_by_role("button", name="Send").click()
        expect(page.get_by_text(f"{info.reference} answered.")).to_be_visible()
    page.goto(f"/o/{org.slug}/reports/audits/{audit.pk}/samples/{sample.pk}/")
    expect(page.get_by_text("Answered")).to_have_count(5)
    _look(page, "sample")
    _sign_out(page)

    # The auditor marks the first item an exception, the others none.
    _sign_in(page, auditor.user.email)
    page.goto(f"/o/{org.slug}/portal/audits/{audit.pk}/samples/{sample.pk}/")
    first = items[0].population_item.item_id
    page.get_by_label(f"Result for {first}").select_option("exception")
    page.get_by_label(f"Note for {first}").fill("Access granted before approval.")
    page.locator(f"#item-{items[0].pk}").get_by_role("button", name="Record").click()
    expect(page.get_by_text(f"{first} marked.")).to_be_visible()
    for item in items[1:]:
        page.locator(f"#item-{item.pk}").get_by_role("button", name="Record").click()
        expect(page.get_by_text(f"{item.population_item.item_id} marked.")).to_be_visible()
    expect(page.get_by_text("Access granted before approval.")).to_be_visible()
    _look(page, "portal-sample-tested")
    results = list(
        SampleItem.objects.for_org(org).filter(sample=sample).values_list("result", flat=True)
    )
    assert sorted(results) == ["exception"] + ["no_exception"] * 4
    assert ActivityEntry.objects.for_org(org).filter(action="sample.exception").count() == 1

    _sign_out(page)

    # The manager sees the exception on the audit's dashboard, in the Exceptions list.
    _sign_in(page, manager.user.email)
    page.goto(f"/o/{org.slug}/audits/{audit.pk}/")
    listed = page.locator("#exceptions")
    expect(listed.get_by_text(f"HR-01 failed sample testing: item {first}")).to_be_visible()
    expect(listed.get_by_text("Access granted before approval", exact=False)).to_be_visible()
    expect(listed.get_by_text(auditor.user.email, exact=False)).to_be_visible()
    _look(page, "dashboard-sample-exception")

    # And in the Type 2 PDF's exceptions section (the report's renderer, as a worker runs it).
    with org_scope(org):
        content = report_content(audit)
    render_single(content, tmp_path / "report.pdf")
    text = " ".join(pdf_text((tmp_path / "report.pdf").read_bytes(), tmp_path).split())
    section = text[text.index("Exceptions Every ended sub-period") :]
    assert "HR-01 failed sample testing: item" in section
    assert "Access granted before approval" in section
