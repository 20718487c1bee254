"""SCIM tokens go with the owner who created them, as API keys do: removing, deactivating or
demoting that owner revokes them in the same transaction, in the activity log."""

from __future__ import annotations

import pytest
from django.urls import reverse

from scim.models import ScimToken
from tenants.models import ActivityEntry, Role
from tenants.services import membership_change_role, membership_remove
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def creator(org):
    return MembershipFactory(organization=org, role=Role.OWNER)


def _revoked(org, name: str) -> bool:
    return ScimToken.objects.for_org(org).get(name=name).revoked_at is not None


def test_removing_the_creator_revokes_their_token(org, owner, creator, make_scim, client_for):
    theirs, ours = make_scim(creator, name="okta"), make_scim(owner, name="entra")
    assert theirs.get("Users").status_code == 200
    page = client_for(owner).get(reverse("member_remove", args=[org.slug, creator.pk]))
    assert b"SCIM tokens they created" in page.content and b"okta" in page.content
    grants = membership_remove(membership=owner, target=creator)
    assert [t.name for t in grants.credentials] == ["okta"]
    assert theirs.get("Users").status_code == 401
    assert ours.get("Users").status_code == 200 and not _revoked(org, "entra")
    entry = ActivityEntry.objects.for_org(org).get(action="delete")
    assert entry.changes["scim_tokens_revoked"][1].startswith("okta (scim_")
    revoke = ActivityEntry.objects.for_org(org).get(action="revoke", object_type="scim.scimtoken")
    assert revoke.changes["reason"][1].endswith("removed")


def test_a_scim_deactivation_of_the_creator_revokes_their_token(org, owner, creator, make_scim):
    theirs, ours = make_scim(creator, name="okta"), make_scim(owner, name="entra")
    assert ours.delete(f"Users/{creator.pk}").status_code == 204
    assert _revoked(org, "okta") and theirs.get("Users").status_code == 401
    entry = ActivityEntry.objects.for_org(org).get(action="deactivate")
    assert "scim_tokens_revoked" in entry.changes


def test_demoting_the_creator_below_owner_revokes_their_token(org, owner, creator, make_scim):
    theirs = make_scim(creator, name="okta")
    withdrawn = membership_change_role(membership=owner, target=creator, role=Role.ADMIN)
    assert [t.name for t in withdrawn.credentials] == ["okta"]
    assert theirs.get("Users").status_code == 401


def test_a_demotion_that_keeps_owner_rights_keeps_the_token(org, owner, make_scim):
    """Changing someone else's role leaves the tokens the acting owner created alone."""
    theirs = make_scim(owner, name="okta")
    other = MembershipFactory(organization=org, role=Role.ADMIN)
    membership_change_role(membership=owner, target=other, role=Role.CONTRIBUTOR)
    assert theirs.get("Users").status_code == 200 and not _revoked(org, "okta")
