"""Continuous monitoring end to end: an admin connects the custom-tests integration in the
browser and creates an API key; a CI job pushes a failing and a passing result through the
real API; the finding shows on the Monitoring page and on the owner's home, and closes when
the resource passes again. Screenshots go to $SCREENSHOT_DIR when set."""

from __future__ import annotations

import json
import os
import re
import urllib.request
from pathlib import Path

import pytest

from monitoring.models import Connection
from tenants.context import org_scope
from tenants.models import Role
from tests.factories import PASSWORD, ControlFactory, MembershipFactory, control_map

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = {"laptop": (1366, 900), "phone": (390, 844)}


def _push(base_url: str, slug: str, connection_id: int, key: str, results: list) -> dict:
    body = {
        "check": {
            "key": "s3-bucket-encryption",
            "title": "S3 buckets are encrypted at rest",
            "severity": "high",
            "criteria": ["CC6.1"],
        },
        "results": results,
    }
    request = urllib.request.Request(  # noqa: S310 (the test's own live server)
        f"{base_url}/api/v1/orgs/{slug}/monitoring/connections/{connection_id}/results/",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        assert response.status == 201
        return json.loads(response.read())


def _login(browser, base_url: str, email: str, width: int = 1366, height: int = 900):
    context = browser.new_context(base_url=base_url, viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    page.wait_for_load_state()
    return context, page, problems


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_custom_tests_push_open_and_close_a_finding(browser, live_server, catalog):
    admin = MembershipFactory(role=Role.ADMIN, user__email="admin@monitoring.example.com")
    org = admin.organization
    owner = MembershipFactory(
        organization=org, role=Role.CONTRIBUTOR, user__email="owner@monitoring.example.com"
    )
    with org_scope(org):
        control_map(
            ControlFactory(organization=org, owner=owner, code="AC-01", title="Access to data"),
            "CC6.1",
        )
    directory = os.environ.get("SCREENSHOT_DIR")
    out = Path(directory) if directory else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)

    def shot(page, name: str) -> None:
        if out is not None:
            page.screenshot(path=str(out / f"monitoring-{name}.png"), full_page=True)

    # The admin connects the custom-tests integration and creates a key for the CI job.
    context, page, problems = _login(browser, live_server.url, admin.user.email)
    page.goto(f"/o/{org.slug}/")
    page.locator("nav.sidebar").get_by_role("link", name="Monitoring").click()
    shot(page, "empty")
    page.get_by_role("link", name="Integrations").click()
    page.get_by_role("link", name="Add an integration").first.click()
    page.get_by_label("Your own tests").check()
    page.locator("#id_name").fill("CI security tests")
    shot(page, "connect")
    page.get_by_role("button", name="Connect").click()
    page.wait_for_url(re.compile(r".*/monitoring/connections/\d+/$"))
    with org_scope(org):
        connection = Connection.objects.for_org(org).get()
    assert (
        page.locator("code.push-url")
        .inner_text()
        .endswith(f"/connections/{connection.pk}/results/")
    )
    page.get_by_role("button", name="Test connection").click()
    assert "Nothing has been pushed yet." in page.locator("ul.messages").inner_text()
    page.get_by_role("link", name="Integrations").first.click()
    assert page.locator(".connection-row").count() == 1
    shot(page, "connections")

    page.locator("nav.sidebar").get_by_role("link", name="API keys").click()
    page.get_by_label("Name").fill("ci-pipeline")
    page.locator("#id_role").select_option("admin")
    page.get_by_role("button", name="Create key").click()
    key = page.locator("#new-key").input_value()
    assert key

    # The CI job: one bucket fails, one passes.
    first = _push(
        live_server.url,
        org.slug,
        connection.pk,
        key,
        [
            {"resource": "arn:aws:s3:::audit-logs", "status": "fail", "details": {"sse": "none"}},
            {"resource": "arn:aws:s3:::web-assets", "status": "pass"},
        ],
    )
    assert first["findings_opened"] == 1

    page.goto(f"/o/{org.slug}/monitoring/")
    row = page.locator(".check-row", has_text="S3 buckets are encrypted at rest")
    assert "Failing: 1 open" in row.inner_text()
    assert owner.user.email in row.inner_text()
    shot(page, "failing")
    row.get_by_role("link", name="S3 buckets are encrypted at rest").click()
    assert page.locator(".finding-row").count() == 1
    assert "arn:aws:s3:::audit-logs" in page.locator(".finding-row").inner_text()
    shot(page, "check-failing")
    context.close()

    # The owner sees it on their home, at a phone's width too.
    for name, (width, height) in VIEWPORTS.items():
        context, page, owner_problems = _login(
            browser, live_server.url, owner.user.email, width, height
        )
        page.goto(f"/o/{org.slug}/")
        titles = page.locator(".todo-item .todo-main > a").all_text_contents()
        assert any("Fix the failing test S3 buckets are encrypted at rest" in t for t in titles)
        shot(page, f"owner-home-{name}")
        assert _fits(page)
        page.goto(f"/o/{org.slug}/monitoring/")
        shot(page, f"owner-monitoring-{name}")
        assert _fits(page)
        problems += owner_problems
        context.close()

    # Fixed: the bucket passes, the finding closes and the test passes.
    second = _push(
        live_server.url,
        org.slug,
        connection.pk,
        key,
        [{"resource": "arn:aws:s3:::audit-logs", "status": "pass"}],
    )
    assert second["findings_closed"] == 1
    context, page, admin_problems = _login(browser, live_server.url, admin.user.email)
    page.goto(f"/o/{org.slug}/monitoring/")
    row = page.locator(".check-row", has_text="S3 buckets are encrypted at rest")
    assert "Passing" in row.inner_text()
    row.get_by_role("link", name="S3 buckets are encrypted at rest").click()
    assert "Closed" in page.locator(".finding-row").inner_text()
    shot(page, "check-closed")
    context.close()
    assert problems + admin_problems == []
