"""Safe defaults on the members and settings pages: invitations default to contributor,
withdrawing an invitation asks first, nobody sees Remove on their own row, and a settings
page a role may not open names who can change it (still a 403, never a bare one)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tenants import services
from tenants.models import Invitation, InvitationStatus, Role

pytestmark = pytest.mark.django_db


def _invite(manager, email="new@example.com", role=Role.AUDITOR):
    return services.invitation_create(membership=manager, email=email, role=role).invitation


def test_invitation_role_defaults_to_contributor(org, owner, client_for):
    html = client_for(owner).get(reverse("members", args=[org.slug])).content.decode()
    selected = re.findall(
        r'<option value="(\w+)"[^>]*selected', html.split("Invite a colleague")[1]
    )
    assert selected[0] == Role.CONTRIBUTOR


def test_withdrawing_an_invitation_asks_first(org, manager, client_for):
    invitation = _invite(manager)
    client = client_for(manager)
    members = client.get(reverse("members", args=[org.slug])).content.decode()
    url = reverse("invitation_revoke", args=[org.slug, invitation.pk])
    assert f'href="{url}"' in members  # a link to the question, not a one-click form

    page = client.get(url)
    assert page.status_code == 200
    assert "Withdraw the invitation of new@example.com?" in page.content.decode()
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.PENDING  # asking changed nothing

    response = client.post(url)
    assert response.status_code == 302
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.REVOKED
    # Asked again for a withdrawn one: it says there is nothing to withdraw.
    assert "no longer pending" in client.get(url).content.decode()


@pytest.mark.parametrize("role", [Role.CONTRIBUTOR, "outsider"])
def test_withdraw_page_personas(role, org, manager, make_member, outsider, client_for):
    invitation = _invite(manager)
    who = outsider if role == "outsider" else make_member(org, role)
    response = client_for(who).get(reverse("invitation_revoke", args=[org.slug, invitation.pk]))
    assert response.status_code == (404 if role == "outsider" else 403)
    assert Invitation.objects.for_org(org).get(pk=invitation.pk).status == "pending"


def test_nobody_sees_remove_on_their_own_row(org, owner, manager, client_for):
    html = client_for(owner).get(reverse("members", args=[org.slug])).content.decode()
    assert reverse("member_remove", args=[org.slug, manager.pk]) in html
    assert reverse("member_remove", args=[org.slug, owner.pk]) not in html


@pytest.mark.parametrize(
    ("name", "what"),
    [
        ("org_security", "the security settings"),
        ("api_keys", "API keys"),
        ("webhook_endpoints", "webhooks"),
    ],
)
def test_settings_page_says_who_can(name, what, org, owner, manager, make_member, client_for):
    admin = make_member(org, Role.ADMIN)
    response = client_for(manager).get(reverse(name, args=[org.slug]))
    assert response.status_code == 403
    html = response.content.decode()
    assert f"Only an owner or an admin can change {what}" in html
    assert owner.user.email in html and admin.user.email in html
    assert manager.user.email not in html.split('id="who-can"')[1].split("</ul>")[0]
    # The people who can open it do.
    assert client_for(admin).get(reverse(name, args=[org.slug])).status_code == 200


def test_settings_page_of_another_organization_is_404(org, owner, outsider, client_for):
    response = client_for(outsider).get(reverse("org_security", args=[org.slug]))
    assert response.status_code == 404


def test_owner_only_review_policy_names_the_owners(org, owner, make_member, client_for):
    admin = make_member(org, Role.ADMIN)
    html = client_for(admin).get(reverse("org_security", args=[org.slug])).content.decode()
    line = html.split('id="review-owners"')[1].split("</p>")[0]
    assert "Only an owner can change this" in line and owner.user.email in line
