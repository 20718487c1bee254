"""The organization's two-factor policy on the API: browser sessions are held to it, API
keys (not people) are not."""

from __future__ import annotations

from tenants.models import Role
from tests.tenants.test_mfa import _require, _sign_in


def test_browser_api_calls_follow_the_policy_and_keys_do_not(org, manager, key_client):
    _require(org, everyone=True)
    url = f"/api/v1/orgs/{org.slug}/controls/"
    response = _sign_in(manager.user).get(url)
    assert response.status_code == 403
    assert "requires two-factor" in response.json()["detail"]
    assert key_client(org, Role.COMPLIANCE_MANAGER).get(url).status_code == 200
