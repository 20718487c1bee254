"""Who may do what: the role matrix, and write paths that refuse read-only roles."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tenants.models import ActivityEntry, Invitation, Membership, Role
from tenants.permissions import WRITE_ACTIONS, Action, can, grantable_roles
from tests.factories import MembershipFactory

# What auditors write: their requests, comments, sample draws and test results (on the audits
# granted to them, checked by the services).
AUDITOR_WRITES = {Action.REQUEST_RAISE, Action.COMMENT, Action.SAMPLE_DRAW, Action.SAMPLE_TEST}


@pytest.mark.parametrize("action", sorted(WRITE_ACTIONS - AUDITOR_WRITES))
def test_auditor_may_not_write(action):
    assert not can(Membership(role=Role.AUDITOR), action)


def test_only_auditors_record_test_results():
    assert can(Membership(role=Role.AUDITOR), Action.SAMPLE_TEST)
    for role in (Role.OWNER, Role.ADMIN, Role.COMPLIANCE_MANAGER, Role.CONTRIBUTOR):
        assert not can(Membership(role=role), Action.SAMPLE_TEST), role
    assert can(Membership(role=Role.COMPLIANCE_MANAGER), Action.SAMPLE_DRAW)
    assert not can(Membership(role=Role.CONTRIBUTOR), Action.SAMPLE_DRAW)


def test_role_matrix_highlights():
    owner, admin = Membership(role=Role.OWNER), Membership(role=Role.ADMIN)
    manager, contributor = (
        Membership(role=Role.COMPLIANCE_MANAGER),
        Membership(role=Role.CONTRIBUTOR),
    )
    assert can(owner, Action.ORG_MANAGE) and can(admin, Action.APIKEY_MANAGE)
    assert not can(manager, Action.APIKEY_MANAGE) and can(manager, Action.MEMBER_MANAGE)
    assert can(contributor, Action.CONTROL_EDIT_OWN) and not can(contributor, Action.CONTROL_MANAGE)
    assert not can(contributor, Action.MEMBER_MANAGE) and not can(None, Action.VIEW)
    assert grantable_roles(owner)[0] == Role.OWNER
    assert Role.OWNER not in grantable_roles(admin) and Role.ADMIN not in grantable_roles(manager)
    assert grantable_roles(contributor) == []


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.AUDITOR, Role.CONTRIBUTOR])
def test_read_only_roles_cannot_manage_members(role, org, make_member, client_for):
    actor = make_member(org, role)
    target = make_member(org, Role.CONTRIBUTOR)
    client = client_for(actor)
    before = ActivityEntry.objects.for_org(org).count()
    posts = [
        (
            reverse("invitation_create", args=[org.slug]),
            {"email": "z@example.com", "role": Role.CONTRIBUTOR},
        ),
        (reverse("member_role", args=[org.slug, target.pk]), {"role": Role.COMPLIANCE_MANAGER}),
        (reverse("member_remove", args=[org.slug, target.pk]), {}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 403, url
    target.refresh_from_db()
    assert target.role == Role.CONTRIBUTOR
    assert not Invitation.objects.for_org(org).exists()
    assert ActivityEntry.objects.for_org(org).count() == before
    # Auditors are kept in the auditor portal: other pages send them there (GET) or 403.
    expected = 302 if role == Role.AUDITOR else 403
    assert client.get(reverse("activity", args=[org.slug])).status_code == expected


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.AUDITOR, Role.CONTRIBUTOR])
def test_members_page_hides_management_from_read_only_roles(role, org, make_member, client_for):
    member = make_member(org, role)
    response = client_for(member).get(reverse("members", args=[org.slug]), follow=True)
    assert response.status_code == 200
    if role == Role.AUDITOR:  # kept in the auditor portal
        assert response.redirect_chain == [(reverse("portal_home", args=[org.slug]), 302)]
    body = response.content.decode()
    assert "Invite a colleague" not in body and "Remove" not in body


@pytest.mark.django_db
def test_manager_cannot_touch_an_owner(org, owner, manager, client_for):
    response = client_for(manager).post(
        reverse("member_role", args=[org.slug, owner.pk]), {"role": Role.CONTRIBUTOR}
    )
    assert response.status_code in (400, 403)
    owner.refresh_from_db()
    assert owner.role == Role.OWNER


@pytest.mark.django_db
def test_owner_changes_role_and_it_is_logged(org, owner, client_for):
    member = MembershipFactory(organization=org, role=Role.CONTRIBUTOR)
    response = client_for(owner).post(
        reverse("member_role", args=[org.slug, member.pk]), {"role": Role.ADMIN}
    )
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.role == Role.ADMIN
    entry = ActivityEntry.objects.for_org(org).filter(action="update").get()
    assert entry.changes == {"role": [Role.CONTRIBUTOR, Role.ADMIN]}
    assert entry.actor == owner.user and entry.actor_label == owner.user.email


@pytest.mark.django_db
def test_last_owner_cannot_leave_or_be_demoted(org, owner, client_for):
    client = client_for(owner)
    client.post(reverse("member_role", args=[org.slug, owner.pk]), {"role": Role.ADMIN})
    client.post(reverse("member_remove", args=[org.slug, owner.pk]))
    owner.refresh_from_db()
    assert owner.role == Role.OWNER


@pytest.mark.django_db
def test_remove_member_is_logged(org, owner, client_for):
    member = MembershipFactory(organization=org, role=Role.CONTRIBUTOR)
    client_for(owner).post(reverse("member_remove", args=[org.slug, member.pk]))
    assert not Membership.objects.for_org(org).filter(pk=member.pk).exists()
    entry = ActivityEntry.objects.for_org(org).get(action="delete")
    assert entry.object_repr == member.user.email and entry.changes == {
        "role": [Role.CONTRIBUTOR, None]
    }


@pytest.mark.django_db
def test_an_admin_api_key_cannot_manage_people(org, owner):
    from tenants.apikeys import api_key_create

    key, _ = api_key_create(membership=owner, name="ci", role="admin")
    assert can(key, Action.CONTROL_MANAGE)
    assert not can(key, Action.MEMBER_MANAGE)
    assert not can(key, Action.ORG_MANAGE)
    assert grantable_roles(key) == []
