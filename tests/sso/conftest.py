"""Fixtures for single sign-on: the local identity providers the tests run, and an
organization ("Acme", domain acme.test) whose connection points at them."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlparse

import pytest
import requests
from django.test import Client
from django.utils import timezone

from sso.models import ConnectionKind, SsoConnection, SsoDomain
from tenants.models import Role
from tests.factories import MembershipFactory, UserFactory
from tests.sso.oidc_provider import CLIENT_ID, CLIENT_SECRET, OidcProvider

DOMAIN = "acme.test"


@pytest.fixture
def oidc() -> Iterator[OidcProvider]:
    with OidcProvider() as provider:
        yield provider


def verified_domain(org, domain: str = DOMAIN) -> SsoDomain:
    return SsoDomain.objects.for_org(org).create(
        organization=org,
        domain=domain,
        token="t" * 32,
        verified_at=timezone.now(),
        verified_method="dns",
    )


def oidc_connection(org, provider: OidcProvider, **fields) -> SsoConnection:
    values = {
        "kind": ConnectionKind.OIDC,
        "oidc_issuer": provider.issuer,
        "oidc_client_id": CLIENT_ID,
        "oidc_client_secret": CLIENT_SECRET,
        "tested_at": timezone.now(),
        "enabled": True,
        **fields,
    }
    return SsoConnection.objects.for_org(org).create(organization=org, **values)


def member(org, email: str, role: str = Role.CONTRIBUTOR):
    return MembershipFactory(organization=org, role=role, user=UserFactory(email=email))


@pytest.fixture
def acme_oidc(org, oidc) -> SsoConnection:
    verified_domain(org)
    return oidc_connection(org, oidc)


def follow_oidc(client: Client, response) -> object:
    """The browser's part: to the provider's authorize endpoint, and back to our callback."""
    assert response.status_code == 302, response.content[:500]
    at_provider = requests.get(response["Location"], allow_redirects=False, timeout=10)
    assert at_provider.status_code == 302, at_provider.text
    back = urlparse(at_provider.headers["Location"])
    return client.get(f"{back.path}?{back.query}")


def oidc_sign_in(client: Client, email: str):
    return follow_oidc(client, client.post("/sso/", {"email": email}))


def signed_in_user_id(client: Client) -> str | None:
    return client.session.get("_auth_user_id")
