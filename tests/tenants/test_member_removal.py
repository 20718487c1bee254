"""Access must not outlive its grantor: removing a member withdraws the invitations they sent
and revokes the API keys they created; an auditor's access always has an end."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tenants.apikeys import InvalidKey, api_key_authenticate, api_key_create
from tenants.models import ActivityEntry, ApiKey, Invitation, InvitationStatus, Membership, Role
from tenants.services import invitation_create, invitation_for_token
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(org):
    return MembershipFactory(organization=org, role=Role.ADMIN)


@pytest.fixture
def grants(org, admin):
    """What ``admin`` handed out: two invitations and two keys (one already revoked)."""
    invited = [
        invitation_create(membership=admin, email=e, role=Role.CONTRIBUTOR)
        for e in ("a@example.com", "b@example.com")
    ]
    keys = [api_key_create(membership=admin, name=n, role="read_only") for n in ("ci", "backup")]
    ApiKey.objects.for_org(org).filter(name="backup").update(revoked_at=timezone.now())
    return invited, keys


def test_confirmation_lists_what_removal_withdraws(org, owner, admin, grants, client_for):
    page = client_for(owner).get(reverse("member_remove", args=[org.slug, admin.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "a@example.com" in html and "b@example.com" in html
    assert "ci" in html and grants[1][0][0].prefix in html
    assert "backup" not in html  # already revoked: nothing to withdraw
    assert Membership.objects.for_org(org).filter(pk=admin.pk).exists()  # GET changes nothing


def test_removal_withdraws_invitations_and_revokes_keys(org, owner, admin, grants, client_for):
    (inv_a, inv_b), ((ci_key, ci_plain), _) = grants
    other = invitation_create(membership=owner, email="kept@example.com", role=Role.CONTRIBUTOR)

    response = client_for(owner).post(reverse("member_remove", args=[org.slug, admin.pk]))
    assert response.status_code == 302
    assert not Membership.objects.for_org(org).filter(pk=admin.pk).exists()

    statuses = dict(Invitation.objects.for_org(org).values_list("email", "status"))
    assert statuses == {
        "a@example.com": InvitationStatus.REVOKED,
        "b@example.com": InvitationStatus.REVOKED,
        "kept@example.com": InvitationStatus.PENDING,  # the owner's own invitation stays
    }
    assert invitation_for_token(inv_a.token).status == InvitationStatus.REVOKED
    with pytest.raises(InvalidKey, match="revoked"):
        api_key_authenticate(ci_plain)
    assert invitation_for_token(other.token).status == InvitationStatus.PENDING

    entry = ActivityEntry.objects.for_org(org).get(action="delete")
    assert entry.changes["invitations_withdrawn"] == [None, "a@example.com, b@example.com"]
    assert entry.changes["api_keys_revoked"] == [None, f"ci ({ci_key.prefix})"]
    revocations = ActivityEntry.objects.for_org(org).filter(action="revoke")
    assert revocations.count() == 3  # two invitations, one key


def test_the_withdrawn_link_says_so(org, owner, admin, grants, client_for):
    (inv_a, _), _ = grants
    client_for(owner).post(reverse("member_remove", args=[org.slug, admin.pk]))
    page = Client().get(reverse("invitation_accept", args=[inv_a.token]))
    assert page.status_code == 400 and "withdrawn" in page.content.decode()


@pytest.mark.parametrize("persona", ["contributor", "auditor", "outsider"])
def test_only_managers_of_this_organization_see_or_remove(
    org, admin, grants, persona, outsider, make_member, client_for
):
    who = outsider if persona == "outsider" else make_member(org, getattr(Role, persona.upper()))
    client = client_for(who)
    url = reverse("member_remove", args=[org.slug, admin.pk])
    # A contributor is refused; an auditor is refused (a page: sent to their portal); an
    # outsider sees nothing.
    refused = 404 if persona == "outsider" else 403
    assert client.get(url).status_code == (302 if persona == "auditor" else refused)
    assert client.post(url).status_code == refused
    assert Membership.objects.for_org(org).filter(pk=admin.pk).exists()
    assert Invitation.objects.for_org(org).filter(status=InvitationStatus.PENDING).count() == 2


def test_a_manager_cannot_open_the_removal_of_an_owner(org, owner, manager, client_for):
    page = client_for(manager).get(reverse("member_remove", args=[org.slug, owner.pk]))
    assert page.status_code == 403


# --- an auditor's access ends ----------------------------------------------------------------
def test_changing_a_role_to_auditor_sets_a_default_end(org, owner, client_for):
    member = MembershipFactory(organization=org, role=Role.CONTRIBUTOR)
    client_for(owner).post(
        reverse("member_role", args=[org.slug, member.pk]), {"role": Role.AUDITOR}
    )
    member.refresh_from_db()
    assert member.role == Role.AUDITOR and member.expires_at is not None
    expected = timezone.now() + dt.timedelta(days=90)
    assert abs(member.expires_at - expected) < dt.timedelta(minutes=5)
    entry = ActivityEntry.objects.for_org(org).get(action="update")
    assert entry.changes["role"] == [Role.CONTRIBUTOR, Role.AUDITOR]
    assert entry.changes["expires_at"][0] is None and entry.changes["expires_at"][1]


def test_changing_a_role_to_auditor_with_a_chosen_end(org, owner, client_for):
    member = MembershipFactory(organization=org, role=Role.CONTRIBUTOR)
    day = timezone.localdate() + dt.timedelta(days=30)
    client_for(owner).post(
        reverse("member_role", args=[org.slug, member.pk]),
        {"role": Role.AUDITOR, "access_until": day.isoformat()},
    )
    member.refresh_from_db()
    assert timezone.localtime(member.expires_at).date() == day + dt.timedelta(days=1)


def test_an_absurd_end_is_refused_not_a_500(org, owner, client_for):
    member = MembershipFactory(organization=org, role=Role.CONTRIBUTOR)
    client = client_for(owner)
    response = client.post(
        reverse("member_role", args=[org.slug, member.pk]),
        {"role": Role.AUDITOR, "access_until": "9999-12-31"},
        follow=True,
    )
    assert response.status_code == 200 and "Pick a day up to" in response.content.decode()
    member.refresh_from_db()
    assert member.role == Role.CONTRIBUTOR


def test_demotion_withdraws_what_the_new_role_could_not_hand_out(
    org, owner, admin, grants, client_for
):
    """An admin made compliance manager may no longer manage API keys: the keys they created
    are revoked; invitations to roles a manager may grant (contributor) stay pending."""
    (inv_a, _), ((ci_key, ci_plain), _) = grants
    manager_invite = invitation_create(
        membership=admin, email="m@example.com", role=Role.COMPLIANCE_MANAGER
    )
    response = client_for(owner).post(
        reverse("member_role", args=[org.slug, admin.pk]),
        {"role": Role.CONTRIBUTOR},
        follow=True,
    )
    assert response.status_code == 200
    assert "1 API key and 3 invitations withdrawn" in response.content.decode()
    with pytest.raises(InvalidKey, match="revoked"):
        api_key_authenticate(ci_plain)
    # A contributor grants nothing: every pending invitation of theirs is withdrawn.
    assert invitation_for_token(inv_a.token).status == InvitationStatus.REVOKED
    assert invitation_for_token(manager_invite.token).status == InvitationStatus.REVOKED
    entry = ActivityEntry.objects.for_org(org).filter(action="update").latest("pk")
    assert entry.changes["role"] == [Role.ADMIN, Role.CONTRIBUTOR]
    assert entry.changes["api_keys_revoked"] == [None, f"ci ({ci_key.prefix})"]


def test_a_role_that_can_still_grant_keeps_its_grants(org, owner, admin, grants):
    """Admin to compliance manager: keys go (managers cannot manage keys), invitations to
    contributors stay (managers invite contributors); an admin invitation goes."""
    from tenants.services import membership_change_role

    (inv_a, _), ((_, ci_plain), _) = grants
    admin_invite = invitation_create(membership=owner, email="o@example.com", role=Role.ADMIN)
    own_admin_invite = invitation_create(membership=admin, email="x@example.com", role=Role.ADMIN)
    withdrawn = membership_change_role(membership=owner, target=admin, role=Role.COMPLIANCE_MANAGER)
    assert [i.email for i in withdrawn.invitations] == ["x@example.com"]
    assert [k.name for k in withdrawn.api_keys] == ["ci"]
    assert invitation_for_token(inv_a.token).status == InvitationStatus.PENDING
    assert invitation_for_token(own_admin_invite.token).status == InvitationStatus.REVOKED
    assert invitation_for_token(admin_invite.token).status == InvitationStatus.PENDING  # owner's
    with pytest.raises(InvalidKey, match="revoked"):
        api_key_authenticate(ci_plain)

    # Promoting back restores nothing and withdraws nothing more.
    again = membership_change_role(membership=owner, target=admin, role=Role.ADMIN)
    assert again.invitations == [] and again.api_keys == []
