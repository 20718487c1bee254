"""A SCIM client speaking JSON to the app (Django's test client, the real views and
middleware), with a token created the way an owner creates one."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from scim.tokens import scim_token_create
from tenants.management.commands.create_app_role import create_app_role
from tenants.models import Membership, Organization

SCIM_JSON = "application/scim+json"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


class Scim:
    def __init__(self, org: Organization, token: str):
        self.base = f"/scim/v2/{org.slug}/"
        self.client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")

    def call(
        self, method: str, path: str, body: Any = None, raw: bytes | None = None, **params: str
    ):
        data = raw if raw is not None else (json.dumps(body) if body is not None else "")
        handler = getattr(self.client, method.lower())
        url = self.base + path
        if method == "GET":
            response = handler(url, params)
        else:
            response = handler(url, data, content_type=SCIM_JSON)
        response.json_body = json.loads(response.content) if response.content else None
        return response

    def get(self, path: str, **params: str):
        return self.call("GET", path, **params)

    def post(self, path: str, body: Any = None, **kw: Any):
        return self.call("POST", path, body, **kw)

    def put(self, path: str, body: Any):
        return self.call("PUT", path, body)

    def patch(self, path: str, *operations: dict, raw: bytes | None = None):
        return self.call(
            "PATCH", path, {"schemas": [PATCH], "Operations": list(operations)}, raw=raw
        )

    def delete(self, path: str):
        return self.call("DELETE", path)


def okta_user(email: str, given: str = "Ada", family: str = "Lovelace", **extra: Any) -> dict:
    """What Okta POSTs (its default attribute set, a password included: ignored)."""
    return {
        "schemas": [USER],
        "userName": email,
        "name": {"givenName": given, "familyName": family},
        "emails": [{"primary": True, "value": email, "type": "work"}],
        "displayName": f"{given} {family}",
        "locale": "en-US",
        "externalId": "00u1abcd",
        "groups": [],
        "password": "ignored-by-design",
        "active": True,
    } | extra


def entra_user(email: str, given: str = "Grace", family: str = "Hopper") -> dict:
    """What Microsoft Entra ID POSTs (the enterprise extension, title, addresses...)."""
    return {
        "schemas": [USER, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
        "externalId": "f2d1-entra",
        "userName": email,
        "active": True,
        "displayName": f"{given} {family}",
        "title": "Engineer",
        "emails": [{"primary": True, "type": "work", "value": email}],
        "meta": {"resourceType": "User"},
        "name": {"formatted": f"{given} {family}", "familyName": family, "givenName": given},
        "addresses": [{"type": "work", "country": "GB"}],
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
            "department": "Platform",
            "employeeNumber": "42",
        },
    }


@pytest.fixture
def make_scim(owner) -> Callable[..., Scim]:
    def make(membership: Membership | None = None, name: str = "okta") -> Scim:
        by = membership or owner
        _, plaintext = scim_token_create(membership=by, name=name)
        return Scim(by.organization, plaintext)

    return make


@pytest.fixture
def scim(make_scim) -> Scim:
    return make_scim()


@pytest.fixture
def as_app_role(db):
    """The rest of the test runs as a plain DML role (no superuser, no BYPASSRLS), as the web
    process does; the role and ``SET LOCAL ROLE`` end with the test's transaction."""
    create_app_role("soc2_app_rls_test")
    with connection.cursor() as cursor:
        cursor.execute('SET LOCAL ROLE "soc2_app_rls_test"')
    yield
    with connection.cursor() as cursor:
        cursor.execute("RESET ROLE")
