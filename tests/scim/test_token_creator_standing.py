"""A SCIM token stands only while the owner who created it does: once their time-boxed access
runs out it is refused at once (read in the query that loads the token), shown as suspended on
the provisioning page, and revoked for good by the sweep (tests/tenants/test_credentials_sweep.py)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from scim.models import ScimToken
from scim.tokens import scim_token_create
from tenants.models import ActivityEntry, Membership, Role
from tenants.tasks import revoke_lapsed_credentials
from tests.factories import access_end

pytestmark = pytest.mark.django_db


@pytest.fixture
def creator(time_boxed_owner) -> Membership:
    return time_boxed_owner


def test_a_token_is_refused_once_its_creators_access_runs_out(
    org, owner, creator, make_scim, mailoutbox, django_capture_on_commit_callbacks
):
    theirs, ours = make_scim(creator, name="okta"), make_scim(owner, name="entra")
    assert theirs.get("Users").status_code == 200
    access_end(creator)
    refused = theirs.get("Users")
    assert refused.status_code == 401
    assert "creator no longer has access to the organization" in refused.json_body["detail"]
    assert ours.get("Users").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        assert revoke_lapsed_credentials() == 1
    token = ScimToken.objects.for_org(org).get(name="okta")
    assert token.revoked_at is not None
    assert ActivityEntry.objects.for_org(org).get(action="revoke").object_id == str(token.pk)
    assert len(mailoutbox) == 1 and "SCIM token “okta”" in mailoutbox[0].body
    assert theirs.get("Users").json_body["detail"].startswith("Unknown or revoked")


def test_a_token_whose_creator_lost_owner_rights_is_refused(org, creator, make_scim):
    """Even on a path around the services (which revoke on demotion)."""
    theirs = make_scim(creator, name="okta")
    Membership.objects.for_org(org).filter(pk=creator.pk).update(role=Role.ADMIN)
    assert theirs.get("Users").status_code == 401


def test_another_organizations_token_is_untouched(org, other_org, creator, make_member):
    from tests.scim.conftest import Scim

    theirs = make_member(other_org, Role.OWNER, user=creator.user)
    _, plaintext = scim_token_create(membership=theirs, name="okta")
    access_end(creator)
    assert Scim(other_org, plaintext).get("Users").status_code == 200
    assert revoke_lapsed_credentials() == 0


def test_the_page_shows_a_suspended_token_until_the_sweep(
    org, owner, creator, make_scim, client_for, django_assert_num_queries
):
    make_scim(creator, name="okta")
    make_scim(owner, name="entra")
    access_end(creator)
    client = client_for(owner)
    url = reverse("scim_provisioning", args=[org.slug])
    client.get(url)  # the first visit also stores the last organization in the session
    # session, user, membership (+organization), the switcher's memberships, the settings,
    # tokens (+creators, +their standing)
    with django_assert_num_queries(6):
        body = client.get(url).content.decode()
    assert body.count("Suspended: creator's access expired") == 1
    assert body.count('badge ok">Active') == 1
    revoke_lapsed_credentials()
    assert "Suspended" not in client.get(url).content.decode()
