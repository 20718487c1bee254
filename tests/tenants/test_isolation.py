"""Tenant isolation: another organization's URLs and objects are 404, never data."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tenants.context import current_org_id
from tenants.models import Invitation, Membership, Role
from tests.factories import MembershipFactory
from tests.isolation import assert_foreign_object_404, build_path, org_url_patterns

ORG_ROUTES = org_url_patterns()


def test_the_walker_finds_the_organization_routes():
    names = {name for _, name in ORG_ROUTES}
    assert {"org_home", "members", "activity", "invitation_create", "member_role"} <= names


@pytest.mark.django_db
@pytest.mark.parametrize(("route", "name"), ORG_ROUTES, ids=[n for _, n in ORG_ROUTES])
def test_outsider_gets_404_on_every_organization_url(
    route, name, org, manager, outsider, client_for
):
    client = client_for(outsider)
    path = build_path(route, org.slug)
    for method in ("get", "post"):
        response = getattr(client, method)(path)
        assert response.status_code == 404, f"{method.upper()} {path} -> {response.status_code}"
    # Same answer as for an organization that does not exist: nothing to infer.
    assert client.get(build_path(route, "no-such-org")).status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize(("route", "name"), ORG_ROUTES, ids=[n for _, n in ORG_ROUTES])
def test_anonymous_is_sent_to_login(route, name, client, org):
    response = client.get(build_path(route, org.slug))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.django_db
def test_expired_auditor_is_treated_as_outsider(org, make_member, client_for):
    import datetime as dt

    from django.utils import timezone

    auditor = make_member(org, Role.AUDITOR, expires_at=timezone.now() - dt.timedelta(minutes=1))
    assert client_for(auditor).get(reverse("org_home", args=[org.slug])).status_code == 404


@pytest.mark.django_db
def test_foreign_member_and_invitation_ids_are_404(org, other_org, owner, outsider, client_for):
    foreign_member = MembershipFactory(organization=other_org, role=Role.CONTRIBUTOR)
    from tenants.services import invitation_create

    foreign_invitation = invitation_create(
        membership=outsider, email="x@globex.example", role=Role.CONTRIBUTOR
    ).invitation
    client = client_for(owner)
    assert_foreign_object_404(
        client, reverse("member_role", args=[org.slug, foreign_member.pk]), methods=("post",)
    )
    assert_foreign_object_404(
        client, reverse("member_remove", args=[org.slug, foreign_member.pk]), methods=("post",)
    )
    assert_foreign_object_404(
        client,
        reverse("invitation_revoke", args=[org.slug, foreign_invitation.pk]),
        methods=("post",),
    )
    assert (
        Membership.objects.for_org(other_org)
        .filter(pk=foreign_member.pk, role=Role.CONTRIBUTOR)
        .exists()
    )
    assert Invitation.objects.for_org(other_org).get(pk=foreign_invitation.pk).status == "pending"


@pytest.mark.django_db
def test_pages_show_only_own_organization_rows(org, other_org, owner, outsider, client_for):
    MembershipFactory(organization=other_org, user__email="secret-person@globex.example")
    body = client_for(owner).get(reverse("members", args=[org.slug])).content.decode()
    assert owner.user.email in body
    assert "secret-person@globex.example" not in body
    assert outsider.user.email not in body


@pytest.mark.django_db
def test_request_leaves_no_current_organization_behind(org, manager, client_for):
    client_for(manager).get(reverse("org_home", args=[org.slug]))
    assert current_org_id() is None
