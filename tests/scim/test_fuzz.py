"""Whatever an identity provider (or an attacker with a token) sends, the answer is a SCIM
response, never a 500: random JSON in every attribute, PATCH operation and filter."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.scim.conftest import PATCH, USER, okta_user

pytestmark = pytest.mark.django_db

ATTRIBUTES = [
    "userName", "name", "name.givenName", "name.familyName", "active", "externalId", "roles",
    "emails", 'emails[type eq "work"].value', "title", "displayName", "password",
    'roles[primary eq "True"].value', "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "meta",
]  # fmt: skip
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=3)
    ),
    max_leaves=8,
)
KEYS = st.sampled_from(ATTRIBUTES) | st.text(max_size=20)
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _ok(response) -> None:
    assert response.status_code < 500
    if response.status_code >= 400:
        assert json.loads(response.content)["status"] == str(response.status_code)


@FUZZ
@given(body=st.dictionaries(KEYS, JSON, max_size=5), email=st.sampled_from(["a@example.com", "x"]))
def test_random_create_bodies(org, scim, body, email):
    _ok(scim.post("Users", {"schemas": [USER], "userName": email} | body))


@FUZZ
@given(
    operations=st.lists(
        st.fixed_dictionaries(
            {"op": st.sampled_from(["add", "Replace", "remove", "x"]), "value": JSON},
            optional={"path": KEYS | JSON},
        ),
        max_size=3,
    )
)
def test_random_patches(org, scim, manager, operations):
    _ok(scim.call("PATCH", f"Users/{manager.pk}", {"schemas": [PATCH], "Operations": operations}))


@FUZZ
@given(text=st.text(max_size=60) | st.sampled_from(['userName eq "a"', 'id eq "1"']))
def test_random_filters_and_pages(org, scim, text):
    _ok(scim.get("Users", filter=text, startIndex=text[:5], count="3"))


def test_okta_user_fixture_is_valid(org, scim):
    assert scim.post("Users", okta_user("fixture@example.com")).status_code == 201
