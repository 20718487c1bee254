from __future__ import annotations

import pytest
from django.core.management import call_command

from tenants.management.commands.seed_demo import DEMO_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_demo_manager_signs_in_and_reaches_the_organization_home(page, catalog):
    call_command("seed_demo")
    page.goto("/")
    assert "/accounts/login/" in page.url
    page.get_by_label("Email").fill("manager@acme.example.com")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url("**/o/acme/")
    assert page.get_by_role("heading", level=1).inner_text() == "Acme Cloud (demo)"
    # The sidebar leads to the team page, which lists the demo colleagues.
    page.get_by_role("link", name="Members", exact=True).click()
    page.wait_for_url("**/o/acme/members/")
    assert page.get_by_role("cell", name="contributor@acme.example.com", exact=True).is_visible()
