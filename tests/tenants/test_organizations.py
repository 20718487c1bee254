from __future__ import annotations

import pytest
from django.urls import reverse

from tenants.models import ActivityEntry, Membership, Organization, Role
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory


@pytest.fixture
def user_client(client, db):
    user = UserFactory()
    client.force_login(user)
    client.user = user
    return client


@pytest.mark.django_db
def test_user_creates_an_organization_and_becomes_owner(user_client):
    response = user_client.post(reverse("org_create"), {"name": "Initech", "slug": "initech"})
    assert response.status_code == 302 and response["Location"] == "/o/initech/"
    org = Organization.objects.get(slug="initech")
    assert Membership.objects.for_org(org).get().role == Role.OWNER
    assert ActivityEntry.objects.for_org(org).get().action == "create"
    home = user_client.get("/o/initech/")
    assert home.status_code == 200 and "Initech" in home.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("slug", "message"),
    [
        ("UPPER", "lowercase"),
        ("a", "3 to 50"),
        ("-dash", "lowercase letters"),
        ("../etc", "lowercase letters"),
        ("x" * 51, "at most 50"),
        ("new", "reserved"),
        ("taken", "taken"),
    ],
)
def test_bad_slug_is_refused_next_to_the_field(user_client, slug, message):
    OrganizationFactory(slug="taken")
    response = user_client.post(reverse("org_create"), {"name": "X", "slug": slug})
    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors["slug"])
    assert message in errors
    assert 'id="id_slug_error"' in response.content.decode()
    assert Organization.objects.count() == 1


@pytest.mark.django_db
def test_switcher_lists_only_own_organizations_and_home_follows_last_used(user_client):
    a = MembershipFactory(
        user=user_client.user, organization__name="Alpha", organization__slug="alpha"
    )
    b = MembershipFactory(
        user=user_client.user, organization__name="Beta", organization__slug="beta"
    )
    OrganizationFactory(name="Hidden Corp", slug="hidden")
    page = user_client.get("/o/beta/").content.decode()
    assert "Alpha" in page and "Beta" in page and "Hidden Corp" not in page
    assert user_client.get("/")["Location"] == f"/o/{b.organization.slug}/"
    user_client.get(f"/o/{a.organization.slug}/")
    assert user_client.get("/")["Location"] == "/o/alpha/"


@pytest.mark.django_db
def test_user_without_organization_sees_empty_state(user_client):
    assert user_client.get("/")["Location"] == reverse("org_list")
    page = user_client.get(reverse("org_list")).content.decode()
    assert "No organization yet" in page and "Create an organization" in page
