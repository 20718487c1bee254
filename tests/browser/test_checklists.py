"""Checklists in a real browser, on a phone (390 px): a manager marks a leaver's "Accounts
revoked" done late with a file (htmx swaps the row), and the Type 2 dashboard lists it as an
exception of the control; the checklist pages never scroll sideways and raise no console
(CSP) error. Set SCREENSHOT_DIR to keep the screenshots."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from controls.models import Audit, AuditCategory, AuditType
from criteria.models import Category
from people import services
from people.models import ChecklistItem
from tenants.models import Role
from tests.browser.sessions import VIEWPORTS, signed_in_page
from tests.factories import PASSWORD, ControlFactory, control_map

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_late_offboarding_item_is_an_exception_and_the_pages_fit(
    browser, live_server, catalog, org, manager, make_member, tmp_path
):
    contributor = make_member(org, Role.CONTRIBUTOR)
    today = timezone.localdate()
    control = control_map(
        ControlFactory(
            organization=org,
            owner=contributor,
            code="IAM-05",
            title="Access removed promptly at termination",
            frequency="monthly",
            created_at=timezone.now() - dt.timedelta(days=400),
        ),
        "CC6.2",
    )
    window_start = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    audit = Audit.objects.create(
        organization=org,
        framework=catalog,
        name="Type 2",
        audit_type=AuditType.TYPE2,
        window_start=window_start,
        window_end=window_start + dt.timedelta(days=364),
        status="readiness",
    )
    for category in Category.objects.filter(framework=catalog, always_in_scope=True):
        AuditCategory.objects.create(organization=org, audit=audit, category=category)
    leaver = services.person_create(
        membership=manager,
        full_name="Elena Petrova-Featherstonehaugh",
        email="elena.petrova-featherstonehaugh@subsidiary.acme-holdings.example.com",
        start_date=dt.date(2022, 6, 1),
    )
    last_day = max(window_start, today - dt.timedelta(days=12))
    services.person_end(membership=manager, person=leaver, end_date=last_day)
    revoke = ChecklistItem.objects.for_org(org).get(title="Accounts revoked")
    done_on = revoke.due_date + dt.timedelta(days=2)

    proof = tmp_path / "okta-deactivation.txt"
    proof.write_text("user deactivated\n")
    problems: list[str] = []
    folder = os.environ.get("SCREENSHOT_DIR")
    slug = org.slug
    context, page = signed_in_page(
        browser,
        live_server.url,
        manager.user.email,
        viewport=VIEWPORTS["phone"],
        problems=problems,
        password=PASSWORD,
    )
    try:
        page.goto(reverse("person_detail", kwargs={"org_slug": slug, "pk": leaver.pk}))
        row = page.locator(f"#checklist-item-{revoke.pk}")
        expect(row).to_contain_text("Overdue")
        row.locator("input[name=done_on]").fill(done_on.isoformat())
        row.locator("input[name=evidence_file]").set_input_files(str(proof))
        row.get_by_role("button", name="Mark done").click()
        expect(page.locator(f"#checklist-item-{revoke.pk}")).to_contain_text("Done late")
        expect(page.locator(f"#checklist-item-{revoke.pk}")).to_contain_text("Reopen")
        pages = {
            "person": page.url,
            "checklists": reverse("checklists", kwargs={"org_slug": slug}),
            "late": reverse("checklists", kwargs={"org_slug": slug}) + "?late=on&state=all",
            "template": reverse(
                "checklist_template", kwargs={"org_slug": slug, "kind": "offboarding"}
            ),
        }
        for name, path in pages.items():
            page.goto(path)
            if folder:
                page.screenshot(path=str(Path(folder) / f"checklists-{name}.png"), full_page=True)
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, (name, overflow)
        page.goto(reverse("audit_detail", kwargs={"org_slug": slug, "pk": audit.pk}))
        exceptions = page.locator("#exceptions")
        expect(exceptions).to_contain_text("IAM-05")
        expect(exceptions).to_contain_text("'Accounts revoked' done")
    finally:
        context.close()
    # The contributor's own items fit too.
    context, page = signed_in_page(
        browser,
        live_server.url,
        contributor.user.email,
        viewport=VIEWPORTS["phone"],
        problems=problems,
        password=PASSWORD,
    )
    try:
        page.goto(reverse("checklist_mine", kwargs={"org_slug": slug}))
        expect(page.get_by_role("heading", name="My checklist items")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    finally:
        context.close()
    assert problems == []
    assert control.pk
