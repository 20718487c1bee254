"""Provisioning end to end in a browser: an owner creates a SCIM token on Settings →
Provisioning (shown once), an identity provider (a real HTTP client against the live server)
creates a member with it, and deactivating that member through SCIM ends their open browser
session's access on its next page. The page fits a laptop and a phone without sideways
scrolling or console (CSP) errors. Screenshots go to $SCREENSHOT_DIR when set."""

from __future__ import annotations

import json
import os
import urllib.request
from pathlib import Path

import pytest

from tenants.models import Role
from tests.browser.test_monitoring import _fits, _login
from tests.factories import MembershipFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _scim(base: str, token: str, method: str, path: str, body: dict | None = None):
    request = urllib.request.Request(  # noqa: S310 (the live server's http URL)
        base + path,
        data=json.dumps(body).encode() if body is not None else None,
        method=method,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/scim+json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (live server)
        raw = response.read()
        return response.status, json.loads(raw) if raw else None


def test_token_create_scim_member_and_deactivation_mid_session(browser, live_server):
    owner = MembershipFactory(role=Role.OWNER, user__email="owner@scim-browser.example.com")
    org = owner.organization
    member = MembershipFactory(
        organization=org, role=Role.CONTRIBUTOR, user__email="leaver@scim-browser.example.com"
    )
    out = Path(os.environ["SCREENSHOT_DIR"]) if os.environ.get("SCREENSHOT_DIR") else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    tokens = {}
    for viewport, (width, height) in {"laptop": (1366, 900), "phone": (390, 844)}.items():
        context, page, problems = _login(browser, live_server.url, owner.user.email, width, height)
        page.goto(f"/o/{org.slug}/settings/provisioning/")
        assert (
            f"{live_server.url}/scim/v2/{org.slug}/" == page.locator("#scim-base-url").input_value()
        )
        page.get_by_label("Name").fill(f"okta-{viewport}-identity-provider-connection")
        page.get_by_role("button", name="Create token").click()
        page.wait_for_load_state()
        tokens[viewport] = page.locator("#new-token").input_value()
        assert tokens[viewport].startswith("scim_")
        assert _fits(page), f"{viewport}: the provisioning page scrolls sideways"
        if out is not None:
            page.screenshot(path=str(out / f"provisioning-{viewport}.png"), full_page=True)
        page.goto(f"/o/{org.slug}/settings/provisioning/")
        assert page.locator("#new-token").count() == 0  # shown once
        assert problems == [], problems
        context.close()

    scim_base = f"{live_server.url}/scim/v2/{org.slug}/"
    token = tokens["laptop"]
    status, created = _scim(
        scim_base,
        token,
        "POST",
        "Users",
        {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "new.hire@scim-browser.example.com",
            "name": {"givenName": "New", "familyName": "Hire"},
            "active": True,
        },
    )
    assert status == 201 and created["active"] is True

    context, page, problems = _login(browser, live_server.url, member.user.email)
    page.goto(f"/o/{org.slug}/")
    assert page.get_by_role("heading", level=1).count() >= 1
    status, _ = _scim(
        scim_base,
        token,
        "PATCH",
        f"Users/{member.pk}",
        {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "Replace", "path": "active", "value": "False"}],
        },
    )
    assert status == 200
    response = page.goto(f"/o/{org.slug}/controls/")
    assert response is not None and response.status == 404
    context.close()
