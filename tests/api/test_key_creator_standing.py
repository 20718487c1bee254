"""An API key stands only while the member who created it does: once their time-boxed access
runs out (``Membership.expires_at``), or their membership or role to manage keys is gone, the
key is refused at once, read in the same query that loads it (tenants.standing: the query
count of a member's key is asserted in tests/api/test_keys_on_resources.py)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tenants.apikeys import api_key_create
from tenants.models import Membership, Role
from tests.api.conftest import org_url
from tests.factories import access_end

pytestmark = pytest.mark.django_db


def _client(plaintext: str) -> APIClient:
    client = APIClient(enforce_csrf_checks=True)
    client.default_format = "json"
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    return client


@pytest.fixture
def creator(time_boxed_owner) -> Membership:
    return time_boxed_owner


def _member_key(member: Membership, role: str = "read_only") -> APIClient:
    _, plaintext = api_key_create(membership=member, name=f"ci-{member.pk}", role=role)
    return _client(plaintext)


def test_a_key_is_refused_once_its_creators_access_runs_out(org, creator):
    client = _member_key(creator)
    assert client.get(org_url(org, "controls/")).status_code == 200
    access_end(creator)  # time passes: nothing is written when an end date arrives
    refused = client.get(org_url(org, "controls/"))
    assert refused.status_code == 401
    body = refused.json()
    assert body["code"] == "api_key_creator_lapsed"
    assert "creator no longer has access to the organization" in body["detail"]


@pytest.mark.parametrize(
    "change",
    [{"role": Role.CONTRIBUTOR}, {"delete": True}],
    ids=["role-lost", "membership-gone"],
)
def test_a_creator_who_lost_the_role_or_membership_is_refused_too(org, creator, change):
    """Paths that bypass the services (a database fix, the admin) are caught as well."""
    client = _member_key(creator)
    rows = Membership.objects.for_org(org).filter(pk=creator.pk)
    rows.delete() if change.get("delete") else rows.update(**change)
    assert client.get(org_url(org, "controls/")).json()["code"] == "api_key_creator_lapsed"


def test_a_system_key_and_other_members_keys_are_unaffected(org, owner, creator, key_for):
    system = key_for(org, "read_only")  # api_key_create_system: no creating member
    owners = _member_key(owner)
    access_end(creator)
    assert system.get(org_url(org, "controls/")).status_code == 200
    assert owners.get(org_url(org, "controls/")).status_code == 200


def test_another_organizations_keys_are_untouched(org, other_org, creator, make_member):
    theirs = make_member(other_org, Role.OWNER, user=creator.user)
    client = _member_key(theirs)
    access_end(creator)  # their access here ends; in the other organization it does not
    assert client.get(org_url(other_org, "controls/")).status_code == 200
