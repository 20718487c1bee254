"""The published schema says what the endpoints answer: a single resource is an object, a list
action answers its own rows (CI's schemathesis stage checks every response; these pin the two
shapes it once caught wrong)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def _ok_schema(schema: dict, path: str) -> dict:
    return schema["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]


@pytest.fixture
def schema(api) -> dict:
    return api.get("/api/schema/?format=json").json()


def test_sso_status_is_one_object_not_a_list(schema):
    body = _ok_schema(schema, "/api/v1/orgs/{organization_slug}/sso/")
    assert body == {"$ref": "#/components/schemas/SsoStatusOut"}


def test_portal_vendor_documents_are_documents(schema):
    path = "/api/v1/orgs/{organization_slug}/audits/{audit_pk}/vendors/{id}/documents/"
    body = _ok_schema(schema, path)
    page = schema["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
    assert page["properties"]["results"]["items"] == {
        "$ref": "#/components/schemas/VendorDocumentOut"
    }
