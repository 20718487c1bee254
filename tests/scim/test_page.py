"""Settings → Provisioning: owners only, a token shown once, revocation, the settings, and
another organization's token out of reach."""

from __future__ import annotations

import pytest
from django.urls import reverse

from scim.models import ProvisioningSettings, ScimToken
from scim.tokens import scim_token_create
from tenants.models import ActivityEntry, Role
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def _url(org) -> str:
    return reverse("scim_provisioning", args=[org.slug])


def test_owner_creates_a_token_shown_once(org, owner, client_for):
    client = client_for(owner)
    page = client.get(_url(org))
    assert page.status_code == 200
    assert f"http://testserver/scim/v2/{org.slug}/" in page.content.decode()
    created = client.post(_url(org), {"form": "token", "name": "okta"})
    assert created.status_code == 200
    assert "no-store" in created["Cache-Control"]
    token = ScimToken.objects.for_org(org).get()
    plaintext = created.context["new_token"]["plaintext"]
    assert plaintext.startswith(token.prefix + "_") and plaintext in created.content.decode()
    assert plaintext.split("_", 2)[2] not in token.secret_hash
    again = client.get(_url(org)).content.decode()
    assert plaintext not in again and token.prefix in again
    entry = ActivityEntry.objects.for_org(org).get(object_type="scim.scimtoken")
    assert (entry.action, entry.actor_label) == ("create", owner.user.email)


def test_bad_token_names(org, owner, client_for):
    client = client_for(owner)
    assert client.post(_url(org), {"form": "token", "name": " "}).status_code == 400
    client.post(_url(org), {"form": "token", "name": "okta"})
    duplicate = client.post(_url(org), {"form": "token", "name": "okta"})
    assert duplicate.status_code == 400 and "exists" in duplicate.content.decode()
    assert ScimToken.objects.for_org(org).count() == 1


def test_revoke_and_another_organizations_token(org, other_org, owner, client_for):
    token, _ = scim_token_create(membership=owner, name="okta")
    theirs, _ = scim_token_create(
        membership=MembershipFactory(organization=other_org, role=Role.OWNER), name="okta"
    )
    client = client_for(owner)
    foreign = reverse("scim_token_revoke", args=[org.slug, theirs.pk])
    assert client.post(foreign).status_code == 404
    assert ScimToken.objects.for_org(other_org).get().revoked_at is None
    response = client.post(reverse("scim_token_revoke", args=[org.slug, token.pk]))
    assert response.status_code == 302
    assert ScimToken.objects.for_org(org).get().revoked_at is not None
    assert client.post(reverse("scim_token_revoke", args=[org.slug, token.pk])).status_code == 409


def test_settings_are_saved_and_logged(org, owner, client_for):
    client = client_for(owner)
    body = {"form": "settings", "default_role": "compliance_manager", "manage_personnel": "on"}
    assert client.post(_url(org), body).status_code == 302
    saved = ProvisioningSettings.objects.for_org(org).get()
    assert (saved.default_role, saved.manage_personnel) == ("compliance_manager", True)
    entry = ActivityEntry.objects.for_org(org).get(object_type="scim.provisioningsettings")
    assert entry.changes["manage_personnel"] == [None, True]
    bad = client.post(_url(org), {"form": "settings", "default_role": "owner"})
    assert bad.status_code == 400
    assert ProvisioningSettings.objects.for_org(org).get().default_role == "compliance_manager"


@pytest.mark.parametrize("role", [Role.ADMIN, Role.COMPLIANCE_MANAGER, Role.CONTRIBUTOR])
def test_only_owners(org, owner, role, client_for):
    member = MembershipFactory(organization=org, role=role)
    client = client_for(member)
    assert client.get(_url(org)).status_code == 403
    assert client.post(_url(org), {"form": "token", "name": "x"}).status_code == 403
    token, _ = scim_token_create(membership=owner, name="okta")
    revoke = reverse("scim_token_revoke", args=[org.slug, token.pk])
    assert client.post(revoke).status_code == 403
    assert not ScimToken.objects.for_org(org).filter(revoked_at__isnull=False).exists()


def test_outsiders_get_404(org, outsider, client_for):
    assert client_for(outsider).get(_url(org)).status_code == 404


def test_sidebar_link_for_owners_only(org, owner, manager, client_for):
    home = reverse("org_home", args=[org.slug])
    assert _url(org) in client_for(owner).get(home).content.decode()
    assert _url(org) not in client_for(manager).get(home).content.decode()


def test_members_page_shows_a_deactivated_member(org, owner, manager, client_for):
    from scim.services import scim_user_deactivate

    token, _ = scim_token_create(membership=owner, name="okta")
    scim_user_deactivate(token=token, membership=manager)
    page = client_for(owner).get(reverse("members", args=[org.slug])).content.decode()
    assert "No access since" in page
