"""Fixtures for single sign-on: the local identity providers the tests run, and an
organization ("Acme", domain acme.test) whose connection points at them."""

from __future__ import annotations

import html
import re
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
from tests.sso.saml_idp import SamlIdp, form_fields

DOMAIN = "acme.test"


@pytest.fixture(autouse=True)
def _local_servers_allowed(settings) -> None:
    """The identity providers and web servers of these tests are on 127.0.0.1: the SSRF guard
    (``sso.outbound``) lets them through as in development (tests that check the guard turn
    it back off)."""
    settings.WEBHOOK_ALLOW_PRIVATE = True


@pytest.fixture
def client() -> Client:
    """A browser: it names the host it talks to (python3-saml reads the Host header)."""
    return Client(HTTP_HOST="testserver")


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


def idp_url(response) -> str:
    """Where the start of a sign-in sends the browser: the page that moves on by itself
    (``sso.start``), read as the browser reads it."""
    assert response.status_code == 200, response.content[:500]
    found = re.search(
        r'<meta http-equiv="refresh" content="0;url=([^"]+)">', response.content.decode()
    )
    assert found, response.content[:1000]
    return html.unescape(found.group(1))


def follow_oidc(client: Client, response) -> object:
    """The browser's part: to the provider's authorize endpoint, and back to our callback."""
    at_provider = requests.get(idp_url(response), allow_redirects=False, timeout=10)
    assert at_provider.status_code == 302, at_provider.text
    back = urlparse(at_provider.headers["Location"])
    return client.get(f"{back.path}?{back.query}")


def oidc_sign_in(client: Client, email: str):
    return follow_oidc(client, client.post("/sso/", {"email": email}))


def signed_in_user_id(client: Client) -> str | None:
    return client.session.get("_auth_user_id")


@pytest.fixture
def saml_idp() -> Iterator[SamlIdp]:
    with SamlIdp() as idp:
        yield idp


def saml_connection(org, idp: SamlIdp, **fields) -> SsoConnection:
    values = {
        "kind": ConnectionKind.SAML,
        "saml_metadata_url": idp.metadata_url,
        "saml_idp_entity_id": idp.entity_id,
        "saml_sso_url": f"{idp.base}/sso",
        "saml_x509cert": idp.cert_body(),
        "tested_at": timezone.now(),
        "enabled": True,
        **fields,
    }
    return SsoConnection.objects.for_org(org).create(organization=org, **values)


@pytest.fixture
def acme_saml(org, saml_idp) -> SsoConnection:
    verified_domain(org)
    return saml_connection(org, saml_idp)


def saml_answer(response) -> tuple[str, dict[str, str]]:
    """The browser at the IdP: its auto-post form (ACS path and fields)."""
    page = requests.get(idp_url(response), allow_redirects=False, timeout=10)
    assert page.status_code == 200, page.text
    action, fields = form_fields(page.text)
    return urlparse(action).path, fields


def saml_post(client: Client, acs_path: str, fields: dict[str, str]):
    """The form posted to our ACS, and allauth's redirect to finish it followed."""
    posted = client.post(acs_path, fields)
    assert posted.status_code == 302, posted.content[:500]
    return client.get(posted["Location"])


def saml_sign_in(client: Client, email: str):
    return saml_post(client, *saml_answer(client.post("/sso/", {"email": email})))
