"""Training end to end: a manager adopts the built-in security-awareness module and assigns it
to everyone; a real Celery worker e-mails the personal links (the worker's mail goes to
files); a joiner without an account opens the link from the e-mail on a phone, reads the
module and confirms; the manager sees 1 of 2 current. Screenshots go to $SCREENSHOT_DIR when
set."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

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
from tests.factories import PASSWORD, MembershipFactory
from tests.workers import wait_for

pytestmark = [
    pytest.mark.browser,
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
]


def test_a_joiner_completes_the_module_from_the_e_mailed_link_on_a_phone(
    browser,
    live_server,
    catalog,
    mail_worker,  # noqa: F811
):
    manager = MembershipFactory(
        role=Role.COMPLIANCE_MANAGER, user__email="manager@training.example.com"
    )
    org = manager.organization
    today = timezone.localdate()
    with org_scope(org):
        for name, start in (("Ana Lima", today - dt.timedelta(days=2)), ("Bo Chen", today)):
            Person.objects.create(
                organization=org,
                full_name=name,
                email=f"{name.split()[0].lower()}@example.com",
                department="Engineering",
                start_date=start,
            )
    shot = screenshots("training")
    problems: list[str] = []
    context, page = signed_in_page(
        browser, live_server.url, manager.user.email, password=PASSWORD, problems=problems
    )
    page.goto(f"/o/{org.slug}/")
    page.locator("nav.sidebar").get_by_role("link", name="Training").click()
    page.get_by_role("button", name="Adopt").click()
    page.wait_for_url(re.compile(r".*/training/\d+/$"))
    page.get_by_label("Everyone").check()
    page.get_by_role("button", name="Assign").click()
    links = wait_for(
        lambda: len(found := links_in(mail_worker, "/training-link/")) == 2 and found,
        60,
        "two training e-mails",
    )
    assert sorted(links) == ["ana@example.com", "bo@example.com"]
    shot(page, "assigned")

    anonymous, employee = open_on_phone(
        browser, live_server, links["ana@example.com"], "Security awareness", shot
    )
    assert "Phishing" in employee.locator(".training-module").inner_text()
    confirm_once(anonymous, employee, links["ana@example.com"], "I completed this training", shot)

    page.reload()
    assert "1 of 2" in page.locator(".training-figure").inner_text()
    row = page.locator(".training-person", has_text="Ana Lima")
    assert "Current" in row.inner_text()
    shot(page, "one-of-two")
    context.close()
    assert problems == []
