"""``GET /api/v1/orgs/<slug>/sso/``: the status of single sign-on for keys and members of the
organization (evidence of access control), never a secret nor a verification token; another
organization's key gets a 404."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tenants.activity import Actor
from tenants.apikeys import api_key_create_system
from tests.sso.conftest import verified_domain

pytestmark = pytest.mark.django_db


def _key_client(org, role: str = "read_only") -> APIClient:
    _, raw = api_key_create_system(
        organization=org, name="ci", role=role, expires_days=None, actor=Actor.system()
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def test_a_read_only_key_reads_the_status(org, acme_oidc, django_assert_max_num_queries):
    client = _key_client(org)
    url = f"/api/v1/orgs/{org.slug}/sso/"
    with django_assert_max_num_queries(6) as few:
        body = client.get(url).json()
    assert body["configured"] and body["enabled"] and body["protocol"] == "oidc"
    assert body["domains"] == [
        {
            "domain": "acme.test",
            "verified": True,
            "verified_method": "dns",
            "verified_at": body["domains"][0]["verified_at"],
        }
    ]
    assert "secret" not in str(body) and "t" * 32 not in str(body)
    for n in range(4):
        verified_domain(org, f"d{n}.test")
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(client.get(url).json()["domains"]) == 5


def test_not_configured(org):
    body = _key_client(org).get(f"/api/v1/orgs/{org.slug}/sso/").json()
    assert body == {
        "configured": False,
        "protocol": None,
        "enabled": False,
        "require_sso": False,
        "allow_jit": False,
        "tested_at": None,
        "domains": [],
    }


def test_another_organizations_key_gets_a_404(org, other_org, acme_oidc):
    response = _key_client(other_org).get(f"/api/v1/orgs/{org.slug}/sso/")
    assert response.status_code == 404


def test_it_writes_nothing(org, acme_oidc):
    client = _key_client(org, role="admin")
    assert client.post(f"/api/v1/orgs/{org.slug}/sso/", {}).status_code == 405
