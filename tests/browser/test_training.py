"""Training end to end: a manager adopts the built-in security-awareness module and assigns it
to everyone; a real Celery worker e-mails the personal links (the worker's mail goes to
files); a joiner without an account opens the link from the e-mail on a phone, reads the
module and confirms; the manager sees 1 of 2 current. Screenshots go to $SCREENSHOT_DIR when
set."""

from __future__ import annotations

import datetime as dt
import os
import re
from email import message_from_bytes
from pathlib import Path

import pytest
from django.utils import timezone

from people.models import Person
from tenants.context import org_scope
from tenants.models import Role
from tests.browser.sessions import VIEWPORTS, signed_in_page
from tests.browser.test_policies import mail_worker  # noqa: F401 (fixture)
from tests.factories import PASSWORD, MembershipFactory
from tests.workers import wait_for

pytestmark = [
    pytest.mark.browser,
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
]


def _links(outbox: Path) -> dict[str, str]:
    found = {}
    for path in outbox.glob("*.log"):
        for raw in path.read_bytes().split(b"\n" + b"-" * 79 + b"\n"):
            if not raw.strip():
                continue
            message = message_from_bytes(raw.strip())
            body = message.get_payload(decode=True).decode()
            match = re.search(r"https?://[^/\s]+(/training-link/\S+/)", body)
            if match:
                found[message["To"]] = match.group(1)
    return found


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
    directory = os.environ.get("SCREENSHOT_DIR")
    out = Path(directory) if directory else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)

    def shot(page, name: str) -> None:
        if out is not None:
            page.screenshot(path=str(out / f"training-{name}.png"), full_page=True)

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
        lambda: len(_links(mail_worker)) == 2 and _links(mail_worker), 60, "two training e-mails"
    )
    assert sorted(links) == ["ana@example.com", "bo@example.com"]
    shot(page, "assigned")

    width, height = VIEWPORTS["phone"]
    anonymous = browser.new_context(
        base_url=live_server.url, viewport={"width": width, "height": height}
    )
    employee = anonymous.new_page()
    employee.goto(links["ana@example.com"])
    assert "Security awareness" in employee.locator("h1").inner_text()
    assert "Phishing" in employee.locator(".training-module").inner_text()
    assert employee.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shot(employee, "employee-link")
    employee.get_by_role("checkbox").check()
    employee.get_by_role("button", name="I completed this training").click()
    assert "Thank you" in employee.locator("h1").inner_text()
    shot(employee, "employee-done")
    employee.goto(links["ana@example.com"])
    assert "used already" in employee.content()
    anonymous.close()

    page.reload()
    assert "1 of 2" in page.locator(".training-figure").inner_text()
    row = page.locator(".training-person", has_text="Ana Lima")
    assert "Current" in row.inner_text()
    shot(page, "one-of-two")
    context.close()
    assert problems == []
