"""Policies end to end: a manager adopts a library policy and sends it to the owner, who
approves it; the manager assigns it to a department; a real Celery worker e-mails the personal
links (the worker's mail goes to files); an employee without an account opens the link from
the e-mail and accepts; the manager sees 1 of 2 accepted, records it as evidence and finds it
with the approval on the control's evidence. Screenshots go to $SCREENSHOT_DIR
when set."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from people.models import Person
from tenants.context import org_scope
from tenants.models import Role
from tests.browser.personal_links import (  # noqa: F401 (mail_worker: a fixture)
    confirm_once,
    links_in,
    mail_worker,
    open_on_phone,
    screenshots,
)
from tests.browser.sessions import signed_in_page
from tests.factories import PASSWORD, ControlFactory, MembershipFactory
from tests.workers import wait_for

pytestmark = [
    pytest.mark.browser,
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
]


def test_a_policy_is_approved_assigned_and_accepted_through_the_e_mailed_link(
    browser,
    live_server,
    catalog,
    mail_worker,  # noqa: F811
):
    manager = MembershipFactory(
        role=Role.COMPLIANCE_MANAGER, user__email="manager@policies.example.com"
    )
    org = manager.organization
    owner = MembershipFactory(
        organization=org, role=Role.OWNER, user__email="ceo@policies.example.com"
    )
    with org_scope(org):
        control = ControlFactory(organization=org, code="IAM-02", title="Access reviews")
        for name, department in (
            ("Ana Lima", "Engineering"),
            ("Bo Chen", "Engineering"),
            ("Cy Diaz", "Sales"),
        ):
            Person.objects.create(
                organization=org,
                full_name=name,
                email=f"{name.split()[0].lower()}@example.com",
                department=department,
                start_date=dt.date(2025, 1, 6),
            )
    shot = screenshots("policies")
    problems: list[str] = []
    context, page = signed_in_page(
        browser, live_server.url, manager.user.email, password=PASSWORD, problems=problems
    )
    page.goto(f"/o/{org.slug}/")
    page.locator("nav.sidebar").get_by_role("link", name="Policies").click()
    page.get_by_role("link", name="Adopt from the library").click()
    entry = page.locator(".library-entry", has_text="Access Control Policy")
    entry.get_by_role("button", name="Adopt").click()
    page.wait_for_url(re.compile(r".*/policies/\d+/$"))
    page.get_by_label("Approver").select_option(label=owner.user.email)
    page.get_by_role("button", name="Save settings").click()
    page.get_by_role("button", name="Send for approval").click()
    assert "awaiting approval" in page.locator("#open-version").inner_text()
    policy_url = page.url
    shot(page, "sent")

    approver_context, approver_page = signed_in_page(
        browser, live_server.url, owner.user.email, password=PASSWORD, problems=problems
    )
    approver_page.goto(f"/o/{org.slug}/")
    approver_page.get_by_role("link", name=re.compile("Approve or return v1")).click()
    approver_page.get_by_role("button", name="Approve v1").click()
    assert "v1 is approved" in approver_page.content()
    approver_context.close()

    page.goto(policy_url)
    page.get_by_role("link", name="Assignments and acceptance").click()
    page.get_by_label("A department").check()
    page.get_by_label("Department", exact=True).select_option("Engineering")
    page.get_by_role("button", name="Assign").click()
    links = wait_for(
        lambda: len(found := links_in(mail_worker, "/accept/")) == 2 and found,
        60,
        "two acceptance e-mails",
    )
    assert sorted(links) == ["ana@example.com", "bo@example.com"]
    shot(page, "assigned")

    # Ana has no account: the link from her e-mail is all she needs, on her phone.
    anonymous, employee = open_on_phone(
        browser, live_server, links["ana@example.com"], "Access Control Policy", shot
    )
    confirm_once(anonymous, employee, links["ana@example.com"], "Accept", shot)

    page.reload()
    assert "1 of 2" in page.locator(".acceptance-figure").inner_text()
    row = page.locator(".acceptance-row", has_text="Ana Lima")
    assert "Accepted" in row.inner_text()
    shot(page, "one-of-two")

    # The control's evidence: the approval, and the acceptance rate recorded now.
    page.get_by_role("button", name="Record as evidence now").click()
    assert "Recorded as evidence of IAM-02" in page.locator(".messages").inner_text()
    page.goto(f"/o/{org.slug}/controls/{control.pk}/")
    evidence = page.locator("#evidence")
    assert "Policy: Access Control Policy" in evidence.inner_text()
    evidence.get_by_role("link", name="Policy acceptance: Access Control Policy").click()
    summary = page.locator(".records-summary").inner_text()
    assert "1 of 2 people accepted (50.0%), 1 not yet" in summary
    shot(page, "control-evidence")
    context.close()
    assert problems == []
